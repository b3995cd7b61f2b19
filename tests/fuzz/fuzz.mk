# ---- more fuzz targets (libFuzzer, clang), included by the Makefile ----------
# The host firmware's ACPI tables, PCI capability lists and the virtio
# transport, the boot configuration, the NIC drivers' receive paths, the
# TCP checksums of received frames, and an incoming migration applied to a
# VM. The code builds unchanged: the
# stand-ins it needs (log, panic, clock, heap and pages, ECAM and BARs, the
# NIC registry, a VM's backend and surroundings, a datastore in memory) are
# tests/fuzz/fuzz_*.c.
# Uses the Makefile's BUILD, PYTHON, FUZZ_CFLAGS, FUZZ_SECONDS, say, Q, deps.
#
#   make fuzz-extra     seeds, then FUZZ_SECONDS of each target
#
# A crash lands in $(BUILD)/fuzz/<target>-crash-*; run the binary on that
# file to reproduce it (FUZZ_LOG=1 prints the log lines the code wrote).

FUZZ_EXTRA := acpi pci_caps config nic_rx l4_csum mig_recv
FUZZ_EXTRA_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_EXTRA)) $(BUILD)/fuzz/gen_recv_seeds

FUZZ_ENV := tests/fuzz/fuzz_env.c hv/lib/format.c
FUZZ_DRIVER_ENV := $(FUZZ_ENV) tests/fuzz/fuzz_mm.c tests/fuzz/fuzz_pci_sim.c \
	drivers/pci/pci_scan.c drivers/pci/pci_config.c drivers/virtio/virtio_pci.c \
	drivers/virtio/virtqueue.c hv/lib/table.c

FUZZ_SRCS_acpi := tests/fuzz/fuzz_acpi.c drivers/acpi/acpi.c $(FUZZ_ENV)
# fuzz_blk_registry.c compiles drivers/block/blockdev.c itself (to empty its
# registry), as fuzz_nic_registry.c does drivers/net/nic.c.
FUZZ_SRCS_pci_caps := tests/fuzz/fuzz_pci_caps.c tests/fuzz/fuzz_blk_registry.c \
	drivers/block/virtio_blk.c hv/lib/strutil.c $(FUZZ_DRIVER_ENV)
FUZZ_SRCS_config := tests/fuzz/fuzz_config.c hv/core/config.c hv/core/settings.c \
	hv/lib/parse.c $(FUZZ_ENV)
FUZZ_SRCS_nic_rx := tests/fuzz/fuzz_nic_rx.c tests/fuzz/fuzz_nic_e1000.c \
	tests/fuzz/fuzz_nic_vnet.c tests/fuzz/fuzz_nic_registry.c drivers/net/e1000.c \
	drivers/net/virtio_net.c $(FUZZ_DRIVER_ENV)
# The checksums of frames from peers (pure functions: no stand-ins).
FUZZ_SRCS_l4_csum := tests/fuzz/fuzz_l4_csum.c net/l4_csum.c

