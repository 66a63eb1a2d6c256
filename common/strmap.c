/* Open-addressing string map with linear probing and tombstones; see strmap.h. */
#include "common/strmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: short keys (sids, tokens) dominate, where it is as good as anything fancier. */
uint32_t nx_hash_bytes(const void *data, size_t len) {
    const uint8_t *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static nx_strmap_entry *find(const nx_strmap *m, const char *key, size_t len, uint32_t h) {
    if (!m->cap) return NULL;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        nx_strmap_entry *e = &m->slots[i];
        if (!e->key) return NULL;
        if (e->value && e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
}

void *nx_strmap_get(const nx_strmap *m, const char *key, size_t len) {
    nx_strmap_entry *e = find(m, key, len, nx_hash_bytes(key, len));
    return e ? e->value : NULL;
}

static void grow(nx_strmap *m) {
    uint32_t ncap = m->cap ? m->cap * 2 : 8;
    if (m->count * 4 < m->cap) ncap = m->cap; /* mostly tombstones: rehash in place size */
    nx_strmap_entry *old = m->slots;
    uint32_t ocap = m->cap;
    m->slots = calloc(ncap, sizeof *m->slots);
    if (!m->slots) abort();
    m->cap = ncap;
    m->count = m->used = 0;
    for (uint32_t i = 0; i < ocap; i++) {
        if (old[i].key && old[i].value) {
            uint32_t mask = ncap - 1, j = old[i].hash & mask;
            while (m->slots[j].key) j = (j + 1) & mask;
            m->slots[j] = old[i];
            m->count++;
            m->used++;
        }
    }
    free(old);
}

void *nx_strmap_put(nx_strmap *m, const char *key, size_t len, void *value) {
    uint32_t h = nx_hash_bytes(key, len);
    nx_strmap_entry *e = find(m, key, len, h);
    if (e) {
        void *prev = e->value;
        e->value = value;
        e->key = key; /* the new value owns the key bytes now */
        return prev;
    }
    if ((m->used + 1) * 4 > m->cap * 3) grow(m);
    uint32_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key && m->slots[i].value) i = (i + 1) & mask;
    if (!m->slots[i].key) m->used++;
    m->slots[i] = (nx_strmap_entry){key, (uint32_t)len, h, value};
    m->count++;
    return NULL;
}

void *nx_strmap_del(nx_strmap *m, const char *key, size_t len) {
    nx_strmap_entry *e = find(m, key, len, nx_hash_bytes(key, len));
    if (!e) return NULL;
    void *v = e->value;
    e->value = NULL; /* tombstone: key stays non-NULL so probing continues */
    m->count--;
    if (m->count == 0) { /* cheap full reset keeps long-lived maps from filling up */
        memset(m->slots, 0, m->cap * sizeof *m->slots);
        m->used = 0;
    }
    return v;
}

void nx_strmap_free(nx_strmap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int nx_strmap_next(const nx_strmap *m, uint32_t *iter, nx_strmap_entry **out) {
    while (*iter < m->cap) {
        nx_strmap_entry *e = &m->slots[(*iter)++];
        if (e->key && e->value) {
            *out = e;
            return 1;
        }
    }
    return 0;
}
