/*
 * Hypercall dispatch (hv/hypercall.h; numbers and structures in
 * include/uapi/hv/hypercall.h, reference in docs/hypercalls.md). Each call
 * is a decode step that validates every argument without side effects and
 * an invoke step that does the work.
 */
#include "hv/hypercall.h"
#include "hv/cmdline.h"
#include "hv/console.h"
#include "hv/options.h"
#include "hv/cpu_hotplug.h"
#include "hv/cpuid.h"
#include "hv/debugcon.h"
#include "hv/devops.h"
#include "hv/events.h"
#include "hv/exits.h"
#include "hv/irqchip.h"
#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/handle.h"
#include "hv/leakcheck.h"
#include "hv/page_alloc.h"
#include "hv/preempt.h"
#include "hv/printk.h"
#include "hv/reboot.h"
#include "hv/root.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/fpu.h>
#include <x86/guest.h>
#include <x86/tsc.h>

static bool installed, accepting;

static struct handle_slot vm_slots[VM_MAX], vcpu_slots[VCPU_MAX];
static struct handle_table vm_table = HANDLE_TABLE_INIT(1, vm_slots);
static struct handle_table vcpu_table = HANDLE_TABLE_INIT(2, vcpu_slots);

/* What decode found, for invoke. */
struct hc_ctx {
	const uint64_t *arg;            /* RBX, RCX, RDX, RSI */
	struct vcpu *caller;            /* NULL: the hypervisor itself */
	struct vm *vm;
	struct vcpu *vcpu;
	void *ptr;                      /* a validated structure in root memory */
};

/*
 * Calls that create, destroy or change VMs and vCPUs run one at a time
 * under this lock, decode and invoke together, so an object decode found
 * cannot vanish before invoke uses it. HC_RUN takes it only to claim the
 * vCPU; a vCPU being run is then refused by the others (-HV_EBUSY).
 */
static spinlock_t mgmt_lock = SPINLOCK_INIT;

/* Calls run with interrupts off: a CPU waiting here for the lock serves
 * the cross-CPU calls aimed at it, since the holder may be making one to
 * it (a TLB shootdown). */
static void mgmt_lock_acquire(void)
{
	while (!spin_trylock(&mgmt_lock)) {
		smp_call_serve();
		cpu_relax();
	}
}

struct hc_desc {
	const char *name;
	bool child_ok;                  /* child VMs may make this call */
	bool locked;                    /* runs under mgmt_lock */
	int64_t (*decode)(struct hc_ctx *c);
	int64_t (*invoke)(struct hc_ctx *c);
};

/* A structure in the caller's (the root's) memory, not crossing a page. */
static void *root_ptr(uint64_t gpa, size_t size)
{
	if (!root_mem_contains(gpa, size) || (gpa & PAGE_MASK) != ((gpa + size - 1) & PAGE_MASK))
		return NULL;
	return (void *)gpa;
}

/* ---------------------------------------------------------- decode */

static int64_t decode_none(struct hc_ctx *c)
{
	return 0;
}

static int64_t decode_cpu(struct hc_ctx *c)
{
	return c->arg[0] < NR_CPUS ? 0 : -HV_EINVAL;
}

static int64_t decode_vm(struct hc_ctx *c)
{
	c->vm = handle_get(&vm_table, c->arg[0]);
	return c->vm ? 0 : -HV_ENOENT;
}

static int64_t decode_vcpu(struct hc_ctx *c)
{
	c->vcpu = handle_get(&vcpu_table, c->arg[0]);
	if (!c->vcpu)
		return -HV_ENOENT;
	return __atomic_load_n(&c->vcpu->running_on, __ATOMIC_ACQUIRE) ? -HV_EBUSY : 0;
}

static int64_t decode_set_region(struct hc_ctx *c)
{
	const uint64_t *a = c->arg;

	if (decode_vm(c))
		return -HV_ENOENT;
	if (!IS_ALIGNED(a[1] | a[2] | a[3], PAGE_SIZE) || a[1] + a[3] < a[1] ||
	    a[1] + a[3] > (1ULL << 48))
		return -HV_EINVAL;
	if (a[3] && !root_mem_contains(a[2], a[3]))
		return -HV_EFAULT;
	return 0;
}

static int64_t decode_vcpu_create(struct hc_ctx *c)
{
	if (decode_vm(c))
		return -HV_ENOENT;
	if (c->vm->dead)
		return -HV_EINVAL;
	if (!IS_ALIGNED(c->arg[1], PAGE_SIZE) || !root_ptr(c->arg[1], PAGE_SIZE))
		return -HV_EFAULT;
	return 0;
}

static int64_t decode_vcpu_ptr(struct hc_ctx *c, size_t size)
{
	int64_t r = decode_vcpu(c);

	if (r)
		return r;
	c->ptr = root_ptr(c->arg[1], size);
	return c->ptr ? 0 : -HV_EFAULT;
}

