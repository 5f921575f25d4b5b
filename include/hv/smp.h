/* CPUs: numbering, the online mask, and calls run on other CPUs. */
#ifndef HV_SMP_H
#define HV_SMP_H

#include "hv/config.h"
#include "hv/types.h"

/* The calling CPU's number (0 = boot CPU), dense in [0, NR_CPUS). Cheap (a
 * GS-relative load); on the host test build a thread-local tests assign. */
unsigned int smp_processor_id(void);

#include "hv/cpumask.h"

/* CPUs that are up and answer cross-CPU calls. */
extern cpumask_t cpu_online_mask;
/* APIC ID of each CPU number (valid for CPUs that were ever started). */
extern uint32_t cpu_apic_id[NR_CPUS];

struct boot_info;
/* Find the CPUs (ACPI MADT) and start them all (see docs/smp.md). */
void smp_init(const struct boot_info *bi);
unsigned int smp_num_online(void);

typedef int (*smp_call_fn)(void *arg);

/*
 * Run fn(arg) on `cpu` (directly when it is the caller) and return its
 * result. With wait false, return 0 once the target has the request; the
 * result is dropped. -ENODEV: cpu not online. -ETIMEDOUT: the target did
 * not answer within smp_call_timeout_us (it is then left alone, and a late
 * answer is discarded). While waiting, the caller serves calls aimed at
 * itself, so two CPUs calling each other do not deadlock.
 */
int smp_call_function_single(unsigned int cpu, smp_call_fn fn, void *arg, bool wait);

/* Interrupt another CPU (no call): a guest it runs exits, a HLT ends. */
void smp_kick(unsigned int cpu);
/* Run a call posted to this CPU now, if there is one: for code that spins
 * with interrupts off (a lock another CPU holds while it calls us). */
void smp_call_serve(void);
/*
 * Run fn(arg) on every online CPU, the caller included, all at once: the
 * CPUs online when the call starts are the ones called and collected.
 * results[cpu] (if results is non-NULL, NR_CPUS entries) receives each
 * such CPU's return value, or -ETIMEDOUT for a CPU that did not answer;
 * other entries are left alone. Returns 0 when every CPU answered, else
 * -ETIMEDOUT.
 */
int smp_call_function_all(smp_call_fn fn, void *arg, int *results);

/* As smp_call_function_single(wait=true), also for a CPU that is started
 * but offline (parked): for reading its state in tests and diagnostics. */
int smp_call_function_started(unsigned int cpu, smp_call_fn fn, void *arg);

extern uint64_t smp_call_timeout_us;

#endif
