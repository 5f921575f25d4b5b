/* Notifier chains. */
#include "hv/notifier.h"
#include "hv/errno.h"

struct notifier_chain panic_notifiers = NOTIFIER_CHAIN_INIT;
struct notifier_chain reboot_notifiers = NOTIFIER_CHAIN_INIT;

int notifier_register(struct notifier_chain *c, struct notifier_block *nb)
{
	struct notifier_block **pp;

	spin_lock(&c->lock);
	for (pp = &c->head; *pp; pp = &(*pp)->next)
		if (*pp == nb) {
			spin_unlock(&c->lock);
			return ERR(-EEXIST);
		}
	for (pp = &c->head; *pp && (*pp)->priority >= nb->priority; pp = &(*pp)->next)
		;
	nb->next = *pp;
	*pp = nb;
	spin_unlock(&c->lock);
	return 0;
}

int notifier_unregister(struct notifier_chain *c, struct notifier_block *nb)
{
	struct notifier_block **pp;

	spin_lock(&c->lock);
	for (pp = &c->head; *pp; pp = &(*pp)->next)
		if (*pp == nb) {
			*pp = nb->next;
			nb->next = NULL;
			spin_unlock(&c->lock);
			return 0;
		}
	spin_unlock(&c->lock);
	return ERR(-ENOENT);
}

int notifier_call_chain(struct notifier_chain *c, unsigned long action, void *data)
{
	for (struct notifier_block *nb = c->head; nb; nb = nb->next) {
		int r = nb->call(nb, action, data);

		if (r)
			return r;
	}
	return 0;
}
