/* Port of test/pedantic_test.go (nats-server v2.14.5): subject checks for a client that sent
 * CONNECT {"pedantic":true}.
 *
 * Go's runPedanticServer() asks for tracing, which RunServer() then turns off: defaults.  Go
 * matches errRe; we assert the exact -ERR lines, and that the connection stays usable afterwards
 * (PING/PONG): in v2.14.5 neither 'Invalid Subject' (parseSub swallows the error) nor 'Invalid
 * Publish Subject' (processPub returns nil) closes the connection.
 */
#include <criterion/criterion.h>

#include "common/gotest.h"
#include "harness.h"

#define PEDANTIC_CONNECT                                                                           \
    "{\"verbose\":false,\"pedantic\":true,\"tls_required\":false,\"headers\":false}"

Test(pedantic, sub) {
    GO_TEST("test/pedantic_test.go", "TestPedanticSub");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, PEDANTIC_CONNECT);

    h_ping(c);

    /* SUB may use wildcards, but the subject must still be well formed. */
    static const char *const bad[] = {"foo.", ".foo.", "foo..bar", "foo.>.bar"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_sendf(c, "SUB %s 1\r\n", bad[i]);
        h_expect(c, "-ERR 'Invalid Subject'\r\n");
    }
    h_ping(c); /* still open */

    h_close(c);
    h_server_stop(s);
}

Test(pedantic, pub) {
    GO_TEST("test/pedantic_test.go", "TestPedanticPub");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, PEDANTIC_CONNECT);

    h_ping(c);

    /* PUB subjects may not contain wildcards nor empty tokens. */
    static const char *const bad[] = {"foo.*", "foo.>", "foo.", ".foo", "foo..*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_sendf(c, "PUB %s 2\r\nok\r\n", bad[i]);
        h_expect(c, "-ERR 'Invalid Publish Subject'\r\n");
    }
    h_ping(c); /* still open */

    h_close(c);
    h_server_stop(s);
}
