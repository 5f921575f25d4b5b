/*
 * Panics that hit the other CPUs where stopping them is hardest: inside a
 * child VM (the NMI first ends the guest's run) and, on SVM, with GIF clear
 * (the NMI waits until STGI). Each run must end in the panic report with
 * every CPU stopped and virtualization read back off in all of them
 * (tests/system/cases_reliability.py; panic_halt lets QEMU's monitor check
 * EFER.SVME and HLT of every CPU from the outside).
 */
#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/cpu.h>
#include <x86/tsc.h>

static volatile int in_guest[NR_CPUS];

static void wait_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz() / 1000;

	while (rdtsc() < end)
		__asm__ __volatile__("pause");
}

/* On an AP: run a child vCPU that spins (JMP $) until the NMI comes. */
static int run_spinning_child(void *arg)
{
	struct vcpu *v = arg;

	__atomic_store_n(&in_guest[smp_processor_id()], 1, __ATOMIC_RELEASE);
	vcpu_run_child(v, NULL, 0, 0);
	pr_err("selftest: CPU %u left its child VM\n", smp_processor_id());
	return 0;
}

/* Every other CPU inside a child VM of its own, then a panic on CPU 0. */
SELFTEST(panic_in_guest)
{
	uint64_t base = 0;
	unsigned int cpu, n = 0;

	CHECK(virt_ready() && smp_num_online() > 1);
	for (uint32_t i = 0; i < root_mem.count && !base; i++)
		if (root_mem.range[i].len >= 64 * PAGE_SIZE)
			base = ALIGN_UP(root_mem.range[i].base, PAGE_SIZE);
	CHECK(base);
	for_each_cpu(cpu, &cpu_online_mask) {
		uint64_t mem = base + (uint64_t)n * 2 * PAGE_SIZE;
		struct vm *vm;
		struct vcpu *v;

		if (cpu == smp_processor_id())
			continue;
		vm = vm_create(false);
		CHECK(vm);
		/* Guest-physical 0: JMP $ where the vCPU starts (real mode, 0). */
		memset((void *)mem, 0, 2 * PAGE_SIZE);
		*(uint16_t *)mem = 0xfeeb;
		CHECK(vm_set_region(vm, 0, mem, PAGE_SIZE) == 0);
		v = vcpu_create(vm, mem + PAGE_SIZE);
		CHECK(!IS_ERR(v));
		CHECK(smp_call_function_single(cpu, run_spinning_child, v, false) == 0);
		n++;
	}
	for_each_cpu(cpu, &cpu_online_mask) {
		uint64_t spins = 0;

		if (cpu == smp_processor_id())
			continue;
		while (!__atomic_load_n(&in_guest[cpu], __ATOMIC_ACQUIRE) && spins++ < 1000000)
			wait_us(1);
		CHECK(in_guest[cpu]);
	}
	wait_us(20000);                 /* well inside the guest by now */
	panic("panic while %u CPUs run a child VM", n);
}

static volatile int gif_clear;

/* On an AP: clear GIF and stay so until the panic has begun (bounded),
 * then set it again: the NMI held meanwhile is taken at STGI. */
static int hold_gif_clear(void *arg)
{
	uint64_t end;

	__asm__ __volatile__("clgi" ::: "memory");
	__atomic_store_n(&gif_clear, 1, __ATOMIC_RELEASE);
	end = rdtsc() + 2000 * tsc_khz();       /* 2 s at most */
	while (!panic_in_progress() && rdtsc() < end)
		__asm__ __volatile__("pause");
	wait_us(50000);
	__asm__ __volatile__("stgi" ::: "memory");
	return 0;
}

SELFTEST(panic_gif_clear)
{
	uint64_t spins = 0;

	CHECK(virt_ready() && smp_num_online() > 1);
	if (virt_ops->vendor != HV_VENDOR_AMD) {
		pr_info("selftest: GIF is SVM's; nothing to test on %s\n", virt_ops->name);
		return 0;
	}
	CHECK(smp_call_function_single(1, hold_gif_clear, NULL, false) == 0);
	while (!__atomic_load_n(&gif_clear, __ATOMIC_ACQUIRE) && spins++ < 1000000)
		wait_us(1);
	CHECK(gif_clear);
	panic("panic while CPU 1 has GIF clear");
}
