/* tests/raftd/test_raftd_frame.c: raftd's peer framing (raftd/rd_frame.c) on fixed inputs:
 * round trips of hellos and RAFT messages, incomplete input, and the malformed frames a peer
 * connection must be closed for.  tests/fuzz/fuzz_raftd_frame.c explores the rest. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "raftd/raft_wire.h"
#include "raftd/rd_frame.h"

Test(raftd_frame, hello_round_trip)
{
    struct rd_hello h = {.name = "n1", .cluster = "c1", .host = "127.0.0.1", .port = 6222}, h2;
    struct rd_buf b = {0};
    cr_assert_eq(rd_hello_encode(&h, &b), 0);
    struct rd_frame f;
    size_t used;
    for (size_t cut = 0; cut < b.len; cut++) /* any prefix is incomplete, never an error */
        cr_assert_eq(rd_frame_next(b.p, cut, &f, &used), 0);
    cr_assert_eq(rd_frame_next(b.p, b.len, &f, &used), 1);
    cr_assert_eq(used, b.len);
    cr_assert_eq(f.kind, RD_FK_HELLO);
    cr_assert_eq(rd_hello_decode(f.body, f.body_len, &h2), 0);
    cr_assert_str_eq(h2.name, "n1");
    cr_assert_str_eq(h2.cluster, "c1");
    cr_assert_str_eq(h2.host, "127.0.0.1");
    cr_assert_eq(h2.port, 6222);
    /* Corrupt each byte of the body: decoding fails or yields a valid hello, never more. */
    for (uint32_t i = 0; i < f.body_len; i++) {
        uint8_t *body = malloc(f.body_len);
        memcpy(body, f.body, f.body_len);
        body[i] ^= 0xff;
        if (rd_hello_decode(body, f.body_len, &h2) == 0)
            cr_assert(rd_valid_name(h2.name));
        free(body);
    }
    rd_buf_free(&b);
}

Test(raftd_frame, message_round_trip)
{
    struct rf_entry e[2] = {{.type = RF_ENTRY_NORMAL, .len = 5, .data = (uint8_t *)"hello"},
                            {.type = RF_ENTRY_PEER_STATE, .len = 0, .data = NULL}};
    struct rf_msg m = {.type = RF_MSG_AE, .from = rf_id_from_str("AAAAAAAA"),
                       .leader = rf_id_from_str("AAAAAAAA"), .term = 3, .commit = 7,
                       .pterm = 2, .pindex = 9, .n_entries = 2, .entries = e};
    uint8_t *enc;
    uint32_t len;
    cr_assert_eq(rf_msg_encode(&m, &enc, &len), 0);
    struct rd_buf b = {0};
    cr_assert_eq(rd_msg_frame("S-orders", enc, len, &b), 0);
    cr_assert_eq(rd_msg_frame("_meta_", enc, len, &b), 0); /* two frames back to back */
    free(enc);
    struct rd_frame f;
    size_t used, off = 0;
    const char *groups[] = {"S-orders", "_meta_"};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(rd_frame_next(b.p + off, b.len - off, &f, &used), 1);
        char g[64];
        struct rf_msg d;
        cr_assert_eq(rd_msg_decode(f.body, f.body_len, g, &d), 0);
        cr_assert_str_eq(g, groups[k]);
        cr_assert_eq(d.type, RF_MSG_AE);
        cr_assert_eq(d.term, 3);
        cr_assert_eq(d.pindex, 9);
        cr_assert_eq(d.n_entries, 2);
        cr_assert_eq(d.entries[0].len, 5);
        cr_assert_eq(memcmp(d.entries[0].data, "hello", 5), 0);
        rf_msg_free(&d);
        off += used;
    }
    cr_assert_eq(off, b.len);
    rd_buf_free(&b);
}

Test(raftd_frame, malformed_frames_are_errors)
{
    struct rd_frame f;
    size_t used;
    char g[64];
    struct rf_msg m;
    struct rd_hello h;
    static const uint8_t zero_len[] = {0, 0, 0, 0, 2};
    static const uint8_t too_big[] = {0xff, 0xff, 0xff, 0x7f, 2};
    static const uint8_t bad_kind[] = {1, 0, 0, 0, 9};
    cr_assert_lt(rd_frame_next(zero_len, sizeof(zero_len), &f, &used), 0);
    cr_assert_lt(rd_frame_next(too_big, sizeof(too_big), &f, &used), 0);
    cr_assert_lt(rd_frame_next(bad_kind, sizeof(bad_kind), &f, &used), 0);
    /* Group names: empty, too long, path-like, longer than the body. */
    static const uint8_t g_empty[] = {0, 1, 3, 0, 0};
    static const uint8_t g_dots[] = {2, '.', '.', 1, 3, 0, 0};
    static const uint8_t g_slash[] = {3, 'a', '/', 'b', 1, 3, 0, 0};
    static const uint8_t g_long[] = {200, 'a', 'b'};
    cr_assert_lt(rd_msg_decode(g_empty, sizeof(g_empty), g, &m), 0);
    cr_assert_lt(rd_msg_decode(g_dots, sizeof(g_dots), g, &m), 0);
    cr_assert_lt(rd_msg_decode(g_slash, sizeof(g_slash), g, &m), 0);
    cr_assert_lt(rd_msg_decode(g_long, sizeof(g_long), g, &m), 0);
    /* A valid group followed by a truncated RAFT message. */
    static const uint8_t trunc[] = {2, 'g', '1', 1, 3, 0, 0, 'A', 'A'};
    cr_assert_lt(rd_msg_decode(trunc, sizeof(trunc), g, &m), 0);
    /* Hellos: wrong magic, wrong version, trailing bytes, name with a NUL. */
    static const uint8_t h_magic[] = {'R', 'F', 'H', 'X', 1, 1, 'a', 0, 0, 0, 0};
    static const uint8_t h_ver[] = {'R', 'F', 'H', 'I', 2, 1, 'a', 0, 0, 0, 0};
    static const uint8_t h_trail[] = {'R', 'F', 'H', 'I', 1, 1, 'a', 0, 0, 0, 0, 9};
    static const uint8_t h_nul[] = {'R', 'F', 'H', 'I', 1, 2, 'a', 0, 0, 0, 0, 0};
    static const uint8_t h_ok[] = {'R', 'F', 'H', 'I', 1, 1, 'a', 0, 0, 0, 0};
    cr_assert_lt(rd_hello_decode(h_magic, sizeof(h_magic), &h), 0);
    cr_assert_lt(rd_hello_decode(h_ver, sizeof(h_ver), &h), 0);
    cr_assert_lt(rd_hello_decode(h_trail, sizeof(h_trail), &h), 0);
    cr_assert_lt(rd_hello_decode(h_nul, sizeof(h_nul), &h), 0);
    cr_assert_eq(rd_hello_decode(h_ok, sizeof(h_ok), &h), 0);
    cr_assert_str_eq(h.name, "a");
}

Test(raftd_frame, names)
{
    cr_assert(rd_valid_name("_meta_"));
    cr_assert(rd_valid_name("S-ORDERS.v2"));
    cr_assert_not(rd_valid_name(""));
    cr_assert_not(rd_valid_name("."));
    cr_assert_not(rd_valid_name(".."));
    cr_assert_not(rd_valid_name("a/b"));
    cr_assert_not(rd_valid_name("a b"));
    char long_name[80];
    memset(long_name, 'x', 64);
    long_name[64] = 0;
    cr_assert_not(rd_valid_name(long_name));
    long_name[63] = 0;
    cr_assert(rd_valid_name(long_name));
}
