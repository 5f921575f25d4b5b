/* Frame-pointer backtrace (the image is built with -fno-omit-frame-pointer). */
#include "hv/arch.h"
#include "hv/ksyms.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"

extern const char __image_start[], __image_end[];

/* Only follow frames in memory we know is mapped: the image (boot and
 * per-CPU stacks) or page-allocator memory (AP stacks). */
static bool frame_ok(uint64_t rbp)
{
	if (!rbp || (rbp & 7))
		return false;
	if (rbp >= (uint64_t)__image_start && rbp + 16 <= (uint64_t)__image_end)
		return true;
	return page_is_managed((const void *)rbp);
}

void arch_backtrace(uint64_t rbp)
{
	if (!rbp)
		rbp = (uint64_t)__builtin_frame_address(0);
	printk(LOG_ERR, "backtrace:\n");
	for (int depth = 0; depth < 32 && frame_ok(rbp); depth++) {
		uint64_t ret = ((uint64_t *)rbp)[1], off = 0;
		const char *name = ksym_lookup(ret, &off);

		if (!ret)
			break;
		printk(LOG_ERR, "  [<%016lx>] %s+0x%lx\n", ret, name ? name : "?", off);
		uint64_t next = ((uint64_t *)rbp)[0];

		if (next <= rbp)        /* stacks grow down: callers are above */
			break;
		rbp = next;
	}
}
