# The kernel lab (TESTING.md): lab-host runs the host model on a real cgroup
# v2 kernel; run-lab.sh boots it in a QEMU TCG VM (root and qemu, else SKIP).
check_PROGRAMS += tests/lab/lab-host
tests_lab_lab_host_SOURCES = %reldir%/lab-host.c
tests_lab_lab_host_LDADD = src/libvsched.a $(VS_LIBS)
TESTS += %reldir%/run-lab.sh
EXTRA_DIST += %reldir%/run-lab.sh %reldir%/init
# The CPU proof: lab-cpu drives the cgroup v2 writer (src/host/cgroup-write.c)
# on a libvirt-like tree; run-lab-cpu.sh boots it. Both runners share
# lab-lib.sh.
check_PROGRAMS += tests/lab/lab-cpu
tests_lab_lab_cpu_SOURCES = %reldir%/lab-cpu.c
tests_lab_lab_cpu_LDADD = src/libvsched.a $(VS_LIBS)
TESTS += %reldir%/run-lab-cpu.sh
EXTRA_DIST += %reldir%/run-lab-cpu.sh %reldir%/lab-lib.sh
# The plan → act proof: lab-act runs vs_cpu_plan() and vs_act_run() on a
# guest in libvirt's systemd tree; run-lab-act.sh boots it.
check_PROGRAMS += tests/lab/lab-act
tests_lab_lab_act_SOURCES = %reldir%/lab-act.c
tests_lab_lab_act_LDADD = src/libvsched.a $(VS_LIBS)
TESTS += %reldir%/run-lab-act.sh
EXTRA_DIST += %reldir%/run-lab-act.sh
# The gang proof: two vCPU-like processes under separate cpu.max windows and
# under one guest-level window; run-lab-cosched.sh boots it.
check_PROGRAMS += tests/lab/lab-cosched
tests_lab_lab_cosched_SOURCES = %reldir%/lab-cosched.c
tests_lab_lab_cosched_LDADD = src/libvsched.a $(VS_LIBS)
TESTS += %reldir%/run-lab-cosched.sh
EXTRA_DIST += %reldir%/run-lab-cosched.sh
