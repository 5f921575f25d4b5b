/*
 * Finding the consoles console= asks for (hv/console_probe.c): the
 * firmware's SPCR/DBG2 port, PCI serial controllers, legacy COM ports, the
 * VGA text screen and the framebuffer. Runs once, from console_init,
 * before the final page tables: what lies above 4 GiB is registered late.
 */
#ifndef HV_CONSOLE_PROBE_H
#define HV_CONSOLE_PROBE_H

#include "hv/console_opt.h"

/* Register the consoles of spec; every problem is logged. When nothing
 * that spec names works, fall back to console=auto. */
void console_probe(const struct console_spec *spec);

#endif
