/* VMs and vCPUs: creation, memory regions, teardown (hv/vm.h). */
#include "hv/vm.h"
#include "hv/async_work.h"
#include "hv/cpuid.h"
#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/irqchip.h"
#include "hv/kmalloc.h"
#include "hv/page_alloc.h"
#include "hv/msr.h"
#include "hv/printk.h"
#include "hv/slab.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_init.h"
#include <x86/fpu.h>

struct vm root_vm;
static uint32_t asid_used[VM_MAX + 2];          /* ASID/VPID 1 is the root's */
static uint32_t next_vm_id = 1;

static uint32_t asid_alloc(void)
{
	for (uint32_t a = 2; a < ARRAY_SIZE(asid_used); a++)
		if (!__atomic_exchange_n(&asid_used[a], 1, __ATOMIC_ACQ_REL))
			return a;
	return 0;
}

struct vm *vm_create(bool is_root)
{
	struct vm *vm = is_root ? &root_vm : kzalloc(sizeof(*vm));

	if (!vm)
		return NULL;
	memset(vm, 0, sizeof(*vm));
	vm->is_root = is_root;
	vm->id = is_root ? 0 : __atomic_fetch_add(&next_vm_id, 1, __ATOMIC_RELAXED);
	vm->asid = is_root ? 1 : asid_alloc();
	vm->cpuid = &default_cpuid;
	if (!vm->asid || gpt_init(&vm->gpt, virt_ops->gpt_format)) {
		if (vm->asid > 1)
			asid_used[vm->asid] = 0;
		if (!is_root)
			kfree(vm);
		return NULL;
	}
	return vm;
}

static void release_cancel(struct vm *vm);

int vm_destroy(struct vm *vm)
{
	if (vm->nr_vcpus)
		return -EBUSY;
	release_cancel(vm);     /* no vCPU left: nothing can walk the tables */
	irqchip_destroy(vm);
	if (vm->cpuid != &default_cpuid)
		page_free((void *)vm->cpuid, 0);
	gpt_destroy(&vm->gpt);
	if (vm->asid > 1)
		__atomic_store_n(&asid_used[vm->asid], 0, __ATOMIC_RELEASE);
	if (!vm->is_root)
		kfree(vm);
	return 0;
}

static void release_later(struct vm *vm);

static int nothing(void *arg)
{
	return 0;
}

/*
 * After a VM's nested mappings changed: every CPU running one of its vCPUs
 * leaves the guest at least once (a cross-CPU call is served only outside
 * guest mode) and, seeing the new generation, flushes before it enters
 * again (the backends' TLB policy). Only then may unlinked tables be
 * freed. No vCPU of the VM can start running meanwhile: HC_RUN claims a
 * vCPU under the management lock, which every region change holds.
 */
static int shootdown(struct vm *vm)
{
	unsigned int me = smp_processor_id();
	int r = 0;

	__atomic_fetch_add(&vm->tlb_gen, 1, __ATOMIC_ACQ_REL);
	for (uint32_t i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = __atomic_load_n(&vm->vcpus[i], __ATOMIC_ACQUIRE);
		int on = v ? __atomic_load_n(&v->running_on, __ATOMIC_ACQUIRE) : 0;

		if (on > 0 && (unsigned int)(on - 1) != me) {
			int e = smp_call_function_single((unsigned int)(on - 1), nothing, NULL, true);

			if (e && !r)
				r = e;
		}
	}
	return r;
}

/*
 * KVM_SET_USER_MEMORY_REGION's rules: page-aligned, the root memory behind
 * it must be the root's own, no overlap with another region of the VM;
 * size 0 removes the region that starts at gpa. When the call returns, no
 * CPU can reach memory a removed region mapped.
 */
int vm_set_region(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	bool stale = false;     /* did a mapping or a table go away? */
	int r = 0, s;

	if (!IS_ALIGNED(gpa | hpa | size, PAGE_SIZE) || gpa + size < gpa ||
	    gpa + size > (1ULL << 48))
		return -EINVAL;
	if (size && !root_mem_contains(hpa, size))
		return -EFAULT;
	spin_lock(&vm->lock);
	if (!size) {
		r = -ENOENT;
		for (uint32_t i = 0; i < vm->nr_regions; i++)
			if (vm->regions[i].gpa == gpa) {
				/* A failed unmap changed nothing: the region stays. */
				r = gpt_unmap(&vm->gpt, gpa, vm->regions[i].size);
				if (r)
					pr_err("vm %u: removing region 0x%lx failed (%s); it stays\n",
					       vm->id, gpa, errno_name(r));
				else
					vm->regions[i] = vm->regions[--vm->nr_regions];
				stale = !r;
				break;
			}
		goto out;
	}
	for (uint32_t i = 0; i < vm->nr_regions; i++) {
		const struct mem_region *m = &vm->regions[i];

		if (gpa < m->gpa + m->size && m->gpa < gpa + size) {
			r = -EEXIST;
			goto out;
		}
	}
	if (vm->nr_regions == VM_MAX_REGIONS) {
		r = -ENOSPC;
		goto out;
	}
	r = gpt_map(&vm->gpt, gpa, hpa, size, GPT_WRITE | GPT_EXEC);
	if (r) {
		if (gpt_unmap(&vm->gpt, gpa, size))
			pr_err("vm %u: undoing a partial map at 0x%lx failed\n", vm->id, gpa);
		stale = true;
		goto out;
	}
	vm->regions[vm->nr_regions++] = (struct mem_region){ gpa, hpa, size };
out:
	stale |= vm->gpt.deferred != NULL;
	spin_unlock(&vm->lock);
	/* Mappings that went away (removal, large pages replacing tables)
	 * must not survive in any TLB: shoot down, then free the tables. A
	 * new mapping over nothing needs neither (no TLB keeps misses). */
	if (!stale)
		return r;
	if ((s = shootdown(vm))) {
		/* A CPU did not confirm it left the guest: the unlinked tables
		 * stay allocated, a deferred work item (the async stage's)
		 * retries the shootdown and frees them, and the caller learns
		 * that the memory may still be reachable. */
		pr_err("vm %u: TLB shootdown incomplete (%s); keeping the old tables\n",
		       vm->id, errno_name(s));
		release_later(vm);
		return r ? r : s;
	}
	spin_lock(&vm->lock);
	gpt_release(&vm->gpt);
	spin_unlock(&vm->lock);
	return r;
}

