/* The hypercall interface: installation (the misc_register analogue) and
 * dispatch. Decode checks every argument and changes nothing; invoke does
 * the work and cannot fail halfway. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include "hv/types.h"
#include <uapi/hv/hypercall.h>

struct vcpu;

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

#endif
