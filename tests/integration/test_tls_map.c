/* TLS verify_and_map: the client certificate selects the user.  Ports the applicable cases of
 * Go nats-server v2.14.5 test/tls_test.go (TestTLSClientCertificateHasUserID, ...CNBasedAuth,
 * ...SANsBasedAuth, ...TLSAuthMultipleOptions, TestTLSClientSVIDAuth,
 * TestTLSClientAuthWithRDNSequence[Reordered]) with certificates generated at test time by
 * the openssl command line tool, and clients connecting with libnats. */
#include <nats/nats.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

#define OK(call)                                                                                   \
    do {                                                                                           \
        natsStatus st_ = (call);                                                                   \
        cr_assert_eq(st_, NATS_OK, "%s: %s", #call, natsStatus_GetText(st_));                      \
    } while (0)

static char certdir[64];
static const char *g_pass; /* a CONNECT password to send, NULL: none */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "command failed: %s", cmd);
}

/* <name>-cert.pem / <name>-key.pem signed by the CA; subj in openssl's -subj form, san an
 * extension line ("" for none), multi: -multivalue-rdn. */
static void client_cert(const char *name, const char *subj, const char *san, bool multi) {
    sh("cd %s && printf '%s\\n' > %s.ext && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s-key.pem "
       "-out %s.csr %s -subj '%s' 2>/dev/null && "
       "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial "
       "-out %s-cert.pem -days 2 -extfile %s.ext 2>/dev/null",
       certdir, san[0] ? san : "basicConstraints=CA:FALSE", name, name, name,
       multi ? "-multivalue-rdn" : "", subj, name, name, name);
}

static void make_certs(void) {
    snprintf(certdir, sizeof certdir, "/tmp/nxtlsmap.XXXXXX");
    cr_assert_not_null(mkdtemp(certdir));
    sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout ca-key.pem -out ca.pem -days 2 -subj /CN=nx-map-ca 2>/dev/null",
       certdir);
    client_cert("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost", false);
    /* Go's configs/certs: client-id-auth (an e-mail SAN), sans/dev, dev-email and prod,
     * tlsauth/client and client2 (CN+OU), svid/client-a and b (URIs), rdns/client-a..f. */
    client_cert("email", "/C=US/ST=California/O=Synadia/OU=nats.io/CN=localhost",
                "subjectAltName=DNS:localhost,email:derek@nats.io", false);
    client_cert("plain", "/CN=www.nats.io", "", false);
    client_cert("dev", "/CN=www.nats.io", "subjectAltName=DNS:app.nats.dev,DNS:*.app.nats.dev",
                false);
    client_cert("devemail", "/CN=www.nats.io",
                "subjectAltName=DNS:app.nats.dev,email:admin@app.nats.dev,email:root@app.nats.dev",
                false);
    client_cert("prod", "/CN=www.nats.io", "subjectAltName=DNS:app.nats.prod,DNS:*.app.nats.prod",
                false);
    client_cert("cn1", "/OU=NATS.io/CN=example.com", "subjectAltName=DNS:localhost,DNS:example.com",
                false);
    client_cert("cn2", "/OU=CNCF/CN=example.com", "subjectAltName=DNS:localhost,DNS:example.com",
                false);
    client_cert("svida", "/C=US/O=SPIRE",
                "subjectAltName=DNS:localhost,URI:spiffe://localhost/my-nats-service/user-a",
                false);
    client_cert("svidb", "/C=US/O=SPIRE",
                "subjectAltName=URI:spiffe://localhost/my-nats-service/user-b", false);
    client_cert("rdna", "/C=US/ST=CA/L=Los Angeles/O=NATS/OU=NATS/CN=localhost/DC=foo1/DC=foo2", "",
                false);
    client_cert("rdnc", "/C=US/ST=CA/L=Los Angeles/O=NATS/OU=NATS/CN=localhost/DC=foo3/DC=foo4", "",
                false);
    client_cert("rdne", "/CN=John Doe/CN=123456/CN=jdoe/OU=Users/OU=Organic Units/DC=acme/DC=com",
                "", false);
    client_cert("rdnf", "/DC=org/DC=OpenSSL/DC=DEV+O=users/CN=John Doe", "", true);
    client_cert("nosubj", "/", "subjectAltName=critical,DNS:localhost", false);
    /* An attribute Go's DN parser does not know (emailAddress): only the RDN string maps. */
    client_cert("mail", "/O=NATS/CN=bob/emailAddress=bob@nats.io", "", false);
}

