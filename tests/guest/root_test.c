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
	EXPECT("crash child destroy", child_destroy(&c), 0);
}

/* ---------------------------------------------------- several CPUs */

static volatile int ap_done[64], ap_result[64], ap_go;
static unsigned int ap_started;

/* A root vCPU on another CPU: create, run and destroy child VMs. */
static void ap_main(uint64_t cpu)
{
	int ok = 1;

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
	__asm__ __volatile__("call ap_main_trampoline\n1: hlt\njmp 1b");
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
	EXPECT("cpu offline twice", hcall(HC_CPU_OFFLINE, cpu, 0, 0, 0), -114);    /* EALREADY */
	EXPECT("start a root vcpu on an offline CPU",
	       hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_entry, (uint64_t)ralloc(4096) + 4088, cpu),
	       -HV_ENODEV);
	EXPECT("cpu online", hcall(HC_CPU_ONLINE, cpu, 0, 0, 0), 0);
	EXPECT("virt on after online", hcall(HC_VIRT_STATUS, cpu, 0, 0, 0) & 0xff, HV_VIRT_ON);
	EXPECT("cpu 0 cannot go offline", hcall(HC_CPU_OFFLINE, 0, 0, 0, 0), -HV_EBUSY);
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

/* Is `w` one of the space-separated words of s? */
static bool has_word(const char *s, const char *w)
{
	size_t n = 0;

	while (w[n])
		n++;
	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !gmemcmp(p, w, n) && (p[n] == ' ' || !p[n]))
			return true;
	return false;
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
	start_root_vcpus();
	EXPECT("stats", hcall(HC_STATS, (uint64_t)before, 0, 0, 0), 0);

	test_cpuid();
	test_simple_calls();
	test_bad_arguments();
	test_child_exits();
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
