# hv: a bare-metal x86-64 microhypervisor booted as a UEFI application.
#
#   make            build build/hv.efi and the boot disk image build/esp.img
#   make run        boot it under QEMU/OVMF with the console on this terminal
#   make test       unit tests (host) and integration tests (QEMU, Bochs)
#   make bench      benchmarks (figures go to docs/benchmarks.md by hand)
#   make clean      remove every build output
#
# Missing packages are installed on first use (tools/bootstrap-deps.sh).

BUILD := build
CC := gcc
LD := ld
OBJCOPY := objcopy
PYTHON := /usr/bin/python3
PYTEST := $(PYTHON) -m pytest

EFI_INC := /usr/include/efi
EFI_CRT0 := /usr/lib/crt0-efi-x86_64.o
EFI_LIBDIR := /usr/lib

# Short build lines; V=1 shows full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2)
endif

BUILD_ID := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
COMMON_CFLAGS := -std=gnu11 -O2 -g -I. $(WARNINGS)

# hv.efi: freestanding, position independent (GNU-EFI relocates itself),
# no red zone (interrupts share the stack), no SSE (guest state stays in the
# FPU registers), frame pointers for backtraces.
# lwIP: Debian's source package, fetched by tools/bootstrap-deps.sh into an
# ignored folder and built with the project's port (net/port).
LWIP_DIR := third_party/lwip/src
LWIP_INC := -Inet/port/include -isystem $(LWIP_DIR)/include -isystem net/port/libc
# LOCK_CHECK=0 builds without the lock nesting check (hv/lib/lock_order.h).
LOCK_CHECK ?= 1
# LOCK_SLEEP=0 builds lock waiters that only spin, never sleep in HLT
# (hv/x86/spinlock.c): to measure what the sleep is worth.
LOCK_SLEEP ?= 1
EFI_BASE_CFLAGS := -std=gnu11 -O2 -g -I. -ffreestanding -fno-stack-protector -fno-stack-check \
	-fpic -fvisibility=hidden -fshort-wchar -mno-red-zone -mgeneral-regs-only \
	-fno-omit-frame-pointer -fno-strict-aliasing -fno-asynchronous-unwind-tables \
	-DGNU_EFI_USE_MS_ABI -DHV_BUILD_ID='"$(BUILD_ID)"' -DLOCK_CHECK=$(LOCK_CHECK) -DLOCK_SLEEP=$(LOCK_SLEEP) \
	$(LWIP_INC) \
	-isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -MMD -MP
EFI_CFLAGS := $(EFI_BASE_CFLAGS) $(WARNINGS)
EFI_LDFLAGS := -nostdlib -znocombreloc -T linker.ld -shared -Bsymbolic --no-undefined \
	-z noexecstack

HV_DIRS := boot hv hv/core hv/lib hv/mm hv/x86 hv/smp hv/shell hv/emul hv/vdev hv/svm hv/vmx hv/dirty hv/mce \
	hv/vm hv/store drivers/serial drivers/acpi drivers/pci drivers/virtio drivers/net drivers/block \
	net net/port migrate
