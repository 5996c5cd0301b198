/* The steal report: what the collector (steal/collector.h) knows after a
 * tick, per guest and per vCPU, for each window (10 s, 1 min, 5 min): wall
 * time, steal split by cause, CPU received, entitlement and deficit, the
 * cross-check against libvirt's vcpu.N.delay, and what the guest itself
 * can report. Plain data, rendered by the control server (org.vsched.Steal)
 * and read by planners. Times in ns. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "steal/account.h"
#include "steal/guest.h"

/* How far libvirt's delay may differ from ours over a window before the
 * cross-check says so: 1 % of the vCPU wall time, and at least 10 ms (the
 * two are read at different instants of the tick). */
#define VS_STEAL_CHECK_TOLERANCE 0.01
#define VS_STEAL_CHECK_MIN_NS (10 * 1000 * 1000)

typedef enum {
	VS_STEAL_CHECK_UNAVAILABLE,   /* no libvirt delay in the window */
	VS_STEAL_CHECK_AGREE,
	VS_STEAL_CHECK_DISAGREE,
} VsStealCheck;

/* "unavailable", "agree", "disagree"; a static string. */
const char *vs_steal_check_name(VsStealCheck check);
/* The cross-check of the window sum @w: libvirt's delay against ours over
 * the intervals where both are known. Pure. */
VsStealCheck vs_steal_check_libvirt(const VsStealPoint *w);

typedef struct VsStealVcpuReport {
	guint index;
	pid_t tid;                    /* 0: no thread this tick */
	VsStealPoint windows[VS_STEAL_N_WINDOWS];
	VsStealPoint total;           /* since this daemon first sampled the vCPU */
	const char *last_result;      /* vs_steal_result_name() of the last sample */
	uint64_t resets;              /* baselines taken after the first */
	uint64_t clamps;              /* clamped intervals */
	/* The strings are borrowed from whoever built the report (the
	 * collector's per-vCPU state), valid as long as the report. */
	const char *problem;          /* why this tick has no sample, or NULL */
	const char *cgroup;           /* the vCPU thread's cpu cgroup directory, or NULL */
	const char *guest_cgroup;     /* the guest's cgroup above it, or NULL (same) */
	const char *throttle_problem; /* why no throttled time is known, or NULL */
	uint64_t reserved_runtime_ns; /* SCHED_DEADLINE reservation; 0, 0: none */
	uint64_t reserved_period_ns;
	double entitlement;           /* CPUs; negative when unknown */
	/* The last reading of both collection paths, back to back. */
	bool has_paths;
	int64_t paths_mono_us;
	uint64_t taskstats_run_ns, taskstats_delay_ns;
	uint64_t schedstat_run_ns, schedstat_delay_ns;
} VsStealVcpuReport;

typedef struct VsStealGuestReport {
	char uuid[37];
	char *name;
	/* Sums over the guest's vCPUs: span_ns is the window's wall time,
	 * wall_ns the vCPUs' (span times vCPUs). */
	VsStealPoint windows[VS_STEAL_N_WINDOWS];
	GArray *vcpus;                /* VsStealVcpuReport, by index */
	char *guest_view;             /* what the guest itself reports, in a sentence */
	/* The guest agent's figures (steal/guest.h): the verdict over 1 min at
	 * the guest's GuestTolerance=, the last reply's per-CPU counters
	 * (VsStealGuestCpu; NULL before the first) and the windows. */
	const char *guest_verdict;    /* vs_steal_guest_verdict_name() */
	double guest_tolerance_pct;
	guint agent_replies;          /* replies accepted */
	guint agent_rejected;         /* replies rejected as invalid */
	char *agent_problem;          /* the last failure or rejection, or NULL */
	GArray *guest_cpus;
	VsStealGuestPoint guest_windows[VS_STEAL_N_WINDOWS];
	bool alert;                   /* its [Steal] Alert= condition holds */
	char *alert_condition;        /* the condition as written, when set */
} VsStealGuestReport;

typedef struct VsStealReport {
	uint64_t tick;
	int64_t mono_us;
	const char *source;           /* "taskstats" or "schedstat" */
	char *source_why;             /* why not taskstats, or NULL */
	const char *check_source;     /* the other path, read now and then to compare; NULL: none */
	bool has_host_cpu;
	double host_busy_pct;         /* of all CPUs, over the last tick */
	GPtrArray *guests;            /* VsStealGuestReport, by name */
} VsStealReport;

/* An empty report. */
VsStealReport *vs_steal_report_new(void);
void vs_steal_report_free(VsStealReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStealReport, vs_steal_report_free)
/* A new guest entry (not added to any report). */
VsStealGuestReport *vs_steal_guest_report_new(const char *uuid, const char *name);
void vs_steal_guest_report_free(VsStealGuestReport *g);
/* The guest of @r with this UUID or name, or NULL. */
const VsStealGuestReport *vs_steal_report_find(const VsStealReport *r, const char *ref);
