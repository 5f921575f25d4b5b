/*
 * Debug registers per vCPU (SDM Vol. 3B, 17.2). The VMCB holds DR6/DR7
 * and the VMCS DR7; DR0-3 (and DR6 on VMX) are in no control block. They
 * stay in struct vcpu and MOV DR exits, until the guest arms a breakpoint
 * in DR7 (they are loaded for its run) or touches a debug register (they
 * become live: loaded, and MOV DR runs without exits until the next exit).
 * After every exit where they were in the CPU they are saved and the
 * CPU's are cleared, so no guest value survives into the hypervisor or
 * another VM. KVM's switch_db_regs, in small.
 */
#ifndef X86_DEBUGREG_H
#define X86_DEBUGREG_H

#include "hv/types.h"
#include "hv/vm.h"

#define DR6_RESET       0xffff0ff0ULL   /* SDM 17.2.3: reserved bits read 1 */
#define DR7_RESET       0x400ULL
#define DR7_ENABLES     0xffULL         /* L0-3, G0-3 */

/* The slow halves of the two below. */
bool debugreg_load_armed(struct vcpu *v, bool with_dr6);
void debugreg_save(struct vcpu *v, bool with_dr6);

/* Before entry, interrupts off. dr7: the guest's. with_dr6: the backend
 * does not switch DR6 itself (VMX). true: MOV DR must exit. Inline: a
 * guest that does not use them costs two tests per exit. */
static inline bool debugreg_enter(struct vcpu *v, uint64_t dr7, bool with_dr6)
{
	if (__builtin_expect(v->dr_state == DR_SAVED && !(dr7 & DR7_ENABLES), 1))
		return true;
	return debugreg_load_armed(v, with_dr6);
}

/* After the exit. */
static inline void debugreg_exit(struct vcpu *v, bool with_dr6)
{
	if (__builtin_expect(v->dr_state != DR_SAVED, 0))
		debugreg_save(v, with_dr6);
}
/* A MOV DR exit: load them (if not yet) and stop exiting for this run. */
void debugreg_make_live(struct vcpu *v, bool with_dr6);

#endif
