/*
 * Command-line options are declared next to the code they configure, with
 * CMDLINE_OPTION; the linker gathers them into one table that
 * cmdline_parse() reads (see hv/cmdline.h for the syntax).
 */
#ifndef HV_OPTIONS_H
#define HV_OPTIONS_H

#include "hv/cmdline.h"
#include "hv/compiler.h"

#define CMDLINE_OPTION(id, key_, fn, arg_, help_)                            \
	static const struct cmdline_opt __cmdline_opt_##id __used            \
		__section(".cmdline_opts") __aligned(8) = {                   \
		.key = key_, .parse = fn, .arg = arg_, .help = help_ }

/*
 * A numeric option with its accepted values, checked by the parser (see
 * struct cmdline_range): the fields after the help text initialize the
 * range, e.g.
 *     CMDLINE_OPTION_RANGE(ap_timeout, "ap_timeout_ms", &ap_timeout_ms,
 *             "how long to wait for the APs", .min = 100, .max = 60000,
 *             .def = AP_TIMEOUT_MS_DEFAULT);
 * Without .set, arg points at a uint64_t. The range is also reachable as
 * cmdline_range_<id>, for an owner that checks a bound later (.max_text).
 * Say why the bounds are what they are next to the declaration.
 */
#define CMDLINE_OPTION_RANGE(id, key_, arg_, help_, ...)                     \
	static const struct cmdline_range cmdline_range_##id = { __VA_ARGS__ }; \
	static const struct cmdline_opt __cmdline_opt_##id __used            \
		__section(".cmdline_opts") __aligned(8) = {                   \
		.key = key_, .arg = arg_, .help = help_,                      \
		.range = &cmdline_range_##id }

/* The same for a uint64_t variable (checked), initialized to .def. */
#define CMDLINE_OPTION_U64(id, key_, var, help_, ...)                        \
	_Static_assert(__builtin_types_compatible_p(__typeof__(var), uint64_t), \
		       #var " must be a uint64_t");                            \
	CMDLINE_OPTION_RANGE(id, key_, &(var), help_, __VA_ARGS__)

extern const struct cmdline_opt __cmdline_opts_start[], __cmdline_opts_end[];

static inline size_t cmdline_opts_count(void)
{
	return (size_t)(__cmdline_opts_end - __cmdline_opts_start);
}

#endif
