/* raftd/raft_wire.c: encoders/decoders for the RAFT core.  See raft_wire.h for the layouts.
 * Ports Go server/raft.go appendEntry.encode/decodeAppendEntry, appendEntryResponse,
 * voteRequest/voteResponse encodings, encodePeerState/decodePeerState and encodeSnapshot/
 * loadLastSnapshot.  Invariant: decoders bounds-check every read and never allocate from an
 * unchecked length; everything they return is owned by the caller.
 */
#include "raftd/raft_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t rf_checksum(const void *buf, size_t len)
{
    return (uint64_t)XXH64(buf, len, 0);
}

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
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
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
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t put_uvarint(uint8_t *p, uint64_t v)
{
    uint32_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}
/* Returns bytes consumed, 0 if truncated or overflowing (like Go's binary.Uvarint n<=0). */
static uint32_t get_uvarint(const uint8_t *p, uint32_t len, uint64_t *v)
{
    uint64_t x = 0;
    unsigned s = 0;
    for (uint32_t i = 0; i < len && i < 10; i++) {
        uint8_t b = p[i];
        if (b < 0x80) {
            if (i == 9 && b > 1)
                return 0;
            *v = x | ((uint64_t)b << s);
            return i + 1;
        }
        x |= (uint64_t)(b & 0x7f) << s;
        s += 7;
    }
    return 0;
}

struct rf_entry *rf_entries_dup(const struct rf_entry *e, uint32_t n)
{
    if (n == 0)
        return NULL;
    struct rf_entry *d = calloc(n, sizeof(*d));
    if (!d)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        d[i].type = e[i].type;
        d[i].len = e[i].len;
        if (e[i].len) {
            d[i].data = malloc(e[i].len);
            if (!d[i].data)
                abort();
            memcpy(d[i].data, e[i].data, e[i].len);
        }
    }
    return d;
}

void rf_entries_free(struct rf_entry *e, uint32_t n)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(e[i].data);
    free(e);
}

uint32_t rf_ae_size(const struct rf_msg *ae)
{
    uint32_t sz = RF_AE_BASE_LEN + 20;
    for (uint32_t i = 0; i < ae->n_entries; i++)
        sz += 5 + ae->entries[i].len;
    return sz;
}

int rf_ae_encode(const struct rf_msg *ae, uint8_t **out, uint32_t *len)
{
    if (ae->n_entries > RF_MAX_AE_ENTRIES)
        return -E2BIG; /* Go's errTooManyEntries */
    uint64_t total = RF_AE_BASE_LEN + 20;
    for (uint32_t i = 0; i < ae->n_entries; i++) {
        if (ae->entries[i].len > INT32_MAX - 1)
            return -EMSGSIZE; /* Go's errBadAppendEntry for > MaxInt32 */
        total += 5ull + ae->entries[i].len;
    }
    if (total > UINT32_MAX)
        return -EMSGSIZE;
    uint8_t *b = malloc(total);
    if (!b)
        return -ENOMEM;
    memcpy(b, ae->leader.b, RF_ID_LEN);
    put64(b + 8, ae->term);
    put64(b + 16, ae->commit);
    put64(b + 24, ae->pterm);
    put64(b + 32, ae->pindex);
    put16(b + 40, (uint16_t)ae->n_entries);
    uint32_t w = RF_AE_BASE_LEN;
    for (uint32_t i = 0; i < ae->n_entries; i++) {
        put32(b + w, 1 + ae->entries[i].len);
        b[w + 4] = ae->entries[i].type;
        if (ae->entries[i].len)
            memcpy(b + w + 5, ae->entries[i].data, ae->entries[i].len);
        w += 5 + ae->entries[i].len;
    }
    w += put_uvarint(b + w, ae->lterm);
    if (ae->cid)
        w += put_uvarint(b + w, ae->cid);
    *out = b;
    *len = w;
    return 0;
}

