/* raftd/log_store.c: durable RAFT state in checksummed segment files.  See log_store.h for
 * the format and invariants.  Ports the durability duties of Go server/raft.go
 * (writeTermVote, writePeerState, storeToWAL via the filestore, installSnapshot,
 * setupLastSnapshot, the startup WAL checks of initRaftNode) to raftd's own files, and adds
 * detection of damaged synced data (reported as rec->damaged, never silently dropped).
 */
#include "raftd/log_store.h"
#include "raftd/raft_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_MAGIC 0x43524652u /* "RFRC" */
#define REC_HDR 40
#define REC_ENTRY 1
#define REC_TRAILER 2

struct seg {
    uint64_t first, last; /* last < first: empty */
    int fd;
    uint64_t size;
    uint64_t *ends; /* ends[i]: file offset after record first+i */
    uint64_t n, cap;
    bool dirty, untrailed;
    char name[48];
};

struct rf_log_store {
    struct rf_disk *d;
    struct rf_ls_config cfg;
    struct seg *segs;
    uint32_t nsegs, capsegs;
    uint64_t last; /* last durable-or-pending index (or compaction base) */
    uint64_t meta_seq;
    bool dir_dirty;
};

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static int read_all(struct rf_disk *d, const char *name, uint8_t **out, uint64_t *len)
{
    int fd = d->ops->open(d->ctx, name, false);
    if (fd < 0)
        return fd;
    int64_t sz = d->ops->size(d->ctx, fd);
    if (sz < 0) {
        d->ops->close(d->ctx, fd);
        return (int)sz;
    }
    uint8_t *b = malloc(sz ? (size_t)sz : 1);
    if (!b)
        abort();
    int64_t r = sz ? d->ops->pread(d->ctx, fd, b, (uint64_t)sz, 0) : 0;
    d->ops->close(d->ctx, fd);
    if (r != sz) {
        free(b);
        return r < 0 ? (int)r : -EIO;
    }
    *out = b;
    *len = (uint64_t)sz;
    return 0;
}

/* Write a whole small file in place and fsync it. */
static int write_file_sync(struct rf_disk *d, const char *name, const uint8_t *b, uint32_t len)
{
    int fd = d->ops->open(d->ctx, name, true);
    if (fd < 0)
        return fd;
    int rc = 0;
    if (d->ops->pwrite(d->ctx, fd, b, len, 0) != (int64_t)len)
        rc = -EIO;
    if (!rc)
        rc = d->ops->truncate(d->ctx, fd, len);
    if (!rc)
        rc = d->ops->fsync(d->ctx, fd);
    d->ops->close(d->ctx, fd);
    return rc;
}

static int write_meta(struct rf_log_store *ls, const uint8_t *b, uint32_t len)
{
    /* One copy at a time, fsync in between: a crash leaves one good copy. */
    int rc = write_file_sync(ls->d, "meta.a", b, len);
    if (!rc)
        rc = write_file_sync(ls->d, "meta.b", b, len);
    if (!ls->meta_seq)
        ls->dir_dirty = true; /* first write created the files */
    ls->meta_seq++;
    if (!rc && ls->dir_dirty) {
        rc = ls->d->ops->sync_dir(ls->d->ctx);
        ls->dir_dirty = false;
    }
    return rc;
}

static void seg_push_end(struct seg *s, uint64_t end)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ends = realloc(s->ends, s->cap * sizeof(uint64_t));
        if (!s->ends)
            abort();
    }
    s->ends[s->n++] = end;
}

static struct seg *seg_new(struct rf_log_store *ls, uint64_t first)
{
    if (ls->nsegs == ls->capsegs) {
        ls->capsegs = ls->capsegs ? ls->capsegs * 2 : 8;
        ls->segs = realloc(ls->segs, ls->capsegs * sizeof(struct seg));
        if (!ls->segs)
            abort();
    }
    struct seg *s = &ls->segs[ls->nsegs++];
    memset(s, 0, sizeof(*s));
    s->first = first;
    s->last = first - 1;
    s->fd = -1;
    snprintf(s->name, sizeof(s->name), "seg.%020" PRIu64, first);
    return s;
}

static void seg_free(struct rf_log_store *ls, struct seg *s)
{
    if (s->fd >= 0)
        ls->d->ops->close(ls->d->ctx, s->fd);
    free(s->ends);
    s->fd = -1;
    s->ends = NULL;
}

