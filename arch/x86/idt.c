/* The IDT, shared by every CPU (SDM Vol. 3A, 6.14.1). */
#include <x86/desc.h>
#include <x86/trap.h>

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __packed;
BUILD_BUG_ON(sizeof(struct idt_gate) != 16);

extern const char isr_stubs[];
static struct idt_gate idt[256] __aligned(16);

static unsigned int gate_ist(unsigned int vec)
{
	switch (vec) {
	case VEC_DF: return IST_DOUBLE_FAULT;
	case VEC_NMI: return IST_NMI;
	case VEC_MC: return IST_MCE;
	default: return 0;
	}
}

void idt_init(void)
{
	for (unsigned int v = 0; v < 256; v++) {
		uint64_t off = (uint64_t)(isr_stubs + 16 * v);

		idt[v] = (struct idt_gate){
			.off_lo = off & 0xffff,
			.sel = GDT_KCODE,
			.ist = gate_ist(v),
			.type = 0x8e,           /* present, DPL0, interrupt gate */
			.off_mid = (off >> 16) & 0xffff,
			.off_hi = off >> 32,
		};
	}
}

void idt_load(void)
{
	struct desc_ptr ptr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ __volatile__("lidt %0" :: "m"(ptr));
}
