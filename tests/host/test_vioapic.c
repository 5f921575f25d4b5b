/* The virtual IOAPIC: indirect registers, read-only bits, edge and level
 * delivery with remote IRR, EOI (broadcast and register), bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hv/errno.h"
#include <x86/vioapic.h>

struct msg {
	uint32_t dest;
	bool logical;
	uint8_t mode;
	uint8_t vector;
	bool level;
};

static struct {
	struct vioapic io;
	int sent;
	struct msg last;
	bool accept;            /* what the local APICs answer */
} f;

static bool fake_deliver(void *ctx, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
			 bool level)
{
	assert_ptr_equal(ctx, &f);
	f.sent++;
	f.last = (struct msg){ dest, logical, mode, vector, level };
	return f.accept;
}

static const struct vioapic_ops ops = { fake_deliver };

static int setup(void **state)
{
	memset(&f, 0, sizeof(f));
	f.accept = true;
	vioapic_init(&f.io, 2, &ops, &f);
	return 0;
}

static uint32_t rd(uint32_t index)
{
	uint64_t v = ~0ULL;

	assert_int_equal(vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 4, index), 0);
	assert_int_equal(vioapic_mmio_read(&f.io, VIOAPIC_IOWIN, 4, &v), 0);
	return (uint32_t)v;
}

static void wr(uint32_t index, uint32_t val)
{
	assert_int_equal(vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 4, index), 0);
	assert_int_equal(vioapic_mmio_write(&f.io, VIOAPIC_IOWIN, 4, val), 0);
}

static uint32_t lo(unsigned int pin)
{
	return rd(VIOAPIC_REG_REDIR + 2 * pin);
}

/* Program pin's entry: destination in the high half first, then the low. */
static void program(unsigned int pin, uint8_t dest, uint32_t low)
{
	wr(VIOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)dest << 24);
	wr(VIOAPIC_REG_REDIR + 2 * pin, low);
}

#define LEVEL    ((uint32_t)VIOAPIC_RTE_LEVEL)
#define MASKED   ((uint32_t)VIOAPIC_RTE_MASKED)
#define RIRR     ((uint32_t)VIOAPIC_RTE_REMOTE_IRR)

static void id_version_arbitration(void **state)
{
	uint64_t v;

	assert_int_equal(rd(VIOAPIC_REG_ID), 2u << 24);
	assert_int_equal(rd(VIOAPIC_REG_VERSION), 0x00170020);
	assert_int_equal(rd(VIOAPIC_REG_ARB), 2u << 24);
	wr(VIOAPIC_REG_ID, 0xffffffff);                 /* bits 27:24 only */
	assert_int_equal(rd(VIOAPIC_REG_ID), 0x0f000000);
	assert_int_equal(f.io.id, 0xf);
	assert_int_equal(rd(VIOAPIC_REG_ARB), 0x0f000000);
	wr(VIOAPIC_REG_VERSION, 0);                     /* read-only */
	wr(VIOAPIC_REG_ARB, 0);
	assert_int_equal(rd(VIOAPIC_REG_VERSION), 0x00170020);
	assert_int_equal(rd(VIOAPIC_REG_ARB), 0x0f000000);
	/* Reserved indexes read 0 and ignore writes. */
	wr(0x03, 0x1234);
	assert_int_equal(rd(0x03), 0);
	assert_int_equal(rd(0x0f), 0);
	assert_int_equal(rd(0x40), 0);                  /* past entry 23 */
	assert_int_equal(rd(0xff), 0);
	/* IOREGSEL: bits 7:0. */
	vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 4, 0x1ff);
	vioapic_mmio_read(&f.io, VIOAPIC_IOREGSEL, 4, &v);
	assert_int_equal(v, 0xff);
}

