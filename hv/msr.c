/* The MSR model (hv/msr.h). */
#include "hv/msr.h"
#include "hv/errno.h"
#include "hv/irqchip.h"
#include "hv/printk.h"
#include "hv/virt_init.h"
#include "hv/vm.h"

uint64_t msr_unknown_count;

static uint64_t rdtsc_now(void)
{
	return __builtin_ia32_rdtsc();
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Memory types 0, 1, 4-7 in each byte (SDM Vol. 3A, 11.12.2). */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++, pat >>= 8)
		if ((pat & 0xff) > 7 || (pat & 0xfe) == 2)
			return false;
	return true;
}

bool msr_value_ok(uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_FS_BASE_NR: case MSR_GS_BASE_NR: case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR: case MSR_CSTAR: case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		return canonical(val);
	case MSR_SFMASK: case MSR_TSC_AUX:
		return !(val >> 32);
	case MSR_IA32_PAT:
		return pat_valid(val);
	default:
		return true;
	}
}

static bool amd_pmu(uint32_t msr)
{
	return (msr >= MSR_AMD_PERF_LEGACY && msr < MSR_AMD_PERF_LEGACY + 8) ||
	       (msr >= MSR_AMD_PERF_CORE && msr < MSR_AMD_PERF_CORE + 12);
}

static bool intel(void)
{
	return virt_ops->vendor == HV_VENDOR_INTEL;
}

/* MTRRdefType: E (bit 11) and a memory type; FE needs fixed ranges, which
 * MTRRcap says there are none of (SDM Vol. 3A, 11.11.2.1). */
static bool mtrr_def_ok(uint64_t val)
{
	uint64_t type = val & 0xff;

	return !(val & ~0xcffULL) && !(val & (1 << 10)) &&
	       (type == 0 || type == 1 || (type >= 4 && type <= 6));
}

static void unknown(struct vcpu *v, const char *op, uint32_t msr)
{
	uint64_t n = __atomic_add_fetch(&msr_unknown_count, 1, __ATOMIC_RELAXED);

	/* The first few, then every 1024th: a loop over them must not flood
	 * the console. */
	if (n <= 16 || !(n & 1023))
		pr_warn("vm %u: %s 0x%x is not modelled: #GP (%lu such accesses)\n",
			v->vm->id, op, msr, n);
}

int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	int r = irqchip_msr_read(v, msr, val);

	if (r != -ENOENT)
		return r;
	r = virt_ops->msr_read(v, msr, val);
	if (r != -ENOENT)
		return r;
	*val = 0;
	switch (msr) {
	case MSR_IA32_TSC:
		*val = rdtsc_now() + virt_ops->get_tsc_offset(v);
		return 0;
	case MSR_TSC_AUX:
		*val = v->tsc_aux;
		return 0;
	case MSR_IA32_APIC_BASE:                /* no local APIC offered */
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_MTRRCAP:                  /* no variable or fixed ranges, no WC */
	case MSR_IA32_MCG_CAP:                  /* no banks, no MCG_CTL */
	case MSR_IA32_MCG_STATUS:
		return 0;
	case MSR_IA32_MTRR_DEF_TYPE:
		*val = v->mtrr_def_type;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		if (!intel())
			break;
		/* Fast strings; BTS and PEBS unavailable (SDM Vol. 4, 2.1). */
		*val = 1 | 1 << 11 | 1 << 12;
		return 0;
	case MSR_AMD_INT_PENDING:
		/* Linux reads it on the family 0Fh models QEMU's qemu64 CPU
		 * claims (the "E400" C1E erratum): C1E is never on here. */
		if (intel())
			break;
		return 0;
	default:
		if (!intel() && amd_pmu(msr))
			return 0;               /* counters read 0 (CPUID offers no PMU) */
		break;
	}
	unknown(v, "rdmsr", msr);
	return -EINVAL;
}

int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	int r;

	if (!msr_value_ok(msr, val))
		return -EINVAL;
	r = irqchip_msr_write(v, msr, val);
	if (r != -ENOENT)
		return r;
	r = virt_ops->msr_write(v, msr, val);
	if (r != -ENOENT)
		return r;
	switch (msr) {
	case MSR_IA32_TSC:                      /* a TSC write is an offset */
		virt_ops->set_tsc_offset(v, val - rdtsc_now());
		return 0;
	case MSR_TSC_AUX:
		v->tsc_aux = val;
		return 0;
	case MSR_IA32_UCODE_REV:                /* Linux writes 0 before reading it */
		return 0;
	case MSR_IA32_MCG_STATUS:
		return val ? -EINVAL : 0;
	case MSR_IA32_MTRR_DEF_TYPE:
		if (!mtrr_def_ok(val))
			return -EINVAL;
		v->mtrr_def_type = val;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		if (!intel())
			break;
		return 0;                       /* nothing in it is the guest's to change */
	case MSR_AMD_INT_PENDING:
		if (intel())
			break;
		return 0;                       /* C1E stays off */
	default:
		if (!intel() && amd_pmu(msr))
			return 0;               /* ignored, as a counter that never counts */
		break;
	}
	unknown(v, "wrmsr", msr);
	return -EINVAL;
}
