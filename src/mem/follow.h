/* Whether a guest follows its balloon target: convergence tracking for the
 * balloon actuator (act.c). Pure: the caller passes the balloon's current
 * size (VsDomain.mem_current, what QEMU reports as the balloon's actual
 * size) and the time; nothing here talks to libvirt, logs or reads a clock.
 *
 * After a request the guest is MOVING; it is CONVERGED once its current is
 * within VS_MEM_FOLLOW_TOLERANCE of the target; it is STUCK when it made
 * no progress toward the target for VS_MEM_FOLLOW_STUCK_US (no balloon
 * driver in the guest, or a guest that cannot give more). A stuck guest,
 * one without a balloon device and one whose last request libvirt refused
 * are not asked again before a backoff ends, unless their state changes:
 * the balloon moves by itself (a driver was loaded), the guest restarts
 * (the caller starts a new record), or, for a stuck guest, the new target
 * lies on the other side of its current size (giving back after a failed
 * reclaim). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Closer than this to the target counts as there (QEMU reports the
 * balloon in KiB; guests free pages in batches). */
#define VS_MEM_FOLLOW_TOLERANCE (2 * 1024 * 1024ull)
/* No progress for this long after a request: stuck. */
#define VS_MEM_FOLLOW_STUCK_US (10 * G_USEC_PER_SEC)
/* A stuck guest, or one libvirt refused, is asked again after this. */
#define VS_MEM_FOLLOW_RETRY_US (300 * G_USEC_PER_SEC)

typedef enum {
	VS_MEM_FOLLOW_IDLE,       /* never asked since it (re)started */
	VS_MEM_FOLLOW_MOVING,     /* asked; the balloon is on its way */
	VS_MEM_FOLLOW_CONVERGED,  /* the balloon reached the last target */
	VS_MEM_FOLLOW_STUCK,      /* no progress toward the target */
	VS_MEM_FOLLOW_NO_DEVICE,  /* no balloon device: never asked */
	VS_MEM_FOLLOW_FAILED,     /* libvirt refused the last request */
} VsMemFollowState;

typedef struct VsMemFollow {
	VsMemFollowState state;
	uint64_t target;          /* the last target asked for; 0 never */
	int64_t asked_us;         /* when */
	uint64_t start_current;   /* the balloon's size when asked */
	uint64_t best_gap;        /* smallest |current - target| seen since */
	int64_t progress_us;      /* when best_gap last shrank */
	uint64_t last_current;    /* at the last observation */
	int64_t retry_us;         /* STUCK, FAILED: not asked before this */
	char *why;                /* STUCK, NO_DEVICE, FAILED: a sentence */
} VsMemFollow;

/* Frees what @f owns and resets it to IDLE. */
void vs_mem_follow_clear(VsMemFollow *f);
/* "moving", "converged", "stuck", ...: static string. */
const char *vs_mem_follow_state_name(VsMemFollowState state);
/* True when the guest is expected to follow a new target: not stuck, not
 * without device, not refused, or their backoff ended, or (stuck) @target
 * is on the other side of @current than the target it did not reach. */
bool vs_mem_follow_may_ask(const VsMemFollow *f, uint64_t target, uint64_t current,
			   int64_t now_us);
/* Records that libvirt accepted a request for @target while the balloon
 * was at @current. */
void vs_mem_follow_asked(VsMemFollow *f, uint64_t target, uint64_t current, int64_t now_us);
/* Records that libvirt refused a request; @why (copied) says what it said. */
void vs_mem_follow_failed(VsMemFollow *f, const char *why, int64_t now_us);
/* Records that the guest has no balloon device (@why copied). */
void vs_mem_follow_no_device(VsMemFollow *f, const char *why);
/* Updates @f with the balloon's size @current at @now_us. Returns the new
 * state when it changed (to CONVERGED, STUCK, or MOVING again when a stuck
 * or refused guest's balloon moved by itself), else -1; for STUCK, f->why
 * says what was seen. */
int vs_mem_follow_observe(VsMemFollow *f, uint64_t current, int64_t now_us);
