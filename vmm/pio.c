/*
 * The devices a guest reaches through port I/O, at the guest's pace in the
 * VMM (the hypervisor keeps the local APIC and IOAPIC): a 16550A on COM1
 * with its interrupt on IOAPIC pin 4, the reset line of an i8042, the
 * isa-debug-exit port 0xf4, the 0xe9 debug port. Everything else a PC has
 * (8259 PICs, PIT, CMOS, PCI configuration) answers "absent", as
 * ../shared/guests.md explains, and any other port is counted and named
 * once. docs/vmm.md has the table.
 */
#include "vmm.h"

#define COM1            0x3f8
#define I8042_DATA      0x60
#define I8042_STATUS    0x64

/* The UART's interrupt output goes to IOAPIC pin 4 (ISA IRQ 4, as the MP
 * table says): the hypervisor's IOAPIC turns edges into interrupts. */
static void uart_irq(void *ctx, bool level)
{
	struct vmm_vm *vm = ctx;

	vm->irq4 = level;
	hcall(HC_IRQ_LINE, (uint64_t)vm->handle, 4, level, 0);
}

static void uart_tx(void *ctx, uint8_t c)
{
	console_out(ctx, c);
}

void dev_reset(struct vmm_vm *vm)
{
	uart_init(&vm->uart, uart_tx, uart_irq, vm);
	vm->irq4 = false;
	vm->pci_addr = 0;
	vm->i8042_out_len = 0;
	vm->i8042_ctr = 0x45;           /* translate, system flag, kbd interrupt */
	vm->i8042_cmd = 0;
	vm->unknown_ports = vm->unknown_mmio = 0;
	gmemset(vm->port_seen, 0, sizeof(vm->port_seen));
}

/* Move typed bytes into the UART's FIFO while it has room. */
void uart_feed(struct vmm_vm *vm)
{
	int c;

	while ((c = console_peek_input(vm)) >= 0 && uart_rx(&vm->uart, (uint8_t)c))
		console_take_input(vm);
}

/*
 * An i8042 just big enough for Linux (Firecracker's choice): the command
 * byte (0x20/0x60), self-test (0xaa -> 0x55), interface test (0xab ->
 * 0), the output port (0xd0/0xd1) and pulsing reset (0xfe), which ends
 * the VM (reboot=k). No keyboard or mouse is behind it.
 */
static void i8042_push(struct vmm_vm *vm, uint8_t b)
{
	if (vm->i8042_out_len < sizeof(vm->i8042_out))
		vm->i8042_out[vm->i8042_out_len++] = b;
}

static uint8_t i8042_read(struct vmm_vm *vm, uint16_t port)
{
	uint8_t b;

	if (port == I8042_STATUS)       /* OBF, system flag, not inhibited; input buffer empty */
		return (vm->i8042_out_len ? 1 : 0) | 0x04 | 0x10;
	if (!vm->i8042_out_len)
		return 0;
	b = vm->i8042_out[0];
	vm->i8042_out_len--;
	for (unsigned int i = 0; i < vm->i8042_out_len; i++)
		vm->i8042_out[i] = vm->i8042_out[i + 1];
	return b;
}

/* false: the guest pulsed reset. */
static bool i8042_write(struct vmm_vm *vm, uint16_t port, uint8_t v)
{
	if (port == I8042_DATA) {
		if (vm->i8042_cmd == 0x60)
			vm->i8042_ctr = v;
		vm->i8042_cmd = 0;              /* other data: keyboard commands, none behind */
		return true;
	}
	vm->i8042_cmd = 0;
	switch (v) {
	case 0x20: i8042_push(vm, vm->i8042_ctr); break;
	case 0x60: case 0xd1: vm->i8042_cmd = v; break;
	case 0xaa: i8042_push(vm, 0x55); break;
	case 0xa9: case 0xab: i8042_push(vm, 0x00); break;
	case 0xd0: i8042_push(vm, 0x01); break;    /* output port: not in reset */
	case 0xfe: return false;
	}
	return true;
}

/*
 * The CMOS/RTC (MC146818) just enough for Linux's clock: registers A-D
 * (no update in progress, 24-hour BCD, valid RAM and time) and a clock
 * that starts at 2026-01-01 00:00:00 when the VM boots and runs with the
 * TSC. The rest of CMOS RAM reads 0. Without it Linux waits seconds for
 * an update-in-progress bit that never clears.
 */
