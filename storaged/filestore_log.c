/* File store log: record encoding, block files, buffered writes, syncing, and the
 * bookkeeping that ties the memory store's removals to tombstones and block liveness.
 *
 * Go nats-server v2.14.5 server/filestore.go keeps msgBlocks of records with a highway hash
 * and tombstones; this log keeps the same idea (append-only blocks, checksummed records,
 * tombstones for removals, whole blocks dropped once empty) with its own format
 * (filestore_int.h) and xxHash64 checksums.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "storaged/filestore_int.h"

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void (*sd_filestore_sync_hook)(int fd);

int fs_fsync(int fd, bool data_only) {
    if ((data_only ? fdatasync(fd) : fsync(fd)) != 0) return -errno;
    if (sd_filestore_sync_hook) sd_filestore_sync_hook(fd);
    return 0;
}

int fs_fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fs_fsync(fd, false);
    close(fd);
    return rc;
}

int64_t fs_now(const sd_filestore *fs) {
    if (fs->env.now_ns) return fs->env.now_ns(fs->env.now_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t fs_inner_now(void *arg) {
    const sd_filestore *fs = arg;
    return fs->have_forced ? fs->forced_now : fs_now(fs);
}

void fs_put_rec(uint8_t *p, uint8_t type, uint64_t seq, int64_t ts, int64_t arg, const char *subj,
                size_t slen, const uint8_t *hdr, size_t hlen, const uint8_t *msg, size_t mlen) {
    size_t len = FS_REC_MIN + slen + hlen + mlen;
    put_u32(p, (uint32_t)len);
    p[4] = type;
    p[5] = 0;
    p[6] = p[7] = 0;
    put_u64(p + 8, seq);
    put_u64(p + 16, (uint64_t)ts);
    put_u32(p + 24, (uint32_t)slen);
    put_u32(p + 28, (uint32_t)hlen);
    put_u64(p + 32, (uint64_t)arg);
    uint8_t *d = p + FS_REC_HDR;
    if (slen) memcpy(d, subj, slen);
    if (hlen) memcpy(d + slen, hdr, hlen);
    if (mlen) memcpy(d + slen + hlen, msg, mlen);
    put_u64(p + len - FS_REC_SUM, XXH64(p, len - FS_REC_SUM, 0));
}

static inline int64_t parse_rec(const uint8_t *p, size_t n, fs_rec *r, bool sum) {
    if (n < FS_REC_MIN) return 0;
    uint32_t len = get_u32(p);
    if (len < FS_REC_MIN || len > FS_REC_MAX) return -1;
    uint32_t slen = get_u32(p + 24), hlen = get_u32(p + 28);
    if ((uint64_t)slen + hlen > len - FS_REC_MIN) return -1;
    if (p[4] == 0 || (p[4] > FS_REC_ERASED && p[4] != FS_REC_BLK && p[4] != FS_REC_SEALED))
        return -1;
    if (len > n) return 0;
    if (sum && XXH64(p, len - FS_REC_SUM, 0) != get_u64(p + len - FS_REC_SUM)) return -1;
    r->len = len;
    r->type = p[4];
    r->flags = p[5];
    r->seq = get_u64(p + 8);
    r->ts = (int64_t)get_u64(p + 16);
    r->slen = slen;
    r->hlen = hlen;
    r->arg = (int64_t)get_u64(p + 32);
    r->subj = (const char *)p + FS_REC_HDR;
    r->hdr = p + FS_REC_HDR + slen;
    r->msg = r->hdr + hlen;
    r->mlen = len - FS_REC_MIN - slen - hlen;
    return len;
}

int64_t fs_parse_rec(const uint8_t *p, size_t n, fs_rec *r) {
    return parse_rec(p, n, r, true);
}

int64_t fs_parse_rec_trusted(const uint8_t *p, size_t n, fs_rec *r) {
    return parse_rec(p, n, r, false);
}

void fs_blk_path(const sd_filestore *fs, uint32_t index, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%08u.blk", fs->mdir, index);
}

fs_blk *fs_blk_of(sd_filestore *fs, uint32_t index) {
    size_t lo = 0, hi = fs->nblks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fs->blks[mid].index == index) return &fs->blks[mid];
        if (fs->blks[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static fs_blk *cur_blk(sd_filestore *fs) {
    return &fs->blks[fs->nblks - 1];
}

static void wbuf_reserve(sd_filestore *fs, size_t n) {
    if (fs->wlen + n <= fs->wcap) return;
    size_t cap = fs->wcap ? fs->wcap : 4096;
    while (cap < fs->wlen + n)
        cap *= 2;
    uint8_t *b = realloc(fs->wbuf, cap);
    if (!b) ms_panic("out of memory");
    fs->wbuf = b;
    fs->wcap = cap;
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off) {
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int fs_write_pending(sd_filestore *fs) {
    if (fs->io_err) return fs->io_err;
    if (fs->wlen == 0) return 0;
    fs_blk *b = cur_blk(fs);
    int rc = pwrite_all(fs->cur_fd, fs->wbuf, fs->wlen, b->size);
    if (rc) {
        fs->io_err = rc;
        fs_cache_drop(fs, b->index); /* the file may hold part of it */
        return rc;
    }
    fs_cache_append(fs, b->index, b->size, fs->wbuf, fs->wlen);
    b->size += fs->wlen;
    fs->wlen = 0;
    fs->dirty = true;
    return 0;
}

