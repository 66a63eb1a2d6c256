/* Authentication tests (broker/auth.c, broker/auth_conf.c): ports of the config and
 * authentication cases of nats-server v2.14.5 server/opts_test.go, server/auth_test.go and
 * server/nkey_test.go that need no running server, plus bcrypt, tokens, signatures and Go's
 * config error texts (checked against the Go server where its messages did not change).
 * Where Go connects a client, these tests call br_auth_check with the CONNECT credentials.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "broker/auth.h"
#include "common/conf.h"
#include "common/gotest.h"
#include "common/nkey.h"

/* ---- helpers ---- */

/* Parses text as file "test.conf" and applies it; returns the number of errors. */
static int load(const char *text, br_auth_opts *o, br_conf_diag *d) {
    memset(o, 0, sizeof *o);
    memset(d, 0, sizeof *d);
    nx_conf_value *root = NULL;
    char err[1024];
    nx_conf_opts co = {.file = "test.conf"};
    if (nx_conf_parse(text, strlen(text), &co, &root, err, sizeof err) < 0) {
        d->errors = strdup(err);
        d->nerrors = 1;
        return 1;
    }
    int n = br_auth_conf_load(o, root, d);
    nx_conf_free(root);
    return n;
}

static bool has_error(const br_conf_diag *d, const char *needle) {
    return d->errors && strstr(d->errors, needle);
}

static br_auth *auth_from(const char *text) {
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load(text, &o, &d), 0, "%s", d.errors ? d.errors : "");
    br_auth *a = NULL;
    char err[512];
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0, "%s", err);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
    return a;
}

static br_user *find_user(const br_auth_opts *o, const char *name) {
    for (size_t i = 0; i < o->nusers; i++)
        if (!strcmp(o->users[i].username, name)) return &o->users[i];
    return NULL;
}

typedef struct creds {
    const char *user, *pass, *token, *nkey, *sig, *nonce;
} creds;

static int check(const br_auth *a, creds c, br_auth_result *r) {
    br_auth_creds bc = {0};
#define SET(f)                                                                                     \
    if (c.f) bc.f = c.f, bc.f##_len = strlen(c.f);
    SET(user)
    SET(pass)
    SET(token)
    SET(nkey) SET(sig) SET(nonce)
#undef SET
        br_auth_result tmp;
    return br_auth_check(a, &bc, r ? r : &tmp);
}

/* An Ed25519 user key pair: the private key and its public "U..." nkey. */
static EVP_PKEY *user_key(char pub[NX_NKEY_PUBLIC_LEN + 1]) {
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    cr_assert(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pk) == 1);
    EVP_PKEY_CTX_free(ctx);
    uint8_t raw[32];
    size_t len = sizeof raw;
    cr_assert_eq(EVP_PKEY_get_raw_public_key(pk, raw, &len), 1);
    nx_nkey_encode_public(NX_NKEY_PREFIX_USER, raw, pub);
    return pk;
}

/* Signs msg; base64url without padding (url) or standard base64. */
static void sign(EVP_PKEY *pk, const char *msg, bool url, char out[128]) {
    unsigned char sig[64];
    size_t sl = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    cr_assert(EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1);
    cr_assert(EVP_DigestSign(md, sig, &sl, (const unsigned char *)msg, strlen(msg)) == 1);
    EVP_MD_CTX_free(md);
    EVP_EncodeBlock((unsigned char *)out, sig, (int)sl);
    if (!url) return;
    for (char *p = out; *p; p++) {
        if (*p == '+') *p = '-';
        if (*p == '/') *p = '_';
        if (*p == '=') *p = '\0';
    }
}

/* ---- server/auth_test.go ---- */

Test(auth, user_clone_nil_permissions) {
    GO_TEST("server/auth_test.go", "TestUserCloneNilPermissions");
    br_user u = {.username = "foo", .password = "bar"}, c;
    br_user_clone(&c, &u);
    cr_assert_str_eq(c.username, "foo");
    cr_assert_str_eq(c.password, "bar");
    cr_assert_null(c.perms);
    cr_assert_neq(c.password, u.password);
    free(c.password);
    c.password = strdup("baz");
    cr_assert_str_neq(c.password, u.password);
    br_user_free(&c);
}

Test(auth, user_clone) {
    GO_TEST("server/auth_test.go", "TestUserClone");
    br_permissions *p = br_permissions_new();
    p->publish = br_subject_perm_new();
    br_subject_perm_add(p->publish, false, "foo", 3);
    p->subscribe = br_subject_perm_new();
    br_subject_perm_add(p->subscribe, false, "bar", 3);
    br_user u = {.username = "foo", .password = "bar", .perms = p}, c;
    br_user_clone(&c, &u);
    cr_assert(br_permissions_equal(u.perms, c.perms));
    free(c.perms->subscribe->allow[0]);
    c.perms->subscribe->allow[0] = strdup("baz");
    cr_assert_not(br_permissions_equal(u.perms, c.perms));
    cr_assert_str_eq(u.perms->subscribe->allow[0], "bar");
    br_user_free(&c);
    br_permissions_free(p);
}

