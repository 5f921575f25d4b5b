/* Helpers for root programs that build child VMs (tests/guest). */
#ifndef GUEST_VMLIB_H
#define GUEST_VMLIB_H

#include "guest.h"

#define CHILD_LOAD      0x1000          /* guest-physical entry of every payload */
#define CHILD_MEM_SIZE  0x10000         /* 64 KiB at guest-physical 0 */

struct child {
	int64_t vm, vcpu;
	uint8_t *mem;                   /* root memory behind guest-physical 0 */
	struct hv_exit *exit;           /* the exit record page */
};

/* A bump allocator over the root's free memory (page-aligned, zeroed). */
void *ralloc(size_t size);
void ralloc_init(struct hv_root_info *info);

/* Create a VM with CHILD_MEM_SIZE of memory, load the payload at
 * CHILD_LOAD, create one vCPU in 32-bit flat protected mode. 0 or -err. */
int64_t child_create(struct child *c, const void *payload, size_t len);
int64_t child_destroy(struct child *c);
/* Run until the next exit; the exit record is in c->exit. */
int64_t child_run(struct child *c);

extern const uint8_t child_hello_start[], child_hello_end[];
extern const uint8_t child_test_start[], child_test_end[];
extern const uint8_t child_crash_start[], child_crash_end[];
extern const uint8_t child_loop_start[], child_loop_end[];
extern const uint8_t child_cpuid_loop_start[], child_cpuid_loop_end[];

const char *exit_name(uint32_t reason);

#endif
