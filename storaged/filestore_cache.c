/* File store block cache: message bodies are read back from the blocks on demand, and only a
 * bounded set of blocks is held in memory.
 *
 * Ports the idea of Go nats-server v2.14.5 server/filestore.go msgBlock caches (cacheLookup,
 * loadMsgsWithLock, tryForceExpireCache): Go keeps per-block caches of the raw block and lets
 * them expire on timers; here one LRU list per store, bounded by bytes (cache_max), holds the
 * contents of recently used blocks, and the current block is cached from its creation with
 * its writes mirrored into it (what a consumer tailing the stream reads next).
 *
 * The inner memory store keeps every message's index entry (sequence, time, subject, sizes)
 * but no header or payload (MS_F_EXT); its loads call fs_load_body, which finds the record
 * through the location kept in that entry (ms_ext_loc), checks it (below), opens it when sealed,
 * and copies the body out.  Checksums are verified once per copy of a block: when a block is
 * read into the cache, all its records are (the copy is then marked verified and its loads do
 * not hash again); the current block's copy only receives this store's own writes.  Records
 * read any other way (one at a time, from a copy with damage in it) are verified per load.  A
 * record that fails on reload is handled like damage at recovery: the message is fenced
 * (removed without a tombstone, listed in lost_msgs), logged, and the load behaves as if it
 * had never been there (the outer load retries once the fence is applied).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "storaged/filestore_int.h"

/* Two uncached loads this close in one block make a scan: the block is read whole. */
#define FS_SCAN_NEAR (64 * 1024)

/* --- Entries: anonymous mappings, so dropped blocks go back to the system at once ------ */

static size_t page_round(size_t n) {
    static size_t ps;
    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (size_t)v : 4096;
    }
    if (n == 0) n = 1;
    return (n + ps - 1) / ps * ps;
}