Test(auth, user_clone_permissions_no_lists) {
    GO_TEST("server/auth_test.go", "TestUserClonePermissionsNoLists");
    br_permissions *p = br_permissions_new();
    br_user u = {.username = "foo", .password = "bar", .perms = p}, c;
    br_user_clone(&c, &u);
    cr_assert_not_null(c.perms);
    cr_assert_null(c.perms->publish);
    cr_assert_null(c.perms->subscribe);
    br_user_free(&c);
    br_permissions_free(p);
}

Test(auth, user_clone_no_permissions) {
    GO_TEST("server/auth_test.go", "TestUserCloneNoPermissions");
    br_user u = {.username = "foo", .password = "bar"}, c;
    br_user_clone(&c, &u);
    cr_assert_null(c.perms);
    br_user_free(&c);
}

Test(auth, user_clone_nil) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestUserCloneNil",
                    "C users are values; checks that cloning nil permissions gives nil");
    cr_assert_null(br_permissions_clone(NULL));
}

Test(auth, unknown_allowed_connection_type) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestUserUnknownAllowedConnectionType",
                    "through the config file (the programmatic map is a bit set here)");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_gt(load("authorization { users: [ {user: user, password: pwd, "
                      "allowed_connection_types: [\"STANDARD\", \"someNewType\"]} ] }",
                      &o, &d),
                 0);
    cr_assert(has_error(&d, "connection type"), "%s", d.errors);
    cr_assert(has_error(&d, "invalid connection types [\"SOMENEWTYPE\"]"), "%s", d.errors);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);

    cr_assert_eq(load("authorization { users: [ {user: user, password: pwd, "
                      "allowed_connection_types: [\"websocket\"]} ] }",
                      &o, &d),
                 0);
    cr_assert_eq(o.users[0].conn_types, BR_CT_WEBSOCKET);
    br_auth *a = NULL;
    char err[256];
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0);
    /* A plain client is not a websocket client. */
    cr_assert_lt(check(a, (creds){.user = "user", .pass = "pwd"}, NULL), 0);
    br_auth_free(a);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);

    cr_assert_gt(load("authorization { users: [ {nkey: "
                      "UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV, "
                      "allowed_connection_types: [\"STANDARD\", \"someNewType\"]} ] }",
                      &o, &d),
                 0);
    cr_assert(has_error(&d, "connection type"));
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
    cr_assert_eq(load("authorization { users: [ {nkey: "
                      "UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV, "
                      "allowed_connection_types: websocket} ] }",
                      &o, &d),
                 0);
    cr_assert_eq(o.nkeys[0].conn_types, BR_CT_WEBSOCKET);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(auth, no_auth_user) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestNoAuthUser",
                    "users in authorization{} instead of accounts (not supported); checks the "
                    "authenticated user instead of the account");
    br_auth *a = auth_from("authorization { users [{user: \"foo\", password: \"pwd1\"}, "
                           "{user: \"bar\", password: \"pwd2\"}] }\nno_auth_user: \"foo\"\n");
    br_auth_result r;
    cr_assert_eq(check(a, (creds){.user = "bar", .pass = "pwd2"}, &r), 0);
    cr_assert(r.user_len == 3 && !memcmp(r.user, "bar", 3));
    cr_assert_lt(check(a, (creds){.user = "bar", .pass = "wrong"}, NULL), 0);
    cr_assert_lt(check(a, (creds){.token = "sometoken"}, NULL), 0);
    cr_assert_lt(check(a, (creds){.token = "bar"}, NULL), 0); /* "bar@": a token */
    cr_assert_lt(check(a, (creds){.user = "bar", .pass = ""}, NULL), 0);
    cr_assert_eq(check(a, (creds){0}, &r), 0);
    cr_assert(r.user_len == 3 && !memcmp(r.user, "foo", 3));
    cr_assert(br_auth_required(a));
    cr_assert_not(br_auth_info_auth_required(a));
    /* TestNoAuthUserNoConnectProto's rule: a PUB may come first. */
    cr_assert(br_auth_implicit_connect_allowed(a, 0));
    br_auth_free(a);
    a = auth_from("authorization { users [{user: foo, password: p, clients: [websocket]}] }\n"
                  "no_auth_user: foo\n");
    cr_assert_not(br_auth_implicit_connect_allowed(a, BR_CT_STANDARD));
    cr_assert(br_auth_implicit_connect_allowed(a, BR_CT_WEBSOCKET));
    br_auth_free(a);
    a = auth_from("authorization { users [{user: foo, password: p}] }");
    cr_assert_not(br_auth_implicit_connect_allowed(a, 0));
    br_auth_free(a);
}

Test(auth, no_auth_user_nkey) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestNoAuthUserNkey",
                    "users in authorization{} instead of accounts; checks the authenticated nkey "
                    "instead of a user info request");
    const char *nk = "UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON";
    char conf[512];
    snprintf(conf, sizeof conf,
             "authorization { users [{user: \"foo\", password: \"pwd1\"}, {nkey: \"%s\"}] }\n"
             "no_auth_user: \"%s\"\n",
             nk, nk);
    br_auth *a = auth_from(conf);
    br_auth_result r;
    cr_assert_eq(check(a, (creds){0}, &r), 0);
    cr_assert(r.nkey_len == strlen(nk) && !memcmp(r.nkey, nk, r.nkey_len));
    char desc[128];
    br_auth_describe(&r, desc, sizeof desc);
    cr_assert_str_eq(desc, "Nkey \"UBO2MQV67TQTVIRV3XFTEZOACM4WLOCMCDMAWN5QVN5PI2N6JHTVDRON\"");
    cr_assert_eq(check(a, (creds){.user = "foo", .pass = "pwd1"}, NULL), 0);
    br_auth_free(a);
}

