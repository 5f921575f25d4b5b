/* The symbol table the build embeds, for backtraces. */
#ifndef HV_KSYMS_H
#define HV_KSYMS_H

#include "hv/types.h"

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
