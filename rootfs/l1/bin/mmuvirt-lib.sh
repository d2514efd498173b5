# shellcheck shell=sh
# Helpers for the L1 jobs.  Every check prints one line
#   MMUVIRT-RESULT: PASS|FAIL|SKIP NAME [# reason]
# that scripts/run-tests on the build machine counts.

result() {
	_r=$1 _n=$2
	shift 2
	[ "$_r" != FAIL ] || : >>/tmp/mmuvirt-failed
	if [ $# -gt 0 ]; then
		echo "MMUVIRT-RESULT: $_r $_n # $*"
	else
		echo "MMUVIRT-RESULT: $_r $_n"
	fi
}

# paging_mode: how L1's KVM runs guests by default: nested, shadow, agile
# (nested paging with kvm_amd.agile=1, every VM agile unless it opts out)
# or none.
paging_mode() {
	case $(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) in
	Y | 1)
		case $(cat /sys/module/kvm_amd/parameters/agile 2>/dev/null) in
		Y | 1) echo agile ;;
		*) echo nested ;;
		esac
		;;
	N | 0) echo shadow ;;
	*) echo none ;;
	esac
}

# run_ksft NAME TIMEOUT CMD...: run a kselftest-style program; exit 0 is a
# pass, 4 (KSFT_SKIP) a skip, anything else a failure.
run_ksft() {
	_n=$1 _t=$2
	shift 2
	echo "L1: == $_n ($*)"
	_s=$(date +%s)
	timeout "$_t" "$@" </dev/null
	_rc=$?
	_d=$(($(date +%s) - _s))
	case $_rc in
	0) result PASS "$_n" "${_d}s" ;;
	4) result SKIP "$_n" "skipped by the test (${_d}s)" ;;
	124 | 143) result FAIL "$_n" "timed out after ${_t}s" ;;
	*) result FAIL "$_n" "exit $_rc after ${_d}s" ;;
	esac
}

# l2_memcheck NAME [WRAPPER...]: boot L2, run the memcheck workload,
# compare its checksum with the one computed natively on the build
# machine.  With WRAPPER, run-l2 runs under it, e.g.
#   l2_memcheck NAME mmu-count -b guest -q -o FILE --
# L2_OPTS adds options of run-l2 (e.g. -d, a VMM direct segment).
l2_memcheck() {
	_n=$1 _log=/tmp/$1.log
	shift
	_want=$(cat /mmuvirt/memcheck.expected)
	_args=$(echo "$_want" | sed -n 's/^memcheck: mib=\([0-9]*\) procs=\([0-9]*\) rounds=\([0-9]*\) .*/\1:\2:\3/p')
	# shellcheck disable=SC2086
	"$@" run-l2 -t 900 ${L2_OPTS:-} -o "$_log" "memcheck:$_args"
	_rc=$?
	if [ $_rc -ne 0 ]; then
		result FAIL "$_n" "L2 exit $_rc"
	elif ! grep -qxF "$_want" "$_log"; then
		result FAIL "$_n" "checksum differs: want '$_want', got '$(grep '^memcheck:' "$_log")'"
	else
		result PASS "$_n" "$(paging_mode) paging, checksum matches the native run"
	fi
}

# mmu_counters: succeed when the emulated CPU has the page-walk counters
# (MMUCNT) and mmu-count can use them; otherwise print why not.
mmu_counters() {
	_why=$(mmu-count -q -o /dev/null -- true 2>&1) && return 0
	echo "${_why#mmu-count: }"
	return 1
}

# mmu_counter_exists FIELD: succeed when mmu-count prints FIELD, that is
# when the emulated CPU has the feature that counts it.
mmu_counter_exists() {
	mmu-count -q -o /tmp/mmu-count-probe.txt -- true 2>/dev/null &&
		grep -q "$1" /tmp/mmu-count-probe.txt
}

# dseg_available: succeed when L2 can have a VMM direct segment: the
# emulated CPU has direct segments (mmu-count shows their counters) and
# L1's KVM runs nested paging.
dseg_available() {
	[ "$(paging_mode)" = nested ] && mmu_counter_exists dseg_checks
}

