/* VM exit handling, vendor-neutral (hv/exits.c). */
#ifndef HV_EXITS_H
#define HV_EXITS_H

#include "hv/vm.h"
#include <x86/percpu.h>

enum exit_action exit_dispatch(struct vcpu *v, const struct vm_exit_info *e);
/* HC_RUN's fast path (hv/vcpu_run.c), from the backend's run_child_fast
 * after the child's exit (VMX: its VMCS still current): a port I/O exit
 * (not a string one) is counted and recorded as exit_dispatch would,
 * without the dispatch: true. false: the ordinary path handles it. */
bool exit_child_fast(struct vcpu *v, const struct vm_exit_info *e);
enum exit_action handle_unknown(struct vcpu *v, const struct vm_exit_info *e);
/* Start the exit record the root will read: reason and RIP, the rest 0. */
struct hv_exit *exit_to_root(struct vcpu *v, uint32_t reason, uint64_t rip);
/* An HV_EXIT_HLT record, with HV_EXIT_F_IF when the guest's IF is set. */
struct hv_exit *exit_to_root_hlt(struct vcpu *v, uint64_t rip);
/* The root executed HLT: idle this CPU until an interrupt (and serve the
 * debug console meanwhile). */
void root_idle(void);
/* A hypercall handled on the fast path, counted as exit_dispatch and the
 * ordinary hypercall path count theirs. */
static inline void exit_count_hypercall(struct vcpu *v)
{
	struct percpu *p = this_cpu();

	v->vm->exits++;
	v->vm->stat[HV_STAT_HYPERCALL]++;
	p->exits++;
	p->hypercalls++;
}
/* Exits and hypercalls handled on every CPU so far (HC_STATS). */
void exit_totals(uint64_t *exits, uint64_t *hypercalls);

#endif
