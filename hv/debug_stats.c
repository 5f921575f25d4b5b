/* Registry of debug statistics (hv/debug_stats.h). */
#include "hv/debug_stats.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/string.h"

static struct debug_stat *head;

int debug_stat_register(struct debug_stat *st)
{
	for (struct debug_stat *s = head; s; s = s->next)
		if (s == st || !strcmp(s->name, st->name))
			return ERR(-EEXIST);
	st->next = head;
	head = st;
	return 0;
}

void debug_stat_unregister(struct debug_stat *st)
{
	for (struct debug_stat **pp = &head; *pp; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			return;
		}
}

int debug_stats_show(const char *name)
{
	int shown = 0;

	for (struct debug_stat *s = head; s; s = s->next)
		if (!name || !strcmp(name, s->name)) {
			pr_info("--- %s ---\n", s->name);
			s->show();
			shown++;
		}
	return shown || !name ? 0 : ERR(-ENOENT);
}
