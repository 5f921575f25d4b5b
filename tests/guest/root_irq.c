/*
 * The interrupt-platform test program (a multiboot2 module): child VMs
 * with local APICs and an IOAPIC (HC_CREATE_IRQCHIP) running child_irq.c
 * (a command loop: child_irq.h) and child_irqsmp.c (vCPU 0 starts the
 * others with INIT-SIPI-SIPI; IPIs of every kind). The local APIC timer in
 * its three modes, HLT and its wake-ups, the xAPIC and x2APIC views, the
 * IOAPIC, HC_RUN's budget, HC_KICK, HC_INTERRUPT, HC_NMI, MMIO and string
 * I/O through the root, bad input, and the hypervisor's memory after it
 * all. Root vCPUs on CPUs 1.. (HC_START_ROOT_VCPU) run child vCPUs of
 * their own. Prints one line per check, a plan per section, and a verdict
 * (tests/system/cases_irq.py).
 *
 * Options: timer_ms=N, late_ms=N (below, at timer_ms).
 *
 * With `bench` on its command line it measures instead, with RDTSC (under
 * QEMU -icount shift=0 the TSC counts instructions): the CPUID exit,
 * x2APIC EOI, TSC-deadline write to interrupt and EOI, an xAPIC MMIO read
 * through the decoder, HLT to timer wake-up, and an IPI ping-pong between
 * two child vCPUs on two CPUs (tests/bench/run.py).
 */
#include "vmlib64.h"
#include "child_irq.h"

extern const uint8_t child_irq_bin_start[], child_irq_bin_end[];
extern const uint8_t child_irqsmp_bin_start[], child_irqsmp_bin_end[];

#define CHILD_RAM       0x200000ULL
#define MAX_CPUS        8
#define CMD_BUDGET_US   100000          /* HC_RUN slices of command children */
#define CMD_TIMEOUT_MS  30000           /* a command that takes longer has failed */
#define MMIO_GPA        0x20000000ULL   /* mapped by the child, no memory behind */

/* Checks each section reports, whatever happens. */
#define PLAN_TIMER      19
#define PLAN_HLT        8
#define PLAN_VIEWS      15
#define PLAN_IOAPIC     10
#define PLAN_RUN        8
#define PLAN_MMIO       9
#define PLAN_STRIO      3
#define PLAN_SMP        11              /* each of the 2- and 4-vCPU children */
#define PLAN_BAD        12
#define PLAN_STATS      3
#define PLAN_TOTAL      (PLAN_TIMER + PLAN_HLT + PLAN_VIEWS + PLAN_IOAPIC + PLAN_RUN + \
			 PLAN_MMIO + PLAN_STRIO + 2 * PLAN_SMP + PLAN_BAD + PLAN_STATS)

static unsigned int nr_cpus;
static uint64_t tsc_khz;
/* Module options timer_ms=N and late_ms=N: the period the timer checks
 * start with and how late a timer interrupt or budget may come. QEMU's
 * TSC and timers follow the host's clock, and a loaded host delays timer
 * interrupts by milliseconds: 10 ms keeps that small beside the period
 * (doubled on a retry, TIMING_TRIES). Bochs' clock is emulated: 2 ms do
 * there (cases_irq.py). */
static uint64_t timer_ms = 10, late_ms = 100;

/* ---------------------------------------------------------- results */

static int passed, failed, reported;
static const char *sec_name;
static int sec_first, sec_plan;
/* The first failures' names, said again at the end (a harness shows the
 * end of a long log). */
#define FAIL_NAMES      12
static char fail_names[FAIL_NAMES][200];
static int nfail_names;

static void note_failure(const char *name, const char *why)
{
	char n[80];

	if (nfail_names >= FAIL_NAMES)
		return;
	snprintf(n, sizeof(n), "%s", name);
	snprintf(fail_names[nfail_names++], sizeof(fail_names[0]), "%s...: %s", n, why);
}

static void result(bool ok, const char *name, const char *why)
{
	reported++;
	/* gputs: a line may be longer than gprintf's buffer. */
	if (ok) {
		passed++;
		gputs("irq-test: PASS ");
		gputs(name);
	} else {
		failed++;
		note_failure(name, why);
		gputs("irq-test: FAIL ");
		gputs(name);
		gputs(": ");
		gputs(why);
	}
	gputs("\n");
}

#define CHECK(cond, name, ...)                                                  \
	do {                                                                    \
		if (cond) {                                                     \
			result(true, name, "");                                 \
		} else {                                                        \
			char why_[320];                                         \
			snprintf(why_, sizeof(why_), __VA_ARGS__);             \
			result(false, name, why_);                              \
		}                                                               \
	} while (0)

static void section_begin(const char *name, int plan)
{
	sec_name = name;
	sec_first = reported;
	sec_plan = plan;
	gprintf("irq-test: section %s: %d checks\n", name, plan);
}

/* The section cannot go on: its remaining checks fail. */
static void section_abort(const char *why)
{
	int left = sec_plan - (reported - sec_first);

	if (left <= 0)
		return;
	failed += left;
	reported += left;
	note_failure(sec_name, why);
	gprintf("irq-test: FAIL %s: %d checks not run: ", sec_name, left);
	gputs(why);
	gputs("\n");
}

static void section_end(void)
{
	int ran = reported - sec_first;

	if (ran != sec_plan) {
		failed++;
		gprintf("irq-test: FAIL %s: %d checks reported, %d planned\n", sec_name, ran, sec_plan);
	}
}

/* ---------------------------------------------------------- time */

static uint64_t ms_tsc(uint64_t ms)
{
	return ms * tsc_khz;
}

static uint64_t tsc_us(uint64_t t)
{
	return t * 1000 / tsc_khz;
}

/* ---------------------------------------------------------- root exceptions */

/*
 * The root has no IDT of its own (docs/root.md): an exception would be a
 * triple fault that says only where. This one says what, on serial, and
 * fails the run. Each root vCPU loads it (the IDT is per CPU).
 */
struct root_frame {
	uint64_t cr2, vector, error, rip, cs, rflags, rsp, ss;
};

__asm__(".text\n"
	".macro ROOT_EXC vec\n"
	"root_exc_\\vec:\n"
	".if (\\vec == 8) || (\\vec >= 10 && \\vec <= 14) || (\\vec == 17)\n"
	".else\n"
	"pushq $0\n"
	".endif\n"
	"pushq $\\vec\n"
	"jmp root_exc_common\n"
	".endm\n"
	".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19\n"
	"ROOT_EXC \\v\n"
	".endr\n"
	"root_exc_common:\n"
	"movq %cr2, %rax\n"
	"pushq %rax\n"
	"movq %rsp, %rdi\n"
	"andq $-16, %rsp\n"
	"call root_exception\n"
	"1: hlt\n"
	"jmp 1b\n"
	".section .rodata\n"
	".balign 8\n"
	"root_exc_stubs:\n"
	".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19\n"
	".quad root_exc_\\v\n"
	".endr\n"
	".text\n");

extern const uint64_t root_exc_stubs[20];
static struct { uint16_t off0, sel; uint8_t ist, type; uint16_t off1; uint32_t off2, zero; }
	root_idt[20] __attribute__((aligned(16)));

void root_exception(struct root_frame *f);
void root_exception(struct root_frame *f)
{
	gprintf("irq-test: FAIL root: exception %lu, error 0x%lx, at RIP 0x%lx (CS 0x%lx, RFLAGS 0x%lx, RSP 0x%lx), CR2 0x%lx\n",
		f->vector, f->error, f->rip, f->cs, f->rflags, f->rsp, f->cr2);
	gprintf("HV-VERDICT: FAIL\n");
	guest_exit(false);
}

static void root_idt_load(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;
	uint16_t cs;

	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	for (int v = 0; v < 20; v++) {
		uint64_t a = root_exc_stubs[v];

		root_idt[v].off0 = (uint16_t)a;
		root_idt[v].sel = cs;
		root_idt[v].type = 0x8e;
		root_idt[v].off1 = (uint16_t)(a >> 16);
		root_idt[v].off2 = (uint32_t)(a >> 32);
	}
	idtr.limit = sizeof(root_idt) - 1;
	idtr.base = (uint64_t)root_idt;
	__asm__ __volatile__("lidt %0" :: "m"(idtr) : "memory");
}

/* ---------------------------------------------------------- root vCPUs */

/*
 * A root vCPU on each CPU 1.. waits (HLT: the hypervisor's 50 Hz tick
 * wakes it to look) for a job: a function it runs with its CPU number.
 */
typedef void (*job_fn)(unsigned int cpu, void *arg);

static struct worker {
	volatile uint32_t posted, done, alive;
	job_fn fn;
	void *arg;
} workers[MAX_CPUS];
static unsigned int nr_workers;         /* CPUs 1..nr_workers have one */

static void ap_main(uint64_t cpu)
{
	struct worker *w = &workers[cpu];
	uint32_t seen = 0;

	root_idt_load();
	__atomic_store_n(&w->alive, 1, __ATOMIC_RELEASE);
	for (;;) {
		while (__atomic_load_n(&w->posted, __ATOMIC_ACQUIRE) == seen)
			__asm__ __volatile__("hlt" ::: "memory");
		seen = w->posted;
		w->fn((unsigned int)cpu, w->arg);
		__atomic_store_n(&w->done, seen, __ATOMIC_RELEASE);
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

/* Root vCPUs on CPUs 1..want-1 (fewer where a start fails). */
static void start_workers(unsigned int want)
{
	for (unsigned int cpu = nr_workers + 1; cpu < want && cpu < MAX_CPUS && cpu < nr_cpus; cpu++) {
		uint8_t *stack = ralloc(16384);
		int64_t r;
		uint64_t t0;

		if (!stack)
			break;
		r = hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_entry, (uint64_t)stack + 16384 - 8, cpu);
		if (r) {
			gprintf("irq-test: HC_START_ROOT_VCPU(%u) returned %ld\n", cpu, r);
			break;
		}
		t0 = rdtsc();
		while (!__atomic_load_n(&workers[cpu].alive, __ATOMIC_ACQUIRE) &&
		       rdtsc() - t0 < ms_tsc(5000))
			__asm__ __volatile__("pause");
		if (!workers[cpu].alive) {
			gprintf("irq-test: the root vCPU on CPU %u did not start\n", cpu);
			break;
		}
		nr_workers = cpu;
	}
}

static void job_post(unsigned int cpu, job_fn fn, void *arg)
{
	struct worker *w = &workers[cpu];

	w->fn = fn;
	w->arg = arg;
	__atomic_store_n(&w->posted, w->posted + 1, __ATOMIC_RELEASE);
}

static bool job_wait(unsigned int cpu, uint64_t ms)
{
	struct worker *w = &workers[cpu];
	uint64_t t0 = rdtsc();

	while (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) != w->posted) {
		if (rdtsc() - t0 > ms_tsc(ms))
			return false;
		__asm__ __volatile__("pause");
	}
	return true;
}

/* ---------------------------------------------------------- children */

static char cmd_err[300];

