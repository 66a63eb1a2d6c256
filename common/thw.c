/* Hashed timing wheel; see thw.h.
 *
 * Ports Go nats-server v2.14.5 server/thw/thw.go.  Each slot's Go map[uint64]int64 is a small
 * open-addressing table with tombstones here.  Tombstones (not backward-shift deletion) keep
 * entries in place while nx_thw_expire walks a slot, so a callback that removes entries can not
 * make the walk skip or repeat one; tables are only rebuilt on insert.  A slot emptied during
 * its own walk is freed after the walk (Go's GC does that implicitly).
 */
#include "common/thw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E_FREE = 0, E_USED = 1, E_DEAD = 2 };

typedef struct {
    uint64_t seq;
    int64_t expires;
    uint8_t state;
} entry;

typedef struct {
    entry *tab;
    size_t cap;  /* power of two */
    size_t used; /* live entries */
    size_t dead; /* tombstones */
    int64_t lowest;
    bool walking; /* nx_thw_expire is iterating this slot */
} slot;

struct nx_thw {
    slot *wheel[NX_THW_WHEEL_SIZE];
    int64_t lowest;
    uint64_t count;
};

static void *xcalloc(size_t n, size_t sz) {
    void *p = calloc(n, sz);
    if (!p) {
        fprintf(stderr, "thw: out of memory\n");
        abort();
    }
    return p;
}

static inline size_t hash_seq(uint64_t seq) {
    seq ^= seq >> 33;
    seq *= 0xff51afd7ed558ccdULL;
    seq ^= seq >> 33;
    return (size_t)seq;
}

static entry *slot_find(const slot *s, uint64_t seq) {
    if (!s->cap) return NULL;
    size_t mask = s->cap - 1;
    for (size_t i = hash_seq(seq) & mask;; i = (i + 1) & mask) {
        entry *e = &s->tab[i];
        if (e->state == E_FREE) return NULL;
        if (e->state == E_USED && e->seq == seq) return e;
    }
}

static void slot_rehash(slot *s, size_t ncap) {
    entry *old = s->tab;
    size_t ocap = s->cap;
    s->tab = xcalloc(ncap, sizeof(entry));
    s->cap = ncap;
    s->dead = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].state != E_USED) continue;
        size_t j = hash_seq(old[i].seq) & (ncap - 1);
        while (s->tab[j].state != E_FREE)
            j = (j + 1) & (ncap - 1);
        s->tab[j] = old[i];
    }
    free(old);
}

/* Returns true if seq was new. */
static bool slot_put(slot *s, uint64_t seq, int64_t expires) {
    entry *e = slot_find(s, seq);
    if (e) {
        e->expires = expires;
        return false;
    }
    if ((s->used + s->dead + 1) * 4 > s->cap * 3) {
        size_t ncap = s->cap ? s->cap : 8;
        while ((s->used + 1) * 2 > ncap)
            ncap *= 2;
        slot_rehash(s, ncap);
    }
    size_t mask = s->cap - 1, i = hash_seq(seq) & mask;
    while (s->tab[i].state == E_USED)
        i = (i + 1) & mask;
    if (s->tab[i].state == E_DEAD) s->dead--;
    s->tab[i] = (entry){seq, expires, E_USED};
    s->used++;
    return true;
}

static void slot_free(slot *s) {
    if (!s) return;
    free(s->tab);
    free(s);
}

static inline size_t position(int64_t expires) {
    return (size_t)((expires / NX_THW_TICK_NS) & NX_THW_WHEEL_MASK);
}

nx_thw *nx_thw_new(void) {
    nx_thw *hw = xcalloc(1, sizeof *hw);
    hw->lowest = INT64_MAX;
    return hw;
}

static void clear_wheel(nx_thw *hw) {
    for (size_t i = 0; i < NX_THW_WHEEL_SIZE; i++) {
        slot_free(hw->wheel[i]);
        hw->wheel[i] = NULL;
    }
    hw->lowest = INT64_MAX;
    hw->count = 0;
}