static int64_t decode_regs(struct hc_ctx *c)
{
	return decode_vcpu_ptr(c, sizeof(struct hv_regs));
}

static int64_t decode_sregs(struct hc_ctx *c)
{
	return decode_vcpu_ptr(c, sizeof(struct hv_sregs));
}

/* Register states VM entry would refuse (SDM 26.3.1, APM 15.5.1). */
static int64_t check_sregs(const struct hv_sregs *s)
{
	const uint64_t cr0_pe = 1, cr0_nw = 1ULL << 29, cr0_cd = 1ULL << 30, cr0_pg = 1ULL << 31;
	const uint64_t efer_lme = 1 << 8, efer_lma = 1 << 10, cr4_pae = 1 << 5;

	if (s->cr0 >> 32 || (s->cr0 & cr0_nw && !(s->cr0 & cr0_cd)))
		return -HV_EINVAL;
	if (s->cr0 & cr0_pg && !(s->cr0 & cr0_pe))
		return -HV_EINVAL;
	if (s->efer & ~(uint64_t)(1 | efer_lme | efer_lma | (1 << 11)))
		return -HV_EINVAL;              /* SCE, LME, LMA, NXE only */
	if (s->cr4 & ~guest_cr4_allowed())
		return -HV_EINVAL;              /* what the CPU has and a guest may own */
	if ((s->cr0 & cr0_pg) && (s->efer & efer_lme) &&
	    (!(s->cr4 & cr4_pae) || !(s->efer & efer_lma)))
		return -HV_EINVAL;
	if (!!(s->efer & efer_lma) != (!!(s->cr0 & cr0_pg) && !!(s->efer & efer_lme)))
		return -HV_EINVAL;
	/* A 64-bit code segment cannot also be 32-bit (L and D both set). */
	if ((s->cs.attrib & (1 << 9)) && (s->cs.attrib & (1 << 10)))
		return -HV_EINVAL;
	if ((s->cs.attrib & (1 << 9)) && !(s->efer & efer_lma))
		return -HV_EINVAL;
	if (s->cr3 >> 52)
		return -HV_EINVAL;
	return 0;
}

static int64_t decode_set_sregs(struct hc_ctx *c)
{
	int64_t r = decode_sregs(c);

	return r ? r : check_sregs(c->ptr);
}

static int64_t decode_run(struct hc_ctx *c)
{
	if (!c->caller || c->caller->vm != &root_vm)
		return -HV_EPERM;       /* someone must be there to get the exit */
	if (c->arg[2] & ~(uint64_t)HV_RUN_NO_BLOCK)
		return -HV_EINVAL;
	return 0;
}

