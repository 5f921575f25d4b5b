/*
 * Cross-CPU function calls by IPI. Each target CPU has one mailbox that
 * goes IDLE -> FILLING (a sender owns it) -> POSTED -> RUNNING (the target
 * claimed it) -> DONE -> IDLE (the sender took the result). A sender that
 * times out cancels a call the target has not claimed (POSTED -> IDLE), so
 * a stuck CPU never runs it later with an argument that is gone; a call
 * already RUNNING is marked ABANDONED and its end frees the mailbox. The
 * next sender waits for IDLE, so fn/arg never change under a target.
 */
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/percpu.h>
#include <x86/trap.h>
#include <x86/tsc.h>
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/ksyms.h"
#include "hv/options.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/spinlock.h"

enum mb_state { MB_IDLE, MB_FILLING, MB_POSTED, MB_RUNNING, MB_DONE, MB_ABANDONED };

#define SMP_CALL_TIMEOUT_US_DEFAULT 1000000
uint64_t smp_call_timeout_us = SMP_CALL_TIMEOUT_US_DEFAULT;

/*
 * 10 ms at least: a healthy CPU can be away for milliseconds (an SMI on
 * real hardware, the host's scheduler under TCG or nested KVM); at 1 ms,
 * TCG with 8 CPUs already missed calls and marked CPUs BAD, at 10 ms none
 * did with 4 such machines on 2 host cores. 10 s at most: a CPU silent for
 * that long is hung, and a longer wait only stalls the caller (the debug
 * console, a hypercall of the root) for nothing.
 */
CMDLINE_OPTION_U64(smp_call_timeout, "smp_call_timeout_us", smp_call_timeout_us,
		   "how long a cross-CPU call waits for its target (us)",
		   .min = 10000, .max = 10000000, .def = SMP_CALL_TIMEOUT_US_DEFAULT);

