# Pure modules that the host unit tests link (one per line, in the tree order).
HOST_SRCS += \
	drivers/acpi.c \
	hv/cmdline.c \
	hv/cpumask.c \
	hv/errno.c \
	hv/kmalloc.c \
	hv/mb2.c \
	hv/memmap.c \
	hv/page_alloc.c \
	hv/slab.c
# The staged virtualization init and its stage subsystems, on a fake machine
# of CPUs (tests/host/host_smp.c: cross-CPU calls, arch_virt_select).
HOST_SRCS += \
	hv/async_work.c \
	hv/cpu_hotplug.c \
	hv/debug_stats.c \
	hv/devops.c \
	hv/events.c \
	hv/fail_inject.c \
	hv/hypercall.c \
	hv/notifier.c \
	hv/preempt.c \
	hv/syscore.c \
	hv/virt_cpu.c \
	hv/virt_init.c \
	tests/host/host_smp.c
# VMs, handles, nested page tables and hypercall decoding; the kernel-only
# pieces they call are stubbed in tests/host/host_guest_stubs.c.
HOST_SRCS += \
	hv/cpuid.c \
	hv/gpt.c \
	hv/irqchip.c \
	hv/guest_mem.c \
	hv/handle.c \
	hv/leakcheck.c \
	hv/msr.c \
	hv/reboot.c \
	hv/vm.c \
	tests/host/host_guest_stubs.c