static int sync_now(sd_filestore *fs) {
    int rc = fs_write_pending(fs);
    if (rc) return rc;
    /* Many blocks to sync (a large group commit): one syncfs is cheaper than one fdatasync
     * each. */
    bool many = fs->npend > 16 && syncfs(fs->cur_fd) == 0;
    for (size_t i = 0; i < fs->npend; i++) {
        if (many) {
            if (sd_filestore_sync_hook) sd_filestore_sync_hook(fs->pend_fds[i]);
        } else {
            int r = fs_fsync(fs->pend_fds[i], true);
            if (r && !rc) rc = r;
        }
        close(fs->pend_fds[i]);
    }
    fs->npend = 0;
    if (rc) return fs->io_err = rc;
    if (fs->dirty && fs->cur_fd >= 0 && (rc = fs_fsync(fs->cur_fd, true))) return fs->io_err = rc;
    if (fs->dir_dirty && fs->mdir_fd >= 0 && (rc = fs_fsync(fs->mdir_fd, false)))
        return fs->io_err = rc;
    fs->dirty = fs->dir_dirty = false;
    fs->last_sync = fs->fcfg.sync == SD_FS_SYNC_INTERVAL ? fs_now(fs) : 0;
    return 0;
}

int fs_sync(sd_filestore *fs) {
    int rc = sync_now(fs);
    /* Blocks are unlinked only once the records that emptied them are durable. */
    if (rc == 0) fs_remove_dead_blocks(fs);
    return rc;
}

/* Appends a record to wbuf, sealed in an envelope when the store is encrypted. */
static int put_record(sd_filestore *fs, uint8_t type, uint64_t seq, int64_t ts, int64_t arg,
                      const char *subj, size_t slen, const uint8_t *hdr, size_t hlen,
                      const uint8_t *msg, size_t mlen) {
    size_t len = FS_REC_MIN + slen + hlen + mlen;
    if (!fs->cipher) {
        wbuf_reserve(fs, len);
        fs_put_rec(fs->wbuf + fs->wlen, type, seq, ts, arg, subj, slen, hdr, hlen, msg, mlen);
        fs->wlen += len;
        fs->last_len = len;
        return 0;
    }
    uint8_t *inner = ms_xmalloc(len);
    fs_put_rec(inner, type, seq, ts, arg, subj, slen, hdr, hlen, msg, mlen);
    size_t elen = FS_REC_MIN + FS_SEAL_OVERHEAD + len;
    wbuf_reserve(fs, elen);
    int rc = fs_seal_rec(fs, fs->wbuf + fs->wlen, inner, len, cur_blk(fs)->index,
                         cur_blk(fs)->size + fs->wlen);
    free(inner);
    if (rc) return fs->io_err = rc;
    fs->wlen += elen;
    fs->last_len = elen;
    return 0;
}