static int64_t make_child(struct child64 *c, const char *name, bool smp, unsigned int nvcpus,
			  bool irqchip)
{
	const uint8_t *b = smp ? child_irqsmp_bin_start : child_irq_bin_start;
	const uint8_t *e = smp ? child_irqsmp_bin_end : child_irq_bin_end;
	int64_t r;

	c->name = name;
	c->flags = irqchip ? CHILD64_IRQCHIP : 0;
	r = child_create64(c, b, (size_t)(e - b), CHILD_RAM, nvcpus);
	c->budget_us = CMD_BUDGET_US;
	if (r) {
		snprintf(cmd_err, sizeof(cmd_err), "creating child %s (%u vCPUs%s) failed: %ld", name,
			  nvcpus, irqchip ? ", irqchip" : "", r);
		gprintf("irq-test: %s\n", cmd_err);
	}
	return r;
}

static struct ci_mbox *cmb(struct child64 *c, unsigned int i)
{
	return child_gpa64(c, CRT_MAILBOX(i));
}

static void args(struct child64 *c, unsigned int i, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3)
{
	struct ci_mbox *mb = cmb(c, i);

	mb->arg[0] = a0;
	mb->arg[1] = a1;
	mb->arg[2] = a2;
	mb->arg[3] = a3;
}

static const struct hv_exit *rec(struct child64 *c, unsigned int i)
{
	return c->exit[i];
}

/* Run vCPU i on this CPU until an event other than a budget's end, or
 * until the deadline passes. */
static enum child64_event run_until(struct child64 *c, unsigned int i, uint64_t deadline)
{
	for (;;) {
		enum child64_event ev = child_run64(c, i);

		if (ev == C64_OTHER && c->exit[i]->reason == HV_EXIT_TIMEOUT && rdtsc() < deadline)
			continue;
		return ev;
	}
}

static void explain(struct child64 *c, unsigned int i, uint32_t cmd, enum child64_event ev)
{
	char d[200];

	child_describe64(c, i, d, sizeof(d));
	snprintf(cmd_err, sizeof(cmd_err), "command %u on %s.%u did not complete (event %d): %s",
		  cmd, c->name, i, (int)ev, d);
}

/* Answer the prompt with `cmd` (after running to the prompt if needed):
 * the event that ended the run (C64_PROMPT: the command is done). */
static enum child64_event cmd_start(struct child64 *c, unsigned int i, uint32_t cmd)
{
	uint64_t deadline = rdtsc() + ms_tsc(CMD_TIMEOUT_MS);
	enum child64_event ev;

	if (c->cpu[i].exited)
		return C64_EXIT;
	if (!c->cpu[i].prompt && (ev = run_until(c, i, deadline)) != C64_PROMPT)
		return ev;
	c->exit[i]->io.data = cmd;
	return run_until(c, i, deadline);
}

/* A command that must come back to the prompt; false with cmd_err set. */
static bool cmd(struct child64 *c, unsigned int i, uint32_t command)
{
	enum child64_event ev = cmd_start(c, i, command);

	if (ev == C64_PROMPT)
		return true;
	explain(c, i, command, ev);
	return false;
}

/* Back to the prompt after an exit the caller handled. */
static bool resume(struct child64 *c, unsigned int i, uint32_t command)
{
	enum child64_event ev = run_until(c, i, rdtsc() + ms_tsc(CMD_TIMEOUT_MS));

	if (ev == C64_PROMPT)
		return true;
	explain(c, i, command, ev);
	return false;
}

static bool setup(struct child64 *c, unsigned int i, bool x2apic)
{
	args(c, i, tsc_khz, x2apic, 0, 0);
	return cmd(c, i, CI_SETUP);
}

static struct hv_vm_stats *vm_stats(struct child64 *c)
{
	static struct hv_vm_stats *st;

	if (!st)
		st = ralloc(4096);
	if (!st || hcall(HC_VM_STATS, (uint64_t)c->vm, (uint64_t)st, 0, 0))
		return NULL;
	return st;
}

/* ---------------------------------------------------------- timer */

static struct child64 ct;               /* timer, HLT, run, MMIO, string I/O */
static bool ct_ok;
static uint32_t irqchip_ecx;            /* CPUID 1 ECX with an irqchip */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* The median of the gaps between n stamps (n >= 2). */
static uint64_t median_gap(const uint64_t *ts, uint32_t n)
{
	static uint64_t g[CI_MAX_TS];
	uint32_t m = n - 1;

	for (uint32_t i = 0; i < m; i++)
		g[i] = ts[i + 1] - ts[i];
	for (uint32_t i = 1; i < m; i++)        /* insertion sort: m < 128 */
		for (uint32_t j = i; j > 0 && cmp_u64(g[j - 1], g[j]) > 0; j--) {
			uint64_t t = g[j];

			g[j] = g[j - 1];
			g[j - 1] = t;
		}
	return g[m / 2];
}

/*
 * Timing on an emulator that shares a loaded host: an interrupt may come
 * late by however long the host kept the emulator's threads waiting, never
 * early. A check whose only miss is lateness (an upper bound) is run
 * again, up to TIMING_TRIES times; the periodic and masking checks double
 * their period each time (a period the host cannot keep up with says
 * nothing about the timer). An early interrupt or a wrong count fails at
 * once.
 */
#define TIMING_TRIES    4

static void periodic_check(uint32_t tdcr, uint32_t div)
{
	struct ci_mbox *mb = cmb(&ct, 0);
	uint64_t count = 0, period = 0, ms = 0, t0, tstop, n = 0, expect = 0, early = 0, gap = 0;
	char name[220];
	bool ok = false, hard = false, soft = false;
	int tries;

	for (tries = 1; tries <= TIMING_TRIES; tries++) {
		ms = timer_ms << (tries - 1);
		count = ms_tsc(ms) / div;
		period = count * div;
		args(&ct, 0, tdcr, count, 12 * period, 3 * period);
		ok = cmd(&ct, 0, CI_PERIODIC);
		n = (uint64_t)mb->res[0];
		t0 = (uint64_t)mb->res[1];
		tstop = (uint64_t)mb->res[2];
		expect = (tstop - t0) / period;
		early = 0;
		for (uint64_t j = 0; ok && j < n && j < CI_MAX_TS; j++)
			if (mb->u.ts[j] < t0 + (j + 1) * period && !early)
				early = j + 1;
		gap = ok && n >= 2 ? median_gap(mb->u.ts, n < CI_MAX_TS ? (uint32_t)n : CI_MAX_TS) : 0;
		hard = ok && n <= expect && !early && !mb->res[3] && !mb->res[4];
		soft = n >= 2 && n * 3 >= expect && gap * 4 >= period * 3 && gap * 4 <= period * 5;
		if (!hard || soft)
			break;
	}
	if (tries > TIMING_TRIES)
		tries = TIMING_TRIES;
	snprintf(name, sizeof(name),
		  "timer: periodic, divide by %u (%lu counts = %lu ms): at most one interrupt per elapsed period and at least a third of them, none early (the k-th >= k periods after the start), none after TMICT=0",
		  div, count, ms);
	CHECK(hard && n >= 2 && n * 3 >= expect, name,
	      "%lu interrupts in %lu periods, %s%lu, %ld after TMICT=0 (TMCCT %ld), try %d %s", n, expect,
	      early ? "early: number " : "early: ", early, mb->res[3], mb->res[4], tries,
	      ok ? "" : cmd_err);
	snprintf(name, sizeof(name), "timer: periodic, divide by %u (%lu ms): median spacing within 25%% of the period",
		  div, ms);
	CHECK(ok && n >= 2 && gap * 4 >= period * 3 && gap * 4 <= period * 5, name,
	      "median gap %lu ticks, period %lu (%lu interrupts), try %d", gap, period, n, tries);
}

static void timer_section(void)
{
	static const struct { uint32_t tdcr, div; } divs[] = {
		{ 0xb, 1 }, { 0x0, 2 }, { 0x3, 16 }, { 0xa, 128 },
	};
	struct ci_mbox *mb;
	uint64_t count, delay, got;
	bool ok, down = true;
	char name[200];
	int tries;

	section_begin("timer", PLAN_TIMER);
	if (make_child(&ct, "T", false, 1, true) || !setup(&ct, 0, true)) {
		section_abort(cmd_err);
		return;
	}
	ct_ok = true;
	mb = cmb(&ct, 0);
	irqchip_ecx = (uint32_t)mb->res[1];

	/* One-shot, divide by 4, one period. */
	count = ms_tsc(timer_ms) / 4;
	delay = count * 4;
	for (tries = 1; tries <= TIMING_TRIES; tries++) {
		args(&ct, 0, 0x1, count, 2 * delay, 0);
		ok = cmd(&ct, 0, CI_ONESHOT);
		got = (uint64_t)(mb->res[2] - mb->res[1]);
		if (!ok || mb->res[0] != 1 || got < delay || got <= delay + ms_tsc(late_ms))
			break;
	}
	if (tries > TIMING_TRIES)
		tries = TIMING_TRIES;
	snprintf(name, sizeof(name),
		  "timer: one-shot, divide by 4, %lu ms: the interrupt comes no earlier than initial count x 4 TSC ticks after the write, at most %lu ms late",
		  timer_ms, late_ms);
	CHECK(ok && mb->res[0] >= 1 && got >= delay && got <= delay + ms_tsc(late_ms), name,
	      "%ld interrupts, the first %lu ticks after the write (%lu expected), try %d %s",
	      mb->res[0], got, delay, tries, ok ? "" : cmd_err);
	CHECK(ok && mb->res[0] == 1, "timer: one-shot: exactly one interrupt (none in two delays after)",
	      "%ld interrupts", mb->res[0]);
	for (int i = 1; i < 8; i++)
		if (mb->u.cc[i] > mb->u.cc[i - 1])
			down = false;
	CHECK(ok && mb->u.cc[0] <= count && down && mb->u.cc[7] < mb->u.cc[0] && mb->res[3] == 0,
	      "timer: one-shot: the current count starts at most at the initial count, goes down, reads 0 after the expiry",
	      "initial %lu, read %u %u %u %u %u %u %u %u, after the expiry %ld", count, mb->u.cc[0],
	      mb->u.cc[1], mb->u.cc[2], mb->u.cc[3], mb->u.cc[4], mb->u.cc[5], mb->u.cc[6],
	      mb->u.cc[7], mb->res[3]);

	for (unsigned int k = 0; k < sizeof(divs) / sizeof(divs[0]); k++)
		periodic_check(divs[k].tdcr, divs[k].div);

	/* Masking a periodic timer. */
	for (tries = 1; tries <= TIMING_TRIES; tries++) {
		args(&ct, 0, ms_tsc(timer_ms << (tries - 1)), 4, 0, 0);
		ok = cmd(&ct, 0, CI_MASK);
		if (!ok || mb->res[1] || !mb->res[3] || (mb->res[0] >= 1 && mb->res[2] >= 2))
			break;
	}
	if (tries > TIMING_TRIES)
		tries = TIMING_TRIES;
	CHECK(ok && mb->res[0] >= 1 && mb->res[1] == 0 && mb->res[3] == 1,
	      "timer: masking the periodic timer's LVT entry stops its interrupts while it goes on counting (TMCCT moves)",
	      "%ld interrupts before, %ld while masked, TMCCT %s while masked, try %d %s", mb->res[0],
	      mb->res[1], mb->res[3] ? "moved" : "stood still", tries, ok ? "" : cmd_err);
	CHECK(ok && mb->res[2] >= 2, "timer: unmasking it brings them back (at least 2 in 4 periods; the period doubled on each try)",
	      "%ld interrupts in 4 periods after unmasking", mb->res[2]);

	/* TSC-deadline. */
	for (tries = 1; tries <= TIMING_TRIES; tries++) {
		args(&ct, 0, ms_tsc(timer_ms), 2 * ms_tsc(timer_ms), 0, 0);
		ok = cmd(&ct, 0, CI_DEADLINE);
		got = (uint64_t)(mb->res[1] - mb->res[0]);
		if (!ok || mb->res[2] != 1 || mb->res[1] < mb->res[0] || got <= ms_tsc(late_ms))
			break;
	}
	if (tries > TIMING_TRIES)
		tries = TIMING_TRIES;
	snprintf(name, sizeof(name),
		  "timer: TSC-deadline, %lu ms ahead: IA32_TSC_DEADLINE reads the deadline while armed; the interrupt comes at or after it, at most %lu ms late",
		  timer_ms, late_ms);
	CHECK(ok && mb->res[2] >= 1 && mb->res[1] >= mb->res[0] && got <= ms_tsc(late_ms) &&
	      mb->res[4] == mb->res[0], name,
	      "%ld interrupts, the first %ld ticks after the deadline, the MSR read 0x%lx while armed (deadline 0x%lx), try %d %s",
	      mb->res[2], mb->res[1] - mb->res[0], mb->res[4], mb->res[0], tries, ok ? "" : cmd_err);
	CHECK(ok && mb->res[2] == 1 && mb->res[3] == 0,
	      "timer: TSC-deadline: one interrupt only, and the MSR reads 0 after it fired",
	      "%ld interrupts, the MSR reads 0x%lx", mb->res[2], mb->res[3]);
	ok = cmd(&ct, 0, CI_DEADLINE_PAST);
	CHECK(ok && mb->res[0] == 1 && mb->res[1] < 1000,
	      "timer: a deadline in the past fires at once (before 1000 PAUSEs after the WRMSR)",
	      "%ld interrupts, after %ld PAUSEs %s", mb->res[0], mb->res[1], ok ? "" : cmd_err);
	args(&ct, 0, ms_tsc(timer_ms), 0, 0, 0);
	ok = cmd(&ct, 0, CI_DISARM);
	CHECK(ok && mb->res[0] == 0 && mb->res[1] == 0,
	      "timer: writing 0 to IA32_TSC_DEADLINE disarms it: no interrupt in 3 x the delay, the MSR reads 0",
	      "%ld interrupts, the MSR reads 0x%lx %s", mb->res[0], mb->res[1], ok ? "" : cmd_err);
	CHECK(ok && mb->res[2] == 0 && mb->res[3] == 0,
	      "timer: writing 0 to the initial count stops a one-shot count: no interrupt, TMCCT 0",
	      "%ld interrupts, TMCCT %ld", mb->res[2], mb->res[3]);
	CHECK(ok && mb->res[4] == 0 && mb->res[5] == 0,
	      "timer: in one-shot mode IA32_TSC_DEADLINE reads 0 after a write and arms nothing",
	      "reads 0x%lx, %ld interrupts", mb->res[4], mb->res[5]);
	section_end();
}

