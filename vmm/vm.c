/*
 * A VM's life in the VMM: memory, the hypervisor's VM with its local APICs
 * and IOAPIC, the CPUID it shows, the kernel loaded (Linux bzImage or
 * multiboot), boot tables, vCPUs, and its end: reported, torn down, its
 * hypervisor memory back, maybe booted again (docs/vmm.md).
 */
#include "vmm.h"
#include "bzimage.h"
#include "mptable.h"
#include "multiboot.h"

struct vmm_vm vms[VMM_MAX_VMS];
unsigned int nr_vms;

#define GDT_ADDR        0x800           /* in the low page Linux leaves alone */

/* What Debian's kernel needs on this platform (../shared/guests.md): no
 * ACPI, no PCI, the TSC's rate given (no PIT to calibrate against), the
 * keyboard controller only for reset. The kernel module's own string
 * follows, so it can add to or override these. */
static const char linux_defaults[] =
	"console=ttyS0 earlyprintk=serial,ttyS0 acpi=off pci=off nokaslr tsc_early_khz=%u "
	"tsc=reliable no_timer_check io_delay=none reboot=k panic=-1 "
	"i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";

static unsigned int next_home;

static void fail(struct vmm_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line: why the VM did not start (the VMM and the other VMs go on). */
static void fail(struct vmm_vm *vm, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vmm_printf("vm %u: not started: %s\n", vm->id, why);
}

/* Boot module n (1 = the first after the VMM's own). */
static bool module(unsigned int n, const void **data, size_t *size, const char **args)
{
	const char *s;

	if (!n || n > root_info->nr_modules)
		return false;
	*data = (const void *)root_info->modules[n - 1].start;
	*size = root_info->modules[n - 1].size;
	s = root_info->modules[n - 1].cmdline;
	while (*s && *s != ' ')                 /* its file name */
		s++;
	while (*s == ' ')
		s++;
	*args = s;
	return true;
}

static int64_t vm_hcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return hcall(nr, a0, a1, a2, a3);
}

/* CPUID as KVM's: Linux keeps x2APIC on without interrupt remapping only
 * under a hypervisor it knows (../shared/guests.md); no paravirtual
 * features are offered (0x40000001 = 0). */
static int64_t set_cpuid(struct vmm_vm *vm)
{
	static struct hv_cpuid t __attribute__((aligned(4096)));
	int64_t r = vm_hcall(HC_GET_CPUID, (uint64_t)vm->handle, (uint64_t)&t, 0, 0);

	if (r < 0)
		return r;
	for (uint32_t i = 0; i < t.nent; i++) {
		struct hv_cpuid_entry *e = &t.entries[i];

		if (e->function == 0x40000000) {
			e->eax = 0x40000001;
			e->ebx = 0x4b4d564b;    /* "KVMKVMKVM\0\0\0" */
			e->ecx = 0x564b4d56;
			e->edx = 0x0000004d;
		} else if (e->function == 0x40000001) {
			e->eax = e->ebx = e->ecx = e->edx = 0;
		}
	}
	return vm_hcall(HC_SET_CPUID, (uint64_t)vm->handle, (uint64_t)&t, 0, 0);
}

/* A GDT with flat 4 GiB segments at the selectors Linux's boot protocol
 * names (code 0x10, data 0x18), and 32-bit protected mode without paging. */
