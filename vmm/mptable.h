/*
 * Intel MultiProcessor Specification 1.4 tables for a child VM: how Linux
 * (booted with acpi=off) finds the vCPUs, the IOAPIC and the ISA IRQ
 * routing. The shape is kvmtool's x86/mptable.c.
 */
#ifndef VMM_MPTABLE_H
#define VMM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Where to put it: Linux's smp_scan_config() looks at the first KiB of
 * memory, the last KiB below 640 KiB, the BIOS area 0xf0000-0xfffff and the
 * EBDA. 0xf0000 lies in the range the e820 map reserves (linux_e820).
 */
#define MPTABLE_ADDR     0xf0000u
#define MPTABLE_MAX_CPUS 254            /* 8-bit APIC IDs, 0xff is broadcast, the IOAPIC takes one */
#define MPTABLE_LAPIC    0xfee00000u
#define MPTABLE_IOAPIC   0xfec00000u    /* the usual ioapic_addr */

/*
 * Write the MP floating pointer at guest-physical addr (16-byte aligned)
 * and the configuration table right after it: one processor per vCPU (APIC
 * ID = index, CPU 0 the bootstrap processor), an ISA bus, one IOAPIC (ID
 * ncpus, at ioapic_addr), the ISA IRQs on IOAPIC pins (IRQ 0 on pin 2, the
 * others on their own number; IRQ 2, the cascade, has none), and LINT0 as
 * ExtINT and LINT1 as NMI on every local APIC.
 * Returns the number of bytes written, or -EINVAL (ncpus outside
 * 1..MPTABLE_MAX_CPUS, addr unaligned) or -ENOMEM (does not fit in RAM),
 * with a message in err.
 */
int mptable_write(uint8_t *ram, uint64_t ram_size, uint64_t addr, unsigned int ncpus,
		  uint32_t ioapic_addr, char *err, size_t errlen);

#endif
