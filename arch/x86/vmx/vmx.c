/*
 * Intel VMX backend (SDM Vol. 3C, ch. 24-25): the capability MSRs in one
 * configuration, VMXON/VMXOFF per CPU, and the per-CPU compatibility check.
 */
#include <x86/cpu.h>
#include <x86/extable.h>
#include <x86/percpu.h>
#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt.h"
#include "vmx.h"

#define MSR_FEATURE_CONTROL     0x3a
#define FC_LOCKED               (1ULL << 0)
#define FC_VMX_OUTSIDE_SMX      (1ULL << 2)

static const struct { uint32_t msr; const char *name; } cap_msrs[CAP_COUNT] = {
	[CAP_BASIC] = { 0x480, "IA32_VMX_BASIC" },
	[CAP_PIN] = { 0x481, "IA32_VMX_PINBASED_CTLS" },
	[CAP_PROC] = { 0x482, "IA32_VMX_PROCBASED_CTLS" },
	[CAP_EXIT] = { 0x483, "IA32_VMX_EXIT_CTLS" },
	[CAP_ENTRY] = { 0x484, "IA32_VMX_ENTRY_CTLS" },
	[CAP_MISC] = { 0x485, "IA32_VMX_MISC" },
	[CAP_CR0_FIXED0] = { 0x486, "IA32_VMX_CR0_FIXED0" },
	[CAP_CR0_FIXED1] = { 0x487, "IA32_VMX_CR0_FIXED1" },
	[CAP_CR4_FIXED0] = { 0x488, "IA32_VMX_CR4_FIXED0" },
	[CAP_CR4_FIXED1] = { 0x489, "IA32_VMX_CR4_FIXED1" },
	[CAP_PROC2] = { 0x48b, "IA32_VMX_PROCBASED_CTLS2" },
	[CAP_EPT_VPID] = { 0x48c, "IA32_VMX_EPT_VPID_CAP" },
	[CAP_TRUE_PIN] = { 0x48d, "IA32_VMX_TRUE_PINBASED_CTLS" },
	[CAP_TRUE_PROC] = { 0x48e, "IA32_VMX_TRUE_PROCBASED_CTLS" },
	[CAP_TRUE_EXIT] = { 0x48f, "IA32_VMX_TRUE_EXIT_CTLS" },
	[CAP_TRUE_ENTRY] = { 0x490, "IA32_VMX_TRUE_ENTRY_CTLS" },
};

#define BASIC_TRUE_CTLS         (1ULL << 55)
#define PROC_SECONDARY          (1ULL << (32 + 31))     /* allowed-1 half */
#define PROC2_EPT               (1ULL << (32 + 1))
#define PROC2_VPID              (1ULL << (32 + 5))
#define PROC2_UNRESTRICTED      (1ULL << (32 + 7))

struct vmx_config {
	uint64_t cap[CAP_COUNT];
	bool has_vpid;
};

static struct vmx_config vmx_config;


/* Read every capability MSR this CPU has (the secondary and TRUE ones only
 * exist when the primary ones say so; a missing one reads as 0). */
static void read_caps(struct vmx_config *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < CAP_COUNT; i++) {
		if (i == CAP_PROC2 || i == CAP_EPT_VPID) {
			if (!(c->cap[CAP_PROC] & PROC_SECONDARY))
				continue;
		} else if (i >= CAP_TRUE_PIN && !(c->cap[CAP_BASIC] & BASIC_TRUE_CTLS)) {
			continue;
		}
		rdmsr_safe(cap_msrs[i].msr, &c->cap[i]);
	}
	c->has_vpid = c->cap[CAP_PROC2] & PROC2_VPID;
}

/*
 * VMX needs IA32_FEATURE_CONTROL locked with VMX-outside-SMX on (SDM Vol.
 * 3C, 23.7). Firmware that left it unlocked gets it set and locked, as Linux
 * does at boot; locked with VMX off means the firmware disabled it.
 */
