/*
 * The CPU-state test program (a multiboot2 module): what a guest's
 * registers are worth across world switches, on either vendor. x87/SSE/AVX
 * state, XCR0, debug registers, MSRs, CR8, CPUID, memory regions taken
 * away under a running child, and the instructions a real OS executes,
 * checked from the root and from child VMs running child_cpu.c (C on the
 * runtime in tests/guest/crt, driven by commands: child_cpu.h). Prints one
 * line per check, the number of checks planned and run, and a verdict
 * (tests/system/cases_cpu.py). Module options: rounds=N (FPU switches).
 */
#include "vmlib64.h"
#include "child_cpu.h"

extern const uint8_t child_cpu_bin_start[], child_cpu_bin_end[];

#define CHILD_RAM       0x200000ULL
#define KVM_SIG_EBX     0x4b4d564bu     /* "KVMKVMKVM\0\0\0" */
#define KVM_SIG_ECX     0x564b4d56u
#define KVM_SIG_EDX     0x0000004du

/* Checks each section reports (PASS, FAIL or SKIP), whatever the CPU. */
#define PLAN_FPU        5
#define PLAN_XSAVE      12
#define PLAN_XSETBV     9
#define PLAN_SREGS      2
#define PLAN_XCR0       2
#define PLAN_DR         12
#define PLAN_MSR        45
#define PLAN_CR8        4
#define PLAN_CPUID      16
#define PLAN_REGION     4
#define PLAN_DELIVERY   2
#define PLAN_INSN       CI_COUNT
#define PLAN_CRT        2
#define PLAN_STATS      3
#define PLAN_TOTAL      (PLAN_FPU + PLAN_XSAVE + PLAN_XSETBV + PLAN_SREGS + PLAN_DR + \
			 PLAN_MSR + PLAN_CR8 + PLAN_CPUID + PLAN_REGION + PLAN_DELIVERY + PLAN_INSN + \
			 PLAN_XCR0 + PLAN_CRT + PLAN_STATS)

static unsigned int nr_cpus, rounds = 1000;
static uint64_t tsc_khz;

/* ---------------------------------------------------------- results */

static int passed, failed, skipped, reported;
static const char *sec_name;
static int sec_first, sec_plan;

static void result(int kind, const char *name, const char *why)
{
	reported++;
	if (kind > 0) {
		passed++;
		gprintf("cpu-test: PASS %s\n", name);
	} else if (kind == 0) {
		failed++;
		gprintf("cpu-test: FAIL %s: %s\n", name, why);
	} else {
		skipped++;
		gprintf("cpu-test: SKIP %s: %s\n", name, why);
	}
}

/* PASS if cond, else FAIL with the printf-style reason. */
#define CHECK(cond, name, ...)                                                  \
	do {                                                                    \
		if (cond) {                                                     \
			result(1, name, "");                                    \
		} else {                                                        \
			char why_[256];                                         \
			snprintf(why_, sizeof(why_), __VA_ARGS__);             \
			result(0, name, why_);                                  \
		}                                                               \
	} while (0)
#define SKIP(name, why) result(-1, name, why)

static void section_begin(const char *name, int plan)
{
	sec_name = name;
	sec_first = reported;
	sec_plan = plan;
	gprintf("cpu-test: section %s: %d checks\n", name, plan);
}

static int section_left(void)
{
	return sec_plan - (reported - sec_first);
}

/* The section cannot go on: its remaining checks fail. */
static void section_abort(const char *why)
{
	int left = section_left();

	if (left <= 0)
		return;
	failed += left;
	reported += left;
	gprintf("cpu-test: FAIL %s: %d checks not run: %s\n", sec_name, left, why);
}

/* The remaining checks do not apply here (printed, counted as skipped). */
static void section_skip(const char *why)
{
	int left = section_left();

	if (left <= 0)
		return;
	skipped += left;
	reported += left;
	gprintf("cpu-test: SKIP %s: %d checks: %s\n", sec_name, left, why);
}

/* A section that reports a different number of checks than it planned
 * is a failure of its own. */
static void section_end(void)
{
	int ran = reported - sec_first;

	if (ran != sec_plan) {
		failed++;
		gprintf("cpu-test: FAIL %s: %d checks reported, %d planned\n", sec_name, ran, sec_plan);
	}
}

/* ---------------------------------------------------------- the CPU */

static bool is_intel, have_xsave, have_avx, have_rdtscp, amd_topo;
static uint64_t xcr0_supported;         /* CPUID 0xD.0 EDX:EAX */
static uint32_t ymm_offset;             /* CPUID 0xD.2 EBX */

