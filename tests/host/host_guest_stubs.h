#ifndef HOST_GUEST_STUBS_H
#define HOST_GUEST_STUBS_H

#include <stdlib.h>
#include "hv/config.h"
#include "hv/types.h"

struct vcpu;
extern int (*host_run_child_hook)(struct vcpu *v);
extern bool host_root_busy[NR_CPUS];
extern int host_resets;

#endif
