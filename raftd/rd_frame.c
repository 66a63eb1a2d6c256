/* raftd/rd_frame.c: length-prefixed frames between raftd nodes (see rd_frame.h).  Takes the
 * place of the NATS subjects Go's raft.go sends on ($NRG.*.<group>): the group travels in the
 * frame, the message is raft_wire.c's encoding of Go's appendEntry/vote layouts.
 *
 * Invariant: nothing is read before its length was checked against the buffer.
 */
#include "raftd/rd_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raftd/raft_wire.h"

int rd_buf_reserve(struct rd_buf *b, size_t n)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->off) { /* compact before growing */
            memmove(b->p, b->p + b->off, b->len - b->off);
            b->len -= b->off;
            b->off = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + n)
                cap *= 2;
            uint8_t *p = realloc(b->p, cap);
            if (!p)
                return -ENOMEM;
            b->p = p;
            b->cap = cap;
        }
    }
    return 0;
}

int rd_buf_put(struct rd_buf *b, const void *data, size_t n)
{
    int rc = rd_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

size_t rd_buf_pending(const struct rd_buf *b)
{
    return b->len - b->off;
}

void rd_buf_consume(struct rd_buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len) {
        b->off = b->len = 0;
        if (b->cap > (1u << 20)) { /* give a burst's memory back */
            free(b->p);
            b->p = NULL;
            b->cap = 0;
        }
    }
}

void rd_buf_free(struct rd_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

bool rd_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int rd_frame_next(const uint8_t *buf, size_t len, struct rd_frame *f, size_t *used)
{
    if (len < 4)
        return 0;
    uint32_t n = get32(buf);
    if (n < 1 || n > RD_FRAME_MAX)
        return -EBADMSG;
    if (len - 4 < n)
        return 0;
    f->kind = buf[4];
    if (f->kind != RD_FK_HELLO && f->kind != RD_FK_MSG)
        return -EBADMSG;
    f->body = buf + 5;
    f->body_len = n - 1;
    *used = 4 + (size_t)n;
    return 1;
}

/* A length-prefixed string of at most max-1 bytes into out (NUL-terminated). */
static int get_str(const uint8_t *b, uint32_t len, uint32_t *pos, char *out, size_t max)
{
    if (*pos >= len)
        return -EBADMSG;
    uint32_t n = b[(*pos)++];
    if (n >= max || len - *pos < n)
        return -EBADMSG;
    memcpy(out, b + *pos, n);
    out[n] = 0;
    if (memchr(out, 0, n))
        return -EBADMSG;
    *pos += n;
    return 0;
}

int rd_hello_decode(const uint8_t *b, uint32_t len, struct rd_hello *h)
{
    memset(h, 0, sizeof(*h));
    if (len < 5 || memcmp(b, "RFHI", 4) != 0 || b[4] != RD_HELLO_VERSION)
        return -EBADMSG;
    uint32_t pos = 5;
    if (get_str(b, len, &pos, h->name, sizeof(h->name)) < 0 ||
        get_str(b, len, &pos, h->cluster, sizeof(h->cluster)) < 0 ||
        get_str(b, len, &pos, h->host, sizeof(h->host)) < 0)
        return -EBADMSG;
    if (len - pos != 2)
        return -EBADMSG;
    h->port = (uint16_t)(b[pos] | b[pos + 1] << 8);
    if (!rd_valid_name(h->name) || (h->cluster[0] && !rd_valid_name(h->cluster)))
        return -EBADMSG;
    for (const char *c = h->host; *c; c++)
        if (*c <= ' ' || *c > '~' || *c == '/')
            return -EBADMSG;
    return 0;
}

int rd_msg_decode(const uint8_t *b, uint32_t len, char group[64], struct rf_msg *m)
{
    memset(m, 0, sizeof(*m));
    uint32_t pos = 0;
    if (get_str(b, len, &pos, group, 64) < 0 || !rd_valid_name(group))
        return -EBADMSG;
    return rf_msg_decode(b + pos, len - pos, m) < 0 ? -EBADMSG : 0;
}

static int put_hdr(struct rd_buf *out, uint32_t n, uint8_t kind)
{
    uint8_t h[5] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24), kind};
    return rd_buf_put(out, h, sizeof(h));
}

static int put_str(struct rd_buf *out, const char *s)
{
    size_t n = strlen(s);
    if (n > 255)
        return -EINVAL;
    uint8_t l = (uint8_t)n;
    int rc = rd_buf_put(out, &l, 1);
    return rc < 0 ? rc : rd_buf_put(out, s, n);
}

int rd_hello_encode(const struct rd_hello *h, struct rd_buf *out)
{
    uint32_t n = 1 + 5 + 3 + (uint32_t)(strlen(h->name) + strlen(h->cluster) + strlen(h->host)) + 2;
    uint8_t port[2] = {(uint8_t)h->port, (uint8_t)(h->port >> 8)};
    int rc = rd_buf_reserve(out, 4 + (size_t)n);
    if (rc < 0)
        return rc;
    if ((rc = put_hdr(out, n, RD_FK_HELLO)) < 0 || (rc = rd_buf_put(out, "RFHI\1", 5)) < 0 ||
        (rc = put_str(out, h->name)) < 0 || (rc = put_str(out, h->cluster)) < 0 ||
        (rc = put_str(out, h->host)) < 0 || (rc = rd_buf_put(out, port, 2)) < 0)
        return rc; /* only a name over 255 bytes: callers pass checked names */
    return 0;
}

int rd_msg_frame(const char *group, const uint8_t *msg, uint32_t msg_len, struct rd_buf *out)
{
    size_t gl = strlen(group);
    if (gl > 63 || (uint64_t)msg_len + gl + 2 > RD_FRAME_MAX)
        return -EMSGSIZE;
    /* Reserve the whole frame first so a failure never leaves half a frame queued. */
    int rc = rd_buf_reserve(out, 4 + 1 + 1 + gl + msg_len);
    if (rc < 0)
        return rc;
    if ((rc = put_hdr(out, (uint32_t)(1 + 1 + gl + msg_len), RD_FK_MSG)) < 0 ||
        (rc = put_str(out, group)) < 0 || (rc = rd_buf_put(out, msg, msg_len)) < 0)
        return rc; /* cannot happen: the space is reserved */
    return 0;
}
