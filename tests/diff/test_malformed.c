/* Differential cases: malformed input.  Unknown and mis-cased operations, bad arguments to
 * PUB/HPUB/SUB/UNSUB, broken payload framing, invalid subjects and queue names, bad CONNECT
 * JSON, header misuse.  Each case records the -ERR text and whether (and at which step) the
 * server closed the connection. */
#include <criterion/criterion.h>

#include "common/gotest.h"
#include "diff.h"

/* Case tables are laid out one step per line where that reads better; clang-format would
 * pack them. */
/* clang-format off */

/* One connection: INFO, CONNECT (plain), then `bytes`, then read until closed or idle. */
#define AFTER_CONNECT_SETTLE(bytes)                                                                \
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SEND(0, bytes),        \
                                  SETTLE(0)};                                                      \
    DIFF_RUN(NULL, s)

/* Same, for input the server must reject by closing the connection. */
#define AFTER_CONNECT_CLOSED(bytes)                                                                \
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SEND(0, bytes),        \
                                  CLOSED(0)};                                                      \
    DIFF_RUN(NULL, s)

/* Same, for input the server answers without closing: a PING round trip follows. */
#define AFTER_CONNECT_SYNC(bytes)                                                                  \
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SEND(0, bytes),        \
                                  SYNC(0)};                                                        \
    DIFF_RUN(NULL, s)

/* ---- unknown and mis-cased operations ------------------------------------------------------- */

Test(diff, unknown_op_no_newline) {
    GO_TEST("test/proto_test.go", "TestProtoErr");
    AFTER_CONNECT_CLOSED("ZZZ");
}

Test(diff, unknown_op_line) {
    AFTER_CONNECT_CLOSED("FOO bar\r\n");
}