static void redirection_entries(void **state)
{
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
		assert_int_equal(lo(pin), MASKED);      /* masked, edge, fixed */
		assert_int_equal(rd(VIOAPIC_REG_REDIR + 2 * pin + 1), 0);
	}
	/* Reserved bits read 0; delivery status and remote IRR are not
	 * writable. */
	wr(VIOAPIC_REG_REDIR + 2 * 5, 0xffffffff);
	assert_int_equal(lo(5), 0x1afff);
	wr(VIOAPIC_REG_REDIR + 2 * 5 + 1, 0xffffffff);
	assert_int_equal(rd(VIOAPIC_REG_REDIR + 2 * 5 + 1), 0xff000000);
	assert_int_equal(f.io.redir[5], 0xff0000000001afffULL);
	/* The halves are independent. */
	wr(VIOAPIC_REG_REDIR + 2 * 5, 0x10031);
	assert_int_equal(f.io.redir[5], 0xff00000000010031ULL);
	assert_int_equal(f.sent, 0);
}

static void read_only_bits_keep_their_values(void **state)
{
	program(3, 1, LEVEL | 0x40);
	vioapic_set_irq(&f.io, 3, true);
	assert_int_equal(lo(3), RIRR | LEVEL | 0x40);
	/* Writing 0 to remote IRR does not clear it; delivery status stays 0. */
	wr(VIOAPIC_REG_REDIR + 2 * 3, LEVEL | (uint32_t)VIOAPIC_RTE_STATUS | 0x41);
	assert_int_equal(lo(3), RIRR | LEVEL | 0x41);
	assert_int_equal(f.sent, 1);
	/* Switching to edge drops remote IRR: it means nothing there. */
	wr(VIOAPIC_REG_REDIR + 2 * 3, 0x41);
	assert_int_equal(lo(3), 0x41);
}

static void edge_delivery(void **state)
{
	/* vector 0x31, lowest priority, logical, destination 0x0f */
	program(1, 0x0f, (1u << VIOAPIC_RTE_DM_SHIFT) | (uint32_t)VIOAPIC_RTE_LOGICAL | 0x31);
	assert_int_equal(vioapic_set_irq(&f.io, 1, true), 0);
	assert_int_equal(f.sent, 1);
	assert_int_equal(f.last.dest, 0x0f);
	assert_true(f.last.logical);
	assert_int_equal(f.last.mode, 1);
	assert_int_equal(f.last.vector, 0x31);
	assert_false(f.last.level);
	assert_int_equal(lo(1) & RIRR, 0);
	/* Staying high is no new edge; a falling edge sends nothing. */
	vioapic_set_irq(&f.io, 1, true);
	vioapic_set_irq(&f.io, 1, false);
	assert_int_equal(f.sent, 1);
	vioapic_set_irq(&f.io, 1, true);
	assert_int_equal(f.sent, 2);
	/* An edge nobody takes is gone too. */
	f.accept = false;
	vioapic_set_irq(&f.io, 1, false);
	vioapic_set_irq(&f.io, 1, true);
	assert_int_equal(f.sent, 3);
	assert_int_equal(lo(1) & RIRR, 0);
	/* NMI: the mode reaches the router. */
	program(2, 0, (4u << VIOAPIC_RTE_DM_SHIFT));
	vioapic_set_irq(&f.io, 2, true);
	assert_int_equal(f.last.mode, 4);
	assert_false(f.last.logical);
}

static void masked_edge_is_lost(void **state)
{
	program(4, 0, MASKED | 0x34);
	vioapic_set_irq(&f.io, 4, true);
	assert_int_equal(f.sent, 0);
	/* Unmasking while the line is high does not bring the edge back. */
	program(4, 0, 0x34);
	assert_int_equal(f.sent, 0);
	vioapic_set_irq(&f.io, 4, false);
	vioapic_set_irq(&f.io, 4, true);
	assert_int_equal(f.sent, 1);
	assert_int_equal(f.last.vector, 0x34);
}

