/* glibc malloc settings and trims for the daemon; see heap.h for what was
 * measured and why. */
#include "config.h"

#include "daemon/heap.h"

#include <malloc.h>

void vs_heap_setup(void)
{
	mallopt(M_ARENA_MAX, 1);
}

void vs_heap_trim(void)
{
	malloc_trim(0);
}
