/* Authentication and authorization against a running server, over raw connections.
 *
 * Ports nats-server v2.14.5 test/auth_test.go (token, user/password and bcrypt variants),
 * test/user_authorization_test.go (permissions from test/configs/authorization.conf and
 * auths.conf, recreated here), and the parts of server/auth_test.go, server/nkey_test.go and
 * server/client_test.go that a client can observe: no_auth_user, the INFO nonce, nkey
 * signatures and auth_required.  Go's tests inspect the server's internals (account of a
 * client, NumClients); here the same facts come from the monitoring endpoint (/connz with
 * auth=true for the authorized user, num_connections for the client count).
 *
 * Accounts are not supported by this server, so the no_auth_user cases that Go writes with
 * accounts { A { users [...] } } use authorization { users [...] }; the authenticated user
 * stands in for the account.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/integration/auth_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/monitor_util.h"

/* ---- helpers --------------------------------------------------------------------------------- */

#define AUTH_VIOLATION "-ERR 'Authorization Violation'\r\n"

/* Go createClientConn + expectAuthRequired. */
static h_conn *auth_conn(const h_server *s) {
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert(json_is_true(json_object_get(info, "auth_required")),
              "expected the server to require authorization");
    json_decref(info);
    return c;
}

/* Go doAuthConnect: a verbose CONNECT with auth_token, user and pass. */
static void do_auth_connect(h_conn *c, const char *token, const char *user, const char *pass) {
    h_sendf(c,
            "CONNECT {\"verbose\":true,\"auth_token\":\"%s\",\"user\":\"%s\",\"pass\":\"%s\"}\r\n",
            token, user, pass);
}

/* The errRe a failed authentication gives, and the close that follows it. */
static void expect_auth_violation(h_conn *c) {
    h_expect(c, AUTH_VIOLATION);
    h_expect_closed(c);
}

/* One auth_test.go case: a server started with the given flags, one connection. */
static void auth_case(const char *flag1, const char *val1, const char *flag2, const char *val2,
                      const char *token, const char *user, const char *pass, bool ok) {
    h_server *s =
        flag2 ? h_server_start(NULL, flag1, val1, flag2, val2) : h_server_start(NULL, flag1, val1);
    h_conn *c = auth_conn(s);
    do_auth_connect(c, token, user, pass);
    if (ok) {
        h_expect(c, "+OK\r\n");
        h_ping(c);
    } else {
        expect_auth_violation(c);
    }
    h_close(c);
    h_server_stop(s);
}

/* ---- test/auth_test.go: the authorization token version ------------------------------------- */

#define AUTH_TOKEN "_YZZ22_"

Test(client_auth, no_auth_client) {
    GO_TEST("test/auth_test.go", "TestNoAuthClient");
    auth_case("--auth", AUTH_TOKEN, NULL, NULL, "", "", "", false);
}

Test(client_auth, client_bad_token) {
    GO_TEST("test/auth_test.go", "TestAuthClientBadToken");
    auth_case("--auth", AUTH_TOKEN, NULL, NULL, "ZZZ", "", "", false);
}

