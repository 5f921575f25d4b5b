/*
 * Hypercall decoding and the objects behind it, on the host: every argument
 * check of every call, handles (stale, foreign), permissions (a child VM,
 * the hypervisor itself), and that destroying everything gives memory back.
 * The backend is a mock; guests never run (vcpu_run_child is a stub).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>
#include "hv/cpuid.h"
#include <x86/fpu.h>
#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/hypercall.h"
#include "hv/kmalloc.h"
#include "hv/leakcheck.h"
#include "hv/page_alloc.h"
#include "hv/slab.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/percpu.h>
#include "host_guest_stubs.h"

#define HV_RAM   (8u << 20)     /* the hypervisor's page allocator */
#define ROOT_RAM (4u << 20)     /* "root memory" the calls may point into */

static uint8_t *hv_ram, *root_ram;
static struct vcpu root_caller, child_caller;
static struct vm child_vm;

static uint64_t mock_leaf(uint64_t hpa, unsigned int level, unsigned int flags)
{
	return hpa | 1 | (level ? 0x80 : 0);
}
static uint64_t mock_table(uint64_t hpa) { return hpa | 1; }
static bool mock_present(uint64_t e) { return e & 1; }
static bool mock_large(uint64_t e) { return e & 0x80; }
static const struct gpt_format mock_fmt = { mock_leaf, mock_table, mock_present, mock_large, 1 };

/* The mock keeps the registers in the vCPU block, as a VMCB would. */
static int mock_setup(struct vcpu *v)
{
	memset(v->block, 0, 4096);
	v->fpu = (struct fpu *)((char *)v->block + 4096);
	return 0;
}
static void mock_teardown(struct vcpu *v) { }
static void mock_get_regs(struct vcpu *v, struct hv_regs *r) { memcpy(r, v->block, sizeof(*r)); }
static void mock_set_regs(struct vcpu *v, const struct hv_regs *r) { memcpy(v->block, r, sizeof(*r)); }
static void mock_get_sregs(struct vcpu *v, struct hv_sregs *s)
{
	memcpy(s, (uint8_t *)v->block + 1024, sizeof(*s));
}
static void mock_set_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	memcpy((uint8_t *)v->block + 1024, s, sizeof(*s));
}

static struct virt_ops mock_ops = {
	.name = "svm", .vendor = HV_VENDOR_AMD, .vcpu_size = 8192, .vcpu_align = 4096,
	.gpt_format = &mock_fmt,
	.vcpu_setup = mock_setup, .vcpu_teardown = mock_teardown,
	.get_regs = mock_get_regs, .set_regs = mock_set_regs,
	.get_sregs = mock_get_sregs, .set_sregs = mock_set_sregs,
};

static int64_t hc(struct vcpu *caller, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		  uint64_t a3)
{
	struct hypercall_regs r = { nr, { a0, a1, a2, a3 }, caller };

	return hypercall_dispatch(&r);
}

#define ROOT(...) hc(&root_caller, __VA_ARGS__)
#define RP(off) ((uint64_t)(root_ram + (off)))

static int setup(void **state)
{
	page_alloc_reset();
	slab_reset();
	if (!hv_ram) {
		hv_ram = aligned_alloc(4u << 20, HV_RAM);
		root_ram = aligned_alloc(4u << 20, ROOT_RAM);
	}
	assert_int_equal(page_alloc_add_range((uint64_t)hv_ram, HV_RAM), 0);
	assert_int_equal(kmalloc_init(), 0);
	root_mem_reset();
	assert_int_equal(root_mem_add((uint64_t)root_ram, ROOT_RAM), 0);
	host_fill_guest_ops(&mock_ops);
	mock_ops.vcpu_setup = mock_setup;
	mock_ops.vcpu_teardown = mock_teardown;
	cpuid_default_init();
	virt_ops = &mock_ops;
	vcpu_cache = cache_create("vcpu", mock_ops.vcpu_size, mock_ops.vcpu_align, 0, NULL);
	assert_false(IS_ERR(vcpu_cache));
	root_vm.is_root = true;
	root_caller.vm = &root_vm;
	child_vm.is_root = false;
	child_caller.vm = &child_vm;
	hypercall_uninstall();
	assert_int_equal(hypercall_install(), 0);
	hypercall_set_accepting(true);
	host_run_child_hook = NULL;
	memset(host_root_busy, 0, sizeof(host_root_busy));
	return 0;
}

