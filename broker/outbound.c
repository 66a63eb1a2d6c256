/* Outbound chunk chains; see outbound.h.  Plays the role of Go's client.out (nb/wnb buffers,
 * pooled per size class) in server/client.go queueOutbound/flushOutbound. */
#include "broker/outbound.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Bounded free list: enough to absorb bursts without holding much memory when idle. */
#define POOL_MAX 256

static struct {
    br_outchunk *free;
    unsigned count;
} g_pool;

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ENABLED 0 /* plain malloc/free so ASan sees every overrun and use-after-free */
#else
#define POOL_ENABLED 1
#endif

static br_outchunk *chunk_get(void) {
    br_outchunk *c = g_pool.free;
    if (POOL_ENABLED && c) {
        g_pool.free = c->next;
        g_pool.count--;
    } else {
        c = malloc(sizeof *c);
        if (!c) abort(); /* out of memory: nothing sensible to do mid-delivery */
    }
    c->next = NULL;
    c->start = c->end = 0;
    return c;
}

static void chunk_put(br_outchunk *c) {
    if (POOL_ENABLED && g_pool.count < POOL_MAX) {
        c->next = g_pool.free;
        g_pool.free = c;
        g_pool.count++;
    } else {
        free(c);
    }
}

void br_outchunk_pool_drain(void) {
    while (g_pool.free) {
        br_outchunk *c = g_pool.free;
        g_pool.free = c->next;
        free(c);
    }
    g_pool.count = 0;
}

uint8_t *br_outq_reserve(br_outq *q, size_t min, size_t *room) {
    assert(min <= BR_OUTCHUNK_BYTES);
    if (!q->tail || BR_OUTCHUNK_BYTES - q->tail->end < min) {
        br_outchunk *c = chunk_get();
        if (q->tail)
            q->tail->next = c;
        else
            q->head = c;
        q->tail = c;
    }
    *room = BR_OUTCHUNK_BYTES - q->tail->end;
    return q->tail->data + q->tail->end;
}

void br_outq_commit(br_outq *q, size_t len) {
    assert(q->tail && q->tail->end + len <= BR_OUTCHUNK_BYTES);
    q->tail->end += (uint32_t)len;
    q->pending += len;
}

void br_outq_append(br_outq *q, const void *data, size_t len) {
    const uint8_t *p = data;
    while (len > 0) {
        size_t room;
        uint8_t *dst = br_outq_reserve(q, 1, &room);
        size_t n = len < room ? len : room;
        memcpy(dst, p, n);
        br_outq_commit(q, n);
        p += n;
        len -= n;
    }
}

int br_outq_iov(const br_outq *q, struct iovec *iov, int max) {
    int n = 0;
    for (br_outchunk *c = q->head; c && n < max; c = c->next) {
        if (c->end == c->start) continue;
        iov[n].iov_base = c->data + c->start;
        iov[n].iov_len = c->end - c->start;
        n++;
    }
    return n;
}

void br_outq_consume(br_outq *q, size_t n) {
    assert(n <= q->pending);
    q->pending -= n;
    while (q->head) {
        br_outchunk *c = q->head;
        size_t avail = c->end - c->start;
        if (n < avail) {
            c->start += (uint32_t)n;
            return;
        }
        n -= avail;
        /* Emptied chunks go back to the pool at once, the tail too: an idle connection then
         * holds no output memory (10,000 idle clients must stay cheap). */
        q->head = c->next;
        if (c == q->tail) q->tail = NULL;
        chunk_put(c);
    }
}

void br_outq_clear(br_outq *q) {
    while (q->head) {
        br_outchunk *c = q->head;
        q->head = c->next;
        chunk_put(c);
    }
    q->tail = NULL;
    q->pending = 0;
}
