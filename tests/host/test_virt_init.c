/*
 * The staged virtualization init (hv/virt_init.c) and its stages, on the
 * fake machine of tests/host/host_smp.c with a mocked backend: every op is
 * recorded, with its CPU, in one ordered log, and each fake CPU has a mock
 * "hardware" bit that enable sets and disable clears.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "host_guest_stubs.h"

#include "hv/async_work.h"
#include "hv/cpu_hotplug.h"
#include "hv/debug_stats.h"
#include "hv/devops.h"
#include "hv/errno.h"
#include "hv/events.h"
#include "hv/hypercall.h"
#include "hv/kmalloc.h"
#include "hv/notifier.h"
#include "hv/page_alloc.h"
#include "hv/panic.h"
#include "hv/preempt.h"
#include "hv/reboot.h"
#include "hv/slab.h"
#include "hv/smp.h"
#include "hv/syscore.h"
#include "hv/virt.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include "host_stubs.h"

/* The fake machine's knobs (tests/host/host_smp.c). */
extern unsigned int host_smp_ncpus;
extern int host_smp_no_answer;
extern const struct virt_ops *host_virt_select_ops;
extern struct virt_check host_virt_select_chk;
void host_smp_set_cpus(unsigned int n);

#define RAM_ALIGN  (4 * MiB)
#define RAM_SIZE   (32 * MiB)
#define NCPUS      4
#define DEBUGPORT_TYPE 1        /* the type virt_init registers in devops */

static char *ram;

/* ------------------------------------------------------------ the op log */

#define OPLOG_MAX 512
static char oplog[OPLOG_MAX][24];
static unsigned int noplog;

static void op(const char *what, int cpu)
{
	if (noplog >= OPLOG_MAX)
		return;
	if (cpu < 0)
		snprintf(oplog[noplog], sizeof(oplog[0]), "%s", what);
	else
		snprintf(oplog[noplog], sizeof(oplog[0]), "%s@%d", what, cpu);
	noplog++;
}

static unsigned int op_count(const char *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < noplog; i++)
		n += !strcmp(oplog[i], s);
	return n;
}

static unsigned int op_count_cpu(const char *what, unsigned int cpu)
{
	char s[24];

	snprintf(s, sizeof(s), "%s@%u", what, cpu);
	return op_count(s);
}

static void assert_oplog(const char *const *expected, unsigned int n)
{
	for (unsigned int i = 0; i < n && i < noplog; i++)
		if (strcmp(oplog[i], expected[i]))
			fail_msg("op %u: '%s', expected '%s'", i, oplog[i], expected[i]);
	assert_int_equal(noplog, n);
}

/* ------------------------------------------------------------ the mock backend */

static struct {
	int probe_ret;
	enum virt_reason probe_reason;
	int setup_ret;
	int compat_fail_cpu;            /* -1: none */
	const char *compat_detail;
	int enable_fail_cpu;            /* -1: none */
	int no_answer_after_compat;     /* make this CPU deaf once compat is done */
	bool hc_in_enable;              /* call hypercall_dispatch from enable */
	unsigned int hc_calls, hc_not_eagain;
	bool setup_done;
	bool tolerate_disable_off;      /* after an emergency disable */
	unsigned int errors;            /* protocol violations seen by the mock */
	void *regions[NR_CPUS];         /* "VMXON regions" from hardware_setup */
} mock;
static bool mock_hw[NR_CPUS];

static unsigned int this_cpu(void)
{
	return smp_processor_id();
}

static void set_detail(struct virt_check *chk, const char *s)
{
	snprintf(chk->detail, sizeof(chk->detail), "%s", s);
}

static int mock_probe(struct virt_check *chk)
{
	op("probe", -1);
	if (this_cpu() != 0)
		mock.errors++;
	if (mock.probe_ret) {
		chk->reason = mock.probe_reason;
		set_detail(chk, "IA32_FEATURE_CONTROL");
	}
	return mock.probe_ret;
}

static int mock_hardware_setup(struct virt_check *chk)
{
	unsigned int cpu;

	op("setup", -1);
	if (mock.setup_done)
		mock.errors++;
	if (mock.setup_ret) {
		chk->reason = VIRT_REASON_MISSING_FEATURE;
		set_detail(chk, "EPT");
		return mock.setup_ret;
	}
	for_each_cpu(cpu, &cpu_online_mask) {
		mock.regions[cpu] = kzalloc(PAGE_SIZE);
		if (!mock.regions[cpu])
			mock.errors++;
	}
	mock.setup_done = true;
	return 0;
}

static void mock_hardware_unsetup(void)
{
	op("unsetup", -1);
	if (!mock.setup_done)
		mock.errors++;
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		kfree(mock.regions[cpu]);
		mock.regions[cpu] = NULL;
	}
	mock.setup_done = false;
}

static int mock_check_compat(struct virt_check *chk)
{
	unsigned int cpu = this_cpu();

	op("compat", (int)cpu);
	if (!mock.setup_done)
		mock.errors++;
	if (mock.no_answer_after_compat >= 0 && cpu == host_smp_ncpus - 1)
		host_smp_no_answer = mock.no_answer_after_compat;
	if ((int)cpu == mock.compat_fail_cpu) {
		chk->reason = VIRT_REASON_CAP_MISMATCH;
		set_detail(chk, mock.compat_detail);
		return -EIO;
	}
	return 0;
}

static int mock_enable(struct virt_check *chk)
{
	unsigned int cpu = this_cpu();

	op("enable", (int)cpu);
	if (mock.hc_in_enable) {
		struct hypercall_regs hc = { .nr = HC_API_VERSION };

		mock.hc_calls++;
		if (hypercall_dispatch(&hc) != -HV_EAGAIN)
			mock.hc_not_eagain++;
	}
	if (!mock.setup_done || mock_hw[cpu])
		mock.errors++;
	if ((int)cpu == mock.enable_fail_cpu) {
		chk->reason = VIRT_REASON_ENABLE_FAILED;
		set_detail(chk, "VMXON");
		return -EIO;
	}
	mock_hw[cpu] = true;
	return 0;
}

static void mock_disable(void)
{
	unsigned int cpu = this_cpu();

	op("disable", (int)cpu);
	if (!mock_hw[cpu] && !mock.tolerate_disable_off)
		mock.errors++;
	mock_hw[cpu] = false;
}

static int mock_hw_state(void)
{
	return mock_hw[this_cpu()];
}

static void mock_emergency_disable(void)
{
	mock_hw[this_cpu()] = false;
}

static struct virt_ops mock_ops = {
	.name = "mock",
	.probe = mock_probe,
	.hardware_setup = mock_hardware_setup,
	.hardware_unsetup = mock_hardware_unsetup,
	.check_compat = mock_check_compat,
	.enable = mock_enable,
	.disable = mock_disable,
	.hw_state = mock_hw_state,
	.emergency_disable = mock_emergency_disable,
	.vcpu_size = 1000,
	.vcpu_align = 64,
};

