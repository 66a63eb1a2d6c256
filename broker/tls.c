/* TLS with OpenSSL memory BIOs; see tls.h. */
#include "broker/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

void br_tls_config_free(br_tls_config *c) {
    free(c->cert_file);
    free(c->key_file);
    free(c->ca_file);
    free(c->cipher_suites);
    free(c->curve_groups);
    for (size_t i = 0; i < c->npinned; i++) free(c->pinned_certs[i]);
    free(c->pinned_certs);
    memset(c, 0, sizeof *c);
}

static void ssl_error(char *err, size_t errlen, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

SSL_CTX *br_tls_ctx_new(const br_tls_config *cfg, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_error(err, errlen, "unable to create TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, cfg->min_version ? cfg->min_version : TLS1_2_VERSION);
    /* Plain TCP semantics for the memory BIO path: partial writes allowed, buffers movable. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!cfg->cert_file || !cfg->key_file) {
        snprintf(err, errlen, "missing 'cert_file' or 'key_file' in TLS configuration");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
        ssl_error(err, errlen, "error parsing X509 certificate/key pair");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, errlen, "error parsing X509 certificate/key pair");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->cipher_suites && SSL_CTX_set_cipher_list(ctx, cfg->cipher_suites) != 1) {
        ssl_error(err, errlen, "invalid cipher_suites");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->curve_groups && SSL_CTX_set1_groups_list(ctx, cfg->curve_groups) != 1) {
        ssl_error(err, errlen, "invalid curve_preferences");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->ca_file && SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
        ssl_error(err, errlen, "failed to parse root ca certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cfg->verify || cfg->verify_and_map)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

int br_tls_init(br_tls *t, SSL_CTX *ctx) {
    memset(t, 0, sizeof *t);
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        if (t->ssl) SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        memset(t, 0, sizeof *t);
        return -1;
    }
    BIO_set_mem_eof_return(t->rbio, -1); /* empty means "wait for more", not end of stream */
    SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns both BIOs from here */
    SSL_set_accept_state(t->ssl);
    return 0;
}

void br_tls_free(br_tls *t) {
    if (t->ssl) SSL_free(t->ssl);
    memset(t, 0, sizeof *t);
}

ssize_t br_tls_recv(br_tls *t, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                    char *err, size_t errlen) {
    if (t->failed) return -1;
    if (len && BIO_write(t->rbio, data, (int)len) != (int)len) {
        t->failed = true;
        snprintf(err, errlen, "out of memory buffering TLS input");
        return -1;
    }
    if (!t->handshake_done) {
        int rc = SSL_do_handshake(t->ssl);
        if (rc != 1) {
            int e = SSL_get_error(t->ssl, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
            t->failed = true;
            ssl_error(err, errlen, "TLS handshake error");
            return -1;
        }
        t->handshake_done = true;
    }
    size_t got = 0;
    while (got < cap) {
        size_t n = 0;
        int rc = SSL_read_ex(t->ssl, out + got, cap - got, &n);
        if (rc == 1) {
            got += n;
            continue;
        }
        int e = SSL_get_error(t->ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        if (e == SSL_ERROR_ZERO_RETURN) break; /* close_notify: the socket EOF follows */
        t->failed = true;
        ssl_error(err, errlen, "TLS read error");
        return got ? (ssize_t)got : -1;
    }
    return (ssize_t)got;
}

int br_tls_send(br_tls *t, const void *data, size_t len) {
    if (t->failed) return -1;
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = 0;
        if (SSL_write_ex(t->ssl, p, len, &n) != 1) {
            t->failed = true;
            ERR_clear_error();
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

size_t br_tls_take(br_tls *t, br_outq *q) {
    size_t total = 0;
    for (;;) {
        size_t room;
        uint8_t *dst = br_outq_reserve(q, 1, &room);
        int n = BIO_read(t->wbio, dst, (int)room);
        if (n <= 0) break;
        br_outq_commit(q, (size_t)n);
        total += (size_t)n;
    }
    return total;
}

bool br_tls_pinned_ok(const br_tls *t, const br_tls_config *cfg) {
    if (!cfg->npinned) return true;
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (!peer) return false;
    /* Go pins the SHA-256 of the certificate's raw SubjectPublicKeyInfo. */
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(peer), &der);
    X509_free(peer);
    if (len <= 0) return false;
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    char hex[65];
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    for (size_t i = 0; i < cfg->npinned; i++)
        if (strcasecmp(hex, cfg->pinned_certs[i]) == 0) return true;
    return false;
}

const char *br_tls_version_name(const br_tls *t) {
    switch (SSL_version(t->ssl)) {
    case TLS1_3_VERSION: return "1.3";
    case TLS1_2_VERSION: return "1.2";
    default: return SSL_get_version(t->ssl);
    }
}

const char *br_tls_cipher_name(const br_tls *t) {
    return SSL_get_cipher_name(t->ssl);
}
