#!/bin/bash
# The bash completion of vschedctl (conf/vschedctl.bash-completion), sourced
# and called the way bash calls it (COMP_WORDS, COMP_CWORD) against the
# built vschedctl and a daemon on the fixture root: verbs, subcommands,
# options, --window values, domain names from the daemon, policy keys.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
# shellcheck source=/dev/null
. "$src/conf/vschedctl.bash-completion"
make_fixture_root
write_config
start_daemon

# complete WORD...: the completions for the last word, one per line, sorted.
complete_words() {
	COMP_WORDS=("$VSCHEDCTL" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_vschedctl
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
# expect "WORDS" EXPECTED...: the completions are exactly EXPECTED.
expect() {
	local words=$1 got want
	shift
	# shellcheck disable=SC2086 # the words are split on purpose
	got=$(complete_words $words "")
	[ "${words: -1}" = " " ] || got=$(complete_words $words)
	want=$(printf '%s\n' "$@" | sort)
	[ "$got" = "$want" ] || fail "completing '$words': got [$(echo $got)], want [$(echo $want)]"
}

echo "# verbs"
expect "ov" override
expect "s" setmem setvcpus show status steal
got=$(complete_words "")
for verb in status list show explain steal top override vcpupin mem setmem setvcpus policy metrics tick reload help; do
	grep -qx "$verb" <<<"$got" || fail "the verb $verb is not offered: $got"
done
echo "# subcommands, options, option values"
expect "policy " check keys
expect "override l" list
expect "--js" --json
expect "steal --window " 10s 1m 5m
echo "# domain names from the daemon"
expect "show " db1 idle1 web1
expect "explain w" web1
expect "override clear d" db1
expect "vcpupin --socket $VSCHED_SOCKET i" idle1
echo "# policy keys"
expect "override db1 Weig" Weight=
expect "override clear db1 Weig" Weight
echo "# no daemon: verbs still complete, domains are empty"
expect "--socket $tmp/none show "
expect "--socket $tmp/none me" mem metrics
stop_daemon
echo "ok: completion"