static void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(sub));
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ __volatile__("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr4" :: "r"(v) : "memory");
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void xsetbv0(uint64_t v)
{
	__asm__ __volatile__("xsetbv" :: "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}

static uint32_t rdtscp_aux(void)
{
	uint32_t lo, hi, aux;

	__asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

#define ROOT_DR(n)                                                              \
	static __attribute__((unused)) uint64_t root_get_dr##n(void)            \
	{                                                                       \
		uint64_t v;                                                     \
		__asm__ __volatile__("mov %%db" #n ", %0" : "=r"(v));           \
		return v;                                                       \
	}                                                                       \
	static void root_set_dr##n(uint64_t v)                                  \
	{                                                                       \
		__asm__ __volatile__("mov %0, %%db" #n :: "r"(v) : "memory");   \
	}
ROOT_DR(0)
ROOT_DR(1)
ROOT_DR(2)
ROOT_DR(3)
ROOT_DR(7)
#undef ROOT_DR

static void probe_cpu(void)
{
	uint32_t r[4];

	cpuid_count(0, 0, r);
	is_intel = r[1] == 0x756e6547;
	cpuid_count(1, 0, r);
	have_xsave = r[2] & (1u << 26);
	if (have_xsave) {
		cpuid_count(0xd, 0, r);
		xcr0_supported = (uint64_t)r[3] << 32 | r[0];
		cpuid_count(0xd, 2, r);
		ymm_offset = r[1];
		cpuid_count(1, 0, r);
		have_avx = (r[2] & (1u << 28)) && (xcr0_supported & 6) == 6 && ymm_offset;
	}
	cpuid_count(0x80000000, 0, r);
	amd_topo = !is_intel && r[0] >= 0x8000001e;
	if (r[0] >= 0x80000001) {
		cpuid_count(0x80000001, 0, r);
		have_rdtscp = r[3] & (1u << 27);
	}
}

/* The root runs SSE once CR4.OSFXSR is set, AVX once CR4.OSXSAVE is and
 * XCR0 says so: the hypervisor gives it neither (CR4 = PAE). */
static void root_fpu_enable(void)
{
	uint64_t cr4 = read_cr4() | (1 << 9) | (1 << 10);

	if (have_xsave)
		cr4 |= 1 << 18;
	write_cr4(cr4);
}

static uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * tsc_khz;
}

static uint64_t tsc_to_us(uint64_t t)
{
	return t * 1000 / tsc_khz;
}

/* ---------------------------------------------------------- children */

static char cmd_err[240];

/* A child_cpu VM; on failure says why (the sections then abort). */
static int64_t make_child(struct child64 *c, const char *name, unsigned int nvcpus)
{
	int64_t r;

	c->name = name;
	r = child_create64(c, child_cpu_bin_start, (size_t)(child_cpu_bin_end - child_cpu_bin_start),
			   CHILD_RAM, nvcpus);
	if (r)
		gprintf("cpu-test: creating child %s (%u vCPUs) failed: %ld\n", name, nvcpus, r);
	return r;
}

static struct cc_mbox *mbox(struct child64 *c, unsigned int i)
{
	return child_gpa64(c, CRT_MAILBOX(i));
}

static void explain(struct child64 *c, unsigned int i, uint32_t cmd, enum child64_event ev)
{
	char d[160];

	child_describe64(c, i, d, sizeof(d));
	snprintf(cmd_err, sizeof(cmd_err), "command %u on %s.%u did not complete (event %d): %s",
		  cmd, c->name, i, (int)ev, d);
}

/* Give vCPU i a command here; false with cmd_err set if it did not come
 * back to its prompt. */
static bool run_cmd(struct child64 *c, unsigned int i, uint32_t cmd)
{
	enum child64_event ev = child_cmd64(c, i, cmd);

	if (ev == C64_PROMPT)
		return true;
	explain(c, i, cmd, ev);
	return false;
}

static void set_args(struct child64 *c, unsigned int i, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct cc_mbox *mb = mbox(c, i);

	mb->arg[0] = a0;
	mb->arg[1] = a1;
	mb->arg[2] = a2;
}

/* ---------------------------------------------------------- CPU 1 */

/*
 * A root vCPU on CPU 1 runs commands for CPU 0: a job is posted, it runs
 * child_cmd64 there, and says when it is done. A job that never ends (a
 * child that spins on) is ended with HC_KICK.
 */
static struct {
	struct child64 *c;
	unsigned int vcpu;
	uint32_t cmd;
	enum child64_event ev;
	int posted, done;
} job;
static bool worker;

static void ap_main(uint64_t cpu)
{
	int seen = 0;

	for (;;) {
		while (__atomic_load_n(&job.posted, __ATOMIC_ACQUIRE) == seen)
			__asm__ __volatile__("pause");
		seen = job.posted;
		job.ev = child_cmd64(job.c, job.vcpu, job.cmd);
		__atomic_store_n(&job.done, seen, __ATOMIC_RELEASE);
	}
}

void ap_main_trampoline(uint64_t cpu);
void ap_main_trampoline(uint64_t cpu)
{
	ap_main(cpu);
}

static void __attribute__((naked)) ap_entry(void)
{
	__asm__ __volatile__("call ap_main_trampoline\n1: hlt\njmp 1b");
}

static void start_worker(void)
{
	uint8_t *stack;

	if (nr_cpus < 2)
		return;
	stack = ralloc(16384);
	worker = stack && !hcall(HC_START_ROOT_VCPU, 1, (uint64_t)ap_entry,
				 (uint64_t)stack + 16384 - 8, 1);
	if (!worker)
		gprintf("cpu-test: no root vCPU on CPU 1: the sections that need it fail\n");
}

static void job_post(struct child64 *c, unsigned int i, uint32_t cmd)
{
	job.c = c;
	job.vcpu = i;
	job.cmd = cmd;
	__atomic_store_n(&job.posted, job.posted + 1, __ATOMIC_RELEASE);
}

static bool job_wait(uint64_t ms)
{
	uint64_t t0 = rdtsc();

	while (__atomic_load_n(&job.done, __ATOMIC_ACQUIRE) != job.posted) {
		if (rdtsc() - t0 > ms_to_tsc(ms))
			return false;
		__asm__ __volatile__("pause");
	}
	return true;
}

/* A job that does not end: kick its vCPU out of HC_RUN. */
static bool job_finish(uint64_t ms)
{
	if (job_wait(ms))
		return true;
	hcall(HC_KICK, (uint64_t)job.c->vcpu[job.vcpu], 0, 0, 0);
	return job_wait(2000);
}

/* ---------------------------------------------------------- x87/SSE/AVX */

static struct child64 ca, cb;           /* the FPU, XSAVE and XSETBV children */
static bool fpu_ok;
static uint32_t ca_round, cb_round;     /* the pattern each loaded last */
static uint64_t ca_xcr0, cb_xcr0, root_xcr0 = 1;
static struct fpu_image root_snap;
static bool root_avx;

static void root_load(uint32_t round)
{
	struct fpu_image p;

	fpu_pattern(&p, OWNER_ROOT, round);
	fpu_load(&p, root_avx);
	fpu_save(&root_snap, root_avx);
}

static int root_check(struct fpu_diff *d)
{
	struct fpu_image cur;

	fpu_save(&cur, root_avx);
	*d = fpu_compare(&cur, &root_snap, root_avx, true);
	return d->items;
}

/* A child's FPU round, tallied: its own check of what it loaded last. */
struct tally {
	int bad;
	uint32_t first_round;
	char why[CC_MBOX_TEXT];
};

static void tally(struct tally *t, const struct cc_mbox *mb, uint32_t round)
{
	if (!mb->res[0] && !mb->res[1])
		return;
	if (!t->bad++) {
		t->first_round = round;
		gmemcpy(t->why, mb->text, sizeof(t->why));
		t->why[sizeof(t->why) - 1] = '\0';
	}
}

static void root_tally(struct tally *t, uint32_t round, const char *after)
{
	struct fpu_diff d;

	if (!root_check(&d))
		return;
	if (!t->bad++) {
		t->first_round = round;
		snprintf(t->why, sizeof(t->why), "after %s: %d registers differ, first %s: 0x%lx, expected 0x%lx",
			  after, d.items, d.what, d.got, d.want);
	}
	/* Go on from what it should be. */
	fpu_load(&root_snap, root_avx);
}

static bool fpu_round(struct child64 *c, uint32_t owner, bool check, uint32_t round, struct tally *t)
{
	set_args(c, 0, owner, check, round);
	if (!run_cmd(c, 0, CC_FPU_ROUND))
		return false;
	tally(t, mbox(c, 0), round);
	return true;
}

/*
 * Does a child's XSETBV reach the hypervisor? It must (an XSETBV exit:
 * XCR0 is per vCPU), but QEMU 7.2's TCG has no SVM XSETBV intercept: the
 * instruction then changes the CPU's XCR0 behind the hypervisor's back,
 * and the next XRSTOR of that vCPU's state (its XSTATE_BV beyond the XCR0
 * the hypervisor keeps for it) is a #GP in the hypervisor. A probe child
 * sets XCR0 3 once and is destroyed without running again; where its
 * XSETBV did not exit, nothing else here executes XSETBV.
 */
static bool xsetbv_exits;

static void probe_xsetbv(void)
{
	static struct child64 cx;
	struct hv_xsave *x = ralloc(4096);
	int64_t r;

	if (!have_xsave || !x || make_child(&cx, "X", 1))
		return;
	set_args(&cx, 0, 3, 0, 1);
	if (run_cmd(&cx, 0, CC_FPU_SETUP)) {
		r = hcall(HC_GET_XSAVE, (uint64_t)cx.vcpu[0], (uint64_t)x, 0, 0);
		xsetbv_exits = r == 0 && mbox(&cx, 0)->res[1] == 3 && x->xcr0 == 3;
		gprintf("cpu-test: a child's XSETBV(0x3): it reads XCR0 0x%lx, the hypervisor keeps 0x%lx%s\n",
			(uint64_t)mbox(&cx, 0)->res[1], x->xcr0,
			xsetbv_exits ? "" : ": XSETBV does not exit on this CPU (QEMU 7.2 TCG has no SVM "
			"XSETBV intercept); no XSETBV from here on");
	}
	child_destroy64(&cx);
}

static void fpu_section(void)
{
	struct tally troot[2] = { { 0 } }, ta = { 0 }, tb = { 0 };
	struct fpu_image reset = { .fcw = 0x37f, .mxcsr = 0x1f80 }, freshA, freshB;
	struct fpu_diff da, db;
	uint32_t n[2], g = 0;
	char name[160];
	uint64_t want_a = !xsetbv_exits ? 1 : have_avx ? 7 : 3;

	section_begin("fpu", PLAN_FPU);
	/* The pattern a child that sees the root's registers would see. */
	root_load(0xffff);
	if (make_child(&ca, "A", 1) || make_child(&cb, "B", 1)) {
		section_abort("cannot create children A and B");
		return;
	}
	set_args(&ca, 0, want_a == 1 ? 0 : want_a, want_a == 7, have_xsave);
	set_args(&cb, 0, 0, 0, have_xsave);
	if (!run_cmd(&ca, 0, CC_FPU_SETUP) || !run_cmd(&cb, 0, CC_FPU_SETUP)) {
		section_abort(cmd_err);
		return;
	}
	freshA = mbox(&ca, 0)->u.fpu;
	freshB = mbox(&cb, 0)->u.fpu;
	ca_xcr0 = have_xsave ? (uint64_t)mbox(&ca, 0)->res[1] : 1;
	cb_xcr0 = have_xsave ? (uint64_t)mbox(&cb, 0)->res[1] : 1;
	if (mbox(&ca, 0)->res[0] != -1 || ca_xcr0 != want_a || cb_xcr0 != 1) {
		snprintf(cmd_err, sizeof(cmd_err), "child setup: A XSETBV(0x%lx) raised %ld, XCR0 0x%lx; B XCR0 0x%lx",
			  want_a, mbox(&ca, 0)->res[0], ca_xcr0, cb_xcr0);
		section_abort(cmd_err);
		return;
	}
	root_tally(&troot[0], 0, "the children's first runs");
	da = fpu_compare(&freshA, &reset, false, true);
	db = fpu_compare(&freshB, &reset, false, true);
	CHECK(!da.items && !db.items, "fpu: new children start with the reset x87/SSE state, not the root's registers",
	      "%s: %d registers differ from the reset state, first %s: 0x%lx, expected 0x%lx (f0f001..: the root's XMM pattern)",
	      da.items ? "A" : "B", da.items ? da.items : db.items, da.items ? da.what : db.what,
	      da.items ? da.got : db.got, da.items ? da.want : db.want);

	/* Phase 0: the root at XCR0 1 (or without XSAVE); phase 1: the
	 * root at its full XCR0, AVX included where there is AVX. */
	n[0] = xsetbv_exits ? rounds / 2 : rounds;
	n[1] = xsetbv_exits ? rounds - n[0] : 0;
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1 && xsetbv_exits) {
			root_xcr0 = have_avx ? 7 : 3;
			xsetbv0(root_xcr0);
			root_avx = have_avx;
			if (xgetbv0() != root_xcr0) {
				snprintf(cmd_err, sizeof(cmd_err), "the root's XSETBV(0x%lx) left XCR0 0x%lx",
					  root_xcr0, xgetbv0());
				section_abort(cmd_err);
				return;
			}
		}
		for (uint32_t k = 0; k < n[phase]; k++, g++) {
			root_load(g);
			if (!fpu_round(&ca, OWNER_A, g > 0, g, &ta)) {
				section_abort(cmd_err);
				return;
			}
			root_tally(&troot[phase], g, "a run of A");
			if (!fpu_round(&cb, OWNER_B, g > 0, g, &tb)) {
				section_abort(cmd_err);
				return;
			}
			root_tally(&troot[phase], g, "a run of B");
		}
	}
	/* A last check of what each loaded in the last round. */
	if (!fpu_round(&ca, OWNER_A, true, g, &ta) || !fpu_round(&cb, OWNER_B, true, g, &tb)) {
		section_abort(cmd_err);
		return;
	}
	root_tally(&troot[n[1] ? 1 : 0], g, "the last runs");
	ca_round = cb_round = g;

	snprintf(name, sizeof(name), "fpu: root x87/SSE state intact across %u child runs (%s)",
		  2 * n[0] + (n[1] ? 0 : 2), have_xsave ? "root XCR0 0x1" : "no XSAVE: FXSAVE");
	CHECK(!troot[0].bad, name, "%d bad, first in round %u %s", troot[0].bad, troot[0].first_round,
	      troot[0].why);
	if (xsetbv_exits) {
		snprintf(name, sizeof(name), "fpu: root x87/SSE%s state intact across %u child runs (root XCR0 0x%lx)",
			  root_avx ? "/AVX" : "", 2 * n[1] + 2, root_xcr0);
		CHECK(!troot[1].bad, name, "%d bad, first in round %u %s", troot[1].bad,
		      troot[1].first_round, troot[1].why);
	} else {
		SKIP("fpu: root state intact at its full XCR0", !have_xsave ? "no XSAVE (CPUID.1:ECX[26] clear)" :
		     "XSETBV does not exit on this CPU: the root stays at XCR0 0x1");
	}
	snprintf(name, sizeof(name), "fpu: child A (XCR0 0x%lx) keeps its x87/SSE%s state across %u switches",
		  ca_xcr0, ca_xcr0 & 4 ? "/AVX" : "", g);
	CHECK(!ta.bad, name, "%d rounds bad, first round %u: %s", ta.bad, ta.first_round, ta.why);
	snprintf(name, sizeof(name), "fpu: child B (XCR0 0x%lx: SSE through CR4.OSFXSR alone) keeps its x87/SSE state across %u switches",
		  cb_xcr0, g);
	CHECK(!tb.bad, name, "%d rounds bad, first round %u: %s", tb.bad, tb.first_round, tb.why);
	fpu_ok = true;
	section_end();
}

/* ---------------------------------------------------------- XSAVE calls */

/* What the standard (non-compacted) XSAVE area holds, as an image. */
static void image_from_area(const uint8_t *a, struct fpu_image *p, bool avx)
{
	gmemset(p, 0, sizeof(*p));
	p->fcw = (uint16_t)(a[0] | a[1] << 8);
	p->fsw = (uint16_t)(a[2] | a[3] << 8);
	p->ftw = a[4];
	gmemcpy(&p->mxcsr, a + 24, 4);
	for (int r = 0; r < 8; r++)
		gmemcpy(p->st[r], a + 32 + 16 * r, 10);
	for (int r = 0; r < 16; r++)
		gmemcpy(p->xmm[r], a + 160 + 16 * r, 16);
	for (int r = 0; avx && r < 16; r++)
		gmemcpy(p->ymmh[r], a + ymm_offset + 16 * r, 16);
}

/* Bytes of the area HC_GET_XSAVE hands over: every component the
 * hypervisor offers (HV_CAP_XSAVE), whatever the vCPU's XCR0 (its state
 * is kept whole: SSE registers live with XCR0 = 1 too); 512 without XSAVE. */
static uint32_t area_bytes(uint64_t xcr0)
{
	(void)xcr0;
	if (!have_xsave)
		return 512;
	return (uint32_t)hcall(HC_CHECK_CAP, HV_CAP_XSAVE, 0, 0, 0);
}

static bool same_xsave(const struct hv_xsave *a, const struct hv_xsave *b)
{
	return a->xcr0 == b->xcr0 && a->size == b->size && a->format == b->format &&
	       a->size <= sizeof(a->area) && !gmemcmp(a->area, b->area, a->size);
}

static struct hv_xsave *xs_ref, *xs_tmp;

/* A bad HC_SET_XSAVE: -HV_EINVAL and the vCPU's state as before. */
static void bad_xsave(const char *name, int64_t vcpu)
{
	int64_t r = hcall(HC_SET_XSAVE, (uint64_t)vcpu, (uint64_t)xs_tmp, 0, 0);
	int64_t g = hcall(HC_GET_XSAVE, (uint64_t)vcpu, (uint64_t)xs_tmp, 0, 0);

	CHECK(r == -HV_EINVAL && g == 0 && same_xsave(xs_tmp, xs_ref), name,
	      "HC_SET_XSAVE returned %ld (expected %d), state %s", r, -HV_EINVAL,
	      g || !same_xsave(xs_tmp, xs_ref) ? "changed" : "unchanged");
}

static void xsave_section(void)
{
	struct hv_xsave *x;
	struct fpu_image want, got;
	struct fpu_diff d;
	uint32_t fmt = have_xsave ? HV_XSAVE_FORMAT_XSAVE : HV_XSAVE_FORMAT_FXSAVE;
	bool a_avx = ca_xcr0 & 4;               /* A uses AVX */
	int64_t r;

	section_begin("xsave", PLAN_XSAVE);
	x = ralloc(4096);
	xs_ref = ralloc(4096);
	xs_tmp = ralloc(4096);
	if (!fpu_ok || !x || !xs_ref || !xs_tmp) {
		section_abort("the fpu section did not leave children A and B");
		return;
	}
	r = hcall(HC_GET_XSAVE, (uint64_t)ca.vcpu[0], (uint64_t)x, 0, 0);
	CHECK(r == 0 && x->xcr0 == ca_xcr0 && x->size == area_bytes(ca_xcr0) && x->format == fmt,
	      "xsave: HC_GET_XSAVE of child A: its XCR0, the area's size and format",
	      "returned %ld: xcr0 0x%lx (expected 0x%lx), size %u (%u), format %u (%u)", r, x->xcr0,
	      ca_xcr0, x->size, area_bytes(ca_xcr0), x->format, fmt);
	image_from_area(x->area, &got, a_avx);
	fpu_pattern(&want, OWNER_A, ca_round);
	d = fpu_compare(&got, &want, a_avx, true);
	CHECK(!d.items, "xsave: HC_GET_XSAVE of child A shows its x87/MXCSR/XMM/YMM values at the standard offsets",
	      "%d differ, first %s: 0x%lx, expected 0x%lx", d.items, d.what, d.got, d.want);
	r = hcall(HC_GET_XSAVE, (uint64_t)cb.vcpu[0], (uint64_t)xs_tmp, 0, 0);
	image_from_area(xs_tmp->area, &got, false);
	fpu_pattern(&want, OWNER_B, cb_round);
	d = fpu_compare(&got, &want, false, true);
	CHECK(r == 0 && !d.items, "xsave: HC_GET_XSAVE of child B (XCR0 0x1) shows its x87/MXCSR/XMM values",
	      "returned %ld, size %u: %d differ, first %s: 0x%lx, expected 0x%lx", r, xs_tmp->size,
	      d.items, d.what, d.got, d.want);

	/* HC_SET_XSAVE: new values in XMM5, ST3, MXCSR (and YMM5's upper
	 * half); child A dumps its registers. */
	fpu_pattern(&want, OWNER_A, ca_round);
	fpu_put64(want.xmm[5], 0x5e75e75e75e75e70ULL);
	fpu_put64(want.st[3], 0xc0ffee00c0ffee00ULL);
	want.mxcsr = 0x1f80;
	if (a_avx)
		fpu_put64(want.ymmh[5] + 8, 0x5e75e75e75e75e71ULL);
	gmemcpy(x->area + 160 + 5 * 16, want.xmm[5], 16);
	gmemcpy(x->area + 32 + 3 * 16, want.st[3], 10);
	gmemcpy(x->area + 24, &want.mxcsr, 4);
	if (a_avx)
		gmemcpy(x->area + ymm_offset + 5 * 16, want.ymmh[5], 16);
	r = hcall(HC_SET_XSAVE, (uint64_t)ca.vcpu[0], (uint64_t)x, 0, 0);
	if (r == 0 && run_cmd(&ca, 0, CC_FPU_DUMP)) {
		d = fpu_compare(&mbox(&ca, 0)->u.fpu, &want, a_avx, true);
		CHECK(!d.items, "xsave: HC_SET_XSAVE changes what child A reads",
		      "%d differ, first %s: 0x%lx, expected 0x%lx", d.items, d.what, d.got,
		      d.want);
	} else {
		CHECK(false, "xsave: HC_SET_XSAVE changes what child A reads", "HC_SET_XSAVE returned %ld; %s",
		      r, r ? "" : cmd_err);
	}

	/* Bad buffers: each refused, the state as after the good one. */
	if (hcall(HC_GET_XSAVE, (uint64_t)ca.vcpu[0], (uint64_t)xs_ref, 0, 0)) {
		section_abort("HC_GET_XSAVE failed");
		return;
	}
	gmemcpy(xs_tmp, xs_ref, sizeof(*xs_tmp));
	xs_tmp->size += 64;
	bad_xsave("xsave: HC_SET_XSAVE with a wrong size: EINVAL, nothing changed", ca.vcpu[0]);
	if (have_xsave) {
		uint64_t bv;
		uint32_t bit = 2;

		/* Outside its XCR0 and outside what the VM may ever enable. */
		while (bit < 62 && ((xs_ref->xcr0 | xcr0_supported) >> bit & 1))
			bit++;
		gmemcpy(xs_tmp, xs_ref, sizeof(*xs_tmp));
		gmemcpy(&bv, xs_tmp->area + 512, 8);
		bv |= 1ULL << bit;
		gmemcpy(xs_tmp->area + 512, &bv, 8);
		bad_xsave("xsave: HC_SET_XSAVE with an XSTATE_BV bit outside its XCR0: EINVAL, nothing changed",
			  ca.vcpu[0]);
	} else {
		SKIP("xsave: HC_SET_XSAVE with an XSTATE_BV bit outside its XCR0",
		     "no XSAVE: the FXSAVE format has no XSTATE_BV");
	}
	gmemcpy(xs_tmp, xs_ref, sizeof(*xs_tmp));
	xs_tmp->area[27] |= 0x80;               /* MXCSR bit 31: reserved */
	bad_xsave("xsave: HC_SET_XSAVE with reserved MXCSR bits: EINVAL, nothing changed", ca.vcpu[0]);
	gmemcpy(xs_tmp, xs_ref, sizeof(*xs_tmp));
	xs_tmp->xcr0 &= ~1ULL;
	bad_xsave("xsave: HC_SET_XSAVE with an XCR0 without bit 0: EINVAL, nothing changed", ca.vcpu[0]);
	gmemcpy(xs_tmp, xs_ref, sizeof(*xs_tmp));
	xs_tmp->xcr0 = 5;
	bad_xsave("xsave: HC_SET_XSAVE with XCR0 AVX without SSE (0x5): EINVAL, nothing changed", ca.vcpu[0]);
	gmemcpy(xs_tmp, xs_ref, sizeof(*xs_tmp));
	xs_tmp->format ^= 1;
	bad_xsave("xsave: HC_SET_XSAVE in the other format: EINVAL, nothing changed", ca.vcpu[0]);
	if (run_cmd(&ca, 0, CC_FPU_DUMP)) {
		d = fpu_compare(&mbox(&ca, 0)->u.fpu, &want, a_avx, true);
		CHECK(!d.items, "xsave: child A still reads what the good HC_SET_XSAVE gave it",
		      "%d differ, first %s: 0x%lx, expected 0x%lx", d.items, d.what, d.got,
		      d.want);
	} else {
		CHECK(false, "xsave: child A still reads what the good HC_SET_XSAVE gave it", "%s", cmd_err);
	}
	r = hcall(HC_GET_XSAVE, (uint64_t)ca.vcpu[0], (uint64_t)x + 64, 0, 0);
	CHECK(r == -HV_EFAULT, "xsave: HC_GET_XSAVE into a buffer across a page boundary: EFAULT",
	      "returned %ld", r);
	section_end();
}

/* ---------------------------------------------------------- XSETBV */

static bool xsetbv_cmd(struct child64 *c, uint64_t ecx, uint64_t val, int64_t *vec, uint64_t *xcr0)
{
	set_args(c, 0, ecx, val, 0);
	if (!run_cmd(c, 0, CC_XSETBV))
		return false;
	*vec = mbox(c, 0)->res[0];
	*xcr0 = (uint64_t)mbox(c, 0)->res[1];
	return true;
}

static bool xgetbv_cmd(struct child64 *c, uint64_t *xcr0)
{
	if (!run_cmd(c, 0, CC_XGETBV))
		return false;
	*xcr0 = (uint64_t)mbox(c, 0)->res[0];
	return true;
}

static void xsetbv_gp(struct child64 *c, const char *name, uint64_t ecx, uint64_t val, uint64_t cur)
{
	int64_t vec;
	uint64_t x;

	if (!xsetbv_cmd(c, ecx, val, &vec, &x)) {
		CHECK(false, name, "%s", cmd_err);
		return;
	}
	CHECK(vec == 13 && x == cur, name, "XSETBV(ECX %lu, 0x%lx) raised %ld (expected 13, #GP), XCR0 now 0x%lx (was 0x%lx)",
	      ecx, val, vec, x, cur);
}

/*
 * B raises its XCR0 (1 -> 7, or 3 without AVX); A and the root keep
 * theirs. Lowering an XCR0 is xcr0_lower_section's, at the end: the
 * hypervisor may not survive it.
 */
static void xsetbv_section(void)
{
	uint64_t b_new, root0, x, xb, xa;
	int64_t vec, r;
	uint32_t bit = 9;
	char name[160];
	struct hv_xsave *xs = xs_tmp;

	section_begin("xsetbv", PLAN_XSETBV);
	if (!have_xsave) {
		section_skip("no XSAVE (CPUID.1:ECX[26] clear): XSETBV raises #UD");
		return;
	}
	if (!xsetbv_exits) {
		section_skip("XSETBV does not exit on this CPU (QEMU 7.2 TCG has no SVM XSETBV intercept)");
		return;
	}
	if (!fpu_ok || !xs) {
		section_abort("the fpu section did not leave children A and B");
		return;
	}
	b_new = have_avx ? 7 : 3;
	root0 = xgetbv0();
	snprintf(name, sizeof(name), "xsetbv: child B's XSETBV(0x%lx) takes: it reads XCR0 0x%lx", b_new, b_new);
	if (!xsetbv_cmd(&cb, 0, b_new, &vec, &xb)) {
		section_abort(cmd_err);
		return;
	}
	CHECK(vec == -1 && xb == b_new, name, "raised %ld, XCR0 0x%lx", vec, xb);
	snprintf(name, sizeof(name), "xsetbv: the root's XCR0 stays 0x%lx after a child's XSETBV", root0);
	x = xgetbv0();
	CHECK(x == root0, name, "the root reads 0x%lx", x);
	if (!xgetbv_cmd(&ca, &xa)) {
		section_abort(cmd_err);
		return;
	}
	snprintf(name, sizeof(name), "xsetbv: child A's XCR0 stays 0x%lx after B's XSETBV", ca_xcr0);
	CHECK(xa == ca_xcr0, name, "A reads 0x%lx", xa);
	if (!xgetbv_cmd(&cb, &xb)) {
		section_abort(cmd_err);
		return;
	}
	snprintf(name, sizeof(name), "xsetbv: B still reads 0x%lx after A and the root ran", b_new);
	CHECK(xb == b_new, name, "B reads 0x%lx", xb);
	xsetbv_gp(&cb, "xsetbv: XCR0 without bit 0 raises #GP in the child, XCR0 unchanged", 0,
		  b_new & ~1ULL, b_new);
	xsetbv_gp(&cb, "xsetbv: XCR0 with AVX but not SSE (0x5) raises #GP in the child", 0, 5, b_new);
	while (bit < 62 && (xcr0_supported >> bit & 1))
		bit++;
	snprintf(name, sizeof(name), "xsetbv: an XCR0 bit the CPUID does not offer (bit %u) raises #GP", bit);
	xsetbv_gp(&cb, name, 0, b_new | 1ULL << bit, b_new);
	xsetbv_gp(&cb, "xsetbv: XSETBV with ECX 1 raises #GP", 1, b_new, b_new);
	r = hcall(HC_GET_XSAVE, (uint64_t)cb.vcpu[0], (uint64_t)xs, 0, 0);
	snprintf(name, sizeof(name), "xsetbv: HC_GET_XSAVE reports the XCR0 child B set (0x%lx)", b_new);
	CHECK(r == 0 && xs->xcr0 == b_new && xs->size == area_bytes(b_new), name,
	      "returned %ld, xcr0 0x%lx, size %u", r, xs->xcr0, xs->size);
	section_end();
}

/*
 * A child lowers its XCR0 (7 -> 3, or 3 -> 1): the state of the component
 * it dropped must not stay marked in use in its saved XSTATE_BV, or the
 * next XRSTOR of its state (the next HC_RUN) faults. Last, before the
 * stats: the hypervisor may halt here.
 */
static void xcr0_lower_section(void)
{
	static struct child64 cl;
	struct hv_xsave *x = ralloc(4096);
	uint64_t full = have_avx ? 7 : 3, low = have_avx ? 3 : 1, xl = 0, bv = 0;
	int64_t r, vec = 0;
	char name[160];
	bool ok;

	section_begin("xcr0", PLAN_XCR0);
	if (!have_xsave || !xsetbv_exits) {
		section_skip(!have_xsave ? "no XSAVE" : "XSETBV does not exit on this CPU");
		return;
	}
	if (!x || make_child(&cl, "L", 1)) {
		section_abort("cannot create the child");
		return;
	}
	/* Its registers in use at the full XCR0, then the lower one. */
	set_args(&cl, 0, full, full == 7, 1);
	ok = run_cmd(&cl, 0, CC_FPU_SETUP) && mbox(&cl, 0)->res[1] == (int64_t)full;
	set_args(&cl, 0, OWNER_A, 0, 1);
	ok = ok && run_cmd(&cl, 0, CC_FPU_ROUND) && xsetbv_cmd(&cl, 0, low, &vec, &xl);
	if (!ok || vec != -1 || xl != low) {
		if (ok)
			snprintf(cmd_err, sizeof(cmd_err), "XSETBV(0x%lx) raised %ld, XCR0 0x%lx", low, vec, xl);
		section_abort(cmd_err);
		child_destroy64(&cl);
		return;
	}
	r = hcall(HC_GET_XSAVE, (uint64_t)cl.vcpu[0], (uint64_t)x, 0, 0);
	gmemcpy(&bv, x->area + 512, 8);
	if (!r)
		r = hcall(HC_SET_XSAVE, (uint64_t)cl.vcpu[0], (uint64_t)x, 0, 0);
	snprintf(name, sizeof(name), "xcr0: after child L lowered XCR0 0x%lx -> 0x%lx, HC_SET_XSAVE takes back what HC_GET_XSAVE gave",
		  full, low);
	CHECK(r == 0, name, "returned %ld: xcr0 0x%lx, XSTATE_BV 0x%lx", r, x->xcr0, bv);
	gprintf("cpu-test: so far %d passed, %d failed; next a run the hypervisor may not survive"
		" (XSTATE_BV 0x%lx saved for XCR0 0x%lx)\n", passed, failed, bv, x->xcr0);
	ok = xgetbv_cmd(&cl, &xl);
	snprintf(name, sizeof(name), "xcr0: child L runs again after lowering its XCR0 to 0x%lx", low);
	CHECK(ok && xl == low, name, "XCR0 0x%lx %s", xl, ok ? "" : cmd_err);
	child_destroy64(&cl);
	section_end();
}

/* ---------------------------------------------------------- control registers */

/*
 * What HC_SET_SREGS takes: the CR4 a 64-bit child with SSE needs
 * (PAE|OSFXSR|OSXMMEXCPT, docs/hypercalls.md: "CR4 bits above
 * OSXMMEXCPT" are refused, so OSXMMEXCPT itself is not), and the state
 * HC_GET_SREGS returns for a running child (a save/restore round trip).
 */
static void sregs_section(void)
{
	struct hv_sregs *s = ralloc(4096);
	int64_t r;

	section_begin("sregs", PLAN_SREGS);
	if (!s || !fpu_ok) {
		section_abort("no child A");
		return;
	}
	r = hcall(HC_GET_SREGS, (uint64_t)cb.vcpu[0], (uint64_t)s, 0, 0);
	s->cr4 = 0x620;
	if (!r)
		r = hcall(HC_SET_SREGS, (uint64_t)cb.vcpu[0], (uint64_t)s, 0, 0);
	CHECK(r == 0, "sregs: HC_SET_SREGS accepts CR4 PAE|OSFXSR|OSXMMEXCPT (0x620)",
	      "returned %ld", r);
	r = hcall(HC_GET_SREGS, (uint64_t)ca.vcpu[0], (uint64_t)s, 0, 0);
	if (!r)
		r = hcall(HC_SET_SREGS, (uint64_t)ca.vcpu[0], (uint64_t)s, 0, 0);
	CHECK(r == 0, "sregs: HC_SET_SREGS takes back what HC_GET_SREGS returned for child A",
	      "returned %ld for CR4 0x%lx, EFER 0x%lx, CR0 0x%lx", r, s->cr4, s->efer, s->cr0);
	section_end();
}

/* ---------------------------------------------------------- debug registers */

static bool dr_cmd(struct child64 *c, uint32_t cmd, const uint64_t db[4], uint64_t dr7, uint64_t out[6])
{
	struct cc_mbox *mb = mbox(c, 0);

	for (int i = 0; db && i < 4; i++)
		mb->arg[i] = db[i];
	mb->arg[4] = dr7;
	if (!run_cmd(c, 0, cmd))
		return false;
	for (int i = 0; i < 6; i++)
		out[i] = (uint64_t)mb->res[i];
	return true;
}

static bool dr_match(const uint64_t got[6], const uint64_t db[4], uint64_t dr7)
{
	for (int i = 0; i < 4; i++)
		if (got[i] != db[i])
			return false;
	return got[4] == dr7;
}

#define DR_FMT "DR0-3 %lx %lx %lx %lx DR7 %lx"
#define DR_ARGS(v) (v)[0], (v)[1], (v)[2], (v)[3], (v)[4]

static int root_dr_bad;

static void root_dr_check(const uint64_t want[4])
{
	uint64_t got[4] = { root_get_dr0(), root_get_dr1(), root_get_dr2(), root_get_dr3() };

	for (int i = 0; i < 4; i++)
		if (got[i] != want[i]) {
			if (!root_dr_bad++)
				gprintf("cpu-test: the root's DR%d reads 0x%lx, expected 0x%lx\n", i, got[i],
					want[i]);
		}
}

static void dr_section(void)
{
	static struct child64 da, db;
	const uint64_t bp = CRT_SCRATCH;        /* A's breakpoint: nobody writes there */
	const uint64_t a_db[4] = { bp, 0x1111000, 0x7ffffffff000, 0xffff800000123000 };
	const uint64_t a_dr7 = 0x400 | 1 | 1 << 16 | 3 << 18;  /* L0, write, 4 bytes */
	const uint64_t b_db[4] = { 0xb0000, 0xb1000, 0xb2000, 0xb3000 };
	/* B's breakpoint: DR1, at an address nobody writes. Not DR0: QEMU 7.2
	 * keeps a watchpoint VMRUN/#VMEXIT loaded through DR7 (A's DR0)
	 * until DR7 is written with MOV, and reports it wherever DR7 enables
	 * that register. */
	const uint64_t c_db[4] = { 0xc0000, CRT_SCRATCH + 0x800, 0xc2000, 0xc3000 };
	const uint64_t c_dr7 = 0x400 | 1 << 2 | 1 << 20 | 3 << 22;     /* L1, write, 4 bytes */
	const uint64_t r_db[4] = { 0x4440000, 0x4441000, 0x4442000, 0x4443000 };
	const uint64_t zero[4] = { 0 };
	struct hv_debugregs *hd = ralloc(4096), *hd2;
	uint64_t v[6];
	int64_t r;

	section_begin("dr", PLAN_DR);
	hd2 = ralloc(4096);
	if (!hd || !hd2 || make_child(&da, "DA", 1) || make_child(&db, "DB", 1)) {
		section_abort("cannot create the children");
		return;
	}
	root_set_dr0(r_db[0]);
	root_set_dr1(r_db[1]);
	root_set_dr2(r_db[2]);
	root_set_dr3(r_db[3]);
	root_set_dr7(0x400);
	root_dr_check(r_db);
	if (!dr_cmd(&da, CC_DR_SET, a_db, a_dr7, v)) {
		section_abort(cmd_err);
		return;
	}
	CHECK(dr_match(v, a_db, a_dr7), "dr: child A reads back the DR0-3 and DR7 it set",
	      "A reads " DR_FMT, DR_ARGS(v));
	root_dr_check(r_db);
	if (!dr_cmd(&db, CC_DR_READ, NULL, 0, v)) {
		section_abort(cmd_err);
		return;
	}
	CHECK(dr_match(v, zero, 0x400), "dr: child B on the same CPU reads DR0-3 as 0 and DR7 as 0x400, not A's",
	      "B reads " DR_FMT, DR_ARGS(v));
	if (!dr_cmd(&db, CC_DR_SET, b_db, 0x400, v)) {
		section_abort(cmd_err);
		return;
	}
	CHECK(dr_match(v, b_db, 0x400), "dr: child B reads back its own DR0-3", "B reads " DR_FMT,
	      DR_ARGS(v));
	root_dr_check(r_db);
	if (!dr_cmd(&da, CC_DR_READ, NULL, 0, v)) {
		section_abort(cmd_err);
		return;
	}
	CHECK(dr_match(v, a_db, a_dr7), "dr: child A reads its DR0-3 and DR7 back after B and the root ran",
	      "A reads " DR_FMT, DR_ARGS(v));
	root_dr_check(r_db);
	CHECK(!root_dr_bad, "dr: the root's DR0-3 unchanged across the children's runs",
	      "%d bad reads (first above)", root_dr_bad);

	r = hcall(HC_GET_DEBUGREGS, (uint64_t)da.vcpu[0], (uint64_t)hd, 0, 0);
	CHECK(r == 0 && hd->db[0] == a_db[0] && hd->db[1] == a_db[1] && hd->db[2] == a_db[2] &&
	      hd->db[3] == a_db[3] && hd->dr7 == a_dr7,
	      "dr: HC_GET_DEBUGREGS of A shows its DR0-3 and DR7",
	      "returned %ld: DR0-3 %lx %lx %lx %lx DR7 %lx", r, hd->db[0], hd->db[1], hd->db[2],
	      hd->db[3], hd->dr7);
	gmemset(hd, 0, sizeof(*hd));
	gmemcpy(hd->db, c_db, sizeof(c_db));
	hd->dr6 = 0xffff0ff0;
	hd->dr7 = c_dr7;
	r = hcall(HC_SET_DEBUGREGS, (uint64_t)db.vcpu[0], (uint64_t)hd, 0, 0);
	if (r || !dr_cmd(&db, CC_DR_READ, NULL, 0, v)) {
		CHECK(false, "dr: HC_SET_DEBUGREGS changes what child B reads", "returned %ld %s", r,
		      r ? "" : cmd_err);
	} else {
		CHECK(dr_match(v, c_db, c_dr7), "dr: HC_SET_DEBUGREGS changes what child B reads",
		      "B reads " DR_FMT, DR_ARGS(v));
	}
	/* Refused: a non-canonical address, DR7 bits 63:32. */
	hcall(HC_GET_DEBUGREGS, (uint64_t)db.vcpu[0], (uint64_t)hd2, 0, 0);
	gmemcpy(hd, hd2, sizeof(*hd));
	hd->db[2] = 0x0000800000000000ULL;
	r = hcall(HC_SET_DEBUGREGS, (uint64_t)db.vcpu[0], (uint64_t)hd, 0, 0);
	hcall(HC_GET_DEBUGREGS, (uint64_t)db.vcpu[0], (uint64_t)hd, 0, 0);
	CHECK(r == -HV_EINVAL && !gmemcmp(hd, hd2, sizeof(*hd)),
	      "dr: HC_SET_DEBUGREGS with a non-canonical DR2: EINVAL, nothing changed",
	      "returned %ld, DR2 now 0x%lx", r, hd->db[2]);
	gmemcpy(hd, hd2, sizeof(*hd));
	hd->dr7 |= 1ULL << 32;
	r = hcall(HC_SET_DEBUGREGS, (uint64_t)db.vcpu[0], (uint64_t)hd, 0, 0);
	hcall(HC_GET_DEBUGREGS, (uint64_t)db.vcpu[0], (uint64_t)hd, 0, 0);
	CHECK(r == -HV_EINVAL && !gmemcmp(hd, hd2, sizeof(*hd)),
	      "dr: HC_SET_DEBUGREGS with DR7 bits 63:32: EINVAL, nothing changed",
	      "returned %ld, DR7 now 0x%lx", r, hd->dr7);

	/* The breakpoint A armed fires in A, not in B at the same address. */
	mbox(&da, 0)->arg[0] = bp;
	mbox(&da, 0)->arg[1] = 0x1234;
	if (run_cmd(&da, 0, CC_DR_TOUCH))
		CHECK(mbox(&da, 0)->res[0] == 1 && (mbox(&da, 0)->res[1] & 1),
		      "dr: a data breakpoint set through DR7 in child A fires (#DB, DR6.B0)",
		      "vector %ld, DR6 0x%lx", mbox(&da, 0)->res[0], (uint64_t)mbox(&da, 0)->res[1]);
	else
		CHECK(false, "dr: a data breakpoint set through DR7 in child A fires (#DB, DR6.B0)", "%s",
		      cmd_err);
	mbox(&db, 0)->arg[0] = bp;
	mbox(&db, 0)->arg[1] = 0x5678;
	if (run_cmd(&db, 0, CC_DR_TOUCH))
		CHECK(mbox(&db, 0)->res[0] == -1, "dr: A's breakpoint address written in child B raises no #DB",
		      "vector %ld, DR6 0x%lx", mbox(&db, 0)->res[0], (uint64_t)mbox(&db, 0)->res[1]);
	else
		CHECK(false, "dr: A's breakpoint address written in child B raises no #DB", "%s", cmd_err);
	set_args(&da, 0, 7, a_dr7 | 1ULL << 32, 0);
	if (run_cmd(&da, 0, CC_DR_WRITE))
		CHECK(mbox(&da, 0)->res[0] == 13, "dr: MOV to DR7 with bits 63:32 set raises #GP in the child",
		      "raised %ld", mbox(&da, 0)->res[0]);
	else
		CHECK(false, "dr: MOV to DR7 with bits 63:32 set raises #GP in the child", "%s", cmd_err);
	root_set_dr0(0);
	root_set_dr1(0);
	root_set_dr2(0);
	root_set_dr3(0);
	child_destroy64(&da);
	child_destroy64(&db);
	section_end();
}

/* ---------------------------------------------------------- MSRs */

enum { M_RD, M_GP_W, M_GP_R, M_RW };

struct msr_case {
	const char *name;
	int kind;
	uint32_t msr;
	uint64_t value;                 /* to write, or to read (M_RD) */
};

#define EFER            0xc0000080
#define NONCANON        0x0000800000000000ULL

static const struct msr_case msr_reset_reads[] = {
	{ "msr: MTRRcap reads 0 (no variable or fixed ranges, no WC)", M_RD, 0xfe, 0 },
	{ "msr: MCG_CAP reads 0 (no banks)", M_RD, 0x179, 0 },
	{ "msr: MTRRdefType reads 0x806 at reset (enabled, write-back; FE clear: MTRRcap has no fixed ranges)",
	  M_RD, 0x2ff, 0x806 },
};

static const struct msr_case msr_cases[] = {
	{ "msr: #GP for a non-canonical FS_BASE", M_GP_W, 0xc0000100, NONCANON },
	{ "msr: #GP for a non-canonical GS_BASE", M_GP_W, 0xc0000101, NONCANON },
	{ "msr: #GP for a non-canonical KERNEL_GS_BASE", M_GP_W, 0xc0000102, NONCANON },
	{ "msr: #GP for a non-canonical LSTAR", M_GP_W, 0xc0000082, NONCANON },
	{ "msr: #GP for a non-canonical SYSENTER_EIP", M_GP_W, 0x176, NONCANON },
	{ "msr: #GP for a PAT entry of reserved type 2", M_GP_W, 0x277, 0x0007040600070402ULL },
	{ "msr: #GP for a PAT entry above 7", M_GP_W, 0x277, 0x0007040600070408ULL },
	{ "msr: #GP for reserved EFER bit 1", M_GP_W, EFER, 0xd02 },
	{ "msr: #GP for EFER.SVME (SVM is not offered)", M_GP_W, EFER, 0x1d00 },
	{ "msr: #GP for SFMASK bits 63:32", M_GP_W, 0xc0000084, 1ULL << 32 },
	{ "msr: #GP for TSC_AUX bits 63:32", M_GP_W, 0xc0000103, 1ULL << 32 },
	{ "msr: #GP for MTRRdefType of reserved type 2", M_GP_W, 0x2ff, 0x802 },
	{ "msr: #GP reading an unknown MSR (IA32_FEATURE_CONTROL, 0x3a)", M_GP_R, 0x3a, 0 },
	{ "msr: #GP reading VM_HSAVE_PA (0xc0010117: SVM is not offered)", M_GP_R, 0xc0010117, 0 },
	{ "msr: #GP writing IA32_VMX_BASIC (0x480: VMX is not offered)", M_GP_W, 0x480, 0 },
	{ "msr: FS_BASE write reads back", M_RW, 0xc0000100, 0x00007fff12345000ULL },
	{ "msr: GS_BASE write reads back", M_RW, 0xc0000101, 0xffff8000abcd0000ULL },
	{ "msr: KERNEL_GS_BASE write reads back", M_RW, 0xc0000102, 0xffff900000001000ULL },
	{ "msr: LSTAR write reads back", M_RW, 0xc0000082, 0xffffffff81000000ULL },
	{ "msr: CSTAR write reads back", M_RW, 0xc0000083, 0xffffffff82000000ULL },
	{ "msr: STAR write reads back", M_RW, 0xc0000081, 0x0023001000000000ULL },
	{ "msr: SFMASK write reads back", M_RW, 0xc0000084, 0x47700 },
	{ "msr: SYSENTER_CS write reads back", M_RW, 0x174, 0x10 },
	{ "msr: SYSENTER_ESP write reads back", M_RW, 0x175, 0xffff800000002000ULL },
	{ "msr: SYSENTER_EIP write reads back", M_RW, 0x176, 0xffffffff81001000ULL },
	{ "msr: PAT write reads back", M_RW, 0x277, 0x0007010600070106ULL },
	{ "msr: EFER.SCE write reads back", M_RW, EFER, 0xd01 },
	{ "msr: TSC_AUX write reads back", M_RW, 0xc0000103, 0x12345678 },
	{ "msr: MTRRdefType write (enabled, UC) reads back", M_RW, 0x2ff, 0x800 },
};
#define NR_MSR_CASES (sizeof(msr_cases) / sizeof(msr_cases[0]))

/* What a new vCPU holds in the MSRs msr_cases writes (child N's view). */
static const struct { uint32_t msr; uint64_t reset; } msr_isolated[] = {
	{ 0xc0000100, 0 }, { 0xc0000101, 0 }, { 0xc0000102, 0 }, { 0xc0000082, 0 },
	{ 0xc0000083, 0 }, { 0xc0000081, 0 }, { 0xc0000084, 0 }, { 0x174, 0 }, { 0x175, 0 },
	{ 0x176, 0 }, { 0x277, 0x0007040600070406ULL }, { EFER, 0xd00 }, { 0xc0000103, 0 },
};
#define NR_ISOLATED (sizeof(msr_isolated) / sizeof(msr_isolated[0]))

/* Read the msr_isolated MSRs on vCPU i into out[]; false if a read faulted. */
static bool read_isolated(struct child64 *c, unsigned int i, uint64_t out[NR_ISOLATED], char *why,
			  size_t n)
{
	struct cc_mbox *mb = mbox(c, i);

	for (size_t k = 0; k < NR_ISOLATED; k++)
		mb->u.msr[k] = (struct cc_msr_op){ .msr = msr_isolated[k].msr };
	mb->arg[0] = NR_ISOLATED;
	if (!run_cmd(c, i, CC_MSR_BATCH)) {
		snprintf(why, n, "%s", cmd_err);
		return false;
	}
	for (size_t k = 0; k < NR_ISOLATED; k++) {
		if (mb->u.msr[k].vector != -1) {
			snprintf(why, n, "reading 0x%x raised %d", msr_isolated[k].msr, mb->u.msr[k].vector);
			return false;
		}
		out[k] = mb->u.msr[k].value;
	}
	return true;
}

static bool rdtscp_cmd(struct child64 *c, unsigned int i, uint32_t *aux)
{
	if (!run_cmd(c, i, CC_RDTSCP))
		return false;
	*aux = (uint32_t)mbox(c, i)->res[1];
	return mbox(c, i)->res[0] == -1;
}

static void msr_tsc_aux(struct child64 *cm, struct child64 *cn)
{
	uint32_t root_aux0, a0 = 0, a1 = 0, a0b = 0, an = 0;
	bool ok = true;

	if (!have_rdtscp) {
		SKIP("msr: RDTSCP returns each vCPU's TSC_AUX", "no RDTSCP (CPUID.80000001H:EDX[27])");
		SKIP("msr: child N's RDTSCP returns its own TSC_AUX (0)", "no RDTSCP");
		SKIP("msr: the root's TSC_AUX unchanged by the children's", "no RDTSCP");
		return;
	}
	root_aux0 = rdtscp_aux();
	for (unsigned int i = 0; i < 2; i++) {
		struct cc_mbox *mb = mbox(cm, i);

		mb->u.msr[0] = (struct cc_msr_op){ .msr = 0xc0000103, .write = 1,
						   .value = i ? 0xbbb : 0xaaa };
		mb->arg[0] = 1;
		ok = ok && run_cmd(cm, i, CC_MSR_BATCH) && mb->u.msr[0].vector == -1;
	}
	ok = ok && rdtscp_cmd(cm, 0, &a0) && rdtscp_cmd(cm, 1, &a1) && rdtscp_cmd(cm, 0, &a0b);
	CHECK(ok && a0 == 0xaaa && a1 == 0xbbb && a0b == 0xaaa,
	      "msr: RDTSCP returns each vCPU's TSC_AUX (M.0 0xaaa, M.1 0xbbb, run in turn on one CPU)",
	      "M.0 reads 0x%x then 0x%x, M.1 0x%x%s%s", a0, a0b, a1, ok ? "" : "; ", ok ? "" : cmd_err);
	ok = rdtscp_cmd(cn, 0, &an);
	CHECK(ok && an == 0, "msr: child N's RDTSCP returns its own TSC_AUX (0)", "N reads 0x%x %s", an,
	      ok ? "" : cmd_err);
	CHECK(rdtscp_aux() == root_aux0, "msr: the root's TSC_AUX unchanged by the children's",
	      "0x%x before, 0x%x after", root_aux0, rdtscp_aux());
}

static void msr_tsc(struct child64 *cm, struct child64 *cn)
{
	const uint64_t delta = 1ULL << 40;
	struct cc_mbox *mb = mbox(cm, 0);
	uint64_t rb, ra, t0, t1, m, rb2, ra2, tn, rb3, ra3, tm;
	int64_t vec;

	mb->arg[0] = delta;
	rb = rdtsc();
	if (!run_cmd(cm, 0, CC_TSC_WRITE)) {
		section_abort(cmd_err);
		return;
	}
	ra = rdtsc();
	t0 = (uint64_t)mb->res[0];
	t1 = (uint64_t)mb->res[1];
	m = (uint64_t)mb->res[2];
	vec = mb->res[3];
	CHECK(vec == -1 && t1 - t0 >= delta && t1 - t0 - delta <= ra - rb,
	      "msr: WRMSR to IA32_TSC moves the child's RDTSC by what it added",
	      "WRMSR raised %ld; RDTSC went from 0x%lx to 0x%lx (delta 0x%lx, the run took 0x%lx)", vec,
	      t0, t1, delta, ra - rb);
	CHECK(m >= t1 && m - t1 <= ra - rb, "msr: RDMSR of IA32_TSC agrees with RDTSC after the write",
	      "RDTSC 0x%lx, RDMSR 0x%lx", t1, m);
	CHECK(ra - rb < delta / 4 && t0 >= rb && t0 <= ra, "msr: the root's TSC does not jump",
	      "the root read 0x%lx and 0x%lx around the child, which read 0x%lx first", rb, ra, t0);
	rb2 = rdtsc();
	if (!run_cmd(cn, 0, CC_RDTSC)) {
		section_abort(cmd_err);
		return;
	}
	ra2 = rdtsc();
	tn = (uint64_t)mbox(cn, 0)->res[0];
	CHECK(tn >= rb2 && tn <= ra2, "msr: child N's TSC is not moved by M's write",
	      "N read 0x%lx, the root 0x%lx and 0x%lx around it", tn, rb2, ra2);
	rb3 = rdtsc();
	if (!run_cmd(cm, 0, CC_RDTSC)) {
		section_abort(cmd_err);
		return;
	}
	ra3 = rdtsc();
	tm = (uint64_t)mb->res[0] - delta;
	CHECK(tm + (ra - rb) >= rb3 && tm <= ra3, "msr: child M's TSC keeps its offset on its next run",
	      "M read 0x%lx - delta = 0x%lx, the root 0x%lx and 0x%lx around it", tm + delta, tm, rb3,
	      ra3);
}

static void msr_section(void)
{
	static struct child64 cm, cn;
	struct cc_mbox *mb;
	uint64_t def_type = 0, vals[NR_ISOLATED], again[NR_ISOLATED];
	size_t nops = 0, idx[NR_MSR_CASES];
	char why[200];
	uint32_t r[4];
	bool ok;

	section_begin("msr", PLAN_MSR);
	if (make_child(&cm, "M", 2) || make_child(&cn, "N", 1)) {
		section_abort("cannot create the children");
		return;
	}
	mb = mbox(&cm, 0);
	/* Reset values first. */
	for (size_t k = 0; k < 3; k++)
		mb->u.msr[k] = (struct cc_msr_op){ .msr = msr_reset_reads[k].msr };
	mb->arg[0] = 3;
	if (!run_cmd(&cm, 0, CC_MSR_BATCH)) {
		section_abort(cmd_err);
		return;
	}
	for (size_t k = 0; k < 3; k++)
		CHECK(mb->u.msr[k].vector == -1 && mb->u.msr[k].value == msr_reset_reads[k].value,
		      msr_reset_reads[k].name, "raised %d, read 0x%lx", mb->u.msr[k].vector,
		      mb->u.msr[k].value);
	def_type = mb->u.msr[2].value;

	/* What it read, written back; then every case in one batch. */
	mb->u.msr[nops++] = (struct cc_msr_op){ .msr = 0x2ff, .write = 1, .value = def_type };
	for (size_t k = 0; k < NR_MSR_CASES; k++) {
		const struct msr_case *m = &msr_cases[k];

		idx[k] = nops;
		mb->u.msr[nops++] = (struct cc_msr_op){ .msr = m->msr, .write = m->kind != M_GP_R,
							.value = m->value };
		if (m->kind == M_RW)
			mb->u.msr[nops++] = (struct cc_msr_op){ .msr = m->msr };
	}
	mb->arg[0] = nops;
	if (!run_cmd(&cm, 0, CC_MSR_BATCH)) {
		section_abort(cmd_err);
		return;
	}
	snprintf(why, sizeof(why), "msr: MTRRdefType written back as read (0x%lx) is accepted", def_type);
	CHECK(mb->u.msr[0].vector == -1, why, "WRMSR raised %d", mb->u.msr[0].vector);
	for (size_t k = 0; k < NR_MSR_CASES; k++) {
		const struct msr_case *m = &msr_cases[k];
		const struct cc_msr_op *op = &mb->u.msr[idx[k]];

		if (m->kind == M_RW)
			CHECK(op->vector == -1 && op[1].vector == -1 && op[1].value == m->value, m->name,
			      "WRMSR(0x%x, 0x%lx) raised %d, RDMSR raised %d and read 0x%lx", m->msr,
			      m->value, op->vector, op[1].vector, op[1].value);
		else
			CHECK(op->vector == 13, m->name, "%s 0x%x raised %d (expected 13)",
			      m->kind == M_GP_R ? "RDMSR" : "WRMSR", m->msr, op->vector);
	}
	/* EFER.FFXSR is the guest's where CPUID offers it. */
	cpuid_count(0x80000001, 0, r);
	if (r[3] & (1u << 25)) {
		mb->u.msr[0] = (struct cc_msr_op){ .msr = EFER, .write = 1, .value = 0xd01 | 1 << 14 };
		mb->u.msr[1] = (struct cc_msr_op){ .msr = EFER };
		mb->u.msr[2] = (struct cc_msr_op){ .msr = EFER, .write = 1, .value = 0xd01 };
		mb->arg[0] = 3;
		ok = run_cmd(&cm, 0, CC_MSR_BATCH);
		CHECK(ok && mb->u.msr[0].vector == -1 && (mb->u.msr[1].value & 1 << 14),
		      "msr: EFER.FFXSR is writable where CPUID.80000001H:EDX[25] offers it",
		      "WRMSR raised %d, EFER reads 0x%lx %s", mb->u.msr[0].vector, mb->u.msr[1].value,
		      ok ? "" : cmd_err);
	} else {
		SKIP("msr: EFER.FFXSR is writable where CPUID offers it", "CPUID.80000001H:EDX[25] clear");
	}
	/* Another VM does not see them; M still does after it ran. */
	ok = read_isolated(&cn, 0, vals, why, sizeof(why));
	for (size_t k = 0; ok && k < NR_ISOLATED; k++)
		if (vals[k] != msr_isolated[k].reset) {
			snprintf(why, sizeof(why), "N reads 0x%lx from MSR 0x%x (expected 0x%lx)", vals[k],
				  msr_isolated[k].msr, msr_isolated[k].reset);
			ok = false;
		}
	CHECK(ok, "msr: child N does not see M's FS/GS/KERNEL_GS bases, syscall/sysenter MSRs, PAT, EFER, TSC_AUX",
	      "%s", why);
	ok = read_isolated(&cm, 0, again, why, sizeof(why));
	for (size_t k = 0; ok && k < NR_ISOLATED; k++) {
		uint64_t want = msr_isolated[k].reset;

		for (size_t j = 0; j < NR_MSR_CASES; j++)
			if (msr_cases[j].kind == M_RW && msr_cases[j].msr == msr_isolated[k].msr)
				want = msr_cases[j].value;
		if (msr_isolated[k].msr == EFER && (r[3] & (1u << 25)))
			want = 0xd01;
		if (again[k] != want) {
			snprintf(why, sizeof(why), "M reads 0x%lx from MSR 0x%x (expected 0x%lx)", again[k],
				  msr_isolated[k].msr, want);
			ok = false;
		}
	}
	CHECK(ok, "msr: child M reads its values back after N and the root ran", "%s", why);
	set_args(&cm, 0, 0x1000, 0x2000, 0);
	if (run_cmd(&cm, 0, CC_SWAPGS))
		CHECK(mb->res[0] == 0x2000 && mb->res[1] == 0x1000 && mb->res[2] == 0x1000 &&
		      mb->res[3] == 0x2000, "msr: SWAPGS exchanges GS_BASE and KERNEL_GS_BASE",
		      "GS/KGS after one SWAPGS 0x%lx/0x%lx, after two 0x%lx/0x%lx", mb->res[0], mb->res[1],
		      mb->res[2], mb->res[3]);
	else
		CHECK(false, "msr: SWAPGS exchanges GS_BASE and KERNEL_GS_BASE", "%s", cmd_err);
	msr_tsc(&cm, &cn);
	if (section_left() == 3)
		msr_tsc_aux(&cm, &cn);
	child_destroy64(&cm);
	child_destroy64(&cn);
	section_end();
}

/* ---------------------------------------------------------- CR8 */

#define SPARE_GPA       0x20000000ULL
#define CR8_LIMIT_MS    200

static void cr8_section(void)
{
	static struct child64 c8;
	struct cc_mbox *mb;
	uint8_t *spare;
	uint64_t t0, t1, us;
	int64_t r;
	bool spinning = false, done;

	section_begin("cr8", PLAN_CR8);
	if (nr_cpus < 2) {
		section_skip("needs 2 CPUs");
		return;
	}
	spare = ralloc(4096);
	if (!worker || !spare || make_child(&c8, "C8", 1)) {
		section_abort(!worker ? "no root vCPU on CPU 1" : "cannot create the child");
		return;
	}
	r = hcall(HC_SET_MEMORY_REGION, (uint64_t)c8.vm, SPARE_GPA, (uint64_t)spare, 4096);
	if (r) {
		snprintf(cmd_err, sizeof(cmd_err), "adding the spare region returned %ld", r);
		section_abort(cmd_err);
		return;
	}
	mb = mbox(&c8, 0);
	mb->arg[0] = 15;
	job_post(&c8, 0, CC_CR8_SPIN);
	t0 = rdtsc();
	while (!(spinning = __atomic_load_n(&mb->u.loop.spinning, __ATOMIC_ACQUIRE)) &&
	       rdtsc() - t0 < ms_to_tsc(5000) && job.done != job.posted)
		__asm__ __volatile__("pause");
	if (!spinning) {
		__atomic_store_n(&mb->u.loop.stop, 1, __ATOMIC_RELEASE);
		job_finish(2000);
		explain(&c8, 0, CC_CR8_SPIN, job.ev);
		section_abort(cmd_err);
		child_destroy64(&c8);
		return;
	}
	CHECK(mb->res[0] == 15, "cr8: the child reads CR8 back as 15", "it reads %ld", mb->res[0]);
	t0 = rdtsc();
	r = hcall(HC_SET_MEMORY_REGION, (uint64_t)c8.vm, SPARE_GPA, 0, 0);
	t1 = rdtsc();
	us = tsc_to_us(t1 - t0);
	__atomic_store_n(&mb->u.loop.stop, 1, __ATOMIC_RELEASE);
	CHECK(r == 0, "cr8: removing a region of the child's VM while it spins with CR8 15 on CPU 1 returns 0",
	      "returned %ld after %lu us", r, us);
	CHECK(us < CR8_LIMIT_MS * 1000,
	      "cr8: the removal's TLB shootdown of CPU 1 completes promptly (under 200 ms)",
	      "took %lu us: the hypervisor's interrupts on CPU 1 were blocked", us);
	done = job_finish(5000);
	CHECK(done && job.ev == C64_PROMPT && mb->res[1] == 15 && c8.cpu[0].nvalues >= 1 &&
	      c8.cpu[0].values[0] == 15,
	      "cr8: the child spun on and finished its command, CR8 still 15",
	      "job %s (event %d), CR8 after 0x%lx, reported %u values, first %u", done ? "done" : "stuck",
	      (int)job.ev, mb->res[1], c8.cpu[0].nvalues, c8.cpu[0].values[0]);
	child_destroy64(&c8);
	section_end();
}

/* ---------------------------------------------------------- CPUID */

static struct hv_cpuid *cpuid_buf, *cpuid_eff, *cpuid_chk;

static struct hv_cpuid_entry *cpuid_find(struct hv_cpuid *t, uint32_t leaf, uint32_t sub)
{
	for (uint32_t i = 0; i < t->nent && i < HV_CPUID_MAX_ENTRIES; i++)
		if (t->entries[i].function == leaf &&
		    (!(t->entries[i].flags & HV_CPUID_INDEXED) || t->entries[i].index == sub))
			return &t->entries[i];
	return NULL;
}

static bool same_cpuid(const struct hv_cpuid *a, const struct hv_cpuid *b)
{
	return a->nent == b->nent && a->nent <= HV_CPUID_MAX_ENTRIES &&
	       !gmemcmp(a->entries, b->entries, a->nent * sizeof(a->entries[0]));
}

/* Set up the APIC-ID queries on vCPU i. */
static unsigned int id_queries(struct child64 *c, unsigned int i)
{
	struct cc_mbox *mb = mbox(c, i);
	unsigned int n = 0;

	mb->u.cpuid[n++] = (struct cc_cpuid_q){ .leaf = 1 };
	mb->u.cpuid[n++] = (struct cc_cpuid_q){ .leaf = 0xb };
	if (amd_topo)
		mb->u.cpuid[n++] = (struct cc_cpuid_q){ .leaf = 0x8000001e };
	mb->arg[0] = n;
	return n;
}

static void id_check(struct child64 *c, unsigned int i, unsigned int cpu, bool ran)
{
	struct cc_mbox *mb = mbox(c, i);
	uint32_t l1 = mb->u.cpuid[0].out[1] >> 24, lb = mb->u.cpuid[1].out[3];
	uint32_t le = amd_topo ? mb->u.cpuid[2].out[0] : i;
	char name[160];

	snprintf(name, sizeof(name), "cpuid: vCPU %u on CPU %u sees APIC ID %u in leaf 1 EBX[31:24], 0xB EDX%s",
		  i, cpu, i, amd_topo ? ", 0x8000001E EAX" : "");
	if (!ran)
		CHECK(false, name, "%s", cmd_err);
	else
		CHECK(l1 == i && lb == i && le == i, name, "leaf 1: %u, 0xB: %u, 0x8000001E: %u", l1, lb, le);
}

/* vCPU `local` here on CPU 0 while vCPU `remote` runs on CPU 1. */
static void id_pair(struct child64 *c, unsigned int local, unsigned int remote)
{
	bool ok_local, ok_remote;

	id_queries(c, local);
	id_queries(c, remote);
	job_post(c, remote, CC_CPUID_BATCH);
	ok_local = run_cmd(c, local, CC_CPUID_BATCH);
	id_check(c, local, 0, ok_local);
	ok_remote = job_finish(5000) && job.ev == C64_PROMPT;
	if (!ok_remote)
		explain(c, remote, CC_CPUID_BATCH, job.ev);
	id_check(c, remote, 1, ok_remote);
}

static void bad_cpuid(const char *name, int64_t vm, uint64_t ptr, int64_t want)
{
	int64_t r = hcall(HC_SET_CPUID, (uint64_t)vm, ptr, 0, 0);
	int64_t g = hcall(HC_GET_CPUID, (uint64_t)vm, (uint64_t)cpuid_chk, 0, 0);

	CHECK(r == want && g == 0 && same_cpuid(cpuid_chk, cpuid_eff), name,
	      "HC_SET_CPUID returned %ld (expected %ld), the table %s", r, want,
	      g || !same_cpuid(cpuid_chk, cpuid_eff) ? "changed" : "unchanged");
}

static void cpuid_section(void)
{
	static struct child64 cp, cq;
	struct hv_cpuid_entry *e;
	struct cc_mbox *mb;
	int64_t r;
	bool ok;

	section_begin("cpuid", PLAN_CPUID);
	cpuid_buf = ralloc(4096);
	cpuid_eff = ralloc(4096);
	cpuid_chk = ralloc(4096);
	if (!cpuid_buf || !cpuid_eff || !cpuid_chk || make_child(&cp, "P", 2)) {
		section_abort("cannot create the child");
		return;
	}
	if (worker) {
		id_pair(&cp, 0, 1);
		id_pair(&cp, 1, 0);
	} else {
		for (unsigned int i = 0; i < 2; i++) {
			id_queries(&cp, i);
			id_check(&cp, i, 0, run_cmd(&cp, i, CC_CPUID_BATCH));
		}
		SKIP("cpuid: swapped vCPUs and CPUs", nr_cpus < 2 ? "needs 2 CPUs" : "no root vCPU on CPU 1");
		SKIP("cpuid: swapped vCPUs and CPUs (second)", nr_cpus < 2 ? "needs 2 CPUs" : "no root vCPU on CPU 1");
	}

	/* A table of the root's: another signature, features it cannot have. */
	r = hcall(HC_GET_CPUID, (uint64_t)cp.vm, (uint64_t)cpuid_buf, 0, 0);
	e = r ? NULL : cpuid_find(cpuid_buf, 0x40000000, 0);
	if (!e || !cpuid_find(cpuid_buf, 1, 0) || !cpuid_find(cpuid_buf, 0x80000001, 0)) {
		snprintf(cmd_err, sizeof(cmd_err), "HC_GET_CPUID returned %ld, leaves 0x40000000/1/0x80000001 %s",
			  r, e ? "present" : "missing");
		section_abort(cmd_err);
		child_destroy64(&cp);
		return;
	}
	*e = (struct hv_cpuid_entry){ .function = 0x40000000, .eax = 0x40000001, .ebx = KVM_SIG_EBX,
				      .ecx = KVM_SIG_ECX, .edx = KVM_SIG_EDX };
	cpuid_find(cpuid_buf, 1, 0)->ecx |= 1u << 5 | 1u << 3;          /* VMX, MONITOR */
	cpuid_find(cpuid_buf, 0x80000001, 0)->ecx |= 1u << 2;           /* SVM */
	r = hcall(HC_SET_CPUID, (uint64_t)cp.vm, (uint64_t)cpuid_buf, 0, 0);
	CHECK(r == 0, "cpuid: HC_SET_CPUID with KVMKVMKVM at 0x40000000 returns 0", "returned %ld", r);
	gmemcpy(cpuid_eff, cpuid_buf, sizeof(*cpuid_eff));
	e = cpuid_find(cpuid_eff, 1, 0);
	{
		struct hv_cpuid_entry *x = cpuid_find(cpuid_eff, 0x80000001, 0);
		struct hv_cpuid_entry *k = cpuid_find(cpuid_eff, 0x40000000, 0);

		CHECK(e && x && k && !(e->ecx & (1u << 5 | 1u << 3)) && !(x->ecx & (1u << 2)) &&
		      k->ebx == KVM_SIG_EBX,
		      "cpuid: the effective table it returns drops the VMX, MONITOR and SVM bits the root asked for",
		      "leaf 1 ECX 0x%x, 0x80000001 ECX 0x%x, 0x40000000 EBX 0x%x", e ? e->ecx : 0,
		      x ? x->ecx : 0, k ? k->ebx : 0);
	}
	r = hcall(HC_GET_CPUID, (uint64_t)cp.vm, (uint64_t)cpuid_chk, 0, 0);
	CHECK(r == 0 && same_cpuid(cpuid_chk, cpuid_eff), "cpuid: HC_GET_CPUID returns the effective table",
	      "returned %ld, %u entries (%u effective)", r, cpuid_chk->nent, cpuid_eff->nent);
	mb = mbox(&cp, 0);
	mb->u.cpuid[0] = (struct cc_cpuid_q){ .leaf = 0x40000000 };
	mb->u.cpuid[1] = (struct cc_cpuid_q){ .leaf = 0x40000100 };
	mb->u.cpuid[2] = (struct cc_cpuid_q){ .leaf = 0x40000101 };
	mb->u.cpuid[3] = (struct cc_cpuid_q){ .leaf = 1 };
	mb->u.cpuid[4] = (struct cc_cpuid_q){ .leaf = 0x80000001 };
	mb->arg[0] = 5;
	ok = run_cmd(&cp, 0, CC_CPUID_BATCH);
	{
		const uint32_t *k = mb->u.cpuid[0].out, *h = mb->u.cpuid[1].out, *v = mb->u.cpuid[2].out;

		CHECK(ok && k[1] == KVM_SIG_EBX && k[2] == KVM_SIG_ECX && k[3] == KVM_SIG_EDX,
		      "cpuid: the child sees KVMKVMKVM at 0x40000000", "EBX:ECX:EDX %x:%x:%x %s", k[1], k[2],
		      k[3], ok ? "" : cmd_err);
		CHECK(ok && h[1] == HV_SIGNATURE_EBX && h[2] == HV_SIGNATURE_ECX &&
		      h[3] == HV_SIGNATURE_EDX && h[0] >= 0x40000101 && v[0] == HV_API_VERSION,
		      "cpuid: the child still sees the hypervisor's signature at 0x40000100 (API version at 0x40000101)",
		      "0x40000100: %x %x:%x:%x, 0x40000101 EAX %u", h[0], h[1], h[2], h[3], v[0]);
		CHECK(ok && !(mb->u.cpuid[3].out[2] & (1u << 5 | 1u << 3)) &&
		      !(mb->u.cpuid[4].out[2] & (1u << 2)),
		      "cpuid: the child sees VMX, MONITOR and SVM off",
		      "leaf 1 ECX 0x%x, 0x80000001 ECX 0x%x", mb->u.cpuid[3].out[2], mb->u.cpuid[4].out[2]);
	}

	/* Bad tables: refused, the effective one stays. */
	gmemcpy(cpuid_buf, cpuid_eff, sizeof(*cpuid_buf));
	cpuid_buf->nent = HV_CPUID_MAX_ENTRIES + 1;
	bad_cpuid("cpuid: nent above HV_CPUID_MAX_ENTRIES: EINVAL, the table unchanged", cp.vm,
		  (uint64_t)cpuid_buf, -HV_EINVAL);
	gmemcpy(cpuid_buf, cpuid_eff, sizeof(*cpuid_buf));
	if (cpuid_buf->nent < HV_CPUID_MAX_ENTRIES)
		cpuid_buf->entries[cpuid_buf->nent++] = cpuid_buf->entries[0];
	bad_cpuid("cpuid: a duplicate entry: EINVAL, the table unchanged", cp.vm, (uint64_t)cpuid_buf,
		  -HV_EINVAL);
	gmemcpy(cpuid_buf, cpuid_eff, sizeof(*cpuid_buf));
	if (cpuid_buf->nent < HV_CPUID_MAX_ENTRIES)
		cpuid_buf->entries[cpuid_buf->nent++] = (struct hv_cpuid_entry){ .function = 0x40000100 };
	bad_cpuid("cpuid: an entry for leaf 0x40000100 (the hypervisor's): EINVAL, the table unchanged",
		  cp.vm, (uint64_t)cpuid_buf, -HV_EINVAL);
	gmemcpy(cpuid_buf, cpuid_eff, sizeof(*cpuid_buf));
	if (cpuid_buf->nent < HV_CPUID_MAX_ENTRIES)
		cpuid_buf->entries[cpuid_buf->nent++] = (struct hv_cpuid_entry){ .function = 0x400001ff };
	bad_cpuid("cpuid: an entry for leaf 0x400001ff: EINVAL, the table unchanged", cp.vm,
		  (uint64_t)cpuid_buf, -HV_EINVAL);
	{
		int64_t r1 = hcall(HC_SET_CPUID, (uint64_t)cp.vm, 0x200000, 0, 0);
		int64_t r2 = hcall(HC_SET_CPUID, (uint64_t)cp.vm, (uint64_t)cpuid_buf + 2048, 0, 0);
		int64_t g = hcall(HC_GET_CPUID, (uint64_t)cp.vm, (uint64_t)cpuid_chk, 0, 0);

		CHECK(r1 == -HV_EFAULT && r2 == -HV_EFAULT && g == 0 && same_cpuid(cpuid_chk, cpuid_eff),
		      "cpuid: a table outside root memory or across a page: EFAULT, the table unchanged",
		      "returned %ld (hypervisor memory), %ld (across a page), the table %s", r1, r2,
		      g || !same_cpuid(cpuid_chk, cpuid_eff) ? "changed" : "unchanged");
	}
	child_destroy64(&cp);

	/* XCR0 follows the VM's table: without AVX in leaf 0xD, XSETBV of
	 * AVX is a #GP. */
	if (!have_avx || !xsetbv_exits) {
		SKIP("cpuid: a table without AVX in leaf 0xD makes the child's XSETBV(0x7) #GP",
		     !have_avx ? "no AVX" : "XSETBV does not exit on this CPU");
	} else if (make_child(&cq, "Q", 1) ||
		   hcall(HC_GET_CPUID, (uint64_t)cq.vm, (uint64_t)cpuid_buf, 0, 0) ||
		   !(e = cpuid_find(cpuid_buf, 0xd, 0))) {
		CHECK(false, "cpuid: a table without AVX in leaf 0xD makes the child's XSETBV(0x7) #GP",
		      "cannot create the child or read its table");
		child_destroy64(&cq);
	} else {
		e->eax &= ~0xe4u;                       /* AVX, AVX-512 */
		cpuid_find(cpuid_buf, 1, 0)->ecx &= ~(1u << 28);
		r = hcall(HC_SET_CPUID, (uint64_t)cq.vm, (uint64_t)cpuid_buf, 0, 0);
		set_args(&cq, 0, 7, 0, 1);
		ok = r == 0 && run_cmd(&cq, 0, CC_FPU_SETUP);
		CHECK(ok && mbox(&cq, 0)->res[0] == 13 && mbox(&cq, 0)->res[1] == 1,
		      "cpuid: a table without AVX in leaf 0xD makes the child's XSETBV(0x7) #GP",
		      "HC_SET_CPUID %ld; XSETBV raised %ld, XCR0 0x%lx %s", r, mbox(&cq, 0)->res[0],
		      (uint64_t)mbox(&cq, 0)->res[1], ok ? "" : cmd_err);
		child_destroy64(&cq);
	}
	section_end();
}

/* ---------------------------------------------------------- regions */

#define REGION_GPA      0x400000ULL
#define REGION_VALUE    0x600d600du
#define SENTINEL        0xdead5e11u

static void region_section(void)
{
	static struct child64 cr;
	volatile uint32_t *page;
	struct cc_mbox *mb;
	const struct hv_exit *x;
	uint64_t t0;
	int64_t r;
	bool done, copied_sentinel = false;

	section_begin("region", PLAN_REGION);
	if (nr_cpus < 2) {
		section_skip("needs 2 CPUs");
		return;
	}
	page = ralloc(4096);
	if (!worker || !page || make_child(&cr, "R", 1)) {
		section_abort(!worker ? "no root vCPU on CPU 1" : "cannot create the child");
		return;
	}
	*page = REGION_VALUE;
	r = hcall(HC_SET_MEMORY_REGION, (uint64_t)cr.vm, REGION_GPA, (uint64_t)page, 4096);
	if (r) {
		snprintf(cmd_err, sizeof(cmd_err), "adding the region returned %ld", r);
		section_abort(cmd_err);
		child_destroy64(&cr);
		return;
	}
	mb = mbox(&cr, 0);
	set_args(&cr, 0, REGION_GPA, SENTINEL, 0);
	job_post(&cr, 0, CC_READ_LOOP);
	t0 = rdtsc();
	while (mb->u.loop.count < 1000 && rdtsc() - t0 < ms_to_tsc(5000) && job.done != job.posted)
		__asm__ __volatile__("pause");
	CHECK(mb->u.loop.count >= 1000 && mb->u.loop.copy == REGION_VALUE,
	      "region: the child on CPU 1 reads the second region",
	      "%lu reads, last copied 0x%x%s", mb->u.loop.count, mb->u.loop.copy,
	      job.done == job.posted ? " (its run ended)" : "");
	r = hcall(HC_SET_MEMORY_REGION, (uint64_t)cr.vm, REGION_GPA, 0, 0);
	CHECK(r == 0, "region: removing it while the child reads it on CPU 1 returns 0", "returned %ld", r);
	/* The page is the root's again: whatever it writes there must never
	 * reach the child. */
	*page = SENTINEL;
	t0 = rdtsc();
	while (!(done = __atomic_load_n(&job.done, __ATOMIC_ACQUIRE) == job.posted) &&
	       rdtsc() - t0 < ms_to_tsc(3000))
		if (mb->u.loop.copy == SENTINEL)
			copied_sentinel = true;
	if (!done)
		done = job_finish(1);
	CHECK(!copied_sentinel && !mb->u.loop.seen && mb->u.loop.copy != SENTINEL,
	      "region: the child never copies the sentinel the root wrote into the page afterwards",
	      "it read the sentinel %u times through a stale mapping", mb->u.loop.seen);
	x = cr.exit[0];
	CHECK(done && job.ev == C64_OTHER && x->reason == HV_EXIT_MMIO && x->mmio.gpa == REGION_GPA &&
	      !x->mmio.write, "region: the child's next read ends its run with HV_EXIT_MMIO at the removed gpa",
	      "run %s, event %d, exit reason %u, gpa 0x%lx, write %u", done ? "ended" : "did not end",
	      (int)job.ev, x->reason, x->mmio.gpa, x->mmio.write);
	child_destroy64(&cr);
	section_end();
}

/* ---------------------------------------------------------- event delivery */

#define IDT_HOLE_GPA    0x600000ULL     /* no region there */

/*
 * An exception whose delivery reads the IDT from guest-physical memory the
 * VM does not have: no instruction made that access, so nothing may be
 * emulated; the VM ends with HV_EXIT_INTERNAL (HV_INTERNAL_DELIVERY), the
 * event (#UD: vector 6, type 3, valid) and the address of its gate.
 */
static void delivery_section(void)
{
	static struct child64 cd;
	const struct hv_exit *x;
	enum child64_event ev;
	int64_t r;

	section_begin("delivery", PLAN_DELIVERY);
	if (make_child(&cd, "D", 1)) {
		section_abort("cannot create the child");
		return;
	}
	set_args(&cd, 0, IDT_HOLE_GPA, 0, 0);
	ev = child_cmd64(&cd, 0, CC_IDT_HOLE);
	x = cd.exit[0];
	CHECK(ev == C64_OTHER && x->reason == HV_EXIT_INTERNAL &&
	      x->internal.suberror == HV_INTERNAL_DELIVERY &&
	      (x->internal.info1 & 0x800007ffu) == (0x80000000u | 3u << 8 | 6) &&
	      x->internal.info2 == IDT_HOLE_GPA + 6 * 16,
	      "delivery: a #UD whose IDT lies in a hole ends the run with HV_EXIT_INTERNAL (DELIVERY, the event, the gate's gpa)",
	      "event %d, exit reason %u, suberror %u, info1 0x%lx, info2 0x%lx", (int)ev, x->reason,
	      x->internal.suberror, x->internal.info1, x->internal.info2);
	r = hcall(HC_RUN, (uint64_t)cd.vcpu[0], 0, 0, 0);
	CHECK(r == -HV_EINVAL, "delivery: the VM is stopped: HC_RUN returns EINVAL", "HC_RUN returned %ld", r);
	child_destroy64(&cd);
	section_end();
}

/* ---------------------------------------------------------- instructions */

static const struct {
	const char *name;
	int vector;             /* expected: -1 none */
} insns[CI_COUNT] = {
	[CI_INVD] = { "INVD", -1 }, [CI_WBINVD] = { "WBINVD", -1 }, [CI_PAUSE] = { "PAUSE", -1 },
	[CI_MONITOR] = { "MONITOR", 6 }, [CI_MWAIT] = { "MWAIT", 6 }, [CI_RDPMC] = { "RDPMC", 13 },
	[CI_VMXON] = { "VMXON", 6 }, [CI_VMXOFF] = { "VMXOFF", 6 }, [CI_VMLAUNCH] = { "VMLAUNCH", 6 },
	[CI_VMRESUME] = { "VMRESUME", 6 }, [CI_VMPTRLD] = { "VMPTRLD", 6 },
	[CI_VMPTRST] = { "VMPTRST", 6 }, [CI_VMCLEAR] = { "VMCLEAR", 6 }, [CI_VMREAD] = { "VMREAD", 6 },
	[CI_VMWRITE] = { "VMWRITE", 6 }, [CI_INVEPT] = { "INVEPT", 6 }, [CI_INVVPID] = { "INVVPID", 6 },
	[CI_VMFUNC] = { "VMFUNC", 6 }, [CI_VMRUN] = { "VMRUN", 6 }, [CI_VMLOAD] = { "VMLOAD", 6 },
	[CI_VMSAVE] = { "VMSAVE", 6 }, [CI_STGI] = { "STGI", 6 }, [CI_CLGI] = { "CLGI", 6 },
	[CI_SKINIT] = { "SKINIT", 6 }, [CI_INVLPGA] = { "INVLPGA", 6 },
};

static void insn_section(void)
{
	static struct child64 ci;
	struct cc_mbox *mb;

	section_begin("insn", PLAN_INSN);
	if (make_child(&ci, "I", 1)) {
		section_abort("cannot create the child");
		return;
	}
	if (!run_cmd(&ci, 0, CC_INSN_BATCH)) {
		section_abort(cmd_err);
		child_destroy64(&ci);
		return;
	}
	mb = mbox(&ci, 0);
	for (int i = 0; i < CI_COUNT; i++) {
		char name[96];
		int want = insns[i].vector, got = mb->u.insn[i];

		if (want < 0)
			snprintf(name, sizeof(name), "insn: %s completes in a child", insns[i].name);
		else
			snprintf(name, sizeof(name), "insn: %s raises %s in a child", insns[i].name,
				  want == 6 ? "#UD" : "#GP");
		CHECK(got == want, name, "raised %d (-1: nothing)", got);
	}
	child_destroy64(&ci);
	section_end();
}

/* ---------------------------------------------------------- the runtime */

/* The child runtime's own protocol: console lines, exit statuses, and
 * what it does with an exception nobody expected. */
static void crt_section(void)
{
	static struct child64 cc;
	enum child64_event ev;

	section_begin("crt", PLAN_CRT);
	if (make_child(&cc, "C", 2)) {
		section_abort("cannot create the child");
		return;
	}
	ev = child_cmd64(&cc, 0, 0x77);
	CHECK(ev == C64_EXIT && cc.cpu[0].status == 0xbad &&
	      !gmemcmp(cc.cpu[0].last, "unknown command 119", 20),
	      "crt: a child's console line and exit status reach the root",
	      "event %d, status 0x%x, last line \"%s\"", (int)ev, cc.cpu[0].status, cc.cpu[0].last);
	ev = child_cmd64(&cc, 1, CC_UD2);
	CHECK(ev == C64_EXIT && cc.cpu[1].status == CRT_EXIT_TRAP + 6 &&
	      !gmemcmp(cc.cpu[1].last, "unexpected exception 6 (#UD)", 28),
	      "crt: an exception nobody expects ends the vCPU with CRT_EXIT_TRAP + vector, said on its console",
	      "event %d, status 0x%x, last line \"%s\"", (int)ev, cc.cpu[1].status, cc.cpu[1].last);
	child_destroy64(&cc);
	section_end();
}

/* ---------------------------------------------------------- main */

void guest_main(struct hv_root_info *info)
{
	struct hv_stats *before, *after;
	uint64_t t0;

	guest_init();
	ralloc_init(info);
	nr_cpus = info->nr_cpus;
	rounds = option_value(info->cmdline, "rounds", 1000);
	before = ralloc(4096);
	after = (struct hv_stats *)((uint8_t *)before + 2048);
	probe_cpu();
	root_fpu_enable();
	tsc_khz = guest_tsc_khz(info);
	gprintf("cpu-test: %s, %u CPUs, XSAVE %s, AVX %s, RDTSCP %s, XCR0 mask 0x%lx, TSC %lu kHz, %u rounds\n",
		guest_is_intel() ? "Intel VMX" : "AMD SVM", nr_cpus, have_xsave ? "yes" : "no",
		have_avx ? "yes" : "no", have_rdtscp ? "yes" : "no", xcr0_supported, tsc_khz, rounds);
	gprintf("cpu-test: plan %d checks\n", PLAN_TOTAL);
	start_worker();
	if (hcall(HC_STATS, (uint64_t)before, 0, 0, 0))
		gprintf("cpu-test: HC_STATS failed\n");

	probe_xsetbv();
	t0 = rdtsc();
	fpu_section();
	gprintf("cpu-test: fpu took %lu ms\n", tsc_to_us(rdtsc() - t0) / 1000);
	xsave_section();
	xsetbv_section();
	sregs_section();
	if (fpu_ok) {
		child_destroy64(&ca);
		child_destroy64(&cb);
	}
	dr_section();
	msr_section();
	cr8_section();
	cpuid_section();
	region_section();
	delivery_section();
	insn_section();
	crt_section();
	xcr0_lower_section();

	section_begin("stats", PLAN_STATS);
	if (hcall(HC_STATS, (uint64_t)after, 0, 0, 0)) {
		section_abort("HC_STATS failed");
	} else {
		gprintf("cpu-test: before: %lu free pages, %lu slab objects, %lu VMs, %lu vCPUs; after: %lu, %lu, %lu, %lu\n",
			before->free_pages, before->slab_objects, before->vms, before->vcpus,
			after->free_pages, after->slab_objects, after->vms, after->vcpus);
		CHECK(after->vms == before->vms && after->vcpus == before->vcpus,
		      "stats: every child VM and vCPU destroyed", "%lu VMs, %lu vCPUs left (%lu, %lu before)",
		      after->vms, after->vcpus, before->vms, before->vcpus);
		CHECK(after->free_pages == before->free_pages, "stats: free pages back where they started",
		      "%lu, %lu before", after->free_pages, before->free_pages);
		CHECK(after->slab_objects == before->slab_objects,
		      "stats: slab objects back where they started", "%lu, %lu before",
		      after->slab_objects, before->slab_objects);
	}
	section_end();

	if (reported != PLAN_TOTAL) {
		failed++;
		gprintf("cpu-test: FAIL plan: %d checks reported, %d planned\n", reported, PLAN_TOTAL);
	}
	gprintf("cpu-test: %d checks: %d passed, %d failed, %d skipped\n", reported, passed,
		failed, skipped);
	gprintf("cpu-test: %d passed, %d failed\n", passed, failed);
	gprintf("HV-VERDICT: %s\n", failed ? "FAIL" : "PASS");
	guest_exit(!failed);
}
