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
#define CMDLINE_RANGE_TEXT_MAX 160

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

static void cmdline_range_store(const struct cmdline_opt *opt, uint64_t v)
{
	if (opt->range->set)
		opt->range->set(v, opt->arg);
	else if (opt->arg)
		*(uint64_t *)opt->arg = v;
}

static const char *cmdline_range_def(const struct cmdline_range *r, char *buf,
				     size_t len)
{
	if (r->def_text)
		return r->def_text;
	return cmdline_range_format(r, r->def, buf, len);
}

/* A ranged option: store its value, or refuse it and store the default. */
static bool cmdline_ranged(const struct cmdline_opt *opt, const char *value)
{
	const struct cmdline_range *r = opt->range;
	char range[CMDLINE_RANGE_TEXT_MAX], buf[32];
	const char *def;
	uint64_t v;
	int err = cmdline_range_parse(r, value, &v);

	if (!err) {
		cmdline_range_store(opt, v);
		return true;
	}
	cmdline_range_text(r, range, sizeof(range));
	def = cmdline_range_def(r, buf, sizeof(buf));
	if (err == -ERANGE)
		pr_err("cmdline: %s=%s is outside %s; using the default %s\n",
		       opt->key, value, range, def);
	else
		pr_err("cmdline: bad value for %s: '%s' (expected %s); using the default %s\n",
		       opt->key, value ? value : "", range, def);
	cmdline_range_store(opt, r->def);
	return false;
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
	if (opt->range)
		return cmdline_ranged(opt, value);
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
	bool overflow = false;
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
	/* Syntax first: "99999999999999999999X" is garbage, not too big. */
	for (; (d = cmdline_digit(*p)) >= 0 && (unsigned int)d < base; p++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		else
			v = v * base + (uint64_t)d;
	}
	switch (*p) {
	case 'K': case 'k': shift = 10; p++; break;
	case 'M': case 'm': shift = 20; p++; break;
	case 'G': case 'g': shift = 30; p++; break;
	}
	if (*p != '\0')
		return ERR(-EINVAL);
	if (overflow || (shift && v > (UINT64_MAX >> shift)))
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

/* Index of `value` among the '|'-separated names, or -1. */
static int cmdline_name_index(const char *names, const char *value)
{
	size_t n = strlen(value);
	int i = 0;

	while (names && *names) {
		const char *bar = strchr(names, '|');
		size_t len = bar ? (size_t)(bar - names) : strlen(names);

		if (len == n && n && !strncmp(names, value, n))
			return i;
		if (!bar)
			break;
		names = bar + 1;
		i++;
	}
	return -1;
}

/* The idx-th name, copied into buf; NULL when there is none. */
static const char *cmdline_name_at(const char *names, uint64_t idx, char *buf,
				   size_t len)
{
	while (names && *names) {
		const char *bar = strchr(names, '|');
		size_t n = bar ? (size_t)(bar - names) : strlen(names);

		if (idx-- == 0) {
			snprintf(buf, len, "%.*s", (int)n, names);
			return buf;
		}
		if (!bar)
			break;
		names = bar + 1;
	}
	return NULL;
}

int cmdline_range_parse(const struct cmdline_range *r, const char *value,
			uint64_t *out)
{
	uint64_t v;
	size_t n;
	int i, err;

	if (!r || !value || !out || !*value)
		return ERR(-EINVAL);
	i = cmdline_name_index(r->names, value);
	if (i >= 0) {
		*out = r->min + (uint64_t)i;
		return 0;
	}
	n = strlen(value);
	if (!(r->flags & CMDLINE_SIZE) && strchr("KMGkmg", value[n - 1]))
		return ERR(-EINVAL);            /* a unit where none belongs */
	err = cmdline_parse_u64(value, &v);
	if (err)
		return err;
	if (v < r->min || v > r->max)
		return ERR(-ERANGE);
	*out = v;
	return 0;
}

static const char *cmdline_number(const struct cmdline_range *r, uint64_t v,
				  char *buf, size_t len)
{
	static const struct { unsigned int shift; char unit; } units[] = {
		{ 30, 'G' }, { 20, 'M' }, { 10, 'K' },
	};

	if (r && (r->flags & CMDLINE_SIZE) && v)
		for (size_t i = 0; i < ARRAY_SIZE(units); i++)
			if (!(v & ((1ULL << units[i].shift) - 1))) {
				snprintf(buf, len, "%lu%c", (unsigned long)(v >> units[i].shift),
					 units[i].unit);
				return buf;
			}
	snprintf(buf, len, "%lu", (unsigned long)v);
	return buf;
}

const char *cmdline_range_format(const struct cmdline_range *r, uint64_t value,
				 char *buf, size_t len)
{
	if (r && r->names && value >= r->min &&
	    cmdline_name_at(r->names, value - r->min, buf, len))
		return buf;
	return cmdline_number(r, value, buf, len);
}

const char *cmdline_range_text(const struct cmdline_range *r, char *buf, size_t len)
{
	char lo[24], hi[24];

	cmdline_number(r, r->min, lo, sizeof(lo));
	if (r->max_text)
		snprintf(buf, len, "%s..%s", lo, r->max_text);
	else
		snprintf(buf, len, "%s..%s", lo, cmdline_number(r, r->max, hi, sizeof(hi)));
	if (r->names) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " (%s)", r->names);
	}
	return buf;
}

uint64_t cmdline_range_refuse(const char *key, uint64_t value,
			      const struct cmdline_range *r, uint64_t max,
			      const char *note)
{
	char v[24], lo[24], hi[24], def[32];

	pr_err("cmdline: %s=%s is outside %s..%s%s; using the default %s\n", key,
	       cmdline_number(r, value, v, sizeof(v)), cmdline_number(r, r->min, lo, sizeof(lo)),
	       cmdline_number(r, max, hi, sizeof(hi)), note ? note : "",
	       cmdline_range_def(r, def, sizeof(def)));
	return r->def;
}

void cmdline_print_help(const struct cmdline_opt *opts, size_t n_opts)
{
	char range[CMDLINE_RANGE_TEXT_MAX], def[32];
	size_t i;

	for (i = 0; opts && i < n_opts; i++) {
		if (!opts[i].key)
			continue;
		if (opts[i].range)
			pr_info("  %-20s %s [%s, default %s]\n", opts[i].key,
				opts[i].help ? opts[i].help : "",
				cmdline_range_text(opts[i].range, range, sizeof(range)),
				cmdline_range_def(opts[i].range, def, sizeof(def)));
		else
			pr_info("  %-20s %s\n", opts[i].key,
				opts[i].help ? opts[i].help : "");
	}
}
