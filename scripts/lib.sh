# shellcheck shell=bash
# Common helpers for the scripts in this directory.  Source it; it sets
# the paths every script agrees on.  All paths may be overridden from the
# environment so that a developer can keep trees elsewhere.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
LINUX_SRC=${LINUX_SRC:-$BUILD/linux}
LINUX_OBJ=${LINUX_OBJ:-$BUILD/linux-obj}
QEMU_SRC=${QEMU_SRC:-$BUILD/qemu}
QEMU_OBJ=${QEMU_OBJ:-$BUILD/qemu-obj}
QEMU_BIN=${QEMU_BIN:-$QEMU_OBJ/qemu-system-x86_64}
KSFT_OBJ=${KSFT_OBJ:-$BUILD/kselftest-kvm}
SELFTEST_OBJ=${SELFTEST_OBJ:-$BUILD/selftests}
BAREMETAL_OBJ=${BAREMETAL_OBJ:-$BUILD/baremetal}
# The emulated CPU of L0: an EPYC with the SVM features a current core has
# (FlushByAsid, DecodeAssists) and this project's extensions.  L0_CPU_MODEL
# is the EPYC model without the features that QEMU 7.2's TCG does not
# emulate: asked for, QEMU drops them anyway with a "TCG doesn't support
# requested feature" warning each (rdseed, sha-ni, fxsr-opt, misalignsse,
# 3dnowprefetch, osvw, topoext, xsavec), so the CPU L1 sees is the same.
# It keeps svm, npt, nrip-save, smep, smap and pdpe1gb.
L0_CPU_MODEL=EPYC,-rdseed,-sha-ni,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext,-xsavec
L0_CPU_DEFAULT=$L0_CPU_MODEL,+flushbyasid,+decodeassists,+mmu-counters,+direct-segments,+tpt,+agile-paging
ROOTFS_OBJ=${ROOTFS_OBJ:-$BUILD/rootfs}
BZIMAGE=${BZIMAGE:-$LINUX_OBJ/arch/x86/boot/bzImage}
# The debug kernel (scripts/build-kernel -d, configs/kernel-debug.config):
# L1 of the debug boot of 'make test' (scripts/boot-l1 -D).
LINUX_OBJ_DEBUG=${LINUX_OBJ_DEBUG:-$BUILD/linux-obj-debug}
BZIMAGE_DEBUG=${BZIMAGE_DEBUG:-$LINUX_OBJ_DEBUG/arch/x86/boot/bzImage}
L1_INITRD=${L1_INITRD:-$ROOTFS_OBJ/l1.cpio}
L2_INITRD=${L2_INITRD:-$ROOTFS_OBJ/l2.cpio.gz}
L2_KVM_INITRD=${L2_KVM_INITRD:-$ROOTFS_OBJ/l2-kvm.cpio.gz}
KCB_ROOT=${KCB_ROOT:-$ROOTFS_OBJ/kcbench}
KCB_INITRD=${KCB_INITRD:-$ROOTFS_OBJ/kcbench.cpio.gz}
LOGDIR=${LOGDIR:-$BUILD/logs}

# ccache lives outside the work tree so that fresh clones share it.  The
# base dir rewrites absolute paths so that a clone in another directory
# still hits.
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/mmuvirt-ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

JOBS=${JOBS:-$(nproc)}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# step NAME CMD...: run a step, print its wall time.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$name: start"
	"$@" || rc=$?
	log "$name: $([ $rc -eq 0 ] && echo done || echo "FAILED (rc=$rc)") in $(($(date +%s) - t0)) s"
	return $rc
}

# run_logged LOGFILE CMD...: run a long command with its output in a log
# file, printing a progress line every 30 s and the log's tail on failure.
run_logged() {
	local logf=$1 pid rc=0 n=0
	shift
	mkdir -p "$(dirname "$logf")"
	"$@" >"$logf" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n + 1))
		if [ $((n % 30)) -eq 0 ]; then
			log "  ... ${n}s: $(tail -n 1 "$logf" | cut -c1-100)"
		fi
	done
	wait "$pid" || rc=$?
	if [ $rc -ne 0 ]; then
		echo "---- last 40 lines of $logf ----" >&2
		tail -n 40 "$logf" >&2
		echo "---- end of $logf ----" >&2
	fi
	return $rc
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "'$c' not found: run 'make deps' (scripts/deps) first"
	done
}

# readme_table NAME FILE: replace the text between the lines
# "<!-- NAME begin -->" and "<!-- NAME end -->" with FILE, in README.md
# (the "bench" table) or, when README.md has no such markers, in
# results/README.md (the "mmu-table" and "dseg-table" tables).
readme_table() {
	local f
	for f in "$TOP/README.md" "$TOP/results/README.md"; do
		grep -qF "<!-- $1 begin -->" "$f" 2>/dev/null && break
	done
	python3 - "$f" "$1" "$2" <<'EOF'
import sys
readme, name, table = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
text = open(readme).read()
begin, end = "<!-- %s begin -->\n" % name, "<!-- %s end -->" % name
i, j = text.index(begin) + len(begin), text.index(end)
open(readme, "w").write(text[:i] + table + text[j:])
EOF
	log "updated the $1 table in ${f#"$TOP"/}"
}

# install_libs ROOT BIN: copy every shared library that BIN needs (as ldd
# resolves them here) into ROOT.
install_libs() {
	local root=$1 bin=$2 lib
	for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}
