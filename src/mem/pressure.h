/* The host memory state machine: normal -> soft -> hard -> critical from
 * MemAvailable (as a share of MemTotal), swap use, PSI memory pressure
 * (some/full avg10 and trigger events) and the guests' memory budget, with
 * hysteresis (lower exit lines than entry lines) and a minimum dwell time
 * before stepping down. Escalation is immediate, by as many states as the
 * sample says; de-escalation goes one state at a time. Pure: the caller
 * passes the sample with its time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host/host.h"
#include "mem/mem.h"

/* What one tick saw of the host's memory. */
typedef struct VsMemSample {
	int64_t mono_us;
	uint64_t mem_total, mem_available;
	uint64_t swap_total, swap_free;
	bool psi_available;          /* PSI figures below are valid */
	double some_avg10, full_avg10; /* percent */
	guint some_events, full_events; /* trigger events since the previous sample */
	uint64_t guests_current;     /* sum of the managed guests' balloon sizes */
	uint64_t budget;             /* MemoryBudget=, 0 = none */
} VsMemSample;

/* The machine's state, kept by the caller across ticks. */
typedef struct VsMemPressure {
	VsMemState state;
	int64_t since_us;            /* when @state was entered; 0 before the first sample */
	VsMemState wanted;           /* what the last sample alone asked for */
	char reason[512];            /* why the state is what it is (and, after a change, from what) */
} VsMemPressure;

/* Fills @s from the host model (meminfo and PSI memory) at @mono_us; the
 * caller adds the trigger events, the guests' sum and the budget. */
void vs_mem_pressure_sample_from_host(const VsHost *host, int64_t mono_us, VsMemSample *s);

/* Resets @p to normal, not yet fed. */
void vs_mem_pressure_init(VsMemPressure *p);

/* Feeds one sample. Returns true when the state changed; @p->reason then
 * says from which state and why (for the caller to log). */
bool vs_mem_pressure_update(VsMemPressure *p, const VsMemConf *conf, const VsMemSample *s);

/* The state @s alone calls for, ignoring hysteresis and dwell, with the
 * reason in @why (at least 256 bytes) — exported for tests and `explain`. */
VsMemState vs_mem_pressure_classify(const VsMemConf *conf, const VsMemSample *s, char *why,
				    size_t why_size);
