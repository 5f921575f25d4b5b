/*
 * The C runtime of child VM payloads (tests/guest/child_*.c), and the
 * layout and port protocol the root side (tests/guest/vmlib64.c) builds and
 * interprets. The root includes this header with CRT_ABI_ONLY defined: it
 * then sees only the layout and protocol, not the child's API.
 *
 * Memory: one region of RAM (a multiple of 2 MiB, e.g. 2 MiB) at
 * guest-physical 0, zeroed by the root, laid out as
 *
 *   0x1000  PML4, 0x2000 PDPT, 0x3000 PD: identity map of the first 1 GiB
 *           with 2 MiB pages (present, writable, executable). Guest-physical
 *           addresses beyond the RAM are mapped too: an access there with no
 *           region behind it is an HV_EXIT_MMIO for the root.
 *   0x4000  GDT: 0x08 64-bit code, 0x10 data, 0x18 the TSS (at 0x4080)
 *   0x5000  struct crt_boot (RAM size, number of vCPUs)
 *   0x6000  two scratch pages the runtime never touches (test addresses)
 *   0x8000  one mailbox page per vCPU (CRT_MAILBOX(i)): root and child
 *           exchange arguments and results there, the root reading and
 *           writing child RAM directly (it is root memory)
 *   0x10000 the flat binary (CRT_LOAD): a header (jump, magic, image end),
 *           then text, rodata, data and BSS (zero because the RAM is)
 *   top     the stacks, CRT_STACK_SIZE per vCPU: vCPU i's stack ends at
 *           RAM - i * CRT_STACK_SIZE; its top CRT_CPU_AREA bytes hold the
 *           vCPU's runtime state (struct crt_cpu, found from RSP)
 *
 * Initial state of every vCPU, set by the root (HC_SET_SREGS/HC_SET_REGS):
 * 64-bit long mode at CPL 0 (CR0 PG|AM|WP|NE|ET|MP|PE, CR4 PAE|OSFXSR|
 * OSXMMEXCPT, EFER LME|LMA|NXE, CR3 = the PML4), CS 0x08 (L), the data
 * selectors 0x10, TR 0x18; RIP = CRT_LOAD, RSP = the top of its stack,
 * RDI = its index, RSI = the RAM size, RDX = the number of vCPUs, RFLAGS =
 * 2 (interrupts off). No INIT/SIPI: the root runs each vCPU with HC_RUN,
 * on whichever physical CPU it likes. The runtime sets CR4.OSFXSR and
 * OSXMMEXCPT itself at entry (vmlib64 falls back to PAE|OSFXSR where
 * HC_SET_SREGS refuses OSXMMEXCPT), installs an IDT for the exception
 * vectors 0-31 and calls main(index); main's return value is its exit
 * status. CR4.OSXSAVE and XCR0 are the program's business (XCR0 starts
 * at 1, x87 only).
 *
 * Ports (each access is an exit the root interprets):
 *   OUT 0xe9 (byte)   console: the root prints complete lines with a prefix
 *   OUT 0xf0 (dword)  report(): a value the root collects
 *   IN  0xf3 (dword)  cmd_wait(): the child waits for a command; the root
 *                     answers with a number (its arguments are in the
 *                     mailbox)
 *   OUT 0xf4 (dword)  child_exit(): this vCPU is done, with a status; an
 *                     unexpected exception exits with CRT_EXIT_TRAP + vector
 */
#ifndef CRT_CHILD_H
#define CRT_CHILD_H

#define CRT_PML4                0x1000
#define CRT_PDPT                0x2000
#define CRT_PD                  0x3000
#define CRT_GDT                 0x4000
#define CRT_TSS                 0x4080
#define CRT_BOOT                0x5000
#define CRT_SCRATCH             0x6000
#define CRT_MAILBOX(i)          (0x8000 + (i) * 0x1000)
#define CRT_LOAD                0x10000
#define CRT_STACK_SIZE          0x4000
#define CRT_CPU_AREA            256
#define CRT_MAX_VCPUS           8
#define CRT_IDENTITY_MAP        0x40000000      /* bytes the page tables map */

#define CRT_SEL_CODE            0x08
#define CRT_SEL_DATA            0x10
#define CRT_SEL_TSS             0x18

#define CRT_PORT_CONSOLE        0xe9
#define CRT_PORT_REPORT         0xf0
#define CRT_PORT_CMD            0xf3
#define CRT_PORT_EXIT           0xf4

#define CRT_EXIT_TRAP           0x100   /* + vector: an exception nobody expected */
#define CRT_MAGIC               0x343654524343ULL       /* "CCRT64" */

#ifndef __ASSEMBLY__
#include <stdint.h>

/* At CRT_LOAD: the first bytes of every binary (start.S). */
struct crt_header {
	uint8_t jump[8];                /* to the entry */
	uint64_t magic;                 /* CRT_MAGIC */
	uint64_t image_end;             /* guest-physical end of the BSS */
};

/* At CRT_BOOT, written by the root. */
struct crt_boot {
	uint64_t magic;                 /* CRT_MAGIC */
	uint64_t ram;
	uint32_t nvcpus;
	uint32_t pad;
};
#endif /* !__ASSEMBLY__ */

#if !defined(CRT_ABI_ONLY) && !defined(__ASSEMBLY__)
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <lib/format.h>               /* snprintf, vsnprintf */

