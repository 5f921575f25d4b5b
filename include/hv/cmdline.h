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

struct cmdline_opt {
	const char *key;
	/* value is NULL for a bare key, "" for `key=`. Returns 0 or -errno. */
	int (*parse)(const char *value, void *arg);
	void *arg;
	const char *help;
};

/*
 * Parse `cmdline` (NULL counts as empty) against the table, calling the
 * handler of every token whose key matches exactly (case-sensitive; a key
 * given twice calls its handler twice, so the last one wins for plain
 * setters). Every token is processed even after an error. Problems are
 * logged with pr_err:
 *   cmdline: unknown option '<key>'
 *   cmdline: bad value for <key>: '<value>'
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

/* Log each option's key and help text at info level. */
void cmdline_print_help(const struct cmdline_opt *opts, size_t n_opts);

#endif
