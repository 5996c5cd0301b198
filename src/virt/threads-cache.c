/* The thread discovery cache; see threads-cache.h. */
#include "config.h"

#include "virt/threads-cache.h"

#include <limits.h>
#include <string.h>

#include "virt/threads.h"

/* A VsDomain holding only what thread discovery fills, with a count of
 * its holders: the cache entry and each snapshot domain that borrows its
 * threads (vs_domain_threads_share()). Never changed once made, so that a
 * snapshot from before a re-read still holds what it was given. */
typedef struct Found {
	grefcount refs;
	VsDomain *dom;
} Found;

static Found *found_new(VsDomain *dom)
{
	Found *f = g_new(Found, 1);

	g_ref_count_init(&f->refs);
	f->dom = dom;
	return f;
}

static void found_release(gpointer data)
{
	Found *f = data;

	if (!g_ref_count_dec(&f->refs))
		return;
	vs_domain_free(f->dom);
	g_free(f);
}

typedef struct Entry {
	char *name;
	/* What the entry depends on. */
	dev_t status_dev;
	ino_t status_ino;
	off_t status_size;
	struct timespec status_mtime;
	nlink_t task_nlink;
	GArray *online;          /* bool per vCPU, libvirt's */
	int id;                  /* libvirt's domain ID */
	int state;               /* libvirt's domain state */
	uint64_t verify_at;      /* collection from which the two stat() run again */
	uint64_t expires;        /* collection from which it is re-read */
	uint64_t seen;           /* last collection that used it */
	/* What the discovery found: shared with the snapshots' domains. */
	Found *found;
} Entry;

struct VsThreadsCache {
	GHashTable *entries;     /* uuid → Entry */
	uint64_t collection;     /* sweeps so far + 1 */
};

static void entry_free(Entry *e)
{
	g_free(e->name);
	g_array_unref(e->online);
	found_release(e->found);
	g_free(e);
}

VsThreadsCache *vs_threads_cache_new(void)
{
	VsThreadsCache *cache = g_new0(VsThreadsCache, 1);

	cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       (GDestroyNotify)entry_free);
	cache->collection = 1;
	return cache;
}

void vs_threads_cache_free(VsThreadsCache *cache)
{
	if (!cache)
		return;
	g_hash_table_unref(cache->entries);
	g_free(cache);
}

guint vs_threads_cache_size(const VsThreadsCache *cache)
{
	return g_hash_table_size(cache->entries);
}

void vs_threads_cache_sweep(VsThreadsCache *cache)
{
	GHashTableIter iter;
	Entry *e;

	g_hash_table_iter_init(&iter, cache->entries);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&e))
		if (e->seen != cache->collection)
			g_hash_table_iter_remove(&iter);
	cache->collection++;
}

void vs_threads_cache_invalidate(VsThreadsCache *cache, const char *uuid)
{
	GHashTableIter iter;
	Entry *e;

	if (uuid) {
		e = g_hash_table_lookup(cache->entries, uuid);
		if (e)
			e->verify_at = 0;
		return;
	}
	g_hash_table_iter_init(&iter, cache->entries);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&e))
		e->verify_at = 0;
}

static void thread_copy(VsThread *dst, const VsThread *src)
{
	*dst = *src;
	dst->comm = g_strdup(src->comm);
	dst->affinity = src->affinity ? vs_cpuset_copy(src->affinity) : NULL;
}

static void threads_copy(GArray *dst, const GArray *src)
{
	g_array_set_size(dst, 0);
	g_array_set_size(dst, src->len);
	for (guint i = 0; i < src->len; i++)
		thread_copy(&g_array_index(dst, VsThread, i), &g_array_index(src, VsThread, i));
}

/* Copies the process fields thread discovery fills from @src into @dst. */
static void process_copy(VsDomain *dst, const VsDomain *src)
{
	dst->pid = src->pid;
	dst->pid_start_time = src->pid_start_time;
	g_free(dst->cgroup_path);
	dst->cgroup_path = g_strdup(src->cgroup_path);
	g_free(dst->cgroup_v1_cpuset);
	dst->cgroup_v1_cpuset = g_strdup(src->cgroup_v1_cpuset);
	g_free(dst->threads_problem);
	dst->threads_problem = NULL;
}

/* Gives @dom what the entry's discovery found: the process fields copied,
 * the threads shared (no copy per thread). */
static void found_give(VsDomain *dom, Found *f)
{
	process_copy(dom, f->dom);
	g_ref_count_inc(&f->refs);
	vs_domain_threads_share(dom, f->dom, f, found_release);
}

/* Copies what thread discovery fills from @src into @dst (a new domain). */
static void found_copy(VsDomain *dst, const VsDomain *src)
{
	process_copy(dst, src);
	for (guint i = 0; i < dst->vcpus->len && i < src->vcpus->len; i++) {
		VsThread *t = &g_array_index(dst->vcpus, VsVcpu, i).thread;

		vs_thread_clear(t);
		thread_copy(t, &g_array_index(src->vcpus, VsVcpu, i).thread);
	}
	threads_copy(dst->emulator_threads, src->emulator_threads);
	threads_copy(dst->io_threads, src->io_threads);
}

