/* The MSR model (hv/msr.c) on a mocked backend: the values hardware would
 * refuse, the MSRs modelled here per vendor, TSC writes as an offset, the
 * backend's MSRs behind the value checks, unknown MSRs counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hv/errno.h"
#include "hv/msr.h"
#include "hv/virt.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include "host_guest_stubs.h"
#include "host_stubs.h"

static struct {
	struct vm vm;
	struct vcpu v;
	uint64_t tsc_offset;
	uint64_t fs_base;               /* the one MSR the mocked backend holds */
	int backend_writes;
} f;

static int b_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (msr != MSR_FS_BASE_NR)
		return -ENOENT;
	*val = f.fs_base;
	return 0;
}

static int b_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (msr != MSR_FS_BASE_NR)
		return -ENOENT;
	f.backend_writes++;
	f.fs_base = val;
	return 0;
}

static uint64_t b_get_tsc(struct vcpu *v) { return f.tsc_offset; }
static void b_set_tsc(struct vcpu *v, uint64_t o) { f.tsc_offset = o; }

static struct virt_ops ops;

static int setup_vendor(unsigned int vendor)
{
	memset(&f, 0, sizeof(f));
	memset(&ops, 0, sizeof(ops));
	host_fill_guest_ops(&ops);
	ops.vendor = vendor;
	ops.msr_read = b_msr_read;
	ops.msr_write = b_msr_write;
	ops.get_tsc_offset = b_get_tsc;
	ops.set_tsc_offset = b_set_tsc;
	virt_ops = &ops;
	f.v.vm = &f.vm;
	f.v.mtrr_def_type = MTRR_DEF_TYPE_RESET;
	return 0;
}

static int amd(void **state) { return setup_vendor(HV_VENDOR_AMD); }
static int intel(void **state) { return setup_vendor(HV_VENDOR_INTEL); }

static int teardown(void **state)
{
	virt_ops = NULL;
	return 0;
}

static uint64_t rd(uint32_t msr)
{
	uint64_t val = 0xdead;

	assert_int_equal(msr_read(&f.v, msr, &val), 0);
	return val;
}

static void canonical_bases_and_value_checks(void **state)
{
	static const uint32_t bases[] = {
		MSR_FS_BASE_NR, MSR_GS_BASE_NR, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_CSTAR,
		MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	};

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		assert_false(msr_value_ok(bases[i], 0x0000800000000000ULL));
		assert_false(msr_value_ok(bases[i], 0xfff0000000000000ULL));
		assert_true(msr_value_ok(bases[i], 0xffff800000000000ULL));
		assert_true(msr_value_ok(bases[i], 0x00007fffffffffffULL));
	}
	/* The check comes before the backend: a refused write never reaches it. */
	assert_int_equal(msr_write(&f.v, MSR_FS_BASE_NR, 0x0000800000001000ULL), -EINVAL);
	assert_int_equal(f.backend_writes, 0);
	assert_int_equal(msr_write(&f.v, MSR_FS_BASE_NR, 0xffff800000001000ULL), 0);
	assert_int_equal(f.backend_writes, 1);
	assert_int_equal(rd(MSR_FS_BASE_NR), 0xffff800000001000ULL);

	assert_false(msr_value_ok(MSR_SFMASK, 1ULL << 32));
	assert_true(msr_value_ok(MSR_SFMASK, 0x47700));
	/* PAT: each byte a memory type 0, 1, 4-7 (2, 3 and >7 reserved). */
	assert_true(msr_value_ok(MSR_IA32_PAT, 0x0007040600070406ULL));
	assert_false(msr_value_ok(MSR_IA32_PAT, 0x0007040600070402ULL));
	assert_false(msr_value_ok(MSR_IA32_PAT, 0x0307040600070406ULL));
	assert_false(msr_value_ok(MSR_IA32_PAT, 0x0807040600070406ULL));
	assert_true(msr_value_ok(MSR_IA32_MCG_STATUS, 5));      /* no value rule: model's */
}

static void tsc_write_is_an_offset(void **state)
{
	uint64_t want = 1ULL << 50, t;

	assert_int_equal(msr_write(&f.v, MSR_IA32_TSC, want), 0);
	/* offset = value - host TSC at the write: the guest's TSC goes on from it. */
	assert_true(f.tsc_offset + __builtin_ia32_rdtsc() >= want);
	t = rd(MSR_IA32_TSC);
	assert_true(t >= want && t - want < (1ULL << 40));
	assert_int_equal(msr_write(&f.v, MSR_IA32_TSC, 0), 0);
	assert_true(rd(MSR_IA32_TSC) < want);
}

static void tsc_aux(void **state)
{
	assert_int_equal(msr_write(&f.v, MSR_TSC_AUX, 0x1234), 0);
	assert_int_equal(rd(MSR_TSC_AUX), 0x1234);
	assert_int_equal(msr_write(&f.v, MSR_TSC_AUX, 1ULL << 32), -EINVAL);
	assert_int_equal(rd(MSR_TSC_AUX), 0x1234);      /* unchanged */
}

