/* The table of policy keys: every key a policy file, an override or the man
 * page knows, with its section, type, range, default and help text. Parsing
 * (value.c, file.c), `vschedctl policy keys` and tools/gen-policy-man all
 * read this one table, so they cannot drift apart. Help texts are written
 * for operators: what the key does and which planner uses it. */
#include "config.h"

#include "policy/policy-private.h"
#include "util/units.h"

#include <string.h>

/* Largest vCPU index (KVM's limit is 4096 vCPUs on x86). */
#define MAX_VCPU_INDEX 4095

#define KB (INT64_C(1) << 10)
#define MB (INT64_C(1) << 20)
#define GB (INT64_C(1) << 30)
#define TB (INT64_C(1) << 40)
#define MS INT64_C(1000)
#define SEC INT64_C(1000000)

const char *const vs_policy_sections[] = { "Match", "CPU", "Memory", "Hotplug", "Steal", NULL };

static const char *const placements[] = { "dedicated", "shared", NULL };
static const char *const siblings[] = { "isolate", "share", NULL };
static const char *const coschedules[] = { "none", "gang", "relaxed", NULL };
static const char *const emulator_placements[] = { "housekeeping", "shared", "vcpus", NULL };
static const char *const methods[] = { "acpi", "agent", NULL };

#define MATCH(nm, ty, hl) { "Match", nm, ty, NULL, 0, 0, NULL, true, hl }
#define KEY(sec, nm, ty, mn, mx, def, hl) { sec, nm, ty, NULL, mn, mx, def, false, hl }
#define ENUM(sec, nm, ch, def, hl) { sec, nm, VS_PTYPE_ENUM, ch, 0, 0, def, false, hl }

