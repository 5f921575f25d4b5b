/*
 * The root test program (a multiboot2 module): calls every hypercall with
 * valid and invalid arguments, runs child VMs through every exit kind,
 * runs root vCPUs on other CPUs creating VMs at the same time, and checks
 * that destroying everything brings the hypervisor's memory back. Prints
 * one line per check and ends the run with a verdict (tests/system).
 */
#include "vmlib.h"

static int passed, failed;
static struct hv_root_info *rinfo;

#define CHECK(what, cond)                                                     \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			gprintf("root-test: FAIL %s (line %d)\n", what, __LINE__); \
		}                                                             \
	} while (0)

#define EXPECT(what, expr, want)                                              \
	do {                                                                  \
		int64_t got_ = (expr);                                        \
		if (got_ == (int64_t)(want)) {                                \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			gprintf("root-test: FAIL %s: got %ld, expected %ld (line %d)\n", \
				what, got_, (int64_t)(want), __LINE__);      \
		}                                                             \
	} while (0)

static uint64_t hv_image = 0x200000;    /* the hypervisor's own image */

static void test_cpuid(void)
{
	uint32_t a, b, c, d;

	cpuid(HV_CPUID_SIGNATURE, &a, &b, &c, &d);
	CHECK("cpuid 0x40000000 signature", b == HV_SIGNATURE_EBX && c == HV_SIGNATURE_ECX &&
	      d == HV_SIGNATURE_EDX && a >= HV_CPUID_FEATURES);
	cpuid(HV_CPUID_FEATURES, &a, &b, &c, &d);
	EXPECT("cpuid 0x40000001 api version", a, HV_API_VERSION);
	cpuid(1, &a, &b, &c, &d);
	CHECK("cpuid 1: hypervisor bit set, VMX hidden", (c & (1u << 31)) && !(c & (1u << 5)));
	cpuid(0x80000001, &a, &b, &c, &d);
	CHECK("cpuid 0x80000001: SVM hidden", !(c & (1u << 2)));
}

static void test_simple_calls(void)
{
	EXPECT("api version", hcall(HC_API_VERSION, 0, 0, 0, 0), HV_API_VERSION);
	EXPECT("unknown hypercall", hcall(HC_COUNT, 0, 0, 0, 0), -HV_ENOSYS);
	EXPECT("unknown hypercall (huge)", hcall(~0ULL >> 1, 0, 0, 0, 0), -HV_ENOSYS);
	EXPECT("virt status cpu 0", hcall(HC_VIRT_STATUS, 0, 0, 0, 0) & 0xff, HV_VIRT_ON);
	EXPECT("virt status bad cpu", hcall(HC_VIRT_STATUS, 100000, 0, 0, 0), -HV_EINVAL);
	EXPECT("cap nr cpus", hcall(HC_CHECK_CAP, HV_CAP_NR_CPUS, 0, 0, 0), rinfo->nr_cpus);
	EXPECT("cap vendor", hcall(HC_CHECK_CAP, HV_CAP_VENDOR, 0, 0, 0), guest_is_intel() ? 1 : 2);
	CHECK("cap max vms", hcall(HC_CHECK_CAP, HV_CAP_MAX_VMS, 0, 0, 0) >= 2);
	EXPECT("cap unknown", hcall(HC_CHECK_CAP, 999, 0, 0, 0), 0);

	/* HC_STATS counts every hypercall, the fast path's (API_VERSION) and
	 * the ordinary path's (VIRT_STATUS) alike: between two HC_STATS at
	 * least these ten, the VIRT_STATUS and the second HC_STATS itself. */
	struct hv_stats *s0 = ralloc(4096), *s1 = ralloc(4096);

	hcall(HC_STATS, (uint64_t)s0, HV_STATS_NO_SHRINK, 0, 0);
	for (int i = 0; i < 10; i++)
		hcall(HC_API_VERSION, 0, 0, 0, 0);
	hcall(HC_VIRT_STATUS, 0, 0, 0, 0);
	hcall(HC_STATS, (uint64_t)s1, HV_STATS_NO_SHRINK, 0, 0);
	CHECK("stats count fast and ordinary hypercalls",
	      s1->hypercalls - s0->hypercalls >= 12 && s1->exits - s0->exits >= 12);
}

/* Parks a root vCPU started only to be there (hotplug refuses its CPU). */
static void __attribute__((naked)) ap_idle_entry(void)
{
	__asm__ __volatile__("1: hlt\njmp 1b");
}

/* The ENOSPC limits: VMs, vCPUs per VM, regions per VM; each table full
 * at exactly its documented size, and usable again once emptied. */
static void test_limits(void)
{
	int64_t max_vms = hcall(HC_CHECK_CAP, HV_CAP_MAX_VMS, 0, 0, 0);
	int64_t max_vcpus = hcall(HC_CHECK_CAP, HV_CAP_MAX_VCPUS, 0, 0, 0);
	int64_t vms[32], vcpus[32], r = 0;
	uint8_t *pages = ralloc(4096 * 16);
	int n = 0;

	while (n < 32 && (r = hcall(HC_VM_CREATE, 0, 0, 0, 0)) > 0)
		vms[n++] = r;
	EXPECT("VMs until the table is full", n, max_vms);
	EXPECT("one VM too many", r, -HV_ENOSPC);
	for (int i = 0; i < n; i++)
		EXPECT("destroy each VM", hcall(HC_VM_DESTROY, vms[i], 0, 0, 0), 0);
	vms[0] = hcall(HC_VM_CREATE, 0, 0, 0, 0);
	CHECK("a VM again after the table emptied", vms[0] > 0);
	for (n = 0; n < 32 && (r = hcall(HC_VCPU_CREATE, vms[0], (uint64_t)pages + 4096 * (n % 16), 0, 0)) > 0; )
		vcpus[n++] = r;
	EXPECT("vCPUs until the VM is full", n, max_vcpus);
	EXPECT("one vCPU too many", r, -HV_ENOSPC);
	for (int i = 0; i < n; i++)
		EXPECT("destroy each vCPU", hcall(HC_VCPU_DESTROY, vcpus[i], 0, 0, 0), 0);
	for (n = 0; n < 32 && (r = hcall(HC_SET_MEMORY_REGION, vms[0], 0x100000ULL * n,
					  (uint64_t)pages + 4096 * (n % 16), 4096)) == 0; )
		n++;
	EXPECT("regions until the VM is full", n, 8);
	EXPECT("one region too many", r, -HV_ENOSPC);
	EXPECT("destroy the VM with its regions", hcall(HC_VM_DESTROY, vms[0], 0, 0, 0), 0);
}

