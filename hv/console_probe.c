/*
 * Console discovery (hv/console_probe.h). console=auto takes, in order:
 *  1. the UART that ACPI's SPCR names (else DBG2's first 16550): the
 *     firmware's choice; when there is one, no other serial port is used;
 *  2. otherwise port 0 of every PCI serial controller (Intel AMT SOL
 *     among them), then each legacy COM port whose scratch register answers;
 *  3. a screen: the loader's framebuffer, else the VGA text screen.
 * Input comes from the first serial console. Everything that is found but
 * cannot be used is logged with the reason and skipped.
 */
#include "hv/console_probe.h"
#include "hv/acpi.h"
#include "hv/boot.h"
#include "hv/console.h"
#include "hv/errno.h"
#include "hv/fbcon.h"
#include "hv/pci_serial.h"
#include "hv/printk.h"
#include "hv/spcr.h"
#include "hv/string.h"
#include "hv/uart.h"
#include "hv/unaligned.h"
#include "hv/vga.h"
#include <x86/cpu.h>

#define BOOT_MAP_END    (4ULL * GiB)    /* what boot/entry.S maps */
#define NAME_MAX        CONSOLE_NAME_MAX
/* Cells a screen draws per line once the UARTs are done (the rest in idle
 * time): about a line's worth; a VGA cell is one store, a glyph 32-64. */
#define VGA_LINE_BUDGET 96
#define FB_LINE_BUDGET  64

static struct console cons[CONSOLES_MAX];
static struct uart uarts[CONSOLES_MAX];
static unsigned int ncons;
static struct vga vga;
static struct fbcon fb;
static bool have_vga, have_fb;

static unsigned int phys_bits(void)
{
	if (cpuid(0x80000000).eax >= 0x80000008)
		return cpuid(0x80000008).eax & 0xff;
	return 36;
}

/* Registers or pixels must be I/O, not RAM (and addressable). */
static int check_range(const char *what, uint64_t base, uint64_t len)
{
	const char *why;
	int r = console_check_mmio(boot_info.mmap, boot_info.mmap_count, base, len,
				   phys_bits(), &why);

	if (r)
		pr_err("console: %s at 0x%llx: %s; not used\n", what, (unsigned long long)base, why);
	return r;
}

static struct console *new_console(void)
{
	struct console *c;

	if (ncons == CONSOLES_MAX) {
		pr_err("console: more than %u consoles; the rest are not used\n", CONSOLES_MAX);
		return NULL;
	}
	c = &cons[ncons];
	memset(c, 0, sizeof(*c));
	return c;
}

static int add(struct console *c)
{
	int r = console_register(c);

	if (r) {
		pr_err("console: %s: %s (%s); not used\n", c->name,
		       c->ops == &uart_console_ops ? "no UART answers" : "it does not start",
		       errno_name(r));
		return r;
	}
	ncons++;
	return 0;
}

static bool uart_known(const struct uart *u)
{
	for (unsigned int i = 0; i < ncons; i++) {
		const struct uart *o = cons[i].dev;

		if (cons[i].ops == &uart_console_ops && o->space == u->space && o->base == u->base)
			return true;
	}
	return false;
}

/* A UART console; `what` says who found it ("COM1", "SPCR", "PCI 00:03.0"). */
static int add_uart(const struct uart *u, const char *what)
{
	struct console *c;
	int n;

	if (uart_known(u))
		return 0;
	c = new_console();
	if (!c)
		return -ENOSPC;
	uarts[ncons] = *u;
	c->ops = &uart_console_ops;
	c->dev = &uarts[ncons];
	if (u->space == UART_IO) {
		n = snprintf(c->name, NAME_MAX, "%s I/O 0x%llx", what, (unsigned long long)u->base);
	} else {
		n = snprintf(c->name, NAME_MAX, "%s MMIO 0x%llx (%u-bit)", what,
			     (unsigned long long)u->base, u->width * 8);
		c->mmio_base = u->base;
		c->mmio_len = uart_span(u);
		c->late = u->base + uart_span(u) > BOOT_MAP_END;
	}
	if (n < NAME_MAX) {
		if (u->baud)
			snprintf(c->name + n, NAME_MAX - n, ", %u baud", u->baud);
		else
			snprintf(c->name + n, NAME_MAX - n, ", the firmware's baud");
	}
	return add(c);
}

