/*
 * Virtual local APIC (SDM Vol. 3A ch. 10). One register core
 * (reg_read/reg_write) behind the xAPIC MMIO page and the x2APIC MSRs;
 * the registers live in the page at their xAPIC offsets. IRR/ISR/TMR are
 * 256-bit maps spread over eight 32-bit registers 16 bytes apart, searched
 * from the top. The timer is one expiry in guest TSC ticks: count_expiry
 * for one-shot/periodic, tsc_deadline for TSC-deadline mode; at most one
 * is set, because every mode change disarms both. docs/interrupts.md.
 */
#include <x86/vlapic.h>
#include "hv/compiler.h"
#include "hv/errno.h"
#include "hv/string.h"

#define REG_BYTES       0x10    /* every register sits in a 16-byte slot */
#define SVR_BITS        0x3ffu  /* vector, APIC enable (8), focus check (9) */
#define TPR_BITS        0xffu
#define ID_XAPIC_BITS   0xff000000u
#define LDR_XAPIC_BITS  0xff000000u
#define DFR_MODEL_BITS  0xf0000000u
#define DFR_FLAT        0xfu
#define DFR_CLUSTER     0x0u
#define TDCR_BITS       0xbu    /* divide value in bits 3, 1, 0 */
#define SELF_IPI_BITS   0xffu
/* Vector, delivery mode, destination mode, level, trigger mode, shorthand:
 * delivery status (12) reads 0 in xAPIC mode and is reserved in x2APIC. */
#define ICR_LO_BITS     0x000ccfffu
#define ICR_XAPIC_DEST  0xff000000u

/* LVT entry bits (SDM Figure 10-8). */
#define LVT_VECTOR      0x000ffu
#define LVT_DM          0x00700u
#define LVT_STATUS      (1u << 12)      /* delivery status, read-only */
#define LVT_POLARITY    (1u << 13)
#define LVT_REMOTE_IRR  (1u << 14)      /* read-only, LINT0/1 */
#define LVT_LEVEL       (1u << 15)

static const uint16_t lvt_regs[] = {
	VLAPIC_LVT_CMCI, VLAPIC_LVT_TIMER, VLAPIC_LVT_THERM, VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0, VLAPIC_LVT_LINT1, VLAPIC_LVT_ERROR,
};

static uint32_t reg_get(const struct vlapic *l, uint32_t off)
{
	return READ_ONCE(l->regs[off / 4]);
}

static void reg_set(struct vlapic *l, uint32_t off, uint32_t val)
{
	WRITE_ONCE(l->regs[off / 4], val);
}

/* ---------------------------------------------------------- vector maps */

static uint32_t *vec_word(const struct vlapic *l, uint32_t map, unsigned int vec)
{
	return &l->regs[(map + (vec / 32) * REG_BYTES) / 4];
}

static void vec_set(const struct vlapic *l, uint32_t map, unsigned int vec)
{
	__atomic_fetch_or(vec_word(l, map, vec), 1u << (vec % 32), __ATOMIC_RELEASE);
}

static void vec_clear(const struct vlapic *l, uint32_t map, unsigned int vec)
{
	__atomic_fetch_and(vec_word(l, map, vec), ~(1u << (vec % 32)), __ATOMIC_RELEASE);
}

static bool vec_test(const struct vlapic *l, uint32_t map, unsigned int vec)
{
	return __atomic_load_n(vec_word(l, map, vec), __ATOMIC_ACQUIRE) & (1u << (vec % 32));
}

static int vec_highest(const struct vlapic *l, uint32_t map)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = __atomic_load_n(vec_word(l, map, i * 32), __ATOMIC_ACQUIRE);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* ---------------------------------------------------------- state */

