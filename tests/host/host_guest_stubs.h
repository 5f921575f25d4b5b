#ifndef HOST_GUEST_STUBS_H
#define HOST_GUEST_STUBS_H

#include <stdlib.h>
#include "hv/config.h"
#include "hv/types.h"

struct vcpu;
struct virt_ops;
extern int (*host_run_child_hook)(struct vcpu *v);
/* HC_RUN's fast path: 0 (default) nothing ran; 1 done, record written;
 * 2 an exit left for the ordinary path (v->deferred set). */
extern int (*host_run_fast_hook)(struct vcpu *v);
extern char host_console_out[4096];
extern size_t host_console_len;
extern int host_debugcon_bytes;
/* Every guest op a mocked backend does not set: no-ops (the vCPU's FPU
 * area is the block's second page). */
void host_fill_guest_ops(struct virt_ops *o);
extern bool host_root_busy[NR_CPUS];
extern int host_resets;

#endif