/* ---------------------------------------------------------- HLT */

static struct child64 cp;               /* two vCPUs: HLT with IF=0, IOAPIC, bad ICRs */
static bool cp_ok;

static void hlt_section(void)
{
	struct ci_mbox *mb = cmb(&ct, 0), *mp;
	struct hv_vm_stats *st;
	uint64_t w0 = 0, t0, t1;
	const struct hv_exit *x;
	int64_t r, r2, mps;
	bool ok;

	section_begin("hlt", PLAN_HLT);
	if (!ct_ok) {
		section_abort("no child T");
		return;
	}
	/* STI; HLT with the one-shot timer armed. */
	if ((st = vm_stats(&ct)))
		w0 = st->kind[HV_STAT_HALT_WAKEUPS];
	args(&ct, 0, ms_tsc(timer_ms), 0, 0, 0);
	ok = cmd(&ct, 0, CI_HLT_TIMER);
	CHECK(ok && mb->res[0] == 1 && mb->res[1] >= 1 && (uint64_t)mb->res[2] >= ms_tsc(timer_ms),
	      "hlt: HLT with interrupts on sleeps in the hypervisor (no exit to the root) and wakes on the vCPU's timer: the interrupt arrives in the HLT, no earlier than programmed",
	      "%ld interrupts, %ld of them in HLT, after %ld ticks, %ld HLTs %s", mb->res[0],
	      mb->res[1], mb->res[2], mb->res[3], ok ? "" : cmd_err);
	st = vm_stats(&ct);
	CHECK(st && st->kind[HV_STAT_HALT_WAKEUPS] > w0,
	      "hlt: HC_VM_STATS counts the halt wake-up", "HALT_WAKEUPS %lu before, %lu after",
	      w0, st ? st->kind[HV_STAT_HALT_WAKEUPS] : 0);

	/* HV_RUN_NO_BLOCK: STI; HLT returns at once; a pending wake-up runs. */
	args(&ct, 0, CI_VEC_WAKE, 0, 0, 0);
	ct.exit[0]->io.data = CI_HLT_STI;
	ct.cpu[0].prompt = false;
	r = hcall(HC_RUN, (uint64_t)ct.vcpu[0], 0, HV_RUN_NO_BLOCK, 0);
	x = rec(&ct, 0);
	CHECK(r == 0 && x->reason == HV_EXIT_HLT && (x->flags & HV_EXIT_F_IF),
	      "hlt: HC_RUN with HV_RUN_NO_BLOCK returns HV_EXIT_HLT with HV_EXIT_F_IF when the vCPU executes STI; HLT",
	      "HC_RUN %ld, exit reason %u, flags 0x%x", r, x->reason, x->flags);
	r = hcall(HC_INTERRUPT, (uint64_t)ct.vcpu[0], CI_VEC_WAKE, 0, 0);
	r2 = hcall(HC_RUN, (uint64_t)ct.vcpu[0], 0, HV_RUN_NO_BLOCK, 0);
	if (r2 == 0 && x->reason == HV_EXIT_IO && !x->io.out && x->io.port == CRT_PORT_CMD) {
		ct.cpu[0].prompt = true;
		ok = true;
		CHECK(mb->res[0] == 1 && mb->res[1] == 1,
		      "hlt: HV_RUN_NO_BLOCK on a halted vCPU whose wake-up is pending (HC_INTERRUPT, IF=1) runs it: it takes the interrupt in its HLT",
		      "%ld interrupts, %ld in HLT", mb->res[0], mb->res[1]);
	} else {
		uint32_t reason = x->reason, flags = x->flags;

		ok = resume(&ct, 0, CI_HLT_STI);
		CHECK(false, "hlt: HV_RUN_NO_BLOCK on a halted vCPU whose wake-up is pending (HC_INTERRUPT, IF=1) runs it: it takes the interrupt in its HLT",
		      "HC_INTERRUPT %ld, then HC_RUN(HV_RUN_NO_BLOCK) %ld: exit reason %u flags 0x%x instead of running the vCPU (a blocking HC_RUN then %s it: %ld interrupts)",
		      r, r2, reason, flags, ok ? "woke" : "did not wake", mb->res[0]);
	}
	if (!ok) {
		ct_ok = false;
		section_abort(cmd_err);
		return;
	}

	/* HLT with IF=0, a due timer and an IPI pending: two vCPUs. */
	if (make_child(&cp, "P", false, 2, true) || !setup(&cp, 0, true) || !setup(&cp, 1, true)) {
		section_abort(cmd_err);
		return;
	}
	cp_ok = true;
	mp = cmb(&cp, 0);
	args(&cp, 0, CI_VEC_IPI, 0, 0, 0);
	ok = cmd_start(&cp, 0, CI_HLT_CLI) == C64_OTHER;
	x = rec(&cp, 0);
	CHECK(ok && x->reason == HV_EXIT_HLT && !(x->flags & HV_EXIT_F_IF),
	      "hlt: HLT with interrupts off (a TSC deadline already due) ends the run with HV_EXIT_HLT, flags without HV_EXIT_F_IF",
	      "exit reason %u, flags 0x%x", x->reason, x->flags);
	if (!ok || x->reason != HV_EXIT_HLT) {
		cp_ok = false;
		section_abort("the vCPU did not stop at its HLT");
		return;
	}
	args(&cp, 1, CI_VEC_IPI, 0, 0, 0);
	ok = cmd(&cp, 1, CI_SEND_IPI);
	t0 = rdtsc();
	r = hcall(HC_RUN, (uint64_t)cp.vcpu[0], 30000, 0, 0);
	t1 = rdtsc();
	mps = hcall(HC_GET_MP_STATE, (uint64_t)cp.vcpu[0], 0, 0, 0);
	CHECK(ok && r == 0 && x->reason == HV_EXIT_TIMEOUT && t1 - t0 >= ms_tsc(30) && mps == HV_MP_HALTED,
	      "hlt: halted with interrupts off it sleeps through its due timer and an IPI from vCPU 1: a 30 ms HC_RUN ends with HV_EXIT_TIMEOUT, HC_GET_MP_STATE says HALTED",
	      "IPI sent %s; HC_RUN %ld, exit reason %u after %lu us, MP state %ld", ok ? "yes" : cmd_err,
	      r, x->reason, tsc_us(t1 - t0), mps);
	t0 = rdtsc();
	r = hcall(HC_RUN, (uint64_t)cp.vcpu[0], 0, HV_RUN_NO_BLOCK, 0);
	t1 = rdtsc();
	CHECK(r == 0 && x->reason == HV_EXIT_HLT && !(x->flags & HV_EXIT_F_IF) && t1 - t0 < ms_tsc(500),
	      "hlt: HV_RUN_NO_BLOCK on it returns HV_EXIT_HLT (no HV_EXIT_F_IF) at once",
	      "HC_RUN %ld, exit reason %u, flags 0x%x, after %lu us", r, x->reason, x->flags,
	      tsc_us(t1 - t0));
	r = hcall(HC_SET_MP_STATE, (uint64_t)cp.vcpu[0], HV_MP_RUNNABLE, 0, 0);
	ok = r == 0 && resume(&cp, 0, CI_HLT_CLI);
	CHECK(ok && mp->res[0] == 1 && mp->res[1] == 1,
	      "hlt: HC_SET_MP_STATE(RUNNABLE) resumes it after the HLT; with STI it takes the timer and the IPI, one each",
	      "HC_SET_MP_STATE %ld; %ld timer interrupts, %ld IPIs %s", r, mp->res[0], mp->res[1],
	      ok ? "" : cmd_err);
	if (!ok)
		cp_ok = false;
	section_end();
}

/* ---------------------------------------------------------- APIC views */