static int64_t start_32bit(struct vmm_vm *vm, uint64_t eip, uint64_t esi, uint64_t eax,
			   uint64_t ebx)
{
	static struct hv_sregs s __attribute__((aligned(256)));
	static struct hv_regs r __attribute__((aligned(256)));
	uint64_t *gdt = (uint64_t *)(vm->ram + GDT_ADDR);
	int64_t h = vm->vcpus[0].handle, e;

	gdt[0] = gdt[1] = 0;
	gdt[2] = 0x00cf9b000000ffffULL;         /* 0x10: code */
	gdt[3] = 0x00cf93000000ffffULL;         /* 0x18: data */
	gmemset(&s, 0, sizeof(s));
	s.cs = (struct hv_segment){ 0, 0xffffffff, 0x10, 0xc9b };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct hv_segment){ 0, 0xffffffff, 0x18, 0xc93 };
	s.tr = (struct hv_segment){ 0, 0xffff, 0, 0x8b };
	s.ldtr = (struct hv_segment){ 0, 0xffff, 0, 0x82 };
	s.gdt = (struct hv_dtable){ GDT_ADDR, 4 * 8 - 1, 0 };
	s.idt = (struct hv_dtable){ 0, 0, 0 };
	s.cr0 = 0x11;                           /* PE ET */
	if ((e = vm_hcall(HC_SET_SREGS, (uint64_t)h, (uint64_t)&s, 0, 0)) < 0)
		return e;
	gmemset(&r, 0, sizeof(r));
	r.rip = eip;
	r.rsi = esi;
	r.rax = eax;
	r.rbx = ebx;
	r.rflags = 0x2;                         /* IF = 0 */
	return vm_hcall(HC_SET_REGS, (uint64_t)h, (uint64_t)&r, 0, 0);
}

static bool is_bzimage(const uint8_t *k, size_t n)
{
	return n > 0x206 && !gmemcmp(k + 0x202, "HdrS", 4);
}

static int load(struct vmm_vm *vm, const struct vm_config *cfg, char *kind, size_t kind_len)
{
	const void *kernel, *initrd = NULL;
	const char *args, *iargs;
	size_t ksize, isize = 0;
	char err[160];
	static char cmdline[2048];

	if (!module(cfg->kernel, &kernel, &ksize, &args)) {
		fail(vm, "there is no boot module %u for the kernel", cfg->kernel);
		return -1;
	}
	if (cfg->initrd && !module(cfg->initrd, &initrd, &isize, &iargs)) {
		fail(vm, "there is no boot module %u for the initrd", cfg->initrd);
		return -1;
	}
	if (is_bzimage(kernel, ksize)) {
		struct linux_boot lb;
		int n = snprintf(cmdline, sizeof(cmdline), linux_defaults, root_info->tsc_khz);

		if (*args)
			snprintf(cmdline + n, sizeof(cmdline) - (size_t)n, " %s", args);
		if (linux_load(vm->ram, vm->ram_size, kernel, ksize, initrd, isize, cmdline, &lb,
			       err, sizeof(err))) {
			fail(vm, "Linux kernel: %s", err);
			return -1;
		}
		if (mptable_write(vm->ram, vm->ram_size, MPTABLE_ADDR, vm->nr_vcpus,
				  MPTABLE_IOAPIC, err, sizeof(err)) < 0) {
			fail(vm, "MP table: %s", err);
			return -1;
		}
		if (start_32bit(vm, lb.entry, lb.boot_params, 0, 0) < 0) {
			fail(vm, "the boot state was refused");
			return -1;
		}
		snprintf(kind, kind_len, "Linux (boot protocol %u.%02u)", lb.protocol >> 8,
			  lb.protocol & 0xff);
		return 0;
	}
	struct mb_module mods[4];
	unsigned int nmods = 0;
	struct mb_boot mb;

	for (unsigned int i = 0; i < 4 && cfg->mods[i]; i++) {
		const char *margs;

		if (!module(cfg->mods[i], &mods[nmods].data, &mods[nmods].size, &margs)) {
			fail(vm, "there is no boot module %u", cfg->mods[i]);
			return -1;
		}
		mods[nmods++].cmdline = root_info->modules[cfg->mods[i] - 1].cmdline;
	}
	if (mb_load(vm->ram, vm->ram_size, kernel, ksize, root_info->modules[cfg->kernel - 1].cmdline,
		    mods, nmods, &mb, err, sizeof(err))) {
		fail(vm, "not a Linux bzImage, and as a multiboot kernel: %s", err);
		return -1;
	}
	if (mb.warning[0])
		vmm_printf("vm %u: multiboot: %s\n", vm->id, mb.warning);
	mptable_write(vm->ram, vm->ram_size, MPTABLE_ADDR, vm->nr_vcpus, MPTABLE_IOAPIC,
		      err, sizeof(err));
	if (start_32bit(vm, mb.entry, 0, 0x2badb002, mb.mbi) < 0) {
		fail(vm, "the boot state was refused");
		return -1;
	}
	snprintf(kind, kind_len, "multiboot kernel");
	return 0;
}

