/* The serial debug console (hv/debugcon.h). */
#include "hv/debugcon.h"
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/cpu_hotplug.h"
#include "hv/debug_stats.h"
#include "hv/errno.h"
#include "hv/exits.h"
#include "hv/irqflags.h"
#include "hv/spinlock.h"
#include <x86/tsc.h>
#include "hv/leakcheck.h"
#include "hv/options.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/reboot.h"
#include "hv/slab.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/syscore.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include <x86/exit_codes.h>

static char boot_cmds[256];

static int parse_debugcmd(const char *value, void *arg)
{
	if (!value || strlen(value) >= sizeof(boot_cmds))
		return -EINVAL;
	memcpy(boot_cmds, value, strlen(value) + 1);
	return 0;
}
CMDLINE_OPTION(debugcmd, "debugcmd", parse_debugcmd, NULL,
	       "debug console commands to run at boot: CMD[,CMD...], ':' for spaces");

static int parse_cpu(const char *arg, unsigned int *cpu)
{
	unsigned int v = 0;

	if (!arg || !*arg)
		return -EINVAL;
	for (; *arg; arg++) {
		if (*arg < '0' || *arg > '9' || v >= NR_CPUS)
			return -EINVAL;
		v = v * 10 + (unsigned int)(*arg - '0');
	}
	if (v >= NR_CPUS)
		return -EINVAL;
	*cpu = v;
	return 0;
}

static void show_cache(const struct cache_stats *st, void *arg)
{
	pr_info("  %-16s size %5lu align %4lu  in use %6lu  slabs %4lu  pages %5lu\n",
		st->name, st->obj_size, st->align, st->in_use, st->slabs, st->pages);
}

static int cmd_help(const char *arg);

static int cmd_virt(const char *arg) { virt_status_print(); return 0; }
static int cmd_stats(const char *arg) { return debug_stats_show(arg && *arg ? arg : NULL); }
static int cmd_caches(const char *arg) { cache_for_each(show_cache, NULL); return 0; }
static int cmd_leakcheck(const char *arg) { return mem_compare(&boot_baseline, "since boot"); }
static int cmd_suspend(const char *arg) { return syscore_suspend(); }
static int cmd_resume(const char *arg) { syscore_resume(); return 0; }
static int cmd_virt_init(const char *arg) { fail_init.stage = -1; return virt_init(); }
static int cmd_virt_exit(const char *arg) { virt_exit(); return 0; }
static int cmd_reboot(const char *arg) { hv_reboot(REBOOT_RESET); }
static int cmd_poweroff(const char *arg) { hv_reboot(REBOOT_POWEROFF); }

static int cmd_mem(const char *arg)
{
	struct page_stats st;

	page_get_stats(&st);
	pr_info("pages: %lu total, %lu free, %lu used; %lu allocs, %lu frees, %lu failures\n",
		st.total_pages, st.free_pages, st.used_pages, st.allocs, st.frees, st.failures);
	return 0;
}

static int cmd_cpus(const char *arg)
{
	unsigned int cpu;

	for (cpu = 0; cpu < NR_CPUS; cpu++)
		if (cpumask_test(&cpu_online_mask, cpu) || cpu_is_parked(cpu))
			pr_info("cpu %u: APIC ID %u, %s\n", cpu, cpu_apic_id[cpu],
				cpu_is_parked(cpu) ? "offline" : "online");
	return 0;
}

static int cmd_offline(const char *arg)
{
	unsigned int cpu;

	return parse_cpu(arg, &cpu) ? -EINVAL : cpu_offline(cpu);
}

static int cmd_online(const char *arg)
{
	unsigned int cpu;

	return parse_cpu(arg, &cpu) ? -EINVAL : cpu_online(cpu);
}

static int cmd_exit(const char *arg)
{
	arch_exit(arg && !strcmp(arg, "fail") ? HV_EXIT_FAIL : HV_EXIT_PASS);
}

/* ------------------------------------------------- consoles and the log */

/* What the log ring holds, oldest first, whole lines; not logged again. */
static int cmd_dmesg(const char *arg)
{
	char buf[1024];
	uint64_t pos = 0, end = console_log_head(), next, dropped;
	size_t n;
	bool first = true;

	pr_info("dmesg: %llu bytes logged since boot, %llu lines overwritten (a %llu-byte ring)\n",
		(unsigned long long)end, (unsigned long long)console_log_lines_dropped(),
		(unsigned long long)console_log_size());
	while (pos < end && (n = console_log_read(pos, buf, MIN(sizeof(buf), (size_t)(end - pos)),
						   &next, &dropped))) {
		size_t start = 0, cut = n;

		if (first && dropped) {         /* the oldest line is cut: start after it */
			while (start < n && buf[start++] != '\n')
				;
			console_write_unlogged("[...]\n", 6);
		}
		first = false;
		if (next < end) {               /* whole lines only: the rest comes next round */
			while (cut > start && buf[cut - 1] != '\n')
				cut--;
			if (cut == start)
				cut = n;        /* a line longer than buf */
		}
		console_write_unlogged(buf + start, cut - start);
		pos = next - (n - cut);
	}
	return 0;
}

