/*
 * ACPI: find the RSDP, walk the XSDT/RSDT, parse the MADT.
 *
 * Tables are firmware data and may be corrupt: nothing past a header is read
 * before its length is bounded and its checksum verified, and multi-byte
 * fields are read with memcpy (table entries are packed, e.g. the XSDT's
 * 64-bit addresses sit at offset 36).
 */
#include "hv/acpi.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/unaligned.h"

#define ACPI_MADT_ENTRIES       44      /* header + LAPIC address + flags */

/* Table checksums: all bytes sum to 0 mod 256 (5.2.5.3, 5.2.6). */
static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Signature as a printable string for log lines. */
static void acpi_sig_str(char out[5], const void *sig)
{
	size_t i;

	memcpy(out, sig, 4);
	for (i = 0; i < 4; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
	out[4] = '\0';
}

/* As acpi_rsdp_validate, with the reason for a failure in *why. */
static int acpi_rsdp_check(const void *buf, size_t avail,
			   struct acpi_rsdp_info *info, const char **why)
{
	const uint8_t *b = buf;
	struct acpi_rsdp_info tmp = { 0 };
	uint32_t len;

	if (!b || avail < ACPI_RSDP_V1_LEN) {
		*why = "shorter than 20 bytes";
		return ERR(-EINVAL);
	}
	if (memcmp(b, "RSD PTR ", 8) != 0) {
		*why = "bad signature";
		return ERR(-EINVAL);
	}
	if (acpi_sum(b, ACPI_RSDP_V1_LEN) != 0) {
		*why = "bad checksum";
		return ERR(-EINVAL);
	}
	tmp.revision = b[15];
	memcpy(tmp.oem_id, b + 9, 6);
	tmp.rsdt = get_le32(b + 16);
	/*
	 * A revision-2 RSDP may come as just its 20-byte ACPI 1.0 part (the
	 * loader's "old RSDP" tag): use it as a v1 RSDP, RSDT only.
	 */
	if (tmp.revision >= 2 && avail >= ACPI_RSDP_V2_LEN) {
		len = get_le32(b + 20);
		if (len < ACPI_RSDP_V2_LEN || len > avail || len > ACPI_RSDP_MAX_LEN) {
			*why = "bad length";
			return ERR(-EINVAL);
		}
		if (acpi_sum(b, len) != 0) {
			*why = "bad extended checksum";
			return ERR(-EINVAL);
		}
		tmp.xsdt = get_le64(b + 24);
	}
	if (info)
		*info = tmp;
	return 0;
}

int acpi_rsdp_validate(const void *buf, size_t avail,
		       struct acpi_rsdp_info *info)
{
	const char *why;

	return acpi_rsdp_check(buf, avail, info, &why);
}

/* Search [pa, pa + len) at 16-byte steps; pa must be 16-byte aligned. */
static int acpi_rsdp_scan_area(phys_addr_t pa, size_t len, acpi_map_fn map,
			       void *ctx, phys_addr_t *found,
			       struct acpi_rsdp_info *info)
{
	const uint8_t *w = map(pa, len, ctx);
	size_t off;

	if (!w) {
		pr_debug("ACPI: RSDP scan: 0x%llx+0x%zx not accessible\n",
			 (unsigned long long)pa, len);
		return ERR(-ENOENT);
	}
	for (off = 0; off + ACPI_RSDP_V1_LEN <= len; off += 16) {
		if (memcmp(w + off, "RSD PTR ", 8) != 0)
			continue;
		/* The signature alone can occur by chance: checksums decide. */
		if (acpi_rsdp_validate(w + off, len - off, info) == 0) {
			*found = pa + off;
			return 0;
		}
	}
	return ERR(-ENOENT);
}

int acpi_rsdp_scan(acpi_map_fn map, void *ctx, phys_addr_t *pa,
		   struct acpi_rsdp_info *info)
{
	const uint8_t *p;
	struct acpi_rsdp_info tmp;
	phys_addr_t found;

	if (!map || !pa)
		return ERR(-EINVAL);
	/* 5.2.5.1: the EBDA segment is the 16-bit word at 40:0Eh. */
	p = map(ACPI_EBDA_PTR, 2, ctx);
	if (p) {
		phys_addr_t ebda = (phys_addr_t)get_le16(p) << 4;

		/* Only trust it inside conventional memory below the VGA hole. */
		if (ebda >= 0x400 && ebda < 0xA0000 &&
		    acpi_rsdp_scan_area(ebda, MIN(ACPI_EBDA_SCAN_LEN, 0xA0000 - ebda),
					map, ctx, &found, &tmp) == 0)
			goto out;
	}
	if (acpi_rsdp_scan_area(ACPI_BIOS_AREA_START,
				ACPI_BIOS_AREA_END - ACPI_BIOS_AREA_START,
				map, ctx, &found, &tmp) == 0)
		goto out;
	return ERR(-ENOENT);
out:
	*pa = found;
	if (info)
		*info = tmp;
	return 0;
}

int acpi_table_map(phys_addr_t pa, const char *sig, acpi_map_fn map, void *ctx,
		   const struct acpi_sdt_header **out)
{
	const uint8_t *h, *t;
	char name[5], want[5];
	uint32_t len;

	if (!map || !out)
		return ERR(-EINVAL);
	if (sig)
		acpi_sig_str(want, sig);
	else
		memcpy(want, "????", 5);
	h = pa ? map(pa, ACPI_HDR_LEN, ctx) : NULL;
	if (!h) {
		pr_err("ACPI: %s at 0x%llx: header not accessible\n", want,
		       (unsigned long long)pa);
		return ERR(-EFAULT);
	}
	acpi_sig_str(name, h);
	if (sig && memcmp(h, sig, 4) != 0) {
		pr_err("ACPI: table at 0x%llx: signature '%s', expected '%s'\n",
		       (unsigned long long)pa, name, want);
		return ERR(-EINVAL);
	}
	len = get_le32(h + 4);
	if (len < ACPI_HDR_LEN || len > ACPI_TABLE_MAX_LEN) {
		pr_err("ACPI: %s at 0x%llx: bad length %u\n", name,
		       (unsigned long long)pa, len);
		return ERR(-EINVAL);
	}
	if (pa > UINT64_MAX - len) {
		pr_err("ACPI: %s at 0x%llx: length %u wraps\n", name,
		       (unsigned long long)pa, len);
		return ERR(-EINVAL);
	}
	t = map(pa, len, ctx);
	if (!t) {
		pr_err("ACPI: %s at 0x%llx: %u bytes not accessible\n", name,
		       (unsigned long long)pa, len);
		return ERR(-EFAULT);
	}
	/* Re-read through the full mapping: that is what callers will parse. */
	if (memcmp(t, h, ACPI_HDR_LEN) != 0) {
		pr_err("ACPI: %s at 0x%llx: header changed between reads\n", name,
		       (unsigned long long)pa);
		return ERR(-EINVAL);
	}
	if (acpi_sum(t, len) != 0) {
		pr_err("ACPI: %s at 0x%llx: bad checksum\n", name,
		       (unsigned long long)pa);
		return ERR(-EINVAL);
	}
	*out = (const struct acpi_sdt_header *)t;
	return 0;
}

/*
 * Search one root table (entries of esize bytes: 8 for the XSDT, 4 for the
 * RSDT). *root_bad tells the caller the root itself was unusable.
 */
static int acpi_root_search(phys_addr_t root_pa, const char *root_sig,
			    size_t esize, const char *sig, acpi_map_fn map,
			    void *ctx, const struct acpi_sdt_header **out,
			    bool *root_bad)
{
	const struct acpi_sdt_header *root;
	const uint8_t *r;
	uint32_t len, n, i;
	int ret, err = 0;

	*root_bad = false;
	ret = acpi_table_map(root_pa, root_sig, map, ctx, &root);
	if (ret) {
		*root_bad = true;
		return ret;
	}
	r = (const uint8_t *)root;
	len = get_le32(r + 4);
	n = (uint32_t)((len - ACPI_HDR_LEN) / esize);
	if ((len - ACPI_HDR_LEN) % esize)
		pr_warn("ACPI: %s length %u is not a whole number of entries\n",
			root_sig, len);
	for (i = 0; i < n; i++) {
		const uint8_t *p = r + ACPI_HDR_LEN + (size_t)i * esize;
		phys_addr_t pa = esize == 8 ? get_le64(p) : get_le32(p);
		const uint8_t *h;

		if (pa == 0)
			continue;
		h = map(pa, ACPI_HDR_LEN, ctx);
		if (!h) {
			pr_warn("ACPI: %s entry %u: table at 0x%llx not accessible\n",
				root_sig, i, (unsigned long long)pa);
			continue;
		}
		if (memcmp(h, sig, 4) != 0)
			continue;
		ret = acpi_table_map(pa, sig, map, ctx, out);
		if (ret == 0)
			return 0;
		err = ret;      /* logged; a later copy may be valid */
	}
	return err ? err : ERR(-ENOENT);
}

int acpi_find_table(const struct acpi_rsdp_info *rsdp, const char *sig,
		    acpi_map_fn map, void *ctx,
		    const struct acpi_sdt_header **out)
{
	bool root_bad = false;
	int r;

	if (!rsdp || !sig || !map || !out)
		return ERR(-EINVAL);
	/* 5.2.8: an OS must use the XSDT when it is there. */
	if (rsdp->revision >= 2 && rsdp->xsdt) {
		r = acpi_root_search(rsdp->xsdt, "XSDT", 8, sig, map, ctx, out,
				     &root_bad);
		if (!root_bad)
			return r;
		if (!rsdp->rsdt)
			return r;
		pr_warn("ACPI: XSDT unusable, falling back to RSDT\n");
	}
	if (!rsdp->rsdt) {
		pr_err("ACPI: RSDP has neither RSDT nor XSDT address\n");
		return ERR(-ENOENT);
	}
	return acpi_root_search(rsdp->rsdt, "RSDT", 4, sig, map, ctx, out,
				&root_bad);
}

/* Smallest valid length of each MADT entry type (5.2.12.2 onwards). */
static uint8_t acpi_madt_min_len(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LAPIC:           return 8;
	case ACPI_MADT_IOAPIC:          return 12;
	case ACPI_MADT_ISO:             return 10;
	case ACPI_MADT_NMI_SRC:         return 8;
	case ACPI_MADT_LAPIC_NMI:       return 6;
	case ACPI_MADT_LAPIC_OVERRIDE:  return 12;
	case ACPI_MADT_X2APIC:          return 16;
	case ACPI_MADT_X2APIC_NMI:      return 12;
	default:                        return 2;
	}
}

