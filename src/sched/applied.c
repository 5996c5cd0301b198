/* The Applied record of the CPU actuator: entries per thread and kind, their
 * JSON form (AppliedFile), and pruning of entries whose thread is gone. See
 * applied.h. The JSON is read as hostile input: a record that another
 * program (or a disk error) garbled must not make the daemon act on a
 * thread it never touched, so every member is type- and range-checked and
 * an entry that fails is skipped, never guessed. */
#include "config.h"

#include "sched/applied.h"
#include "sched/deadline.h"
#include "util/error.h"
#include "util/strbuf.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <limits.h>
#include <string.h>

#define APPLIED_VERSION 1
/* The most entries a document may hold (each is one thread setting). */
#define APPLIED_MAX_ENTRIES 1000000
/* Longest comm the kernel reports is 15 bytes; names and labels get room. */
#define MAX_TEXT 256

static const char *const kind_names[] = {
	[VS_APPLIED_AFFINITY] = "affinity",
	[VS_APPLIED_DEADLINE] = "deadline",
	[VS_APPLIED_CGROUP] = "cgroup",
	[VS_APPLIED_NICE] = "nice",
};

/* The cgroup files vsched writes; a record naming another is refused. */
static const char *const cgroup_files[] = {
	"cpu.weight", "cpu.max", "cpu.max.burst", "cpuset.cpus", "cpuset.mems",
};

/* Longest cgroup value kept (a CPU list of a large host fits). */
#define MAX_VALUE 4096

/* The index holds each entry as its own key: a thread's entry is found by
 * (kind, TID, start time), a cgroup entry by (directory, file). Lookups
 * probe with an entry on the stack holding only those members, so that
 * neither a lookup nor an insert formats or allocates a key (the
 * actuator looks entries up per vCPU per tick; string keys cost more than
 * a syscall there). A cgroup entry keeps its path's hash, and a probe
 * carries the one its caller computed once for all its lookups. */
static guint entry_hash(gconstpointer p)
{
	const VsAppliedEntry *e = p;
	guint64 h;

	if (e->kind == VS_APPLIED_CGROUP)
		return e->cg_hash;
	h = ((guint64)(guint32)e->thread.tid << 3 | (guint64)e->kind) ^
	    e->thread.start_time * UINT64_C(0x9e3779b97f4a7c15);
	return (guint)(h ^ (h >> 32));
}

static gboolean entry_equal(gconstpointer pa, gconstpointer pb)
{
	const VsAppliedEntry *a = pa, *b = pb;

	if (a->kind != b->kind)
		return FALSE;
	if (a->kind == VS_APPLIED_CGROUP)
		return strcmp(a->dir, b->dir) == 0 && strcmp(a->file, b->file) == 0;
	return a->thread.tid == b->thread.tid && a->thread.start_time == b->thread.start_time;
}

static void entry_free(gpointer data)
{
	VsAppliedEntry *e = data;

	g_free(e->domain);
	g_free(e->what);
	vs_thread_clear(&e->thread);
	vs_cpuset_free(e->orig_cpus);
	vs_cpuset_free(e->cur_cpus);
	g_free(e->dir);
	g_free(e->file);
	g_free(e->orig_value);
	g_free(e->cur_value);
	g_free(e->json_head);
	g_free(e->json_tail);
	g_free(e);
}

/* Notes a change of the record, of @e's current value when not NULL: its
 * cached JSON goes (vs_applied_to_json() makes it again) and the change
 * count moves on. */
static void changed(VsApplied *a, VsAppliedEntry *e)
{
	if (e) {
		g_free(e->json_tail);
		e->json_tail = NULL;
	}
	a->changes++;
}

VsApplied *vs_applied_new(void)
{
	VsApplied *a = g_new0(VsApplied, 1);

	a->entries = g_ptr_array_new_with_free_func(entry_free);
	a->index = g_hash_table_new(entry_hash, entry_equal);
	return a;
}

void vs_applied_free(VsApplied *a)
{
	if (!a)
		return;
	g_hash_table_unref(a->index);
	g_ptr_array_unref(a->entries);
	g_free(a);
}

