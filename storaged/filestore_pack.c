/* Sealed blocks rewritten whole: snappy compression (Go's `compression: s2` stream option,
 * msgBlock.compressRecord / decompressIfNeeded) and whole-block encryption, both done when a
 * block is sealed by rotation (Go compresses sealed blocks too), and compaction's rewrites.
 *
 * Go nats-server v2.14.5 server/filestore.go writes S2; this store uses libsnappy (the design
 * card's dependency).  The layout of a packed file is in filestore_int.h.  A rewrite is atomic:
 * the new file is written under <index>.blk.tmp, fsynced, renamed over the block and the
 * directory fsynced; a crash before the rename leaves the old block (the temporary file is
 * removed on open), after it the new one: both read back the same records.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "storaged/filestore_int.h"

void (*sd_filestore_step_hook)(const char *point);

static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

bool fs_want_pack(const sd_filestore *fs) {
    return fs->fcfg.compress || fs->cipher;
}

bool fs_is_packed(const uint8_t *file, size_t n) {
    return n >= 8 && memcmp(file, FS_PACK_MAGIC, 8) == 0;
}

static int read_path(const char *path, uint8_t **buf, size_t *n) {
    *buf = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat sb;
    int rc = fstat(fd, &sb) == 0 ? 0 : -errno;
    size_t sz = rc ? 0 : (size_t)sb.st_size;
    *buf = ms_xmalloc(sz + 1);
    size_t got = 0;
    while (rc == 0 && got < sz) {
        ssize_t r = pread(fd, *buf + got, sz - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) rc = r < 0 ? -errno : -EIO;
        got += r > 0 ? (size_t)r : 0;
    }
    close(fd);
    *n = got;
    return rc;
}

int fs_unpack(sd_filestore *fs, uint32_t index, const uint8_t *file, size_t n, uint8_t **out,
              size_t *len) {
    *out = NULL;
    *len = 0;
    if (n < FS_PACK_HDR + 8 || !fs_is_packed(file, n)) return -EBADMSG;
    if (XXH64(file, n - 8, 0) != get_le(file + n - 8, 8)) return -EBADMSG;
    uint8_t flags = file[8];
    uint64_t llen = get_le(file + 16, 8), blen = get_le(file + 24, 8);
    if (get_le(file + 12, 4) != index || blen != n - 8 - FS_PACK_HDR || llen > (1ULL << 40) ||
        (flags & ~(FS_PACK_SNAPPY | FS_PACK_SEALED)))
        return -EBADMSG;
    const uint8_t *payload = file + FS_PACK_HDR;
    size_t plen = (size_t)blen;
    uint8_t *plain = NULL;
    if (flags & FS_PACK_SEALED) {
        if (!fs->cipher) return -ENOKEY;
        if (plen < FS_SEAL_OVERHEAD) return -EBADMSG;
        plain = ms_xmalloc(plen);
        if (fs_unseal(fs, file, FS_PACK_HDR, payload, plen, plain) != 0) {
            free(plain);
            return -EKEYREJECTED;
        }
        payload = plain;
        plen -= FS_SEAL_OVERHEAD;
    }
    uint8_t *res;
    if (flags & FS_PACK_SNAPPY) {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)payload, plen, &ulen) != SNAPPY_OK ||
            ulen != llen) {
            free(plain);
            return -EBADMSG;
        }
        res = ms_xmalloc(ulen + 1);
        if (snappy_uncompress((const char *)payload, plen, (char *)res, &ulen) != SNAPPY_OK) {
            free(plain);
            free(res);
            return -EBADMSG;
        }
        free(plain);
    } else {
        if (plen != llen) {
            free(plain);
            return -EBADMSG;
        }
        res = ms_xmalloc(plen + 1);
        memcpy(res, payload, plen);
        free(plain);
    }
    *out = res;
    *len = (size_t)llen;
    return 0;
}

int fs_read_block(sd_filestore *fs, uint32_t index, uint8_t **buf, size_t *n) {
    char path[4096];
    fs_blk_path(fs, index, path, sizeof path);
    uint8_t *raw;
    size_t rn;
    int rc = read_path(path, &raw, &rn);
    if (rc) {
        free(raw);
        *buf = NULL;
        *n = 0;
        return rc;
    }
    if (fs_is_packed(raw, rn)) {
        rc = fs_unpack(fs, index, raw, rn, buf, n);
        free(raw);
        return rc;
    }
    /* Log form: unwrap sealed records (the stream of plaintext records). */
    uint8_t *out = ms_xmalloc(rn + 1), *tmp = NULL;
    size_t len = 0, tcap = 0;
    for (size_t off = 0; off < rn;) {
        fs_rec r, in;
        int64_t l = fs_parse_rec(raw + off, rn - off, &r);
        if (l <= 0) {
            rc = -EBADMSG;
            break;
        }
        if (r.type == FS_REC_SEALED) {
            if ((size_t)l > tcap) {
                free(tmp);
                tcap = (size_t)l;
                tmp = ms_xmalloc(tcap);
            }
            if ((rc = fs_open_rec(fs, &r, index, off, tmp, &in))) break;
            memcpy(out + len, tmp, in.len);
            len += in.len;
        } else {
            memcpy(out + len, raw + off, (size_t)l);
            len += (size_t)l;
        }
        off += (size_t)l;
    }
    free(tmp);
    free(raw);
    *buf = out;
    *n = len;
    return rc;
}

