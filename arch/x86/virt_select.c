/* Choosing the virtualization backend for this machine. */
#include <x86/cpu.h>
#include "hv/string.h"
#include "hv/virt.h"
#include "vmx/vmx.h"
#include "svm/svm.h"

const struct virt_ops *arch_virt_select(struct virt_check *chk)
{
	if (cpuid(1).ecx & (1U << 5))
		return &vmx_ops;
	if (cpuid(0x80000000).eax >= 0x80000001 && (cpuid(0x80000001).ecx & (1U << 2)))
		return &svm_ops;
	chk->reason = VIRT_REASON_UNSUPPORTED;
	memcpy(chk->detail, "CPUID has neither VMX nor SVM", sizeof("CPUID has neither VMX nor SVM"));
	return NULL;
}