VsAppliedEntry *vs_applied_find(const VsApplied *a, VsAppliedKind kind, const VsThread *t)
{
	VsAppliedEntry probe = { .kind = kind };

	probe.thread.tid = t->tid;
	probe.thread.start_time = t->start_time;
	return g_hash_table_lookup(a->index, &probe);
}

guint vs_applied_cgroup_hash(const char *dir, const char *file)
{
	return g_str_hash(dir) * 31u + g_str_hash(file);
}

VsAppliedEntry *vs_applied_find_cgroup_hashed(const VsApplied *a, const char *dir,
					      const char *file, guint hash)
{
	VsAppliedEntry probe = { .kind = VS_APPLIED_CGROUP, .dir = (char *)dir, .file = (char *)file,
				 .cg_hash = hash };

	return g_hash_table_lookup(a->index, &probe);
}

VsAppliedEntry *vs_applied_find_cgroup(const VsApplied *a, const char *dir, const char *file)
{
	return vs_applied_find_cgroup_hashed(a, dir, file, vs_applied_cgroup_hash(dir, file));
}

bool vs_applied_cgroup_file_ok(const char *file)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cgroup_files); i++)
		if (strcmp(file, cgroup_files[i]) == 0)
			return true;
	return false;
}

/* A new entry of @kind for @t, not yet indexed. */
static VsAppliedEntry *entry_new(VsAppliedKind kind, const char *uuid, const char *domain,
				 const char *what, const VsThread *t)
{
	VsAppliedEntry *e = g_new0(VsAppliedEntry, 1);

	e->kind = kind;
	g_strlcpy(e->uuid, uuid ? uuid : "", sizeof(e->uuid));
	e->domain = g_strdup(domain ? domain : "");
	e->what = g_strdup(what ? what : "");
	e->thread.pid = t->pid;
	e->thread.tid = t->tid;
	e->thread.start_time = t->start_time;
	e->thread.comm = g_strdup(t->comm ? t->comm : "");
	e->thread.cpu = -1;
	return e;
}

/* A new entry of @kind for @t, added to @a (which has none for it). */
static VsAppliedEntry *entry_add(VsApplied *a, VsAppliedKind kind, const char *uuid,
				 const char *domain, const char *what, const VsThread *t)
{
	VsAppliedEntry *e = entry_new(kind, uuid, domain, what, t);

	g_ptr_array_add(a->entries, e);
	g_hash_table_add(a->index, e);
	changed(a, NULL);
	return e;
}

VsAppliedEntry *vs_applied_set_affinity(VsApplied *a, const char *uuid, const char *domain,
					const char *what, const VsThread *t, const VsCpuSet *orig,
					const VsCpuSet *cpus)
{
	VsAppliedEntry *e = vs_applied_find(a, VS_APPLIED_AFFINITY, t);

	if (!e) {
		e = entry_add(a, VS_APPLIED_AFFINITY, uuid, domain, what, t);
		e->orig_cpus = vs_cpuset_copy(orig);
	} else if (e->cur_cpus && vs_cpuset_equal(e->cur_cpus, cpus)) {
		return e;
	}
	vs_cpuset_free(e->cur_cpus);
	e->cur_cpus = vs_cpuset_copy(cpus);
	changed(a, e);
	return e;
}

VsAppliedEntry *vs_applied_set_deadline(VsApplied *a, const char *uuid, const char *domain,
					const char *what, const VsThread *t,
					const VsSchedAttr *orig, int64_t runtime_us,
					int64_t period_us)
{
	VsAppliedEntry *e = vs_applied_find(a, VS_APPLIED_DEADLINE, t);

	if (!e) {
		e = entry_add(a, VS_APPLIED_DEADLINE, uuid, domain, what, t);
		e->orig_policy = orig->sched_policy;
		e->orig_nice = orig->sched_nice;
		e->orig_priority = orig->sched_priority;
	} else if (e->runtime_us == runtime_us && e->period_us == period_us) {
		return e;
	}
	e->runtime_us = runtime_us;
	e->period_us = period_us;
	changed(a, e);
	return e;
}

VsAppliedEntry *vs_applied_set_cgroup(VsApplied *a, const char *uuid, const char *domain,
				      const char *what, const VsThread *owner, const char *dir,
				      const char *file, const char *orig, const char *value)
{
	return vs_applied_set_cgroup_hashed(a, uuid, domain, what, owner, dir, file,
					    vs_applied_cgroup_hash(dir, file), orig, value);
}

