/*
 * ACPI table discovery and MADT parsing (ACPI 6.5: 5.2.5 RSDP, 5.2.6 table
 * header, 5.2.7 RSDT, 5.2.8 XSDT, 5.2.12 MADT).
 *
 * Firmware memory is reached only through a caller-supplied mapper, so the
 * same code runs in the hypervisor (identity map, range check) and in host
 * tests (a fake physical memory buffer). Every table is validated
 * (signature, length bounds, checksum) before any field past its header is
 * read. Errors are logged with pr_err naming the table and returned as a
 * negative errno; what to do without ACPI is the caller's policy.
 */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include "hv/compiler.h"
#include "hv/config.h"
#include "hv/types.h"

/*
 * Make [pa, pa + len) readable and return a pointer to it, or NULL when the
 * range is not accessible. The pointer stays valid for the whole call that
 * requested it.
 */
typedef const void *(*acpi_map_fn)(phys_addr_t pa, size_t len, void *ctx);

#define ACPI_RSDP_V1_LEN        20
#define ACPI_RSDP_V2_LEN        36
#define ACPI_RSDP_MAX_LEN       4096    /* sanity bound on the v2 length field */
#define ACPI_HDR_LEN            36
/* Bound on any table we validate (XSDT, RSDT, MADT: a few KiB in practice). */
#define ACPI_TABLE_MAX_LEN      (1024u * 1024u)
#define ACPI_MAX_IOAPICS        16

/* Legacy RSDP search areas (5.2.5.1). */
#define ACPI_EBDA_PTR           0x40E
#define ACPI_EBDA_SCAN_LEN      1024
#define ACPI_BIOS_AREA_START    0xE0000
#define ACPI_BIOS_AREA_END      0x100000        /* exclusive */

/* Root System Description Pointer (5.2.5.3). */
struct acpi_rsdp {
	char signature[8];              /* "RSD PTR " */
	uint8_t checksum;               /* first 20 bytes sum to 0 */
	char oem_id[6];
	uint8_t revision;               /* 0: ACPI 1.0, 2: ACPI 2.0+ */
	uint32_t rsdt_address;
	uint32_t length;                /* revision >= 2 from here on */
	uint64_t xsdt_address;
	uint8_t ext_checksum;           /* all `length` bytes sum to 0 */
	uint8_t reserved[3];
} __packed;

/* System Description Table header (5.2.6). */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;                /* whole table, header included */
	uint8_t revision;
	uint8_t checksum;               /* whole table sums to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/* What a validated RSDP says. */
struct acpi_rsdp_info {
	uint8_t revision;
	char oem_id[7];                 /* NUL-terminated */
	phys_addr_t rsdt;               /* 0 if none */
	phys_addr_t xsdt;               /* 0 if none or revision < 2 */
};

/* MADT entry types (5.2.12, table 5.21) and flag bits. */
#define ACPI_MADT_LAPIC                 0
#define ACPI_MADT_IOAPIC                1
#define ACPI_MADT_ISO                   2
#define ACPI_MADT_NMI_SRC               3
#define ACPI_MADT_LAPIC_NMI             4
#define ACPI_MADT_LAPIC_OVERRIDE        5
#define ACPI_MADT_X2APIC                9
#define ACPI_MADT_X2APIC_NMI            10
#define ACPI_MADT_CPU_ENABLED           (1u << 0)
#define ACPI_MADT_CPU_ONLINE_CAPABLE    (1u << 1)
#define ACPI_MADT_PCAT_COMPAT           (1u << 0)       /* MADT flags */

struct acpi_cpu {
	uint32_t apic_id;               /* xAPIC ID or x2APIC ID */
	uint32_t uid;                   /* ACPI processor UID */
	bool enabled;                   /* usable now; else online-capable only */
	bool x2apic_entry;              /* came from a type 9 entry */
};

struct acpi_ioapic {
	uint32_t id;
	uint32_t address;
	uint32_t gsi_base;
};

