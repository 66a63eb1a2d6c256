/* Store-generic helpers declared in storaged/store.h: error texts, sd_store_msg buffers,
 * delete blocks, the replicated stream state decoding, consumer state encoding, and the
 * header lookups the stores need.  They serve the file store as much as the memory store
 * (the file is named memstore_* only because of how the work was split; it could become
 * storaged/store.c).
 *
 * Ports Go nats-server v2.14.5: server/store.go (errors, DeleteRange/DeleteSlice,
 * DecodeStreamState, encodeConsumerState), server/filestore.go (decodeConsumerState,
 * checkConsumerHeader), server/client.go (sliceHeader, getHeaderKeyIndex),
 * server/stream.go (getMessageTTL, parseMessageTTL), server/sdm.go (isSubjectDeleteMarker).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "storaged/memstore_int.h"

const char *sd_strerror(int err) {
    switch (err) {
    case 0:
        return "ok";
    case SD_ERR_STORE_CLOSED:
        return "store is closed";
    case SD_ERR_MSG_NOT_FOUND:
        return "no message found";
    case SD_ERR_STORE_EOF:
        return "stream store EOF";
    case SD_ERR_MAX_MSGS:
        return "maximum messages exceeded";
    case SD_ERR_MAX_BYTES:
        return "maximum bytes exceeded";
    case SD_ERR_MAX_MSGS_PER_SUBJECT:
        return "maximum messages per subject exceeded";
    case SD_ERR_SNAPSHOT_IN_PROGRESS:
        return "snapshot in progress";
    case SD_ERR_MSG_TOO_LARGE:
        return "message too large";
    case SD_ERR_WRONG_TYPE:
        return "wrong storage type";
    case SD_ERR_NO_ACK_POLICY:
        return "ack policy is none";
    case SD_ERR_SEQUENCE_MISMATCH:
        return "expected sequence does not match store";
    case SD_ERR_CORRUPT_STREAM_STATE:
        return "stream state snapshot is corrupt";
    case SD_ERR_TOO_MANY_RESULTS:
        return "too many matching results for request";
    case SD_ERR_OLD_UPDATE:
        return "old update ignored";
    case SD_ERR_BAD_STREAM_STATE_ENCODING:
        return "bad stream state encoding";
    case SD_ERR_PARTIAL_PURGE:
        return "partial purges not supported on memory store";
    case SD_ERR_CONFIG_REQUIRED:
        return "config required";
    case SD_ERR_MEMSTORE_TYPE:
        return "memStore requires memory storage type in config";
    case SD_ERR_BAD_CONSUMER_CONFIG:
        return "bad consumer config";
    case SD_ERR_BAD_ACK_FLOOR_CONSUMER:
        return "bad ack floor for consumer";
    case SD_ERR_BAD_ACK_FLOOR_STREAM:
        return "bad ack floor for stream";
    /* Go formats the offending sequence into this text; callers that need it have it. */
    case SD_ERR_BAD_PENDING:
        return "bad pending entry, sequence out of range";
    case SD_ERR_NO_IMPL:
        return "no impl";
    case SD_ERR_CORRUPT_STATE:
        return "corrupt state file";
    case SD_ERR_UNSUPPORTED_VERSION:
        return "unsupported version";
    case SD_ERR_MSG_TTL_INVALID:
        return "invalid per-message TTL";
    default:
        return err < 0 && err > -SD_ERR_BASE ? strerror(-err) : "unknown store error";
    }
}

/* --- Messages and state ------------------------------------------------------------- */

void sd_store_msg_free(sd_store_msg *sm) {
    if (!sm) return;
    free(sm->buf);
    memset(sm, 0, sizeof *sm);
}

void sd_store_msg_set(sd_store_msg *sm, uint64_t seq, int64_t ts, const char *subj, size_t subj_len,
                      const uint8_t *hdr, size_t hdr_len, const uint8_t *msg, size_t msg_len) {
    size_t need = subj_len + hdr_len + msg_len + 1;
    if (need > sm->buf_cap) {
        size_t nc = sm->buf_cap ? sm->buf_cap : 64;
        while (nc < need)
            nc *= 2;
        uint8_t *nb = realloc(sm->buf, nc);
        if (!nb) ms_panic("out of memory");
        sm->buf = nb;
        sm->buf_cap = nc;
    }
    /* Header and payload first (contiguous, as Go's buf), then the subject NUL-terminated. */
    if (hdr_len) memcpy(sm->buf, hdr, hdr_len);
    if (msg_len) memcpy(sm->buf + hdr_len, msg, msg_len);
    uint8_t *s = sm->buf + hdr_len + msg_len;
    if (subj_len) memcpy(s, subj, subj_len);
    s[subj_len] = 0;
    sm->seq = seq;
    sm->ts = ts;
    sm->subj = (const char *)s;
    sm->subj_len = subj_len;
    sm->hdr = hdr_len ? sm->buf : NULL;
    sm->hdr_len = hdr_len;
    sm->msg = sm->buf + hdr_len;
    sm->msg_len = msg_len;
}

