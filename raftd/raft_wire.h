/* raftd/raft_wire.h: binary encodings used by the RAFT core (messages, log records, peer
 * state, snapshots, meta).  Ports the layouts of Go server/raft.go (appendEntry.encode,
 * appendEntryResponse.encode, voteRequest.encode, voteResponse.encode, encodePeerState,
 * encodeSnapshot) and adds a small frame header since raftd talks only to raftd.
 *
 * Frame (all integers little endian):
 *   u8 version (1) | u8 type | u8 flags | u8 0 | from[8] | to[8] | body
 * Bodies:
 *   AE          Go layout: leader[8] term commit pterm pindex (u64) | u16 count |
 *               count x (u32 1+len | u8 type | data) | uvarint lterm | uvarint cid
 *   AER         Go layout: term index (u64) | peer[8] | u8 success | u64 cid
 *   VOTE_REQ    Go layout: term last_term last_index (u64) | candidate[8]
 *   VOTE_RESP   Go layout: term (u64) | voter[8] | u8 (1 granted, 2 empty, 4 prevote)
 *   PROPOSAL, REMOVE_PEER: the payload bytes
 *   CATCHUP_ACK term cid index total (u64)
 *   SNAP_CHUNK  term cid snap_term snap_index offset total (u64) | u32 ps_len | bytes
 * A log record is an AE body with cid 0 (Go's WAL stores ae.buf the same way).
 * Peer state: Go's u32 cluster size | u32 count | count x id[8] | u16 extension state.
 * Snapshot: Go's u64 term | u64 index | u32 ps_len | peerstate | data | u64 xxh64 of all
 * previous bytes (Go uses highwayhash here; raftd only reads its own files).
 * Meta: "RFMT" | u32 version | u64 seq | u64 term | vote[8] | u32 flags | u64 repair_term |
 * u64 commit | u32 ps_len | peerstate | u64 xxh64 of all previous bytes.  The commit index
 * (as known when the meta was written) lets replay apply membership changes in order.
 *
 * Invariant: every decoder checks lengths before reading and returns -EBADMSG on any
 * malformed input; no decoder trusts a length field without bounds checking.
 */
#ifndef RF_RAFT_WIRE_H
#define RF_RAFT_WIRE_H

#include "raftd/raft.h"

#define RF_WIRE_VERSION 1
#define RF_FRAME_HDR 20
#define RF_AE_BASE_LEN (RF_ID_LEN + 4 * 8 + 2) /* Go's appendEntryBaseLen */
#define RF_AER_GO_LEN 25                         /* Go's appendEntryResponseLen */
#define RF_VREQ_LEN 32                           /* Go's voteRequestLen */
#define RF_VRESP_LEN 17                          /* Go's voteResponseLen */
#define RF_MIN_SNAPSHOT_LEN 28                   /* Go's minSnapshotLen */
#define RF_MAX_AE_ENTRIES 65535

/* Whole message frames. */
int rf_msg_encode(const struct rf_msg *m, uint8_t **out, uint32_t *len) RF_WUR;
int rf_msg_decode(const uint8_t *buf, uint32_t len, struct rf_msg *m) RF_WUR;

/* AE bodies (also the log record format). Decoding copies entry data. */
int rf_ae_encode(const struct rf_msg *ae, uint8_t **out, uint32_t *len) RF_WUR;
int rf_ae_decode(const uint8_t *buf, uint32_t len, struct rf_msg *ae) RF_WUR;
uint32_t rf_ae_size(const struct rf_msg *ae);

/* Go's 17-byte vote response and 25-byte append entry response (for parity tests). */
void rf_vresp_encode_go(uint64_t term, rf_id peer, bool granted, bool empty, uint8_t out[17]);
int rf_vresp_decode_go(const uint8_t *b, uint32_t len, uint64_t *term, rf_id *peer,
                       bool *granted, bool *empty) RF_WUR;

/* Peer state. */
int rf_peerstate_encode(const struct rf_peerstate *ps, uint8_t **out, uint32_t *len) RF_WUR;
int rf_peerstate_decode(const uint8_t *buf, uint32_t len, struct rf_peerstate *ps) RF_WUR;
void rf_peerstate_free(struct rf_peerstate *ps);

/* Snapshots. */
int rf_snapshot_encode(const struct rf_snapshot *s, uint8_t **out, uint32_t *len) RF_WUR;
int rf_snapshot_decode(const uint8_t *buf, uint64_t len, struct rf_snapshot **out) RF_WUR;
struct rf_snapshot *rf_snapshot_new(uint64_t term, uint64_t index, const void *ps,
                                    uint32_t ps_len, const void *data, uint64_t data_len);

/* Meta (term, vote, repair, peer state). */
struct rf_meta {
    uint64_t seq;
    uint64_t term;
    rf_id vote;
    bool repair;
    uint64_t repair_term;
    uint64_t commit;
    struct rf_peerstate ps;
};
int rf_meta_encode(const struct rf_meta *m, uint8_t **out, uint32_t *len) RF_WUR;
int rf_meta_decode(const uint8_t *buf, uint32_t len, struct rf_meta *m) RF_WUR;

/* Entries. */
struct rf_entry *rf_entries_dup(const struct rf_entry *e, uint32_t n);
void rf_entries_free(struct rf_entry *e, uint32_t n);

/* Checksum used by raftd's files (xxHash64, seed 0). */
uint64_t rf_checksum(const void *buf, size_t len);

#endif