int rf_ae_decode(const uint8_t *buf, uint32_t len, struct rf_msg *ae)
{
    if (len < RF_AE_BASE_LEN)
        return -EBADMSG;
    memset(ae, 0, sizeof(*ae));
    ae->type = RF_MSG_AE;
    memcpy(ae->leader.b, buf, RF_ID_LEN);
    ae->term = get64(buf + 8);
    ae->commit = get64(buf + 16);
    ae->pterm = get64(buf + 24);
    ae->pindex = get64(buf + 32);
    uint32_t ne = get16(buf + 40);
    uint64_t ri = RF_AE_BASE_LEN;
    if (ne) {
        ae->entries = calloc(ne, sizeof(struct rf_entry));
        if (!ae->entries)
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < ne; i++) {
        if (len - ri < 4)
            goto bad;
        uint64_t ml = get32(buf + ri);
        ri += 4;
        if (ml == 0 || ri + ml > len)
            goto bad;
        struct rf_entry *e = &ae->entries[i];
        e->type = buf[ri];
        e->len = (uint32_t)(ml - 1);
        if (e->len) {
            e->data = malloc(e->len);
            if (!e->data)
                abort();
            memcpy(e->data, buf + ri + 1, e->len);
        }
        ae->n_entries = i + 1;
        ri += ml;
    }
    /* Trailing optional fields, like Go's lterm: old encoders simply end here. */
    if (ri < len) {
        uint32_t c = get_uvarint(buf + ri, (uint32_t)(len - ri), &ae->lterm);
        if (c) {
            ri += c;
            if (ri < len && get_uvarint(buf + ri, (uint32_t)(len - ri), &ae->cid) == 0)
                ae->cid = 0;
        }
    }
    return 0;
bad:
    rf_entries_free(ae->entries, ne);
    ae->entries = NULL;
    ae->n_entries = 0;
    return -EBADMSG;
}

void rf_vresp_encode_go(uint64_t term, rf_id peer, bool granted, bool empty, uint8_t out[17])
{
    put64(out, term);
    memcpy(out + 8, peer.b, RF_ID_LEN);
    out[16] = (uint8_t)((granted ? 1 : 0) | (empty ? 2 : 0));
}

int rf_vresp_decode_go(const uint8_t *b, uint32_t len, uint64_t *term, rf_id *peer,
                       bool *granted, bool *empty)
{
    if (len != RF_VRESP_LEN)
        return -EBADMSG;
    *term = get64(b);
    memcpy(peer->b, b + 8, RF_ID_LEN);
    *granted = (b[16] & 1) != 0;
    *empty = (b[16] & 2) != 0;
    return 0;
}

