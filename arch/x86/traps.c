/*
 * Exceptions and unexpected interrupts. An exception in the hypervisor is
 * a bug: dump everything useful over serial and halt that CPU, never let
 * it escalate into a triple fault.
 */
#include <x86/trap.h>
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/percpu.h>
#include <x86/exit_codes.h>
#include <x86/extable.h>
#include "hv/arch.h"
#include "hv/ksyms.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/smp.h"

static trap_handler_t handlers[256];

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization exception",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security exception", "reserved 31",
};

void trap_register(unsigned int vector, trap_handler_t fn)
{
	if (vector < 256)
		handlers[vector] = fn;
}

void trap_dump(const struct trap_frame *tf)
{
	uint64_t off = 0;
	const char *sym = ksym_lookup(tf->rip, &off);

	pr_err("exception %lu (%s), error code 0x%lx\n", tf->vector,
	       tf->vector < 32 ? exc_names[tf->vector] : "interrupt", tf->error_code);
	pr_err("RIP %04lx:%016lx %s+0x%lx  RFLAGS %016lx\n", tf->cs, tf->rip,
	       sym ? sym : "?", off, tf->rflags);
	pr_err("RSP %04lx:%016lx  CR2 %016lx  CR3 %016lx\n", tf->ss, tf->rsp,
	       read_cr2(), read_cr3());
	pr_err("RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n",
	       tf->rax, tf->rbx, tf->rcx, tf->rdx);
	pr_err("RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n",
	       tf->rsi, tf->rdi, tf->rbp, tf->r8);
	pr_err("R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n",
	       tf->r9, tf->r10, tf->r11, tf->r12);
	pr_err("R13 %016lx R14 %016lx R15 %016lx\n", tf->r13, tf->r14, tf->r15);
}

void trap_entry(struct trap_frame *tf);
void trap_entry(struct trap_frame *tf)
{
	struct percpu *pc = this_cpu();
	unsigned int vec = (unsigned int)tf->vector;

	if (handlers[vec] && handlers[vec](tf))
		return;

	if (vec == VEC_GP || vec == VEC_UD) {
		uint64_t fixup = extable_lookup(tf->rip);

		if (fixup) {            /* a fault the code expects and handles */
			tf->rip = fixup;
			return;
		}
	}

	if (vec == VEC_NMI && panic_in_progress())
		panic_stop_this_cpu();  /* stopped by the panicking CPU */

	if (vec >= VEC_FIRST_IRQ) {
		pr_warn("unexpected interrupt vector %u ignored\n", vec);
		/* A local APIC interrupt left without EOI would block every
		 * vector of lower priority from then on. */
		apic_eoi();
		return;
	}

	/* A fault while reporting a fault: say so in as few steps as possible. */
	if (pc && ++pc->trap_depth > 1) {
		pr_err("nested exception %u at RIP %lx while handling another; halting\n",
		       vec, tf->rip);
		arch_exit(HV_EXIT_EXCEPTION);
	}
	trap_dump(tf);
	arch_backtrace(tf->rbp);
	pr_err("CPU %u halted after an exception in the hypervisor\n",
	       smp_processor_id());
	arch_exit(HV_EXIT_EXCEPTION);
}
