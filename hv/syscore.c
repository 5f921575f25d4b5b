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

/* Resume [o, stop) in the reverse order of their suspend. */
static void resume_range(struct syscore_ops *o, struct syscore_ops *stop)
{
	if (o == stop)
		return;
	resume_range(o->next, stop);
	if (o->resume)
		o->resume();
}

int syscore_suspend(void)
{
	for (struct syscore_ops *o = head; o; o = o->next) {
		int r = o->suspend ? o->suspend() : 0;

		if (r) {
			resume_range(head, o);
			return r;
		}
	}
	return 0;
}

void syscore_resume(void)
{
	resume_range(head, NULL);
}
