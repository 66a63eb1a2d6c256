/* Differential cases: limits and authentication.  max_payload, max_control_line,
 * max_connections, max_subscriptions, authorization (token, user/password, timeout), the ping
 * timer and stale connections.  Permission cases wait for the permissions feature. */
#include <criterion/criterion.h>

#include "common/gotest.h"
#include "diff.h"

/* Case tables are laid out one step per line where that reads better; clang-format would
 * pack them. */
/* clang-format off */

/* ---- max_payload --------------------------------------------------------------------------- */

Test(diff, max_payload_exceeded) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SEND(0, "PUB foo 17\r\n"), CLOSED(0)};
    DIFF_RUN("max_payload: 16\n", s);
}

Test(diff, max_payload_exceeded_with_payload) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0),
        SEND(0, "PUB foo 17\r\n0123456789abcdefg\r\n"), CLOSED(0)};
    DIFF_RUN("max_payload: 16\n", s);
}

Test(diff, max_payload_exceeded_verbose) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_VERBOSE), LINE(0), SEND(0, "PUB foo 17\r\n"), CLOSED(0)};
    DIFF_RUN("max_payload: 16\n", s);
}

Test(diff, max_payload_raw_pub_too_big) {
    GO_TEST_PARTIAL("test/maxpayload_test.go", "TestMaxPayload",
                    "raw-socket half only: the nats.go client-side check is not exercised");
    static const diff_step s[] = {
        OPEN(0), SEND(0, "PUB bar 4194304\r\n"), CLOSED(0)};
    DIFF_RUN("max_payload: 2222\n", s);
}

/* ---- max_control_line ------------------------------------------------------------------------- */

Test(diff, control_line_at_limit) {
    /* "PUB " + 56-byte subject + " 1" = 62 bytes, below the 64-byte limit */
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0),
        SEND(0, "SUB >  1\r\nPUB 0123456789012345678901234567890123456789012345678901234 1\r\nx\r\n"),
        SYNC(0)};
    DIFF_RUN("max_control_line: 64\n", s);
}

Test(diff, control_line_exceeded) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0),
        SEND(0, "PUB 012345678901234567890123456789012345678901234567890123456789012345 1\r\n"),
        CLOSED(0)};
    DIFF_RUN("max_control_line: 64\n", s);
}

Test(diff, control_line_exceeded_without_newline) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0),
        SEND(0, "SUB 0123456789012345678901234567890123456789012345678901234567890123456789"),
        CLOSED(0)};
    DIFF_RUN("max_control_line: 64\n", s);
}

Test(diff, control_line_exceeded_sub) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0),
        SEND(0, "SUB 012345678901234567890123456789012345678901234567890123456789012345 1\r\n"),
        CLOSED(0)};
    DIFF_RUN("max_control_line: 64\n", s);
}

Test(diff, control_line_exceeded_connect) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":false,\"name\":\"012345678901234567890123456789012345678901234567890123456789\"}\r\n"),
        CLOSED(0)};
    DIFF_RUN("max_control_line: 64\n", s);
}

/* Go's proto test server: max_control_line 256, a PUB line of 328 bytes without its CRLF. */
Test(diff, control_line_maximums) {
    GO_TEST("test/proto_test.go", "TestControlLineMaximums");
    const char *pub = diff_rep("PUB foo ", '2', 320, "");
    const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SENDN(0, pub, 0), CLOSED(0)};
    DIFF_RUN("max_control_line: 256\n", s);
}

Test(diff, control_line_default_exceeded) {
    const char *pub = diff_rep("PUB ", 'a', 5000, " 1\r\n");
    const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SENDN(0, pub, 0), CLOSED(0)};
    DIFF_RUN(NULL, s);
}

/* ---- max_connections / max_subscriptions ---------------------------------------------------- */

Test(diff, max_connections) {
    GO_TEST("server/server_test.go", "TestMaxConnections");
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), OPEN(1), CLOSED(1), SYNC(0)};
    DIFF_RUN("max_connections: 1\n", s);
}