# tpt_available: succeed when L2 can have Translation Pass-Through: the
# emulated CPU has TPT (mmu-count shows its counters), kvm_amd.tpt is on
# and L1's KVM runs nested paging.
tpt_available() {
	[ "$(paging_mode)" = nested ] &&
		[ "$(cat /sys/module/kvm_amd/parameters/tpt)" = Y ] &&
		mmu_counter_exists tpt_walks
}

# agile_available: succeed when L2 can run on agile paging: the emulated
# CPU has it (mmu-count shows its counters), KVM offers it
# (kvm_amd.agile_interval_ms exists) and L1's KVM runs nested paging
# (with or without kvm_amd.agile).
agile_available() {
	case $(paging_mode) in nested | agile) ;; *) return 1 ;; esac &&
		[ -e /sys/module/kvm_amd/parameters/agile_interval_ms ] &&
		mmu_counter_exists agile_walks
}

# l2_agile NAME [RUN-L2 OPTION...]: boot L2 on agile paging (run-l2 -A, and
# the options given) and run agile-check in it under mmu-count: pt-storm
# and memcheck against the build machine's checksums, then a quiet spell
# for KVM's dirty-bit scan (rootfs/l2/agile-check).  KVM's agile_* VM
# statistics are sampled each second from debugfs while L2 runs.  Passes
# when agile-check passes, page tables went to nested mode and back, and
# the emulated CPU made agile walks.
l2_agile() {
	_n=$1
	shift
	_st=/tmp/agile-stats.txt
	: >"$_st"
	(
		cd /sys/kernel/debug/kvm || exit
		while :; do
			echo "$(cat agile_to_nested) $(cat agile_to_shadow)" \
				"$(cat agile_pt_writes) $(cat agile_switch_links)"
			sleep 1
		done
	) >>"$_st" 2>/dev/null &
	_poll=$!
	l2_check_run agile-check -A "$@"
	kill "$_poll" 2>/dev/null
	wait "$_poll" 2>/dev/null
	# The statistics only grow while the VM lives: keep the largest.
	# shellcheck disable=SC2046
	set -- $(awk '{ for (i = 1; i <= 4; i++) if ($i > m[i]) m[i] = $i }
		END { print m[1] + 0, m[2] + 0, m[3] + 0, m[4] + 0 }' "$_st")
	_kvm="to_nested=$1 to_shadow=$2 pt_writes=$3 switch_links=$4"
	_walks=$(mmu_count_field /tmp/mmu-count-agile-check.txt agile_walks)
	_l0=$(mmu_count_field /tmp/mmu-count-agile-check.txt agile_switch_l0)
	if [ $_rc -ne 0 ] || [ "$_res" != "RESULT: agile-check=passed" ]; then
		result FAIL "$_n" "L2 exit $_rc, ${_res:-no RESULT line}; $_kvm"
	elif [ "$1" -eq 0 ] || [ "$2" -eq 0 ] || [ "${_walks:-0}" -eq 0 ]; then
		result FAIL "$_n" "agile-check passed, but KVM $_kvm, agile_walks=${_walks:-none} (want moves both ways and agile walks)"
	else
		result PASS "$_n" "pt-storm and memcheck match the native checksums; KVM $_kvm; agile_walks=$_walks all-shadow=${_l0:-?}"
	fi
}

# l2_kvm NAME [RUN-L2 OPTION...]: boot L2 with the KVM selftests of
# selftests/l2.list (run-l2 -K, 1 GiB, and the options given) and run
# them there (rootfs/l2/kvm-check): each test's guest is a guest of L2,
# whose nested paging table L1's KVM runs through its nested MMU.  Passes
# when kvm-check passes.
l2_kvm() {
	_n=$1
	shift
	l2_check_run kvm-check -K -m 1G "$@"
	_sum=$(sed -n 's/^.*kvm-check: \([0-9]* passed, [0-9]* skipped\).*/\1/p' /tmp/kvm-check.log | tr -d '\r' | tail -n 1)
	if [ $_rc -ne 0 ] || [ "$_res" != "RESULT: kvm-check=passed" ]; then
		result FAIL "$_n" "L2 exit $_rc, ${_res:-no RESULT line}; ${_sum:-no summary}"
	else
		result PASS "$_n" "${_sum} in L2 (selftests/l2.list)"
	fi
}

# l2_tpt NAME: boot L2 with -accel kvm,tpt=on (run-l2 -T), check that the
# guest sees KVM_FEATURE_TPT, and run memcheck in it against the expected
# checksum.
l2_tpt() {
	run-l2 -T -t 900 -o /tmp/l2-tpt.log kvm-features
	_rc=$?
	_feat=$(sed -n 's/^kvm_features=\(.*\)/\1/p' /tmp/l2-tpt.log | tr -d '\r')
	case "$_rc:$_feat" in
	0:*tpt=1) result PASS "$1-feature" "L2 sees KVM_FEATURE_TPT: $_feat" ;;
	*) result FAIL "$1-feature" "L2 exit $_rc, kvm_features '${_feat:-none}'" ;;
	esac
	L2_OPTS=-T l2_memcheck "$1"
}