static void test_bad_arguments(void)
{
	uint8_t *page = ralloc(4096);
	int64_t vm = hcall(HC_VM_CREATE, 0, 0, 0, 0), vm2, vcpu;

	CHECK("vm create", vm > 0);
	EXPECT("vm destroy: made-up handle", hcall(HC_VM_DESTROY, 12345, 0, 0, 0), -HV_ENOENT);
	/* Memory regions. */
	EXPECT("region: unaligned gpa", hcall(HC_SET_MEMORY_REGION, vm, 0x10, (uint64_t)page, 4096), -HV_EINVAL);
	EXPECT("region: unaligned size", hcall(HC_SET_MEMORY_REGION, vm, 0, (uint64_t)page, 100), -HV_EINVAL);
	EXPECT("region: hypervisor memory", hcall(HC_SET_MEMORY_REGION, vm, 0, hv_image, 4096), -HV_EFAULT);
	EXPECT("region: beyond RAM", hcall(HC_SET_MEMORY_REGION, vm, 0, 1ULL << 45, 4096), -HV_EFAULT);
	EXPECT("region: size overflow", hcall(HC_SET_MEMORY_REGION, vm, ~0xfffULL, (uint64_t)page, 0x2000), -HV_EINVAL);
	EXPECT("region: on a stale handle", hcall(HC_SET_MEMORY_REGION, vm + 1, 0, (uint64_t)page, 4096), -HV_ENOENT);
	EXPECT("region: valid", hcall(HC_SET_MEMORY_REGION, vm, 0x100000, (uint64_t)page, 4096), 0);
	EXPECT("region: overlap", hcall(HC_SET_MEMORY_REGION, vm, 0x100000, (uint64_t)page, 4096), -HV_EEXIST);
	EXPECT("region: remove unknown", hcall(HC_SET_MEMORY_REGION, vm, 0x300000, 0, 0), -HV_ENOENT);
	EXPECT("region: remove", hcall(HC_SET_MEMORY_REGION, vm, 0x100000, 0, 0), 0);
	/* vCPUs. */
	EXPECT("vcpu: exit page in hypervisor memory", hcall(HC_VCPU_CREATE, vm, hv_image, 0, 0), -HV_EFAULT);
	EXPECT("vcpu: unaligned exit page", hcall(HC_VCPU_CREATE, vm, (uint64_t)page + 8, 0, 0), -HV_EFAULT);
	vcpu = hcall(HC_VCPU_CREATE, vm, (uint64_t)page, 0, 0);
	CHECK("vcpu create", vcpu > 0);
	EXPECT("vcpu handle used as a VM", hcall(HC_VM_DESTROY, vcpu, 0, 0, 0), -HV_ENOENT);
	EXPECT("VM handle used as a vCPU", hcall(HC_RUN, vm, 0, 0, 0), -HV_ENOENT);
	EXPECT("get regs into hypervisor memory", hcall(HC_GET_REGS, vcpu, hv_image, 0, 0), -HV_EFAULT);
	EXPECT("get regs across a page", hcall(HC_GET_REGS, vcpu, (uint64_t)page + 4090, 0, 0), -HV_EFAULT);
	EXPECT("get regs", hcall(HC_GET_REGS, vcpu, (uint64_t)page, 0, 0), 0);
	EXPECT("set sregs into hypervisor memory", hcall(HC_SET_SREGS, vcpu, hv_image, 0, 0), -HV_EFAULT);
	EXPECT("get sregs into hypervisor memory", hcall(HC_GET_SREGS, vcpu, hv_image, 0, 0), -HV_EFAULT);
	EXPECT("get sregs across a page", hcall(HC_GET_SREGS, vcpu, (uint64_t)page + 4000, 0, 0), -HV_EFAULT);
	EXPECT("get sregs beyond RAM", hcall(HC_GET_SREGS, vcpu, 1ULL << 45, 0, 0), -HV_EFAULT);
	EXPECT("set regs from hypervisor memory", hcall(HC_SET_REGS, vcpu, hv_image, 0, 0), -HV_EFAULT);
	EXPECT("set regs across a page", hcall(HC_SET_REGS, vcpu, (uint64_t)page + 4090, 0, 0), -HV_EFAULT);
	EXPECT("set regs on a stale handle", hcall(HC_SET_REGS, vcpu + 1, (uint64_t)page, 0, 0), -HV_ENOENT);
	{
		struct hv_sregs *s = (struct hv_sregs *)page;

		EXPECT("get sregs", hcall(HC_GET_SREGS, vcpu, (uint64_t)s, 0, 0), 0);
		s->cr0 = 0x80000000;            /* PG without PE */
		EXPECT("sregs: PG without PE", hcall(HC_SET_SREGS, vcpu, (uint64_t)s, 0, 0), -HV_EINVAL);
		s->cr0 = 0x80000011;
		s->efer = 0x100;                /* LME+PG without PAE */
		EXPECT("sregs: long mode without PAE", hcall(HC_SET_SREGS, vcpu, (uint64_t)s, 0, 0), -HV_EINVAL);
		s->cr0 = 0x11;
		s->efer = 0x1000;               /* SVME: not the guest's to set */
		EXPECT("sregs: reserved EFER bit", hcall(HC_SET_SREGS, vcpu, (uint64_t)s, 0, 0), -HV_EINVAL);
		s->efer = 0;
		s->cr4 = 1 << 13;               /* VMXE */
		EXPECT("sregs: CR4.VMXE", hcall(HC_SET_SREGS, vcpu, (uint64_t)s, 0, 0), -HV_EINVAL);
	}
	EXPECT("vm destroy with a vCPU", hcall(HC_VM_DESTROY, vm, 0, 0, 0), -HV_EBUSY);
	EXPECT("vcpu destroy", hcall(HC_VCPU_DESTROY, vcpu, 0, 0, 0), 0);
	EXPECT("vcpu destroy again (stale)", hcall(HC_VCPU_DESTROY, vcpu, 0, 0, 0), -HV_ENOENT);
	EXPECT("run a destroyed vCPU", hcall(HC_RUN, vcpu, 0, 0, 0), -HV_ENOENT);
	EXPECT("vm destroy", hcall(HC_VM_DESTROY, vm, 0, 0, 0), 0);
	EXPECT("vm destroy again (stale)", hcall(HC_VM_DESTROY, vm, 0, 0, 0), -HV_ENOENT);
	vm2 = hcall(HC_VM_CREATE, 0, 0, 0, 0);
	CHECK("a new VM does not revive the old handle", vm2 > 0 && vm2 != vm);
	EXPECT("old handle still stale", hcall(HC_VM_DESTROY, vm, 0, 0, 0), -HV_ENOENT);
	EXPECT("vm destroy (second)", hcall(HC_VM_DESTROY, vm2, 0, 0, 0), 0);
	EXPECT("stats into hypervisor memory", hcall(HC_STATS, hv_image, 0, 0, 0), -HV_EFAULT);
	EXPECT("reboot with a bad action", hcall(HC_REBOOT, 7, 0, 0, 0), -HV_EINVAL);
	EXPECT("start root vcpu on CPU 0 (self)", hcall(HC_START_ROOT_VCPU, 0, (uint64_t)page, (uint64_t)page + 4096, 0), -HV_EBUSY);
	EXPECT("start root vcpu on an absent CPU", hcall(HC_START_ROOT_VCPU, 200, (uint64_t)page, (uint64_t)page + 4096, 0), -HV_ENODEV);
	EXPECT("cpu offline: bad cpu", hcall(HC_CPU_OFFLINE, 100000, 0, 0, 0), -HV_EINVAL);
	EXPECT("cpu offline: a CPU never started", hcall(HC_CPU_OFFLINE, 200, 0, 0, 0), -HV_EINVAL);
	EXPECT("cpu online: bad cpu", hcall(HC_CPU_ONLINE, 100000, 0, 0, 0), -HV_EINVAL);
	EXPECT("cpu online: a CPU never started", hcall(HC_CPU_ONLINE, 200, 0, 0, 0), -HV_EINVAL);
	EXPECT("cpu online: the boot CPU (runs the root)", hcall(HC_CPU_ONLINE, 0, 0, 0, 0), -HV_EBUSY);
	if (rinfo->nr_cpus >= 3)
		EXPECT("cpu online: a CPU that is online",
		       hcall(HC_CPU_ONLINE, rinfo->nr_cpus - 1, 0, 0, 0), -HV_EALREADY);
	EXPECT("stats: unknown flag", hcall(HC_STATS, (uint64_t)page, 2, 0, 0), -HV_EINVAL);
	EXPECT("stats across a page", hcall(HC_STATS, (uint64_t)page + 4090, 0, 0, 0), -HV_EFAULT);
	if (rinfo->nr_cpus >= 3) {      /* the last CPU runs no root vCPU yet */
		unsigned int free_cpu = rinfo->nr_cpus - 1;

		EXPECT("start root vcpu: rip outside root memory",
		       hcall(HC_START_ROOT_VCPU, free_cpu, hv_image, (uint64_t)page + 4096, 0), -HV_EFAULT);
		EXPECT("start root vcpu: stack outside root memory",
		       hcall(HC_START_ROOT_VCPU, free_cpu, (uint64_t)ap_idle_entry, hv_image + 4096, 0),
		       -HV_EFAULT);
	}
	test_limits();
}