/* Deferred work (the async stage's items, run by events_run): retry the
 * shootdown a region change could not finish, then free the tables it
 * unlinked. Cancelled by vm_destroy, which frees them itself. */
static void release_work(struct work *w)
{
	struct async_work *aw = container_of(w, struct async_work, work);
	struct vm *vm = aw->vcpu;

	if (shootdown(vm)) {
		events_queue(w);                /* still not answered: later */
		return;
	}
	spin_lock(&vm->lock);
	gpt_release(&vm->gpt);
	vm->release = NULL;
	spin_unlock(&vm->lock);
	async_work_free(aw);
}

static void release_later(struct vm *vm)
{
	struct async_work *aw;

	if (vm->release || !(aw = async_work_alloc()))
		return;                         /* already queued, or the next change retries */
	aw->work = (struct work){ .fn = release_work };
	aw->vcpu = vm;
	vm->release = aw;
	events_queue(&aw->work);
}

static void release_cancel(struct vm *vm)
{
	if (!vm->release)
		return;
	events_cancel(&vm->release->work);
	async_work_free(vm->release);
	vm->release = NULL;
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	void *hva = NULL;

	if (gpa + len < gpa)
		return NULL;
	spin_lock(&vm->lock);
	for (uint32_t i = 0; i < vm->nr_regions; i++) {
		const struct mem_region *m = &vm->regions[i];

		if (gpa >= m->gpa && gpa + len <= m->gpa + m->size) {
			hva = (void *)(m->hpa + (gpa - m->gpa));
			break;
		}
	}
	spin_unlock(&vm->lock);
	return hva;
}

/* A free index (the APIC ID) in the VM, or -ENOSPC. */
static int slot_claim(struct vm *vm)
{
	int idx = -ENOSPC;

	spin_lock(&vm->lock);
	for (int i = 0; i < VM_MAX_VCPUS; i++)
		if (!vm->vcpus[i]) {
			vm->vcpus[i] = (struct vcpu *)1;        /* claimed */
			vm->nr_vcpus++;
			idx = i;
			break;
		}
	spin_unlock(&vm->lock);
	return idx;
}

static void slot_release(struct vm *vm, uint32_t idx)
{
	spin_lock(&vm->lock);
	vm->vcpus[idx] = NULL;
	vm->nr_vcpus--;
	spin_unlock(&vm->lock);
}

struct vcpu *vcpu_create(struct vm *vm, uint64_t exit_page)
{
	int idx = slot_claim(vm);
	void *block;
	struct vcpu *v;
	int r = -ENOMEM;

	if (idx < 0)
		return ERR_PTR(idx);
	v = kzalloc(sizeof(*v));
	block = cache_alloc(vcpu_cache);
	if (!v || !block)
		goto fail;
	v->vm = vm;
	v->index = (uint32_t)idx;
	v->block = block;
	v->exit_page = exit_page;
	v->last_cpu = -1;
	v->mp_state = HV_MP_RUNNABLE;
	v->mtrr_def_type = MTRR_DEF_TYPE_RESET;
	if ((r = irqchip_vcpu_init(v)))
		goto fail;
	if (virt_ops->vcpu_setup(v)) {
		irqchip_vcpu_fini(v);
		r = -ENOMEM;
		goto fail;
	}
	fpu_reset(v->fpu);
	__atomic_store_n(&vm->vcpus[idx], v, __ATOMIC_RELEASE);
	return v;
fail:
	if (block)
		cache_free(vcpu_cache, block);
	kfree(v);
	slot_release(vm, (uint32_t)idx);
	return ERR_PTR(r);
}

void vcpu_destroy(struct vcpu *v)
{
	struct vm *vm = v->vm;

	virt_ops->vcpu_teardown(v);
	irqchip_vcpu_fini(v);
	cache_free(vcpu_cache, v->block);
	slot_release(vm, v->index);
	kfree(v);
}

void vcpu_request(struct vcpu *v, uint32_t req)
{
	__atomic_fetch_or(&v->requests, req, __ATOMIC_ACQ_REL);
}
