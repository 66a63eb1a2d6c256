/* -ERR texts of nats-server v2.14.5 and whether the connection is closed afterwards.
 *
 * Only TestAuthorizationTimeout (server/client_test.go) is a direct port; the other cases
 * pin the bytes of server/client.go and server/parser.go (sendErr, closeConnection,
 * maxPayloadViolation, overMaxControlLineLimit, authViolation) for the errors a client can
 * provoke.  'Stale Connection' is covered in test_ping.c, 'Unknown Protocol Operation' and
 * the 256-byte control line in test_proto.c, 'Invalid Publish Subject' in test_pedantic.c.
 *
 * Rule of thumb the cases show: a parse error or a limit on the connection closes it (with
 * an -ERR when the server has words for it), a rejected subscription does not.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "common/gotest.h"
#include "harness.h"

#define QUIET "{\"verbose\":false,\"pedantic\":false}"
#define QUIET_HEADERS "{\"verbose\":false,\"pedantic\":false,\"headers\":true}"
#define AUTH_CONF "authorization {\n  token: \"s3cr3t\"\n  timeout: 0.5\n}\n"

/* The sublist refuses malformed subjects whatever the pedantic flag says. */
Test(errors, invalid_subject_keeps_connection) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo..bar 1\r\n");
    h_expect(c, "-ERR 'Invalid Subject'\r\n");
    h_send(c, "SUB foo.>.bar 2\r\n");
    h_expect(c, "-ERR 'Invalid Subject'\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}

/* Without pedantic, a wildcard publish subject is not checked at all. */
Test(errors, wildcard_publish_without_pedantic) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "PUB foo.* 2\r\nok\r\nPUB foo.> 2\r\nok\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, unknown_operation_after_connect) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_ping(c);
    h_send(c, "FOO bar\r\n");
    h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, unsub_without_sid) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "UNSUB\r\n");
    h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

/* UNSUB of a sid that does not exist is silently ignored. */
Test(errors, unsub_unknown_sid) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "UNSUB 5\r\nUNSUB 6 10\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}

/* processSub's argument error is returned to the read loop: closed, no -ERR. */
Test(errors, sub_with_too_many_args) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB a b c d\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, hpub_header_larger_than_total) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET_HEADERS);
    h_send(c, "HPUB foo 10 5\r\n12345\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, hpub_max_payload) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET_HEADERS);
    h_send(c, "HPUB foo 0 2000000\r\n");
    h_expect(c, "-ERR 'Maximum Payload Violation'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

/* Default max_control_line is 4096; a complete but longer line is refused at its LF. */
Test(errors, control_line_default_limit) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    static char line[5000 + 16];
    memcpy(line, "SUB ", 4);
    memset(line + 4, 'a', 5000);
    memcpy(line + 5004, " 1\r\n", 5);
    h_send(c, line);
    h_expect(c, "-ERR 'maximum control line exceeded'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, max_subscriptions) {
    h_server *s = h_server_start("max_subscriptions: 1\n");
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB a 1\r\nSUB b 2\r\n");
    h_expect(c, "-ERR 'maximum subscriptions exceeded'\r\n");
    /* Still connected, and the first subscription works. */
    h_send(c, "PUB a 1\r\nx\r\nPUB b 1\r\ny\r\nPING\r\n");
    h_expect(c, "MSG a 1 1\r\nx\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

/* The extra client still gets INFO first, then the error, then the close. */
Test(errors, max_connections) {
    h_server *s = h_server_start("max_connections: 1\n");
    h_conn *a = h_connect_setup(s->port, QUIET);
    h_ping(a); /* registered */
    h_conn *b = h_connect(s->port);
    json_decref(h_read_info(b));
    h_expect(b, "-ERR 'maximum connections exceeded'\r\n");
    h_expect_closed(b);
    h_ping(a);
    h_close(b);
    h_close(a);
    h_server_stop(s);
}

Test(errors, authentication_timeout) {
    GO_TEST("server/client_test.go", "TestAuthorizationTimeout");
    h_server *s = h_server_start(AUTH_CONF);
    int64_t start = h_now_ms();
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert(json_is_true(json_object_get(info, "auth_required")));
    json_decref(info);
    /* Send nothing: the auth timer (0.5s) fires. */
    h_expect(c, "-ERR 'Authentication Timeout'\r\n");
    int64_t elapsed = h_now_ms() - start;
    cr_assert_geq(elapsed, 450, "auth timeout fired after %ld ms", (long)elapsed);
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, authorization_violation) {
    h_server *s = h_server_start(AUTH_CONF);
    h_conn *c = h_connect_setup(s->port, "{\"verbose\":false,\"auth_token\":\"wrong\"}");
    h_expect(c, "-ERR 'Authorization Violation'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

/* With auth required the first operation must be CONNECT. */
Test(errors, auth_required_ping_before_connect) {
    h_server *s = h_server_start(AUTH_CONF);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "PING\r\n");
    h_expect(c, "-ERR 'Authorization Violation'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(errors, auth_good_token) {
    h_server *s = h_server_start(AUTH_CONF);
    h_conn *c = h_connect_setup(s->port, "{\"verbose\":false,\"auth_token\":\"s3cr3t\"}");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}