static int64_t run_expect(struct child *c, uint32_t reason, const char *what)
{
	int64_t r = child_run(c);

	if (r < 0 || c->exit->reason != reason) {
		failed++;
		gprintf("root-test: FAIL %s: run %ld, exit %s, expected %s\n", what, r,
			exit_name(c->exit->reason), exit_name(reason));
		return -1;
	}
	passed++;
	return 0;
}

/* Every exit kind, in the order the payload causes them. */
static void test_child_exits(void)
{
	struct child c;
	char line[64];
	size_t len = 0;
	struct hv_regs *regs = ralloc(4096);

	EXPECT("child create", child_create(&c, child_test_start,
					    (size_t)(child_test_end - child_test_start)), 0);
	/* OUTs to 0xe9 until the line is complete. */
	for (;;) {
		if (run_expect(&c, HV_EXIT_IO, "output byte"))
			return;
		if (c.exit->io.port != 0xe9 || !c.exit->io.out || c.exit->io.size != 1)
			break;
		if ((char)c.exit->io.data == '\n')
			break;
		line[len++] = (char)c.exit->io.data;
	}
	line[len] = '\0';
	gprintf("root-test: child printed \"%s\"\n", line);
	CHECK("child output line", !gmemcmp(line, "child: all exits", 16));
	/* IN from 0x60: the root supplies the byte. */
	if (run_expect(&c, HV_EXIT_IO, "in"))
		return;
	CHECK("in: port, size, direction", c.exit->io.port == 0x60 && c.exit->io.size == 1 && !c.exit->io.out);
	c.exit->io.data = 0x42;
	if (run_expect(&c, HV_EXIT_IO, "echo of in"))
		return;
	CHECK("in: the guest got our byte", c.exit->io.port == 0x99 && c.exit->io.data == 0x42);
	/* A user hypercall comes to the root with its arguments. */
	if (run_expect(&c, HV_EXIT_HYPERCALL, "user hypercall"))
		return;
	CHECK("hypercall record", c.exit->hypercall.nr == 0x1007 && c.exit->hypercall.args[0] == 0x11 &&
	      c.exit->hypercall.args[1] == 0x22 && c.exit->hypercall.args[2] == 0x33 &&
	      c.exit->hypercall.args[3] == 0x44);
	c.exit->hypercall.ret = 1234;
	if (run_expect(&c, HV_EXIT_IO, "hypercall result"))
		return;
	CHECK("hypercall: the guest got our result", c.exit->io.port == 0x98 && c.exit->io.data == 1234);
	if (run_expect(&c, HV_EXIT_IO, "root-only call from a child"))
		return;
	EXPECT("child calling vm_create gets EPERM", (int32_t)c.exit->io.data, -HV_EPERM);
	if (run_expect(&c, HV_EXIT_IO, "api version from a child"))
		return;
	EXPECT("child may ask the API version", c.exit->io.data, HV_API_VERSION);
	if (run_expect(&c, HV_EXIT_IO, "cpuid in a child"))
		return;
	EXPECT("child sees the hypervisor signature", c.exit->io.data, HV_SIGNATURE_EBX);
	/* MSRs: one the hypervisor keeps for the guest, one it refuses (#GP). */
	if (run_expect(&c, HV_EXIT_IO, "rdmsr efer"))
		return;
	CHECK("rdmsr of EFER in a 32-bit child reads 0", c.exit->io.port == 0x93 && c.exit->io.data == 0);
	if (run_expect(&c, HV_EXIT_IO, "#GP handler"))
		return;
	CHECK("rdmsr of a refused MSR gives #GP", c.exit->io.port == 0x92 && c.exit->io.data == 0x6d);
	/* A read of guest-physical memory with nothing behind it. */
	if (run_expect(&c, HV_EXIT_MMIO, "unmapped access"))
		return;
	CHECK("mmio record", c.exit->mmio.gpa == 0x200000 && !c.exit->mmio.write);
	EXPECT("get regs after mmio", hcall(HC_GET_REGS, c.vcpu, (uint64_t)regs, 0, 0), 0);
	regs->rip += 5;                 /* skip the 5-byte load */
	EXPECT("set regs", hcall(HC_SET_REGS, c.vcpu, (uint64_t)regs, 0, 0), 0);
	/* A VMX/SVM instruction raises #UD in the child (its handler reports). */
	if (run_expect(&c, HV_EXIT_IO, "#UD handler"))
		return;
	CHECK("virtualization instruction gives #UD", c.exit->io.port == 0x94 && c.exit->io.data == 0xad);
	if (run_expect(&c, HV_EXIT_HLT, "hlt"))
		return;
	EXPECT("child destroy", child_destroy(&c), 0);

	/* A triple fault ends that VM, and only that VM. */
	EXPECT("crash child create", child_create(&c, child_crash_start,
						  (size_t)(child_crash_end - child_crash_start)), 0);
	run_expect(&c, HV_EXIT_SHUTDOWN, "triple fault");
	EXPECT("a dead VM does not run again", child_run(&c), -HV_EINVAL);
	EXPECT("a vCPU for a VM that triple-faulted",
	       hcall(HC_VCPU_CREATE, c.vm, (uint64_t)ralloc(4096), 0, 0), -HV_EINVAL);
	EXPECT("crash child destroy", child_destroy(&c), 0);
}

