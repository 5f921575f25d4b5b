/*
 * The demo root partition built into the image: it shows the whole path
 * once (hypercalls, a child VM printing through port I/O, exit records),
 * then idles with HLT, which hands the CPU back to the hypervisor.
 */
#include "vmlib.h"

void guest_main(struct hv_root_info *info)
{
	struct child c;
	char line[128];
	size_t len = 0;
	int64_t r;

	guest_init();
	ralloc_init(info);
	gprintf("root: demo root partition, hypervisor API %d, %u CPUs, %lu MiB free\n",
		(int)hcall(HC_API_VERSION, 0, 0, 0, 0), info->nr_cpus,
		(info->free_end - info->free_start) >> 20);
	r = child_create(&c, child_hello_start, (size_t)(child_hello_end - child_hello_start));
	if (r < 0) {
		gprintf("root: creating the child VM failed: %d\n", (int)r);
		goto idle;
	}
	for (;;) {
		if ((r = child_run(&c)) < 0) {
			gprintf("root: run failed: %d\n", (int)r);
			break;
		}
		if (c.exit->reason == HV_EXIT_IO && c.exit->io.out && c.exit->io.port == 0xe9) {
			char ch = (char)c.exit->io.data;

			if (ch == '\n' || len == sizeof(line) - 1) {
				line[len] = '\0';
				gprintf("root: child says \"%s\"\n", line);
				len = 0;
			} else {
				line[len++] = ch;
			}
			continue;
		}
		gprintf("root: child exit: %s at 0x%lx\n", exit_name(c.exit->reason), c.exit->rip);
		break;
	}
	r = child_destroy(&c);
	gprintf("root: child VM destroyed (%d); idle, the debug console is on serial\n", (int)r);
idle:
	for (;;)
		__asm__ __volatile__("hlt");
}