static uint8_t *map_buf(size_t cap) {
    void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void lru_unlink(sd_filestore *fs, fs_centry *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        fs->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        fs->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(sd_filestore *fs, fs_centry *e) {
    e->prev = NULL;
    e->next = fs->lru_head;
    if (fs->lru_head) fs->lru_head->prev = e;
    fs->lru_head = e;
    if (!fs->lru_tail) fs->lru_tail = e;
}

static void entry_free(sd_filestore *fs, fs_centry *e) {
    lru_unlink(fs, e);
    sd_seqmap_del(&fs->cache, e->index);
    fs->cache_bytes -= e->cap;
    if (e->buf) munmap(e->buf, e->cap);
    free(e);
}

static fs_centry *entry_new(sd_filestore *fs, uint32_t index, size_t cap) {
    cap = page_round(cap);
    /* Room first, so that the bound holds while loading too.  An evicted block of the same
     * size lends its mapping (already faulted in: a scan over a store larger than the bound
     * would otherwise map and fault a whole block per block). */
    uint8_t *buf = NULL;
    while (fs->lru_tail && fs->cache_bytes + cap > fs->cache_max) {
        fs_centry *t = fs->lru_tail;
        if (!buf && t->cap == cap) {
            buf = t->buf;
            t->buf = NULL;
        }
        entry_free(fs, t);
    }
    if (!buf) buf = map_buf(cap);
    if (!buf) return NULL;
    fs_centry *e = ms_xmalloc(sizeof *e);
    *e = (fs_centry){.index = index, .buf = buf, .cap = cap};
    sd_seqmap_put(&fs->cache, index, e);
    lru_push(fs, e);
    fs->cache_bytes += cap;
    return e;
}

static fs_centry *entry_get(sd_filestore *fs, uint32_t index) {
    fs_centry *e = sd_seqmap_get(&fs->cache, index);
    if (e && e != fs->lru_head) {
        lru_unlink(fs, e);
        lru_push(fs, e);
    }
    return e;
}

static void rd_close(sd_filestore *fs) {
    if (fs->rd_open) close(fs->rd_fd);
    fs->rd_open = false;
}

void fs_cache_drop(sd_filestore *fs, uint32_t index) {
    fs_centry *e = sd_seqmap_get(&fs->cache, index);
    if (e) entry_free(fs, e);
    /* Rewritten (renamed over) or removed: an open descriptor would read the old file. */
    if (fs->rd_open && fs->rd_index == index) rd_close(fs);
}

void fs_cache_trim(sd_filestore *fs) {
    while (fs->cache_bytes > fs->cache_max && fs->lru_tail)
        entry_free(fs, fs->lru_tail);
}

void fs_cache_free(sd_filestore *fs) {
    while (fs->lru_head)
        entry_free(fs, fs->lru_head);
    sd_seqmap_clear(&fs->cache);
    free(fs->ltmp);
    fs->ltmp = NULL;
    fs->ltcap = 0;
    rd_close(fs);
    free(fs->rbuf);
    fs->rbuf = NULL;
    fs->rcap = 0;
    free(fs->fence);
    fs->fence = NULL;
    fs->nfence = fs->fence_cap = 0;
}

uint64_t sd_filestore_cache_bytes(sd_store *st) {
    return fs_of(st)->cache_bytes;
}

size_t sd_filestore_cache_blocks(sd_store *st) {
    return fs_of(st)->cache.count;
}

void fs_cache_new_block(sd_filestore *fs, uint32_t index) {
    /* Not worth it when a whole block would not fit. */
    if (fs->replaying || fs->fcfg.block_size > fs->cache_max) return;
    fs_cache_drop(fs, index);
    fs_centry *e =
        entry_new(fs, index, fs->fcfg.block_size < 64 * 1024 ? fs->fcfg.block_size : 64 * 1024);
    /* Filled only by fs_cache_append with the records this store writes. */
    if (e) e->verified = true;
    fs_cache_trim(fs);
}

void fs_cache_append(sd_filestore *fs, uint32_t index, uint64_t off, const uint8_t *p, size_t n) {
    fs_centry *e = sd_seqmap_get(&fs->cache, index);
    if (!e) return;
    if (off != e->len) {
        entry_free(fs, e); /* out of step: read again when needed */
        return;
    }
    if (e->len + n > e->cap) {
        size_t cap = e->cap * 2;
        if (cap < e->len + n) cap = e->len + n;
        if (cap > fs->fcfg.block_size && e->len + n <= fs->fcfg.block_size)
            cap = fs->fcfg.block_size; /* blocks rotate past block_size: do not overshoot */
        cap = page_round(cap);
        void *nb = mremap(e->buf, e->cap, cap, MREMAP_MAYMOVE);
        if (nb == MAP_FAILED) {
            entry_free(fs, e);
            return;
        }
        e->buf = nb;
        fs->cache_bytes += cap - e->cap;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, p, n);
    e->len += n;
    /* Written to: the most recently used. */
    entry_get(fs, index);
    fs_cache_trim(fs);
}

/* --- Reading records back ---------------------------------------------------------- */

static int pread_all(int fd, uint8_t *p, size_t n, uint64_t off) {
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (r == 0) return -EBADMSG; /* shorter than the index says: data is gone */
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int open_blk(sd_filestore *fs, const fs_blk *b) {
    if (b == &fs->blks[fs->nblks - 1] && fs->cur_fd >= 0) return dup(fs->cur_fd);
    char path[4096];
    fs_blk_path(fs, b->index, path, sizeof path);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Whether every record of a block's content checks: the content must be records end to end
 * (a log block: its file, which recovery leaves whole; a packed block: its logical content). */
static bool verify_all(const uint8_t *p, size_t n) {
    fs_rec r;
    for (size_t off = 0; off < n;) {
        int64_t l = fs_parse_rec(p + off, n - off, &r);
        if (l <= 0) return false;
        off += (size_t)l;
    }
    return true;
}

/* Loads a whole block into the cache (log form: the file; packed: its logical content) and
 * verifies it once.  A packed block larger than the whole cache is decoded for the caller
 * only (*own, *olen). */
static int load_entry(sd_filestore *fs, const fs_blk *b, fs_centry **out, uint8_t **own,
                      size_t *olen) {
    *out = NULL;
    if (b->packed) {
        uint8_t *lb = NULL;
        size_t ln = 0;
        int rc = fs_read_block(fs, b->index, &lb, &ln);
        fs_centry *e = rc == 0 && ln <= fs->cache_max ? entry_new(fs, b->index, ln) : NULL;
        if (e) {
            memcpy(e->buf, lb, ln);
            e->len = ln;
            e->verified = verify_all(e->buf, e->len);
            *out = e;
        } else if (rc == 0) {
            *own = lb;
            *olen = ln;
            return 0;
        }
        free(lb);
        return rc;
    }
    int fd = open_blk(fs, b);
    if (fd < 0) return errno == ENOENT ? -EBADMSG : -errno;
    fs_centry *e = entry_new(fs, b->index, (size_t)b->size);
    int rc = e ? pread_all(fd, e->buf, (size_t)b->size, 0) : -ENOMEM;
    close(fd);
    if (rc) {
        if (e) entry_free(fs, e);
        return rc;
    }
    e->len = (size_t)b->size;
    e->verified = verify_all(e->buf, e->len);
    *out = e;
    return 0;
}

/* Reads the record at off of log-form block b on its own into fs->rbuf (one pread for most
 * records: the header and what follows it, a second one for longer records).  The block's
 * descriptor stays open for the next such read (a scan of records one by one: one open). */
static int read_one(sd_filestore *fs, const fs_blk *b, uint64_t off, const uint8_t **p,
                    size_t *avail) {
    int fd;
    if (b == &fs->blks[fs->nblks - 1] && fs->cur_fd >= 0) {
        fd = fs->cur_fd;
    } else {
        if (!fs->rd_open || fs->rd_index != b->index) {
            rd_close(fs);
            char path[4096];
            fs_blk_path(fs, b->index, path, sizeof path);
            if ((fs->rd_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return errno == ENOENT ? -EBADMSG : -errno;
            fs->rd_open = true;
            fs->rd_index = b->index;
        }
        fd = fs->rd_fd;
    }
    if (off + FS_REC_MIN > b->size) return -EBADMSG;
    size_t first = 4096;
    if (first > b->size - off) first = (size_t)(b->size - off);
    if (fs->rcap < first) {
        free(fs->rbuf);
        fs->rcap = first;
        fs->rbuf = ms_xmalloc(fs->rcap);
    }
    int rc = pread_all(fd, fs->rbuf, first, off);
    if (rc) return rc;
    const uint8_t *hb = fs->rbuf;
    uint32_t len =
        (uint32_t)hb[0] | (uint32_t)hb[1] << 8 | (uint32_t)hb[2] << 16 | (uint32_t)hb[3] << 24;
    if (len < FS_REC_MIN || len > FS_REC_MAX || off + len > b->size) return -EBADMSG;
    if (len > first) {
        if (fs->rcap < len) {
            uint8_t *nb = realloc(fs->rbuf, len);
            if (!nb) ms_panic("out of memory");
            fs->rbuf = nb;
            fs->rcap = len;
        }
        rc = pread_all(fd, fs->rbuf + first, len - first, off + first);
        if (rc) return rc;
    }
    *p = fs->rbuf;
    *avail = len;
    return 0;
}

/* The bytes of the record at off of block b, in *p with *avail bytes from there; *own is a
 * buffer to free afterwards (a packed block decoded for this load); *trusted: the bytes come
 * from a verified copy (or this store's write buffer), their checksum need not be computed
 * again.  -EBADMSG: damaged or gone. */
static int record_at(sd_filestore *fs, fs_blk *b, uint64_t off, const uint8_t **p, size_t *avail,
                     uint8_t **own, bool *trusted) {
    *own = NULL;
    *trusted = false;
    if (b == &fs->blks[fs->nblks - 1] && off >= b->size) {
        /* Not written yet (a load from a callback inside a call). */
        if (off - b->size >= fs->wlen) return -EBADMSG;
        *p = fs->wbuf + (off - b->size);
        *avail = fs->wlen - (size_t)(off - b->size);
        *trusted = true;
        return 0;
    }
    fs_centry *e = entry_get(fs, b->index);
    if (e && off >= e->len) {
        entry_free(fs, e); /* behind the file: read again */
        e = NULL;
    }
    /* A log-form block is read whole when this load follows the previous uncached one closely
     * in the same block (a scan, either way), else just the record: a random load does not
     * pull in a whole block for one message, nor does a sparse filtered scan.  A packed block
     * can only be decoded whole. */
    uint64_t near = off > fs->miss_off ? off - fs->miss_off : fs->miss_off - off;
    bool whole = b->packed || (b->size <= fs->cache_max && fs->miss_any &&
                               fs->miss_index == b->index && near <= FS_SCAN_NEAR);
    if (!e) {
        fs->miss_any = true;
        fs->miss_index = b->index;
        fs->miss_off = off;
    }
    if (!e && whole) {
        size_t ln = 0;
        int rc = load_entry(fs, b, &e, own, &ln);
        if (rc) return rc;
        if (*own) {
            /* Decoded for this load only. */
            if (off >= ln) return -EBADMSG;
            *p = *own + off;
            *avail = ln - (size_t)off;
            return 0;
        }
    }
    if (e) {
        if (off >= e->len) return -EBADMSG;
        *p = e->buf + off;
        *avail = e->len - (size_t)off;
        *trusted = e->verified;
        return 0;
    }
    return read_one(fs, b, off, p, avail);
}

/* (Duplicates are harmless: fs_fence_apply skips what is gone already.) */
static void fence_add(sd_filestore *fs, uint64_t seq) {
    if (fs->nfence == fs->fence_cap) {
        fs->fence_cap = fs->fence_cap ? fs->fence_cap * 2 : 8;
        fs->fence = realloc(fs->fence, fs->fence_cap * sizeof *fs->fence);
        if (!fs->fence) ms_panic("out of memory");
    }
    fs->fence[fs->nfence++] = seq;
}

/* A record that does not read back: the message is fenced like damage found at recovery.  A
 * packed block that does not open loses all its messages (recovery would fence it whole). */
static void damaged(sd_filestore *fs, fs_blk *b, uint32_t index, uint64_t seq, int why) {
    nx_warn("Filestore %s: message %" PRIu64 " in block %u does not read back (%s): fenced as "
            "lost",
            fs->dir, seq, index, why == -EKEYREJECTED ? "not authentic" : "damaged");
    fence_add(fs, seq);
    if (!b) return;
    bool again = b->damaged; /* a packed block's messages are queued already */
    b->damaged = b->keep = true;
    fs_cache_drop(fs, index);
    if (!b->packed || again) return;
    uint64_t k;
    void *v;
    for (size_t i = 0; sd_seqmap_next(&fs->loc, &i, &k, &v);)
        if (FS_LOC_BLK((uint64_t)(uintptr_t)v) == index) fence_add(fs, k);
}

int fs_load_body(void *arg, const ms_msg *m, sd_store_msg *sm) {
    sd_filestore *fs = arg;
    if (fs->closed) return SD_ERR_STORE_CLOSED;
    uint64_t loc = ms_ext_loc(m);
    if (!loc) {
        /* Not set (cannot happen: fs_loc_set sets both); the map has the final word. */
        void *v;
        if (!sd_seqmap_find(&fs->loc, m->seq, &v)) return SD_ERR_MSG_NOT_FOUND;
        loc = (uint64_t)(uintptr_t)v;
    }
    uint64_t off = FS_LOC_OFF(loc);
    uint32_t index = FS_LOC_BLK(loc);
    fs_blk *b = fs_blk_of(fs, index);
    if (!b) {
        damaged(fs, NULL, index, m->seq, -EBADMSG);
        return SD_ERR_MSG_NOT_FOUND;
    }
    const uint8_t *p = NULL;
    size_t avail = 0;
    uint8_t *own = NULL;
    bool trusted = false;
    int rc = record_at(fs, b, off, &p, &avail, &own, &trusted);
    if (rc == -ENOENT) rc = -EBADMSG; /* the block file is gone */
    fs_rec r = {0}, in = {0};
    if (rc == 0 && (trusted ? fs_parse_rec_trusted(p, avail, &r) : fs_parse_rec(p, avail, &r)) <= 0)
        rc = -EBADMSG;
    if (rc == 0 && r.type == FS_REC_SEALED) {
        if (fs->ltcap < r.len) {
            free(fs->ltmp);
            fs->ltcap = r.len;
            fs->ltmp = ms_xmalloc(fs->ltcap);
        }
        rc = fs_open_rec(fs, &r, index, off, fs->ltmp, &in);
        if (rc && rc != -ENOKEY) rc = -EKEYREJECTED;
    } else if (rc == 0) {
        in = r;
    }
    /* The record must be the one the index describes. */
    if (rc == 0 && (in.type != FS_REC_MSG || in.seq != m->seq || in.slen != m->subj_len ||
                    in.hlen != m->hdr_len || in.mlen != m->msg_len ||
                    memcmp(in.subj, ms_subj(m), in.slen) != 0))
        rc = -EBADMSG;
    if (rc == 0) {
        sd_store_msg_set(sm, m->seq, m->ts, ms_subj(m), m->subj_len, in.hdr, in.hlen, in.msg,
                         in.mlen);
    } else if (rc == -EBADMSG || rc == -EKEYREJECTED) {
        damaged(fs, b, index, m->seq, rc);
        rc = SD_ERR_MSG_NOT_FOUND;
    }
    free(own);
    fs_cache_trim(fs);
    return rc;
}

/* --- Fencing ---------------------------------------------------------------------------- */

size_t fs_fence_apply(sd_filestore *fs) {
    size_t n = 0;
    fs->fencing = true;
    for (size_t i = 0; i < fs->nfence; i++) {
        uint64_t seq = fs->fence[i];
        const ms_msg *m = sd_seqmap_get(&fs->ms->msgmap, seq);
        if (!m) continue;
        uint64_t size = ms_size(m);
        if (!ms_remove_msg(fs->ms, seq, false)) continue;
        fs_add_lost(fs, seq);
        fs->lost_bytes += size;
        n++;
    }
    fs->nfence = 0;
    fs->fencing = false;
    return n;
}

bool fs_fence_retry(sd_filestore *fs) {
    if (!fs->nfence || fs->depth > 0 || fs->closed) return false;
    fs_op_begin(fs);
    size_t before = fs->nlost;
    fs_op_end(fs);
    return fs->nlost != before;
}
