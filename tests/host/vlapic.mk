HOST_SRCS += arch/x86/vlapic.c arch/x86/vioapic.c