/*
 * HC_RUN's fast path (docs/hypercalls.md): a child whose runs end in port
 * I/O is entered straight from the root's hypercall exit and its OUT
 * handed back from there (HV_STAT_FAST_RUN counts those runs); one whose
 * runs first make an exit the hypervisor answers itself (CPUID) goes on
 * through the ordinary path from that exit. Either way every run returns
 * the next OUT with the child's registers intact. With hc_fast=0 (the
 * module line says so) no run is a fast one.
 */
#define FAST_RUNS 200

static void test_fast_run(bool fast)
{
	static const struct {
		const uint8_t *start, *end;
		const char *name;
	} kinds[] = {
		{ child_loop_start, child_loop_end, "out loop" },
		{ child_cpuid_loop_start, child_cpuid_loop_end, "cpuid+out loop" },
	};
	struct hv_vm_stats *st = ralloc(4096);

	for (unsigned int k = 0; k < 2; k++) {
		struct child c;
		int bad = 0;
		uint64_t fast_runs;

		EXPECT("fast run: child create", child_create(&c, kinds[k].start,
							      (size_t)(kinds[k].end - kinds[k].start)), 0);
		for (int i = 0; i < FAST_RUNS; i++)
			if (child_run(&c) || c.exit->reason != HV_EXIT_IO || c.exit->io.port != 0x80 ||
			    !c.exit->io.out || c.exit->io.data != (uint8_t)i)
				bad++;
		gprintf("root-test: fast run, %s: %d of %d runs wrong\n", kinds[k].name, bad, FAST_RUNS);
		CHECK("fast run: every run returns the child's next OUT", bad == 0);
		EXPECT("fast run: vm stats", hcall(HC_VM_STATS, c.vm, (uint64_t)st, 0, 0), 0);
		fast_runs = st->kind[HV_STAT_FAST_RUN];
		gprintf("root-test: fast run, %s: %lu of %d runs fast, %lu exits, %lu cpuid\n",
			kinds[k].name, fast_runs, FAST_RUNS, st->exits, st->kind[HV_STAT_CPUID]);
		CHECK("fast run: one port I/O exit to the root per run, CPUID once per run where made",
		      st->kind[HV_STAT_IO] == FAST_RUNS && st->kind[HV_STAT_TO_ROOT] == FAST_RUNS &&
		      st->kind[HV_STAT_CPUID] == (k ? FAST_RUNS : 0));
		/* An interrupt during a run sends it the ordinary way: most, not all. */
		if (k == 0)
			CHECK(fast ? "fast run: the OUT loop runs on the fast path" :
				     "fast run: hc_fast=0 runs no child on the fast path",
			      fast ? fast_runs >= FAST_RUNS * 9 / 10 : fast_runs == 0);
		else
			CHECK("fast run: a run with a CPUID exit ends on the ordinary path", fast_runs == 0);
		EXPECT("fast run: child destroy", child_destroy(&c), 0);
	}
}

