/* JetStream metadata store over LMDB (sd_meta.h): checksummed records, one write transaction
 * per group commit, map growth by replay, damage reported and fenced.
 *
 * No Go counterpart (Go writes consumer state to obs/<name>/o.dat, server/filestore.go
 * consumerFileStore, and configs to meta.inf + meta.sum); the record checksum plays the part
 * of Go's meta.sum.  See storaged/README.md "Metadata (LMDB)".
 */
#include "storaged/sd_meta.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "common/log.h"

#define KEY_MAX 400
#define SUM_LEN 8

enum { OP_PUT, OP_DEL, OP_DEL_PREFIX };

typedef struct meta_op {
    int kind;
    char *key;
    uint8_t *rec; /* checksum + value (OP_PUT) */
    size_t len;
} meta_op;

struct sd_meta {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn; /* the open write transaction, NULL when nothing is pending */
    char *dir;
    size_t map_size;
    bool fenced;
    char err[512];
    meta_op *ops; /* the open transaction's changes, replayed after a map resize */
    size_t nops, cap;
    uint64_t commits;
};

static size_t g_initial_map = 0;
static void (*g_commit_hook)(void *, const char *);
static void *g_commit_arg;

void sd_meta_set_initial_map_size(size_t bytes) { g_initial_map = bytes; }
void sd_meta_set_commit_hook(void (*fn)(void *arg, const char *dir), void *arg) {
    g_commit_hook = fn;
    g_commit_arg = arg;
}

static uint64_t rec_sum(const char *key, size_t klen, const uint8_t *val, size_t len) {
    return (uint64_t)XXH64(val, len, (XXH64_hash_t)XXH64(key, klen, 0));
}

static bool is_damage(int rc) {
    return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
           rc == MDB_VERSION_MISMATCH || rc == MDB_PANIC || rc == MDB_BAD_TXN;
}

static int errno_of(int rc) {
    if (rc > 0) return -rc;
    if (rc == MDB_NOTFOUND) return -ENOENT;
    if (rc == MDB_MAP_FULL) return -ENOSPC;
    if (rc == MDB_BAD_VALSIZE) return -EINVAL;
    return -EIO;
}

static void free_ops(sd_meta *m) {
    for (size_t i = 0; i < m->nops; i++) {
        free(m->ops[i].key);
        free(m->ops[i].rec);
    }
    m->nops = 0;
}

static void abort_txn(sd_meta *m) {
    if (m->txn) mdb_txn_abort(m->txn);
    m->txn = NULL;
}

/* Damage or an unknown durability state: report once, refuse everything afterwards. */
static int fence(sd_meta *m, int rc, const char *what) {
    if (!m->fenced) {
        snprintf(m->err, sizeof m->err, "metadata store %s: %s: %s (fenced)", m->dir, what,
                 mdb_strerror(rc));
        nx_log(NX_LOG_ERROR, "%s", m->err);
    }
    m->fenced = true;
    abort_txn(m);
    free_ops(m);
    return SD_META_EFENCED;
}

static int fail(sd_meta *m, int rc, const char *what) {
    if (is_damage(rc)) return fence(m, rc, what);
    return errno_of(rc);
}

static int begin(sd_meta *m) {
    if (m->fenced) return SD_META_EFENCED;
    if (m->txn) return 0;
    int rc = mdb_txn_begin(m->env, NULL, 0, &m->txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(m->env, 0);
        rc = mdb_txn_begin(m->env, NULL, 0, &m->txn);
    }
    if (rc) {
        m->txn = NULL;
        return fail(m, rc, "begin");
    }
    return 0;
}