static void level_delivery_with_remote_irr(void **state)
{
	program(9, 3, LEVEL | 0x59);
	vioapic_set_irq(&f.io, 9, true);
	assert_int_equal(f.sent, 1);
	assert_true(f.last.level);
	assert_int_equal(f.last.dest, 3);
	assert_int_equal(lo(9), RIRR | LEVEL | 0x59);
	/* Asserted again before the EOI: held back by remote IRR. */
	vioapic_set_irq(&f.io, 9, true);
	assert_int_equal(f.sent, 1);
	/* Another vector's EOI changes nothing. */
	vioapic_eoi(&f.io, 0x58);
	assert_int_equal(lo(9), RIRR | LEVEL | 0x59);
	/* The device is serviced and drops the line, then the EOI. */
	vioapic_set_irq(&f.io, 9, false);
	vioapic_eoi(&f.io, 0x59);
	assert_int_equal(lo(9), LEVEL | 0x59);
	assert_int_equal(f.sent, 1);
	/* A level message nobody accepts sets no remote IRR, and the next
	 * assertion tries again. */
	f.accept = false;
	vioapic_set_irq(&f.io, 9, true);
	assert_int_equal(f.sent, 2);
	assert_int_equal(lo(9) & RIRR, 0);
	f.accept = true;
	vioapic_set_irq(&f.io, 9, true);
	assert_int_equal(f.sent, 3);
	assert_int_equal(lo(9) & RIRR, RIRR);
}

static void eoi_redelivers_while_asserted(void **state)
{
	program(10, 0, LEVEL | 0x60);
	program(11, 1, LEVEL | 0x60);                   /* a shared vector */
	vioapic_set_irq(&f.io, 10, true);
	vioapic_set_irq(&f.io, 11, true);
	assert_int_equal(f.sent, 2);
	vioapic_set_irq(&f.io, 11, false);
	/* One EOI for the vector: pin 10 is still asserted and goes again,
	 * pin 11 is just cleared. */
	vioapic_eoi(&f.io, 0x60);
	assert_int_equal(f.sent, 3);
	assert_int_equal(f.last.dest, 0);
	assert_int_equal(lo(10), RIRR | LEVEL | 0x60);
	assert_int_equal(lo(11), LEVEL | 0x60);
	vioapic_set_irq(&f.io, 10, false);
	vioapic_eoi(&f.io, 0x60);
	assert_int_equal(f.sent, 3);
	assert_int_equal(lo(10), LEVEL | 0x60);
}

static void unmask_while_asserted(void **state)
{
	program(12, 2, MASKED | LEVEL | 0x70);
	vioapic_set_irq(&f.io, 12, true);
	assert_int_equal(f.sent, 0);
	assert_int_equal(lo(12), MASKED | LEVEL | 0x70);
	wr(VIOAPIC_REG_REDIR + 2 * 12, LEVEL | 0x70);
	assert_int_equal(f.sent, 1);
	assert_int_equal(f.last.vector, 0x70);
	assert_int_equal(lo(12), RIRR | LEVEL | 0x70);
	/* Masked with remote IRR set, then EOI while masked: nothing is sent
	 * until the unmask. */
	wr(VIOAPIC_REG_REDIR + 2 * 12, MASKED | LEVEL | 0x70);
	vioapic_eoi(&f.io, 0x70);
	assert_int_equal(f.sent, 1);
	wr(VIOAPIC_REG_REDIR + 2 * 12, LEVEL | 0x70);
	assert_int_equal(f.sent, 2);
	/* Unmasked with the line low: nothing. */
	vioapic_set_irq(&f.io, 12, false);
	vioapic_eoi(&f.io, 0x70);
	wr(VIOAPIC_REG_REDIR + 2 * 12, MASKED | LEVEL | 0x70);
	wr(VIOAPIC_REG_REDIR + 2 * 12, LEVEL | 0x70);
	assert_int_equal(f.sent, 2);
}

