/* Command-line parser: tokens, quotes, errors, number and bool helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/cmdline.h"
#include "hv/errno.h"
#include "host_stubs.h"

static uint64_t mem;
static bool debug;
static char name[64];
static int flag_calls;
/* The value pointer dies with cmdline_parse's token buffer: keep a copy. */
static char flag_buf[CMDLINE_TOKEN_MAX + 1];
static const char *flag_value;

static int parse_name(const char *value, void *arg)
{
	char *dst = arg;

	if (!value || strlen(value) >= sizeof(name))
		return -EINVAL;
	strcpy(dst, value);
	return 0;
}

static int parse_flag(const char *value, void *arg)
{
	(void)arg;
	flag_calls++;
	flag_value = NULL;
	if (value) {
		assert_true(strlen(value) < sizeof(flag_buf));
		strcpy(flag_buf, value);
		flag_value = flag_buf;
	}
	return 0;
}

/* Numeric options with ranges, shaped like the hypervisor's own. */
static uint64_t size, timeout, late, phantom;
static int level;

static void set_level(uint64_t v, void *arg)
{
	*(int *)arg = (int)v;
}

static const struct cmdline_range size_range = {
	.min = 8ull << 20, .max = 1ull << 30, .def = 32ull << 20, .flags = CMDLINE_SIZE,
};
static const struct cmdline_range timeout_range = { .min = 10, .max = 60000, .def = 2000 };
static const struct cmdline_range level_range = {
	.min = 0, .max = 3, .def = 2, .names = "err|warn|info|debug", .set = set_level,
};
static const struct cmdline_range late_range = {
	.min = 8ull << 20, .max = UINT64_MAX, .def = 32ull << 20, .flags = CMDLINE_SIZE,
	.max_text = "half of RAM",
};
static const struct cmdline_range phantom_range = {
	.min = 0, .max = 254, .def = UINT64_MAX, .def_text = "none",
};

static const struct cmdline_opt opts[] = {
	{ "mem", cmdline_handle_u64, &mem, "memory limit", NULL },
	{ "debug", cmdline_handle_bool, &debug, "debug output", NULL },
	{ "name", parse_name, name, "a name", NULL },
	{ "flag", parse_flag, NULL, NULL, NULL },
	{ "size", NULL, &size, "a size", &size_range },
	{ "timeout", NULL, &timeout, "a time", &timeout_range },
	{ "level", NULL, &level, "a level", &level_range },
	{ "late", NULL, &late, "max known later", &late_range },
	{ "phantom", NULL, &phantom, "an APIC ID", &phantom_range },
};

static int parse(const char *s)
{
	host_log_clear();
	return cmdline_parse(s, opts, sizeof(opts) / sizeof(opts[0]));
}

static int setup(void **state)
{
	(void)state;
	mem = 0;
	debug = false;
	name[0] = '\0';
	flag_calls = 0;
	flag_value = "unset";
	size = 1;
	timeout = 1;
	level = -1;
	late = 1;
	phantom = 1;
	return 0;
}

static void test_basic(void **state)
{
	(void)state;
	assert_int_equal(parse("mem=4G debug name=vm0 flag"), 0);
	assert_int_equal(mem, 4ull << 30);
	assert_true(debug);
	assert_string_equal(name, "vm0");
	assert_int_equal(flag_calls, 1);
	assert_null(flag_value);                /* bare key */
	assert_string_equal(host_log, "");
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse(NULL), 0);
	assert_int_equal(parse("  \t \n "), 0);
	assert_int_equal(parse("\"\""), 0);     /* empty quoted token */
	assert_int_equal(cmdline_parse("mem=1", NULL, 0), -EINVAL);
	assert_int_equal(flag_calls, 0);
}

static void test_whitespace_kinds(void **state)
{
	(void)state;
	assert_int_equal(parse("\tmem=0x10\n\r debug=off   flag  "), 0);
	assert_int_equal(mem, 16);
	assert_false(debug);
	assert_int_equal(flag_calls, 1);
}

static void test_quotes(void **state)
{
	(void)state;
	assert_int_equal(parse("name=\"a b  c\" mem=1"), 0);
	assert_string_equal(name, "a b  c");
	assert_int_equal(mem, 1);
	assert_int_equal(parse("\"name=x y\""), 0);
	assert_string_equal(name, "x y");
	assert_int_equal(parse("name=\"\""), 0);
	assert_string_equal(name, "");
	assert_int_equal(parse("name=a\"=b \"c"), 0);
	assert_string_equal(name, "a=b c");
}

