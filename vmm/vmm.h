/*
 * The VMM: the root partition's program that boots unmodified Linux (and
 * multiboot kernels) in child VMs through the hypercall ABI alone, in the
 * role kvmtool plays on /dev/kvm. docs/vmm.md describes it; this header is
 * what its files share.
 */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include "guest.h"
#include "uart16550.h"

#define VMM_MAX_VMS             4
#define VMM_MAX_VCPUS           8       /* per VM (HV_CAP_MAX_VCPUS) */
#define VMM_MAX_CPUS            64      /* physical CPUs it runs vCPUs on */

/* ---------------------------------------------------------- small tools */

typedef struct { volatile int locked; } vmm_lock_t;

static inline void vmm_lock(vmm_lock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__asm__ __volatile__("pause");
}

static inline void vmm_unlock(vmm_lock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* Every line the VMM prints goes through the hypervisor's console
 * (HC_CONSOLE_WRITE), so it never interleaves with the hypervisor's own. */
void vmm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Root memory, aligned; NULL when none is left. */
void *vmm_alloc(uint64_t size, uint64_t align);
void vmm_free(void *p, uint64_t size);
/* One line with the hypervisor's memory (HC_STATS). */
void vmm_stats_line(const char *when, unsigned int id);

/* ---------------------------------------------------------- configuration */

/* One VM as the command line describes it (docs/vmm.md). */
struct vm_config {
	unsigned int kernel;            /* boot module number (1 = the one after the VMM) */
	unsigned int initrd;            /* 0: none */
	unsigned int mods[4];           /* multiboot modules, 0-terminated */
	unsigned int cpus;
	uint64_t mem;
	bool restart;                   /* boot it again when it ends */
};

struct vmm_config {
	struct vm_config vm[VMM_MAX_VMS];
	unsigned int nr_vms;
	uint64_t budget_us;             /* HC_RUN budget on CPU 0 (the console's) */
};

/* Parse the VMM's module command line; 0 or -1 (the message printed). */
int config_parse(const char *cmdline, struct vmm_config *c);

/* ---------------------------------------------------------- VMs */

struct vmm_vm;

struct vmm_vcpu {
	struct vmm_vm *vm;
	int64_t handle;
	unsigned int index;
	unsigned int home;              /* the physical CPU that runs it */
	struct hv_exit *exit;           /* its exit page */
	volatile int in_run;            /* inside HC_RUN now */
	bool halted;                    /* its last run ended in HLT (no-block runs) */
	bool stopped;                   /* halted with interrupts off: for good */
};

enum vm_state { VM_OFF, VM_RUNNING, VM_STOPPING };

struct vmm_vm {
	unsigned int id;                /* 1, 2, ... as in "vm N:" */
	const struct vm_config *cfg;
	volatile int state;             /* enum vm_state */
	int64_t handle;
	uint8_t *ram;
	uint64_t ram_size;
	unsigned int nr_vcpus;
	struct vmm_vcpu vcpus[VMM_MAX_VCPUS];
	/* Devices at the guest's pace. */
	vmm_lock_t dev_lock;
	struct uart16550 uart;
	bool irq4;                      /* the UART's line as last told the IOAPIC */
	uint32_t pci_addr;              /* 0xcf8 */
	uint8_t i8042_out[4];           /* bytes the guest reads at 0x60 */
	unsigned int i8042_out_len;
	uint8_t i8042_ctr, i8042_cmd;   /* command byte; a command awaiting data */
	uint8_t cmos_index;
	uint64_t unknown_ports;         /* accesses to ports nothing answers */
	uint64_t unknown_mmio;
	uint8_t port_seen[8192];        /* a bit per port: reported once */
	/* How it ended (VM_STOPPING). */
	char end_reason[64];
	int end_code;
	uint64_t boot_tsc;
	bool first_output;
};

extern struct vmm_vm vms[VMM_MAX_VMS];
extern unsigned int nr_vms;
extern struct hv_root_info *root_info;

/* Create, load and start VM i as configured; 0 or -1 (reported). */
int vm_start(unsigned int i, const struct vm_config *cfg);
/* End a VM (any CPU): it stops being run, CPU 0 tears it down. */
void vm_stop(struct vmm_vm *vm, const char *reason, int code);
/* CPU 0: destroy the VMs that stopped (and restart those configured to). */
void vm_reap(void);

/* ---------------------------------------------------------- devices */

/* A port I/O exit of a vCPU: the device models. */
void pio_exit(struct vmm_vcpu *vc);
/* An MMIO exit the hypervisor handed over: nothing is there. */
void mmio_exit(struct vmm_vcpu *vc);
/* Typed input for the VM's UART (called with dev_lock held). */
void uart_feed(struct vmm_vm *vm);
void dev_reset(struct vmm_vm *vm);

/* ---------------------------------------------------------- consoles */

void console_init(void);
/* A byte the VM's UART (or debug port) transmitted. */
void console_out(struct vmm_vm *vm, uint8_t c);
/* CPU 0: typed input, flushing output; called between runs. */
void console_poll(void);
/* Input for `vm` waiting to go into its UART: the next byte, -1 none. */
int console_peek_input(struct vmm_vm *vm);
void console_take_input(struct vmm_vm *vm);
/* A VM went away: its last output out, the input elsewhere unless it
 * boots again. */
void console_vm_gone(struct vmm_vm *vm, bool restarting);

/* ---------------------------------------------------------- running */

/* The loop of each physical CPU's root vCPU: run the vCPUs at home here. */
__attribute__((noreturn)) void run_loop(unsigned int cpu);
extern unsigned int nr_cpus;
extern uint64_t run_budget_us;

#endif
