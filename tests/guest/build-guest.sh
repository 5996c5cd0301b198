#!/bin/bash
# Builds the test guest used by the integration tier, the kernel lab and the
# demo: the Debian cloud kernel (kvm-clock, steal time, virtio-balloon, ACPI
# CPU hotplug) and a gzip cpio initramfs holding busybox-static, the virtio
# modules the guest needs, the QEMU guest agent (qemu-ga from Debian's
# qemu-guest-agent package, with the shared libraries it links, as resolved
# on this Debian host) and tests/guest/init (see TESTING.md).
#
# Usage: build-guest.sh [CACHE_DIR]     (default /var/cache/vsched-test/guest)
# Output: CACHE_DIR/vmlinuz and CACHE_DIR/initrd.gz.
#
# Idempotent and cached: the outputs are rebuilt only when their inputs change
# (the init script, this builder, the kernel package version, the busybox
# version). Downloaded kernel packages are kept under CACHE_DIR/debs. Safe to
# run concurrently: builds are serialised by a lock in CACHE_DIR.
set -euo pipefail

CACHE_DIR=${1:-/var/cache/vsched-test/guest}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INIT="$HERE/init"
META_PKG=linux-image-cloud-amd64
# Load order is resolved from each module's depends= below.
MODULES="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_balloon virtio_console"
AGENT_PKG=qemu-guest-agent

die() {
	echo "build-guest: $*" >&2
	exit 1
}

for tool in apt-cache apt-get dpkg dpkg-deb cpio gzip sha256sum busybox ldd; do
	command -v "$tool" >/dev/null || die "$tool not found (Debian packages: apt cpio gzip busybox-static)"
done
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; install busybox-static"
fi
[ -r "$INIT" ] || die "missing $INIT"

# The versioned kernel package the meta package depends on, and its version,
# from the local package lists (no network).
kernel_pkg() {
	apt-cache depends "$META_PKG" 2>/dev/null |
		awk '/^ *Depends: linux-image-[0-9].*-cloud-amd64$/ && !n { print $2; n = 1 }'
}
KPKG=$(kernel_pkg)
if [ -z "$KPKG" ]; then
	echo "build-guest: $META_PKG unknown to apt; running apt-get update" >&2
	apt-get update -qq || die "apt-get update failed"
	KPKG=$(kernel_pkg)
	[ -n "$KPKG" ] || die "cannot resolve the kernel package of $META_PKG"
fi
kernel_version() {
	apt-cache show --no-all-versions "$KPKG" 2>/dev/null |
		awk '/^Version: / && !n { print $2; n = 1 }'
}
KVER=$(kernel_version)
BBVER=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null || sha256sum <"$BUSYBOX")
agent_version() {
	apt-cache show --no-all-versions "$AGENT_PKG" 2>/dev/null |
		awk '/^Version: / && !n { print $2; n = 1 }'
}
AVER=$(agent_version)
cache_key() {
	{
		sha256sum <"$INIT"
		sha256sum <"${BASH_SOURCE[0]}"
		echo "$KPKG $KVER busybox $BBVER $AGENT_PKG $AVER"
	} | sha256sum | cut -d' ' -f1
}
KEY=$(cache_key)

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock 9

if [ -s "$CACHE_DIR/vmlinuz" ] && [ -s "$CACHE_DIR/initrd.gz" ] &&
	[ "$(cat "$CACHE_DIR/stamp" 2>/dev/null)" = "$KEY" ]; then
	echo "build-guest: up to date in $CACHE_DIR ($KPKG $KVER)"
	exit 0
fi

