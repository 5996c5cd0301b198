/* SCHED_DEADLINE admission control and the deadline primitives; see
 * deadline.h. The admission arithmetic follows kernel/sched/deadline.c:
 * a bandwidth is to_ratio(period, runtime) = (runtime_ns << 20) / period_ns,
 * the limit of a root domain of M CPUs is M × to_ratio(rt_period,
 * rt_runtime), and a task fits when the total after adding it (and taking
 * away what the same task had before) does not exceed the limit. */
#include "config.h"

#include "sched/deadline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

/* The kernel's fixed point for bandwidths: 1 << BW_SHIFT is one whole CPU. */
#define BW_SHIFT 20
#define BW_UNIT (UINT64_C(1) << BW_SHIFT)
/* The kernel refuses runtimes under 1 << DL_SCALE ns. */
#define DL_MIN_RUNTIME_NS 1024
/* Our own bound, so that runtime_ns << BW_SHIFT cannot overflow; the
 * kernel's default maximum period (sched_deadline_period_max_us) is 4 s. */
#define PERIOD_MAX_US ((int64_t)G_MAXUINT32)
#define NSEC_PER_USEC 1000
/* The kernel's default sched_deadline_period_max_us (~4 s). */
#define DL_DEFAULT_PERIOD_MAX_US (UINT64_C(1) << 22)

struct VsAdmission {
	VsCpuSet *cpus;        /* the root domain */
	char *cpus_text;       /* the same, formatted for messages */
	guint n_cpus;
	bool unlimited;        /* sched_rt_runtime_us = -1 */
	char *no_bandwidth;    /* why nothing can be admitted, or NULL */
	uint64_t available;    /* limit minus the fair servers */
	uint64_t used;         /* Σ of the admitted requests */
	GHashTable *requests;  /* key → its bandwidth (uint64_t); both owned */
};

/* runtime/period in the kernel's fixed point; both in ns, period > 0. */
static uint64_t to_ratio(uint64_t period_ns, uint64_t runtime_ns)
{
	return (runtime_ns << BW_SHIFT) / period_ns;
}

static double bw_cpus(uint64_t bw)
{
	return (double)bw / (double)BW_UNIT;
}

/* Whether the kernel can take @runtime_us every @period_us at all; when
 * not, *ret_why says why (caller frees). */
static bool params_valid(int64_t runtime_us, int64_t period_us, char **ret_why)
{
	const char *why = NULL;

	if (runtime_us <= 0 || period_us <= 0)
		why = "runtime and period must be positive";
	else if (runtime_us > period_us)
		why = "runtime must not exceed the period";
	else if (period_us > PERIOD_MAX_US)
		why = "the period is too long";
	else if (runtime_us * NSEC_PER_USEC < DL_MIN_RUNTIME_NS)
		why = "the kernel needs a runtime of at least 1024 ns";
	if (!why)
		return true;
	*ret_why = g_strdup_printf("invalid reservation %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
				   " µs: %s", runtime_us, period_us, why);
	return false;
}

VsAdmission *vs_admission_new(const VsHost *host)
{
	const VsHostCaps *caps = &host->caps;
	VsAdmission *a = g_new0(VsAdmission, 1);

	a->cpus = host->topology.online ? vs_cpuset_copy(host->topology.online) : vs_cpuset_new();
	a->cpus_text = vs_cpuset_format(a->cpus);
	a->n_cpus = vs_cpuset_count(a->cpus);
	a->requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (caps->rt_runtime_us == -1 && caps->rt_period_us > 0) {
		a->unlimited = true;
	} else if (caps->rt_runtime_us <= 0 || caps->rt_period_us <= 0) {
		a->no_bandwidth = caps->rt_period_us > 0 ?
			g_strdup("the kernel allows deadline tasks no bandwidth (sched_rt_runtime_us is 0)") :
			g_strdup("the kernel's deadline bandwidth limit is unknown "
				 "(sched_rt_runtime_us and sched_rt_period_us could not be read)");
	} else {
		uint64_t limit = to_ratio((uint64_t)caps->rt_period_us * NSEC_PER_USEC,
					  (uint64_t)caps->rt_runtime_us * NSEC_PER_USEC);
		double share = CLAMP(caps->dl_server_share_per_cpu, 0.0, 1.0);
		/* The share is runtime/period of the fair server; the small
		 * addition undoes the rounding of that division, so that the
		 * floor gives the kernel's to_ratio(). */
		uint64_t server = (uint64_t)floor(share * (double)BW_UNIT + 1e-6);

		a->available = limit > server ? (limit - server) * a->n_cpus : 0;
	}
	return a;
}