Test(diff, unknown_op_before_connect) {
    static const diff_step s[] = {OPEN(0), SEND(0, "XYZ\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, pubs_op) {
    GO_TEST("test/proto_test.go", "TestPubToArgState");
    AFTER_CONNECT_CLOSED("PUBS foo 2\r\nok\r\n");
}

Test(diff, subzzz_op) {
    GO_TEST("test/proto_test.go", "TestSubToArgState");
    AFTER_CONNECT_CLOSED("SUBZZZ foo 1\r\n");
}

Test(diff, op_without_space_pubfoo) {
    AFTER_CONNECT_CLOSED("PUBfoo 2\r\nok\r\n");
}

Test(diff, ping_with_garbage) {
    AFTER_CONNECT_SETTLE("PINGX\r\n");
}

Test(diff, ping_with_trailing_space) {
    AFTER_CONNECT_SETTLE("PING \r\n");
}

Test(diff, pong_with_garbage) {
    AFTER_CONNECT_SETTLE("PONGX\r\n");
}

Test(diff, lowercase_ops) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "connect {\"verbose\":false,\"headers\":true}\r\nsub foo 1\r\npub foo 2\r\nok\r\n"
                "hpub foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nunsub 1\r\npub foo 2\r\nok\r\nping\r\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, mixed_case_ops) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CoNnEcT {\"verbose\":true,\"headers\":true}\r\nSuB foo 1\r\nPuB foo 2\r\nok\r\n"
                "HpUb foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUnSuB 1\r\nPiNg\r\npOnG\r\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

/* Server-to-client operations sent by a client. */
Test(diff, client_sends_msg) {
    AFTER_CONNECT_CLOSED("MSG foo 1 2\r\nok\r\n");
}

Test(diff, client_sends_info) {
    AFTER_CONNECT_SETTLE("INFO {}\r\n");
}

Test(diff, client_sends_ok) {
    AFTER_CONNECT_SETTLE("+OK\r\n");
}

Test(diff, client_sends_err) {
    AFTER_CONNECT_CLOSED("-ERR 'boom'\r\n");
}

Test(diff, empty_lines) {
    AFTER_CONNECT_SETTLE("\r\n\r\n");
}

Test(diff, leading_space_before_op) {
    AFTER_CONNECT_SETTLE(" PING\r\n");
}

/* ---- PUB arguments ---------------------------------------------------------------------------- */

Test(diff, pub_no_args) {
    AFTER_CONNECT_CLOSED("PUB\r\n");
}

Test(diff, pub_space_no_args) {
    AFTER_CONNECT_CLOSED("PUB \r\n");
}

Test(diff, pub_missing_size) {
    AFTER_CONNECT_CLOSED("PUB foo\r\n");
}

Test(diff, pub_too_many_args) {
    AFTER_CONNECT_CLOSED("PUB foo bar baz 2\r\nok\r\n");
}

Test(diff, pub_size_not_numeric) {
    AFTER_CONNECT_CLOSED("PUB foo abc\r\n");
}

Test(diff, pub_size_mixed_digits) {
    AFTER_CONNECT_CLOSED("PUB foo 1a\r\n");
}

Test(diff, pub_size_negative) {
    AFTER_CONNECT_CLOSED("PUB foo -1\r\n");
}

Test(diff, pub_size_plus_sign) {
    AFTER_CONNECT_CLOSED("PUB foo +2\r\nok\r\n");
}

Test(diff, pub_size_leading_zeros) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 002\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* A size over max_payload that still fits an int32. */
Test(diff, pub_size_over_max_payload_int32) {
    GO_TEST_PARTIAL("test/maxpayload_test.go", "TestMaxPayloadOverrun",
                    "max_payload is 10000 there and the default here");
    AFTER_CONNECT_CLOSED("PUB foo 199380988\r\n");
}

/* A size that overflows int64: parseSize gives -1. */
Test(diff, pub_size_overflow_int64) {
    AFTER_CONNECT_CLOSED("PUB foo 18446744073709551615123\r\n");
}

Test(diff, max_payload_overrun_config) {
    GO_TEST("test/maxpayload_test.go", "TestMaxPayloadOverrun");
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SEND(0, "PUB foo 199380988\r\n"), CLOSED(0),
        OPEN(1), SEND(1, CONNECT_PLAIN), SYNC(1), SEND(1, "PUB foo 18446744073709551615123\r\n"),
        CLOSED(1),
    };
    DIFF_RUN("max_payload: 10000\n", s);
}

Test(diff, pub_size_9_digits_over_limit) {
    AFTER_CONNECT_CLOSED("PUB foo 999999999\r\n");
}

Test(diff, pub_size_10_digits) {
    AFTER_CONNECT_CLOSED("PUB foo 9999999999\r\n");
}

/* ---- payload framing ----------------------------------------------------------------------- */

Test(diff, payload_not_followed_by_crlf) {
    AFTER_CONNECT_CLOSED("PUB foo 2\r\nokX\r\n");
}

Test(diff, payload_zero_missing_crlf) {
    AFTER_CONNECT_CLOSED("PUB foo 0\r\nPING\r\n");
}

Test(diff, payload_followed_by_lf_only) {
    AFTER_CONNECT_SETTLE("PUB foo 2\r\nok\nPING\r\n");
}

Test(diff, payload_followed_by_cr_garbage) {
    AFTER_CONNECT_CLOSED("PUB foo 2\r\nok\rX\r\n");
}

/* The size counts bytes, CRLFs included: what follows the short payload is payload too, and
 * a following PUB line ends up inside it, so the byte after the 10th is not CR. */
Test(diff, payload_shorter_than_size_swallows_next_pub) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 10\r\nabc\r\nPUB foo 1\r\nx\r\n"),
        SETTLE(0),
    };
    DIFF_RUN(NULL, s);
}

/* A payload completed by a later write: the server waits silently for the rest. */
Test(diff, payload_completed_by_later_write) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo 1\r\nPUB foo 10\r\nabc\r\n"),
        SETTLE(0),
        SEND(0, "defgh\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, incomplete_pub_arg) {
    GO_TEST("test/proto_test.go", "TestIncompletePubArg");
    const char *good = diff_rep("PUB example 10000\r\n", 'A', 10000, "\r\n");
    const char *bad = diff_rep("PUB example 10000\r\n", 'B', 3371, "");
    const char *bad2 = diff_rep("PUB example 10000\r\n", 'C', 10000, "\r\n");
    const diff_step s[] = {
        OPEN(0),         SEND(0, CONNECT_PLAIN), SYNC(0),   SENDN(0, good, 0),
        SENDN(0, good, 0), SENDN(0, bad, 0),     SENDN(0, bad2, 0), CLOSED(0),
    };
    DIFF_RUN(NULL, s);
}

/* ---- HPUB ------------------------------------------------------------------------------------- */

static const char hpub_conn[] = CONNECT_HDRS;

#define HPUB_CLOSED(bytes)                                                                         \
    static const diff_step s[] = {OPEN(0), SEND(0, hpub_conn), SYNC(0), SEND(0, bytes),            \
                                  CLOSED(0)};                                                      \
    DIFF_RUN(NULL, s)
