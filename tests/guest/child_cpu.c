/*
 * The child of root_cpu.c: a command loop (child_cpu.h). Each vCPU waits
 * for a command, does it with the arguments in its mailbox, leaves the
 * results there and waits again; the root judges them.
 */
#include "child.h"
#include "child_cpu.h"

static bool use_avx[CRT_MAX_VCPUS];
static struct fpu_image snap[CRT_MAX_VCPUS];    /* what each vCPU loaded last */

static void fpu_setup(unsigned int cpu, struct cc_mbox *mb)
{
	/* The registers as this vCPU finds them, before it touches them. */
	fpu_save(&mb->u.fpu, false);
	mb->res[0] = -1;
	mb->res[1] = 0;
	if (mb->arg[2] && (cpuid_reg(1, 0, 2) & (1u << 26))) {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		if (mb->arg[0])
			mb->res[0] = xsetbv_safe(0, mb->arg[0]);
		mb->res[1] = (int64_t)xgetbv(0);
	}
	use_avx[cpu] = mb->arg[1] && mb->res[0] < 0 && (mb->res[1] & 4);
}

static void fpu_round(unsigned int cpu, struct cc_mbox *mb)
{
	struct fpu_image cur, pat;
	struct fpu_diff d;

	mb->res[0] = 0;
	mb->text[0] = '\0';
	if (mb->arg[1]) {
		fpu_save(&cur, use_avx[cpu]);
		d = fpu_compare(&cur, &snap[cpu], use_avx[cpu], true);
		mb->res[0] = d.items;
		if (d.items)
			snprintf(mb->text, sizeof(mb->text),
				  "%d registers differ, first %s: 0x%lx, expected 0x%lx",
				  d.items, d.what, d.got, d.want);
	}
	fpu_pattern(&pat, (uint32_t)mb->arg[0], (uint32_t)mb->arg[2]);
	fpu_load(&pat, use_avx[cpu]);
	fpu_save(&snap[cpu], use_avx[cpu]);
	d = fpu_compare(&snap[cpu], &pat, use_avx[cpu], true);
	mb->res[1] = d.items;
	if (d.items && !mb->text[0])
		snprintf(mb->text, sizeof(mb->text), "the load did not take: %s: 0x%lx, expected 0x%lx",
			  d.what, d.got, d.want);
}

static void dr_read(struct cc_mbox *mb)
{
	mb->res[0] = (int64_t)read_dr0();
	mb->res[1] = (int64_t)read_dr1();
	mb->res[2] = (int64_t)read_dr2();
	mb->res[3] = (int64_t)read_dr3();
	mb->res[4] = (int64_t)read_dr7();
	mb->res[5] = (int64_t)read_dr6();
}

/* A write the data breakpoint may catch (a trap: RIP is already past). */
static void dr_touch(struct cc_mbox *mb)
{
	struct trap_info ti;

	trap_expect(1, 0);
	*(volatile uint32_t *)(uintptr_t)mb->arg[0] = (uint32_t)mb->arg[1];
	mb->res[0] = trap_take(&ti);
	mb->res[1] = (int64_t)ti.dr6;
}

static void msr_batch(struct cc_mbox *mb)
{
	for (uint64_t i = 0; i < mb->arg[0] && i < CC_MAX_MSR_OPS; i++) {
		struct cc_msr_op *op = &mb->u.msr[i];

		if (op->write) {
			op->vector = (int8_t)wrmsr_safe(op->msr, op->value);
		} else {
			uint64_t v = 0;

			op->vector = (int8_t)rdmsr_safe(op->msr, &v);
			op->value = v;
		}
	}
}

static void cpuid_batch(struct cc_mbox *mb)
{
	for (uint64_t i = 0; i < mb->arg[0] && i < CC_MAX_CPUID_Q; i++)
		cpuid_count(mb->u.cpuid[i].leaf, mb->u.cpuid[i].sub, mb->u.cpuid[i].out);
}

/* One instruction, `len` bytes, with RAX = rax and RBX/RCX/RDX = 0: the
 * exception it raised, or -1. A buffer for memory operands is at RAX
 * where the instruction takes one. */
