/* Raw-socket ports of server/client_test.go (nats-server v2.14.5), plus framing cases.
 *
 * The Go tests drive an in-process client through net.Pipe and look at internals (c.subs,
 * c.opts); here the same protocol exchanges go over TCP to the real binary and we assert the
 * bytes that come back.  A client that sends no CONNECT, or a CONNECT without "verbose", is
 * verbose by default in Go (defaultOpts), so the CONNECTs below say "verbose":false unless
 * the +OKs are part of what is tested.  PING/PONG after a burst is the barrier proving
 * nothing else was delivered.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gotest.h"
#include "harness.h"

#define QUIET "{\"verbose\":false,\"pedantic\":false}"
#define QUIET_HEADERS "{\"verbose\":false,\"pedantic\":false,\"headers\":true}"

Test(client, create_and_info) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientCreateAndInfo",
                    "client id and parser state are internal");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert_eq(json_integer_value(json_object_get(info, "max_payload")), 1024 * 1024);
    cr_assert(!json_is_true(json_object_get(info, "auth_required")));
    cr_assert(!json_is_true(json_object_get(info, "tls_required")));
    cr_assert_eq(json_integer_value(json_object_get(info, "port")), s->port);
    json_decref(info);
    h_close(c);
    h_server_stop(s);
}

Test(client, server_header_support) {
    GO_TEST_PARTIAL("server/client_test.go", "TestServerHeaderSupport",
                    "no_header_support server option not exercised");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert(json_is_true(json_object_get(info, "headers")), "INFO must advertise headers");
    json_decref(info);
    h_close(c);
    h_server_stop(s);
}

Test(client, header_support) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientHeaderSupport",
                    "no_header_support server option not exercised");
    h_server *s = h_server_start(NULL);

    /* Headers must be announced in CONNECT; otherwise HPUB is a protocol violation: the
     * connection is closed without an -ERR (the error is only logged). */
    h_conn *c = h_connect_setup(s->port, "{\"verbose\":false}");
    h_send(c, "HPUB foo 0 2\r\nok\r\n");
    h_expect_closed(c);
    h_close(c);

    c = h_connect_setup(s->port, "{\"verbose\":false,\"headers\":true}");
    h_send(c, "HPUB foo 0 2\r\nok\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}

Test(client, no_responder_support) {
    GO_TEST("server/client_test.go", "TestClientNoResponderSupport");
    h_server *s = h_server_start(NULL);

    /* no_responders without headers is refused and the connection closed. */
    h_conn *c = h_connect_setup(s->port, "{\"no_responders\":true}");
    h_expect(c, "-ERR 'no responders requires headers support'\r\n");
    h_expect_closed(c);
    h_close(c);

    /* v2.14.5 adds a Nats-Subject header naming the subject nobody listened on; 2.9.10 sends
     * "HMSG reply 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n". */
    H_SKIP_IF_GO("no-responders HMSG lacks the Nats-Subject header");
    c = h_connect(s->port);
    json_decref(h_read_info(c));
    /* Go's exact input; verbose by default, so CONNECT, SUB and PUB are each acknowledged. */
    h_send(c, "CONNECT {\"headers\":true, \"no_responders\":true}\r\nSUB reply 1\r\n"
              "PUB foo reply 2\r\nok\r\n");
    h_expect(c, "+OK\r\n+OK\r\n+OK\r\n"
                "HMSG reply 1 35 35\r\nNATS/1.0 503\r\nNats-Subject: foo\r\n\r\n\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, header_deliver_msg) {
    GO_TEST("server/client_test.go", "TestClientHeaderDeliverMsg");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET_HEADERS);
    h_send(c, "SUB foo 1\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\n");
    h_expect(c, "HMSG foo 1 12 14\r\nName:Derek\r\nOK\r\n");
    h_close(c);
    h_server_stop(s);
}

/* A subscriber that did not announce headers gets a MSG with the header part cut off. */
static void stripped_delivery(const char *sub) {
    h_server *s = h_server_start(NULL);
    h_conn *b = h_connect_setup(s->port, QUIET);
    h_send(b, sub);
    h_ping(b); /* the subscription is in place */

    h_conn *c = h_connect_setup(s->port, QUIET_HEADERS);
    h_send(c, "HPUB foo 12 14\r\nName:Derek\r\nOK\r\n");
    h_expect(b, "MSG foo 1 2\r\nOK\r\n");
    h_ping(b); /* and nothing after it */

    h_close(c);
    h_close(b);
    h_server_stop(s);
}

Test(client, header_deliver_stripped_msg) {
    GO_TEST("server/client_test.go", "TestClientHeaderDeliverStrippedMsg");
    stripped_delivery("SUB foo 1\r\n");
}

Test(client, header_deliver_queue_sub_stripped_msg) {
    GO_TEST("server/client_test.go", "TestClientHeaderDeliverQueueSubStrippedMsg");
    stripped_delivery("SUB foo bar 1\r\n");
}

Test(client, connect_bad_protocol) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientConnectProto",
                    "only the illegal protocol value; option parsing is internal");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, "{\"protocol\":22}");
    h_expect(c, "-ERR 'invalid client protocol'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(client, ping) {
    GO_TEST("server/client_test.go", "TestClientPing");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "PING\r\n"); /* even before CONNECT */
    h_expect(c, "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, simple_pub_sub) {
    GO_TEST("server/client_test.go", "TestClientSimplePubSub");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n");
    h_expect(c, "MSG foo 1 5\r\nhello\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, pub_sub_no_echo) {
    GO_TEST("server/client_test.go", "TestClientPubSubNoEcho");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, "{\"verbose\":false,\"echo\":false}");
    h_send(c, "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n");
    h_expect(c, "PONG\r\n");

    /* Another connection still receives what the no-echo client publishes. */
    h_conn *o = h_connect_setup(s->port, QUIET);
    h_send(o, "SUB foo 7\r\n");
    h_ping(o);
    h_send(c, "PUB foo 5\r\nworld\r\nPING\r\n");
    h_expect(c, "PONG\r\n");
    h_expect(o, "MSG foo 7 5\r\nworld\r\n");

    h_close(o);
    h_close(c);
    h_server_stop(s);
}