const VsPolicyKey vs_policy_keys[] = {
	MATCH("Name", VS_PTYPE_GLOB,
	      "A shell glob (*, ?, [...]) on the libvirt domain name. Repeat the key to match "
	      "any of several patterns."),
	MATCH("UUID", VS_PTYPE_UUID,
	      "The libvirt domain UUID, in upper or lower case. Repeat the key to match any of "
	      "several domains."),
	MATCH("Class", VS_PTYPE_WORD,
	      "The class attribute of the <vsched:policy class=\"...\"/> element (namespace "
	      "https://vsched.dev/xmlns/domain/1) in the domain's libvirt <metadata>. Repeat the "
	      "key to match any of several classes."),

	ENUM("CPU", "Placement", placements, "shared",
	     "dedicated: each vCPU gets a host CPU of its own from the managed CPUs; shared: the "
	     "vCPUs run on the shared pool with the other shared guests. Used by the CPU planner."),
	ENUM("CPU", "Siblings", siblings, "isolate",
	     "With Placement=dedicated, what happens to the SMT siblings of a vCPU's CPU: isolate "
	     "keeps them idle, share gives them to the same guest. Used by the CPU planner."),
	KEY("CPU", "Weight", VS_PTYPE_INT, 1, 10000, "100",
	    "The guest's share of CPU time under contention, relative to other guests, with the "
	    "semantics of cgroup v2 cpu.weight (100 is the kernel's default). Used by the CPU "
	    "planner."),
	KEY("CPU", "Limit", VS_PTYPE_PERCENT, 1, 100 * (VS_CPU_MAX + 1), NULL,
	    "A cap on the CPU time of the whole guest in percent of one CPU (150% is one and a "
	    "half CPUs), written to cpu.max. Unset: no cap. Used by the CPU planner."),
	KEY("CPU", "LimitBurst", VS_PTYPE_DURATION, 0, 10 * SEC, NULL,
	    "How much unused quota the guest may save up and then spend above Limit= "
	    "(cpu.max.burst). Unset: no burst. Used by the CPU planner."),
	KEY("CPU", "Reservation", VS_PTYPE_RESERVATION, 0, 0, NULL,
	    "A SCHED_DEADLINE reservation for each vCPU as RUNTIME/PERIOD: 2ms/10ms guarantees "
	    "each vCPU 2ms of CPU time in every 10ms. Runtime 100us..1s, period 1ms..1s, "
	    "runtime no longer than period. Unset: no reservation. Used by the CPU planner, which "
	    "admits a reservation only when the CPUs have the bandwidth."),
	ENUM("CPU", "CoSchedule", coschedules, "none",
	     "Run the guest's vCPUs together: none; gang (the same windows: one reservation period "
	     "from Reservation=, or the guest's cgroup v2 cpu.max window from Limit=); relaxed "
	     "(skew evened out past SkewThreshold= by boosting the vCPUs behind). gang and relaxed "
	     "also give the guest one core-scheduling cookie where the kernel has PR_SCHED_CORE. "
	     "Used by the co-scheduling planner."),
	KEY("CPU", "SkewThreshold", VS_PTYPE_DURATION, 1 * MS, 1 * SEC, "5ms",
	    "With CoSchedule=relaxed, how much more CPU wait one vCPU may have than its least "
	    "delayed sibling over one second before it is boosted (nice); the boost ends under "
	    "half of it. Used by the co-scheduling planner."),
	ENUM("CPU", "EmulatorPlacement", emulator_placements, "housekeeping",
	     "Where QEMU's emulator and I/O threads run: housekeeping (the host's housekeeping "
	     "CPUs), shared (the shared pool) or vcpus (on the guest's own vCPU CPUs). Used by the "
	     "CPU planner."),
	KEY("CPU", "AllowedCPUs", VS_PTYPE_CPULIST, 0, 0, NULL,
	    "Restrict the guest's vCPUs to these host CPUs (a CPU list like 2-7,10). Unset: any "
	    "managed CPU. Used by the CPU planner."),

	{ "CPU", "Pin", VS_PTYPE_PIN, NULL, 0, MAX_VCPU_INDEX, NULL, true,
	  "Pin one vCPU to host CPUs as VCPU:CPULIST (0:2-3 lets vCPU 0 run on CPUs 2 and 3), "
	  "instead of where the CPU planner would place it. Repeat the key for several vCPUs; "
	  "a later value for the same vCPU replaces an earlier one. vschedctl vcpupin sets it "
	  "as an override. Used by the CPU planner."},

	KEY("Memory", "Balloon", VS_PTYPE_BOOL, 0, 0, "yes",
	    "Whether vsched sets the balloon target of this guest. no: the balloon stays where it "
	    "is and the other [Memory] keys have no effect. Used by the memory planner."),
	KEY("Memory", "Floor", VS_PTYPE_SIZE, 16 * MB, 16 * TB, NULL,
	    "Never balloon the guest below this much memory. Unset: only Margin= above what the "
	    "guest uses protects it. Used by the memory planner."),
	KEY("Memory", "Shares", VS_PTYPE_INT, 1, 1000000, "1000",
	    "The guest's claim on host memory under pressure, relative to other guests: a guest "
	    "with more shares gives back less. Used by the memory planner."),
	KEY("Memory", "Margin", VS_PTYPE_SIZE, 0, 64 * GB, "128M",
	    "Memory always left to the guest above what its own statistics say it uses. Used by "
	    "the memory planner."),
	KEY("Memory", "IdleTax", VS_PTYPE_PERCENT, 0, 99, "75%",
	    "How much of the guest's idle memory counts against its shares under host memory "
	    "pressure: 0% treats idle memory like used memory, 90% takes idle memory back first. "
	    "Used by the memory planner."),
	KEY("Memory", "MaxStepPerSecond", VS_PTYPE_SIZE, 1 * MB, 1 * TB, "256M",
	    "How fast the balloon target may change, in either direction, per second. Used by the "
	    "memory planner."),
	KEY("Memory", "Target", VS_PTYPE_SIZE, 16 * MB, 16 * TB, NULL,
	    "A fixed balloon target, normally set by vschedctl setmem as an override. Host "
	    "pressure and the budget do not move it; it may go below Floor= but never below what "
	    "the guest uses plus Margin=, nor above the maximum, and MaxStepPerSecond= still "
	    "limits how fast the balloon gets there. Used by the memory planner."),

	KEY("Hotplug", "Enable", VS_PTYPE_BOOL, 0, 0, "no",
	    "Whether vsched changes the number of online vCPUs of this guest. no: the other "
	    "[Hotplug] keys have no effect. Used by the hotplug planner."),
	KEY("Hotplug", "MinVCPUs", VS_PTYPE_INT, 1, 4096, NULL,
	    "Never go below this many online vCPUs. Unset: 1. Used by the hotplug planner."),
	KEY("Hotplug", "MaxVCPUs", VS_PTYPE_INT, 1, 4096, NULL,
	    "Never go above this many online vCPUs. Unset: the domain's maximum. Used by the "
	    "hotplug planner."),
	ENUM("Hotplug", "Method", methods, "acpi",
	     "How vCPUs are added and removed: acpi (libvirt hot-plugs and unplugs vCPUs) or agent "
	     "(the guest agent onlines and offlines guest CPUs). Used by the hotplug planner."),
	KEY("Hotplug", "ScaleUp", VS_PTYPE_CONDITION, 0, 0, "cpu>80% for 30s",
	    "Add vCPUs while this condition holds. Used by the hotplug planner."),
	KEY("Hotplug", "ScaleDown", VS_PTYPE_CONDITION, 0, 0, "cpu<20% for 120s",
	    "Remove vCPUs while this condition holds. Used by the hotplug planner."),
	KEY("Hotplug", "ContentionDown", VS_PTYPE_CONDITION, 0, 0, "steal.contention>20% for 30s",
	    "Remove vCPUs while this condition holds, even when they are busy: with this much steal "
	    "from contention the host cannot run more vCPUs anyway. Used by the hotplug planner."),
	KEY("Hotplug", "Cooldown", VS_PTYPE_DURATION, 1 * SEC, 3600 * SEC, "60s",
	    "Least time between two changes of the vCPU count. Used by the hotplug planner."),
	KEY("Hotplug", "Step", VS_PTYPE_INT, 1, 64, "1",
	    "How many vCPUs one change adds or removes. Used by the hotplug planner."),
	KEY("Hotplug", "VCPUs", VS_PTYPE_INT, 1, 4096, NULL,
	    "Hold the guest at this many online vCPUs whatever its load (clamped to the domain's "
	    "maximum); the conditions are not consulted. Unset: the conditions decide. vschedctl "
	    "setvcpus sets it as an override. Used by the hotplug planner."),

	KEY("Steal", "Alert", VS_PTYPE_CONDITION, 0, 0, NULL,
	    "Log a warning and mark the guest in vschedctl status while this condition holds. "
	    "Unset: no alert. Used by steal accounting."),
	KEY("Steal", "GuestTolerance", VS_PTYPE_PERCENT, 0, 100, "5%",
	    "Allowed difference between the steal the host accounts for a vCPU and the steal the "
	    "guest reports, before vsched reports the mismatch. Used by steal accounting."),
	{ NULL },
};

