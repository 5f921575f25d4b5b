/*
 * MP tables (Intel MultiProcessor Specification 1.4, chapter 4): a 16-byte
 * floating pointer structure that the OS finds by scanning for "_MP_", and
 * the configuration table it points to: a 44-byte header followed by the
 * entries, sorted by type as the spec requires (processors, buses, IOAPICs,
 * I/O interrupts, local interrupts).
 */
#include "mptable.h"

#include "hv/errno.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#define P __attribute__((packed))

struct mpf {                            /* 4.1 MP Floating Pointer Structure */
	char signature[4];              /* "_MP_" */
	uint32_t physptr;               /* the configuration table */
	uint8_t length;                 /* in 16-byte units: 1 */
	uint8_t spec_rev;               /* 4: version 1.4 */
	uint8_t checksum;               /* all 16 bytes sum to 0 */
	uint8_t feature1;               /* 0: a configuration table is present */
	uint8_t feature2;               /* bit 7 0: no IMCR, virtual wire mode */
	uint8_t reserved[3];
} P;

struct mpc_header {                     /* 4.2 MP Configuration Table Header */
	char signature[4];              /* "PCMP" */
	uint16_t length;                /* header and base entries, in bytes */
	uint8_t spec_rev;
	uint8_t checksum;               /* header and entries sum to 0 */
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;                 /* base table entries */
	uint32_t lapic;                 /* local APIC address */
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} P;

struct mpc_cpu {                        /* 4.3.1 Processor Entries, type 0 */
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;                  /* bit 0 enabled, bit 1 bootstrap processor */
	uint32_t signature;             /* CPUID 1 EAX: stepping, model, family */
	uint32_t features;              /* CPUID 1 EDX */
	uint32_t reserved[2];
} P;

struct mpc_bus {                        /* 4.3.2 Bus Entries, type 1 */
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];               /* "ISA   " */
} P;

struct mpc_ioapic {                     /* 4.3.3 I/O APIC Entries, type 2 */
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;                  /* bit 0 enabled */
	uint32_t addr;
} P;

struct mpc_intsrc {                     /* 4.3.4/4.3.5 interrupt entries, types 3 and 4 */
	uint8_t type;
	uint8_t irq_type;               /* 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	uint16_t flags;                 /* polarity 1:0, trigger 3:2; 0 = conforming to the bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;               /* IOAPIC ID; for type 4 a LAPIC ID, 0xff all */
	uint8_t dst_pin;                /* IOAPIC INTIN#, or LINTIN# for type 4 */
} P;

_Static_assert(sizeof(struct mpf) == 16, "MP spec 4.1");
_Static_assert(sizeof(struct mpc_header) == 44, "MP spec 4.2");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP spec 4.3.1");
_Static_assert(sizeof(struct mpc_bus) == 8 && sizeof(struct mpc_ioapic) == 8 &&
	       sizeof(struct mpc_intsrc) == 8, "MP spec 4.3");

