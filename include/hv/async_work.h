/* Asynchronous work items (kvm_async_pf's analogue): a cache of them. */
#ifndef HV_ASYNC_WORK_H
#define HV_ASYNC_WORK_H

#include "hv/events.h"

struct async_work {
	struct work work;
	void *vcpu;
	uint64_t gpa;
};

int async_work_init(void);
/* -EBUSY (and nothing freed) while items are live. */
int async_work_exit(void);
struct async_work *async_work_alloc(void);
void async_work_free(struct async_work *aw);

#endif