# mmu_count_field FILE NAME: the value of counter NAME in the output FILE of
# mmu-count -q, empty when it has none.
mmu_count_field() {
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" 2>/dev/null
}

# l2_counted_run NAME COMMAND [RUN-L2 OPTION...]: boot L2 (run-l2 with the
# options given) under mmu-count and run COMMAND in it (run-l2's
# NAME[:ARG...]), its console in /tmp/NAME.log and the guest bank's
# counters in /tmp/mmu-count-NAME.txt.  Sets _rc (L2's exit status) and
# _cnt_file (the counters' file).
l2_counted_run() {
	_name=$1 _cmd=$2
	shift 2
	_cnt_file=/tmp/mmu-count-$_name.txt
	rm -f "$_cnt_file" "/tmp/$_name.log"
	mmu-count -b guest -q -o "$_cnt_file" -- \
		run-l2 "$@" -t 900 -o "/tmp/$_name.log" "$_cmd"
	_rc=$?
}

# l2_check_run SCRIPT [RUN-L2 OPTION...]: l2_counted_run of the L2 check
# SCRIPT (rootfs/l2/SCRIPT); also sets _res (SCRIPT's RESULT line).
l2_check_run() {
	_script=$1
	shift
	l2_counted_run "$_script" "$_script" "$@"
	_res=$(grep "^RESULT: $_script=" "/tmp/$_script.log" 2>/dev/null | tail -n 1)
}

# l2_tpt_run SCRIPT [RUN-L2 OPTION...]: l2_check_run with Translation
# Pass-Through (run-l2 -T); also sets _walks and _faults (the guest bank's
# tpt_walks and tpt_tag_faults, empty when missing).
l2_tpt_run() {
	_script=$1
	shift
	l2_check_run "$_script" -T "$@"
	_walks=$(mmu_count_field "/tmp/mmu-count-$_script.txt" tpt_walks)
	_faults=$(mmu_count_field "/tmp/mmu-count-$_script.txt" tpt_tag_faults)
}

# l2_tpt_storm NAME [RUN-L2 OPTION...]: boot L2 with Translation
# Pass-Through (run-l2 -T, and the options given) and run tpt-check in it
# under mmu-count: pt-storm and memcheck against the build machine's
# checksums with TPT on, pt-storm with TPT turned off and on again
# (rootfs/l2/tpt-check).  Passes when tpt-check passes, the emulated CPU
# made TPT walks in guest mode (tpt_walks above 0) and no guest access met
# a frame without the VM's tag (tpt_tag_faults 0).
l2_tpt_storm() {
	_n=$1
	shift
	l2_tpt_run tpt-check "$@"
	_cnt="tpt_walks=${_walks:-none} tpt_tag_faults=${_faults:-none}"
	_fills=$(sed -n 's/^tpt-check: stats end: .*fills_user=\([0-9]*\).*/\1/p' /tmp/tpt-check.log 2>/dev/null)
	if [ $_rc -ne 0 ] || [ "$_res" != "RESULT: tpt-check=passed" ]; then
		result FAIL "$_n" "L2 exit $_rc, ${_res:-no RESULT line}; $_cnt"
	elif [ -z "$_walks" ] || [ -z "$_faults" ]; then
		result FAIL "$_n" "tpt-check passed, but no TPT counters: $(mmu_fields /tmp/mmu-count-tpt-check.txt guest)"
	elif [ "$_walks" -eq 0 ] || [ "$_faults" -ne 0 ]; then
		result FAIL "$_n" "tpt-check passed, but $_cnt (want walks above 0, no tag fault)"
	else
		result PASS "$_n" "pt-storm (TPT on, off, on) and memcheck match the native checksums; $_cnt fills_user=${_fills:-?}"
	fi
}

