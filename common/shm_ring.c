/* SPSC shared-memory ring; see shm_ring.h. */
#include "common/shm_ring.h"

#include <assert.h>
#include <string.h>

static uint64_t rec_bytes(uint32_t len) {
    return (sizeof(nx_ring_rec) + (uint64_t)len + 7) & ~(uint64_t)7;
}

size_t nx_ring_bytes(uint64_t size) {
    return NX_RING_HDR_BYTES + (size_t)size;
}

void nx_ring_format(void *mem, uint64_t size) {
    assert(size >= 4096 && (size & (size - 1)) == 0);
    nx_ring_hdr *h = mem;
    memset(h, 0, NX_RING_HDR_BYTES);
    h->size = size;
    atomic_store_explicit(&h->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&h->head, 0, memory_order_relaxed);
    atomic_store_explicit(&h->producer_waiting, 0, memory_order_relaxed);
}

void nx_ring_attach(nx_ring *r, void *mem) {
    r->hdr = mem;
    r->data = (uint8_t *)mem + NX_RING_HDR_BYTES;
    r->size = r->hdr->size;
    r->cached_head = atomic_load_explicit(&r->hdr->head, memory_order_acquire);
    r->cached_tail = atomic_load_explicit(&r->hdr->tail, memory_order_acquire);
    r->pending_tail = r->cached_tail;
}

uint32_t nx_ring_max_payload(const nx_ring *r) {
    return (uint32_t)(r->size / 4 - sizeof(nx_ring_rec));
}

static bool has_room(nx_ring *r, uint64_t need) {
    if (r->pending_tail + need - r->cached_head <= r->size) return true;
    r->cached_head = atomic_load_explicit(&r->hdr->head, memory_order_acquire);
    return r->pending_tail + need - r->cached_head <= r->size;
}

void *nx_ring_reserve(nx_ring *r, uint32_t len, uint32_t type) {
    assert(type != NX_RING_REC_PAD);
    if (len > nx_ring_max_payload(r)) return NULL;
    uint64_t need = rec_bytes(len);
    uint64_t off = r->pending_tail & (r->size - 1);
    uint64_t to_end = r->size - off;
    if (need > to_end) { /* pad to the end and start over at offset 0 */
        if (!has_room(r, to_end + need)) return NULL;
        nx_ring_rec *pad = (nx_ring_rec *)(r->data + off);
        pad->len = (uint32_t)(to_end - sizeof(nx_ring_rec));
        pad->type = NX_RING_REC_PAD;
        r->pending_tail += to_end;
        off = 0;
    } else if (!has_room(r, need)) {
        return NULL;
    }
    nx_ring_rec *rec = (nx_ring_rec *)(r->data + off);
    rec->len = len;
    rec->type = type;
    r->pending_tail += need;
    return rec->data;
}

void nx_ring_publish(nx_ring *r) {
    atomic_store_explicit(&r->hdr->tail, r->pending_tail, memory_order_release);
}

const nx_ring_rec *nx_ring_peek(nx_ring *r, bool *corrupt) {
    *corrupt = false;
    for (;;) {
        uint64_t head = atomic_load_explicit(&r->hdr->head, memory_order_relaxed);
        if (head == r->cached_tail) {
            r->cached_tail = atomic_load_explicit(&r->hdr->tail, memory_order_acquire);
            if (head == r->cached_tail) return NULL;
        }
        uint64_t avail = r->cached_tail - head;
        uint64_t off = head & (r->size - 1);
        const nx_ring_rec *rec = (const nx_ring_rec *)(r->data + off);
        uint64_t bytes = rec_bytes(rec->len);
        /* Validate before trusting: the header lies in memory another process writes. */
        if (avail > r->size || bytes > avail || off + bytes > r->size) {
            *corrupt = true;
            return NULL;
        }
        if (rec->type != NX_RING_REC_PAD) return rec;
        atomic_store_explicit(&r->hdr->head, head + bytes, memory_order_release);
    }
}

void nx_ring_release(nx_ring *r, const nx_ring_rec *rec) {
    uint64_t head = atomic_load_explicit(&r->hdr->head, memory_order_relaxed);
    assert((const uint8_t *)rec == r->data + (head & (r->size - 1)));
    atomic_store_explicit(&r->hdr->head, head + rec_bytes(rec->len), memory_order_release);
}

void nx_ring_discard_all(nx_ring *r) {
    r->cached_tail = atomic_load_explicit(&r->hdr->tail, memory_order_acquire);
    atomic_store_explicit(&r->hdr->head, r->cached_tail, memory_order_release);
}

bool nx_ring_empty(nx_ring *r) {
    uint64_t head = atomic_load_explicit(&r->hdr->head, memory_order_relaxed);
    if (head != r->cached_tail) return false;
    r->cached_tail = atomic_load_explicit(&r->hdr->tail, memory_order_acquire);
    return head == r->cached_tail;
}
