/*
 * Child VMs that run C payloads (tests/guest/child_*.c on the runtime in
 * tests/guest/crt) in 64-bit long mode: the root side of the layout and
 * port protocol described in crt/child.h.
 */
#ifndef GUEST_VMLIB64_H
#define GUEST_VMLIB64_H

#include "vmlib.h"
#define CRT_ABI_ONLY
#include "crt/child.h"
#undef CRT_ABI_ONLY

#define CHILD64_LINE    160

/* What stopped child_run64. */
enum child64_event {
	C64_PROMPT,             /* the vCPU waits for a command (IN CRT_PORT_CMD) */
	C64_EXIT,               /* it ended (OUT CRT_PORT_EXIT): status in cpu[i].status */
	C64_OTHER,              /* any other exit: the record is in exit[i] */
	C64_ERROR,              /* HC_RUN failed: cpu[i].err */
};

struct child64_cpu {
	bool prompt;                    /* stopped at IN CRT_PORT_CMD */
	bool exited;
	uint32_t status;
	int64_t err;
	uint32_t nvalues;               /* report()s, the first CHILD64_VALUES kept */
	uint32_t values[32];
	uint32_t len;
	char line[CHILD64_LINE];        /* console output not yet printed */
	char last[CHILD64_LINE];        /* the last line printed */
};
#define CHILD64_VALUES  32

/* child64.flags, set before child_create64 (which keeps them). */
#define CHILD64_IRQCHIP 1u              /* HC_CREATE_IRQCHIP before the vCPUs */

struct child64 {
	const char *name;               /* console prefix; "child" if NULL */
	uint32_t flags;                 /* CHILD64_* */
	uint64_t budget_us;             /* HC_RUN's budget in child_run64 (0: none) */
	uint32_t run_flags;             /* HC_RUN's flags in child_run64 (HV_RUN_*) */
	int64_t vm;
	unsigned int nvcpus;
	size_t ram;
	uint8_t *mem;                   /* root memory behind guest-physical 0 */
	int64_t vcpu[CRT_MAX_VCPUS];
	struct hv_exit *exit[CRT_MAX_VCPUS];
	struct child64_cpu cpu[CRT_MAX_VCPUS];
	void *scratch;                  /* a page for sregs/regs */
};

/*
 * Create a VM with `ram` bytes (a multiple of 2 MiB) at guest-physical 0,
 * copy the flat binary `bin` to CRT_LOAD, build the page tables, GDT and
 * TSS of child.h, and create nvcpus vCPUs in 64-bit mode at the entry
 * (vCPU i: its stack, RDI = i), each with an exit page; with
 * CHILD64_IRQCHIP in c->flags the VM gets its local APICs and IOAPIC
 * first. name and flags are kept, budget_us is 0. 0 or -HV_E*; on
 * failure what was made is destroyed.
 */
int64_t child_create64(struct child64 *c, const void *bin, size_t len, size_t ram,
		       unsigned int nvcpus);
/* Destroy its vCPUs, then the VM. 0 or the first error. */
int64_t child_destroy64(struct child64 *c);
/*
 * Run vCPU i until something for the caller: console bytes are printed a
 * line at a time ("  [name.i] text"), report()s collected in cpu[i].values.
 * At C64_PROMPT the next run answers the IN with exit[i]->io.data. Each
 * HC_RUN gets c->budget_us: when it runs out, C64_OTHER (HV_EXIT_TIMEOUT).
 */
enum child64_event child_run64(struct child64 *c, unsigned int i);
/* Give vCPU i a command: run it to its prompt (if not there yet), answer
 * `cmd`, run it to its next prompt. C64_PROMPT when the command completed,
 * else what stopped it. */
enum child64_event child_cmd64(struct child64 *c, unsigned int i, uint32_t cmd);
/* What ended the last run of vCPU i, in words, for failure messages. */
void child_describe64(const struct child64 *c, unsigned int i, char *buf, size_t size);
/* Where the root sees guest-physical gpa of the child's RAM. */
static inline void *child_gpa64(const struct child64 *c, uint64_t gpa)
{
	return c->mem + gpa;
}

#endif