HV_SRCS := $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.c $(d)/*.S))

# The parts of lwIP used: IPv4, ARP, ICMP, UDP (DHCP), TCP, raw PCBs.
LWIP_FILES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c core/ipv4/dhcp.c core/ipv4/etharp.c \
	core/ipv4/icmp.c core/ipv4/ip4_frag.c core/ipv4/ip4.c core/ipv4/ip4_addr.c \
	netif/ethernet.c
LWIP_SRCS := $(addprefix $(LWIP_DIR)/,$(LWIP_FILES))
LWIP_OBJS := $(patsubst %,$(BUILD)/efi/%.o,$(LWIP_SRCS))

HV_OBJS := $(patsubst %,$(BUILD)/efi/%.o,$(HV_SRCS)) $(LWIP_OBJS) $(BUILD)/efi/guest_images.o

# The datastore is host code except its boot-time glue; of the block layer,
# the request checks and the drivers' queue logic are.
STORE_HOST_SRCS := $(filter-out hv/store/datastore.c,$(wildcard hv/store/*.c))
BLOCK_HOST_SRCS := $(filter drivers/block/blockdev.c drivers/block/nvme_queue.c drivers/block/ramdisk.c \
	drivers/block/blk_label.c,\
	$(wildcard drivers/block/*.c))
# Code that needs no hardware, built for the host as well (unit tests):
# whole folders that hold only such code, and single files elsewhere.
HOST_DIRS := hv/vdev hv/emul hv/dirty
HOST_SRCS := $(filter-out hv/lib/string.c,$(wildcard hv/lib/*.c)) \
	$(foreach d,$(HOST_DIRS),$(wildcard $(d)/*.c)) \
	hv/mm/palloc.c hv/mm/pagetable.c hv/mm/heap.c hv/mm/memmap.c \
	hv/core/config.c hv/shell/lineedit.c hv/shell/shell.c \
	hv/vm/guest_mem.c hv/vm/multiboot.c hv/vm/linux_boot.c hv/vm/cpuid_policy.c \
	hv/vm/msr_policy.c hv/vm/msr_address.c hv/vm/sched_policy.c hv/vm/vm_exit.c hv/vm/vcpu_signal.c \
	hv/svm/svm_exit.c hv/vmx/vmx_bits.c hv/vmx/vmx_exit.c hv/x86/side_channel_policy.c \
	hv/mce/retired_record.c hv/mce/mce_severity.c hv/mce/mce_rendezvous.c hv/mce/retired_list.c \
	drivers/acpi/acpi.c \
	net/net_addr.c net/l4_csum.c drivers/virtio/virtqueue.c migrate/stream.c migrate/state_codec.c \
	migrate/disk_stream.c migrate/vcpu_check.c migrate/mig_watchdog.c migrate/rx_window.c \
	migrate/seed.c migrate/page_delta.c migrate/delta_cache.c \
	$(STORE_HOST_SRCS) $(BLOCK_HOST_SRCS)
# HV_HOST_TEST: hardware accessors that tests replace (vmread, hv/vmx/vmcs.h).
HOST_CFLAGS := $(COMMON_CFLAGS) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all -MMD -MP -DHV_HOST_TEST
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(HOST_SRCS) $(UNIT_SRCS))

# mbedTLS: Debian's source package (2.28), fetched by tools/bootstrap-deps.sh like lwIP,
# for the migration channel's TLS (migrate/mig_tls*.c). Only the modules that
# migrate/tls/mbedtls_config.h enables are built, into hv.efi and into the unit tests
# (there with the host's libc, optimised and unsanitised: it is not our code, and the
# throughput test measures it). migrate/mig_tls_port.c is hv.efi's platform glue; the
# tests bring their own (tests/unit/mig_tls_port_host.c).
MBEDTLS_DIR := third_party/mbedtls
MBEDTLS_INC := -isystem $(MBEDTLS_DIR)/include -DMBEDTLS_CONFIG_FILE='"migrate/tls/mbedtls_config.h"'
MBEDTLS_FILES := aes.c bignum.c chacha20.c chachapoly.c cipher.c cipher_wrap.c constant_time.c \
	ctr_drbg.c dhm.c ecdh.c ecp.c ecp_curves.c entropy.c error.c gcm.c md.c platform.c \
	platform_util.c poly1305.c sha256.c ssl_ciphersuites.c ssl_cli.c ssl_msg.c ssl_srv.c ssl_tls.c
MBEDTLS_SRCS := $(addprefix $(MBEDTLS_DIR)/library/,$(MBEDTLS_FILES))
MBEDTLS_OBJS := $(patsubst %,$(BUILD)/efi/%.o,$(MBEDTLS_SRCS))
# page_sig.c hashes with mbedTLS's SHA-256, so it is built as these are.
MIG_TLS_SRCS := $(wildcard migrate/mig_tls*.c) migrate/page_sig.c
MIG_TLS_HOST_SRCS := $(filter-out migrate/mig_tls_port.c,$(MIG_TLS_SRCS))
MBEDTLS_HOST_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(MBEDTLS_SRCS))
HV_OBJS += $(MBEDTLS_OBJS)
# hv/x86/entropy.c runs in user mode too: its test uses the build machine's CPU.
UNIT_OBJS += $(patsubst %,$(BUILD)/host/%.o,$(MIG_TLS_HOST_SRCS) hv/x86/entropy.c) \
	$(MBEDTLS_HOST_OBJS)

$(MBEDTLS_OBJS): EFI_CFLAGS := $(EFI_BASE_CFLAGS) -w $(MBEDTLS_INC)
$(patsubst %,$(BUILD)/efi/%.o,$(MIG_TLS_SRCS)): EFI_CFLAGS += $(MBEDTLS_INC)
$(MBEDTLS_HOST_OBJS): HOST_CFLAGS := -std=gnu11 -O2 -g -I. -w -MMD -MP $(MBEDTLS_INC)
$(patsubst %,$(BUILD)/host/%.o,$(MIG_TLS_HOST_SRCS)): HOST_CFLAGS += $(MBEDTLS_INC)

$(MBEDTLS_SRCS): | deps
	@test -f $@ || { echo "error: $@ missing: mbedTLS was not fetched (tools/bootstrap-deps.sh)"; \
		exit 1; }


.PHONY: all deps run run-linux test layers unit integration bench clean fuzz fuzz-smoke hvdisk
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

all: $(BUILD)/hv.efi $(BUILD)/esp.img $(BUILD)/hvdisk $(BUILD)/mbload.efi

deps:
	@tools/bootstrap-deps.sh

$(BUILD)/efi/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# Third-party code keeps its own warning level.
$(LWIP_OBJS): EFI_CFLAGS := $(EFI_BASE_CFLAGS) -w
# Built without dependency files: the port's headers are what changes.
$(LWIP_OBJS): $(wildcard net/port/include/*.h net/port/include/arch/*.h)

$(LWIP_SRCS): | deps
	@test -f $@ || { echo "error: $@ missing: lwIP was not fetched (tools/bootstrap-deps.sh)"; \
		exit 1; }

$(BUILD)/efi/%.S.o: %.S | deps
	@mkdir -p $(dir $@)
	$(call say,AS,$<)
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/symtab-empty.o: tools/symtab-empty.S | deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# Two link passes: the second embeds the function symbol table of the first
# so backtraces print names. .text is laid out first, so it cannot move;
# the check below proves it.
$(BUILD)/hv.pass1.so: $(HV_OBJS) $(BUILD)/efi/symtab-empty.o linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(EFI_LDFLAGS) -L$(EFI_LIBDIR) $(EFI_CRT0) $(HV_OBJS) $(BUILD)/efi/symtab-empty.o \
		-lgnuefi -o $@

$(BUILD)/symtab.S: $(BUILD)/hv.pass1.so tools/gen-symtab.sh
	$(Q)tools/gen-symtab.sh $< > $@

$(BUILD)/efi/symtab.o: $(BUILD)/symtab.S
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/hv.so: $(HV_OBJS) $(BUILD)/efi/symtab.o linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(EFI_LDFLAGS) -L$(EFI_LIBDIR) $(EFI_CRT0) $(HV_OBJS) $(BUILD)/efi/symtab.o \
		-lgnuefi -o $@
	@nm -n $(BUILD)/hv.pass1.so | grep ' [tT] ' > $(BUILD)/text1.syms
	@nm -n $@ | grep ' [tT] ' > $(BUILD)/text2.syms
	@cmp -s $(BUILD)/text1.syms $(BUILD)/text2.syms || \
		{ echo "error: code moved between link passes"; rm -f $@; exit 1; }
	@if nm $@ | grep -q ' U '; then echo "error: undefined symbols:"; nm $@ | grep ' U '; \
		rm -f $@; exit 1; fi
	@# Relocations outside .rela are dropped by objcopy: their pointers would
	@# stay unrelocated (a new registry section needs a line in linker.ld).
	@if objdump -h $@ | grep -q ' \.rela[^ ]'; then echo "error: relocations outside .rela:"; \
		objdump -h $@ | grep ' \.rela[^ ]'; rm -f $@; exit 1; fi

$(BUILD)/hv.efi: $(BUILD)/hv.so
	$(call say,EFI,$@)
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .reloc --target efi-app-x86_64 --subsystem=10 $< $@
	@echo "hv.efi: $$(stat -c %s $@) bytes"

# mbload.efi: a multiboot loader for the bare machine (tests/bare), so that
# Bochs, whose firmware is UEFI only, can boot the conformance guest without
# the hypervisor for the differential test.
MBLOAD_OBJS := $(BUILD)/efi/tests/bare/mbload.c.o $(BUILD)/efi/tests/bare/mbload_enter.S.o
$(BUILD)/mbload.efi: $(MBLOAD_OBJS)
	$(call say,EFI,$@)
	$(Q)$(LD) -nostdlib -znocombreloc -T $(EFI_LIBDIR)/elf_x86_64_efi.lds -shared -Bsymbolic \
		-z noexecstack -L$(EFI_LIBDIR) $(EFI_CRT0) $(MBLOAD_OBJS) -lefi -lgnuefi -o $(BUILD)/mbload.so
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .reloc --target efi-app-x86_64 --subsystem=10 $(BUILD)/mbload.so $@

# A FAT boot disk (no partition table) with hv.efi as the removable-media
# boot loader. The geometry suits Bochs' flat disk mode as well.
ESP_SECTORS := 65520
$(BUILD)/esp.img: $(BUILD)/hv.efi
	$(call say,ESP,$@)
	$(Q)rm -f $@.tmp
	$(Q)dd if=/dev/zero of=$@.tmp bs=512 count=$(ESP_SECTORS) status=none
	$(Q)mformat -i $@.tmp -t 65 -h 16 -s 63 -v HVBOOT ::
	$(Q)mmd -i $@.tmp ::/EFI ::/EFI/BOOT
	$(Q)mcopy -i $@.tmp $< ::/EFI/BOOT/BOOTX64.EFI
	$(Q)mv $@.tmp $@

# ---- test guests: 32-bit multiboot kernels, built into hv.efi ------------

GUESTS := hello counter memtouch escape bench chaos blktest trapstorm strio smp conform
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-builtin -mno-sse -mno-mmx -O2 -g -std=gnu11 -I. -Itests/guests $(WARNINGS) \
	-Wno-missing-prototypes
GUEST_RT := $(BUILD)/guests/start.o $(BUILD)/guests/rt.o $(BUILD)/guests/longmode.o

$(BUILD)/guests/%.o: tests/guests/%.c tests/guests/rt.h | deps
	@mkdir -p $(dir $@)
	$(call say,GUESTCC,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/%.o: tests/guests/%.S | deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/bench_kernel.o: hv/x86/bench_kernel.S | deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/bench.elf: $(BUILD)/guests/bench_kernel.o
$(BUILD)/guests/smp.elf: $(BUILD)/guests/smp_ap.o

$(BUILD)/guests/%.elf: $(GUEST_RT) $(BUILD)/guests/%.o tests/guests/link.ld
	$(call say,GUESTLD,$@)
	$(Q)$(LD) -m elf_i386 --no-warn-rwx-segments -T tests/guests/link.ld -o $@ \
		$(GUEST_RT) $(BUILD)/guests/$*.o $(if $(filter bench,$*),$(BUILD)/guests/bench_kernel.o) \
		$(if $(filter smp,$*),$(BUILD)/guests/smp_ap.o)

# What goes into hv.efi: without debug information.
$(BUILD)/guests/%.img: $(BUILD)/guests/%.elf
	$(Q)$(OBJCOPY) --strip-debug $< $@

GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.img,$(GUESTS))
.SECONDARY:

$(BUILD)/guest_images.S: $(GUEST_ELFS) Makefile
	$(Q){ echo '/* generated: the built-in guest images */'; \
	  echo '	.section .rodata.guest_images, "a"'; \
	  for g in $(GUESTS); do \
	    echo "	.p2align 4"; echo "img_$$g: .incbin \"$(BUILD)/guests/$$g.img\""; \
	    echo "img_$${g}_end:"; echo "name_$$g: .asciz \"$$g\""; \
	  done; \
	  echo '	.section .data.rel.ro.guest_images, "aw"'; \
	  echo '	.p2align 3'; echo '	.globl builtin_images, builtin_image_count'; \
	  echo 'builtin_image_count: .quad $(words $(GUESTS))'; echo 'builtin_images:'; \
	  for g in $(GUESTS); do \
	    echo "	.quad name_$$g, img_$$g, img_$${g}_end - img_$$g"; \
	  done; \
	  echo '	.section .note.GNU-stack,"",@progbits'; } > $@

