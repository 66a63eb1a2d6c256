/* libFuzzer target for raftd's peer transport framing (raftd/rd_frame.c) and the RAFT message
 * decoder behind it (raftd/raft_wire.c, Go server/raft.go decodeAppendEntry,
 * decodeVoteRequest, ... layouts).  The input is treated as a TCP byte stream from a peer:
 * frames are cut with rd_frame_next, hellos and messages decoded exactly as rd_net.c does.
 * Nothing may crash, leak or trip a sanitizer.  Every message that decodes is encoded again,
 * framed, re-parsed and decoded once more: the round trip must give the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raftd/raft_wire.h"
#include "raftd/rd_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const char *group, const struct rf_msg *m)
{
    uint8_t *enc;
    uint32_t len;
    if (rf_msg_encode(m, &enc, &len) < 0)
        return; /* e.g. more entries than one AE can carry: never sent */
    struct rd_buf b = {0};
    if (rd_msg_frame(group, enc, len, &b) < 0) {
        free(enc);
        rd_buf_free(&b);
        return;
    }
    free(enc);
    struct rd_frame f;
    size_t used;
    if (rd_frame_next(b.p + b.off, rd_buf_pending(&b), &f, &used) != 1 || used != b.len ||
        f.kind != RD_FK_MSG)
        abort();
    char g2[64];
    struct rf_msg m2;
    if (rd_msg_decode(f.body, f.body_len, g2, &m2) < 0)
        abort();
    if (strcmp(group, g2) || m2.type != m->type || m2.flags != m->flags ||
        !rf_id_eq(m2.from, m->from) || !rf_id_eq(m2.to, m->to) || m2.term != m->term ||
        m2.n_entries != m->n_entries || m2.data_len != m->data_len)
        abort();
    for (uint32_t i = 0; i < m->n_entries; i++)
        if (m2.entries[i].type != m->entries[i].type || m2.entries[i].len != m->entries[i].len ||
            (m->entries[i].len &&
             memcmp(m2.entries[i].data, m->entries[i].data, m->entries[i].len)))
            abort();
    if (m->data_len && memcmp(m2.data, m->data, m->data_len))
        abort();
    rf_msg_free(&m2);
    rd_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct rd_frame f;
        size_t used;
        int rc = rd_frame_next(data + off, size - off, &f, &used);
        if (rc <= 0)
            break; /* incomplete: wait for more; malformed: the connection is closed */
        if (used > size - off || f.body + f.body_len > data + size)
            abort();
        if (f.kind == RD_FK_HELLO) {
            struct rd_hello h;
            if (rd_hello_decode(f.body, f.body_len, &h) == 0) {
                struct rd_buf b = {0};
                struct rd_hello h2;
                struct rd_frame f2;
                size_t u2;
                if (rd_hello_encode(&h, &b) < 0 ||
                    rd_frame_next(b.p, b.len, &f2, &u2) != 1 ||
                    rd_hello_decode(f2.body, f2.body_len, &h2) < 0 || memcmp(&h, &h2, sizeof(h)))
                    abort();
                rd_buf_free(&b);
            }
        } else {
            char group[64];
            struct rf_msg m;
            if (rd_msg_decode(f.body, f.body_len, group, &m) == 0) {
                roundtrip(group, &m);
                rf_msg_free(&m);
            }
        }
        off += used;
    }
    return 0;
}