static int feature_control(struct virt_check *chk)
{
	uint64_t fc = 0;

	if (rdmsr_safe(MSR_FEATURE_CONTROL, &fc)) {
		virt_check_set(chk, VIRT_REASON_FW_DISABLED, "IA32_FEATURE_CONTROL unreadable");
		return ERR(-EIO);
	}
	if (!(fc & FC_LOCKED)) {
		if (wrmsr_safe(MSR_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMX_OUTSIDE_SMX)) {
			virt_check_set(chk, VIRT_REASON_FW_DISABLED, "IA32_FEATURE_CONTROL not writable");
			return ERR(-EIO);
		}
		rdmsr_safe(MSR_FEATURE_CONTROL, &fc);
	}
	if (!(fc & FC_VMX_OUTSIDE_SMX)) {
		virt_check_set(chk, VIRT_REASON_FW_DISABLED, "IA32_FEATURE_CONTROL locked with VMX off");
		return ERR(-EPERM);
	}
	return 0;
}

static int vmx_check_cpu(struct virt_check *chk)
{
	if (!(cpuid(1).ecx & (1U << 5))) {
		virt_check_set(chk, VIRT_REASON_UNSUPPORTED, "CPUID 1 ECX.VMX");
		return ERR(-ENODEV);
	}
	return feature_control(chk);
}

static int vmx_probe(struct virt_check *chk)
{
	int r = vmx_check_cpu(chk);

	if (r)
		return r;
	if (read_cr4() & CR4_VMXE) {
		virt_check_set(chk, VIRT_REASON_IN_USE, "CR4.VMXE already set");
		return ERR(-EBUSY);
	}
	return 0;
}

uint64_t vmx_cr0_fixed0(void) { return vmx_config.cap[CAP_CR0_FIXED0] & ~(CR0_PE | CR0_PG); }
uint64_t vmx_cr0_fixed1(void) { return vmx_config.cap[CAP_CR0_FIXED1]; }
uint64_t vmx_cr4_fixed0(void) { return vmx_config.cap[CAP_CR4_FIXED0]; }
uint64_t vmx_cr4_fixed1(void) { return vmx_config.cap[CAP_CR4_FIXED1]; }
uint64_t vmx_revision(void) { return vmx_config.cap[CAP_BASIC] & 0x7fffffff; }

static void free_regions(void)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct percpu *pc = per_cpu(cpu);

		if (!pc)
			continue;
		page_free(pc->vendor.vmx.vmxon_region, 0);
		page_free(pc->vendor.vmx.test_vmcs, 0);
		pc->vendor.vmx.vmxon_region = pc->vendor.vmx.test_vmcs = NULL;
	}
}

