/* TLS for client connections: ports the applicable cases of Go nats-server v2.14.5
 * test/tls_test.go with certificates generated at test time by the openssl command line tool.
 * Runs against the Go server too (NATS_SERVER_BIN=/usr/sbin/nats-server). */
#include <nats/nats.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/gotest.h"
#include "tests/integration/harness.h"

#define OK(call)                                                                                   \
    do {                                                                                           \
        natsStatus st_ = (call);                                                                   \
        cr_assert_eq(st_, NATS_OK, "%s: %s", #call, natsStatus_GetText(st_));                     \
    } while (0)

static char certdir[64];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "command failed: %s", cmd);
}

/* A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by
 * the CA, plus a client certificate from an unrelated CA. */
static void make_certs(void) {
    snprintf(certdir, sizeof certdir, "/tmp/nxtls.XXXXXX");
    cr_assert_not_null(mkdtemp(certdir));
    sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout ca-key.pem -out ca.pem -days 2 -subj /CN=nx-test-ca 2>/dev/null",
       certdir);
    sh("cd %s && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server-key.pem "
       "-out server.csr -subj /CN=localhost 2>/dev/null && "
       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial "
       "-out server-cert.pem -days 2 -extfile san.ext 2>/dev/null",
       certdir);
    sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout client-key.pem -out client.csr -subj /CN=client 2>/dev/null && "
       "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial "
       "-out client-cert.pem -days 2 2>/dev/null",
       certdir);
    sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout rogue-key.pem -out rogue-cert.pem -days 2 -subj /CN=rogue 2>/dev/null",
       certdir);
}

static void drop_certs(void) {
    sh("rm -rf %s", certdir);
}

static char *conf(const char *extra) {
    char *c = NULL;
    int n = asprintf(&c,
                     "tls {\n  cert_file: \"%s/server-cert.pem\"\n  key_file: \"%s/server-key.pem\"\n"
                     "  ca_file: \"%s/ca.pem\"\n%s}\n",
                     certdir, certdir, certdir, extra ? extra : "  timeout: 2\n");
    cr_assert_gt(n, 0);
    return c;
}

static natsStatus tls_connect_ca(h_server *s, const char *ca, const char *cert, const char *key,
                                 natsConnection **nc);

static natsStatus tls_connect(h_server *s, const char *cert, const char *key,
                              natsConnection **nc) {
    return tls_connect_ca(s, "ca.pem", cert, key, nc);
}

/* Trusts only the CA in file `ca` (in certdir). */
static natsStatus tls_connect_ca(h_server *s, const char *ca, const char *cert, const char *key,
                                 natsConnection **nc) {
    natsOptions *o = NULL;
    natsStatus st = natsOptions_Create(&o);
    char url[96], path[160], kpath[160];
    snprintf(url, sizeof url, "tls://127.0.0.1:%d", s->port);
    if (st == NATS_OK) st = natsOptions_SetURL(o, url);
    if (st == NATS_OK) st = natsOptions_SetSecure(o, true);
    snprintf(path, sizeof path, "%s/%s", certdir, ca);
    if (st == NATS_OK) st = natsOptions_LoadCATrustedCertificates(o, path);
    if (st == NATS_OK && cert) {
        snprintf(path, sizeof path, "%s/%s", certdir, cert);
        snprintf(kpath, sizeof kpath, "%s/%s", certdir, key);
        st = natsOptions_LoadCertificatesChain(o, path, kpath);
    }
    if (st == NATS_OK) st = natsOptions_SetMaxReconnect(o, 0);
    if (st == NATS_OK) st = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    return st;
}

static void roundtrip(natsConnection *nc) {
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "tls.foo"));
    OK(natsConnection_PublishString(nc, "tls.foo", "secret"));
    natsMsg *m = NULL;
    OK(natsSubscription_NextMsg(&m, sub, H_TIMEOUT_MS));
    cr_assert_eq(natsMsg_GetDataLength(m), 6);
    cr_assert_eq(memcmp(natsMsg_GetData(m), "secret", 6), 0);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
}

