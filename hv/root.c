/*
 * The root partition (hv/root.h): memory split, ELF64 loading, initial
 * 64-bit state, and its vCPUs on the boot CPU and (by hypercall) others.
 */
#include "hv/root.h"
#include "hv/boot.h"
#include "hv/debugcon.h"
#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/options.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/fpu.h>
#include <x86/percpu.h>
#include <x86/tsc.h>

#define HV_MEM_DEFAULT (32 * MiB)
static uint64_t hv_mem = HV_MEM_DEFAULT;        /* after the boot: the value in effect */
static bool root_disabled;

/*
 * 16M at least: the hypervisor's own boot state is 10 pages (40 KiB) per
 * CPU (AP stack, per-CPU area, virtualization areas: measured 33 pages in
 * use at `hv: ready` with 1 CPU, 103 with 8, 663 with 64), so NR_CPUS = 256
 * CPUs need 10 MiB; the root test's VMs (8 CPUs, several child VMs) then
 * ran in less than 1 MiB more. Below that a big machine cannot boot (0 or
 * 1K panicked at once). At most half the usable RAM, which only the
 * memory map tells (root_hv_pool_size): the other half is the root's.
 */
CMDLINE_OPTION_U64(hv_mem, "hv_mem", hv_mem,
		   "memory the hypervisor keeps for itself; the rest is the root's",
		   .min = 16 * MiB, .max = UINT64_MAX, .def = HV_MEM_DEFAULT,
		   .flags = CMDLINE_SIZE, .max_text = "half of RAM");

static int parse_root(const char *value, void *arg)
{
	if (!value || strcmp(value, "none"))
		return -EINVAL;
	root_disabled = true;
	return 0;
}
CMDLINE_OPTION(root, "root", parse_root, NULL,
	       "root=none: run no root partition (the debug console stays on serial)");

/* The demo root, built from tests/guest and linked into the image. */
extern const uint8_t root_demo_start[], root_demo_end[];

uint64_t root_hv_pool_size(uint64_t usable_total)
{
	const struct cmdline_range *r = &cmdline_range_hv_mem;
	uint64_t half = ALIGN_DOWN(usable_total / 2, MiB);
	char note[48], v[24], min[24];

	/* Above half the RAM is outside hv_mem's range: the default instead. */
	if (hv_mem > half && half >= r->min && hv_mem != r->def) {
		snprintf(note, sizeof(note), " (half of the %lu MiB usable)", usable_total / MiB);
		hv_mem = cmdline_range_refuse("hv_mem", hv_mem, r, half, note);
	}
	/* A small machine keeps half for the root, whatever hv_mem says. */
	if (hv_mem > half) {
		pr_warn("hv_mem=%s: only %lu MiB of the %lu MiB usable may go to the hypervisor; using %luM%s%s%s\n",
			cmdline_range_format(r, hv_mem, v, sizeof(v)), half / MiB,
			usable_total / MiB, half / MiB, half < r->min ? " (below the minimum " : "",
			half < r->min ? cmdline_range_format(r, r->min, min, sizeof(min)) : "",
			half < r->min ? ": a small machine)" : "");
		hv_mem = half;
	}
	return hv_mem;
}

