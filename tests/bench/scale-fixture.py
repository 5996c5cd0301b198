#!/usr/bin/python3
"""Generates the fixture of the scale benchmark (tests/bench/bench-scale.sh).

Writes into DIR (which must not exist) a libvirt test driver node
(DIR/testdrv.xml) with GUESTS running guests of VCPUS vCPUs each, and a
sysroot (DIR/root) that vschedd reads as the host: the host files of
tests/data/hosts/flat2 (memory, pressure, hybrid cgroup mounts) with a
generated topology of CPUS CPUs (2 packages, SMT2, one NUMA node and one
L3 per package), and for every guest what libvirt and the kernel would
show: the status XML with the vCPU TIDs (/run/libvirt/qemu/NAME.xml), the
QEMU process (/proc/PID/{comm,cmdline,stat,cgroup}) and its threads
(/proc/PID/task/TID/{comm,stat,status,schedstat,cgroup}: the main thread,
one per vCPU, QEMU's monitor I/O thread), and the v1 cpu cgroups of the
guest and of each vCPU with their cpu.stat and cpu.cfs_quota_us (-1: no
limit, as libvirt leaves them without <cputune> quotas).

Generated at benchmark time, never committed (1000 x 8 is about 60000
files). Usage: scale-fixture.py SRCDIR DIR [GUESTS [VCPUS [CPUS]]]
"""
import os
import shutil
import sys

FIRST_PID = 100000
THREADS_PER_GUEST = 16      # PID spacing: main, vCPUs, I/O thread


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def stat_line(tid, comm, start, cpu):
    # Fields 3.. of /proc/PID/stat: start time is field 22, CPU field 39.
    fields = ["S"] + ["0"] * 49
    fields[22 - 3] = str(start)
    fields[39 - 3] = str(cpu)
    return "%d (%s) %s\n" % (tid, comm, " ".join(fields))


def cpu_list(cpus):
    return ",".join(str(c) for c in cpus)


