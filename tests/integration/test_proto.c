/* Port of test/proto_test.go (nats-server v2.14.5): the client protocol over a raw socket.
 *
 * Go's runProtoServer() sets MaxControlLine=256 (and NoSystemAccount, which changes nothing a
 * client can see); we pass it as `max_control_line: 256` in a config file.  Where Go only
 * matches a loose regex (errRe, msgRe) we assert the exact bytes v2.14.5 sends, because this
 * server has to be byte-compatible.  Go sleeps before counting messages; we send PING and read
 * up to the PONG instead, which orders after every MSG the server queued for us.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gotest.h"
#include "harness.h"

#define PROTO_CONF "max_control_line: 256\n"

/* Read n MSGs for subject "foo" with payload "ok" and count them per sid (up to 4 sids). */
struct sid_count {
    char sid[64];
    int n;
};

static int count_msgs(h_conn *c, int n, struct sid_count *counts, int max_sids) {
    int nsids = 0;
    for (int i = 0; i < n; i++) {
        h_msg m;
        h_read_msg(c, &m);
        cr_assert_str_eq(m.subject, "foo");
        cr_assert_str_eq(m.data, "ok");
        int j = 0;
        while (j < nsids && strcmp(counts[j].sid, m.sid) != 0)
            j++;
        if (j == nsids) {
            cr_assert_lt(nsids, max_sids, "more sids than subscriptions: %s", m.sid);
            snprintf(counts[j].sid, sizeof counts[j].sid, "%s", m.sid);
            counts[j].n = 0;
            nsids++;
        }
        counts[j].n++;
        h_msg_free(&m);
    }
    return nsids;
}

Test(proto, basics) {
    GO_TEST("test/proto_test.go", "TestProtoBasics");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    h_ping(c);

    h_send(c, "SUB foo 1\r\nPUB foo 5\r\nhello\r\n");
    h_expect(c, "MSG foo 1 5\r\nhello\r\n");

    /* Two subscriptions match; the order of the two deliveries is not specified. */
    h_send(c, "SUB * 2\r\nPUB foo 2\r\nok\r\n");
    struct sid_count counts[2];
    cr_assert_eq(count_msgs(c, 2, counts, 2), 2);
    cr_assert_eq(counts[0].n, 1);
    cr_assert_eq(counts[1].n, 1);

    h_close(c);
    h_server_stop(s);
}

Test(proto, err) {
    GO_TEST("test/proto_test.go", "TestProtoErr");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    /* No CRLF: the parser fails on the first byte that cannot start an operation. */
    h_send(c, "ZZZ");
    h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
    h_expect_closed(c);

    h_close(c);
    h_server_stop(s);
}

Test(proto, unsub_max) {
    GO_TEST("test/proto_test.go", "TestUnsubMax");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    h_send(c, "SUB foo 22\r\n");
    h_send(c, "UNSUB 22 2\r\n");
    for (int i = 0; i < 100; i++)
        h_send(c, "PUB foo 2\r\nok\r\n");
    h_send(c, "PING\r\n");
    /* Exactly two deliveries, then nothing but the PONG. */
    h_expect(c, "MSG foo 22 2\r\nok\r\nMSG foo 22 2\r\nok\r\nPONG\r\n");

    h_close(c);
    h_server_stop(s);
}

Test(proto, queue_sub) {
    GO_TEST("test/proto_test.go", "TestQueueSub");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    const int sent = 100;
    h_send(c, "SUB foo qgroup1 22\r\n");
    h_send(c, "SUB foo qgroup1 32\r\n");
    for (int i = 0; i < sent; i++)
        h_send(c, "PUB foo 2\r\nok\r\n");
    h_send(c, "PING\r\n");

    struct sid_count counts[2];
    cr_assert_eq(count_msgs(c, sent, counts, 2), 2, "expected both queue members to get msgs");
    h_expect(c, "PONG\r\n"); /* and not a single extra delivery */
    for (int i = 0; i < 2; i++)
        cr_assert_geq(counts[i].n, 35, "expected ~50 (+-15) msgs for sid '%s', got %d",
                      counts[i].sid, counts[i].n);

    h_close(c);
    h_server_stop(s);
}

Test(proto, multiple_queue_sub) {
    GO_TEST("test/proto_test.go", "TestMultipleQueueSub");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    const int sent = 100;
    h_send(c, "SUB foo g1 1\r\n");
    h_send(c, "SUB foo g1 2\r\n");
    h_send(c, "SUB foo g2 3\r\n");
    h_send(c, "SUB foo g2 4\r\n");
    for (int i = 0; i < sent; i++)
        h_send(c, "PUB foo 2\r\nok\r\n");
    h_send(c, "PING\r\n");

    /* One delivery per group per message. */
    struct sid_count counts[4];
    cr_assert_eq(count_msgs(c, sent * 2, counts, 4), 4);
    h_expect(c, "PONG\r\n");
    int g1 = 0;
    for (int i = 0; i < 4; i++) {
        cr_assert_geq(counts[i].n, 35, "expected ~50 (+-15) msgs for sid '%s', got %d",
                      counts[i].sid, counts[i].n);
        if (!strcmp(counts[i].sid, "1") || !strcmp(counts[i].sid, "2")) g1 += counts[i].n;
    }
    cr_assert_eq(g1, sent, "group g1 must receive each message exactly once");

    h_close(c);
    h_server_stop(s);
}