Test(tls, info_requires_tls_and_plaintext_is_refused, .init = make_certs, .fini = drop_certs) {
    GO_TEST_PARTIAL("test/tls_test.go", "TestTLSConnection",
                    "checks INFO and a TLS round trip; not the client-side TLS config errors");
    char *c = conf(NULL);
    h_server *s = h_server_start(c);
    free(c);
    h_conn *raw = h_connect(s->port);
    json_t *info = h_read_info(raw);
    cr_assert(json_is_true(json_object_get(info, "tls_required")), "INFO must say tls_required");
    json_decref(info);
    /* A client that ignores it and speaks plaintext fails the handshake and is dropped. */
    h_send(raw, "CONNECT {}\r\nPING\r\n");
    h_expect_closed(raw);
    h_close(raw);
    natsConnection *nc = NULL;
    OK(tls_connect(s, NULL, NULL, &nc));
    roundtrip(nc);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(tls, verify_requires_a_client_certificate_from_the_ca, .init = make_certs,
     .fini = drop_certs) {
    GO_TEST_PARTIAL("test/tls_test.go", "TestTLSClientCertificate",
                    "no certificate, a foreign one and a good one; not the hostname checks");
    char *c = conf("  verify: true\n");
    h_server *s = h_server_start(c);
    free(c);
    h_conn *raw = h_connect(s->port);
    json_t *info = h_read_info(raw);
    cr_assert(json_is_true(json_object_get(info, "tls_verify")));
    json_decref(info);
    h_close(raw);
    natsConnection *nc = NULL;
    cr_assert_neq(tls_connect(s, NULL, NULL, &nc), NATS_OK, "no client certificate: refused");
    cr_assert_neq(tls_connect(s, "rogue-cert.pem", "rogue-key.pem", &nc), NATS_OK,
                  "certificate from another CA: refused");
    OK(tls_connect(s, "client-cert.pem", "client-key.pem", &nc));
    roundtrip(nc);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(tls, handshake_timeout_closes_silent_connections, .init = make_certs, .fini = drop_certs) {
    /* A 0.25 s handshake deadline: a client that never starts TLS is closed. */
    char *c = conf("  timeout: 0.25\n");
    h_server *s = h_server_start(c);
    free(c);
    h_conn *raw = h_connect(s->port);
    json_decref(h_read_info(raw));
    int64_t start = h_now_ms();
    h_expect_closed(raw);
    cr_assert_geq(h_now_ms() - start, 200, "closed before the handshake deadline");
    h_close(raw);
    h_server_stop(s);
}

Test(tls, allow_non_tls_serves_both, .init = make_certs, .fini = drop_certs) {
    char *c = conf(NULL);
    char *c2 = NULL;
    cr_assert_gt(asprintf(&c2, "allow_non_tls: true\n%s", c), 0);
    free(c);
    h_server *s = h_server_start(c2);
    free(c2);
    h_conn *raw = h_connect(s->port);
    json_t *info = h_read_info(raw);
    cr_assert(json_is_true(json_object_get(info, "tls_available")));
    cr_assert_null(json_object_get(info, "tls_required"));
    json_decref(info);
    h_send(raw, "CONNECT {\"verbose\":false}\r\nSUB x 1\r\nPUB x 2\r\nok\r\nPING\r\n");
    h_expect(raw, "MSG x 1 2\r\nok\r\nPONG\r\n");
    h_close(raw);
    /* A client that reads INFO and then upgrades (libnats only upgrades on tls_required, so do
     * it by hand with OpenSSL on the raw socket). */
    raw = h_connect(s->port);
    json_decref(h_read_info(raw));
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char ca[160];
    snprintf(ca, sizeof ca, "%s/ca.pem", certdir);
    cr_assert_eq(SSL_CTX_load_verify_locations(ctx, ca, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    /* Blocking I/O for OpenSSL, bounded by a receive timeout instead of the harness's poll. */
    fcntl(raw->fd, F_SETFL, fcntl(raw->fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {H_TIMEOUT_MS / 1000, 0};
    setsockopt(raw->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_set_fd(ssl, raw->fd);
    cr_assert_eq(SSL_connect(ssl), 1, "TLS handshake after INFO failed");
    const char *req = "CONNECT {\"verbose\":false}\r\nPING\r\n";
    cr_assert_eq(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
    char buf[64] = {0};
    int got = 0;
    while (got < 6) {
        int n = SSL_read(ssl, buf + got, (int)sizeof buf - 1 - got);
        cr_assert_gt(n, 0, "TLS read failed");
        got += n;
    }
    cr_assert_str_eq(buf, "PONG\r\n");
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    h_close(raw);
    h_server_stop(s);
}

Test(tls, bad_certificate_files_refuse_to_start, .init = make_certs, .fini = drop_certs) {
    if (h_server_is_go()) cr_skip_test("exit path checked on our server only");
    char path[128];
    snprintf(path, sizeof path, "%s/bad.conf", certdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "tls { cert_file: \"%s/missing.pem\"\n key_file: \"%s/server-key.pem\" }\n", certdir,
            certdir);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c %s -p -1 >%s/out.txt 2>&1", getenv("NATS_SERVER_BIN"), path,
             certdir);
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) != 0, "must exit with an error");
}

/* Counts needle in the server log. */
static int log_count(h_server *s, const char *needle) {
    char *log = h_server_log(s);
    int n = 0;
    for (char *p = log; (p = strstr(p, needle)); p++) n++;
    free(log);
    return n;
}

Test(tls, reload_rotates_certificate_and_enables_verify, .init = make_certs, .fini = drop_certs) {
    GO_TEST_PARTIAL("server/reload_test.go", "TestConfigReloadRotateTLS",
                    "a server certificate from a second CA; clients verify the server");
    if (h_server_is_go()) cr_skip_test("waits for our workers' reload log lines");
    /* A second CA and a server certificate it signed. */
    sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout ca2-key.pem -out ca2.pem -days 2 -subj /CN=nx-test-ca2 2>/dev/null && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server2-key.pem "
       "-out server2.csr -subj /CN=localhost 2>/dev/null && "
       "openssl x509 -req -in server2.csr -CA ca2.pem -CAkey ca2-key.pem -CAcreateserial "
       "-out server2-cert.pem -days 2 -extfile san.ext 2>/dev/null",
       certdir);
    char *c = conf(NULL);
    char *text = NULL;
    cr_assert_gt(asprintf(&text, "debug: true\n%s", c), 0);
    h_server *s = h_server_start(text, "--workers", "2");
    free(text);
    free(c);
    natsConnection *before = NULL;
    OK(tls_connect(s, NULL, NULL, &before));
    roundtrip(before);

    FILE *f = fopen(s->conf_path, "w");
    cr_assert_not_null(f);
    fprintf(f, "debug: true\ntls {\n  cert_file: \"%s/server2-cert.pem\"\n  key_file: \"%s/server2-key.pem\"\n"
               "  ca_file: \"%s/ca.pem\"\n  verify: true\n  timeout: 2\n}\n", certdir, certdir, certdir);
    fclose(f);
    h_server_signal(s, SIGHUP);
    bool both = false; /* every worker reloaded: the condition, polled */
    for (int64_t end = h_now_ms() + H_TIMEOUT_MS; !both && h_now_ms() < end; h_pause_ms(10))
        both = log_count(s, "configuration reloaded") >= 2;
    cr_assert(both, "workers did not reload");

    natsConnection *nc = NULL;
    for (int i = 0; i < 4; i++) { /* new connections land on either worker */
        OK(tls_connect_ca(s, "ca2.pem", "client-cert.pem", "client-key.pem", &nc));
        natsConnection_Destroy(nc);
        nc = NULL;
        cr_assert_neq(tls_connect_ca(s, "ca2.pem", NULL, NULL, &nc), NATS_OK,
                      "verify is on: a client without a certificate must fail");
        natsConnection_Destroy(nc);
        nc = NULL;
        cr_assert_neq(tls_connect_ca(s, "ca.pem", "client-cert.pem", "client-key.pem", &nc), NATS_OK,
                      "the old server certificate must be gone");
        natsConnection_Destroy(nc);
        nc = NULL;
    }
    roundtrip(before); /* connections made before the rotation keep working */
    natsConnection_Destroy(before);
    h_server_stop(s);
}

/* A TLS handshake after INFO offering only `groups`; true when it completes. */
static bool handshake_with_groups(h_server *s, const char *groups) {
    h_conn *raw = h_connect(s->port);
    json_decref(h_read_info(raw));
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char ca[160];
    snprintf(ca, sizeof ca, "%s/ca.pem", certdir);
    cr_assert_eq(SSL_CTX_load_verify_locations(ctx, ca, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    cr_assert_eq(SSL_CTX_set1_groups_list(ctx, groups), 1);
    SSL *ssl = SSL_new(ctx);
    fcntl(raw->fd, F_SETFL, fcntl(raw->fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {H_TIMEOUT_MS / 1000, 0};
    setsockopt(raw->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_set_fd(ssl, raw->fd);
    bool ok = SSL_connect(ssl) == 1;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    h_close(raw);
    return ok;
}

Test(tls, curve_preferences_limit_the_key_exchange, .init = make_certs, .fini = drop_certs) {
    GO_TEST_PARTIAL("test/tls_test.go", "TestTLSConnectionCurvePref",
                    "checked by handshakes offering one curve each (CurveP384 here)");
    char *c = conf("  curve_preferences: [\"CurveP384\"]\n  timeout: 2\n");
    h_server *s = h_server_start(c);
    free(c);
    cr_assert(handshake_with_groups(s, "P-384"), "the preferred curve must work");
    cr_assert(handshake_with_groups(s, "P-256:P-384"), "a client offering it among others too");
    cr_assert_not(handshake_with_groups(s, "P-256"), "a curve not configured must be refused");
    cr_assert_not(handshake_with_groups(s, "X25519"), "a curve not configured must be refused");
    h_server_stop(s);
    /* Without curve_preferences the library's defaults serve both. */
    c = conf(NULL);
    s = h_server_start(c);
    free(c);
    cr_assert(handshake_with_groups(s, "P-256"));
    cr_assert(handshake_with_groups(s, "X25519"));
    h_server_stop(s);
}