int rf_msg_encode(const struct rf_msg *m, uint8_t **out, uint32_t *len)
{
    uint8_t *body = NULL;
    uint32_t blen = 0;
    uint8_t tmp[64];
    switch (m->type) {
    case RF_MSG_AE: {
        int rc = rf_ae_encode(m, &body, &blen);
        if (rc < 0)
            return rc;
        break;
    }
    case RF_MSG_AER:
        put64(tmp, m->term);
        put64(tmp + 8, m->index);
        memcpy(tmp + 16, m->from.b, RF_ID_LEN);
        tmp[24] = (m->flags & RF_MF_SUCCESS) ? 1 : 0;
        put64(tmp + 25, m->cid);
        blen = 33;
        break;
    case RF_MSG_VOTE_REQ:
        put64(tmp, m->term);
        put64(tmp + 8, m->pterm);
        put64(tmp + 16, m->pindex);
        memcpy(tmp + 24, m->leader.b, RF_ID_LEN);
        blen = RF_VREQ_LEN;
        break;
    case RF_MSG_VOTE_RESP:
        rf_vresp_encode_go(m->term, m->leader, (m->flags & RF_MF_GRANTED) != 0,
                           (m->flags & RF_MF_EMPTY) != 0, tmp);
        if (m->flags & RF_MF_PREVOTE)
            tmp[16] |= 4;
        blen = RF_VRESP_LEN;
        break;
    case RF_MSG_PROPOSAL:
    case RF_MSG_REMOVE_PEER:
        blen = m->data_len;
        break;
    case RF_MSG_CATCHUP_ACK:
        put64(tmp, m->term);
        put64(tmp + 8, m->cid);
        put64(tmp + 16, m->index);
        put64(tmp + 24, m->total);
        blen = 32;
        break;
    case RF_MSG_SNAP_CHUNK:
        put64(tmp, m->term);
        put64(tmp + 8, m->cid);
        put64(tmp + 16, m->pterm);
        put64(tmp + 24, m->pindex);
        put64(tmp + 32, m->index);
        put64(tmp + 40, m->total);
        put32(tmp + 48, m->ps_len);
        blen = 52 + m->data_len;
        break;
    default:
        return -EINVAL;
    }
    uint8_t *b = malloc((size_t)RF_FRAME_HDR + blen);
    if (!b) {
        free(body);
        return -ENOMEM;
    }
    b[0] = RF_WIRE_VERSION;
    b[1] = m->type;
    b[2] = m->flags;
    b[3] = 0;
    memcpy(b + 4, m->from.b, RF_ID_LEN);
    memcpy(b + 12, m->to.b, RF_ID_LEN);
    uint8_t *p = b + RF_FRAME_HDR;
    if (body) {
        memcpy(p, body, blen);
        free(body);
    } else if (m->type == RF_MSG_PROPOSAL || m->type == RF_MSG_REMOVE_PEER) {
        if (blen)
            memcpy(p, m->data, blen);
    } else if (m->type == RF_MSG_SNAP_CHUNK) {
        memcpy(p, tmp, 52);
        if (m->data_len)
            memcpy(p + 52, m->data, m->data_len);
    } else {
        memcpy(p, tmp, blen);
    }
    *out = b;
    *len = RF_FRAME_HDR + blen;
    return 0;
}

static uint8_t *dup_bytes(const uint8_t *p, uint32_t n)
{
    if (n == 0)
        return NULL;
    uint8_t *d = malloc(n);
    if (!d)
        abort();
    memcpy(d, p, n);
    return d;
}

int rf_msg_decode(const uint8_t *buf, uint32_t len, struct rf_msg *m)
{
    memset(m, 0, sizeof(*m));
    if (len < RF_FRAME_HDR || buf[0] != RF_WIRE_VERSION)
        return -EBADMSG;
    uint8_t type = buf[1], flags = buf[2];
    const uint8_t *p = buf + RF_FRAME_HDR;
    uint32_t bl = len - RF_FRAME_HDR;
    switch (type) {
    case RF_MSG_AE: {
        int rc = rf_ae_decode(p, bl, m);
        if (rc < 0)
            return rc;
        break;
    }
    case RF_MSG_AER:
        if (bl != 33 && bl != RF_AER_GO_LEN)
            return -EBADMSG;
        m->term = get64(p);
        m->index = get64(p + 8);
        if (p[24])
            flags |= RF_MF_SUCCESS;
        else
            flags &= (uint8_t)~RF_MF_SUCCESS;
        if (bl == 33)
            m->cid = get64(p + 25);
        break;
    case RF_MSG_VOTE_REQ:
        if (bl != RF_VREQ_LEN)
            return -EBADMSG;
        m->term = get64(p);
        m->pterm = get64(p + 8);
        m->pindex = get64(p + 16);
        memcpy(m->leader.b, p + 24, RF_ID_LEN);
        break;
    case RF_MSG_VOTE_RESP: {
        bool g, e;
        if (rf_vresp_decode_go(p, bl, &m->term, &m->leader, &g, &e) < 0)
            return -EBADMSG;
        flags = (uint8_t)((g ? RF_MF_GRANTED : 0) | (e ? RF_MF_EMPTY : 0) |
                          ((p[16] & 4) ? RF_MF_PREVOTE : 0));
        break;
    }
    case RF_MSG_PROPOSAL:
    case RF_MSG_REMOVE_PEER:
        m->data_len = bl;
        m->data = dup_bytes(p, bl);
        break;
    case RF_MSG_CATCHUP_ACK:
        if (bl != 32)
            return -EBADMSG;
        m->term = get64(p);
        m->cid = get64(p + 8);
        m->index = get64(p + 16);
        m->total = get64(p + 24);
        break;
    case RF_MSG_SNAP_CHUNK:
        if (bl < 52)
            return -EBADMSG;
        m->term = get64(p);
        m->cid = get64(p + 8);
        m->pterm = get64(p + 16);
        m->pindex = get64(p + 24);
        m->index = get64(p + 32);
        m->total = get64(p + 40);
        m->ps_len = get32(p + 48);
        m->data_len = bl - 52;
        /* data is bytes [index, index+data_len) of the stream peerstate || snapshot. */
        if (m->ps_len > m->total || m->index > m->total || m->total - m->index < m->data_len)
            return -EBADMSG;
        m->data = dup_bytes(p + 52, m->data_len);
        break;
    default:
        return -EBADMSG;
    }
    m->type = type;
    m->flags = flags;
    memcpy(m->from.b, buf + 4, RF_ID_LEN);
    memcpy(m->to.b, buf + 12, RF_ID_LEN);
    return 0;
}

