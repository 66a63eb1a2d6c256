/* tests/unit/test_raft_wire.c: the RAFT core's encodings (raftd/raft_wire.c).  Ports the
 * encoding tests of Go server/raft_test.go (append entry, peer state, vote response,
 * malformed responses) and adds round trips for every message kind, snapshots and meta.
 */
#include "common/gotest.h"
#include "raftd/raft_wire.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t lcg = 12345;
static uint64_t rnd(uint64_t bound)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (lcg >> 33) % bound;
}

Test(raft_wire, append_entry_encode)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGAppendEntryEncode",
                    "ids are fixed 8-byte values, so errLeaderLen and buffer reuse don't apply");
    struct rf_msg ae = {.type = RF_MSG_AE, .term = 1, .leader = rf_id_from_str("DEREK123")};
    uint8_t *b;
    uint32_t len;
    cr_assert_eq(rf_ae_encode(&ae, &b, &len), 0);
    free(b);
    /* Max number of entries. */
    ae.n_entries = RF_MAX_AE_ENTRIES + 1;
    ae.entries = calloc(ae.n_entries, sizeof(struct rf_entry));
    cr_assert_eq(rf_ae_encode(&ae, &b, &len), -E2BIG);
    free(ae.entries);
}

Test(raft_wire, append_entry_decode)
{
    GO_TEST("server/raft_test.go", "TestNRGAppendEntryDecode");
    struct rf_msg ae = {.type = RF_MSG_AE, .term = 1, .leader = rf_id_from_str("12345678")};
    ae.n_entries = RF_MAX_AE_ENTRIES;
    ae.entries = calloc(ae.n_entries, sizeof(struct rf_entry));
    uint8_t *buf;
    uint32_t len;
    cr_assert_eq(rf_ae_encode(&ae, &buf, &len), 0);
    free(ae.entries);
    struct rf_msg out;
    /* Truncated buffer. */
    cr_assert_eq(rf_ae_decode(buf, len - 1025, &out), -EBADMSG);
    /* Zeroing a non-zero byte past the header breaks an entry length. */
    for (int i = 0; i < 100; i++) {
        uint8_t *b = malloc(len);
        memcpy(b, buf, len);
        uint32_t bi = 42 + (uint32_t)rnd(len - 42);
        if (b[bi] != 0 && bi != 40) {
            b[bi] = 0;
            cr_assert_eq(rf_ae_decode(b, len, &out), -EBADMSG, "byte %u", bi);
        }
        free(b);
    }
    cr_assert_eq(rf_ae_decode(buf, len, &out), 0);
    cr_assert_eq(out.n_entries, RF_MAX_AE_ENTRIES);
    rf_msg_free(&out);
    free(buf);
}

Test(raft_wire, append_entry_decode_truncated_entry_length)
{
    GO_TEST("server/raft_test.go", "TestNRGAppendEntryDecodeTruncatedEntryLength");
    struct rf_entry e = {.type = RF_ENTRY_NORMAL};
    struct rf_msg ae = {.type = RF_MSG_AE, .term = 1, .leader = rf_id_from_str("12345678"),
                        .n_entries = 1, .entries = &e};
    uint8_t *buf;
    uint32_t len;
    cr_assert_eq(rf_ae_encode(&ae, &buf, &len), 0);
    struct rf_msg out;
    cr_assert_eq(rf_ae_decode(buf, RF_AE_BASE_LEN + 2, &out), -EBADMSG);
    free(buf);
}

