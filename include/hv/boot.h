/* What the boot path leaves for the rest of the hypervisor. */
#ifndef HV_BOOT_H
#define HV_BOOT_H

#include "hv/mb2.h"
#include "hv/types.h"

extern struct boot_info boot_info;
/* What a hypercall got before the staged init ran (must be "not ready"). */
extern int64_t hypercall_before_init;

/* Parse the multiboot2 information, or report why not and halt (exit
 * status HV_EXIT_BAD_BOOTINFO). */
void boot_info_parse_or_halt(const void *info, struct boot_info *bi);

#endif