static uint64_t ns_per(uint64_t cycles, uint64_t n)
{
	return n ? tsc_to_us(cycles * 1000) / n : 0;
}

static void show_console(const struct console *c, bool input, void *arg)
{
	uint64_t ns = ns_per(c->cycles, c->writes);

	pr_info("  %-4s %s%s%s: %llu lines, %llu bytes, %llu.%03llu us per line in the driver%s\n",
		c->ops->kind, c->name, input ? " (input)" : "", c->enabled ? "" : " (off)",
		(unsigned long long)c->writes, (unsigned long long)c->bytes,
		(unsigned long long)(ns / 1000), (unsigned long long)(ns % 1000),
		c->stalls ? ", lines cut short" : "");
}

static int cmd_consoles(const char *arg)
{
	console_for_each(show_console, NULL);
	return 0;
}

#define BENCH_MAX_CONSOLES 8

struct bench_snap {
	unsigned int n;
	uint64_t cycles[BENCH_MAX_CONSOLES];
	char names[BENCH_MAX_CONSOLES][CONSOLE_NAME_MAX];
};

static void snap_console(const struct console *c, bool input, void *arg)
{
	struct bench_snap *s = arg;

	if (s->n < BENCH_MAX_CONSOLES) {
		s->cycles[s->n] = c->cycles;
		memcpy(s->names[s->n], c->name, CONSOLE_NAME_MAX);
		s->n++;
	}
}

/* Time n log lines through every console (not into the log ring); each
 * line differs, as log lines do, so a screen cannot redraw less. */
static uint64_t bench(unsigned int n)
{
	static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot" };
	uint64_t t0 = __builtin_ia32_rdtsc();
	char line[128];

	for (unsigned int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line),
				   "[cpu0] logbench: line %u of %u, %s %s: the quick brown fox jumps over the lazy dog\n",
				   i + 1, n, words[i % 6], words[(i / 6) % 6]);

		console_write_unlogged(line, (size_t)len);
	}
	return __builtin_ia32_rdtsc() - t0;
}

/* logbench [N]: what a line costs, with and without the screens. */
static int cmd_logbench(const char *arg)
{
	unsigned int n = 100;
	struct bench_snap a = { 0 }, b = { 0 };
	uint64_t with, without;

	if (arg && *arg) {
		n = 0;
		for (; *arg; arg++) {
			if (*arg < '0' || *arg > '9' || n > 100000)
				return -EINVAL;
			n = n * 10 + (unsigned int)(*arg - '0');
		}
		if (!n || n > 100000)
			return -EINVAL;
	}
	console_for_each(snap_console, &a);
	with = bench(n);
	console_for_each(snap_console, &b);
	console_screens_enable(false);
	without = bench(n);
	console_screens_enable(true);
	pr_info("logbench: %u lines: %llu.%03llu us per line on every console, %llu.%03llu us with the screens off\n",
		n, (unsigned long long)(ns_per(with, n) / 1000), (unsigned long long)(ns_per(with, n) % 1000),
		(unsigned long long)(ns_per(without, n) / 1000),
		(unsigned long long)(ns_per(without, n) % 1000));
	for (unsigned int i = 0; i < a.n && i < b.n; i++) {
		uint64_t ns = ns_per(b.cycles[i] - a.cycles[i], n);

		pr_info("logbench:   %s: %llu.%03llu us per line in its driver\n", a.names[i],
			(unsigned long long)(ns / 1000), (unsigned long long)(ns % 1000));
	}
	return 0;
}

static const struct {
	const char *name, *help;
	int (*fn)(const char *arg);
} commands[] = {
	{ "help", "this list", cmd_help },
	{ "virt", "per-CPU virtualization state, read back from the hardware", cmd_virt },
	{ "stats", "debug statistics [NAME]", cmd_stats },
	{ "caches", "slab caches", cmd_caches },
	{ "mem", "page allocator counters", cmd_mem },
	{ "leakcheck", "compare memory with the boot baseline", cmd_leakcheck },
	{ "cpus", "CPUs and their APIC IDs", cmd_cpus },
	{ "offline", "offline CPU: take a CPU offline", cmd_offline },
	{ "online", "online CPU: bring it back", cmd_online },
	{ "suspend", "run the suspend hooks (virtualization off)", cmd_suspend },
	{ "resume", "run the resume hooks", cmd_resume },
	{ "virt_exit", "tear the virtualization init down", cmd_virt_exit },
	{ "virt_init", "run the virtualization init again", cmd_virt_init },
	{ "reboot", "reset the machine (virtualization off first)", cmd_reboot },
	{ "poweroff", "power the machine off", cmd_poweroff },
	{ "exit", "end the run: exit [pass|fail] (test harness)", cmd_exit },
	{ "dmesg", "the log ring: every line logged since boot (what still fits)", cmd_dmesg },
	{ "consoles", "the consoles in use, what each wrote and what a line costs", cmd_consoles },
	{ "logbench", "logbench [N]: time N lines on the consoles, with and without the screens", cmd_logbench },
};

