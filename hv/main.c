/*
 * kmain: from the boot CPU's first C instruction to a running hypervisor.
 * The order matters and is written at each step.
 */
#include "hv/arch.h"
#include "hv/boot.h"
#include "hv/console.h"
#include "hv/errno.h"
#include "hv/mb2.h"
#include "hv/mm.h"
#include "hv/options.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/string.h"
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/fpu.h>
#include <x86/exit_codes.h>
#include <x86/percpu.h>
#include <x86/tsc.h>
#include "hv/smp.h"
#include "hv/debugcon.h"
#include "hv/hypercall.h"
#include "hv/kmalloc.h"
#include "hv/leakcheck.h"
#include "hv/slab.h"
#include "hv/root.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"

struct boot_info boot_info;
int64_t hypercall_before_init;

static int parse_fail_init(const char *value, void *arg)
{
	return fail_inject_parse(value, &fail_init);
}
CMDLINE_OPTION(fail_init, "fail_init", parse_fail_init, NULL,
	       "make a stage of the virtualization init fail: STAGE, compat@CPU, enable@CPU (CPU 0..255)");

static int parse_slab_debug(const char *value, void *arg)
{
	bool on;
	int r = cmdline_parse_bool(value, &on);

	if (!r)
		slab_set_debug_default(on);
	return r;
}
CMDLINE_OPTION(slab_debug, "slab_debug", parse_slab_debug, NULL,
	       "poison freed slab objects and guard their edges");

static int parse_console(const char *value, void *arg)
{
	return value ? console_parse(value) : -EINVAL;
}
CMDLINE_OPTION(console, "console", parse_console, NULL,
	       "consoles: auto (default: SPCR's UART, PCI and COM UARTs, a screen), spcr, "
	       "com1..com4, an I/O port 0x1..0xfff8, pci, pci@BB:DD.F[/N], mmio,ADDR[,WIDTH], "
	       "vga, fb; several joined by '+'; ',e9' mirrors to port 0xe9");

static void set_loglevel(uint64_t level, void *arg)
{
	log_level = (int)level;
}
/* enum log_level: LOG_ERR..LOG_DEBUG, by name or number. */
CMDLINE_OPTION_RANGE(loglevel, "loglevel", NULL, "how much the log shows",
		     .min = LOG_ERR, .max = LOG_DEBUG, .def = LOG_INFO,
		     .names = "err|warn|info|debug", .set = set_loglevel);

CMDLINE_OPTION(bochs_exit, "bochs_exit", cmdline_handle_bool, &bochs_exit,
	       "end runs through the Bochs shutdown port (test harness)");

static int show_help(const char *value, void *arg)
{
	*(bool *)arg = true;
	return 0;
}
static bool help_requested;
CMDLINE_OPTION(help, "help", show_help, &help_requested, "list the options");

void boot_info_parse_or_halt(const void *info, struct boot_info *bi)
{
	char err[128];
	int r = mb2_parse(info, bi, err, sizeof(err));

	if (!r)
		return;
	console_init();
	pr_err("multiboot2 information at 0x%lx is malformed: %s (%s)\n",
	       (uint64_t)info, err, errno_name(r));
	pr_err("cannot continue without a valid memory map; halting\n");
	arch_exit(HV_EXIT_BAD_BOOTINFO);
}

void kmain(uint32_t magic, uint64_t info);
void kmain(uint32_t magic, uint64_t info)
{
	int r;

	/* Exceptions first: everything after this may fault and must say so. */
	idt_init();
	percpu_install(percpu_bsp(), 0, cpuid(1).ebx >> 24);

	if (magic != MB2_BOOTLOADER_MAGIC) {     /* entry.S checked; be sure */
		console_init();
		pr_err("not started by a multiboot2 loader (magic 0x%x); halting\n", magic);
		arch_exit(HV_EXIT_BAD_MAGIC);
	}
	boot_info_parse_or_halt((const void *)info, &boot_info);
	/* Options before the console: console= decides where output goes.
	 * Lines logged meanwhile wait in the console's early buffer. */
	int bad = cmdline_parse(boot_info.cmdline, __cmdline_opts_start,
				cmdline_opts_count());
	console_init();
	pr_info("hv: x86-64 microhypervisor, loaded by %s\n",
		boot_info.has_loader_name ? boot_info.loader_name : "an unknown loader");
	pr_info("hv: command line \"%s\"\n", boot_info.cmdline);
	if (bad)
		pr_warn("hv: command line had errors (see above); going on with defaults\n");
	if (help_requested)
		cmdline_print_help(__cmdline_opts_start, cmdline_opts_count());

	r = mm_init(&boot_info);
	if (r)
		panic("memory init failed: %s", errno_name(r));
	console_late_init();            /* consoles' MMIO in the final page tables */

	tsc_calibrate();
	fpu_init_cpu();                 /* before the APs copy this CPU's CR4 */
	smp_init(&boot_info);
	if ((r = kmalloc_init()))
		panic("kmalloc init failed: %s", errno_name(r));

	/* The staged virtualization init; what it takes must come back if it
	 * rolls back, so measure first. */
	mem_snapshot(&boot_baseline);
	struct hypercall_regs probe = { .nr = HC_API_VERSION };

	hypercall_before_init = hypercall_dispatch(&probe);
	r = virt_init();
	if (r && !selftest_requested()) {
		pr_err("hv: no usable hardware virtualization; stopping\n");
		arch_exit(virt_ops || r != -ENODEV ? HV_EXIT_INIT_FAILED : HV_EXIT_NO_VIRT);
	}
	if (!r)
		virt_status_print();

	selftest_run_requested();
	debugcon_run_boot_commands();
	pr_info("hv: ready\n");
	root_run();
	debugcon_loop();
}
