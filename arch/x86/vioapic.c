/*
 * Virtual IOAPIC (82093AA datasheet; EOI register as in the version-0x20
 * IOAPICs of Intel's ICH/PCH). 24 redirection entries kept as the 64-bit
 * values the guest reads; one function, service(), sends an entry's message.
 * docs/interrupts.md.
 */
#include <x86/vioapic.h>
#include "hv/errno.h"

#define RTE_DM          (7ULL << VIOAPIC_RTE_DM_SHIFT)
#define RTE_DEST        (0xffULL << VIOAPIC_RTE_DEST_SHIFT)
/* What a guest write may change: delivery status and remote IRR are
 * read-only, bits 55:17 reserved (they read 0). */
#define RTE_WRITABLE    (VIOAPIC_RTE_VECTOR | RTE_DM | VIOAPIC_RTE_LOGICAL | \
			 VIOAPIC_RTE_POLARITY | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED | RTE_DEST)
#define ID_SHIFT        24      /* ID and arbitration ID: bits 27:24 */
#define ID_MASK         0xfu

void vioapic_init(struct vioapic *io, uint32_t id, const struct vioapic_ops *ops, void *ctx)
{
	io->id = id & ID_MASK;
	io->ioregsel = 0;
	io->line = 0;
	io->ops = ops;
	io->ctx = ctx;
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++)
		io->redir[pin] = VIOAPIC_RTE_MASKED;
}

/*
 * Send the entry's message if it may go: not masked, and for a level entry
 * no earlier message still waiting for its EOI (remote IRR). Delivery is
 * immediate, so delivery status always reads 0. A level message that some
 * local APIC accepted sets remote IRR until the EOI.
 */
static void service(struct vioapic *io, unsigned int pin)
{
	uint64_t e = io->redir[pin];
	bool level = e & VIOAPIC_RTE_LEVEL;

	if ((e & VIOAPIC_RTE_MASKED) || (level && (e & VIOAPIC_RTE_REMOTE_IRR)))
		return;
	if (io->ops->deliver(io->ctx, (uint32_t)(e >> VIOAPIC_RTE_DEST_SHIFT),
			     e & VIOAPIC_RTE_LOGICAL, (e & RTE_DM) >> VIOAPIC_RTE_DM_SHIFT,
			     e & VIOAPIC_RTE_VECTOR, level) && level)
		io->redir[pin] |= VIOAPIC_RTE_REMOTE_IRR;
}

static bool line_high(const struct vioapic *io, unsigned int pin)
{
	return io->line & (1u << pin);
}

int vioapic_set_irq(struct vioapic *io, unsigned int pin, bool level)
{
	bool was_high;

	if (pin >= VIOAPIC_PINS)
		return ERR(-EINVAL);
	was_high = line_high(io, pin);
	if (level)
		io->line |= 1u << pin;
	else
		io->line &= ~(1u << pin);
	/* Edge: a rising edge only (lost while masked). Level: every time
	 * the line is seen asserted; service() holds it back while masked or
	 * while remote IRR is set. */
	if (level && (!was_high || (io->redir[pin] & VIOAPIC_RTE_LEVEL)))
		service(io, pin);
	return 0;
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];

		if (!(e & VIOAPIC_RTE_REMOTE_IRR) || (e & VIOAPIC_RTE_VECTOR) != vector)
			continue;
		io->redir[pin] = e & ~VIOAPIC_RTE_REMOTE_IRR;
		/* Still asserted: the device wants service again. */
		if (line_high(io, pin))
			service(io, pin);
	}
}

static uint32_t read_reg(const struct vioapic *io, uint32_t index)
{
	switch (index) {
	case VIOAPIC_REG_ID:
	case VIOAPIC_REG_ARB:   /* the arbitration ID is loaded from the ID */
		return io->id << ID_SHIFT;
	case VIOAPIC_REG_VERSION:
		return VIOAPIC_VERSION_VALUE;
	}
	if (index >= VIOAPIC_REG_REDIR && index < VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS) {
		uint64_t e = io->redir[(index - VIOAPIC_REG_REDIR) / 2];

		return index & 1 ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;               /* reserved registers */
}

static void write_redir(struct vioapic *io, unsigned int pin, bool high, uint32_t val)
{
	uint64_t half = high ? 0xffffffff00000000ULL : 0xffffffffULL;
	uint64_t e = io->redir[pin];

	e = (e & ~(half & RTE_WRITABLE)) | (((uint64_t)val << (high ? 32 : 0)) & RTE_WRITABLE);
	/* Remote IRR means nothing for an edge entry: a switch to edge
	 * clears it, so a later switch back does not start out blocked. */
	if (!(e & VIOAPIC_RTE_LEVEL))
		e &= ~VIOAPIC_RTE_REMOTE_IRR;
	io->redir[pin] = e;
	/* A level entry unmasked (or retargeted) while its line is asserted
	 * delivers now; an edge that came while masked is gone. */
	if ((e & VIOAPIC_RTE_LEVEL) && line_high(io, pin))
		service(io, pin);
}

static void write_reg(struct vioapic *io, uint32_t index, uint32_t val)
{
	if (index == VIOAPIC_REG_ID)
		io->id = (val >> ID_SHIFT) & ID_MASK;
	else if (index >= VIOAPIC_REG_REDIR && index < VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
		write_redir(io, (index - VIOAPIC_REG_REDIR) / 2, index & 1, val);
	/* version, arbitration and reserved registers are read-only */
}

int vioapic_mmio_read(struct vioapic *io, uint32_t off, unsigned int size, uint64_t *val)
{
	*val = 0;
	if (size != 4)
		return 0;
	if (off == VIOAPIC_IOREGSEL)
		*val = io->ioregsel;
	else if (off == VIOAPIC_IOWIN)
		*val = read_reg(io, io->ioregsel);
	return 0;
}

int vioapic_mmio_write(struct vioapic *io, uint32_t off, unsigned int size, uint64_t val)
{
	if (size != 4)
		return 0;
	if (off == VIOAPIC_IOREGSEL)
		io->ioregsel = val & 0xff;      /* bits 7:0 select the register */
	else if (off == VIOAPIC_IOWIN)
		write_reg(io, io->ioregsel, (uint32_t)val);
	else if (off == VIOAPIC_EOIR)
		vioapic_eoi(io, val & 0xff);    /* bits 7:0: the vector */
	return 0;
}