void rf_msg_free(struct rf_msg *m)
{
    if (!m)
        return;
    rf_entries_free(m->entries, m->n_entries);
    free(m->data);
    m->entries = NULL;
    m->data = NULL;
    m->n_entries = 0;
    m->data_len = 0;
}

int rf_msg_copy(struct rf_msg *dst, const struct rf_msg *src)
{
    *dst = *src;
    dst->entries = rf_entries_dup(src->entries, src->n_entries);
    dst->data = dup_bytes(src->data, src->data_len);
    return 0;
}

int rf_peerstate_encode(const struct rf_peerstate *ps, uint8_t **out, uint32_t *len)
{
    uint32_t sz = 4 + 4 + RF_ID_LEN * ps->n_peers + 2;
    uint8_t *b = malloc(sz);
    if (!b)
        return -ENOMEM;
    put32(b, ps->cluster_size);
    put32(b + 4, ps->n_peers);
    for (uint32_t i = 0; i < ps->n_peers; i++)
        memcpy(b + 8 + RF_ID_LEN * i, ps->peers[i].b, RF_ID_LEN);
    put16(b + 8 + RF_ID_LEN * ps->n_peers, ps->ext);
    *out = b;
    *len = sz;
    return 0;
}

int rf_peerstate_decode(const uint8_t *buf, uint32_t len, struct rf_peerstate *ps)
{
    memset(ps, 0, sizeof(*ps));
    if (len < 8)
        return -EBADMSG; /* Go's errCorruptPeers */
    ps->cluster_size = get32(buf);
    uint32_t expected = get32(buf + 4);
    uint32_t avail = (len - 8) / RF_ID_LEN;
    if (expected > avail)
        return -EBADMSG;
    if (expected) {
        ps->peers = calloc(expected, sizeof(rf_id));
        if (!ps->peers)
            return -ENOMEM;
        for (uint32_t i = 0; i < expected; i++)
            memcpy(ps->peers[i].b, buf + 8 + RF_ID_LEN * i, RF_ID_LEN);
    }
    ps->n_peers = expected;
    uint32_t ri = 8 + RF_ID_LEN * expected;
    if (len - ri >= 2)
        ps->ext = get16(buf + ri);
    return 0;
}

void rf_peerstate_free(struct rf_peerstate *ps)
{
    free(ps->peers);
    ps->peers = NULL;
    ps->n_peers = 0;
}

struct rf_snapshot *rf_snapshot_new(uint64_t term, uint64_t index, const void *ps,
                                    uint32_t ps_len, const void *data, uint64_t data_len)
{
    struct rf_snapshot *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->term = term;
    s->index = index;
    s->ps_len = ps_len;
    s->peerstate = ps_len ? malloc(ps_len) : NULL;
    if (ps_len)
        memcpy(s->peerstate, ps, ps_len);
    s->data_len = data_len;
    s->data = data_len ? malloc(data_len) : NULL;
    if (data_len && !s->data)
        abort();
    if (data_len)
        memcpy(s->data, data, data_len);
    s->refs = 1;
    return s;
}

