/* Differential cases: valid client traffic (CONNECT variants, PING/PONG, SUB/UNSUB, PUB,
 * HPUB/HMSG, queue groups, wildcards, request/reply, echo, payload shapes, verbose +OK).
 * Every case runs against the Go server and ours; see diff.h. */
#include <criterion/criterion.h>

#include "common/gotest.h"
#include "diff.h"

/* Case tables are laid out one step per line where that reads better; clang-format would
 * pack them. */
/* clang-format off */

/* ---- INFO and CONNECT ------------------------------------------------------------------------ */

Test(diff, info_default) {
    static const diff_step s[] = {OPEN(0), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, info_with_max_payload_config) {
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0)};
    DIFF_RUN("max_payload: 4096\n", s);
}

Test(diff, info_no_header_support) {
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0)};
    DIFF_RUN("no_header_support: true\n", s);
}

Test(diff, connect_plain_ping) {
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_empty_object) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {}\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_all_client_fields) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,"
                "\"name\":\"diff-client\",\"lang\":\"c\",\"version\":\"9.9.9\",\"protocol\":1,"
                "\"echo\":true,\"headers\":true,\"no_responders\":true}\r\n"),
        SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo 2\r\nhi\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, connect_unknown_fields_ignored) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"foo\":\"bar\",\"nested\":{\"a\":[1,2,3]},"
                "\"n\":null}\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, connect_protocol_0) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"protocol\":0}\r\n"),
        SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo 1\r\nx\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, connect_protocol_1) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"protocol\":1}\r\n"),
        SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo 1\r\nx\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, connect_verbose_ok) {
    GO_TEST("test/verbose_test.go", "TestVerbosePing");
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_VERBOSE), LINE(0), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_verbose_second_connect) {
    GO_TEST("test/verbose_test.go", "TestVerboseConnect");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_VERBOSE),
        LINE(0),
        SEND(0, "CONNECT {\"verbose\":true,\"pedantic\":true,\"tls_required\":false}\r\n"),
        LINE(0),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, verbose_pub_sub_unsub_ok) {
    GO_TEST("test/verbose_test.go", "TestVerbosePubSub");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_VERBOSE),
        LINE(0),
        SEND(0, "PUB foo 2\r\nok\r\n"),
        LINE(0),
        SEND(0, "SUB foo 1\r\n"),
        LINE(0),
        SEND(0, "UNSUB 1\r\n"),
        LINE(0),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* One +OK per operation, with the delivered message interleaved where the server sends it. */
Test(diff, verbose_pipelined_sequence) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"headers\":true}\r\n"
                "SUB foo 1\r\nSUB bar q 2\r\nPUB foo 2\r\nok\r\nHPUB bar 12 14\r\n"
                "NATS/1.0\r\n\r\nhi\r\nUNSUB 1\r\nUNSUB 2 5\r\nPING\r\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

/* verbose switched off by a second CONNECT: no +OK from then on. */
Test(diff, verbose_switched_off_by_second_connect) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_VERBOSE),
        LINE(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* v2.14.5 drops the subscriptions of a connection that sends a second CONNECT
 * (processConnect: clearAccountSubs when !firstConnect); Go 2.9.10 keeps them. */
Test(diff, second_connect_plain) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN),
        SEND(0, "SUB foo 1\r\n"),
        SEND(0, "CONNECT {\"verbose\":false,\"name\":\"again\"}\r\n"),
        SEND(0, "PUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, second_connect_drops_subscriptions) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nSUB bar q 2\r\nSUB baz 3\r\nUNSUB 3 5\r\n"),
        SYNC(0),
        SEND(0, CONNECT_PLAIN "PUB foo 1\r\na\r\nPUB bar 1\r\nb\r\nPUB baz 1\r\nc\r\n"),
        SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo 1\r\nd\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* The first CONNECT after traffic sent without one is a first CONNECT: nothing is dropped. */
