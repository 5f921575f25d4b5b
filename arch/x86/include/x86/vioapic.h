/*
 * Virtual IOAPIC: one per VM, a pure model of the 82093AA with the EOI
 * register of the later chipset IOAPICs (version 0x20, Intel ICH/PCH
 * datasheets). The VMM's devices drive its input pins; its messages go to
 * the local APICs through ops->deliver. docs/interrupts.md.
 */
#ifndef X86_VIOAPIC_H
#define X86_VIOAPIC_H

#include "hv/types.h"

#define VIOAPIC_PINS         24
#define VIOAPIC_DEFAULT_BASE 0xfec00000ULL
#define VIOAPIC_SIZE         0x1000

/* MMIO offsets. */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN    0x10
#define VIOAPIC_EOIR     0x40   /* write-only */

/* Indirect registers (through IOREGSEL/IOWIN). */
#define VIOAPIC_REG_ID      0x00
#define VIOAPIC_REG_VERSION 0x01
#define VIOAPIC_REG_ARB     0x02
#define VIOAPIC_REG_REDIR   0x10        /* entry n: low 0x10 + 2n, high 0x11 + 2n */
#define VIOAPIC_VERSION_VALUE 0x00170020u /* 24 entries (max index 0x17), version 0x20 */

/* Redirection entry bits (82093AA datasheet, IOREDTBL). */
#define VIOAPIC_RTE_VECTOR   0xffULL
#define VIOAPIC_RTE_DM_SHIFT 8          /* delivery mode, bits 10:8 */
#define VIOAPIC_RTE_LOGICAL  (1ULL << 11)
#define VIOAPIC_RTE_STATUS   (1ULL << 12)  /* delivery status, read-only */
#define VIOAPIC_RTE_POLARITY (1ULL << 13)  /* 1: active low */
#define VIOAPIC_RTE_REMOTE_IRR (1ULL << 14) /* read-only */
#define VIOAPIC_RTE_LEVEL    (1ULL << 15)
#define VIOAPIC_RTE_MASKED   (1ULL << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

struct vioapic_ops {
	/*
	 * A message from a redirection entry: dest: bits 63:56 of the entry;
	 * logical: destination mode; mode: delivery mode (0 fixed, 1 lowest
	 * priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT); level: trigger mode.
	 * true when at least one local APIC accepted it.
	 */
	bool (*deliver)(void *ctx, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
			bool level);
};

struct vioapic {
	uint32_t id;                    /* 4-bit IOAPIC ID */
	uint32_t ioregsel;
	uint64_t redir[VIOAPIC_PINS];
	uint32_t line;                  /* current level of each input pin (1: asserted) */
	const struct vioapic_ops *ops;
	void *ctx;
};

/*
 * The caller serialises every call on one vioapic with its own lock;
 * deliver() is called with that lock held and must not call back into the
 * vioapic.
 */

/* Reset: every entry masked, edge, fixed; every line low. */
void vioapic_init(struct vioapic *io, uint32_t id, const struct vioapic_ops *ops, void *ctx);
/*
 * MMIO at `off` in the IOAPIC's page. IOREGSEL (0x00), IOWIN (0x10) and
 * the write-only EOI register (0x40) are taken as aligned 32-bit accesses,
 * the only width the datasheets define; any other access reads 0 and
 * writes nothing. Always 0: MMIO never faults.
 */
int vioapic_mmio_read(struct vioapic *io, uint32_t off, unsigned int size, uint64_t *val);
int vioapic_mmio_write(struct vioapic *io, uint32_t off, unsigned int size, uint64_t val);
/*
 * Drive input `pin` (level true: asserted). -EINVAL for pin >= 24.
 * Edge: deliver on a rising edge when unmasked (an edge while masked is
 * lost, as on the 82093AA). Level: while asserted, unmasked and remote IRR
 * clear: deliver, and set remote IRR if accepted.
 */
int vioapic_set_irq(struct vioapic *io, unsigned int pin, bool level);
/* EOI broadcast (from a local APIC) and the EOI register: clear remote IRR
 * of level entries with this vector; re-deliver those still asserted. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

#endif