static void mock_reset(void)
{
	memset(&mock, 0, sizeof(mock));
	mock.compat_fail_cpu = -1;
	mock.compat_detail = "";
	mock.enable_fail_cpu = -1;
	mock.no_answer_after_compat = -1;
	memset(mock_hw, 0, sizeof(mock_hw));
	noplog = 0;
}

static void assert_hw(bool on0, bool on1, bool on2, bool on3)
{
	const bool want[NCPUS] = { on0, on1, on2, on3 };

	for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
		if (mock_hw[cpu] != want[cpu])
			fail_msg("CPU %u: mock hw %s, expected %s", cpu, mock_hw[cpu] ? "on" : "off",
				 want[cpu] ? "on" : "off");
		if ((virt_cpu_of(cpu)->state == VIRT_CPU_ON) != want[cpu])
			fail_msg("CPU %u: virt_cpu state %s, hw %s", cpu,
				 virt_cpu_state_name(virt_cpu_of(cpu)->state), want[cpu] ? "on" : "off");
	}
}

static void assert_all_hw_off(void)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		if (mock_hw[cpu])
			fail_msg("CPU %u: mock hw still on", cpu);
}

/* ------------------------------------------------------------ memory */

struct mem {
	uint64_t free_pages;
	uint64_t in_use;
};

static struct mem base;

static void add_in_use(const struct cache_stats *st, void *arg)
{
	*(uint64_t *)arg += st->in_use;
}

/* Shrink on every fake CPU (each has its own magazines), then count. */
static struct mem mem_now(void)
{
	unsigned int saved = host_cpu_id;
	struct page_stats ps;
	struct mem m = { 0, 0 };

	for (unsigned int cpu = 0; cpu < host_smp_ncpus; cpu++) {
		host_cpu_id = cpu;
		slab_shrink();
	}
	host_cpu_id = saved;
	page_get_stats(&ps);
	m.free_pages = ps.free_pages;
	cache_for_each(add_in_use, &m.in_use);
	return m;
}

static void assert_mem_back(void)
{
	struct mem m = mem_now();

	assert_int_equal(m.in_use, base.in_use);
	assert_int_equal(m.free_pages, base.free_pages);
}

/* ------------------------------------------------------------ fixtures */

/* virt_cpu_reset_all keeps the offline flags (hotplug state); between tests
 * every CPU starts online, so forget them too. */
static void fresh_virt_cpu(void)
{
	virt_cpu_reset_all();
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		virt_cpu_of(cpu)->offline = false;
}

static int setup(void **state)
{
	host_fill_guest_ops(&mock_ops);
	(void)state;
	ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	assert_non_null(ram);
	page_alloc_reset();
	slab_reset();
	host_log_clear();
	host_cpu_id = 0;
	assert_int_equal(page_alloc_add_range((uintptr_t)ram, RAM_SIZE), 0);
	assert_int_equal(kmalloc_init(), 0);
	host_smp_set_cpus(NCPUS);
	host_virt_select_ops = &mock_ops;
	host_virt_select_chk = (struct virt_check){ .reason = VIRT_REASON_UNSUPPORTED,
						    .detail = "host: no backend" };
	fail_init = (struct fail_inject){ -1, -1 };
	fresh_virt_cpu();
	mock_reset();
	base = mem_now();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	virt_exit();
	fail_init = (struct fail_inject){ -1, -1 };
	host_smp_set_cpus(NCPUS);
	for (unsigned int cpu = 1; cpu < NCPUS; cpu++)  /* a test that stopped early */
		if (cpu_is_parked(cpu))
			cpu_online(cpu);
	fresh_virt_cpu();
	host_virt_select_ops = NULL;
	page_alloc_reset();
	slab_reset();
	free(ram);
	ram = NULL;
	return 0;
}

static int64_t hc(uint64_t nr, uint64_t arg0)
{
	struct hypercall_regs r = { .nr = nr, .arg = { arg0 } };

	return hypercall_dispatch(&r);
}

/* Nothing of the init is left behind: registrations, pointers, memory. */
static void assert_nothing_registered(void)
{
	assert_false(virt_ready());
	assert_null(virt_ops);
	assert_null(vcpu_cache);
	assert_null(async_work_cache);
	assert_null(virt_enabled_mask);
	assert_null(panic_cpu_hook);
	assert_null(cpu_notifiers.head);
	assert_null(reboot_notifiers.head);
	assert_null(devops_find(DEBUGPORT_TYPE));
	assert_int_equal(debug_stats_show("virt"), -ENOENT);
	assert_int_equal(debug_stats_show("virt_counters"), -ENOENT);
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
	/* The hypercall interface can be installed again: it was uninstalled. */
	assert_int_equal(hypercall_install(), 0);
	hypercall_uninstall();
	/* Nothing holds virtualization on. */
	assert_int_equal(virt_counts.users, 0);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
		assert_false(virt_cpu_wanted(virt_cpu_of(cpu)));
	/* A registered virt syscore op would count a suspend (and a resume
	 * would try to sync the CPUs). */
	struct virt_counts counts = virt_counts;
	unsigned int nops = noplog;

	assert_int_equal(syscore_suspend(), 0);
	assert_int_equal(virt_counts.suspends, counts.suspends);
	syscore_resume();
	assert_memory_equal(&virt_counts, &counts, sizeof(counts));
	assert_int_equal(noplog, nops);                 /* no backend op ran */
	assert_false(mock.setup_done);
	assert_all_hw_off();
	assert_int_equal(mock.errors, 0);
	assert_mem_back();
}

/*
 * The stage names in the "virt: undo NAME" lines of host_log, in order.
 * The per-CPU lines ("virt: undo enable on CPU 2") are not stage undos.
 */
static unsigned int undo_lines(char names[][32], unsigned int max)
{
	const char *p = host_log;
	unsigned int n = 0;
	static const char tag[] = "virt: undo ";

	while ((p = strstr(p, tag))) {
		const char *s = p + sizeof(tag) - 1, *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		p = s;
		if (memchr(s, ' ', len))
			continue;
		if (n < max) {
			snprintf(names[n], 32, "%.*s", (int)len, s);
			n++;
		}
	}
	return n;
}

/* ------------------------------------------------------------ 1. success */

