# shellcheck shell=sh
# Sourced by the L2 checks (tpt-check, tpt-revoke, agile-check), which set
# PROG to their name first.  It gives them the result bookkeeping (bad,
# finish), the expected pt-storm and memcheck lines with their arguments
# (load_expected), a checked run of a workload (run_check) and huge pages
# for the churn (thp_madvise).
PT_WANT=/mmuvirt/pt-storm.expected
MC_WANT=/mmuvirt/memcheck.expected
why=

# bad WHY [DETAIL]: a check failed; WHY goes into the RESULT line.
bad() {
	echo "$PROG: FAILED $1${2:+: $2}"
	why="${why:+$why; }$1"
}

# finish: run ON_FINISH (a command the caller may set, to stop its
# background work), print the RESULT line and exit 0 only when passed.
finish() {
	[ -z "${ON_FINISH:-}" ] || eval "$ON_FINISH"
	if [ -z "$why" ]; then
		echo "RESULT: $PROG=passed"
		exit 0
	fi
	echo "RESULT: $PROG=failed: $why"
	exit 1
}

# load_expected: pt_want and mc_want, the lines that pt-storm and
# memcheck printed on the build machine, and pt_args and mc_args, the
# arguments they were run with; finish (failed) when they are missing.
load_expected() {
	pt_want=$(cat "$PT_WANT" 2>/dev/null)
	mc_want=$(cat "$MC_WANT" 2>/dev/null)
	pt_args=$(echo "$pt_want" | sed -n 's/^pt-storm: rounds=\([0-9]*\) procs=\([0-9]*\) .*/\1 \2/p')
	mc_args=$(echo "$mc_want" | sed -n 's/^memcheck: mib=\([0-9]*\) procs=\([0-9]*\) rounds=\([0-9]*\) .*/\1 \2 \3/p')
	if [ -z "$pt_args" ] || [ -z "$mc_args" ]; then
		bad "no expected lines in $PT_WANT and $MC_WANT"
		finish
	fi
}

# run_check LABEL WANT CMD...: run CMD, show its output, which must hold
# the line WANT and CMD must exit 0.
run_check() {
	_label=$1 _want=$2
	shift 2
	echo "$PROG: == $_label: $*"
	_s=$(date +%s)
	_out=$("$@" 2>&1)
	_rc=$?
	_d=$(($(date +%s) - _s))
	[ -z "$_out" ] || echo "$_out"
	if ! echo "$_out" | grep -qxF "$_want"; then
		bad "$_label: checksum differs (exit $_rc)" \
			"got '$(echo "$_out" | grep "^$1:" | tail -n 1)', want '$_want', after ${_d}s"
	elif [ $_rc -ne 0 ]; then
		bad "$_label: exit $_rc" "after ${_d}s"
	else
		echo "$PROG: $_label: checksum matches the build machine's (${_d}s)"
	fi
}

# thp_madvise: Linux leaves THP off below 512 MiB of RAM; L2 has 256 MiB,
# and huge pages belong in the churn.
thp_madvise() {
	_thp=/sys/kernel/mm/transparent_hugepage/enabled
	if [ -w "$_thp" ] && ! grep -q '\[always\]' "$_thp"; then
		echo madvise >"$_thp" && echo "$PROG: THP: $(cat "$_thp")"
	fi
}