void sd_stream_state_free(sd_stream_state *s) {
    if (!s) return;
    free(s->deleted);
    free(s->lost_msgs);
    s->deleted = s->lost_msgs = NULL;
    s->deleted_len = s->lost_len = 0;
}

/* --- Delete blocks ----------------------------------------------------------------- */

void sd_delete_block_state(const sd_delete_block *db, uint64_t *first, uint64_t *last,
                           uint64_t *num) {
    switch (db->kind) {
    case SD_DB_SEQSET:
        nx_seqset_state(&db->seqset, first, last, num);
        return;
    case SD_DB_RANGE:
        *first = db->first;
        *last = db->first + (db->num > 0 ? db->num - 1 : 0);
        *num = db->num;
        return;
    case SD_DB_SLICE:
        if (db->nseqs == 0) {
            *first = *last = *num = 0;
            return;
        }
        *first = db->seqs[0];
        *last = db->seqs[db->nseqs - 1];
        *num = db->nseqs;
        return;
    }
}

void sd_delete_block_range(const sd_delete_block *db, bool (*f)(void *arg, uint64_t seq),
                           void *arg) {
    switch (db->kind) {
    case SD_DB_SEQSET:
        nx_seqset_range(&db->seqset, f, arg);
        return;
    case SD_DB_RANGE:
        for (uint64_t s = db->first; s < db->first + db->num; s++)
            if (!f(arg, s)) return;
        return;
    case SD_DB_SLICE:
        for (size_t i = 0; i < db->nseqs; i++)
            if (!f(arg, db->seqs[i])) return;
        return;
    }
}

uint64_t sd_delete_blocks_num_deleted(const sd_delete_block *dbs, size_t n) {
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t f, l, num;
        sd_delete_block_state(&dbs[i], &f, &l, &num);
        total += num;
    }
    return total;
}

/* --- Varints (Go encoding/binary) ----------------------------------------------------- */

size_t sd_put_uvarint(uint8_t *b, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

size_t sd_put_varint(uint8_t *b, int64_t v) {
    uint64_t zz = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0); /* zigzag */
    return sd_put_uvarint(b, zz);
}

int sd_get_uvarint(const uint8_t *b, size_t len, uint64_t *v) {
    uint64_t x = 0;
    unsigned s = 0;
    for (size_t i = 0; i < len; i++) {
        if (i == 10) return -(int)(i + 1);
        if (b[i] < 0x80) {
            if (i == 9 && b[i] > 1) return -(int)(i + 1);
            *v = x | (uint64_t)b[i] << s;
            return (int)i + 1;
        }
        x |= (uint64_t)(b[i] & 0x7f) << s;
        s += 7;
    }
    return 0;
}

int sd_get_varint(const uint8_t *b, size_t len, int64_t *v) {
    uint64_t ux;
    int n = sd_get_uvarint(b, len, &ux);
    if (n <= 0) return n;
    int64_t x = (int64_t)(ux >> 1);
    if (ux & 1) x = ~x;
    *v = x;
    return n;
}

size_t sd_uvarint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* --- Replicated stream state ------------------------------------------------------- */

bool sd_is_encoded_stream_state(const uint8_t *buf, size_t len) {
    return len >= 2 && buf[0] == SD_STREAM_STATE_MAGIC && buf[1] == SD_STREAM_STATE_VERSION;
}

void sd_stream_replicated_state_free(sd_stream_replicated_state *s) {
    if (!s) return;
    for (size_t i = 0; i < s->num_blocks; i++)
        if (s->deleted[i].kind == SD_DB_SEQSET) nx_seqset_empty(&s->deleted[i].seqset);
    free(s->deleted);
    memset(s, 0, sizeof *s);
}

