/* Port of test/verbose_test.go (nats-server v2.14.5): +OK acknowledgements for a client that
 * sent CONNECT {"verbose":true}.  Server as Go's runProtoServer(): max_control_line 256.
 */
#include <criterion/criterion.h>

#include "common/gotest.h"
#include "harness.h"

#define PROTO_CONF "max_control_line: 256\n"
#define VERBOSE_CONNECT                                                                            \
    "{\"verbose\":true,\"pedantic\":false,\"tls_required\":false,\"headers\":false}"

Test(verbose, ping) {
    GO_TEST("test/verbose_test.go", "TestVerbosePing");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, VERBOSE_CONNECT);

    h_expect(c, "+OK\r\n");
    /* PING is answered with PONG only, no +OK. */
    h_send(c, "PING\r\n");
    h_expect(c, "PONG\r\n");
    h_expect_nothing(c, 50);

    h_close(c);
    h_server_stop(s);
}

Test(verbose, connect) {
    GO_TEST("test/verbose_test.go", "TestVerboseConnect");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, VERBOSE_CONNECT);

    h_expect(c, "+OK\r\n");
    /* A second CONNECT is accepted and acknowledged too. */
    h_send(c, "CONNECT {\"verbose\":true,\"pedantic\":true,\"tls_required\":false}\r\n");
    h_expect(c, "+OK\r\n");

    h_close(c);
    h_server_stop(s);
}

Test(verbose, pub_sub) {
    GO_TEST("test/verbose_test.go", "TestVerbosePubSub");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, VERBOSE_CONNECT);

    h_expect(c, "+OK\r\n");
    h_send(c, "PUB foo 2\r\nok\r\n");
    h_expect(c, "+OK\r\n");
    h_send(c, "SUB foo 1\r\n");
    h_expect(c, "+OK\r\n");
    h_send(c, "UNSUB 1\r\n");
    h_expect(c, "+OK\r\n");

    h_close(c);
    h_server_stop(s);
}