bool root_cpu_busy(unsigned int cpu)
{
	struct percpu *pc = per_cpu(cpu);

	return pc && __atomic_load_n(&pc->root_vcpu, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------- ELF64 */

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1

/*
 * Say why [pa, pa+len) of the root `what` is not root memory. The split
 * gives the hypervisor the lowest hv_mem bytes of usable RAM: when the
 * segment lies in them, name the split and the option, and how far down
 * hv_mem must go (taking X bytes less moves root memory's start down by X
 * or more).
 */
static void segment_outside(const char *what, uint64_t pa, uint64_t len)
{
	const struct cmdline_range *r = &cmdline_range_hv_mem;
	uint64_t start = root_mem.count ? root_mem.range[0].base : 0;
	bool in_pool = false;
	char given[24], fix[24], seg[48];

	if (pa + len < pa)
		snprintf(seg, sizeof(seg), "[0x%lx, +0x%lx)", pa, len);
	else
		snprintf(seg, sizeof(seg), "[0x%lx, 0x%lx)", pa, pa + len);
	if (root_mem.count && pa < start) {
		/* The pool lies below root memory: sample that part (at most
		 * 1024 steps, and its last byte) for the allocator's pages. */
		uint64_t first = ALIGN_DOWN(pa, PAGE_SIZE);
		uint64_t lim = pa + len < pa ? start : MIN(pa + len, start);
		uint64_t step = MAX(PAGE_SIZE, ALIGN_UP((lim - first) / 1024, PAGE_SIZE));

		for (uint64_t p = first; p < lim && !in_pool; p += step)
			in_pool = page_is_managed((const void *)p);
		if (!in_pool)
			in_pool = page_is_managed((const void *)(lim - 1));
	}
	if (!in_pool) {
		pr_err("root: %s needs %s, outside root memory (%lu MiB from 0x%lx, in %u ranges)\n",
		       what, seg, root_mem_total() / MiB, start, root_mem.count);
		return;
	}
	cmdline_range_format(r, hv_mem, given, sizeof(given));
	if (hv_mem >= start - pa && ALIGN_DOWN(hv_mem - (start - pa), MiB) >= r->min)
		pr_err("root: %s needs %s but root memory starts at 0x%lx (hv_mem=%s leaves the lowest %lu MiB to the hypervisor); lower hv_mem to %s or less\n",
		       what, seg, start, given, hv_mem / MiB,
		       cmdline_range_format(r, ALIGN_DOWN(hv_mem - (start - pa), MiB), fix, sizeof(fix)));
	else
		pr_err("root: %s needs %s but root memory starts at 0x%lx (hv_mem=%s leaves the lowest %lu MiB to the hypervisor); hv_mem cannot go low enough (at least %s), link the root higher\n",
		       what, seg, start, given, hv_mem / MiB,
		       cmdline_range_format(r, r->min, fix, sizeof(fix)));
}

/*
 * Accepted: ELF64, little-endian, x86-64, ET_EXEC, PT_LOAD segments whose
 * physical addresses (p_paddr) lie in root memory and whose entry point is
 * inside one of them. Loaded at p_paddr; the root runs identity-mapped.
 */
static int elf_load(const char *what, const uint8_t *img, size_t size, uint64_t *entry,
		    uint64_t *end)
{
	const struct elf64_ehdr *eh = (const void *)img;
	bool entry_ok = false;

	*end = 0;
	if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) || eh->ident[4] != 2 ||
	    eh->ident[5] != 1 || eh->machine != 62 || eh->type != 2)
		return ERR(-EINVAL);
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size ||
	    (uint64_t)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
		return ERR(-EINVAL);
	for (unsigned int i = 0; i < eh->phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, img + eh->phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset) {
			pr_err("root: %s: ELF segment %u [0x%lx, +0x%lx) is malformed: 0x%lx file bytes at offset 0x%lx of 0x%lx\n",
			       what, i, ph.paddr, ph.memsz, ph.filesz, ph.offset, (uint64_t)size);
			return ERR(-EINVAL);
		}
		if (!root_mem_contains(ph.paddr, ph.memsz)) {
			segment_outside(what, ph.paddr, ph.memsz);
			return ERR(-EFAULT);
		}
		memcpy((void *)ph.paddr, img + ph.offset, ph.filesz);
		memset((void *)(ph.paddr + ph.filesz), 0, ph.memsz - ph.filesz);
		if (eh->entry >= ph.paddr && eh->entry < ph.paddr + ph.memsz)
			entry_ok = true;
		*end = MAX(*end, ph.paddr + ph.memsz);
	}
	if (!entry_ok)
		return ERR(-EINVAL);
	*entry = eh->entry;
	return 0;
}

/* ---------------------------------------------------------- initial state */

/* The root's boot area, in its own memory right after the loaded image:
 * page tables for its first 4 GiB, a GDT, the root info page, a stack. */
struct root_boot_area {
	uint64_t pml4[512], pdpt[512], pd[4][512];
	uint64_t gdt[512];
	struct hv_root_info info;
	uint8_t pad[4096 - sizeof(struct hv_root_info)];
	uint8_t stack[32768];
} __aligned(4096);