bool vlapic_x2apic_mode(const struct vlapic *l)
{
	uint64_t b = READ_ONCE(l->apic_base);

	return (b & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) == (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

bool vlapic_mmio_enabled(const struct vlapic *l)
{
	return (l->apic_base & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) == VLAPIC_BASE_EN;
}

uint64_t vlapic_mmio_base(const struct vlapic *l)
{
	return l->apic_base & VLAPIC_BASE_ADDR;
}

bool vlapic_sw_enabled(const struct vlapic *l)
{
	return reg_get(l, VLAPIC_SVR) & VLAPIC_SVR_ENABLE;
}

uint8_t vlapic_get_tpr(const struct vlapic *l)
{
	return reg_get(l, VLAPIC_TPR) & TPR_BITS;
}

void vlapic_set_tpr(struct vlapic *l, uint8_t tpr)
{
	reg_set(l, VLAPIC_TPR, tpr);
}

/* SDM 10.12.10.2: the x2APIC logical ID is derived from the x2APIC ID. */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* The reset values of SDM 10.4.7.1, with `id_reg` in the ID register. */
static void reset_regs(struct vlapic *l, uint32_t id_reg)
{
	memset(l->regs, 0, PAGE_SIZE);
	reg_set(l, VLAPIC_ID, id_reg);
	reg_set(l, VLAPIC_VERSION, VLAPIC_VERSION_VALUE);
	reg_set(l, VLAPIC_DFR, 0xffffffffu);
	reg_set(l, VLAPIC_SVR, 0xff);
	for (size_t i = 0; i < ARRAY_SIZE(lvt_regs); i++)
		reg_set(l, lvt_regs[i], VLAPIC_LVT_MASKED);
	/* SDM 10.12.5.1: INIT in x2APIC mode keeps the x2APIC ID and LDR. */
	if (vlapic_x2apic_mode(l))
		reg_set(l, VLAPIC_LDR, x2apic_ldr(l->id));
	l->tsc_deadline = 0;
	l->count_expiry = 0;
	__atomic_store_n(&l->esr_pending, 0, __ATOMIC_RELAXED);
}

void vlapic_init(struct vlapic *l, uint32_t *regs_page, uint32_t apic_id, bool bsp,
		 const struct vlapic_ops *ops, void *owner)
{
	l->regs = regs_page;
	l->ops = ops;
	l->owner = owner;
	l->id = apic_id;
	vlapic_reset(l, bsp);
}

void vlapic_reset(struct vlapic *l, bool bsp)
{
	WRITE_ONCE(l->apic_base, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0));
	reset_regs(l, l->id << 24);
}

void vlapic_init_signal(struct vlapic *l)
{
	reset_regs(l, reg_get(l, VLAPIC_ID));
}

/* ---------------------------------------------------------- interrupts */

/*
 * SDM 10.5.3: record an error for the next ESR write to latch, and signal
 * it through the LVT error entry. An error vector of 0-15 would only
 * report itself again, so it raises nothing.
 */
static void raise_error(struct vlapic *l, uint32_t esr_bit)
{
	uint32_t lvt = reg_get(l, VLAPIC_LVT_ERROR);

	__atomic_fetch_or(&l->esr_pending, esr_bit, __ATOMIC_RELAXED);
	if (!(lvt & VLAPIC_LVT_MASKED) && (lvt & LVT_VECTOR) >= 16)
		vlapic_accept(l, lvt & LVT_VECTOR, false);
}

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level)
{
	/* SDM 10.4.3, 10.4.7.2: a hardware- or software-disabled APIC takes
	 * no fixed or lowest-priority interrupt. */
	if (!(READ_ONCE(l->apic_base) & VLAPIC_BASE_EN) || !vlapic_sw_enabled(l))
		return false;
	/* SDM 10.5.2: vectors 0-15 are illegal. */
	if (vector < 16) {
		raise_error(l, VLAPIC_ESR_RECV_ILLEGAL);
		return false;
	}
	/* TMR first: whoever sees the IRR bit sees the trigger mode too. */
	if (level)
		vec_set(l, VLAPIC_TMR, vector);
	else
		vec_clear(l, VLAPIC_TMR, vector);
	vec_set(l, VLAPIC_IRR, vector);
	return true;
}

/* SDM 10.8.3.1: PPR is TPR, or the in-service class when that is higher. */
static uint32_t ppr(const struct vlapic *l)
{
	uint32_t tpr = vlapic_get_tpr(l);
	int isrv = vec_highest(l, VLAPIC_ISR);

	if (isrv < 0 || (tpr & 0xf0) >= ((uint32_t)isrv & 0xf0))
		return tpr;
	return (uint32_t)isrv & 0xf0;
}

int vlapic_highest_irr(const struct vlapic *l)
{
	return vec_highest(l, VLAPIC_IRR);
}

int vlapic_pending_vector(const struct vlapic *l)
{
	int v = vec_highest(l, VLAPIC_IRR);

	/* SDM 10.8.3.1: only a class above the processor priority is delivered. */
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	vec_clear(l, VLAPIC_IRR, vector);
	vec_set(l, VLAPIC_ISR, vector);
}

/* SDM 10.8.5: EOI retires the highest in-service vector; a level-triggered
 * one (TMR set) is broadcast to the IOAPIC. No ISR bit: ignored. */