static void test_unterminated_quote(void **state)
{
	(void)state;
	assert_int_equal(parse("mem=5 name=\"abc def"), -EINVAL);
	assert_true(host_log_contains("cmdline: unterminated quote in 'name'"));
	assert_int_equal(mem, 5);
	assert_string_equal(name, "");
}

static void test_empty_value(void **state)
{
	(void)state;
	assert_int_equal(parse("flag="), 0);
	assert_non_null(flag_value);
	assert_string_equal(flag_value, "");
	assert_int_equal(parse("mem="), -EINVAL);
	assert_true(host_log_contains("cmdline: bad value for mem: ''"));
}

static void test_unknown_reported_all_processed(void **state)
{
	(void)state;
	assert_int_equal(parse("foo=1 mem=2M bar debug"), -EINVAL);
	assert_true(host_log_contains("cmdline: unknown option 'foo'"));
	assert_true(host_log_contains("cmdline: unknown option 'bar'"));
	assert_int_equal(mem, 2ull << 20);
	assert_true(debug);
	/* Keys match exactly. */
	assert_int_equal(parse("Mem=1 me=1 memx=1"), -EINVAL);
	assert_true(host_log_contains("unknown option 'Mem'"));
	assert_true(host_log_contains("unknown option 'me'"));
	assert_true(host_log_contains("unknown option 'memx'"));
}

static void test_bad_values(void **state)
{
	(void)state;
	assert_int_equal(parse("mem=12X debug=maybe flag"), -EINVAL);
	assert_true(host_log_contains("cmdline: bad value for mem: '12X'"));
	assert_true(host_log_contains("cmdline: bad value for debug: 'maybe'"));
	assert_int_equal(flag_calls, 1);
	assert_int_equal(mem, 0);
	assert_int_equal(parse("name"), -EINVAL);   /* handler refuses bare */
	assert_true(host_log_contains("cmdline: bad value for name: ''"));
}

static void test_empty_key(void **state)
{
	(void)state;
	assert_int_equal(parse("=5 flag"), -EINVAL);
	assert_true(host_log_contains("cmdline: empty option name"));
	assert_int_equal(flag_calls, 1);
}

static void test_repeated_key_last_wins(void **state)
{
	(void)state;
	assert_int_equal(parse("mem=1 mem=2 mem=3"), 0);
	assert_int_equal(mem, 3);
}

static void test_overlong_token(void **state)
{
	char line[CMDLINE_TOKEN_MAX * 2 + 64];
	char ok[CMDLINE_TOKEN_MAX + 1];

	(void)state;
	/* Exactly CMDLINE_TOKEN_MAX bytes: accepted. */
	memset(ok, 'a', sizeof(ok));
	memcpy(ok, "flag=", 5);
	ok[CMDLINE_TOKEN_MAX] = '\0';
	assert_int_equal(parse(ok), 0);
	assert_int_equal(strlen(flag_value), CMDLINE_TOKEN_MAX - 5);

	/* One more byte: rejected by a message, neighbours still parsed. */
	snprintf(line, sizeof(line), "mem=7 %sa debug", ok);
	flag_calls = 0;
	assert_int_equal(parse(line), -EINVAL);
	assert_true(host_log_contains("cmdline: token too long"));
	assert_true(host_log_contains("'flag=aaaa"));
	assert_int_equal(flag_calls, 0);
	assert_int_equal(mem, 7);
	assert_true(debug);

	/* Quotes do not count towards the length, quoted spaces do. */
	memset(line, 0, sizeof(line));
	strcpy(line, "name=\"");
	memset(line + 6, ' ', CMDLINE_TOKEN_MAX);
	strcat(line, "\"");
	assert_int_equal(parse(line), -EINVAL);
	assert_true(host_log_contains("token too long"));
}