static void views_section(void)
{
	static struct child64 cv;
	struct ci_mbox *mb;
	const int64_t *w;
	const struct hv_exit *x;
	enum child64_event ev;
	bool ok, mmio_exit = false;

	section_begin("apic", PLAN_VIEWS);
	if (make_child(&cv, "V", false, 2, true) || !setup(&cv, 1, false)) {
		section_abort(cmd_err);
		return;
	}
	mb = cmb(&cv, 1);
	w = mb->u.views;
	x = rec(&cv, 1);
	ev = cmd_start(&cv, 1, CI_VIEWS);
	if (ev == C64_OTHER && x->reason == HV_EXIT_MMIO) {
		mmio_exit = !x->mmio.write && x->mmio.size == 4 && x->mmio.gpa == 0xfee00030;
		cv.exit[1]->mmio.data = 0x5a5a5a5a;
		ok = resume(&cv, 1, CI_VIEWS);
	} else {
		ok = ev == C64_PROMPT;
		if (!ok)
			explain(&cv, 1, CI_VIEWS, ev);
	}
	if (!ok) {
		section_abort(cmd_err);
		child_destroy64(&cv);
		return;
	}
	CHECK(w[VW_X_ID] == 0x01000000 && w[VW_X_VER] == 0x00050014,
	      "apic: xAPIC page of vCPU 1: ID 0x01000000, version 0x00050014",
	      "ID 0x%lx, version 0x%lx", w[VW_X_ID], w[VW_X_VER]);
	CHECK(w[VW_X_SVR] == 0x1ff && w[VW_X_TPR] == 0x20 && w[VW_X_PPR] == 0x20 &&
	      w[VW_X_LDR] == 0x03000000 && w[VW_X_DFR] == 0xffffffff,
	      "apic: xAPIC SVR, TPR, LDR read back as written (0x1ff, 0x20, 0x03000000), PPR = TPR with nothing in service, DFR 0xffffffff",
	      "SVR 0x%lx, TPR 0x%lx, PPR 0x%lx, LDR 0x%lx, DFR 0x%lx", w[VW_X_SVR], w[VW_X_TPR],
	      w[VW_X_PPR], w[VW_X_LDR], w[VW_X_DFR]);
	CHECK(w[VW_X_LVT_TIMER] == 0x30045 && w[VW_X_LVT_ERROR] == 0x100fe &&
	      w[VW_X_LVT_LINT0] == 0x1a7ff,
	      "apic: xAPIC LVT writes keep their defined bits: timer 0x30045, error 0x1f0fe -> 0x100fe, LINT0 0x1f7ff -> 0x1a7ff",
	      "timer 0x%lx, error 0x%lx, LINT0 0x%lx", w[VW_X_LVT_TIMER], w[VW_X_LVT_ERROR],
	      w[VW_X_LVT_LINT0]);
	CHECK(w[VW_X_ESR_UNLATCHED] == 0 && w[VW_X_ESR_LATCHED] == 0x20 && w[VW_X_ESR_CLEARED] == 0,
	      "apic: xAPIC ESR: an ICR with vector 5 shows as 0x20 only after the next ESR write, and the write after clears it",
	      "before the write 0x%lx, after 0x%lx, after another 0x%lx", w[VW_X_ESR_UNLATCHED],
	      w[VW_X_ESR_LATCHED], w[VW_X_ESR_CLEARED]);
	CHECK(w[VW_X_SELF_IPI] == 1 && w[VW_X_DEST_IPI] == 1,
	      "apic: xAPIC ICR: a self IPI (shorthand) and a fixed IPI to its own ID each arrive once",
	      "self %ld, to its ID %ld", w[VW_X_SELF_IPI], w[VW_X_DEST_IPI]);
	CHECK(w[VW_X_MSR_GP] == 13, "apic: an x2APIC MSR (0x803) in xAPIC mode raises #GP",
	      "vector %ld", w[VW_X_MSR_GP]);
	CHECK(w[VW_BASE] == 0xfee00800 && w[VW_TO_X2] == -1,
	      "apic: IA32_APIC_BASE reads 0xfee00800 (EN, no BSP on vCPU 1); setting EXTD from xAPIC mode is accepted",
	      "base 0x%lx, the switch raised %ld", w[VW_BASE], w[VW_TO_X2]);
	CHECK(w[VW_2_VER] == w[VW_X_VER] && w[VW_2_SVR] == w[VW_X_SVR] && w[VW_2_TPR] == w[VW_X_TPR] &&
	      w[VW_2_PPR] == w[VW_X_PPR] && w[VW_2_LVT_TIMER] == w[VW_X_LVT_TIMER] &&
	      w[VW_2_LVT_ERROR] == w[VW_X_LVT_ERROR] && w[VW_2_LVT_LINT0] == w[VW_X_LVT_LINT0],
	      "apic: after the switch the x2APIC MSRs read what the xAPIC page held: version, SVR, TPR, PPR, three LVTs",
	      "version 0x%lx, SVR 0x%lx, TPR 0x%lx, PPR 0x%lx, LVT timer 0x%lx, error 0x%lx, LINT0 0x%lx",
	      w[VW_2_VER], w[VW_2_SVR], w[VW_2_TPR], w[VW_2_PPR], w[VW_2_LVT_TIMER],
	      w[VW_2_LVT_ERROR], w[VW_2_LVT_LINT0]);
	CHECK(w[VW_2_ID] == 1 && w[VW_2_LDR] == 0x2,
	      "apic: x2APIC ID is the vCPU index (1), LDR the derived logical ID (cluster 0, bit 1: 0x2)",
	      "ID 0x%lx, LDR 0x%lx", w[VW_2_ID], w[VW_2_LDR]);
	CHECK(w[VW_2_ESR_UNLATCHED] == 0 && w[VW_2_ESR_LATCHED] == 0x20 && w[VW_2_ESR_CLEARED] == 0 &&
	      w[VW_2_ESR_NONZERO] == 13,
	      "apic: x2APIC ESR latches as in xAPIC mode (0, 0x20, 0); a non-zero ESR write raises #GP",
	      "0x%lx, 0x%lx, 0x%lx; non-zero write raised %ld", w[VW_2_ESR_UNLATCHED],
	      w[VW_2_ESR_LATCHED], w[VW_2_ESR_CLEARED], w[VW_2_ESR_NONZERO]);
	CHECK(w[VW_2_SELF_IPI] == 1, "apic: the x2APIC SELF IPI MSR (0x83f) delivers its vector once",
	      "%ld interrupts", w[VW_2_SELF_IPI]);
	CHECK(w[VW_2_GP_EOI_READ] == 13 && w[VW_2_GP_EOI_NONZERO] == 13 && w[VW_2_GP_ICR_HI] == 13 &&
	      w[VW_2_GP_APR] == 13 && w[VW_2_GP_DFR] == 13 && w[VW_2_GP_ID_WRITE] == 13 &&
	      w[VW_2_GP_TPR_RSVD] == 13 && w[VW_2_GP_SELF_RSVD] == 13 && w[VW_2_GP_VER_WRITE] == 13,
	      "apic: x2APIC #GP: EOI read, non-zero EOI, ICR high (0x831), APR, DFR, ID write, TPR and SELF IPI reserved bits, version write",
	      "vectors %ld %ld %ld %ld %ld %ld %ld %ld %ld", w[VW_2_GP_EOI_READ], w[VW_2_GP_EOI_NONZERO],
	      w[VW_2_GP_ICR_HI], w[VW_2_GP_APR], w[VW_2_GP_DFR], w[VW_2_GP_ID_WRITE],
	      w[VW_2_GP_TPR_RSVD], w[VW_2_GP_SELF_RSVD], w[VW_2_GP_VER_WRITE]);
	CHECK(mmio_exit && w[VW_2_MMIO] == 0x5a5a5a5a,
	      "apic: in x2APIC mode the xAPIC page is no longer the APIC's: a read of 0xfee00030 reaches the root (HV_EXIT_MMIO, 4 bytes) and gets its answer",
	      "%s; the child read 0x%lx", mmio_exit ? "the exit came" : "no such exit", w[VW_2_MMIO]);
	CHECK(w[VW_T_TO_XAPIC] == 13 && w[VW_T_EXTD_ONLY] == 13 && w[VW_T_RSVD] == 13,
	      "apic: IA32_APIC_BASE: x2APIC -> xAPIC, EXTD without EN, and a reserved bit each raise #GP",
	      "vectors %ld, %ld, %ld", w[VW_T_TO_XAPIC], w[VW_T_EXTD_ONLY], w[VW_T_RSVD]);
	CHECK(w[VW_T_DISABLE] == -1 && w[VW_T_DIS_MSR] == 13 && w[VW_T_DIS_TO_X2] == 13 &&
	      w[VW_T_DIS_TO_X] == -1 && w[VW_T_X_SVR] == 0xff && w[VW_T_X_ID] == 0x01000000 &&
	      w[VW_T_X_TO_X2] == -1 && w[VW_T_X2_ID] == 1,
	      "apic: x2APIC -> disabled (x2APIC MSRs #GP, disabled -> x2APIC #GP) -> xAPIC with reset registers (SVR 0xff, ID 0x01000000) -> x2APIC (ID 1)",
	      "disable %ld, MSR %ld, to x2APIC %ld, to xAPIC %ld, SVR 0x%lx, ID 0x%lx, to x2APIC %ld, ID 0x%lx",
	      w[VW_T_DISABLE], w[VW_T_DIS_MSR], w[VW_T_DIS_TO_X2], w[VW_T_DIS_TO_X], w[VW_T_X_SVR],
	      w[VW_T_X_ID], w[VW_T_X_TO_X2], w[VW_T_X2_ID]);
	child_destroy64(&cv);
	section_end();
}

/* ---------------------------------------------------------- IOAPIC */

static bool line(struct child64 *c, unsigned int pin, unsigned int level)
{
	return hcall(HC_IRQ_LINE, (uint64_t)c->vm, pin, level, 0) == 0;
}

static bool rte(struct child64 *c, unsigned int pin, uint32_t lo, uint32_t hi)
{
	args(c, 0, pin, 1, lo, hi);
	return cmd(c, 0, CI_IOAPIC);
}

static bool rte_read(struct child64 *c, unsigned int pin)
{
	args(c, 0, pin, 0, 0, 0);
	return cmd(c, 0, CI_IOAPIC);
}

static bool wait_vec(struct child64 *c, unsigned int i, unsigned int v, uint32_t n, uint64_t ms,
		     unsigned int other)
{
	args(c, i, v, n, ms, other);
	return cmd(c, i, CI_WAIT);
}

