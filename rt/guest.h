/* The small runtime of root partition programs: serial output, hypercalls. */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <lib/format.h>               /* snprintf, vsnprintf */
#include <uapi/hv/hypercall.h>

void guest_main(struct hv_root_info *info);

void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gputs(const char *s);

/* VMCALL on Intel, VMMCALL on AMD (guest_init decides from CPUID). */
int64_t hcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
void guest_init(void);
bool guest_is_intel(void);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" :: "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void *gmemset(void *d, int c, size_t n);
void *gmemcpy(void *d, const void *s, size_t n);
void *gmemmove(void *d, const void *s, size_t n);
int gmemcmp(const void *a, const void *b, size_t n);

/* End the run under the test harness: QEMU isa-debug-exit and Bochs. */
__attribute__((noreturn)) void guest_exit(bool pass);

/* The module's command line (hv_root_info.cmdline): is `word` one of its
 * space-separated words; the decimal value of `key=N` (def if absent or 0). */
bool has_word(const char *s, const char *word);
uint64_t option_value(const char *s, const char *key, uint64_t def);
/* The TSC's rate in kHz: what the hypervisor measured (API 2), else PIT
 * channel 2 over 10 ms (the root owns the ports). */
uint64_t guest_tsc_khz(const struct hv_root_info *info);

#endif