void vs_admission_free(VsAdmission *a)
{
	if (!a)
		return;
	vs_cpuset_free(a->cpus);
	g_free(a->cpus_text);
	g_free(a->no_bandwidth);
	g_hash_table_destroy(a->requests);
	g_free(a);
}

/* "needs 0.20 CPU, 0.05 of 1.80 left in ...", with as many decimals as it
 * takes (up to 6) for the two first figures to differ. */
static char *format_refusal(const VsAdmission *a, uint64_t need, uint64_t left)
{
	int digits = 2;

	while (digits < 6) {
		g_autofree char *x = g_strdup_printf("%.*f", digits, bw_cpus(need));
		g_autofree char *y = g_strdup_printf("%.*f", digits, bw_cpus(left));

		if (strcmp(x, y) != 0)
			break;
		digits++;
	}
	return g_strdup_printf("needs %.*f CPU, %.*f of %.2f left in the root domain of CPUs %s",
			       digits, bw_cpus(need), digits, bw_cpus(left),
			       bw_cpus(a->available), a->cpus_text);
}

bool vs_admission_admit(VsAdmission *a, const VsDeadlineRequest *req, char **ret_why)
{
	g_autofree char *why = NULL;
	uint64_t need, old = 0, *have;

	if (!params_valid(req->runtime_us, req->period_us, &why))
		goto refuse;
	need = to_ratio((uint64_t)req->period_us * NSEC_PER_USEC,
			(uint64_t)req->runtime_us * NSEC_PER_USEC);
	have = g_hash_table_lookup(a->requests, req->key);
	if (have)
		old = *have;
	if (!a->unlimited) {
		if (a->no_bandwidth) {
			why = g_strdup(a->no_bandwidth);
			goto refuse;
		}
		if (req->n_cpus_span != 0 && req->n_cpus_span < a->n_cpus) {
			why = g_strdup_printf("its affinity spans %u of the %u CPUs of the root domain of CPUs %s, "
					      "and the kernel refuses a deadline task narrower than its root domain "
					      "(a cpuset partition is needed)",
					      req->n_cpus_span, a->n_cpus, a->cpus_text);
			goto refuse;
		}
		if (a->used - old + need > a->available) {
			uint64_t left = a->available - (a->used - old);

			why = format_refusal(a, need, left);
			goto refuse;
		}
	}
	a->used = a->used - old + need;
	if (have)
		*have = need;
	else
		g_hash_table_insert(a->requests, g_strdup(req->key), g_memdup2(&need, sizeof(need)));
	return true;

refuse:
	if (ret_why)
		*ret_why = g_steal_pointer(&why);
	return false;
}

void vs_admission_release(VsAdmission *a, const char *key)
{
	uint64_t *have = g_hash_table_lookup(a->requests, key);

	if (!have)
		return;
	a->used -= *have;
	g_hash_table_remove(a->requests, key);
}

void vs_admission_usage(const VsAdmission *a, double *ret_used, double *ret_capacity)
{
	if (ret_used)
		*ret_used = bw_cpus(a->used);
	if (ret_capacity)
		*ret_capacity = a->unlimited ? -1.0 : bw_cpus(a->available);
}

