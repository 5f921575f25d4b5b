/* Running the self-tests named by test= and reporting the verdict. */
#include "hv/selftest.h"
#include "hv/arch.h"
#include "hv/errno.h"
#include "hv/options.h"
#include "hv/printk.h"
#include "hv/string.h"
#include <x86/exit_codes.h>

extern const struct selftest __selftests_start[], __selftests_end[];

static char requested[256];

static int parse_test(const char *value, void *arg)
{
	if (!value || strlen(value) >= sizeof(requested))
		return -EINVAL;
	memcpy(requested, value, strlen(value) + 1);
	return 0;
}
CMDLINE_OPTION(test, "test", parse_test, NULL,
	       "run self-tests NAME[,NAME...] (test=list shows them), then exit");

static const struct selftest *find(const char *name, size_t len)
{
	for (const struct selftest *t = __selftests_start; t < __selftests_end; t++)
		if (strlen(t->name) == len && !strncmp(t->name, name, len))
			return t;
	return NULL;
}

bool selftest_requested(void)
{
	return requested[0] != '\0';
}

void selftest_run_requested(void)
{
	int passed = 0, failed = 0;
	const char *p = requested;

	if (!*p)
		return;
	if (!strcmp(p, "list")) {
		for (const struct selftest *t = __selftests_start; t < __selftests_end; t++)
			pr_info("selftest available: %s\n", t->name);
		arch_exit(HV_EXIT_PASS);
	}
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const struct selftest *t = find(p, len);

		if (!t) {
			pr_err("selftest %.*s: no such test\n", (int)len, p);
			failed++;
		} else {
			pr_info("selftest %s: running\n", t->name);
			int r = t->fn();

			if (r) {
				pr_err("selftest %s: FAIL (%s)\n", t->name, errno_name(r));
				failed++;
			} else {
				printk(LOG_ALWAYS, "selftest %s: PASS\n", t->name);
				passed++;
			}
		}
		p += len + (comma ? 1 : 0);
	}
	printk(LOG_ALWAYS, "selftests: %d passed, %d failed\n", passed, failed);
	printk(LOG_ALWAYS, "HV-VERDICT: %s\n", failed ? "FAIL" : "PASS");
	arch_exit(failed ? HV_EXIT_FAIL : HV_EXIT_PASS);
}