static int teardown(void **state)
{
	hypercall_uninstall();
	assert_int_equal(cache_destroy(vcpu_cache), 0);
	virt_ops = NULL;
	return 0;
}

static void not_ready_and_numbers(void **state)
{
	hypercall_set_accepting(false);
	assert_int_equal(ROOT(HC_API_VERSION, 0, 0, 0, 0), -HV_EAGAIN);
	hypercall_set_accepting(true);
	assert_int_equal(ROOT(HC_API_VERSION, 0, 0, 0, 0), HV_API_VERSION);
	assert_int_equal(ROOT(HC_COUNT, 0, 0, 0, 0), -HV_ENOSYS);
	assert_int_equal(ROOT(~0ULL, 0, 0, 0, 0), -HV_ENOSYS);
	assert_int_equal(ROOT(HC_USER_BASE, 0, 0, 0, 0), -HV_ENOSYS);
	assert_int_equal(ROOT(HC_VIRT_STATUS, NR_CPUS, 0, 0, 0), -HV_EINVAL);
	assert_int_equal(ROOT(HC_CHECK_CAP, HV_CAP_VENDOR, 0, 0, 0), 2);
	assert_int_equal(ROOT(HC_CHECK_CAP, 12345, 0, 0, 0), 0);
	/* Uninstalled, even "accepting" answers not ready. */
	hypercall_uninstall();
	hypercall_set_accepting(true);
	assert_int_equal(ROOT(HC_API_VERSION, 0, 0, 0, 0), -HV_EAGAIN);
	assert_int_equal(hypercall_install(), 0);
}

static void child_permissions(void **state)
{
	for (uint64_t nr = 1; nr < HC_COUNT; nr++)
		assert_int_equal(hc(&child_caller, nr, 0, 0, 0, 0), -HV_EPERM);
	assert_int_equal(hc(&child_caller, HC_API_VERSION, 0, 0, 0, 0), HV_API_VERSION);
	/* HC_RUN needs someone to receive the exit: the hypervisor itself cannot. */
	assert_int_equal(hc(NULL, HC_RUN, 1, 0, 0, 0), -HV_EPERM);
}

static void vm_handles(void **state)
{
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0), vcpu;

	assert_true(vm > 0);
	vcpu = ROOT(HC_VCPU_CREATE, vm, RP(0), 0, 0);
	assert_true(vcpu > 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vcpu, 0, 0, 0), -HV_ENOENT);     /* foreign */
	assert_int_equal(ROOT(HC_VCPU_DESTROY, vm, 0, 0, 0), -HV_ENOENT);
	assert_int_equal(ROOT(HC_VM_DESTROY, 0, 0, 0, 0), -HV_ENOENT);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), -HV_EBUSY);        /* has a vCPU */
	assert_int_equal(ROOT(HC_VCPU_DESTROY, vcpu, 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_VCPU_DESTROY, vcpu, 0, 0, 0), -HV_ENOENT);   /* stale */
	assert_int_equal(ROOT(HC_GET_REGS, vcpu, RP(0), 0, 0), -HV_ENOENT);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), -HV_ENOENT);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, RP(0), 4096), -HV_ENOENT);
}

static void vm_limits(void **state)
{
	int64_t vms[VM_MAX], vcpus[VM_MAX_VCPUS];

	for (int i = 0; i < VM_MAX; i++)
		assert_true((vms[i] = ROOT(HC_VM_CREATE, 0, 0, 0, 0)) > 0);
	/* The table is full: ENOSPC as documented (vm_create would also fail
	 * for want of an ASID, which once came out as ENOMEM). */
	assert_int_equal(ROOT(HC_VM_CREATE, 0, 0, 0, 0), -HV_ENOSPC);
	for (int i = 0; i < VM_MAX_VCPUS; i++)
		assert_true((vcpus[i] = ROOT(HC_VCPU_CREATE, vms[0], RP(4096 * i), 0, 0)) > 0);
	assert_int_equal(ROOT(HC_VCPU_CREATE, vms[0], RP(0), 0, 0), -HV_ENOSPC);
	for (int i = 0; i < VM_MAX_VCPUS; i++)
		assert_int_equal(ROOT(HC_VCPU_DESTROY, vcpus[i], 0, 0, 0), 0);
	for (int i = 0; i < VM_MAX; i++)
		assert_int_equal(ROOT(HC_VM_DESTROY, vms[i], 0, 0, 0), 0);
}