Test(raft_wire, peer_state_decode_truncated)
{
    GO_TEST("server/raft_test.go", "TestNRGPeerStateDecodeTruncated");
    rf_id peers[2] = {rf_id_from_str("12345678"), rf_id_from_str("abcdefgh")};
    struct rf_peerstate ps = {.n_peers = 2, .peers = peers, .cluster_size = 2};
    uint8_t *buf;
    uint32_t len;
    cr_assert_eq(rf_peerstate_encode(&ps, &buf, &len), 0);
    struct rf_peerstate d;
    cr_assert_eq(rf_peerstate_decode(buf, len, &d), 0);
    cr_assert_eq(d.n_peers, 2);
    cr_assert_eq(d.cluster_size, 2);
    cr_assert(rf_id_eq(d.peers[1], peers[1]));
    rf_peerstate_free(&d);
    free(buf);
    /* Header claims one peer but only a partial id follows. */
    uint8_t t[8 + RF_ID_LEN - 5] = {1, 0, 0, 0, 1, 0, 0, 0};
    cr_assert_eq(rf_peerstate_decode(t, sizeof(t), &d), -EBADMSG);
}

Test(raft_wire, vote_response_encoding)
{
    GO_TEST("server/raft_test.go", "TestNRGVoteResponseEncoding");
    rf_id peer = rf_id_from_str("S1Nunr6R");
    for (int g = 0; g < 2; g++)
        for (int e = 0; e < 2; e++) {
            uint8_t b[17];
            rf_vresp_encode_go(1, peer, g, e, b);
            cr_assert_eq(b[16], (g ? 1 : 0) | (e ? 2 : 0));
            uint64_t term;
            rf_id p;
            bool gg, ee;
            cr_assert_eq(rf_vresp_decode_go(b, 17, &term, &p, &gg, &ee), 0);
            cr_assert(term == 1 && rf_id_eq(p, peer) && gg == (bool)g && ee == (bool)e);
        }
}

Test(raft_wire, malformed_append_entry_response)
{
    GO_TEST("server/raft_test.go", "TestNRGMalformedAppendEntryResponse");
    uint8_t frame[RF_FRAME_HDR + 3] = {RF_WIRE_VERSION, RF_MSG_AER};
    struct rf_msg m;
    cr_assert_eq(rf_msg_decode(frame, RF_FRAME_HDR, &m), -EBADMSG);
    cr_assert_eq(rf_msg_decode(frame, sizeof(frame), &m), -EBADMSG);
    cr_assert_eq(rf_msg_decode(frame, 3, &m), -EBADMSG);
}

static void roundtrip(struct rf_msg *m)
{
    uint8_t *b;
    uint32_t len;
    cr_assert_eq(rf_msg_encode(m, &b, &len), 0);
    struct rf_msg d;
    cr_assert_eq(rf_msg_decode(b, len, &d), 0, "type %d", m->type);
    cr_assert_eq(d.type, m->type);
    cr_assert_eq(d.flags, m->flags, "type %d flags %x vs %x", m->type, d.flags, m->flags);
    cr_assert(rf_id_eq(d.from, m->from) && rf_id_eq(d.to, m->to));
    cr_assert_eq(d.term, m->term);
    cr_assert_eq(d.cid, m->cid);
    cr_assert_eq(d.data_len, m->data_len);
    if (m->data_len)
        cr_assert_eq(memcmp(d.data, m->data, m->data_len), 0);
    cr_assert_eq(d.n_entries, m->n_entries);
    for (uint32_t i = 0; i < m->n_entries; i++) {
        cr_assert_eq(d.entries[i].type, m->entries[i].type);
        cr_assert_eq(d.entries[i].len, m->entries[i].len);
    }
    /* Every truncation must be rejected or decode to something, never crash. */
    for (uint32_t cut = 0; cut < len; cut++) {
        struct rf_msg x;
        if (rf_msg_decode(b, cut, &x) == 0)
            rf_msg_free(&x);
    }
    rf_msg_free(&d);
    free(b);
}