static void test_parse_u64(void **state)
{
	static const struct { const char *s; int r; uint64_t v; } cases[] = {
		{ "0", 0, 0 },
		{ "123", 0, 123 },
		{ "0x1F", 0, 0x1f },
		{ "0XfF", 0, 0xff },
		{ "4K", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "2M", 0, 2ull << 20 },
		{ "3g", 0, 3ull << 30 },
		{ "0x10K", 0, 16ull << 10 },
		{ "007", 0, 7 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "0xFFFFFFFFFFFFFFFF", 0, UINT64_MAX },
		{ "17179869183G", 0, 17179869183ull << 30 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "0x10000000000000000", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "12a", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "4KB", -EINVAL, 0 },
		{ "4T", -EINVAL, 0 },
		{ "0xg", -EINVAL, 0 },
		/* Garbage is garbage even when the digits overflow. */
		{ "99999999999999999999X", -EINVAL, 0 },
		{ "99999999999999999999G", -ERANGE, 0 },
		{ "0x1ffffffffffffffffz", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdead;
		int r = cmdline_parse_u64(cases[i].s, &v);

		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("'%s': got %d/%llu", cases[i].s, r,
				 (unsigned long long)v);
		if (r)
			assert_int_equal(v, 0xdead);
	}
	assert_int_equal(cmdline_parse_u64(NULL, &(uint64_t){ 0 }), -EINVAL);
	assert_int_equal(cmdline_parse_u64("1", NULL), -EINVAL);
}

static void test_parse_bool(void **state)
{
	static const char *const t[] = { "1", "on", "yes", "true" };
	static const char *const f[] = { "0", "off", "no", "false" };
	static const char *const bad[] = { "", "2", "ON", "y", "onn", "of" };
	bool b;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		b = false;
		assert_int_equal(cmdline_parse_bool(t[i], &b), 0);
		assert_true(b);
		assert_int_equal(cmdline_parse_bool(f[i], &b), 0);
		assert_false(b);
	}
	b = false;
	assert_int_equal(cmdline_parse_bool(NULL, &b), 0);
	assert_true(b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		assert_int_equal(cmdline_parse_bool(bad[i], &b), -EINVAL);
		assert_true(b);
	}
	assert_int_equal(cmdline_parse_bool("1", NULL), -EINVAL);
}

static void test_print_help(void **state)
{
	(void)state;
	host_log_clear();
	cmdline_print_help(opts, sizeof(opts) / sizeof(opts[0]));
	assert_true(host_log_contains("mem"));
	assert_true(host_log_contains("memory limit"));
	assert_true(host_log_contains("flag"));
}

/* A value the parser refused: logged as `line`, the default stored. */
static void refused(const char *cmdline, const char *line)
{
	if (parse(cmdline) != -EINVAL)
		fail_msg("'%s' was accepted", cmdline);
	if (!host_log_contains(line))
		fail_msg("'%s': no line '%s' in:\n%s", cmdline, line, host_log);
}

static void test_range_size_bounds(void **state)
{
	(void)state;
	assert_int_equal(parse("size=8M"), 0);
	assert_int_equal(size, 8ull << 20);
	assert_int_equal(parse("size=1G"), 0);
	assert_int_equal(size, 1ull << 30);
	assert_int_equal(parse("size=0x800000"), 0);       /* min, in hex */
	assert_int_equal(size, 8ull << 20);
	assert_int_equal(parse("size=8192K"), 0);
	assert_int_equal(size, 8ull << 20);
	assert_int_equal(parse("size=1048576k"), 0);       /* max, lower case */
	assert_int_equal(size, 1ull << 30);
	assert_string_equal(host_log, "");

	size = 1;
	refused("size=8388607", "cmdline: size=8388607 is outside 8M..1G; using the default 32M");
	assert_int_equal(size, 32ull << 20);
	size = 1;
	refused("size=1073741825", "cmdline: size=1073741825 is outside 8M..1G; using the default 32M");
	assert_int_equal(size, 32ull << 20);
	refused("size=0", "cmdline: size=0 is outside 8M..1G");
	refused("size=1K", "cmdline: size=1K is outside 8M..1G; using the default 32M");
	refused("size=1025M", "cmdline: size=1025M is outside");
	refused("size=2G", "cmdline: size=2G is outside");
	refused("size=0x7fffff", "cmdline: size=0x7fffff is outside");
}

static void test_range_overflow(void **state)
{
	(void)state;
	/* Too big for 64 bits: outside the range, not garbage. */
	refused("size=99999999999999999999G",
		"cmdline: size=99999999999999999999G is outside 8M..1G; using the default 32M");
	assert_int_equal(size, 32ull << 20);
	refused("size=18446744073709551616", "size=18446744073709551616 is outside");
	refused("size=17179869184G", "size=17179869184G is outside");
	refused("size=0x10000000000000000", "size=0x10000000000000000 is outside");
	refused("size=18446744073709551615", "size=18446744073709551615 is outside");
	refused("timeout=99999999999999999999",
		"cmdline: timeout=99999999999999999999 is outside 10..60000; using the default 2000");
	assert_int_equal(timeout, 2000);
	refused("late=99999999999999999999G",
		"cmdline: late=99999999999999999999G is outside 8M..half of RAM; using the default 32M");
	assert_int_equal(late, 32ull << 20);
}

static void test_range_garbage(void **state)
{
	static const char *const bad[] = {
		"12X", "99999999999999999999X", "-1", "+8M", " 8M", "8MB", "8 M",
		"8T", "0x", "M", "8M8", "1e9", "0x8000000000000000000z",
	};
	char line[64], want[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "\"size=%s\"", bad[i]);
		snprintf(want, sizeof(want),
			 "cmdline: bad value for size: '%s' (expected 8M..1G); using the default 32M",
			 bad[i]);
		size = 1;
		refused(line, want);
		assert_int_equal(size, 32ull << 20);
	}
	refused("size=", "cmdline: bad value for size: '' (expected 8M..1G); using the default 32M");
	refused("size", "cmdline: bad value for size: '' (expected 8M..1G)");
}

static void test_range_units(void **state)
{
	(void)state;
	/* Times take no K/M/G: 2K would be 2048 ms by accident. */
	refused("timeout=2K",
		"cmdline: bad value for timeout: '2K' (expected 10..60000); using the default 2000");
	assert_int_equal(timeout, 2000);
	refused("timeout=1m", "bad value for timeout: '1m'");
	refused("timeout=1g", "bad value for timeout: '1g'");
	assert_int_equal(parse("timeout=10"), 0);
	assert_int_equal(timeout, 10);
	assert_int_equal(parse("timeout=60000"), 0);
	assert_int_equal(timeout, 60000);
	assert_int_equal(parse("timeout=0x10"), 0);        /* hex is not a unit */
	assert_int_equal(timeout, 16);
	assert_int_equal(parse("timeout=0xF"), 0);
	assert_int_equal(timeout, 15);
	refused("timeout=9", "cmdline: timeout=9 is outside 10..60000; using the default 2000");
	refused("timeout=60001", "cmdline: timeout=60001 is outside 10..60000");
	refused("timeout=0", "cmdline: timeout=0 is outside 10..60000");
}

static void test_range_names(void **state)
{
	(void)state;
	assert_int_equal(parse("level=debug"), 0);
	assert_int_equal(level, 3);
	assert_int_equal(parse("level=err"), 0);
	assert_int_equal(level, 0);
	assert_int_equal(parse("level=3"), 0);
	assert_int_equal(level, 3);
	assert_int_equal(parse("level=0"), 0);
	assert_int_equal(level, 0);
	refused("level=4",
		"cmdline: level=4 is outside 0..3 (err|warn|info|debug); using the default info");
	assert_int_equal(level, 2);
	level = -1;
	refused("level=bogus",
		"cmdline: bad value for level: 'bogus' (expected 0..3 (err|warn|info|debug)); using the default info");
	assert_int_equal(level, 2);
	refused("level=Info", "bad value for level: 'Info'");
	refused("level=inf", "bad value for level: 'inf'");
	refused("level=info|debug", "bad value for level: 'info|debug'");
	refused("level=1K", "bad value for level: '1K'");
}

static void test_range_late_max(void **state)
{
	const uint64_t M = 1ull << 20;

	(void)state;
	/* The parser only knows the bound it was given; the owner checks the rest. */
	assert_int_equal(parse("late=999G"), 0);
	assert_int_equal(late, 999ull << 30);
	refused("late=1K", "cmdline: late=1K is outside 8M..half of RAM; using the default 32M");
	assert_int_equal(late, 32 * M);

	host_log_clear();
	assert_int_equal(cmdline_range_refuse("late", 999ull << 30, &late_range, 255 * M,
					      " (half of 510 MiB)"), 32 * M);
	assert_true(host_log_contains(
		"cmdline: late=999G is outside 8M..255M (half of 510 MiB); using the default 32M"));
	host_log_clear();
	cmdline_range_refuse("phantom", 300, &phantom_range, 254, NULL);
	assert_true(host_log_contains("cmdline: phantom=300 is outside 0..254; using the default none"));
}

static void test_range_default_text(void **state)
{
	(void)state;
	assert_int_equal(parse("phantom=0"), 0);
	assert_int_equal(phantom, 0);
	assert_int_equal(parse("phantom=254"), 0);
	assert_int_equal(phantom, 254);
	refused("phantom=255", "cmdline: phantom=255 is outside 0..254; using the default none");
	assert_int_equal(phantom, UINT64_MAX);
}

