/* Guest balloon statistics as untrusted input; see stats-sanitize.h.
 *
 * libvirt's balloon fields: "available" is the guest's MemTotal, "usable"
 * its MemAvailable, "unused" its MemFree, "disk_caches" its page cache.
 * The guest's use is what it could not give without swapping: its own
 * MemTotal - MemAvailable, plus what the kernel keeps outside MemTotal
 * (the balloon size less MemTotal). While the balloon moves, the guest's
 * last report may still show a MemTotal above the new balloon size; that
 * is clamped and flagged but still trusted, computed from the guest's own
 * view so that a lagging report never makes the guest look idle. Values
 * that cannot be (MemTotal above the maximum, MemAvailable or MemFree above
 * MemTotal, wrapped negatives) make the sample untrusted. */
#include "config.h"

#include "mem/stats-sanitize.h"
#include "util/units.h"

#include <stdarg.h>
#include <string.h>

/* Sets @flag and appends a sentence to @s->problem (truncated when full). */
G_GNUC_PRINTF(3, 4)
static void problem(VsMemStats *s, guint flag, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	s->flags |= flag;
	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (s->problem[0])
		g_strlcat(s->problem, " ", sizeof(s->problem));
	g_strlcat(s->problem, text, sizeof(s->problem));
}

static bool has(const VsBalloonStats *raw, VsBalloonField f)
{
	return raw && (raw->have & f);
}

/* Reads field @f of @raw into @ret when present and not a wrapped
 * negative; flags the latter. */
static bool take(VsMemStats *s, const VsBalloonStats *raw, VsBalloonField f, uint64_t value,
		 const char *name, uint64_t *ret)
{
	if (!has(raw, f))
		return false;
	if (value >= VS_MEM_STATS_WRAP) {
		problem(s, VS_MEM_STATS_IMPOSSIBLE, "%s=%" G_GUINT64_FORMAT " looks like a wrapped "
			"negative number.", name, value);
		return false;
	}
	*ret = value;
	return true;
}

static void freshness(VsMemStats *s, const VsBalloonStats *raw, const VsMemStats *prev,
		      int64_t now_mono_us, int64_t now_wall_s, int64_t period_us)
{
	int64_t limit_us = 3 * MAX(period_us, 1);
	int64_t lu = has(raw, VS_BALLOON_LAST_UPDATE) ? raw->last_update : 0;

	if (lu <= 0 || (uint64_t)lu >= VS_MEM_STATS_WRAP) {
		problem(s, VS_MEM_STATS_STALE, "No last-update time: freshness unknown.");
		return;
	}
	s->last_update = lu;
	if (prev && prev->last_update == lu && prev->last_update_seen_us > 0) {
		/* The same report as before: how long has it stood still? */
		s->last_update_seen_us = prev->last_update_seen_us;
		if (now_mono_us - s->last_update_seen_us > limit_us) {
			g_autofree char *age = vs_format_duration_us(now_mono_us - s->last_update_seen_us);
			problem(s, VS_MEM_STATS_STALE, "Statistics have not been updated for %s (more "
				"than 3 periods).", age);
		}
	} else {
		s->last_update_seen_us = now_mono_us;
		/* A new report. Its age by the guest's clock counts only the
		 * first time (no history yet): a skewed guest clock must not
		 * make an advancing report stale forever. */
		if (!prev || prev->last_update == 0) {
			int64_t age_s = now_wall_s - lu;
			if (age_s > limit_us / G_USEC_PER_SEC)
				problem(s, VS_MEM_STATS_STALE, "Statistics are %" G_GINT64_FORMAT
					"s old by the guest's clock (more than 3 periods).", age_s);
		}
	}
	if (lu - now_wall_s > limit_us / G_USEC_PER_SEC)
		problem(s, VS_MEM_STATS_CLOCK_AHEAD, "The guest's clock is %" G_GINT64_FORMAT
			"s ahead of the host's.", lu - now_wall_s);
}

static void counters(VsMemStats *s, const VsBalloonStats *raw, const VsMemStats *prev)
{
	uint64_t faults = 0, swap_in = 0;
	bool have_f = take(s, raw, VS_BALLOON_MAJOR_FAULT, raw ? raw->major_fault : 0,
			   "major_fault", &faults);
	bool have_s = take(s, raw, VS_BALLOON_SWAP_IN, raw ? raw->swap_in : 0, "swap_in", &swap_in);

	if (!have_f || !have_s)
		return;
	s->have_counters = true;
	s->major_fault = faults;
	s->swap_in = swap_in;
	if (!prev || !prev->have_counters)
		return;
	if (faults < prev->major_fault || swap_in < prev->swap_in) {
		problem(s, VS_MEM_STATS_COUNTER_RESET, "Fault or swap counters went backwards "
			"(guest rebooted?).");
		return;
	}
	s->have_deltas = true;
	s->major_faults_delta = faults - prev->major_fault;
	s->swap_in_delta = swap_in - prev->swap_in;
}