static void ioapic_section(void)
{
	static const struct { unsigned int pin; uint32_t lo, hi; } entries[] = {
		{ 3, CI_VEC_IO_A, 1u << 24 },
		{ 5, CI_VEC_IO_B, 0 },
		{ 7, CI_VEC_IO_LVL | CI_RTE_LEVEL, 0 },
		{ 9, CI_VEC_IO_MASK | CI_RTE_MASKED, 0 },
		{ 10, CI_VEC_IO_MLVL | CI_RTE_LEVEL | CI_RTE_MASKED, 0 },
		{ 11, CI_VEC_IO_LOG | CI_RTE_LOGICAL, 3u << 24 },
	};
	struct ci_mbox *m0 = cmb(&cp, 0), *m1 = cmb(&cp, 1);
	int64_t a1, b1, a0, b0, n;
	bool ok = true, lines = true, rb = true;
	int64_t ver = 0;

	section_begin("ioapic", PLAN_IOAPIC);
	if (!cp_ok) {
		section_abort("no child P");
		return;
	}
	args(&cp, 0, CI_VEC_IO_LVL, 0, 0, 0);
	ok = cmd(&cp, 0, CI_LEVEL);
	args(&cp, 0, CI_VEC_IO_MLVL, 0, 0, 0);
	ok = ok && cmd(&cp, 0, CI_LEVEL);
	for (unsigned int k = 0; ok && k < sizeof(entries) / sizeof(entries[0]); k++) {
		ok = rte(&cp, entries[k].pin, entries[k].lo, entries[k].hi);
		if (ok && ((uint32_t)m0->res[0] != entries[k].lo || (uint32_t)m0->res[1] != entries[k].hi))
			rb = false;
		ver = m0->res[2];
	}
	if (!ok) {
		section_abort(cmd_err);
		return;
	}
	CHECK(rb && ver == 0x00170020,
	      "ioapic: the version register reads 0x00170020 (24 pins) and redirection entries read back as written",
	      "version 0x%lx, entries %s", ver, rb ? "as written" : "differ");

	/* Edges to each vCPU. */
	lines = line(&cp, 3, 1) && line(&cp, 3, 0) && line(&cp, 5, 1) && line(&cp, 5, 0);
	ok = wait_vec(&cp, 1, CI_VEC_IO_A, 1, 500, CI_VEC_IO_B);
	a1 = m1->res[0];
	b1 = m1->res[1];
	ok = ok && wait_vec(&cp, 0, CI_VEC_IO_B, 1, 500, CI_VEC_IO_A);
	b0 = m0->res[0];
	a0 = m0->res[1];
	CHECK(lines && ok && a1 == 1 && a0 == 0,
	      "ioapic: an edge on pin 3 (HC_IRQ_LINE 1, 0) reaches vCPU 1 with vector 0x61, and not vCPU 0",
	      "HC_IRQ_LINE %s; vCPU 1 took %ld, vCPU 0 %ld %s", lines ? "ok" : "failed", a1, a0,
	      ok ? "" : cmd_err);
	CHECK(lines && ok && b0 == 1 && b1 == 0,
	      "ioapic: an edge on pin 5 reaches vCPU 0 with vector 0x62, and not vCPU 1",
	      "vCPU 0 took %ld, vCPU 1 %ld", b0, b1);
	lines = line(&cp, 3, 1) && line(&cp, 3, 1) && line(&cp, 3, 0);
	ok = wait_vec(&cp, 1, CI_VEC_IO_A, 3, 50, 0);
	CHECK(lines && ok && m1->res[0] == 2,
	      "ioapic: an edge entry sends once per rising edge: the line raised twice in a row gives one interrupt",
	      "vCPU 1 has taken %ld in all (2 expected) %s", m1->res[0], ok ? "" : cmd_err);

	/* Level: remote IRR, EOI, redelivery while the line is high. */
	lines = line(&cp, 7, 1);
	ok = wait_vec(&cp, 0, CI_VEC_IO_LVL, 1, 500, 0);
	n = m0->res[0];
	ok = ok && rte_read(&cp, 7);
	CHECK(lines && ok && n == 1 && (m0->res[0] & CI_RTE_REMOTE_IRR),
	      "ioapic: a level entry (pin 7, vector 0x63) reaches vCPU 0 once and sets remote IRR until the EOI",
	      "%ld interrupts, entry 0x%lx %s", n, m0->res[0], ok ? "" : cmd_err);
	args(&cp, 0, 50, CI_VEC_IO_LVL, 0, 0);
	ok = cmd(&cp, 0, CI_EOI);
	n = m0->res[0];
	ok = ok && rte_read(&cp, 7);
	CHECK(ok && n == 2 && (m0->res[0] & CI_RTE_REMOTE_IRR),
	      "ioapic: the EOI while the line is still high clears remote IRR and the entry sends again (remote IRR set again)",
	      "%ld interrupts in all, entry 0x%lx %s", n, m0->res[0], ok ? "" : cmd_err);
	lines = line(&cp, 7, 0);
	args(&cp, 0, 50, CI_VEC_IO_LVL, 0, 0);
	ok = cmd(&cp, 0, CI_EOI);
	n = m0->res[0];
	ok = ok && rte_read(&cp, 7);
	CHECK(lines && ok && n == 2 && !(m0->res[0] & CI_RTE_REMOTE_IRR),
	      "ioapic: with the line low the EOI clears remote IRR and nothing more comes",
	      "%ld interrupts in all, entry 0x%lx %s", n, m0->res[0], ok ? "" : cmd_err);

	/* Masked entries. */
	lines = line(&cp, 9, 1) && line(&cp, 9, 0);
	ok = wait_vec(&cp, 0, CI_VEC_IO_MASK, 1, 50, 0);
	n = m0->res[0];
	ok = ok && rte(&cp, 9, CI_VEC_IO_MASK, 0) && wait_vec(&cp, 0, CI_VEC_IO_MASK, 1, 50, 0);
	CHECK(lines && ok && n == 0 && m0->res[0] == 0,
	      "ioapic: a masked edge entry delivers nothing, not even once unmasked",
	      "%ld while masked, %ld after unmasking %s", n, m0->res[0], ok ? "" : cmd_err);
	lines = line(&cp, 10, 1);
	ok = wait_vec(&cp, 0, CI_VEC_IO_MLVL, 1, 50, 0);
	n = m0->res[0];
	ok = ok && rte(&cp, 10, CI_VEC_IO_MLVL | CI_RTE_LEVEL, 0) &&
	     wait_vec(&cp, 0, CI_VEC_IO_MLVL, 1, 500, 0);
	a0 = m0->res[0];
	lines = lines && line(&cp, 10, 0);
	args(&cp, 0, 50, CI_VEC_IO_MLVL, 0, 0);
	ok = ok && cmd(&cp, 0, CI_EOI);
	CHECK(lines && ok && n == 0 && a0 == 1 && m0->res[0] == 1,
	      "ioapic: a masked level entry delivers nothing while masked, and sends once when unmasked with the line high",
	      "%ld while masked, %ld after unmasking, %ld after the line fell and the EOI %s", n, a0,
	      m0->res[0], ok ? "" : cmd_err);

	/* Logical destination: both vCPUs (x2APIC cluster 0, bits 0 and 1). */
	lines = line(&cp, 11, 1) && line(&cp, 11, 0);
	ok = wait_vec(&cp, 0, CI_VEC_IO_LOG, 1, 500, 0);
	a0 = m0->res[0];
	ok = ok && wait_vec(&cp, 1, CI_VEC_IO_LOG, 1, 500, 0);
	CHECK(lines && ok && a0 == 1 && m1->res[0] == 1,
	      "ioapic: a logical destination (0x3) reaches both vCPUs, once each",
	      "vCPU 0 %ld, vCPU 1 %ld %s", a0, m1->res[0], ok ? "" : cmd_err);
	section_end();
}

/* ---------------------------------------------------------- run, kick, inject */

static void run_job(unsigned int cpu, void *arg)
{
	struct child64 *c = arg;

	(void)child_run64(c, 0);
}

static void run_section(void)
{
	struct ci_mbox *mb = cmb(&ct, 0);
	const struct hv_exit *x = rec(&ct, 0);
	enum child64_event ev;
	uint64_t t0, t1, c0;
	int64_t r;
	bool ok, done;
	char name[120];
	int tries;

	section_begin("run", PLAN_RUN);
	if (!ct_ok) {
		section_abort("no child T");
		return;
	}
	/* A 20 ms budget on a spinning child. */
	mb->u.spin.stop = 0;
	mb->u.spin.count = 0;
	if (!ct.cpu[0].prompt && (ev = run_until(&ct, 0, rdtsc() + ms_tsc(CMD_TIMEOUT_MS))) != C64_PROMPT) {
		explain(&ct, 0, CI_SPIN, ev);
		section_abort(cmd_err);
		return;
	}
	ct.exit[0]->io.data = CI_SPIN;
	ct.budget_us = 20000;
	for (tries = 1; tries <= TIMING_TRIES; tries++) {
		t0 = rdtsc();
		ev = child_run64(&ct, 0);
		t1 = rdtsc();
		c0 = mb->u.spin.count;
		if (ev != C64_OTHER || x->reason != HV_EXIT_TIMEOUT || t1 - t0 < ms_tsc(20) ||
		    t1 - t0 <= ms_tsc(20 + late_ms))
			break;
	}
	if (tries > TIMING_TRIES)
		tries = TIMING_TRIES;
	CHECK(ev == C64_OTHER && x->reason == HV_EXIT_TIMEOUT && c0 > 0,
	      "run: HC_RUN with a 20 ms budget on a spinning child returns HV_EXIT_TIMEOUT (the child ran meanwhile)",
	      "event %d, exit reason %u, %lu loops", (int)ev, x->reason, c0);
	snprintf(name, sizeof(name), "run: ... after 20 ms by the TSC, at most %lu ms more", late_ms);
	CHECK(t1 - t0 >= ms_tsc(20) && t1 - t0 <= ms_tsc(20 + late_ms), name, "after %lu us, try %d",
	      tsc_us(t1 - t0), tries);

	/* HC_KICK from CPU 0 while CPU 1 runs it without a budget. */
	if (nr_workers < 1) {
		CHECK(false, "run: HC_KICK from CPU 0 ends the child's HC_RUN without a budget on CPU 1 with HV_EXIT_KICKED",
		      "no root vCPU on CPU 1");
	} else {
		ct.budget_us = 0;
		job_post(1, run_job, &ct);
		t0 = rdtsc();
		while (mb->u.spin.count == c0 && rdtsc() - t0 < ms_tsc(5000))
			__asm__ __volatile__("pause");
		c0 = mb->u.spin.count;
		t0 = rdtsc();
		r = hcall(HC_KICK, (uint64_t)ct.vcpu[0], 0, 0, 0);
		done = job_wait(1, 3000);
		t1 = rdtsc();
		if (!done) {                    /* never leave it running */
			mb->u.spin.stop = 1;
			hcall(HC_KICK, (uint64_t)ct.vcpu[0], 0, 0, 0);
			done = job_wait(1, 3000);
		}
		CHECK(r == 0 && done && x->reason == HV_EXIT_KICKED && mb->u.spin.count != c0 - 1,
		      "run: HC_KICK from CPU 0 ends the child's HC_RUN without a budget on CPU 1 with HV_EXIT_KICKED",
		      "HC_KICK %ld, the run %s after %lu us, exit reason %u, spinning %s", r,
		      done ? "ended" : "did not end", tsc_us(t1 - t0), x->reason,
		      c0 ? "yes" : "never seen");
		ct.budget_us = CMD_BUDGET_US;
		if (!done) {
			ct_ok = false;
			section_abort("the child's run on CPU 1 did not end");
			return;
		}
	}
	/* A kick while it is not running: the next run ends at once. */
	r = hcall(HC_KICK, (uint64_t)ct.vcpu[0], 0, 0, 0);
	ct.budget_us = 2000000;
	t0 = rdtsc();
	ev = child_run64(&ct, 0);
	t1 = rdtsc();
	ct.budget_us = CMD_BUDGET_US;
	CHECK(r == 0 && ev == C64_OTHER && x->reason == HV_EXIT_KICKED && t1 - t0 < ms_tsc(1000),
	      "run: HC_KICK of a vCPU that is not running ends its next HC_RUN at once with HV_EXIT_KICKED",
	      "HC_KICK %ld; the run: event %d, exit reason %u after %lu us", r, (int)ev, x->reason,
	      tsc_us(t1 - t0));
	mb->u.spin.stop = 1;
	ok = resume(&ct, 0, CI_SPIN);
	if (!ok) {
		ct_ok = false;
		section_abort(cmd_err);
		return;
	}

	/* A spin-wait (PAUSE) while other vCPUs wait for the CPU gives it
	 * back; with the CPU to itself it runs on to its budget. */
	mb->u.spin.stop = 0;
	mb->u.spin.count = 0;
	ct.exit[0]->io.data = CI_PAUSE_SPIN;
	ct.run_flags = HV_RUN_NO_BLOCK;
	ct.budget_us = 500000;
	t0 = rdtsc();
	ev = child_run64(&ct, 0);
	t1 = rdtsc();
	c0 = mb->u.spin.count;
	CHECK(ev == C64_OTHER && x->reason == HV_EXIT_YIELD && c0 >= 1 && t1 - t0 < ms_tsc(250),
	      "run: under HV_RUN_NO_BLOCK a child spinning with PAUSE gives the CPU back (HV_EXIT_YIELD) long before its 500 ms budget",
	      "event %d, exit reason %u after %lu us, %lu loops", (int)ev, x->reason,
	      tsc_us(t1 - t0), c0);
	ct.run_flags = 0;
	ct.budget_us = 20000;
	ev = child_run64(&ct, 0);
	CHECK(ev == C64_OTHER && x->reason == HV_EXIT_TIMEOUT && mb->u.spin.count > c0,
	      "run: without HV_RUN_NO_BLOCK the same PAUSE loop runs on to its 20 ms budget (HV_EXIT_TIMEOUT)",
	      "event %d, exit reason %u, %lu loops more", (int)ev, x->reason,
	      mb->u.spin.count - c0);
	ct.budget_us = CMD_BUDGET_US;
	mb->u.spin.stop = 1;
	ok = resume(&ct, 0, CI_PAUSE_SPIN);
	if (!ok) {
		ct_ok = false;
		section_abort(cmd_err);
		return;
	}

	/* HC_INTERRUPT and HC_NMI while it waits at its prompt. */
	r = hcall(HC_INTERRUPT, (uint64_t)ct.vcpu[0], CI_VEC_HC, 0, 0);
	ok = r == 0 && wait_vec(&ct, 0, CI_VEC_HC, 1, 500, 0);
	CHECK(ok && mb->res[0] == 1, "run: HC_INTERRUPT queues vector 0x70: the child takes it once",
	      "HC_INTERRUPT %ld, %ld interrupts %s", r, mb->res[0], ok ? "" : cmd_err);
	r = hcall(HC_NMI, (uint64_t)ct.vcpu[0], 0, 0, 0);
	args(&ct, 0, 1, 500, 0, 0);
	ok = r == 0 && cmd(&ct, 0, CI_NMI_WAIT);
	CHECK(ok && mb->res[0] == 1, "run: HC_NMI: the child's NMI handler (IDT vector 2) runs once",
	      "HC_NMI %ld, %ld NMIs %s", r, mb->res[0], ok ? "" : cmd_err);
	section_end();
}

