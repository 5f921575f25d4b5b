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

extern const struct cmdline_opt __cmdline_opts_start[], __cmdline_opts_end[];

static inline size_t cmdline_opts_count(void)
{
	return (size_t)(__cmdline_opts_end - __cmdline_opts_start);
}

#endif