#define HPUB_SETTLE(bytes)                                                                         \
    static const diff_step s[] = {OPEN(0), SEND(0, hpub_conn), SYNC(0), SEND(0, bytes),            \
                                  SETTLE(0)};                                                      \
    DIFF_RUN(NULL, s)

Test(diff, hpub_before_headers_enabled) {
    AFTER_CONNECT_CLOSED("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nok\r\n");
}

Test(diff, hpub_when_server_disables_headers) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_HDRS), SYNC(0),
        SEND(0, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nok\r\n"), CLOSED(0)};
    DIFF_RUN("no_header_support: true\n", s);
}

Test(diff, hpub_one_size_only) {
    HPUB_CLOSED("HPUB foo 12\r\n");
}

Test(diff, hpub_no_args) {
    HPUB_CLOSED("HPUB\r\n");
}

Test(diff, hpub_too_many_args) {
    HPUB_CLOSED("HPUB foo bar baz 12 14\r\n");
}

Test(diff, hpub_header_larger_than_total) {
    HPUB_CLOSED("HPUB foo 14 12\r\n");
}

Test(diff, hpub_header_size_not_numeric) {
    HPUB_CLOSED("HPUB foo x 12\r\n");
}

Test(diff, hpub_total_size_not_numeric) {
    HPUB_CLOSED("HPUB foo 12 x\r\n");
}

Test(diff, hpub_negative_header_size) {
    HPUB_CLOSED("HPUB foo -1 12\r\n");
}

Test(diff, hpub_zero_sizes) {
    HPUB_SETTLE("SUB foo 1\r\nHPUB foo 0 0\r\n\r\nPING\r\n");
}

Test(diff, hpub_zero_header_size) {
    HPUB_SETTLE("SUB foo 1\r\nHPUB foo 0 2\r\nok\r\nPING\r\n");
}

Test(diff, hpub_header_without_nats_line) {
    HPUB_SETTLE("SUB foo 1\r\nHPUB foo 6 6\r\nA: b\r\n\r\nPING\r\n");
}

Test(diff, hpub_over_max_payload) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_HDRS), SYNC(0), SEND(0, "HPUB foo 12 17\r\n"), CLOSED(0)};
    DIFF_RUN("max_payload: 16\n", s);
}

Test(diff, hpub_payload_not_followed_by_crlf) {
    HPUB_CLOSED("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nokXX\r\n");
}

/* no_responders requires headers: the CONNECT is refused and the connection closed. */
Test(diff, no_responders_without_headers) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":false,\"no_responders\":true}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, no_responders_headers_false) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"headers\":false,\"no_responders\":true}\r\n"),
        CLOSED(0)};
    DIFF_RUN(NULL, s);
}

/* ---- SUB arguments ---------------------------------------------------------------------------- */

Test(diff, sub_no_args) {
    AFTER_CONNECT_CLOSED("SUB\r\n");
}

Test(diff, sub_missing_sid) {
    AFTER_CONNECT_CLOSED("SUB foo\r\n");
}

Test(diff, sub_too_many_args) {
    AFTER_CONNECT_CLOSED("SUB a b c d\r\n");
}

/* ---- UNSUB arguments -------------------------------------------------------------------------- */

Test(diff, unsub_no_args) {
    AFTER_CONNECT_CLOSED("UNSUB\r\n");
}

Test(diff, unsub_too_many_args) {
    AFTER_CONNECT_CLOSED("UNSUB 1 2 3\r\n");
}

Test(diff, unsub_max_not_numeric) {
    AFTER_CONNECT_SETTLE("SUB foo 1\r\nUNSUB 1 abc\r\nPUB foo 1\r\nx\r\nPING\r\n");
}

Test(diff, unsub_max_negative) {
    AFTER_CONNECT_SETTLE("SUB foo 1\r\nUNSUB 1 -5\r\nPUB foo 1\r\nx\r\nPING\r\n");
}

/* ---- subjects ----------------------------------------------------------------------------------- */

Test(diff, sub_invalid_subjects) {
    AFTER_CONNECT_SYNC("SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB .foo 3\r\nSUB foo. 4\r\n"
                       "SUB foo.*bar.> 5\r\n");
}

