/*
 * The debug console on the serial line: type `help`. The same commands can
 * run at boot from the command line: debugcmd=CMD[,CMD...] with ':' for the
 * spaces inside a command (debugcmd=offline:1,virt,online:1).
 */
#ifndef HV_DEBUGCON_H
#define HV_DEBUGCON_H

/* Run one command line; 0 or a negative error (already reported). */
int debugcon_exec(const char *line);
void debugcon_run_boot_commands(void);
#include "hv/types.h"

/* Take what has been typed on the console so far (non-blocking): to the
 * debug console, or to the root once it claimed console input. */
void debugcon_poll(void);
/* One byte for the debug console (line editing; Enter runs the line). */
void debugcon_input(int c);
/* HC_CONSOLE_READ: the root claims console input; bytes typed since. */
size_t console_root_read(char *buf, size_t size);
/* The boot CPU's idle loop: serve cross-CPU calls and console input. */
__attribute__((noreturn)) void debugcon_loop(void);
/* Arch: wait for the next interrupt (the console is polled after each). */
void arch_idle(void);
void arch_idle_tick_start(void);

#endif