static int cmd_help(const char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		pr_info("  %-10s %s\n", commands[i].name, commands[i].help);
	return 0;
}

int debugcon_exec(const char *line)
{
	char buf[128];
	size_t n = strnlen(line, sizeof(buf) - 1);
	char *arg;
	int r;

	memcpy(buf, line, n);
	buf[n] = '\0';
	while (n && buf[n - 1] == ' ')
		buf[--n] = '\0';
	if (!n)
		return 0;
	arg = strchr(buf, ' ');
	if (arg)
		*arg++ = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(buf, commands[i].name))
			continue;
		pr_info("debugcon> %s%s%s\n", buf, arg ? " " : "", arg ? arg : "");
		r = commands[i].fn(arg);
		pr_info("debugcon: %s: %s\n", buf, r ? errno_name(r) : "ok");
		return r;
	}
	pr_err("debugcon: unknown command '%s' (try help)\n", buf);
	return -EINVAL;
}

void debugcon_run_boot_commands(void)
{
	char line[sizeof(boot_cmds)];
	const char *p = boot_cmds;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		memcpy(line, p, n);
		line[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (line[i] == ':')
				line[i] = ' ';
		debugcon_exec(line);
		p += n + (comma ? 1 : 0);
	}
}

/* One typed byte for the debug console: line editing, Enter runs it. */
void debugcon_input(int c)
{
	static char line[128];
	static size_t len;

	if (c == '\r' || c == '\n') {
		line[len] = '\0';
		len = 0;
		debugcon_exec(line);
	} else if ((c == 0x7f || c == '\b') && len) {
		len--;
	} else if (c >= ' ' && c < 0x7f && len < sizeof(line) - 1) {
		line[len++] = (char)c;
	}
}

/*
 * Console input: the debug console's, until the root claims it (its first
 * HC_CONSOLE_READ: a VMM multiplexing guest consoles) — from then on the
 * root gets every byte and passes the debug console's on with
 * HC_CONSOLE_INPUT. A root that stops reading for CONSOLE_ROOT_STALE_MS
 * while bytes arrive loses the claim, so the debug console stays reachable.
 */
#define CONSOLE_ROOT_STALE_MS   5000
#define ROOT_RING               1024

static struct {
	spinlock_t lock;
	bool claimed;
	uint64_t last_read;             /* TSC of the root's last read */
	uint32_t head, tail;            /* ring[tail..head) waits for the root */
	uint64_t dropped;
	char ring[ROOT_RING];
} input = { .lock = SPINLOCK_INIT };

static bool root_stale(void)
{
	return tsc_to_us(__builtin_ia32_rdtsc() - input.last_read) > CONSOLE_ROOT_STALE_MS * 1000ULL;
}

/* Take what the UART has; the caller holds input.lock. */
static void poll_locked(void)
{
	int c;

	while ((c = console_getc()) >= 0) {
		if (input.claimed && root_stale()) {
			input.claimed = false;
			pr_warn("console: the root stopped reading input; the debug console has it again\n");
		}
		if (!input.claimed) {
			spin_unlock(&input.lock);
			debugcon_input(c);
			spin_lock(&input.lock);
		} else if (input.head - input.tail < ROOT_RING) {
			input.ring[input.head++ % ROOT_RING] = (char)c;
		} else {
			input.dropped++;
		}
	}
}

void debugcon_poll(void)
{
	unsigned long f;

	console_idle();                 /* idle time: the screens catch up */
	f = local_irq_save();

	spin_lock(&input.lock);
	poll_locked();
	spin_unlock(&input.lock);
	local_irq_restore(f);
}

size_t console_root_read(char *buf, size_t size)
{
	unsigned long f = local_irq_save();
	size_t n = 0;

	spin_lock(&input.lock);
	if (!input.claimed) {
		input.claimed = true;
		input.head = input.tail = 0;
	}
	input.last_read = __builtin_ia32_rdtsc();
	poll_locked();
	while (n < size && input.tail != input.head)
		buf[n++] = input.ring[input.tail++ % ROOT_RING];
	spin_unlock(&input.lock);
	local_irq_restore(f);
	return n;
}

void debugcon_loop(void)
{
	arch_idle_tick_start();
	for (;;) {
		arch_idle();
		debugcon_poll();
	}
}

/* The root partition halted: idle until an interrupt, serve the console. */
void root_idle(void)
{
	arch_idle();
	if (smp_processor_id() == 0)
		debugcon_poll();
}