const VsPolicyKey *vs_policy_key_find(const char *section, const char *name)
{
	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++)
		/* Names differ most: their first letter rejects almost every key
		 * without a call (the planners look keys up per guest per tick). */
		if (k->name[0] == name[0] && strcmp(k->name, name) == 0 &&
		    strcmp(k->section, section) == 0)
			return k;
	return NULL;
}

const VsPolicyKey *vs_policy_key_lookup(const char *spec)
{
	const char *dot = strchr(spec, '.');
	const VsPolicyKey *found = NULL;

	for (const VsPolicyKey *k = vs_policy_keys; k->name; k++) {
		if (dot) {
			size_t n = (size_t)(dot - spec);
			if (strlen(k->section) == n && g_ascii_strncasecmp(k->section, spec, n) == 0 &&
			    g_ascii_strcasecmp(k->name, dot + 1) == 0)
				return k;
		} else if (g_ascii_strcasecmp(k->name, spec) == 0) {
			if (found)
				return NULL; /* ambiguous: the caller must name the section */
			found = k;
		}
	}
	return found;
}

/* "16M", "1T", "0": the largest binary unit that divides @bytes. */
static char *format_size(int64_t bytes)
{
	static const struct { const char *suffix; int64_t factor; } units[] = {
		{ "T", TB }, { "G", GB }, { "M", MB }, { "K", KB },
	};

	for (size_t i = 0; bytes && i < G_N_ELEMENTS(units); i++)
		if (bytes % units[i].factor == 0)
			return g_strdup_printf("%" G_GINT64_FORMAT "%s", bytes / units[i].factor,
					       units[i].suffix);
	return g_strdup_printf("%" G_GINT64_FORMAT, bytes);
}

