/* What the host unit tests substitute for the hypervisor's runtime. */
#ifndef HOST_STUBS_H
#define HOST_STUBS_H

#include <setjmp.h>
#include <stdbool.h>

/* Log lines printk produced since the last host_log_clear(), '\n'-separated. */
extern char host_log[65536];
void host_log_clear(void);
/* True when some logged line contains `needle`. */
bool host_log_contains(const char *needle);

/*
 * panic() longjmps here when host_panic_armed is set (and disarms it), so a
 * test can assert that a bug is detected:
 *     if (!setjmp(host_panic_jmp)) { host_panic_armed = true; bad(); fail(); }
 *     assert_true(host_log_contains("double free"));
 * Unarmed, panic prints and aborts.
 */
extern jmp_buf host_panic_jmp;
extern volatile bool host_panic_armed;
extern char host_panic_msg[1024];

/* smp_processor_id() returns this thread's value (default 0). */
extern __thread unsigned int host_cpu_id;

#endif
