/*
 * AMD SVM backend (AMD64 APM Vol. 2, ch. 15): turning SVM on and off on a
 * CPU and checking that every CPU offers the same features.
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
#include "svm.h"

#define MSR_VM_CR         0xc0010114
#define VM_CR_SVMDIS      (1ULL << 4)
#define MSR_VM_HSAVE_PA   0xc0010117

#define CPUID_SVM_FEATURES 0x8000000a

/* CPUID 0x8000000A, the boot CPU's; every CPU must match it. */
static struct {
	uint32_t revision, asids, features;
} svm_config;

static void svm_hardware_unsetup(void);

static void free_hsave(void)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct percpu *pc = per_cpu(cpu);

		if (pc) {
			page_free(pc->vendor.svm.hsave, 0);
			pc->vendor.svm.hsave = NULL;
		}
	}
}


/* What every CPU must pass before it may turn SVM on. */
static int svm_check_cpu(struct virt_check *chk)
{
	uint64_t vm_cr = 0;

	if (!(cpuid(0x80000001).ecx & (1U << 2))) {
		virt_check_set(chk, VIRT_REASON_UNSUPPORTED, "CPUID 0x80000001 ECX.SVM");
		return ERR(-ENODEV);
	}
	/* SVMDIS set by firmware (and locked): SVM cannot be enabled (15.30.1). */
	if (!rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS)) {
		virt_check_set(chk, VIRT_REASON_FW_DISABLED, "VM_CR.SVMDIS");
		return ERR(-EPERM);
	}
	return 0;
}

static int svm_probe(struct virt_check *chk)
{
	int r = svm_check_cpu(chk);

	if (r)
		return r;
	if (rdmsr(MSR_EFER) & EFER_SVME) {
		virt_check_set(chk, VIRT_REASON_IN_USE, "EFER.SVME already set");
		return ERR(-EBUSY);
	}
	return 0;
}

static int svm_hardware_setup(struct virt_check *chk)
{
	struct cpuid_regs r = cpuid(CPUID_SVM_FEATURES);
	unsigned int cpu;

	svm_config.revision = r.eax & 0xff;
	svm_config.asids = r.ebx;
	svm_config.features = r.edx;
	if (!(r.edx & SVM_FEATURE_NPT)) {
		virt_check_set(chk, VIRT_REASON_MISSING_FEATURE, "nested paging (NPT)");
		return ERR(-ENODEV);
	}
	for_each_cpu(cpu, &cpu_online_mask) {
		struct svm_percpu *sc = &per_cpu(cpu)->vendor.svm;

		if (!(sc->hsave = page_zalloc(0))) {
			free_hsave();
			virt_check_set(chk, VIRT_REASON_NO_MEMORY, "host save areas");
			return ERR(-ENOMEM);
		}
	}
	if (svm_guest_setup(svm_config.features)) {
		svm_hardware_unsetup();
		virt_check_set(chk, VIRT_REASON_NO_MEMORY, "I/O and MSR permission maps");
		return ERR(-ENOMEM);
	}
	pr_info("svm: revision %u, %u ASIDs, features 0x%x (nested paging%s%s)\n",
		svm_config.revision, svm_config.asids, svm_config.features,
		svm_config.features & SVM_FEATURE_NRIP ? ", NRIP save" : "",
		svm_config.features & SVM_FEATURE_FLUSH_ASID ? ", flush by ASID" : "");
	return 0;
}

static void svm_hardware_unsetup(void)
{
	svm_guest_unsetup();
	free_hsave();
}

static int svm_check_compat(struct virt_check *chk)
{
	struct cpuid_regs r = cpuid(CPUID_SVM_FEATURES);
	int ret = svm_check_cpu(chk);

	if (ret)
		return ret;
	if ((r.eax & 0xff) != svm_config.revision)
		virt_check_set(chk, VIRT_REASON_CAP_MISMATCH, "CPUID 0x8000000A EAX (revision)");
	else if (r.ebx != svm_config.asids)
		virt_check_set(chk, VIRT_REASON_CAP_MISMATCH, "CPUID 0x8000000A EBX (ASIDs)");
	else if (r.edx != svm_config.features)
		virt_check_set(chk, VIRT_REASON_CAP_MISMATCH, "CPUID 0x8000000A EDX (features)");
	else if (!this_cpu()->vendor.svm.hsave)
		virt_check_set(chk, VIRT_REASON_NO_MEMORY, "no host save area");
	else
		return 0;
	return ERR(-EIO);
}

static int svm_enable(struct virt_check *chk)
{
	uint64_t efer = rdmsr(MSR_EFER);
	void *area = this_cpu()->vendor.svm.hsave;

	if (efer & EFER_SVME) {
		virt_check_set(chk, VIRT_REASON_IN_USE, "EFER.SVME already set");
		return ERR(-EBUSY);
	}
	if (!area || !this_cpu()->vendor.svm.host_vmcb) {
		virt_check_set(chk, VIRT_REASON_NO_MEMORY, "no host save area");
		return ERR(-ENOMEM);
	}
	wrmsr(MSR_EFER, efer | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)area);
	if (!(rdmsr(MSR_EFER) & EFER_SVME)) {
		virt_check_set(chk, VIRT_REASON_ENABLE_FAILED, "EFER.SVME did not stick");
		return ERR(-EIO);
	}
	svm_save_host_state();
	return 0;
}

static void svm_disable(void)
{
	wrmsr(MSR_VM_HSAVE_PA, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
}

static int svm_hw_state(void)
{
	if (!(rdmsr(MSR_EFER) & EFER_SVME))
		return 0;
	return rdmsr(MSR_VM_HSAVE_PA) == (uint64_t)this_cpu()->vendor.svm.hsave ? 1 : -1;
}

static void svm_emergency_disable(void)
{
	/* GIF might be clear if we were stopped between CLGI and STGI. */
	if (rdmsr(MSR_EFER) & EFER_SVME) {
		__asm__ __volatile__("stgi");
		svm_disable();
	}
}

const struct virt_ops svm_ops = {
	.name = "svm",
	.probe = svm_probe,
	.hardware_setup = svm_hardware_setup,
	.hardware_unsetup = svm_hardware_unsetup,
	.check_compat = svm_check_compat,
	.enable = svm_enable,
	.disable = svm_disable,
	.hw_state = svm_hw_state,
	.emergency_disable = svm_emergency_disable,
	.vcpu_size = sizeof(struct svm_vcpu),
	.vcpu_align = __alignof__(struct svm_vcpu),
	.gpt_format = &npt_format,
	.vendor = HV_VENDOR_AMD,
	.vcpu_setup = svm_vcpu_setup,
	.vcpu_teardown = svm_vcpu_teardown,
	.vcpu_load = svm_vcpu_load,
	.vcpu_put = svm_vcpu_put,
	.vcpu_enter = svm_vcpu_enter,
	.run_child_fast = svm_run_child_fast,
	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_rip = svm_get_rip,
	.set_rip = svm_set_rip,
	.get_mode = svm_get_mode,
	.inject_exception = svm_inject_exception,
	.msr_read = svm_msr_read,
	.msr_write = svm_msr_write,
	.event_queued = svm_event_queued,
	.irq_window_open = svm_irq_window_open,
	.nmi_window_open = svm_nmi_window_open,
	.inject_irq = svm_inject_irq,
	.inject_nmi = svm_inject_nmi,
	.request_window = svm_request_window,
	.get_dr67 = svm_get_dr67,
	.set_dr67 = svm_set_dr67,
	.get_tsc_offset = svm_get_tsc_offset,
	.set_tsc_offset = svm_set_tsc_offset,
};
