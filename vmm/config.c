/*
 * The VMM's command line (its multiboot2 module's string), docs/vmm.md:
 *
 *   vmm.elf vm=KERNEL[,initrd=N][,mod=N...][,cpus=N][,mem=SIZE][,restart]
 *           [vm=...] [budget_us=N]
 *
 * KERNEL and N are boot module numbers: 1 is the module after the VMM's
 * own. A kernel module's own string (after its file name) is the guest's
 * command line, added to the VMM's defaults for Linux.
 */
#include "vmm.h"

static bool word(const char **p, const char *w)
{
	size_t n = 0;

	while (w[n])
		n++;
	if (gmemcmp(*p, w, n))
		return false;
	*p += n;
	return true;
}

static bool number(const char **p, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		*v = *v * 10 + (uint64_t)(*s++ - '0');
	if (*s == 'K' || *s == 'k')
		*v <<= 10, s++;
	else if (*s == 'M' || *s == 'm')
		*v <<= 20, s++;
	else if (*s == 'G' || *s == 'g')
		*v <<= 30, s++;
	*p = s;
	return true;
}

static int parse_vm(const char **p, struct vm_config *vm)
{
	uint64_t v;
	unsigned int nmods = 0;

	*vm = (struct vm_config){ .cpus = 1, .mem = 256ULL << 20 };
	if (!number(p, &v) || !v) {
		vmm_printf("vmm: vm= needs the kernel's module number first (vm=1,...)\n");
		return -1;
	}
	vm->kernel = (unsigned int)v;
	while (**p == ',') {
		(*p)++;
		if (word(p, "initrd=") && number(p, &v)) {
			vm->initrd = (unsigned int)v;
		} else if (word(p, "mod=") && number(p, &v) && nmods < 3) {
			vm->mods[nmods++] = (unsigned int)v;
		} else if (word(p, "cpus=") && number(p, &v)) {
			vm->cpus = (unsigned int)v;
		} else if (word(p, "mem=") && number(p, &v)) {
			vm->mem = v;
		} else if (word(p, "restart")) {
			vm->restart = true;
		} else {
			vmm_printf("vmm: cannot read the vm= option at \"%s\"\n", *p);
			return -1;
		}
	}
	if (!vm->cpus || vm->cpus > VMM_MAX_VCPUS) {
		vmm_printf("vmm: cpus=%u: a VM has 1 to %u vCPUs\n", vm->cpus, VMM_MAX_VCPUS);
		return -1;
	}
	if (vm->mem < (16ULL << 20) || vm->mem > (3ULL << 30) || (vm->mem & 0xfffff)) {
		vmm_printf("vmm: mem=%lu: a VM has 16 MiB to 3 GiB, whole MiB\n", vm->mem);
		return -1;
	}
	return 0;
}

int config_parse(const char *s, struct vmm_config *c)
{
	*c = (struct vmm_config){ .budget_us = 20000 };
	while (*s && *s != ' ')                 /* the module's file name */
		s++;
	while (*s) {
		uint64_t v;

		if (*s == ' ') {
			s++;
			continue;
		}
		if (word(&s, "vm=")) {
			if (c->nr_vms == VMM_MAX_VMS) {
				vmm_printf("vmm: at most %u VMs\n", VMM_MAX_VMS);
				return -1;
			}
			if (parse_vm(&s, &c->vm[c->nr_vms]))
				return -1;
			c->nr_vms++;
		} else if (word(&s, "budget_us=") && number(&s, &v) && v) {
			c->budget_us = v;
		} else {
			vmm_printf("vmm: unknown option at \"%s\"\n", s);
			return -1;
		}
		if (*s && *s != ' ') {
			vmm_printf("vmm: cannot read the options at \"%s\"\n", s);
			return -1;
		}
	}
	return 0;
}
