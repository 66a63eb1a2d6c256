/* Single-producer single-consumer ring of variable-size records in shared memory.
 *
 * The transport of the broker mesh (worker to worker) and, later, of broker <-> storaged.
 * Layout: a header with the producer's tail and the consumer's head on separate cache lines,
 * then `size` bytes of data (a power of two).  Positions grow monotonically (uint64) and are
 * reduced modulo size.  A record is an 8-byte header {len, type} plus len bytes, padded to 8;
 * a record never wraps: when it does not fit before the end, a PAD record fills the gap.
 *
 * Invariants:
 *  - the producer publishes `tail` (release) only after the whole record is written, so a
 *    producer that dies mid-write leaves nothing half-visible: a torn record is never read;
 *  - the consumer validates every record header it reads (type, length within the ring) and
 *    reports a corrupt ring instead of reading out of bounds;
 *  - only the producer writes tail and only the consumer writes head.
 * No locks, no syscalls: waking a sleeping consumer is the caller's business (doorbells).
 */
#ifndef NX_SHM_RING_H
#define NX_SHM_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NX_RING_HDR_BYTES 256
#define NX_RING_REC_PAD 0 /* record type reserved for padding */

typedef struct nx_ring_hdr {
    _Alignas(64) _Atomic uint64_t tail; /* written by the producer */
    _Alignas(64) _Atomic uint64_t head; /* written by the consumer */
    _Alignas(64) uint64_t size;         /* data bytes, power of two, set at creation */
    _Atomic uint32_t producer_waiting;  /* producer found the ring full: consumer should kick */
} nx_ring_hdr;

_Static_assert(sizeof(nx_ring_hdr) <= NX_RING_HDR_BYTES, "ring header too large");

typedef struct nx_ring_rec {
    uint32_t len;  /* payload bytes */
    uint32_t type; /* > 0 */
    uint8_t data[];
} nx_ring_rec;

/* A process-local handle on a ring living in shared memory. */
typedef struct nx_ring {
    nx_ring_hdr *hdr;
    uint8_t *data;
    uint64_t size;
    uint64_t cached_head; /* producer's last view of head */
    uint64_t cached_tail; /* consumer's last view of tail */
    uint64_t pending_tail; /* producer: end of reserved-but-unpublished records */
} nx_ring;

/* Total bytes a ring with `size` data bytes needs in shared memory. */
size_t nx_ring_bytes(uint64_t size);
/* Formats fresh memory as an empty ring. */
void nx_ring_format(void *mem, uint64_t size);
/* Attaches a handle to formatted memory. */
void nx_ring_attach(nx_ring *r, void *mem);

/* Largest payload a record may carry in this ring. */
uint32_t nx_ring_max_payload(const nx_ring *r);

/* Producer: reserves room for a record; NULL when the ring is full (or len too large).
 * Several reservations may precede one publish. */
void *nx_ring_reserve(nx_ring *r, uint32_t len, uint32_t type);
/* Producer: makes every reserved record visible to the consumer. */
void nx_ring_publish(nx_ring *r);

/* Consumer: the next record, NULL when empty, or sets *corrupt when a header is invalid. */
const nx_ring_rec *nx_ring_peek(nx_ring *r, bool *corrupt);
/* Consumer: releases the record returned by the last peek. */
void nx_ring_release(nx_ring *r, const nx_ring_rec *rec);
/* Consumer: drops everything currently in the ring (a restarted consumer's stale input). */
void nx_ring_discard_all(nx_ring *r);
bool nx_ring_empty(nx_ring *r);

#endif