/* ---- server/nkey_test.go ---- */

Test(auth, server_info_nonce) {
    GO_TEST_PARTIAL("server/nkey_test.go", "TestServerInfoNonce",
                    "checks br_auth_needs_nonce and the nonces, not the INFO line");
    br_auth *a = auth_from("authorization { users [{user: a, password: b}] }");
    cr_assert_not(br_auth_needs_nonce(a));
    br_auth_free(a);
    a = auth_from("authorization { users [{nkey: "
                  "UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV}] }");
    cr_assert(br_auth_needs_nonce(a));
    char n1[BR_AUTH_NONCE_LEN + 1], n2[BR_AUTH_NONCE_LEN + 1];
    cr_assert_eq(br_auth_make_nonce(n1), 0);
    cr_assert_eq(br_auth_make_nonce(n2), 0);
    cr_assert_eq(strlen(n1), 15);
    cr_assert_str_neq(n1, n2);
    cr_assert_eq(strspn(n1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 15);
    br_auth_free(a);
}

static br_auth *nkey_server(EVP_PKEY **pk, char pub[NX_NKEY_PUBLIC_LEN + 1], bool mixed) {
    *pk = user_key(pub);
    br_auth_opts o = {0};
    br_auth_opts_add_nkey(&o, pub, NULL);
    if (mixed) br_auth_opts_add_user(&o, "derek", "foo", NULL);
    br_auth *a;
    char err[256];
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0);
    br_auth_opts_free(&o);
    return a;
}

Test(auth, nkey_client_connect) {
    GO_TEST_PARTIAL("server/nkey_test.go", "TestNkeyClientConnect",
                    "calls br_auth_check with the CONNECT fields instead of a connection");
    EVP_PKEY *pk;
    char pub[NX_NKEY_PUBLIC_LEN + 1], nonce[BR_AUTH_NONCE_LEN + 1], sig[128];
    br_auth *a = nkey_server(&pk, pub, false);
    cr_assert_eq(br_auth_make_nonce(nonce), 0);
    br_auth_result r;
    cr_assert_lt(check(a, (creds){.nonce = nonce}, &r), 0);
    cr_assert_lt(check(a, (creds){.nkey = pub, .nonce = nonce}, &r), 0);
    cr_assert_str_eq(r.reason, "Signature missing");
    cr_assert_lt(check(a, (creds){.nkey = pub, .sig = "bad_sig", .nonce = nonce}, &r), 0);
    cr_assert_str_eq(r.reason, "Signature not verified");
    cr_assert_lt(check(a, (creds){.nkey = pub, .sig = "bad sig", .nonce = nonce}, &r), 0);
    cr_assert_str_eq(r.reason, "Signature not valid base64");
    sign(pk, nonce, true, sig);
    cr_assert_eq(check(a, (creds){.nkey = pub, .sig = sig, .nonce = nonce}, &r), 0);
    cr_assert_null(r.perms);
    /* Standard base64 is accepted too; another nonce is not. */
    sign(pk, nonce, false, sig);
    cr_assert_eq(check(a, (creds){.nkey = pub, .sig = sig, .nonce = nonce}, NULL), 0);
    cr_assert_lt(check(a, (creds){.nkey = pub, .sig = sig, .nonce = "AAAAAAAAAAAAAAA"}, NULL), 0);
    br_auth_free(a);
    EVP_PKEY_free(pk);
}

Test(auth, mixed_client_connect) {
    GO_TEST_PARTIAL("server/nkey_test.go", "TestMixedClientConnect",
                    "calls br_auth_check with the CONNECT fields instead of a connection");
    EVP_PKEY *pk;
    char pub[NX_NKEY_PUBLIC_LEN + 1], nonce[BR_AUTH_NONCE_LEN + 1], sig[128];
    br_auth *a = nkey_server(&pk, pub, true);
    cr_assert(br_auth_needs_nonce(a));
    cr_assert_eq(check(a, (creds){.user = "derek", .pass = "foo"}, NULL), 0);
    cr_assert_eq(br_auth_make_nonce(nonce), 0);
    sign(pk, nonce, true, sig);
    cr_assert_eq(check(a, (creds){.nkey = pub, .sig = sig, .nonce = nonce}, NULL), 0);
    /* An nkey that is not configured fails even with a valid user. */
    char other[NX_NKEY_PUBLIC_LEN + 1];
    EVP_PKEY *pk2 = user_key(other);
    cr_assert_lt(check(a, (creds){.nkey = other, .user = "derek", .pass = "foo"}, NULL), 0);
    EVP_PKEY_free(pk2);
    br_auth_free(a);
    EVP_PKEY_free(pk);
}