Test(raft_wire, message_roundtrips)
{
    struct rf_entry es[2] = {{.type = RF_ENTRY_NORMAL, .len = 3, .data = (uint8_t *)"abc"},
                             {.type = RF_ENTRY_ADD_PEER, .len = 8, .data = (uint8_t *)"S1Nunr6R"}};
    rf_id a = rf_id_from_str("S1Nunr6R"), b = rf_id_from_str("yrzKKRBu");
    struct rf_msg ae = {.type = RF_MSG_AE, .from = a, .leader = a, .term = 7, .commit = 5,
                        .pterm = 6, .pindex = 9, .lterm = 8, .cid = 123456789,
                        .n_entries = 2, .entries = es};
    roundtrip(&ae);
    struct rf_msg aer = {.type = RF_MSG_AER, .from = b, .to = a, .term = 7, .index = 10,
                         .flags = RF_MF_SUCCESS, .cid = 99};
    roundtrip(&aer);
    struct rf_msg vr = {.type = RF_MSG_VOTE_REQ, .from = b, .flags = RF_MF_PREVOTE, .term = 3,
                        .pterm = 2, .pindex = 40, .leader = b};
    roundtrip(&vr);
    struct rf_msg vs = {.type = RF_MSG_VOTE_RESP, .from = a, .to = b, .term = 3, .leader = a,
                        .flags = RF_MF_GRANTED | RF_MF_EMPTY | RF_MF_PREVOTE};
    roundtrip(&vs);
    struct rf_msg p = {.type = RF_MSG_PROPOSAL, .from = b, .to = a, .data_len = 3,
                       .data = (uint8_t *)"xyz"};
    roundtrip(&p);
    struct rf_msg ca = {.type = RF_MSG_CATCHUP_ACK, .from = b, .to = a, .term = 2, .cid = 5,
                        .index = 77, .total = 12};
    roundtrip(&ca);
    struct rf_msg sc = {.type = RF_MSG_SNAP_CHUNK, .from = a, .to = b, .term = 2, .cid = 5,
                        .pterm = 1, .pindex = 50, .index = 4, .total = 10, .ps_len = 2,
                        .data_len = 3, .data = (uint8_t *)"xyz", .flags = RF_MF_LAST};
    roundtrip(&sc);
}

Test(raft_wire, snapshot_checksum)
{
    struct rf_snapshot *s = rf_snapshot_new(3, 42, "ps", 2, "data", 4);
    uint8_t *b;
    uint32_t len;
    cr_assert_eq(rf_snapshot_encode(s, &b, &len), 0);
    struct rf_snapshot *d;
    cr_assert_eq(rf_snapshot_decode(b, len, &d), 0);
    cr_assert(d->term == 3 && d->index == 42 && d->ps_len == 2 && d->data_len == 4);
    rf_snapshot_unref(d);
    for (uint32_t i = 0; i < len; i++) {
        b[i] ^= 0x10;
        cr_assert_eq(rf_snapshot_decode(b, len, &d), -EBADMSG, "flip at %u", i);
        b[i] ^= 0x10;
    }
    cr_assert_eq(rf_snapshot_decode(b, RF_MIN_SNAPSHOT_LEN - 1, &d), -EBADMSG);
    free(b);
    rf_snapshot_unref(s);
}

Test(raft_wire, meta_roundtrip_and_corruption)
{
    rf_id peers[3] = {rf_id_from_str("A0000000"), rf_id_from_str("B0000000"),
                      rf_id_from_str("C0000000")};
    struct rf_meta m = {.seq = 9, .term = 12, .vote = peers[1], .repair = true,
                        .repair_term = 11,
                        .ps = {.n_peers = 3, .peers = peers, .cluster_size = 3, .ext = 2}};
    uint8_t *b;
    uint32_t len;
    cr_assert_eq(rf_meta_encode(&m, &b, &len), 0);
    struct rf_meta d;
    cr_assert_eq(rf_meta_decode(b, len, &d), 0);
    cr_assert(d.seq == 9 && d.term == 12 && rf_id_eq(d.vote, peers[1]) && d.repair &&
              d.repair_term == 11 && d.ps.n_peers == 3 && d.ps.ext == 2);
    rf_peerstate_free(&d.ps);
    for (uint32_t i = 0; i < len; i++) {
        b[i] ^= 1;
        cr_assert_neq(rf_meta_decode(b, len, &d), 0, "flip at %u", i);
        b[i] ^= 1;
    }
    free(b);
}
