/*
 * What root_irq.c and its child payloads share: child_irq.c, a command
 * loop (each vCPU waits for a command, does it with the arguments in its
 * mailbox, leaves the results there), and child_irqsmp.c, which runs on
 * its own once started: vCPU 0 starts the others with INIT-SIPI-SIPI and
 * they exchange IPIs. Included by both sides; freestanding.
 */
#ifndef CHILD_IRQ_H
#define CHILD_IRQ_H

#include <stdint.h>

/* Vectors the children use. */
#define CI_VEC_TIMER    0x40    /* the local APIC timer (handler: TSC stamps, EOI) */
#define CI_VEC_IPI      0x50    /* IPIs of the HLT and bad-input tests */
#define CI_VEC_SELF     0x51    /* views: xAPIC self IPI */
#define CI_VEC_SELF2    0x52    /* views: xAPIC ICR to its own ID */
#define CI_VEC_SELF3    0x53    /* views: x2APIC SELF IPI MSR */
#define CI_VEC_IO_A     0x61    /* IOAPIC: edge to vCPU 1 */
#define CI_VEC_IO_B     0x62    /* IOAPIC: edge to vCPU 0 */
#define CI_VEC_IO_LVL   0x63    /* IOAPIC: level to vCPU 0 (no EOI in the handler) */
#define CI_VEC_IO_MASK  0x64    /* IOAPIC: masked edge */
#define CI_VEC_IO_MLVL  0x65    /* IOAPIC: masked level (no EOI in the handler) */
#define CI_VEC_IO_LOG   0x66    /* IOAPIC: logical destination, both vCPUs */
#define CI_VEC_HC       0x70    /* HC_INTERRUPT */
#define CI_VEC_WAKE     0x71    /* HC_INTERRUPT of the HV_RUN_NO_BLOCK test */

/* IOAPIC redirection entry and ICR bits, for the root (which has no apic.h). */
#define CI_RTE_LOGICAL          (1u << 11)
#define CI_RTE_REMOTE_IRR       (1u << 14)
#define CI_RTE_LEVEL            (1u << 15)
#define CI_RTE_MASKED           (1u << 16)
#define CI_ICR_SELF             (1u << 18)

enum ci_cmd {
	CI_NOP,
	CI_SETUP,               /* arg0 TSC kHz, arg1 1: x2APIC and SVR 0x1ff, 0: leave the APIC
				 * as it is -> res0 IA32_APIC_BASE, res1 CPUID 1 ECX, res2 EDX */
	CI_CPUID,               /* res1 CPUID 1 ECX, res2 EDX (any VM: touches no APIC) */
	CI_ONESHOT,             /* arg0 TDCR, arg1 initial count, arg2 ticks to wait after the
				 * first interrupt -> res0 interrupts, res1 TSC before the TMICT
				 * write, res2 TSC at the first interrupt, res3 TMCCT after,
				 * u.cc[8] TMCCT read right after the write */
	CI_PERIODIC,            /* arg0 TDCR, arg1 initial count, arg2 window in ticks, arg3 ticks
				 * to watch after TMICT=0 -> res0 interrupts before the stop, res1
				 * TSC before the TMICT write, res2 TSC at the stop, res3
				 * interrupts after it, res4 TMCCT after it; u.ts[] */
	CI_MASK,                /* arg0 initial count (periodic, divide 1), arg1 periods per phase
				 * -> res0 interrupts before masking, res1 while masked, res2 after
				 * unmasking, res3 1 if TMCCT moved while masked */
	CI_DEADLINE,            /* arg0 ticks ahead, arg1 ticks to watch after -> res0 the
				 * deadline, res1 TSC at the interrupt, res2 interrupts, res3 the
				 * MSR after, res4 the MSR while armed */
	CI_DEADLINE_PAST,       /* -> res0 interrupts, res1 PAUSE loops before it came */
	CI_DISARM,              /* arg0 ticks -> res0 interrupts after deadline then 0, res1 the
				 * MSR after; res2 interrupts after one-shot TMICT then 0, res3
				 * TMCCT after; res4 IA32_TSC_DEADLINE read in one-shot mode after
				 * a write, res5 interrupts from that write */
	CI_HLT_TIMER,           /* arg0 ticks (one-shot, divide 1) -> res0 interrupts, res1 of
				 * them in HLT, res2 ticks to the interrupt, res3 HLTs done */
	CI_HLT_CLI,             /* arg0 other vector: deadline in the past with IF=0, HLT (the
				 * root sees it); then STI -> res0 timer interrupts, res1 of arg0 */
	CI_HLT_STI,             /* arg0 vector: STI; HLT once, then wait 500 ms for arg0 ->
				 * res0 interrupts of arg0, res1 of them in HLT */
	CI_SEND_IPI,            /* arg0 ICR low, arg1 destination -> res0 ESR latched after */
	CI_WAIT,                /* arg0 vector, arg1 count, arg2 ms -> res0 interrupts of arg0 in
				 * all (also those counted by a no-EOI handler), res1 of arg3 */
	CI_LEVEL,               /* arg0 vector: its handler counts and does not EOI */
	CI_EOI,                 /* one EOI, then STI for arg0 ms -> res0 interrupts of arg1 */
	CI_IOAPIC,              /* arg0 pin, arg1 1: write arg2 (low), arg3 (high) -> res0 low,
				 * res1 high read back, res2 the version register */
	CI_IRR,                 /* -> res0 IRR (all 8 words ORed), res1 ISR, res2 ESR latched */
	CI_VIEWS,               /* the xAPIC/x2APIC comparison: u.views (enum ci_view) */
	CI_SPIN,                /* count in u.spin.count until u.spin.stop */
	CI_PAUSE_SPIN,          /* the same with PAUSE in the loop (a spin-wait) */
	CI_NMI_WAIT,            /* arg0 count, arg1 ms -> res0 NMIs taken by the IDT handler */
	CI_MMIO,                /* arg0 address: the MMIO sequence (root_irq.c) -> res0-res4 */
	CI_OUTS,                /* arg0 port: REP OUTSB of u.bytes[0..15] -> res0 RCX, res1 RSI
				 * moved by */
	CI_INS,                 /* arg0 port: REP INSB into u.bytes[32..47] -> res0 RCX, res1 RDI
				 * moved by */
	CI_BENCH,               /* arg0 enum ci_bench, arg1 iterations, arg2 ticks (HLT) -> res0
				 * ticks for all, res1 (HLT) sum of handler TSC - deadline */
	CI_EXIT,                /* arg0 status */
};

