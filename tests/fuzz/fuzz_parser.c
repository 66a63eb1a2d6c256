/* libFuzzer target for proto/parser (the client protocol parser, a port of Go nats-server
 * v2.14.5 server/parser.go).
 *
 * Input layout: byte 0 = configuration flags, byte 1 = chunking seed, the rest = the stream.
 * The stream is parsed three ways: whole, in pseudo-random chunks of 1..32 bytes derived from
 * the seed, and byte by byte (short inputs).  Every chunk is its own heap copy, freed after use.
 *
 * Invariants checked (any violation aborts):
 *  - np_parse makes progress (> 0 bytes when it returns no error) and never consumes more than
 *    it was given;
 *  - every string and payload of an op is non-NULL and lies in the current chunk or in scratch;
 *  - after an error the parser stays failed (same error again), except AUTH_REQUIRED, which
 *    must consume nothing and leave the state unchanged;
 *  - scratch stays within the documented bounds;
 *  - the sequence of ops (by content) and the final error are identical for all three ways.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/parser.h"

#define CHECK(c)                                                                                 \
    do {                                                                                         \
        if (!(c))                                                                                \
            abort();                                                                             \
    } while (0)

typedef struct transcript {
    uint8_t *p;
    size_t len, cap;
} transcript;

static void put(transcript *t, const void *s, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = (t->len + n) * 2 + 64;
        uint8_t *q = realloc(t->p, cap);
        CHECK(q);
        t->p = q;
        t->cap = cap;
    }
    if (n)
        memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void put_u64(transcript *t, uint64_t v)
{
    put(t, &v, sizeof v);
}

static void put_field(transcript *t, const np_parser *p, const uint8_t *chunk, size_t clen,
                      const void *ptr, size_t n)
{
    CHECK(ptr != NULL);
    if (n) {
        const uint8_t *q = ptr;
        bool in_chunk = q >= chunk && q + n <= chunk + clen;
        bool in_scratch = p->scratch && q >= p->scratch && q + n <= p->scratch + p->scratch_cap;
        CHECK(in_chunk || in_scratch);
    }
    put_u64(t, n);
    put(t, ptr, n);
}

static void record(transcript *t, const np_parser *p, const np_op *op, const uint8_t *chunk,
                   size_t clen)
{
    put_u64(t, (uint64_t)op->type);
    put_field(t, p, chunk, clen, op->subject.ptr, op->subject.len);
    put_field(t, p, chunk, clen, op->reply.ptr, op->reply.len);
    put_field(t, p, chunk, clen, op->queue.ptr, op->queue.len);
    put_field(t, p, chunk, clen, op->sid.ptr, op->sid.len);
    put_field(t, p, chunk, clen, op->arg.ptr, op->arg.len);
    put_field(t, p, chunk, clen, op->size_str.ptr, op->size_str.len);
    put_field(t, p, chunk, clen, op->hdr_str.ptr, op->hdr_str.len);
    put_field(t, p, chunk, clen, op->payload, op->payload_len);
    put_u64(t, (uint64_t)op->max_msgs);
    put_u64(t, op->hdr_len);
    if (op->type == NP_OP_HPUB)
        CHECK(op->hdr_len <= op->payload_len);
    if (op->type == NP_OP_PUB || op->type == NP_OP_HPUB)
        CHECK(op->payload_len <= p->max_payload);
}

typedef struct config {
    uint32_t max_payload, max_control_line;
    bool require_connect, headers, no_auth_user;
} config;

/* Feeds stream[0..len) in chunks whose sizes come from next_chunk and returns the transcript. */
static transcript run(const config *c, const uint8_t *stream, size_t len, int mode, uint32_t seed)
{
    np_parser p;
    np_parser_init(&p);
    p.max_payload = c->max_payload;
    p.max_control_line = c->max_control_line;
    p.require_connect = c->require_connect;
    p.headers = c->headers;
    transcript t = {0};

    size_t start = 0;
    bool failed = false;
    while (start < len && !failed) {
        size_t clen = len - start;
        if (mode == 1) {
            seed = seed * 1103515245u + 12345u;
            size_t want = 1 + ((seed >> 16) & 31);
            if (want < clen)
                clen = want;
        } else if (mode == 2) {
            clen = 1;
        }
        uint8_t *chunk = malloc(clen);
        CHECK(chunk);
        memcpy(chunk, stream + start, clen);
        size_t off = 0;
        while (off < clen) {
            np_op op;
            np_parser before = p;
            ssize_t n = np_parse(&p, chunk + off, clen - off, &op);
            if (n < 0) {
                CHECK(op.type == NP_OP_NONE);
                np_error e = (np_error)-n;
                CHECK(e > NP_ERR_NONE && e <= NP_ERR_HEADERS_NOT_SUPPORTED);
                if (e == NP_ERR_AUTH_REQUIRED) {
                    CHECK(p.state == before.state && p.scratch_len == before.scratch_len);
                    if (c->no_auth_user && p.require_connect) {
                        /* The owner accepts the no_auth_user and retries the same bytes. */
                        p.require_connect = false;
                        put_u64(&t, 1000);
                        continue;
                    }
                } else {
                    /* Stays failed with the same error. */
                    np_op again;
                    CHECK(np_parse(&p, chunk + off, clen - off, &again) == n);
                    CHECK(again.type == NP_OP_NONE);
                }
                put_u64(&t, 2000 + (uint64_t)e);
                failed = true;
                break;
            }
            CHECK(n > 0);
            CHECK((size_t)n <= clen - off);
            off += (size_t)n;
            /* Bounded scratch: a control line (+CR) and then strings + a payload. */
            CHECK(p.scratch_len <= (size_t)c->max_control_line + 1);
            CHECK(p.scratch_cap <= 256 ||
                  p.scratch_cap <= 2 * ((size_t)c->max_control_line + 1 + c->max_payload));
            if (op.type != NP_OP_NONE) {
                record(&t, &p, &op, chunk, clen);
                if (op.type == NP_OP_CONNECT) {
                    CHECK(!p.require_connect);
                    /* React like the broker: CONNECT may switch headers on or off. */
                    if (memmem(op.arg.ptr, op.arg.len, "headers", 7))
                        p.headers = !p.headers;
                }
            }
        }
        free(chunk);
        start += clen;
    }
    np_parser_free(&p);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    uint32_t seed = data[1];
    const uint8_t *stream = data + 2;
    size_t len = size - 2;

    config c = {
        .max_payload = 1024 * 1024,
        .max_control_line = 4096,
        .headers = flags & 1,
        .require_connect = flags & 2,
        .no_auth_user = flags & 4,
    };
    if (flags & 8) { /* small limits reach the limit paths quickly */
        c.max_control_line = 4 + (flags >> 4) * 3;
        c.max_payload = (uint32_t)(flags >> 4) * 5;
    }

    transcript whole = run(&c, stream, len, 0, 0);
    transcript chunks = run(&c, stream, len, 1, seed);
    CHECK(whole.len == chunks.len && (whole.len == 0 || memcmp(whole.p, chunks.p, whole.len) == 0));
    if (len <= 4096) {
        transcript bytes = run(&c, stream, len, 2, 0);
        CHECK(whole.len == bytes.len &&
              (whole.len == 0 || memcmp(whole.p, bytes.p, whole.len) == 0));
        free(bytes.p);
    }
    free(whole.p);
    free(chunks.p);
    return 0;
}