/* 32-bit child code: two MMIO writes, HLT, an MMIO access the emulator
 * does not decode (x87 FLD: the root gets its bytes), HLT. */
static const uint8_t child_mmio[] = {
	0xc7, 0x05, 0x00, 0x00, 0x30, 0x00, 0x78, 0x56, 0x34, 0x12,   /* movl $0x12345678, 0x300000 */
	0x66, 0xc7, 0x05, 0x08, 0x00, 0x30, 0x00, 0xcd, 0xab,         /* movw $0xabcd, 0x300008 */
	0xf4,                                                           /* hlt */
	0xd9, 0x05, 0x00, 0x00, 0x30, 0x00,                             /* flds 0x300000 */
	0xf4,                                                           /* hlt */
};

static void test_child_mmio(void)
{
	struct child c;
	struct hv_regs *regs = ralloc(4096);

	EXPECT("mmio child create", child_create(&c, child_mmio, sizeof(child_mmio)), 0);
	if (run_expect(&c, HV_EXIT_MMIO, "mmio write (4 bytes)"))
		return;
	CHECK("mmio write record: gpa, write, size, data",
	      c.exit->mmio.gpa == 0x300000 && c.exit->mmio.write && c.exit->mmio.size == 4 &&
	      c.exit->mmio.data == 0x12345678 && c.exit->rip == CHILD_LOAD);
	if (run_expect(&c, HV_EXIT_MMIO, "mmio write (2 bytes)"))
		return;
	CHECK("mmio write record (16-bit)", c.exit->mmio.gpa == 0x300008 && c.exit->mmio.write &&
	      c.exit->mmio.size == 2 && c.exit->mmio.data == 0xabcd && c.exit->rip == CHILD_LOAD + 10);
	if (run_expect(&c, HV_EXIT_HLT, "hlt after the writes"))
		return;
	if (run_expect(&c, HV_EXIT_MMIO, "an MMIO access the emulator does not decode"))
		return;
	CHECK("undecoded mmio record: size 0 and the instruction's bytes",
	      c.exit->mmio.gpa == 0x300000 && c.exit->mmio.size == 0 && c.exit->mmio.insn_len >= 6 &&
	      c.exit->mmio.insn[0] == 0xd9 && c.exit->mmio.insn[1] == 0x05 &&
	      c.exit->rip == CHILD_LOAD + 20);
	/* The root emulates it (here: skips it) and moves RIP on itself. */
	EXPECT("get regs at the undecoded access", hcall(HC_GET_REGS, c.vcpu, (uint64_t)regs, 0, 0), 0);
	regs->rip += 6;
	EXPECT("set regs past it", hcall(HC_SET_REGS, c.vcpu, (uint64_t)regs, 0, 0), 0);
	run_expect(&c, HV_EXIT_HLT, "hlt after the skipped access");
	EXPECT("mmio child destroy", child_destroy(&c), 0);
}

/*
 * HV_EXIT_INTERNAL: a state VM entry refuses. A data segment whose limit
 * has bits above 19 set needs G=1 for VMX (SDM 26.3.1.2); the API does not
 * check it, so on Intel the entry fails and the record says so. SVM's
 * VMRUN does not check segment limits (APM 15.5.1): the child runs to its
 * HLT there.
 */
static void test_child_internal(void)
{
	static const uint8_t hlt[] = { 0xf4 };
	struct hv_sregs *s = ralloc(4096);
	uint8_t *page = ralloc(4096);
	struct child c;

	EXPECT("internal child create", child_create(&c, hlt, sizeof(hlt)), 0);
	EXPECT("internal child: get sregs", hcall(HC_GET_SREGS, c.vcpu, (uint64_t)s, 0, 0), 0);
	s->es.limit = 0x00100000;       /* bit 20 set ... */
	s->es.attrib &= ~(1u << 11);    /* ... with byte granularity */
	EXPECT("internal child: a segment VMX refuses", hcall(HC_SET_SREGS, c.vcpu, (uint64_t)s, 0, 0), 0);
	if (!guest_is_intel()) {
		run_expect(&c, HV_EXIT_HLT, "SVM runs a child with that segment");
		EXPECT("internal child destroy", child_destroy(&c), 0);
		return;
	}
	if (!run_expect(&c, HV_EXIT_INTERNAL, "VM entry with a TR it refuses"))
		CHECK("internal record: entry failure, invalid guest state (33)",
		      c.exit->internal.suberror == HV_INTERNAL_ENTRY &&
		      (c.exit->internal.hw_reason & 0xffff) == 33);
	EXPECT("the VM is dead after an internal exit", child_run(&c), -HV_EINVAL);
	int64_t v2 = hcall(HC_VCPU_CREATE, c.vm, (uint64_t)page, 0, 0);

	EXPECT("a vCPU for a dead VM", v2, -HV_EINVAL);
	if (v2 > 0)
		hcall(HC_VCPU_DESTROY, v2, 0, 0, 0);
	EXPECT("internal child destroy", child_destroy(&c), 0);
}

/* ---------------------------------------------------- several CPUs */

static volatile int ap_done[64], ap_result[64], ap_go;
static unsigned int ap_started;

/* A root vCPU on another CPU: create, run and destroy child VMs. */
static void stress_worker(unsigned int cpu);
static volatile int stress_mode;

