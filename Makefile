# mmuvirt: fast memory virtualization for KVM, built as patch series on
# Debian's Linux 6.1 and QEMU 7.2 and run as L0 (QEMU TCG, the emulated
# CPU) -> L1 (Linux KVM host) -> L2 (Linux guest).
#
# Every target is a script in scripts/ that a user can run by hand; each
# one is safe to re-run and does only the work that changed.

SHELL := /bin/bash

# How L1's KVM runs L2 for 'make shell': nested, shadow or agile.  'make
# run' runs the demo once in each of MODES.
MODE ?= nested
MODES ?= nested shadow

# What 'make bench' runs (Documentation/bench.rst); tpt-opt and tpt-naive
# share one L1 boot (the same L2 runs on Translation Pass-Through).
CONFIGS ?= native nested shadow agile-base agile tpt-opt tpt-naive vmm-direct guest-direct dual-direct
WORKLOADS ?= gups pagerank memcached kcbench
SIZE ?= default
REPEAT ?= 3

.PHONY: all deps sources qemu kernel kernel-debug selftests rootfs run demo test shell mmu-table dseg-table \
	bench bench-smoke \
	export-patches clean help

all: rootfs

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## make deps            install the Debian packages everything needs (root)
deps:
	scripts/deps

## make sources         unpack Linux 6.1 and QEMU 7.2 into build/, apply the series
sources: deps
	scripts/sources

## make qemu            build the patched QEMU (x86_64-softmmu, TCG + KVM)
qemu: sources
	scripts/build-qemu

## make kernel          build the patched bzImage (L1 and L2) and UAPI headers
kernel: sources
	scripts/build-kernel

## make kernel-debug    the debug bzImage (lockdep, KFENCE, ...: configs/kernel-debug.config) for make test's debug L1 boot
kernel-debug: sources
	scripts/build-kernel -d

## make selftests       build the upstream KVM selftests and ours
selftests: kernel
	scripts/build-selftests

## make rootfs          build the L1 and L2 initramfs images (and kcbench's)
rootfs: kernel qemu selftests
	scripts/build-kcbench
	scripts/build-rootfs

## make run             all of the above, then boot L1 and L2, run the demo (nested and shadow), summarize
run: all
	scripts/run-demo $(MODES)

demo: run

## make test            all of the above and kernel-debug, then the tests in L1 and L2 (ends "N passed, N failed")
test: all kernel-debug
	scripts/run-tests

## make bench          the benchmarks in every configuration: results/bench*.{csv,md,png} (CONFIGS=, WORKLOADS=, SIZE=, REPEAT=)
bench: all
	scripts/bench -c "$(CONFIGS)" -w "$(WORKLOADS)" -s $(SIZE) -r $(REPEAT) -R

## make bench-smoke    tiny benchmark runs, checked for sanity (part of make test)
bench-smoke: all
	scripts/bench -s smoke -r 1 -k -o build/bench-smoke

## make mmu-table      results/README.md's page-walk table: memcheck native, nested, shadow (4 L1 boots)
mmu-table: all
	scripts/mmu-table -R

## make dseg-table    results/README.md's direct-segment table: dseg_test's refs and checks per walk (1 L1 boot)
dseg-table: all
	scripts/dseg-table -R

## make shell           an interactive L1 console (MODE=shadow for npt=0, MODE=agile for kvm_amd.agile=1)
shell: all
	scripts/boot-l1 -n $(MODE) -i shell

## make export-patches  turn commits in build/linux and build/qemu back into the series
export-patches:
	scripts/export-patches

## make clean           remove build/ (the ccache in /var/cache stays)
clean:
	rm -rf build
