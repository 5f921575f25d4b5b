/*
 * Host stand-ins for the kernel-only pieces the hypercall layer calls: the
 * root partition's CPU bookkeeping, the run loop that enters a guest, and
 * the machine reset. Tests that need them to do something set the hooks.
 */
#include "hv/cpuid.h"
#include "hv/console.h"
#include "hv/debugcon.h"
#include "hv/reboot.h"
#include "hv/root.h"
#include "hv/string.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include <stdlib.h>
#include <x86/fpu.h>
#include <x86/guest.h>
#include <x86/tsc.h>
#include "host_guest_stubs.h"

int (*host_run_child_hook)(struct vcpu *v);
char host_console_out[4096];
size_t host_console_len;
int host_debugcon_bytes;
bool host_root_busy[NR_CPUS];
int host_resets;

bool root_cpu_busy(unsigned int cpu)
{
	return cpu < NR_CPUS && host_root_busy[cpu];
}

int64_t root_start_vcpu(unsigned int cpu, struct vcpu *caller, uint64_t rip,
			uint64_t rsp, uint64_t rdi)
{
	host_root_busy[cpu] = true;
	return 0;
}

int vcpu_run_child(struct vcpu *v, struct vcpu *caller, uint64_t budget, uint32_t flags)
{
	v->deferred = false;            /* as the real one: that exit first */
	return host_run_child_hook ? host_run_child_hook(v) : 0;
}

int (*host_run_fast_hook)(struct vcpu *v);

bool vcpu_run_child_fast(struct vcpu *v, struct vcpu *caller, uint64_t budget, uint32_t flags)
{
	int r = host_run_fast_hook ? host_run_fast_hook(v) : 0;

	v->deferred = r == 2;
	return r == 1;
}

/* The FPU state: a plain copy, XSAVE-format with x87+SSE allowed. */
void fpu_reset(struct fpu *f) { memset(f, 0, sizeof(*f)); f->xcr0 = 1; }
uint64_t fpu_guest_xcr0_mask(void) { return 3; }
uint32_t fpu_area_bytes(uint64_t xcr0) { return 576; }
bool fpu_has_xsave(void) { return true; }
void fpu_get(const struct fpu *f, struct hv_xsave *x)
{
	memset(x, 0, sizeof(*x));
	x->xcr0 = f->xcr0;
	x->size = 576;
	memcpy(x->area, f->area, 576);
}
int fpu_check(const struct hv_xsave *x, uint64_t allowed)
{
	return x->format || x->size != 576 || !(x->xcr0 & 1) || (x->xcr0 & ~allowed) ? -22 : 0;
}
void fpu_set(struct fpu *f, const struct hv_xsave *x) { memcpy(f->area, x->area, 576); f->xcr0 = x->xcr0; }

uint64_t tsc_khz(void) { return 1000000; }
uint64_t guest_cr4_allowed(void) { return 0x7ff; }
uint64_t tsc_to_us(uint64_t cycles) { return cycles / 1000; }
void exit_totals(uint64_t *exits, uint64_t *hypercalls) { *exits = *hypercalls = 0; }

void console_write_root(const char *s, size_t n)
{
	n = n < sizeof(host_console_out) - host_console_len ? n : sizeof(host_console_out) - host_console_len;
	memcpy(host_console_out + host_console_len, s, n);
	host_console_len += n;
}
size_t console_root_read(char *buf, size_t size) { return 0; }
void debugcon_input(int c) { host_debugcon_bytes++; }

/* A host CPU for the default CPUID table: vendor and a few features. */
static void fake_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == 0) {
		out[0] = 0xd;
		out[1] = 0x68747541;            /* "AuthenticAMD" */
		out[2] = 0x444d4163;
		out[3] = 0x69746e65;
	} else if (leaf == 1) {
		out[2] = 1u << 26 | 1u << 5;    /* XSAVE, VMX */
		out[3] = 0x178bfbff;
	} else if (leaf == 0x80000000) {
		out[0] = 0x80000008;
	} else if (leaf == 0x80000001) {
		out[2] = 1u << 2;               /* SVM */
		out[3] = 1u << 29;
	}
}

