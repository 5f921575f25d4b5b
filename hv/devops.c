/* Device type registry (hv/devops.h). */
#include "hv/devops.h"
#include "hv/errno.h"

static struct dev_ops *head;

int devops_register(struct dev_ops *ops)
{
	if (devops_find(ops->type))
		return ERR(-EEXIST);
	ops->next = head;
	head = ops;
	return 0;
}

void devops_unregister(struct dev_ops *ops)
{
	for (struct dev_ops **pp = &head; *pp; pp = &(*pp)->next)
		if (*pp == ops) {
			*pp = ops->next;
			return;
		}
}

const struct dev_ops *devops_find(uint32_t type)
{
	for (struct dev_ops *o = head; o; o = o->next)
		if (o->type == type)
			return o;
	return NULL;
}
