#!/bin/sh
# Installs what vsched needs to build and to run every test tier on Debian 12,
# as root. Idempotent: packages already present are left as they are.
# (libnuma1, libudev1 and liburing2: the guest agent that tests/guest/
# build-guest.sh copies into the test guest links them.)
set -eu

PACKAGES="
	autoconf automake libtool pkg-config make gcc
	libglib2.0-dev libjson-glib-dev libvirt-dev libnl-3-dev libnl-genl-3-dev
	libcgroup-dev libsystemd-dev libcmocka-dev libcap-ng-dev
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
	busybox-static cpio gzip xz-utils zstd kmod
	libnuma1 libudev1 liburing2
	python3 util-linux procps groff-base clang libclang-rt-14-dev
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get install needs it)" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing
