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

static const struct cmdline_opt opts[] = {
	{ "mem", cmdline_handle_u64, &mem, "memory limit" },
	{ "debug", cmdline_handle_bool, &debug, "debug output" },
	{ "name", parse_name, name, "a name" },
	{ "flag", parse_flag, NULL, NULL },
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