static void bad_pin(void **state)
{
	assert_int_equal(vioapic_set_irq(&f.io, VIOAPIC_PINS, true), -EINVAL);
	assert_int_equal(vioapic_set_irq(&f.io, 1000, true), -EINVAL);
	assert_int_equal(f.io.line, 0);
	assert_int_equal(vioapic_set_irq(&f.io, VIOAPIC_PINS - 1, true), 0);
	assert_int_equal(f.io.line, 1u << (VIOAPIC_PINS - 1));
	assert_int_equal(f.sent, 0);                    /* masked */
}

static void eoi_register(void **state)
{
	uint64_t v = ~0ULL;

	program(7, 0, LEVEL | 0x77);
	vioapic_set_irq(&f.io, 7, true);
	vioapic_set_irq(&f.io, 7, false);
	assert_int_equal(lo(7) & RIRR, RIRR);
	vioapic_mmio_write(&f.io, VIOAPIC_EOIR, 4, 0x76);
	assert_int_equal(lo(7) & RIRR, RIRR);
	vioapic_mmio_write(&f.io, VIOAPIC_EOIR, 4, 0xffffff77);   /* bits 7:0 */
	assert_int_equal(lo(7) & RIRR, 0);
	/* Write-only. */
	assert_int_equal(vioapic_mmio_read(&f.io, VIOAPIC_EOIR, 4, &v), 0);
	assert_int_equal(v, 0);
}

static void odd_accesses(void **state)
{
	uint64_t v = ~0ULL;

	/* Only aligned 32-bit accesses at 0x00, 0x10 and 0x40 do anything. */
	vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_VERSION);
	vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 1, VIOAPIC_REG_ID);
	vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 8, VIOAPIC_REG_ID);
	vioapic_mmio_write(&f.io, 0x04, 4, VIOAPIC_REG_ID);
	vioapic_mmio_read(&f.io, VIOAPIC_IOWIN, 4, &v);
	assert_int_equal(v, 0x00170020);
	vioapic_mmio_read(&f.io, VIOAPIC_IOWIN, 1, &v);
	assert_int_equal(v, 0);
	vioapic_mmio_read(&f.io, VIOAPIC_IOWIN, 8, &v);
	assert_int_equal(v, 0);
	vioapic_mmio_read(&f.io, 0x20, 4, &v);
	assert_int_equal(v, 0);
	vioapic_mmio_read(&f.io, 0x14, 4, &v);
	assert_int_equal(v, 0);
	/* A byte-wide IOWIN write changes nothing. */
	vioapic_mmio_write(&f.io, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_ID);
	vioapic_mmio_write(&f.io, VIOAPIC_IOWIN, 1, 0x0f000000);
	assert_int_equal(rd(VIOAPIC_REG_ID), 2u << 24);
}

static void low_vectors_pass_through(void **state)
{
	/* The local APIC rejects vectors 0-15, not the IOAPIC. */
	program(0, 0, 0x05);
	vioapic_set_irq(&f.io, 0, true);
	assert_int_equal(f.sent, 1);
	assert_int_equal(f.last.vector, 0x05);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(id_version_arbitration, setup),
		cmocka_unit_test_setup(redirection_entries, setup),
		cmocka_unit_test_setup(read_only_bits_keep_their_values, setup),
		cmocka_unit_test_setup(edge_delivery, setup),
		cmocka_unit_test_setup(masked_edge_is_lost, setup),
		cmocka_unit_test_setup(level_delivery_with_remote_irr, setup),
		cmocka_unit_test_setup(eoi_redelivers_while_asserted, setup),
		cmocka_unit_test_setup(unmask_while_asserted, setup),
		cmocka_unit_test_setup(bad_pin, setup),
		cmocka_unit_test_setup(eoi_register, setup),
		cmocka_unit_test_setup(odd_accesses, setup),
		cmocka_unit_test_setup(low_vectors_pass_through, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