static void eoi(struct vlapic *l)
{
	int v = vec_highest(l, VLAPIC_ISR);

	if (v < 0)
		return;
	vec_clear(l, VLAPIC_ISR, v);
	if (vec_test(l, VLAPIC_TMR, v))
		l->ops->eoi_level(l, (uint8_t)v);
}

/* SDM 10.5.2/10.5.3: a fixed or lowest-priority message with a vector of
 * 0-15 is not sent; ESR records it. */
static bool send_illegal(struct vlapic *l, uint32_t icr_lo)
{
	uint32_t dm = (icr_lo >> VLAPIC_ICR_DM_SHIFT) & 7;

	if ((dm != VLAPIC_DM_FIXED && dm != VLAPIC_DM_LOWPRI) || (icr_lo & 0xff) >= 16)
		return false;
	raise_error(l, VLAPIC_ESR_SEND_ILLEGAL);
	return true;
}

/* ---------------------------------------------------------- timer */

static uint32_t timer_mode(const struct vlapic *l)
{
	return reg_get(l, VLAPIC_LVT_TIMER) & VLAPIC_TIMER_MODE;
}

/* SDM Figure 10-10: bits 3,1,0 = 000 ÷2, 001 ÷4 ... 110 ÷128, 111 ÷1. */
static uint64_t timer_divisor(const struct vlapic *l)
{
	uint32_t dcr = reg_get(l, VLAPIC_TDCR);
	uint32_t v = ((dcr >> 1) & 4) | (dcr & 3);

	return v == 7 ? 1 : 2u << v;
}

/* The count starts at `count` now; it reaches 0 count × divisor TSC ticks
 * later. 0 stops the timer (SDM 10.5.4), as does a mode that does not count
 * (TSC-deadline, the reserved mode 3). */
static void timer_load(struct vlapic *l, uint64_t now, uint32_t count)
{
	uint32_t mode = timer_mode(l);

	if (count && (mode == VLAPIC_TIMER_ONESHOT || mode == VLAPIC_TIMER_PERIODIC))
		l->count_expiry = now + count * timer_divisor(l);
	else
		l->count_expiry = 0;
}

/* Current count: initial - elapsed / divisor, i.e. the rest of the ticks to
 * expiry rounded up to whole counts; a periodic timer whose reloads have not
 * been checked yet goes on in its current period. */
static uint32_t timer_current(const struct vlapic *l, uint64_t now)
{
	uint64_t div = timer_divisor(l), left;

	if (!l->count_expiry)
		return 0;
	if (now < l->count_expiry) {
		left = l->count_expiry - now;
	} else if (timer_mode(l) == VLAPIC_TIMER_PERIODIC) {
		uint64_t period = reg_get(l, VLAPIC_TMICT) * div;

		left = period - (now - l->count_expiry) % period;
	} else {
		return 0;
	}
	return (uint32_t)((left + div - 1) / div);
}

/* SDM 10.5.4.1: changing the timer mode disarms the timer. */
static void timer_disarm(struct vlapic *l)
{
	l->tsc_deadline = 0;
	l->count_expiry = 0;
	reg_set(l, VLAPIC_TMICT, 0);
}

/* The timer is edge-triggered with a fixed vector (SDM 10.5.1). */
static void timer_fire(struct vlapic *l)
{
	uint32_t lvt = reg_get(l, VLAPIC_LVT_TIMER);

	if (!(lvt & VLAPIC_LVT_MASKED))
		vlapic_accept(l, lvt & LVT_VECTOR, false);
}

uint64_t vlapic_next_event(const struct vlapic *l)
{
	return l->tsc_deadline ? l->tsc_deadline : l->count_expiry;
}

void vlapic_timer_check(struct vlapic *l, uint64_t now)
{
	if (l->tsc_deadline && now >= l->tsc_deadline) {
		l->tsc_deadline = 0;
		timer_fire(l);
	}
	if (l->count_expiry && now >= l->count_expiry) {
		timer_fire(l);
		if (timer_mode(l) == VLAPIC_TIMER_PERIODIC) {
			uint64_t period = reg_get(l, VLAPIC_TMICT) * timer_divisor(l);

			/* Skip the missed periods: IRR holds one interrupt anyway. */
			l->count_expiry += ((now - l->count_expiry) / period + 1) * period;
		} else {
			l->count_expiry = 0;
		}
	}
}

/* ---------------------------------------------------------- register core */