Test(diff, first_connect_after_traffic_keeps_subscriptions) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "SUB foo 1\r\n"),
        SEND(0, CONNECT_PLAIN "PUB foo 1\r\na\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- PING / PONG ------------------------------------------------------------------------------ */

Test(diff, ping_before_connect) {
    static const diff_step s[] = {OPEN(0), SYNC(0), SEND(0, CONNECT_PLAIN), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, many_pings_one_write) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "PING\r\nPING\r\nPING\r\nPING\r\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, unprompted_pong_ignored) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "PONG\r\nPONG\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* The server/client_test.go unit cases, over TCP (without CONNECT, as those tests do). */
Test(diff, client_ping) {
    GO_TEST("server/client_test.go", "TestClientPing");
    static const diff_step s[] = {OPEN(0), SEND(0, "PING\r\n"), LINE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, client_simple_pub_sub) {
    GO_TEST("server/client_test.go", "TestClientSimplePubSub");
    static const diff_step s[] = {
        OPEN(0), SEND(0, "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n"), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, client_no_body_pub_sub_with_reply) {
    GO_TEST("server/client_test.go", "TestClientNoBodyPubSubWithReply");
    static const diff_step s[] = {
        OPEN(0), SEND(0, "SUB foo 1\r\nPUB foo bar 0\r\n\r\nPING\r\n"), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, client_unsub_max) {
    GO_TEST("server/client_test.go", "TestClientUnSubMax");
    GO_TEST("server/client_test.go", "TestClientAutoUnsubExactReceived");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "SUB foo 1\r\nUNSUB 1 5\r\n"
                "PUB foo bar 5\r\nhello\r\nPUB foo bar 5\r\nhello\r\nPUB foo bar 5\r\nhello\r\n"
                "PUB foo bar 5\r\nhello\r\nPUB foo bar 5\r\nhello\r\nPUB foo bar 5\r\nhello\r\n"
                "PUB foo bar 5\r\nhello\r\nPUB foo bar 5\r\nhello\r\nPUB foo bar 5\r\nhello\r\n"
                "PUB foo bar 5\r\nhello\r\nPING\r\n"),
        SETTLE(0),
        SEND(0, "SUB foo 2\r\nUNSUB 2 1\r\nPUB foo bar 2\r\nok\r\nPUB foo bar 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, client_unsub_after_auto_unsub) {
    GO_TEST("server/client_test.go", "TestClientUnsubAfterAutoUnsub");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "SUB foo 1\r\nUNSUB 1 1\r\nUNSUB 1\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A PUB to foo.bar does not match SUB foo. */
Test(diff, two_token_pub_single_token_sub) {
    GO_TEST("server/client_test.go", "TestTwoTokenPubMatchSingleTokenSub");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "PUB foo.bar 5\r\nhello\r\nSUB foo 1\r\nPING\r\nPUB foo.bar 5\r\nhello\r\n"
                "PING\r\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, client_header_deliver_msg) {
    GO_TEST("server/client_test.go", "TestClientHeaderDeliverMsg");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"headers\":true}\r\nSUB foo 1\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, client_connect_proto) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientConnectProto",
                    "the parsed ClientOpts are not observable; checks the +OKs and the close "
                    "for protocol 22");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"pedantic\":true,\"tls_required\":false}\r\n"),
        LINE(0),
        SEND(0, "CONNECT {\"verbose\":true,\"pedantic\":true,\"tls_required\":false,"
                "\"protocol\":1}\r\n"),
        LINE(0),
        SEND(0, "CONNECT {\"protocol\":22}\r\n"),
        CLOSED(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- SUB / PUB / UNSUB --------------------------------------------------------------------- */

Test(diff, proto_basics) {
    GO_TEST("test/proto_test.go", "TestProtoBasics");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN),
        SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo 5\r\nhello\r\n"),
        SYNC(0),
        SEND(0, "SUB * 2\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, pub_with_reply) {
    GO_TEST("server/client_test.go", "TestClientSimplePubSubWithReply");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo bar 5\r\nhello\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, pub_no_interest) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "PUB foo 5\r\nhello\r\nPUB foo r 5\r\nhello\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, pub_sub_two_connections) {
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(0, CONNECT_PLAIN "SUB foo.bar 7\r\n"),
        SYNC(0),
        SEND(1, CONNECT_PLAIN "PUB foo.bar 3\r\nabc\r\nPUB foo.baz 3\r\nxyz\r\n"),
        SYNC(1),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, sub_unsub) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 1\r\na\r\nUNSUB 1\r\nPUB foo 1\r\nb\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, unsub_max) {
    GO_TEST("test/proto_test.go", "TestUnsubMax");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 22\r\nUNSUB 22 2\r\n"
                              "PUB foo 2\r\nok\r\nPUB foo 2\r\nok\r\nPUB foo 2\r\nok\r\n"
                              "PUB foo 2\r\nok\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* UNSUB with a max already reached removes the subscription at once. */
Test(diff, unsub_max_already_reached) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n"),
        SYNC(0),
        SEND(0, "UNSUB 1 1\r\nPUB foo 1\r\nc\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, unsub_max_zero) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nUNSUB 1 0\r\nPUB foo 1\r\na\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, unsub_unknown_sid) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "UNSUB 5\r\nUNSUB 6 10\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, duplicate_sid) {
    GO_TEST("test/proto_test.go", "TestDuplicateProtoSub");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nSUB foo 1\r\nPUB foo 1\r\na\r\n"),
        SYNC(0),
        SEND(0, "UNSUB 1\r\nPUB foo 1\r\nb\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* Two subscriptions of one connection matching one message: one MSG per subscription, in an
 * order Go leaves undefined (a Go map), so the step is compared sorted. */
Test(diff, two_sids_same_subject) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nSUB foo 2\r\nPUB foo 2\r\nok\r\n"),
        SYNC_UNORDERED(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, sid_alphanumeric) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo abc.DEF-1\r\nPUB foo 1\r\nx\r\nUNSUB abc.DEF-1\r\n"
                              "PUB foo 1\r\ny\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, extra_whitespace_between_args) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB  foo \t 1  \r\nPUB\tfoo\t 2 \r\nok\r\nPUB   foo  r   2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A bare LF line ending is accepted for control lines. */
Test(diff, lf_only_line_endings) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false}\nSUB foo 1\nPUB foo 2\nok\r\nPING\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- payload shapes -------------------------------------------------------------------------- */

Test(diff, empty_payload) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 0\r\n\r\nPUB foo r 0\r\n\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, payload_with_crlf) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 8\r\na\r\nb\r\n\r\n\r\n"
                              "PUB foo 6\r\nPING\r\n\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, payload_binary_bytes) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 6\r\n\x00\x01\xff\xfe\r\x7f\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, payload_64k) {
    const char *pub = diff_rep("PUB foo 65536\r\n", 'x', 65536, "\r\n");
    const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN "SUB foo 1\r\n"), SENDN(0, pub, 0), SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, payload_default_max_exact) {
    const char *pub = diff_rep("PUB foo 1048576\r\n", 'z', 1048576, "\r\n");
    const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN "SUB foo 1\r\n"), SENDN(0, pub, 0), SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A 4000-byte subject: under the default 4096-byte control line. */
Test(diff, long_subject_under_default_control_line) {
    const char *sub = diff_rep("SUB ", 'a', 4000, " 1\r\n");
    const char *pub = diff_rep("PUB ", 'a', 4000, " 2\r\nok\r\n");
    const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SENDN(0, sub, 0), SENDN(0, pub, 0), SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, sid_reuse_after_unsub) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nUNSUB 1\r\nSUB bar 1\r\nPUB foo 1\r\na\r\n"
                              "PUB bar 1\r\nb\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* Exactly max_payload is accepted; one byte more is refused. */
Test(diff, max_payload_boundary_exact) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 16\r\n0123456789abcdef\r\n"),
        SYNC(0),
    };
    DIFF_RUN("max_payload: 16\n", s);
}

Test(diff, max_payload_boundary_hpub_exact) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB foo 1\r\nHPUB foo 12 16\r\nNATS/1.0\r\n\r\nabcd\r\n"),
        SYNC(0),
    };
    DIFF_RUN("max_payload: 16\n", s);
}

