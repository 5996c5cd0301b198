/* CPU time of the calling thread; see cputime.h. */
#include "config.h"

#include "util/cputime.h"

#include <time.h>

int64_t vs_thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