void rf_snapshot_unref(struct rf_snapshot *s)
{
    if (!s)
        return;
    if (--s->refs > 0)
        return;
    free(s->peerstate);
    free(s->data);
    free(s);
}

int rf_snapshot_encode(const struct rf_snapshot *s, uint8_t **out, uint32_t *len)
{
    uint64_t sz = 20ull + s->ps_len + s->data_len + 8;
    if (sz > UINT32_MAX)
        return -EFBIG;
    uint8_t *b = malloc(sz);
    if (!b)
        return -ENOMEM;
    put64(b, s->term);
    put64(b + 8, s->index);
    put32(b + 16, s->ps_len);
    if (s->ps_len)
        memcpy(b + 20, s->peerstate, s->ps_len);
    if (s->data_len)
        memcpy(b + 20 + s->ps_len, s->data, s->data_len);
    uint64_t h = rf_checksum(b, sz - 8);
    put64(b + sz - 8, h);
    *out = b;
    *len = (uint32_t)sz;
    return 0;
}

int rf_snapshot_decode(const uint8_t *buf, uint64_t len, struct rf_snapshot **out)
{
    *out = NULL;
    if (len < RF_MIN_SNAPSHOT_LEN)
        return -EBADMSG; /* Go: "Snapshot corrupt, too short" */
    uint64_t hoff = len - 8;
    if (rf_checksum(buf, hoff) != get64(buf + hoff))
        return -EBADMSG; /* Go: "checksums did not match" */
    uint32_t ps_len = get32(buf + 16);
    if (20ull + ps_len > hoff)
        return -EBADMSG;
    *out = rf_snapshot_new(get64(buf), get64(buf + 8), buf + 20, ps_len, buf + 20 + ps_len,
                           hoff - 20 - ps_len);
    return 0;
}

int rf_meta_encode(const struct rf_meta *m, uint8_t **out, uint32_t *len)
{
    uint8_t *ps = NULL;
    uint32_t pl = 0;
    int rc = rf_peerstate_encode(&m->ps, &ps, &pl);
    if (rc < 0)
        return rc;
    uint32_t sz = 4 + 4 + 8 + 8 + RF_ID_LEN + 4 + 8 + 8 + 4 + pl + 8;
    uint8_t *b = malloc(sz);
    if (!b) {
        free(ps);
        return -ENOMEM;
    }
    memcpy(b, "RFMT", 4);
    put32(b + 4, 1);
    put64(b + 8, m->seq);
    put64(b + 16, m->term);
    memcpy(b + 24, m->vote.b, RF_ID_LEN);
    put32(b + 32, m->repair ? 1 : 0);
    put64(b + 36, m->repair_term);
    put64(b + 44, m->commit);
    put32(b + 52, pl);
    memcpy(b + 56, ps, pl);
    free(ps);
    put64(b + 56 + pl, rf_checksum(b, 56 + pl));
    *out = b;
    *len = sz;
    return 0;
}

int rf_meta_decode(const uint8_t *b, uint32_t len, struct rf_meta *m)
{
    memset(m, 0, sizeof(*m));
    if (len < 64 || memcmp(b, "RFMT", 4) != 0 || get32(b + 4) != 1)
        return -EBADMSG;
    uint32_t pl = get32(b + 52);
    if (pl > len - 64 || 64u + pl != len)
        return -EBADMSG;
    if (rf_checksum(b, 56 + pl) != get64(b + 56 + pl))
        return -EBADMSG;
    m->seq = get64(b + 8);
    m->term = get64(b + 16);
    memcpy(m->vote.b, b + 24, RF_ID_LEN);
    m->repair = (get32(b + 32) & 1) != 0;
    m->repair_term = get64(b + 36);
    m->commit = get64(b + 44);
    return rf_peerstate_decode(b + 56, pl, &m->ps);
}
