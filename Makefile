# One flat Makefile: the hypervisor image, the host unit tests, and the
# run/test/bench targets. `make help` lists the targets.

BUILD   ?= build
.DEFAULT_GOAL := all
CC      ?= gcc
HOSTCC  ?= gcc
LD      ?= ld
NM      ?= nm
OBJCOPY ?= objcopy
PYTHON  ?= python3

# Kernel command line baked into the default ISO (`make run CMDLINE=...`).
CMDLINE ?= loglevel=info

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wundef -Wno-unused-parameter -Werror
INCLUDES := -Iinclude -Iarch/x86/include -Iarch/x86

KCFLAGS := -std=gnu11 -O2 -g $(WARN) $(INCLUDES) \
	-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-fno-stack-protector -fno-pic -fno-pie -fno-omit-frame-pointer \
	-mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mgeneral-regs-only \
	-mcmodel=kernel -ffunction-sections -fdata-sections -fno-common \
	-fno-asynchronous-unwind-tables -fno-delete-null-pointer-checks -MMD -MP
KASFLAGS := -D__ASSEMBLY__ $(INCLUDES) -g -MMD -MP -fno-pic
KLDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --gc-sections \
	--no-warn-rwx-segments -T linker.ld

# Every .c/.S under these folders is part of the image.
KSRC_DIRS := boot arch/x86 arch/x86/vmx arch/x86/svm hv drivers lib
KSRCS := $(foreach d,$(KSRC_DIRS),$(wildcard $(d)/*.c $(d)/*.S))
KOBJS := $(patsubst %,$(BUILD)/k/%.o,$(KSRCS))

ELF := $(BUILD)/hv.elf
ISO := $(BUILD)/hv.iso

# ---------------------------------------------------------------- guests
# Root partition programs (tests/guest): freestanding 64-bit ELF executables
# that the hypervisor loads as its root partition. The demo root is linked
# into the image; the root test program travels as a multiboot2 module.
RT_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Irt -fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables -MMD -MP
GUEST_CFLAGS := $(RT_CFLAGS) -Itests/guest
# The root-partition runtime (rt/: entry, serial output, hypercalls, the
# link script) that the VMM and every root program use; the test programs
# add their VM-building helpers from tests/guest.
RT_OBJS := $(BUILD)/rt/start.S.o $(BUILD)/rt/guest_lib.c.o $(BUILD)/rt/format.c.o
RT_LD := rt/guest.ld
GUEST_LIB := vmlib.c vmlib64.c child.S
GUEST_LIB_OBJS := $(RT_OBJS) $(GUEST_LIB:%=$(BUILD)/guest/%.o)
# Root programs: tests/guest/root_*.c, each its own ELF.
GUESTS := $(patsubst tests/guest/%.c,%,$(wildcard tests/guest/root_*.c))

# Child payloads in C: tests/guest/child_*.c with the child runtime in
# tests/guest/crt/, linked flat (tests/guest/crt/child.ld) and embedded in
# every root program as child_NAME_bin_start/_end.
CHILD_CFLAGS := $(GUEST_CFLAGS) -Itests/guest/crt -mcmodel=small
CHILD_CRT := $(wildcard tests/guest/crt/*.c tests/guest/crt/*.S)
CHILD_CRT_OBJS := $(patsubst tests/guest/crt/%,$(BUILD)/guest/crt/%.o,$(CHILD_CRT)) \
	$(BUILD)/guest/crt/format.c.o
CHILDREN := $(patsubst tests/guest/%.c,%,$(wildcard tests/guest/child_*.c))
CHILD_BLOBS := $(CHILDREN:%=$(BUILD)/guest/%.blob.o)

# lib/format.c, the formatter all three runtimes share.
$(BUILD)/guest/crt/format.c.o: lib/format.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CHILD_CFLAGS) -c $< -o $@
$(BUILD)/rt/format.c.o: lib/format.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(RT_CFLAGS) -c $< -o $@
$(BUILD)/guest/crt/%.c.o: tests/guest/crt/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CHILD_CFLAGS) -c $< -o $@
$(BUILD)/guest/crt/%.S.o: tests/guest/crt/%.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) -D__ASSEMBLY__ -Itests/guest/crt -g -c $< -o $@
$(BUILD)/guest/child_%.c.o: tests/guest/child_%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CHILD_CFLAGS) -c $< -o $@
$(BUILD)/guest/child_%.elf: $(BUILD)/guest/child_%.c.o $(CHILD_CRT_OBJS) tests/guest/crt/child.ld
	$(Q)$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
		-T tests/guest/crt/child.ld -o $@ $< $(CHILD_CRT_OBJS)
$(BUILD)/guest/child_%.bin: $(BUILD)/guest/child_%.elf
	$(Q)$(OBJCOPY) -O binary $< $@
$(BUILD)/guest/child_%.blob.o: $(BUILD)/guest/child_%.bin
	$(Q)printf '\t.section .rodata\n\t.balign 16\n\t.global child_%s_bin_start, child_%s_bin_end\nchild_%s_bin_start:\n\t.incbin "%s"\nchild_%s_bin_end:\n' $* $* $* $< $* > $(@:.o=.S)
	$(Q)$(CC) -c $(@:.o=.S) -o $@

$(BUILD)/guest/%.c.o: tests/guest/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTCC $<")
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guest/%.S.o: tests/guest/%.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTAS $<")
	$(Q)$(CC) -D__ASSEMBLY__ -g -c $< -o $@
$(BUILD)/rt/%.c.o: rt/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  RTCC    $<")
	$(Q)$(CC) $(RT_CFLAGS) -c $< -o $@
$(BUILD)/rt/%.S.o: rt/%.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  RTAS    $<")
	$(Q)$(CC) -D__ASSEMBLY__ -g -c $< -o $@
$(BUILD)/guest/root_%.elf: $(BUILD)/guest/root_%.c.o $(GUEST_LIB_OBJS) $(CHILD_BLOBS) $(RT_LD)
	@$(if $(Q),echo "  GUESTLD $@")
	$(Q)$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
		-T $(RT_LD) -o $@ $< $(GUEST_LIB_OBJS) $(CHILD_BLOBS)

guests: $(GUESTS:%=$(BUILD)/guest/%.elf) $(BUILD)/guest/mbkernel.elf

# A multiboot (version 1) test kernel of the project's own, 32-bit.
$(BUILD)/guest/mbkernel.elf: tests/guest/mbkernel.S tests/guest/mbkernel.ld
	@mkdir -p $(dir $@)
	$(Q)$(CC) -m32 -c tests/guest/mbkernel.S -o $(BUILD)/guest/mbkernel.o
	$(Q)$(LD) -m elf_i386 -nostdlib -static -z max-page-size=4096 -z noexecstack \
		--no-warn-rwx-segments -T tests/guest/mbkernel.ld -o $@ $(BUILD)/guest/mbkernel.o

# ---------------------------------------------------------------- the VMM
# The root partition's VMM (vmm/, docs/vmm.md): a program of its own on the
# root-partition runtime (rt/).
VMM_SRCS := $(wildcard vmm/*.c)
VMM_OBJS := $(VMM_SRCS:%=$(BUILD)/%.o)
VMM_RT_OBJS := $(RT_OBJS)
VMM := $(BUILD)/vmm.elf

$(BUILD)/vmm/%.c.o: vmm/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  VMMCC   $<")
	$(Q)$(CC) $(RT_CFLAGS) -Ivmm -c $< -o $@
$(VMM): $(VMM_OBJS) $(VMM_RT_OBJS) $(RT_LD)
	@$(if $(Q),echo "  VMMLD   $@")
	$(Q)$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
		-T $(RT_LD) -o $@ $(VMM_OBJS) $(VMM_RT_OBJS)

# The demo root inside the image.
$(BUILD)/root_demo_blob.S: $(BUILD)/guest/root_demo.elf
	$(Q)printf '\t.section .rodata\n\t.balign 16\n\t.global root_demo_start, root_demo_end\nroot_demo_start:\n\t.incbin "%s"\nroot_demo_end:\n' $< > $@
$(BUILD)/root_demo_blob.S.o: $(BUILD)/root_demo_blob.S $(BUILD)/guest/root_demo.elf
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

.PHONY: all guests
.SECONDARY:
all: $(ELF) $(ISO) guests $(VMM)

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

# The symbol table for panic backtraces sits in the last section of the
# image, so adding it does not move any code: link once with an empty
# table, extract the symbols, link again with the real table, and check
# that no text symbol moved.
$(BUILD)/ksyms0.S: scripts/gen-ksyms.sh
	@mkdir -p $(BUILD)
	$(Q)scripts/gen-ksyms.sh /dev/null > $@
$(BUILD)/hv.pass1.elf: $(KOBJS) $(BUILD)/root_demo_blob.S.o $(BUILD)/ksyms0.S.o linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(BUILD)/root_demo_blob.S.o $(BUILD)/ksyms0.S.o
$(BUILD)/ksyms.S: $(BUILD)/hv.pass1.elf scripts/gen-ksyms.sh
	$(Q)$(NM) -n $< | scripts/gen-ksyms.sh - > $@
$(BUILD)/%.S.o: $(BUILD)/%.S
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@
$(ELF): $(KOBJS) $(BUILD)/root_demo_blob.S.o $(BUILD)/ksyms.S.o linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(BUILD)/root_demo_blob.S.o $(BUILD)/ksyms.S.o
	@$(NM) -n $(BUILD)/hv.pass1.elf | grep -i ' t ' > $(BUILD)/syms1.txt
	@$(NM) -n $@ | grep -i ' t ' > $(BUILD)/syms2.txt
	@cmp -s $(BUILD)/syms1.txt $(BUILD)/syms2.txt || { echo "symbol table moved code"; exit 1; }
	@grub-file --is-x86-multiboot2 $@ 2>/dev/null || { command -v grub-file >/dev/null && { echo "$@ is not multiboot2"; exit 1; } || true; }

# The ISO carries CMDLINE in its grub.cfg: rebuild it when CMDLINE changes.
$(BUILD)/cmdline.txt: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CMDLINE)' | cmp -s - $@ 2>/dev/null || echo '$(CMDLINE)' > $@
.PHONY: FORCE
FORCE:

$(ISO): $(ELF) scripts/mkiso.sh $(BUILD)/cmdline.txt
	@$(if $(Q),echo "  ISO     $@")
	$(Q)scripts/mkiso.sh $(ELF) $@ "$(CMDLINE)"

# ---------------------------------------------------------------- a Linux guest
# build/guest.iso: the hypervisor, the VMM and a guest (docs/vmm.md). The
# defaults are Debian's own kernel and the project's busybox initramfs,
# fetched and built by scripts/guest-images.sh (cached). GUEST_CMDLINE is
# added to the VMM's defaults for Linux.
IMAGES := $(BUILD)/images
GUEST_KERNEL ?= $(IMAGES)/vmlinuz
GUEST_INITRD ?= $(IMAGES)/initramfs.cpio.gz
GUEST_CMDLINE ?=
GUEST_CPUS ?= 1
GUEST_MEM ?= 256M
GUEST_ISO := $(BUILD)/guest.iso
comma := ,
GUEST_CONFIG = vm=1$(if $(GUEST_INITRD),$(comma)initrd=2),cpus=$(GUEST_CPUS),mem=$(GUEST_MEM)

$(IMAGES)/vmlinuz $(IMAGES)/initramfs.cpio.gz &: scripts/guest-images.sh \
		scripts/mkinitramfs.py vmm/initramfs-init
	@scripts/deps.sh all
	$(Q)scripts/guest-images.sh $(IMAGES)

# The ISO follows the GUEST_* values: rebuilt when they change.
$(BUILD)/guest-config.txt: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CMDLINE)|$(GUEST_CONFIG)|$(GUEST_KERNEL)|$(GUEST_CMDLINE)|$(GUEST_INITRD)' | \
		cmp -s - $@ 2>/dev/null || echo '$(CMDLINE)|$(GUEST_CONFIG)|$(GUEST_KERNEL)|$(GUEST_CMDLINE)|$(GUEST_INITRD)' > $@

$(GUEST_ISO): $(ELF) $(VMM) $(GUEST_KERNEL) $(GUEST_INITRD) scripts/mkiso.sh $(BUILD)/guest-config.txt
	@$(if $(Q),echo "  ISO     $@")
	$(Q)scripts/mkiso.sh $(ELF) $@ "$(CMDLINE)" "$(VMM)|$(GUEST_CONFIG)" \
		"$(GUEST_KERNEL)|$(GUEST_CMDLINE)" $(if $(GUEST_INITRD),"$(GUEST_INITRD)")

.PHONY: guest-iso images
guest-iso: deps $(GUEST_ISO)
images: $(IMAGES)/vmlinuz $(IMAGES)/initramfs.cpio.gz

# ---------------------------------------------------------------- host tests
# Pure modules compiled for the host and linked into every unit test.
include $(sort $(wildcard tests/host/*.mk))
HOST_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Wno-missing-prototypes $(INCLUDES) -I. \
	-Itests/host -DHV_HOST -fno-omit-frame-pointer -pthread
# Each test compiles every module in one command, where -MMD would record
# only the last source's headers: every header is a prerequisite instead.
HOST_HDRS := $(wildcard include/*/*.h include/*/*/*.h arch/x86/include/x86/*.h \
	arch/x86/*/*.h tests/host/*.h vmm/*.h)
HOST_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
HOST_TESTS := $(patsubst tests/host/%.c,%,$(wildcard tests/host/test_*.c))
HOST_BINS := $(HOST_TESTS:%=$(BUILD)/host/%) $(HOST_TESTS:%=$(BUILD)/host-san/%)

$(BUILD)/host/%: tests/host/%.c $(HOST_SRCS) tests/host/host_stubs.c $(HOST_HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^) -lcmocka
$(BUILD)/host-san/%: tests/host/%.c $(HOST_SRCS) tests/host/host_stubs.c $(HOST_HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $(HOST_SAN) -o $@ $(filter %.c,$^) -lcmocka

.PHONY: host-test
host-test: deps-host $(HOST_BINS)
	@scripts/run-host-tests.sh $(BUILD) $(HOST_TESTS)

# ---------------------------------------------------------------- run / test
.PHONY: deps deps-bench deps-host run run-uefi run-bochs debug test quick bench clean help

deps:
	@scripts/deps.sh all
deps-bench:
	@scripts/deps.sh bench
deps-host:
	@scripts/deps.sh host

# make run boots Linux in a VM (build/guest.iso); ROOT=demo boots the demo
# root partition instead (build/hv.iso).
RUN_ISO = $(if $(filter demo,$(ROOT)),$(ISO),$(GUEST_ISO))
run: deps all $(RUN_ISO)
	scripts/run.sh qemu $(RUN_ISO)
run-uefi: deps all $(RUN_ISO)
	scripts/run.sh uefi $(RUN_ISO)
run-bochs: deps all $(RUN_ISO)
	scripts/run.sh bochs $(RUN_ISO)
debug: deps all
	scripts/run.sh debug $(ISO) $(ELF)

# The whole matrix: host tests (plain and sanitized) and every system test.
test: deps all images $(HOST_BINS)
	@$(PYTHON) tests/system/run.py --build $(BUILD) --host-tests "$(HOST_TESTS)" --all

# Inner loop: host tests and one QEMU boot.
quick: deps all $(HOST_BINS)
	@$(PYTHON) tests/system/run.py --build $(BUILD) --host-tests "$(HOST_TESTS)" --quick

bench: deps deps-bench all
	@$(PYTHON) tests/bench/run.py --build $(BUILD)

clean:
	rm -rf $(BUILD)

help:
	@echo "make            build build/hv.elf, build/hv.iso, build/vmm.elf"
	@echo "make run        Linux in a VM on the hypervisor under QEMU (KVM if usable, else TCG);"
	@echo "                ROOT=demo: the demo root partition instead"
	@echo "make guest-iso  build/guest.iso: GUEST_KERNEL GUEST_INITRD GUEST_CMDLINE GUEST_CPUS GUEST_MEM"
	@echo "make images     Debian's kernel + busybox initramfs into build/images (cached)"
	@echo "make run-uefi   the same through OVMF (UEFI)"
	@echo "make run-bochs  boot under Bochs (Intel VMX model)"
	@echo "make debug      QEMU stopped at the first instruction, gdb stub on :1234"
	@echo "make quick      host unit tests + four QEMU boots"
	@echo "make test       every test: host (plain + ASan/UBSan), QEMU BIOS/UEFI, Bochs"
	@echo "make bench      benchmarks, each beside its baseline"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