static void test_success_and_exit(void **state)
{
	(void)state;
	static const char *const init_ops[] = {
		"probe", "setup", "compat@0", "compat@1", "compat@2", "compat@3",
		"enable@0", "enable@1", "enable@2", "enable@3",
	};
	static const char *const exit_ops[] = {
		"disable@0", "disable@1", "disable@2", "disable@3", "unsetup",
	};

	assert_false(virt_ready());
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);

	mock.hc_in_enable = true;
	assert_int_equal(virt_init(), 0);
	assert_true(virt_ready());
	assert_oplog(init_ops, ARRAY_SIZE(init_ops));
	assert_int_equal(mock.hc_calls, NCPUS);
	assert_int_equal(mock.hc_not_eagain, 0);
	assert_hw(true, true, true, true);
	assert_int_equal(virt_counts.users, 1);
	assert_int_equal(virt_counts.suspends, 0);
	assert_false(virt_counts.rebooting);
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
		assert_true(virt_cpu_wanted(virt_cpu_of(cpu)));
		assert_false(virt_cpu_of(cpu)->offline);
		assert_int_equal(virt_cpu_of(cpu)->enables, 1);
		assert_int_equal(virt_cpu_of(cpu)->disables, 0);
		assert_int_equal(hc(HC_VIRT_STATUS, cpu), HV_VIRT_ON);
	}
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);
	assert_int_equal(hc(HC_VIRT_STATUS, NR_CPUS), -HV_EINVAL);
	assert_int_equal(hc(HC_COUNT, 0), -HV_ENOSYS);
	assert_ptr_equal(virt_ops, &mock_ops);
	assert_non_null(virt_enabled_mask);
	assert_int_equal(cpumask_weight(virt_enabled_mask), NCPUS);
	assert_non_null(panic_cpu_hook);
	assert_non_null(devops_find(DEBUGPORT_TYPE));
	assert_int_equal(debug_stats_show("virt_counters"), 0);
	assert_true(host_log_contains("cpu 3: 1 enables, 0 disables"));
	assert_false(host_log_contains("virt: undo"));
	assert_true(host_log_contains("virt: mock on in 4 CPUs"));
	assert_int_equal(mock.errors, 0);

	/* The vCPU cache is there, with the backend's size and alignment. */
	assert_non_null(vcpu_cache);
	void *v = cache_alloc(vcpu_cache);

	assert_non_null(v);
	assert_int_equal((uintptr_t)v % mock_ops.vcpu_align, 0);
	cache_free(vcpu_cache, v);
	struct async_work *aw = async_work_alloc();

	assert_non_null(aw);
	async_work_free(aw);

	/* A second init while one is active is refused and changes nothing. */
	noplog = 0;
	host_log_clear();
	assert_int_equal(virt_init(), -EEXIST);
	assert_true(virt_ready());
	assert_int_equal(noplog, 0);
	assert_false(host_log_contains("virt: undo"));
	assert_hw(true, true, true, true);
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);

	noplog = 0;
	virt_exit();
	assert_oplog(exit_ops, ARRAY_SIZE(exit_ops));
	assert_hw(false, false, false, false);
	assert_int_equal(virt_counts.users, 0);
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
		assert_false(virt_cpu_wanted(virt_cpu_of(cpu)));
		assert_int_equal(virt_cpu_of(cpu)->disables, 1);
	}
	assert_nothing_registered();
	virt_exit();    /* a second exit does nothing */
	assert_int_equal(noplog, ARRAY_SIZE(exit_ops));

	/* And it can all be done again (no virt_cpu_reset_all in between). */
	noplog = 0;
	mock.hc_in_enable = false;
	assert_int_equal(virt_init(), 0);
	assert_oplog(init_ops, ARRAY_SIZE(init_ops));
	assert_hw(true, true, true, true);
	virt_exit();
	assert_nothing_registered();
}

/* ------------------------------------------------------------ 2. every stage */

static const int stage_errno[STAGE_COUNT] = {
	[STAGE_ARCH] = -ENODEV, [STAGE_EVENTS] = -EIO, [STAGE_CPUMASK] = -ENOMEM,
	[STAGE_HW_SETUP] = -EIO, [STAGE_COMPAT] = -EIO, [STAGE_CPU_NOTIFIER] = -EBUSY,
	[STAGE_REBOOT_NOTIFIER] = -EBUSY, [STAGE_VCPU_CACHE] = -ENOMEM, [STAGE_ASYNC] = -EIO,
	[STAGE_HYPERCALL] = -EIO, [STAGE_SYSCORE] = -EBUSY, [STAGE_PREEMPT] = -EBUSY,
	[STAGE_DEBUG] = -ENOMEM, [STAGE_DEVOPS] = 0, [STAGE_ENABLE] = -EIO,
};

static void test_fail_every_stage(void **state)
{
	(void)state;

	for (int s = 0; s < STAGE_COUNT; s++) {
		char got[2 * STAGE_COUNT][32];
		const char *want[STAGE_COUNT];
		unsigned int ngot, nwant = 0;
		int r;

		print_message("fail_init=%s\n", virt_stage_name(s));
		host_log_clear();
		mock_reset();
		virt_cpu_reset_all();
		assert_int_equal(fail_inject_parse(virt_stage_name(s), &fail_init), 0);
		assert_int_equal(fail_init.stage, s);

		r = virt_init();
		assert_int_equal(r, stage_errno[s]);
		assert_int_equal(mock.errors, 0);

		if (s == STAGE_DEVOPS) {
			/* Only warns: the rest is up, without the device type. */
			assert_true(virt_ready());
			assert_true(host_log_contains("device ops registry failed (ENOMEM)"));
			assert_null(devops_find(DEBUGPORT_TYPE));
			assert_false(host_log_contains("virt: undo"));
			assert_hw(true, true, true, true);
			assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);
			virt_exit();
			fail_init = (struct fail_inject){ -1, -1 };
			assert_nothing_registered();
			continue;
		}

		assert_false(virt_ready());
		/* Every earlier stage undone, last first. */
		for (int t = s - 1; t >= 0; t--)
			want[nwant++] = virt_stage_name(t);
		ngot = undo_lines(got, ARRAY_SIZE(got));
		for (unsigned int i = 0; i < ngot && i < nwant; i++)
			if (strcmp(got[i], want[i]))
				fail_msg("stage %s: undo #%u is '%s', expected '%s'",
					 virt_stage_name(s), i, got[i], want[i]);
		if (ngot != nwant)
			fail_msg("stage %s: %u undo lines, expected %u", virt_stage_name(s), ngot,
				 nwant);
		assert_true(host_log_contains("virt: init failed ("));

		/* The backend's own work was undone exactly when it was done. */
		assert_int_equal(op_count("probe"), s > STAGE_ARCH);
		assert_int_equal(op_count("setup"), s > STAGE_HW_SETUP);
		assert_int_equal(op_count("unsetup"), s > STAGE_HW_SETUP);
		for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
			assert_int_equal(op_count_cpu("compat", cpu), s > STAGE_COMPAT);
			assert_int_equal(op_count_cpu("enable", cpu), 0);
			assert_int_equal(op_count_cpu("disable", cpu), 0);
		}
		fail_init = (struct fail_inject){ -1, -1 };
		assert_nothing_registered();

		/* Nothing was left registered: a retry works. */
		mock_reset();
		assert_int_equal(virt_init(), 0);
		assert_hw(true, true, true, true);
		virt_exit();
		assert_nothing_registered();
	}
}

/* ------------------------------------------------------------ 3. per-CPU injection */