void nx_thw_free(nx_thw *hw) {
    if (!hw) return;
    clear_wheel(hw);
    free(hw);
}

int nx_thw_add(nx_thw *hw, uint64_t seq, int64_t expires) {
    size_t pos = position(expires);
    slot *s = hw->wheel[pos];
    if (!s) {
        s = hw->wheel[pos] = xcalloc(1, sizeof *s);
        s->lowest = INT64_MAX;
    }
    if (slot_put(s, seq, expires)) hw->count++;
    if (expires < s->lowest) {
        s->lowest = expires;
        if (expires < hw->lowest) hw->lowest = expires;
    }
    return 0;
}

int nx_thw_remove(nx_thw *hw, uint64_t seq, int64_t expires) {
    size_t pos = position(expires);
    slot *s = hw->wheel[pos];
    if (!s) return NX_THW_ERR_TASK_NOT_FOUND;
    entry *e = slot_find(s, seq);
    if (!e) return NX_THW_ERR_TASK_NOT_FOUND;
    e->state = E_DEAD;
    s->used--;
    s->dead++;
    hw->count--;
    /* Free an empty slot, unless nx_thw_expire is walking it (it frees it afterwards). */
    if (s->used == 0 && !s->walking) {
        slot_free(s);
        hw->wheel[pos] = NULL;
    }
    return 0;
}

int nx_thw_update(nx_thw *hw, uint64_t seq, int64_t old_expires, int64_t new_expires) {
    int rc = nx_thw_remove(hw, seq, old_expires);
    if (rc) return rc;
    return nx_thw_add(hw, seq, new_expires);
}

void nx_thw_expire(nx_thw *hw, int64_t now, bool (*cb)(void *arg, uint64_t seq, int64_t expires),
                   void *arg) {
    if (hw->lowest > now) return; /* nothing due */
    int64_t global_lowest = INT64_MAX;
    for (size_t pos = 0; pos < NX_THW_WHEEL_SIZE; pos++) {
        slot *s = hw->wheel[pos];
        if (!s || s->lowest > now) {
            if (s && s->lowest < global_lowest) global_lowest = s->lowest;
            continue;
        }
        int64_t slot_lowest = INT64_MAX;
        s->walking = true;
        for (size_t i = 0; i < s->cap; i++) {
            entry *e = &s->tab[i];
            if (e->state != E_USED) continue;
            uint64_t seq = e->seq;
            int64_t exp = e->expires;
            if (exp <= now && cb(arg, seq, exp)) {
                /* Drop it unless the callback already removed it. */
                if (e->state == E_USED) {
                    e->state = E_DEAD;
                    s->used--;
                    s->dead++;
                    hw->count--;
                }
                continue;
            }
            if (e->state == E_USED && exp < slot_lowest) slot_lowest = exp;
        }
        s->walking = false;
        if (s->used == 0) {
            slot_free(s);
            hw->wheel[pos] = NULL;
        } else {
            s->lowest = slot_lowest;
            if (slot_lowest < global_lowest) global_lowest = slot_lowest;
        }
    }
    hw->lowest = global_lowest;
}

int64_t nx_thw_next_expiration(const nx_thw *hw, int64_t before) {
    return hw->lowest < before ? hw->lowest : INT64_MAX;
}

uint64_t nx_thw_count(const nx_thw *hw) {
    return hw->count;
}

static size_t put_uvarint(uint8_t *b, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

/* Go binary.Uvarint: bytes read, 0 if the buffer is too short, -1 on overflow. */
static int get_uvarint(const uint8_t *b, size_t len, uint64_t *v) {
    uint64_t x = 0;
    unsigned s = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        if (b[i] < 0x80) {
            if (i == 9 && b[i] > 1) return -1;
            *v = x | (uint64_t)b[i] << s;
            return (int)i + 1;
        }
        x |= (uint64_t)(b[i] & 0x7f) << s;
        s += 7;
    }
    return len >= 10 ? -1 : 0;
}

