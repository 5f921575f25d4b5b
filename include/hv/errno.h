/*
 * One error convention for the whole hypervisor: a function returning int
 * gives 0 or a negative code below; a function returning a pointer gives a
 * valid pointer or ERR_PTR(-code), never NULL-or-errno mixed in one API.
 * The numbers match Linux so that hypercall results read the same as KVM's.
 */
#ifndef HV_ERRNO_H
#define HV_ERRNO_H

#include "hv/compiler.h"
#include "hv/types.h"

#define EPERM       1
#define ENOENT      2
#define EIO         5
#define E2BIG       7
#define EBADF       9
#define EAGAIN      11
#define ENOMEM      12
#define EFAULT      14
#define EBUSY       16
#define EEXIST      17
#define ENODEV      19
#define EINVAL      22
#define ENOSPC      28
#define ERANGE      34
#define ENOSYS      38
#define ENOTEMPTY   39
#define EOPNOTSUPP  95
#define ETIMEDOUT   110
#define EALREADY    114

#define MAX_ERRNO   4095

static inline void *ERR_PTR(long err) { return (void *)err; }
static inline long PTR_ERR(const void *p) { return (long)p; }
static inline bool IS_ERR(const void *p)
{
	return (unsigned long)p >= (unsigned long)-MAX_ERRNO;
}

/* Name of an error code ("ENOMEM"), for log lines. */
const char *errno_name(int err);

/*
 * ERR(e): use where an error is first produced (return ERR(-EINVAL);).
 * With loglevel=debug it logs file and line, so a failure can be traced to
 * its origin rather than to the caller that only passed it on.
 */
int err_trace(int err, const char *file, int line);
#define ERR(e) err_trace((e), __FILE__, __LINE__)

#endif