VsAppliedEntry *vs_applied_set_cgroup_hashed(VsApplied *a, const char *uuid, const char *domain,
					     const char *what, const VsThread *owner,
					     const char *dir, const char *file, guint hash,
					     const char *orig, const char *value)
{
	VsAppliedEntry *e = vs_applied_find_cgroup_hashed(a, dir, file, hash);

	if (!e) {
		e = entry_new(VS_APPLIED_CGROUP, uuid, domain, what, owner);
		e->dir = g_strdup(dir);
		e->file = g_strdup(file);
		e->cg_hash = hash;
		e->orig_value = g_strdup(orig);
		g_ptr_array_add(a->entries, e);
		g_hash_table_add(a->index, e);
		changed(a, NULL);
	} else if (e->cur_value && strcmp(e->cur_value, value) == 0) {
		return e;
	}
	g_free(e->cur_value);
	e->cur_value = g_strdup(value);
	changed(a, e);
	return e;
}

VsAppliedEntry *vs_applied_set_nice(VsApplied *a, const char *uuid, const char *domain,
				    const char *what, const VsThread *t, int orig_nice, int nice)
{
	VsAppliedEntry *e = vs_applied_find(a, VS_APPLIED_NICE, t);

	if (!e) {
		e = entry_add(a, VS_APPLIED_NICE, uuid, domain, what, t);
		e->orig_nice = orig_nice;
	} else if (e->cur_nice == nice) {
		return e;
	}
	e->cur_nice = nice;
	changed(a, e);
	return e;
}

void vs_applied_remove(VsApplied *a, const VsAppliedEntry *e)
{
	g_hash_table_remove(a->index, e);
	/* From the end: what goes is mostly what came last (a reservation
	 * recorded ahead, ended), and g_ptr_array_remove() searches from the
	 * start. */
	for (guint i = a->entries->len; i > 0; i--) {
		if (g_ptr_array_index(a->entries, i - 1) == e) {
			g_ptr_array_remove_index(a->entries, i - 1);
			break;
		}
	}
	changed(a, NULL);
}

/* Removes the entries for which @keep says false; returns how many. */
static guint remove_if(VsApplied *a, bool (*keep)(const VsAppliedEntry *e, gpointer data),
		       gpointer data)
{
	guint removed = 0;

	for (guint i = a->entries->len; i > 0; i--) {
		const VsAppliedEntry *e = g_ptr_array_index(a->entries, i - 1);

		if (keep(e, data))
			continue;
		vs_applied_remove(a, e);
		removed++;
	}
	return removed;
}

static bool same_thread(const VsThread *a, const VsAppliedEntry *e)
{
	return a->tid == e->thread.tid && a->start_time == e->thread.start_time &&
	       a->pid == e->thread.pid;
}

static bool in_threads(const GArray *threads, const VsAppliedEntry *e)
{
	for (guint i = 0; threads && i < threads->len; i++)
		if (same_thread(&g_array_index(threads, VsThread, i), e))
			return true;
	return false;
}

static bool in_snapshot(const VsAppliedEntry *e, gpointer data)
{
	const VsSnapshot *snap = data;

	for (guint i = 0; i < snap->domains->len; i++) {
		const VsDomain *dom = g_ptr_array_index(snap->domains, i);

		if (strcmp(dom->uuid, e->uuid) != 0)
			continue;
		for (guint j = 0; dom->vcpus && j < dom->vcpus->len; j++)
			if (same_thread(&g_array_index(dom->vcpus, VsVcpu, j).thread, e))
				return true;
		return in_threads(dom->emulator_threads, e) || in_threads(dom->io_threads, e);
	}
	return false;
}

guint vs_applied_retain_snapshot(VsApplied *a, const VsSnapshot *snap)
{
	return remove_if(a, in_snapshot, (gpointer)snap);
}