/* ---------------------------------------------------------- MMIO */

struct step {
	const char *name;
	uint64_t off;
	uint8_t write, size;
	uint64_t data;                  /* a write's value, a read's answer */
};

static void mmio_section(void)
{
	static const struct step steps[] = {
		{ "mmio: a MOV load is an HV_EXIT_MMIO read of 4 bytes at its gpa; the root's answer completes it",
		  0, 0, 4, 0x11223344 },
		{ "mmio: a MOV store is a write of 4 bytes with its value (0xcafef00d)", 4, 1, 4, 0xcafef00d },
		{ "mmio: MOVZX of a byte is a read of 1 byte", 8, 0, 1, 0xab },
		{ "mmio: MOVZX of a word is a read of 2 bytes", 10, 0, 2, 0xbeef },
		{ NULL, 12, 0, 4, 0x11 },
		{ "mmio: OR to memory is a read exit (4 bytes), then a write exit with the result (0x111)",
		  12, 1, 4, 0x111 },
		{ "mmio: a MOV store of 8 bytes is a write of size 8 with its value", 24, 1, 8,
		  0x0123456789abcdefULL },
	};
	struct ci_mbox *mb = cmb(&ct, 0);
	const struct hv_exit *x = rec(&ct, 0);
	struct hv_regs *regs = ralloc(4096);
	enum child64_event ev;
	bool insn_ok = true, ok = true, all_ok = true;
	char why[200] = "";
	int64_t r;

	section_begin("mmio", PLAN_MMIO);
	if (!ct_ok || !regs) {
		section_abort("no child T");
		return;
	}
	args(&ct, 0, MMIO_GPA, 0, 0, 0);
	ev = cmd_start(&ct, 0, CI_MMIO);
	for (unsigned int k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		const struct step *s = &steps[k];
		bool got = ev == C64_OTHER && x->reason == HV_EXIT_MMIO;
		bool good = got && x->mmio.gpa == MMIO_GPA + s->off && x->mmio.write == s->write &&
			    x->mmio.size == s->size && (!s->write || x->mmio.data == s->data);

		if (got && (!x->mmio.insn_len || x->rip + x->mmio.insn_len > CHILD_RAM ||
			    gmemcmp(x->mmio.insn, child_gpa64(&ct, x->rip), x->mmio.insn_len)))
			insn_ok = false;
		if (!good)
			all_ok = false;
		if (s->name)
			CHECK(good && all_ok, s->name, "step %u: event %d, reason %u, gpa 0x%lx, %s, size %u, data 0x%lx",
			      k, (int)ev, x->reason, x->mmio.gpa, x->mmio.write ? "write" : "read",
			      x->mmio.size, x->mmio.data);
		if (!got) {
			ok = false;
			break;
		}
		if (!s->write)
			ct.exit[0]->mmio.data = s->data;
		ev = run_until(&ct, 0, rdtsc() + ms_tsc(CMD_TIMEOUT_MS));
	}
	if (!ok) {
		explain(&ct, 0, CI_MMIO, ev);
		ct_ok = false;
		section_abort(cmd_err);
		return;
	}
	/* LODS: not emulated; the root does it. */
	{
		bool got = ev == C64_OTHER && x->reason == HV_EXIT_MMIO;
		bool good = got && x->mmio.gpa == MMIO_GPA + 16 && x->mmio.size == 0 &&
			    x->mmio.insn_len >= 1 && x->mmio.insn[0] == 0xad;

		if (got && (!x->mmio.insn_len || x->rip + x->mmio.insn_len > CHILD_RAM ||
			    gmemcmp(x->mmio.insn, child_gpa64(&ct, x->rip), x->mmio.insn_len)))
			insn_ok = false;
		r = -1;
		if (got && !hcall(HC_GET_REGS, (uint64_t)ct.vcpu[0], (uint64_t)regs, 0, 0)) {
			regs->rax = 0x77;
			regs->rsi += 4;
			regs->rip += 1;
			r = hcall(HC_SET_REGS, (uint64_t)ct.vcpu[0], (uint64_t)regs, 0, 0);
		}
		CHECK(good && r == 0,
		      "mmio: LODS (not emulated) is an HV_EXIT_MMIO with size 0 and its bytes (0xad ...); the root emulates it with HC_GET/SET_REGS",
		      "event %d, reason %u, gpa 0x%lx, size %u, %u bytes, first 0x%x; HC_SET_REGS %ld",
		      (int)ev, x->reason, x->mmio.gpa, x->mmio.size, x->mmio.insn_len, x->mmio.insn[0], r);
		if (!got) {
			snprintf(why, sizeof(why), "the LODS exit did not come (reason %u)", x->reason);
			ct_ok = false;
			section_abort(why);
			return;
		}
	}
	CHECK(insn_ok, "mmio: each record's insn bytes are the instruction at its rip",
	      "a record's bytes differ from the child's memory");
	ok = resume(&ct, 0, CI_MMIO);
	CHECK(ok && mb->res[0] == 0x11223344 && mb->res[1] == 0xab && mb->res[2] == 0xbeef &&
	      mb->res[3] == 0x77 && mb->res[4] == 4,
	      "mmio: the child got the root's answers (0x11223344, 0xab, 0xbeef; LODS 0x77 with RSI moved by 4)",
	      "0x%lx, 0x%lx, 0x%lx, 0x%lx, RSI +%ld %s", mb->res[0], mb->res[1], mb->res[2],
	      mb->res[3], mb->res[4], ok ? "" : cmd_err);
	if (!ok)
		ct_ok = false;
	section_end();
}

/* ---------------------------------------------------------- string I/O */

static void strio_section(void)
{
	struct ci_mbox *mb = cmb(&ct, 0);
	const struct hv_exit *x = rec(&ct, 0);
	enum child64_event ev;
	unsigned int k, bad = 16;
	bool ok, ins_ok = true;
	char why[200] = "";

	section_begin("strio", PLAN_STRIO);
	if (!ct_ok) {
		section_abort("no child T");
		return;
	}
	for (k = 0; k < 16; k++)
		mb->u.bytes[k] = (uint8_t)(0x30 + k);
	args(&ct, 0, 0x510, 0, 0, 0);
	ev = cmd_start(&ct, 0, CI_OUTS);
	for (k = 0; k < 16; k++) {
		if (ev != C64_OTHER || x->reason != HV_EXIT_IO || x->io.port != 0x510 || !x->io.out ||
		    x->io.size != 1 || x->io.data != 0x30 + k) {
			bad = k;
			snprintf(why, sizeof(why), "record %u: event %d, reason %u, port 0x%x, %s, size %u, data 0x%lx",
				  k, (int)ev, x->reason, x->io.port, x->io.out ? "out" : "in", x->io.size,
				  x->io.data);
			break;
		}
		ev = run_until(&ct, 0, rdtsc() + ms_tsc(CMD_TIMEOUT_MS));
	}
	CHECK(bad == 16 && ev == C64_PROMPT,
	      "strio: REP OUTSB of 16 bytes: 16 HV_EXIT_IO records (port 0x510, out, size 1), the bytes in order",
	      "%s%s", why, bad == 16 ? "no prompt after the 16th" : "");
	if (ev != C64_PROMPT && !(ok = resume(&ct, 0, CI_OUTS))) {
		section_abort(cmd_err);
		ct_ok = false;
		return;
	}
	CHECK(mb->res[0] == 0 && mb->res[1] == 16, "strio: after it RCX is 0 and RSI moved by 16",
	      "RCX %ld, RSI moved by %ld", mb->res[0], mb->res[1]);

	args(&ct, 0, 0x511, 0, 0, 0);
	ev = cmd_start(&ct, 0, CI_INS);
	for (k = 0; k < 16; k++) {
		if (ev != C64_OTHER || x->reason != HV_EXIT_IO || x->io.port != 0x511 || x->io.out ||
		    x->io.size != 1) {
			ins_ok = false;
			snprintf(why, sizeof(why), "record %u: event %d, reason %u, port 0x%x, %s, size %u",
				  k, (int)ev, x->reason, x->io.port, x->io.out ? "out" : "in", x->io.size);
			break;
		}
		ct.exit[0]->io.data = 0xc0 + k;
		ev = run_until(&ct, 0, rdtsc() + ms_tsc(CMD_TIMEOUT_MS));
	}
	ok = ev == C64_PROMPT || (ev != C64_EXIT && resume(&ct, 0, CI_INS));
	for (k = 0; ok && ins_ok && k < 16; k++)
		if (mb->u.bytes[32 + k] != 0xc0 + k) {
			ins_ok = false;
			snprintf(why, sizeof(why), "byte %u is 0x%x", k, mb->u.bytes[32 + k]);
		}
	CHECK(ok && ins_ok && mb->res[0] == 0 && mb->res[1] == 16,
	      "strio: REP INSB of 16 bytes: 16 HV_EXIT_IO reads (port 0x511); the root's answers land in order, RCX 0, RDI moved by 16",
	      "%s; RCX %ld, RDI moved by %ld %s", why, mb->res[0], mb->res[1], ok ? "" : cmd_err);
	if (!ok)
		ct_ok = false;
	section_end();
}

