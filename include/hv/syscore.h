/* Suspend/resume hooks (register_syscore_ops' analogue). There is no ACPI
 * sleep here: the debug console's `suspend` / `resume` drive them. */
#ifndef HV_SYSCORE_H
#define HV_SYSCORE_H

struct syscore_ops {
	int (*suspend)(void);
	void (*resume)(void);
	struct syscore_ops *next;
};

int syscore_register(struct syscore_ops *ops);
void syscore_unregister(struct syscore_ops *ops);
/* Suspend every registered user (last registered first); on a failure,
 * resume those already suspended and return the error. */
int syscore_suspend(void);
void syscore_resume(void);

#endif
