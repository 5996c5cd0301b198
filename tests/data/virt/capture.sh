#!/bin/sh
# Copies what vsched's thread discovery reads about one running libvirt/QEMU
# guest into a fixture tree: DEST/run/libvirt/qemu/NAME.{xml,pid} and, for the
# QEMU process, DEST/proc/PID/{comm,cmdline,stat,cgroup} and
# DEST/proc/PID/task/TID/{comm,stat,status}. Used to make the fixtures under
# tests/data/virt/ from a real guest; run as root on the host:
#   tests/data/virt/capture.sh NAME DEST [STATUS_DIR]
set -eu
name=$1
dest=$2
status_dir=${3:-/run/libvirt/qemu}
pid=$(cat "$status_dir/$name.pid")
mkdir -p "$dest$status_dir" "$dest/proc/$pid/task"
cp "$status_dir/$name.xml" "$status_dir/$name.pid" "$dest$status_dir/"
for f in comm cmdline stat cgroup; do
	cat "/proc/$pid/$f" > "$dest/proc/$pid/$f"
done
for t in /proc/$pid/task/*; do
	tid=${t##*/}
	mkdir -p "$dest/proc/$pid/task/$tid"
	for f in comm stat status; do
		cat "$t/$f" > "$dest/proc/$pid/task/$tid/$f"
	done
done
echo "captured $name (PID $pid) into $dest"