Test(client_auth, client_no_connect) {
    GO_TEST("test/auth_test.go", "TestAuthClientNoConnect");
    h_server *s = h_server_start(NULL, "--auth", AUTH_TOKEN);
    h_conn *c = auth_conn(s);
    int64_t t0 = h_now_ms();
    /* Go sleeps AUTH_TIMEOUT (2 s) and then expects the error. */
    h_expect(c, "-ERR 'Authentication Timeout'\r\n");
    int64_t waited = h_now_ms() - t0;
    cr_assert(waited >= 1800 && waited <= 3000, "timed out after %lld ms, want ~2000",
              (long long)waited);
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(client_auth, client_good_connect) {
    GO_TEST("test/auth_test.go", "TestAuthClientGoodConnect");
    auth_case("--auth", AUTH_TOKEN, NULL, NULL, AUTH_TOKEN, "", "", true);
}

Test(client_auth, client_fail_on_everything_else) {
    GO_TEST("test/auth_test.go", "TestAuthClientFailOnEverythingElse");
    h_server *s = h_server_start(NULL, "--auth", AUTH_TOKEN);
    h_conn *c = auth_conn(s);
    h_send(c, "PUB foo 2\r\nok\r\n");
    expect_auth_violation(c);
    h_close(c);
    h_server_stop(s);
}

/* ---- test/auth_test.go: the username/password version ---------------------------------------- */

#define AUTH_USER "derek"
#define AUTH_PASS "foobar"

Test(client_auth, no_user_or_password_client) {
    GO_TEST("test/auth_test.go", "TestNoUserOrPasswordClient");
    auth_case("--user", AUTH_USER, "--pass", AUTH_PASS, "", "", "", false);
}

Test(client_auth, bad_user_client) {
    GO_TEST("test/auth_test.go", "TestBadUserClient");
    auth_case("--user", AUTH_USER, "--pass", AUTH_PASS, "", "derekzz", AUTH_PASS, false);
}

Test(client_auth, bad_password_client) {
    GO_TEST("test/auth_test.go", "TestBadPasswordClient");
    auth_case("--user", AUTH_USER, "--pass", AUTH_PASS, "", AUTH_USER, "ZZ", false);
}

Test(client_auth, password_client_good_connect) {
    GO_TEST("test/auth_test.go", "TestPasswordClientGoodConnect");
    auth_case("--user", AUTH_USER, "--pass", AUTH_PASS, "", AUTH_USER, AUTH_PASS, true);
}

/* ---- test/auth_test.go: bcrypt password and token -------------------------------------------- */

/* Generated with nats server passwd (cost 4). */
#define BCRYPT_AUTH_PASS "IW@$6v(y1(t@fhPDvf!5^%"
#define BCRYPT_AUTH_HASH "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq"
#define BCRYPT_AUTH_TOKEN "0uhJOSr3GW7xvHvtd^K6pa"
#define BCRYPT_AUTH_TOKEN_HASH "$2a$04$u5ZClXpcjHgpfc61Ee0VKuwI1K3vTC4zq7SjphjnlHMeb1Llkb5Y6"

Test(client_auth, bad_bcrypt_password) {
    GO_TEST("test/auth_test.go", "TestBadBcryptPassword");
    /* The hash itself is not the password. */
    auth_case("--user", AUTH_USER, "--pass", BCRYPT_AUTH_HASH, "", AUTH_USER, BCRYPT_AUTH_HASH,
              false);
}

Test(client_auth, good_bcrypt_password) {
    GO_TEST("test/auth_test.go", "TestGoodBcryptPassword");
    auth_case("--user", AUTH_USER, "--pass", BCRYPT_AUTH_HASH, "", AUTH_USER, BCRYPT_AUTH_PASS,
              true);
}

Test(client_auth, bad_bcrypt_token) {
    GO_TEST("test/auth_test.go", "TestBadBcryptToken");
    auth_case("--auth", BCRYPT_AUTH_TOKEN_HASH, NULL, NULL, BCRYPT_AUTH_TOKEN_HASH, "", "", false);
}

Test(client_auth, good_bcrypt_token) {
    GO_TEST("test/auth_test.go", "TestGoodBcryptToken");
    auth_case("--auth", BCRYPT_AUTH_TOKEN_HASH, NULL, NULL, BCRYPT_AUTH_TOKEN, "", "", true);
}

/* The same bcrypt rules when the secrets come from a config file rather than flags. */
Test(client_auth, bcrypt_from_config) {
    h_server *s = h_server_start("authorization {\n  user: derek\n"
                                 "  password: \"" BCRYPT_AUTH_HASH "\"\n}\n");
    h_conn *c = auth_conn(s);
    do_auth_connect(c, "", AUTH_USER, BCRYPT_AUTH_HASH);
    expect_auth_violation(c);
    h_close(c);
    c = auth_conn(s);
    do_auth_connect(c, "", AUTH_USER, BCRYPT_AUTH_PASS);
    h_expect(c, "+OK\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);

    s = h_server_start("authorization {\n  token: \"" BCRYPT_AUTH_TOKEN_HASH "\"\n}\n");
    c = auth_conn(s);
    do_auth_connect(c, BCRYPT_AUTH_TOKEN_HASH, "", "");
    expect_auth_violation(c);
    h_close(c);
    c = auth_conn(s);
    do_auth_connect(c, BCRYPT_AUTH_TOKEN, "", "");
    h_expect(c, "+OK\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}

/* ---- test/user_authorization_test.go --------------------------------------------------------- */

/* test/configs/authorization.conf (listen port made ephemeral) and test/configs/auths.conf. */
static const char AUTHORIZATION_CONF[] =
    "listen: 127.0.0.1:-1\n"
    "\n"
    "authorization {\n"
    "  # Authorizations\n"
    "  include \"auths.conf\"\n"
    "\n"
    "  # Just foo for testing\n"
    "  PASS: $2a$04$P/.bd.7unw9Ew7yWJqXsl.f4oNRLQGvadEL2YnqQXbbb.IVQajRdK\n"
    "\n"
    "  # Users listed with permissions.\n"
    "  users = [\n"
    "    {user: alice, password: $PASS, permissions: $ADMIN}\n"
    "    {user: bob,   password: $PASS, permissions: $REQUESTOR}\n"
    "    {user: bench, password: $PASS, permissions: $BENCH}\n"
    "    {user: joe,   password: $PASS}\n"
    "    {user: ns, password: $PASS, permissions: $NEW_STYLE}\n"
    "    {user: ns-pub, password: $PASS, permissions: $NS_PUB}\n"
    "    {user: bench-deny, password: $PASS, permissions: $BENCH_DENY}\n"
    "    {user: svca, password: $PASS, permissions: $MY_SERVICE}\n"
    "    {user: svcb, password: $PASS, permissions: $MY_STREAM_SERVICE}\n"
    "  ]\n"
    "}\n";

static const char AUTHS_CONF[] =
    "# Our role based permissions.\n"
    "\n"
    "# Admin can do anything.\n"
    "ADMIN = {\n"
    "  publish = \">\"\n"
    "  subscribe = \">\"\n"
    "}\n"
    "\n"
    "# Can do requests on req.foo or req.bar, and subscribe to anything\n"
    "# that is a response, e.g. _INBOX.*\n"
    "#\n"
    "# Notice that authorization filters can be singletons or arrays.\n"
    "\n"
    "REQUESTOR = {\n"
    "  publish = [\"req.foo\", \"req.bar\"]\n"
    "  subscribe = \"_INBOX.*\"\n"
    "}\n"
    "\n"
    "# Default permissions if none presented. e.g. Joe below.\n"
    "DEFAULT_PERMISSIONS = {\n"
    "   publish = \"SANDBOX.*\"\n"
    "   subscribe = [\"PUBLIC.>\", \"_INBOX.>\"]\n"
    "}\n"
    "\n"
    "# This is to benchmark pub performance.\n"
    "BENCH = {\n"
    "   publish = \"a\"\n"
    "}\n"
    "\n"
    "# New Style Permissions\n"
    "\n"
    "NEW_STYLE = {\n"
    "  publish = {\n"
    "    allow = \"*.*\"\n"
    "    deny = [\"SYS.*\", \"bar.baz\", \"foo.*\"]\n"
    "  }\n"
    "  subscribe = {\n"
    "    allow = [\"foo.*\", \"SYS.TEST.>\"]\n"
    "    deny = [\"foo.baz\", \"SYS.*\"]\n"
    "  }\n"
    "}\n"
    "\n"
    "NS_PUB = {\n"
    "  publish = \"foo.baz\"\n"
    "  subscribe = \"foo.baz\"\n"
    "}\n"
    "\n"
    "BENCH_DENY = {\n"
    "   subscribe = {\n"
    "    allow = [\"foo\", \"*\"]\n"
    "    deny = \"foo.bar\"\n"
    "  }\n"
    "}\n"
    "\n"
    "# This is for services where you only want\n"
    "# responses to reply subjects to be allowed.\n"
    "MY_SERVICE = {\n"
    "    subscribe = \"my.service.req\"\n"
    "    publish_allow_responses: true\n"
    "  }\n"
    "\n"
    "# This is a more detailed example where responses\n"
    "# could be streams and you want to set the TTL\n"
    "# and maximum allowed.\n"
    "MY_STREAM_SERVICE = {\n"
    "    subscribe = \"my.service.req\"\n"
    "    allow_responses = {max: 10, ttl: \"50ms\"}\n"
    "}\n";

#define DEFAULT_PASS "foo"

static char conf_dir[64];

static void write_file(const char *dir, const char *name, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert(f, "create %s", path);
    fputs(text, f);
    fclose(f);
}

/* Go RunServerWithConfig("./configs/authorization.conf"): both files in a private dir so the
 * include resolves relative to the main file.  one_worker: run ours with a single broker
 * worker. */
static h_server *run_authorization_server(bool one_worker) {
    snprintf(conf_dir, sizeof conf_dir, "/tmp/nxauth.XXXXXX");
    cr_assert(mkdtemp(conf_dir));
    write_file(conf_dir, "authorization.conf", AUTHORIZATION_CONF);
    write_file(conf_dir, "auths.conf", AUTHS_CONF);
    char path[128];
    snprintf(path, sizeof path, "%s/authorization.conf", conf_dir);
    if (one_worker && !h_server_is_go()) return h_server_start(NULL, "-c", path, "--workers", "1");
    return h_server_start(NULL, "-c", path);
}

static void stop_authorization_server(h_server *s) {
    h_server_stop(s);
    char path[128];
    snprintf(path, sizeof path, "%s/authorization.conf", conf_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/auths.conf", conf_dir);
    unlink(path);
    rmdir(conf_dir);
}

/* createClientConn, expectAuthRequired, doAuthConnect(user, DefaultPass), expect okRe. */
static h_conn *login(const h_server *s, const char *user) {
    h_conn *c = auth_conn(s);
    do_auth_connect(c, "", user, DEFAULT_PASS);
    h_expect(c, "+OK\r\n");
    return c;
}

/* sendProto + expectResult(okRe) */
static void ok(h_conn *c, const char *proto) {
    h_send(c, proto);
    h_expect(c, "+OK\r\n");
}

/* sendProto of a PUB + expectResult(permErrRe); the connection stays open. */
static void pub_denied_exact(h_conn *c, const char *subject) {
    h_sendf(c, "PUB %s 2\r\nok\r\n", subject);
    char want[256];
    snprintf(want, sizeof want, "-ERR 'Permissions Violation for Publish to \"%s\"'\r\n", subject);
    h_expect(c, want);
}

/* SUB <subject> [queue] <sid> refused with permErrRe; the connection stays open. */
static void sub_denied(h_conn *c, const char *subject, const char *queue, const char *sid) {
    char want[256];
    if (queue) {
        h_sendf(c, "SUB %s %s %s\r\n", subject, queue, sid);
        snprintf(want, sizeof want,
                 "-ERR 'Permissions Violation for Subscription to \"%s\" using queue \"%s\"'\r\n",
                 subject, queue);
    } else {
        h_sendf(c, "SUB %s %s\r\n", subject, sid);
        snprintf(want, sizeof want, "-ERR 'Permissions Violation for Subscription to \"%s\"'\r\n",
                 subject);
    }
    h_expect(c, want);
}

Test(client_auth, user_authorization_proto) {
    GO_TEST("test/user_authorization_test.go", "TestUserAuthorizationProto");
    /* Runs with the default workers: a queue group split over workers still routes around a
     * member that is denied the subject (the mesh passes the message on, broker/deliver.c). */
    h_server *s = run_authorization_server(false);

    /* Alice can do anything, check a few for OK result. */
    h_conn *c = login(s, "alice");
    ok(c, "PUB foo 2\r\nok\r\n");
    ok(c, "SUB foo 1\r\n");
    /* Check that _ is ok */
    ok(c, "PUB _ 2\r\nok\r\n");
    h_close(c);

    /* Bob is a requestor only, e.g. req.foo, req.bar for publish, subscribe only to INBOXes. */
    c = login(s, "bob");
    sub_denied(c, "foo", NULL, "1");
    pub_denied_exact(c, "foo");
    ok(c, "SUB _INBOX.abcd 1\r\n");
    ok(c, "PUB req.foo 2\r\nok\r\n");
    ok(c, "PUB req.bar 2\r\nok\r\n");
    h_close(c);

    /* Joe is a default user: DEFAULT_PERMISSIONS, included into the authorization block, is
     * its default_permissions entry (keys are case-insensitive). */
    c = login(s, "joe");
    sub_denied(c, "foo.bar.*", NULL, "1");
    pub_denied_exact(c, "foo.bar.baz");
    ok(c, "SUB _INBOX.abcd 1\r\n");
    ok(c, "SUB PUBLIC.abcd 1\r\n");
    ok(c, "PUB SANDBOX.foo 2\r\nok\r\n");
    ok(c, "PUB SANDBOX.bar 2\r\nok\r\n");
    /* Since only PWC, this should fail (too many tokens). */
    pub_denied_exact(c, "SANDBOX.foo.bar");
    h_close(c);

    /* This is the new style permissions with allow and deny clauses. */
    c = login(s, "ns");
    ok(c, "PUB SANDBOX.foo 2\r\nok\r\n");
    ok(c, "PUB baz.bar 2\r\nok\r\n");
    ok(c, "PUB baz.foo 2\r\nok\r\n");
    pub_denied_exact(c, "foo");
    pub_denied_exact(c, "bar");
    pub_denied_exact(c, "foo.bar");
    pub_denied_exact(c, "foo.bar.baz");
    pub_denied_exact(c, "SYS.1");
    /* Subscriptions */
    ok(c, "SUB foo.bar 1\r\n");
    ok(c, "SUB foo.foo 1\r\n");
    sub_denied(c, "foo", NULL, "1");
    sub_denied(c, "foo.baz", NULL, "1");
    sub_denied(c, "foo.baz", NULL, "1");
    sub_denied(c, "foo.baz", NULL, "1");
    h_close(c);

    /* Deny clauses for subscriptions need to be able to allow subscriptions on larger scoped
     * wildcards, but prevent delivery of a message whose subject matches a deny clause. */
    c = login(s, "ns");
    ok(c, "SUB foo.* 1\r\n");
    ok(c, "SUB foo.* bar 2\r\n");

    /* Now send on foo.baz which should not be received on first client. */
    h_conn *nc = login(s, "ns-pub");
    ok(nc, "PUB foo.baz 2\r\nok\r\n");
    /* Expect nothing from the wildcard subscription. */
    h_expect_nothing(c, 100);
    h_ping(c);

    /* Now create a queue sub on our ns-pub user.  Queue subscribers can be denied and delivery
     * will route around. */
    ok(nc, "SUB foo.baz bar 2\r\n");
    /* Make sure we always get the message on our queue subscriber, several times since the
     * other member may be picked but is denied. */
    for (int i = 0; i < 20; i++) {
        h_send(nc, "PUB foo.baz 2\r\nok\r\n");
        h_expect(nc, "+OK\r\nMSG foo.baz 2 2\r\nok\r\n");
    }
    h_ping(nc);
    h_ping(c);
    h_close(c);

    c = login(s, "ns");
    ok(c, "SUB foo.bar 1\r\n");
    sub_denied(c, "foo.bar.baz", NULL, "2");
    sub_denied(c, ">", NULL, "3");
    sub_denied(c, "SYS.>", NULL, "4");
    ok(c, "SUB SYS.TEST.foo 5\r\n");
    sub_denied(c, "SYS.bar", NULL, "5");
    h_ping(c);
    h_close(c);
    h_close(nc);
    stop_authorization_server(s);
}

Test(client_auth, user_authorization_allow_responses) {
    GO_TEST("test/user_authorization_test.go", "TestUserAuthorizationAllowResponses");
    h_server *s = run_authorization_server(false);

    /* Alice can do anything, so she will be our requestor. */
    h_conn *rc = login(s, "alice");

    /* MY_SERVICE can subscribe to a single request subject but can respond to any reply
     * subject that it receives, but only for one response. */
    h_conn *c = login(s, "svca");
    ok(c, "SUB my.service.req 1\r\n");
    ok(rc, "PUB my.service.req resp.bar.22 2\r\nok\r\n");
    h_expect(c, "MSG my.service.req 1 resp.bar.22 2\r\nok\r\n");
    /* This should be allowed */
    ok(c, "PUB resp.bar.22 2\r\nok\r\n");
    /* This should not be allowed */
    pub_denied_exact(c, "resp.bar.33");
    /* Nor this, since we already sent a response and max is 1. */
    pub_denied_exact(c, "resp.bar.22");
    h_close(c);

    /* MY_STREAM_SERVICE: up to 10 responses, each permission lasting 50ms. */
    c = login(s, "svcb");
    ok(c, "SUB my.service.req 1\r\n");
    ok(rc, "PUB my.service.req resp.bar.22 2\r\nok\r\n");
    h_expect(c, "MSG my.service.req 1 resp.bar.22 2\r\nok\r\n");
    ok(c, "PUB resp.bar.22 2\r\nok\r\n");
    pub_denied_exact(c, "resp.bar.33");
    /* We should be able to send 9 more here since we are allowed 10 total. */
    for (int i = 0; i < 9; i++)
        ok(c, "PUB resp.bar.22 2\r\nok\r\n");
    /* Now this should fail since we already sent 10 responses. */
    pub_denied_exact(c, "resp.bar.22");

    /* Now test timeout. */
    ok(rc, "PUB my.service.req resp.bar.11 2\r\nok\r\n");
    h_expect(c, "MSG my.service.req 1 resp.bar.11 2\r\nok\r\n");
    h_pause_ms(100);
    pub_denied_exact(c, "resp.bar.11");

    h_close(c);
    h_close(rc);
    stop_authorization_server(s);
}

/* ---- no_auth_user (server/auth_test.go, server/client_test.go) ------------------------------ */

/* GET of a monitoring endpoint as JSON (Go 2.9.10 sends no Access-Control-Allow-Origin, so
 * monitor_util.h's get_json is too strict for it). */
static json_t *mon_json(int mport, const char *path) {
    http_resp r;
    cr_assert_eq(http_get_raw(mport, path, &r), 0, "GET %s failed", path);
    cr_assert_eq(r.status, 200, "GET %s: status %d", path, r.status);
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert(j, "GET %s: bad JSON: %s", path, r.body);
    free(r.body);
    return j;
}

/* The user /connz?auth=true shows for the only connection ("" for none). */
static char *only_conn_user(int mport) {
    json_t *cz = mon_json(mport, "/connz?auth=true");
    json_t *conns = json_object_get(cz, "connections");
    cr_assert_eq(json_array_size(conns), 1, "want 1 connection");
    const char *u = json_string_value(json_object_get(json_array_get(conns, 0), "authorized_user"));
    char *r = strdup(u ? u : "");
    json_decref(cz);
    return r;
}

/* Go checkClientsCount: polls /connz until it shows n clients. */
static void check_clients_count(int mport, int n) {
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        json_t *cz = mon_json(mport, "/connz");
        int have = (int)json_integer_value(json_object_get(cz, "num_connections"));
        json_decref(cz);
        if (have == n) return;
        cr_assert(h_now_ms() < deadline, "%d clients, want %d", have, n);
        h_pause_ms(20);
    }
}

Test(client_auth, no_auth_user) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestNoAuthUser",
                    "users in authorization{} instead of accounts FOO/BAR (accounts are not "
                    "supported); checks the authorized user in /connz instead of the account");
    h_server *s = h_server_start("authorization {\n"
                                 "  users [{user: \"foo\", password: \"pwd1\"}\n"
                                 "         {user: \"bar\", password: \"pwd2\"}]\n"
                                 "}\n"
                                 "no_auth_user: \"foo\"\n",
                                 "-m", "-1");
    int mport = mon_port(s);
    cr_assert_gt(mport, 0);
    static const struct {
        const char *name, *creds, *user; /* user: NULL when the connect must fail */
    } cases[] = {
        {"valid user/pwd", "\"user\":\"bar\",\"pass\":\"pwd2\"", "bar"},
        {"invalid pwd", "\"user\":\"bar\",\"pass\":\"wrong\"", NULL},
        {"some token", "\"auth_token\":\"sometoken\"", NULL},
        /* nats.go sends "bar@" as a token */
        {"user used without pwd", "\"auth_token\":\"bar\"", NULL},
        /* "bar:@": a user with an empty password (omitted from CONNECT) */
        {"user with empty password", "\"user\":\"bar\"", NULL},
        {"no user", "", "foo"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_conn *c = h_connect(s->port);
        json_t *info = h_read_info(c);
        json_decref(info);
        h_sendf(c, "CONNECT {\"verbose\":false,\"pedantic\":false%s%s}\r\nPING\r\n",
                cases[i].creds[0] ? "," : "", cases[i].creds);
        if (!cases[i].user) {
            expect_auth_violation(c);
            h_close(c);
            continue;
        }
        h_expect(c, "PONG\r\n");
        char *u = only_conn_user(mport);
        cr_assert_str_eq(u, cases[i].user, "%s: authorized as %s, want %s", cases[i].name, u,
                         cases[i].user);
        free(u);
        h_close(c);
        check_clients_count(mport, 0);
    }
    h_server_stop(s);
}

#define NOAUTH_NKEY "UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON"

Test(client_auth, no_auth_user_nkey) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestNoAuthUserNkey",
                    "users in authorization{} instead of accounts (not supported); checks the "
                    "authorized user in /connz instead of the $SYS.REQ.USER.INFO reply");
    H_SKIP_IF_GO("no_auth_user naming an nkey user is refused at startup by 2.9.10");
    h_server *s = h_server_start("authorization {\n"
                                 "  users [{user: \"foo\", password: \"pwd1\"}\n"
                                 "         {nkey: \"" NOAUTH_NKEY "\"}]\n"
                                 "}\n"
                                 "no_auth_user: \"" NOAUTH_NKEY "\"\n",
                                 "-m", "-1");
    int mport = mon_port(s);
    /* Make sure we connect ok and as the right user: no signature needed. */
    h_conn *c = h_connect_setup(s->port, NULL);
    h_ping(c);
    char *u = only_conn_user(mport);
    cr_assert_str_eq(u, NOAUTH_NKEY);
    free(u);
    h_close(c);
    h_server_stop(s);
}

Test(client_auth, no_auth_user_no_connect_proto) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestNoAuthUserNoConnectProto",
                    "user in authorization{} instead of accounts { A {...} } (not supported)");
    h_server *s = h_server_start("authorization {\n"
                                 "  users [{user: \"foo\", password: \"pwd\"}]\n"
                                 "  timeout: 1\n"
                                 "}\n"
                                 "no_auth_user: \"foo\"\n",
                                 "-m", "-1");
    int mport = mon_port(s);

    h_conn *c = h_connect(s->port);
    check_clients_count(mport, 1);
    /* With no auth user we should not require a CONNECT. */
    h_send(c, "PUB foo 2\r\nok\r\n");
    h_pause_ms(100);
    check_clients_count(mport, 1);
    free(h_expect_re(c, "INFO [^\r\n]+\r\n"));
    /* Without a CONNECT the client options are Go's defaultOpts: verbose and pedantic. */
    h_expect(c, "+OK\r\n");
    h_ping(c); /* answered: the connection is established as foo */
    char *u = only_conn_user(mport);
    cr_assert_str_eq(u, "foo");
    free(u);
    h_close(c);
    check_clients_count(mport, 0);

    /* Now make sure we still do get timed out though. */
    c = h_connect(s->port);
    check_clients_count(mport, 1);
    h_pause_ms(1200);
    check_clients_count(mport, 0);
    free(h_expect_re(c, "INFO [^\r\n]+\r\n"));
    h_expect(c, "-ERR 'Authentication Timeout'\r\n");
    h_expect_closed(c);
    h_close(c);
    h_server_stop(s);
}

