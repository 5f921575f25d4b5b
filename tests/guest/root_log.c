/*
 * The log ring through HC_LOG_READ, and the console's line discipline, as
 * a root partition sees them (tests/system/cases_console.py). Everything it
 * prints goes through HC_CONSOLE_WRITE, so it reaches whatever consoles the
 * hypervisor found (a PCI UART, a screen), like a VMM's output does.
 */
#include "vmlib.h"

static int passed, failed;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	hcall(HC_CONSOLE_WRITE, (uint64_t)buf, (uint64_t)n, 0, 0);
}

#define EXPECT(what, expr, want)                                              \
	do {                                                                  \
		int64_t got_ = (expr);                                        \
		if (got_ == (int64_t)(want)) {                                \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			say("log-test: FAIL %s: got %ld, expected %ld\n", what, \
			    got_, (int64_t)(want));                           \
		}                                                             \
	} while (0)

#define CHECK(what, cond)                                                     \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			say("log-test: FAIL %s\n", what);                     \
		}                                                             \
	} while (0)

static bool contains(const char *s, size_t n, const char *word)
{
	size_t k = 0;

	while (word[k])
		k++;
	for (size_t i = 0; i + k <= n; i++)
		if (!gmemcmp(s + i, word, k))
			return true;
	return false;
}

/* The whole ring from pos on into out (size bytes at most): bytes read. */
static size_t read_all(uint64_t pos, char *out, size_t size, struct hv_log_read *buf,
		       uint64_t *end, uint64_t *dropped)
{
	size_t total = 0;
	int64_t n;

	*dropped = 0;
	while ((n = hcall(HC_LOG_READ, (uint64_t)buf, 4096, pos, 0)) > 0) {
		*dropped += buf->dropped;
		if (total + (size_t)n <= size)
			gmemcpy(out + total, buf->text, (size_t)n);
		total += (size_t)n;
		pos = buf->next_position;
	}
	*end = n == 0 ? buf->next_position : pos;
	return total;
}

static void type(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	hcall(HC_CONSOLE_INPUT, (uint64_t)s, n, 0, 0);
}

void guest_main(struct hv_root_info *info)
{
	struct hv_log_read *buf;
	char *log;
	uint64_t end, end2, dropped;
	size_t total;
	int64_t size, n;

	guest_init();
	ralloc_init(info);
	buf = ralloc(8192);
	log = ralloc(128 * 1024);
	say("log-test: reading the hypervisor's log through HC_LOG_READ\n");

	size = hcall(HC_CHECK_CAP, HV_CAP_LOG, 0, 0, 0);
	CHECK("HV_CAP_LOG names the ring's size", size >= 4096);

	/* From the first line on: the banner, the console lines, hv: ready. */
	n = hcall(HC_LOG_READ, (uint64_t)buf, 4096, 0, 0);
	EXPECT("first read", n > 0, 1);
	EXPECT("header len = bytes", buf->len, n);
	EXPECT("nothing dropped yet", buf->dropped, 0);
	EXPECT("next position = len", buf->next_position, buf->len);
	CHECK("the ring starts with the first line", !gmemcmp(buf->text, "[cpu0] ", 7));
	total = read_all(0, log, 128 * 1024, buf, &end, &dropped);
	CHECK("the ring holds the boot log",
	      contains(log, total, "] hv: x86-64 microhypervisor") &&
	      contains(log, total, "] console: ") && contains(log, total, "] hv: ready\n"));
	EXPECT("read to the end", total, end);
	say("log-test: %lu bytes in the log so far\n", (unsigned long)total);

	/* Positions and buffers the call refuses. */
	EXPECT("at the end: nothing", hcall(HC_LOG_READ, (uint64_t)buf, 4096, end, 0), 0);
	EXPECT("past the end", hcall(HC_LOG_READ, (uint64_t)buf, 4096, end + 100000, 0), -HV_EINVAL);
	EXPECT("buffer above 4096", hcall(HC_LOG_READ, (uint64_t)buf, 4097, 0, 0), -HV_EINVAL);
	EXPECT("buffer below the header", hcall(HC_LOG_READ, (uint64_t)buf, 16, 0, 0), -HV_EINVAL);
	EXPECT("buffer in the hypervisor", hcall(HC_LOG_READ, 0x200000, 4096, 0, 0), -HV_EFAULT);
	EXPECT("just the header: 0 bytes",
	       hcall(HC_LOG_READ, (uint64_t)buf, sizeof(*buf), 0, 0), 0);

	/*
	 * The root's unfinished line and the hypervisor's lines: "partial" is
	 * cut off by the debug console's lines (logged meanwhile, from this
	 * CPU) and shown again, whole, after them; the harness reads it back.
	 * The ring gets the hypervisor's lines only.
	 */
	say("log-test: partial");
	type("cpus\r");
	say(" line, finished\n");
	total = read_all(end, log, 128 * 1024, buf, &end2, &dropped);
	CHECK("the debug console's lines are in the ring", contains(log, total, "debugcon> cpus"));
	CHECK("the root's output is not", !contains(log, total, "log-test"));

	/* Overflow the ring: the oldest lines go, and are counted. */
	for (int i = 0; i < 200 && end2 < (uint64_t)size + 8192; i++) {
		type("help\r");
		read_all(end2, log, 0, buf, &end2, &dropped);
	}
	total = read_all(0, log, 128 * 1024, buf, &end2, &dropped);
	CHECK("the ring wrapped", end2 > (uint64_t)size);
	EXPECT("what was dropped is counted", dropped, end2 - (uint64_t)size);
	EXPECT("the rest is there", total, (uint64_t)size);
	CHECK("the newest lines are kept", contains(log, total, "debugcon: help: ok"));
	type("dmesg\r");

	say("log-test: %d passed, %d failed\n", passed, failed);
	say("HV-VERDICT: %s\n", failed ? "FAIL" : "PASS");
	guest_exit(!failed);
}