#define INSN(len, rax, bytes)                                                   \
	do {                                                                    \
		uint64_t a_ = (rax), b_ = 0, c_ = 0, d_ = 0;                    \
		trap_expect(-1, (len));                                         \
		__asm__ __volatile__(".byte " bytes                             \
				     : "+a"(a_), "+b"(b_), "+c"(c_), "+d"(d_)   \
				     :: "memory");                              \
	} while (0)

static int run_insn(int id)
{
	static uint64_t buf[4] __attribute__((aligned(16)));
	uint64_t m = (uint64_t)buf;

	switch (id) {
	case CI_INVD:     INSN(2, 0, "0x0f, 0x08"); break;
	case CI_WBINVD:   INSN(2, 0, "0x0f, 0x09"); break;
	case CI_PAUSE:    INSN(2, 0, "0xf3, 0x90"); break;
	case CI_MONITOR:  INSN(3, m, "0x0f, 0x01, 0xc8"); break;
	case CI_MWAIT:    INSN(3, 0, "0x0f, 0x01, 0xc9"); break;
	case CI_RDPMC:    INSN(2, 0, "0x0f, 0x33"); break;
	case CI_VMXON:    INSN(4, m, "0xf3, 0x0f, 0xc7, 0x30"); break;      /* vmxon (%rax) */
	case CI_VMXOFF:   INSN(3, 0, "0x0f, 0x01, 0xc4"); break;
	case CI_VMLAUNCH: INSN(3, 0, "0x0f, 0x01, 0xc2"); break;
	case CI_VMRESUME: INSN(3, 0, "0x0f, 0x01, 0xc3"); break;
	case CI_VMPTRLD:  INSN(3, m, "0x0f, 0xc7, 0x30"); break;            /* vmptrld (%rax) */
	case CI_VMPTRST:  INSN(3, m, "0x0f, 0xc7, 0x38"); break;            /* vmptrst (%rax) */
	case CI_VMCLEAR:  INSN(4, m, "0x66, 0x0f, 0xc7, 0x30"); break;      /* vmclear (%rax) */
	case CI_VMREAD:   INSN(3, 0, "0x0f, 0x78, 0xc3"); break;            /* vmread %rax, %rbx */
	case CI_VMWRITE:  INSN(3, 0, "0x0f, 0x79, 0xc3"); break;            /* vmwrite %rbx, %rax */
	case CI_INVEPT:   INSN(5, m, "0x66, 0x0f, 0x38, 0x80, 0x18"); break; /* invept (%rax), %rbx */
	case CI_INVVPID:  INSN(5, m, "0x66, 0x0f, 0x38, 0x81, 0x18"); break;
	case CI_VMFUNC:   INSN(3, 0, "0x0f, 0x01, 0xd4"); break;
	case CI_VMRUN:    INSN(3, 0, "0x0f, 0x01, 0xd8"); break;            /* RAX 0: aligned */
	case CI_VMLOAD:   INSN(3, 0, "0x0f, 0x01, 0xda"); break;
	case CI_VMSAVE:   INSN(3, 0, "0x0f, 0x01, 0xdb"); break;
	case CI_STGI:     INSN(3, 0, "0x0f, 0x01, 0xdc"); break;
	case CI_CLGI:     INSN(3, 0, "0x0f, 0x01, 0xdd"); break;
	case CI_SKINIT:   INSN(3, 0, "0x0f, 0x01, 0xde"); break;
	case CI_INVLPGA:  INSN(3, 0, "0x0f, 0x01, 0xdf"); break;
	default:
		return -2;
	}
	return trap_take(NULL);
}

static void cr8_spin(struct cc_mbox *mb)
{
	write_cr8(mb->arg[0]);
	mb->res[0] = (int64_t)read_cr8();
	report((uint32_t)mb->res[0]);
	mb->u.loop.count = 0;
	__atomic_store_n(&mb->u.loop.spinning, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&mb->u.loop.stop, __ATOMIC_SEQ_CST) &&
	       mb->u.loop.count < (1ULL << 40)) {
		mb->u.loop.count++;
		cpu_pause();
	}
	mb->res[1] = (int64_t)read_cr8();
	write_cr8(0);
	mb->u.loop.spinning = 0;
}

/* Copy what the address holds into the mailbox, forever: the run ends
 * when the address stops being memory (an MMIO exit). */
