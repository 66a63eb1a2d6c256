/* File store recovery: reads the block files, verifies every record's checksum and replays
 * the log into the memory store (Go nats-server v2.14.5 server/filestore.go recoverMsgs /
 * rebuildState / indexCacheBuf, with this store's own record format).
 *
 * Damage handling:
 *  - the end of the last block may hold a torn record (a crash mid-write of a record that was
 *    never acknowledged, since acknowledgement waits for fsync): it is truncated away;
 *  - a damaged record anywhere else is skipped up to the next valid record; the bytes are
 *    counted in lost_bytes and the sequences that went missing with it (the gap up to the next
 *    sequence-bearing record or block header) are listed in lost_msgs and fenced as deleted,
 *    so they are never returned and never reused;
 *  - a complete but damaged record at the very end is reported the same way before the tail is
 *    cut (its sequence, when its header still reads plausibly, is fenced).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storaged/filestore_int.h"

void fs_add_lost(sd_filestore *fs, uint64_t seq) {
    if (fs->nlost == fs->lost_cap) {
        fs->lost_cap = fs->lost_cap ? fs->lost_cap * 2 : 16;
        fs->lost = realloc(fs->lost, fs->lost_cap * sizeof *fs->lost);
        if (!fs->lost) ms_panic("out of memory");
    }
    fs->lost[fs->nlost++] = seq;
}

/* Brings last_seq up to upto with skips; the skipped sequences are lost if damage was seen. */
static void fill_gap(sd_filestore *fs, uint64_t upto, int64_t ts) {
    sd_memstore *ms = fs->ms;
    if (upto > ms->last_seq) {
        uint64_t from = ms->last_seq + 1, n = upto - ms->last_seq;
        if (fs->damaged)
            for (uint64_t s = from; s <= upto; s++)
                fs_add_lost(fs, s);
        fs->inner->ops->skip_msgs(fs->inner, from, n);
        if (ts) ms->last_ts = ts;
    }
    fs->damaged = false;
}

static void apply(sd_filestore *fs, const fs_rec *r, uint32_t index, uint64_t off) {
    sd_store *in = fs->inner;
    sd_memstore *ms = fs->ms;
    fs->have_forced = true;
    fs->forced_now = r->ts;
    switch (r->type) {
    case FS_REC_BLK:
        fill_gap(fs, r->seq, r->ts);
        break;
    case FS_REC_MSG:
        if (r->seq == 0) break;
        fill_gap(fs, r->seq - 1, 0);
        if (r->seq != ms->last_seq + 1) break; /* stale (cannot happen in a sound log) */
        if (in->ops->store_raw_msg(in, r->subj, r->slen, r->hdr, r->hlen, r->msg, r->mlen, r->seq,
                                   r->ts, r->arg, false) == 0) {
            fs_loc_set(fs, r->seq, FS_LOC(index, off), NULL);
            fs_blk *b = fs_blk_of(fs, index);
            if (b) b->live++, b->total++;
        }
        break;
    case FS_REC_ERASED:
        if (r->seq == 0) break;
        fill_gap(fs, r->seq, r->ts);
        break;
    case FS_REC_DEL:
        in->ops->remove_msg(in, r->seq);
        break;
    case FS_REC_SKIP:
    case FS_REC_SKIP_NI:
        if (r->seq == 0) break;
        fill_gap(fs, r->seq - 1, 0);
        if (r->seq == ms->last_seq + 1) {
            if (r->type == FS_REC_SKIP)
                in->ops->skip_msg(in, r->seq, NULL);
            else
                in->ops->skip_msg_no_interest(in, r->seq, NULL);
            ms->last_ts = r->ts;
        }
        break;
    case FS_REC_SKIPS:
        if (r->seq == 0 || r->arg <= 0) break;
        fill_gap(fs, r->seq - 1, 0);
        if (r->seq == ms->last_seq + 1) {
            in->ops->skip_msgs(in, r->seq, (uint64_t)r->arg);
            ms->last_ts = r->ts;
        }
        break;
    case FS_REC_PURGE:
        in->ops->purge(in, NULL);
        break;
    case FS_REC_COMPACT:
        in->ops->compact(in, r->seq, NULL);
        break;
    case FS_REC_TRUNCATE:
        in->ops->truncate(in, r->seq);
        ms->last_ts = r->ts;
        fs->trunc_blk = index;
        break;
    default:
        break;
    }
    fs->have_forced = false;
    if (fs->need_diff) fs_reconcile(fs);
    if (r->type == FS_REC_PURGE || r->type == FS_REC_COMPACT || r->type == FS_REC_TRUNCATE) {
        fs_blk *b = fs_blk_of(fs, index);
        if (b) b->keep = true;
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int list_blocks(sd_filestore *fs, uint32_t **out, size_t *n) {
    DIR *d = opendir(fs->mdir);
    if (!d) return -errno;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end = NULL;
        errno = 0;
        unsigned long idx = strtoul(e->d_name, &end, 10);
        if (errno || end == e->d_name || strcmp(end, ".blk") != 0 || idx == 0 || idx > UINT32_MAX)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out) ms_panic("out of memory");
        }
        (*out)[(*n)++] = (uint32_t)idx;
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof **out, cmp_u32);
    return 0;
}