Test(diff, sub_invalid_subjects_pedantic) {
    GO_TEST("test/pedantic_test.go", "TestPedanticSub");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PEDANTIC),
        SYNC(0),
        SEND(0, "SUB foo. 1\r\n"),
        LINE(0),
        SEND(0, "SUB .foo. 1\r\n"),
        LINE(0),
        SEND(0, "SUB foo..bar 1\r\n"),
        LINE(0),
        SEND(0, "SUB foo.>.bar 1\r\n"),
        LINE(0),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, sub_invalid_subject_verbose) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_VERBOSE), LINE(0), SEND(0, "SUB foo..bar 1\r\nSUB foo 2\r\n"),
        SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* Without pedantic, a wildcard or malformed publish subject is not checked. */
Test(diff, pub_wildcard_subject_not_pedantic) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB > 1\r\nPUB foo.* 2\r\nok\r\nPUB foo.> 2\r\nok\r\n"
                              "PUB foo..bar 2\r\nok\r\nPUB .foo 2\r\nok\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, pub_wildcard_subject_pedantic) {
    GO_TEST("test/pedantic_test.go", "TestPedanticPub");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PEDANTIC),
        SYNC(0),
        SEND(0, "PUB foo.* 2\r\nok\r\n"),
        LINE(0),
        SEND(0, "PUB foo.> 2\r\nok\r\n"),
        LINE(0),
        SEND(0, "PUB foo. 2\r\nok\r\n"),
        LINE(0),
        SEND(0, "PUB .foo 2\r\nok\r\n"),
        LINE(0),
        SEND(0, "PUB foo..* 2\r\nok\r\n"),
        LINE(0),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, pub_invalid_subject_pedantic_verbose) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"pedantic\":true,\"headers\":true}\r\n"),
        LINE(0),
        SEND(0, "SUB > 1\r\nPUB foo.* 2\r\nok\r\nPUB foo 2\r\nok\r\nHPUB a.> 12 12\r\n"
                "NATS/1.0\r\n\r\n\r\n"),
        SYNC(0),
    };
    DIFF_RUN(NULL, s);
}

Test(diff, hpub_wildcard_subject_pedantic) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"pedantic\":true,\"headers\":true}\r\n"), SYNC(0),
        SEND(0, "HPUB foo.* 12 12\r\nNATS/1.0\r\n\r\n\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* Reply subjects with wildcards. */
Test(diff, pub_wildcard_reply) {
    AFTER_CONNECT_SYNC("SUB foo 1\r\nPUB foo bar.* 2\r\nok\r\nPUB foo bar.> 2\r\nok\r\n");
}

Test(diff, pub_wildcard_reply_pedantic) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PEDANTIC), SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo bar.* 2\r\nok\r\nPUB foo bar..x 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* Control bytes that are not argument separators stay inside a token.  Go's SUB checks only
 * what Sublist.Insert checks (empty tokens, '>' not last), not IsValidSubject's whitespace. */
Test(diff, subject_with_control_chars) {
    AFTER_CONNECT_SYNC("SUB a\fb 1\r\nSUB c\x01" "d 2\r\nPUB a\fb 1\r\nx\r\nPUB c\x01" "d 1\r\ny\r\n");
}

Test(diff, subject_with_control_chars_pedantic) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PEDANTIC), SYNC(0),
        SEND(0, "SUB a\fb 1\r\nSUB c\x01" "d 2\r\nPUB a\fb 1\r\nx\r\nPUB c\x01" "d 1\r\ny\r\n"),
        SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* Non-ASCII and control bytes inside subject tokens. */
Test(diff, subject_with_utf8) {
    AFTER_CONNECT_SYNC("SUB f\xc3\xb6\xc3\xb6.* 1\r\nPUB f\xc3\xb6\xc3\xb6.bar 2\r\nok\r\n");
}

/* ---- queue names ------------------------------------------------------------------------------ */

/* Several queue groups on one subject: Go keeps them in a map, so the order is undefined. */
Test(diff, queue_name_with_wildcards) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0),
        SEND(0, "SUB foo q.* 1\r\nSUB foo q> 2\r\nSUB foo * 3\r\nPUB foo 2\r\nok\r\n"),
        SYNC_UNORDERED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, queue_name_with_dots) {
    AFTER_CONNECT_SYNC("SUB foo a.b.c 1\r\nPUB foo 2\r\nok\r\n");
}

