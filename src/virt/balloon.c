/* Balloon calls; see balloon.h. The device is read from the live domain
 * XML (the <memballoon> element and its <stats period=''/>), parsed with
 * GMarkup like the inventory's metadata: only those two elements matter. */
#include "config.h"

#include "virt/balloon.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "virt/conn.h"

#define KIB 1024u

void vs_balloon_device_clear(VsBalloonDevice *dev)
{
	g_clear_pointer(&dev->model, g_free);
	dev->present = false;
	dev->stats_period = 0;
}

/* The domain @uuid, or NULL with the error code left in libvirt's last
 * error. */
static virDomainPtr lookup(VsVirt *virt, const char *uuid)
{
	virConnectPtr conn = vs_conn_get(virt);

	return conn ? virDomainLookupByUUIDString(conn, uuid) : NULL;
}

/* Turns the failure of a call on @uuid (@d: the domain, NULL when the
 * lookup failed) into a return code: -ENOENT when the domain is gone or no
 * longer running, else vs_conn_fail's. libvirt says OPERATION_INVALID both
 * for "domain is not running" and for a request the domain cannot honour
 * (no balloon device), so the state decides. */
static int fail(VsVirt *virt, virDomainPtr d, const char *uuid, GError **error)
{
	int code = virGetLastErrorCode();

	if (!vs_conn_get(virt)) {
		g_set_error(error, VS_ERROR, VS_ERROR_UNAVAILABLE,
			    "not connected to libvirt (%s)", vs_virt_uri(virt));
		return -ENOTCONN;
	}
	if (code == VIR_ERR_OPERATION_INVALID && d) {
		/* virDomainIsActive() resets the last error: keep its text. */
		g_autofree char *text = g_strdup(virGetLastErrorMessage());

		if (virDomainIsActive(d) != 0) {
			virResetLastError();
			g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "libvirt: %s", text);
			return -EIO;
		}
	}
	if (code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_OPERATION_INVALID) {
		g_set_error(error, VS_ERROR, VS_ERROR_NOT_FOUND, "domain %s is gone or not running",
			    uuid);
		virResetLastError();
		return -ENOENT;
	}
	return vs_conn_fail(virt, error);
}

typedef struct {
	VsBalloonDevice *dev;
	bool in_balloon;
} Parse;

static void device_start(GMarkupParseContext *ctx, const char *element, const char **names,
			 const char **values, gpointer user_data, GError **error)
{
	Parse *p = user_data;
	const GSList *stack = g_markup_parse_context_get_element_stack(ctx);

	if (strcmp(element, "memballoon") == 0 && g_slist_length((GSList *)stack) == 3 &&
	    strcmp(stack->next->data, "devices") == 0) {
		p->in_balloon = true;
		for (guint i = 0; names[i]; i++)
			if (strcmp(names[i], "model") == 0)
				p->dev->model = g_strdup(values[i]);
		p->dev->present = g_strcmp0(p->dev->model, "none") != 0;
	} else if (p->in_balloon && strcmp(element, "stats") == 0) {
		for (guint i = 0; names[i]; i++) {
			guint64 v;

			if (strcmp(names[i], "period") == 0 &&
			    g_ascii_string_to_unsigned(values[i], 10, 0, G_MAXINT, &v, NULL))
				p->dev->stats_period = (int)v;
		}
	}
}

static void device_end(GMarkupParseContext *ctx, const char *element, gpointer user_data,
		       GError **error)
{
	Parse *p = user_data;

	if (strcmp(element, "memballoon") == 0)
		p->in_balloon = false;
}

int vs_virt_balloon_device(VsVirt *virt, const char *uuid, VsBalloonDevice *ret,
			   GError **error)
{
	static const GMarkupParser parser = { .start_element = device_start,
					      .end_element = device_end };
	VsBalloonDevice dev = { 0 };
	Parse p = { .dev = &dev };
	g_autoptr(GError) parse_error = NULL;
	GMarkupParseContext *ctx;
	virDomainPtr d = lookup(virt, uuid);
	char *xml;
	bool ok;

	if (!d)
		return fail(virt, NULL, uuid, error);
	xml = virDomainGetXMLDesc(d, 0);
	if (!xml) {
		int r = fail(virt, d, uuid, error);
		virDomainFree(d);
		return r;
	}
	virDomainFree(d);
	ctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
	ok = g_markup_parse_context_parse(ctx, xml, -1, &parse_error) &&
	     g_markup_parse_context_end_parse(ctx, &parse_error);
	g_markup_parse_context_free(ctx);
	free(xml);
	if (!ok) {
		vs_balloon_device_clear(&dev);
		g_set_error(error, VS_ERROR, VS_ERROR_SYSTEM, "domain %s: libvirt's XML does not "
			    "parse: %s", uuid, parse_error->message);
		return -EIO;
	}
	*ret = dev;
	return 0;
}

int vs_virt_set_balloon_period(VsVirt *virt, const char *uuid, int seconds, GError **error)
{
	virDomainPtr d = lookup(virt, uuid);
	int r = 0;

	if (!d)
		return fail(virt, NULL, uuid, error);
	if (virDomainSetMemoryStatsPeriod(d, seconds, VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = fail(virt, d, uuid, error);
	virDomainFree(d);
	return r;
}

int vs_virt_set_balloon(VsVirt *virt, const char *uuid, uint64_t bytes, GError **error)
{
	virDomainPtr d = lookup(virt, uuid);
	uint64_t kib = bytes / KIB;
	int r = 0;

	if (!d)
		return fail(virt, NULL, uuid, error);
	if (kib > G_MAXULONG) {
		virDomainFree(d);
		g_set_error(error, VS_ERROR, VS_ERROR_INVALID, "balloon target of %" G_GUINT64_FORMAT
			    " KiB is out of range", kib);
		return -ERANGE;
	}
	if (virDomainSetMemoryFlags(d, (unsigned long)kib, VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = fail(virt, d, uuid, error);
	virDomainFree(d);
	return r;
}