static void drop_certs(void) {
    sh("rm -rf %s", certdir);
}

/* A server with verify_and_map and the given authorization block (plus top-level lines). */
static h_server *start_ex(const char *authz, const char *top) {
    char *c = NULL;
    cr_assert_gt(asprintf(&c,
                          "%sdebug: true\n"
                          "tls {\n  cert_file: \"%s/server-cert.pem\"\n"
                          "  key_file: \"%s/server-key.pem\"\n  ca_file: \"%s/ca.pem\"\n"
                          "  timeout: 2\n  verify_and_map: true\n}\nauthorization {\n%s\n}\n",
                          top, certdir, certdir, certdir, authz),
                 0);
    h_server *s = h_server_start(c);
    free(c);
    return s;
}

static h_server *start(const char *authz) {
    return start_ex(authz, "");
}

static void on_err(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure) {
    (void)nc;
    (void)sub;
    (void)err;
    h_counter_add(closure, 1);
}

/* Connects with <name>-cert.pem; errs counts asynchronous errors (may be NULL). */
static natsStatus tls_connect(h_server *s, const char *name, h_counter *errs, natsConnection **nc) {
    natsOptions *o = NULL;
    natsStatus st = natsOptions_Create(&o);
    char url[96], path[160], kpath[160];
    snprintf(url, sizeof url, "tls://127.0.0.1:%d", s->port);
    if (st == NATS_OK) st = natsOptions_SetURL(o, url);
    if (st == NATS_OK) st = natsOptions_SetSecure(o, true);
    snprintf(path, sizeof path, "%s/ca.pem", certdir);
    if (st == NATS_OK) st = natsOptions_LoadCATrustedCertificates(o, path);
    if (st == NATS_OK && name) {
        snprintf(path, sizeof path, "%s/%s-cert.pem", certdir, name);
        snprintf(kpath, sizeof kpath, "%s/%s-key.pem", certdir, name);
        st = natsOptions_LoadCertificatesChain(o, path, kpath);
    }
    if (st == NATS_OK) st = natsOptions_SetMaxReconnect(o, 0);
    if (st == NATS_OK && errs) st = natsOptions_SetErrorHandler(o, on_err, errs);
    if (st == NATS_OK && g_pass) st = natsOptions_SetUserInfo(o, "", g_pass);
    if (st == NATS_OK) st = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    return st;
}

static natsConnection *must_connect(h_server *s, const char *name, h_counter *errs) {
    natsConnection *nc = NULL;
    natsStatus st = tls_connect(s, name, errs, &nc);
    cr_assert_eq(st, NATS_OK, "%s: expected to connect: %s (%s)", name, natsStatus_GetText(st),
                 nats_GetLastError(NULL));
    return nc;
}

static void must_be_refused(h_server *s, const char *name) {
    natsConnection *nc = NULL;
    natsStatus st = tls_connect(s, name, NULL, &nc);
    cr_assert_neq(st, NATS_OK, "%s: expected Authorization Violation", name);
    const char *why = nats_GetLastError(NULL);
    cr_assert(why && strstr(why, "Authorization Violation"), "%s: got %s", name,
              why ? why : "(none)");
    natsConnection_Destroy(nc);
}

/* The server's debug line naming how the certificate was mapped. */
static void expect_mapped(h_server *s, const char *how, const char *user) {
    char line[400];
    snprintf(line, sizeof line, "Using %s for auth [\"%s\"]", how, user);
    h_server_expect_log(s, line);
}

/* pub (allowed or not) then a marker on the same connection: the subscriber on sub_nc sees
 * "pub" first only when the publish was allowed. */
static void check_pub(natsConnection *pub_nc, natsConnection *sub_nc, const char *subj,
                      bool allowed) {
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, sub_nc, ">"));
    OK(natsConnection_Flush(sub_nc));
    OK(natsConnection_PublishString(pub_nc, subj, "probe"));
    OK(natsConnection_PublishString(pub_nc, "public.marker", "marker"));
    natsMsg *m = NULL;
    OK(natsSubscription_NextMsg(&m, sub, H_TIMEOUT_MS));
    const char *got = natsMsg_GetSubject(m);
    if (allowed)
        cr_assert_str_eq(got, subj, "publish to %s must pass", subj);
    else
        cr_assert_str_eq(got, "public.marker", "publish to %s must be denied", subj);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
}

static const char *default_perms =
    "  permissions { publish { allow = [\"public.>\"] }, subscribe { allow = [\"public.>\"] } }\n";

