/* Segment descriptors, the TSS and the IDT (Intel SDM Vol. 3A, 3.4.5 / 7.7 / 6.14). */
#ifndef X86_DESC_H
#define X86_DESC_H

#include "hv/types.h"
#include "hv/compiler.h"

#define GDT_KCODE   0x08
#define GDT_KDATA   0x10
#define GDT_TSS     0x18
#define GDT_ENTRIES 5       /* null, code, data, TSS (two slots) */

/* IST slots (1-based in the IDT gate): separate stacks for the exceptions
 * that can arrive on a broken stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MCE          3
#define IST_COUNT        3
#define IST_STACK_SIZE   4096

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;
BUILD_BUG_ON(sizeof(struct tss) != 104);

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

void gdt_load(uint64_t *gdt, struct tss *tss);
void idt_init(void);
void idt_load(void);

#endif