/* Verify a record at off; returns its total length or 0. */
static uint64_t rec_check(const uint8_t *b, uint64_t len, uint64_t off)
{
    if (len - off < REC_HDR + 8 || get32(b + off) != REC_MAGIC)
        return 0;
    uint64_t pl = get32(b + off + 8);
    uint64_t tot = REC_HDR + pl + 8;
    if (pl > len || tot > len - off)
        return 0;
    if (rf_checksum(b + off, REC_HDR + pl) != get64(b + off + REC_HDR + pl))
        return 0;
    return tot;
}

static bool intact_after(const uint8_t *b, uint64_t len, uint64_t off)
{
    for (uint64_t o = off + 1; o + REC_HDR + 8 <= len; o++)
        if (get32(b + o) == REC_MAGIC && rec_check(b, len, o))
            return true;
    return false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct recs {
    struct rf_rec_buf *v;
    uint64_t n, cap;
};

static void recs_push(struct recs *r, const uint8_t *p, uint32_t len)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof(*r->v));
        if (!r->v)
            abort();
    }
    r->v[r->n].len = len;
    r->v[r->n].buf = malloc(len ? len : 1);
    if (!r->v[r->n].buf)
        abort();
    memcpy(r->v[r->n].buf, p, len);
    r->n++;
}

static void recover_meta(struct rf_log_store *ls, struct rf_recovered *rec, bool *any_files)
{
    const char *names[2] = {"meta.a", "meta.b"};
    struct rf_meta best = {0};
    bool have = false, present = false;
    for (int i = 0; i < 2; i++) {
        uint8_t *b;
        uint64_t len;
        if (read_all(ls->d, names[i], &b, &len) < 0)
            continue;
        present = present || len > 0;
        struct rf_meta m;
        if (len <= UINT32_MAX && rf_meta_decode(b, (uint32_t)len, &m) == 0) {
            if (!have || m.seq > best.seq) {
                rf_peerstate_free(&best.ps);
                best = m;
                have = true;
            } else {
                rf_peerstate_free(&m.ps);
            }
        }
        free(b);
    }
    if (have) {
        rec->has_meta = true;
        rec->term = best.term;
        rec->vote = best.vote;
        rec->repair = best.repair;
        rec->repair_term = best.repair_term;
        rec->commit = best.commit;
        rec->has_peerstate = true;
        rec->ps = best.ps;
        ls->meta_seq = best.seq;
    } else if (present) {
        rec->damaged = true; /* both copies bad: the vote is unknown */
    }
    *any_files = *any_files || present;
}

static void recover_snapshot(struct rf_log_store *ls, struct rf_recovered *rec, char **names,
                             uint32_t cnt)
{
    /* Newest first; a damaged newest snapshot is reported and an older one tried. */
    for (;;) {
        uint64_t bi = 0;
        int best = -1;
        for (uint32_t i = 0; i < cnt; i++) {
            uint64_t t, x;
            int pos = 0;
            if (!names[i] || sscanf(names[i], "snap.%" SCNu64 ".%" SCNu64 "%n", &t, &x, &pos) != 2 ||
                names[i][pos] != '\0')
                continue;
            if (best < 0 || x > bi) {
                best = (int)i;
                bi = x;
            }
        }
        if (best < 0)
            return;
        uint8_t *b;
        uint64_t len;
        struct rf_snapshot *s = NULL;
        if (read_all(ls->d, names[best], &b, &len) == 0) {
            if (rf_snapshot_decode(b, len, &s) < 0)
                s = NULL;
            free(b);
        }
        if (s && s->index > 0) {
            rec->snap = s;
            return;
        }
        if (s) /* Go: a 2.9.12 bug allowed index 0 snapshots; clean them up */
            ls->d->ops->unlink(ls->d->ctx, names[best]);
        else if (bi > 0)
            rec->damaged = true;
        rf_snapshot_unref(s);
        free(names[best]);
        names[best] = NULL;
    }
}

