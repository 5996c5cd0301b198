#!/bin/bash
# Makes a real libvirtd usable on a host without systemd (TESTING.md), for the
# integration tests, CI and the demo. Idempotent; says what it changes:
#   - /etc/libvirt/qemu.conf: security_driver = "none", user = "root",
#     group = "root" (only the keys that do not already have these values);
#   - creates the system user and group libvirt-qemu and /var/log/libvirt,
#     which libvirtd's QEMU driver looks up before it reads qemu.conf (the
#     libvirt-daemon-system package would create them, but it also brings a
#     default network and init scripts that this host does not want);
#   - starts virtlogd -d and libvirtd -d when they are not running (restarts
#     libvirtd when it ran with a qemu.conf this script just changed);
#   - waits until `virsh -c qemu:///system version` answers (30 s).
# Exits non-zero with a message on stderr when any step fails.
set -euo pipefail

QEMU_CONF=${VSCHED_QEMU_CONF:-/etc/libvirt/qemu.conf}
URI=qemu:///system
TIMEOUT=30

die() {
	echo "libvirtd-setup: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
for tool in libvirtd virtlogd virsh; do
	command -v "$tool" >/dev/null ||
		die "$tool not found (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86)"
done

if ! getent group libvirt-qemu >/dev/null; then
	groupadd --system libvirt-qemu
	echo "libvirtd-setup: created the system group libvirt-qemu"
fi
if ! getent passwd libvirt-qemu >/dev/null; then
	useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --no-create-home \
		--shell /usr/sbin/nologin libvirt-qemu
	echo "libvirtd-setup: created the system user libvirt-qemu"
fi
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu

changed=0
# Sets KEY = "VALUE" in qemu.conf unless it already has that value.
conf_set() {
	local key=$1 value=$2 line current
	line=$(grep -E "^[[:space:]]*${key}[[:space:]]*=" "$QEMU_CONF" 2>/dev/null | tail -n1 || true)
	if [ -n "$line" ]; then
		current=$(echo "$line" | sed -E 's/^[^=]*=[[:space:]]*//; s/[[:space:]]*(#.*)?$//')
		[ "$current" = "\"$value\"" ] && return 0
		sed -i -E "s|^[[:space:]]*${key}[[:space:]]*=.*$|${key} = \"$value\"|" "$QEMU_CONF"
		echo "libvirtd-setup: $QEMU_CONF: $key changed from $current to \"$value\""
	else
		mkdir -p "$(dirname "$QEMU_CONF")"
		echo "$key = \"$value\"" >>"$QEMU_CONF"
		echo "libvirtd-setup: $QEMU_CONF: added $key = \"$value\""
	fi
	changed=1
}
conf_set security_driver none
conf_set user root
conf_set group root

# The PID of the running daemon @1 (from its pid file, else by exact name).
daemon_pid() {
	local name=$1 pid
	pid=$(cat "/run/$name.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
		echo "$pid"
		return 0
	fi
	pgrep -x "$name" | head -n1 || true
}

pid=$(daemon_pid virtlogd)
if [ -z "$pid" ]; then
	virtlogd -d || die "virtlogd -d failed"
	echo "libvirtd-setup: started virtlogd"
fi

pid=$(daemon_pid libvirtd)
if [ -n "$pid" ] && [ "$changed" = 1 ]; then
	echo "libvirtd-setup: restarting libvirtd (pid $pid) to apply $QEMU_CONF"
	kill -TERM "$pid"
	for _ in $(seq 1 $((TIMEOUT * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && die "libvirtd (pid $pid) did not stop within ${TIMEOUT}s"
	pid=
fi
if [ -z "$pid" ]; then
	libvirtd -d || die "libvirtd -d failed"
	echo "libvirtd-setup: started libvirtd"
fi

for _ in $(seq 1 $((TIMEOUT * 5))); do
	if virsh -q -c "$URI" version >/dev/null 2>&1; then
		exit 0
	fi
	sleep 0.2
done
die "libvirtd does not answer on $URI after ${TIMEOUT}s: $(virsh -q -c "$URI" version 2>&1 | tr '\n' ' ')"
