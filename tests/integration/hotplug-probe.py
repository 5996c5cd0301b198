#!/usr/bin/env python3
"""Watches a QEMU process for new vCPU threads while vschedd hot-plugs them
(tests/integration/test-hotplug.sh): for each vCPU thread that appears it
records when it was first seen, when its affinity first became the one the
policy pins it to (sched_getaffinity), and when it first ran guest work (its
run time in /proc/PID/task/TID/schedstat grew by 100 ms); on SIGTERM it
(or when QEMU exits, or after 10 minutes) matches the hot-add decisions of
the daemon's log and prints one line per new vCPU (after a first line
"watching" once it knows the threads it started with):

  vcpu=N tid=T placed_ms=.. decision_to_thread_ms=.. decision_to_work_ms=..

Usage: hotplug-probe.py QEMU_PID PINS DAEMON_LOG
PINS gives each vCPU's expected CPU list, like Pin=: "0:0;1:1;2:0;3:1"."""
import datetime
import os
import re
import signal
import sys
import time

POLL_S = 0.01
WORK_NS = 100 * 1000 * 1000
MAX_S = 600


def pins(text):
    return {int(v): cpulist(c) for v, c in (p.split(":") for p in text.split(";") if p)}


def cpulist(text):
    out = set()
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out |= set(range(int(a), int(b) + 1))
        elif part:
            out.add(int(part))
    return out


def vcpu_threads(pid):
    out = {}
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
        except OSError:
            continue
        m = re.match(r"CPU (\d+)/(TCG|KVM)$", comm)
        if m:
            out[int(tid)] = int(m.group(1))
    return out


def run_ns(pid, tid):
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def decisions(log):
    """(wall time, from, to) of each hot-add the daemon started."""
    out = []
    today = datetime.date.today()
    pat = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d+) vschedd \w+: .*hotplug: (\d+) → (\d+) vCPUs \((acpi|agent)\): ")
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = pat.match(line)
                if not m:
                    continue
                h, mi, s, frac, a, b = (m.group(i) for i in range(1, 7))
                t = datetime.datetime(today.year, today.month, today.day, int(h), int(mi), int(s),
                                      int(frac[:6].ljust(6, "0")))
                out.append((t.timestamp(), int(a), int(b)))
    except OSError:
        pass
    return out


def main():
    pid, want, log = int(sys.argv[1]), pins(sys.argv[2]), sys.argv[3]
    initial = set(vcpu_threads(pid))
    seen = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    print("watching", flush=True)
    deadline = time.time() + MAX_S
    while not stop:
        now = time.time()
        # The guest is gone (the test failed and cleaned up): stop.
        if not os.path.isdir("/proc/%d" % pid) or now > deadline:
            break
        for tid, index in vcpu_threads(pid).items():
            if tid in initial:
                continue
            rec = seen.get(tid)
            if rec is None:
                rec = seen[tid] = {"index": index, "seen": now, "placed": None, "work": None,
                                   "run0": run_ns(pid, tid)}
            if rec["placed"] is None:
                try:
                    if os.sched_getaffinity(tid) == want.get(index):
                        rec["placed"] = now
                except OSError:
                    pass
            if rec["work"] is None:
                ns = run_ns(pid, tid)
                if ns is not None and rec["run0"] is not None and ns - rec["run0"] >= WORK_NS:
                    rec["work"] = now
        time.sleep(POLL_S)
    adds = decisions(log)
    for tid, rec in sorted(seen.items(), key=lambda kv: kv[1]["seen"]):
        # The decision that added this vCPU index: the last one before the
        # thread appeared whose range covers it.
        dec = [t for (t, a, b) in adds if a <= rec["index"] < b and t <= rec["seen"] + 0.5]
        d = dec[-1] if dec else None

        def ms(a, b):
            return "%.0f" % ((a - b) * 1000) if a is not None and b is not None else "-"
        print("vcpu=%d tid=%d placed_ms=%s decision_to_thread_ms=%s decision_to_work_ms=%s"
              % (rec["index"], tid, ms(rec["placed"], rec["seen"]), ms(rec["seen"], d),
                 ms(rec["work"], d)), flush=True)


if __name__ == "__main__":
    main()
