/* Registry of device types a VM can be given (kvm_register_device_ops'
 * analogue; KVM registers VFIO there). */
#ifndef HV_DEVOPS_H
#define HV_DEVOPS_H

#include "hv/types.h"

struct dev_ops {
	const char *name;
	uint32_t type;
	struct dev_ops *next;
};

int devops_register(struct dev_ops *ops);
void devops_unregister(struct dev_ops *ops);
const struct dev_ops *devops_find(uint32_t type);

#endif