/* SDM 10.12.1.3: in x2APIC mode a write that sets a reserved bit raises
 * #GP; the xAPIC ignores such bits. */
static bool reserved_set(const struct vlapic *l, uint64_t val, uint32_t defined)
{
	return vlapic_x2apic_mode(l) && (val & ~(uint64_t)defined);
}

/*
 * The register at `off` as the current mode reads it. false: nothing to
 * read (reserved, write-only, or absent in this mode: SDM Table 10-6).
 */
static bool reg_read(struct vlapic *l, uint32_t off, uint32_t *val)
{
	switch (off) {
	case VLAPIC_APR:
	case VLAPIC_DFR:
	case VLAPIC_ICR_HI:
		if (vlapic_x2apic_mode(l))
			return false;
		/* fall through */
	case VLAPIC_ID:
	case VLAPIC_VERSION:
	case VLAPIC_TPR:
	case VLAPIC_LDR:
	case VLAPIC_SVR:
	case VLAPIC_ISR ... VLAPIC_IRR + 7 * REG_BYTES:
	case VLAPIC_ESR:
	case VLAPIC_LVT_CMCI:
	case VLAPIC_ICR_LO:
	case VLAPIC_LVT_TIMER ... VLAPIC_LVT_ERROR:
	case VLAPIC_TMICT:
	case VLAPIC_TDCR:
		*val = reg_get(l, off);
		return true;
	case VLAPIC_PPR:
		*val = ppr(l);
		return true;
	case VLAPIC_TMCCT:
		*val = timer_current(l, l->ops->now(l));
		return true;
	default:
		return false;
	}
}

static uint32_t lvt_writable(uint32_t off)
{
	switch (off) {
	case VLAPIC_LVT_TIMER:
		return LVT_VECTOR | VLAPIC_LVT_MASKED | VLAPIC_TIMER_MODE;
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
		return LVT_VECTOR | LVT_DM | LVT_POLARITY | LVT_LEVEL | VLAPIC_LVT_MASKED;
	case VLAPIC_LVT_ERROR:
		return LVT_VECTOR | VLAPIC_LVT_MASKED;
	default:        /* CMCI, thermal, performance counters */
		return LVT_VECTOR | LVT_DM | VLAPIC_LVT_MASKED;
	}
}

static int write_lvt(struct vlapic *l, uint32_t off, uint64_t val)
{
	uint32_t writable = lvt_writable(off), old = reg_get(l, off), v;
	uint32_t read_only = LVT_STATUS |
		(off == VLAPIC_LVT_LINT0 || off == VLAPIC_LVT_LINT1 ? LVT_REMOTE_IRR : 0);

	if (reserved_set(l, val, writable | read_only))
		return ERR(-EINVAL);
	v = (uint32_t)val & writable;
	/* SDM 10.4.7.2: while software-disabled the mask bits stay set. */
	if (!vlapic_sw_enabled(l))
		v |= VLAPIC_LVT_MASKED;
	reg_set(l, off, v);
	if (off == VLAPIC_LVT_TIMER && ((old ^ v) & VLAPIC_TIMER_MODE))
		timer_disarm(l);
	return 0;
}

static int write_svr(struct vlapic *l, uint64_t val)
{
	if (reserved_set(l, val, SVR_BITS))
		return ERR(-EINVAL);
	reg_set(l, VLAPIC_SVR, (uint32_t)val & SVR_BITS);
	/* SDM 10.4.7.2: software disable sets every LVT mask bit. */
	if (!(val & VLAPIC_SVR_ENABLE))
		for (size_t i = 0; i < ARRAY_SIZE(lvt_regs); i++)
			reg_set(l, lvt_regs[i], reg_get(l, lvt_regs[i]) | VLAPIC_LVT_MASKED);
	return 0;
}

/* xAPIC: `val` is ICR_LO, the destination is in ICR_HI. x2APIC: one 64-bit
 * ICR, destination in bits 63:32 (SDM 10.12.9). */
static int write_icr(struct vlapic *l, uint64_t val)
{
	uint32_t lo = (uint32_t)val & ICR_LO_BITS, dest;

	if (reserved_set(l, (uint32_t)val, ICR_LO_BITS))
		return ERR(-EINVAL);
	reg_set(l, VLAPIC_ICR_LO, lo);
	if (vlapic_x2apic_mode(l)) {
		dest = (uint32_t)(val >> 32);
		reg_set(l, VLAPIC_ICR_HI, dest);
	} else {
		dest = reg_get(l, VLAPIC_ICR_HI) >> 24;
	}
	if (!send_illegal(l, lo))
		l->ops->send_ipi(l, lo, dest);
	return 0;
}