static GArray *online_flags(const VsDomain *dom)
{
	GArray *online = g_array_sized_new(FALSE, FALSE, sizeof(bool), dom->vcpus->len);

	for (guint i = 0; i < dom->vcpus->len; i++) {
		bool on = g_array_index(dom->vcpus, VsVcpu, i).online;
		g_array_append_val(online, on);
	}
	return online;
}

static bool same_online(const GArray *online, const VsDomain *dom)
{
	if (online->len != dom->vcpus->len)
		return false;
	for (guint i = 0; i < online->len; i++)
		if (g_array_index(online, bool, i) != g_array_index(dom->vcpus, VsVcpu, i).online)
			return false;
	return true;
}

static bool same_status(const Entry *e, const struct stat *st)
{
	return e->status_dev == st->st_dev && e->status_ino == st->st_ino &&
	       e->status_size == st->st_size && e->status_mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->status_mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static int task_nlink(const VsSys *sys, pid_t pid, nlink_t *ret)
{
	char path[64];
	struct stat st;
	int r;

	g_snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	r = vs_sys_stat(sys, path, &st);
	if (r < 0)
		return r;
	*ret = st.st_nlink;
	return 0;
}

/* The entry of @dom when what libvirt told this tick matches it and it is
 * not expired, else NULL; no I/O. */
static Entry *lookup_libvirt(VsThreadsCache *cache, const VsDomain *dom)
{
	Entry *e = g_hash_table_lookup(cache->entries, dom->uuid);

	if (!e || cache->collection >= e->expires || e->id != dom->id ||
	    strcmp(e->name, dom->name) != 0 || !same_online(e->online, dom))
		return NULL;
	return e;
}

/* The cached entry of @dom when it still holds, the files included, else
 * NULL. */
static Entry *lookup(VsThreadsCache *cache, const VsSys *sys, const VsDomain *dom,
		     const struct stat *status)
{
	Entry *e = lookup_libvirt(cache, dom);
	nlink_t nlink;

	if (!e || !same_status(e, status))
		return NULL;
	if (task_nlink(sys, e->found->dom->pid, &nlink) < 0 || nlink != e->task_nlink)
		return NULL;
	return e;
}

int vs_threads_cache_collect(VsThreadsCache *cache, const VsSys *sys, const char *status_dir,
			     VsDomain *dom)
{
	char path[PATH_MAX];
	struct stat status;
	nlink_t nlink;
	Entry *e;
	int r;

	e = dom->uuid[0] ? lookup_libvirt(cache, dom) : NULL;
	if (e && e->state == dom->state && cache->collection < e->verify_at) {
		found_give(dom, e->found);
		e->seen = cache->collection;
		return 0;
	}

	g_snprintf(path, sizeof(path), "%s/%s.xml", status_dir, dom->name);
	if (!dom->uuid[0] || vs_sys_stat(sys, path, &status) < 0) {
		/* No status XML (the .pid file is used): nothing to key on. */
		g_hash_table_remove(cache->entries, dom->uuid);
		return vs_threads_collect(sys, status_dir, dom);
	}
	e = lookup(cache, sys, dom, &status);
	if (e) {
		found_give(dom, e->found);
		e->state = dom->state;
		e->verify_at = cache->collection + VS_THREADS_CACHE_VERIFY_TICKS;
		e->seen = cache->collection;
		return 0;
	}

	r = vs_threads_collect(sys, status_dir, dom);
	if (r < 0 || dom->threads_problem || task_nlink(sys, dom->pid, &nlink) < 0) {
		g_hash_table_remove(cache->entries, dom->uuid);
		return r;
	}
	e = g_hash_table_lookup(cache->entries, dom->uuid);
	if (!e) {
		e = g_new0(Entry, 1);
		/* Spread the first expiries and verifications over their
		 * periods. */
		e->expires = cache->collection + 1 +
			     g_str_hash(dom->uuid) % VS_THREADS_CACHE_REFRESH_TICKS;
		e->verify_at = cache->collection + 1 +
			       g_str_hash(dom->uuid) % VS_THREADS_CACHE_VERIFY_TICKS;
		g_hash_table_insert(cache->entries, g_strdup(dom->uuid), e);
	} else {
		g_free(e->name);
		g_array_unref(e->online);
		found_release(e->found);
		e->expires = cache->collection + VS_THREADS_CACHE_REFRESH_TICKS;
		e->verify_at = cache->collection + VS_THREADS_CACHE_VERIFY_TICKS;
	}
	e->name = g_strdup(dom->name);
	e->status_dev = status.st_dev;
	e->status_ino = status.st_ino;
	e->status_size = status.st_size;
	e->status_mtime = status.st_mtim;
	e->task_nlink = nlink;
	e->id = dom->id;
	e->state = dom->state;
	e->online = online_flags(dom);
	e->found = found_new(vs_domain_new(dom->name, dom->vcpus->len));
	found_copy(e->found->dom, dom);
	e->seen = cache->collection;
	return 0;
}
