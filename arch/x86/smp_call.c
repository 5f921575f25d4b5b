/*
 * Cross-CPU function calls by IPI. Each target CPU has one mailbox; a
 * sender owns it under the mailbox lock, posts (fn, arg, sequence number)
 * and raises VEC_CALL_FUNCTION. The target runs fn and publishes the
 * result with the same sequence number, so an answer that arrives after
 * the sender gave up is recognised as stale and never mistaken for a new one.
 */
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/percpu.h>
#include <x86/trap.h>
#include <x86/tsc.h>
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/options.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/spinlock.h"

struct call_mailbox {
	spinlock_t lock;                /* held by the sender for the whole call */
	smp_call_fn fn;
	void *arg;
	uint64_t seq_posted;            /* written by sender */
	uint64_t seq_done;              /* written by target */
	int result;
} __aligned(64);

static struct call_mailbox mailbox[NR_CPUS];
uint64_t smp_call_timeout_us = 1000000;

CMDLINE_OPTION(smp_call_timeout, "smp_call_timeout_us", cmdline_handle_u64,
	       &smp_call_timeout_us, "how long a cross-CPU call waits for its target (us)");

/* Run the call posted to this CPU, if any. Interrupts are off. */
static void serve_mailbox(void)
{
	struct call_mailbox *mb = &mailbox[smp_processor_id()];
	uint64_t seq = __atomic_load_n(&mb->seq_posted, __ATOMIC_ACQUIRE);

	if (seq == __atomic_load_n(&mb->seq_done, __ATOMIC_RELAXED))
		return;
	mb->result = mb->fn(mb->arg);
	__atomic_store_n(&mb->seq_done, seq, __ATOMIC_RELEASE);
}

static bool call_ipi(struct trap_frame *tf)
{
	apic_eoi();
	serve_mailbox();
	return true;
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
	trap_register(VEC_SPURIOUS_APIC, spurious_ipi);
	trap_register(VEC_APIC_ERROR, apic_error_irq);
}

static uint64_t post(unsigned int cpu, smp_call_fn fn, void *arg)
{
	struct call_mailbox *mb = &mailbox[cpu];
	uint64_t seq;

	spin_lock(&mb->lock);
	mb->fn = fn;
	mb->arg = arg;
	seq = mb->seq_posted + 1;
	__atomic_store_n(&mb->seq_posted, seq, __ATOMIC_RELEASE);
	if (apic_send_ipi(cpu_apic_id[cpu], VEC_CALL_FUNCTION))
		pr_warn("smp: IPI to CPU %u not accepted by the local APIC\n", cpu);
	return seq;
}

/* Wait for cpu to finish call `seq`, serving our own mailbox meanwhile.
 * Releases the mailbox lock. Returns the result or -ETIMEDOUT. */
static int collect(unsigned int cpu, uint64_t seq, uint64_t deadline)
{
	struct call_mailbox *mb = &mailbox[cpu];
	int r;

	while (__atomic_load_n(&mb->seq_done, __ATOMIC_ACQUIRE) != seq) {
		if (rdtsc() > deadline) {
			spin_unlock(&mb->lock);
			return ERR(-ETIMEDOUT);
		}
		serve_mailbox();
		cpu_relax_hint();
	}
	r = mb->result;
	spin_unlock(&mb->lock);
	return r;
}

static uint64_t deadline_from_now(void)
{
	return rdtsc() + smp_call_timeout_us * tsc_khz() / 1000;
}

static int call_single(unsigned int cpu, smp_call_fn fn, void *arg, bool wait)
{
	unsigned long flags;
	int r;

	flags = local_irq_save();
	if (cpu == smp_processor_id()) {
		r = fn(arg);
	} else {
		uint64_t seq = post(cpu, fn, arg);

		r = wait ? collect(cpu, seq, deadline_from_now()) : 0;
		if (!wait)
			spin_unlock(&mailbox[cpu].lock);
		if (r == -ETIMEDOUT)
			pr_err("smp: CPU %u (APIC %u) did not answer a call within %lu us\n",
			       cpu, cpu_apic_id[cpu], smp_call_timeout_us);
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
	static uint64_t seqs[NR_CPUS];
	static spinlock_t all_lock = SPINLOCK_INIT;     /* guards seqs[] */
	unsigned int me, cpu;
	unsigned long flags = local_irq_save();
	int ret = 0;

	spin_lock(&all_lock);
	me = smp_processor_id();
	for_each_cpu(cpu, &cpu_online_mask)
		if (cpu != me)
			seqs[cpu] = post(cpu, fn, arg);
	int mine = fn(arg);

	if (results)
		results[me] = mine;
	uint64_t deadline = deadline_from_now();

	for_each_cpu(cpu, &cpu_online_mask) {
		if (cpu == me)
			continue;
		int r = collect(cpu, seqs[cpu], deadline);

		if (r == -ETIMEDOUT) {
			pr_err("smp: CPU %u (APIC %u) did not answer a call within %lu us\n",
			       cpu, cpu_apic_id[cpu], smp_call_timeout_us);
			ret = -ETIMEDOUT;
		}
		if (results)
			results[cpu] = r;
	}
	spin_unlock(&all_lock);
	local_irq_restore(flags);
	return ret;
}