/* One change in the open transaction (MDB_MAP_FULL passed back for the caller to grow). */
static int apply(sd_meta *m, const meta_op *op) {
    MDB_val k = {strlen(op->key), op->key};
    if (op->kind == OP_PUT) {
        MDB_val v = {op->len, op->rec};
        return mdb_put(m->txn, m->dbi, &k, &v, 0);
    }
    if (op->kind == OP_DEL) {
        int rc = mdb_del(m->txn, m->dbi, &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    MDB_cursor *c;
    int rc = mdb_cursor_open(m->txn, m->dbi, &c);
    if (rc) return rc;
    size_t pl = strlen(op->key);
    MDB_val v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= pl && memcmp(k.mv_data, op->key, pl) == 0) {
        rc = mdb_cursor_del(c, 0);
        /* After a delete, MDB_NEXT yields the record that followed the deleted one. */
        if (rc == 0) rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Aborts the transaction and starts it again with the recorded changes. */
static int replay(sd_meta *m) {
    abort_txn(m);
    int rc = begin(m);
    if (rc) return rc;
    for (size_t i = 0; i < m->nops; i++)
        if ((rc = apply(m, &m->ops[i]))) return rc;
    return 0;
}

/* The map is full: abort, double it, replay the transaction's changes. */
static int grow(sd_meta *m) {
    for (;;) {
        abort_txn(m);
        size_t next = m->map_size * 2;
        int rc = mdb_env_set_mapsize(m->env, next);
        if (rc) return fail(m, rc, "resize");
        m->map_size = next;
        nx_log(NX_LOG_NOTICE, "metadata store %s: map grown to %zu bytes", m->dir, next);
        rc = replay(m);
        if (rc == MDB_MAP_FULL) continue;
        return rc > 0 || rc < -1000 ? fail(m, rc, "replay") : rc;
    }
}

static int record(sd_meta *m, int kind, const char *key, uint8_t *rec, size_t len) {
    if (m->nops == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->ops = realloc(m->ops, m->cap * sizeof *m->ops);
        if (!m->ops) abort();
    }
    meta_op *op = &m->ops[m->nops];
    op->kind = kind;
    op->key = strdup(key);
    if (!op->key) abort();
    op->rec = rec;
    op->len = len;
    int rc = begin(m);
    if (rc) {
        free(op->key);
        free(rec);
        return rc;
    }
    m->nops++;
    rc = apply(m, op);
    if (rc == MDB_MAP_FULL) return grow(m);
    if (rc) {
        /* The transaction may be unusable now: drop the change, replay the others. */
        m->nops--;
        free(op->key);
        free(op->rec);
        int e = fail(m, rc, "write");
        if (!m->fenced) {
            int r = replay(m);
            if (r == MDB_MAP_FULL) r = grow(m);
            if (r) return r > 0 || r < -1000 ? fail(m, r, "replay") : r;
        }
        return e;
    }
    return 0;
}

static bool bad_key(const char *key) { return !key || !*key || strlen(key) > KEY_MAX; }

int sd_meta_put(sd_meta *m, const char *key, const void *val, size_t len) {
    if (bad_key(key)) return -EINVAL;
    if (m->fenced) return SD_META_EFENCED;
    uint8_t *rec = malloc(SUM_LEN + len);
    if (!rec) abort();
    uint64_t h = rec_sum(key, strlen(key), val, len);
    for (int i = 0; i < SUM_LEN; i++) rec[i] = (uint8_t)(h >> (8 * i));
    if (len) memcpy(rec + SUM_LEN, val, len);
    return record(m, OP_PUT, key, rec, SUM_LEN + len);
}

int sd_meta_del(sd_meta *m, const char *key) {
    if (bad_key(key)) return -EINVAL;
    uint8_t *v;
    size_t n;
    int rc = sd_meta_get(m, key, &v, &n);
    if (rc == -ENOENT || rc == SD_META_EFENCED) return rc;
    if (rc == 0) free(v);
    return record(m, OP_DEL, key, NULL, 0);
}

static int count_cb(void *arg, const char *key, const uint8_t *val, size_t len) {
    (void)key, (void)val, (void)len;
    (*(int *)arg)++;
    return 0;
}

int sd_meta_del_prefix(sd_meta *m, const char *prefix) {
    if (bad_key(prefix)) return -EINVAL;
    int n = 0;
    int rc = sd_meta_iterate(m, prefix, count_cb, &n);
    if (rc < 0) return rc;
    n += rc; /* damaged ones go too */
    if (n == 0) return 0;
    rc = record(m, OP_DEL_PREFIX, prefix, NULL, 0);
    return rc ? rc : n;
}

/* A read transaction, or the open write transaction (reads see pending changes). */
static int read_txn(sd_meta *m, MDB_txn **t) {
    if (m->fenced) return SD_META_EFENCED;
    if (m->txn) {
        *t = m->txn;
        return 0;
    }
    int rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, t);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(m->env, 0);
        rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, t);
    }
    return rc ? fail(m, rc, "read") : 0;
}

