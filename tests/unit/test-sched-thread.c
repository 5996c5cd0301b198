/* The identity of one of our own threads; see test-sched-thread.h. */
#include "config.h"

#include "unit/test-sched-thread.h"

#include <unistd.h>

#include "virt/threads.h"

int sched_test_thread_identity(const VsSys *sys, pid_t tid, VsThread *ret)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task/%d", (int)getpid(), (int)tid);
	g_autofree char *stat_path = g_strconcat(dir, "/stat", NULL);
	g_autofree char *comm_path = g_strconcat(dir, "/comm", NULL);
	g_autofree char *stat = NULL;
	g_autofree char *comm = NULL;
	uint64_t start;
	int cpu, r;

	if ((r = vs_sys_read(sys, stat_path, &stat)) < 0 ||
	    (r = vs_sys_read_line(sys, comm_path, &comm)) < 0 ||
	    (r = vs_threads_parse_stat(stat, &start, &cpu)) < 0)
		return r;
	*ret = (VsThread){
		.pid = getpid(),
		.tid = tid,
		.start_time = start,
		.comm = g_steal_pointer(&comm),
		.cpu = cpu,
	};
	return 0;
}