/*
 * CPUs in MADT order (firmware lists the boot CPU first, 5.2.12.2).
 * Entries with neither enabled nor online-capable set are skipped
 * (n_disabled); a repeated APIC ID is skipped (n_duplicate); IDs 0xFF
 * (xAPIC) and 0xFFFFFFFF (x2APIC) are not CPUs and skipped (n_invalid_id);
 * CPUs past NR_CPUS are dropped (n_overflow).
 */
struct acpi_cpus {
	uint32_t count;
	struct acpi_cpu cpu[NR_CPUS];
	uint64_t lapic_base;            /* 32-bit field or the type 5 override */
	bool lapic_override;
	uint32_t madt_flags;
	uint32_t n_disabled;
	uint32_t n_duplicate;
	uint32_t n_invalid_id;
	uint32_t n_overflow;
	uint32_t ioapic_count;
	struct acpi_ioapic ioapic[ACPI_MAX_IOAPICS];
	uint32_t n_ioapic_overflow;
};

/*
 * Validate an RSDP held in buf[0..avail): signature, checksum of the first
 * 20 bytes and, for revision >= 2, ACPI_RSDP_V2_LEN <= length <= avail
 * (and <= ACPI_RSDP_MAX_LEN) and the extended checksum. Fills *info if
 * non-NULL. Returns 0 or -EINVAL. Logs nothing (the scan tries many
 * candidates); acpi_find_rsdp and acpi_discover_cpus log.
 */
int acpi_rsdp_validate(const void *buf, size_t avail,
		       struct acpi_rsdp_info *info);

/*
 * Legacy BIOS search (5.2.5.1): the first 1 KiB of the EBDA (segment at
 * physical 0x40E, used if it points into 0x400..0x9FFFF), then
 * 0xE0000-0xFFFFF, at 16-byte boundaries. Areas the mapper refuses are
 * skipped. Returns 0 with *pa and *info filled, or -ENOENT.
 */
int acpi_rsdp_scan(acpi_map_fn map, void *ctx, phys_addr_t *pa,
		   struct acpi_rsdp_info *info);

/*
 * Validate the table at pa: header mappable, signature `sig` (4 chars; NULL
 * means any), ACPI_HDR_LEN <= length <= ACPI_TABLE_MAX_LEN, whole table
 * mappable, checksum 0. On success *out points at the mapped table (length
 * in its header). Returns 0, -EFAULT (not mappable), -EINVAL.
 */
int acpi_table_map(phys_addr_t pa, const char *sig, acpi_map_fn map, void *ctx,
		   const struct acpi_sdt_header **out);

/*
 * Find the first valid table with signature `sig` via the XSDT (when
 * revision >= 2 and the XSDT address is nonzero) or else the RSDT; if the
 * XSDT itself is invalid the RSDT is tried. A table with the right
 * signature that fails validation is logged and skipped. Returns 0 with
 * *out set, -ENOENT (no valid table with that signature), or the root
 * table's error when neither root table is usable.
 */
int acpi_find_table(const struct acpi_rsdp_info *rsdp, const char *sig,
		    acpi_map_fn map, void *ctx,
		    const struct acpi_sdt_header **out);

/*
 * Parse a validated MADT of `len` bytes (len must equal its header length,
 * checksum already checked by acpi_table_map). Fills *cpus. An entry with
 * length 0, below its type's minimum, or running past the table end stops
 * the parse: -EINVAL (*cpus then partial, not to be used). Duplicates,
 * disabled CPUs, and overflow are counted and warned, not errors.
 */
int acpi_madt_parse(const void *madt, size_t len, struct acpi_cpus *cpus);

/*
 * The whole path: validate the RSDP from the boot loader (rsdp_copy,
 * rsdp_len bytes; NULL to skip), else fall back to the legacy scan; find
 * and validate the MADT; parse it. Returns 0 or the first fatal error
 * (-ENOENT no RSDP / no MADT, -EINVAL, -EFAULT), already logged.
 */
int acpi_discover_cpus(const void *rsdp_copy, size_t rsdp_len,
		       acpi_map_fn map, void *ctx, struct acpi_cpus *cpus);

#endif