static int recover_segments(struct rf_log_store *ls, struct rf_recovered *rec, char **names,
                            uint32_t cnt)
{
    uint64_t *firsts = calloc(cnt ? cnt : 1, sizeof(uint64_t));
    uint32_t nf = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        uint64_t f;
        int pos = 0;
        if (names[i] && sscanf(names[i], "seg.%" SCNu64 "%n", &f, &pos) == 1 && !names[i][pos])
            firsts[nf++] = f;
    }
    qsort(firsts, nf, sizeof(uint64_t), cmp_u64);
    struct recs rs = {0};
    uint64_t expect = 0, pterm = 0, base = rec->snap ? rec->snap->index : 0;
    bool stop = false;
    for (uint32_t k = 0; k < nf; k++) {
        struct seg *s = seg_new(ls, firsts[k]);
        if (stop) {
            /* Everything after a damaged point is unusable; remove it before appending. */
            ls->d->ops->unlink(ls->d->ctx, s->name);
            ls->dir_dirty = true;
            ls->nsegs--;
            continue;
        }
        uint8_t *b;
        uint64_t len;
        int rc = read_all(ls->d, s->name, &b, &len);
        if (rc < 0) {
            free(firsts);
            return rc;
        }
        if (expect && s->first != expect) {
            rec->damaged = true; /* a missing segment */
            stop = true;
        }
        uint64_t off = 0;
        while (!stop && off < len) {
            uint64_t tot = rec_check(b, len, off);
            if (!tot) {
                if (intact_after(b, len, off) || k + 1 < nf)
                    rec->damaged = true;
                stop = true;
                break;
            }
            uint32_t kind = get32(b + off + 4), pl = get32(b + off + 8);
            uint64_t idx = get64(b + off + 16), pt = get64(b + off + 32);
            if (kind == REC_TRAILER) {
                off += tot;
                continue;
            }
            uint64_t want = expect ? expect : s->first;
            if (kind != REC_ENTRY || idx != want || (expect && idx > base + 1 && pt != pterm)) {
                rec->damaged = true;
                stop = true;
                break;
            }
            if (idx > base) {
                if (rec->n_recs == 0 && rs.n == 0)
                    rec->first_index = idx;
                recs_push(&rs, b + off + REC_HDR, pl);
            }
            pterm = get64(b + off + 24);
            expect = idx + 1;
            s->last = idx;
            off += tot;
            seg_push_end(s, off);
        }
        free(b);
        s->size = off;
        s->fd = ls->d->ops->open(ls->d->ctx, s->name, false);
        if (s->fd < 0) {
            free(firsts);
            return s->fd;
        }
        if (off < len) {
            /* Cut the bad tail (torn or damaged) so appends continue cleanly. */
            if (ls->d->ops->truncate(ls->d->ctx, s->fd, off) < 0 ||
                ls->d->ops->fsync(ls->d->ctx, s->fd) < 0) {
                free(firsts);
                return -EIO;
            }
        }
        if (s->n == 0) {
            seg_free(ls, s);
            ls->d->ops->unlink(ls->d->ctx, s->name);
            ls->dir_dirty = true;
            ls->nsegs--;
        }
    }
    free(firsts);
    rec->recs = rs.v;
    rec->n_recs = rs.n;
    ls->last = expect ? expect - 1 : 0;
    if (ls->last < base)
        ls->last = base;
    return 0;
}

int rf_ls_open(struct rf_disk *disk, const struct rf_ls_config *cfg, struct rf_log_store **out,
               struct rf_recovered *rec)
{
    memset(rec, 0, sizeof(*rec));
    struct rf_log_store *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return -ENOMEM;
    ls->d = disk;
    ls->cfg = *cfg;
    if (!ls->cfg.segment_bytes)
        ls->cfg.segment_bytes = 8u << 20;
    char **names = NULL;
    uint32_t cnt = 0;
    int rc = disk->ops->list(disk->ctx, &names, &cnt);
    if (rc < 0) {
        free(ls);
        return rc;
    }
    bool any = false;
    recover_meta(ls, rec, &any);
    for (uint32_t i = 0; i < cnt; i++) {
        size_t l = strlen(names[i]);
        if (l > 4 && strcmp(names[i] + l - 4, ".tmp") == 0) {
            disk->ops->unlink(disk->ctx, names[i]); /* interrupted snapshot write */
            free(names[i]);
            names[i] = NULL;
        }
    }
    recover_snapshot(ls, rec, names, cnt);
    rc = recover_segments(ls, rec, names, cnt);
    for (uint32_t i = 0; i < cnt; i++)
        free(names[i]);
    free(names);
    if (rc < 0) {
        rf_recovered_free(rec);
        rf_ls_close(ls);
        return rc;
    }
    if ((rec->n_recs || rec->snap) && !rec->has_meta)
        rec->damaged = true; /* data without any meta: the vote was lost */
    if (ls->dir_dirty) {
        disk->ops->sync_dir(disk->ctx);
        ls->dir_dirty = false;
    }
    *out = ls;
    return 0;
}