guint vs_applied_drop_stale(VsApplied *a, const VsSys *sys, GPtrArray *dropped)
{
	guint removed = 0;

	for (guint i = a->entries->len; i > 0; i--) {
		const VsAppliedEntry *e = g_ptr_array_index(a->entries, i - 1);
		int r = vs_thread_verify(sys, &e->thread);

		/* A /proc that cannot be read now proves nothing: keep the entry
		 * (every later action verifies the thread again). */
		if (r != -ESRCH && r != -ENOENT)
			continue;
		g_ptr_array_add(dropped,
				g_strdup_printf("%s of %s (TID %d, \"%s\"): the thread is gone or is "
						"another thread now; its %s is not restored",
						e->what, e->domain, (int)e->thread.tid, e->thread.comm,
						kind_names[e->kind]));
		vs_applied_remove(a, e);
		removed++;
	}
	return removed;
}

/* Appends @s to @out as a JSON string. Invalid UTF-8 (a comm or a domain
 * name may hold any bytes) is made valid first, so that the file parses. */
static void json_string(GString *out, const char *s)
{
	g_autofree char *valid = g_utf8_validate(s, -1, NULL) ? NULL : g_utf8_make_valid(s, -1);
	const char *p = valid ? valid : s;

	g_string_append_c(out, '"');
	while (*p) {
		/* The bytes that need no escape go in one append. */
		size_t n = 0;
		unsigned char c;

		while ((c = (unsigned char)p[n]) >= 0x20 && c != '"' && c != '\\')
			n++;
		vs_strbuf_put(out, p, n);
		p += n;
		if (!c)
			break;
		if (c == '"' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)c);
		} else {
			g_string_append_printf(out, "\\u%04x", c);
		}
		p++;
	}
	g_string_append_c(out, '"');
}

/* Appends a string member ("  "name" : "value"") to an entry. */
static void json_str_member(GString *out, const char *name, const char *value)
{
	vs_strbuf_puts(out, ",\n      \"");
	vs_strbuf_puts(out, name);
	vs_strbuf_puts(out, "\" : ");
	json_string(out, value ? value : "");
}

/* Appends an integer member. */
static void json_int_member(GString *out, const char *name, gint64 value)
{
	vs_strbuf_puts(out, ",\n      \"");
	vs_strbuf_puts(out, name);
	vs_strbuf_puts(out, "\" : ");
	vs_strbuf_append_int(out, value);
}

/* Makes the JSON of @e's members that never change (its identity and
 * original, which come first) and keeps it in @e. */
static void entry_head_to_json(VsAppliedEntry *e)
{
	GString *out = g_string_sized_new(512);

	vs_strbuf_puts(out, "\n    {\n      \"kind\" : ");
	json_string(out, kind_names[e->kind]);
	json_str_member(out, "uuid", e->uuid);
	json_str_member(out, "domain", e->domain);
	json_str_member(out, "what", e->what);
	json_int_member(out, "pid", e->thread.pid);
	json_int_member(out, "tid", e->thread.tid);
	json_int_member(out, "start_time", (gint64)e->thread.start_time);
	json_str_member(out, "comm", e->thread.comm);
	if (e->kind == VS_APPLIED_AFFINITY) {
		g_autofree char *orig = vs_cpuset_format(e->orig_cpus);

		json_str_member(out, "original", orig);
	} else if (e->kind == VS_APPLIED_CGROUP) {
		json_str_member(out, "dir", e->dir);
		json_str_member(out, "file", e->file);
		json_str_member(out, "original", e->orig_value);
	} else if (e->kind == VS_APPLIED_NICE) {
		json_int_member(out, "original_nice", e->orig_nice);
	} else {
		json_int_member(out, "original_policy", e->orig_policy);
		json_int_member(out, "original_nice", e->orig_nice);
		json_int_member(out, "original_priority", e->orig_priority);
	}
	e->json_head_len = out->len;
	e->json_head = g_string_free(out, FALSE);
}

/* Makes the JSON of @e's current value (its last members and the end of
 * the object) and keeps it in @e until the value changes. */
static void entry_tail_to_json(VsAppliedEntry *e)
{
	GString *out = g_string_sized_new(64);

	if (e->kind == VS_APPLIED_AFFINITY) {
		g_autofree char *cur = vs_cpuset_format(e->cur_cpus);

		json_str_member(out, "current", cur);
	} else if (e->kind == VS_APPLIED_CGROUP) {
		json_str_member(out, "current", e->cur_value);
	} else if (e->kind == VS_APPLIED_NICE) {
		json_int_member(out, "current_nice", e->cur_nice);
	} else {
		json_int_member(out, "runtime_us", e->runtime_us);
		json_int_member(out, "period_us", e->period_us);
	}
	vs_strbuf_puts(out, "\n    }");
	e->json_tail_len = out->len;
	e->json_tail = g_string_free(out, FALSE);
}