int vs_thread_verify(const VsSys *sys, const VsThread *t)
{
	g_autofree char *path = NULL;
	char text[1024];
	ssize_t n;
	int fd;

	if (t->pid <= 0 || t->tid <= 0 || !t->comm)
		return -ESRCH;
	path = g_strdup_printf("/proc/%d/task/%d/stat", (int)t->pid, (int)t->tid);
	fd = vs_sys_open(sys, path, O_RDONLY);
	if (fd == -ENOENT || fd == -ESRCH)
		return -ESRCH;
	if (fd < 0)
		return fd;
	/* One read: the line is one record of a few hundred bytes, so a read
	 * that does not fill the buffer has all of it (as act.c's held
	 * descriptors read it). */
	do
		n = pread(fd, text, sizeof(text) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n == -ESRCH || n == 0)
		return -ESRCH;
	if (n < 0)
		return (int)n;
	text[n] = '\0';
	return vs_thread_verify_stat(t, text);
}

/* The start time (field 22) of a stat line whose comm ends at @rp, read
 * in place up to that field only: the identity check runs once per thread
 * and tick, and vs_threads_parse_stat() (for the collector) reads on to
 * the CPU the thread last ran on, at several times the cost. 0 or
 * -EINVAL. */
static int stat_start_time(const char *rp, uint64_t *ret_start)
{
	const char *p = rp + 1;
	uint64_t v = 0;

	/* The state is field 3; fields 3 to 21 are skipped. */
	for (int field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -EINVAL;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	while (*p == ' ')
		p++;
	if (!g_ascii_isdigit(*p))
		return -EINVAL;
	for (; g_ascii_isdigit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (G_MAXUINT64 - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (*p && *p != ' ' && *p != '\n')
		return -EINVAL;
	*ret_start = v;
	return 0;
}

int vs_thread_verify_stat(const VsThread *t, const char *text)
{
	const char *lp, *rp;
	uint64_t start;
	int r;

	/* "TID (comm) S ...": the comm may hold spaces and parentheses. */
	lp = strchr(text, '(');
	rp = strrchr(text, ')');
	if (!lp || !rp || rp < lp)
		return -EINVAL;
	r = stat_start_time(rp, &start);
	if (r < 0)
		return r;
	if (start != t->start_time)
		return -ESRCH;
	if ((size_t)(rp - lp - 1) != strlen(t->comm) ||
	    strncmp(lp + 1, t->comm, (size_t)(rp - lp - 1)) != 0)
		return -ESRCH;
	return 0;
}

/* Sets @error for a failed identity check of @t (@r from vs_thread_verify)
 * and returns @r. */
static int identity_error(GError **error, const VsThread *t, int r)
{
	if (r == -ESRCH)
		g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND,
			    "thread %d (%s) of process %d is gone or is no longer the thread collected",
			    (int)t->tid, t->comm ? t->comm : "?", (int)t->pid);
	else
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "cannot verify thread %d of process %d: /proc/%d/task/%d/stat: %s",
			    (int)t->tid, (int)t->pid, (int)t->pid, (int)t->tid, g_strerror(-r));
	return r;
}

int vs_deadline_get(const VsSys *sys, const VsThread *t, VsSchedAttr *ret)
{
	VsSchedAttr attr = { .size = sizeof(attr) };
	int r = vs_thread_verify(sys, t);

	if (r < 0)
		return r;
	r = sys->ops->sched_getattr(t->tid, &attr);
	if (r < 0)
		return r;
	*ret = attr;
	return 0;
}

/* The CPUs of a cpu_set_t (the first CPU_SETSIZE). */
static VsCpuSet *cpuset_from_mask(const cpu_set_t *mask)
{
	VsCpuSet *set = vs_cpuset_new();

	for (guint c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, mask))
			vs_cpuset_add(set, c);
	return set;
}

/* Explains an EPERM from sched_setattr(SCHED_DEADLINE) on @t: its affinity
 * when that is narrower than the online CPUs, else the other causes. */