Test(client, simple_pub_sub_with_reply) {
    GO_TEST("server/client_test.go", "TestClientSimplePubSubWithReply");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nPUB foo bar 5\r\nhello\r\nPING\r\n");
    h_expect(c, "MSG foo 1 bar 5\r\nhello\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, no_body_pub_sub_with_reply) {
    GO_TEST("server/client_test.go", "TestClientNoBodyPubSubWithReply");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nPUB foo bar 0\r\n\r\nPING\r\n");
    h_expect(c, "MSG foo 1 bar 0\r\n\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, pub_with_queue_sub) {
    GO_TEST("server/client_test.go", "TestClientPubWithQueueSub");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    const int num = 100;
    h_send(c, "SUB foo g1 1\r\nSUB foo g1 2\r\n");
    for (int i = 0; i < num; i++)
        h_send(c, "PUB foo bar 5\r\nhello\r\n");
    h_send(c, "PING\r\n");
    int n1 = 0, n2 = 0;
    for (int i = 0; i < num; i++) {
        h_msg m;
        h_read_msg(c, &m);
        cr_assert_str_eq(m.reply, "bar");
        cr_assert_str_eq(m.data, "hello");
        if (!strcmp(m.sid, "1"))
            n1++;
        else if (!strcmp(m.sid, "2"))
            n2++;
        else
            cr_assert_fail("unexpected sid %s", m.sid);
        h_msg_free(&m);
    }
    h_expect(c, "PONG\r\n"); /* exactly one delivery per message */
    cr_assert(n1 >= 20 && n2 >= 20, "queue distribution %d - %d", n1, n2);
    h_close(c);
    h_server_stop(s);
}

Test(client, unsub) {
    GO_TEST("server/client_test.go", "TestClientUnSub");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nSUB foo 2\r\nUNSUB 1\r\nPUB foo bar 5\r\nhello\r\nPING\r\n");
    h_expect(c, "MSG foo 2 bar 5\r\nhello\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, unsub_max) {
    GO_TEST("server/client_test.go", "TestClientUnSubMax");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nUNSUB 1 5\r\n");
    for (int i = 0; i < 10; i++)
        h_send(c, "PUB foo bar 5\r\nhello\r\n");
    h_send(c, "PING\r\n");
    for (int i = 0; i < 5; i++)
        h_expect(c, "MSG foo 1 bar 5\r\nhello\r\n");
    h_expect(c, "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, auto_unsub_exact_received) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientAutoUnsubExactReceived",
                    "subscription removal seen as no further delivery, not in c.subs");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nUNSUB 1 1\r\nPUB foo bar 2\r\nok\r\nPING\r\n");
    h_expect(c, "MSG foo 1 bar 2\r\nok\r\nPONG\r\n");
    h_send(c, "PUB foo bar 2\r\nok\r\nPING\r\n");
    h_expect(c, "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}

Test(client, unsub_after_auto_unsub) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientUnsubAfterAutoUnsub",
                    "subscription removal seen as no delivery, not in c.subs");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB foo 1\r\nUNSUB 1 1\r\nUNSUB 1\r\nPUB foo bar 2\r\nok\r\nPING\r\n");
    h_expect(c, "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}

/* Bug report #18: "foo" must not match a PUB to "foo.bar". */
Test(client, two_token_pub_match_single_token_sub) {
    GO_TEST("server/client_test.go", "TestTwoTokenPubMatchSingleTokenSub");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "PUB foo.bar 5\r\nhello\r\nSUB foo 1\r\nPING\r\nPUB foo.bar 5\r\nhello\r\nPING\r\n");
    h_expect(c, "PONG\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

/* The parser must carry partial state across reads at every byte boundary. */
Test(client, split_frames_bytewise) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send_bytewise(c, "CONNECT {\"verbose\":false,\"headers\":true}\r\n");
    h_send_bytewise(c, "SUB foo.* q 9\r\n");
    h_send_bytewise(c, "PUB foo.x rep 5\r\nhe\r\no\r\n"); /* CRLF inside the payload */
    h_send_bytewise(c, "HPUB foo.y 12 14\r\nName:Derek\r\nOK\r\n");
    h_send_bytewise(c, "PING\r\n");
    h_expect(c, "MSG foo.x 9 rep 5\r\nhe\r\no\r\n"
                "HMSG foo.y 9 12 14\r\nName:Derek\r\nOK\r\n"
                "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}

/* HPUB with a reply subject and an empty body; HMSG carries both lengths. */
Test(client, hpub_hmsg_framing) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET_HEADERS);
    h_send(c, "SUB a.b 1\r\n");
    h_send(c, "HPUB a.b r.1 20 20\r\nNATS/1.0\r\nX-A: 1\r\n\r\n\r\n");
    h_send(c, "HPUB a.b 20 25\r\nNATS/1.0\r\nX-A: 2\r\n\r\nhello\r\nPING\r\n");
    h_expect(c, "HMSG a.b 1 r.1 20 20\r\nNATS/1.0\r\nX-A: 1\r\n\r\n\r\n"
                "HMSG a.b 1 20 25\r\nNATS/1.0\r\nX-A: 2\r\n\r\nhello\r\n"
                "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}

/* Several frames in one write, and a payload split across two writes. */
Test(client, coalesced_and_split_payload) {
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect_setup(s->port, QUIET);
    h_send(c, "SUB x 1\r\nPUB x 1\r\na\r\nPUB x 3\r\nbcd\r\nPUB x 10\r\n01234");
    h_pause_ms(20); /* lets the server read the first half on its own; not a wait */
    h_send(c, "56789\r\nPING\r\n");
    h_expect(c, "MSG x 1 1\r\na\r\nMSG x 1 3\r\nbcd\r\nMSG x 1 10\r\n0123456789\r\nPONG\r\n");
    h_close(c);
    h_server_stop(s);
}

/* Go decodes CONNECT with encoding/json, which matches keys case-insensitively: "USER" and
 * "Pass" authenticate, "Verbose":false turns +OK off. */
Test(client, connect_keys_match_case_insensitively) {
    h_server *s = h_server_start(NULL, "--user", "u", "--pass", "p");
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"Verbose\":false,\"USER\":\"u\",\"Pass\":\"p\"}\r\nPING\r\n");
    h_expect(c, "PONG\r\n");
    h_close(c);
    h_server_stop(s);
}