void vs_mem_stats_sanitize(const VsBalloonStats *raw, uint64_t current, uint64_t maximum,
			   const VsMemStats *prev, int64_t now_mono_us, int64_t now_wall_s,
			   int64_t period_us, VsMemStats *ret)
{
	VsMemStats s = { 0 };
	uint64_t total = 0, usable = 0, unused = 0, caches = 0;
	bool have_total, have_usable, have_unused, have_caches;
	bool impossible = false;

	if (prev) {
		s.have_last_used = prev->have_last_used;
		s.last_used = prev->last_used;
	}
	if (maximum == 0 || maximum >= VS_MEM_STATS_WRAP) {
		problem(&s, VS_MEM_STATS_IMPOSSIBLE, "The domain has no usable maximum size.");
		maximum = current < VS_MEM_STATS_WRAP ? current : 0;
		impossible = true;
	}
	if (current > maximum) {
		g_autofree char *c = vs_format_size(current);
		g_autofree char *m = vs_format_size(maximum);
		problem(&s, VS_MEM_STATS_CLAMPED, "Balloon size %s is above the maximum %s.", c, m);
		current = maximum;
	}
	s.current = current;
	s.maximum = maximum;

	freshness(&s, raw, prev, now_mono_us, now_wall_s, period_us);
	counters(&s, raw, prev);

	have_total = take(&s, raw, VS_BALLOON_AVAILABLE, raw ? raw->available : 0, "available", &total);
	have_usable = take(&s, raw, VS_BALLOON_USABLE, raw ? raw->usable : 0, "usable", &usable);
	have_unused = take(&s, raw, VS_BALLOON_UNUSED, raw ? raw->unused : 0, "unused", &unused);
	have_caches = take(&s, raw, VS_BALLOON_DISK_CACHES, raw ? raw->disk_caches : 0,
			   "disk_caches", &caches);
	if (s.flags & VS_MEM_STATS_IMPOSSIBLE)
		impossible = true;

	if (have_total && total > maximum) {
		g_autofree char *t = vs_format_size(total);
		g_autofree char *m = vs_format_size(maximum);
		problem(&s, VS_MEM_STATS_IMPOSSIBLE, "The guest reports %s of memory, more than its "
			"maximum %s.", t, m);
		impossible = true;
	}
	if (have_total && have_usable && usable > total) {
		g_autofree char *u = vs_format_size(usable);
		g_autofree char *t = vs_format_size(total);
		problem(&s, VS_MEM_STATS_IMPOSSIBLE, "The guest reports %s available of %s in all.", u, t);
		impossible = true;
	}
	if (have_total && have_unused && unused > total) {
		g_autofree char *u = vs_format_size(unused);
		g_autofree char *t = vs_format_size(total);
		problem(&s, VS_MEM_STATS_IMPOSSIBLE, "The guest reports %s free of %s in all.", u, t);
		impossible = true;
	}
	if (!have_usable && !have_unused) {
		problem(&s, VS_MEM_STATS_MISSING, "No usable or unused figure (no balloon driver, "
			"or no statistics period).");
		impossible = true;
	}
	if (impossible || (s.flags & VS_MEM_STATS_STALE)) {
		*ret = s;
		return;
	}

	if (have_total && total > current) {
		/* The balloon moved after the guest's last report: use the
		 * guest's own view, never less than it said it uses. */
		uint64_t own = total - MIN(have_usable ? usable : unused + (have_caches ? caches : 0), total);
		g_autofree char *t = vs_format_size(total);
		g_autofree char *c = vs_format_size(current);

		problem(&s, VS_MEM_STATS_CLAMPED, "The guest's total %s is above the balloon size %s "
			"(report older than the last balloon change).", t, c);
		s.used = MIN(own, current);
	} else if (have_usable) {
		if (usable > current) {
			problem(&s, VS_MEM_STATS_CLAMPED, "Available memory above the balloon size; "
				"clamped.");
			usable = current;
		}
		s.used = current - usable;
	} else {
		uint64_t free_ish = unused + (have_caches ? caches : 0);

		if (free_ish < unused || free_ish > current)
			free_ish = current;
		problem(&s, VS_MEM_STATS_ESTIMATED, "No usable figure: use estimated from free memory "
			"and caches.");
		s.used = current - free_ish;
	}
	s.usable = current - s.used;
	s.trusted = true;
	s.have_last_used = true;
	s.last_used = s.used;
	*ret = s;
}