static int vmx_hardware_setup(struct virt_check *chk)
{
	uint64_t basic, proc2, ept;
	uint32_t revision;
	unsigned int cpu;
	int r;

	read_caps(&vmx_config);
	basic = vmx_config.cap[CAP_BASIC];
	proc2 = vmx_config.cap[CAP_PROC2];
	ept = vmx_config.cap[CAP_EPT_VPID];
	revision = basic & 0x7fffffff;
	/* The controls this hypervisor cannot run guests without. */
	if (!(vmx_config.cap[CAP_PROC] & PROC_SECONDARY)) {
		virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "secondary controls");
		return ERR(-ENODEV);
	}
	if (!(proc2 & PROC2_EPT)) {
		virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "EPT");
		return ERR(-ENODEV);
	}
	if (!(proc2 & PROC2_UNRESTRICTED)) {
		virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "unrestricted guest");
		return ERR(-ENODEV);
	}
	if (((basic >> 32) & 0x1fff) > PAGE_SIZE || ((basic >> 50) & 0xf) != 6) {
		virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "VMCS size/write-back type");
		return ERR(-ENODEV);
	}
	/* EPTP names a 4-level write-back table (24.6.11), and changed
	 * mappings are flushed with INVEPT before each entry (28.3.3.1). */
	if ((ept & (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_INVEPT)) !=
	    (EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_INVEPT) ||
	    !(ept & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "EPT 4-level WB + INVEPT");
		return ERR(-ENODEV);
	}
	for_each_cpu(cpu, &cpu_online_mask) {
		struct vmx_percpu *vc = &per_cpu(cpu)->vendor.vmx;

		vc->vmxon_region = page_zalloc(0);
		vc->test_vmcs = page_zalloc(0);
		if (!vc->vmxon_region || !vc->test_vmcs) {
			free_regions();
			virt_check_set(chk, VIRT_REASON_NO_MEMORY, "VMXON regions");
			return ERR(-ENOMEM);
		}
		/* The region starts with the VMCS revision identifier (24.11.5). */
		memcpy(vc->vmxon_region, &revision, sizeof(revision));
		memcpy(vc->test_vmcs, &revision, sizeof(revision));
	}
	if ((r = vmx_guest_setup(vmx_config.cap))) {
		free_regions();
		if (r == -ENOMEM)
			virt_check_set(chk, VIRT_REASON_NO_MEMORY, "MSR bitmap");
		else
			virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "EFER VM-exit/entry controls");
		return r;
	}
	pr_info("vmx: VMCS revision 0x%x, EPT, unrestricted guest%s, TRUE controls %s\n",
		revision, vmx_config.has_vpid ? ", VPID" : " (no VPID)",
		basic & BASIC_TRUE_CTLS ? "yes" : "no");
	return 0;
}

static void vmx_hardware_unsetup(void)
{
	vmx_guest_unsetup();
	free_regions();
}

static int vmx_check_compat(struct virt_check *chk)
{
	struct vmx_config mine;
	int r = vmx_check_cpu(chk);

	if (r)
		return r;
	read_caps(&mine);
	for (int i = 0; i < CAP_COUNT; i++)
		if (mine.cap[i] != vmx_config.cap[i]) {
			virt_check_set(chk, VIRT_REASON_CAP_MISMATCH, cap_msrs[i].name);
			return ERR(-EIO);
		}
	if (!this_cpu()->vendor.vmx.vmxon_region) {
		virt_check_set(chk, VIRT_REASON_NO_MEMORY, "no VMXON region");
		return ERR(-ENOMEM);
	}
	return 0;
}

/* VMX instructions report failure in CF (VMfailInvalid) or ZF (VMfailValid);
 * outside VMX operation they raise #UD, which the fixup turns into failure. */
#define VMX_PHYS_INSN(insn)                                                   \
	static int insn(uint64_t pa)                                          \
	{                                                                     \
		uint8_t fail = 1;                                             \
									      \
		__asm__ __volatile__("1: " #insn " %1\n\t setbe %0\n\t2:\n\t"  \
				     EXTABLE(1b, 2b)                          \
				     : "+q"(fail) : "m"(pa) : "cc", "memory"); \
		return fail ? -EIO : 0;                                       \
	}
VMX_PHYS_INSN(vmxon)
VMX_PHYS_INSN(vmptrld)
VMX_PHYS_INSN(vmclear)

static uint64_t vmptrst(void)
{
	uint64_t pa = ~0ULL;

	__asm__ __volatile__("1: vmptrst %0\n\t2:\n\t" EXTABLE(1b, 2b)
			     : "+m"(pa) :: "memory");
	return pa;
}

static void vmxoff(void)
{
	__asm__ __volatile__("1: vmxoff\n\t2:\n\t" EXTABLE(1b, 2b) ::: "cc", "memory");
}