/* ---- headers --------------------------------------------------------------------------------- */

Test(diff, hpub_hmsg) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB foo 1\r\n"
                             "HPUB foo 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, hpub_with_reply) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB foo 1\r\nHPUB foo reply.to 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, hpub_headers_only) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB foo 1\r\nHPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, hpub_status_line) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB foo 1\r\nHPUB foo 26 26\r\nNATS/1.0 503 No Thanks\r\n\r\n\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A subscriber that did not ask for headers gets MSG with the payload only. */
Test(diff, hpub_to_subscriber_without_headers) {
    GO_TEST("server/client_test.go", "TestClientHeaderDeliverStrippedMsg");
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(1, CONNECT_PLAIN "SUB foo 1\r\n"),
        SYNC(1),
        SEND(0, "CONNECT {\"headers\":true}\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\n"),
        SYNC(0),
        SYNC(1),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, hpub_to_queue_subscriber_without_headers) {
    GO_TEST("server/client_test.go", "TestClientHeaderDeliverQueueSubStrippedMsg");
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(1, CONNECT_PLAIN "SUB foo bar 1\r\n"),
        SYNC(1),
        SEND(0, "CONNECT {\"headers\":true}\r\nHPUB foo 12 14\r\nName:Derek\r\nOK\r\n"),
        SYNC(0),
        SYNC(1),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, hpub_to_header_subscriber_other_conn) {
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(1, CONNECT_HDRS "SUB foo 1\r\n"),
        SYNC(1),
        SEND(0, CONNECT_HDRS "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nok\r\n"),
        SYNC(0),
        SYNC(1),
    };
    DIFF_RUN(NULL, s);
}