/* The pause lets the server see the close before the next connection arrives (Go notices at
 * once; 500 ms is a wide margin, not a measurement). */
Test(diff, max_connections_freed_slot) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), SHUT(0), PAUSE(500), OPEN(1),
        SEND(1, CONNECT_PLAIN), SYNC(1)};
    DIFF_RUN("max_connections: 1\n", s);
}

Test(diff, max_subscriptions) {
    GO_TEST("server/server_test.go", "TestMaxSubscriptions");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "SUB foo.0 1\r\nSUB foo.1 2\r\nSUB foo.2 3\r\nSUB foo.3 4\r\n"
                              "SUB foo.4 5\r\nSUB foo.5 6\r\nSUB foo.6 7\r\nSUB foo.7 8\r\n"
                              "SUB foo.8 9\r\nSUB foo.9 10\r\n"),
        SYNC(0),
        SEND(0, "SUB foo.22 11\r\n"),
        SYNC(0),
        SEND(0, "PUB foo.22 1\r\nx\r\nUNSUB 1\r\nSUB foo.22 12\r\nPUB foo.22 1\r\ny\r\n"),
        SYNC(0),
    };
    DIFF_RUN("max_subscriptions: 10\n", s);
}

Test(diff, max_subscriptions_verbose) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_VERBOSE), LINE(0),
        SEND(0, "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n"), SYNC(0)};
    DIFF_RUN("max_subscriptions: 2\n", s);
}

/* ---- authorization: token -------------------------------------------------------------------- */

#define TOKEN_CONF "authorization {\n  token: \"_YZZ22_\"\n}\n"
#define USERPASS_CONF "authorization {\n  user: derek\n  password: foobar\n}\n"

Test(diff, auth_token_missing) {
    GO_TEST("test/auth_test.go", "TestNoAuthClient");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"\",\"pass\":\"\"}\r\n"),
        CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_token_wrong) {
    GO_TEST("test/auth_test.go", "TestAuthClientBadToken");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"ZZZ\",\"user\":\"\",\"pass\":\"\"}\r\n"),
        CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_token_good) {
    GO_TEST("test/auth_test.go", "TestAuthClientGoodConnect");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"_YZZ22_\",\"user\":\"\","
                "\"pass\":\"\"}\r\n"),
        LINE(0),
        SEND(0, "SUB foo 1\r\nPUB foo 2\r\nok\r\n"),
        SYNC(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_token_no_fields) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {}\r\n"), CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_token_given_as_user_pass) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"user\":\"_YZZ22_\",\"pass\":\"_YZZ22_\"}\r\n"), CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_pub_before_connect) {
    GO_TEST("test/auth_test.go", "TestAuthClientFailOnEverythingElse");
    static const diff_step s[] = {OPEN(0), SEND(0, "PUB foo 2\r\nok\r\n"), CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_sub_before_connect) {
    static const diff_step s[] = {OPEN(0), SEND(0, "SUB foo 1\r\n"), CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_ping_before_connect) {
    static const diff_step s[] = {OPEN(0), SEND(0, "PING\r\n"), SETTLE(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

Test(diff, auth_connect_bad_json) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {x}\r\n"), CLOSED(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

/* A second CONNECT after a successful one is not authenticated again. */
Test(diff, auth_second_connect_bad_token) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"auth_token\":\"_YZZ22_\"}\r\n"), SYNC(0),
        SEND(0, "CONNECT {\"auth_token\":\"wrong\"}\r\n"), SETTLE(0)};
    DIFF_RUN(TOKEN_CONF, s);
}

/* ---- authorization: user / password ----------------------------------------------------------- */

Test(diff, auth_user_pass_missing) {
    GO_TEST("test/auth_test.go", "TestNoUserOrPasswordClient");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"\",\"pass\":\"\"}\r\n"),
        CLOSED(0)};
    DIFF_RUN(USERPASS_CONF, s);
}