Test(auth, mixed_client_config) {
    GO_TEST("server/nkey_test.go", "TestMixedClientConfig");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("authorization {\n users = [\n"
                      " {nkey: \"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\"}\n"
                      " {user: alice, password: foo}\n ]\n}",
                      &o, &d),
                 0);
    cr_assert_eq(o.nnkeys, 1);
    cr_assert_eq(o.nusers, 1);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

/* ---- server/opts_test.go ---- */

Test(auth, multiple_users_config) {
    GO_TEST("server/opts_test.go", "TestMultipleUsersConfig");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("listen: 127.0.0.1:4443\n\nauthorization {\n    users = [\n"
                      "      {user: alice, password: foo}\n      {user: bob,   password: bar}\n"
                      "    ]\n    timeout: 0.5\n}\n",
                      &o, &d),
                 0);
    cr_assert_eq(o.nusers, 2);
    cr_assert_float_eq(o.timeout_s, 0.5, 1e-9);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

/* server/configs/authorization.conf */
static const char authorization_conf[] =
    "listen: 127.0.0.1:4222\n\nauthorization {\n"
    "  super_user = {\n    publish = \"*\"\n    subscribe = \">\"\n  }\n"
    "  req_pub_user = {\n    publish = [\"req.foo\", \"req.bar\"]\n"
    "    subscribe = \"_INBOX.>\"\n  }\n"
    "  default_user = {\n    subscribe = \"PUBLIC.>\"\n  }\n"
    "  my_service = {\n    subscribe = \"my.service.req\"\n    publish_allow_responses: true\n"
    "  }\n"
    "  my_stream_service = {\n    subscribe = \"my.service.req\"\n"
    "    allow_responses: {max: 10, expires: \"1m\"}\n  }\n"
    "  default_permissions: $default_user\n"
    "  users = [\n"
    "    {user: alice, password: foo, permissions: $super_user}\n"
    "    {user: bob,   password: bar, permissions: $req_pub_user}\n"
    "    {user: susan, password: baz}\n"
    "    {user: svca,  password: pc,  permissions: $my_service}\n"
    "    {user: svcb,  password: sam, permissions: $my_stream_service}\n"
    "  ]\n}\n";

Test(auth, authorization_config) {
    GO_TEST("server/opts_test.go", "TestAuthorizationConfig");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load(authorization_conf, &o, &d), 0, "%s", d.errors);
    cr_assert_eq(o.nusers, 5);
    br_user *alice = find_user(&o, "alice");
    cr_assert(alice && alice->perms && alice->perms->publish);
    cr_assert_eq(alice->perms->publish->nallow, 1);
    cr_assert_str_eq(alice->perms->publish->allow[0], "*");
    cr_assert(alice->perms->subscribe && alice->perms->subscribe->nallow == 1);
    cr_assert_str_eq(alice->perms->subscribe->allow[0], ">");
    br_user *bob = find_user(&o, "bob");
    cr_assert(bob && bob->perms);
    br_user *susan = find_user(&o, "susan");
    cr_assert(susan && susan->perms);
    cr_assert_null(susan->perms->publish);
    cr_assert(susan->perms->subscribe && susan->perms->subscribe->nallow == 1);
    cr_assert_str_eq(susan->perms->subscribe->allow[0], "PUBLIC.>");
    br_user *svca = find_user(&o, "svca");
    cr_assert(svca && svca->perms && svca->perms->subscribe);
    cr_assert_str_eq(svca->perms->subscribe->allow[0], "my.service.req");
    cr_assert(svca->perms->publish && svca->perms->publish->nallow == 0);
    cr_assert(svca->perms->publish->allow_set);
    cr_assert(svca->perms->response);
    cr_assert_eq(svca->perms->response->max_msgs, BR_ALLOW_RESPONSE_MAX_MSGS);
    cr_assert_eq(svca->perms->response->expires_ns, BR_ALLOW_RESPONSE_EXPIRATION_NS);
    br_user *svcb = find_user(&o, "svcb");
    cr_assert(svcb && svcb->perms && svcb->perms->subscribe);
    cr_assert_str_eq(svcb->perms->subscribe->allow[0], "my.service.req");
    cr_assert(svcb->perms->publish && svcb->perms->publish->nallow == 0);
    cr_assert(svcb->perms->response);
    cr_assert_eq(svcb->perms->response->max_msgs, 10);
    cr_assert_eq(svcb->perms->response->expires_ns, 60LL * 1000000000);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(auth, nkey_users_config) {
    GO_TEST("server/opts_test.go", "TestNkeyUsersConfig");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("authorization {\n users = [\n"
                      " {nkey: \"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\"}\n"
                      " {nkey: \"UA3C5TBZYK5GJQJRWPMU6NFY5JNAEVQB2V2TUZFZDHFJFUYVKTTUOFKZ\"}\n"
                      " ]\n}",
                      &o, &d),
                 0);
    cr_assert_eq(o.nnkeys, 2);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