WORK=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Download both packages unless this version is already cached.
DEBS="$CACHE_DIR/debs"
mkdir -p "$DEBS"
deb_file() {
	local f
	for f in "$DEBS/$1"_*.deb; do
		if [ -e "$f" ] && [ "$(dpkg-deb -f "$f" Version)" = "$2" ]; then
			echo "$f"
			return 0
		fi
	done
}
KDEB=$(deb_file "$KPKG" "$KVER")
if [ -z "$KDEB" ]; then
	echo "build-guest: downloading $META_PKG and $KPKG $KVER"
	rm -f "$DEBS/$META_PKG"_*.deb "$DEBS"/linux-image-*.deb
	if ! (cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$META_PKG" "$KPKG") >&2; then
		echo "build-guest: download failed; running apt-get update and retrying" >&2
		apt-get update -qq || die "apt-get update failed"
		KPKG=$(kernel_pkg)
		KVER=$(kernel_version)
		KEY=$(cache_key)
		(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$META_PKG" "$KPKG") >&2 ||
			die "apt-get download $META_PKG $KPKG failed"
	fi
	KDEB=$(deb_file "$KPKG" "$KVER")
	[ -n "$KDEB" ] || die "no $KPKG $KVER package after download"
fi
dpkg -x "$KDEB" "$WORK/kernel"

ADEB=$(deb_file "$AGENT_PKG" "$AVER")
if [ -z "$ADEB" ]; then
	echo "build-guest: downloading $AGENT_PKG $AVER"
	rm -f "$DEBS/$AGENT_PKG"_*.deb
	(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$AGENT_PKG") >&2 ||
		die "apt-get download $AGENT_PKG failed"
	ADEB=$(deb_file "$AGENT_PKG" "$AVER")
	[ -n "$ADEB" ] || die "no $AGENT_PKG $AVER package after download"
fi
dpkg -x "$ADEB" "$WORK/agent"

VMLINUZ=
for f in "$WORK"/kernel/boot/vmlinuz-*; do
	[ -e "$f" ] && VMLINUZ=$f
done
[ -n "$VMLINUZ" ] || die "no vmlinuz in $KDEB"
UNAME=${VMLINUZ##*/vmlinuz-}
MODDIR="$WORK/kernel/lib/modules/$UNAME"
[ -d "$MODDIR" ] || MODDIR="$WORK/kernel/usr/lib/modules/$UNAME"
[ -d "$MODDIR" ] || die "no modules directory for $UNAME in $KDEB"

ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,dev,etc,lib/modules,proc,sys,tmp,run,var}
ln -s ../run "$ROOT/var/run"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
done
ln -s bin "$ROOT/sbin"
install -m 0755 "$INIT" "$ROOT/init"

# The guest agent and the libraries it links, at the paths the dynamic
# loader looks in (the guest is this Debian release, so the host's copies
# are the right ones).
mkdir -p "$ROOT/usr/sbin"
install -m 0755 "$WORK/agent/usr/sbin/qemu-ga" "$ROOT/usr/sbin/qemu-ga"
LIBS=$(ldd "$WORK/agent/usr/sbin/qemu-ga" | awk '/=> \// { print $3 } /^\t\/[^ ]* \(/ { print $1 }')
for lib in $LIBS; do
	[ -e "$lib" ] || die "qemu-ga needs $lib, which is missing (install the qemu-guest-agent dependencies)"
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done
if ldd "$WORK/agent/usr/sbin/qemu-ga" | grep -q 'not found'; then
	die "qemu-ga links libraries this host lacks: $(ldd "$WORK/agent/usr/sbin/qemu-ga" | grep 'not found' | tr -s ' \t' ' ')"
fi

# The file of module @1 (names may use - or _), decompressed into the
# initramfs (busybox insmod does not take every compression).
module_file() {
	local pat=${1//_/[-_]}
	find "$MODDIR/kernel" -regextype posix-extended \
		-regex ".*/${pat}\.ko(\.xz|\.zst|\.gz)?" -print -quit
}
module_builtin() {
	local pat=${1//_/[-_]}
	grep -Eq "/${pat}\.ko$" "$MODDIR/modules.builtin" 2>/dev/null
}
ORDER=()
declare -A SEEN=()
add_module() {
	local name=$1 src dst deps dep
	[ -n "${SEEN[$name]:-}" ] && return 0
	SEEN[$name]=1
	if module_builtin "$name"; then
		echo "build-guest: $name is built in"
		return 0
	fi
	src=$(module_file "$name")
	[ -n "$src" ] || die "module $name not found in $UNAME"
	dst="$ROOT/lib/modules/$name.ko"
	case "$src" in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
	deps=$(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p')
	for dep in ${deps//,/ }; do
		add_module "${dep//-/_}"
	done
	ORDER+=("$name")
}
for m in $MODULES; do
	add_module "$m"
done
printf '%s\n' "${ORDER[@]}" >"$ROOT/etc/vsched-modules"
echo "$UNAME" >"$ROOT/etc/vsched-kernel"

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet -o -0 -H newc -R 0:0) | gzip -9n >"$WORK/initrd.gz"
cp "$VMLINUZ" "$WORK/vmlinuz"

mv -f "$WORK/vmlinuz" "$CACHE_DIR/vmlinuz"
mv -f "$WORK/initrd.gz" "$CACHE_DIR/initrd.gz"
echo "$KEY" >"$CACHE_DIR/stamp"
echo "build-guest: built $CACHE_DIR/vmlinuz ($UNAME, $KPKG $KVER) and initrd.gz" \
	"(modules: ${ORDER[*]}; $AGENT_PKG $AVER)"
