# ---- more fuzz targets (libFuzzer, clang), included by the Makefile ----------
# The host firmware's ACPI tables, PCI capability lists and the virtio
# transport, the boot configuration, the NIC drivers' receive paths. The
# drivers build unchanged: the stand-ins they need (log, panic, clock,
# heap and pages, ECAM and BARs, the NIC registry) are tests/fuzz/fuzz_*.c.
# Uses the Makefile's BUILD, PYTHON, FUZZ_CFLAGS, FUZZ_SECONDS, say, Q, deps.
#
#   make fuzz-extra     seeds, then FUZZ_SECONDS of each target
#
# A crash lands in $(BUILD)/fuzz/<target>-crash-*; run the binary on that
# file to reproduce it (FUZZ_LOG=1 prints the log lines the code wrote).

FUZZ_EXTRA := acpi pci_caps config nic_rx
FUZZ_EXTRA_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_EXTRA))

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

# Inputs are small structures; nic_rx's are operation lists.
FUZZ_MAX_LEN_acpi := 8192
FUZZ_MAX_LEN_pci_caps := 9000
FUZZ_MAX_LEN_config := 10000
FUZZ_MAX_LEN_nic_rx := 4096

# Any header the sources may include (the rules compile and link in one
# step, without dependency files).
FUZZ_EXTRA_HDRS := $(wildcard tests/fuzz/*.h drivers/*/*.h hv/lib/*.h hv/core/*.h hv/mm/*.h \
	hv/x86/*.h boot/bootinfo.h) drivers/net/nic.c drivers/block/blockdev.c

define fuzz_extra_rule
$(BUILD)/fuzz/fuzz_$(1): $(FUZZ_SRCS_$(1)) $(FUZZ_EXTRA_HDRS) | deps
	@mkdir -p $$(dir $$@)
	$$(call say,FUZZCC,$$@)
	$$(Q)clang $$(FUZZ_CFLAGS) $(FUZZ_SRCS_$(1)) -o $$@
endef
$(foreach t,$(FUZZ_EXTRA),$(eval $(call fuzz_extra_rule,$(t))))

# One target: its seeds (with the regression inputs of bugs it found),
# then FUZZ_SECONDS from its corpus. -timeout: a hang must fail the run,
# not wait out libFuzzer's 20 minutes.
define fuzz_extra_run
	@mkdir -p $(BUILD)/fuzz/corpus-$(1)
	$(PYTHON) tests/fuzz/gen_extra_seeds.py $(1) $(BUILD)/fuzz/seeds-$(1)
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN_$(1)) \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$(1)- \
		$(BUILD)/fuzz/corpus-$(1) $(BUILD)/fuzz/seeds-$(1)

endef
FUZZ_EXTRA_RUN = $(foreach t,$(FUZZ_EXTRA),$(call fuzz_extra_run,$(t)))

.PHONY: fuzz-extra
fuzz-extra: $(FUZZ_EXTRA_BINS)
	$(FUZZ_EXTRA_RUN)