/* Written directly rather than through a JsonBuilder and JsonGenerator:
 * vschedd saves the record on every tick that changes something, and the
 * builder's node tree cost more than the syscalls of the settings it
 * records (seen with callgrind on bench-actuation). Each entry's JSON is
 * kept from one save to the next, in two parts: its identity and original,
 * made once, and its current value, made again when it changes; so a save
 * formats only the values that changed since the last and copies the rest
 * (every entry was formatted in full on every save before).
 * The layout is the one JsonGenerator's pretty mode gives;
 * vs_applied_load() reads it with the JSON parser. */
char *vs_applied_to_json(VsApplied *a)
{
	size_t len = 64;
	GString *out;

	for (guint i = 0; i < a->entries->len; i++) {
		VsAppliedEntry *e = g_ptr_array_index(a->entries, i);

		if (!e->json_head)
			entry_head_to_json(e);
		if (!e->json_tail)
			entry_tail_to_json(e);
		len += e->json_head_len + e->json_tail_len + 1;
	}
	out = g_string_sized_new(len);
	g_string_append_printf(out, "{\n  \"version\" : %d,\n  \"entries\" : [", APPLIED_VERSION);
	for (guint i = 0; i < a->entries->len; i++) {
		const VsAppliedEntry *e = g_ptr_array_index(a->entries, i);

		if (i)
			vs_strbuf_put(out, ",", 1);
		vs_strbuf_put(out, e->json_head, e->json_head_len);
		vs_strbuf_put(out, e->json_tail, e->json_tail_len);
	}
	g_string_append(out, a->entries->len ? "\n  ]\n}" : "]\n}");
	return g_string_free(out, FALSE);
}

/* An integer member in [min, max]; false when absent, of another type or
 * out of range. */
