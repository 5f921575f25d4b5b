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
/* Execute what has been typed on the console so far (non-blocking). */
void debugcon_poll(void);
/* The boot CPU's idle loop: serve cross-CPU calls and console input. */
__attribute__((noreturn)) void debugcon_loop(void);
/* Arch: wait for the next interrupt (the console is polled after each). */
void arch_idle(void);
void arch_idle_tick_start(void);

#endif
