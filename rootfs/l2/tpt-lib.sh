# shellcheck shell=sh
# Sourced by the L2 TPT checks (tpt-check, tpt-revoke), which set PROG to
# their name first.  It gives them the TPT guest's sysfs directory T, the
# result bookkeeping (bad, finish) and the expected pt-storm and memcheck
# lines with their arguments (load_expected).
T=/sys/kernel/mm/tpt
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

# tpt_stat NAME: the value of NAME in the stats, empty when there is none.
tpt_stat() {
	sed -n "s/^$1 \([0-9]*\)\$/\1/p" "$T/stats"
}

# show_stats WHEN: the stats on one line, NAME=VALUE each.
show_stats() {
	echo "$PROG: stats $1: $(awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }' "$T/stats")"
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