static void add_block(sd_stream_replicated_state *s, const sd_delete_block *db, size_t *cap) {
    if (s->num_blocks == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        sd_delete_block *nd = realloc(s->deleted, *cap * sizeof *nd);
        if (!nd) ms_panic("out of memory");
        s->deleted = nd;
    }
    s->deleted[s->num_blocks++] = *db;
}

int sd_decode_stream_state(const uint8_t *buf, size_t len, sd_stream_replicated_state *out) {
    memset(out, 0, sizeof *out);
    if (!sd_is_encoded_stream_state(buf, len)) return SD_ERR_BAD_STREAM_STATE_ENCODING;
    size_t bi = 2;
    uint64_t *fields[] = {&out->msgs, &out->bytes, &out->first_seq, &out->last_seq, &out->failed};
    for (size_t i = 0; i < 5; i++) {
        int n = bi < len ? sd_get_uvarint(buf + bi, len - bi, fields[i]) : 0;
        if (n <= 0) return SD_ERR_CORRUPT_STREAM_STATE;
        bi += (size_t)n;
    }
    uint64_t num_deleted = 0;
    int n = bi < len ? sd_get_uvarint(buf + bi, len - bi, &num_deleted) : 0;
    /* Go's reader returns 0 on failure here, which simply means "no deleted blocks". */
    if (n <= 0) return 0;
    bi += (size_t)n;
    if (num_deleted == 0) return 0;
    size_t cap = 0;
    while (bi < len) {
        sd_delete_block db;
        memset(&db, 0, sizeof db);
        if (buf[bi] == NX_SEQSET_MAGIC) {
            size_t used = 0;
            db.kind = SD_DB_SEQSET;
            if (nx_seqset_decode(buf + bi, len - bi, &db.seqset, &used) != 0) {
                sd_stream_replicated_state_free(out);
                return SD_ERR_CORRUPT_STREAM_STATE;
            }
            bi += used;
        } else if (buf[bi] == SD_RUN_LENGTH_MAGIC) {
            bi++;
            db.kind = SD_DB_RANGE;
            int a = bi < len ? sd_get_uvarint(buf + bi, len - bi, &db.first) : 0;
            if (a > 0) bi += (size_t)a;
            int b = a > 0 && bi < len ? sd_get_uvarint(buf + bi, len - bi, &db.num) : 0;
            if (a <= 0 || b <= 0) {
                sd_stream_replicated_state_free(out);
                return SD_ERR_CORRUPT_STREAM_STATE;
            }
            bi += (size_t)b;
        } else {
            sd_stream_replicated_state_free(out);
            return SD_ERR_CORRUPT_STREAM_STATE;
        }
        add_block(out, &db, &cap);
    }
    return 0;
}

/* --- Consumer state encoding -------------------------------------------------------- */

#define CONSUMER_MAGIC 22
#define CONSUMER_HDR_LEN 2

void sd_consumer_state_free(sd_consumer_state *cs) {
    if (!cs) return;
    free(cs->pending);
    free(cs->redelivered);
    memset(cs, 0, sizeof *cs);
}

uint8_t *sd_encode_consumer_state(const sd_consumer_state *cs, int64_t now_ns, size_t *len) {
    size_t max = CONSUMER_HDR_LEN + 6 * 10 + cs->num_pending * 30 + cs->num_redelivered * 20 + 20;
    uint8_t *b = malloc(max);
    if (!b) ms_panic("out of memory");
    b[0] = CONSUMER_MAGIC;
    b[1] = 2;
    size_t n = CONSUMER_HDR_LEN;
    n += sd_put_uvarint(b + n, cs->ack_floor.consumer);
    n += sd_put_uvarint(b + n, cs->ack_floor.stream);
    n += sd_put_uvarint(b + n, cs->delivered.consumer);
    n += sd_put_uvarint(b + n, cs->delivered.stream);
    n += sd_put_uvarint(b + n, cs->num_pending);
    uint64_t asflr = cs->ack_floor.stream, adflr = cs->ack_floor.consumer;
    if (cs->num_pending > 0) {
        /* Base timestamp: now rounded to the second (Go time.Now().Round(time.Second)). */
        int64_t mints = (now_ns + 500000000LL) / 1000000000LL;
        n += sd_put_varint(b + n, mints);
        for (size_t i = 0; i < cs->num_pending; i++) {
            const sd_pending *p = &cs->pending[i];
            n += sd_put_uvarint(b + n, p->sseq - asflr);
            n += sd_put_uvarint(b + n, p->dseq - adflr);
            /* Seconds are enough for recovery. */
            n += sd_put_varint(b + n, mints - p->ts / 1000000000LL);
        }
    }
    n += sd_put_uvarint(b + n, cs->num_redelivered);
    for (size_t i = 0; i < cs->num_redelivered; i++) {
        n += sd_put_uvarint(b + n, cs->redelivered[i].sseq - asflr);
        n += sd_put_uvarint(b + n, cs->redelivered[i].count);
    }
    *len = n;
    return b;
}

