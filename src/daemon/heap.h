/* How vschedd uses glibc's malloc. Measured on the scale benchmark (1000
 * guests of 8 vCPUs, doc/benchmarks.md "Scale", the tick memory round):
 *
 * - One arena (M_ARENA_MAX 1): the main thread makes nearly every
 *   allocation; the other threads (libvirt's event loop, the guest agent's
 *   worker) allocate at the pace of events and agent commands, so one
 *   lock costs nothing to speak of. Each thread that allocated got an
 *   arena of its own, and the agent worker's (its libvirt connection: with
 *   the benchmark's in-process test driver, a copy of every guest) held
 *   10 MiB with 3.5 MiB of it free. With one arena the peak RSS was
 *   3.3 MiB lower.
 * - malloc_trim(0) after a tick that made a CPU plan: a plan for 10 000
 *   threads is some 5 MiB in small pieces (heaptrack), and the last plan
 *   and its actions are freed then; the free pages left among live ones
 *   stay resident (glibc returns only the top of the heap by itself), and
 *   a trim after 30 ticks gave back 5.3 MiB. It walks the whole heap (3
 *   to 30 ms here), which is too dear for every tick at a 1 s interval,
 *   but not beside a plan (150 ms).
 * - The trim and mmap thresholds are left to glibc: fixed at 128 KiB they
 *   changed nothing measurable. */
#pragma once

/* Sets the allocator up; call first thing in main(), before any thread. */
void vs_heap_setup(void);
/* Gives the free pages of the heap back to the kernel (after a large
 * transient). */
void vs_heap_trim(void);