enum ci_bench { CB_CPUID, CB_EOI, CB_DEADLINE, CB_XAPIC_READ, CB_HLT_TIMER };

/* CI_VIEWS: what one vCPU read, in order. Vectors: -1 none, 13 #GP. */
enum ci_view {
	/* xAPIC, through the MMIO page */
	VW_X_ID, VW_X_VER, VW_X_SVR, VW_X_TPR, VW_X_PPR, VW_X_LDR, VW_X_DFR,
	VW_X_LVT_TIMER, VW_X_LVT_ERROR, VW_X_LVT_LINT0,
	VW_X_ESR_UNLATCHED, VW_X_ESR_LATCHED, VW_X_ESR_CLEARED,
	VW_X_SELF_IPI, VW_X_DEST_IPI, VW_X_MSR_GP, VW_BASE,
	/* the switch */
	VW_TO_X2,
	/* x2APIC, through the MSRs */
	VW_2_ID, VW_2_VER, VW_2_SVR, VW_2_TPR, VW_2_PPR, VW_2_LDR,
	VW_2_LVT_TIMER, VW_2_LVT_ERROR, VW_2_LVT_LINT0,
	VW_2_ESR_UNLATCHED, VW_2_ESR_LATCHED, VW_2_ESR_CLEARED, VW_2_ESR_NONZERO,
	VW_2_SELF_IPI,
	VW_2_GP_EOI_READ, VW_2_GP_EOI_NONZERO, VW_2_GP_ICR_HI, VW_2_GP_APR, VW_2_GP_DFR,
	VW_2_GP_ID_WRITE, VW_2_GP_TPR_RSVD, VW_2_GP_SELF_RSVD, VW_2_GP_VER_WRITE,
	VW_2_MMIO,                      /* a read of the xAPIC page's version register */
	/* IA32_APIC_BASE transitions */
	VW_T_TO_XAPIC, VW_T_EXTD_ONLY, VW_T_RSVD, VW_T_DISABLE, VW_T_DIS_MSR,
	VW_T_DIS_TO_X2, VW_T_DIS_TO_X, VW_T_X_SVR, VW_T_X_ID, VW_T_X_TO_X2, VW_T_X2_ID,
	VW_COUNT,
};

#define CI_MAX_TS       128
#define CI_TEXT         160

struct ci_mbox {
	uint64_t arg[8];
	int64_t res[8];
	char text[CI_TEXT];
	union {
		uint64_t ts[CI_MAX_TS];         /* TSC at each timer interrupt */
		uint32_t cc[8];
		int64_t views[VW_COUNT];
		uint8_t bytes[64];
		struct {
			volatile uint64_t count;
			volatile uint32_t stop;
		} spin;
	} u;
};
_Static_assert(sizeof(struct ci_mbox) <= 4096, "mailbox is one page");

/* ---------------------------------------------------------- child_irqsmp */

/* Vectors. */
#define CS_VEC_PHYS     0x40    /* fixed, physical, to one */
#define CS_VEC_OTHERS   0x41    /* shorthand all-but-self */
#define CS_VEC_LOGICAL  0x42    /* logical destination (x2APIC cluster 0) */
#define CS_VEC_ALL      0x43    /* shorthand all-including-self */
#define CS_VEC_BCAST    0x44    /* physical broadcast 0xffffffff */
#define CS_VEC_RING_GO  0x45    /* an AP's handler sends CS_VEC_RING on */
#define CS_VEC_RING     0x46    /* vCPU i to i + 1, the last to 0 */
#define CS_VEC_WAKE     0x47    /* the end */
#define CS_VEC_PING     0x48    /* bench: 0 -> 1 */
#define CS_VEC_PONG     0x49    /* bench: 1 -> 0 */

enum cs_mode { CS_TEST, CS_PINGPONG };
enum cs_test { CT_PHYS, CT_OTHERS, CT_LOGICAL, CT_ALL, CT_BCAST, CT_RING, CT_COUNT };

/* vCPU 0's mailbox: arg0 mode, arg1 TSC kHz, arg2 iterations (ping-pong). */
struct cs_mbox {
	uint64_t arg[8];
	uint32_t online;                /* vCPUs that reached main, a bit each */
	uint32_t ap_ok;                 /* APs that found themselves as expected */
	uint32_t logical_dest;          /* the destination of CT_LOGICAL */
	uint32_t exited;                /* APs that saw the end */
	uint64_t start_ticks;           /* first SIPI to the last AP online */
	uint64_t pingpong_ticks;        /* all round trips */
	uint32_t count[CT_COUNT][8];    /* interrupts of each test's vector, by vCPU */
	uint32_t hlt_wakes[8];          /* interrupts each vCPU took in HLT */
	uint32_t ap_info[8][4];         /* CPUID index, x2APIC ID, EFER, RSP page index */
	char text[CI_TEXT];
};
_Static_assert(sizeof(struct cs_mbox) <= 4096, "mailbox is one page");

#endif