Test(client_auth, client_auth_required_no_auth_user) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientAuthRequiredNoAuthUser",
                    "user in authorization{} instead of accounts { A {...} } (not supported)");
    h_server *s = h_server_start("authorization: {\n"
                                 "  users: [ { user: user, password: pass } ]\n"
                                 "}\n"
                                 "no_auth_user: user\n");
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert_not(json_is_true(json_object_get(info, "auth_required")),
                  "expected auth_required to be false due to 'no_auth_user'");
    json_decref(info);
    h_send(c, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n");
    h_ping(c);
    h_close(c);
    h_server_stop(s);
}

/* ---- server/nkey_test.go ------------------------------------------------------------------- */

/* nkey_test.go's seed: a user seed from which the public and private keys are taken. */
#define SEED "SUAKYRHVIOREXV7EUZTBHUHL7NUMHPMAS7QMDU3GTIUWEI5LDNOXD43IZY"

/* nkeyBasicSetup: opts.Nkeys = [{Nkey: pub}]; mixedSetup adds user derek/foo. */
static h_server *nkey_server(const char *pub, bool mixed) {
    char conf[512];
    snprintf(conf, sizeof conf, "authorization {\n  users = [\n    {nkey: \"%s\"}\n%s  ]\n}\n", pub,
             mixed ? "    {user: derek, password: foo}\n" : "");
    return h_server_start(conf);
}