/* PUB to a header-capable subscriber is still MSG. */
Test(diff, pub_to_header_subscriber) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB foo 1\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- queue groups (one member, so delivery is deterministic) --------------------------------- */

Test(diff, queue_single_member) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo qg 1\r\nPUB foo 2\r\nok\r\nPUB foo r 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, queue_and_plain_subscriber) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo g1 1\r\nSUB foo 2\r\nPUB foo 5\r\nhello\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, queue_member_on_other_connection) {
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(1, CONNECT_PLAIN "SUB foo.* workers 9\r\n"),
        SYNC(1),
        SEND(0, CONNECT_PLAIN "PUB foo.x 3\r\none\r\nPUB foo.y r 3\r\ntwo\r\n"),
        SYNC(0),
        SYNC(1),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, queue_unsub) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo qg 1\r\nUNSUB 1\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, queue_unsub_max) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo qg 1\r\nUNSUB 1 1\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- wildcards ------------------------------------------------------------------------------- */

Test(diff, wildcard_star) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo.* 1\r\nPUB foo.bar 1\r\na\r\nPUB foo 1\r\nb\r\n"
                              "PUB foo.bar.baz 1\r\nc\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, wildcard_full) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo.> 1\r\nPUB foo.bar 1\r\na\r\nPUB foo 1\r\nb\r\n"
                              "PUB foo.bar.baz 1\r\nc\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, wildcard_gt_alone) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB > 1\r\nPUB a 1\r\na\r\nPUB a.b.c 1\r\nb\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, wildcard_mixed) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB *.b.> 1\r\nPUB a.b 1\r\na\r\nPUB a.b.c 1\r\nb\r\n"
                              "PUB x.b.c.d 1\r\nc\r\nPUB a.c.d 1\r\nd\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* '*' and '>' inside a token are literal characters. */