/* ---------------------------------------------------------- SMP */

/* Child vCPUs i with i % nphys == cpu run on that CPU, in budget slices,
 * until they all exit, one stops otherwise, or the deadline passes. */
struct mrun {
	struct child64 *c;
	unsigned int nphys;
	uint64_t deadline;
	volatile uint32_t exited, statuses;
	volatile int stop;
	char why[240];
};

static void mrun_share(unsigned int cpu, void *arg)
{
	struct mrun *m = arg;
	struct child64 *c = m->c;

	for (;;) {
		bool any = false;

		for (unsigned int i = cpu; i < c->nvcpus; i += m->nphys) {
			enum child64_event ev;

			if (m->exited >> i & 1)
				continue;
			any = true;
			ev = child_run64(c, i);
			if (ev == C64_EXIT) {
				__atomic_fetch_or(&m->exited, 1u << i, __ATOMIC_ACQ_REL);
				if (c->cpu[i].status)
					__atomic_fetch_or(&m->statuses, 1u << i, __ATOMIC_ACQ_REL);
				continue;
			}
			if (ev == C64_OTHER && c->exit[i]->reason == HV_EXIT_TIMEOUT)
				continue;
			if (!__atomic_exchange_n(&m->stop, 1, __ATOMIC_ACQ_REL)) {
				char d[200];

				child_describe64(c, i, d, sizeof(d));
				snprintf(m->why, sizeof(m->why), "vCPU %u on CPU %u: %s", i, cpu, d);
			}
		}
		if (!any || m->stop)
			break;
		if (rdtsc() > m->deadline) {
			if (!__atomic_exchange_n(&m->stop, 1, __ATOMIC_ACQ_REL))
				snprintf(m->why, sizeof(m->why), "not every vCPU exited in time (exited 0x%x)",
					  m->exited);
			break;
		}
	}
}

/* Run every vCPU of c, vCPU i on CPU i % nphys. false: the workers needed
 * are not there. */
static bool mrun(struct mrun *m, struct child64 *c, unsigned int nphys, uint64_t ms)
{
	gmemset(m, 0, sizeof(*m));
	m->c = c;
	m->nphys = nphys;
	m->deadline = rdtsc() + ms_tsc(ms);
	if (nphys - 1 > nr_workers)
		return false;
	c->budget_us = nphys < c->nvcpus ? 5000 : 50000;
	for (unsigned int cpu = 1; cpu < nphys; cpu++)
		job_post(cpu, mrun_share, m);
	mrun_share(0, m);
	for (unsigned int cpu = 1; cpu < nphys; cpu++)
		if (!job_wait(cpu, ms + 10000)) {
			m->stop = 1;
			if (!job_wait(cpu, 10000) && !m->why[0])
				snprintf(m->why, sizeof(m->why), "the root vCPU on CPU %u never came back", cpu);
		}
	c->budget_us = CMD_BUDGET_US;
	return true;
}

static void smp_section(unsigned int n)
{
	static struct child64 cs;
	static struct mrun m;
	static char name[16];
	struct cs_mbox *mb;
	struct hv_vm_stats *st;
	unsigned int nphys = n < nr_cpus ? n : nr_cpus;
	uint32_t all = (1u << n) - 1, aps = all & ~1u, odd = 0;
	int64_t r = 0, mps = HV_MP_INIT_RECEIVED;
	bool ok;
	char t[240];

	snprintf(name, sizeof(name), "smp%u", n);
	section_begin(name, PLAN_SMP);
	if (nphys > nr_workers + 1) {
		snprintf(t, sizeof(t), "needs root vCPUs on CPUs 1-%u, has %u", nphys - 1, nr_workers);
		section_abort(t);
		return;
	}
	if (make_child(&cs, n == 2 ? "S2" : "S4", true, n, true)) {
		section_abort(cmd_err);
		return;
	}
	for (unsigned int i = 1; i < n; i++) {
		int64_t e = hcall(HC_SET_MP_STATE, (uint64_t)cs.vcpu[i], HV_MP_INIT_RECEIVED, 0, 0);
		int64_t s = hcall(HC_GET_MP_STATE, (uint64_t)cs.vcpu[i], 0, 0, 0);

		if (e && !r)
			r = e;
		if (s != HV_MP_INIT_RECEIVED)
			mps = s;
	}
	CHECK(r == 0 && mps == HV_MP_INIT_RECEIVED,
	      "smp: the root puts the APs in wait-for-SIPI (HC_SET_MP_STATE INIT_RECEIVED, read back)",
	      "HC_SET_MP_STATE %ld, HC_GET_MP_STATE %ld", r, mps);
	mb = child_gpa64(&cs, CRT_MAILBOX(0));
	mb->arg[0] = CS_TEST;
	mb->arg[1] = tsc_khz;
	ok = mrun(&m, &cs, nphys, 20000);
	st = vm_stats(&cs);
	gprintf("irq-test: %s: %u vCPUs on %u CPUs, APs started in %lu us, exited 0x%x%s%s\n", name,
		n, nphys, tsc_us(mb->start_ticks), m.exited, m.why[0] ? ": " : "", m.why);
	if (mb->text[0])
		gprintf("irq-test: %s: the child says: %s\n", name, mb->text);
	snprintf(t, sizeof(t),
		  "smp: INIT-SIPI-SIPI through the x2APIC ICR starts every AP: %u vCPUs reach main, on %u physical CPUs",
		  n, nphys);
	CHECK(ok && mb->online == all, t, "online 0x%x of 0x%x%s%s", mb->online, all,
	      m.why[0] ? "; " : "", m.why);
	CHECK(mb->ap_ok == aps,
	      "smp: each AP arrives through the real-mode trampoline in long mode (EFER.LMA) with its index in CPUID and the x2APIC ID, on its own stack",
	      "APs as expected 0x%x of 0x%x; vCPU 1: CPUID %u, ID %u, EFER 0x%x, stack %u", mb->ap_ok,
	      aps, mb->ap_info[1][0], mb->ap_info[1][1], mb->ap_info[1][2], mb->ap_info[1][3]);
	for (unsigned int i = 1; i < n; i += 2)
		odd |= 1u << i;
	{
		static const struct { int test; const char *what; } tests[] = {
			{ CT_PHYS, "smp: a fixed IPI to each AP in turn (physical destination): each AP counts one, the BSP none" },
			{ CT_OTHERS, "smp: shorthand all-but-self: every AP counts one, the BSP none" },
			{ CT_LOGICAL, "smp: a logical destination (x2APIC cluster 0, the odd vCPUs): exactly those count one" },
			{ CT_ALL, "smp: shorthand all-including-self: every vCPU counts one" },
			{ CT_BCAST, "smp: physical broadcast 0xffffffff: every vCPU counts one" },
			{ CT_RING, "smp: a ring of IPIs sent from interrupt handlers (0 -> 1 -> ... -> 0): every vCPU counts one" },
		};

		for (unsigned int k = 0; k < sizeof(tests) / sizeof(tests[0]); k++) {
			int tk = tests[k].test;
			uint32_t want = tk == CT_PHYS || tk == CT_OTHERS ? aps : tk == CT_LOGICAL ? odd : all;
			bool good = mb->online == all && (tk != CT_LOGICAL || mb->logical_dest == odd);

			for (unsigned int i = 0; i < n; i++)
				if (mb->count[tk][i] != (want >> i & 1))
					good = false;
			CHECK(good, tests[k].what, "counts by vCPU: %u %u %u %u (expected mask 0x%x)",
			      mb->count[tk][0], mb->count[tk][1], n > 2 ? mb->count[tk][2] : 0,
			      n > 3 ? mb->count[tk][3] : 0, want);
		}
	}
	{
		bool hw = mb->online == all;

		for (unsigned int i = 1; i < n; i++)
			if (!mb->hlt_wakes[i])
				hw = false;
		CHECK(hw && st && st->kind[HV_STAT_HALT_WAKEUPS] >= n - 1,
		      "smp: halted APs wake on IPIs: interrupts arrived in each AP's HLT, and HC_VM_STATS counts the wake-ups",
		      "in HLT by vCPU: %u %u %u %u; HALT_WAKEUPS %lu", mb->hlt_wakes[0], mb->hlt_wakes[1],
		      n > 2 ? mb->hlt_wakes[2] : 0, n > 3 ? mb->hlt_wakes[3] : 0,
		      st ? st->kind[HV_STAT_HALT_WAKEUPS] : 0);
	}
	CHECK(ok && m.exited == all && !m.statuses && mb->exited == aps && !m.stop,
	      "smp: every vCPU exits with status 0 (the APs saw the end)",
	      "exited 0x%x, with a non-zero status 0x%x, APs that saw the end 0x%x %s", m.exited,
	      m.statuses, mb->exited, m.why);
	child_destroy64(&cs);
	section_end();
}

/* ---------------------------------------------------------- bad input */