# l2_tpt_mm NAME [RUN-L2 OPTION...]: boot L2 with Translation
# Pass-Through, a 64 MiB swap disk and 128 MiB to plug, which its console
# may ask for (run-l2 -T -w 64M -M -p 128M, and the options given), and
# run tpt-mm-check in it under mmu-count: TPT tables freed with the normal
# ones, reclaim zapping only the page it unmaps, racing fills that neither
# fall back nor rebuild, swap pressure, and hot-added memory passed
# through after one rebuild (rootfs/l2/tpt-mm-check).
# Passes when tpt-mm-check passes and the emulated CPU made TPT walks
# without a tag fault.
l2_tpt_mm() {
	_n=$1
	shift
	l2_tpt_run tpt-mm-check -w 64M -M -p 128M "$@"
	_cnt="tpt_walks=${_walks:-none} tpt_tag_faults=${_faults:-none}"
	_cases=$(sed -n 's/^tpt-mm: \([a-z]*\): \([a-zA-Z]*\):.*/\1 \2/p' /tmp/tpt-mm-check.log 2>/dev/null | tr '\n' ' ')
	if [ $_rc -ne 0 ] || [ "$_res" != "RESULT: tpt-mm-check=passed" ]; then
		result FAIL "$_n" "L2 exit $_rc, ${_res:-no RESULT line}; $_cnt"
	elif [ "${_walks:-0}" -eq 0 ] || [ "${_faults:-1}" -ne 0 ]; then
		result FAIL "$_n" "tpt-mm-check passed, but $_cnt (want walks above 0, no tag fault)"
	else
		result PASS "$_n" "${_cases}; $_cnt"
	fi
}

# l2_tpt_revoke NAME [RUN-L2 OPTION...]: boot L2 with Translation
# Pass-Through and a console that may drive its QEMU monitor (run-l2 -T -M)
# and run tpt-revoke in it under mmu-count: the guest has L1's QEMU turn
# dirty logging on for a few seconds, which makes KVM take every frame
# back, and must fall back to nested paging, rebuild its TPT tables and
# keep pt-storm's and memcheck's checksums (rootfs/l2/tpt-revoke).  Passes
# when tpt-revoke passes, the emulated CPU made TPT walks and tag faults,
# and KVM took a tag-fault exit (its "TPT tag fault" log line): the
# revocation reached the hardware, not only the guest's bookkeeping.
l2_tpt_revoke() {
	_n=$1
	shift
	_tf0=$(dmesg | grep -c 'TPT tag fault')
	l2_tpt_run tpt-revoke -M "$@"
	_tf=$(($(dmesg | grep -c 'TPT tag fault') - _tf0))
	_cnt="tpt_walks=${_walks:-none} tpt_tag_faults=${_faults:-none}, $_tf tag-fault exit(s) logged by KVM"
	_st=$(sed -n 's/^tpt-revoke: stats end: .*\(revocations=[0-9]*\).*/\1/p' /tmp/tpt-revoke.log 2>/dev/null)
	if [ $_rc -ne 0 ] || [ "$_res" != "RESULT: tpt-revoke=passed" ]; then
		result FAIL "$_n" "L2 exit $_rc, ${_res:-no RESULT line}; $_cnt"
	elif [ "${_walks:-0}" -eq 0 ] || [ "${_faults:-0}" -eq 0 ] || [ "$_tf" -eq 0 ]; then
		result FAIL "$_n" "tpt-revoke passed, but $_cnt (want walks and a tag fault)"
	else
		result PASS "$_n" "fell back to nested paging and rebuilt, checksums intact; $_cnt ${_st:-}"
	fi
}

