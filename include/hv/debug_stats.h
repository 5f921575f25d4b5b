/* Debug statistics reachable from the serial console (`stats` command):
 * the kvm_init_debug analogue. Each entry prints its own lines. */
#ifndef HV_DEBUG_STATS_H
#define HV_DEBUG_STATS_H

struct debug_stat {
	const char *name;
	void (*show)(void);
	struct debug_stat *next;
};

int debug_stat_register(struct debug_stat *st);
void debug_stat_unregister(struct debug_stat *st);
/* Show one entry by name (NULL: all). -ENOENT for an unknown name. */
int debug_stats_show(const char *name);

#endif