static char *format_duration(int64_t us)
{
	return us == 0 ? g_strdup("0") : vs_format_duration_us(us);
}

char *vs_policy_key_range(const VsPolicyKey *key)
{
	switch (key->type) {
	case VS_PTYPE_GLOB:
		return g_strdup("a shell glob");
	case VS_PTYPE_UUID:
		return g_strdup("a UUID");
	case VS_PTYPE_WORD:
		return g_strdup("letters, digits, '_', '.' and '-'");
	case VS_PTYPE_ENUM:
		return g_strjoinv("|", (char **)key->choices);
	case VS_PTYPE_BOOL:
		return g_strdup("yes|no");
	case VS_PTYPE_INT:
		if (key->min == 0 && key->max == 0)
			return g_strdup("an integer");
		return g_strdup_printf("%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, key->min, key->max);
	case VS_PTYPE_PERCENT:
		return g_strdup_printf("%" G_GINT64_FORMAT "%%..%" G_GINT64_FORMAT "%%", key->min,
				       key->max);
	case VS_PTYPE_SIZE: {
		g_autofree char *lo = format_size(key->min);
		g_autofree char *hi = format_size(key->max);
		return g_strdup_printf("%s..%s", lo, hi);
	}
	case VS_PTYPE_DURATION: {
		g_autofree char *lo = format_duration(key->min);
		g_autofree char *hi = format_duration(key->max);
		return g_strdup_printf("%s..%s", lo, hi);
	}
	case VS_PTYPE_CPULIST:
		return g_strdup_printf("CPU numbers 0..%d and ranges, like 2-7,10", VS_CPU_MAX);
	case VS_PTYPE_RESERVATION:
		return g_strdup("RUNTIME/PERIOD, runtime 100us..1s, period 1ms..1s");
	case VS_PTYPE_CONDITION:
		return g_strdup("METRIC OP THRESHOLD% [for DURATION]");
	case VS_PTYPE_PIN:
		return g_strdup_printf("VCPU:CPULIST, vCPU %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT
				       ", like 0:2-3", key->min, key->max);
	}
	g_assert_not_reached();
}

const char *vs_policy_type_name(VsPolicyType type)
{
	switch (type) {
	case VS_PTYPE_GLOB:
		return "glob";
	case VS_PTYPE_UUID:
		return "UUID";
	case VS_PTYPE_WORD:
		return "word";
	case VS_PTYPE_ENUM:
		return "choice";
	case VS_PTYPE_BOOL:
		return "boolean";
	case VS_PTYPE_INT:
		return "integer";
	case VS_PTYPE_PERCENT:
		return "percentage";
	case VS_PTYPE_SIZE:
		return "size";
	case VS_PTYPE_DURATION:
		return "duration";
	case VS_PTYPE_CPULIST:
		return "CPU list";
	case VS_PTYPE_RESERVATION:
		return "reservation";
	case VS_PTYPE_CONDITION:
		return "condition";
	case VS_PTYPE_PIN:
		return "vCPU pinning";
	}
	g_assert_not_reached();
}
