/* Construction and destruction of the inventory's plain-data domain structs
 * (domain.h), and the names of libvirt domain states as virsh prints them. */
#include "config.h"

#include "virt/domain.h"

#include <libvirt/libvirt.h>

static void vcpu_clear(gpointer data)
{
	VsVcpu *v = data;

	vs_thread_clear(&v->thread);
}

static void thread_clear(gpointer data)
{
	vs_thread_clear(data);
}

static GArray *threads_new(void)
{
	GArray *threads = g_array_new(FALSE, TRUE, sizeof(VsThread));

	g_array_set_clear_func(threads, thread_clear);
	return threads;
}

VsDomain *vs_domain_new(const char *name, guint n_vcpus)
{
	VsDomain *dom = g_new0(VsDomain, 1);

	dom->name = g_strdup(name);
	dom->id = -1;
	dom->state = VIR_DOMAIN_NOSTATE;
	dom->vcpus = g_array_sized_new(FALSE, TRUE, sizeof(VsVcpu), n_vcpus);
	g_array_set_clear_func(dom->vcpus, vcpu_clear);
	g_array_set_size(dom->vcpus, n_vcpus);
	for (guint i = 0; i < n_vcpus; i++) {
		VsVcpu *v = &g_array_index(dom->vcpus, VsVcpu, i);
		v->index = i;
		v->thread.cpu = -1;
	}
	dom->emulator_threads = threads_new();
	dom->io_threads = threads_new();
	return dom;
}

/* Drops @dom's borrowed threads (see vs_domain_threads_unshare()); the
 * thread arrays become empty ones when @refill, else NULL. */
static void drop_shared(VsDomain *dom, bool refill)
{
	for (guint i = 0; dom->vcpus && i < dom->vcpus->len; i++) {
		VsThread *t = &g_array_index(dom->vcpus, VsVcpu, i).thread;

		*t = (VsThread){ .cpu = -1 };
	}
	g_clear_pointer(&dom->emulator_threads, g_array_unref);
	g_clear_pointer(&dom->io_threads, g_array_unref);
	if (refill) {
		dom->emulator_threads = threads_new();
		dom->io_threads = threads_new();
	}
	dom->threads_ref_release(dom->threads_ref);
	dom->threads_ref = NULL;
	dom->threads_ref_release = NULL;
}

void vs_domain_threads_unshare(VsDomain *dom)
{
	if (dom->threads_ref)
		drop_shared(dom, true);
}

void vs_domain_threads_share(VsDomain *dom, const VsDomain *src, gpointer ref,
			     GDestroyNotify release)
{
	vs_domain_threads_unshare(dom);
	for (guint i = 0; i < dom->vcpus->len; i++) {
		VsThread *t = &g_array_index(dom->vcpus, VsVcpu, i).thread;

		vs_thread_clear(t);
		*t = i < src->vcpus->len ? g_array_index(src->vcpus, VsVcpu, i).thread
					 : (VsThread){ .cpu = -1 };
	}
	g_array_unref(dom->emulator_threads);
	dom->emulator_threads = g_array_ref(src->emulator_threads);
	g_array_unref(dom->io_threads);
	dom->io_threads = g_array_ref(src->io_threads);
	dom->threads_ref = ref;
	dom->threads_ref_release = release;
}

void vs_domain_free(VsDomain *dom)
{
	if (!dom)
		return;
	if (dom->threads_ref)
		drop_shared(dom, false);
	g_free(dom->name);
	g_free(dom->vsched_class);
	g_free(dom->metadata_xml);
	g_free(dom->cgroup_path);
	g_free(dom->cgroup_v1_cpuset);
	g_free(dom->threads_problem);
	if (dom->vcpus)
		g_array_unref(dom->vcpus);
	if (dom->emulator_threads)
		g_array_unref(dom->emulator_threads);
	if (dom->io_threads)
		g_array_unref(dom->io_threads);
	g_free(dom);
}

void vs_thread_clear(VsThread *t)
{
	g_clear_pointer(&t->comm, g_free);
	g_clear_pointer(&t->affinity, vs_cpuset_free);
}

void vs_thread_copy(VsThread *dst, const VsThread *src)
{
	*dst = *src;
	dst->comm = g_strdup(src->comm);
	dst->affinity = src->affinity ? vs_cpuset_copy(src->affinity) : NULL;
}

const char *vs_domain_state_name(int state)
{
	switch (state) {
	case VIR_DOMAIN_NOSTATE:
		return "no state";
	case VIR_DOMAIN_RUNNING:
		return "running";
	case VIR_DOMAIN_BLOCKED:
		return "idle";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTDOWN:
		return "in shutdown";
	case VIR_DOMAIN_SHUTOFF:
		return "shut off";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	case VIR_DOMAIN_PMSUSPENDED:
		return "pmsuspended";
	default:
		return "unknown";
	}
}