int fs_new_block(sd_filestore *fs, uint32_t index) {
    char path[4096];
    fs_blk_path(fs, index, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return fs->io_err = -errno;
    if (fs->cur_fd >= 0 && fs->dirty) {
        /* Written but not synced yet: synced with the next sync. */
        if (fs->npend == fs->pend_cap) {
            fs->pend_cap = fs->pend_cap ? fs->pend_cap * 2 : 8;
            fs->pend_fds = realloc(fs->pend_fds, fs->pend_cap * sizeof *fs->pend_fds);
            if (!fs->pend_fds) ms_panic("out of memory");
        }
        fs->pend_fds[fs->npend++] = fs->cur_fd;
    } else if (fs->cur_fd >= 0) {
        close(fs->cur_fd);
    }
    fs->cur_fd = fd;
    if (fs->nblks == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 8;
        fs->blks = realloc(fs->blks, fs->cap * sizeof *fs->blks);
        if (!fs->blks) ms_panic("out of memory");
    }
    fs->blks[fs->nblks++] = (fs_blk){.index = index};
    fs->dir_dirty = true;
    fs_cache_new_block(fs, index);
    /* The header goes out with the next write. */
    return put_record(fs, FS_REC_BLK, fs->ms->last_seq, fs->ms->last_ts, index, NULL, 0, NULL, 0,
                      NULL, 0);
}

uint64_t fs_append(sd_filestore *fs, uint8_t type, uint64_t seq, int64_t ts, int64_t arg,
                   const char *subj, size_t slen, const uint8_t *hdr, size_t hlen,
                   const uint8_t *msg, size_t mlen) {
    if (fs->replaying || fs->io_err) return 0;
    size_t len = FS_REC_MIN + slen + hlen + mlen + (fs->cipher ? FS_REC_MIN + FS_SEAL_OVERHEAD : 0);
    uint64_t pos = cur_blk(fs)->size + fs->wlen;
    if (pos + len > fs->fcfg.block_size && pos > FS_REC_MIN) {
        /* Rotate: the full block is written; it is synced with the next sync (in "always"
         * mode, when the running call ends), then packed if compression or encryption is on. */
        fs_write_pending(fs);
        uint32_t sealed = cur_blk(fs)->index;
        if (fs->io_err || fs_new_block(fs, sealed + 1)) return 0;
        if (fs_want_pack(fs)) fs_queue_pack(fs, sealed);
        pos = cur_blk(fs)->size + fs->wlen;
    }
    if (put_record(fs, type, seq, ts, arg, subj, slen, hdr, hlen, msg, mlen)) return 0;
    if (type == FS_REC_PURGE || type == FS_REC_COMPACT || type == FS_REC_TRUNCATE)
        cur_blk(fs)->keep = true;
    if (type == FS_REC_TRUNCATE) fs->trunc_blk = cur_blk(fs)->index;
    return FS_LOC(cur_blk(fs)->index, pos);
}

/* An emptied block past the head: copies its tombstones for earlier blocks' messages to the
 * current block; false if it has to stay (see filestore_int.h). */
static bool evacuate_blk(sd_filestore *fs, uint32_t index) {
    fs_blk *b = fs_blk_of(fs, index);
    if (!b || b->keep || index <= fs->trunc_blk) return false;
    uint8_t *buf = NULL;
    size_t n = 0;
    if (fs_read_block(fs, index, &buf, &n) != 0) {
        free(buf);
        return false;
    }
    uint64_t base = 0;
    bool ok = true;
    for (size_t off = 0; off < n && ok;) {
        fs_rec r;
        int64_t len = fs_parse_rec(buf + off, n - off, &r);
        if (len <= 0) {
            ok = false;
            break;
        }
        if (r.type == FS_REC_BLK) base = r.seq;
        if (r.type == FS_REC_DEL && r.seq <= base)
            fs_append(fs, FS_REC_DEL, r.seq, 0, 0, NULL, 0, NULL, 0, NULL, 0);
        off += (size_t)len;
    }
    free(buf);
    /* fs_append may have added a block (blks moved): look it up again. */
    if (!ok && (b = fs_blk_of(fs, index))) b->keep = true;
    return ok;
}

void fs_remove_dead_blocks(sd_filestore *fs) {
    size_t n = 0;
    while (n + 1 < fs->nblks && fs->blks[n].live == 0) {
        char path[4096];
        fs_blk_path(fs, fs->blks[n].index, path, sizeof path);
        fs_cache_drop(fs, fs->blks[n].index);
        if (unlink(path) != 0 && errno != ENOENT) break;
        fs->dir_dirty = true;
        n++;
    }
    if (n) {
        memmove(fs->blks, fs->blks + n, (fs->nblks - n) * sizeof *fs->blks);
        fs->nblks -= n;
    }
    /* Emptied blocks further on (the next block's header must be on disk to cover them). */
    size_t cand[64], nc = 0;
    for (size_t i = 1; i + 1 < fs->nblks && nc < 64; i++) {
        uint32_t index = fs->blks[i].index;
        if (fs->blks[i].live == 0 && fs->blks[i + 1].size >= FS_REC_MIN && evacuate_blk(fs, index))
            cand[nc++] = index;
    }
    if (!nc || sync_now(fs) != 0) return; /* copied tombstones durable first */
    for (size_t k = 0; k < nc; k++) {
        fs_blk *b = fs_blk_of(fs, cand[k]);
        if (!b || b == &fs->blks[fs->nblks - 1]) continue;
        char path[4096];
        fs_blk_path(fs, b->index, path, sizeof path);
        fs_cache_drop(fs, b->index);
        if (unlink(path) != 0 && errno != ENOENT) continue;
        fs->dir_dirty = true;
        size_t i = (size_t)(b - fs->blks);
        memmove(fs->blks + i, fs->blks + i + 1, (fs->nblks - i - 1) * sizeof *fs->blks);
        fs->nblks--;
    }
}

/* Overwrites a plaintext message record's subject, headers and payload with random bytes;
 * zeroed lengths make it an ERASED marker that still carries its sequence and time. */
static void erase_plain(uint8_t *p) {
    uint32_t len = get_u32(p);
    uint8_t *d = p + FS_REC_HDR;
    size_t n = len - FS_REC_MIN, done = 0;
    while (done < n) {
        ssize_t r = getrandom(d + done, n - done, 0);
        if (r <= 0) {
            memset(d + done, 0, n - done);
            break;
        }
        done += (size_t)r;
    }
    p[4] = FS_REC_ERASED;
    put_u32(p + 24, 0);
    put_u32(p + 28, 0);
    put_u64(p + len - FS_REC_SUM, XXH64(p, len - FS_REC_SUM, 0));
}

/* Erases the record at p (plain, or sealed at index/off: opened, erased, sealed again with a
 * new nonce, same length). */
static int erase_at(sd_filestore *fs, uint8_t *p, uint32_t index, uint64_t off) {
    if (p[4] != FS_REC_SEALED) {
        erase_plain(p);
        return 0;
    }
    fs_rec r, in;
    if (fs_parse_rec(p, get_u32(p), &r) <= 0) return -EIO;
    uint8_t *inner = ms_xmalloc(r.mlen);
    int rc = fs_open_rec(fs, &r, index, off, inner, &in);
    if (rc == 0) {
        erase_plain(inner);
        rc = fs_seal_rec(fs, p, inner, in.len, index, off);
    }
    free(inner);
    return rc;
}

int fs_erase_record(sd_filestore *fs, uint64_t loc) {
    fs_blk *b = fs_blk_of(fs, FS_LOC_BLK(loc));
    if (!b) return 0;
    /* The cached copy would keep the erased bytes: it goes (read again when needed). */
    fs_cache_drop(fs, b->index);
    uint64_t off = FS_LOC_OFF(loc);
    bool cur = b == cur_blk(fs);
    if (b->packed) {
        /* Rewritten whole: erase in the logical content, pack again (atomically). */
        uint8_t *buf;
        size_t n;
        int rc = fs_read_block(fs, b->index, &buf, &n);
        if (rc == 0 && (off + FS_REC_MIN > n || get_u32(buf + off) > n - off)) rc = -EIO;
        if (rc == 0) {
            erase_plain(buf + off);
            rc = fs_repack(fs, b->index, buf, n);
        }
        free(buf);
        return rc;
    }
    if (cur && off >= b->size) return erase_at(fs, fs->wbuf + (off - b->size), b->index, off);
    int fd = cur ? fs->cur_fd : -1;
    if (!cur) {
        char path[4096];
        fs_blk_path(fs, b->index, path, sizeof path);
        if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) return -errno;
    }
    uint8_t hb[FS_REC_HDR], *tmp = NULL;
    int rc = -EIO;
    if (pread(fd, hb, sizeof hb, (off_t)off) == (ssize_t)sizeof hb) {
        uint32_t len = get_u32(hb);
        if (len >= FS_REC_MIN && len <= FS_REC_MAX) {
            tmp = ms_xmalloc(len);
            if (pread(fd, tmp, len, (off_t)off) == (ssize_t)len &&
                (rc = erase_at(fs, tmp, b->index, off)) == 0) {
                rc = pwrite_all(fd, tmp, len, off);
                if (rc == 0) rc = fs_fsync(fd, true);
            }
        }
    }
    if (!cur) close(fd);
    free(tmp);
    return rc;
}