/* ------------------------------------------------------------- SPCR/DBG2 */

/* Firmware tables through the boot page tables (the low 4 GiB). */
static const void *acpi_map_boot(phys_addr_t pa, size_t len, void *ctx)
{
	if (pa + len < pa || pa + len > BOOT_MAP_END)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

static bool find_rsdp(struct acpi_rsdp_info *info)
{
	phys_addr_t pa;

	if (boot_info.rsdp_src != BOOT_RSDP_NONE &&
	    acpi_rsdp_validate(boot_info.rsdp, boot_info.rsdp_len, info) == 0)
		return true;
	return acpi_rsdp_scan(acpi_map_boot, NULL, &pa, info) == 0;
}

/* The firmware's console port: SPCR, else DBG2. 0 once one is added. */
static int probe_spcr(bool asked)
{
	static const char *const sigs[] = { "SPCR", "DBG2" };
	struct acpi_rsdp_info info;

	if (!find_rsdp(&info)) {
		if (asked)
			pr_err("console: spcr: no ACPI tables found\n");
		return -ENOENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		const struct acpi_sdt_header *t;
		struct spcr_port p;
		const char *why;
		char what[32];
		int r = acpi_find_table(&info, sigs[i], acpi_map_boot, NULL, &t);

		if (r == -ENOENT)
			continue;
		if (r) {                /* acpi.c said what is wrong with it */
			pr_warn("console: the firmware's %s table is unusable (%s); ignored\n",
				sigs[i], errno_name(r));
			continue;
		}
		memset(&p, 0, sizeof(p));
		if (i == 0)
			r = spcr_parse(t, get_le32((const uint8_t *)t + 4), &p, &why);
		else
			r = dbg2_parse(t, get_le32((const uint8_t *)t + 4), &p, &why);
		if (r) {
			if (r == -EOPNOTSUPP)
				pr_warn("console: %s: %s (interface type 0x%x, %s); ignored\n", sigs[i],
					why, p.type, spcr_type_name(p.type));
			else
				pr_warn("console: %s: %s; ignored\n", sigs[i], why);
			continue;
		}
		snprintf(what, sizeof(what), "%s %s", sigs[i], spcr_type_name(p.type));
		if (p.uart.space == UART_MMIO && check_range(what, p.uart.base, uart_span(&p.uart)))
			continue;
		if (!add_uart(&p.uart, what))
			return 0;
	}
	if (asked)
		pr_err("console: spcr: the firmware names no usable serial port\n");
	return -ENOENT;
}

/* ------------------------------------------------------------------- PCI */

static void bdf_str(char *buf, size_t size, uint16_t bdf)
{
	snprintf(buf, size, "%02x:%02x.%x", PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
}

/* Port `index` of the serial controller at bdf. */
static int add_pci(uint16_t bdf, unsigned int index)
{
	struct pci_serial_fn f = { 0 };
	struct uart ports[PCI_SERIAL_MAX_PORTS];
	uint32_t id = pci_read32(bdf, PCI_VENDOR_ID), cls = pci_read32(bdf, PCI_CLASS_REV);
	const char *why, *amt = "";
	char at[16], what[40];
	int n;

	bdf_str(at, sizeof(at), bdf);
	if ((id & 0xffff) == 0xffff) {
		pr_err("console: pci@%s: no PCI function there\n", at);
		return -ENODEV;
	}
	f.vendor = (uint16_t)id;
	f.device = (uint16_t)(id >> 16);
	f.class = (uint8_t)(cls >> 24);
	f.subclass = (uint8_t)(cls >> 16);
	f.progif = (uint8_t)(cls >> 8);
	if (!pci_is_serial(f.class, f.subclass)) {
		pr_err("console: pci@%s (%04x:%04x) is not a serial controller (class %02x/%02x)\n",
		       at, f.vendor, f.device, f.class, f.subclass);
		return -ENODEV;
	}
	/* Intel chipsets put the AMT KT function (Serial-over-LAN) at 00:16.3. */
	if (f.vendor == 0x8086 && PCI_DEV(bdf) == 0x16 && PCI_FN(bdf) == 3)
		amt = ", Intel AMT Serial-over-LAN";
	pci_read_bars(bdf, f.bar);
	n = pci_serial_match(&f, ports, ARRAY_SIZE(ports), &why);
	if (n <= 0) {
		pr_warn("console: PCI %s (%04x:%04x%s) serial controller: %s; skipped\n",
			at, f.vendor, f.device, amt, why);
		return -ENODEV;
	}
	pr_info("console: PCI %s (%04x:%04x%s): %d UART port%s, the first at %s 0x%llx\n",
		at, f.vendor, f.device, amt, n, n > 1 ? "s" : "",
		ports[0].space == UART_IO ? "I/O" : "MMIO", (unsigned long long)ports[0].base);
	if (index >= (unsigned int)n) {
		pr_err("console: pci@%s/%u: it has %d port%s\n", at, index, n, n > 1 ? "s" : "");
		return -ENODEV;
	}
	if (index)
		snprintf(what, sizeof(what), "PCI %s/%u", at, index);
	else
		snprintf(what, sizeof(what), "PCI %s", at);
	if (ports[index].space == UART_MMIO &&
	    check_range(what, ports[index].base, uart_span(&ports[index])))
		return -EINVAL;
	pci_enable_decode(bdf, ports[index].space == UART_IO, ports[index].space == UART_MMIO);
	return add_uart(&ports[index], what);
}

struct pci_walk {
	bool first_only;
	unsigned int found;
};

static bool pci_serial_cb(uint16_t bdf, void *arg)
{
	struct pci_walk *w = arg;
	uint32_t cls = pci_read32(bdf, PCI_CLASS_REV);

	if (!pci_is_serial((uint8_t)(cls >> 24), (uint8_t)(cls >> 16)))
		return true;
	if (add_pci(bdf, 0) == 0)
		w->found++;
	return !(w->first_only && w->found);
}

static unsigned int probe_pci(bool first_only)
{
	struct pci_walk w = { .first_only = first_only };

	pci_for_each(pci_serial_cb, &w);
	return w.found;
}

/* ---------------------------------------------------------------- legacy */

static void probe_legacy(void)
{
	static const uint16_t ports[] = { COM1_PORT, COM2_PORT, COM3_PORT, COM4_PORT };

	for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
		struct uart u = { .space = UART_IO, .width = 1, .base = ports[i],
				  .baud = UART_BAUD_DEFAULT };
		char what[8];

		if (uart_known(&u) || !uart_probe(&u))
			continue;
		snprintf(what, sizeof(what), "COM%u", (unsigned int)i + 1);
		add_uart(&u, what);
	}
}

static int add_port(uint16_t port)
{
	static const uint16_t com[] = { COM1_PORT, COM2_PORT, COM3_PORT, COM4_PORT };
	struct uart u = { .space = UART_IO, .width = 1, .base = port, .baud = UART_BAUD_DEFAULT };
	char what[8] = "port";

	for (size_t i = 0; i < ARRAY_SIZE(com); i++)
		if (com[i] == port)
			snprintf(what, sizeof(what), "COM%u", (unsigned int)i + 1);
	return add_uart(&u, what);
}

static int add_mmio(uint64_t addr, uint8_t width)
{
	struct uart u = { .space = UART_MMIO, .width = width, .base = addr,
			  .baud = UART_BAUD_DEFAULT };

	if (check_range("mmio UART", addr, uart_span(&u)))
		return -EINVAL;
	return add_uart(&u, "mmio");
}

/* --------------------------------------------------------------- screens */

static int add_fb(bool asked)
{
	const struct boot_fb *bf = &boot_info.fb;
	const char *why;
	struct console *c;
	char what[64];
	int r;

	if (have_fb)
		return 0;
	if (!boot_info.has_fb || bf->type == MB2_FB_EGA_TEXT) {
		if (asked)
			pr_err("console: fb: the loader handed over no framebuffer\n");
		return -ENODEV;
	}
	snprintf(what, sizeof(what), "framebuffer %ux%u %u bpp", bf->width, bf->height, bf->bpp);
	r = fbcon_setup(&fb, bf, &why);
	if (r) {
		pr_err("console: %s at 0x%llx: %s; not used\n", what,
		       (unsigned long long)bf->addr, why);
		return r;
	}
	if ((r = check_range(what, fb.phys, fb.size)))
		return r;
	c = new_console();
	if (!c)
		return -ENOSPC;
	c->ops = &fbcon_ops;
	c->dev = &fb;
	c->screen = true;
	c->line_budget = FB_LINE_BUDGET;
	c->mmio_base = fb.phys;
	c->mmio_len = fb.size;
	c->late = fb.phys + fb.size > BOOT_MAP_END;
	snprintf(c->name, NAME_MAX, "%s at 0x%llx", what, (unsigned long long)fb.phys);
	r = add(c);
	have_fb = !r;
	return r;
}

static int add_vga(bool asked)
{
	const struct boot_fb *bf = &boot_info.fb;
	uint64_t addr = VGA_TEXT_BASE;
	uint32_t cols = 80, rows = 25, pitch = 160;
	struct console *c;
	const char *why;
	int r;

	if (have_vga)
		return 0;
	if (boot_info.has_fb && bf->type == MB2_FB_EGA_TEXT) {
		addr = bf->addr;
		cols = bf->width;
		rows = bf->height;
		pitch = bf->pitch;
	} else if (boot_info.has_fb || boot_info.has_efi64_systab) {
		if (asked)
			pr_err("console: vga: the screen is a framebuffer, not VGA text\n");
		return -ENODEV;
	} else if (!asked && !vga_text_present()) {
		return -ENODEV;
	}
	r = vga_setup(&vga, addr, cols, rows, pitch, &why);
	if (r) {
		pr_err("console: VGA text %ux%u at 0x%llx: %s; not used\n", cols, rows,
		       (unsigned long long)addr, why);
		return r;
	}
	if (addr != VGA_TEXT_BASE && (r = check_range("VGA text", addr, (uint64_t)pitch * rows)))
		return r;
	c = new_console();
	if (!c)
		return -ENOSPC;
	c->ops = &vga_console_ops;
	c->dev = &vga;
	c->screen = true;
	c->line_budget = VGA_LINE_BUDGET;
	snprintf(c->name, NAME_MAX, "VGA text %ux%u at 0x%llx", cols, rows,
		 (unsigned long long)addr);
	r = add(c);
	have_vga = !r;
	return r;
}

/* ------------------------------------------------------------------ auto */

static void probe_auto(void)
{
	if (probe_spcr(false)) {
		probe_pci(false);
		probe_legacy();
	}
	if (add_fb(false))
		add_vga(false);
}

void console_probe(const struct console_spec *spec)
{
	const struct boot_fb *bf = &boot_info.fb;
	bool only_auto = true;

	if (boot_info.has_fb)
		pr_debug("console: the loader's framebuffer: type %u, %ux%u, %u bpp, pitch %u, at 0x%llx\n",
			 bf->type, bf->width, bf->height, bf->bpp, bf->pitch,
			 (unsigned long long)bf->addr);
	else
		pr_debug("console: the loader handed over no framebuffer\n");

	for (unsigned int i = 0; i < spec->n; i++) {
		const struct console_item *it = &spec->item[i];

		if (it->kind != CON_AUTO)
			only_auto = false;
		switch (it->kind) {
		case CON_AUTO:
			probe_auto();
			break;
		case CON_SPCR:
			probe_spcr(true);
			break;
		case CON_PORT:
			add_port((uint16_t)it->addr);
			break;
		case CON_PCI:
			if (!probe_pci(true))
				pr_err("console: pci: no usable PCI serial controller found\n");
			break;
		case CON_PCI_AT:
			add_pci(it->bdf, it->index);
			break;
		case CON_MMIO:
			add_mmio(it->addr, it->width);
			break;
		case CON_VGA:
			add_vga(true);
			break;
		case CON_FB:
			add_fb(true);
			break;
		}
	}
	if (!ncons && !only_auto) {
		pr_err("console: nothing that console= names works; discovering the consoles instead (console=auto)\n");
		probe_auto();
	}
}