static void test_inject_compat_cpu(void **state)
{
	(void)state;

	assert_int_equal(fail_inject_parse("compat@2", &fail_init), 0);
	assert_int_equal(virt_init(), -EIO);
	assert_true(host_log_contains(
		"virt: CPU 2 is not compatible with the boot CPU: capability mismatch: injected"));
	assert_int_equal(virt_cpu_of(2)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(2)->chk.reason, VIRT_REASON_CAP_MISMATCH);
	assert_string_equal(virt_cpu_of(2)->chk.detail, "injected");
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
		if (cpu != 2)
			assert_int_equal(virt_cpu_of(cpu)->state, VIRT_CPU_OFF);
		assert_int_equal(op_count_cpu("compat", cpu), cpu != 2);
		assert_int_equal(op_count_cpu("enable", cpu), 0);
	}
	assert_int_equal(op_count("unsetup"), 1);
	assert_int_equal(hc(HC_VIRT_STATUS, 2), -HV_EAGAIN);
	fail_init = (struct fail_inject){ -1, -1 };
	assert_nothing_registered();
}

static void test_inject_enable_cpu(void **state)
{
	(void)state;
	char got[2 * STAGE_COUNT][32];

	assert_int_equal(fail_inject_parse("enable@3", &fail_init), 0);
	assert_int_equal(virt_init(), -EIO);
	assert_true(host_log_contains("virt: enable failed on CPU 3: EIO (injected failure)"));
	assert_int_equal(virt_cpu_of(3)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(3)->chk.reason, VIRT_REASON_INJECTED);
	/* All or nothing: the failed enable_all took its user back. */
	assert_int_equal(virt_counts.users, 0);
	assert_false(mock_hw[3]);
	for (unsigned int cpu = 0; cpu < 3; cpu++) {
		char line[64];

		snprintf(line, sizeof(line), "virt: undo enable on CPU %u", cpu);
		assert_true(host_log_contains(line));
		assert_int_equal(op_count_cpu("enable", cpu), 1);
		assert_int_equal(op_count_cpu("disable", cpu), 1);
		assert_int_equal(virt_cpu_of(cpu)->state, VIRT_CPU_OFF);
		assert_false(mock_hw[cpu]);
		assert_false(virt_cpu_wanted(virt_cpu_of(cpu)));
		assert_int_equal(virt_cpu_of(cpu)->enables, 1);
		assert_int_equal(virt_cpu_of(cpu)->disables, 1);
	}
	assert_int_equal(op_count_cpu("enable", 3), 0);
	assert_int_equal(op_count_cpu("disable", 3), 0);
	assert_false(host_log_contains("virt: undo enable on CPU 3"));
	/* The whole sequence was unwound too, from devops down. */
	assert_int_equal(undo_lines(got, ARRAY_SIZE(got)), STAGE_ENABLE);
	assert_string_equal(got[0], "devops");
	assert_string_equal(got[STAGE_ENABLE - 1], "arch");
	fail_init = (struct fail_inject){ -1, -1 };
	assert_nothing_registered();

	/* The boot CPU failing: every other CPU is undone. */
	mock_reset();
	virt_cpu_reset_all();
	host_log_clear();
	assert_int_equal(fail_inject_parse("enable@0", &fail_init), 0);
	assert_int_equal(virt_init(), -EIO);
	assert_true(host_log_contains("virt: enable failed on CPU 0"));
	assert_int_equal(virt_cpu_of(0)->state, VIRT_CPU_FAILED);
	for (unsigned int cpu = 1; cpu < NCPUS; cpu++)
		assert_int_equal(op_count_cpu("disable", cpu), 1);
	fail_init = (struct fail_inject){ -1, -1 };
	assert_nothing_registered();
}

/* ------------------------------------------------------------ 4. real failures */

static void test_real_compat_mismatch(void **state)
{
	(void)state;

	mock.compat_fail_cpu = 1;
	mock.compat_detail = "IA32_VMX_PROCBASED_CTLS2";
	assert_int_equal(virt_init(), -EIO);
	assert_true(host_log_contains("virt: CPU 1 is not compatible with the boot CPU: "
				      "capability mismatch: IA32_VMX_PROCBASED_CTLS2"));
	assert_int_equal(virt_cpu_of(1)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(1)->chk.reason, VIRT_REASON_CAP_MISMATCH);
	assert_string_equal(virt_cpu_of(1)->chk.detail, "IA32_VMX_PROCBASED_CTLS2");
	assert_int_equal(virt_cpu_of(0)->state, VIRT_CPU_OFF);
	assert_int_equal(op_count("unsetup"), 1);
	assert_int_equal(op_count("enable@0"), 0);
	assert_nothing_registered();
}

static void test_cpu_no_answer(void **state)
{
	(void)state;

	/* During the compatibility check. */
	host_smp_no_answer = 3;
	assert_int_equal(virt_init(), -ETIMEDOUT);
	assert_true(host_log_contains("virt: CPU 3 is not compatible with the boot CPU: did not answer"));
	assert_int_equal(virt_cpu_of(3)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(3)->chk.reason, VIRT_REASON_NO_ANSWER);
	assert_int_equal(op_count_cpu("compat", 3), 0);
	assert_int_equal(op_count_cpu("compat", 2), 1);
	host_smp_no_answer = -1;
	assert_nothing_registered();

	/* During enable: CPU 2 answers the check, then goes deaf. */
	mock_reset();
	virt_cpu_reset_all();
	host_log_clear();
	mock.no_answer_after_compat = 2;
	assert_int_equal(virt_init(), -ETIMEDOUT);
	assert_true(host_log_contains("virt: enable failed on CPU 2: ETIMEDOUT (did not answer)"));
	assert_int_equal(virt_cpu_of(2)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(2)->chk.reason, VIRT_REASON_NO_ANSWER);
	assert_int_equal(op_count_cpu("enable", 2), 0);
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++)
		if (cpu != 2)
			assert_int_equal(op_count_cpu("disable", cpu), 1);
	host_smp_no_answer = -1;
	assert_nothing_registered();

	/* A real enable failure from the backend. */
	mock_reset();
	virt_cpu_reset_all();
	host_log_clear();
	mock.enable_fail_cpu = 1;
	assert_int_equal(virt_init(), -EIO);
	assert_true(host_log_contains("virt: enable failed on CPU 1: EIO (enable failed: VMXON)"));
	assert_int_equal(virt_cpu_of(1)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(1)->chk.reason, VIRT_REASON_ENABLE_FAILED);
	assert_nothing_registered();
}

/* ------------------------------------------------------------ 5. arch stage */

