/*
 * A fake machine for the host unit tests: the CPUs, the online mask and the
 * cross-CPU calls of arch/x86/smp_*.c, plus the other kernel-only symbols
 * the virtualization core refers to (arch_virt_select, panic_cpu_hook).
 *
 * A "CPU" here is only a number: a call "on" CPU n runs the function in the
 * calling thread with host_cpu_id set to n for its duration, so per-CPU
 * state (smp_processor_id(), slab magazines, virt_cpu_of()) follows it.
 *
 * Knobs for tests (declare them extern where used):
 *   host_smp_set_cpus(n)    n CPUs online (0..n-1), every one answering
 *   host_smp_no_answer      a CPU that never answers a call (-ETIMEDOUT,
 *                           its function is not run); -1: none
 *   host_virt_select_ops    what arch_virt_select returns (NULL: none,
 *   host_virt_select_chk      with this reason/detail)
 */
#include "hv/errno.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt.h"
#include "hv/virt_cpu.h"
#include "host_stubs.h"

#define HOST_SMP_DEFAULT_CPUS 4

cpumask_t cpu_online_mask = { { (1ULL << HOST_SMP_DEFAULT_CPUS) - 1 } };
uint32_t cpu_apic_id[NR_CPUS] = { 0, 1, 2, 3 };
uint64_t smp_call_timeout_us = 1000;
int (*panic_cpu_hook)(void);

/* The hypervisor keeps these in each CPU's per-CPU area (x86/percpu.h). */
static struct virt_cpu host_virt_cpu[NR_CPUS];

struct virt_cpu *virt_cpu_of(unsigned int cpu)
{
	return cpu < NR_CPUS ? &host_virt_cpu[cpu] : NULL;
}

unsigned int host_smp_ncpus = HOST_SMP_DEFAULT_CPUS;
int host_smp_no_answer = -1;

const struct virt_ops *host_virt_select_ops;
struct virt_check host_virt_select_chk = {
	.reason = VIRT_REASON_UNSUPPORTED,
	.detail = "host: no backend",
};

void host_smp_set_cpus(unsigned int n);
void host_smp_set_cpus(unsigned int n)
{
	if (n == 0 || n > NR_CPUS)
		n = 1;
	host_smp_ncpus = n;
	host_smp_no_answer = -1;
	cpumask_clear_all(&cpu_online_mask);
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		cpu_apic_id[cpu] = cpu < n ? cpu : 0;
		if (cpu < n)
			cpumask_set(&cpu_online_mask, cpu);
	}
}

unsigned int smp_num_online(void)
{
	return cpumask_weight(&cpu_online_mask);
}

/* Run fn on `cpu` in this thread; -ETIMEDOUT (fn not run) for the CPU that
 * does not answer, unless it is the caller (a CPU always runs its own). */
static int run_on(unsigned int cpu, smp_call_fn fn, void *arg)
{
	unsigned int saved = host_cpu_id;
	int r;

	if (cpu != saved && host_smp_no_answer >= 0 && cpu == (unsigned int)host_smp_no_answer) {
		pr_err("smp: CPU %u (APIC %u) did not answer a call within %lu us\n",
		       cpu, cpu_apic_id[cpu], (unsigned long)smp_call_timeout_us);
		return ERR(-ETIMEDOUT);
	}
	host_cpu_id = cpu;
	r = fn(arg);
	host_cpu_id = saved;
	return r;
}

int smp_call_function_single(unsigned int cpu, smp_call_fn fn, void *arg, bool wait)
{
	int r;

	if (cpu >= NR_CPUS || !cpumask_test_atomic(&cpu_online_mask, cpu))
		return ERR(-ENODEV);
	r = run_on(cpu, fn, arg);
	return wait ? r : 0;
}

int host_kicks;

void smp_kick(unsigned int cpu)
{
	host_kicks++;
}

/* Calls run in the caller's thread: nothing is ever waiting. */
void smp_call_serve(void)
{
}

int smp_call_function_started(unsigned int cpu, smp_call_fn fn, void *arg)
{
	if (cpu >= host_smp_ncpus)
		return ERR(-ENODEV);
	return run_on(cpu, fn, arg);
}

int smp_call_function_all(smp_call_fn fn, void *arg, int *results)
{
	unsigned int me = host_cpu_id, cpu;
	int ret = 0;
	int mine = run_on(me, fn, arg);

	if (results)
		results[me] = mine;
	for_each_cpu(cpu, &cpu_online_mask) {
		if (cpu == me)
			continue;
		int r = run_on(cpu, fn, arg);

		if (r == -ETIMEDOUT)
			ret = -ETIMEDOUT;
		if (results)
			results[cpu] = r;
	}
	return ret;
}

const struct virt_ops *arch_virt_select(struct virt_check *chk)
{
	if (host_virt_select_ops)
		return host_virt_select_ops;
	*chk = host_virt_select_chk;
	return NULL;
}