static void acpi_madt_add_cpu(struct acpi_cpus *cpus, uint32_t apic_id,
			      uint32_t uid, uint32_t flags, bool x2)
{
	uint32_t i;

	/* Neither enabled nor hot-pluggable: a placeholder, not a CPU. */
	if (!(flags & (ACPI_MADT_CPU_ENABLED | ACPI_MADT_CPU_ONLINE_CAPABLE))) {
		cpus->n_disabled++;
		return;
	}
	if ((!x2 && apic_id == 0xFF) || (x2 && apic_id == 0xFFFFFFFFu)) {
		pr_warn("ACPI: MADT: CPU UID %u has broadcast APIC ID, ignored\n", uid);
		cpus->n_invalid_id++;
		return;
	}
	for (i = 0; i < cpus->count; i++) {
		if (cpus->cpu[i].apic_id == apic_id) {
			pr_warn("ACPI: MADT: duplicate APIC ID %u (UID %u), ignored\n",
				apic_id, uid);
			cpus->n_duplicate++;
			return;
		}
	}
	if (cpus->count >= NR_CPUS) {
		if (cpus->n_overflow++ == 0)
			pr_warn("ACPI: MADT: more than %u CPUs, extra ones ignored\n",
				NR_CPUS);
		return;
	}
	cpus->cpu[cpus->count++] = (struct acpi_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.enabled = flags & ACPI_MADT_CPU_ENABLED,
		.x2apic_entry = x2,
	};
}