# The receiver: recv_apply.c and what it drives, real down to the device
# models and the datastore; fuzz_vm_host.c stands in for the hardware,
# the backend, the console and the connection's send side. Its seeds come
# from the real encoders (gen_recv_seeds.c, built from the same files), so
# they carry valid device state and name the datastore's own disks.
FUZZ_RECV_LIB := tests/fuzz/fuzz_vm_host.c tests/fuzz/fuzz_recv_store.c tests/fuzz/fuzz_mm.c \
	$(FUZZ_ENV) migrate/recv_apply.c migrate/recv_disks.c migrate/disk_rx.c migrate/disk_tx.c \
	migrate/disk_stream.c migrate/stream.c migrate/page_delta.c migrate/state_codec.c migrate/vcpu_check.c \
	migrate/vm_state.c migrate/vm_devices.c hv/vm/vm.c hv/vm/vm_migration.c hv/vm/poison.c hv/vm/vcpu_signal.c \
	hv/vm/guest_mem.c hv/vm/platform.c hv/vm/kvmclock.c hv/vm/cpuid_policy.c \
	hv/vm/msr_policy.c hv/vm/msr_address.c hv/vm/vm_output.c hv/vm/vm_disk.c hv/vm/vm_disk_dirty.c \
	hv/vm/dirty_log.c hv/dirty/dirty_track.c hv/mm/pagetable.c $(wildcard hv/vdev/*.c) \
	$(filter-out hv/lib/string.c hv/lib/format.c,$(wildcard hv/lib/*.c)) \
	$(STORE_HOST_SRCS) drivers/block/blockdev.c
FUZZ_SRCS_mig_recv := tests/fuzz/fuzz_mig_recv.c tests/fuzz/fuzz_stream_mutator.c \
	$(FUZZ_RECV_LIB)
FUZZ_SEEDGEN_mig_recv := $(BUILD)/fuzz/gen_recv_seeds
# clang's view of cpuid_policy.c's 4-byte slices of vendor strings.
FUZZ_CFLAGS_mig_recv := -Wno-string-plus-int

# Inputs are small structures; nic_rx's are operation lists; mig_recv's
# are streams, up to a full PAGES or DISK_BLOCKS record.
FUZZ_MAX_LEN_acpi := 8192
FUZZ_MAX_LEN_pci_caps := 9000
FUZZ_MAX_LEN_config := 10000
FUZZ_MAX_LEN_nic_rx := 4096
FUZZ_MAX_LEN_l4_csum := 1600
FUZZ_MAX_LEN_mig_recv := 150000

# Any header the sources may include (the rules compile and link in one
# step, without dependency files).
FUZZ_EXTRA_HDRS := $(wildcard tests/fuzz/*.h drivers/*/*.h hv/lib/*.h hv/core/*.h hv/mm/*.h \
	hv/x86/*.h boot/bootinfo.h hv/vm/*.h hv/vdev/*.h hv/store/*.h migrate/*.h) \
	drivers/net/nic.c drivers/block/blockdev.c

define fuzz_extra_rule
$(BUILD)/fuzz/fuzz_$(1): $(FUZZ_SRCS_$(1)) $(FUZZ_EXTRA_HDRS) | deps
	@mkdir -p $$(dir $$@)
	$$(call say,FUZZCC,$$@)
	$$(Q)clang $$(FUZZ_CFLAGS) $$(FUZZ_CFLAGS_$(1)) $(FUZZ_SRCS_$(1)) -o $$@
endef
$(foreach t,$(FUZZ_EXTRA),$(eval $(call fuzz_extra_rule,$(t))))

# Without the fuzzer's runtime (it has its own main), with the sanitizers,
# so a fault in the code that makes the seeds shows here already.
$(BUILD)/fuzz/gen_recv_seeds: tests/fuzz/gen_recv_seeds.c $(FUZZ_RECV_LIB) $(FUZZ_EXTRA_HDRS) | deps
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$@)
	$(Q)clang $(filter-out -fsanitize=fuzzer%,$(FUZZ_CFLAGS)) $(FUZZ_CFLAGS_mig_recv) \
		-fsanitize=address,undefined \
		tests/fuzz/gen_recv_seeds.c $(FUZZ_RECV_LIB) -o $@

# One target: its seeds (with the regression inputs of bugs it found),
# from gen_extra_seeds.py or the target's own FUZZ_SEEDGEN_<target>, then
# FUZZ_SECONDS from its corpus. -timeout: a hang must fail the run,
# not wait out libFuzzer's 20 minutes.
define fuzz_extra_run
	@mkdir -p $(BUILD)/fuzz/corpus-$(1)
	$(or $(FUZZ_SEEDGEN_$(1)),$(PYTHON) tests/fuzz/gen_extra_seeds.py $(1)) $(BUILD)/fuzz/seeds-$(1)
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN_$(1)) \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$(1)- \
		$(BUILD)/fuzz/corpus-$(1) $(BUILD)/fuzz/seeds-$(1)

endef
FUZZ_EXTRA_RUN = $(foreach t,$(FUZZ_EXTRA),$(call fuzz_extra_run,$(t)))

.PHONY: fuzz-extra
fuzz-extra: $(FUZZ_EXTRA_BINS)
	$(FUZZ_EXTRA_RUN)