static char *info_nonce(json_t *info) {
    const char *n = json_string_value(json_object_get(info, "nonce"));
    return n ? strdup(n) : NULL;
}

Test(client_auth, server_info_nonce) {
    GO_TEST("server/nkey_test.go", "TestServerInfoNonce");
    h_server *s = h_server_start(NULL);
    h_conn *c = h_connect(s->port);
    json_t *info = h_read_info(c);
    cr_assert_null(json_object_get(info, "nonce"), "expected an empty nonce with no nkeys defined");
    json_decref(info);
    h_close(c);
    h_server_stop(s);

    /* Now setup server with auth and nkeys to trigger nonce generation. */
    char pub[NX_NKEY_PUBLIC_LEN + 1];
    EVP_PKEY *kp = au_user_from_seed(SEED, pub);
    s = nkey_server(pub, false);
    c = h_connect(s->port);
    info = h_read_info(c);
    char *old_nonce = info_nonce(info);
    json_decref(info);
    cr_assert(old_nonce && *old_nonce, "expected a non-empty nonce with nkeys defined");

    /* Make sure new clients get new nonces. */
    h_conn *c2 = h_connect(s->port);
    info = h_read_info(c2);
    char *nonce = info_nonce(info);
    json_decref(info);
    cr_assert(nonce && *nonce, "expected a non-empty nonce");
    cr_assert_str_neq(old_nonce, nonce, "expected subsequent nonces to be different");
    free(nonce);
    free(old_nonce);
    h_close(c2);
    h_close(c);
    EVP_PKEY_free(kp);
    h_server_stop(s);
}