static void expect_error(const char *conf, const char *needle) {
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_gt(load(conf, &o, &d), 0, "no error for %s", conf);
    if (needle) cr_assert(has_error(&d, needle), "got %s", d.errors);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(auth, bad_nkey_config) {
    GO_TEST("server/opts_test.go", "TestBadNkeyConfig");
    expect_error("\n    authorization {\n      users = [ {nkey: \"Ufoo\"}]\n    }",
                 "Not a valid public nkey for a user");
}

Test(auth, nkey_with_pass_config) {
    GO_TEST("server/opts_test.go", "TestNkeyWithPassConfig");
    expect_error("authorization {\n users = [\n {nkey: "
                 "\"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\", pass: \"foo\"}\n"
                 " ]\n}",
                 "Nkey users do not take usernames or passwords");
}

Test(auth, token_with_user_pass) {
    GO_TEST("server/opts_test.go", "TestTokenWithUserPass");
    expect_error("\n\tauthorization={\n\t\tuser: user\n\t\tpass: password\n"
                 "\t\ttoken: $2a$11$whatever\n\t}",
                 "token");
    expect_error("authorization={\n user: user\n pass: password\n token: $2a$11$whatever\n}",
                 "test.conf:1:0: Cannot have a user/pass and token");
}

Test(auth, token_with_users) {
    GO_TEST("server/opts_test.go", "TestTokenWithUsers");
    expect_error("\n\tauthorization={\n\t\ttoken: $2a$11$whatever\n\t\tusers: [\n"
                 "\t\t\t{user: test, password: test}\n\t\t]\n\t}",
                 "token");
    expect_error("authorization={\n token: x\n users: []\n}",
                 "test.conf:1:0: Can not have a token and a users array");
}

Test(auth, no_auth_user_code) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestNoAuthUserCode",
                    "without the accounts{} users (not supported); connects with br_auth_check");
    const char *conf =
        "listen: \"127.0.0.1:-1\"\nno_auth_user: $NO_AUTH_USER\n"
        "authorization {\n users [\n {user: \"b\", password: \"b\"},\n"
        " {nkey : UBAAQWTW6CG2G6ANGNKB5U2B7HRWHSGMZEZX3AQSAJOQDAUGJD46LD2E},\n ]\n}\n";
    const char *good[] = {"b", "UBAAQWTW6CG2G6ANGNKB5U2B7HRWHSGMZEZX3AQSAJOQDAUGJD46LD2E"};
    for (int i = 0; i < 2; i++) {
        setenv("NO_AUTH_USER", good[i], 1);
        br_auth *a = auth_from(conf);
        cr_assert_eq(check(a, (creds){0}, NULL), 0);
        br_auth_free(a);
    }
    const char *bad[] = {"notthere", "UBAAQWTW6CG2G6ANGNKB5U2B7HRWHSGMZEZX3AQSAJOQDAUGJD46LD2F"};
    for (int i = 0; i < 2; i++) {
        setenv("NO_AUTH_USER", bad[i], 1);
        br_auth_opts o;
        br_conf_diag d;
        cr_assert_eq(load(conf, &o, &d), 0);
        br_auth *a = NULL;
        char err[512];
        cr_assert_lt(br_auth_new(&o, &a, err, sizeof err), 0);
        cr_assert_eq(strncmp(err, "no_auth_user", 12), 0, "%s", err);
        br_auth_opts_free(&o);
        br_conf_diag_free(&d);
    }
    unsetenv("NO_AUTH_USER");
}

Test(auth, authorization_timeout_config_parsing) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestAuthorizationTimeoutConfigParsing",
                    "checks the parsed value; the running default (2 s for 0) is the broker's");
    static const struct {
        const char *conf;
        double parsed;
        const char *err;
    } cases[] = {
        {"authorization {}", 0, NULL},
        {"authorization {\n timeout: 0\n}", 0, NULL},
        {"authorization {\n timeout: 1\n}", 1, NULL},
        {"authorization {\n timeout: random_garbage\n}", 0, "invalid duration \"random_garbage\""},
        {"authorization {\n timeout: 10s\n}", 10, NULL},
        {"authorization {\n timeout: 1m\n}", 1000000, NULL},
        {"authorization {\n timeout: \"1m\"\n}", 60, NULL},
        {"authorization {\n timeout: \"10m5s30ms\"\n}", 605.03, NULL},
        {"authorization {\n timeout: 0.091\n}", .091, NULL},
        {"authorization {\n timeout: .091\n}", 0, "Floats must start with a digit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        br_auth_opts o;
        br_conf_diag d;
        int n = load(cases[i].conf, &o, &d);
        if (cases[i].err) {
            cr_assert(n > 0 && has_error(&d, cases[i].err), "case %zu: %s", i, d.errors);
        } else {
            cr_assert_eq(n, 0, "case %zu: %s", i, d.errors);
            cr_assert_float_eq(o.timeout_s, cases[i].parsed, 1e-9, "case %zu", i);
            cr_assert(o.auth_block);
        }
        br_auth_opts_free(&o);
        br_conf_diag_free(&d);
    }
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("authorization {\n timeout: 1m\n}", &o, &d), 0);
    cr_assert_str_eq(d.warnings,
                     "test.conf:2:2: invalid use of field \"timeout\": timeout of 1000000 "
                     "(1000000.000000 seconds) is high, consider keeping it under 60 seconds. "
                     "possibly caused by unquoted duration; use '1m' instead of 1m, for example\n");
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

/* ---- error texts and positions (as the Go server prints them) ---- */