static void ap_main(uint64_t cpu)
{
	int ok = 1;

	if (stress_mode) {
		stress_worker((unsigned int)cpu);
		for (;;)
			__asm__ __volatile__("hlt");
	}

	while (!__atomic_load_n(&ap_go, __ATOMIC_ACQUIRE))
		__asm__ __volatile__("pause");
	for (int round = 0; round < 3 && ok; round++) {
		struct child c;
		int outs = 0;

		if (child_create(&c, child_hello_start, (size_t)(child_hello_end - child_hello_start))) {
			ok = 0;
			break;
		}
		for (;;) {
			if (child_run(&c) < 0) {
				ok = 0;
				break;
			}
			if (c.exit->reason == HV_EXIT_IO)
				outs++;
			else
				break;
		}
		if (c.exit->reason != HV_EXIT_HLT || outs != 22 || child_destroy(&c))
			ok = 0;
	}
	ap_result[cpu] = ok;
	__atomic_store_n(&ap_done[cpu], 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ __volatile__("hlt");
}

static void __attribute__((naked)) ap_entry(void)
{
	__asm__ __volatile__("andq $-16, %rsp\ncall ap_main_trampoline\n1: hlt\njmp 1b");
}

void ap_main_trampoline(uint64_t cpu);
void ap_main_trampoline(uint64_t cpu)
{
	ap_main(cpu);
}

/* Root vCPUs on every other CPU; they wait for ap_go. */
static unsigned int root_cpus(void)
{
	unsigned int n = rinfo->nr_cpus < 64 ? rinfo->nr_cpus : 64;

	/* With three or more CPUs the last one stays free for the hotplug test. */
	return n >= 3 ? n - 1 : n;
}

static void start_root_vcpus(void)
{
	unsigned int n = root_cpus();

	for (unsigned int cpu = 1; cpu < n; cpu++) {
		uint8_t *stack = ralloc(16384);
		int64_t r = hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_entry,
				  (uint64_t)stack + 16384 - 8, cpu);

		EXPECT("start root vcpu", r, 0);
		ap_started += r == 0;
	}
	if (n > 1)
		EXPECT("start root vcpu twice on one CPU",
		       hcall(HC_START_ROOT_VCPU, 1, (uint64_t)ap_entry, (uint64_t)ralloc(4096) + 4088, 1),
		       -HV_EBUSY);
}

static void test_smp(void)
{
	unsigned int n = root_cpus();

	__atomic_store_n(&ap_go, 1, __ATOMIC_RELEASE);
	/* Meanwhile this CPU makes VMs of its own. */
	for (int round = 0; round < 3; round++) {
		struct child c;

		int64_t r;

		EXPECT("cpu0 child", child_create(&c, child_hello_start,
						  (size_t)(child_hello_end - child_hello_start)), 0);
		while ((r = child_run(&c)) == 0 && c.exit->reason == HV_EXIT_IO)
			;
		EXPECT("cpu0 child run", r, 0);
		EXPECT("cpu0 child halts", c.exit->reason, HV_EXIT_HLT);
		EXPECT("cpu0 child destroy", child_destroy(&c), 0);
	}
	for (unsigned int cpu = 1; cpu < n; cpu++) {
		uint64_t spins = 0;

		while (!__atomic_load_n(&ap_done[cpu], __ATOMIC_ACQUIRE) && spins++ < 2000000000ULL)
			__asm__ __volatile__("pause");
		CHECK("root vcpu on another CPU ran its VMs", ap_done[cpu] && ap_result[cpu]);
	}
	gprintf("root-test: %u root vCPUs ran child VMs at the same time\n", ap_started + 1);
	if (n > 1)
		EXPECT("offline a CPU running a root vCPU", hcall(HC_CPU_OFFLINE, 1, 0, 0, 0), -HV_EBUSY);
}

/* Take the CPU with no root vCPU offline and back through hypercalls. */
static void test_hotplug(void)
{
	unsigned int cpu = rinfo->nr_cpus - 1;

	if (rinfo->nr_cpus < 3) {
		gprintf("root-test: hotplug skipped (needs 3 CPUs)\n");
		return;
	}
	EXPECT("virt on before offline", hcall(HC_VIRT_STATUS, cpu, 0, 0, 0) & 0xff, HV_VIRT_ON);
	EXPECT("cpu offline", hcall(HC_CPU_OFFLINE, cpu, 0, 0, 0), 0);
	EXPECT("virt off while offline", hcall(HC_VIRT_STATUS, cpu, 0, 0, 0) & 0xff, HV_VIRT_OFF);
	EXPECT("cpu offline twice", hcall(HC_CPU_OFFLINE, cpu, 0, 0, 0), -HV_EALREADY);
	EXPECT("start a root vcpu on an offline CPU",
	       hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_entry, (uint64_t)ralloc(4096) + 4088, cpu),
	       -HV_ENODEV);
	EXPECT("cpu online", hcall(HC_CPU_ONLINE, cpu, 0, 0, 0), 0);
	EXPECT("virt on after online", hcall(HC_VIRT_STATUS, cpu, 0, 0, 0) & 0xff, HV_VIRT_ON);
	EXPECT("cpu online twice", hcall(HC_CPU_ONLINE, cpu, 0, 0, 0), -HV_EALREADY);
	EXPECT("cpu 0 cannot go offline", hcall(HC_CPU_OFFLINE, 0, 0, 0, 0), -HV_EBUSY);
}

/* ---------------------------------------------------- stress */

/*
 * `stress` on the module's command line: a root vCPU on every CPU issues
 * statistics and management calls at the same time (VMs, regions, vCPUs,
 * refused starts and hotplugs), while CPU 0 takes the last CPU offline and
 * online and then starts the root vCPUs one by one under that load. Every
 * result is checked; the system test also fails on any cross-CPU timeout.
 */
#define STRESS_MAX_CPUS 64

struct stress_cpu {
	uint8_t *mem, *exit;
	struct hv_stats *stats;
	uint64_t calls, bad;
	volatile int started, done;
} __attribute__((aligned(64)));