int acpi_madt_parse(const void *madt, size_t len, struct acpi_cpus *cpus)
{
	const uint8_t *m = madt;
	size_t off;

	if (!m || !cpus)
		return ERR(-EINVAL);
	memset(cpus, 0, sizeof(*cpus));
	if (len < ACPI_MADT_ENTRIES || len > ACPI_TABLE_MAX_LEN ||
	    get_le32(m + 4) != len) {
		pr_err("ACPI: MADT: bad length %zu\n", len);
		return ERR(-EINVAL);
	}
	cpus->lapic_base = get_le32(m + 36);
	cpus->madt_flags = get_le32(m + 40);

	for (off = ACPI_MADT_ENTRIES; off < len; ) {
		const uint8_t *e = m + off;
		uint8_t type, elen;

		if (len - off < 2) {
			pr_err("ACPI: MADT: truncated entry header at offset %zu\n", off);
			return ERR(-EINVAL);
		}
		type = e[0];
		elen = e[1];
		/* A length below 2 would never advance: stop rather than loop. */
		if (elen < 2) {
			pr_err("ACPI: MADT: type %u entry at offset %zu has length %u\n",
			       type, off, elen);
			return ERR(-EINVAL);
		}
		if (elen > len - off) {
			pr_err("ACPI: MADT: type %u entry at offset %zu runs past the table end\n",
			       type, off);
			return ERR(-EINVAL);
		}
		if (elen < acpi_madt_min_len(type)) {
			pr_err("ACPI: MADT: type %u entry at offset %zu too short (%u < %u)\n",
			       type, off, elen, acpi_madt_min_len(type));
			return ERR(-EINVAL);
		}
		switch (type) {
		case ACPI_MADT_LAPIC:           /* 5.2.12.2 */
			acpi_madt_add_cpu(cpus, e[3], e[2], get_le32(e + 4), false);
			break;
		case ACPI_MADT_IOAPIC:          /* 5.2.12.3 */
			if (cpus->ioapic_count >= ACPI_MAX_IOAPICS) {
				cpus->n_ioapic_overflow++;
				break;
			}
			cpus->ioapic[cpus->ioapic_count++] = (struct acpi_ioapic){
				.id = e[2],
				.address = get_le32(e + 4),
				.gsi_base = get_le32(e + 8),
			};
			break;
		case ACPI_MADT_LAPIC_OVERRIDE:  /* 5.2.12.8 */
			cpus->lapic_base = get_le64(e + 4);
			cpus->lapic_override = true;
			break;
		case ACPI_MADT_X2APIC:          /* 5.2.12.12 */
			acpi_madt_add_cpu(cpus, get_le32(e + 4), get_le32(e + 12),
					  get_le32(e + 8), true);
			break;
		default:
			break;
		}
		off += elen;
	}
	if (cpus->n_ioapic_overflow)
		pr_warn("ACPI: MADT: more than %u IO APICs, %u ignored\n",
			ACPI_MAX_IOAPICS, cpus->n_ioapic_overflow);
	return 0;
}