Test(tls_map, email_san_selects_the_user, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientCertificateHasUserID");
    h_server *s = start("users = [ {user: derek@nats.io, permissions: { publish: \"foo\" }} ]");
    h_server_expect_log(s, "Server is ready");
    char *log = h_server_log(s);
    cr_assert_null(strstr(log, "Plaintext passwords detected"),
                   "a passwordless mapped user is no plaintext password");
    free(log);
    natsConnection *nc = must_connect(s, "email", NULL);
    expect_mapped(s, "email found in cert", "derek@nats.io");
    natsConnection_Destroy(nc);
    /* No certificate: the handshake itself fails; an unmapped certificate: violation. */
    cr_assert_neq(tls_connect(s, NULL, NULL, &nc), NATS_OK);
    must_be_refused(s, "plain");
    h_server_stop(s);
}

Test(tls_map, allowed_connection_types_apply, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientCertificateCheckWithAllowedConnectionTypes");
    h_server *s = start("users = [ {user: derek@nats.io, permissions: { publish: \"foo\" }, "
                        "allowed_connection_types: [\"WEBSOCKET\"]} ]");
    must_be_refused(s, "email");
    h_server_stop(s);
}

Test(tls_map, cn_and_ou_subject_with_permissions, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientCertificateCNBasedAuth");
    char authz[1024];
    snprintf(authz, sizeof authz,
             "%s  users [\n    { user = \"CN=example.com,OU=NATS.io\" }\n"
             "    { user = \"CN=example.com,OU=CNCF\", permissions = { publish { allow = [\">\"] }"
             ", subscribe { allow = [\">\"] } } }\n  ]\n",
             default_perms);
    h_server *s = start(authz);
    h_counter *errs1 = h_counter_new(), *errs2 = h_counter_new();
    natsConnection *nc1 = must_connect(s, "cn1", errs1);
    natsConnection *nc2 = must_connect(s, "cn2", errs2);
    expect_mapped(s, "DistinguishedNameMatch", "CN=example.com,OU=CNCF");
    /* nc1 has the default permissions: foo.bar is denied both ways. */
    natsSubscription *denied = NULL;
    OK(natsConnection_SubscribeSync(&denied, nc1, "foo.>"));
    OK(natsConnection_PublishString(nc1, "foo.bar", "hi"));
    cr_assert(h_counter_wait(errs1, 1, H_TIMEOUT_MS), "permission violation expected");
    check_pub(nc1, nc2, "foo.bar", false);
    check_pub(nc2, nc2, "hello", true);
    cr_assert_eq(h_counter_get(errs2), 0, "the admin user has no violations");
    natsSubscription_Destroy(denied);
    natsConnection_Destroy(nc1);
    natsConnection_Destroy(nc2);
    h_counter_free(errs1);
    h_counter_free(errs2);
    h_server_stop(s);
}

/* Go's tls_cert_san_auth.conf / tls_cert_san_emails.conf users: all for `all`, the sandbox for
 * `dev`, the default permissions for the subject. */
static void san_users(char *out, size_t cap, const char *all, const char *dev) {
    snprintf(
        out, cap,
        "%s  users [\n"
        "    { user = \"CN=www.nats.io\" }\n"
        "    { user = \"%s\", permissions = { publish { allow = [\">\"] }, "
        "subscribe { allow = [\">\"] } } }\n"
        "    { user = \"%s\", permissions = { publish { allow = [\"public.>\", \"sandbox.>\"] }, "
        "subscribe { allow = [\"public.>\", \"sandbox.>\"] } } }\n"
        "  ]\n",
        default_perms, all, dev);
}

Test(tls_map, dns_sans_select_users, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientCertificateSANsBasedAuth");
    char authz[2048];
    san_users(authz, sizeof authz, "app.nats.prod", "app.nats.dev");
    h_server *s = start(authz);
    natsConnection *def = must_connect(s, "plain", NULL);
    expect_mapped(s, "DistinguishedNameMatch", "CN=www.nats.io");
    natsConnection *dev = must_connect(s, "dev", NULL);
    expect_mapped(s, "SAN found in cert", "app.nats.dev");
    natsConnection *prod = must_connect(s, "prod", NULL);
    expect_mapped(s, "SAN found in cert", "app.nats.prod");
    check_pub(dev, prod, "sandbox.foo.bar", true);
    check_pub(dev, prod, "foo.bar", false);
    check_pub(def, prod, "sandbox.foo", false);
    check_pub(def, prod, "public.foo", true);
    check_pub(prod, prod, "anything.at.all", true);
    natsConnection_Destroy(def);
    natsConnection_Destroy(dev);
    natsConnection_Destroy(prod);
    h_server_stop(s);
}