static void test_range_repeated_and_neighbours(void **state)
{
	(void)state;
	/* A refused value restores the default; the last token still wins. */
	refused("size=64M size=1K", "size=1K is outside");
	assert_int_equal(size, 32ull << 20);
	assert_int_equal(parse("size=1K size=64M"), -EINVAL);
	assert_int_equal(size, 64ull << 20);
	/* One refusal does not stop the others. */
	assert_int_equal(parse("timeout=0 size=16M debug level=warn"), -EINVAL);
	assert_int_equal(timeout, 2000);
	assert_int_equal(size, 16ull << 20);
	assert_true(debug);
	assert_int_equal(level, 1);
}

static void test_range_parse_direct(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(cmdline_range_parse(&size_range, "16M", &v), 0);
	assert_int_equal(v, 16ull << 20);
	v = 7;
	assert_int_equal(cmdline_range_parse(&size_range, "1K", &v), -ERANGE);
	assert_int_equal(cmdline_range_parse(&size_range, "99999999999999999999G", &v), -ERANGE);
	assert_int_equal(cmdline_range_parse(&size_range, "1X", &v), -EINVAL);
	assert_int_equal(cmdline_range_parse(&size_range, "", &v), -EINVAL);
	assert_int_equal(cmdline_range_parse(&size_range, NULL, &v), -EINVAL);
	assert_int_equal(cmdline_range_parse(NULL, "16M", &v), -EINVAL);
	assert_int_equal(cmdline_range_parse(&size_range, "16M", NULL), -EINVAL);
	assert_int_equal(v, 7);
	/* A full 64-bit range: every number fits, overflow is still refused. */
	static const struct cmdline_range all = { .min = 0, .max = UINT64_MAX };
	assert_int_equal(cmdline_range_parse(&all, "18446744073709551615", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(cmdline_range_parse(&all, "18446744073709551616", &v), -ERANGE);
}

static void test_range_format(void **state)
{
	static const struct { const struct cmdline_range *r; uint64_t v; const char *s; } cases[] = {
		{ &size_range, 32ull << 20, "32M" },
		{ &size_range, 1536ull << 10, "1536K" },
		{ &size_range, 3ull << 30, "3G" },
		{ &size_range, 1ull << 40, "1024G" },
		{ &size_range, 1025, "1025" },
		{ &size_range, 0, "0" },
		{ &size_range, UINT64_MAX, "18446744073709551615" },
		{ &timeout_range, 2048, "2048" },
		{ &level_range, 2, "info" },
		{ &level_range, 3, "debug" },
		{ &level_range, 7, "7" },
		{ NULL, 1024, "1024" },
	};
	char buf[32], text[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(cmdline_range_format(cases[i].r, cases[i].v, buf, sizeof(buf)),
				    cases[i].s);
	assert_string_equal(cmdline_range_text(&size_range, text, sizeof(text)), "8M..1G");
	assert_string_equal(cmdline_range_text(&late_range, text, sizeof(text)), "8M..half of RAM");
	assert_string_equal(cmdline_range_text(&level_range, text, sizeof(text)),
			    "0..3 (err|warn|info|debug)");
	assert_string_equal(cmdline_range_text(&timeout_range, text, sizeof(text)), "10..60000");
	/* Short buffers are cut, never overrun. */
	assert_string_equal(cmdline_range_text(&level_range, text, 6), "0..3 ");
	assert_string_equal(cmdline_range_format(&size_range, 32ull << 20, buf, 3), "32");
}

static void test_range_help(void **state)
{
	(void)state;
	host_log_clear();
	cmdline_print_help(opts, sizeof(opts) / sizeof(opts[0]));
	assert_true(host_log_contains("a size [8M..1G, default 32M]"));
	assert_true(host_log_contains("a time [10..60000, default 2000]"));
	assert_true(host_log_contains("a level [0..3 (err|warn|info|debug), default info]"));
	assert_true(host_log_contains("max known later [8M..half of RAM, default 32M]"));
	assert_true(host_log_contains("an APIC ID [0..254, default none]"));
	assert_false(host_log_contains("memory limit ["));
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_basic),
		T(test_empty),
		T(test_whitespace_kinds),
		T(test_quotes),
		T(test_unterminated_quote),
		T(test_empty_value),
		T(test_unknown_reported_all_processed),
		T(test_bad_values),
		T(test_empty_key),
		T(test_repeated_key_last_wins),
		T(test_overlong_token),
		T(test_parse_u64),
		T(test_parse_bool),
		T(test_print_help),
		T(test_range_size_bounds),
		T(test_range_overflow),
		T(test_range_garbage),
		T(test_range_units),
		T(test_range_names),
		T(test_range_late_max),
		T(test_range_default_text),
		T(test_range_repeated_and_neighbours),
		T(test_range_parse_direct),
		T(test_range_format),
		T(test_range_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
