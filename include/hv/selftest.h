/*
 * In-hypervisor self-tests, chosen with test=NAME[,NAME...] on the command
 * line (test=list prints them). Each returns 0 on success or a negative
 * error; the run ends with a verdict line on serial and an exit code for
 * the emulator (see x86/exit_codes.h), which the system tests check.
 */
#ifndef HV_SELFTEST_H
#define HV_SELFTEST_H

#include "hv/compiler.h"
#include "hv/types.h"

struct selftest {
	const char *name;
	int (*fn)(void);
};

#define SELFTEST(name_)                                                      \
	static int selftest_##name_(void);                                   \
	static const struct selftest __selftest_##name_ __used               \
		__section(".selftests") __aligned(8) = { #name_, selftest_##name_ }; \
	static int selftest_##name_(void)

/* True when test= named any test. */
bool selftest_requested(void);
/* Run the tests named on the command line, if any; does not return then. */
void selftest_run_requested(void);

/* Check helper: logs the failed condition and returns -EIO from the test. */
#define CHECK(c)                                                             \
	do {                                                                 \
		if (!(c)) {                                                  \
			pr_err("check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
			return -EIO;                                         \
		}                                                            \
	} while (0)

#endif