def topology(root, n_cpus):
    half = n_cpus // 2          # package 0: CPUs 0..half-1 and their siblings
    cores = half // 2           # SMT2: CPU c and c + cores are siblings
    base = os.path.join(root, "sys/devices/system")
    write(os.path.join(base, "cpu/online"), "0-%d\n" % (n_cpus - 1))
    for pkg in range(2):
        node_cpus = [c for c in range(n_cpus) if c // half == pkg]
        write(os.path.join(base, "node/node%d/cpulist" % pkg), cpu_list(node_cpus) + "\n")
        for c in node_cpus:
            local = c - pkg * half
            core = local % cores
            sibs = sorted({pkg * half + core, pkg * half + core + cores})
            d = os.path.join(base, "cpu/cpu%d" % c)
            write(os.path.join(d, "topology/core_id"), "%d\n" % core)
            write(os.path.join(d, "topology/physical_package_id"), "%d\n" % pkg)
            write(os.path.join(d, "topology/thread_siblings_list"), cpu_list(sibs) + "\n")
            write(os.path.join(d, "topology/core_cpus_list"), cpu_list(sibs) + "\n")
            write(os.path.join(d, "cache/index3/level"), "3\n")
            write(os.path.join(d, "cache/index3/id"), "%d\n" % pkg)
            os.makedirs(os.path.join(d, "node%d" % pkg), exist_ok=True)


def cgroup_text(rel):
    return ("9:name=systemd:/\n4:memory:%s\n3:cpuset:%s\n2:cpu,cpuacct:%s\n0::%s\n"
            % (rel, rel, rel, rel))


CPU_STAT = "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"
NO_QUOTA = "-1\n"


def guest(root, i, n_vcpus, n_cpus):
    name = "guest%04d" % i
    uuid = "00000000-0000-4000-8000-%012d" % i
    pid = FIRST_PID + i * THREADS_PER_GUEST
    dom_id = i + 1
    scope = "/machine/qemu-%d-%s.libvirt-qemu" % (dom_id, name)
    cgroot = os.path.join(root, "sys/fs/cgroup/cpu")
    proc = os.path.join(root, "proc/%d" % pid)

    vcpus_xml = "".join("    <vcpu id='%d' pid='%d'/>\n" % (v, pid + 1 + v)
                        for v in range(n_vcpus))
    write(os.path.join(root, "run/libvirt/qemu/%s.xml" % name),
          "<domstatus state='running' reason='booted' pid='%d'>\n"
          "  <vcpus>\n%s  </vcpus>\n"
          "  <domain type='kvm' id='%d'>\n    <name>%s</name>\n    <uuid>%s</uuid>\n"
          "    <vcpu placement='static'>%d</vcpu>\n  </domain>\n</domstatus>\n"
          % (pid, vcpus_xml, dom_id, name, uuid, n_vcpus))
    write(os.path.join(proc, "comm"), "qemu-system-x86\n")
    write(os.path.join(proc, "cmdline"), "/usr/bin/qemu-system-x86_64\0-name\0%s\0" % name)
    write(os.path.join(proc, "stat"), stat_line(pid, "qemu-system-x86", 5000 + i, 0))
    write(os.path.join(proc, "cgroup"), cgroup_text(scope + "/emulator"))
    for sub in ("", "emulator"):
        write(os.path.join(cgroot, scope.lstrip("/"), sub, "cpu.stat"), CPU_STAT)
        write(os.path.join(cgroot, scope.lstrip("/"), sub, "cpu.cfs_quota_us"), NO_QUOTA)

    threads = [(pid, "qemu-system-x86", scope + "/emulator")]
    threads += [(pid + 1 + v, "CPU %d/KVM" % v, scope + "/vcpu%d" % v) for v in range(n_vcpus)]
    threads += [(pid + 1 + n_vcpus, "IO mon_iothread", scope + "/emulator")]
    for n, (tid, comm, cg) in enumerate(threads):
        task = os.path.join(proc, "task/%d" % tid)
        cpu = (i * THREADS_PER_GUEST + n) % n_cpus
        write(os.path.join(task, "comm"), comm + "\n")
        write(os.path.join(task, "stat"), stat_line(tid, comm, 5000 + i, cpu))
        write(os.path.join(task, "status"),
              "Name:\t%s\nTgid:\t%d\nPid:\t%d\nCpus_allowed_list:\t0-%d\n"
              % (comm, pid, tid, n_cpus - 1))
        write(os.path.join(task, "schedstat"), "%d %d %d\n" % (1000000 * n, 1000 * n, n))
        write(os.path.join(task, "cgroup"), cgroup_text(cg))
        if "/vcpu" in cg:
            write(os.path.join(cgroot, cg.lstrip("/"), "cpu.stat"), CPU_STAT)
            write(os.path.join(cgroot, cg.lstrip("/"), "cpu.cfs_quota_us"), NO_QUOTA)
    return ("  <domain type='test'>\n    <name>%s</name>\n    <uuid>%s</uuid>\n"
            "    <memory unit='MiB'>1024</memory>\n    <vcpu placement='static'>%d</vcpu>\n"
            "    <os><type arch='x86_64'>hvm</type></os>\n  </domain>\n"
            % (name, uuid, n_vcpus))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: scale-fixture.py SRCDIR DIR [GUESTS [VCPUS [CPUS]]]")
    srcdir, out = sys.argv[1], sys.argv[2]
    n_guests = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    n_vcpus = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    n_cpus = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    if n_vcpus + 2 > THREADS_PER_GUEST or n_cpus < 4 or n_cpus % 4:
        sys.exit("scale-fixture.py: at most %d vCPUs, and a multiple of 4 CPUs"
                 % (THREADS_PER_GUEST - 2))
    root = os.path.join(out, "root")
    os.makedirs(out)
    shutil.copytree(os.path.join(srcdir, "tests/data/hosts/flat2"), root,
                    ignore=shutil.ignore_patterns("devices"))
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
    topology(root, n_cpus)
    domains = [guest(root, i, n_vcpus, n_cpus) for i in range(n_guests)]
    write(os.path.join(out, "testdrv.xml"),
          "<!-- generated by tests/bench/scale-fixture.py -->\n<node>\n"
          "  <cpu>\n    <mhz>2000</mhz>\n    <model>x86_64</model>\n    <active>%d</active>\n"
          "    <nodes>2</nodes>\n    <sockets>1</sockets>\n    <cores>%d</cores>\n"
          "    <threads>2</threads>\n  </cpu>\n  <memory>%d</memory>\n%s</node>\n"
          % (n_cpus, n_cpus // 4, 1024 * 1024 * 1024, "".join(domains)))


if __name__ == "__main__":
    main()