Test(diff, auth_user_wrong) {
    GO_TEST("test/auth_test.go", "TestBadUserClient");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"derekzz\","
                "\"pass\":\"foobar\"}\r\n"),
        CLOSED(0)};
    DIFF_RUN(USERPASS_CONF, s);
}

Test(diff, auth_password_wrong) {
    GO_TEST("test/auth_test.go", "TestBadPasswordClient");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"derek\","
                "\"pass\":\"ZZ\"}\r\n"),
        CLOSED(0)};
    DIFF_RUN(USERPASS_CONF, s);
}

Test(diff, auth_user_pass_good) {
    GO_TEST("test/auth_test.go", "TestPasswordClientGoodConnect");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"derek\","
                "\"pass\":\"foobar\"}\r\n"),
        LINE(0),
        SYNC(0)};
    DIFF_RUN(USERPASS_CONF, s);
}

Test(diff, auth_user_only) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"user\":\"derek\"}\r\n"), CLOSED(0)};
    DIFF_RUN(USERPASS_CONF, s);
}

Test(diff, auth_user_pass_given_as_token) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"auth_token\":\"foobar\"}\r\n"), CLOSED(0)};
    DIFF_RUN(USERPASS_CONF, s);
}

Test(diff, auth_users_list) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"user\":\"b\",\"pass\":\"pb\"}\r\n"), SYNC(0),
        OPEN(1), SEND(1, "CONNECT {\"user\":\"a\",\"pass\":\"pb\"}\r\n"), CLOSED(1)};
    DIFF_RUN("authorization {\n  users: [\n    {user: a, password: pa}\n"
             "    {user: b, password: pb}\n  ]\n}\n",
             s);
}

/* The hash itself is refused; the password it was made from is accepted. */
Test(diff, auth_bcrypt_password) {
    GO_TEST("test/auth_test.go", "TestBadBcryptPassword");
    GO_TEST("test/auth_test.go", "TestGoodBcryptPassword");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"derek\",\"pass\":"
                "\"$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq\"}\r\n"),
        CLOSED(0),
        OPEN(1),
        SEND(1, "CONNECT {\"verbose\":true,\"auth_token\":\"\",\"user\":\"derek\",\"pass\":"
                "\"IW@$6v(y1(t@fhPDvf!5^%\"}\r\n"),
        LINE(1),
        SYNC(1)};
    DIFF_RUN("authorization {\n  user: derek\n"
             "  password: \"$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq\"\n}\n",
             s);
}

/* The hash itself is refused as a token; the token it was made from is accepted. */
Test(diff, auth_bcrypt_token) {
    GO_TEST("test/auth_test.go", "TestBadBcryptToken");
    GO_TEST("test/auth_test.go", "TestGoodBcryptToken");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"auth_token\":"
                "\"$2a$04$u5ZClXpcjHgpfc61Ee0VKuwI1K3vTC4zq7SjphjnlHMeb1Llkb5Y6\","
                "\"user\":\"\",\"pass\":\"\"}\r\n"),
        CLOSED(0),
        OPEN(1),
        SEND(1, "CONNECT {\"verbose\":true,\"auth_token\":\"0uhJOSr3GW7xvHvtd^K6pa\","
                "\"user\":\"\",\"pass\":\"\"}\r\n"),
        LINE(1),
        SYNC(1)};
    DIFF_RUN("authorization {\n"
             "  token: \"$2a$04$u5ZClXpcjHgpfc61Ee0VKuwI1K3vTC4zq7SjphjnlHMeb1Llkb5Y6\"\n}\n",
             s);
}

/* ---- authorization timeout ------------------------------------------------------------------ */

Test(diff, auth_timeout_no_connect) {
    GO_TEST("test/auth_test.go", "TestAuthClientNoConnect");
    GO_TEST("server/client_test.go", "TestAuthorizationTimeout");
    static const diff_step s[] = {OPEN(0), CLOSED(0)};
    DIFF_RUN("authorization {\n  token: \"_YZZ22_\"\n  timeout: 0.5\n}\n", s);
}