static void expect_errors(const char *conf, const char *want) {
    br_auth_opts o;
    br_conf_diag d;
    load(conf, &o, &d);
    cr_assert_str_eq(d.errors ? d.errors : "", want);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(auth, config_error_texts) {
    expect_errors("authorization {\n  user: 1\n}\n",
                  "test.conf:2:3: interface conversion: interface {} is int64, not string\n"
                  "test.conf:1:0: runtime error: invalid memory address or nil pointer "
                  "dereference\n");
    expect_errors(
        "authorization {\n  users: [ {user: a, password: b, permissions: {publish: 1}} ]\n}\n",
        "Expected subject permissions to be a subject, or array of subjects, got int64\n");
    expect_errors("authorization { users: [{user: a, password: b}, {user: a, password: c}] }\n",
                  "test.conf:1:0: Duplicate user \"a\" detected\n");
    expect_errors("authorization {\n users: [{user: a, password: b, permissions: {publish: "
                  "{allow: 1}, subscribe: [\"a b c\"], allow_responses: 3}}] }\n",
                  "test.conf:2:57: Expected subject permissions to be a subject, or array of "
                  "subjects, got int64\n"
                  "subject \"a b c\" is not a valid subject\n"
                  "test.conf:2:90: error parsing response permissions, expected a boolean or a "
                  "map\n");
    expect_errors("authorization {\n  user: a\n  users: []\n}\n",
                  "test.conf:1:0: Can not have a single user/pass and a users array\n");
    expect_errors("authorization {\n  timeout: 120\n  users: [\n"
                  "    {user: a, password: b, allowed_connection_types: [\"STANDARD\", \"foo\", "
                  "\"bar\"]}\n    \"notamap\"\n"
                  "    {user: c, password: d, permissions: {publish: {allow: [\"x\"], what: 1}, "
                  "bogus: 2}}\n"
                  "    {user: e, password: f, permissions: {allow_responses: {max: 1, ttl: "
                  "\"5x\"}}}\n  ]\n  whatever: 1\n}\n",
                  "test.conf:4:28: invalid connection types [\"FOO\" \"BAR\"]\n"
                  "test.conf:5:6: Expected user entry to be a map/struct, got notamap\n"
                  "test.conf:6:66: Unknown field name \"what\" parsing subject permissions, only "
                  "'allow' or 'deny' are permitted\n"
                  "test.conf:6:76: Unknown field \"bogus\" parsing permissions\n"
                  "test.conf:7:68: error parsing expires: time: unknown unit \"x\" in duration "
                  "\"5x\"\n"
                  "test.conf:9:3: unknown field \"whatever\"\n");
    expect_errors("authorization {\n  users: 1\n}\n",
                  "test.conf:2:3: Expected users field to be an array, got 1\n");
    expect_errors("authorization {\n  users: [{nkey: \"Ufoo\"}]\n}\n",
                  "test.conf:2:12: Not a valid public nkey for a user\n");
    expect_errors("authorization {\n  users: [{password: \"x\"}]\n}\n",
                  "test.conf:2:12: User entry requires a user\n");
    expect_errors("authorization {\n  users: [{user: a, permissions: \"x\"}]\n}\n",
                  "test.conf:2:21: Expected permissions to be a map/struct, got x\n");
    expect_errors("authorization {\n users: [{nkey: 1}]\n token: a\n}\n",
                  "test.conf:2:11: interface conversion: interface {} is int64, not string\n");
    expect_errors("no_auth_user: 1\n",
                  "test.conf:1:0: interface conversion: interface {} is int64, not string\n");
    expect_errors("authorization {\n timeout: \"1x\"\n}\n",
                  "test.conf:2:2: error parsing authorization config, 'timeout' time: unknown "
                  "unit \"x\" in duration \"1x\"\n");
    expect_errors("authorization {\n timeout: true\n}\n",
                  "test.conf:2:2: error parsing authorization config, 'timeout' wrong type\n");
    expect_errors("authorization {\n auth_callout: {}\n}\n",
                  "test.conf:2:2: authorization option \"auth_callout\" (auth callout) is not "
                  "supported by this server\n");
    expect_errors("authorization: 1\n",
                  "test.conf:1:0: interface conversion: interface {} is int64, not "
                  "map[string]interface {}\n"
                  "test.conf:1:0: runtime error: invalid memory address or nil pointer "
                  "dereference\n");
    expect_errors("authorization {\n users: [{user: a, permissions: {sub: [\"ok\", true ]}}]\n}\n",
                  "test.conf:2:46: Subject in permissions array cannot be cast to string\n");
    expect_errors("authorization {\n users: [{user: a, password: b, clients: 5}]\n}\n",
                  "test.conf:2:33: error parsing allowed connection types: unsupported type "
                  "int64\n");
    expect_errors("authorization {\n users: [{user: a}, {nkey: "
                  "UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV}, {nkey: "
                  "UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV}]\n}\n",
                  "test.conf:1:0: Duplicate nkey "
                  "\"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\" detected\n");
    /* Variables only used to build other values are not unknown fields. */
    expect_errors("authorization {\n P = {publish: x}\n users: [{user: a, permissions: $P}]\n}\n",
                  "");
}

Test(auth, no_auth_user_validation_texts) {
    br_auth_opts o = {.no_auth_user = strdup("bob")};
    br_auth *a = NULL;
    char err[256];
    cr_assert_lt(br_auth_new(&o, &a, err, sizeof err), 0);
    cr_assert_str_eq(err, "no_auth_user: \"bob\" present, but users/nkeys are not defined");
    br_auth_opts_add_user(&o, "alice", "x", NULL);
    cr_assert_lt(br_auth_new(&o, &a, err, sizeof err), 0);
    cr_assert_str_eq(err, "no_auth_user: \"bob\" not present as user or nkey in authorization "
                          "block or account configuration");
    br_auth_opts_free(&o);
}

/* ---- authentication ---- */

/* Hashes and secrets from test/auth_test.go (bcrypt cost 4). */
#define BCRYPT_PASS "IW@$6v(y1(t@fhPDvf!5^%"
#define BCRYPT_HASH "$2a$04$Q.CgCP2Sl9pkcTXEZHazaeMwPaAkSHk7AI51HkyMt5iJQQyUA4qxq"
#define BCRYPT_TOKEN "0uhJOSr3GW7xvHvtd^K6pa"
#define BCRYPT_TOKEN_HASH "$2a$04$u5ZClXpcjHgpfc61Ee0VKuwI1K3vTC4zq7SjphjnlHMeb1Llkb5Y6"

Test(auth, bcrypt_and_plain_passwords) {
    cr_assert(br_auth_is_bcrypt(BCRYPT_HASH));
    cr_assert(br_auth_is_bcrypt("$2y$10$x"));
    cr_assert(br_auth_is_bcrypt("$2x$10$"));
    cr_assert_not(br_auth_is_bcrypt("$2c$10$x"));
    cr_assert_not(br_auth_is_bcrypt("$2a$1$x"));
    cr_assert_not(br_auth_is_bcrypt("$2"));
    cr_assert_not(br_auth_is_bcrypt("plain"));
    cr_assert(br_auth_compare_passwords(BCRYPT_HASH, BCRYPT_PASS, strlen(BCRYPT_PASS)));
    cr_assert_not(br_auth_compare_passwords(BCRYPT_HASH, BCRYPT_HASH, strlen(BCRYPT_HASH)));
    cr_assert_not(br_auth_compare_passwords(BCRYPT_HASH, "", 0));
    cr_assert(br_auth_compare_passwords(BCRYPT_TOKEN_HASH, BCRYPT_TOKEN, strlen(BCRYPT_TOKEN)));
    /* Every minor letter verifies like Go (the correct algorithm). */
    char h[64];
    strcpy(h, BCRYPT_HASH);
    for (const char *m = "bxy"; *m; m++) {
        h[2] = *m;
        cr_assert(br_auth_compare_passwords(h, BCRYPT_PASS, strlen(BCRYPT_PASS)), "$2%c$", *m);
    }
    /* Malformed hashes never match. */
    cr_assert_not(br_auth_compare_passwords("$2a$04$short", "x", 1));
    strcpy(h, BCRYPT_HASH);
    h[4] = '0', h[5] = '3'; /* cost 3 */
    cr_assert_not(br_auth_compare_passwords(h, BCRYPT_PASS, strlen(BCRYPT_PASS)));
    /* A NUL inside the client's password is not cut off. */
    char pw[64];
    memcpy(pw, BCRYPT_PASS "\0x", sizeof BCRYPT_PASS + 1);
    cr_assert_not(br_auth_compare_passwords(BCRYPT_HASH, pw, sizeof BCRYPT_PASS + 1));
    cr_assert(br_auth_compare_passwords("secret", "secret", 6));
    cr_assert_not(br_auth_compare_passwords("secret", "secret\0", 7));
    cr_assert_not(br_auth_compare_passwords("secret", "secre", 5));
    cr_assert(br_auth_compare_passwords("", NULL, 0));
}

Test(auth, single_user_and_token) {
    br_auth_opts o = {.username = strdup("derek"), .password = strdup(BCRYPT_HASH)};
    br_auth *a;
    char err[128];
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0);
    cr_assert(br_auth_required(a) && br_auth_info_auth_required(a));
    cr_assert_not(br_auth_needs_nonce(a));
    cr_assert_not(br_auth_has_plaintext_passwords(a));
    cr_assert_eq(check(a, (creds){.user = "derek", .pass = BCRYPT_PASS}, NULL), 0);
    br_auth_result r;
    cr_assert_lt(check(a, (creds){.user = "derek", .pass = BCRYPT_HASH}, &r), 0);
    cr_assert_eq(r.status, BR_AUTH_FAILED);
    char line[128];
    br_auth_fail_log(&r, line, sizeof line);
    cr_assert_str_eq(line, "authentication error - User \"derek\"");
    cr_assert_lt(check(a, (creds){.user = "other", .pass = BCRYPT_PASS}, NULL), 0);
    cr_assert_lt(check(a, (creds){0}, &r), 0);
    br_auth_fail_log(&r, line, sizeof line);
    cr_assert_str_eq(line, "authentication error");
    br_auth_free(a);
    br_auth_opts_free(&o);

    o = (br_auth_opts){.token = strdup("_YZZ22_")};
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0);
    cr_assert_eq(check(a, (creds){.token = "_YZZ22_"}, NULL), 0);
    cr_assert_lt(check(a, (creds){.token = "ZZZ"}, &r), 0);
    br_auth_describe(&r, line, sizeof line);
    cr_assert_str_eq(line, "Token \"[REDACTED]\"");
    cr_assert_lt(check(a, (creds){.user = "_YZZ22_"}, NULL), 0);
    br_auth_free(a);
    br_auth_opts_free(&o);

    /* No authentication configured: anything connects. */
    o = (br_auth_opts){.password = strdup("only a password")};
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0);
    cr_assert_not(br_auth_required(a));
    cr_assert_eq(check(a, (creds){.user = "x", .pass = "y"}, NULL), 0);
    cr_assert(br_auth_has_plaintext_passwords(a));
    br_auth_free(a);
    br_auth_opts_free(&o);
}

