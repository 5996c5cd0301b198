/* Names of the memory room's enums (mem/mem.h), for logs, the control
 * protocol and explain lines. */
#include "config.h"

#include "mem/mem.h"

const char *vs_mem_state_name(VsMemState state)
{
	switch (state) {
	case VS_MEM_NORMAL:
		return "normal";
	case VS_MEM_SOFT:
		return "soft";
	case VS_MEM_HARD:
		return "hard";
	case VS_MEM_CRITICAL:
		return "critical";
	case VS_MEM_N_STATES:
		break;
	}
	return "unknown";
}

const char *vs_mem_action_name(VsMemAction action)
{
	switch (action) {
	case VS_MEM_HOLD:
		return "hold";
	case VS_MEM_GROW:
		return "grow";
	case VS_MEM_SHRINK:
		return "shrink";
	}
	return "unknown";
}
