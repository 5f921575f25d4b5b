# Pure modules that the host unit tests link (one per line, in the tree order).
HOST_SRCS := \
	drivers/acpi.c \
	hv/cmdline.c \
	hv/cpumask.c \
	hv/errno.c \
	hv/kmalloc.c \
	hv/mb2.c \
	hv/memmap.c \
	hv/page_alloc.c \
	hv/slab.c