/* ---------------------------------------------------------- the program */

/* Each vCPU runs it, with its index; the result is its exit status. */
int main(unsigned int cpu);

unsigned int cpu_index(void);
unsigned int cpu_count(void);
uint64_t ram_size(void);
/* vCPU i's mailbox page. */
static inline void *mailbox(unsigned int i)
{
	return (void *)(uintptr_t)CRT_MAILBOX(i);
}

/* ---------------------------------------------------------- ports */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" :: "a"(v), "Nd"(port) : "memory");
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

void cputs(const char *s);
void cprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void report(uint32_t v)
{
	outl(CRT_PORT_REPORT, v);
}

static inline void report64(uint64_t v)
{
	report((uint32_t)v);
	report((uint32_t)(v >> 32));
}

/* Wait for the root's next command (its arguments in the mailbox). */
static inline uint32_t cmd_wait(void)
{
	return inl(CRT_PORT_CMD);
}

/* This vCPU is done. The root sees status; it does not run it again. */
__attribute__((noreturn)) void child_exit(uint32_t status);

/* ---------------------------------------------------------- exceptions */

/* What the exception stubs push (start.S): the general registers, the
 * vector, the error code (0 where the CPU pushes none), the CPU's frame. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* A handler for one vector, for every vCPU: true when it handled the
 * exception (the frame, RIP included, may be changed), false to let the
 * runtime decide (an expected exception, else an unexpected one). */
typedef bool (*trap_handler_t)(struct trap_frame *f);
void trap_set_handler(unsigned int vector, trap_handler_t h);

/* What an expected exception was. dr6: DR6 at a #DB (then reset). */
struct trap_info {
	int vector;                     /* -1: none happened */
	uint64_t error, rip, dr6;
};

/*
 * Expect an exception on this vCPU: `vector` (-1: any vector). When it
 * comes, it is recorded and the vCPU goes on `skip` bytes after the
 * faulting instruction (0 for a trap, which reports the next RIP anyway).
 * trap_take() disarms and says what came (vector -1: nothing).
 */
void trap_expect(int vector, unsigned int skip);
int trap_take(struct trap_info *ti);

/* ---------------------------------------------------------- the CPU */

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(sub));
}

static inline uint32_t cpuid_reg(uint32_t leaf, uint32_t sub, int reg)
{
	uint32_t r[4];

	cpuid_count(leaf, sub, r);
	return r[reg];
}

/* RDMSR/WRMSR are two bytes long; the _safe forms return the vector of
 * the exception they raised (13: #GP) or -1. */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}

int rdmsr_safe(uint32_t msr, uint64_t *v);
int wrmsr_safe(uint32_t msr, uint64_t v);

/* XGETBV/XSETBV (three bytes; need CR4.OSXSAVE). */
static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return (uint64_t)hi << 32 | lo;
}

static inline void xsetbv(uint32_t xcr, uint64_t v)
{
	__asm__ __volatile__("xsetbv" :: "c"(xcr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}

int xsetbv_safe(uint32_t xcr, uint64_t v);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t rdtscp(uint32_t *aux)
{
	uint32_t lo, hi, c;

	__asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
	*aux = c;
	return (uint64_t)hi << 32 | lo;
}

static inline void cpu_pause(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* Control registers. MOV CR with RAX: three bytes (CR8: four, REX.R). */
#define CRT_CR_ACCESS(n)                                                        \
	static inline uint64_t read_cr##n(void)                                 \
	{                                                                       \
		uint64_t v;                                                     \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=a"(v));           \
		return v;                                                       \
	}                                                                       \
	static inline void write_cr##n(uint64_t v)                              \
	{                                                                       \
		__asm__ __volatile__("mov %0, %%cr" #n :: "a"(v) : "memory");   \
	}
CRT_CR_ACCESS(0)
CRT_CR_ACCESS(2)
CRT_CR_ACCESS(3)
CRT_CR_ACCESS(4)
CRT_CR_ACCESS(8)
#undef CRT_CR_ACCESS

/* Debug registers. MOV DR with RAX: three bytes. */
#define CRT_DR_ACCESS(n)                                                        \
	static inline uint64_t read_dr##n(void)                                 \
	{                                                                       \
		uint64_t v;                                                     \
		__asm__ __volatile__("mov %%db" #n ", %0" : "=a"(v));           \
		return v;                                                       \
	}                                                                       \
	static inline void write_dr##n(uint64_t v)                              \
	{                                                                       \
		__asm__ __volatile__("mov %0, %%db" #n :: "a"(v) : "memory");   \
	}
CRT_DR_ACCESS(0)
CRT_DR_ACCESS(1)
CRT_DR_ACCESS(2)
CRT_DR_ACCESS(3)
CRT_DR_ACCESS(6)
CRT_DR_ACCESS(7)
#undef CRT_DR_ACCESS

uint64_t read_dr(unsigned int n);               /* 0-3, 6, 7 */
void write_dr(unsigned int n, uint64_t v);

#define CR0_TS          (1ULL << 3)
#define CR4_OSFXSR      (1ULL << 9)
#define CR4_OSXMMEXCPT  (1ULL << 10)
#define CR4_OSXSAVE     (1ULL << 18)

/* ---------------------------------------------------------- library */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* !CRT_ABI_ONLY && !__ASSEMBLY__ */
#endif