static void release_ram(struct vmm_vm *vm)
{
	if (vm->ram)
		vmm_free(vm->ram, vm->ram_size);
	vm->ram = NULL;
	vm->ram_size = 0;
}

/* Undo what vm_start made, in reverse. */
static void teardown(struct vmm_vm *vm)
{
	for (unsigned int i = vm->nr_vcpus; i-- > 0;)
		if (vm->vcpus[i].handle > 0)
			vm_hcall(HC_VCPU_DESTROY, (uint64_t)vm->vcpus[i].handle, 0, 0, 0);
	if (vm->handle > 0)
		vm_hcall(HC_VM_DESTROY, (uint64_t)vm->handle, 0, 0, 0);
	vm->handle = 0;
	for (unsigned int i = 0; i < VMM_MAX_VCPUS; i++)
		vm->vcpus[i].handle = 0;
}

int vm_start(unsigned int i, const struct vm_config *cfg)
{
	struct vmm_vm *vm = &vms[i];
	char kind[64];
	int64_t r;

	vm->id = i + 1;
	vm->cfg = cfg;
	vm->nr_vcpus = cfg->cpus;
	vm->end_reason[0] = '\0';
	vm->end_code = 0;
	if (!vm->ram || vm->ram_size != cfg->mem) {
		release_ram(vm);
		vm->ram = vmm_alloc(cfg->mem, 2ULL << 20);     /* 2 MiB: large nested pages */
		vm->ram_size = vm->ram ? cfg->mem : 0;
		if (!vm->ram) {
			fail(vm, "%lu MiB of memory: not that much root memory left", cfg->mem >> 20);
			return -1;
		}
	}
	gmemset(vm->ram, 0, 1ULL << 20);       /* the low MiB: boot tables */
	if ((r = vm_hcall(HC_VM_CREATE, 0, 0, 0, 0)) < 0) {
		fail(vm, "creating it: error %ld", r);
		release_ram(vm);
		return -1;
	}
	vm->handle = r;
	if ((r = vm_hcall(HC_CREATE_IRQCHIP, (uint64_t)vm->handle, 0, 0, 0)) < 0 ||
	    (r = vm_hcall(HC_SET_MEMORY_REGION, (uint64_t)vm->handle, 0, (uint64_t)vm->ram,
			  vm->ram_size)) < 0 ||
	    (r = set_cpuid(vm)) < 0) {
		fail(vm, "setting it up: error %ld", r);
		teardown(vm);
		release_ram(vm);
		return -1;
	}
	for (unsigned int c = 0; c < vm->nr_vcpus; c++) {
		struct vmm_vcpu *vc = &vm->vcpus[c];

		vc->vm = vm;
		vc->index = c;
		if (!vc->exit)
			vc->exit = vmm_alloc(4096, 4096);
		r = vc->exit ? vm_hcall(HC_VCPU_CREATE, (uint64_t)vm->handle, (uint64_t)vc->exit, 0, 0) :
			       -HV_ENOMEM;
		if (r < 0) {
			fail(vm, "creating vCPU %u: error %ld", c, r);
			teardown(vm);
			release_ram(vm);
			return -1;
		}
		vc->handle = r;
		vc->home = next_home++ % nr_cpus;
		vc->halted = vc->stopped = false;
		/* The others wait for the SIPI the guest's BSP sends. */
		if (c && (r = vm_hcall(HC_SET_MP_STATE, (uint64_t)r, HV_MP_INIT_RECEIVED, 0, 0)) < 0) {
			fail(vm, "wait-for-SIPI: error %ld", r);
			teardown(vm);
			release_ram(vm);
			return -1;
		}
	}
	if (load(vm, cfg, kind, sizeof(kind))) {
		teardown(vm);
		release_ram(vm);
		return -1;
	}
	dev_reset(vm);
	vm->boot_tsc = rdtsc();
	vmm_printf("vm %u: %s, %u vCPU%s, %lu MiB; its console is ttyS0\n", vm->id, kind,
		   vm->nr_vcpus, vm->nr_vcpus > 1 ? "s" : "", vm->ram_size >> 20);
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	return 0;
}

