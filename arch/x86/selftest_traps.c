/*
 * Self-tests that fault on purpose: each must end in an exception report on
 * serial and a halt (exit status HV_EXIT_EXCEPTION), never a triple fault.
 */
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/selftest.h"

SELFTEST(fault_ud)
{
	__asm__ __volatile__("ud2");
	return -EIO;
}

SELFTEST(fault_null)
{
	return *(volatile int *)0;
}

/* W^X: the text is mapped read-execute, so this write must fault. */
SELFTEST(fault_write_text)
{
	extern char __image_start[];

	*(volatile char *)(__image_start + 0x100) = 0;
	return -EIO;
}

/* Overflow the boot stack into its guard page: the #PF cannot be delivered
 * on the same stack, so the CPU raises #DF, which has its own IST stack. */
static int __attribute__((noinline)) recurse(volatile char *p, unsigned long depth)
{
	volatile char buf[512];

	buf[0] = *p;
	if (!depth)             /* 1 M frames of 512 bytes: far past any stack */
		return -EIO;
	return recurse(buf, depth - 1) + buf[1];
}

SELFTEST(fault_stack_overflow)
{
	char c = 0;

	return recurse(&c, 1UL << 20);
}