static void test_probe_fails(void **state)
{
	(void)state;

	mock.probe_ret = -ENODEV;
	mock.probe_reason = VIRT_REASON_FW_DISABLED;
	assert_int_equal(virt_init(), -ENODEV);
	assert_true(host_log_contains(
		"virt: mock unusable on the boot CPU: disabled in firmware: IA32_FEATURE_CONTROL"));
	assert_int_equal(virt_cpu_of(0)->state, VIRT_CPU_FAILED);
	assert_int_equal(virt_cpu_of(0)->chk.reason, VIRT_REASON_FW_DISABLED);
	assert_int_equal(op_count("probe"), 1);
	assert_int_equal(noplog, 1);
	assert_false(host_log_contains("virt: undo"));
	assert_nothing_registered();
}

static void test_no_backend(void **state)
{
	(void)state;

	host_virt_select_ops = NULL;
	assert_int_equal(virt_init(), -ENODEV);
	assert_true(host_log_contains("virt: no hardware virtualization: no VMX/SVM: host: no backend"));
	assert_int_equal(noplog, 0);
	assert_false(host_log_contains("virt: undo"));
	assert_nothing_registered();

	/* A backend that fails validation is refused before any op runs. */
	static struct virt_ops broken;

	broken = mock_ops;
	broken.enable = NULL;
	host_virt_select_ops = &broken;
	host_log_clear();
	assert_int_equal(virt_init(), -EINVAL);
	assert_true(host_log_contains("virt: backend mock lacks the enable op"));
	assert_int_equal(noplog, 0);
	assert_nothing_registered();
}

/* ------------------------------------------------------------ 6. validate */

#define CHECK_MISSING(f) do {                                              \
	struct virt_ops t_ = mock_ops;                                     \
	t_.f = NULL;                                                       \
	host_log_clear();                                                  \
	assert_int_equal(virt_ops_validate(&t_), -EINVAL);                 \
	assert_true(host_log_contains("virt: backend mock lacks the " #f " op")); \
} while (0)

static void test_ops_validate(void **state)
{
	(void)state;
	struct virt_ops t = mock_ops;

	assert_int_equal(virt_ops_validate(&mock_ops), 0);
	CHECK_MISSING(probe);
	CHECK_MISSING(hardware_setup);
	CHECK_MISSING(hardware_unsetup);
	CHECK_MISSING(check_compat);
	CHECK_MISSING(enable);
	CHECK_MISSING(disable);
	CHECK_MISSING(hw_state);
	CHECK_MISSING(emergency_disable);
	t.vcpu_size = 0;
	host_log_clear();
	assert_int_equal(virt_ops_validate(&t), -EINVAL);
	assert_true(host_log_contains("virt: backend mock has no vCPU size"));
	/* vcpu_align 0 is fine (natural alignment). */
	t = mock_ops;
	t.vcpu_align = 0;
	assert_int_equal(virt_ops_validate(&t), 0);
}

/* ------------------------------------------------------------ 7. refcounts */

static void test_refcount_composition(void **state)
{
	(void)state;

	assert_int_equal(virt_init(), 0);
	assert_hw(true, true, true, true);

	assert_int_equal(cpu_offline(2), 0);
	assert_true(cpu_is_parked(2));
	assert_int_equal(smp_num_online(), NCPUS - 1);
	assert_hw(true, true, false, true);
	assert_true(virt_cpu_of(2)->offline);
	assert_false(virt_cpu_wanted(virt_cpu_of(2)));
	assert_int_equal(virt_counts.users, 1);         /* the init's, untouched */
	assert_int_equal(virt_counts.suspends, 0);
	assert_int_equal(op_count_cpu("disable", 2), 1);
	assert_int_equal(cpu_offline(2), -EALREADY);
	assert_int_equal(cpu_offline(0), -EINVAL);
	assert_int_equal(cpu_offline(NR_CPUS), -EINVAL);
	assert_int_equal(cpu_online(1), -EALREADY);
	assert_int_equal(cpu_online(NCPUS), -EINVAL);
	assert_int_equal(cpumask_weight(virt_enabled_mask), NCPUS - 1);

	assert_int_equal(syscore_suspend(), 0);
	assert_hw(false, false, false, false);
	assert_int_equal(virt_counts.suspends, 1);
	assert_int_equal(virt_counts.users, 1);
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
	assert_true(cpumask_empty(virt_enabled_mask));
	assert_int_equal(op_count_cpu("disable", 2), 1);  /* already off: not again */

	syscore_resume();
	assert_hw(true, true, false, true);
	assert_int_equal(virt_counts.suspends, 0);
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);
	assert_true(virt_cpu_of(2)->offline);               /* resume does not online it */
	assert_int_equal(op_count_cpu("enable", 2), 1);

	/* Suspends nest: on again only after the last resume. */
	assert_int_equal(virt_suspend_all(), 0);
	assert_int_equal(virt_suspend_all(), 0);
	assert_int_equal(virt_counts.suspends, 2);
	assert_hw(false, false, false, false);
	assert_int_equal(virt_resume_all(), 0);
	assert_int_equal(virt_counts.suspends, 1);
	assert_hw(false, false, false, false);
	assert_int_equal(virt_resume_all(), 0);
	assert_int_equal(virt_counts.suspends, 0);
	assert_hw(true, true, false, true);
	assert_int_equal(virt_resume_all(), 0);         /* unbalanced: stays at 0 */
	assert_int_equal(virt_counts.suspends, 0);
	assert_hw(true, true, false, true);

	assert_int_equal(cpu_online(2), 0);
	assert_false(cpu_is_parked(2));
	assert_hw(true, true, true, true);
	assert_false(virt_cpu_of(2)->offline);
	assert_true(virt_cpu_wanted(virt_cpu_of(2)));
	assert_int_equal(virt_cpu_of(2)->enables, 2);
	assert_int_equal(cpumask_weight(virt_enabled_mask), NCPUS);

	/* Reboot: every CPU off, hypercalls refused. */
	host_log_clear();
	assert_int_equal(notifier_call_chain(&reboot_notifiers, REBOOT_RESET, NULL), 0);
	assert_hw(false, false, false, false);
	assert_true(virt_counts.rebooting);
	assert_int_equal(virt_counts.users, 1);
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
	assert_true(host_log_contains("virt: cpu  apic  state   hw"));
	/* Nothing brings the hardware back while rebooting: not a resume, not
	 * an online. */
	assert_int_equal(syscore_suspend(), 0);
	syscore_resume();
	assert_int_equal(cpu_offline(3), 0);
	assert_int_equal(cpu_online(3), 0);
	assert_hw(false, false, false, false);
	assert_int_equal(mock.errors, 0);

	unsigned int disables = op_count("disable@0");

	virt_exit();
	assert_int_equal(op_count("disable@0"), disables);     /* already off */
	assert_nothing_registered();
}

/*
 * Compositions the old per-CPU refcounts got wrong; virt_cpu.h promises
 * that they compose in any order.
 */

/* suspend, offline 1, resume, online 1: CPU 1 comes back on at online
 * (the old code never released the suspend's block on an offline CPU). */