Test(diff, auth_timeout_partial_connect) {
    static const diff_step s[] = {OPEN(0), SEND(0, "CONNECT {\"auth_tok"), CLOSED(0)};
    DIFF_RUN("authorization {\n  token: \"_YZZ22_\"\n  timeout: 0.5\n}\n", s);
}

Test(diff, auth_timeout_not_hit_after_connect) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"auth_token\":\"_YZZ22_\"}\r\n"), SYNC(0), PAUSE(700),
        SYNC(0)};
    DIFF_RUN("authorization {\n  token: \"_YZZ22_\"\n  timeout: 0.5\n}\n", s);
}

/* ---- ping timer ------------------------------------------------------------------------------- */

#define PING_CONF "ping_interval: \"100ms\"\nping_max: 1\n"

Test(diff, stale_connection) {
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), CLOSED(0)};
    DIFF_RUN(PING_CONF, s);
}

Test(diff, stale_connection_ping_max_3) {
    GO_TEST("test/ping_test.go", "TestPingInterval");
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), CLOSED(0)};
    DIFF_RUN("ping_interval: \"100ms\"\nping_max: 3\n", s);
}

Test(diff, stale_connection_unprompted_pongs) {
    GO_TEST("test/ping_test.go", "TestUnpromptedPong");
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, CONNECT_PLAIN "PONG\r\nPONG\r\nPONG\r\nPONG\r\nPONG\r\nPONG\r\nPONG\r\nPONG\r\n"),
        CLOSED(0)};
    DIFF_RUN("ping_interval: \"100ms\"\nping_max: 3\n", s);
}

Test(diff, stale_connection_before_connect) {
    static const diff_step s[] = {OPEN(0), CLOSED(0)};
    DIFF_RUN(PING_CONF, s);
}

/* First PING of the server: ~2 s (+ up to 20% jitter) after CONNECT, whatever ping_interval
 * is, unless disable_short_first_ping (Go: firstClientPingInterval). */
Test(diff, first_ping_after_connect) {
    static const diff_step s[] = {OPEN(0), SEND(0, CONNECT_PLAIN), SYNC(0), LINE(0), SYNC(0)};
    DIFF_RUN(NULL, s);
}

/* ---- permissions ------------------------------------------------------------------------------ */

#define PERM_CONF(perms)                                                                           \
    "authorization {\n  users: [\n    {user: a, password: a, permissions: " perms "}\n"          \
    "    {user: b, password: b}\n  ]\n}\n"
#define CONNECT_A "CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}\r\n"
#define CONNECT_B "CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"b\"}\r\n"

Test(diff, permissions_publish_violation) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB foo.x 1\r\nPUB bar 2\r\nok\r\nPUB foo.x 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(PERM_CONF("{publish: \"foo.*\", subscribe: \"foo.*\"}"), s);
}

Test(diff, permissions_subscribe_violation) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB bar 1\r\nSUB foo.x 2\r\nPUB foo.x 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(PERM_CONF("{publish: \">\", subscribe: \"foo.*\"}"), s);
}

Test(diff, permissions_queue_subscribe_violation) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB foo q 1\r\nSUB foo good 2\r\nPUB foo 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(PERM_CONF("{subscribe: {allow: [\"foo good\"]}}"), s);
}

Test(diff, permissions_deny_delivery) {
    static const diff_step s[] = {
        OPEN(0), OPEN(1), SEND(0, CONNECT_A "SUB foo.* 1\r\n"), SYNC(0),
        SEND(1, CONNECT_B "PUB foo.secret 1\r\nx\r\nPUB foo.open 1\r\ny\r\n"), SYNC(1), SYNC(0)};
    DIFF_RUN(PERM_CONF("{subscribe: {allow: \">\", deny: \"foo.secret\"}}"), s);
}

Test(diff, permissions_verbose_violation) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":true,\"user\":\"a\",\"pass\":\"a\"}\r\n"), LINE(0),
        SEND(0, "PUB bar 2\r\nok\r\nSUB bar 1\r\n"), SYNC(0)};
    DIFF_RUN(PERM_CONF("{publish: \"foo\", subscribe: \"foo\"}"), s);
}

