/* TLS for client connections inside the io_uring loop, with OpenSSL memory BIOs.
 *
 * Ports the client-side TLS behaviour of Go nats-server v2.14.5 (server.go createClient,
 * client.go doTLSServerHandshake, opts.go parseTLS/GenTLSConfig): the server keeps doing its
 * own socket I/O through io_uring; OpenSSL only transforms bytes.  Received ciphertext is fed
 * in, plaintext comes out for the protocol parser; plaintext output goes in, ciphertext comes
 * out into the connection's send queue.  The handshake is driven by the same calls.
 */
#ifndef BR_TLS_H
#define BR_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "broker/outbound.h"

typedef struct br_tls_config {
    char *cert_file;
    char *key_file;
    char *ca_file;
    bool verify;          /* require and verify client certificates */
    bool verify_and_map;  /* verify, and map the certificate to a user (auth issue) */
    bool handshake_first; /* TLS before INFO */
    bool allow_non_tls;   /* TLS optional: INFO says tls_available, plaintext still accepted */
    int64_t timeout_ms;   /* handshake deadline (Go: tls timeout, 2s by default) */
    int min_version;      /* TLS1_2_VERSION by default, as Go */
    char *cipher_suites;  /* OpenSSL cipher list for TLS 1.2, NULL: library defaults */
    char *curve_groups;   /* OpenSSL group list from curve_preferences, NULL: defaults */
    char **pinned_certs;  /* SHA-256 of the client certificate's SubjectPublicKeyInfo, hex */
    size_t npinned;
} br_tls_config;

void br_tls_config_free(br_tls_config *c);

/* Builds the server context; NULL with a message in err on failure (bad files, key mismatch). */
SSL_CTX *br_tls_ctx_new(const br_tls_config *cfg, char *err, size_t errlen);

typedef struct br_tls {
    SSL *ssl;
    BIO *rbio; /* ciphertext received from the peer, read by OpenSSL */
    BIO *wbio; /* ciphertext written by OpenSSL, to send */
    bool handshake_done;
    bool failed;
} br_tls;

int br_tls_init(br_tls *t, SSL_CTX *ctx);
void br_tls_free(br_tls *t);

/* Feeds received ciphertext and decrypts what it can into out (up to cap bytes).  Returns
 * plaintext bytes (0: none yet), or -1 on a TLS error (t->failed; text in err).  Call again
 * with len 0 while it returns cap (more plaintext may be buffered). */
ssize_t br_tls_recv(br_tls *t, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                    char *err, size_t errlen);
/* Encrypts plaintext; ciphertext accumulates until br_tls_take.  -1 on error. */
int br_tls_send(br_tls *t, const void *data, size_t len);
/* Moves pending ciphertext (handshake records, encrypted output) into q.  Returns bytes. */
size_t br_tls_take(br_tls *t, br_outq *q);

/* Checks the peer certificate against pinned_certs (when configured). */
bool br_tls_pinned_ok(const br_tls *t, const br_tls_config *cfg);

/* "TLS 1.3" and the cipher name, for the debug log as Go prints them. */
const char *br_tls_version_name(const br_tls *t);
const char *br_tls_cipher_name(const br_tls *t);

#endif