$(BUILD)/efi/guest_images.o: $(BUILD)/guest_images.S
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# ---- host build: unit tests ------------------------------------------------

$(BUILD)/host/%.c.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/unit-tests: $(UNIT_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(HOST_CFLAGS) $^ -lcriterion -o $@

unit: $(BUILD)/unit-tests
	ASAN_OPTIONS=detect_leaks=1 $(BUILD)/unit-tests --jobs 2

# tools/hvdisk: the datastore from the host side (create, import, export,
# list, check), built from the same format code as the hypervisor.
HVDISK_SRCS := $(wildcard tools/hvdisk/*.c) $(STORE_HOST_SRCS) drivers/block/blockdev.c \
	$(filter-out hv/lib/string.c,$(wildcard hv/lib/*.c))
$(BUILD)/hvdisk: $(HVDISK_SRCS) $(wildcard hv/store/*.h drivers/block/*.h hv/lib/*.h tools/hvdisk/*.h) \
		| deps
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(CC) $(COMMON_CFLAGS) -O2 -g -DHV_HOST_TEST -DHV_HOST_TOOL $(HVDISK_SRCS) -o $@
hvdisk: $(BUILD)/hvdisk

# ---- running and integration tests ------------------------------------------

run: all
	$(PYTHON) tools/hvlaunch.py --console stdio

# The same with Debian's kernel and a busybox initramfs on the boot disk and
# 1 GiB of RAM: 'vm create l vmlinuz mem=256M module=initrd.img -- console=ttyS0'.
run-linux: all $(BUILD)/linux/.built
	$(PYTHON) tools/hvlaunch.py --console stdio --mem 1G \
		--guest $(BUILD)/linux/vmlinuz --guest $(BUILD)/linux/initrd.img

# Multiboot kernels from QEMU's source package, for the guest tests.
$(BUILD)/qemu-multiboot/.built: tools/build-qemu-multiboot.sh | deps
	$(call say,FETCH,qemu multiboot tests)
	$(Q)tools/build-qemu-multiboot.sh $(BUILD)/qemu-multiboot >/dev/null

# Debian's kernel and busybox, for the Linux guest tests.
$(BUILD)/linux/.built: tools/fetch-linux.sh | deps
	$(call say,FETCH,debian kernel and busybox)
	$(Q)tools/fetch-linux.sh $(BUILD)/linux >/dev/null

# The slowest tests are listed at the end: the suite must stay well inside CI's limit.
integration: all $(BUILD)/qemu-multiboot/.built $(BUILD)/linux/.built
	$(PYTEST) -q --durations=20 tests/integration

# ---- fuzzing (libFuzzer, clang) ----------------------------------------------
# Record CRCs are not checked in this build (FUZZING_BUILD_MODE_...), so
# mutations reach the parsers behind them. 'make fuzz' runs FUZZ_SECONDS;
# 'make test' runs a short smoke pass.
FUZZ_SECONDS ?= 60
FUZZ_LIB := hv/lib/crc32c.c hv/lib/format.c hv/lib/strutil.c migrate/stream.c migrate/page_delta.c \
	migrate/state_codec.c migrate/disk_stream.c migrate/vcpu_check.c hv/mce/retired_record.c
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION

include tests/fuzz/fuzz.mk

$(BUILD)/fuzz/fuzz_mig_stream: tests/fuzz/fuzz_mig_stream.c $(FUZZ_LIB) | deps
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) $^ -o $@

$(BUILD)/fuzz/fuzz_nvram_record: tests/fuzz/fuzz_nvram_record.c $(FUZZ_LIB) | deps
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) $^ -o $@

FUZZ_VDEV := $(wildcard hv/vdev/*.c) $(filter-out hv/lib/string.c,$(wildcard hv/lib/*.c))

$(BUILD)/fuzz/fuzz_device_state: tests/fuzz/fuzz_device_state.c $(FUZZ_VDEV) | deps
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) $^ -o $@

$(BUILD)/fuzz/gen_device_seeds: tests/fuzz/gen_device_seeds.c $(FUZZ_VDEV) | deps
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)$(CC) -std=gnu11 -O1 -I. $^ -o $@

FUZZ_STORE := $(STORE_HOST_SRCS) drivers/block/blockdev.c \
	$(filter-out hv/lib/string.c,$(wildcard hv/lib/*.c))

$(BUILD)/fuzz/fuzz_store_open: tests/fuzz/fuzz_store_open.c $(FUZZ_STORE) | deps
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) $^ -o $@

fuzz: $(BUILD)/fuzz/fuzz_mig_stream $(BUILD)/fuzz/fuzz_nvram_record \
		$(BUILD)/fuzz/fuzz_device_state $(BUILD)/fuzz/gen_device_seeds \
		$(BUILD)/fuzz/fuzz_store_open $(FUZZ_EXTRA_BINS)
	@mkdir -p $(BUILD)/fuzz/corpus-mig $(BUILD)/fuzz/corpus-nvram $(BUILD)/fuzz/corpus-device
	$(PYTHON) tests/fuzz/gen_mig_seeds.py $(BUILD)/fuzz/seeds-mig
	$(BUILD)/fuzz/fuzz_mig_stream -max_total_time=$(FUZZ_SECONDS) -max_len=140000 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus-mig $(BUILD)/fuzz/seeds-mig
	$(BUILD)/fuzz/fuzz_nvram_record -max_total_time=$(FUZZ_SECONDS) -max_len=33000 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus-nvram
	@mkdir -p $(BUILD)/fuzz/seeds-device
	$(BUILD)/fuzz/gen_device_seeds $(BUILD)/fuzz/seeds-device
	$(BUILD)/fuzz/fuzz_device_state -max_total_time=$(FUZZ_SECONDS) -max_len=4200 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus-device $(BUILD)/fuzz/seeds-device
	@mkdir -p $(BUILD)/fuzz/corpus-store
	$(BUILD)/fuzz/fuzz_store_open -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus-store
	$(FUZZ_EXTRA_RUN)

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# The include graph follows the layers of docs/architecture.md.
layers: deps
	$(PYTHON) tools/check-layers.py
	$(PYTEST) -q tests/tools

test: layers unit fuzz-smoke integration

bench: all $(BUILD)/linux/.built
	$(PYTHON) tools/bench.py

clean:
	rm -rf $(BUILD) .pytest_cache tests/integration/__pycache__ tools/__pycache__

-include $(HV_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