static void write_tdcr(struct vlapic *l, uint32_t val)
{
	uint64_t now = l->ops->now(l);
	bool running = l->count_expiry && now < l->count_expiry;
	uint32_t left = timer_current(l, now);

	reg_set(l, VLAPIC_TDCR, val & TDCR_BITS);
	/* The SDM leaves a divide change mid-count open: the remaining count
	 * goes on at the new rate (as KVM does). An expiry that is already
	 * due is left for the next timer check. */
	if (running)
		timer_load(l, now, left);
}

/*
 * Write the register at `off` in the current mode. -EINVAL: not writable
 * in this mode (read-only, reserved), or a value x2APIC mode rejects. The
 * xAPIC view ignores the error; the x2APIC view turns it into #GP.
 * Bits 63:32 can be set only for the x2APIC ICR (the caller checks).
 */
static int reg_write(struct vlapic *l, uint32_t off, uint64_t val)
{
	bool x2 = vlapic_x2apic_mode(l);

	switch (off) {
	case VLAPIC_ID:         /* read-only in x2APIC mode (SDM 10.12.5.1) */
		if (x2)
			return ERR(-EINVAL);
		reg_set(l, off, (uint32_t)val & ID_XAPIC_BITS);
		return 0;
	case VLAPIC_TPR:
		if (reserved_set(l, val, TPR_BITS))
			return ERR(-EINVAL);
		reg_set(l, off, (uint32_t)val & TPR_BITS);
		return 0;
	case VLAPIC_EOI:        /* SDM 10.12.1.2: non-zero x2APIC EOI: #GP */
		if (x2 && val)
			return ERR(-EINVAL);
		eoi(l);
		return 0;
	case VLAPIC_LDR:        /* x2APIC: read-only, derived from the ID */
		if (x2)
			return ERR(-EINVAL);
		reg_set(l, off, (uint32_t)val & LDR_XAPIC_BITS);
		return 0;
	case VLAPIC_DFR:        /* xAPIC only; bits 27:0 read as ones */
		if (x2)
			return ERR(-EINVAL);
		reg_set(l, off, ((uint32_t)val & DFR_MODEL_BITS) | ~DFR_MODEL_BITS);
		return 0;
	case VLAPIC_SVR:
		return write_svr(l, val);
	case VLAPIC_ESR:
		/* SDM 10.5.3: a write latches the errors since the last write
		 * into the readable register. x2APIC: only 0 may be written. */
		if (x2 && val)
			return ERR(-EINVAL);
		reg_set(l, off, __atomic_exchange_n(&l->esr_pending, 0, __ATOMIC_RELAXED));
		return 0;
	case VLAPIC_LVT_CMCI:
	case VLAPIC_LVT_TIMER ... VLAPIC_LVT_ERROR:
		return write_lvt(l, off, val);
	case VLAPIC_ICR_LO:
		return write_icr(l, val);
	case VLAPIC_ICR_HI:     /* x2APIC: part of the 64-bit ICR */
		if (x2)
			return ERR(-EINVAL);
		reg_set(l, off, (uint32_t)val & ICR_XAPIC_DEST);
		return 0;
	case VLAPIC_TMICT:
		/* SDM 10.5.4.1: ignored in TSC-deadline mode. */
		if (timer_mode(l) != VLAPIC_TIMER_DEADLINE) {
			reg_set(l, off, (uint32_t)val);
			timer_load(l, l->ops->now(l), (uint32_t)val);
		}
		return 0;
	case VLAPIC_TDCR:
		if (reserved_set(l, val, TDCR_BITS))
			return ERR(-EINVAL);
		write_tdcr(l, (uint32_t)val);
		return 0;
	case VLAPIC_SELF_IPI:   /* x2APIC only (SDM 10.12.11): fixed, edge, to itself */
		if (!x2 || reserved_set(l, val, SELF_IPI_BITS))
			return ERR(-EINVAL);
		if (!send_illegal(l, (uint32_t)val))
			vlapic_accept(l, (uint8_t)val, false);
		return 0;
	default:
		return ERR(-EINVAL);
	}
}

/* ---------------------------------------------------------- xAPIC MMIO */