static int read_file(int fd, uint8_t **buf, size_t *n) {
    struct stat sb;
    if (fstat(fd, &sb) != 0) return -errno;
    *n = (size_t)sb.st_size;
    *buf = ms_xmalloc(*n);
    size_t got = 0;
    while (got < *n) {
        ssize_t r = pread(fd, *buf + got, *n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return r < 0 ? -errno : -EIO;
        got += (size_t)r;
    }
    return 0;
}

static uint64_t rd_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Replays the records of buf (a log-form block as on disk, or a packed block's logical
 * content); the last log-form block (fd >= 0) may have its torn tail cut. */
static int replay_records(sd_filestore *fs, uint32_t index, const uint8_t *buf, size_t n, bool last,
                          int fd) {
    int rc = 0;
    size_t off = 0;
    uint8_t *tmp = NULL;
    size_t tcap = 0;
    while (off < n) {
        fs_rec r, in;
        int64_t len = fs_parse_rec(buf + off, n - off, &r);
        if (len > 0) {
            int orc = 0;
            if (r.type == FS_REC_SEALED) {
                if ((size_t)len > tcap) {
                    free(tmp);
                    tcap = (size_t)len;
                    tmp = ms_xmalloc(tcap);
                }
                orc = fs_open_rec(fs, &r, index, off, tmp, &in);
                if (orc == -ENOKEY || (orc && !fs->unsealed_any && fs->new_key)) {
                    /* Encrypted with a key we do not have (key file lost or never given). */
                    rc = orc == -ENOKEY ? -ENOKEY : -EKEYREJECTED;
                    break;
                }
                if (orc == 0) fs->unsealed_any = true;
            } else {
                in = r;
            }
            if (orc == 0) {
                apply(fs, &in, index, off);
            } else {
                /* Not authentic (tampered): fenced like any damage. */
                fs_blk *b = &fs->blks[fs->nblks - 1];
                b->keep = b->damaged = true;
                fs->lost_bytes += (uint64_t)len;
                fs->damaged = true;
            }
            off += (size_t)len;
            continue;
        }
        size_t j = off + 1;
        for (; j + FS_REC_MIN <= n; j++) {
            fs_rec t;
            if (fs_parse_rec(buf + j, n - j, &t) > 0) break;
        }
        bool found = j + FS_REC_MIN <= n;
        if (found || !last || len < 0) {
            fs_blk *b = &fs->blks[fs->nblks - 1];
            b->keep = b->damaged = true; /* damaged: the block stays as it is */
        }
        if (found) {
            fs->lost_bytes += j - off;
            fs->damaged = true;
            off = j;
            continue;
        }
        if (!last) {
            fs->lost_bytes += n - off;
            fs->damaged = true;
            break;
        }
        /* The tail of the last block. */
        if (len < 0) {
            /* Complete but damaged: reported; its sequence fenced when it reads plausibly. */
            fs->lost_bytes += n - off;
            if (n - off >= FS_REC_MIN && buf[off + 4] == FS_REC_MSG &&
                rd_u64(buf + off + 8) == fs->ms->last_seq + 1) {
                fs->damaged = true;
                fill_gap(fs, fs->ms->last_seq + 1, 0);
            }
        }
        if (ftruncate(fd, (off_t)off) != 0) rc = -errno;
        if (rc == 0) rc = fs_fsync(fd, true);
        fs->blks[fs->nblks - 1].size = off;
        break;
    }
    free(tmp);
    return rc;
}

/* Replays one block; the last one may have its torn tail cut.  *packed_last: the last block
 * is a packed one (a new current block is needed). */
static int replay_block(sd_filestore *fs, uint32_t index, bool last, bool *packed_last) {
    char path[4096];
    fs_blk_path(fs, index, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = read_file(fd, &buf, &n);
    if (rc) {
        free(buf);
        close(fd);
        return rc;
    }
    if (fs->nblks == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 8;
        fs->blks = realloc(fs->blks, fs->cap * sizeof *fs->blks);
        if (!fs->blks) ms_panic("out of memory");
    }
    fs->blks[fs->nblks++] = (fs_blk){.index = index, .size = n};
    if (buf && fs_is_packed(buf, n)) {
        uint8_t *lb = NULL;
        size_t ln = 0;
        int ur = fs_unpack(fs, index, buf, n, &lb, &ln);
        if (ur == -ENOKEY || (ur == -EKEYREJECTED && !fs->unsealed_any && fs->new_key)) {
            rc = ur;
        } else if (ur) {
            /* Damaged (or not authentic): the whole block is lost, fenced by the next one. */
            fs_blk *b = &fs->blks[fs->nblks - 1];
            b->keep = b->damaged = true;
            fs->lost_bytes += n;
            fs->damaged = true;
        } else {
            if (buf[8] & FS_PACK_SEALED) fs->unsealed_any = true;
            fs->blks[fs->nblks - 1].packed = true;
            fs->blks[fs->nblks - 1].enc = (buf[8] & FS_PACK_SEALED) != 0;
            rc = replay_records(fs, index, lb, ln, false, -1);
        }
        free(lb);
        free(buf);
        close(fd);
        *packed_last = last;
        return rc;
    }
    rc = replay_records(fs, index, buf, n, last, fd);
    free(buf);
    if (last && rc == 0)
        fs->cur_fd = fd;
    else
        close(fd);
    return rc;
}

int fs_recover(sd_filestore *fs, uint64_t first_seq) {
    uint32_t *idx = NULL;
    size_t n = 0;
    int rc = list_blocks(fs, &idx, &n);
    if (rc) return rc;
    fs->replaying = true;
    bool packed_last = false;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = replay_block(fs, idx[i], i + 1 == n, &packed_last);
    fs->replaying = false;
    fs->damaged = false;
    free(idx);
    if (rc) return rc;
    if (fs->nblks == 0) {
        if (first_seq > 0) rc = ms_purge(fs->ms, first_seq, NULL);
        if (rc == 0) rc = fs_new_block(fs, 1);
        if (rc == 0) rc = fs_sync(fs);
    } else if (packed_last) {
        /* Packed blocks are never appended to: a new current block. */
        rc = fs_new_block(fs, fs->blks[fs->nblks - 1].index + 1);
        if (rc == 0) rc = fs_sync(fs);
    }
    if (rc == 0 && fs_want_pack(fs)) {
        /* Sealed blocks not packed yet (a crash before packing, a restore, compression or
         * encryption turned on): rewrite them now; with encryption, a current block that
         * holds plaintext records is sealed (rotated) first. */
        if (fs->cipher && fs->nblks && fs_block_has_plain(fs, fs->blks[fs->nblks - 1].index)) {
            rc = fs_new_block(fs, fs->blks[fs->nblks - 1].index + 1);
            if (rc == 0) rc = fs_sync(fs);
        }
        for (size_t i = 0; rc == 0 && i + 1 < fs->nblks; i++)
            if ((!fs->blks[i].packed || (fs->cipher && !fs->blks[i].enc)) && !fs->blks[i].damaged)
                fs_queue_pack(fs, fs->blks[i].index);
        fs_pack_queued(fs);
    }
    /* Sparse blocks left by an earlier run (a crash before their compaction). */
    for (size_t i = 0; rc == 0 && i + 1 < fs->nblks; i++)
        if (fs->blks[i].live && fs_want_compact(fs, &fs->blks[i]))
            fs_queue_compact(fs, fs->blks[i].index);
    if (rc == 0) fs_compact_queued(fs);
    return rc;
}