bool fs_block_has_plain(sd_filestore *fs, uint32_t index) {
    char path[4096];
    fs_blk_path(fs, index, path, sizeof path);
    uint8_t *raw;
    size_t rn;
    bool plain = false;
    if (read_path(path, &raw, &rn) == 0 && !fs_is_packed(raw, rn)) {
        for (size_t off = 0; off < rn && !plain;) {
            fs_rec r;
            int64_t l = fs_parse_rec(raw + off, rn - off, &r);
            if (l <= 0) break;
            plain = r.type != FS_REC_SEALED;
            off += (size_t)l;
        }
    }
    free(raw);
    return plain;
}

int fs_replace_file(sd_filestore *fs, uint32_t index, const uint8_t *data, size_t n) {
    char path[4096], tmp[4200];
    fs_blk_path(fs, index, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fs_cache_drop(fs, index); /* offsets change with the rewrite */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return -errno;
    int rc = 0;
    for (size_t off = 0; off < n && rc == 0;) {
        ssize_t w = pwrite(fd, data + off, n - off, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) rc = w < 0 ? -errno : -EIO;
        off += w > 0 ? (size_t)w : 0;
    }
    if (rc == 0) rc = fs_fsync(fd, true);
    close(fd);
    if (rc == 0 && sd_filestore_step_hook) sd_filestore_step_hook("pack:written");
    if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
    if (rc == 0) rc = fs_fsync(fs->mdir_fd, false);
    if (rc) unlink(tmp);
    return rc;
}

/* The packed file of logical content (records in plaintext). */
static int pack_logical(sd_filestore *fs, uint32_t index, const uint8_t *logical, size_t n,
                        uint64_t *file_size) {
    uint8_t flags = 0;
    const uint8_t *payload = logical;
    size_t plen = n;
    uint8_t *comp = NULL;
    if (fs->fcfg.compress) {
        size_t cl = snappy_max_compressed_length(n);
        comp = ms_xmalloc(cl);
        if (snappy_compress((const char *)logical, n, (char *)comp, &cl) != SNAPPY_OK) {
            free(comp);
            return -EIO;
        }
        flags |= FS_PACK_SNAPPY;
        payload = comp;
        plen = cl;
    }
    if (fs->cipher) flags |= FS_PACK_SEALED;
    size_t blen = plen + (fs->cipher ? FS_SEAL_OVERHEAD : 0);
    size_t total = FS_PACK_HDR + blen + 8;
    uint8_t *f = ms_xmalloc(total);
    memset(f, 0, FS_PACK_HDR);
    memcpy(f, FS_PACK_MAGIC, 8);
    f[8] = flags;
    put_le(f + 12, index, 4);
    put_le(f + 16, n, 8);
    put_le(f + 24, blen, 8);
    int rc = 0;
    if (fs->cipher)
        rc = fs_seal(fs, f, FS_PACK_HDR, payload, plen, f + FS_PACK_HDR);
    else
        memcpy(f + FS_PACK_HDR, payload, plen);
    free(comp);
    if (rc == 0) {
        put_le(f + total - 8, XXH64(f, total - 8, 0), 8);
        rc = fs_replace_file(fs, index, f, total);
    }
    free(f);
    if (rc == 0) *file_size = total;
    return rc;
}

typedef struct loc_move {
    uint64_t seq, loc;
} loc_move;

int fs_pack_block(sd_filestore *fs, uint32_t index) {
    fs_blk *b = fs_blk_of(fs, index);
    if (!b || b == &fs->blks[fs->nblks - 1] || b->damaged) return 0;
    if (b->packed) {
        /* Packed without encryption and encryption is on now: seal it (same logical
         * content, same offsets). */
        if (b->enc || !fs->cipher) return 0;
        uint8_t *lb;
        size_t ln;
        int rc = fs_read_block(fs, index, &lb, &ln);
        if (rc == 0) rc = fs_repack(fs, index, lb, ln);
        free(lb);
        return rc;
    }
    char path[4096];
    fs_blk_path(fs, index, path, sizeof path);
    uint8_t *raw;
    size_t rn;
    int rc = read_path(path, &raw, &rn);
    if (rc) {
        free(raw);
        return rc;
    }
    /* The plaintext records, and where each stored message's record moves to. */
    uint8_t *out = ms_xmalloc(rn + 1), *tmp = ms_xmalloc(rn + 1);
    size_t len = 0, nm = 0, mcap = 0;
    loc_move *mv = NULL;
    for (size_t off = 0; off < rn && rc == 0;) {
        fs_rec r, in;
        int64_t l = fs_parse_rec(raw + off, rn - off, &r);
        if (l <= 0) {
            rc = -EBADMSG;
            break;
        }
        if ((rc = fs_open_rec(fs, &r, index, off, tmp, &in))) break;
        const uint8_t *src = r.type == FS_REC_SEALED ? tmp : raw + off;
        if (in.type == FS_REC_MSG) {
            void *v;
            if (sd_seqmap_find(&fs->loc, in.seq, &v) &&
                (uint64_t)(uintptr_t)v == FS_LOC(index, off)) {
                if (nm == mcap) {
                    mcap = mcap ? mcap * 2 : 64;
                    mv = realloc(mv, mcap * sizeof *mv);
                    if (!mv) ms_panic("out of memory");
                }
                mv[nm++] = (loc_move){in.seq, FS_LOC(index, len)};
            }
        }
        memcpy(out + len, src, in.len);
        len += in.len;
        off += (size_t)l;
    }
    free(tmp);
    free(raw);
    uint64_t size = 0;
    if (rc == 0) rc = pack_logical(fs, index, out, len, &size);
    free(out);
    if (rc == 0 && (b = fs_blk_of(fs, index))) {
        b->packed = true;
        b->enc = fs->cipher != 0;
        b->size = size;
        for (size_t i = 0; i < nm; i++)
            fs_loc_set(fs, mv[i].seq, mv[i].loc, NULL);
    } else if (rc == -EBADMSG && (b = fs_blk_of(fs, index))) {
        b->damaged = b->keep = true;
    }
    free(mv);
    return rc;
}

/* Rewrites a packed block from new logical content (erase, compaction). */
int fs_repack(sd_filestore *fs, uint32_t index, const uint8_t *logical, size_t n) {
    uint64_t size = 0;
    int rc = pack_logical(fs, index, logical, n, &size);
    fs_blk *b = fs_blk_of(fs, index);
    if (rc == 0 && b) {
        b->packed = true;
        b->enc = fs->cipher != 0;
        b->size = size;
    }
    return rc;
}

void fs_queue_pack(sd_filestore *fs, uint32_t index) {
    if (fs->npackq == fs->packq_cap) {
        fs->packq_cap = fs->packq_cap ? fs->packq_cap * 2 : 8;
        fs->packq = realloc(fs->packq, fs->packq_cap * sizeof *fs->packq);
        if (!fs->packq) ms_panic("out of memory");
    }
    fs->packq[fs->npackq++] = index;
}

void fs_pack_queued(sd_filestore *fs) {
    /* A failed rewrite leaves the block as it is (still valid): nothing to report. */
    for (size_t i = 0; i < fs->npackq; i++)
        fs_pack_block(fs, fs->packq[i]);
    fs->npackq = 0;
}

void fs_remove_temps(sd_filestore *fs) {
    DIR *d = opendir(fs->mdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) {
            char p[4096];
            if (snprintf(p, sizeof p, "%s/%s", fs->mdir, e->d_name) < (int)sizeof p) unlink(p);
        }
    }
    closedir(d);
}