static void test_offline_while_suspended(void **state)
{
	(void)state;
	assert_int_equal(virt_init(), 0);
	assert_int_equal(syscore_suspend(), 0);
	assert_int_equal(cpu_offline(1), 0);
	assert_hw(false, false, false, false);
	assert_true(virt_cpu_of(1)->offline);
	assert_int_equal(virt_counts.suspends, 1);
	assert_int_equal(op_count_cpu("disable", 1), 1);        /* once, by suspend */
	syscore_resume();
	assert_int_equal(virt_counts.suspends, 0);
	assert_hw(true, false, true, true);
	assert_int_equal(op_count_cpu("enable", 1), 1);
	assert_int_equal(cpu_online(1), 0);
	assert_hw(true, true, true, true);
	assert_int_equal(op_count_cpu("enable", 1), 2);
	assert_int_equal(cpumask_weight(virt_enabled_mask), NCPUS);
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);

	/* The other way round: offline while suspended, online while still
	 * suspended (stays off), then resume (on). */
	assert_int_equal(syscore_suspend(), 0);
	assert_int_equal(cpu_offline(3), 0);
	assert_int_equal(cpu_online(3), 0);
	assert_hw(false, false, false, false);
	syscore_resume();
	assert_hw(true, true, true, true);
	assert_int_equal(mock.errors, 0);
	virt_exit();
	assert_nothing_registered();
}

/* A CPU that is offline during init comes on when it comes online (the old
 * code never gave it a reference). */
static void test_offline_during_init(void **state)
{
	(void)state;
	assert_int_equal(cpu_offline(2), 0);
	assert_int_equal(virt_init(), 0);
	assert_hw(true, true, false, true);
	assert_int_equal(op_count_cpu("compat", 2), 0);
	assert_int_equal(op_count_cpu("enable", 2), 0);
	assert_true(host_log_contains("virt: mock on in 3 CPUs"));
	assert_int_equal(cpu_online(2), 0);
	assert_hw(true, true, true, true);
	assert_int_equal(op_count_cpu("enable", 2), 1);
	assert_int_equal(cpumask_weight(virt_enabled_mask), NCPUS);
	assert_int_equal(mock.errors, 0);
	virt_exit();
	assert_nothing_registered();
}

/* Nothing of one init's per-CPU state leaks into the next: neither an
 * offline CPU onlined after exit (the old code left its block behind) nor
 * a suspend that the exit never saw resumed. */
static void test_state_across_exit(void **state)
{
	(void)state;
	assert_int_equal(virt_init(), 0);
	assert_int_equal(cpu_offline(2), 0);
	virt_exit();
	assert_int_equal(cpu_online(2), 0);
	assert_int_equal(virt_init(), 0);
	assert_hw(true, true, true, true);
	assert_int_equal(cpumask_weight(virt_enabled_mask), NCPUS);
	virt_exit();
	assert_nothing_registered();

	/* The same with suspend: exit while suspended, resume, init again. */
	assert_int_equal(virt_init(), 0);
	assert_int_equal(syscore_suspend(), 0);
	assert_int_equal(virt_counts.suspends, 1);
	virt_exit();
	syscore_resume();                       /* virt's op is gone: not called */
	assert_all_hw_off();
	assert_int_equal(virt_init(), 0);
	assert_int_equal(virt_counts.suspends, 0);
	assert_int_equal(virt_counts.users, 1);
	assert_hw(true, true, true, true);
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);
	virt_exit();
	assert_nothing_registered();

	/* And with reboot: the rebooting flag does not survive into a new init. */
	assert_int_equal(virt_init(), 0);
	assert_int_equal(notifier_call_chain(&reboot_notifiers, REBOOT_RESET, NULL), 0);
	assert_true(virt_counts.rebooting);
	virt_exit();
	assert_int_equal(virt_init(), 0);
	assert_false(virt_counts.rebooting);
	assert_hw(true, true, true, true);
	assert_int_equal(mock.errors, 0);
	virt_exit();
	assert_nothing_registered();
}

/* The panic hook: emergency disable on each CPU, hardware read back. */
static int run_panic_hook(void *arg)
{
	return panic_cpu_hook();
}

static void test_panic_cpu_hook(void **state)
{
	(void)state;
	int results[NR_CPUS];

	assert_int_equal(virt_init(), 0);
	assert_non_null(panic_cpu_hook);
	memset(results, 0x55, sizeof(results));
	assert_int_equal(smp_call_function_all(run_panic_hook, NULL, results), 0);
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++)
		assert_int_equal(results[cpu], 0);
	assert_all_hw_off();
	mock.tolerate_disable_off = true;
	virt_exit();
	assert_null(panic_cpu_hook);
	assert_nothing_registered();
}

/* ------------------------------------------------------------ 8. fail_init= parsing */

static void test_fail_inject_parse(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "bogus", "ARCH", "enabl", "enable2", "arch@1", "hw_setup@0", "devops@0",
		"compat@", "compat@x", "compat@1x", "compat@-1", "compat@@1", "compat@ 1",
		"compat@256", "enable@300", "enable@99999999999999999999", "@1",
	};
	struct fail_inject fi;

	for (int s = 0; s < STAGE_COUNT; s++) {
		fi = (struct fail_inject){ 99, 99 };
		assert_int_equal(fail_inject_parse(virt_stage_name(s), &fi), 0);
		assert_int_equal(fi.stage, s);
		assert_int_equal(fi.cpu, -1);
	}
	assert_string_equal(virt_stage_name(STAGE_COUNT), "?");
	assert_string_equal(virt_stage_name((enum virt_stage)-1), "?");

	assert_int_equal(fail_inject_parse("compat@2", &fi), 0);
	assert_int_equal(fi.stage, STAGE_COMPAT);
	assert_int_equal(fi.cpu, 2);
	assert_int_equal(fail_inject_parse("enable@0", &fi), 0);
	assert_int_equal(fi.stage, STAGE_ENABLE);
	assert_int_equal(fi.cpu, 0);
	assert_int_equal(fail_inject_parse("enable@255", &fi), 0);
	assert_int_equal(fi.cpu, NR_CPUS - 1);
	assert_int_equal(fail_inject_parse("compat@007", &fi), 0);
	assert_int_equal(fi.cpu, 7);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		fi = (struct fail_inject){ 99, 99 };
		if (fail_inject_parse(bad[i], &fi) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(fi.stage, 99);      /* untouched */
		assert_int_equal(fi.cpu, 99);
	}
	assert_int_equal(fail_inject_parse(NULL, &fi), -EINVAL);

	/* What a parsed value hits. */
	fail_init = (struct fail_inject){ STAGE_COMPAT, 2 };
	assert_true(fail_inject_hit(STAGE_COMPAT, 2));
	assert_false(fail_inject_hit(STAGE_COMPAT, 1));
	assert_false(fail_inject_hit(STAGE_COMPAT, -1));
	assert_false(fail_inject_hit(STAGE_ENABLE, 2));
	fail_init = (struct fail_inject){ STAGE_HYPERCALL, -1 };
	assert_true(fail_inject_hit(STAGE_HYPERCALL, -1));
	assert_false(fail_inject_hit(STAGE_ASYNC, -1));
	fail_init = (struct fail_inject){ -1, -1 };
	for (int s = 0; s < STAGE_COUNT; s++)
		assert_false(fail_inject_hit(s, -1));
}