Test(auth, users_permissions_and_proxy_required) {
    br_auth *a = auth_from(authorization_conf);
    br_auth_result r;
    cr_assert(br_auth_has_plaintext_passwords(a));
    cr_assert_eq(check(a, (creds){.user = "svca", .pass = "pc"}, &r), 0);
    cr_assert_not_null(r.perms);
    cr_assert_not_null(br_perms_response(r.perms));
    br_perm_state st = {0};
    br_perm_state_set(&st, r.perms);
    cr_assert_not(br_perms_pub_allowed(&st, "resp.bar.22", 11, 1));
    br_perms_track_reply(&st, "resp.bar.22", 11, 1);
    cr_assert(br_perms_pub_allowed(&st, "resp.bar.22", 11, 2));
    cr_assert_not(br_perms_pub_allowed(&st, "resp.bar.22", 11, 3));
    br_perm_state_clear(&st);
    cr_assert_eq(check(a, (creds){.user = "susan", .pass = "baz"}, &r), 0);
    br_perm_state_set(&st, r.perms);
    cr_assert(br_perms_sub_allowed(&st, "PUBLIC.x", 8, NULL, 0));
    cr_assert_not(br_perms_sub_allowed(&st, "foo", 3, NULL, 0));
    cr_assert(br_perms_pub_allowed(&st, "anything", 8, 0));
    br_perm_state_clear(&st);
    cr_assert_lt(check(a, (creds){.user = "susan", .pass = "pc"}, NULL), 0);
    br_auth_free(a);

    a = auth_from("authorization { users [{user: a, password: b, proxy_required: true}] }");
    cr_assert_lt(check(a, (creds){.user = "a", .pass = "b"}, &r), 0);
    cr_assert_eq(r.status, BR_AUTH_PROXY_REQUIRED);
    cr_assert_str_eq(r.reason, "proxy connection required");
    br_auth_free(a);
    a = auth_from("authorization { user: a, password: b, proxy_required: true }");
    cr_assert_lt(check(a, (creds){.user = "a", .pass = "b"}, &r), 0);
    cr_assert_eq(r.status, BR_AUTH_PROXY_REQUIRED);
    br_auth_free(a);
}

