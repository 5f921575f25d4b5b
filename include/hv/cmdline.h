/*
 * Kernel command line: whitespace-separated tokens, each `key=value` or a
 * bare `key`. Double quotes group text containing spaces and are removed
 * (`name="a b"` gives value `a b`; a quote may open anywhere in a token).
 * Options come from a caller-built table; this module knows no option names.
 */
#ifndef HV_CMDLINE_H
#define HV_CMDLINE_H

#include "hv/types.h"

/* Longest token (key, '=', value, quotes removed) accepted; longer is an error. */
#define CMDLINE_TOKEN_MAX 256

/* cmdline_range.flags */
#define CMDLINE_SIZE 0x1u       /* a size: K/M/G suffixes allowed, shown with them */

/*
 * The accepted values of a numeric option, part of its declaration
 * (CMDLINE_OPTION_RANGE in hv/options.h). The parser checks them itself:
 * a value that is no number, or one outside [min, max] (a number too big
 * for 64 bits included), is refused by name with the range and the default,
 *   cmdline: bad value for <key>: '<value>' (expected <range>); using the default <def>
 *   cmdline: <key>=<value> is outside <range>; using the default <def>
 * and the default is stored, so a typo never leaves a half-set option.
 * `help` and the README show the range.
 */
struct cmdline_range {
	uint64_t min, max;      /* accepted values, both included */
	uint64_t def;           /* the default: stored and named when a value is refused */
	unsigned int flags;     /* CMDLINE_SIZE */
	/* The max as shown, when the owner decides it only later (hv_mem:
	 * "half of RAM", known once the memory map is; max is then only the
	 * parse-time bound and the owner calls cmdline_range_refuse). */
	const char *max_text;
	const char *def_text;   /* the default as shown when it is no number ("none") */
	/* Words for min, min+1, ... accepted besides numbers ("err|warn|info"). */
	const char *names;
	/* Store an accepted value; NULL: *(uint64_t *)arg = value. */
	void (*set)(uint64_t value, void *arg);
};

struct cmdline_opt {
	const char *key;
	/* value is NULL for a bare key, "" for `key=`. Returns 0 or -errno.
	 * Unused (NULL) for an option with a range: the parser stores it. */
	int (*parse)(const char *value, void *arg);
	void *arg;
	const char *help;
	const struct cmdline_range *range;      /* numeric options; else NULL */
};

/*
 * Parse `cmdline` (NULL counts as empty) against the table, calling the
 * handler of every token whose key matches exactly (case-sensitive; a key
 * given twice calls its handler twice, so the last one wins for plain
 * setters). Every token is processed even after an error. Problems are
 * logged with pr_err:
 *   cmdline: unknown option '<key>'
 *   cmdline: bad value for <key>: '<value>'
 *   (an option with a range: the two lines at struct cmdline_range)
 *   cmdline: token too long (> N bytes): '<first bytes>...'
 *   cmdline: unterminated quote in '<key>'   (the token is still dropped)
 *   cmdline: empty option name
 * Returns 0 when every token was accepted, -EINVAL when any was not.
 */
int cmdline_parse(const char *cmdline, const struct cmdline_opt *opts,
		  size_t n_opts);

/*
 * Unsigned number: decimal or 0x/0X hex, optionally followed by one of
 * K/M/G (or k/m/g: *2^10, 2^20, 2^30). Returns 0, -EINVAL (NULL, empty,
 * stray characters) or -ERANGE (does not fit in 64 bits).
 */
int cmdline_parse_u64(const char *value, uint64_t *out);

/*
 * Boolean: NULL (bare key) is true; on/yes/true/1 and off/no/false/0.
 * Returns 0 or -EINVAL (anything else; *out unchanged).
 */
int cmdline_parse_bool(const char *value, bool *out);

/* Ready-made handlers for a table: arg points at a uint64_t / a bool. */
int cmdline_handle_u64(const char *value, void *arg);
int cmdline_handle_bool(const char *value, void *arg);

/*
 * A value of a ranged option: one of r->names, or a number (with a K/M/G
 * suffix only for CMDLINE_SIZE). Returns 0, -EINVAL (no number: NULL,
 * empty, stray characters, a suffix where none is allowed) or -ERANGE
 * (outside [min, max], or too big for 64 bits); *out is set only on 0.
 */
int cmdline_range_parse(const struct cmdline_range *r, const char *value,
			uint64_t *out);

/*
 * A value as the range shows it: its name, or for CMDLINE_SIZE the largest
 * of G/M/K that divides it (`32M`, `1536K`), else decimal. Returns buf.
 */
const char *cmdline_range_format(const struct cmdline_range *r, uint64_t value,
				 char *buf, size_t len);

/* `min..max` (with the names: `0..3 (err|warn|info|debug)`). Returns buf. */
const char *cmdline_range_text(const struct cmdline_range *r, char *buf, size_t len);

/*
 * For an owner that checks a bound only it knows (r->max_text): log
 *   cmdline: <key>=<value> is outside <min>..<max><note>; using the default <def>
 * with `max` the bound now known, and return r->def for the owner to use.
 */
uint64_t cmdline_range_refuse(const char *key, uint64_t value,
			      const struct cmdline_range *r, uint64_t max,
			      const char *note);

/* Log each option's key and help text at info level, with the range and
 * default of a numeric one: `[16M..half of RAM, default 32M]`. */
void cmdline_print_help(const struct cmdline_opt *opts, size_t n_opts);

#endif