static void read_loop(struct cc_mbox *mb)
{
	volatile uint32_t *src = (volatile uint32_t *)(uintptr_t)mb->arg[0];
	uint32_t sentinel = (uint32_t)mb->arg[1];

	for (;;) {
		uint32_t v = *src;

		if (v == sentinel)
			mb->u.loop.seen++;
		mb->u.loop.copy = v;
		mb->u.loop.count++;
	}
}

int main(unsigned int cpu)
{
	struct cc_mbox *mb = mailbox(cpu);

	for (;;) {
		uint32_t cmd = cmd_wait();

		switch (cmd) {
		case CC_NOP:
			break;
		case CC_FPU_SETUP:
			fpu_setup(cpu, mb);
			break;
		case CC_FPU_ROUND:
			fpu_round(cpu, mb);
			break;
		case CC_FPU_DUMP:
			fpu_save(&mb->u.fpu, use_avx[cpu]);
			break;
		case CC_XGETBV:
			mb->res[0] = (int64_t)xgetbv(0);
			break;
		case CC_XSETBV:
			mb->res[0] = xsetbv_safe((uint32_t)mb->arg[0], mb->arg[1]);
			mb->res[1] = (int64_t)xgetbv(0);
			break;
		case CC_DR_SET:
			write_dr0(mb->arg[0]);
			write_dr1(mb->arg[1]);
			write_dr2(mb->arg[2]);
			write_dr3(mb->arg[3]);
			write_dr7(mb->arg[4]);
			dr_read(mb);
			break;
		case CC_DR_READ:
			dr_read(mb);
			break;
		case CC_DR_TOUCH:
			dr_touch(mb);
			break;
		case CC_DR_WRITE:
			trap_expect(-1, 3);
			write_dr((unsigned int)mb->arg[0], mb->arg[1]);
			mb->res[0] = trap_take(NULL);
			break;
		case CC_MSR_BATCH:
			msr_batch(mb);
			break;
		case CC_TSC_WRITE:
			mb->res[0] = (int64_t)rdtsc();
			mb->res[3] = wrmsr_safe(0x10, (uint64_t)mb->res[0] + mb->arg[0]);
			mb->res[1] = (int64_t)rdtsc();
			mb->res[2] = (int64_t)rdmsr(0x10);
			break;
		case CC_RDTSC:
			mb->res[0] = (int64_t)rdtsc();
			break;
		case CC_RDTSCP: {
			uint32_t lo = 0, hi = 0, aux = 0;

			trap_expect(-1, 3);
			__asm__ __volatile__("rdtscp" : "+a"(lo), "+d"(hi), "+c"(aux) :: "memory");
			mb->res[0] = trap_take(NULL);
			mb->res[1] = aux;
			mb->res[2] = (int64_t)((uint64_t)hi << 32 | lo);
			break;
		}
		case CC_SWAPGS:
			wrmsr(0xc0000101, mb->arg[0]);
			wrmsr(0xc0000102, mb->arg[1]);
			__asm__ __volatile__("swapgs" ::: "memory");
			mb->res[0] = (int64_t)rdmsr(0xc0000101);
			mb->res[1] = (int64_t)rdmsr(0xc0000102);
			__asm__ __volatile__("swapgs" ::: "memory");
			mb->res[2] = (int64_t)rdmsr(0xc0000101);
			mb->res[3] = (int64_t)rdmsr(0xc0000102);
			break;
		case CC_CR8_SPIN:
			cr8_spin(mb);
			break;
		case CC_CPUID_BATCH:
			cpuid_batch(mb);
			break;
		case CC_READ_LOOP:
			read_loop(mb);
			break;
		case CC_INSN_BATCH:
			for (int i = 0; i < CI_COUNT; i++)
				mb->u.insn[i] = run_insn(i);
			break;
		case CC_UD2:
			__asm__ __volatile__("ud2" ::: "memory");
			return 0;
		case CC_IDT_HOLE: {
			struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
				0xfff, mb->arg[0]
			};

			__asm__ __volatile__("lidt %0; ud2" :: "m"(idtr) : "memory");
			return 0xbad;           /* the VM was to end in the delivery */
		}
		case CC_EXIT:
			return (int)mb->arg[0];
		default:
			cprintf("unknown command %u\n", cmd);
			return 0xbad;
		}
	}
}
