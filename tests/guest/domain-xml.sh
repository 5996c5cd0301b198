#!/bin/bash
# Prints the libvirt domain XML of a test guest (used by the integration
# tests' lib.sh and by tools/demo.sh): a TCG (<domain type='qemu'>) qemu64
# guest that boots the kernel and initramfs of build-guest.sh directly, with
# VCPUS of MAXVCPUS vCPUs online, MEM_MIB of memory, a virtio balloon with
# 2 s statistics (unless --no-balloon), no disk and no network, its serial
# console written to CONSOLE_LOG, and <vsched:policy class="CLASS"/>
# metadata unless CLASS is empty or "-". MODE is the guest init's
# vsched.mode (idle or burn). The kernel gets no_timer_check: on a loaded
# host a TCG guest may take its slow timer for a broken one ("IO-APIC +
# timer doesn't work") and panic.
# Options: --agent adds the guest agent's virtio-serial channel (the guest
# init starts qemu-ga on it); --no-balloon gives the guest no balloon device;
# --append ARGS adds kernel parameters (the guest init's vsched.burnfor=,
# vsched.fill=, vsched.nomod=).
#
# Usage: domain-xml.sh [--agent] [--no-balloon] [--append ARGS]
#                      NAME VCPUS MAXVCPUS MEM_MIB MODE CLASS CONSOLE_LOG [CACHE_DIR]
set -euo pipefail

usage() {
	echo "usage: domain-xml.sh [--agent] [--no-balloon] [--append ARGS]" \
		"NAME VCPUS MAXVCPUS MEM_MIB MODE CLASS CONSOLE_LOG [CACHE_DIR]" >&2
	exit 2
}
agent=0 balloon=1 append=
while [ $# -gt 0 ]; do
	case "$1" in
	--agent) agent=1 ;;
	--no-balloon) balloon=0 ;;
	--append)
		[ $# -ge 2 ] || usage
		append=$2
		shift
		;;
	--*) usage ;;
	*) break ;;
	esac
	shift
done
[ $# -ge 7 ] || usage
name=$1 vcpus=$2 maxvcpus=$3 mem=$4 mode=$5 class=$6 console=$7
cache=${8:-/var/cache/vsched-test/guest}

for n in "$vcpus" "$maxvcpus" "$mem"; do
	case "$n" in
	'' | *[!0-9]*)
		echo "domain-xml.sh: not a number: '$n'" >&2
		exit 2
		;;
	esac
done
if [ "$vcpus" -lt 1 ] || [ "$vcpus" -gt "$maxvcpus" ]; then
	echo "domain-xml.sh: need 1 <= VCPUS ($vcpus) <= MAXVCPUS ($maxvcpus)" >&2
	exit 2
fi
case "$name$mode$class$console$cache$append" in
*[\<\>\&\'\"]*)
	echo "domain-xml.sh: arguments must not contain XML special characters" >&2
	exit 2
	;;
esac
emulator=$(command -v qemu-system-x86_64) || {
	echo "domain-xml.sh: qemu-system-x86_64 not found" >&2
	exit 1
}

devices=
if [ "$agent" = 1 ]; then
	devices="<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
fi
if [ "$balloon" = 1 ]; then
	devices="$devices<memballoon model='virtio'><stats period='2'/></memballoon>"
else
	devices="$devices<memballoon model='none'/>"
fi
metadata=
if [ -n "$class" ] && [ "$class" != - ]; then
	metadata="<metadata><vsched:policy xmlns:vsched='https://vsched.dev/xmlns/domain/1' class='$class'/></metadata>"
fi

cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  $metadata
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu placement='static' current='$vcpus'>$maxvcpus</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$cache/vmlinuz</kernel>
    <initrd>$cache/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 no_timer_check vsched.mode=$mode${append:+ $append}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$emulator</emulator>
    <serial type='file'>
      <source path='$console'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$console'/>
      <target type='serial' port='0'/>
    </console>
    $devices
  </devices>
</domain>
EOF