static int seg_open_new(struct rf_log_store *ls, uint64_t first, struct seg **out)
{
    struct seg *s = seg_new(ls, first);
    s->fd = ls->d->ops->open(ls->d->ctx, s->name, true);
    if (s->fd < 0) {
        ls->nsegs--;
        return s->fd;
    }
    if (ls->d->ops->truncate(ls->d->ctx, s->fd, 0) < 0)
        return -EIO;
    ls->dir_dirty = true;
    *out = s;
    return 0;
}

static int append_rec(struct rf_log_store *ls, uint32_t kind, uint64_t index, uint64_t term,
                      const uint8_t *p, uint32_t len)
{
    struct seg *s = ls->nsegs ? &ls->segs[ls->nsegs - 1] : NULL;
    if (kind == REC_ENTRY) {
        if (index != ls->last + 1)
            return -EINVAL; /* the core always truncates before rewriting */
        if (!s || s->size >= ls->cfg.segment_bytes || s->last + 1 != index) {
            if (s && s->untrailed) {
                int rc = append_rec(ls, REC_TRAILER, s->last, 0, NULL, 0);
                if (rc < 0)
                    return rc;
            }
            int rc = seg_open_new(ls, index, &s);
            if (rc < 0)
                return rc;
        }
    }
    uint64_t pterm = (kind == REC_ENTRY && len >= 32) ? get64(p + 24) : 0;
    uint64_t tot = REC_HDR + (uint64_t)len + 8;
    uint8_t *b = malloc(tot);
    if (!b)
        abort();
    put32(b, REC_MAGIC);
    put32(b + 4, kind);
    put32(b + 8, len);
    put32(b + 12, 0);
    put64(b + 16, index);
    put64(b + 24, term);
    put64(b + 32, pterm);
    if (len)
        memcpy(b + REC_HDR, p, len);
    put64(b + REC_HDR + len, rf_checksum(b, REC_HDR + len));
    int64_t w = ls->d->ops->pwrite(ls->d->ctx, s->fd, b, tot, s->size);
    free(b);
    if (w != (int64_t)tot)
        return w < 0 ? (int)w : -EIO;
    s->size += tot;
    s->dirty = true;
    if (kind == REC_ENTRY) {
        seg_push_end(s, s->size);
        s->last = index;
        s->untrailed = true;
        ls->last = index;
    } else {
        s->untrailed = false;
    }
    return 0;
}

static int truncate_to(struct rf_log_store *ls, uint64_t index)
{
    if (index >= ls->last)
        return 0;
    while (ls->nsegs) {
        struct seg *s = &ls->segs[ls->nsegs - 1];
        if (s->first > index) {
            seg_free(ls, s);
            int rc = ls->d->ops->unlink(ls->d->ctx, s->name);
            if (rc < 0 && rc != -ENOENT)
                return rc;
            ls->dir_dirty = true;
            ls->nsegs--;
            continue;
        }
        uint64_t keep = index - s->first + 1;
        if (keep < s->n) {
            uint64_t end = s->ends[keep - 1];
            /* Make the cut durable now: later appends must not sit before stale records. */
            if (ls->d->ops->truncate(ls->d->ctx, s->fd, end) < 0 ||
                ls->d->ops->fsync(ls->d->ctx, s->fd) < 0)
                return -EIO;
            s->size = end;
            s->n = keep;
            s->last = index;
            s->untrailed = false;
        }
        break;
    }
    if (ls->dir_dirty) {
        int rc = ls->d->ops->sync_dir(ls->d->ctx);
        if (rc < 0)
            return rc;
        ls->dir_dirty = false;
    }
    ls->last = index;
    return 0;
}

