# The VMM's pure pieces (vmm/): boot loaders, MP table and UART model; they
# build freestanding for the root partition and here for the unit tests.
HOST_SRCS += vmm/bzimage.c vmm/multiboot.c vmm/mptable.c vmm/uart16550.c