int sd_decode_consumer_state(const uint8_t *buf, size_t len, sd_consumer_state *out) {
    memset(out, 0, sizeof *out);
    if (len < 2 || buf[0] != CONSUMER_MAGIC) return SD_ERR_CORRUPT_STATE;
    uint8_t version = buf[1];
    if (version != 1 && version != 2) return SD_ERR_UNSUPPORTED_VERSION;
    size_t bi = CONSUMER_HDR_LEN;
    bool bad = false;
#define READ_SEQ(dst)                                                                              \
    do {                                                                                           \
        int rn_ = (!bad && bi < len) ? sd_get_uvarint(buf + bi, len - bi, &(dst)) : 0;             \
        if (rn_ <= 0)                                                                              \
            bad = true, (dst) = 0;                                                                 \
        else                                                                                       \
            bi += (size_t)rn_;                                                                     \
    } while (0)
#define READ_TS(dst)                                                                               \
    do {                                                                                           \
        int rn_ = (!bad && bi < len) ? sd_get_varint(buf + bi, len - bi, &(dst)) : 0;              \
        if (rn_ <= 0)                                                                              \
            bad = true, (dst) = -1;                                                                \
        else                                                                                       \
            bi += (size_t)rn_;                                                                     \
    } while (0)
    READ_SEQ(out->ack_floor.consumer);
    READ_SEQ(out->ack_floor.stream);
    READ_SEQ(out->delivered.consumer);
    READ_SEQ(out->delivered.stream);
    if (bad) return SD_ERR_CORRUPT_STATE;
    if (version == 1) {
        /* Version 1 stored delivered as "next to deliver". */
        if (out->ack_floor.consumer > 1) out->delivered.consumer += out->ack_floor.consumer - 1;
        if (out->ack_floor.stream > 1) out->delivered.stream += out->ack_floor.stream - 1;
    }
    const uint64_t hbit = 1ULL << 63; /* protect against rolling backwards */
    if ((out->ack_floor.stream & hbit) || (out->delivered.stream & hbit))
        return SD_ERR_CORRUPT_STATE;
    uint64_t num_pending = 0;
    READ_SEQ(num_pending);
    if (num_pending > 0) {
        int64_t mints = 0;
        READ_TS(mints);
        if (bad || num_pending > len) { /* every entry takes at least 2 bytes */
            sd_consumer_state_free(out);
            return SD_ERR_CORRUPT_STATE;
        }
        out->pending = calloc((size_t)num_pending, sizeof *out->pending);
        if (!out->pending) ms_panic("out of memory");
        for (uint64_t i = 0; i < num_pending; i++) {
            uint64_t sseq = 0, dseq = 0;
            int64_t ts = 0;
            READ_SEQ(sseq);
            if (version == 2) READ_SEQ(dseq);
            READ_TS(ts);
            if (bad) {
                sd_consumer_state_free(out);
                return SD_ERR_CORRUPT_STATE;
            }
            sseq += out->ack_floor.stream;
            if (sseq == 0) {
                sd_consumer_state_free(out);
                return SD_ERR_CORRUPT_STATE;
            }
            if (version == 2) dseq += out->ack_floor.consumer;
            ts = version == 1 ? (ts + mints) * 1000000000LL : (mints - ts) * 1000000000LL;
            out->pending[out->num_pending++] = (sd_pending){sseq, dseq, ts};
        }
    }
    uint64_t num_redelivered = 0;
    READ_SEQ(num_redelivered);
    if (!bad && num_redelivered > 0) {
        if (num_redelivered > len) num_redelivered = len;
        out->redelivered = calloc((size_t)num_redelivered, sizeof *out->redelivered);
        if (!out->redelivered) ms_panic("out of memory");
        for (uint64_t i = 0; i < num_redelivered; i++) {
            uint64_t seq = 0, cnt = 0;
            READ_SEQ(seq);
            READ_SEQ(cnt);
            if (seq > 0 && cnt > 0)
                out->redelivered[out->num_redelivered++] =
                    (sd_redelivered){seq + out->ack_floor.stream, cnt};
        }
    }
#undef READ_SEQ
#undef READ_TS
    return 0;
}