static int eperm_error(GError **error, const VsSys *sys, const VsThread *t, const char *what)
{
	g_autofree char *online_text = NULL;
	g_autoptr(VsCpuSet) online = NULL;
	g_autoptr(VsCpuSet) affinity = NULL;
	g_autoptr(VsCpuSet) missing = NULL;
	cpu_set_t mask;

	CPU_ZERO(&mask);
	if (sys->ops->sched_getaffinity(t->tid, &mask, sizeof(mask)) == 0 &&
	    vs_sys_read_line(sys, "/sys/devices/system/cpu/online", &online_text) == 0 &&
	    (online = vs_cpuset_parse(online_text, NULL))) {
		affinity = cpuset_from_mask(&mask);
		missing = vs_cpuset_copy(online);
		vs_cpuset_subtract(missing, affinity);
		if (!vs_cpuset_is_empty(missing)) {
			g_autofree char *a = vs_cpuset_format(affinity);
			g_autofree char *o = vs_cpuset_format(online);

			g_set_error(error, VS_ERROR, VS_ERROR_DENIED,
				    "%s: its affinity (CPUs %s) is narrower than its root domain "
				    "(the online CPUs %s, unless a cpuset partition holds it), and the "
				    "kernel admits a deadline task only when it may run on every CPU "
				    "of its root domain (EPERM)", what, a, o);
			return -EPERM;
		}
	}
	g_set_error(error, VS_ERROR, VS_ERROR_DENIED,
		    "%s: %s (EPERM): vschedd lacks CAP_SYS_NICE, sched_rt_runtime_us is 0, or "
		    "the thread's cpuset is narrower than its root domain",
		    what, g_strerror(EPERM));
	return -EPERM;
}

int vs_deadline_set(const VsSys *sys, const VsThread *t, int64_t runtime_us, int64_t period_us,
		    GError **error)
{
	g_autofree char *why = NULL;
	int r;

	if (!params_valid(runtime_us, period_us, &why)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s", why);
		return -EINVAL;
	}
	r = vs_thread_verify(sys, t);
	if (r < 0)
		return identity_error(error, t, r);
	return vs_deadline_set_verified(sys, t, runtime_us, period_us, error);
}

int vs_deadline_set_verified(const VsSys *sys, const VsThread *t, int64_t runtime_us,
			     int64_t period_us, GError **error)
{
	g_autofree char *why = NULL;
	g_autofree char *what = NULL; /* made only for an error */
	VsSchedAttr attr, got = { .size = sizeof(got) };
	int r;

	if (!params_valid(runtime_us, period_us, &why)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s", why);
		return -EINVAL;
	}
	attr = (VsSchedAttr){
		.size = sizeof(attr),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = (uint64_t)runtime_us * NSEC_PER_USEC,
		.sched_deadline = (uint64_t)period_us * NSEC_PER_USEC,
		.sched_period = (uint64_t)period_us * NSEC_PER_USEC,
	};
	r = sys->ops->sched_setattr(t->tid, &attr);
	if (r < 0 && r != -ESRCH)
		what = g_strdup_printf("SCHED_DEADLINE %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
				       " µs refused for thread %d (%s) of process %d",
				       runtime_us, period_us, (int)t->tid, t->comm, (int)t->pid);
	switch (r) {
	case 0:
		break;
	case -EPERM:
		return eperm_error(error, sys, t, what);
	case -EBUSY:
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "%s: not enough deadline bandwidth left in its root domain (EBUSY); "
			    "deadline tasks vsched did not admit may hold it", what);
		return r;
	case -EINVAL:
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "%s: the kernel does not take these parameters (EINVAL); the period must "
			    "lie within /proc/sys/kernel/sched_deadline_period_{min,max}_us", what);
		return r;
	case -ESRCH:
		return identity_error(error, t, r);
	default:
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "%s: %s", what, g_strerror(-r));
		return r;
	}
	r = sys->ops->sched_getattr(t->tid, &got);
	if (r < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "SCHED_DEADLINE set on thread %d (%s), but reading it back failed: %s",
			    (int)t->tid, t->comm, g_strerror(-r));
		return r;
	}
	if (got.sched_policy != SCHED_DEADLINE || got.sched_runtime != attr.sched_runtime ||
	    got.sched_deadline != attr.sched_deadline || got.sched_period != attr.sched_period) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "SCHED_DEADLINE set on thread %d (%s), but it reads back as policy %u "
			    "with runtime %" G_GUINT64_FORMAT " ns, deadline %" G_GUINT64_FORMAT
			    " ns, period %" G_GUINT64_FORMAT " ns",
			    (int)t->tid, t->comm, got.sched_policy, (guint64)got.sched_runtime,
			    (guint64)got.sched_deadline, (guint64)got.sched_period);
		return -EIO;
	}
	return 0;
}

