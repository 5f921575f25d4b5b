/*
 * Instructions the hypervisor completes for a child VM because no exit
 * says enough about them: MMIO accesses and string port I/O (hv/emulate.c,
 * docs/emulation.md).
 */
#ifndef HV_EMULATE_H
#define HV_EMULATE_H

#include "hv/vm.h"

/* A nested page fault at a guest-physical address with no region: the
 * local APIC or IOAPIC page here, anything else through the root. */
enum exit_action emulate_mmio(struct vcpu *v, const struct vm_exit_info *e);
/* The root answered an MMIO read: complete the instruction; true when
 * that produced another record for the root (the write of a
 * read-modify-write), so the run returns at once. */
bool emulate_mmio_complete(struct vcpu *v);
/* INS/OUTS (with or without REP): one element per exit to the root. */
enum exit_action emulate_string_io(struct vcpu *v, const struct vm_exit_info *e);
void emulate_string_step(struct vcpu *v, bool in);
/* The root answered an INS element: store it, step. */
void emulate_ins_complete(struct vcpu *v);

#endif
