/* Hashed timing wheel for per-message TTLs.
 *
 * Ports Go nats-server v2.14.5 server/thw/thw.go (HashWheel).  4096 one-second slots; each slot
 * maps sequence -> expiry (ns since the epoch) and remembers its lowest expiry, and the wheel
 * remembers the lowest overall, so "is anything due?" is one comparison.
 *
 * Time is always passed in (no clock reads here): the owning process drives expiry.
 * As in Go, Remove does not lower-bound-refresh the cached lowest expiry; the next expire pass
 * recomputes it, so nx_thw_next_expiration may report an already removed entry until then.
 * The binary encoding (version 1: u8 magic, u64 count, u64 high seq, then varint expiry and
 * uvarint seq per entry) is Go's.
 * Not thread-safe.  Allocation failure aborts.
 */
#ifndef NX_THW_H
#define NX_THW_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NX_THW_TICK_NS 1000000000LL /* slot width */
#define NX_THW_WHEEL_BITS 12
#define NX_THW_WHEEL_SIZE (1 << NX_THW_WHEEL_BITS)
#define NX_THW_WHEEL_MASK (NX_THW_WHEEL_SIZE - 1)
#define NX_THW_HEADER_LEN 17

/* Errors (negative errno values; Go's texts via nx_thw_strerror). */
#define NX_THW_ERR_TASK_NOT_FOUND (-ENOENT)           /* "thw: task not found" */
#define NX_THW_ERR_INVALID_VERSION (-EPROTONOSUPPORT) /* "thw: encoded version not known" */
#define NX_THW_ERR_SHORT_BUFFER (-ENOBUFS)            /* "short buffer" */
#define NX_THW_ERR_UNEXPECTED_EOF (-ENODATA)          /* "unexpected EOF" */

typedef struct nx_thw nx_thw;

nx_thw *nx_thw_new(void);
void nx_thw_free(nx_thw *hw);
/* Schedules (or reschedules within the same slot) seq to expire at `expires`. */
int nx_thw_add(nx_thw *hw, uint64_t seq, int64_t expires);
/* Removes seq, which was added with `expires`: 0 or NX_THW_ERR_TASK_NOT_FOUND. */
int nx_thw_remove(nx_thw *hw, uint64_t seq, int64_t expires);
int nx_thw_update(nx_thw *hw, uint64_t seq, int64_t old_expires, int64_t new_expires);
/* Calls cb for every task due at `now` (expires <= now); a task is dropped only when cb
 * returns true.  cb may call nx_thw_remove on this wheel (Go allows it too). */
void nx_thw_expire(nx_thw *hw, int64_t now, bool (*cb)(void *arg, uint64_t seq, int64_t expires),
                   void *arg);
/* The earliest expiry if it is before `before`, else INT64_MAX. */
int64_t nx_thw_next_expiration(const nx_thw *hw, int64_t before);
uint64_t nx_thw_count(const nx_thw *hw);
/* Snapshot: a malloc'd buffer (caller frees) stamped with high_seq.  Returns its length. */
size_t nx_thw_encode(const nx_thw *hw, uint64_t high_seq, uint8_t **out);
/* Replaces the wheel's contents with a snapshot; stores the stamp in *high_seq. */
int nx_thw_decode(nx_thw *hw, const uint8_t *buf, size_t len, uint64_t *high_seq);
const char *nx_thw_strerror(int err);

/* Test hooks: a slot's lowest expiry and entry count (false if the slot is unused), lookup of
 * one entry, and iteration over a slot's entries. */
bool nx_thw_slot_info(const nx_thw *hw, size_t pos, int64_t *lowest, size_t *count);
bool nx_thw_slot_get(const nx_thw *hw, size_t pos, uint64_t seq, int64_t *expires);
void nx_thw_slot_iter(const nx_thw *hw, size_t pos,
                      void (*f)(void *arg, uint64_t seq, int64_t expires), void *arg);

#endif