static void end_read(sd_meta *m, MDB_txn *t) {
    if (t != m->txn) mdb_txn_abort(t);
}

static bool rec_ok(const char *key, size_t klen, const MDB_val *v) {
    if (v->mv_size < SUM_LEN) return false;
    const uint8_t *p = v->mv_data;
    uint64_t h = 0;
    for (int i = 0; i < SUM_LEN; i++) h |= (uint64_t)p[i] << (8 * i);
    return h == rec_sum(key, klen, p + SUM_LEN, v->mv_size - SUM_LEN);
}

int sd_meta_get(sd_meta *m, const char *key, uint8_t **val, size_t *len) {
    if (bad_key(key)) return -EINVAL;
    MDB_txn *t;
    int rc = read_txn(m, &t);
    if (rc) return rc;
    MDB_val k = {strlen(key), (void *)key}, v;
    rc = mdb_get(t, m->dbi, &k, &v);
    if (rc) {
        end_read(m, t);
        return rc == MDB_NOTFOUND ? -ENOENT : fail(m, rc, "get");
    }
    if (!rec_ok(key, k.mv_size, &v)) {
        end_read(m, t);
        nx_log(NX_LOG_WARN, "metadata store %s: record '%s' fails its checksum", m->dir, key);
        return SD_META_ECORRUPT;
    }
    *len = v.mv_size - SUM_LEN;
    *val = malloc(*len + 1);
    if (!*val) abort();
    memcpy(*val, (uint8_t *)v.mv_data + SUM_LEN, *len);
    (*val)[*len] = 0;
    end_read(m, t);
    return 0;
}