static struct stress_cpu stress_cpu[STRESS_MAX_CPUS];
static unsigned int stress_iters, stress_ncpus;
static volatile unsigned int stress_spare = ~0u;  /* going offline/online now */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void stress_note(unsigned int cpu, const char *what, int64_t got, bool ok)
{
	struct stress_cpu *sc = &stress_cpu[cpu];

	sc->calls++;
	if (ok)
		return;
	if (sc->bad++ < 3)
		gprintf("root-test: FAIL stress on CPU %u: %s returned %ld\n", cpu, what, got);
}

static void stress_op(unsigned int cpu, uint64_t *seed)
{
	struct stress_cpu *sc = &stress_cpu[cpu];
	uint64_t x = xorshift(seed);
	unsigned int t = (unsigned int)(x >> 32) % stress_ncpus;
	int64_t r, vm, vcpu;

	switch (x % 8) {
	case 3:
	case 4:
		vm = hcall(HC_VM_CREATE, 0, 0, 0, 0);
		stress_note(cpu, "vm create", vm, vm > 0);
		if (vm <= 0)
			break;
		r = hcall(HC_SET_MEMORY_REGION, vm, 0, (uint64_t)sc->mem, 4096);
		stress_note(cpu, "set region", r, r == 0);
		vcpu = hcall(HC_VCPU_CREATE, vm, (uint64_t)sc->exit, 0, 0);
		stress_note(cpu, "vcpu create", vcpu, vcpu > 0);
		if (vcpu > 0) {
			/* Fast calls that need the management lock while the
			 * other CPUs take it: tried there, else the ordinary
			 * path (docs/hypercalls.md, "Fast calls"). */
			r = hcall(HC_GET_MP_STATE, vcpu, 0, 0, 0);
			stress_note(cpu, "get mp state (fast)", r, r == HV_MP_RUNNABLE);
			r = hcall(HC_KICK, vcpu, 0, 0, 0);
			stress_note(cpu, "kick (fast)", r, r == 0);
			r = hcall(HC_VCPU_DESTROY, vcpu, 0, 0, 0);
			stress_note(cpu, "vcpu destroy", r, r == 0);
		}
		r = hcall(HC_SET_MEMORY_REGION, vm, 0, 0, 0);
		stress_note(cpu, "remove region", r, r == 0);
		r = hcall(HC_VM_DESTROY, vm, 0, 0, 0);
		stress_note(cpu, "vm destroy", r, r == 0);
		break;
	case 5:
		r = hcall(HC_VIRT_STATUS, t, 0, 0, 0);
		stress_note(cpu, "virt status", r, (r & 0xff) == HV_VIRT_ON ||
			    (t == stress_spare && (r & 0xff) == HV_VIRT_OFF));
		break;
	case 6:
		/* A CPU that runs a root vCPU already: refused, nothing started. */
		if (!stress_cpu[t].started)
			t = 0;
		r = hcall(HC_START_ROOT_VCPU, t, (uint64_t)ap_entry, (uint64_t)sc->exit + 4088, t);
		stress_note(cpu, "start root vcpu on a busy CPU", r, r == -HV_EBUSY);
		break;
	case 7:
		if (!stress_cpu[t].started)
			t = 0;
		r = hcall(HC_CPU_OFFLINE, t, 0, 0, 0);
		stress_note(cpu, "offline a busy CPU", r, r == -HV_EBUSY);
		break;
	case 2:
		/* With the shrink round: a cross-CPU call every CPU must answer. */
		r = hcall(HC_STATS, (uint64_t)sc->stats, 0, 0, 0);
		stress_note(cpu, "stats", r, r == 0 && !sc->stats->stale_cpus);
		break;
	default:
		r = hcall(HC_STATS, (uint64_t)sc->stats, HV_STATS_NO_SHRINK, 0, 0);
		stress_note(cpu, "stats without a shrink", r, r == 0 && !sc->stats->stale_cpus);
		break;
	}
}

static void stress_worker(unsigned int cpu)
{
	uint64_t seed = 0x243f6a8885a308d3ULL * (cpu + 1);

	for (unsigned int i = 0; i < stress_iters; i++)
		stress_op(cpu, &seed);
	__atomic_store_n(&stress_cpu[cpu].done, 1, __ATOMIC_RELEASE);
}

static void stress(void)
{
	unsigned int n = rinfo->nr_cpus < STRESS_MAX_CPUS ? rinfo->nr_cpus : STRESS_MAX_CPUS;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, t0, t1, calls = 0, bad = 0, ms;
	struct hv_stats *st;
	int64_t r;

	stress_ncpus = n;
	stress_iters = guest_is_intel() ? 250 : 2500;
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		stress_cpu[cpu].mem = ralloc(4096);
		stress_cpu[cpu].exit = ralloc(4096);
		stress_cpu[cpu].stats = ralloc(4096);
	}
	stress_mode = 1;
	stress_cpu[0].started = 1;
	t0 = rdtsc();
	for (unsigned int cpu = 1; cpu < n; cpu++) {
		if (cpu == n - 1) {
			/* The last CPU goes offline and online under load first. */
			stress_spare = cpu;
			for (int k = 0; k < 4; k++) {
				r = hcall(HC_CPU_OFFLINE, cpu, 0, 0, 0);
				stress_note(0, "offline the spare CPU", r, r == 0);
				for (int i = 0; i < 10; i++)
					stress_op(0, &seed);
				r = hcall(HC_CPU_ONLINE, cpu, 0, 0, 0);
				stress_note(0, "online the spare CPU", r, r == 0);
				for (int i = 0; i < 10; i++)
					stress_op(0, &seed);
			}
			stress_spare = ~0u;
		}
		uint8_t *stack = ralloc(16384);

		r = hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_entry, (uint64_t)stack + 16384 - 8, cpu);
		stress_note(0, "start root vcpu", r, r == 0);
		if (!r)
			__atomic_store_n(&stress_cpu[cpu].started, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < 20; i++)
			stress_op(0, &seed);
	}
	stress_worker(0);
	for (unsigned int cpu = 1; cpu < n; cpu++) {
		uint64_t spins = 0;

		while (stress_cpu[cpu].started && !__atomic_load_n(&stress_cpu[cpu].done, __ATOMIC_ACQUIRE) &&
		       spins++ < 20000000000ULL)
			__asm__ __volatile__("pause");
		CHECK("stress: root vCPU finished", stress_cpu[cpu].done);
	}
	t1 = rdtsc();
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		calls += stress_cpu[cpu].calls;
		bad += stress_cpu[cpu].bad;
	}
	st = stress_cpu[0].stats;
	EXPECT("stats after the stress", hcall(HC_STATS, (uint64_t)st, 0, 0, 0), 0);
	CHECK("stress: no VM or vCPU left", st->vms == 0 && st->vcpus == 0);
	ms = (t1 - t0) / (rinfo->tsc_khz ? rinfo->tsc_khz : 1000000);
	gprintf("root-test: stress: %lu calls from %u CPUs in %lu ms (%lu calls/s), %lu unexpected results\n",
		calls, n, ms, ms ? calls * 1000 / ms : 0, bad);
	CHECK("stress: every result as expected", bad == 0);
}

