/* libFuzzer target for storaged's JetStream layer (storaged/js/js.h): every request a client
 * can send — API requests ($JS.API.>), publishes into streams, acks ($JS.ACK.>), flow control
 * replies — go through js_server_inbound, whose JSON decoding, validation and state changes
 * must never crash, leak or corrupt memory whatever the bytes.
 *
 * Input: records separated by NUL bytes; a record is "<subject>\n<header block>\n\n<payload>"
 * or "<subject>\n<payload>" (a record with no newline is a subject with an empty payload).
 * Each run opens a fresh JetStream in a temp dir with a memory stream S on "s.>" and a file
 * stream F on "f.>" (lazy sync: no fsync per input), feeds the records with reply subjects,
 * flushes, advances the clock past every timer, then closes and removes the directory.
 *
 * Invariants: no crash or sanitizer report; every published reply has a subject; the store
 * directory can be reopened after close (what a restart would do).
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storaged/js/js.h"

static char g_root[64];
static int64_t g_now;

static void fz_publish(void *ctx, const char *account, const char *subj, size_t subj_len,
                       const char *reply, size_t reply_len, const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *data, size_t data_len) {
    (void)ctx;
    if (!account || !account[0]) abort(); /* every publish names its account */
    (void)reply;
    (void)reply_len;
    if (!subj || subj_len == 0) abort(); /* every message goes somewhere */
    /* Touch every byte so ASan checks the buffers handed out. */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < hdr_len; i++) x ^= hdr[i];
    for (size_t i = 0; i < data_len; i++) x ^= data[i];
    (void)x;
}

static void fz_interest(void *ctx, const char *account, const char *subject, int delta) {
    (void)ctx;
    (void)account;
    (void)delta;
    if (!subject || !subject[0]) abort();
}

static bool fz_has_interest(void *ctx, const char *account, const char *subject) {
    (void)ctx;
    (void)account;
    return subject[0] != '_'; /* some deliveries go ahead, some find nobody */
}

static int64_t fz_now(void *ctx) {
    (void)ctx;
    return g_now;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(g_root, sizeof g_root, "/tmp/fuzz-js-XXXXXX");
    if (!mkdtemp(g_root)) abort();
    return 0;
}

static void inbound(js_server *js, const char *subj, size_t slen, const uint8_t *hdr,
                    size_t hlen, const uint8_t *data, size_t dlen) {
    char *s = strndup(subj, slen); /* the process hands NUL-free subjects from the parser */
    js_inmsg m = {.subject = s,
                  .subject_len = strlen(s),
                  .reply = "_INBOX.fuzz",
                  .reply_len = 11,
                  .hdr = hlen ? hdr : NULL,
                  .hdr_len = hlen,
                  .data = data,
                  .data_len = dlen};
    if (m.subject_len) js_server_inbound(js, &m);
    free(s);
}

static void inbound_str(js_server *js, const char *subj, const char *body) {
    inbound(js, subj, strlen(subj), NULL, 0, (const uint8_t *)body, strlen(body));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    g_now = 1767225600LL * 1000000000LL; /* 2026-01-01 */
    js_config cfg = {.store_dir = g_root,
                     .max_memory = 64 << 20,
                     .max_store = 64 << 20,
                     .sync = SD_FS_SYNC_INTERVAL,
                     .sync_interval_ns = 3600LL * 1000000000LL,
                     .server_id = "NFUZZ",
                     .server_name = "fuzz",
                     .max_payload = 1 << 20};
    js_host host = {.publish = fz_publish, .interest = fz_interest,
                    .has_interest = fz_has_interest, .now_ns = fz_now};
    char err[256];
    js_server *js = js_server_open(&cfg, &host, err, sizeof err);
    if (!js) abort();
    inbound_str(js, "$JS.API.STREAM.CREATE.S",
                "{\"name\":\"S\",\"subjects\":[\"s.>\"],\"storage\":\"memory\"}");
    inbound_str(js, "$JS.API.STREAM.CREATE.F",
                "{\"name\":\"F\",\"subjects\":[\"f.>\"],\"storage\":\"file\"}");
    inbound_str(js, "s.a", "one");
    inbound_str(js, "f.a", "two");
    inbound_str(js, "$JS.API.CONSUMER.CREATE.S",
                "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"D\",\"ack_policy\":"
                "\"explicit\"}}");

    size_t off = 0;
    int records = 0;
    while (off < size && records < 64) {
        const uint8_t *rec = data + off;
        const uint8_t *end = memchr(rec, 0, size - off);
        size_t rlen = end ? (size_t)(end - rec) : size - off;
        off += rlen + 1;
        records++;
        const uint8_t *nl = memchr(rec, '\n', rlen);
        if (!nl) {
            inbound(js, (const char *)rec, rlen, NULL, 0, NULL, 0);
            continue;
        }
        size_t slen = (size_t)(nl - rec);
        const uint8_t *rest = nl + 1;
        size_t rest_len = rlen - slen - 1;
        const uint8_t *hdr = NULL;
        size_t hlen = 0;
        if (rest_len >= 8 && !memcmp(rest, "NATS/1.0", 8)) {
            const uint8_t *p = rest;
            for (; p + 3 < rest + rest_len; p++)
                if (!memcmp(p, "\r\n\r\n", 4)) break;
            if (p + 3 < rest + rest_len) {
                hdr = rest;
                hlen = (size_t)(p - rest) + 4;
            }
        }
        inbound(js, (const char *)rec, slen, hdr, hlen, rest + hlen, rest_len - hlen);
        if (records % 8 == 0) js_server_flush(js);
    }
    js_server_flush(js);
    /* Let every timer run: expiry, ack waits, pull request expiries, heartbeats. */
    for (int i = 0; i < 3; i++) {
        int64_t due = js_server_next_deadline(js);
        if (due == INT64_MAX) break;
        if (due > g_now) g_now = due;
        js_server_tick(js, g_now);
        js_server_flush(js);
    }
    js_server_close(js);
    /* A restart must find whatever was left on disk usable. */
    js = js_server_open(&cfg, &host, err, sizeof err);
    if (!js) abort();
    js_server_close(js);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/jetstream", g_root);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