Test(diff, wildcard_chars_in_literal_tokens) {
    GO_TEST("server/client_test.go", "TestWildcardCharsInLiteralSubjectWorks");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo.bar,*,>,baz 1\r\nPUB foo.bar,*,>,baz 3\r\nmsg\r\n"
                              "UNSUB 1\r\nSUB foo.bar,*,>,baz 2\r\nPUB foo.bar,*,>,baz 3\r\nmsg\r\n"
                              "UNSUB 2\r\nSUB a*b.c> 3\r\nPUB a*b.c> 1\r\nb\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- request / reply ----------------------------------------------------------------------- */

Test(diff, request_reply_two_connections) {
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(1, CONNECT_PLAIN "SUB service 1\r\n"),
        SYNC(1),
        SEND(0, CONNECT_PLAIN "SUB _INBOX.abc 1\r\nPUB service _INBOX.abc 3\r\nreq\r\n"),
        SYNC(0),
        SYNC(1),
        SEND(1, "PUB _INBOX.abc 3\r\nrep\r\n"),
        SYNC(1),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* Go 2.9.10 sends a 16-byte 503 header; v2.14.5 adds Nats-Subject (see expected.c). */
Test(diff, request_no_responders) {
    GO_TEST("server/client_test.go", "TestClientNoResponderSupport");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"no_responders\":true}\r\n"),
        CLOSED(0),
        OPEN(1),
        SEND(1, "CONNECT {\"headers\":true, \"no_responders\":true}\r\n"
                "SUB reply 1\r\nPUB foo reply 2\r\nok\r\n"),
        SYNC(1),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, request_no_responders_hpub) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                "SUB _INBOX.* 1\r\nHPUB svc.a _INBOX.y 12 14\r\nNATS/1.0\r\n\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* No 503 when the client did not ask for no_responders, or has no subscription on the reply. */
Test(diff, request_no_responders_not_requested) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_HDRS "SUB _INBOX.x 1\r\nPUB foo _INBOX.x 2\r\nok\r\n"),
        SYNC(0),
        SEND(0, "CONNECT {\"headers\":true,\"no_responders\":true}\r\n"
                "PUB foo _INBOX.other 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A request whose only matching subscriber is the requester itself with echo off: nothing is
 * delivered, so the requester gets the 503 (the rewrite in expected.c adds v2.14.5's
 * Nats-Subject header). */
Test(diff, request_no_responders_echo_off_self) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"echo\":false,\"headers\":true,"
                "\"no_responders\":true}\r\nSUB svc 1\r\nSUB rep 2\r\nPUB svc rep 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A queue subscriber counts as a responder. */
Test(diff, request_queue_responder_no_503) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"
                "SUB svc q 1\r\nSUB rep 2\r\nPUB svc rep 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- echo ------------------------------------------------------------------------------------ */

Test(diff, echo_off) {
    GO_TEST("server/client_test.go", "TestClientPubSubNoEcho");
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(0, "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB foo 1\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
        SEND(1, CONNECT_PLAIN "PUB foo 2\r\nhi\r\n"),
        SYNC(1),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, echo_off_queue_single_member) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB foo q 1\r\n"
                "PUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* A no-echo publisher's queue messages all go to the other member of the group. */
Test(diff, echo_off_queue_other_member) {
    GO_TEST("server/client_test.go", "TestClientPubWithQueueSubNoEcho");
    static const diff_step s[] = {
        OPEN(0),
        OPEN(1),
        SEND(0, "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB foo bar 1\r\n"),
        SYNC(0),
        SEND(1, CONNECT_PLAIN "SUB foo bar 1\r\n"),
        SYNC(1),
        SEND(0, "PUB foo 5\r\nHello\r\nPUB foo 5\r\nHello\r\nPUB foo 5\r\nHello\r\n"
                "PUB foo 5\r\nHello\r\nPUB foo 5\r\nHello\r\n"),
        SYNC(0),
        SYNC(1),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, echo_on_default) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"echo\":true}\r\nSUB foo 1\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- split frames: the same traffic cut at every byte and in odd chunks ---------------------- */

#define SPLIT_SCRIPT                                                                               \
    "CONNECT {\"verbose\":true,\"headers\":true}\r\nSUB foo 1\r\nSUB bar q 2\r\n"                  \
    "PUB foo r 5\r\nhello\r\nHPUB bar 17 22\r\nNATS/1.0\r\nA:b\r\n\r\nworld\r\nPING\r\n"           \
    "UNSUB 1\r\nPUB foo 0\r\n\r\nPING\r\n"

Test(diff, split_whole) {
    static const diff_step s[] = {OPEN(0), SEND(0, SPLIT_SCRIPT), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, split_bytewise) {
    static const diff_step s[] = {OPEN(0), SPLIT(0, SPLIT_SCRIPT, 1), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, split_chunks_3) {
    static const diff_step s[] = {OPEN(0), SPLIT(0, SPLIT_SCRIPT, 3), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, split_chunks_7) {
    static const diff_step s[] = {OPEN(0), SPLIT(0, SPLIT_SCRIPT, 7), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, split_chunks_13) {
    static const diff_step s[] = {OPEN(0), SPLIT(0, SPLIT_SCRIPT, 13), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

/* CONNECT split between "CONNECT {...}" and its CRLF, the Go issue #63 shape. */
Test(diff, connect_crlf_in_separate_write) {
    GO_TEST("test/proto_test.go", "TestProtoCrash");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"tls_required\":false,\"user\":\"test\","
                "\"pedantic\":true,\"pass\":\"password\"}"),
        PAUSE(50),
        SEND(0, "\r\n"),
        LINE(0),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

/* clang-format on */