/* ------------------------------------------------------------ 9. stage subsystems */

static char order[64];

static void work_fn(struct work *w);
static struct work w_a = { .fn = work_fn }, w_b = { .fn = work_fn }, w_c = { .fn = work_fn };

static void work_fn(struct work *w)
{
	char c = w == &w_a ? 'a' : w == &w_b ? 'b' : w == &w_c ? 'c' : '?';
	size_t n = strlen(order);

	if (n + 1 < sizeof(order)) {
		order[n] = c;
		order[n + 1] = '\0';
	}
	/* Queuing from a work item runs it on the next events_run. */
	if (w == &w_c && n == 2)
		events_queue(&w_a);
}

static void test_events(void **state)
{
	(void)state;

	assert_int_equal(events_queue(&w_a), -EAGAIN);
	assert_int_equal(events_run(), 0);
	assert_int_equal(events_init(), 0);
	assert_int_equal(events_run(), 0);

	order[0] = '\0';
	assert_int_equal(events_queue(&w_b), 0);
	assert_int_equal(events_queue(&w_a), 0);
	assert_int_equal(events_queue(&w_b), 0);        /* already queued: no-op */
	assert_int_equal(events_queue(&w_c), 0);
	assert_int_equal(events_run(), 3);
	assert_string_equal(order, "bac");
	assert_false(w_b.queued);
	assert_int_equal(events_run(), 1);              /* w_a, queued by w_c */
	assert_string_equal(order, "baca");
	assert_int_equal(events_run(), 0);

	/* Exit runs what is still queued. */
	order[0] = '\0';
	assert_int_equal(events_queue(&w_b), 0);
	events_exit();
	assert_string_equal(order, "b");
	assert_int_equal(events_queue(&w_b), -EAGAIN);
	assert_int_equal(events_run(), 0);
	assert_mem_back();
}

static char sc_log[64];

static void sc_note(char c)
{
	size_t n = strlen(sc_log);

	if (n + 1 < sizeof(sc_log)) {
		sc_log[n] = c;
		sc_log[n + 1] = '\0';
	}
}

static int sc_fail;     /* which op's suspend fails: 'A', 'B', 'C' or 0 */
static int sus_a(void) { sc_note('A'); return sc_fail == 'A' ? -EBUSY : 0; }
static int sus_b(void) { sc_note('B'); return sc_fail == 'B' ? -EBUSY : 0; }
static int sus_c(void) { sc_note('C'); return sc_fail == 'C' ? -EBUSY : 0; }
static void res_a(void) { sc_note('a'); }
static void res_b(void) { sc_note('b'); }
static void res_c(void) { sc_note('c'); }

static void test_syscore(void **state)
{
	(void)state;
	static struct syscore_ops a = { sus_a, res_a, NULL }, b = { sus_b, res_b, NULL },
				  c = { sus_c, res_c, NULL }, n = { NULL, NULL, NULL };

	assert_int_equal(syscore_register(&a), 0);
	assert_int_equal(syscore_register(&b), 0);
	assert_int_equal(syscore_register(&n), 0);      /* no hooks: skipped */
	assert_int_equal(syscore_register(&c), 0);
	assert_int_equal(syscore_register(&b), -EEXIST);

	/* Last registered suspends first and resumes last. */
	sc_log[0] = '\0';
	sc_fail = 0;
	assert_int_equal(syscore_suspend(), 0);
	syscore_resume();
	assert_string_equal(sc_log, "CBAabc");

	/* A failure resumes exactly those already suspended. */
	sc_log[0] = '\0';
	sc_fail = 'B';
	assert_int_equal(syscore_suspend(), -EBUSY);
	assert_string_equal(sc_log, "CBc");
	sc_log[0] = '\0';
	sc_fail = 'A';
	assert_int_equal(syscore_suspend(), -EBUSY);
	/* C and B were suspended; both resumed in reverse order (B, then C),
	 * A (the failing one) not. */
	assert_string_equal(sc_log, "CBAbc");
	sc_log[0] = '\0';
	sc_fail = 'C';
	assert_int_equal(syscore_suspend(), -EBUSY);
	assert_string_equal(sc_log, "C");
	syscore_unregister(&b);
	syscore_unregister(&b);                         /* not there: no-op */
	sc_log[0] = '\0';
	sc_fail = 0;
	assert_int_equal(syscore_suspend(), 0);
	syscore_resume();
	assert_string_equal(sc_log, "CAac");
	syscore_unregister(&a);
	syscore_unregister(&c);
	syscore_unregister(&n);
	sc_log[0] = '\0';
	assert_int_equal(syscore_suspend(), 0);
	syscore_resume();
	assert_string_equal(sc_log, "");
}

/* A syscore op that fails after virt's suspended: virt is resumed (its
 * hardware back on, its suspend count back to 0, hypercalls answered), and
 * after the ops suspended after it (reverse order). */
static bool sc_hw_on_at_resume;
static int sus_later(void) { sc_note('L'); return 0; }
static void res_later(void) { sc_note('l'); sc_hw_on_at_resume = mock_hw[1]; }
static int sus_fail(void) { sc_note('F'); return -EBUSY; }

static void test_syscore_fail_resumes_virt(void **state)
{
	(void)state;
	static struct syscore_ops fail = { sus_fail, res_c, NULL },
				  later = { sus_later, res_later, NULL };

	/* Registered before virt: suspended after it. */
	assert_int_equal(syscore_register(&fail), 0);
	assert_int_equal(virt_init(), 0);
	/* Registered after virt: suspended before it, resumed after it. */
	assert_int_equal(syscore_register(&later), 0);
	assert_hw(true, true, true, true);

	sc_log[0] = '\0';
	noplog = 0;
	sc_hw_on_at_resume = false;
	assert_int_equal(syscore_suspend(), -EBUSY);
	assert_string_equal(sc_log, "LFl");     /* fail's resume not called */
	/* virt, suspended after `later`, was resumed before it. */
	assert_true(sc_hw_on_at_resume);
	assert_int_equal(virt_counts.suspends, 0);
	assert_hw(true, true, true, true);
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
		assert_int_equal(op_count_cpu("disable", cpu), 1);
		assert_int_equal(op_count_cpu("enable", cpu), 1);
	}
	/* Each CPU off, then every CPU back on: disables first. */
	for (unsigned int i = 0; i < NCPUS; i++)
		assert_non_null(strstr(oplog[i], "disable@"));
	assert_int_equal(mock.errors, 0);

	syscore_unregister(&later);
	syscore_unregister(&fail);
	virt_exit();
	assert_nothing_registered();
}