int acpi_discover_cpus(const void *rsdp_copy, size_t rsdp_len,
		       acpi_map_fn map, void *ctx, struct acpi_cpus *cpus)
{
	struct acpi_rsdp_info info;
	const struct acpi_sdt_header *madt;
	phys_addr_t pa;
	const char *why;
	bool have = false;
	int r;

	if (!map || !cpus)
		return ERR(-EINVAL);
	if (rsdp_copy) {
		if (acpi_rsdp_check(rsdp_copy, rsdp_len, &info, &why) == 0)
			have = true;
		else
			pr_err("ACPI: RSDP from the boot loader: %s; scanning BIOS areas\n",
			       why);
	}
	if (!have) {
		r = acpi_rsdp_scan(map, ctx, &pa, &info);
		if (r) {
			pr_err("ACPI: no valid RSDP found\n");
			return r;
		}
		pr_info("ACPI: RSDP at 0x%llx\n", (unsigned long long)pa);
	}
	r = acpi_find_table(&info, "APIC", map, ctx, &madt);
	if (r) {
		pr_err("ACPI: no valid MADT (%s)\n", errno_name(r));
		return r;
	}
	r = acpi_madt_parse(madt, get_le32((const uint8_t *)madt + 4), cpus);
	if (r)
		return r;
	pr_info("ACPI: %u CPUs (%u disabled, %u duplicate), LAPIC at 0x%llx, %u IO APICs\n",
		cpus->count, cpus->n_disabled, cpus->n_duplicate,
		(unsigned long long)cpus->lapic_base, cpus->ioapic_count);
	return 0;
}