static void put_u64le(uint8_t *b, uint64_t v) {
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64le(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

size_t nx_thw_encode(const nx_thw *hw, uint64_t high_seq, uint8_t **out) {
    uint8_t *b = malloc(NX_THW_HEADER_LEN + hw->count * 20);
    if (!b) {
        fprintf(stderr, "thw: out of memory\n");
        abort();
    }
    b[0] = 1; /* version */
    put_u64le(b + 1, hw->count);
    put_u64le(b + 9, high_seq);
    size_t n = NX_THW_HEADER_LEN;
    for (size_t pos = 0; pos < NX_THW_WHEEL_SIZE; pos++) {
        const slot *s = hw->wheel[pos];
        if (!s) continue;
        for (size_t i = 0; i < s->cap; i++) {
            const entry *e = &s->tab[i];
            if (e->state != E_USED) continue;
            /* Go binary.AppendVarint: zig-zag encoding of the signed expiry. */
            uint64_t zz = ((uint64_t)e->expires << 1) ^ (e->expires < 0 ? UINT64_MAX : 0); /* zigzag */
            n += put_uvarint(b + n, zz);
            n += put_uvarint(b + n, e->seq);
        }
    }
    *out = b;
    return n;
}

int nx_thw_decode(nx_thw *hw, const uint8_t *buf, size_t len, uint64_t *high_seq) {
    if (len < NX_THW_HEADER_LEN) return NX_THW_ERR_SHORT_BUFFER;
    if (buf[0] != 1) return NX_THW_ERR_INVALID_VERSION;
    clear_wheel(hw);
    uint64_t count = get_u64le(buf + 1);
    uint64_t stamp = get_u64le(buf + 9);
    size_t off = NX_THW_HEADER_LEN;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t zz, seq;
        int tn = get_uvarint(buf + off, len - off, &zz);
        if (tn <= 0) return NX_THW_ERR_UNEXPECTED_EOF;
        int vn = get_uvarint(buf + off + (size_t)tn, len - off - (size_t)tn, &seq);
        if (vn <= 0) return NX_THW_ERR_UNEXPECTED_EOF;
        int64_t ts = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
        nx_thw_add(hw, seq, ts);
        off += (size_t)tn + (size_t)vn;
    }
    *high_seq = stamp;
    return 0;
}

const char *nx_thw_strerror(int err) {
    switch (err) {
    case NX_THW_ERR_TASK_NOT_FOUND:
        return "thw: task not found";
    case NX_THW_ERR_INVALID_VERSION:
        return "thw: encoded version not known";
    case NX_THW_ERR_SHORT_BUFFER:
        return "short buffer";
    case NX_THW_ERR_UNEXPECTED_EOF:
        return "unexpected EOF";
    default:
        return "thw: unknown error";
    }
}

bool nx_thw_slot_info(const nx_thw *hw, size_t pos, int64_t *lowest, size_t *count) {
    const slot *s = pos < NX_THW_WHEEL_SIZE ? hw->wheel[pos] : NULL;
    if (!s) return false;
    *lowest = s->lowest;
    *count = s->used;
    return true;
}

bool nx_thw_slot_get(const nx_thw *hw, size_t pos, uint64_t seq, int64_t *expires) {
    const slot *s = pos < NX_THW_WHEEL_SIZE ? hw->wheel[pos] : NULL;
    const entry *e = s ? slot_find(s, seq) : NULL;
    if (!e) return false;
    *expires = e->expires;
    return true;
}

void nx_thw_slot_iter(const nx_thw *hw, size_t pos,
                      void (*f)(void *arg, uint64_t seq, int64_t expires), void *arg) {
    const slot *s = pos < NX_THW_WHEEL_SIZE ? hw->wheel[pos] : NULL;
    if (!s) return;
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].state == E_USED) f(arg, s->tab[i].seq, s->tab[i].expires);
}