Test(proto, pub_to_arg_state) {
    GO_TEST("test/proto_test.go", "TestPubToArgState");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    h_send(c, "PUBS foo 2\r\nok\r\n");
    h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
    h_expect_closed(c);

    h_close(c);
    h_server_stop(s);
}

Test(proto, sub_to_arg_state) {
    GO_TEST("test/proto_test.go", "TestSubToArgState");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    h_send(c, "SUBZZZ foo 1\r\n");
    h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
    h_expect_closed(c);

    h_close(c);
    h_server_stop(s);
}

/* Issue #63: a CONNECT whose CRLF arrives in a later read must still be processed. */
Test(proto, proto_crash) {
    GO_TEST("test/proto_test.go", "TestProtoCrash");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));

    h_send(c, "CONNECT {\"verbose\":true,\"tls_required\":false,\"user\":\"test\","
              "\"pedantic\":true,\"pass\":\"password\"}");
    h_pause_ms(100); /* as Go: make the server read the CONNECT without its CRLF first */
    h_send(c, "\r\n");
    /* No auth configured: user/pass are ignored and the verbose client gets +OK. */
    h_expect(c, "+OK\r\n");

    h_close(c);
    h_server_stop(s);
}

/* Issue #136: a second SUB with the same sid must not create a second subscription. */
Test(proto, duplicate_proto_sub) {
    GO_TEST_PARTIAL("test/proto_test.go", "TestDuplicateProtoSub",
                    "checks one delivery instead of the server's subscription count");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    h_ping(c);
    h_send(c, "SUB foo 1\r\n");
    h_send(c, "SUB foo 1\r\n");
    h_send(c, "PUB foo 2\r\nok\r\nPING\r\n");
    h_expect(c, "MSG foo 1 2\r\nok\r\nPONG\r\n");

    h_close(c);
    h_server_stop(s);
}

Test(proto, incomplete_pub_arg) {
    GO_TEST("test/proto_test.go", "TestIncompletePubArg");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    /* Third PUB is short (3371 of 10000 bytes), so the fourth PUB line and its payload become
     * its payload and the byte after 10000 of them is a 'C' where CRLF must be. */
    const char *pub = "PUB example 10000\r\n";
    size_t cap = 4 * 20 + 10002 * 3 + 3371 + 16, n = 0;
    char *buf = malloc(cap);
#define APPEND(str, len) (memcpy(buf + n, (str), (len)), n += (len))
#define FILL(ch, len) (memset(buf + n, (ch), (len)), n += (len))
    for (int i = 0; i < 2; i++) {
        APPEND(pub, strlen(pub));
        FILL('A', 10000);
        APPEND("\r\n", 2);
    }
    APPEND(pub, strlen(pub));
    FILL('B', 3371);
    APPEND(pub, strlen(pub));
    FILL('C', 10000);
    APPEND("\r\n", 2);
#undef APPEND
#undef FILL
    h_sendn(c, buf, n);
    free(buf);

    h_expect(c, "-ERR 'Unknown Protocol Operation'\r\n");
    h_expect_closed(c);

    h_close(c);
    h_server_stop(s);
}

Test(proto, control_line_maximums) {
    GO_TEST("test/proto_test.go", "TestControlLineMaximums");
    h_server *s = h_server_start(PROTO_CONF);
    h_conn *c = h_connect_setup(s->port, NULL);

    /* 328 bytes without CRLF: over the 256 limit before the line even ends. */
    char line[8 + 320 + 1] = "PUB foo ";
    for (int i = 0; i < 32; i++)
        strcat(line, "2222222222");
    h_send(c, line);
    /* v2.14.5 sends err.Error() of ErrMaxControlLine: lower case, unlike most -ERR texts. */
    h_expect(c, "-ERR 'maximum control line exceeded'\r\n");
    h_expect_closed(c);

    h_close(c);
    h_server_stop(s);
}

Test(proto, server_info_with_client_advertise) {
    GO_TEST("test/proto_test.go", "TestServerInfoWithClientAdvertise");
    h_server *s = h_server_start(NULL, "--client_advertise", "me:1");
    h_conn *c = h_connect(s->port);

    json_t *info = h_read_info(c);
    cr_assert_str_eq(json_string_value(json_object_get(info, "host")), "me");
    cr_assert_eq(json_integer_value(json_object_get(info, "port")), 1);
    json_decref(info);

    h_close(c);
    h_server_stop(s);
}
