HOST_SRCS += arch/x86/insn.c arch/x86/gwalk.c