Test(diff, permissions_allow_responses) {
    static const diff_step s[] = {
        OPEN(0), OPEN(1),
        SEND(0, CONNECT_A "SUB svc 1\r\n"), SYNC(0),
        SEND(1, CONNECT_B "SUB _INBOX.r 1\r\nPUB svc _INBOX.r 3\r\nreq\r\n"), SYNC(1), SYNC(0),
        SEND(0, "PUB _INBOX.r 3\r\nrep\r\nPUB _INBOX.r 4\r\nrep2\r\n"), SYNC(0), SYNC(1)};
    DIFF_RUN(PERM_CONF("{publish: {deny: \">\"}, allow_responses: true}"), s);
}

Test(diff, permissions_queue_allowed_by_plain_subject) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB foo q 1\r\nSUB foo.x q 2\r\nSUB bar q 3\r\nPUB foo 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN(PERM_CONF("{subscribe: [\"foo\", \"bar q\"]}"), s);
}

Test(diff, permissions_queue_deny) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB foo 1\r\nSUB foo q 2\r\nSUB foo r 3\r\nSUB foo.* q 4\r\n"), SYNC(0)};
    DIFF_RUN(PERM_CONF("{subscribe: {allow: \">\", deny: [\"foo q\", \"foo.* q\"]}}"), s);
}

Test(diff, permissions_hpub_violation) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"headers\":true,\"user\":\"a\",\"pass\":\"a\"}\r\n"),
        LINE(0),
        SEND(0, "SUB foo 1\r\nHPUB bar 12 14\r\nNATS/1.0\r\n\r\nok\r\nHPUB foo 12 14\r\n"
                "NATS/1.0\r\n\r\nok\r\n"),
        SYNC(0)};
    DIFF_RUN(PERM_CONF("{publish: \"foo\", subscribe: \"foo\"}"), s);
}

Test(diff, permissions_publish_deny_wildcards) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB > 1\r\nPUB foo.bar 1\r\na\r\nPUB foo.bar.baz 1\r\nb\r\nPUB foo.baz 1\r\nc\r\n"
                "PUB x 1\r\nd\r\nPUB foo.* 1\r\ne\r\nPUB foo.> 1\r\nf\r\n"),
        SYNC(0)};
    DIFF_RUN(PERM_CONF("{publish: {allow: \"foo.>\", deny: \"foo.bar.>\"}}"), s);
}

Test(diff, permissions_subscribe_wildcard_narrower_than_allow) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_A), SYNC(0),
        SEND(0, "SUB foo.* 1\r\nSUB foo.> 2\r\nSUB * 3\r\nSUB > 4\r\nSUB foo.bar.* 5\r\n"),
        SYNC(0)};
    DIFF_RUN(PERM_CONF("{subscribe: \"foo.>\"}"), s);
}

Test(diff, permissions_deny_delivery_queue) {
    static const diff_step s[] = {
        OPEN(0), OPEN(1), SEND(0, CONNECT_A "SUB foo.* q 1\r\nSUB > 2\r\n"), SYNC(0),
        SEND(1, CONNECT_B "PUB foo.secret 1\r\nx\r\nPUB foo.open 1\r\ny\r\n"), SYNC(1),
        SYNC_UNORDERED(0)};
    DIFF_RUN(PERM_CONF("{subscribe: {allow: \">\", deny: \"foo.secret\"}}"), s);
}

Test(diff, permissions_allow_responses_max) {
    static const diff_step s[] = {
        OPEN(0), OPEN(1),
        SEND(0, CONNECT_A "SUB svc 1\r\n"), SYNC(0),
        SEND(1, CONNECT_B "SUB r.> 1\r\nPUB svc r.1 1\r\nx\r\nPUB svc r.2 1\r\ny\r\n"), SYNC(1),
        SYNC(0),
        SEND(0, "PUB r.1 1\r\na\r\nPUB r.1 1\r\nb\r\nPUB r.1 1\r\nc\r\nPUB r.2 1\r\nd\r\n"
                "PUB r.3 1\r\ne\r\n"),
        SYNC(0), SYNC(1)};
    DIFF_RUN(PERM_CONF("{subscribe: \"svc\", allow_responses: {max: 2}}"), s);
}

