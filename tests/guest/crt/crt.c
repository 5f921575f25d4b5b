/* The child runtime (child.h): start-up, IDT, exceptions, console, library. */
#include "child.h"
#include "lib/format.h"

/* A vCPU's runtime state, in the top CRT_CPU_AREA bytes of its stack. */
struct crt_cpu {
	uint32_t index;
	int expect;                     /* vector awaited, -1 any, -2 none */
	uint32_t skip;
	struct trap_info got;
};
_Static_assert(sizeof(struct crt_cpu) <= CRT_CPU_AREA, "crt_cpu too big");

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

extern const uint64_t crt_stubs[32];
static struct idt_gate idt[32] __attribute__((aligned(16)));
static trap_handler_t handlers[32];

/* The stack (CRT_STACK_SIZE-aligned: RAM is a multiple of it) ends right
 * above the area. */
static struct crt_cpu *this_cpu(void)
{
	uintptr_t sp;

	__asm__ __volatile__("mov %%rsp, %0" : "=r"(sp));

	return (struct crt_cpu *)(((sp | (CRT_STACK_SIZE - 1)) + 1) - CRT_CPU_AREA);
}

static const struct crt_boot *boot(void)
{
	return (const struct crt_boot *)(uintptr_t)CRT_BOOT;
}

unsigned int cpu_index(void)
{
	return this_cpu()->index;
}

unsigned int cpu_count(void)
{
	return boot()->nvcpus;
}

uint64_t ram_size(void)
{
	return boot()->ram;
}

void crt_start(uint64_t index, uint64_t ram, uint64_t nvcpus);
void crt_start(uint64_t index, uint64_t ram, uint64_t nvcpus)
{
	struct crt_cpu *me = this_cpu();
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;

	me->index = (uint32_t)index;
	me->expect = -2;
	/* Every vCPU writes the same gates: whichever starts first works. */
	for (int v = 0; v < 32; v++) {
		uint64_t a = crt_stubs[v];

		idt[v] = (struct idt_gate){ .off0 = (uint16_t)a, .sel = CRT_SEL_CODE,
					    .type = 0x8e, .off1 = (uint16_t)(a >> 16),
					    .off2 = (uint32_t)(a >> 32) };
	}
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)idt;
	__asm__ __volatile__("lidt %0" :: "m"(idtr) : "memory");
	(void)ram;
	(void)nvcpus;
	child_exit((uint32_t)main((unsigned int)index));
}

void child_exit(uint32_t status)
{
	for (;;)
		outl(CRT_PORT_EXIT, status);
}

/* ---------------------------------------------------------- exceptions */

static const char *const trap_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void trap_set_handler(unsigned int vector, trap_handler_t h)
{
	if (vector < 32)
		handlers[vector] = h;
}

void trap_expect(int vector, unsigned int skip)
{
	struct crt_cpu *me = this_cpu();

	me->got.vector = -1;
	me->skip = skip;
	__atomic_store_n(&me->expect, vector, __ATOMIC_SEQ_CST);
	__asm__ __volatile__("" ::: "memory");
}

int trap_take(struct trap_info *ti)
{
	struct crt_cpu *me = this_cpu();

	__asm__ __volatile__("" ::: "memory");
	me->expect = -2;
	if (ti)
		*ti = me->got;
	return me->got.vector;
}

void crt_trap(struct trap_frame *f);
void crt_trap(struct trap_frame *f)
{
	struct crt_cpu *me = this_cpu();
	unsigned int v = (unsigned int)f->vector;

	if (handlers[v] && handlers[v](f))
		return;
	if (me->expect == -1 || me->expect == (int)v) {
		me->got = (struct trap_info){ (int)v, f->error, f->rip, 0 };
		if (v == 1) {
			me->got.dr6 = read_dr6();
			write_dr6(0xffff0ff0);
		}
		me->expect = -2;
		f->rip += me->skip;
		return;
	}
	cprintf("unexpected exception %u (%s), error 0x%lx, at RIP 0x%lx, CR2 0x%lx\n", v,
		v < 22 ? trap_names[v] : "?", f->error, f->rip, read_cr2());
	child_exit(CRT_EXIT_TRAP + v);
}

int rdmsr_safe(uint32_t msr, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;

	trap_expect(-1, 2);
	__asm__ __volatile__("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*v = (uint64_t)hi << 32 | lo;
	return trap_take(NULL);
}

int wrmsr_safe(uint32_t msr, uint64_t v)
{
	trap_expect(-1, 2);
	wrmsr(msr, v);
	return trap_take(NULL);
}

int xsetbv_safe(uint32_t xcr, uint64_t v)
{
	trap_expect(-1, 3);
	xsetbv(xcr, v);
	return trap_take(NULL);
}

uint64_t read_dr(unsigned int n)
{
	switch (n) {
	case 0: return read_dr0();
	case 1: return read_dr1();
	case 2: return read_dr2();
	case 3: return read_dr3();
	case 6: return read_dr6();
	default: return read_dr7();
	}
}

void write_dr(unsigned int n, uint64_t v)
{
	switch (n) {
	case 0: write_dr0(v); break;
	case 1: write_dr1(v); break;
	case 2: write_dr2(v); break;
	case 3: write_dr3(v); break;
	case 6: write_dr6(v); break;
	default: write_dr7(v); break;
	}
}

/* ---------------------------------------------------------- library */

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

/* ---------------------------------------------------------- console */

void cputs(const char *s)
{
	for (; *s; s++)
		outb(CRT_PORT_CONSOLE, (uint8_t)*s);
}

void cprintf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cputs(buf);
}