static bool get_int(JsonObject *o, const char *name, gint64 min, gint64 max, gint64 *ret)
{
	JsonNode *n = json_object_get_member(o, name);
	gint64 v;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return false;
	v = json_node_get_int(n);
	if (v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* A string member of valid UTF-8 up to @max bytes; NULL otherwise. */
static const char *get_str_max(JsonObject *o, const char *name, size_t max)
{
	JsonNode *n = json_object_get_member(o, name);
	const char *s;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	s = json_node_get_string(n);
	if (!s || strlen(s) > max || !g_utf8_validate(s, -1, NULL))
		return NULL;
	return s;
}

/* A string member of valid UTF-8 up to MAX_TEXT bytes; NULL otherwise. */
static const char *get_str(JsonObject *o, const char *name)
{
	return get_str_max(o, name, MAX_TEXT);
}

/* A cgroup value: printable, one line (what a cgroup file holds). */
static const char *get_value(JsonObject *o, const char *name)
{
	const char *s = get_str_max(o, name, MAX_VALUE);

	for (const char *p = s; p && *p; p++)
		if (!g_ascii_isprint(*p))
			return NULL;
	return s;
}

/* Whether @dir is an absolute, normal directory path: no "." or ".."
 * components, no empty ones (a garbled record must not point vsched at
 * another file than a cgroup's). */
static bool dir_ok(const char *dir)
{
	g_auto(GStrv) parts = NULL;

	if (!dir || dir[0] != '/' || strlen(dir) > MAX_VALUE)
		return false;
	parts = g_strsplit(dir + 1, "/", -1);
	for (guint i = 0; parts[i]; i++)
		if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0 ||
		    strcmp(parts[i], "..") == 0)
			return false;
	return true;
}

/* A non-empty CPU list member; NULL otherwise. */
static VsCpuSet *get_cpus(JsonObject *o, const char *name)
{
	const char *text = get_str(o, name);
	g_autoptr(VsCpuSet) set = text ? vs_cpuset_parse(text, NULL) : NULL;

	if (!set || vs_cpuset_is_empty(set))
		return NULL;
	return g_steal_pointer(&set);
}

/* Adds the entry @o describes to @a; false with @ret_why when it does not
 * validate. */
static bool parse_entry(VsApplied *a, JsonObject *o, char **ret_why)
{
	const char *kind_text = get_str(o, "kind");
	const char *uuid = get_str(o, "uuid");
	const char *comm = get_str(o, "comm");
	const char *domain = get_str(o, "domain");
	const char *what = get_str(o, "what");
	gint64 pid, tid, start_time;
	VsThread t = { 0 };
	int kind = -1;

	for (int i = 0; kind_text && i < (int)G_N_ELEMENTS(kind_names); i++)
		if (strcmp(kind_text, kind_names[i]) == 0)
			kind = i;
	if (kind < 0) {
		*ret_why = g_strdup("no kind (affinity, deadline, cgroup or nice)");
		return false;
	}
	if (!uuid || !g_uuid_string_is_valid(uuid)) {
		*ret_why = g_strdup("no domain UUID");
		return false;
	}
	if (!get_int(o, "pid", 1, INT_MAX, &pid) || !get_int(o, "tid", 1, INT_MAX, &tid) ||
	    !get_int(o, "start_time", 0, G_MAXINT64, &start_time) || !comm) {
		*ret_why = g_strdup("no thread identity (pid, tid, start_time, comm)");
		return false;
	}
	t.pid = (pid_t)pid;
	t.tid = (pid_t)tid;
	t.start_time = (uint64_t)start_time;
	t.comm = (char *)comm;
	if (kind == VS_APPLIED_CGROUP) {
		const char *dir = get_str_max(o, "dir", MAX_VALUE);
		const char *file = get_str(o, "file");
		const char *orig = get_value(o, "original");
		const char *cur = get_value(o, "current");

		if (!dir_ok(dir) || !file || !vs_applied_cgroup_file_ok(file)) {
			*ret_why = g_strdup("no cgroup directory or file vsched manages");
			return false;
		}
		if (!orig || !cur) {
			*ret_why = g_strdup("no original or current cgroup value");
			return false;
		}
		if (vs_applied_find_cgroup(a, dir, file)) {
			*ret_why = g_strdup_printf("a second cgroup entry for %s/%s", dir, file);
			return false;
		}
		vs_applied_set_cgroup(a, uuid, domain, what, &t, dir, file, orig, cur);
		return true;
	}
	if (vs_applied_find(a, (VsAppliedKind)kind, &t)) {
		*ret_why = g_strdup_printf("a second %s entry for TID %d", kind_text, (int)tid);
		return false;
	}
	if (kind == VS_APPLIED_AFFINITY) {
		g_autoptr(VsCpuSet) orig = get_cpus(o, "original");
		g_autoptr(VsCpuSet) cur = get_cpus(o, "current");

		if (!orig || !cur) {
			*ret_why = g_strdup("no original or current CPU list");
			return false;
		}
		vs_applied_set_affinity(a, uuid, domain, what, &t, orig, cur);
	} else if (kind == VS_APPLIED_NICE) {
		gint64 orig, cur;

		if (!get_int(o, "original_nice", -20, 19, &orig) ||
		    !get_int(o, "current_nice", -20, 19, &cur)) {
			*ret_why = g_strdup("no original or current nice in -20..19");
			return false;
		}
		vs_applied_set_nice(a, uuid, domain, what, &t, (int)orig, (int)cur);
	} else {
		gint64 policy, nice, prio, runtime, period;
		VsSchedAttr orig = { 0 };

		if (!get_int(o, "original_policy", 0, 7, &policy) || policy == SCHED_DEADLINE ||
		    !get_int(o, "original_nice", -20, 19, &nice) ||
		    !get_int(o, "original_priority", 0, 99, &prio)) {
			*ret_why = g_strdup("no usable original policy, nice or priority");
			return false;
		}
		if (!get_int(o, "period_us", 1, 10 * G_USEC_PER_SEC, &period) ||
		    !get_int(o, "runtime_us", 1, period, &runtime)) {
			*ret_why = g_strdup("no valid reservation (runtime_us up to period_us)");
			return false;
		}
		orig.sched_policy = (uint32_t)policy;
		orig.sched_nice = (int32_t)nice;
		orig.sched_priority = (uint32_t)prio;
		vs_applied_set_deadline(a, uuid, domain, what, &t, &orig, runtime, period);
	}
	return true;
}

VsApplied *vs_applied_from_json(const char *json, GPtrArray *warnings, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(VsApplied) a = vs_applied_new();
	g_autoptr(GError) parse_error = NULL;
	JsonNode *root;
	JsonObject *obj;
	JsonArray *entries;
	JsonNode *entries_node;
	gint64 version;
	size_t len = strlen(json);

	if (len > VS_APPLIED_MAX_BYTES) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%zu bytes, more than the %u allowed",
			    len, VS_APPLIED_MAX_BYTES);
		return NULL;
	}
	if (strspn(json, " \t\r\n") == len)
		return g_steal_pointer(&a);
	if (!json_parser_load_from_data(parser, json, (gssize)len, &parse_error)) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "not JSON: %s", parse_error->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID, "not a JSON object");
		return NULL;
	}
	obj = json_node_get_object(root);
	if (!get_int(obj, "version", G_MININT64, G_MAXINT64, &version) ||
	    version != APPLIED_VERSION) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID,
			    "not version %d of the applied-settings record", APPLIED_VERSION);
		return NULL;
	}
	entries_node = json_object_get_member(obj, "entries");
	if (!entries_node || !JSON_NODE_HOLDS_ARRAY(entries_node)) {
		g_set_error_literal(error, VS_ERROR, VS_ERROR_INVALID, "no \"entries\" array");
		return NULL;
	}
	entries = json_node_get_array(entries_node);
	if (json_array_get_length(entries) > APPLIED_MAX_ENTRIES) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "more than %d entries",
			    APPLIED_MAX_ENTRIES);
		return NULL;
	}
	for (guint i = 0; i < json_array_get_length(entries); i++) {
		JsonNode *n = json_array_get_element(entries, i);
		g_autofree char *why = NULL;

		if (!JSON_NODE_HOLDS_OBJECT(n))
			why = g_strdup("not an object");
		else
			parse_entry(a, json_node_get_object(n), &why);
		if (why && warnings)
			g_ptr_array_add(warnings, g_strdup_printf("entry %u skipped: %s", i + 1, why));
	}
	return g_steal_pointer(&a);
}