Test(diff, permissions_allow_responses_expired) {
    static const diff_step s[] = {
        OPEN(0), OPEN(1),
        SEND(0, CONNECT_A "SUB svc 1\r\n"), SYNC(0),
        SEND(1, CONNECT_B "SUB r.> 1\r\nPUB svc r.1 1\r\nx\r\n"), SYNC(1), SYNC(0), PAUSE(200),
        SEND(0, "PUB r.1 1\r\na\r\n"), SYNC(0), SYNC(1)};
    DIFF_RUN(PERM_CONF("{subscribe: \"svc\", allow_responses: {max: 5, expires: \"50ms\"}}"), s);
}

Test(diff, permissions_allow_responses_with_publish_allow) {
    static const diff_step s[] = {
        OPEN(0), OPEN(1),
        SEND(0, CONNECT_A "SUB svc 1\r\n"), SYNC(0),
        SEND(1, CONNECT_B "SUB > 1\r\nPUB svc r.1 1\r\nx\r\n"), SYNC(1), SYNC(0),
        SEND(0, "PUB r.1 1\r\na\r\nPUB r.1 1\r\nb\r\nPUB pub.x 1\r\nc\r\nPUB pub.y 1\r\nd\r\n"),
        SYNC(0), SYNC(1)};
    DIFF_RUN(PERM_CONF("{publish: \"pub.*\", subscribe: \"svc\", allow_responses: true}"), s);
}

Test(diff, permissions_default_permissions) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, CONNECT_B), SYNC(0),
        SEND(0, "SUB foo 1\r\nSUB pub.x 2\r\nPUB foo 1\r\na\r\nPUB pub.x 1\r\nb\r\n"), SYNC(0),
        OPEN(1), SEND(1, CONNECT_A), SYNC(1),
        SEND(1, "SUB foo 1\r\nPUB foo 1\r\nc\r\nPUB bar 1\r\nd\r\n"), SYNC(1)};
    DIFF_RUN("authorization {\n  default_permissions: {publish: \"pub.*\", subscribe: \"pub.>\"}\n"
             "  users: [\n    {user: a, password: a, permissions: {publish: \"foo\"}}\n"
             "    {user: b, password: b}\n  ]\n}\n",
             s);
}

Test(diff, permissions_variables_and_bcrypt) {
    static const diff_step s[] = {
        OPEN(0),
        SEND(0, "CONNECT {\"verbose\":true,\"user\":\"alice\",\"pass\":\"foo\"}\r\n"), LINE(0),
        SEND(0, "SUB x 1\r\nSUB req.a 2\r\nPUB req.a 2\r\nok\r\nPUB x 2\r\nok\r\n"), SYNC(0)};
    DIFF_RUN("REQ = {\n  publish = [\"req.*\"]\n  subscribe = \"req.>\"\n}\n"
             "authorization {\n"
             "  PASS: $2a$04$P/.bd.7unw9Ew7yWJqXsl.f4oNRLQGvadEL2YnqQXbbb.IVQajRdK\n"
             "  users = [ {user: alice, password: $PASS, permissions: $REQ} ]\n}\n",
             s);
}

/* ---- no_auth_user ---------------------------------------------------------------------------- */

#define NO_AUTH_CONF                                                                               \
    "authorization {\n  users: [\n    {user: a, password: a, permissions: {publish: \"foo\"}}\n" \
    "    {user: b, password: b}\n  ]\n}\nno_auth_user: a\n"