static void bad_section(void)
{
	static struct child64 cn;
	struct ci_mbox *m0 = cmb(&cp, 0), *m1 = cmb(&cp, 1), *mn;
	int64_t r1, r2, r3, r4, esr;
	bool ok;

	section_begin("bad", PLAN_BAD);
	if (!cp_ok || make_child(&cn, "N", false, 1, false)) {
		section_abort(cp_ok ? cmd_err : "no child P");
		return;
	}
	mn = cmb(&cn, 0);
	/* Vectors 0-15 in the ICR. */
	args(&cp, 0, 7, 1, 0, 0);
	ok = cmd(&cp, 0, CI_SEND_IPI);
	esr = m0->res[0];
	ok = ok && cmd(&cp, 1, CI_IRR);
	CHECK(ok && esr == 0x20 && m1->res[0] == 0 && m1->res[2] == 0,
	      "bad: a fixed IPI with vector 7 to vCPU 1: ESR 0x20 on the sender, nothing in the receiver's IRR, no receive error there",
	      "sender ESR 0x%lx; receiver IRR 0x%lx, ESR 0x%lx %s", esr, m1->res[0], m1->res[2],
	      ok ? "" : cmd_err);
	args(&cp, 0, 3 | CI_ICR_SELF, 0, 0, 0);
	ok = cmd(&cp, 0, CI_SEND_IPI);
	esr = m0->res[0];
	ok = ok && cmd(&cp, 0, CI_IRR);
	CHECK(ok && esr == 0x20 && m0->res[0] == 0 && m0->res[1] == 0,
	      "bad: a self IPI with vector 3: ESR 0x20, nothing in IRR or ISR, no exception",
	      "ESR 0x%lx, IRR 0x%lx, ISR 0x%lx %s", esr, m0->res[0], m0->res[1], ok ? "" : cmd_err);

	r1 = hcall(HC_IRQ_LINE, (uint64_t)cp.vm, 24, 1, 0);
	CHECK(r1 == -HV_EINVAL, "bad: HC_IRQ_LINE with pin 24: -HV_EINVAL", "returned %ld", r1);
	r1 = hcall(HC_IRQ_LINE, (uint64_t)cp.vm, 0, 2, 0);
	CHECK(r1 == -HV_EINVAL, "bad: HC_IRQ_LINE with level 2: -HV_EINVAL", "returned %ld", r1);
	r1 = hcall(HC_IRQ_LINE, (uint64_t)cn.vm, 0, 1, 0);
	CHECK(r1 == -HV_ENODEV, "bad: HC_IRQ_LINE on a VM without an irqchip: -HV_ENODEV",
	      "returned %ld", r1);
	r1 = hcall(HC_INTERRUPT, (uint64_t)cp.vcpu[1], 31, 0, 0);
	r2 = hcall(HC_INTERRUPT, (uint64_t)cp.vcpu[1], 0, 0, 0);
	r3 = hcall(HC_INTERRUPT, (uint64_t)cp.vcpu[1], 256, 0, 0);
	r4 = hcall(HC_INTERRUPT, (uint64_t)cp.vcpu[1], 32, 0, 0);
	CHECK(r1 == -HV_EINVAL && r2 == -HV_EINVAL && r3 == -HV_EINVAL && r4 == 0,
	      "bad: HC_INTERRUPT with vector 31, 0 or 256: -HV_EINVAL (32: 0)",
	      "returned %ld, %ld, %ld (32: %ld)", r1, r2, r3, r4);
	r1 = hcall(HC_CREATE_IRQCHIP, (uint64_t)cp.vm, 0, 0, 0);
	CHECK(r1 == -HV_EEXIST, "bad: HC_CREATE_IRQCHIP twice: -HV_EEXIST", "returned %ld", r1);
	r1 = hcall(HC_CREATE_IRQCHIP, (uint64_t)cn.vm, 0, 0, 0);
	CHECK(r1 == -HV_EBUSY, "bad: HC_CREATE_IRQCHIP after the VM's vCPUs exist: -HV_EBUSY",
	      "returned %ld", r1);
	r1 = hcall(HC_SET_MP_STATE, (uint64_t)cp.vcpu[1], 5, 0, 0);
	r2 = hcall(HC_SET_MP_STATE, (uint64_t)cp.vcpu[1], 0xffffffffULL, 0, 0);
	r3 = hcall(HC_GET_MP_STATE, (uint64_t)cp.vcpu[1], 0, 0, 0);
	CHECK(r1 == -HV_EINVAL && r2 == -HV_EINVAL && r3 == HV_MP_RUNNABLE,
	      "bad: HC_SET_MP_STATE with state 5 or 0xffffffff: -HV_EINVAL, the state unchanged",
	      "returned %ld, %ld; state %ld", r1, r2, r3);
	r1 = hcall(HC_SET_MP_STATE, (uint64_t)cn.vcpu[0], HV_MP_HALTED, 0, 0);
	CHECK(r1 == -HV_EINVAL, "bad: HC_SET_MP_STATE HALTED without a local APIC: -HV_EINVAL",
	      "returned %ld", r1);
	ok = cmd(&cn, 0, CI_CPUID);
	CHECK(ok && !(mn->res[1] & (1u << 21 | 1u << 24)) && (irqchip_ecx & (1u << 21)) &&
	      (irqchip_ecx & (1u << 24)),
	      "cpuid: a child sees x2APIC (1:ECX[21]) and TSC-deadline (1:ECX[24]) only with an irqchip",
	      "ECX 0x%x with an irqchip, 0x%lx without %s", irqchip_ecx, mn->res[1], ok ? "" : cmd_err);
	/* HC_INTERRUPT without an irqchip (the external-interrupt line): held
	 * while the child runs with IF=0 (the hypervisor asks for an interrupt
	 * window instead of injecting), taken exactly once through the window
	 * exit when it sets IF. Its handler does not EOI: there is no APIC. */
	{
		struct hv_vm_stats *st = vm_stats(&cn);
		uint64_t w0 = st ? st->kind[HV_STAT_WINDOW] : 0, i0 = st ? st->kind[HV_STAT_INJECTED] : 0;

		ok = st && setup(&cn, 0, false);
		args(&cn, 0, CI_VEC_HC, 0, 0, 0);
		ok = ok && cmd(&cn, 0, CI_LEVEL);
		r1 = hcall(HC_INTERRUPT, (uint64_t)cn.vcpu[0], CI_VEC_HC, 0, 0);
		ok = ok && r1 == 0 && cmd(&cn, 0, CI_CPUID);   /* runs with IF=0 */
		args(&cn, 0, CI_VEC_HC, 1, 500, 0);
		ok = ok && cmd(&cn, 0, CI_WAIT);
		st = ok ? vm_stats(&cn) : NULL;
		CHECK(st && mn->res[0] == 1 && st->kind[HV_STAT_WINDOW] > w0 &&
		      st->kind[HV_STAT_INJECTED] == i0 + 1,
		      "extint: HC_INTERRUPT without an irqchip waits out the child's IF=0 (an interrupt window) and is taken once when it sets IF",
		      "HC_INTERRUPT %ld, %ld taken, window exits %lu -> %lu, injected %lu -> %lu %s", r1,
		      mn->res[0], w0, st ? st->kind[HV_STAT_WINDOW] : 0, i0,
		      st ? st->kind[HV_STAT_INJECTED] : 0, ok ? "" : cmd_err);
	}
	child_destroy64(&cn);
	section_end();
}

/* ---------------------------------------------------------- benchmarks */

#define BENCH_ITERS     2000

static void bench_one(struct child64 *c, const char *name, enum ci_bench kind, uint64_t iters,
		      uint64_t ticks)
{
	struct ci_mbox *mb = cmb(c, 0);

	args(c, 0, kind, iters, ticks, 0);
	if (!cmd(c, 0, CI_BENCH)) {
		gprintf("bench: %s failed: %s\n", name, cmd_err);
		return;
	}
	if (kind == CB_HLT_TIMER)       /* deadline to handler */
		gprintf("bench: %s %lu tsc/iter\n", name, (uint64_t)mb->res[1] / iters);
	else
		gprintf("bench: %s %lu tsc/iter\n", name, (uint64_t)mb->res[0] / iters);
}

static void bench(void)
{
	static struct child64 cb, cs;
	static struct mrun m;
	struct cs_mbox *mb;

	gprintf("irq-bench: %s, %u CPUs, TSC %lu kHz\n", guest_is_intel() ? "Intel VMX" : "AMD SVM",
		nr_cpus, tsc_khz);
	if (make_child(&cb, "B", false, 1, true) || !setup(&cb, 0, false)) {
		gprintf("bench: child failed: %s\n", cmd_err);
		return;
	}
	bench_one(&cb, "xapic mmio read", CB_XAPIC_READ, BENCH_ITERS, 0);
	if (!setup(&cb, 0, true)) {
		gprintf("bench: child failed: %s\n", cmd_err);
		return;
	}
	bench_one(&cb, "cpuid exit", CB_CPUID, BENCH_ITERS, 0);
	bench_one(&cb, "x2apic eoi", CB_EOI, BENCH_ITERS, 0);
	bench_one(&cb, "tsc-deadline irq", CB_DEADLINE, BENCH_ITERS, 0);
	bench_one(&cb, "hlt timer wake-up", CB_HLT_TIMER, BENCH_ITERS / 4, 200000);
	child_destroy64(&cb);

	start_workers(2);
	if (nr_workers < 1 || make_child(&cs, "PP", true, 2, true) ||
	    hcall(HC_SET_MP_STATE, (uint64_t)cs.vcpu[1], HV_MP_INIT_RECEIVED, 0, 0)) {
		gprintf("bench: ipi ping-pong failed: %s\n", nr_workers < 1 ? "no CPU 1" : cmd_err);
		return;
	}
	mb = child_gpa64(&cs, CRT_MAILBOX(0));
	mb->arg[0] = CS_PINGPONG;
	mb->arg[1] = tsc_khz;
	mb->arg[2] = BENCH_ITERS / 2;
	mrun(&m, &cs, 2, 60000);
	if (m.exited != 3 || m.statuses)
		gprintf("bench: ipi ping-pong failed: exited 0x%x, statuses 0x%x %s\n", m.exited,
			m.statuses, m.why);
	else
		gprintf("bench: ipi ping-pong %lu tsc/iter\n", mb->pingpong_ticks / (BENCH_ITERS / 2));
	child_destroy64(&cs);
}

/* ---------------------------------------------------------- main */

static void timed(void (*fn)(void), const char *what)
{
	uint64_t t0 = rdtsc();

	fn();
	gprintf("irq-test: %s took %lu ms\n", what, tsc_us(rdtsc() - t0) / 1000);
}

static void smp2(void)
{
	smp_section(2);
}

static void smp4(void)
{
	smp_section(4);
}

void guest_main(struct hv_root_info *info)
{
	struct hv_stats *before, *after;

	guest_init();
	root_idt_load();
	ralloc_init(info);
	nr_cpus = info->nr_cpus;
	tsc_khz = guest_tsc_khz(info);
	timer_ms = option_value(info->cmdline, "timer_ms", timer_ms);
	late_ms = option_value(info->cmdline, "late_ms", late_ms);
	if (has_word(info->cmdline, "bench")) {
		bench();
		guest_exit(true);
	}
	gprintf("irq-test: %s, %u CPUs, TSC %lu kHz, API %u, %ld IOAPIC pins, timer checks at %lu ms, %lu ms late at most\n",
		guest_is_intel() ? "Intel VMX" : "AMD SVM", nr_cpus, tsc_khz, info->api_version,
		hcall(HC_CHECK_CAP, HV_CAP_IRQCHIP, 0, 0, 0), timer_ms, late_ms);
	gprintf("irq-test: root memory: free [0x%lx, 0x%lx), %u ranges, first [0x%lx, +0x%lx)\n",
		info->free_start, info->free_end, info->nr_ranges, info->ranges[0].base,
		info->ranges[0].len);
	gprintf("irq-test: plan %d checks\n", PLAN_TOTAL);
	start_workers(nr_cpus < 4 ? nr_cpus : 4);
	gprintf("irq-test: root vCPUs on CPUs 1-%u\n", nr_workers);
	before = ralloc(4096);
	after = (struct hv_stats *)((uint8_t *)before + 2048);
	if (!before || hcall(HC_STATS, (uint64_t)before, 0, 0, 0))
		gprintf("irq-test: HC_STATS failed\n");

	timed(timer_section, "timer");
	timed(hlt_section, "hlt");
	timed(views_section, "apic");
	timed(ioapic_section, "ioapic");
	timed(run_section, "run");
	timed(mmio_section, "mmio");
	timed(strio_section, "strio");
	timed(smp2, "smp2");
	timed(smp4, "smp4");
	timed(bad_section, "bad");
	if (ct.vm > 0)
		child_destroy64(&ct);
	if (cp.vm > 0)
		child_destroy64(&cp);

	section_begin("stats", PLAN_STATS);
	if (!before || hcall(HC_STATS, (uint64_t)after, 0, 0, 0)) {
		section_abort("HC_STATS failed");
	} else {
		gprintf("irq-test: before: %lu free pages, %lu slab objects, %lu VMs, %lu vCPUs; after: %lu, %lu, %lu, %lu\n",
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
		gprintf("irq-test: FAIL plan: %d checks reported, %d planned\n", reported, PLAN_TOTAL);
	}
	for (int i = 0; i < nfail_names; i++) {
		gputs("irq-test: failed: ");
		gputs(fail_names[i]);
		gputs("\n");
	}
	gprintf("irq-test: %d checks: %d passed, %d failed\n", reported, passed, failed);
	gprintf("irq-test: %d passed, %d failed\n", passed, failed);
	gprintf("HV-VERDICT: %s\n", failed ? "FAIL" : "PASS");
	guest_exit(!failed);
}
