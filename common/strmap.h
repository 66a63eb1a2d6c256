/* A small open-addressing hash map from byte strings to pointers.
 *
 * Used for per-connection subscription ids and similar small, hot tables.  Keys are borrowed:
 * the caller keeps the key bytes alive as long as the entry exists (typically the key lives in
 * the value object).  Not thread-safe.
 */
#ifndef NX_STRMAP_H
#define NX_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct nx_strmap_entry {
    const char *key;
    uint32_t key_len;
    uint32_t hash;
    void *value; /* NULL marks an empty slot; a tombstone has key != NULL and value == NULL */
} nx_strmap_entry;

typedef struct nx_strmap {
    nx_strmap_entry *slots;
    uint32_t cap; /* power of two, or 0 */
    uint32_t count;
    uint32_t used; /* live + tombstones */
} nx_strmap;

uint32_t nx_hash_bytes(const void *data, size_t len);

void *nx_strmap_get(const nx_strmap *m, const char *key, size_t len);
/* Inserts or replaces; returns the previous value or NULL.  Aborts on out of memory. */
void *nx_strmap_put(nx_strmap *m, const char *key, size_t len, void *value);
/* Removes and returns the value, or NULL. */
void *nx_strmap_del(nx_strmap *m, const char *key, size_t len);
void nx_strmap_free(nx_strmap *m);

/* Iteration: for (uint32_t i = 0; nx_strmap_next(m, &i, &e);) { ... } */
int nx_strmap_next(const nx_strmap *m, uint32_t *iter, nx_strmap_entry **out);

#endif
