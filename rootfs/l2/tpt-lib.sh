# shellcheck shell=sh
# Sourced by the L2 TPT checks (tpt-check, tpt-revoke), which set PROG to
# their name first: check-lib.sh, and the TPT guest's sysfs directory T
# with its stats (tpt_stat, show_stats), and turning TPT off and on
# (set_enabled), and waiting for a condition (wait_for).
. /bin/check-lib.sh
T=/sys/kernel/mm/tpt

# tpt_stat NAME: the value of NAME in the stats, empty when there is none.
tpt_stat() {
	sed -n "s/^$1 \([0-9]*\)\$/\1/p" "$T/stats"
}

# show_stats WHEN: the stats on one line, NAME=VALUE each.
show_stats() {
	echo "$PROG: stats $1: $(awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }' "$T/stats")"
}

# set_enabled 0|1: write it to enabled and wait (10 s at most) until the
# stats say active 0|1.
set_enabled() {
	if ! echo "$1" >"$T/enabled"; then
		bad "writing $1 to $T/enabled failed"
		return
	fi
	_i=0
	while [ "$(tpt_stat active)" != "$1" ] && [ $_i -lt 10 ]; do
		sleep 1
		_i=$((_i + 1))
	done
	_a=$(tpt_stat active)
	if [ "$_a" = "$1" ]; then
		echo "$PROG: wrote $1 to enabled: active $_a after ${_i}s, enabled $(cat "$T/enabled")"
	else
		bad "wrote $1 to enabled: active is '$_a' after ${_i}s, not $1"
	fi
}

# wait_for SECONDS WHAT CONDITION...: poll CONDITION each second.
wait_for() {
	_max=$1 _what=$2 _i=0
	shift 2
	while ! "$@"; do
		_i=$((_i + 1))
		if [ $_i -ge "$_max" ]; then
			bad "no $_what after ${_max}s"
			show_stats "at the timeout"
			return 1
		fi
		sleep 1
	done
	echo "$PROG: $_what after ${_i}s"
}