static void mtrr_and_machine_check(void **state)
{
	assert_int_equal(rd(MSR_IA32_MTRRCAP), 0);      /* no ranges, no WC */
	assert_int_equal(rd(MSR_IA32_MTRR_DEF_TYPE), MTRR_DEF_TYPE_RESET);
	assert_int_equal(msr_write(&f.v, MSR_IA32_MTRR_DEF_TYPE, 0x800), 0);  /* UC */
	assert_int_equal(rd(MSR_IA32_MTRR_DEF_TYPE), 0x800);
	assert_int_equal(msr_write(&f.v, MSR_IA32_MTRR_DEF_TYPE, 0xc06), -EINVAL);   /* FE */
	assert_int_equal(msr_write(&f.v, MSR_IA32_MTRR_DEF_TYPE, 0x802), -EINVAL);   /* type 2 */
	assert_int_equal(msr_write(&f.v, MSR_IA32_MTRR_DEF_TYPE, 0x1806), -EINVAL);  /* reserved */
	assert_int_equal(rd(MSR_IA32_MTRR_DEF_TYPE), 0x800);
	assert_int_equal(rd(MSR_IA32_MCG_CAP), 0);      /* no banks */
	assert_int_equal(rd(MSR_IA32_MCG_STATUS), 0);
	assert_int_equal(msr_write(&f.v, MSR_IA32_MCG_STATUS, 0), 0);
	assert_int_equal(msr_write(&f.v, MSR_IA32_MCG_STATUS, 4), -EINVAL);
	assert_int_equal(msr_write(&f.v, MSR_IA32_UCODE_REV, 0), 0);
	assert_int_equal(rd(MSR_IA32_UCODE_REV), 0);
	assert_int_equal(rd(MSR_IA32_APIC_BASE), 0);    /* no irqchip: no APIC */
}

static void unknown_msrs_are_gp_and_counted(void **state)
{
	uint64_t before = msr_unknown_count, val = 7;

	assert_int_equal(msr_read(&f.v, 0x12345, &val), -EINVAL);
	assert_int_equal(msr_write(&f.v, 0x12345, 0), -EINVAL);
	assert_int_equal(msr_write(&f.v, 0x48 /* SPEC_CTRL: not offered */, 0), -EINVAL);
	assert_int_equal(msr_unknown_count, before + 3);
	/* A refused value is #GP too, but it is known: not counted. */
	assert_int_equal(msr_write(&f.v, MSR_TSC_AUX, ~0ULL), -EINVAL);
	assert_int_equal(msr_unknown_count, before + 3);
}

/* The log line for them is rate-limited: the first 16, then every 1024th
 * access, so a guest looping over unknown MSRs cannot flood the console. */
static void unknown_msr_log_is_rate_limited(void **state)
{
	uint64_t val;
	int lines = 0;

	msr_unknown_count = 0;
	host_log_clear();
	for (int i = 0; i < 3000; i++)
		assert_int_equal(msr_read(&f.v, 0x12345, &val), -EINVAL);
	for (const char *p = host_log; (p = strstr(p, "rdmsr 0x12345 is not modelled")); p++)
		lines++;
	assert_int_equal(lines, 16 + 2);                /* 1..16, 1024, 2048 */
	assert_true(host_log_contains("(2048 such accesses)"));
	assert_int_equal(msr_unknown_count, 3000);
}

/* AMD: the PMU counters Linux programs at boot read 0 and ignore writes;
 * C1E's control reads 0; MISC_ENABLE is Intel's. */
static void amd_model(void **state)
{
	uint64_t before = msr_unknown_count, val;

	for (uint32_t m = MSR_AMD_PERF_LEGACY; m < MSR_AMD_PERF_LEGACY + 8; m++) {
		assert_int_equal(msr_write(&f.v, m, 0x530076), 0);
		assert_int_equal(rd(m), 0);
	}
	for (uint32_t m = MSR_AMD_PERF_CORE; m < MSR_AMD_PERF_CORE + 12; m++) {
		assert_int_equal(msr_write(&f.v, m, 1), 0);
		assert_int_equal(rd(m), 0);
	}
	assert_int_equal(msr_read(&f.v, MSR_AMD_PERF_CORE + 12, &val), -EINVAL);
	assert_int_equal(rd(MSR_AMD_INT_PENDING), 0);
	assert_int_equal(msr_write(&f.v, MSR_AMD_INT_PENDING, 0x18000000), 0);
	assert_int_equal(msr_read(&f.v, MSR_IA32_MISC_ENABLE, &val), -EINVAL);
	assert_int_equal(msr_write(&f.v, MSR_IA32_MISC_ENABLE, 1), -EINVAL);
	assert_int_equal(msr_unknown_count, before + 3);
}

/* Intel: MISC_ENABLE reads fast strings with BTS/PEBS unavailable and
 * keeps it so; the AMD MSRs do not exist. */
static void intel_model(void **state)
{
	uint64_t val;

	assert_int_equal(rd(MSR_IA32_MISC_ENABLE), 1 | 1 << 11 | 1 << 12);
	assert_int_equal(msr_write(&f.v, MSR_IA32_MISC_ENABLE, 0), 0);
	assert_int_equal(rd(MSR_IA32_MISC_ENABLE), 1 | 1 << 11 | 1 << 12);
	assert_int_equal(msr_read(&f.v, MSR_AMD_PERF_LEGACY, &val), -EINVAL);
	assert_int_equal(msr_write(&f.v, MSR_AMD_PERF_CORE, 0), -EINVAL);
	assert_int_equal(msr_read(&f.v, MSR_AMD_INT_PENDING, &val), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(canonical_bases_and_value_checks, amd, teardown),
		cmocka_unit_test_setup_teardown(tsc_write_is_an_offset, amd, teardown),
		cmocka_unit_test_setup_teardown(tsc_aux, intel, teardown),
		cmocka_unit_test_setup_teardown(mtrr_and_machine_check, amd, teardown),
		cmocka_unit_test_setup_teardown(mtrr_and_machine_check, intel, teardown),
		cmocka_unit_test_setup_teardown(unknown_msrs_are_gp_and_counted, intel, teardown),
		cmocka_unit_test_setup_teardown(unknown_msr_log_is_rate_limited, amd, teardown),
		cmocka_unit_test_setup_teardown(amd_model, amd, teardown),
		cmocka_unit_test_setup_teardown(intel_model, intel, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