Test(auth, signature_encodings) {
    char pub[NX_NKEY_PUBLIC_LEN + 1], sig[128], wrapped[140];
    EVP_PKEY *pk = user_key(pub);
    const char *why;
    sign(pk, "nonce", false, sig);
    /* Go's decoders skip CR and LF anywhere. */
    snprintf(wrapped, sizeof wrapped, "%.10s\r\n%s", sig, sig + 10);
    cr_assert(
        br_auth_verify_nkey_sig(pub, strlen(pub), wrapped, strlen(wrapped), "nonce", 5, &why));
    /* Standard base64 without its padding: rejected by both decoders unless it happens to
     * hold no '+' or '/' (then it is valid base64url). */
    char *eq = strchr(sig, '=');
    cr_assert_not_null(eq);
    *eq = '\0';
    bool std_only = strpbrk(sig, "+/") != NULL;
    cr_assert_eq(br_auth_verify_nkey_sig(pub, strlen(pub), sig, strlen(sig), "nonce", 5, &why),
                 !std_only);
    if (std_only) cr_assert_str_eq(why, "Signature not valid base64");
    /* Padding in the middle or trailing garbage is invalid. */
    sign(pk, "nonce", false, sig);
    strcat(sig, "A");
    cr_assert_not(br_auth_verify_nkey_sig(pub, strlen(pub), sig, strlen(sig), "nonce", 5, &why));
    cr_assert_str_eq(why, "Signature not valid base64");
    sign(pk, "nonce", true, sig);
    cr_assert(br_auth_verify_nkey_sig(pub, strlen(pub), sig, strlen(sig), "nonce", 5, &why));
    cr_assert_not(br_auth_verify_nkey_sig(pub, strlen(pub), sig, strlen(sig), "nonc", 4, &why));
    cr_assert_not(br_auth_verify_nkey_sig("UFOO", 4, sig, strlen(sig), "nonce", 5, &why));
    cr_assert_str_eq(why, "User nkey not valid: nkeys: invalid encoded key");
    EVP_PKEY_free(pk);
}