int sd_meta_iterate(sd_meta *m, const char *prefix, sd_meta_cb cb, void *arg) {
    if (!prefix) prefix = "";
    MDB_txn *t;
    int rc = read_txn(m, &t);
    if (rc) return rc;
    MDB_cursor *c;
    rc = mdb_cursor_open(t, m->dbi, &c);
    if (rc) {
        end_read(m, t);
        return fail(m, rc, "cursor");
    }
    size_t pl = strlen(prefix);
    MDB_val k = {pl, (void *)prefix}, v;
    int bad = 0;
    rc = pl ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size >= pl && memcmp(k.mv_data, prefix, pl) == 0) {
        char kb[KEY_MAX + 1];
        if (k.mv_size > KEY_MAX || !rec_ok(k.mv_data, k.mv_size, &v)) {
            int kl = k.mv_size > KEY_MAX ? KEY_MAX : (int)k.mv_size;
            nx_log(NX_LOG_WARN, "metadata store %s: record '%.*s' fails its checksum, skipped",
                   m->dir, kl, (const char *)k.mv_data);
            bad++;
        } else {
            memcpy(kb, k.mv_data, k.mv_size);
            kb[k.mv_size] = 0;
            if (cb(arg, kb, (const uint8_t *)v.mv_data + SUM_LEN, v.mv_size - SUM_LEN)) break;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    end_read(m, t);
    if (rc && rc != MDB_NOTFOUND) return fail(m, rc, "iterate");
    return bad;
}

int sd_meta_commit(sd_meta *m) {
    if (m->fenced) return SD_META_EFENCED;
    if (!m->txn) return 0;
    for (;;) {
        int rc = mdb_txn_commit(m->txn);
        m->txn = NULL;
        if (rc == MDB_MAP_FULL) {
            if ((rc = grow(m))) return rc;
            continue;
        }
        if (rc) /* an I/O error: what reached the disk is unknown (no retry, fsyncgate) */
            return fence(m, rc, "commit");
        break;
    }
    free_ops(m);
    m->commits++;
    if (g_commit_hook) g_commit_hook(g_commit_arg, m->dir);
    return 0;
}

bool sd_meta_pending(const sd_meta *m) { return m->txn != NULL; }
bool sd_meta_fenced(const sd_meta *m) { return m->fenced; }
const char *sd_meta_error(const sd_meta *m) { return m->err; }
uint64_t sd_meta_commits(const sd_meta *m) { return m->commits; }
size_t sd_meta_map_size(const sd_meta *m) { return m->map_size; }

/* data.mdb must hold every page the last meta page names: a shorter file (truncated) would
 * fault (SIGBUS) through the map on the first read of a missing page. */
static int check_size(sd_meta *m, char *err, size_t errlen) {
    char p[4200];
    snprintf(p, sizeof p, "%s/data.mdb", m->dir);
    struct stat sb;
    if (stat(p, &sb) != 0) return 0;
    MDB_envinfo ei;
    MDB_stat ms;
    if (mdb_env_info(m->env, &ei) != 0 || mdb_env_stat(m->env, &ms) != 0) return 0;
    uint64_t need = ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
    if ((uint64_t)sb.st_size < need) {
        snprintf(err, errlen, "metadata store %s: data.mdb is truncated (%lld of %llu bytes)",
                 m->dir, (long long)sb.st_size, (unsigned long long)need);
        return -EIO;
    }
    if (ei.me_mapsize > m->map_size) m->map_size = ei.me_mapsize;
    return 0;
}

int sd_meta_open(const char *dir, sd_meta **out, char *err, size_t errlen) {
    *out = NULL;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        int e = -errno;
        snprintf(err, errlen, "metadata store %s: %s", dir, strerror(-e));
        return e;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    struct stat sb;
    /* LMDB writes both meta pages when it creates data.mdb: an empty one was cut short (it
     * would otherwise be taken for a new, empty store and every record silently lost). */
    if (stat(p, &sb) == 0 && sb.st_size == 0) {
        snprintf(err, errlen, "metadata store %s: data.mdb is empty (truncated)", dir);
        return -EIO;
    }
    sd_meta *m = calloc(1, sizeof *m);
    if (!m) abort();
    m->dir = strdup(dir);
    if (!m->dir) abort();
    m->map_size = g_initial_map ? g_initial_map : (size_t)1 << 20;
    int rc = mdb_env_create(&m->env);
    if (rc == 0) rc = mdb_env_set_mapsize(m->env, m->map_size);
    if (rc == 0) rc = mdb_env_open(m->env, dir, MDB_NOTLS, 0640);
    if (rc) {
        snprintf(err, errlen, "metadata store %s: %s", dir,
                 is_damage(rc) ? "damaged (not an LMDB environment or corrupt meta pages)"
                               : mdb_strerror(rc));
        if (is_damage(rc)) nx_log(NX_LOG_ERROR, "%s: %s", err, mdb_strerror(rc));
        int e = is_damage(rc) ? -EIO : errno_of(rc);
        if (m->env) mdb_env_close(m->env);
        free(m->dir);
        free(m);
        return e;
    }
    int dead = 0;
    mdb_reader_check(m->env, &dead);
    rc = check_size(m, err, errlen);
    if (rc == 0) {
        MDB_txn *t = NULL;
        int r = mdb_txn_begin(m->env, NULL, 0, &t);
        if (r == 0) r = mdb_dbi_open(t, NULL, 0, &m->dbi);
        if (r == 0) {
            r = mdb_txn_commit(t);
        } else if (t) {
            mdb_txn_abort(t);
        }
        if (r) {
            snprintf(err, errlen, "metadata store %s: %s", dir, mdb_strerror(r));
            rc = is_damage(r) ? -EIO : errno_of(r);
        }
    }
    if (rc) {
        nx_log(NX_LOG_ERROR, "%s", err);
        mdb_env_close(m->env);
        free(m->dir);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void sd_meta_close(sd_meta *m) {
    if (!m) return;
    abort_txn(m);
    free_ops(m);
    free(m->ops);
    mdb_env_close(m->env);
    free(m->dir);
    free(m);
}