Test(client_auth, nkey_client_connect) {
    GO_TEST("server/nkey_test.go", "TestNkeyClientConnect");
    char pub[NX_NKEY_PUBLIC_LEN + 1];
    EVP_PKEY *kp = au_user_from_seed(SEED, pub);
    h_server *s = nkey_server(pub, false);

    /* Send CONNECT with no signature or nkey, should fail. */
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"verbose\":true,\"pedantic\":true}\r\n");
    expect_auth_violation(c);
    h_close(c);

    /* Send nkey but no signature. */
    c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_sendf(c, "CONNECT {\"nkey\":\"%s\", \"verbose\":true,\"pedantic\":true}\r\n", pub);
    expect_auth_violation(c);
    h_close(c);

    /* Now improperly sign etc. */
    c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_sendf(c, "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true,\"pedantic\":true}\r\n",
            pub, "bad_sig");
    expect_auth_violation(c);
    h_close(c);

    /* Now properly sign the nonce. */
    c = h_connect(s->port);
    json_t *info = h_read_info(c);
    char *nonce = info_nonce(info);
    json_decref(info);
    cr_assert(nonce && *nonce, "expected a non-empty nonce with nkeys defined");
    char sig[90];
    au_sign_nonce(kp, nonce, sig);
    h_sendf(c,
            "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true,\"pedantic\":true}\r\n"
            "PING\r\n",
            pub, sig);
    h_expect(c, "+OK\r\nPONG\r\n");
    h_close(c);

    /* Go falls back to standard base64 (with padding) for the signature. */
    c = h_connect(s->port);
    info = h_read_info(c);
    free(nonce);
    nonce = info_nonce(info);
    json_decref(info);
    {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char raw[64], std64[100];
        size_t rawlen = sizeof raw;
        cr_assert_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, kp), 1);
        cr_assert_eq(EVP_DigestSign(ctx, raw, &rawlen, (const unsigned char *)nonce, strlen(nonce)),
                     1);
        EVP_MD_CTX_free(ctx);
        EVP_EncodeBlock(std64, raw, (int)rawlen);
        h_sendf(c, "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true}\r\nPING\r\n", pub,
                (const char *)std64);
    }
    h_expect(c, "+OK\r\nPONG\r\n");
    h_close(c);

    /* A signature of another connection's nonce does not verify. */
    c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_sendf(c, "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true,\"pedantic\":true}\r\n",
            pub, sig);
    expect_auth_violation(c);
    h_close(c);

    /* Nor does a signature by another key presented with this nkey. */
    char other_pub[NX_NKEY_PUBLIC_LEN + 1];
    EVP_PKEY *other = au_user_new(other_pub);
    c = h_connect(s->port);
    info = h_read_info(c);
    free(nonce);
    nonce = info_nonce(info);
    json_decref(info);
    au_sign_nonce(other, nonce, sig);
    h_sendf(c, "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true,\"pedantic\":true}\r\n",
            pub, sig);
    expect_auth_violation(c);
    h_close(c);
    /* And an unknown nkey with a valid signature of its own is refused. */
    c = h_connect(s->port);
    info = h_read_info(c);
    free(nonce);
    nonce = info_nonce(info);
    json_decref(info);
    au_sign_nonce(other, nonce, sig);
    h_sendf(c, "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true,\"pedantic\":true}\r\n",
            other_pub, sig);
    expect_auth_violation(c);
    h_close(c);

    free(nonce);
    EVP_PKEY_free(other);
    EVP_PKEY_free(kp);
    h_server_stop(s);
}