# l2_memcheck_dseg NAME: l2_memcheck with L2's RAM behind a VMM direct
# segment, under mmu-count; fails unless the segment translated.
l2_memcheck_dseg() {
	L2_OPTS=-d l2_memcheck "$1" mmu-count -b guest -q -o /tmp/mmu-count-l2d.txt --
	_hits=$(mmu_count_field /tmp/mmu-count-l2d.txt dseg_vmm_hits)
	if [ "${_hits:-0}" -gt 0 ]; then
		result PASS "$1-segment" "$_hits guest-physical addresses translated by the VMM segment"
	else
		result FAIL "$1-segment" "the VMM segment translated nothing: $(mmu_fields /tmp/mmu-count-l2d.txt guest)"
	fi
}

# l2_dseg_check NAME [RUN-L2 OPTION...]: boot L2 with its guest direct
# segment (run-l2 -g, and the options given) and run dseg-check, the
# checks of the guest kernel's /dev/dseg, under mmu-count; fails unless it
# passes, the guest segment translated and its escape filter sent
# the escaped pages to paging.
l2_dseg_check() {
	_n=$1
	shift
	l2_counted_run dseg-check dseg-check:16 -g "$@"
	_hits=$(mmu_count_field "$_cnt_file" dseg_guest_hits)
	_esc=$(mmu_count_field "$_cnt_file" dseg_escapes)
	if [ $_rc -ne 0 ] || ! grep -q '^RESULT: .*check=passed' /tmp/dseg-check.log; then
		result FAIL "$_n" "L2 exit $_rc: $(grep '^dseg-check' /tmp/dseg-check.log | head -n 3 | tr '\n' ' ')"
	elif [ "${_hits:-0}" -eq 0 ]; then
		result FAIL "$_n" "the guest segment translated nothing: $(mmu_fields "$_cnt_file" guest)"
	elif [ "${_esc:-0}" -eq 0 ]; then
		result FAIL "$_n" "no escape-filter hits after DSEG_IOC_ESCAPE: $(mmu_fields "$_cnt_file" guest)"
	else
		result PASS "$_n" "/dev/dseg semantics hold; $_hits translations by the guest segment, $_esc escaped to paging"
	fi
}

# l2_dseg_balloon NAME: boot L2 with self-ballooning (run-l2 -b: 512 MiB
# of ordinary RAM, 1 GiB that virtio-mem can plug behind the VMM segment)
# and run GUPS over a 256 MiB /dev/dseg table, under mmu-count.  Ordinary
# RAM cannot hold the table, so the mapping must come from self-ballooning;
# fails unless GUPS passes, L2's kernel reports the memory contiguous
# behind the VMM segment, and both segments translated (Dual Direct: the
# VMM segment covers only the plugged memory).
l2_dseg_balloon() {
	_n=$1
	l2_counted_run dseg-balloon gups:-n:25:-u:2000000:-p:dseg -b -m 512M
	_sb=$(sed -n 's/.*dseg: self-ballooning: \(.*\)/\1/p' /tmp/dseg-balloon.log | tail -n 1)
	_qemu=$(sed -n 's/.*kvm: self-ballooning: \(.*\)/\1/p' /tmp/dseg-balloon.log | tail -n 1)
	_g=$(mmu_count_field "$_cnt_file" dseg_guest_hits)
	_v=$(mmu_count_field "$_cnt_file" dseg_vmm_hits)
	if [ $_rc -ne 0 ] || ! grep -q '^RESULT: name=gups.*check=passed' /tmp/dseg-balloon.log; then
		result FAIL "$_n" "L2 exit $_rc; ${_sb:-no self-ballooning line}; $(grep -m 3 '^gups\|dseg:' /tmp/dseg-balloon.log | tr '\n' ' ')"
	elif ! echo "$_sb" | grep -q 'contiguous behind the VMM segment'; then
		result FAIL "$_n" "GUPS passed, but self-ballooning: ${_sb:-no line in L2's log}"
	elif [ "${_g:-0}" -eq 0 ] || [ "${_v:-0}" -eq 0 ]; then
		result FAIL "$_n" "not Dual Direct: guest segment hits ${_g:-none}, VMM segment hits ${_v:-none}"
	else
		result PASS "$_n" "L2: $_sb; QEMU: ${_qemu:-?}; $_g guest and $_v VMM segment hits"
	fi
}

