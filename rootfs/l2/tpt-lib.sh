# shellcheck shell=sh
# Sourced by the L2 TPT checks (tpt-check, tpt-revoke), which set PROG to
# their name first: check-lib.sh, and the TPT guest's sysfs directory T
# with its stats (tpt_stat, show_stats).
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
