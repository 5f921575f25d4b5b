# Pure modules that the host unit tests link (one per line, in the tree order).
HOST_SRCS := \
	hv/errno.c