uint64_t vs_deadline_period_max_ns(const VsSys *sys)
{
	uint64_t us;

	if (vs_sys_read_u64(sys, "/proc/sys/kernel/sched_deadline_period_max_us", &us) < 0 ||
	    us == 0)
		us = DL_DEFAULT_PERIOD_MAX_US;
	return us * NSEC_PER_USEC;
}

/* Shrinks the reservation of deadline thread @tid to the smallest the
 * kernel takes: 1024 ns every longest period, a bandwidth of 0 in the
 * kernel's fixed point unless sched_deadline_period_max_us was lowered
 * under 2^30 ns. A change between two sets of deadline parameters moves
 * the root domain's bandwidth at once and exactly, whereas leaving
 * SCHED_DEADLINE releases it only at the task's 0-lag time, and (seen on
 * Linux 6.18) often not at all when the task is asleep then: an idle vCPU
 * would leak its reservation until the root domain is rebuilt. So the
 * thread leaves SCHED_DEADLINE with nothing left to release. @period is
 * vs_deadline_period_max_ns(). */
static int shrink(const VsSys *sys, pid_t tid, uint64_t period)
{
	VsSchedAttr attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = DL_MIN_RUNTIME_NS,
		.sched_deadline = period,
		.sched_period = period,
	};

	return sys->ops->sched_setattr(tid, &attr);
}

int vs_deadline_clear(const VsSys *sys, const VsThread *t, int nice, GError **error)
{
	int r;

	if (nice < -20 || nice > 19) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "nice %d is outside -20..19", nice);
		return -EINVAL;
	}
	r = vs_thread_verify(sys, t);
	if (r < 0)
		return identity_error(error, t, r);
	return vs_deadline_clear_verified(sys, t, nice, vs_deadline_period_max_ns(sys), error);
}

int vs_deadline_clear_verified(const VsSys *sys, const VsThread *t, int nice,
			       uint64_t period_max_ns, GError **error)
{
	VsSchedAttr attr, got = { .size = sizeof(got) };
	int r;

	if (nice < -20 || nice > 19) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "nice %d is outside -20..19", nice);
		return -EINVAL;
	}
	/* A failed shrink is no reason not to leave SCHED_DEADLINE: the
	 * bandwidth is then released the kernel's way. */
	if (sys->ops->sched_getattr(t->tid, &got) == 0 && got.sched_policy == SCHED_DEADLINE &&
	    shrink(sys, t->tid, period_max_ns) == -ESRCH)
		return identity_error(error, t, -ESRCH);
	attr = (VsSchedAttr){
		.size = sizeof(attr),
		.sched_policy = SCHED_OTHER,
		.sched_nice = nice,
	};
	r = sys->ops->sched_setattr(t->tid, &attr);
	if (r == -ESRCH)
		return identity_error(error, t, r);
	if (r < 0) {
		g_set_error(error, VS_ERROR, r == -EPERM ? VS_ERROR_DENIED : VS_ERROR_SYSTEM,
			    "SCHED_OTHER (nice %d) refused for thread %d (%s) of process %d: %s",
			    nice, (int)t->tid, t->comm, (int)t->pid, g_strerror(-r));
		return r;
	}
	got = (VsSchedAttr){ .size = sizeof(got) };
	r = sys->ops->sched_getattr(t->tid, &got);
	if (r < 0) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "SCHED_OTHER set on thread %d (%s), but reading it back failed: %s",
			    (int)t->tid, t->comm, g_strerror(-r));
		return r;
	}
	if (got.sched_policy != SCHED_OTHER || got.sched_nice != nice) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM,
			    "SCHED_OTHER (nice %d) set on thread %d (%s), but it reads back as "
			    "policy %u, nice %d",
			    nice, (int)t->tid, t->comm, got.sched_policy, (int)got.sched_nice);
		return -EIO;
	}
	return 0;
}