# l2_boot_loop NAME N TIMEOUT COMMAND [RUN-L2 OPTION...]: boot L2 N times
# with run-l2 and the options, each running COMMAND for at most TIMEOUT
# seconds; print the exit status of each boot (and the RESULT line of a
# bench-run workload) and the whole console of each failure, with the
# registers and the NMI backtrace that run-l2 collects from a hung L2.
# L2_LOOP_NOTE, when set, names a command whose output ends each boot's
# status line.  Fails when any boot failed.  The jobs l2-loop and
# l2-stress are this loop.
l2_boot_loop() {
	_name=$1 _n=$2 _t=$3 _cmd=$4
	shift 4
	_i=0 _bad=0
	while [ $_i -lt "$_n" ]; do
		_i=$((_i + 1))
		_log=/tmp/$_name-$_i.log
		run-l2 "$@" -t "$_t" -o "$_log" "$_cmd" >/dev/null 2>&1
		_rc=$?
		echo "$_name: boot $_i of $_n: exit $_rc${L2_LOOP_NOTE:+, $($L2_LOOP_NOTE)}"
		sed -n "s/.*RESULT: name=\([a-z]*\) .* seconds=\([0-9.]*\) .*/$_name $_i: \1 \2 s/p" "$_log"
		if [ $_rc -ne 0 ]; then
			_bad=$((_bad + 1))
			sed "s/^/$_name $_i| /" "$_log"
		fi
	done
	echo "$_name: $_bad of $_n boots failed"
	[ $_bad -eq 0 ]
}

# mmu_fields FILE BANK: the counters of BANK that mmu-count wrote to FILE
# ("walks=... refs_per_walk=..."), or why there are none.
mmu_fields() {
	sed -n "s/^mmu-count: bank=$2 //p" "$1" 2>/dev/null | grep . ||
		echo "no counters (mmu-count failed, see above)"
}

# debug_kernel_checks: the checks of the debug kernel (configs/
# kernel-debug.config, boot-l1 -D), run after the other suites of the job:
# "lockdep" passes when lockdep is built in and still on (debug_locks 1 in
# /proc/lockdep_stats: lockdep turns itself off at its first report, or
# when it runs out of room), "kfence" when KFENCE is on, sampled
# allocations and counted no bug.  On a kernel without them both fail:
# a console free of reports says nothing about a kernel that cannot make
# them.  The reports themselves are on the console, which the build
# machine scans.
debug_kernel_checks() {
	_ls=/proc/lockdep_stats
	if [ ! -r $_ls ]; then
		result FAIL lockdep "no $_ls: kernel $(uname -r) has no lockdep"
	else
		_dl=$(sed -n 's/^ *debug_locks: *\([0-9]*\)/\1/p' $_ls)
		_cl=$(sed -n 's/^ *lock-classes: *\([0-9]*\).*/\1/p' $_ls)
		_ch=$(sed -n 's/^ *dependency chains: *\([0-9]*\).*/\1/p' $_ls)
		if [ "$_dl" = 1 ]; then
			result PASS lockdep "on to the end (debug_locks 1), kernel $(uname -r): $_cl lock classes, $_ch dependency chains"
		else
			result FAIL lockdep "lockdep turned itself off (debug_locks ${_dl:-?}): see its report on the console"
		fi
	fi
	_ks=/sys/kernel/debug/kfence/stats
	if [ ! -r $_ks ]; then
		result FAIL kfence "no $_ks: kernel $(uname -r) has no KFENCE"
	else
		_en=$(sed -n 's/^enabled: //p' $_ks)
		_al=$(sed -n 's/^total allocations: //p' $_ks)
		_bugs=$(sed -n 's/^total bugs: //p' $_ks)
		if [ "$_en" = 1 ] && [ "${_al:-0}" -gt 0 ] && [ "$_bugs" = 0 ]; then
			result PASS kfence "on, $_al allocations sampled, 0 bugs"
		else
			result FAIL kfence "enabled ${_en:-?}, ${_al:-?} allocations sampled, ${_bugs:-?} bugs (want on, above 0, 0)"
		fi
	fi
}

# The exit status of a job: non-zero when any check failed.
job_status() {
	[ ! -e /tmp/mmuvirt-failed ]
}
