/* Port of test/maxpayload_test.go (nats-server v2.14.5): max_payload enforcement.
 *
 * Go's TestMaxPayload uses configs/override.conf (max_payload: 2222) and the nats.go client;
 * we use the same setting and the C client libnats for the client-side part.
 */
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <stdlib.h>

#include "common/gotest.h"
#include "harness.h"

Test(maxpayload, max_payload) {
    GO_TEST("test/maxpayload_test.go", "TestMaxPayload");
    h_server *s = h_server_start("max_payload: 2222\n");

    natsConnection *nc = NULL;
    cr_assert_eq(natsConnection_ConnectTo(&nc, s->url), NATS_OK, "%s", nats_GetLastError(NULL));

    /* The client learns max_payload from INFO and refuses to send a bigger message. */
    const int size = 4 * 1024 * 1024;
    char *big = calloc(1, (size_t)size);
    cr_assert_eq(natsConnection_Publish(nc, "foo", big, size), NATS_MAX_PAYLOAD);

    /* A raw client that sends the PUB line anyway gets the error... */
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert_eq(json_integer_value(json_object_get(info, "max_payload")), 2222);
    json_decref(info);
    h_sendf(c, "PUB bar %d\r\n", size);
    h_expect(c, "-ERR 'Maximum Payload Violation'\r\n");

    /* ...while the client that omitted the publish is still connected. */
    cr_assert(!natsConnection_IsClosed(nc));
    cr_assert_eq(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS), NATS_OK);

    /* And the raw connection has been closed by the server: the payload can't be sent. */
    h_expect_closed(c);

    free(big);
    h_close(c);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(maxpayload, max_payload_overrun) {
    GO_TEST("test/maxpayload_test.go", "TestMaxPayloadOverrun");
    h_server *s = h_server_start("max_payload: 10000\n");

    /* Overrun an int32. */
    h_conn *c = h_connect_setup(s->port, NULL);
    h_send(c, "PUB foo 199380988\r\n");
    h_expect(c, "-ERR 'Maximum Payload Violation'\r\n");
    h_expect_closed(c);
    h_close(c);

    /* Overrun an int64: the size does not parse, the connection is closed without -ERR. */
    c = h_connect_setup(s->port, NULL);
    h_send(c, "PUB foo 18446744073709551615123\r\n");
    h_expect_closed(c);
    h_close(c);

    h_server_stop(s);
}
