/* The host memory state machine; see pressure.h.
 *
 * Each state has entry lines (MemAvailable share, PSI some/full avg10,
 * swap use, trigger events, the budget). Leaving a state needs its exit
 * lines clear: MemAvailable MemoryHysteresis points above the entry line,
 * swap that many points below, PSI under half its entry threshold, no
 * trigger event since the last sample, the guests within the budget; and
 * MemoryMinDwell in the state. Then the host steps down one state. */
#include "config.h"

#include "mem/pressure.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

/* A PSI threshold of 100% or more is off (the average never exceeds it). */
static bool psi_over(double value, double threshold)
{
	return threshold < 100 && value >= threshold;
}

static void note(char *why, size_t size, VsMemState *level, VsMemState at, const char *text)
{
	if (at < *level)
		return;
	if (at > *level) {
		*level = at;
		why[0] = '\0';
	}
	if (why[0])
		g_strlcat(why, "; ", size);
	g_strlcat(why, text, size);
}

/* The highest state whose lines @s crosses: entry lines, or with @exit the
 * (lower) lines that must be clear to leave a state. */
static VsMemState classify(const VsMemConf *conf, const VsMemSample *s, bool exit, char *why,
			   size_t size)
{
	VsMemState level = VS_MEM_NORMAL;
	double psi_scale = exit ? 0.5 : 1.0;
	char buf[192];

	why[0] = '\0';
	if (s->mem_total > 0) {
		double pct = 100.0 * (double)s->mem_available / (double)s->mem_total;
		for (int st = VS_MEM_CRITICAL; st >= VS_MEM_SOFT; st--) {
			double line = conf->available_pct[st] + (exit ? conf->hysteresis_pct : 0);
			if (pct < line) {
				g_autofree char *a = vs_format_size(s->mem_available);
				snprintf(buf, sizeof(buf), "MemAvailable %s is %.1f%% of MemTotal, under "
					 "the %s line %g%%", a, pct, vs_mem_state_name(st), line);
				note(why, size, &level, st, buf);
				break;
			}
		}
	}
	if (s->psi_available) {
		if (psi_over(s->full_avg10, conf->critical_psi_full * psi_scale)) {
			snprintf(buf, sizeof(buf), "PSI memory full avg10 %.1f%% >= %g%%", s->full_avg10,
				 conf->critical_psi_full * psi_scale);
			note(why, size, &level, VS_MEM_CRITICAL, buf);
		}
		if (psi_over(s->some_avg10, conf->hard_psi_some * psi_scale)) {
			snprintf(buf, sizeof(buf), "PSI memory some avg10 %.1f%% >= %g%%", s->some_avg10,
				 conf->hard_psi_some * psi_scale);
			note(why, size, &level, VS_MEM_HARD, buf);
		} else if (psi_over(s->some_avg10, conf->soft_psi_some * psi_scale)) {
			snprintf(buf, sizeof(buf), "PSI memory some avg10 %.1f%% >= %g%%", s->some_avg10,
				 conf->soft_psi_some * psi_scale);
			note(why, size, &level, VS_MEM_SOFT, buf);
		}
	}
	if (s->full_events > 0) {
		snprintf(buf, sizeof(buf), "%u PSI full trigger event(s)", s->full_events);
		note(why, size, &level, VS_MEM_HARD, buf);
	}
	if (s->some_events > 0) {
		snprintf(buf, sizeof(buf), "%u PSI some trigger event(s)", s->some_events);
		note(why, size, &level, VS_MEM_SOFT, buf);
	}
	if (conf->soft_swap_pct > 0 && s->swap_total > 0) {
		uint64_t used = s->swap_total - MIN(s->swap_free, s->swap_total);
		double pct = 100.0 * (double)used / (double)s->swap_total;
		double line = conf->soft_swap_pct - (exit ? conf->hysteresis_pct : 0);
		if (pct >= line) {
			snprintf(buf, sizeof(buf), "swap %.1f%% in use >= %g%%", pct, line);
			note(why, size, &level, VS_MEM_SOFT, buf);
		}
	}
	if (s->budget > 0 && s->guests_current > s->budget) {
		g_autofree char *g = vs_format_size(s->guests_current);
		g_autofree char *b = vs_format_size(s->budget);
		snprintf(buf, sizeof(buf), "guests hold %s, over the budget %s", g, b);
		note(why, size, &level, VS_MEM_SOFT, buf);
	}
	if (level == VS_MEM_NORMAL)
		g_strlcpy(why, exit ? "every exit line is clear" : "no pressure", size);
	return level;
}

void vs_mem_pressure_sample_from_host(const VsHost *host, int64_t mono_us, VsMemSample *s)
{
	memset(s, 0, sizeof(*s));
	s->mono_us = mono_us;
	s->mem_total = host->mem.total;
	s->mem_available = host->mem.available;
	s->swap_total = host->mem.swap_total;
	s->swap_free = host->mem.swap_free;
	s->psi_available = host->psi_memory.available;
	s->some_avg10 = host->psi_memory.some.avg10;
	s->full_avg10 = host->psi_memory.has_full ? host->psi_memory.full.avg10 : 0;
}

void vs_mem_pressure_init(VsMemPressure *p)
{
	memset(p, 0, sizeof(*p));
	p->state = VS_MEM_NORMAL;
	p->wanted = VS_MEM_NORMAL;
	g_strlcpy(p->reason, "not yet sampled", sizeof(p->reason));
}

VsMemState vs_mem_pressure_classify(const VsMemConf *conf, const VsMemSample *s, char *why,
				    size_t why_size)
{
	return classify(conf, s, false, why, why_size);
}

bool vs_mem_pressure_update(VsMemPressure *p, const VsMemConf *conf, const VsMemSample *s)
{
	char why[384];
	VsMemState old = p->state;
	VsMemState held;
	bool first = p->since_us == 0;

	p->wanted = classify(conf, s, false, why, sizeof(why));
	if (first || p->wanted > p->state) {
		p->state = p->wanted;
		p->since_us = s->mono_us ? s->mono_us : 1;
		if (p->state == old) {
			snprintf(p->reason, sizeof(p->reason), "%s: %s", vs_mem_state_name(p->state), why);
			return false;
		}
		snprintf(p->reason, sizeof(p->reason), "%s -> %s: %s", vs_mem_state_name(old),
			 vs_mem_state_name(p->state), why);
		return true;
	}
	if (p->wanted == p->state) {
		snprintf(p->reason, sizeof(p->reason), "%s: %s", vs_mem_state_name(p->state), why);
		return false;
	}
	/* The sample asks for less: leave only past the exit lines, after the dwell. */
	held = classify(conf, s, true, why, sizeof(why));
	if (held >= p->state) {
		snprintf(p->reason, sizeof(p->reason), "%s: recovering, but not past the exit line: %s",
			 vs_mem_state_name(p->state), why);
		return false;
	}
	if (s->mono_us - p->since_us < conf->min_dwell_us) {
		g_autofree char *in = vs_format_duration_us(s->mono_us - p->since_us);
		g_autofree char *dwell = vs_format_duration_us(conf->min_dwell_us);
		snprintf(p->reason, sizeof(p->reason), "%s: exit lines clear, staying until %s in the "
			 "state (MemoryMinDwell=; %s so far)", vs_mem_state_name(p->state), dwell, in);
		return false;
	}
	p->state = MAX(held, p->state - 1);
	p->since_us = s->mono_us;
	snprintf(p->reason, sizeof(p->reason), "%s -> %s: %s", vs_mem_state_name(old),
		 vs_mem_state_name(p->state), why);
	return true;
}