static void memory_regions(void **state)
{
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0);

	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x10, RP(0), 4096), -HV_EINVAL);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, RP(8), 4096), -HV_EINVAL);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, RP(0), 100), -HV_EINVAL);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, ~0xfffULL, RP(0), 0x2000), -HV_EINVAL);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 1ULL << 48, RP(0), 0x1000), -HV_EINVAL);
	/* Memory that is not the root's: the hypervisor's own, or past it. */
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, (uint64_t)hv_ram, 4096), -HV_EFAULT);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, RP(ROOT_RAM - 4096), 8192), -HV_EFAULT);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, RP(0), 0x10000), 0);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x8000, RP(0), 0x10000), -HV_EEXIST);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x10000, RP(0), 0x1000), 0);  /* adjacent */
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x20000, 0, 0), -HV_ENOENT);
	for (int i = 2; i < VM_MAX_REGIONS; i++)
		assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x100000 * i, RP(0), 0x1000), 0);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x10000000, RP(0), 0x1000), -HV_ENOSPC);
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, 0, 0), 0);   /* remove */
	assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x10000000, RP(0), 0x1000), 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
}

static void pointers(void **state)
{
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0), vcpu;

	assert_int_equal(ROOT(HC_VCPU_CREATE, vm, (uint64_t)hv_ram, 0, 0), -HV_EFAULT);
	assert_int_equal(ROOT(HC_VCPU_CREATE, vm, RP(8), 0, 0), -HV_EFAULT);          /* unaligned */
	assert_int_equal(ROOT(HC_VCPU_CREATE, vm, RP(ROOT_RAM), 0, 0), -HV_EFAULT);   /* past */
	vcpu = ROOT(HC_VCPU_CREATE, vm, RP(0), 0, 0);
	assert_true(vcpu > 0);
	assert_int_equal(ROOT(HC_GET_REGS, vcpu, (uint64_t)hv_ram, 0, 0), -HV_EFAULT);
	assert_int_equal(ROOT(HC_GET_REGS, vcpu, RP(4096 - 8), 0, 0), -HV_EFAULT);    /* crosses */
	assert_int_equal(ROOT(HC_GET_REGS, vcpu, ~0ULL - 8, 0, 0), -HV_EFAULT);       /* wraps */
	assert_int_equal(ROOT(HC_GET_SREGS, vcpu, RP(4096 - 64), 0, 0), -HV_EFAULT);
	assert_int_equal(ROOT(HC_STATS, (uint64_t)hv_ram, 0, 0, 0), -HV_EFAULT);
	/* Registers round-trip through the backend. */
	struct hv_regs *r = (struct hv_regs *)RP(8192);

	memset(r, 0, sizeof(*r));
	r->rip = 0x1234;
	r->rbx = 77;
	assert_int_equal(ROOT(HC_SET_REGS, vcpu, RP(8192), 0, 0), 0);
	memset(r, 0, sizeof(*r));
	assert_int_equal(ROOT(HC_GET_REGS, vcpu, RP(8192), 0, 0), 0);
	assert_int_equal(r->rip, 0x1234);
	assert_int_equal(r->rbx, 77);
	assert_int_equal(ROOT(HC_VCPU_DESTROY, vcpu, 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
}

/* Register states VM entry would refuse never reach the backend. */
static void sregs_checks(void **state)
{
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0);
	int64_t vcpu = ROOT(HC_VCPU_CREATE, vm, RP(0), 0, 0);
	struct hv_sregs *s = (struct hv_sregs *)RP(8192), good;
	static const struct { uint64_t cr0, cr4, efer; uint16_t cs_attrib; } bad[] = {
		{ 0x80000000, 0, 0, 0xc9b },                    /* PG without PE */
		{ 0x20000011, 0, 0, 0xc9b },                    /* NW without CD */
		{ 1ULL << 32 | 0x11, 0, 0, 0xc9b },             /* CR0 high bits */
		{ 0x80000011, 0, 0x500, 0x29b },                /* long mode without PAE */
		{ 0x80000011, 0x20, 0x100, 0x29b },             /* LME+PG but no LMA */
		{ 0x11, 0x20, 0x400, 0xc9b },                   /* LMA without PG */
		{ 0x11, 0, 0x1000, 0xc9b },                     /* EFER.SVME */
		{ 0x11, 1 << 13, 0, 0xc9b },                    /* CR4.VMXE */
		{ 0x80000011, 0x20, 0x500, 0x69b },             /* CS both L and D */
		{ 0x11, 0, 0, 0x29b },                          /* CS.L outside long mode */
	};

	memset(&good, 0, sizeof(good));
	good.cs.attrib = 0xc9b;
	good.cr0 = 0x11;
	memcpy(s, &good, sizeof(good));
	assert_int_equal(ROOT(HC_SET_SREGS, vcpu, RP(8192), 0, 0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(s, &good, sizeof(good));
		s->cr0 = bad[i].cr0;
		s->cr4 = bad[i].cr4;
		s->efer = bad[i].efer;
		s->cs.attrib = bad[i].cs_attrib;
		assert_int_equal(ROOT(HC_SET_SREGS, vcpu, RP(8192), 0, 0), -HV_EINVAL);
	}
	/* 64-bit long mode is accepted. */
	s->cr0 = 0x80000011;
	s->cr4 = 0x20;
	s->efer = 0x500;
	s->cs.attrib = 0x29b;
	assert_int_equal(ROOT(HC_SET_SREGS, vcpu, RP(8192), 0, 0), 0);
	memset(s, 0, sizeof(*s));
	assert_int_equal(ROOT(HC_GET_SREGS, vcpu, RP(8192), 0, 0), 0);
	assert_int_equal(s->efer, 0x500);
	assert_int_equal(ROOT(HC_VCPU_DESTROY, vcpu, 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
}

static int64_t busy_probe_vcpu;

/* While "running", the vCPU is refused to everyone else. */
static int run_hook(struct vcpu *v)
{
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), -HV_EBUSY);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), -HV_EBUSY);
	assert_int_equal(ROOT(HC_VCPU_DESTROY, busy_probe_vcpu, 0, 0, 0), -HV_EBUSY);
	return 0;
}

