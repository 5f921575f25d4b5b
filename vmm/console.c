/*
 * Every VM's console on the machine's one serial line (docs/vmm.md).
 *
 * Output: each VM's bytes collect in a buffer and go to the hypervisor's
 * console (HC_CONSOLE_WRITE, under its lock) a line at a time, so a VM's
 * line is never cut by another's or by the hypervisor's log. The VM that
 * has the input is interactive: its partial line (a shell prompt) goes out
 * too once it has waited a moment. With more than one VM, the lines of
 * the others carry a "[vmN] " prefix.
 *
 * Input: the VMM claims the console's input (HC_CONSOLE_READ) and gives it
 * to one VM's UART at a time, or to the hypervisor's debug console
 * (HC_CONSOLE_INPUT). Ctrl-A three times moves it on: vm1, vm2, ...,
 * the debug console, vm1 again (Xen's key), and each switch is announced.
 */
#include "vmm.h"

#define OUT_SIZE        512
#define IN_SIZE         1024
#define PARTIAL_WAIT_MS 20              /* a prompt goes out after this */
#define CTRL_A          0x01

static struct out_buf {
	vmm_lock_t lock;
	char buf[OUT_SIZE];
	unsigned int len;
	uint64_t first_tsc;             /* when the oldest byte in buf arrived */
} out[VMM_MAX_VMS];

static struct in_queue {
	vmm_lock_t lock;
	uint8_t buf[IN_SIZE];
	unsigned int head, tail;
} in[VMM_MAX_VMS];

static int focus;                       /* a VM's index, or -1: the debug console */
static unsigned int ctrl_a;             /* Ctrl-As in a row */
static uint64_t tsc_per_ms;

void vmm_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (hcall(HC_CONSOLE_WRITE, (uint64_t)buf, (uint64_t)n, 0, 0) < 0)
		gputs(buf);                     /* an old hypervisor: the UART itself */
}

static unsigned int running_vms(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_vms; i++)
		n += vms[i].state != VM_OFF;
	return n;
}

/* Write out what the buffer holds, a prefix before each line start. */
static void flush(unsigned int i, unsigned int upto)
{
	struct out_buf *o = &out[i];
	char line[OUT_SIZE + 16];
	unsigned int n = 0;
	bool prefix = (int)i != focus && running_vms() > 1;

	if (!upto)
		return;
	if (prefix)
		n = (unsigned int)snprintf(line, 16, "[vm%u] ", vms[i].id);
	gmemcpy(line + n, o->buf, upto);
	hcall(HC_CONSOLE_WRITE, (uint64_t)line, n + upto, 0, 0);
	o->len -= upto;
	gmemmove(o->buf, o->buf + upto, o->len);
	o->first_tsc = o->len ? rdtsc() : 0;
}

/* Complete lines go out now; a full buffer too (a line longer than the
 * buffer is cut, the rest follows). */
static void flush_lines(unsigned int i)
{
	struct out_buf *o = &out[i];

	for (;;) {
		unsigned int nl = 0;

		while (nl < o->len && o->buf[nl] != '\n')
			nl++;
		if (nl < o->len)
			flush(i, nl + 1);
		else if (o->len == OUT_SIZE)
			flush(i, o->len);
		else
			return;
	}
}

void console_out(struct vmm_vm *vm, uint8_t c)
{
	unsigned int i = vm->id - 1;
	struct out_buf *o = &out[i];

	if (c == '\r')                          /* the hypervisor's console adds its own */
		return;
	vmm_lock(&o->lock);
	if (!o->len)
		o->first_tsc = rdtsc();
	o->buf[o->len++] = (char)c;
	if (c == '\n' || o->len == OUT_SIZE)
		flush_lines(i);
	vmm_unlock(&o->lock);
}

int console_peek_input(struct vmm_vm *vm)
{
	struct in_queue *q = &in[vm->id - 1];

	return q->head == q->tail ? -1 : q->buf[q->tail % IN_SIZE];
}

void console_take_input(struct vmm_vm *vm)
{
	struct in_queue *q = &in[vm->id - 1];

	if (q->head != q->tail)
		q->tail++;
}

static void announce(void)
{
	if (focus < 0)
		vmm_printf("[vmm] console input: the hypervisor's debug console (type help; "
			   "Ctrl-A three times switches)\n");
	else
		vmm_printf("[vmm] console input: vm%u (Ctrl-A three times switches)\n",
			   vms[focus].id);
}

/* Ctrl-A x3: the next running VM after the current one, then the debug
 * console, then the first VM again. When the VM that has the input ends,
 * the next running VM gets it (the debug console if none is left). */
static void switch_focus(bool to_console_after_last)
{
	int next = focus;

	for (unsigned int tries = 0; tries <= nr_vms; tries++) {
		next = next + 1 >= (int)nr_vms ? -1 : next + 1;
		if (next < 0 && to_console_after_last)
			break;
		if (next >= 0 && next != focus && vms[next].state == VM_RUNNING)
			break;
		if (next < 0)
			continue;
	}
	if (next == focus || (next >= 0 && vms[next].state != VM_RUNNING))
		next = -1;
	if (focus >= 0)
		flush(focus, out[focus].len);   /* its partial line, before the switch */
	focus = next;
	announce();
}

static void deliver(uint8_t c)
{
	if (focus < 0) {
		hcall(HC_CONSOLE_INPUT, (uint64_t)&c, 1, 0, 0);
		return;
	}
	struct vmm_vm *vm = &vms[focus];
	struct in_queue *q = &in[focus];

	if (vm->state != VM_RUNNING)
		return;
	if (q->head - q->tail < IN_SIZE)
		q->buf[q->head++ % IN_SIZE] = c;
	vmm_lock(&vm->dev_lock);
	uart_feed(vm);
	vmm_unlock(&vm->dev_lock);
}

void console_poll(void)
{
	uint8_t buf[64];
	int64_t n = hcall(HC_CONSOLE_READ, (uint64_t)buf, sizeof(buf), 0, 0);

	for (int64_t k = 0; k < n; k++) {
		if (buf[k] == CTRL_A) {
			if (++ctrl_a == 3) {
				ctrl_a = 0;
				switch_focus(true);
			}
			continue;
		}
		for (; ctrl_a; ctrl_a--)        /* one or two were just Ctrl-A */
			deliver(CTRL_A);
		deliver(buf[k]);
	}
	/* The interactive VM's partial line (a prompt) once it waited. */
	if (focus >= 0) {
		struct out_buf *o = &out[focus];

		vmm_lock(&o->lock);
		if (o->len && rdtsc() - o->first_tsc > PARTIAL_WAIT_MS * tsc_per_ms)
			flush(focus, o->len);
		vmm_unlock(&o->lock);
	}
}

void console_vm_gone(struct vmm_vm *vm, bool restarting)
{
	unsigned int i = vm->id - 1;
	struct out_buf *o = &out[i];

	vmm_lock(&o->lock);
	if (o->len && o->buf[o->len - 1] != '\n' && o->len < OUT_SIZE)
		o->buf[o->len++] = '\n';       /* its last line ends with it */
	flush(i, o->len);
	vmm_unlock(&o->lock);
	in[i].head = in[i].tail = 0;
	if (focus == (int)i && !restarting)
		switch_focus(false);
}

void console_init(void)
{
	tsc_per_ms = root_info->tsc_khz ? root_info->tsc_khz : 1000000;
	focus = -1;
	hcall(HC_CONSOLE_READ, (uint64_t)&ctrl_a, 0, 0, 0);    /* claim the input now */
	ctrl_a = 0;
	switch_focus(false);            /* the first VM running, else the debug console */
}
