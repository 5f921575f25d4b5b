/* Masking interrupts on the calling CPU (no-ops in the host test build). */
#ifndef HV_IRQFLAGS_H
#define HV_IRQFLAGS_H

#ifdef HV_HOST
static inline unsigned long local_irq_save(void) { return 0; }
static inline void local_irq_restore(unsigned long flags) { (void)flags; }
#else
static inline unsigned long local_irq_save(void)
{
	unsigned long flags;

	__asm__ __volatile__("pushfq; popq %0; cli" : "=r"(flags) :: "memory");
	return flags;
}

static inline void local_irq_restore(unsigned long flags)
{
	if (flags & (1UL << 9))         /* RFLAGS.IF */
		__asm__ __volatile__("sti" ::: "memory");
}
#endif

#endif
