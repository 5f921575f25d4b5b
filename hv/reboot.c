/* Orderly reset (hv/reboot.h). */
#include "hv/reboot.h"
#include "hv/notifier.h"
#include "hv/printk.h"

void hv_reboot(enum reboot_action action)
{
	int r = notifier_call_chain(&reboot_notifiers, action, NULL);

	if (r)
		pr_err("reboot: a reboot notifier failed (%d); resetting anyway\n", r);
	pr_info("reboot: %s\n", action == REBOOT_POWEROFF ? "powering off" : "resetting");
	arch_reset(action);
}
