/* Names of error codes, and the origin trace behind ERR(). */
#include "hv/errno.h"
#include "hv/printk.h"

static const char *const errno_names[] = {
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [EIO] = "EIO", [E2BIG] = "E2BIG",
	[EBADF] = "EBADF", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
	[EFAULT] = "EFAULT", [EBUSY] = "EBUSY", [EEXIST] = "EEXIST",
	[ENODEV] = "ENODEV", [EINVAL] = "EINVAL", [ENOSPC] = "ENOSPC",
	[ERANGE] = "ERANGE", [ENOSYS] = "ENOSYS", [ENOTEMPTY] = "ENOTEMPTY",
	[EOPNOTSUPP] = "EOPNOTSUPP", [ETIMEDOUT] = "ETIMEDOUT",
	[EALREADY] = "EALREADY",
};

const char *errno_name(int err)
{
	unsigned int e = err < 0 ? (unsigned int)-err : (unsigned int)err;

	if (e == 0)
		return "OK";
	if (e < ARRAY_SIZE(errno_names) && errno_names[e])
		return errno_names[e];
	return "E?";
}

#ifndef HV_HOST
int err_trace(int err, const char *file, int line)
{
	pr_debug("error %s (%d) at %s:%d\n", errno_name(err), err, file, line);
	return err;
}
#endif
