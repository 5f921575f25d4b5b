/* Orderly reset and power-off: reboot notifiers first (virtualization off on
 * every CPU: VMX root operation blocks INIT, so resetting with VMX on can
 * hang real machines), then the reset itself. */
#ifndef HV_REBOOT_H
#define HV_REBOOT_H

#include "hv/compiler.h"

enum reboot_action { REBOOT_RESET = 1, REBOOT_POWEROFF = 2 };

__noreturn void hv_reboot(enum reboot_action action);
/* The arch's reset / power-off; does not return. */
__noreturn void arch_reset(enum reboot_action action);

#endif