static void run_and_cpus(void **state)
{
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0);

	busy_probe_vcpu = ROOT(HC_VCPU_CREATE, vm, RP(0), 0, 0);
	host_run_child_hook = run_hook;
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), 0);
	host_run_child_hook = NULL;
	assert_int_equal(ROOT(HC_RUN, vm, 0, 0, 0), -HV_ENOENT);
	/* Root vCPUs: only online CPUs, not the caller's, not twice. */
	assert_int_equal(ROOT(HC_START_ROOT_VCPU, 200, RP(0), RP(4096), 0), -HV_ENODEV);
	assert_int_equal(ROOT(HC_START_ROOT_VCPU, 0, RP(0), RP(4096), 0), -HV_EBUSY);
	assert_int_equal(ROOT(HC_START_ROOT_VCPU, 1, (uint64_t)hv_ram, RP(4096), 0), -HV_EFAULT);
	assert_int_equal(ROOT(HC_START_ROOT_VCPU, 1, RP(0), (uint64_t)hv_ram + 4096, 0), -HV_EFAULT);
	assert_int_equal(ROOT(HC_START_ROOT_VCPU, 1, RP(0), RP(4096), 0), 0);
	assert_int_equal(ROOT(HC_START_ROOT_VCPU, 1, RP(0), RP(4096), 0), -HV_EBUSY);
	assert_int_equal(ROOT(HC_CPU_OFFLINE, 1, 0, 0, 0), -HV_EBUSY);
	assert_int_equal(ROOT(HC_CPU_OFFLINE, NR_CPUS, 0, 0, 0), -HV_EINVAL);
	assert_int_equal(ROOT(HC_REBOOT, 0, 0, 0, 0), -HV_EINVAL);
	assert_int_equal(ROOT(HC_VCPU_DESTROY, busy_probe_vcpu, 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
}

static struct vcpu *fast_seen;
static int fast_mode;

/* vcpu_run_child_fast's stand-in: the vCPU is everybody else's -HV_EBUSY. */
static int fast_hook(struct vcpu *v)
{
	fast_seen = v;
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), -HV_EBUSY);
	return fast_mode;
}