/* --- Headers ------------------------------------------------------------------------ */

/* Go getHeaderKeyIndex: the key must follow a CRLF and be followed by ':'. */
static long header_key_index(const char *key, const uint8_t *hdr, size_t hlen) {
    size_t klen = strlen(key), offset = 0;
    for (;;) {
        const uint8_t *p = offset < hlen ? memmem(hdr + offset, hlen - offset, key, klen) : NULL;
        /* Go also gives up when the match sits in the first two bytes of the window. */
        if (!p || (size_t)(p - (hdr + offset)) < 2) return -1;
        size_t index = (size_t)(p - hdr);
        if (index >= hlen - 1 || hdr[index - 1] != '\n' || hdr[index - 2] != '\r') {
            offset = index + klen;
            continue;
        }
        if (index + klen >= hlen) return -1;
        if (hdr[index + klen] != ':') {
            offset = index + klen;
            continue;
        }
        return (long)index;
    }
}

const uint8_t *sd_slice_header(const char *key, const uint8_t *hdr, size_t hdr_len, size_t *vlen) {
    if (!hdr || hdr_len == 0) return NULL;
    long idx = header_key_index(key, hdr, hdr_len);
    if (idx < 0) return NULL;
    size_t i = (size_t)idx + strlen(key) + 1;
    while (i < hdr_len && hdr[i] == ' ')
        i++;
    size_t start = i;
    while (i < hdr_len) {
        if (i < hdr_len - 1 && hdr[i] == '\r' && hdr[i + 1] == '\n') break;
        i++;
    }
    *vlen = i - start;
    return hdr + start;
}

int sd_parse_message_ttl(const char *s, size_t len, int64_t *ttl_s) {
    char buf[64];
    if (len >= sizeof buf) return SD_ERR_MSG_TTL_INVALID;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (strcasecmp(buf, "never") == 0) {
        *ttl_s = -1;
        return 0;
    }
    int64_t ns;
    if (nx_parse_duration(buf, &ns) == 0) {
        if (ns < 1000000000LL) return SD_ERR_MSG_TTL_INVALID;
        *ttl_s = ns / 1000000000LL;
        return 0;
    }
    /* Go parseInt64: decimal digits only, -1 (here: invalid) otherwise. */
    if (len == 0) return SD_ERR_MSG_TTL_INVALID;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return SD_ERR_MSG_TTL_INVALID;
        v = v * 10 + (s[i] - '0');
    }
    *ttl_s = v;
    return 0;
}

int sd_get_message_ttl(const uint8_t *hdr, size_t hdr_len, int64_t *ttl_s) {
    size_t vlen = 0;
    const uint8_t *v = sd_slice_header(SD_HDR_MSG_TTL, hdr, hdr_len, &vlen);
    *ttl_s = 0;
    if (!v || vlen == 0) return 0;
    int rc = sd_parse_message_ttl((const char *)v, vlen, ttl_s);
    if (rc) *ttl_s = 0;
    return rc;
}

bool sd_is_subject_delete_marker(const uint8_t *hdr, size_t hdr_len) {
    size_t vlen = 0;
    if (sd_slice_header(SD_HDR_MARKER_REASON, hdr, hdr_len, &vlen) && vlen) return true;
    const uint8_t *op = sd_slice_header(SD_HDR_KV_OPERATION, hdr, hdr_len, &vlen);
    return op && vlen == 5 && memcmp(op, "PURGE", 5) == 0;
}

size_t sd_format_duration_s(int64_t secs, char *buf, size_t cap) {
    int n;
    if (secs == 0)
        n = snprintf(buf, cap, "0s");
    else if (secs < 60 && secs > -60)
        n = snprintf(buf, cap, "%llds", (long long)secs);
    else if (secs < 3600 && secs > -3600)
        n = snprintf(buf, cap, "%s%lldm%llds", secs < 0 ? "-" : "", (long long)(llabs(secs) / 60),
                     (long long)(llabs(secs) % 60));
    else
        n = snprintf(buf, cap, "%s%lldh%lldm%llds", secs < 0 ? "-" : "",
                     (long long)(llabs(secs) / 3600), (long long)(llabs(secs) % 3600 / 60),
                     (long long)(llabs(secs) % 60));
    return n < 0 ? 0 : (size_t)n;
}
