/* u64 -> pointer hash map used by the memory store (messages by sequence, SDM and consumer
 * bookkeeping); it stands in for Go's map[uint64]*T in server/memstore.go.
 *
 * Open addressing with linear probing and backward-shift deletion, so long-lived maps with
 * heavy churn (a stream's sliding window of sequences) never accumulate tombstones.  Key 0
 * is kept out of the table (it marks empty slots).  The table halves when it falls below 1/8
 * full so a purged stream gives its memory back.
 */
#include <stdlib.h>
#include <string.h>

#include "storaged/memstore_int.h"

static inline size_t hash_u64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k;
}

static void rehash(sd_seqmap *m, size_t ncap) {
    uint64_t *ok = m->keys;
    void **ov = m->vals;
    size_t ocap = m->cap;
    m->keys = calloc(ncap, sizeof *m->keys);
    m->vals = calloc(ncap, sizeof *m->vals);
    if (!m->keys || !m->vals) ms_panic("out of memory");
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!ok[i]) continue;
        size_t j = hash_u64(ok[i]) & (ncap - 1);
        while (m->keys[j])
            j = (j + 1) & (ncap - 1);
        m->keys[j] = ok[i];
        m->vals[j] = ov[i];
    }
    free(ok);
    free(ov);
}

/* The slot holding key, or the free slot where it would go (the table must exist). */
static size_t slot_of(const sd_seqmap *m, uint64_t key, bool *found) {
    if (!m->keys) ms_panic("seqmap: lookup in an empty table");
    size_t mask = m->cap - 1;
    for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key) {
            *found = true;
            return i;
        }
        if (!m->keys[i]) {
            *found = false;
            return i;
        }
    }
}

bool sd_seqmap_find(const sd_seqmap *m, uint64_t key, void **val) {
    if (key == 0) {
        if (m->has_zero && val) *val = m->zero_val;
        return m->has_zero;
    }
    if (!m->cap) return false;
    bool found;
    size_t i = slot_of(m, key, &found);
    if (found && val) *val = m->vals[i];
    return found;
}

void *sd_seqmap_get(const sd_seqmap *m, uint64_t key) {
    void *v = NULL;
    return sd_seqmap_find(m, key, &v) ? v : NULL;
}

void *sd_seqmap_put(sd_seqmap *m, uint64_t key, void *val) {
    if (key == 0) {
        void *prev = m->has_zero ? m->zero_val : NULL;
        if (!m->has_zero) m->count++;
        m->has_zero = true;
        m->zero_val = val;
        return prev;
    }
    if ((m->count + 1) * 4 > m->cap * 3) rehash(m, m->cap ? m->cap * 2 : 16);
    bool found;
    size_t i = slot_of(m, key, &found);
    if (found) {
        void *prev = m->vals[i];
        m->vals[i] = val;
        return prev;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->count++;
    return NULL;
}

void *sd_seqmap_del(sd_seqmap *m, uint64_t key) {
    if (key == 0) {
        if (!m->has_zero) return NULL;
        m->has_zero = false;
        m->count--;
        return m->zero_val;
    }
    if (!m->cap) return NULL;
    bool found;
    size_t i = slot_of(m, key, &found);
    if (!found) return NULL;
    void *v = m->vals[i];
    size_t mask = m->cap - 1;
    /* Backward shift: pull later entries of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = hash_u64(m->keys[j]) & mask;
        /* Can the entry at j move to i?  Only if its home is not in (i, j]. */
        bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->count--;
    size_t live = m->count - (m->has_zero ? 1 : 0);
    if (m->cap > 16 && live * 8 < m->cap) rehash(m, m->cap / 2);
    return v;
}

void sd_seqmap_clear(sd_seqmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

bool sd_seqmap_next(const sd_seqmap *m, size_t *iter, uint64_t *key, void **val) {
    /* Position 0 is the zero key, then the table slots. */
    if (*iter == 0) {
        (*iter)++;
        if (m->has_zero) {
            *key = 0;
            *val = m->zero_val;
            return true;
        }
    }
    while (*iter - 1 < m->cap) {
        size_t i = (*iter)++ - 1;
        if (m->keys[i]) {
            *key = m->keys[i];
            *val = m->vals[i];
            return true;
        }
    }
    return false;
}