static bool fast_run(struct vcpu *caller, int64_t vcpu)
{
	caller->regs = (struct hv_regs){ .rax = HC_RUN, .rbx = (uint64_t)vcpu };
	return hypercall_fast(caller, HC_RUN);
}

/* Called while the management lock is held (HC_VCPU_CREATE's setup) or the
 * vCPU is claimed (an ordinary HC_RUN): the fast path gives way, untried. */
static void fast_run_refused(void)
{
	fast_seen = NULL;
	root_caller.fast_claim = NULL;
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	assert_null(fast_seen);
	assert_null(root_caller.fast_claim);
}

static int setup_under_lock(struct vcpu *v)
{
	fast_run_refused();
	return mock_setup(v);
}

static int run_hook_fast(struct vcpu *v)
{
	fast_run_refused();
	return 0;
}

/*
 * HC_RUN's fast path (hypercall_fast_run): the claim as invoke_run makes it, the
 * call counted when done; a vCPU left with an exit stays claimed for the
 * ordinary path of the same call alone, which then runs it; calls stopping
 * or the VM dying in between free it. The per-CPU area is this thread's GS, as in the
 * hypervisor.
 */
static void run_fast_path(void **state)
{
	static struct percpu cpu0;
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0);

	cpu0.self = &cpu0;
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&cpu0), 0);
	busy_probe_vcpu = ROOT(HC_VCPU_CREATE, vm, RP(0), 0, 0);
	host_run_fast_hook = fast_hook;
	/* Done there: result 0, counted as a hypercall, the vCPU free again. */
	fast_mode = 1;
	root_caller.regs.rax = 99;
	assert_true(fast_run(&root_caller, busy_probe_vcpu));
	assert_int_equal(root_caller.regs.rax, 0);
	assert_int_equal(cpu0.hypercalls, 1);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), 0);
	/* Nothing ran: the ordinary path takes the call; the vCPU is free. */
	fast_mode = 0;
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	assert_int_equal(cpu0.hypercalls, 1);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), 0);
	/* An exit left for the ordinary path: claimed until this call's
	 * ordinary HC_RUN runs it (run_hook: busy for everyone meanwhile). */
	fast_mode = 2;
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	assert_true(fast_seen->deferred);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), -HV_EBUSY);
	host_run_child_hook = run_hook;
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), 0);
	host_run_child_hook = NULL;
	assert_false(fast_seen->deferred);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), 0);
	/* Calls stopped in between (a suspend): the claim goes with the
	 * refused call, the exit stays for the vCPU's next run. */
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	assert_ptr_equal(root_caller.fast_claim, fast_seen);
	hypercall_set_accepting(false);
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), -HV_EAGAIN);
	hypercall_set_accepting(true);
	assert_null(root_caller.fast_claim);
	assert_true(fast_seen->deferred);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), 0);
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), 0);
	assert_false(fast_seen->deferred);
	/* The root's next ordinary HC_RUN names another vCPU (not from the
	 * backends, which pass both paths the same registers): that one runs,
	 * the claim goes, the kept exit waits for its own vCPU's next run. */
	int64_t second = ROOT(HC_VCPU_CREATE, vm, RP(4096), 0, 0);

	assert_true(second > 0);
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	assert_ptr_equal(root_caller.fast_claim, fast_seen);
	assert_int_equal(ROOT(HC_RUN, second, 0, 0, 0), 0);
	assert_null(root_caller.fast_claim);
	assert_true(fast_seen->deferred);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), 0);
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), 0);
	assert_false(fast_seen->deferred);
	assert_int_equal(ROOT(HC_VCPU_DESTROY, second, 0, 0, 0), 0);
	/* Its VM died in between (another vCPU's triple fault): the call
	 * fails, the claim and the exit go. */
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	fast_seen->vm->dead = true;
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), -HV_EINVAL);
	assert_false(fast_seen->deferred);
	assert_int_equal(ROOT(HC_GET_REGS, busy_probe_vcpu, RP(8192), 0, 0), 0);
	/* Not tried while the management lock is busy (its holder may wait
	 * for this CPU), nor for a vCPU an ordinary run has claimed. */
	struct vm *fast_vm = fast_seen->vm;

	fast_vm->dead = false;
	mock_ops.vcpu_setup = setup_under_lock;
	int64_t other = ROOT(HC_VCPU_CREATE, vm, RP(4096), 0, 0);
	mock_ops.vcpu_setup = mock_setup;
	assert_true(other > 0);
	host_run_child_hook = run_hook_fast;
	assert_int_equal(ROOT(HC_RUN, busy_probe_vcpu, 0, 0, 0), 0);
	host_run_child_hook = NULL;
	assert_int_equal(ROOT(HC_VCPU_DESTROY, other, 0, 0, 0), 0);
	fast_vm->dead = true;
	/* Not tried for a dead VM, nor for a child's call, nor a bad handle. */
	fast_seen = NULL;
	assert_false(fast_run(&root_caller, busy_probe_vcpu));
	assert_false(fast_run(&child_caller, busy_probe_vcpu));
	assert_false(fast_run(&root_caller, vm));
	assert_null(fast_seen);
	host_run_fast_hook = NULL;
	assert_int_equal(ROOT(HC_VCPU_DESTROY, busy_probe_vcpu, 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
}

/* Everything created and destroyed through hypercalls gives memory back. */
static void no_leaks(void **state)
{
	struct hv_stats *st = (struct hv_stats *)RP(8192);
	struct mem_snapshot before;
	int64_t vm, vcpu;

	mem_snapshot(&before);
	for (int round = 0; round < 3; round++) {
		vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0);
		assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0, RP(0), 0x200000), 0);
		assert_int_equal(ROOT(HC_SET_MEMORY_REGION, vm, 0x40000000, RP(0x200000), 0x1000), 0);
		vcpu = ROOT(HC_VCPU_CREATE, vm, RP(0), 0, 0);
		assert_int_equal(ROOT(HC_STATS, RP(8192), 0, 0, 0), 0);
		assert_int_equal(st->vms, 1);
		assert_int_equal(st->vcpus, 1);
		assert_int_equal(ROOT(HC_VCPU_DESTROY, vcpu, 0, 0, 0), 0);
		assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
	}
	assert_int_equal(mem_compare(&before, "host hypercall test"), 0);
}

