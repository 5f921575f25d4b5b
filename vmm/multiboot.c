/*
 * Multiboot version 1 loader (the Multiboot Specification 0.6.96, sections
 * 3.1 "OS image format" and 3.3 "Boot information format").
 *
 * Decode, then invoke: mb_load first turns the image into a list of
 * segments (from the ELF program headers, or from the a.out kludge's
 * addresses), places the modules and sizes the information structure, and
 * checks all of it against the RAM; only then does it copy anything.
 */
#include "multiboot.h"

#include <stdbool.h>

#include "bzimage.h"                    /* linux_e820, vmm_errf */
#include "bytes.h"
#include "hv/errno.h"

/* Header flags (3.1.2): bits 0-15 are requirements, 16-31 optional. */
#define MB_PAGE_ALIGN   0x00001         /* modules page-aligned */
#define MB_MEMORY_INFO  0x00002         /* mem_* fields (and the map if any) */
#define MB_VIDEO_MODE   0x00004         /* a video mode table */
#define MB_AOUT_KLUDGE  0x10000         /* load from the header's addresses */
#define MB_KNOWN_REQ    (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

#define MB_MAX_SEGS     16
#define HIGH_MEM        0x100000ull
#define EBDA_START      0x9fc00ull
#define FOUR_GIB        0x100000000ull

static const char loader_name[] = "hv vmm";

struct mb_seg {
	uint64_t paddr, offset, filesz, memsz;
};

struct mb_plan {
	struct mb_seg seg[MB_MAX_SEGS];
	unsigned int nseg;
	uint64_t entry;
	uint64_t kernel_end;
	uint32_t mmap, mods, strings, info_end;  /* mbi area layout */
};

/* The header: 32-bit aligned, wholly within the first 8192 bytes (3.1.1). */
static long mb_find_header(const uint8_t *k, size_t ksize)
{
	size_t end = ksize < MB_SEARCH ? ksize : MB_SEARCH;

	for (size_t off = 0; off + 12 <= end; off += 4) {
		uint32_t magic = rd32(k + off), flags = rd32(k + off + 4);

		/* magic + flags + checksum must be 0 (mod 2^32). */
		if (magic == MB_HEADER_MAGIC && magic + flags + rd32(k + off + 8) == 0)
			return (long)off;
	}
	return -1;
}

/*
 * Flag 16, the "a.out kludge" (3.1.3): the header says where the image
 * goes. The header itself is loaded at header_addr, which tells us which
 * file offset load_addr corresponds to; load_end_addr 0 means "to the end of
 * the file", bss_end_addr 0 means "no bss".
 */
static int mb_aout(const uint8_t *k, size_t ksize, size_t off, struct mb_plan *p,
		   char *err, size_t errlen)
{
	uint32_t header_addr, load_addr, load_end, bss_end;
	struct mb_seg *s = &p->seg[0];

	if (off + 32 > ksize) {
		vmm_errf(err, errlen, "truncated multiboot header: the a.out kludge fields (flag 16) end past the file");
		return -EINVAL;
	}
	header_addr = rd32(k + off + 12);
	load_addr = rd32(k + off + 16);
	load_end = rd32(k + off + 20);
	bss_end = rd32(k + off + 24);
	p->entry = rd32(k + off + 28);

	if (load_addr > header_addr || header_addr - load_addr > off) {
		vmm_errf(err, errlen, "bad a.out kludge: header_addr 0x%x and load_addr 0x%x put the image before the file's start",
			 header_addr, load_addr);
		return -EINVAL;
	}
	s->paddr = load_addr;
	s->offset = off - (header_addr - load_addr);
	if (!load_end) {
		s->filesz = ksize - s->offset;
	} else if (load_end < load_addr || load_end - load_addr > ksize - s->offset) {
		vmm_errf(err, errlen, "bad a.out kludge: load_end_addr 0x%x is %s", load_end,
			 load_end < load_addr ? "below load_addr" : "past the end of the file");
		return -EINVAL;
	} else {
		s->filesz = load_end - load_addr;
	}
	if (bss_end && bss_end < load_addr + s->filesz) {
		vmm_errf(err, errlen, "bad a.out kludge: bss_end_addr 0x%x is below the end of the image 0x%llx",
			 bss_end, (unsigned long long)(load_addr + s->filesz));
		return -EINVAL;
	}
	s->memsz = bss_end ? bss_end - load_addr : s->filesz;
	p->nseg = 1;
	return 0;
}

