# The consoles' pure pieces (docs/debugging.md, "Consoles"): SPCR/DBG2 and
# PCI serial matching, console= parsing, the text screen, the framebuffer
# renderer and its font, the log ring; tests/host/host_console_stubs.c
# stands in for hv/console.c where the hypercall layer reads the log.
HOST_SRCS += \
	drivers/fbcon.c \
	drivers/font8x16.c \
	drivers/pci_serial.c \
	drivers/screen.c \
	drivers/spcr.c \
	hv/console_opt.c \
	hv/logring.c \
	tests/host/host_console_stubs.c