int vs_applied_save(VsApplied *a, const char *path, GError **error)
{
	g_autofree char *json = vs_applied_to_json(a);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = NULL;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		int r = -errno;
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot create %s: %s", dir,
			    g_strerror(-r));
		return r;
	}
	/* Written to a temporary file that is renamed over the old one, so a
	 * daemon killed mid-save leaves the old record or the new one. Not
	 * fsync()ed (which GLib's CONSISTENT mode does when replacing a file,
	 * costing milliseconds per save on a disk-backed /run): the record
	 * describes running threads, none of which survives the power loss
	 * that fsync() guards against, and a record lost that way loads as
	 * garbage set aside or as empty. */
	tmp = g_strconcat(path, ".tmp", NULL);
	if (!g_file_set_contents_full(tmp, json, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
		return -EIO;
	if (g_rename(tmp, path) < 0) {
		int r = -errno;

		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "cannot rename %s to %s: %s", tmp,
			    path, g_strerror(-r));
		g_unlink(tmp);
		return r;
	}
	return 0;
}

VsApplied *vs_applied_load(const char *path, GPtrArray *warnings, GError **error)
{
	g_autofree char *json = NULL;
	g_autoptr(GError) read_error = NULL;
	GStatBuf st;

	if (g_stat(path, &st) < 0) {
		if (errno == ENOENT)
			return vs_applied_new();
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "%s: %s", path, g_strerror(errno));
		return NULL;
	}
	if ((guint64)st.st_size > VS_APPLIED_MAX_BYTES) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s: %" G_GUINT64_FORMAT
			    " bytes, more than the %u allowed", path, (guint64)st.st_size,
			    VS_APPLIED_MAX_BYTES);
		return NULL;
	}
	if (!g_file_get_contents(path, &json, NULL, &read_error)) {
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "%s", read_error->message);
		return NULL;
	}
	if (strlen(json) > VS_APPLIED_MAX_BYTES) {
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "%s: longer than %u bytes", path,
			    VS_APPLIED_MAX_BYTES);
		return NULL;
	}
	return vs_applied_from_json(json, warnings, error);
}