static uint8_t bcd(unsigned int v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t cmos_read(struct vmm_vm *vm)
{
	uint64_t s = (rdtsc() - vm->boot_tsc) / ((uint64_t)root_info->tsc_khz * 1000 ?: 1);

	switch (vm->cmos_index & 0x7f) {
	case 0x00: return bcd(s % 60);
	case 0x02: return bcd(s / 60 % 60);
	case 0x04: return bcd(s / 3600 % 24);
	case 0x06: return (uint8_t)(4 + s / 86400) % 7 + 1;        /* 2026-01-01: a Thursday */
	case 0x07: return bcd(1 + (unsigned int)(s / 86400 % 28));
	case 0x08: return 0x01;
	case 0x09: return 0x26;
	case 0x0a: return 0x26;                 /* 32.768 kHz, 1024 Hz; UIP clear */
	case 0x0b: return 0x02;                 /* 24-hour, BCD, no interrupts */
	case 0x0d: return 0x80;                 /* valid RAM and time */
	case 0x32: return 0x20;                 /* century */
	default: return 0;
	}
}

static bool port_reported(struct vmm_vm *vm, uint16_t port)
{
	uint8_t bit = (uint8_t)(1u << (port & 7));
	bool seen = vm->port_seen[port >> 3] & bit;

	vm->port_seen[port >> 3] |= bit;
	return seen;
}

void pio_exit(struct vmm_vcpu *vc)
{
	struct vmm_vm *vm = vc->vm;
	struct hv_exit *e = vc->exit;
	uint16_t port = e->io.port;
	uint32_t ones = e->io.size == 4 ? 0xffffffff : e->io.size == 2 ? 0xffff : 0xff;
	uint64_t in = ones;
	const char *stop = NULL;
	int code = 0;

	vmm_lock(&vm->dev_lock);
	if (port >= COM1 && port < COM1 + 8) {
		if (e->io.out) {
			uart_write(&vm->uart, port - COM1, (uint8_t)e->io.data);
		} else {
			in = uart_read(&vm->uart, port - COM1);
			if (port == COM1)
				uart_feed(vm);          /* room in the FIFO again */
		}
	} else if (port == I8042_DATA || port == I8042_STATUS) {
		if (!e->io.out)
			in = i8042_read(vm, port);
		else if (!i8042_write(vm, port, (uint8_t)e->io.data))
			stop = "reset (i8042)";
	} else if (port == 0xf4) {              /* isa-debug-exit: the value is the exit code */
		if (e->io.out) {
			stop = "debug exit";
			code = (int)e->io.data;
		}
	} else if (port == 0xe9) {              /* debug port: a byte of console output */
		if (e->io.out)
			console_out(vm, (uint8_t)e->io.data);
	} else if (port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1) {
		in = 0;                         /* 8259: reads 0, so Linux finds none */
	} else if (port == 0x70 || port == 0x71) {
		if (port == 0x70 && e->io.out)
			vm->cmos_index = (uint8_t)e->io.data;
		else if (port == 0x71 && !e->io.out)
			in = cmos_read(vm);
	} else if (port == 0xcf8) {             /* PCI configuration: no device answers */
		if (e->io.out && e->io.size == 4)
			vm->pci_addr = (uint32_t)e->io.data;
		else
			in = vm->pci_addr;
	} else if ((port >= 0xcfc && port < 0xd00) || (port >= 0x40 && port <= 0x43) ||
		   port == 0x61 || port == 0x80 ||
		   (port >= 0x2f8 && port < 0x300) || (port >= 0x3e8 && port < 0x3f0) ||
		   (port >= 0x2e8 && port < 0x2f0)) {
		/* PIT, speaker, CMOS/RTC, POST code, COM2-4: absent. */
	} else {
		vm->unknown_ports++;
		if (!port_reported(vm, port))
			vmm_printf("vm %u: port 0x%x (%s, %u bytes) has nothing behind it\n",
				   vm->id, port, e->io.out ? "write" : "read", e->io.size);
	}
	if (!e->io.out)
		e->io.data = in & ones;
	vmm_unlock(&vm->dev_lock);
	if (stop)
		vm_stop(vm, stop, code);
}

/* The hypervisor emulated the instruction and hands over the access: no
 * device of the VMM has MMIO. Reads see all ones (nothing there), writes
 * go nowhere; each VM names the first such address. */
void mmio_exit(struct vmm_vcpu *vc)
{
	struct vmm_vm *vm = vc->vm;
	struct hv_exit *e = vc->exit;

	if (!vm->unknown_mmio++)
		vmm_printf("vm %u: MMIO %s at 0x%lx (%u bytes) has nothing behind it\n", vm->id,
			   e->mmio.write ? "write" : "read", e->mmio.gpa, e->mmio.size);
	if (!e->mmio.size) {
		/* Not an instruction the hypervisor could emulate: skip it
		 * would be a guess; the VM cannot go on. */
		vm_stop(vm, "MMIO instruction not emulated", e->mmio.insn_len ? e->mmio.insn[0] : 0);
		return;
	}
	if (!e->mmio.write)
		e->mmio.data = ~0ULL;
}