void fs_op_begin(sd_filestore *fs) {
    fs->depth++;
}

int fs_op_end(sd_filestore *fs) {
    if (--fs->depth > 0) return 0;
    if (fs->nfence && !fs->replaying) fs_fence_apply(fs);
    if (fs->need_diff) fs_reconcile(fs);
    fs->log_diff = false;
    if (fs->replaying) return 0;
    int rc = fs_write_pending(fs);
    if (rc) return rc;
    if (fs->npackq) fs_pack_queued(fs); /* blocks sealed by this call (written, not synced) */
    if (fs->ncompq) fs_compact_queued(fs);
    switch (fs->fcfg.sync) {
    case SD_FS_SYNC_ALWAYS:
        rc = fs_sync(fs);
        break;
    case SD_FS_SYNC_INTERVAL:
        if (fs->dirty && fs_now(fs) - fs->last_sync >= fs->fcfg.sync_interval_ns) rc = fs_sync(fs);
        break;
    case SD_FS_SYNC_NONE:
        break;
    }
    fs_cache_trim(fs);
    return rc;
}

void fs_loc_set(sd_filestore *fs, uint64_t seq, uint64_t loc, ms_msg *m) {
    /* NOLINTNEXTLINE(performance-no-int-to-ptr) */
    sd_seqmap_put(&fs->loc, seq, (void *)(uintptr_t)loc);
    if (!m) m = sd_seqmap_get(&fs->ms->msgmap, seq);
    if (m && (m->flags & MS_F_EXT)) ms_set_ext_loc(m, loc);
}