static bool vm_running(struct vm *vm)
{
	for (uint32_t i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = __atomic_load_n(&vm->vcpus[i], __ATOMIC_ACQUIRE);

		if (v && (uintptr_t)v > 1 && __atomic_load_n(&v->running_on, __ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

static int64_t decode_vm_ptr(struct hc_ctx *c, size_t size)
{
	if (decode_vm(c))
		return -HV_ENOENT;
	c->ptr = root_ptr(c->arg[1], size);
	return c->ptr ? 0 : -HV_EFAULT;
}

/* The checked and masked table, kept for invoke (the lock serialises). */
static struct cpuid_table cpuid_scratch;

static int64_t decode_set_cpuid(struct hc_ctx *c)
{
	int64_t r = decode_vm_ptr(c, sizeof(struct hv_cpuid));

	if (r)
		return r;
	if (vm_running(c->vm))
		return -HV_EBUSY;
	return cpuid_table_set(&cpuid_scratch, c->ptr, &default_cpuid) ? -HV_EINVAL : 0;
}

static int64_t decode_get_cpuid(struct hc_ctx *c)
{
	return decode_vm_ptr(c, sizeof(struct hv_cpuid));
}

static int64_t decode_xsave(struct hc_ctx *c)
{
	return decode_vcpu_ptr(c, sizeof(struct hv_xsave));
}

static uint64_t xcr0_allowed(const struct vm *vm)
{
	return cpuid_xcr0_mask(vm->cpuid) & fpu_guest_xcr0_mask();
}

static int64_t decode_set_xsave(struct hc_ctx *c)
{
	int64_t r = decode_xsave(c);

	if (r)
		return r;
	return fpu_check(c->ptr, xcr0_allowed(c->vcpu->vm)) ? -HV_EINVAL : 0;
}

static int64_t decode_debugregs(struct hc_ctx *c)
{
	return decode_vcpu_ptr(c, sizeof(struct hv_debugregs));
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* What MOV DR would refuse (SDM Vol. 3B, 17.2): non-canonical addresses,
 * bits 63:32 of DR6/DR7. */
static bool debugregs_ok(const struct hv_debugregs *d)
{
	for (int i = 0; i < 4; i++)
		if (!canonical(d->db[i]))
			return false;
	return !(d->dr6 >> 32) && !(d->dr7 >> 32);
}

static int64_t decode_set_debugregs(struct hc_ctx *c)
{
	int64_t r = decode_debugregs(c);

	return r ? r : debugregs_ok(c->ptr) ? 0 : -HV_EINVAL;
}

static int64_t decode_vm_stats(struct hc_ctx *c)
{
	return decode_vm_ptr(c, sizeof(struct hv_vm_stats));
}

static int64_t decode_any_vcpu(struct hc_ctx *c)
{
	c->vcpu = handle_get(&vcpu_table, c->arg[0]);
	return c->vcpu ? 0 : -HV_ENOENT;
}

static int64_t decode_irq_line(struct hc_ctx *c)
{
	if (decode_vm(c))
		return -HV_ENOENT;
	if (!c->vm->irqchip)
		return -HV_ENODEV;
	return c->arg[1] < EVENTS_IRQ_LINES && c->arg[2] <= 1 ? 0 : -HV_EINVAL;
}

/* Vectors 0-31 are exceptions, not interrupts (SDM Vol. 3A, 6.2). */
static int64_t decode_interrupt(struct hc_ctx *c)
{
	int64_t r = decode_any_vcpu(c);

	return r ? r : c->arg[1] >= 32 && c->arg[1] <= 255 ? 0 : -HV_EINVAL;
}

static int64_t decode_set_mp_state(struct hc_ctx *c)
{
	int64_t r = decode_vcpu(c);

	if (r)
		return r;
	switch (c->arg[1]) {
	case HV_MP_RUNNABLE: case HV_MP_UNINITIALIZED: case HV_MP_INIT_RECEIVED:
	case HV_MP_SIPI_RECEIVED:
		return 0;
	case HV_MP_HALTED:                      /* only a local APIC wakes it */
		return c->vcpu->lapic ? 0 : -HV_EINVAL;
	default:
		return -HV_EINVAL;
	}
}

#define CONSOLE_MAX 4096

/* A buffer in root memory (it may cross pages: root memory is identity-mapped). */
static int64_t decode_console(struct hc_ctx *c)
{
	const uint64_t *a = c->arg;

	if (!c->caller || c->caller->vm != &root_vm)
		return -HV_EPERM;
	if (a[1] > CONSOLE_MAX)
		return -HV_EINVAL;
	if (a[1] && !root_mem_contains(a[0], a[1]))
		return -HV_EFAULT;
	c->ptr = (void *)a[0];
	return 0;
}

/* RBX buffer (struct hv_log_read, then the text), RCX its size, RDX the
 * position; root only. A position past the log's end is refused. */
static int64_t decode_log_read(struct hc_ctx *c)
{
	const uint64_t *a = c->arg;

	if (!c->caller || c->caller->vm != &root_vm)
		return -HV_EPERM;
	if (a[1] < sizeof(struct hv_log_read) || a[1] > CONSOLE_MAX || a[2] > console_log_head())
		return -HV_EINVAL;
	if (!root_mem_contains(a[0], a[1]))
		return -HV_EFAULT;
	c->ptr = (void *)a[0];
	return 0;
}

static int64_t decode_start_root_vcpu(struct hc_ctx *c)
{
	const uint64_t *a = c->arg;

	if (a[0] >= NR_CPUS || !cpumask_test_atomic(&cpu_online_mask, (unsigned int)a[0]))
		return -HV_ENODEV;
	if (!c->caller || a[0] == smp_processor_id() || root_cpu_busy((unsigned int)a[0]))
		return -HV_EBUSY;
	if (!root_mem_contains(a[1], 1) || !root_mem_contains(a[2] - 8, 8))
		return -HV_EFAULT;
	return 0;
}

static int64_t decode_cpu_hotplug(struct hc_ctx *c)
{
	if (c->arg[0] >= NR_CPUS)
		return -HV_EINVAL;
	if (root_cpu_busy((unsigned int)c->arg[0]))
		return -HV_EBUSY;
	return 0;
}

static int64_t decode_stats(struct hc_ctx *c)
{
	if (c->arg[1] & ~(uint64_t)HV_STATS_NO_SHRINK)
		return -HV_EINVAL;
	c->ptr = root_ptr(c->arg[0], sizeof(struct hv_stats));
	return c->ptr ? 0 : -HV_EFAULT;
}

static int64_t decode_reboot(struct hc_ctx *c)
{
	return c->arg[0] == HV_REBOOT_RESET || c->arg[0] == HV_REBOOT_POWEROFF ?
	       0 : -HV_EINVAL;
}

/* ---------------------------------------------------------- invoke */

static int64_t invoke_api_version(struct hc_ctx *c)
{
	return HV_API_VERSION;
}

static int64_t invoke_virt_status(struct hc_ctx *c)
{
	const struct virt_cpu *vc = virt_cpu_of((unsigned int)c->arg[0]);
	int64_t state;

	if (!vc)                        /* a CPU that never started */
		return HV_VIRT_OFF;
	state = vc->state == VIRT_CPU_ON ? HV_VIRT_ON :
		vc->state == VIRT_CPU_FAILED ? HV_VIRT_FAILED : HV_VIRT_OFF;
	return state | (int64_t)vc->chk.reason << 8;
}

static int64_t invoke_check_cap(struct hc_ctx *c)
{
	switch (c->arg[0]) {
	case HV_CAP_MAX_VMS: return VM_MAX;
	case HV_CAP_MAX_VCPUS: return VM_MAX_VCPUS;
	case HV_CAP_NR_CPUS: return smp_num_online();
	case HV_CAP_VENDOR: return virt_ops->vendor;
	case HV_CAP_CPUID: return HV_CPUID_MAX_ENTRIES;
	case HV_CAP_XSAVE: return fpu_area_bytes(fpu_guest_xcr0_mask());
	case HV_CAP_DEBUGREGS: return 1;
	case HV_CAP_VM_STATS: return HV_STAT_COUNT;
	case HV_CAP_CONSOLE: return CONSOLE_MAX;
	case HV_CAP_LOG: return (int64_t)console_log_size();
	case HV_CAP_RUN_BUDGET: return 1;
	case HV_CAP_IRQCHIP: return devops_find(0x11) ? VIOAPIC_PINS : 0;
	case HV_CAP_MP_STATE: return 1;
	case HV_CAP_MMIO_EMULATION: return 1;
	case HV_CAP_MODULES: return HV_ROOT_MAX_MODULES;
	default: return 0;
	}
}

static int64_t invoke_vm_create(struct hc_ctx *c)
{
	struct vm *vm;
	int64_t h;

	/* A full table is ENOSPC, not the ENOMEM of a failed vm_create (its
	 * ASIDs run out at the same count). The lock keeps `used` still. */
	if (vm_table.used >= VM_MAX)
		return -HV_ENOSPC;
	vm = vm_create(false);
	if (!vm)
		return -HV_ENOMEM;
	h = handle_alloc(&vm_table, vm);
	if (h < 0) {
		vm_destroy(vm);
		return -HV_ENOSPC;
	}
	return h;
}

static int64_t invoke_vm_destroy(struct hc_ctx *c)
{
	int64_t r;

	handle_lock(&vm_table);
	struct vm *vm = handle_get_locked(&vm_table, c->arg[0]);

	if (!vm)
		r = -HV_ENOENT;
	else if (__atomic_load_n(&vm->nr_vcpus, __ATOMIC_ACQUIRE))
		r = -HV_EBUSY;
	else
		r = 0;
	handle_unlock(&vm_table);
	if (r)
		return r;
	handle_free(&vm_table, c->arg[0]);
	return vm_destroy(vm);
}

static int64_t invoke_set_region(struct hc_ctx *c)
{
	int r = vm_set_region(c->vm, c->arg[1], c->arg[2], c->arg[3]);

	return r == -ETIMEDOUT ? -HV_ETIMEDOUT : r;     /* the others are HV_E* already */
}

static int64_t invoke_vcpu_create(struct hc_ctx *c)
{
	struct vcpu *v = vcpu_create(c->vm, c->arg[1]);
	int64_t h;

	if (IS_ERR(v))
		return PTR_ERR(v);
	h = handle_alloc(&vcpu_table, v);
	if (h < 0) {
		vcpu_destroy(v);
		return -HV_ENOSPC;
	}
	return h;
}

static int64_t invoke_vcpu_destroy(struct hc_ctx *c)
{
	struct vcpu *v;

	handle_lock(&vcpu_table);
	v = handle_get_locked(&vcpu_table, c->arg[0]);
	if (!v || __atomic_load_n(&v->running_on, __ATOMIC_ACQUIRE)) {
		handle_unlock(&vcpu_table);
		return v ? -HV_EBUSY : -HV_ENOENT;
	}
	/* Freed under the lock: a concurrent RUN cannot pick it up any more. */
	v->running_on = -1;
	handle_unlock(&vcpu_table);
	handle_free(&vcpu_table, c->arg[0]);
	vcpu_destroy(v);
	return 0;
}

static int64_t invoke_get_regs(struct hc_ctx *c)
{
	virt_ops->get_regs(c->vcpu, c->ptr);
	return 0;
}

static int64_t invoke_set_regs(struct hc_ctx *c)
{
	struct hv_regs r;

	memcpy(&r, c->ptr, sizeof(r));
	virt_ops->set_regs(c->vcpu, &r);
	c->vcpu->pending = PENDING_NONE;
	return 0;
}

static int64_t invoke_get_sregs(struct hc_ctx *c)
{
	virt_ops->get_sregs(c->vcpu, c->ptr);
	return 0;
}

static int64_t invoke_set_sregs(struct hc_ctx *c)
{
	struct hv_sregs s;

	memcpy(&s, c->ptr, sizeof(s));
	if (check_sregs(&s))            /* the root may have changed it since decode */
		return -HV_EINVAL;
	virt_ops->set_sregs(c->vcpu, &s);
	return 0;
}

/* HC_RUN's budget (RCX, microseconds; 0: none) in TSC cycles. */
static inline uint64_t budget_tsc(uint64_t us)
{
	return us ? us * tsc_khz() / 1000 : 0;
}

/* A claim HC_RUN's fast path (hypercall_fast_run) left for its call's
 * ordinary path that this call will not use: the claim goes, the kept exit
 * stays for the vCPU's next run, wherever that is. */
static void drop_fast_claim(struct vcpu *caller)
{
	struct vcpu *v = caller ? caller->fast_claim : NULL;

	if (v) {
		caller->fast_claim = NULL;
		__atomic_store_n(&v->running_on, 0, __ATOMIC_RELEASE);
	}
}

static int64_t invoke_run(struct hc_ctx *c)
{
	int expected = 0, r;
	struct vcpu *v, *held = c->caller ? c->caller->fast_claim : NULL;

	mgmt_lock_acquire();
	v = handle_get(&vcpu_table, c->arg[0]);
	/* Claimed already for this very call by its fast path
	 * (hypercall_fast_run), with an exit to handle first; any other claim
	 * means busy. */
	if (held && held != v)
		drop_fast_claim(c->caller);
	r = !v ? -HV_ENOENT : v->vm->dead ? -HV_EINVAL : 0;
	if (!r && v != held &&
	    !__atomic_compare_exchange_n(&v->running_on, &expected, (int)smp_processor_id() + 1,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		r = -HV_EBUSY;
	if (held && v == held) {
		c->caller->fast_claim = NULL;
		if (r) {                /* its VM died meanwhile (another vCPU's triple fault) */
			v->deferred = false;
			__atomic_store_n(&v->running_on, 0, __ATOMIC_RELEASE);
		}
	}
	spin_unlock(&mgmt_lock);
	if (r)
		return r;
	r = vcpu_run_child(v, c->caller, budget_tsc(c->arg[1]), (uint32_t)c->arg[2]);
	__atomic_store_n(&v->running_on, 0, __ATOMIC_RELEASE);
	return r;
}

static int64_t invoke_start_root_vcpu(struct hc_ctx *c)
{
	const uint64_t *a = c->arg;

	return root_start_vcpu((unsigned int)a[0], c->caller, a[1], a[2], a[3]);
}

static int64_t invoke_cpu_offline(struct hc_ctx *c)
{
	return cpu_offline((unsigned int)c->arg[0]);
}

static int64_t invoke_cpu_online(struct hc_ctx *c)
{
	return cpu_online((unsigned int)c->arg[0]);
}

static int64_t invoke_stats(struct hc_ctx *c)
{
	struct mem_snapshot snapshot, *snap = &snapshot;
	struct hv_stats st = { 0 };
	struct page_stats ps;

	/* A CPU that did not answer keeps its cached objects: they count as
	 * in use and the caller is told how many CPUs that was. */
	if (c->arg[1] & HV_STATS_NO_SHRINK)
		mem_count(snap);
	else
		st.stale_cpus = mem_snapshot(snap);
	page_get_stats(&ps);
	st.free_pages = ps.free_pages;
	st.total_pages = ps.total_pages;
	st.slab_objects = snap->slab_objects;
	st.vms = vm_table.used;
	st.vcpus = vcpu_table.used;
	exit_totals(&st.exits, &st.hypercalls);
	memcpy(c->ptr, &st, sizeof(st));
	return 0;
}

static int64_t invoke_set_cpuid(struct hc_ctx *c)
{
	struct cpuid_table *t = (struct cpuid_table *)c->vm->cpuid;

	if (t == &default_cpuid) {
		t = page_alloc(0);
		if (!t)
			return -HV_ENOMEM;
	}
	*t = cpuid_scratch;
	c->vm->cpuid = t;
	cpuid_table_get(t, c->ptr);
	return 0;
}

static int64_t invoke_get_cpuid(struct hc_ctx *c)
{
	cpuid_table_get(c->vm->cpuid, c->ptr);
	return 0;
}

static int64_t invoke_get_xsave(struct hc_ctx *c)
{
	fpu_get(c->vcpu->fpu, c->ptr);
	return 0;
}

static int64_t invoke_set_xsave(struct hc_ctx *c)
{
	static struct hv_xsave x;       /* a copy: the root may change its page */

	memcpy(&x, c->ptr, sizeof(x));
	if (fpu_check(&x, xcr0_allowed(c->vcpu->vm)))
		return -HV_EINVAL;
	fpu_set(c->vcpu->fpu, &x);
	return 0;
}

static int64_t invoke_get_debugregs(struct hc_ctx *c)
{
	struct hv_debugregs *d = c->ptr;

	memset(d, 0, sizeof(*d));
	memcpy(d->db, c->vcpu->db, sizeof(d->db));
	virt_ops->get_dr67(c->vcpu, &d->dr6, &d->dr7);
	return 0;
}

static int64_t invoke_set_debugregs(struct hc_ctx *c)
{
	struct hv_debugregs d;

	memcpy(&d, c->ptr, sizeof(d));
	if (!debugregs_ok(&d))          /* the root may have changed it since */
		return -HV_EINVAL;
	memcpy(c->vcpu->db, d.db, sizeof(d.db));
	/* Reserved bits as the CPU keeps them (SDM Vol. 3B, 17.2.3, 17.2.4). */
	virt_ops->set_dr67(c->vcpu, (d.dr6 & 0x1e00f) | 0xfffe0ff0, (d.dr7 & ~0xd800ULL) | 0x400);
	return 0;
}

static int64_t invoke_vm_stats(struct hc_ctx *c)
{
	struct hv_vm_stats *st = c->ptr;

	memset(st, 0, sizeof(*st));
	st->exits = c->vm->exits;
	memcpy(st->kind, c->vm->stat, sizeof(st->kind));
	return 0;
}

static int64_t invoke_console_write(struct hc_ctx *c)
{
	console_write_root(c->ptr, c->arg[1]);
	return (int64_t)c->arg[1];
}

static int64_t invoke_console_read(struct hc_ctx *c)
{
	return (int64_t)console_root_read(c->ptr, c->arg[1]);
}

static int64_t invoke_console_input(struct hc_ctx *c)
{
	const char *p = c->ptr;

	for (uint64_t i = 0; i < c->arg[1]; i++)
		debugcon_input((unsigned char)p[i]);
	return (int64_t)c->arg[1];
}

static int64_t invoke_log_read(struct hc_ctx *c)
{
	struct hv_log_read h = { 0 };
	size_t n = console_log_read(c->arg[2], (char *)c->ptr + sizeof(h),
				    c->arg[1] - sizeof(h), &h.next_position, &h.dropped);

	h.len = (uint32_t)n;
	memcpy(c->ptr, &h, sizeof(h));
	return (int64_t)n;
}

static int64_t invoke_create_irqchip(struct hc_ctx *c)
{
	int r = irqchip_create(c->vm);

	return r == -EBUSY ? -HV_EBUSY : r == -EEXIST ? -HV_EEXIST : r == -ENODEV ? -HV_ENODEV :
	       r ? -HV_ENOMEM : 0;
}

static int64_t invoke_irq_line(struct hc_ctx *c)
{
	int pin = events_irq_pin((unsigned int)c->arg[1]);

	if (pin < 0)
		return pin == -EAGAIN ? -HV_EAGAIN : -HV_EINVAL;
	return irqchip_set_line(c->vm, (unsigned int)pin, c->arg[2]) ? -HV_EINVAL : 0;
}

static int64_t invoke_interrupt(struct hc_ctx *c)
{
	irqchip_interrupt(c->vcpu, (uint8_t)c->arg[1]);
	return 0;
}

static int64_t invoke_nmi(struct hc_ctx *c)
{
	vcpu_request(c->vcpu, VCPU_REQ_NMI);
	vcpu_kick(c->vcpu);
	return 0;
}

static int64_t invoke_get_mp_state(struct hc_ctx *c)
{
	return __atomic_load_n(&c->vcpu->mp_state, __ATOMIC_ACQUIRE);
}

/* UNINITIALIZED waits for INIT, INIT_RECEIVED for a SIPI: here both wait
 * for the SIPI that an INIT-SIPI-SIPI sequence brings. SIPI_RECEIVED
 * starts the vCPU where its registers already are. */
static int64_t invoke_set_mp_state(struct hc_ctx *c)
{
	uint32_t s = (uint32_t)c->arg[1];

	c->vcpu->mp_state = s == HV_MP_UNINITIALIZED ? HV_MP_INIT_RECEIVED :
			    s == HV_MP_SIPI_RECEIVED ? HV_MP_RUNNABLE : s;
	return 0;
}

/* Like a signal to a KVM vCPU thread: the run ends with HV_EXIT_KICKED
 * now, or at the next HC_RUN if the vCPU is not running. */
static int64_t invoke_kick(struct hc_ctx *c)
{
	vcpu_request(c->vcpu, VCPU_REQ_KICK);
	vcpu_kick(c->vcpu);
	return 0;
}

static int64_t invoke_reboot(struct hc_ctx *c)
{
	hv_reboot(c->arg[0] == HV_REBOOT_POWEROFF ? REBOOT_POWEROFF : REBOOT_RESET);
}

static const struct hc_desc hypercalls[HC_COUNT] = {
	[HC_API_VERSION] = { "api_version", true, false, decode_none, invoke_api_version },
	[HC_VIRT_STATUS] = { "virt_status", false, false, decode_cpu, invoke_virt_status },
	[HC_CHECK_CAP] = { "check_cap", false, false, decode_none, invoke_check_cap },
	[HC_VM_CREATE] = { "vm_create", false, true, decode_none, invoke_vm_create },
	[HC_VM_DESTROY] = { "vm_destroy", false, true, decode_vm, invoke_vm_destroy },
	[HC_SET_MEMORY_REGION] = { "set_memory_region", false, true, decode_set_region, invoke_set_region },
	[HC_VCPU_CREATE] = { "vcpu_create", false, true, decode_vcpu_create, invoke_vcpu_create },
	[HC_VCPU_DESTROY] = { "vcpu_destroy", false, true, decode_vcpu, invoke_vcpu_destroy },
	[HC_GET_REGS] = { "get_regs", false, true, decode_regs, invoke_get_regs },
	[HC_SET_REGS] = { "set_regs", false, true, decode_regs, invoke_set_regs },
	[HC_GET_SREGS] = { "get_sregs", false, true, decode_sregs, invoke_get_sregs },
	[HC_SET_SREGS] = { "set_sregs", false, true, decode_set_sregs, invoke_set_sregs },
	[HC_RUN] = { "run", false, false, decode_run, invoke_run },
	/* Under the lock: a CPU cannot go offline between the check that it
	 * is online and the hand-over of a root vCPU to it. */
	[HC_START_ROOT_VCPU] = { "start_root_vcpu", false, true, decode_start_root_vcpu,
				 invoke_start_root_vcpu },
	[HC_CPU_OFFLINE] = { "cpu_offline", false, true, decode_cpu_hotplug, invoke_cpu_offline },
	[HC_CPU_ONLINE] = { "cpu_online", false, true, decode_cpu_hotplug, invoke_cpu_online },
	[HC_STATS] = { "stats", false, false, decode_stats, invoke_stats },
	[HC_REBOOT] = { "reboot", false, false, decode_reboot, invoke_reboot },
	[HC_SET_CPUID] = { "set_cpuid", false, true, decode_set_cpuid, invoke_set_cpuid },
	[HC_GET_CPUID] = { "get_cpuid", false, true, decode_get_cpuid, invoke_get_cpuid },
	[HC_GET_XSAVE] = { "get_xsave", false, true, decode_xsave, invoke_get_xsave },
	[HC_SET_XSAVE] = { "set_xsave", false, true, decode_set_xsave, invoke_set_xsave },
	[HC_GET_DEBUGREGS] = { "get_debugregs", false, true, decode_debugregs, invoke_get_debugregs },
	[HC_SET_DEBUGREGS] = { "set_debugregs", false, true, decode_set_debugregs,
			       invoke_set_debugregs },
	[HC_CREATE_IRQCHIP] = { "create_irqchip", false, true, decode_vm, invoke_create_irqchip },
	[HC_IRQ_LINE] = { "irq_line", false, true, decode_irq_line, invoke_irq_line },
	[HC_INTERRUPT] = { "interrupt", false, true, decode_interrupt, invoke_interrupt },
	[HC_NMI] = { "nmi", false, true, decode_any_vcpu, invoke_nmi },
	[HC_GET_MP_STATE] = { "get_mp_state", false, true, decode_any_vcpu, invoke_get_mp_state },
	[HC_SET_MP_STATE] = { "set_mp_state", false, true, decode_set_mp_state,
			      invoke_set_mp_state },
	[HC_KICK] = { "kick", false, true, decode_any_vcpu, invoke_kick },
	[HC_VM_STATS] = { "vm_stats", false, true, decode_vm_stats, invoke_vm_stats },
	[HC_CONSOLE_WRITE] = { "console_write", false, false, decode_console, invoke_console_write },
	[HC_CONSOLE_READ] = { "console_read", false, false, decode_console, invoke_console_read },
	[HC_CONSOLE_INPUT] = { "console_input", false, false, decode_console, invoke_console_input },
	[HC_LOG_READ] = { "log_read", false, false, decode_log_read, invoke_log_read },
};

/*
 * The boundary of the ABI: every error a call returns is one of the HV_E*
 * of include/uapi/hv/hypercall.h (docs/hypercalls.md lists each call's).
 * The internal codes share Linux's numbers, so the documented ones pass
 * unchanged; any other is a hypervisor bug, logged and reported as EIO.
 */
static int64_t hv_error(const char *call, int64_t r)
{
	switch (-r) {
	case HV_EPERM: case HV_ENOENT: case HV_EIO: case HV_EAGAIN: case HV_ENOMEM:
	case HV_EFAULT: case HV_EBUSY: case HV_EEXIST: case HV_ENODEV: case HV_EINVAL:
	case HV_ENOSPC: case HV_ENOSYS: case HV_EALREADY: case HV_ETIMEDOUT:
		return r;
	default:
		pr_err("hypercall %s: internal error %ld (%s) reported as EIO\n", call, (long)r,
		       r >= -MAX_ERRNO ? errno_name((int)r) : "?");
		return -HV_EIO;
	}
}

int hypercall_install(void)
{
	if (installed)
		return ERR(-EBUSY);
	installed = true;
	return 0;
}

static bool fast_calls = true;
bool hypercall_fast_on;

void hypercall_uninstall(void)
{
	accepting = false;
	__atomic_store_n(&hypercall_fast_on, false, __ATOMIC_RELEASE);
	installed = false;
}

void hypercall_set_accepting(bool on)
{
	__atomic_store_n(&accepting, on && installed, __ATOMIC_RELEASE);
	__atomic_store_n(&hypercall_fast_on, on && installed && fast_calls, __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) int64_t call(const struct hc_desc *d,
							   struct hc_ctx *c)
{
	int64_t r = d->decode(c);

	if (!r)
		r = d->invoke(c);
	if (d->locked)
		spin_unlock(&mgmt_lock);
	return r < 0 ? hv_error(d->name, r) : r;
}

int64_t hypercall_dispatch(const struct hypercall_regs *regs)
{
	struct hc_ctx c = { .arg = regs->arg, .caller = regs->caller };
	const struct hc_desc *d;

	if (!__atomic_load_n(&accepting, __ATOMIC_ACQUIRE)) {
		drop_fast_claim(regs->caller);  /* calls stopped after a fast run (suspend) */
		return -HV_EAGAIN;
	}
	if (regs->nr >= HC_COUNT)
		return -HV_ENOSYS;
	d = &hypercalls[regs->nr];
	if (regs->caller && !regs->caller->vm->is_root && !d->child_ok)
		return -HV_EPERM;
	if (!d->invoke)
		return -HV_ENOSYS;
	if (d->locked)
		mgmt_lock_acquire();
	return call(d, &c);
}

/*
 * The fast path (KVM's fastpath exits, Hyper-V's fast hypercalls): the
 * backend calls this right after a root vCPU's VMCALL/VMMCALL exit, with
 * interrupts (and on SVM the GIF) still off and the guest's XCR0, TSC_AUX
 * and debug registers still loaded, and re-enters the guest at once when
 * it returns true, skipping the run loop and the per-entry set-up (nothing
 * that set-up reads can change without an interrupt, and an interrupt
 * that arrives meanwhile ends the next entry at once). Only the calls of
 * HC_FAST_CALLS come here: register arguments, no waiting for another
 * CPU, no FPU, bounded work. The management lock is only tried: its holder may be
 * waiting for this CPU (a TLB shoot-down), so a busy lock sends the call
 * down the ordinary path, which serves cross-CPU calls while it waits.
 * Counted as the ordinary path counts (exits, HV_STAT_HYPERCALL).
 */
BUILD_BUG_ON(HC_COUNT > 64);

static int parse_fast_calls(const char *value, void *arg)
{
	return cmdline_parse_bool(value, &fast_calls);
}
CMDLINE_OPTION(hc_fast, "hc_fast", parse_fast_calls, NULL,
	       "handle the fast hypercalls right after the exit (default on; off: the ordinary path)");

/*
 * HC_RUN on the fast path: the vCPU claimed as invoke_run claims it (the
 * lock only tried), run by vcpu_run_child_fast. One it leaves an exit in
 * stays claimed (root->fast_claim): the ordinary path, which this root's
 * call takes next, handles that exit first (invoke_run, vcpu_run_child),
 * and no other call can touch the vCPU in between, as none could while the
 * ordinary path ran it. Should calls stop meanwhile (a suspend), the
 * dispatcher drops the claim and the exit waits for the vCPU's next run.
 */
bool hypercall_fast_run(struct vcpu *root)
{
	const uint64_t *a = &root->regs.rbx;    /* RBX vcpu, RCX budget (us), RDX flags */
	int expected = 0;
	struct vcpu *v;
	bool done;

	if (!spin_trylock(&mgmt_lock))
		return false;
	v = handle_get_locked(&vcpu_table, a[0]);       /* the lock keeps out alloc and free */
	if (!v || v->vm->dead ||
	    !__atomic_compare_exchange_n(&v->running_on, &expected, (int)this_cpu_id() + 1,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		spin_unlock(&mgmt_lock);
		return false;
	}
	spin_unlock(&mgmt_lock);
	done = vcpu_run_child_fast(v, root, budget_tsc(a[1]), (uint32_t)a[2]);
	if (!done && v->deferred) {
		root->fast_claim = v;   /* for invoke_run, or dropped if it never comes */
		return false;
	}
	__atomic_store_n(&v->running_on, 0, __ATOMIC_RELEASE);
	if (!done)
		return false;
	root->regs.rax = 0;
	exit_count_hypercall(root);
	return true;
}

bool hypercall_fast_call(struct vcpu *v)
{
	const struct hc_desc *d = &hypercalls[v->regs.rax];     /* in HC_FAST_CALLS */
	struct hc_ctx c;

	if (d->locked && !spin_trylock(&mgmt_lock))
		return false;
	c.arg = &v->regs.rbx;           /* RBX, RCX, RDX, RSI: in order */
	c.caller = v;
	v->regs.rax = (uint64_t)call(d, &c);
	exit_count_hypercall(v);
	return true;
}

BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rsi) - __builtin_offsetof(struct hv_regs, rbx) !=
	     3 * sizeof(uint64_t));