Test(tls_map, emails_then_sans_then_subject, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientCertificateTLSAuthMultipleOptions");
    char authz[2048];
    san_users(authz, sizeof authz, "*.app.nats.prod", "root@app.nats.dev");
    h_server *s = start(authz);
    /* dev: its SANs are no users, so the subject maps. */
    natsConnection *def = must_connect(s, "dev", NULL);
    /* devemail: the second e-mail address is a user. */
    natsConnection *dev = must_connect(s, "devemail", NULL);
    expect_mapped(s, "email found in cert", "root@app.nats.dev");
    /* prod: the second DNS name (a wildcard, compared literally) is a user. */
    natsConnection *prod = must_connect(s, "prod", NULL);
    expect_mapped(s, "SAN found in cert", "*.app.nats.prod");
    check_pub(dev, prod, "sandbox.x", true);
    check_pub(def, prod, "sandbox.x", false);
    check_pub(def, prod, "public.x", true);
    natsConnection_Destroy(def);
    natsConnection_Destroy(dev);
    natsConnection_Destroy(prod);
    h_server_stop(s);
}

Test(tls_map, uri_sans_select_users, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientSVIDAuth");
    h_server *s = start("users = [ { user = \"spiffe://localhost/my-nats-service/user-a\" },\n"
                        "  { user = \"spiffe://localhost/my-nats-service/user-b\", "
                        "permissions = { publish = { deny = \"secret.>\" } } } ]");
    natsConnection *a = must_connect(s, "svida", NULL);
    expect_mapped(s, "URI found in cert", "spiffe://localhost/my-nats-service/user-a");
    natsConnection *b = must_connect(s, "svidb", NULL);
    expect_mapped(s, "URI found in cert", "spiffe://localhost/my-nats-service/user-b");
    check_pub(a, a, "public.x", true);
    check_pub(b, a, "secret.y", false);
    check_pub(a, a, "secret.y", true);
    natsConnection_Destroy(a);
    natsConnection_Destroy(b);
    h_server_stop(s);
    /* Without a URI user the subject still maps; with none of them, a violation. */
    s = start("users = [ { user = \"O=SPIRE,C=US\" } ]");
    natsConnection_Destroy(must_connect(s, "svidb", NULL));
    h_server_stop(s);
    s = start("users = [ { user = \"spiffe://localhost/my-nats-service/user-c\" } ]");
    must_be_refused(s, "svida");
    h_server_stop(s);
}

/* One server per case: users (the authorization users list), the certificate, whether it
 * connects, and when it does whether subscribing is denied (a deny-all user matched). */
static void rdn_case(const char *users, const char *cert, bool connects, bool sub_denied) {
    char authz[2048];
    snprintf(authz, sizeof authz, "users = [\n%s\n]", users);
    h_server *s = start(authz);
    if (!connects) {
        must_be_refused(s, cert);
        h_server_stop(s);
        return;
    }
    h_counter *errs = h_counter_new();
    natsConnection *nc = must_connect(s, cert, errs);
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "ping"));
    OK(natsConnection_Flush(nc));
    OK(natsConnection_PublishString(nc, "ping", "x"));
    natsMsg *m = NULL;
    if (sub_denied) {
        cr_assert(h_counter_wait(errs, 1, H_TIMEOUT_MS), "%s: subscription must be denied", cert);
    } else {
        OK(natsSubscription_NextMsg(&m, sub, H_TIMEOUT_MS));
        natsMsg_Destroy(m);
        cr_assert_eq(h_counter_get(errs), 0);
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    h_counter_free(errs);
    h_server_stop(s);
}

#define DENY_SUB ", permissions = { subscribe = { deny = \">\" } }"

