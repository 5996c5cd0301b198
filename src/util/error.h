/* The GError domain for errors that carry a message for an operator:
 * parse and validation errors, and failures reported with context. */
#pragma once

#include <glib.h>

#define VS_ERROR (vs_error_quark())
GQuark vs_error_quark(void);

typedef enum {
	VS_ERROR_INVALID,      /* bad input: config, policy, CLI, message */
	VS_ERROR_NOT_FOUND,    /* a named object (domain, file, key) is not there */
	VS_ERROR_UNAVAILABLE,  /* a service or feature is not available now */
	VS_ERROR_SYSTEM,       /* the kernel or a library said no (errno in message) */
	VS_ERROR_DENIED,       /* the caller may not do this */
} VsErrorCode;