static int vmx_enable(struct virt_check *chk)
{
	struct vmx_percpu *vc = &this_cpu()->vendor.vmx;
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();
	int r;

	if (cr4 & CR4_VMXE) {
		virt_check_set(chk, VIRT_REASON_IN_USE, "CR4.VMXE already set");
		return ERR(-EBUSY);
	}
	if (!vc->vmxon_region) {
		virt_check_set(chk, VIRT_REASON_NO_MEMORY, "no VMXON region");
		return ERR(-ENOMEM);
	}
	if ((r = feature_control(chk)))
		return r;
	/* CR0 and CR4 must hold the bits VMX operation fixes (23.8). */
	cr0 = (cr0 | vmx_config.cap[CAP_CR0_FIXED0]) & vmx_config.cap[CAP_CR0_FIXED1];
	write_cr0(cr0);
	write_cr4(((cr4 | CR4_VMXE) | vmx_config.cap[CAP_CR4_FIXED0]) &
		  vmx_config.cap[CAP_CR4_FIXED1]);
	if (vmxon((uint64_t)vc->vmxon_region)) {
		write_cr4(cr4);
		virt_check_set(chk, VIRT_REASON_ENABLE_FAILED, "VMXON failed");
		return ERR(-EIO);
	}
	vmx_cpu_state_reset();          /* a reset or firmware may have changed the MSRs */
	return 0;
}

static void vmx_disable(void)
{
	vmx_emergency_clear();          /* every active VMCS to memory first */
	vmxoff();
	write_cr4(read_cr4() & ~CR4_VMXE);
}

/* Proof from the hardware: in VMX operation a VMCS can be made current,
 * read back with VMPTRST, and cleared (SDM Vol. 3C, 24.11.3). */
static int vmx_hw_state(void)
{
	uint64_t pa = (uint64_t)this_cpu()->vendor.vmx.test_vmcs;

	if (!(read_cr4() & CR4_VMXE))
		return 0;
	if (!pa || vmclear(pa) || vmptrld(pa))
		return -1;
	bool current = vmptrst() == pa;

	if (vmclear(pa) || !current)
		return -1;
	return 1;
}

static void vmx_emergency_disable(void)
{
	if (!(read_cr4() & CR4_VMXE))
		return;
	uint64_t cur = vmptrst();

	if (cur != ~0ULL)               /* flush a loaded VMCS to memory */
		vmclear(cur);
	vmxoff();
	write_cr4(read_cr4() & ~CR4_VMXE);
}

const struct virt_ops vmx_ops = {
	.name = "vmx",
	.probe = vmx_probe,
	.hardware_setup = vmx_hardware_setup,
	.hardware_unsetup = vmx_hardware_unsetup,
	.check_compat = vmx_check_compat,
	.enable = vmx_enable,
	.disable = vmx_disable,
	.hw_state = vmx_hw_state,
	.emergency_disable = vmx_emergency_disable,
	.vcpu_size = sizeof(struct vmx_vcpu),
	.vcpu_align = __alignof__(struct vmx_vcpu),
	.gpt_format = &ept_format,
	.vendor = HV_VENDOR_INTEL,
	.vcpu_setup = vmx_vcpu_setup,
	.vcpu_teardown = vmx_vcpu_teardown,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.vcpu_enter = vmx_vcpu_enter,
	.run_child_fast = vmx_run_child_fast,
	.get_regs = vmx_get_regs,
	.set_regs = vmx_set_regs,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_rip = vmx_get_rip,
	.set_rip = vmx_set_rip,
	.get_mode = vmx_get_mode,
	.inject_exception = vmx_inject_exception,
	.msr_read = vmx_msr_read,
	.msr_write = vmx_msr_write,
	.event_queued = vmx_event_queued,
	.irq_window_open = vmx_irq_window_open,
	.nmi_window_open = vmx_nmi_window_open,
	.inject_irq = vmx_inject_irq,
	.inject_nmi = vmx_inject_nmi,
	.request_window = vmx_request_window,
	.get_dr67 = vmx_get_dr67,
	.set_dr67 = vmx_set_dr67,
	.get_tsc_offset = vmx_get_tsc_offset,
	.set_tsc_offset = vmx_set_tsc_offset,
};