static int compact_to(struct rf_log_store *ls, uint64_t index)
{
    /* Drop whole segments below index; partial ones are skipped at recovery. */
    uint32_t drop = 0;
    while (drop < ls->nsegs && ls->segs[drop].last < index)
        drop++;
    for (uint32_t i = 0; i < drop; i++) {
        seg_free(ls, &ls->segs[i]);
        int rc = ls->d->ops->unlink(ls->d->ctx, ls->segs[i].name);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        ls->dir_dirty = true;
    }
    if (drop) {
        memmove(ls->segs, ls->segs + drop, (ls->nsegs - drop) * sizeof(struct seg));
        ls->nsegs -= drop;
    }
    if (ls->last < index - 1)
        ls->last = index - 1;
    return 0;
}

static int list_snapshots(struct rf_log_store *ls, uint64_t above, uint64_t keep_index,
                          bool keep)
{
    char **names = NULL;
    uint32_t cnt = 0;
    int rc = ls->d->ops->list(ls->d->ctx, &names, &cnt);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < cnt; i++) {
        uint64_t t, x;
        int pos = 0;
        if (sscanf(names[i], "snap.%" SCNu64 ".%" SCNu64 "%n", &t, &x, &pos) == 2 &&
            !names[i][pos] && (keep ? x != keep_index : x > above)) {
            ls->d->ops->unlink(ls->d->ctx, names[i]);
            ls->dir_dirty = true;
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

static int write_snapshot(struct rf_log_store *ls, const struct rf_op *op)
{
    char name[64], tmp[72];
    snprintf(name, sizeof(name), "snap.%" PRIu64 ".%" PRIu64, op->term, op->index);
    snprintf(tmp, sizeof(tmp), "%s.tmp", name);
    int rc = write_file_sync(ls->d, tmp, op->buf, op->len);
    if (!rc)
        rc = ls->d->ops->rename(ls->d->ctx, tmp, name);
    if (!rc)
        rc = ls->d->ops->sync_dir(ls->d->ctx);
    if (!rc)
        rc = list_snapshots(ls, 0, op->index, true); /* Go removes the previous snapfile */
    return rc;
}

int rf_ls_apply(struct rf_log_store *ls, const struct rf_op *ops, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct rf_op *op = &ops[i];
        int rc = 0;
        switch (op->type) {
        case RF_OP_META:
            rc = write_meta(ls, op->buf, op->len);
            break;
        case RF_OP_APPEND:
            rc = append_rec(ls, REC_ENTRY, op->index, op->term, op->buf, op->len);
            break;
        case RF_OP_TRUNCATE:
            rc = truncate_to(ls, op->index);
            break;
        case RF_OP_SNAPSHOT:
            rc = write_snapshot(ls, op);
            break;
        case RF_OP_COMPACT:
            rc = compact_to(ls, op->index);
            break;
        case RF_OP_DROP_SNAPSHOTS:
            rc = list_snapshots(ls, op->index, 0, false);
            break;
        default:
            rc = -EINVAL;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int rf_ls_sync(struct rf_log_store *ls)
{
    for (uint32_t i = 0; i < ls->nsegs; i++) {
        struct seg *s = &ls->segs[i];
        if (s->untrailed) {
            int rc = append_rec(ls, REC_TRAILER, s->last, 0, NULL, 0);
            if (rc < 0)
                return rc;
        }
        if (s->dirty) {
            int rc = ls->d->ops->fsync(ls->d->ctx, s->fd);
            if (rc < 0)
                return rc;
            s->dirty = false;
        }
    }
    if (ls->dir_dirty) {
        int rc = ls->d->ops->sync_dir(ls->d->ctx);
        if (rc < 0)
            return rc;
        ls->dir_dirty = false;
    }
    return 0;
}

void rf_ls_close(struct rf_log_store *ls)
{
    if (!ls)
        return;
    for (uint32_t i = 0; i < ls->nsegs; i++)
        seg_free(ls, &ls->segs[i]);
    free(ls->segs);
    free(ls);
}

void rf_ls_set_segment_bytes(struct rf_log_store *ls, uint64_t bytes)
{
    ls->cfg.segment_bytes = bytes ? bytes : 1;
}

uint64_t rf_ls_last_index(const struct rf_log_store *ls)
{
    return ls->last;
}

uint32_t rf_ls_segments(const struct rf_log_store *ls)
{
    return ls->nsegs;
}
