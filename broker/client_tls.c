/* Client connections over TLS: INFO first or handshake first, sniffing for allow_non_tls, and
 * the wire queue.  Ports the client TLS parts of Go nats-server v2.14.5 server.go
 * (createClientEx: INFO then doTLSServerHandshake, TLSHandshakeFirst, the 0x16 sniff of
 * allow_non_tls) and client.go (TLS handshake error logging, pinned certificates).
 *
 * Queues: `out` always holds plaintext protocol output.  Without TLS it is what is sent.  With
 * TLS configured, `wire` is what is sent: INFO goes there directly when it precedes the
 * handshake; after the handshake `out` is encrypted into `wire` each loop turn; a sniffed
 * plaintext client has `out` moved into `wire` as is (so INFO and later output stay in order).
 */
#include "broker/client.h"

#include <stdio.h>
#include <string.h>

#include "broker/server.h"
#include "common/log.h"

static void queue_info(br_client *c, br_outq *q) {
    char info[2048];
    size_t n = br_server_info_line(c->srv, c, false, info, sizeof info);
    br_outq_append(q, info, n);
    br_server_mark_dirty(c->srv, c);
}

void br_client_tls_start(br_client *c) {
    br_server *s = c->srv;
    if (!s->tls_ctx) {
        c->tls_mode = BR_TLS_OFF;
        queue_info(c, &c->out);
        return;
    }
    const br_tls_config *cfg = &s->opts->tls_cfg;
    if (cfg->allow_non_tls && !cfg->handshake_first) {
        c->tls_mode = BR_TLS_SNIFF;
    } else {
        c->tls_mode = BR_TLS_ON;
        if (br_tls_init(&c->tls, s->tls_ctx) < 0) {
            br_client_close(c, BR_CLOSE_TLS_HANDSHAKE_ERROR);
            return;
        }
    }
    if (!cfg->handshake_first) queue_info(c, &c->wire); /* plaintext INFO, then TLS */
    c->tls_deadline_ms = s->now_ms + (cfg->timeout_ms > 0 ? cfg->timeout_ms : 2000);
}

static void handshake_done(br_client *c) {
    br_server *s = c->srv;
    c->tls_deadline_ms = 0;
    nx_debug("%s - TLS handshake complete", c->log_prefix);
    nx_debug("%s - TLS version %s, cipher suite %s", c->log_prefix,
             br_tls_version_name(&c->tls), br_tls_cipher_name(&c->tls));
    if (!br_tls_pinned_ok(&c->tls, &s->opts->tls_cfg)) {
        nx_error("%s - TLS handshake error: certificate not pinned", c->log_prefix);
        br_client_close(c, BR_CLOSE_TLS_HANDSHAKE_ERROR);
        return;
    }
    if (s->opts->tls_cfg.handshake_first) queue_info(c, &c->out); /* INFO over TLS */
}

void br_client_on_bytes(br_client *c, const uint8_t *data, size_t len) {
    if (c->tls_mode == BR_TLS_SNIFF) {
        if (len && data[0] == 0x16) { /* a TLS record: ClientHello */
            c->tls_mode = BR_TLS_ON;
            if (br_tls_init(&c->tls, c->srv->tls_ctx) < 0) {
                br_client_close(c, BR_CLOSE_TLS_HANDSHAKE_ERROR);
                return;
            }
        } else {
            c->tls_mode = BR_TLS_PLAIN;
            c->tls_deadline_ms = 0;
        }
    }
    if (c->tls_mode != BR_TLS_ON) {
        br_client_process_input(c, data, len);
        return;
    }
    uint8_t *plain = c->srv->tls_plain;
    size_t cap = sizeof c->srv->tls_plain;
    const uint8_t *in = data;
    size_t in_len = len;
    for (;;) {
        bool was_done = c->tls.handshake_done;
        char err[300];
        ssize_t n = br_tls_recv(&c->tls, in, in_len, plain, cap, err, sizeof err);
        in = NULL;
        in_len = 0;
        if (br_tls_take(&c->tls, &c->wire)) br_server_mark_dirty(c->srv, c);
        if (n < 0) {
            nx_error("%s - %s", c->log_prefix, err);
            br_client_close(c, BR_CLOSE_TLS_HANDSHAKE_ERROR);
            return;
        }
        if (!was_done && c->tls.handshake_done) {
            handshake_done(c);
            if (c->closing) return;
        }
        if (n > 0) br_client_process_input(c, plain, (size_t)n);
        if (c->closing || (size_t)n < cap) return;
    }
}

br_outq *br_client_wire(br_client *c) {
    switch (c->tls_mode) {
    case BR_TLS_OFF: return &c->out;
    case BR_TLS_SNIFF: return &c->wire; /* only the INFO so far */
    case BR_TLS_PLAIN: {
        struct iovec iov[16];
        int n;
        while ((n = br_outq_iov(&c->out, iov, 16)) > 0) {
            size_t moved = 0;
            for (int i = 0; i < n; i++) {
                br_outq_append(&c->wire, iov[i].iov_base, iov[i].iov_len);
                moved += iov[i].iov_len;
            }
            br_outq_consume(&c->out, moved);
        }
        return &c->wire;
    }
    case BR_TLS_ON:
        if (c->tls.handshake_done && !c->tls.failed) {
            struct iovec iov[16];
            int n;
            while ((n = br_outq_iov(&c->out, iov, 16)) > 0) {
                size_t done = 0;
                for (int i = 0; i < n; i++) {
                    if (br_tls_send(&c->tls, iov[i].iov_base, iov[i].iov_len) < 0) break;
                    done += iov[i].iov_len;
                }
                br_outq_consume(&c->out, done);
                if (c->tls.failed) {
                    br_outq_clear(&c->out);
                    break;
                }
                br_tls_take(&c->tls, &c->wire);
            }
            br_tls_take(&c->tls, &c->wire);
        }
        return &c->wire;
    }
    return &c->out;
}
