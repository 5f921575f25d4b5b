/* Suspend/resume hook registry (hv/syscore.h). */
#include "hv/syscore.h"
#include "hv/errno.h"
#include "hv/types.h"

static struct syscore_ops *head;        /* most recently registered first */

int syscore_register(struct syscore_ops *ops)
{
	for (struct syscore_ops *o = head; o; o = o->next)
		if (o == ops)
			return ERR(-EEXIST);
	ops->next = head;
	head = ops;
	return 0;
}

void syscore_unregister(struct syscore_ops *ops)
{
	for (struct syscore_ops **pp = &head; *pp; pp = &(*pp)->next)
		if (*pp == ops) {
			*pp = ops->next;
			return;
		}
}

int syscore_suspend(void)
{
	for (struct syscore_ops *o = head; o; o = o->next) {
		int r = o->suspend ? o->suspend() : 0;

		if (r) {
			for (struct syscore_ops *u = head; u != o; u = u->next)
				if (u->resume)
					u->resume();
			return r;
		}
	}
	return 0;
}

/* Resume in the reverse order of suspend. */
static void resume_from(struct syscore_ops *o)
{
	if (!o)
		return;
	resume_from(o->next);
	if (o->resume)
		o->resume();
}

void syscore_resume(void)
{
	resume_from(head);
}
