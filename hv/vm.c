/* VMs and vCPUs: creation, memory regions, teardown (hv/vm.h). */
#include "hv/vm.h"
#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/kmalloc.h"
#include "hv/printk.h"
#include "hv/slab.h"
#include "hv/string.h"
#include "hv/virt_init.h"

struct vm root_vm;
uint64_t vm_count, vcpu_count, exit_count, hypercall_count;
static uint32_t asid_used[VM_MAX + 2];          /* ASID/VPID 1 is the root's */

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
	vm->asid = is_root ? 1 : asid_alloc();
	if (!vm->asid || gpt_init(&vm->gpt, virt_ops->gpt_format)) {
		if (vm->asid > 1)
			asid_used[vm->asid] = 0;
		if (!is_root)
			kfree(vm);
		return NULL;
	}
	__atomic_fetch_add(&vm_count, 1, __ATOMIC_RELAXED);
	return vm;
}

int vm_destroy(struct vm *vm)
{
	if (vm->nr_vcpus)
		return -EBUSY;
	gpt_destroy(&vm->gpt);
	if (vm->asid > 1)
		__atomic_store_n(&asid_used[vm->asid], 0, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&vm_count, 1, __ATOMIC_RELAXED);
	if (!vm->is_root)
		kfree(vm);
	return 0;
}

/*
 * KVM_SET_USER_MEMORY_REGION's rules: page-aligned, the root memory behind
 * it must be the root's own, no overlap with another region of the VM;
 * size 0 removes the region that starts at gpa.
 */
int vm_set_region(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	int r = 0;

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
				gpt_unmap(&vm->gpt, gpa, vm->regions[i].size);
				vm->regions[i] = vm->regions[--vm->nr_regions];
				r = 0;
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
		gpt_unmap(&vm->gpt, gpa, size);
		goto out;
	}
	vm->regions[vm->nr_regions++] = (struct mem_region){ gpa, hpa, size };
out:
	spin_unlock(&vm->lock);
	return r;
}

struct vcpu *vcpu_create(struct vm *vm, uint64_t exit_page)
{
	void *block;
	struct vcpu *v;

	spin_lock(&vm->lock);
	if (vm->nr_vcpus == VM_MAX_VCPUS) {
		spin_unlock(&vm->lock);
		return ERR_PTR(-ENOSPC);
	}
	vm->nr_vcpus++;
	spin_unlock(&vm->lock);

	v = kzalloc(sizeof(*v));
	block = cache_alloc(vcpu_cache);
	if (!v || !block) {
		kfree(v);
		if (block)
			cache_free(vcpu_cache, block);
		goto fail;
	}
	v->vm = vm;
	v->block = block;
	v->exit_page = exit_page;
	if (virt_ops->vcpu_setup(v)) {
		cache_free(vcpu_cache, block);
		kfree(v);
		goto fail;
	}
	__atomic_fetch_add(&vcpu_count, 1, __ATOMIC_RELAXED);
	return v;
fail:
	spin_lock(&vm->lock);
	vm->nr_vcpus--;
	spin_unlock(&vm->lock);
	return ERR_PTR(-ENOMEM);
}

void vcpu_destroy(struct vcpu *v)
{
	struct vm *vm = v->vm;

	virt_ops->vcpu_teardown(v);
	cache_free(vcpu_cache, v->block);
	kfree(v);
	spin_lock(&vm->lock);
	vm->nr_vcpus--;
	spin_unlock(&vm->lock);
	__atomic_fetch_sub(&vcpu_count, 1, __ATOMIC_RELAXED);
}