enum { MP_CPU, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define CPU_ENABLED     1
#define CPU_BSP         2
#define LAPIC_VERSION   0x14            /* an integrated (xAPIC) local APIC */
#define IOAPIC_VERSION  0x20
#define CPU_SIGNATURE   0x600           /* family 6 */
#define CPU_FEATURES    0x201           /* CPUID 1 EDX: FPU, APIC */
#define ISA_BUS         0
#define ISA_IRQS        16
#define ISA_ENTRIES     (ISA_IRQS - 1)  /* IRQ 2 has no entry */

static void copy_err(char *err, size_t errlen, const char *msg)
{
	size_t i = 0;

	if (!errlen)
		return;
	for (; msg[i] && i + 1 < errlen; i++)
		err[i] = msg[i];
	err[i] = 0;
}

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

static struct mpc_intsrc *intsrc(void *at, uint8_t type, uint8_t irq_type, uint8_t src_irq,
				 uint8_t dst_apic, uint8_t dst_pin)
{
	struct mpc_intsrc *e = at;

	*e = (struct mpc_intsrc){ type, irq_type, 0, ISA_BUS, src_irq, dst_apic, dst_pin };
	return e + 1;
}

int mptable_write(uint8_t *ram, uint64_t ram_size, uint64_t addr, unsigned int ncpus,
		  uint32_t ioapic_addr, char *err, size_t errlen)
{
	size_t size = sizeof(struct mpf) + sizeof(struct mpc_header) +
		      ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
		      sizeof(struct mpc_ioapic) + (ISA_ENTRIES + 2) * sizeof(struct mpc_intsrc);
	struct mpf *mpf;
	struct mpc_header *h;
	struct mpc_cpu *cpu;
	struct mpc_bus *bus;
	struct mpc_ioapic *io;
	struct mpc_intsrc *e;
	uint8_t ioapic_id = (uint8_t)ncpus;     /* the first ID after the CPUs' */

	if (!ncpus || ncpus > MPTABLE_MAX_CPUS) {
		copy_err(err, errlen, "MP table: the number of CPUs must be between 1 and 254");
		return -EINVAL;
	}
	if (addr & 15) {
		copy_err(err, errlen, "MP table: the floating pointer must be 16-byte aligned");
		return -EINVAL;
	}
	if (addr > ram_size || ram_size - addr < size) {
		copy_err(err, errlen, "MP table: does not fit below the end of the VM's memory");
		return -ENOMEM;
	}
	if (addr + size > 0x100000000ull) {     /* physptr is 32-bit */
		copy_err(err, errlen, "MP table: must lie below 4 GiB");
		return -EINVAL;
	}

	mpf = (struct mpf *)(ram + addr);
	h = (struct mpc_header *)(mpf + 1);
	cpu = (struct mpc_cpu *)(h + 1);
	memset(mpf, 0, size);
	for (unsigned int i = 0; i < ncpus; i++)
		cpu[i] = (struct mpc_cpu){
			.type = MP_CPU, .apic_id = (uint8_t)i, .apic_ver = LAPIC_VERSION,
			.flags = CPU_ENABLED | (i == 0 ? CPU_BSP : 0),
			.signature = CPU_SIGNATURE, .features = CPU_FEATURES,
		};

	bus = (struct mpc_bus *)(cpu + ncpus);
	*bus = (struct mpc_bus){ MP_BUS, ISA_BUS, { 'I', 'S', 'A', ' ', ' ', ' ' } };

	io = (struct mpc_ioapic *)(bus + 1);
	*io = (struct mpc_ioapic){ MP_IOAPIC, ioapic_id, IOAPIC_VERSION, 1, ioapic_addr };

	/*
	 * ISA IRQs as on a PC (and SeaBIOS's table for QEMU): the PIT's IRQ 0
	 * is wired to pin 2, where the 8259 cascade (IRQ 2) would sit, so
	 * IRQ 2 gets no entry and every other IRQ n goes to pin n. Conforming
	 * polarity and trigger mean ISA's: active high, edge.
	 */
	e = (struct mpc_intsrc *)(io + 1);
	for (uint8_t irq = 0; irq < ISA_IRQS; irq++)
		if (irq != 2)
			e = intsrc(e, MP_INTSRC, MP_INT, irq, ioapic_id, irq ? irq : 2);

	/* Virtual wire mode: 8259 output on LINT0 (ExtINT), NMI on LINT1, every LAPIC. */
	e = intsrc(e, MP_LINTSRC, MP_EXTINT, 0, 0xff, 0);
	e = intsrc(e, MP_LINTSRC, MP_NMI, 0, 0xff, 1);

	*h = (struct mpc_header){
		.signature = { 'P', 'C', 'M', 'P' },
		.length = (uint16_t)((uint8_t *)e - (uint8_t *)h),
		.spec_rev = 4,
		.oem = { 'H', 'V', ' ', ' ', ' ', ' ', ' ', ' ' },
		.product = { 'V', 'M', 'M', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ' },
		.count = (uint16_t)(ncpus + 2 + ISA_ENTRIES + 2),
		.lapic = MPTABLE_LAPIC,
	};
	h->checksum = checksum(h, h->length);

	*mpf = (struct mpf){
		.signature = { '_', 'M', 'P', '_' },
		.physptr = (uint32_t)(addr + sizeof(*mpf)),
		.length = 1,
		.spec_rev = 4,
	};
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return (int)size;
}
