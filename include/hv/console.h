/*
 * The console: where log lines go (a UART, optionally mirrored to the
 * 0xe9 debug port that QEMU and Bochs provide).
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include "hv/types.h"

/* console= value: "com1".."com4", an I/O port ("0x2f8"), optionally ",e9". */
int console_parse(const char *spec);
/* Program the chosen UART (COM1 if console= was not given). */
void console_init(void);
/* Write a whole buffer under the console lock (one line never interleaves). */
void console_write(const char *s, size_t n);
/* The root's output (HC_CONSOLE_WRITE): kept apart from the hypervisor's
 * lines even when it ends mid-line. */
void console_write_root(const char *s, size_t n);
/* After a panic: take the lock from whoever holds it, others are stopped. */
void console_force_unlock(void);
uint16_t console_port(void);
/* A byte typed on the console, or -1. */
int console_getc(void);

#endif