Test(client_auth, mixed_client_connect) {
    GO_TEST("server/nkey_test.go", "TestMixedClientConnect");
    char pub[NX_NKEY_PUBLIC_LEN + 1];
    EVP_PKEY *kp = au_user_from_seed(SEED, pub);
    h_server *s = nkey_server(pub, true);

    /* Normal user/pass */
    h_conn *c = h_connect(s->port);
    json_decref(h_read_info(c));
    h_send(c, "CONNECT {\"user\":\"derek\",\"pass\":\"foo\",\"verbose\":true,\"pedantic\":true}"
              "\r\nPING\r\n");
    h_expect(c, "+OK\r\nPONG\r\n");
    h_close(c);

    c = h_connect(s->port);
    json_t *info = h_read_info(c);
    char *nonce = info_nonce(info);
    json_decref(info);
    cr_assert(nonce && *nonce, "expected a non-empty nonce with nkeys defined");
    char sig[90];
    au_sign_nonce(kp, nonce, sig);
    h_sendf(c,
            "CONNECT {\"nkey\":\"%s\",\"sig\":\"%s\",\"verbose\":true,\"pedantic\":true}\r\n"
            "PING\r\n",
            pub, sig);
    h_expect(c, "+OK\r\nPONG\r\n");
    h_close(c);
    free(nonce);
    EVP_PKEY_free(kp);
    h_server_stop(s);
}