/* Drops seq from the location index (and its block's live count); logs a tombstone. */
void fs_forget(sd_filestore *fs, uint64_t seq, bool tombstone) {
    void *v = sd_seqmap_del(&fs->loc, seq);
    if (!v) return;
    fs_blk *b = fs_blk_of(fs, FS_LOC_BLK((uint64_t)(uintptr_t)v));
    if (b && b->live) b->live--;
    if (b && b->live && fs_want_compact(fs, b)) fs_queue_compact(fs, b->index);
    if (tombstone) fs_append(fs, FS_REC_DEL, seq, 0, 0, NULL, 0, NULL, 0, NULL, 0);
}

/* After a bulk removal: every indexed sequence the memory store no longer holds is gone. */
void fs_reconcile(sd_filestore *fs) {
    fs->need_diff = false;
    size_t n = 0, cap = 0;
    uint64_t *gone = NULL, k;
    void *v;
    for (size_t i = 0; sd_seqmap_next(&fs->loc, &i, &k, &v);) {
        if (sd_seqmap_get(&fs->ms->msgmap, k)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            gone = realloc(gone, cap * sizeof *gone);
            if (!gone) ms_panic("out of memory");
        }
        gone[n++] = k;
    }
    for (size_t i = 0; i < n; i++)
        fs_forget(fs, gone[i], fs->log_diff);
    free(gone);
}

void fs_inner_update(void *arg, int64_t msgs, int64_t bytes, uint64_t seq, const char *subj,
                     size_t len) {
    sd_filestore *fs = arg;
    if (fs->closed) return;
    if (msgs < 0) {
        if (seq != 0)
            fs_forget(fs, seq, !fs->fencing); /* fenced: damage stays on disk, as at recovery */
        else
            fs->need_diff = true;
    }
    if (!fs->replaying && fs->ucb.storage_update)
        fs->ucb.storage_update(fs->ucb.storage_update_arg, msgs, bytes, seq, subj, len);
}