size_t sd_filestore_num_packed(sd_store *st) {
    sd_filestore *fs = fs_of(st);
    size_t n = 0;
    for (size_t i = 0; i < fs->nblks; i++)
        n += fs->blks[i].packed;
    return n;
}

/* --- Compaction --------------------------------------------------------------------------- */

bool fs_want_compact(const sd_filestore *fs, const fs_blk *b) {
    return !fs->replaying && b != &fs->blks[fs->nblks - 1] && !b->keep && !b->damaged &&
           b->index > fs->trunc_blk && b->total >= FS_COMPACT_MIN && b->live * 2 < b->total;
}

void fs_queue_compact(sd_filestore *fs, uint32_t index) {
    for (size_t i = 0; i < fs->ncompq; i++)
        if (fs->compq[i] == index) return;
    if (fs->ncompq == fs->compq_cap) {
        fs->compq_cap = fs->compq_cap ? fs->compq_cap * 2 : 8;
        fs->compq = realloc(fs->compq, fs->compq_cap * sizeof *fs->compq);
        if (!fs->compq) ms_panic("out of memory");
    }
    fs->compq[fs->ncompq++] = index;
}

void fs_compact_queued(sd_filestore *fs) {
    /* A failed rewrite leaves the block as it is (still valid). */
    for (size_t i = 0; i < fs->ncompq; i++) {
        fs_blk *b = fs_blk_of(fs, fs->compq[i]);
        if (b && b->live && fs_want_compact(fs, b)) fs_compact_block(fs, b->index);
    }
    fs->ncompq = 0;
}

