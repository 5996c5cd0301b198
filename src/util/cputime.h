/* CPU time of the calling thread, for the daemon's per-phase tick costs
 * (what a phase cost in CPU, not how long it waited). */
#pragma once

#include <stdint.h>

/* CPU time the calling thread has used, µs (CLOCK_THREAD_CPUTIME_ID); 0
 * when the clock cannot be read. */
int64_t vs_thread_cpu_us(void);