void cpuid_default_init(void)
{
	struct cpuid_host_facts f = { .xcr0_mask = 3, .xsave_max_size = 576, .xsave = true };

	cpuid_build_default(&default_cpuid, fake_cpuid, &f);
}

/* No-op guest ops for the mocked backends. */
static int g_setup(struct vcpu *v) { v->fpu = (struct fpu *)((char *)v->block + 4096); return 0; }
static void g_vcpu(struct vcpu *v) { }
static void g_enter(struct vcpu *v, struct vm_exit_info *e, uint64_t d) { }
static bool g_run_child_fast(struct vcpu *r, struct vcpu *v, struct vm_exit_info *e, uint64_t d) { return false; }
static void g_get_regs(struct vcpu *v, struct hv_regs *r) { *r = v->regs; }
static void g_set_regs(struct vcpu *v, const struct hv_regs *r) { v->regs = *r; }
static void g_get_sregs(struct vcpu *v, struct hv_sregs *s) { memset(s, 0, sizeof(*s)); }
static void g_set_sregs(struct vcpu *v, const struct hv_sregs *s) { }
static uint64_t g_get_rip(struct vcpu *v) { return v->regs.rip; }
static void g_set_rip(struct vcpu *v, uint64_t rip) { v->regs.rip = rip; }
static void g_get_mode(struct vcpu *v, struct guest_mode *m) { memset(m, 0, sizeof(*m)); }
static void g_inject(struct vcpu *v, uint8_t vec, bool e, uint32_t code) { }
static int g_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val) { return -2; }
static int g_msr_write(struct vcpu *v, uint32_t msr, uint64_t val) { return -2; }
static uint64_t host_dr6, host_dr7 = 0x400;
static void g_get_dr67(struct vcpu *v, uint64_t *dr6, uint64_t *dr7) { *dr6 = host_dr6; *dr7 = host_dr7; }
static void g_set_dr67(struct vcpu *v, uint64_t dr6, uint64_t dr7) { host_dr6 = dr6; host_dr7 = dr7; }
static uint64_t g_get_tsc(struct vcpu *v) { return 0; }
static bool g_false(struct vcpu *v) { return false; }
static void g_inject_irq(struct vcpu *v, uint8_t vec) { }
static void g_request(struct vcpu *v, bool irq, bool nmi, int tpr) { }
static void g_set_tsc(struct vcpu *v, uint64_t o) { }

void host_fill_guest_ops(struct virt_ops *o)
{
	o->vcpu_setup = g_setup;
	o->vcpu_teardown = g_vcpu;
	o->vcpu_load = g_vcpu;
	o->vcpu_put = g_vcpu;
	o->vcpu_enter = g_enter;
	o->run_child_fast = g_run_child_fast;
	if (!o->get_regs) {
		o->get_regs = g_get_regs;
		o->set_regs = g_set_regs;
	}
	if (!o->get_sregs) {
		o->get_sregs = g_get_sregs;
		o->set_sregs = g_set_sregs;
	}
	o->get_rip = g_get_rip;
	o->set_rip = g_set_rip;
	o->get_mode = g_get_mode;
	o->inject_exception = g_inject;
	o->msr_read = g_msr_read;
	o->msr_write = g_msr_write;
	o->get_dr67 = g_get_dr67;
	o->set_dr67 = g_set_dr67;
	o->get_tsc_offset = g_get_tsc;
	o->set_tsc_offset = g_set_tsc;
	o->event_queued = g_false;
	o->irq_window_open = g_false;
	o->nmi_window_open = g_false;
	o->inject_irq = g_inject_irq;
	o->inject_nmi = g_vcpu;
	o->request_window = g_request;
}

void arch_reset(enum reboot_action action)
{
	host_resets++;
	abort();
}