int fs_compact_block(sd_filestore *fs, uint32_t index) {
    fs_blk *b = fs_blk_of(fs, index);
    if (!b || b == &fs->blks[fs->nblks - 1] || b->keep || b->damaged) return 0;
    uint8_t *buf;
    size_t n;
    int rc = fs_read_block(fs, index, &buf, &n);
    if (rc) {
        free(buf);
        return rc;
    }
    uint8_t *out = ms_xmalloc(n + 1);
    size_t len = 0, nm = 0, mcap = 0;
    loc_move *mv = NULL;
    uint64_t base = 0, kept = 0;
    bool first = true;
    for (size_t off = 0; off < n && rc == 0;) {
        fs_rec r;
        int64_t l = fs_parse_rec(buf + off, n - off, &r);
        if (l <= 0) {
            rc = -EBADMSG;
            break;
        }
        bool keep = false;
        switch (r.type) {
        case FS_REC_BLK:
            keep = first;
            base = r.seq;
            break;
        case FS_REC_MSG: {
            void *v;
            keep =
                sd_seqmap_find(&fs->loc, r.seq, &v) && FS_LOC_BLK((uint64_t)(uintptr_t)v) == index;
            if (keep) {
                if (nm == mcap) {
                    mcap = mcap ? mcap * 2 : 64;
                    mv = realloc(mv, mcap * sizeof *mv);
                    if (!mv) ms_panic("out of memory");
                }
                mv[nm++] = (loc_move){r.seq, FS_LOC(index, len)};
                kept++;
            }
            break;
        }
        case FS_REC_DEL:
            keep = r.seq <= base; /* for a message of an earlier block */
            break;
        case FS_REC_ERASED:
        case FS_REC_SKIP:
        case FS_REC_SKIP_NI:
        case FS_REC_SKIPS:
            break;
        default: /* purge/compact/truncate: such blocks are never compacted */
            rc = -EINVAL;
            break;
        }
        first = false;
        if (keep) {
            memcpy(out + len, buf + off, (size_t)l);
            len += (size_t)l;
        }
        off += (size_t)l;
    }
    free(buf);
    if (rc == 0 && kept != b->live) rc = -EINVAL; /* the index disagrees: leave it */
    if (rc == 0) {
        if (fs_want_pack(fs)) {
            rc = fs_repack(fs, index, out, len);
        } else {
            rc = fs_replace_file(fs, index, out, len);
            if (rc == 0 && (b = fs_blk_of(fs, index))) {
                b->size = len;
                b->packed = b->enc = false;
            }
        }
    }
    free(out);
    if (rc == 0 && (b = fs_blk_of(fs, index))) {
        b->total = b->live;
        for (size_t i = 0; i < nm; i++)
            fs_loc_set(fs, mv[i].seq, mv[i].loc, NULL);
    }
    free(mv);
    return rc;
}