void vm_stop(struct vmm_vm *vm, const char *reason, int code)
{
	int expected = VM_RUNNING;

	if (!__atomic_compare_exchange_n(&vm->state, &expected, VM_STOPPING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	snprintf(vm->end_reason, sizeof(vm->end_reason), "%s", reason);
	vm->end_code = code;
	/* Out of HC_RUN wherever they are: CPU 0 tears the VM down. */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm_hcall(HC_KICK, (uint64_t)vm->vcpus[i].handle, 0, 0, 0);
}

static const char *const stat_names[HV_STAT_COUNT] = {
	"io", "mmio", "msr", "cpuid", "hlt", "hypercall", "interrupt", "window", "npf",
	"xsetbv", "cr", "dr", "exception", "other", "to-root", "injected", "halt-wakeups",
	"pause", "fast-run",
};

static void report(struct vmm_vm *vm)
{
	static struct hv_vm_stats st __attribute__((aligned(256)));
	uint64_t ms = (rdtsc() - vm->boot_tsc) / (root_info->tsc_khz ? root_info->tsc_khz : 1);
	char line[512];
	int n = 0;

	vmm_printf("vm %u: exit %s (code %d) after %lu.%03lu s\n", vm->id, vm->end_reason,
		   vm->end_code, ms / 1000, ms % 1000);
	if (vm_hcall(HC_VM_STATS, (uint64_t)vm->handle, (uint64_t)&st, 0, 0) < 0)
		return;
	n = snprintf(line, sizeof(line), "vm %u: %lu exits:", vm->id, st.exits);
	for (int k = 0; k < HV_STAT_COUNT && n < (int)sizeof(line) - 32; k++)
		if (st.kind[k])
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %lu", stat_names[k],
				       st.kind[k]);
	vmm_printf("%s\n", line);
	if (vm->unknown_ports || vm->unknown_mmio)
		vmm_printf("vm %u: %lu port and %lu MMIO accesses had nothing behind them\n",
			   vm->id, vm->unknown_ports, vm->unknown_mmio);
}

void vm_reap(void)
{
	for (unsigned int i = 0; i < nr_vms; i++) {
		struct vmm_vm *vm = &vms[i];
		bool busy = false;

		if (__atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) != VM_STOPPING)
			continue;
		for (unsigned int c = 0; c < vm->nr_vcpus; c++)
			busy |= __atomic_load_n(&vm->vcpus[c].in_run, __ATOMIC_ACQUIRE);
		if (busy)
			continue;                       /* a kick is on its way */
		report(vm);
		console_vm_gone(vm, vm->cfg->restart);
		teardown(vm);
		if (!vm->cfg->restart)
			release_ram(vm);
		__atomic_store_n(&vm->state, VM_OFF, __ATOMIC_RELEASE);
		vmm_stats_line("after vm", vm->id);
		if (vm->cfg->restart) {
			vmm_printf("vm %u: booting it again (restart)\n", vm->id);
			vm_start(i, vm->cfg);
		}
	}
}
