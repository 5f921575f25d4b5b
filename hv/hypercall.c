/* Hypercall dispatch (hv/hypercall.h). Numbers in include/uapi/hv/hypercall.h. */
#include "hv/hypercall.h"
#include "hv/errno.h"
#include "hv/smp.h"
#include "hv/virt_cpu.h"

static bool installed, accepting;

struct hc_desc {
	const char *name;
	/* Validate the arguments, no side effects: 0 or -HV_E*. */
	int64_t (*decode)(const struct hypercall_regs *r);
	/* Do it; only called after decode said yes. */
	int64_t (*invoke)(const struct hypercall_regs *r);
};

static int64_t decode_none(const struct hypercall_regs *r)
{
	return 0;
}

static int64_t invoke_api_version(const struct hypercall_regs *r)
{
	return HV_API_VERSION;
}

static int64_t decode_virt_status(const struct hypercall_regs *r)
{
	return r->arg[0] < NR_CPUS ? 0 : -HV_EINVAL;
}

static int64_t invoke_virt_status(const struct hypercall_regs *r)
{
	const struct virt_cpu *vc = &virt_cpu[r->arg[0]];
	int64_t state = vc->state == VIRT_CPU_ON ? HV_VIRT_ON :
			vc->state == VIRT_CPU_FAILED ? HV_VIRT_FAILED : HV_VIRT_OFF;

	return state | (int64_t)vc->chk.reason << 8;
}

static const struct hc_desc hypercalls[HC_COUNT] = {
	[HC_API_VERSION] = { "api_version", decode_none, invoke_api_version },
	[HC_VIRT_STATUS] = { "virt_status", decode_virt_status, invoke_virt_status },
};

int hypercall_install(void)
{
	if (installed)
		return ERR(-EBUSY);
	installed = true;
	return 0;
}

void hypercall_uninstall(void)
{
	accepting = false;
	installed = false;
}

void hypercall_set_accepting(bool on)
{
	__atomic_store_n(&accepting, on && installed, __ATOMIC_RELEASE);
}

int64_t hypercall_dispatch(const struct hypercall_regs *regs)
{
	const struct hc_desc *d;
	int64_t r;

	if (!__atomic_load_n(&accepting, __ATOMIC_ACQUIRE))
		return -HV_EAGAIN;
	if (regs->nr >= HC_COUNT || !hypercalls[regs->nr].invoke)
		return -HV_ENOSYS;
	d = &hypercalls[regs->nr];
	r = d->decode(regs);
	return r ? r : d->invoke(regs);
}
