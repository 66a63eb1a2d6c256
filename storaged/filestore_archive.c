/* Snapshot archives: a tar (ustar) stream wrapped in the snappy framing format.
 *
 * Go nats-server v2.14.5 server/filestore.go streamSnapshot writes a tar archive through an
 * s2 writer; s2 reads the snappy framing format, which is what is written here (with
 * libsnappy): a stream identifier chunk, then chunks of at most 64 KiB of input, each
 * compressed (or stored when compression does not pay) and carrying the masked CRC-32C of its
 * uncompressed bytes.  Both halves stream: the writer appends to a file descriptor, the reader
 * is fed arbitrary pieces (the chunks of a $JS.API.STREAM.RESTORE upload) and hands whole tar
 * members, piece by piece, to callbacks.
 */
#include <errno.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storaged/filestore_int.h"

/* --- CRC-32C (Castagnoli), as the snappy framing format uses it ------------------------ */

static uint32_t crc_table[256];
static bool crc_ready;

static uint32_t crc32c(const uint8_t *p, size_t n) {
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = true;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t masked_crc(const uint8_t *p, size_t n) {
    uint32_t c = crc32c(p, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define SZ_BLOCK 65536
static const uint8_t sz_magic[10] = {0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'};

/* --- Writer --------------------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void fs_arw_init(fs_arw *w, int fd) {
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->in = ms_xmalloc(SZ_BLOCK);
    w->outcap = snappy_max_compressed_length(SZ_BLOCK) + 8;
    w->out = ms_xmalloc(w->outcap);
    w->err = write_all(fd, sz_magic, sizeof sz_magic);
    w->total = sizeof sz_magic;
}

static void sz_emit(fs_arw *w) {
    if (w->inlen == 0 || w->err) return;
    size_t clen = w->outcap - 8;
    uint8_t type = 0x00;
    uint8_t *data = w->out + 8;
    if (snappy_compress((const char *)w->in, w->inlen, (char *)data, &clen) != SNAPPY_OK ||
        clen >= w->inlen - w->inlen / 8) {
        type = 0x01; /* stored: compression does not pay */
        memcpy(data, w->in, w->inlen);
        clen = w->inlen;
    }
    uint32_t len = (uint32_t)clen + 4;
    /* header: type, 3-byte length (CRC included), the masked CRC of the uncompressed data */
    w->out[0] = type;
    w->out[1] = (uint8_t)len;
    w->out[2] = (uint8_t)(len >> 8);
    w->out[3] = (uint8_t)(len >> 16);
    le32(w->out + 4, masked_crc(w->in, w->inlen));
    w->err = write_all(w->fd, w->out, 8 + clen);
    w->total += 8 + clen;
    w->inlen = 0;
}

static void arw_put(fs_arw *w, const uint8_t *p, size_t n) {
    while (n > 0 && !w->err) {
        size_t k = SZ_BLOCK - w->inlen;
        if (k > n) k = n;
        memcpy(w->in + w->inlen, p, k);
        w->inlen += k;
        p += k;
        n -= k;
        if (w->inlen == SZ_BLOCK) sz_emit(w);
    }
}

static void octal(char *f, size_t width, uint64_t v) {
    /* width-1 octal digits, then NUL */
    f[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        f[i] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static uint32_t tar_sum(const uint8_t *h) {
    uint32_t s = 0;
    for (int i = 0; i < 512; i++)
        s += (i >= 148 && i < 156) ? ' ' : h[i];
    return s;
}

int fs_arw_file(fs_arw *w, const char *name, const uint8_t *data, size_t len, int64_t mtime) {
    if (w->err) return w->err;
    size_t nl = strlen(name);
    if (nl == 0 || (uint64_t)len >= (1ULL << 33)) return -EINVAL;
    uint8_t h[512];
    memset(h, 0, sizeof h);
    if (nl <= 100) {
        memcpy(h, name, nl);
    } else {
        /* ustar: prefix (<= 155) '/' name (<= 100) */
        size_t cut = 0;
        for (size_t i = 1; i < nl && i <= 155; i++)
            if (name[i] == '/' && nl - i - 1 <= 100 && nl - i - 1 > 0) {
                cut = i;
                break;
            }
        if (!cut) return -ENAMETOOLONG;
        memcpy(h, name + cut + 1, nl - cut - 1);
        memcpy(h + 345, name, cut);
    }
    octal((char *)h + 100, 8, 0600);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, len);
    octal((char *)h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "nats", 4);
    memcpy(h + 297, "nats", 4);
    octal((char *)h + 148, 7, tar_sum(h));
    h[155] = ' ';
    arw_put(w, h, sizeof h);
    arw_put(w, data, len);
    static const uint8_t zero[512];
    if (len % 512) arw_put(w, zero, 512 - len % 512);
    return w->err;
}

int fs_arw_finish(fs_arw *w) {
    static const uint8_t zero[1024];
    arw_put(w, zero, sizeof zero); /* end of archive: two zero blocks */
    sz_emit(w);
    int rc = w->err;
    free(w->in);
    free(w->out);
    w->in = w->out = NULL;
    return rc;
}

void fs_arw_discard(fs_arw *w) {
    free(w->in);
    free(w->out);
    w->in = w->out = NULL;
}

/* --- Reader --------------------------------------------------------------------------- */

void fs_arr_init(fs_arr *r, const fs_arr_cbs *cbs, void *arg) {
    memset(r, 0, sizeof *r);
    r->cbs = *cbs;
    r->arg = arg;
    r->pend = ms_xmalloc(snappy_max_compressed_length(SZ_BLOCK) + 8);
    r->plain = ms_xmalloc(SZ_BLOCK);
}

void fs_arr_free(fs_arr *r) {
    free(r->pend);
    free(r->plain);
    r->pend = r->plain = NULL;
}

static int arr_fail(fs_arr *r, const char *why) {
    if (!r->err) {
        r->err = SD_ERR_CORRUPT_STREAM_STATE;
        snprintf(r->why, sizeof r->why, "%s", why);
    }
    return r->err;
}

static uint64_t parse_octal(const uint8_t *f, size_t width, bool *ok) {
    uint64_t v = 0;
    size_t i = 0;
    while (i < width && f[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++, digits++)
        v = (v << 3) | (uint64_t)(f[i] - '0');
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != '\0') *ok = false;
    if (digits == 0 || digits > 11) *ok = false;
    return v;
}

static int tar_header(fs_arr *r) {
    const uint8_t *h = r->hdr;
    bool zero = true;
    for (int i = 0; i < 512 && zero; i++)
        zero = h[i] == 0;
    if (zero) {
        if (++r->zeros >= 2) r->tstate = FS_TAR_END;
        return 0;
    }
    if (r->zeros) return arr_fail(r, "tar: stray zero block");
    bool ok = true;
    uint64_t sum = parse_octal(h + 148, 8, &ok);
    if (!ok || sum != tar_sum(h)) return arr_fail(r, "tar: bad header checksum");
    uint64_t size = parse_octal(h + 124, 12, &ok);
    if (!ok) return arr_fail(r, "tar: bad size");
    char name[260];
    size_t pl = strnlen((const char *)h + 345, 155), nl = strnlen((const char *)h, 100);
    if (memcmp(h + 257, "ustar", 5) == 0 && pl) {
        memcpy(name, h + 345, pl);
        name[pl] = '/';
        memcpy(name + pl + 1, h, nl);
        name[pl + 1 + nl] = '\0';
    } else {
        memcpy(name, h, nl);
        name[nl] = '\0';
    }
    r->remain = size;
    r->pad = size % 512 ? 512 - size % 512 : 0;
    r->tstate = FS_TAR_DATA;
    r->skip = false;
    switch (h[156]) {
    case '0':
    case '\0':
        break;
    case '5': /* directory */
    case 'x': /* PAX extended header: ignored */
    case 'g':
        r->skip = true;
        break;
    default:
        return arr_fail(r, "tar: unsupported member type");
    }
    if (!r->skip) {
        int rc = r->cbs.begin(r->arg, name, size);
        if (rc) {
            r->err = rc;
            snprintf(r->why, sizeof r->why, "member %.120s refused", name);
            return rc;
        }
        r->in_file = true;
    }
    if (size == 0) return fs_arr_end_member(r);
    return 0;
}

int fs_arr_end_member(fs_arr *r) {
    r->tstate = r->pad ? FS_TAR_PAD : FS_TAR_HDR;
    r->hlen = 0;
    if (r->in_file) {
        r->in_file = false;
        int rc = r->cbs.end(r->arg);
        if (rc && !r->err) {
            r->err = rc;
            snprintf(r->why, sizeof r->why, "member write failed");
        }
        return rc;
    }
    return 0;
}

/* Plain tar bytes. */
static int tar_feed(fs_arr *r, const uint8_t *p, size_t n) {
    while (n > 0 && !r->err) {
        switch (r->tstate) {
        case FS_TAR_HDR: {
            size_t k = 512 - r->hlen;
            if (k > n) k = n;
            memcpy(r->hdr + r->hlen, p, k);
            r->hlen += k;
            p += k;
            n -= k;
            if (r->hlen == 512) {
                r->hlen = 0;
                tar_header(r);
            }
            break;
        }
        case FS_TAR_DATA: {
            size_t k = r->remain < n ? (size_t)r->remain : n;
            if (!r->skip) {
                int rc = r->cbs.data(r->arg, p, k);
                if (rc) {
                    r->err = rc;
                    snprintf(r->why, sizeof r->why, "member write failed");
                    return rc;
                }
            }
            r->remain -= k;
            p += k;
            n -= k;
            if (r->remain == 0) fs_arr_end_member(r);
            break;
        }
        case FS_TAR_PAD: {
            size_t k = r->pad < n ? r->pad : n;
            r->pad -= k;
            p += k;
            n -= k;
            if (r->pad == 0) r->tstate = FS_TAR_HDR;
            break;
        }
        case FS_TAR_END:
            return 0; /* trailing bytes after the end marker are ignored (tar pads records) */
        }
    }
    return r->err;
}

static int sz_chunk(fs_arr *r, uint8_t type, const uint8_t *d, size_t len) {
    if (!r->started) {
        if (type != 0xff || len != 6 || memcmp(d, sz_magic + 4, 6) != 0)
            return arr_fail(r, "not a snappy framed stream");
        r->started = true;
        return 0;
    }
    if (type == 0xff) {
        if (len != 6 || memcmp(d, sz_magic + 4, 6) != 0)
            return arr_fail(r, "bad stream identifier");
        return 0;
    }
    if (type >= 0x80) return 0; /* skippable / padding (never buffered: see fs_arr_feed) */
    if (type > 0x01) return arr_fail(r, "reserved unskippable chunk");
    if (len < 4) return arr_fail(r, "short chunk");
    uint32_t crc = rd32(d);
    size_t ulen;
    if (type == 0x00) {
        if (snappy_uncompressed_length((const char *)d + 4, len - 4, &ulen) != SNAPPY_OK ||
            ulen > SZ_BLOCK)
            return arr_fail(r, "bad compressed chunk");
        if (snappy_uncompress((const char *)d + 4, len - 4, (char *)r->plain, &ulen) != SNAPPY_OK)
            return arr_fail(r, "bad compressed chunk");
    } else {
        ulen = len - 4;
        if (ulen > SZ_BLOCK) return arr_fail(r, "chunk too large");
        memcpy(r->plain, d + 4, ulen);
    }
    if (masked_crc(r->plain, ulen) != crc) return arr_fail(r, "chunk checksum mismatch");
    return tar_feed(r, r->plain, ulen);
}

int fs_arr_feed(fs_arr *r, const uint8_t *p, size_t n) {
    size_t maxc = snappy_max_compressed_length(SZ_BLOCK) + 4;
    while (n > 0 && !r->err) {
        if (r->skip_chunk) {
            size_t k = r->skip_chunk < n ? (size_t)r->skip_chunk : n;
            r->skip_chunk -= k;
            p += k;
            n -= k;
            continue;
        }
        /* the 4-byte chunk header */
        if (r->plen < 4) {
            size_t k = 4 - r->plen;
            if (k > n) k = n;
            memcpy(r->pend + r->plen, p, k);
            r->plen += k;
            p += k;
            n -= k;
            if (r->plen < 4) break;
            uint32_t clen = r->pend[1] | (uint32_t)r->pend[2] << 8 | (uint32_t)r->pend[3] << 16;
            r->clen = clen;
            if (r->pend[0] >= 0x80 && r->pend[0] != 0xff) {
                if (!r->started) return arr_fail(r, "not a snappy framed stream");
                r->skip_chunk = clen;
                r->plen = 0;
                continue;
            }
            if (clen > maxc) return arr_fail(r, "chunk too large");
        }
        size_t k = r->clen - (r->plen - 4);
        if (k > n) k = n;
        memcpy(r->pend + r->plen, p, k);
        r->plen += k;
        p += k;
        n -= k;
        if (r->plen - 4 == r->clen) {
            r->plen = 0;
            sz_chunk(r, r->pend[0], r->pend + 4, r->clen);
        }
    }
    return r->err;
}

int fs_arr_done(fs_arr *r) {
    if (r->err) return r->err;
    if (!r->started) return arr_fail(r, "empty archive");
    if (r->plen || r->skip_chunk) return arr_fail(r, "archive ends inside a chunk");
    if (r->tstate != FS_TAR_END) return arr_fail(r, "archive is truncated");
    return 0;
}