Test(tls_map, rdn_sequences, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientAuthWithRDNSequence");
    /* The DN in another order (RDNsMatch), and Go's order plus domain components. */
    rdn_case("{ user = \"CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=foo1,DC=foo2\" }",
             "rdna", true, false);
    /* RFC 2253 order (DN equal), with or without spaces after the commas. */
    rdn_case("{ user = \"DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US\" }",
             "rdna", true, false);
    rdn_case("{ user = \"DC=foo2, DC=foo1, CN=localhost, OU=NATS, O=NATS, L=Los Angeles, ST=CA, "
             "C=US\" }",
             "rdna", true, false);
    /* Other DCs: only Go's RDN string without them matches. */
    rdn_case("{ user = \"DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US\" }\n"
             "{ user = \"CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US\"" DENY_SUB " }",
             "rdnc", true, true);
    rdn_case("{ user = \"DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US\" }",
             "rdnc", false, false);
    /* An exact DN wins over a reordered one listed first. */
    rdn_case(
        "{ user = \"CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US,DC=foo1,DC=foo2\"" DENY_SUB
        " }\n"
        "{ user = \"DC=foo2,DC=foo1,CN=localhost,OU=NATS,O=NATS,L=Los Angeles,ST=CA,C=US\" }",
        "rdna", true, false);
    /* Several CNs and OUs. */
    rdn_case("{ user = \"DC=com,DC=acme,OU=Organic Units,OU=Users,CN=jdoe,CN=123456,CN=John Doe\" "
             "}",
             "rdne", true, false);
    /* A multi-valued RDN, its values in either order; without one of them, no match. */
    rdn_case("{ user = \"CN=John Doe,DC=DEV+O=users,DC=OpenSSL,DC=org\" }", "rdnf", true, false);
    rdn_case("{ user = \"CN=John Doe,O=users+DC=DEV,DC=OpenSSL,DC=org\" }", "rdnf", true, false);
    rdn_case("{ user = \"CN=John Doe,DC=DEV,DC=OpenSSL,DC=org\" }", "rdnf", false, false);
}

Test(tls_map, rdn_sequences_reordered, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientAuthWithRDNSequenceReordered");
    rdn_case("{ user = \"DC=org,DC=OpenSSL,O=users+DC=DEV,CN=John Doe\" }", "rdnf", true, false);
    rdn_case("{ user = \"DC=org,DC=OpenSSL,O=users,CN=John Doe\" }", "rdnf", false, false);
    rdn_case("{ user = \"DC=OpenSSL, DC=org, O=users, CN=John Doe\" }", "rdnf", false, false);
}

Test(tls_map, empty_subject_with_a_dns_san, .init = make_certs, .fini = drop_certs) {
    GO_TEST("test/tls_test.go", "TestTLSClientCertificateNoSubjectWithSANAuth");
    h_server *s = start("users = [ { user: \"localhost\" } ]");
    natsConnection_Destroy(must_connect(s, "nosubj", NULL));
    expect_mapped(s, "SAN found in cert", "localhost");
    natsConnection *nc = NULL;
    cr_assert_neq(tls_connect(s, NULL, NULL, &nc), NATS_OK, "no client certificate: refused");
    h_server_stop(s);
}

Test(tls_map, plaintext_client_has_no_certificate, .init = make_certs, .fini = drop_certs) {
    /* allow_non_tls: a plaintext client cannot be mapped (Go: "no TLS connection state"). */
    h_server *s = start_ex("users = [ { user = \"CN=www.nats.io\" } ]", "allow_non_tls: true\n");
    h_conn *raw = h_connect(s->port);
    json_decref(h_read_info(raw));
    h_send(raw, "CONNECT {\"verbose\":false}\r\nPING\r\n");
    h_expect(raw, "-ERR 'Authorization Violation'\r\n");
    h_close(raw);
    h_server_expect_log(s, "User required in cert, no TLS connection state");
    h_server_stop(s);
}

Test(tls_map, unknown_attribute_falls_back_to_the_rdn_string, .init = make_certs,
     .fini = drop_certs) {
    /* emailAddress is unknown to Go's DN parser: Go's RDN string (no emailAddress) maps. */
    h_server *s = start("users = [ { user = \"CN=bob,O=NATS\" } ]");
    natsConnection_Destroy(must_connect(s, "mail", NULL));
    expect_mapped(s, "certificate subject", "CN=bob,O=NATS");
    h_server_stop(s);
    s = start("users = [ { user = \"emailAddress=bob@nats.io,CN=bob,O=NATS\" } ]");
    must_be_refused(s, "mail");
    h_server_stop(s);
}

Test(tls_map, mapped_user_with_a_password_needs_it, .init = make_certs, .fini = drop_certs) {
    GO_TEST_PARTIAL("server/auth_test.go", "TestAuthCertMappedUserWithPassword",
                    "the certificate maps and the CONNECT password is still compared");
    h_server *s = start("users = [ { user = \"CN=other.example.com\" }\n"
                        "  { user = \"CN=www.nats.io\", password = \"s3cr3t\" } ]");
    must_be_refused(s, "plain");
    g_pass = "s3cr3t";
    natsConnection_Destroy(must_connect(s, "plain", NULL));
    g_pass = NULL;
    h_server_stop(s);
}
