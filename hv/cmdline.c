/*
 * Table-driven command-line parser. Tokens are copied into a bounded local
 * buffer (the loader's string is never modified) and rejected, not cut, when
 * they do not fit: a silently shortened value would be a wrong value.
 */
#include "hv/cmdline.h"
#include "hv/compiler.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/string.h"

#define CMDLINE_ECHO_MAX 32     /* bytes of an overlong token echoed in the log */

static bool cmdline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const struct cmdline_opt *cmdline_find(const struct cmdline_opt *opts,
					      size_t n_opts, const char *key)
{
	size_t i;

	for (i = 0; i < n_opts; i++)
		if (opts[i].key && strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

/* Handle one de-quoted token; returns true when it was accepted. */
static bool cmdline_token(char *tok, const struct cmdline_opt *opts,
			  size_t n_opts)
{
	const struct cmdline_opt *opt;
	char *eq = strchr(tok, '=');
	const char *value = NULL;

	if (eq) {
		*eq = '\0';
		value = eq + 1;
	}
	if (tok[0] == '\0') {
		pr_err("cmdline: empty option name\n");
		return false;
	}
	opt = cmdline_find(opts, n_opts, tok);
	if (!opt) {
		pr_err("cmdline: unknown option '%s'\n", tok);
		return false;
	}
	if (opt->parse && opt->parse(value, opt->arg) != 0) {
		pr_err("cmdline: bad value for %s: '%s'\n", tok, value ? value : "");
		return false;
	}
	return true;
}

int cmdline_parse(const char *cmdline, const struct cmdline_opt *opts,
		  size_t n_opts)
{
	const char *p = cmdline ? cmdline : "";
	char tok[CMDLINE_TOKEN_MAX + 1];
	bool ok = true;

	if (!opts)
		n_opts = 0;
	for (;;) {
		bool quoted = false, too_long = false;
		size_t n = 0;

		while (cmdline_is_space(*p))
			p++;
		if (*p == '\0')
			break;
		/* A token ends at unquoted whitespace; quotes are dropped. */
		for (; *p && (quoted || !cmdline_is_space(*p)); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (n < CMDLINE_TOKEN_MAX)
				tok[n++] = *p;
			else
				too_long = true;
		}
		tok[n] = '\0';

		if (too_long) {
			char echo[CMDLINE_ECHO_MAX + 1];

			memcpy(echo, tok, CMDLINE_ECHO_MAX);
			echo[CMDLINE_ECHO_MAX] = '\0';
			pr_err("cmdline: token too long (> %u bytes): '%s...'\n",
			       CMDLINE_TOKEN_MAX, echo);
			ok = false;
			continue;
		}
		if (quoted) {
			char *eq = strchr(tok, '=');

			if (eq)
				*eq = '\0';
			pr_err("cmdline: unterminated quote in '%s'\n", tok);
			ok = false;
			continue;
		}
		if (n == 0)     /* "" alone: nothing to do */
			continue;
		if (!cmdline_token(tok, opts, n_opts))
			ok = false;
	}
	return ok ? 0 : ERR(-EINVAL);
}

static int cmdline_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cmdline_parse_u64(const char *value, uint64_t *out)
{
	const char *p = value;
	unsigned int base = 10, shift = 0;
	uint64_t v = 0;
	int d;

	if (!p || !out)
		return ERR(-EINVAL);
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (cmdline_digit(*p) < 0 || (unsigned int)cmdline_digit(*p) >= base)
		return ERR(-EINVAL);
	for (; (d = cmdline_digit(*p)) >= 0 && (unsigned int)d < base; p++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return ERR(-ERANGE);
		v = v * base + (uint64_t)d;
	}
	switch (*p) {
	case 'K': case 'k': shift = 10; p++; break;
	case 'M': case 'm': shift = 20; p++; break;
	case 'G': case 'g': shift = 30; p++; break;
	}
	if (*p != '\0')
		return ERR(-EINVAL);
	if (shift && v > (UINT64_MAX >> shift))
		return ERR(-ERANGE);
	*out = v << shift;
	return 0;
}

int cmdline_parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };
	size_t i;

	if (!out)
		return ERR(-EINVAL);
	if (!value) {
		*out = true;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return ERR(-EINVAL);
}

int cmdline_handle_u64(const char *value, void *arg)
{
	return cmdline_parse_u64(value, arg);
}

int cmdline_handle_bool(const char *value, void *arg)
{
	return cmdline_parse_bool(value, arg);
}

void cmdline_print_help(const struct cmdline_opt *opts, size_t n_opts)
{
	size_t i;

	for (i = 0; opts && i < n_opts; i++)
		if (opts[i].key)
			pr_info("  %-20s %s\n", opts[i].key,
				opts[i].help ? opts[i].help : "");
}
