/* The hypercall interface: installation (the misc_register analogue) and
 * dispatch. Decode checks every argument and changes nothing; invoke does
 * the work and cannot fail halfway. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include "hv/types.h"
#include "hv/vm.h"
#include <uapi/hv/hypercall.h>

struct hypercall_regs {
	uint64_t nr;                    /* RAX */
	uint64_t arg[4];                /* RBX, RCX, RDX, RSI */
	struct vcpu *caller;            /* NULL: from the hypervisor itself (self-tests) */
};

int hypercall_install(void);
void hypercall_uninstall(void);
/* Calls are answered only while installed and accepting (set once the whole
 * init completed and virtualization is on); otherwise -HV_EAGAIN. */
void hypercall_set_accepting(bool on);
int64_t hypercall_dispatch(const struct hypercall_regs *regs);
/*
 * A root vCPU's call, right after its exit with interrupts off: true when
 * it is one of these and is done (the result in v->regs.rax), so the
 * backend re-enters the guest at once (hv/hypercall.c says what makes a
 * call fit). The checks inline: every other call, and every call with
 * the fast path off, pays a few instructions.
 */
#define HC_FAST_CALLS (1ULL << HC_API_VERSION | 1ULL << HC_CHECK_CAP | 1ULL << HC_IRQ_LINE | \
		       1ULL << HC_INTERRUPT | 1ULL << HC_NMI | 1ULL << HC_KICK |               \
		       1ULL << HC_GET_MP_STATE | 1ULL << HC_RUN)

bool hypercall_fast_call(struct vcpu *v);
bool hypercall_fast_run(struct vcpu *v);        /* HC_RUN's */
/* Calls accepted and hc_fast not 0 (hypercall_set_accepting). */
extern bool hypercall_fast_on;

static inline bool hypercall_fast(struct vcpu *v, uint64_t nr)
{
	if (nr >= 64 || !(HC_FAST_CALLS >> nr & 1) ||
	    !__atomic_load_n(&hypercall_fast_on, __ATOMIC_ACQUIRE) || !v->vm->is_root)
		return false;
	return nr == HC_RUN ? hypercall_fast_run(v) : hypercall_fast_call(v);
}

#endif
