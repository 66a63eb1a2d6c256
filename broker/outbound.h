/* Per-connection outbound queue: a chain of pooled chunks, sent with sendmsg(2) from io_uring.
 *
 * Invariants: bytes are only appended at the tail and consumed at the head, so the iovecs handed
 * to an in-flight send stay valid while new data is appended behind them.  Chunks come from a
 * per-process free list (bounded) so steady-state delivery does not allocate.  The owner caps
 * `pending` at max_pending (slow consumer) before appending.
 */
#ifndef BR_OUTBOUND_H
#define BR_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BR_OUTCHUNK_BYTES (32 * 1024)

typedef struct br_outchunk {
    struct br_outchunk *next;
    uint32_t start; /* first unsent byte */
    uint32_t end;   /* one past the last written byte */
    uint8_t data[BR_OUTCHUNK_BYTES];
} br_outchunk;

typedef struct br_outq {
    br_outchunk *head;
    br_outchunk *tail;
    uint64_t pending; /* bytes queued and not yet sent */
} br_outq;

void br_outq_append(br_outq *q, const void *data, size_t len);
/* Reserve up to `want` contiguous bytes at the tail (at least `min`); returns the pointer and
 * the room in *room.  Commit what was written with br_outq_commit. */
uint8_t *br_outq_reserve(br_outq *q, size_t min, size_t *room);
void br_outq_commit(br_outq *q, size_t len);
/* Fills iov with the unsent data; returns the count (<= max). */
int br_outq_iov(const br_outq *q, struct iovec *iov, int max);
/* Drops n sent bytes from the head, recycling emptied chunks. */
void br_outq_consume(br_outq *q, size_t n);
void br_outq_clear(br_outq *q);

/* Releases the pooled chunks (at exit, so leak checkers stay quiet). */
void br_outchunk_pool_drain(void);

#endif
