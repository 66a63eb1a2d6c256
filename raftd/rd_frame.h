/* raftd/rd_frame.h: framing of the TCP transport between raftd nodes.
 *
 * Go sends RAFT traffic as NATS messages on $NRG.AE.<group>, $NRG.V.<group>, ... subjects over
 * the routes (server/raft.go createInternalSubs, sendq).  raftd talks only to raftd, so a
 * frame is length-prefixed and carries the group name where Go has it in the subject:
 *
 *   u32 len (little endian, bytes after this field, 1..RD_FRAME_MAX) | u8 kind | body
 *   kind 1 HELLO: "RFHI" | u8 version (1) | u8 n | name[n] | u8 n | cluster[n] | u8 n |
 *                 host[n] | u16 port        (the sender's server name, cluster name and
 *                 cluster listen address; sent first by a dialer, answered once by the
 *                 accepting side)
 *   kind 2 MSG:   u8 n | group[n] | an rf_msg frame (raft_wire.h)
 *
 * Invariant: the decoders validate every length and name before use and never read past
 * the given buffer; a malformed frame is an error for the connection, never a crash.  Pure:
 * no I/O, so tests/fuzz/fuzz_raftd_frame.c can drive it.
 */
#ifndef RD_FRAME_H
#define RD_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raftd/raft.h"

#define RD_FRAME_MAX (64u << 20)
#define RD_FK_HELLO 1
#define RD_FK_MSG 2
#define RD_HELLO_VERSION 1

struct rd_buf {
    uint8_t *p;
    size_t off, len, cap; /* valid bytes are p[off, len) */
};
/* Room for n more bytes (compacting or growing). */
int rd_buf_reserve(struct rd_buf *b, size_t n) RF_WUR;
int rd_buf_put(struct rd_buf *b, const void *data, size_t n) RF_WUR;
size_t rd_buf_pending(const struct rd_buf *b);
void rd_buf_consume(struct rd_buf *b, size_t n);
void rd_buf_free(struct rd_buf *b);

struct rd_frame {
    uint8_t kind;
    const uint8_t *body;
    uint32_t body_len;
};

struct rd_hello {
    char name[64];
    char cluster[64];
    char host[256];
    uint16_t port;
};

/* Server and group names: 1..63 bytes of [A-Za-z0-9_.-], not "." or "..". */
bool rd_valid_name(const char *s);

/* Next frame at buf: 1 (f filled, points into buf; *used bytes consumed), 0 (incomplete) or
 * -EBADMSG (bad length or kind). */
int rd_frame_next(const uint8_t *buf, size_t len, struct rd_frame *f, size_t *used);
int rd_hello_decode(const uint8_t *body, uint32_t len, struct rd_hello *h);
/* MSG body: group name into group[64], the message decoded into m (free with rf_msg_free). */
int rd_msg_decode(const uint8_t *body, uint32_t len, char group[64], struct rf_msg *m);

/* Append whole frames to a buffer.  0 or -errno. */
int rd_hello_encode(const struct rd_hello *h, struct rd_buf *out) RF_WUR;
int rd_msg_frame(const char *group, const uint8_t *msg, uint32_t msg_len, struct rd_buf *out)
    RF_WUR;

#endif
