/* The vsched GError domain; see error.h. */
#include "config.h"

#include "util/error.h"

G_DEFINE_QUARK(vsched-error-quark, vs_error)