static unsigned int shown_x, shown_y;
static void show_x(void) { shown_x++; }
static void show_y(void) { shown_y++; }

static void test_debug_stats(void **state)
{
	(void)state;
	static struct debug_stat x = { .name = "x", .show = show_x },
				 x2 = { .name = "x", .show = show_y },
				 y = { .name = "y", .show = show_y };

	assert_int_equal(debug_stats_show("x"), -ENOENT);
	assert_int_equal(debug_stats_show(NULL), 0);    /* none: fine */
	assert_int_equal(debug_stat_register(&x), 0);
	assert_int_equal(debug_stat_register(&x2), -EEXIST);
	assert_int_equal(debug_stat_register(&x), -EEXIST);
	assert_int_equal(debug_stat_register(&y), 0);
	assert_int_equal(debug_stats_show("x"), 0);
	assert_int_equal(shown_x, 1);
	assert_int_equal(shown_y, 0);
	assert_true(host_log_contains("--- x ---"));
	assert_int_equal(debug_stats_show("nope"), -ENOENT);
	assert_int_equal(debug_stats_show(NULL), 0);
	assert_int_equal(shown_x, 2);
	assert_int_equal(shown_y, 1);
	debug_stat_unregister(&x);
	assert_int_equal(debug_stats_show("x"), -ENOENT);
	assert_int_equal(debug_stat_register(&x2), 0);  /* the name is free again */
	debug_stat_unregister(&x2);
	debug_stat_unregister(&y);
	debug_stat_unregister(&y);                      /* not there: no-op */
	assert_int_equal(debug_stats_show("y"), -ENOENT);
}

static void test_devops(void **state)
{
	(void)state;
	static struct dev_ops d7 = { .name = "seven", .type = 7 },
			      d7b = { .name = "other-seven", .type = 7 },
			      d8 = { .name = "eight", .type = 8 };

	assert_null(devops_find(7));
	assert_int_equal(devops_register(&d7), 0);
	assert_int_equal(devops_register(&d7b), -EEXIST);
	assert_int_equal(devops_register(&d8), 0);
	assert_ptr_equal(devops_find(7), &d7);
	assert_ptr_equal(devops_find(8), &d8);
	devops_unregister(&d7b);                        /* not there: no-op */
	assert_ptr_equal(devops_find(7), &d7);
	devops_unregister(&d7);
	assert_null(devops_find(7));
	assert_ptr_equal(devops_find(8), &d8);
	devops_unregister(&d8);
	assert_null(devops_find(8));
}

static char nb_order[16];
static int nb_ret[3];

static int nb_call(struct notifier_block *nb, unsigned long action, void *data)
{
	size_t n = strlen(nb_order);

	nb_order[n] = (char)('0' + nb->priority);
	nb_order[n + 1] = '\0';
	return nb_ret[nb->priority];
}

static void test_notifier(void **state)
{
	(void)state;
	static struct notifier_chain ch = NOTIFIER_CHAIN_INIT;
	static struct notifier_block n0 = { .call = nb_call, .priority = 0 },
				     n1 = { .call = nb_call, .priority = 1 },
				     n2 = { .call = nb_call, .priority = 2 };

	assert_int_equal(notifier_register(&ch, &n1), 0);
	assert_int_equal(notifier_register(&ch, &n0), 0);
	assert_int_equal(notifier_register(&ch, &n2), 0);
	assert_int_equal(notifier_register(&ch, &n1), -EEXIST);
	nb_order[0] = '\0';
	assert_int_equal(notifier_call_chain(&ch, 0, NULL), 0);
	assert_string_equal(nb_order, "210");           /* higher priority first */
	nb_ret[1] = -EBUSY;
	nb_order[0] = '\0';
	assert_int_equal(notifier_call_chain(&ch, 0, NULL), -EBUSY);
	assert_string_equal(nb_order, "21");            /* stops at the error */
	nb_ret[1] = 0;
	assert_int_equal(notifier_unregister(&ch, &n1), 0);
	assert_int_equal(notifier_unregister(&ch, &n1), -ENOENT);
	nb_order[0] = '\0';
	assert_int_equal(notifier_call_chain(&ch, 0, NULL), 0);
	assert_string_equal(nb_order, "20");
	assert_int_equal(notifier_unregister(&ch, &n0), 0);
	assert_int_equal(notifier_unregister(&ch, &n2), 0);
	assert_null(ch.head);
}

static unsigned int sched_ins, sched_outs;
static void p_in(void *vcpu, unsigned int cpu) { sched_ins++; }
static void p_out(void *vcpu) { sched_outs++; }

static void test_preempt_async_hypercall(void **state)
{
	(void)state;
	static const struct preempt_ops p = { .sched_in = p_in, .sched_out = p_out };

	preempt_sched_in(NULL, 0);                      /* none installed */
	preempt_ops_set(&p);
	preempt_sched_in(NULL, 1);
	preempt_sched_out(NULL);
	assert_int_equal(sched_ins, 1);
	assert_int_equal(sched_outs, 1);
	preempt_ops_set(NULL);
	preempt_sched_in(NULL, 1);
	assert_int_equal(sched_ins, 1);

	/* async_work: the cache cannot go while items are live. */
	assert_null(async_work_alloc());
	assert_int_equal(async_work_init(), 0);
	struct async_work *aw = async_work_alloc();

	assert_non_null(aw);
	assert_int_equal(async_work_exit(), -EBUSY);
	assert_non_null(async_work_cache);
	async_work_free(aw);
	assert_int_equal(async_work_exit(), 0);
	assert_null(async_work_cache);
	assert_mem_back();

	/* hypercall: answered only while installed and accepting. */
	hypercall_set_accepting(true);                  /* not installed: ignored */
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
	assert_int_equal(hypercall_install(), 0);
	assert_int_equal(hypercall_install(), -EBUSY);
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
	hypercall_set_accepting(true);
	assert_int_equal(hc(HC_API_VERSION, 0), HV_API_VERSION);
	assert_int_equal(hc(HC_COUNT, 0), -HV_ENOSYS);
	assert_int_equal(hc(~0ULL, 0), -HV_ENOSYS);
	assert_int_equal(hc(HC_VIRT_STATUS, NR_CPUS), -HV_EINVAL);
	virt_cpu_of(5)->state = VIRT_CPU_FAILED;
	virt_cpu_of(5)->chk.reason = VIRT_REASON_IN_USE;
	assert_int_equal(hc(HC_VIRT_STATUS, 5), HV_VIRT_FAILED | VIRT_REASON_IN_USE << 8);
	hypercall_set_accepting(false);
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
	hypercall_set_accepting(true);
	hypercall_uninstall();
	assert_int_equal(hc(HC_API_VERSION, 0), -HV_EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success_and_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panic_cpu_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_every_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_compat_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_enable_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_compat_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops_validate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_composition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_while_suspended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_during_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_across_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_inject_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syscore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syscore_fail_resumes_virt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_async_hypercall, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