int vlapic_mmio_read(struct vlapic *l, uint32_t off, unsigned int size, uint64_t *val)
{
	uint32_t reg = 0, byte = off % REG_BYTES;

	*val = 0;
	if (off >= PAGE_SIZE || (size != 1 && size != 2 && size != 4 && size != 8))
		return 0;
	/* Only bytes 0-3 of a slot hold a register; the rest read 0. */
	if (byte >= 4 || !reg_read(l, off - byte, &reg))
		return 0;
	*val = reg >> (byte * 8);
	if (size < 8)
		*val &= (1ULL << (size * 8)) - 1;
	return 0;
}

int vlapic_mmio_write(struct vlapic *l, uint32_t off, unsigned int size, uint64_t val)
{
	/* SDM 10.4.1: registers are written with aligned 32-bit stores; other
	 * writes, and writes to read-only registers, have no effect. */
	if (off < PAGE_SIZE && size == 4 && off % REG_BYTES == 0)
		(void)reg_write(l, off, (uint32_t)val);
	return 0;
}

/* ---------------------------------------------------------- MSRs */

/*
 * SDM 10.12.5: the valid states are disabled (EN=0, EXTD=0), xAPIC (1, 0)
 * and x2APIC (1, 1); x2APIC mode is entered from xAPIC mode only and left
 * through the disabled state only.
 */
static int write_apic_base(struct vlapic *l, uint64_t val)
{
	bool was_en = l->apic_base & VLAPIC_BASE_EN, was_x2 = vlapic_x2apic_mode(l);
	bool en = val & VLAPIC_BASE_EN, x2 = val & VLAPIC_BASE_EXTD;

	if (val & ~(VLAPIC_BASE_ADDR | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD | VLAPIC_BASE_BSP))
		return ERR(-EINVAL);
	if ((x2 && !en) || (was_x2 && en && !x2) || (!was_en && x2))
		return ERR(-EINVAL);
	WRITE_ONCE(l->apic_base, val);
	if (was_en && !en) {
		/* SDM 10.4.3: hardware disable leaves the power-on state. */
		reset_regs(l, l->id << 24);
	} else if (!was_x2 && x2) {
		/* SDM 10.12.5.1: the x2APIC ID and logical ID are set. */
		reg_set(l, VLAPIC_ID, l->id);
		reg_set(l, VLAPIC_LDR, x2apic_ldr(l->id));
	}
	return 0;
}

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val)
{
	uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) * REG_BYTES, reg;

	switch (msr) {
	case VLAPIC_MSR_APIC_BASE:
		*val = l->apic_base;
		return 0;
	case VLAPIC_MSR_TSC_DEADLINE:   /* SDM 10.5.4.1: 0 outside TSC-deadline mode */
		*val = timer_mode(l) == VLAPIC_TIMER_DEADLINE ? l->tsc_deadline : 0;
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
		return -ENOENT;
	if (!vlapic_x2apic_mode(l) || !reg_read(l, off, &reg))
		return ERR(-EINVAL);
	*val = reg;
	if (off == VLAPIC_ICR_LO)
		*val |= (uint64_t)reg_get(l, VLAPIC_ICR_HI) << 32;
	return 0;
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val)
{
	uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) * REG_BYTES;

	switch (msr) {
	case VLAPIC_MSR_APIC_BASE:
		return write_apic_base(l, val);
	case VLAPIC_MSR_TSC_DEADLINE:   /* 0 disarms; ignored in other modes */
		if (timer_mode(l) == VLAPIC_TIMER_DEADLINE)
			l->tsc_deadline = val;
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
		return -ENOENT;
	/* SDM 10.12.1.2: bits 63:32 are reserved in all but the ICR. */
	if (!vlapic_x2apic_mode(l) || (off != VLAPIC_ICR_LO && val >> 32))
		return ERR(-EINVAL);
	return reg_write(l, off, val);
}

/* ---------------------------------------------------------- routing */

bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical)
{
	uint32_t ldr = reg_get(l, VLAPIC_LDR);

	if (vlapic_x2apic_mode(l)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == l->id;
		/* SDM 10.12.10.2: cluster in bits 31:16, a bit per APIC in 15:0. */
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	if (dest == 0xff)
		return true;
	if (dest > 0xff)
		return false;
	if (!logical)
		return dest == reg_get(l, VLAPIC_ID) >> 24;
	/* SDM 10.6.2.2: the message destination address against LDR[31:24]. */
	ldr >>= 24;
	switch (reg_get(l, VLAPIC_DFR) >> 28) {
	case DFR_FLAT:
		return dest & ldr;
	case DFR_CLUSTER:
		return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
	default:        /* other models are undefined */
		return false;
	}
}