Test(diff, queue_name_pedantic) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PEDANTIC), SYNC(0),
        SEND(0, "SUB foo q.* 1\r\nSUB foo a..b 2\r\nSUB foo > 3\r\nPUB foo 2\r\nok\r\n"),
        SYNC_UNORDERED(0)};
    DIFF_RUN(NULL, s);
}

/* ---- CONNECT ----------------------------------------------------------------------------------- */

Test(diff, connect_bad_json) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {bad json}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_no_args) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_space_no_args) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT \r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_json_array) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT []\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_json_null) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT null\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_trailing_garbage) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {} x\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_two_objects) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {}{}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_verbose_wrong_type) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"verbose\":\"yes\"}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_protocol_wrong_type) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"protocol\":\"1\"}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_protocol_float) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"protocol\":1.5}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_protocol_negative) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"protocol\":-1}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_protocol_2) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"protocol\":2}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_echo_wrong_type) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"echo\":\"false\"}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_unicode_escapes) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":true,\"name\":\"\\u00e9\\n\\\"x\"}\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_name_wrong_type) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"name\":5}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_headers_wrong_type) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"headers\":1}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_echo_null) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"echo\":null}\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_duplicate_keys) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":true,\"verbose\":false}\r\nPING\r\n"), SETTLE(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_tls_required_without_tls) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":false,\"tls_required\":true}\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_after_traffic) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "SUB foo 1\r\nPUB foo 1\r\na\r\n"), SYNC(0),
        SEND(0, "CONNECT {\"verbose\":true}\r\nPUB foo 1\r\nb\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* Credentials sent to a server without authorization are ignored. */
Test(diff, connect_credentials_without_auth) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\","
                "\"auth_token\":\"t\"}\r\n"),
        SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* An account designation in CONNECT is an authorization violation (Go processConnect). */
Test(diff, connect_account_field) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":false,\"account\":\"A\"}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_new_account_field) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":false,\"new_account\":true}\r\n"), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_nkey_without_nkeys_configured) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"nkey\":"
                "\"UCNGL4W5QX66CFX6A6DCBVDH5VOHMI7B2UZZU7TXAUQQSI2JPHULCKBR\",\"sig\":\"x\"}\r\n"),
        SYNC(0)};
    DIFF_RUN(NULL, s);
}

Test(diff, connect_with_jwt_without_operator) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":false,\"jwt\":\"abc\",\"sig\":\"def\"}\r\n"),
        SETTLE(0)};
    DIFF_RUN(NULL, s);
}

/* ---- reserved subjects and replies ------------------------------------------------------------ */

/* v2.11+ refuses client publishes to $NRG. (Raft); Go 2.9.10 delivers them (see expected.c). */
Test(diff, pub_nrg_subject) {
    AFTER_CONNECT_SYNC("SUB > 1\r\nPUB $NRG.x 2\r\nok\r\nPUB foo 2\r\nok\r\n");
}

/* bytes.HasPrefix: the bare prefix "$NRG." is refused too. */
Test(diff, pub_nrg_prefix_exact) {
    AFTER_CONNECT_SYNC("SUB > 1\r\nPUB $NRG. 2\r\nok\r\nPUB after 1\r\nx\r\n");
}

Test(diff, pub_gateway_routed_subject) {
    AFTER_CONNECT_SYNC("SUB > 1\r\nPUB _GR_.x.y 2\r\nok\r\nPUB _GR_. 2\r\nok\r\n");
}

Test(diff, pub_reserved_reply) {
    AFTER_CONNECT_SYNC("SUB > 1\r\nPUB foo _R_.x 2\r\nok\r\nPUB foo $JS.ACK.x 2\r\nok\r\n"
                       "PUB foo _GR_.x 2\r\nok\r\nPUB foo _INBOX.x 2\r\nok\r\n");
}

/* isServiceReply is len > 3 && prefix "_R_.": the bare "_R_." is reserved; the bare
 * "$JS.ACK." and "_GR_." are not (len > prefix length). */
Test(diff, pub_reserved_reply_exact_prefixes) {
    AFTER_CONNECT_SYNC("SUB > 1\r\nPUB foo _R_. 2\r\nok\r\nPUB foo $JS.ACK. 2\r\nok\r\n"
                       "PUB foo _GR_. 2\r\nok\r\n");
}

Test(diff, pub_reserved_reply_verbose) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_VERBOSE), LINE(0),
        SEND(0, "PUB foo _R_.x 2\r\nok\r\nPUB _GR_.x 2\r\nok\r\nPUB foo 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* clang-format on */