Test(diff, no_auth_user_connect_without_credentials) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientAuthRequiredNoAuthUser",
                    "users in authorization{} instead of accounts; the INFO's auth_required is "
                    "compared, no client library");
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":true}\r\n"), LINE(0),
        SEND(0, "SUB foo 1\r\nPUB foo 1\r\na\r\nPUB bar 1\r\nb\r\n"), SYNC(0)};
    DIFF_RUN(NO_AUTH_CONF, s);
}

Test(diff, no_auth_user_other_user) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"b\"}\r\n"), SYNC(0),
        SEND(0, "SUB bar 1\r\nPUB bar 1\r\nb\r\n"), SYNC(0),
        OPEN(1), SEND(1, "CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"x\"}\r\n"),
        CLOSED(1),
        OPEN(2), SEND(2, "CONNECT {\"verbose\":false,\"user\":\"b\"}\r\n"), CLOSED(2),
        OPEN(3), SEND(3, "CONNECT {\"verbose\":false,\"auth_token\":\"b\"}\r\n"), CLOSED(3)};
    DIFF_RUN(NO_AUTH_CONF, s);
}

Test(diff, no_auth_user_pub_before_connect) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestNoAuthUserNoConnectProto",
                    "users in authorization{} instead of accounts; the auth timeout half is in "
                    "tests/integration/test_auth.c");
    static const diff_step s[] = {
        OPEN(0), SEND(0, "PUB foo 2\r\nok\r\nPUB bar 2\r\nok\r\n"), SYNC(0),
        SEND(0, "SUB foo 1\r\nPUB foo 1\r\nx\r\nPUB foo.* 1\r\ny\r\n"), SYNC(0)};
    DIFF_RUN(NO_AUTH_CONF, s);
}

Test(diff, no_auth_user_ping_before_connect) {
    static const diff_step s[] = {OPEN(0), SEND(0, "PING\r\n"), SETTLE(0)};
    DIFF_RUN(NO_AUTH_CONF, s);
}

Test(diff, no_auth_user_sub_then_connect) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "SUB foo 1\r\n"), SYNC(0),
        SEND(0, "CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"b\"}\r\n"), SYNC(0),
        SEND(0, "PUB foo 1\r\nx\r\nSUB bar 2\r\nPUB bar 1\r\ny\r\n"), SYNC(0)};
    DIFF_RUN(NO_AUTH_CONF, s);
}

Test(diff, no_auth_user_timeout) {
    static const diff_step s[] = {OPEN(0), CLOSED(0)};
    DIFF_RUN("authorization {\n  users: [ {user: a, password: a} ]\n  timeout: 0.5\n}\n"
             "no_auth_user: a\n",
             s);
}

/* ---- nkeys (a signature covers the per-connection nonce: only refusals are scripted) -------- */

#define NKEY_CONF                                                                                  \
    "authorization {\n  users: [\n"                                                                \
    "    {nkey: UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV}\n"                       \
    "    {user: derek, password: foo}\n  ]\n}\n"

Test(diff, nkey_refusals) {
    static const diff_step s[] = {
        OPEN(0), SEND(0, "CONNECT {\"verbose\":true,\"pedantic\":true}\r\n"), CLOSED(0),
        OPEN(1),
        SEND(1, "CONNECT {\"nkey\":\"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\","
                "\"verbose\":true}\r\n"),
        CLOSED(1),
        OPEN(2),
        SEND(2, "CONNECT {\"nkey\":\"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\","
                "\"sig\":\"bad_sig\",\"verbose\":true}\r\n"),
        CLOSED(2),
        OPEN(3),
        SEND(3, "CONNECT {\"nkey\":\"UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON\","
                "\"sig\":\"AAAA\",\"verbose\":true}\r\n"),
        CLOSED(3),
        OPEN(4), SEND(4, "CONNECT {\"nkey\":\"garbage\",\"sig\":\"AAAA\"}\r\n"), CLOSED(4),
        OPEN(5), SEND(5, "CONNECT {\"user\":\"derek\",\"pass\":\"foo\",\"verbose\":true}\r\n"),
        LINE(5), SYNC(5)};
    DIFF_RUN(NKEY_CONF, s);
}

/* clang-format on */