static bool cas(int *p, int from, int to)
{
	return __atomic_compare_exchange_n(p, &from, to, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

/* Run the call posted to this CPU, if any. Interrupts are off. */
static void serve_mailbox(void)
{
	struct call_mailbox *mb = &this_cpu()->call;

	if (!cas(&mb->state, MB_POSTED, MB_RUNNING))
		return;
	mb->result = mb->fn(mb->arg);
	if (mb->nowait || !cas(&mb->state, MB_RUNNING, MB_DONE))
		__atomic_store_n(&mb->state, MB_IDLE, __ATOMIC_RELEASE);
}

void smp_call_serve(void)
{
	serve_mailbox();
}

static bool call_ipi(struct trap_frame *tf)
{
	apic_eoi();
	serve_mailbox();
	return true;
}

/* A kick only has to end the guest's run or an idle HLT: the vCPU loop
 * looks at what changed. */
static bool kick_ipi(struct trap_frame *tf)
{
	apic_eoi();
	return true;
}

void smp_kick(unsigned int cpu)
{
	if (cpu != smp_processor_id() && apic_send_ipi(cpu_apic_id[cpu], VEC_KICK))
		pr_warn("smp: kick to CPU %u not accepted by the local APIC\n", cpu);
}

static bool spurious_ipi(struct trap_frame *tf)
{
	return true;            /* spurious: no EOI (SDM Vol. 3A, 10.9) */
}

static bool apic_error_irq(struct trap_frame *tf)
{
	pr_warn("apic: error interrupt\n");
	apic_eoi();
	return true;
}

void smp_call_init(void);
void smp_call_init(void)
{
	trap_register(VEC_CALL_FUNCTION, call_ipi);
	trap_register(VEC_KICK, kick_ipi);
	trap_register(VEC_SPURIOUS_APIC, spurious_ipi);
	trap_register(VEC_APIC_ERROR, apic_error_irq);
}

static uint64_t deadline_from_now(void)
{
	return rdtsc() + smp_call_timeout_us * tsc_khz() / 1000;
}

/* Take cpu's mailbox (waiting for IDLE, serving our own meanwhile) and
 * post fn(arg). -ETIMEDOUT if it did not become free before the deadline. */
static int post(unsigned int cpu, smp_call_fn fn, void *arg, bool nowait, uint64_t deadline)
{
	struct call_mailbox *mb = &per_cpu(cpu)->call;

	while (!cas(&mb->state, MB_IDLE, MB_FILLING)) {
		if (rdtsc() > deadline)
			return ERR(-ETIMEDOUT);
		serve_mailbox();
		cpu_relax_hint();
	}
	mb->fn = fn;
	mb->arg = arg;
	mb->nowait = nowait;
	__atomic_store_n(&mb->state, MB_POSTED, __ATOMIC_RELEASE);
	if (apic_send_ipi(cpu_apic_id[cpu], VEC_CALL_FUNCTION))
		pr_warn("smp: IPI to CPU %u not accepted by the local APIC\n", cpu);
	return 0;
}

/* Wait for cpu's call to finish, serving our own mailbox meanwhile. Its
 * result, or -ETIMEDOUT (the call is then cancelled or abandoned). */
static int collect(unsigned int cpu, uint64_t deadline)
{
	struct call_mailbox *mb = &per_cpu(cpu)->call;
	int r;

	while (__atomic_load_n(&mb->state, __ATOMIC_ACQUIRE) != MB_DONE) {
		if (rdtsc() > deadline &&
		    (cas(&mb->state, MB_POSTED, MB_IDLE) ||
		     cas(&mb->state, MB_RUNNING, MB_ABANDONED)))
			return ERR(-ETIMEDOUT);
		if (rdtsc() > deadline + smp_call_timeout_us * tsc_khz() / 1000) {
			/* Not ours any more (a bug): never spin here for good. */
			pr_err("smp: CPU %u's mailbox left our call (state %d)\n", cpu,
			       __atomic_load_n(&mb->state, __ATOMIC_ACQUIRE));
			return ERR(-ETIMEDOUT);
		}
		serve_mailbox();
		cpu_relax_hint();
	}
	r = mb->result;
	__atomic_store_n(&mb->state, MB_IDLE, __ATOMIC_RELEASE);
	return r;
}

static void report_timeout(unsigned int cpu, smp_call_fn fn)
{
	uint64_t off;
	const char *name = ksym_lookup((uint64_t)fn, &off);

	pr_err("smp: CPU %u (APIC %u) did not answer a call to %s within %lu us\n",
	       cpu, cpu_apic_id[cpu], name ? name : "?", smp_call_timeout_us);
}

static int call_single(unsigned int cpu, smp_call_fn fn, void *arg, bool wait)
{
	unsigned long flags = local_irq_save();
	int r;

	if (cpu == smp_processor_id()) {
		r = fn(arg);
	} else {
		uint64_t deadline = deadline_from_now();

		r = post(cpu, fn, arg, !wait, deadline);
		if (!r && wait)
			r = collect(cpu, deadline);
		if (r == -ETIMEDOUT)
			report_timeout(cpu, fn);
	}
	local_irq_restore(flags);
	return r;
}

int smp_call_function_single(unsigned int cpu, smp_call_fn fn, void *arg, bool wait)
{
	if (cpu >= NR_CPUS || !cpumask_test_atomic(&cpu_online_mask, cpu))
		return ERR(-ENODEV);
	return call_single(cpu, fn, arg, wait);
}

int smp_call_function_started(unsigned int cpu, smp_call_fn fn, void *arg)
{
	if (cpu >= NR_CPUS || !cpu_started(cpu))
		return ERR(-ENODEV);
	return call_single(cpu, fn, arg, true);
}

int smp_call_function_all(smp_call_fn fn, void *arg, int *results)
{
	static int posted[NR_CPUS];
	static cpumask_t targets;
	static spinlock_t all_lock = SPINLOCK_INIT;     /* guards posted[], targets */
	unsigned long flags = local_irq_save();
	uint64_t deadline;
	unsigned int me, cpu;
	int ret = 0, mine;

	/* Serve our own mailbox while another broadcast holds the lock. */
	while (!spin_trylock(&all_lock)) {
		serve_mailbox();
		cpu_relax_hint();
	}
	/* Counted from here: time spent waiting for another broadcast is not
	 * the targets' to answer for (a deadline taken before the lock made
	 * every later broadcast time out at once after one slow one). */
	deadline = deadline_from_now();
	me = smp_processor_id();
	/*
	 * The CPUs posted to are exactly the ones collected from: a CPU that
	 * goes offline or comes online meanwhile (HC_CPU_OFFLINE on another
	 * CPU) must neither keep a DONE mailbox nobody collects, which would
	 * block every later call to it, nor be collected without a post.
	 */
	for (unsigned int w = 0; w < ARRAY_SIZE(targets.bits); w++)
		targets.bits[w] = __atomic_load_n(&cpu_online_mask.bits[w], __ATOMIC_ACQUIRE);
	cpumask_clear(&targets, me);
	for_each_cpu(cpu, &targets)
		posted[cpu] = post(cpu, fn, arg, false, deadline);
	mine = fn(arg);
	if (results)
		results[me] = mine;
	for_each_cpu(cpu, &targets) {
		int r = posted[cpu] ? posted[cpu] : collect(cpu, deadline);

		if (r == -ETIMEDOUT) {
			report_timeout(cpu, fn);
			ret = -ETIMEDOUT;
		}
		if (results)
			results[cpu] = r;
	}
	spin_unlock(&all_lock);
	local_irq_restore(flags);
	return ret;
}