#define BENCH_ITERS 20000

/* Round trips timed with RDTSC: under QEMU -icount shift=0 the TSC counts
 * instructions, so these are instruction counts per round trip. */
static void bench(void)
{
	struct child c;
	uint64_t t0, t1;
	uint32_t a, b, cc, d;

	t0 = rdtsc();
	for (int i = 0; i < BENCH_ITERS; i++)
		__asm__ __volatile__("" ::: "memory");
	t1 = rdtsc();
	gprintf("bench: guest loop (no exit) %lu tsc/iter\n", (t1 - t0) / BENCH_ITERS);
	t0 = rdtsc();
	for (int i = 0; i < BENCH_ITERS; i++)
		cpuid(0, &a, &b, &cc, &d);
	t1 = rdtsc();
	gprintf("bench: cpuid exit %lu tsc/iter\n", (t1 - t0) / BENCH_ITERS);
	t0 = rdtsc();
	for (int i = 0; i < BENCH_ITERS; i++)
		hcall(HC_API_VERSION, 0, 0, 0, 0);
	t1 = rdtsc();
	gprintf("bench: null hypercall %lu tsc/iter\n", (t1 - t0) / BENCH_ITERS);
	if (child_create(&c, child_loop_start, (size_t)(child_loop_end - child_loop_start))) {
		gprintf("bench: child create failed\n");
		return;
	}
	t0 = rdtsc();
	for (int i = 0; i < BENCH_ITERS; i++)
		child_run(&c);
	t1 = rdtsc();
	gprintf("bench: child exit round trip %lu tsc/iter\n", (t1 - t0) / BENCH_ITERS);
	child_destroy(&c);
}

void guest_main(struct hv_root_info *info)
{
	struct hv_stats *before, *after;

	guest_init();
	rinfo = info;
	ralloc_init(info);
	before = ralloc(4096);
	after = (struct hv_stats *)((uint8_t *)before + 2048);
	CHECK("root info magic", info->magic == HV_ROOT_INFO_MAGIC);
	if (has_word(info->cmdline, "bench")) {
		bench();
		guest_exit(true);
	}
	gprintf("root-test: %s, %u CPUs\n", guest_is_intel() ? "Intel VMX" : "AMD SVM", info->nr_cpus);
	if (has_word(info->cmdline, "stress")) {
		stress();
		gprintf("root-test: %d passed, %d failed\n", passed, failed);
		gprintf("HV-VERDICT: %s\n", failed ? "FAIL" : "PASS");
		guest_exit(!failed);
	}
	start_root_vcpus();
	EXPECT("stats", hcall(HC_STATS, (uint64_t)before, 0, 0, 0), 0);

	test_cpuid();
	test_simple_calls();
	test_bad_arguments();
	test_child_exits();
	test_fast_run(!has_word(info->cmdline, "hc_fast=0"));
	test_child_mmio();
	test_child_internal();
	test_smp();
	test_hotplug();

	EXPECT("stats after", hcall(HC_STATS, (uint64_t)after, 0, 0, 0), 0);
	gprintf("root-test: before: %lu free pages, %lu slab objects, %lu VMs, %lu vCPUs; after: %lu, %lu, %lu, %lu; %lu exits, %lu hypercalls\n",
		before->free_pages, before->slab_objects, before->vms, before->vcpus,
		after->free_pages, after->slab_objects, after->vms, after->vcpus,
		after->exits, after->hypercalls);
	CHECK("VMs and vCPUs all destroyed", after->vms == 0 && after->vcpus == 0);
	EXPECT("free pages back where they started", after->free_pages, before->free_pages);
	EXPECT("slab objects back where they started", after->slab_objects, before->slab_objects);
	if (info->nr_cpus >= 3) {
		/* Last, since it stays: a root vCPU on the CPU that went offline
		 * and came back, which then refuses to go offline again. */
		unsigned int cpu = info->nr_cpus - 1;

		EXPECT("a root vcpu on the CPU back online",
		       hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_idle_entry,
			     (uint64_t)ralloc(4096) + 4088, cpu), 0);
		EXPECT("offline the CPU that now runs a root vcpu", hcall(HC_CPU_OFFLINE, cpu, 0, 0, 0),
		       -HV_EBUSY);
		EXPECT("cpu online while it runs a root vcpu", hcall(HC_CPU_ONLINE, cpu, 0, 0, 0),
		       -HV_EBUSY);
	}
	gprintf("root-test: %d passed, %d failed\n", passed, failed);
	if (has_word(info->cmdline, "reboot")) {
		/* The reboot path: virtualization off everywhere, then reset. */
		gprintf("root-test: rebooting through HC_REBOOT\n");
		hcall(HC_REBOOT, HV_REBOOT_RESET, 0, 0, 0);
		gprintf("root-test: FAIL HC_REBOOT returned\n");
		guest_exit(false);
	}
	gprintf("HV-VERDICT: %s\n", failed ? "FAIL" : "PASS");
	guest_exit(!failed);
}