/* HC_STATS: the flag that skips the shrink round, unknown flags refused,
 * the same object count either way, no CPU reported stale. */
static void stats_flags(void **state)
{
	struct hv_stats *a = (struct hv_stats *)RP(8192), *b = (struct hv_stats *)RP(8192 + 1024);
	int64_t vm = ROOT(HC_VM_CREATE, 0, 0, 0, 0);

	assert_true(vm > 0);
	assert_int_equal(ROOT(HC_STATS, RP(8192), 2, 0, 0), -HV_EINVAL);
	assert_int_equal(ROOT(HC_STATS, RP(8192), 0, 0, 0), 0);
	assert_int_equal(ROOT(HC_STATS, RP(8192 + 1024), HV_STATS_NO_SHRINK, 0, 0), 0);
	assert_int_equal(a->stale_cpus, 0);
	assert_int_equal(b->stale_cpus, 0);
	assert_int_equal(a->slab_objects, b->slab_objects);
	assert_int_equal(a->vms, 1);
	assert_int_equal(b->vms, 1);
	assert_true(b->free_pages <= a->free_pages);    /* the caches keep theirs */
	assert_int_equal(ROOT(HC_VM_DESTROY, vm, 0, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stats_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(not_ready_and_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(child_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(vm_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(vm_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(memory_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(pointers, setup, teardown),
		cmocka_unit_test_setup_teardown(sregs_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(run_and_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(run_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(no_leaks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
