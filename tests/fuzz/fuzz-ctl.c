/* libFuzzer target for the control protocol: the input bytes as what one
 * client sends on the control socket. They go through the server's own
 * path: the framing reader (VS_CTL_REQUEST_MAX), fed in two pieces cut
 * where the first byte says, then vs_ctl_server_answer() for every
 * message (decoding, validation, the method on the fake daemon of the
 * control tests; as root for even messages, as a group member for odd
 * ones). Every reply must encode, and decode again as a reply. Nothing
 * may crash, leak or trip a sanitizer. Built and run by
 * tests/fuzz/run-fuzz.sh. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/proto.h"
#include "ctl/server.h"
#include "unit/test-ctl-fixture.h"

/* Messages answered per input, as a client may send many at once. */
#define MAX_MESSAGES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static CtlFake *fake;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VsCtlReader) reader = vs_ctl_reader_new(VS_CTL_REQUEST_MAX);
	VsCtlBackend backend;
	size_t cut = size ? data[0] % (size + 1) : 0;

	/* One fake daemon for the whole run: overrides it is given stay
	 * bounded (one per key and domain). */
	if (!fake)
		fake = ctl_fake_new(true, 2);
	backend = ctl_fake_backend(fake);
	vs_ctl_reader_feed(reader, data, cut);
	vs_ctl_reader_feed(reader, data + cut, size - cut);
	for (guint i = 0; i < MAX_MESSAGES; i++) {
		g_autofree char *msg = NULL;
		g_autofree char *encoded = NULL;
		g_autoptr(VsCtlReply) reply = NULL;
		g_autoptr(VsCtlReply) again = NULL;
		g_autoptr(GError) error = NULL;
		gsize len, encoded_len;
		int r = vs_ctl_reader_pop(reader, &msg, &len);

		if (r == 0)
			break;
		if (r < 0) {
			g_assert(r == -EMSGSIZE);
			break;
		}
		reply = vs_ctl_server_answer(&backend, msg, len, i % 2 == 0);
		g_assert(reply && reply->parameters);
		encoded = vs_ctl_reply_encode(reply, &encoded_len);
		g_assert(encoded_len > 0 && encoded[encoded_len - 1] == '\0');
		again = vs_ctl_reply_decode(encoded, encoded_len - 1, &error);
		g_assert(again);
		g_assert(g_strcmp0(again->error, reply->error) == 0);
	}
	return 0;
}