/*
 * An ELF executable (3.1.3: "the boot loader ... loads it as ELF"): every
 * PT_LOAD segment at its physical address p_paddr. ELF32 (EM_386) and ELF64
 * (EM_X86_64) alike; the entry runs in 32-bit mode either way. A kernel
 * linked to run high has p_vaddr != p_paddr; like GRUB, translate an entry
 * point that falls in a segment's virtual range to its physical address.
 */
static int mb_elf(const uint8_t *k, size_t ksize, struct mb_plan *p, char *err, size_t errlen)
{
	bool is64 = ksize >= 5 && k[4] == 2;
	size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
	uint64_t phoff, entry;
	unsigned int phnum, phentsize, machine;

	if (ksize < ehsize || rd32(k) != 0x464c457f) {          /* "\177ELF" */
		vmm_errf(err, errlen, "multiboot kernel is not ELF and its header lacks the a.out kludge (flag 16)");
		return -EINVAL;
	}
	machine = rd16(k + 18);
	if ((k[4] != 1 && k[4] != 2) || k[5] != 1 || rd16(k + 16) != 2 ||
	    machine != (is64 ? 62u : 3u)) {
		vmm_errf(err, errlen, "ELF kernel is not a little-endian x86 executable (class %u, data %u, type %u, machine %u)",
			 k[4], k[5], rd16(k + 16), machine);
		return -EINVAL;
	}
	entry = is64 ? rd64(k + 24) : rd32(k + 24);
	phoff = is64 ? rd64(k + 32) : rd32(k + 28);
	phentsize = rd16(k + (is64 ? 54 : 42));
	phnum = rd16(k + (is64 ? 56 : 44));
	if (phentsize < phsize || phoff > ksize || (ksize - phoff) / phentsize < phnum) {
		vmm_errf(err, errlen, "bad ELF program header table (offset 0x%llx, %u entries of %u bytes) in a %zu-byte file",
			 (unsigned long long)phoff, phnum, phentsize, ksize);
		return -EINVAL;
	}

	p->nseg = 0;
	p->entry = entry;
	for (unsigned int i = 0; i < phnum; i++) {
		const uint8_t *ph = k + phoff + (size_t)i * phentsize;
		struct mb_seg s;
		uint64_t vaddr;

		if (rd32(ph) != 1)                      /* PT_LOAD */
			continue;
		s.offset = is64 ? rd64(ph + 8) : rd32(ph + 4);
		vaddr = is64 ? rd64(ph + 16) : rd32(ph + 8);
		s.paddr = is64 ? rd64(ph + 24) : rd32(ph + 12);
		s.filesz = is64 ? rd64(ph + 32) : rd32(ph + 16);
		s.memsz = is64 ? rd64(ph + 40) : rd32(ph + 20);
		if (!s.memsz)
			continue;
		if (s.filesz > s.memsz || s.offset > ksize || ksize - s.offset < s.filesz) {
			vmm_errf(err, errlen, "bad ELF segment %u: %llu bytes at file offset 0x%llx (memsz %llu) in a %zu-byte file",
				 i, (unsigned long long)s.filesz, (unsigned long long)s.offset,
				 (unsigned long long)s.memsz, ksize);
			return -EINVAL;
		}
		if (p->nseg == MB_MAX_SEGS) {
			vmm_errf(err, errlen, "ELF kernel has more than %u loadable segments", MB_MAX_SEGS);
			return -EINVAL;
		}
		if (entry >= vaddr && entry - vaddr < s.memsz)
			p->entry = entry - vaddr + s.paddr;
		p->seg[p->nseg++] = s;
	}
	if (!p->nseg) {
		vmm_errf(err, errlen, "ELF kernel has no loadable (PT_LOAD) segment");
		return -EINVAL;
	}
	return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Every segment in RAM below 4 GiB, clear of the mbi, the reserved area and each other. */
static int mb_check_segs(struct mb_plan *p, uint64_t ram_size, char *err, size_t errlen)
{
	uint64_t top = ram_size < FOUR_GIB ? ram_size : FOUR_GIB;

	p->kernel_end = 0;
	for (unsigned int i = 0; i < p->nseg; i++) {
		const struct mb_seg *s = &p->seg[i];

		if (s->paddr >= top || top - s->paddr < s->memsz) {
			vmm_errf(err, errlen, "kernel segment 0x%llx-0x%llx does not fit in the VM's memory (%llu KiB%s)",
				 (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
				 (unsigned long long)(ram_size >> 10), top < ram_size ? ", 4 GiB with paging off" : "");
			return -ENOMEM;
		}
		if (overlaps(s->paddr, s->memsz, MB_INFO_ADDR, p->info_end - MB_INFO_ADDR)) {
			vmm_errf(err, errlen, "kernel segment 0x%llx-0x%llx overlaps the multiboot information at 0x%x-0x%x",
				 (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
				 MB_INFO_ADDR, p->info_end);
			return -EINVAL;
		}
		if (overlaps(s->paddr, s->memsz, EBDA_START, HIGH_MEM - EBDA_START)) {
			vmm_errf(err, errlen, "kernel segment 0x%llx-0x%llx overlaps the reserved EBDA/ROM area 0x9fc00-0xfffff",
				 (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz));
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++)
			if (overlaps(s->paddr, s->memsz, p->seg[j].paddr, p->seg[j].memsz)) {
				vmm_errf(err, errlen, "kernel segments %u and %u overlap at 0x%llx", j, i,
					 (unsigned long long)(s->paddr > p->seg[j].paddr ? s->paddr : p->seg[j].paddr));
				return -EINVAL;
			}
		if (s->paddr + s->memsz > p->kernel_end)
			p->kernel_end = s->paddr + s->memsz;
	}
	return 0;
}

/*
 * The mbi area: the 116-byte structure, the memory map, the module list,
 * then the strings. Returns -ENOMEM when it would run into the EBDA.
 */
static int mb_size_info(struct mb_plan *p, const char *cmdline, const struct mb_module *mods,
			unsigned int nmods, int nmap, char *err, size_t errlen)
{
	uint64_t end = MB_INFO_END + 1;

	p->mmap = MB_INFO_ADDR + ((MBI_SIZE + 7) & ~7u);
	p->mods = p->mmap + 24 * nmap;
	if (nmods <= (MB_INFO_END - p->mods) / 16) {
		p->strings = p->mods + 16 * nmods;
		end = p->strings + vmm_strlen(cmdline) + 1 + sizeof(loader_name);
		for (unsigned int i = 0; i < nmods && end <= MB_INFO_END; i++)
			end += (mods[i].cmdline ? vmm_strlen(mods[i].cmdline) : 0) + 1;
	}
	if (end > MB_INFO_END) {
		vmm_errf(err, errlen, "multiboot information (%u modules and the command lines) does not fit in 0x%x-0x%x",
			 nmods, MB_INFO_ADDR, MB_INFO_END);
		return -ENOMEM;
	}
	p->info_end = (uint32_t)end;
	return 0;
}

/* Modules from the first page after the kernel and 1 MiB, each page-aligned. */
static int mb_check_mods(const struct mb_plan *p, uint64_t ram_size, const struct mb_module *mods,
			 unsigned int nmods, char *err, size_t errlen)
{
	uint64_t top = ram_size < FOUR_GIB ? ram_size : FOUR_GIB - 1;  /* mod_end is a u32 */
	uint64_t at = p->kernel_end > HIGH_MEM ? p->kernel_end : HIGH_MEM;

	for (unsigned int i = 0; i < nmods; i++) {
		at = (at + 4095) & ~4095ull;
		if (at > top || top - at < mods[i].size) {
			vmm_errf(err, errlen, "module %u (%zu KiB) does not fit in the VM's memory: it would end at 0x%llx, RAM ends at 0x%llx",
				 i, (mods[i].size + 1023) / 1024, (unsigned long long)(at + mods[i].size),
				 (unsigned long long)ram_size);
			return -ENOMEM;
		}
		at += mods[i].size;
	}
	return 0;
}

static uint32_t put_string(uint8_t *ram, uint32_t *at, const char *s)
{
	uint32_t addr = *at;
	size_t n = vmm_strlen(s) + 1;

	memcpy(ram + addr, s, n);
	*at += (uint32_t)n;
	return addr;
}

int mb_load(uint8_t *ram, uint64_t ram_size, const void *kernel, size_t ksize,
	    const char *cmdline, const struct mb_module *mods, unsigned int nmods,
	    struct mb_boot *out, char *err, size_t errlen)
{
	const uint8_t *k = kernel;
	struct e820_entry map[4];
	struct mb_plan p;
	uint8_t *mbi;
	uint32_t flags, unknown, at;
	uint64_t mod_at, upper;
	long off;
	int nmap, ret;

	if (!cmdline)
		cmdline = "";
	out->warning[0] = 0;
	nmap = linux_e820(map, 4, ram_size);
	if (!nmap) {
		vmm_errf(err, errlen, "the VM has %llu KiB of memory: multiboot kernels need more than 1 MiB",
			 (unsigned long long)(ram_size >> 10));
		return -ENOMEM;
	}

	off = mb_find_header(k, ksize);
	if (off < 0) {
		vmm_errf(err, errlen, "not a multiboot kernel: no header (magic 0x%x and a matching checksum) in the first %u bytes",
			 MB_HEADER_MAGIC, MB_SEARCH);
		return -EINVAL;
	}
	flags = rd32(k + off + 4);
	unknown = flags & 0xffff & ~MB_KNOWN_REQ;
	if (unknown) {
		vmm_errf(err, errlen, "multiboot kernel requires feature bit %u (flags 0x%x), which this loader does not offer",
			 (unsigned int)__builtin_ctz(unknown), flags);
		return -EOPNOTSUPP;
	}
	/* Bit 2 asks for a video mode; a serial-only VM has none to give. */
	if (flags & MB_VIDEO_MODE)
		vmm_errf(out->warning, sizeof(out->warning),
			 "kernel asks for a video mode (flags bit 2): none offered, booting without a framebuffer");

	ret = flags & MB_AOUT_KLUDGE ? mb_aout(k, ksize, (size_t)off, &p, err, errlen) :
				       mb_elf(k, ksize, &p, err, errlen);
	if (!ret)
		ret = mb_size_info(&p, cmdline, mods, nmods, nmap, err, errlen);
	if (!ret)
		ret = mb_check_segs(&p, ram_size, err, errlen);
	if (!ret)
		ret = mb_check_mods(&p, ram_size, mods, nmods, err, errlen);
	if (ret)
		return ret;
	if (p.entry >= FOUR_GIB) {
		vmm_errf(err, errlen, "ELF entry point 0x%llx is above 4 GiB: unreachable from 32-bit mode",
			 (unsigned long long)p.entry);
		return -EOPNOTSUPP;
	}

	/* Invoke: nothing below can fail. */
	mbi = ram + MB_INFO_ADDR;
	for (unsigned int i = 0; i < p.nseg; i++) {
		const struct mb_seg *s = &p.seg[i];

		memcpy(ram + s->paddr, k + s->offset, s->filesz);
		memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}

	memset(mbi, 0, p.mmap - MB_INFO_ADDR);
	at = p.strings;
	wr32(mbi + MBI_CMDLINE, put_string(ram, &at, cmdline));
	wr32(mbi + MBI_LOADER_NAME, put_string(ram, &at, loader_name));

	/* Modules: entries of mod_start, mod_end (exclusive, as GRUB), string, 0. */
	mod_at = p.kernel_end > HIGH_MEM ? p.kernel_end : HIGH_MEM;
	for (unsigned int i = 0; i < nmods; i++) {
		uint8_t *e = ram + p.mods + 16 * i;

		mod_at = (mod_at + 4095) & ~4095ull;
		if (mods[i].size)
			memcpy(ram + mod_at, mods[i].data, mods[i].size);
		wr32(e, (uint32_t)mod_at);
		wr32(e + 4, (uint32_t)(mod_at + mods[i].size));
		wr32(e + 8, put_string(ram, &at, mods[i].cmdline ? mods[i].cmdline : ""));
		wr32(e + 12, 0);
		mod_at += mods[i].size;
	}
	wr32(mbi + MBI_MODS_COUNT, nmods);
	wr32(mbi + MBI_MODS_ADDR, p.mods);

	/*
	 * Memory map entries (3.3): a u32 size of the rest (20), then base,
	 * length and type; mmap_addr points at the first size field.
	 */
	for (int i = 0; i < nmap; i++) {
		uint8_t *e = ram + p.mmap + 24 * i;

		wr32(e, 20);
		memcpy(e + 4, &map[i], 20);
	}
	wr32(mbi + MBI_MMAP_LENGTH, 24 * nmap);
	wr32(mbi + MBI_MMAP_ADDR, p.mmap);

	/* mem_lower: KiB from 0 (640 KiB less the EBDA); mem_upper: KiB from 1 MiB. */
	upper = (ram_size - HIGH_MEM) >> 10;
	wr32(mbi + MBI_MEM_LOWER, EBDA_START >> 10);
	wr32(mbi + MBI_MEM_UPPER, upper > 0xffffffffu ? 0xffffffffu : (uint32_t)upper);

	wr32(mbi + MBI_FLAGS, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
	     MB_INFO_MMAP | MB_INFO_LOADER_NAME);
	out->entry = (uint32_t)p.entry;
	out->mbi = MB_INFO_ADDR;
	return 0;
}