static void root_initial_state(struct vcpu *v, struct root_boot_area *ba, uint64_t entry)
{
	struct hv_sregs s = { 0 };
	struct hv_regs r = { 0 };

	for (int i = 0; i < 4; i++) {
		ba->pdpt[i] = (uint64_t)ba->pd[i] | 0x3;
		for (int j = 0; j < 512; j++)
			ba->pd[i][j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + 0x83;
	}
	ba->pml4[0] = (uint64_t)ba->pdpt | 0x3;
	ba->gdt[1] = 0x00209b0000000000ULL;     /* 0x08: 64-bit code */
	ba->gdt[2] = 0x00cf93000000ffffULL;     /* 0x10: data */

	s.cs = (struct hv_segment){ 0, 0xffffffff, 0x08, 0xa9b };       /* G, L, P, S, code */
	s.ds = s.es = s.fs = s.gs = s.ss =
		(struct hv_segment){ 0, 0xffffffff, 0x10, 0xc93 };
	s.tr = (struct hv_segment){ 0, 0x67, 0, 0x8b };
	s.ldtr = (struct hv_segment){ 0, 0, 0, 0x82 };
	s.gdt = (struct hv_dtable){ (uint64_t)ba->gdt, 3 * 8 - 1, 0 };
	s.idt = (struct hv_dtable){ 0, 0, 0 };
	s.cr0 = 0x80050033;                     /* PG AM WP NE ET MP PE */
	s.cr3 = (uint64_t)ba->pml4;
	/* PAE; SSE usable (OSFXSR, OSXMMEXCPT) and XSAVE/AVX with XCR0 set
	 * to every component offered (docs/root.md). */
	s.cr4 = 0x20 | 0x600 | (fpu_has_xsave() ? 1ULL << 18 : 0);
	s.efer = 0xd00;                         /* NXE LMA LME */
	virt_ops->set_sregs(v, &s);
	r.rip = entry;
	r.rsp = (uint64_t)ba->stack + sizeof(ba->stack);       /* 16-byte aligned */
	r.rdi = (uint64_t)&ba->info;
	r.rflags = 0x202;       /* IF: no interrupt reaches the root (all exit to the host) */
	virt_ops->set_regs(v, &r);
}

/* Root memory read-write, and the boot modules after the root's own
 * read-only at their physical addresses: the root reads a guest's kernel
 * and initrd where GRUB put them, and can neither change them nor give
 * them to a VM (they are not root memory). */
static int map_root_memory(struct vm *vm)
{
	for (uint32_t i = 0; i < root_mem.count; i++) {
		int r = gpt_map(&vm->gpt, root_mem.range[i].base, root_mem.range[i].base,
				root_mem.range[i].len, GPT_WRITE | GPT_EXEC);

		if (r)
			return r;
	}
	for (uint32_t i = 1; i < boot_info.module_count; i++) {
		uint64_t b = ALIGN_DOWN(boot_info.modules[i].start, PAGE_SIZE);
		uint64_t e = ALIGN_UP(boot_info.modules[i].end, PAGE_SIZE);
		int r = e > b ? gpt_map(&vm->gpt, b, b, e - b, 0) : 0;

		if (r)
			return r;
	}
	return 0;
}

static void list_modules(struct hv_root_info *info)
{
	for (uint32_t i = 1; i < boot_info.module_count && info->nr_modules < HV_ROOT_MAX_MODULES; i++) {
		const struct boot_module *m = &boot_info.modules[i];

		info->modules[info->nr_modules].start = m->start;
		info->modules[info->nr_modules].size = m->end - m->start;
		snprintf(info->modules[info->nr_modules].cmdline,
			 sizeof(info->modules[0].cmdline), "%s", m->string);
		info->nr_modules++;
	}
	if (boot_info.module_count > HV_ROOT_MAX_MODULES + 1)
		pr_warn("root: %u boot modules; the root is told of the first %u after its own\n",
			boot_info.module_count, HV_ROOT_MAX_MODULES);
}

void root_run(void)
{
	const uint8_t *img = root_demo_start;
	size_t size = (size_t)(root_demo_end - root_demo_start);
	const char *what = "the demo root partition";
	uint64_t entry = 0, end = 0;
	struct root_boot_area *ba;
	struct vm *vm;
	struct vcpu *v;
	int r;

	if (root_disabled || !virt_ready())
		return;
	if (!virt_ops->vcpu_enter) {
		pr_err("root: the %s backend cannot run guests yet\n", virt_ops->name);
		return;
	}
	if (boot_info.module_count) {
		img = (const uint8_t *)boot_info.modules[0].start;
		size = boot_info.modules[0].end - boot_info.modules[0].start;
		what = boot_info.modules[0].string[0] ? boot_info.modules[0].string : "module 0";
	}
	if ((r = elf_load(what, img, size, &entry, &end))) {
		if (r == -EFAULT)       /* elf_load said where and why */
			pr_err("root: cannot load %s; no root partition runs\n", what);
		else
			pr_err("root: cannot load %s: not an ELF64 x86-64 executable for root memory (%s)\n",
			       what, errno_name(r));
		return;
	}
	ba = (struct root_boot_area *)ALIGN_UP(end, PAGE_SIZE);
	if (!root_mem_contains((uint64_t)ba, sizeof(*ba))) {
		pr_err("root: no room for the root's boot area after 0x%lx\n", end);
		return;
	}
	memset(ba, 0, sizeof(*ba));
	ba->info.magic = HV_ROOT_INFO_MAGIC;
	ba->info.api_version = HV_API_VERSION;
	ba->info.nr_cpus = smp_num_online();
	ba->info.free_start = (uint64_t)(ba + 1);
	for (uint32_t i = 0; i < root_mem.count && i < HV_ROOT_MAX_RANGES; i++) {
		ba->info.ranges[i].base = root_mem.range[i].base;
		ba->info.ranges[i].len = root_mem.range[i].len;
		if (ba->info.free_start >= root_mem.range[i].base &&
		    ba->info.free_start < root_mem.range[i].base + root_mem.range[i].len)
			ba->info.free_end = root_mem.range[i].base + root_mem.range[i].len;
		ba->info.nr_ranges = i + 1;
	}
	if (boot_info.module_count)
		snprintf(ba->info.cmdline, sizeof(ba->info.cmdline), "%s",
			 boot_info.modules[0].string);
	ba->info.tsc_khz = (uint32_t)tsc_khz();
	list_modules(&ba->info);

	vm = vm_create(true);
	if (!vm || map_root_memory(vm)) {
		pr_err("root: out of memory for the root's nested page tables\n");
		return;
	}
	v = vcpu_create(vm, 0);
	if (IS_ERR(v)) {
		pr_err("root: cannot create the root vCPU (%s)\n", errno_name((int)PTR_ERR(v)));
		return;
	}
	root_initial_state(v, ba, entry);
	v->fpu->xcr0 = fpu_has_xsave() ? fpu_guest_xcr0_mask() : 1;
	this_cpu()->root_vcpu = v;
	pr_info("root: starting %s at 0x%lx, %lu MiB of root memory\n", what, entry,
		root_mem_total() / MiB);
	vcpu_run_root(v);
}

int64_t root_start_vcpu(unsigned int cpu, struct vcpu *caller, uint64_t rip,
			uint64_t rsp, uint64_t rdi)
{
	struct vcpu *v = vcpu_create(&root_vm, 0);
	struct hv_sregs s;
	struct hv_regs r = { 0 };
	struct vcpu *expected = NULL;

	if (IS_ERR(v))
		return PTR_ERR(v);
	virt_ops->get_sregs(caller, &s);
	virt_ops->set_sregs(v, &s);
	v->fpu->xcr0 = caller->fpu->xcr0;       /* with the CR4 it came with */
	r.rip = rip;
	r.rsp = rsp;
	r.rdi = rdi;
	r.rflags = 0x202;       /* IF: no interrupt reaches the root (all exit to the host) */
	virt_ops->set_regs(v, &r);
	if (!__atomic_compare_exchange_n(&per_cpu(cpu)->root_vcpu, &expected, v, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		vcpu_destroy(v);
		return -EBUSY;
	}
	__atomic_store_n(&per_cpu(cpu)->root_vcpu_pending, v, __ATOMIC_RELEASE);
	/*
	 * Wake it with a kick, not a call: the CPU idles in ap_main and picks
	 * the vCPU up after any interrupt (root_ap_poll). Nothing to wait for,
	 * so a caller in an exit handler never waits on another CPU here. The
	 * caller holds the lock HC_CPU_OFFLINE takes, so the CPU is online.
	 */
	smp_kick(cpu);
	return 0;
}

void root_ap_poll(void)
{
	struct vcpu *v = __atomic_exchange_n(&this_cpu()->root_vcpu_pending, NULL,
					     __ATOMIC_ACQ_REL);

	if (v)
		vcpu_run_root(v);
}
