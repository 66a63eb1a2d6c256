/* Client protocol parser: a resumable state machine over whatever bytes a read delivered.
 *
 * Ports the CLIENT-kind half of Go nats-server v2.14.5 server/parser.go plus the argument
 * splitting of client.go (processPub, processHeaderPub, parseSub, processUnsub).
 *
 * Use: feed each received buffer in a loop until it is consumed:
 *
 *     size_t off = 0;
 *     while (off < len) {
 *         np_op op;
 *         ssize_t n = np_parse(&p, buf + off, len - off, &op);
 *         if (n < 0) { handle error (-n is an np_error); break; }
 *         off += (size_t)n;
 *         if (op.type != NP_OP_NONE) handle(&op);
 *     }
 *
 * Invariants:
 *  - np_parse returns as soon as one complete operation is recognised, so the caller can act
 *    on each op in order (e.g. a CONNECT changes max_payload or the headers flag before the next
 *    PUB is parsed).
 *  - Strings and the payload in an np_op point either into the caller's buffer (when the op
 *    arrived whole: no copy) or into the parser's scratch buffer (when it was split across
 *    reads).  They stay valid until the next np_parse/np_parser_free call only.
 *  - Memory is bounded: a control line is never buffered past max_control_line, a payload never
 *    past max_payload (+ CRLF).  Both limits are read from the parser at the moment of the check
 *    so the owner may change them between calls.
 *  - Any byte sequence yields either ops or one error; after an error the parser must not be
 *    fed again (the connection is closed, as in Go).
 */
#ifndef NP_PARSER_H
#define NP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum np_op_type {
    NP_OP_NONE = 0, /* bytes consumed, no complete op yet */
    NP_OP_CONNECT,  /* arg = the JSON text after "CONNECT " (trimmed) */
    NP_OP_INFO,     /* arg = JSON text (a client may send INFO; Go ignores it for clients) */
    NP_OP_PING,
    NP_OP_PONG,
    NP_OP_PUB,      /* subject, reply (len 0 when absent), payload/payload_len */
    NP_OP_HPUB,     /* as PUB plus hdr_len: payload[0..hdr_len) are headers, total payload_len */
    NP_OP_SUB,      /* subject, queue (len 0 when absent), sid */
    NP_OP_UNSUB,    /* sid, max_msgs (-1 when absent) */
    NP_OP_OK,       /* +OK from a client: Go accepts and ignores it */
    NP_OP_ERR,      /* -ERR from a client: arg = the text; Go closes the connection */
} np_op_type;

/* What went wrong; each maps to Go's reaction in np_error_action/np_error_text. */
typedef enum np_error {
    NP_ERR_NONE = 0,
    NP_ERR_UNKNOWN_OP,       /* parseErr: -ERR 'Unknown Protocol Operation', close */
    NP_ERR_BAD_ARGS,         /* processPub/Sub/Unsub parse errors: close, no -ERR */
    NP_ERR_MAX_PAYLOAD,      /* -ERR 'Maximum Payload Violation', close */
    NP_ERR_MAX_CONTROL_LINE, /* -ERR 'Maximum Control Line Exceeded', close */
    NP_ERR_AUTH_REQUIRED,    /* first op not CONNECT while require_connect: caller sends
                                -ERR 'Authorization Violation' and closes */
    NP_ERR_HEADERS_NOT_SUPPORTED, /* HPUB before CONNECT enabled headers: close, no -ERR */
} np_error;

typedef struct np_str {
    const char *ptr;
    uint32_t len;
} np_str;

typedef struct np_op {
    np_op_type type;
    np_str subject;
    np_str reply;
    np_str queue;
    np_str sid;
    np_str arg; /* CONNECT/INFO JSON, -ERR text */
    int64_t max_msgs;     /* UNSUB; -1 when absent */
    uint32_t hdr_len;     /* HPUB header bytes at the start of payload; 0 for PUB */
    uint32_t payload_len; /* PUB/HPUB total bytes (headers + body), CRLF excluded */
    const uint8_t *payload;
} np_op;

typedef struct np_parser {
    /* Limits and flags: set by the owner, read at each check. */
    uint32_t max_payload;      /* default 1 MiB */
    uint32_t max_control_line; /* default 4096 */
    bool require_connect;      /* auth required and CONNECT not yet seen */
    bool headers;              /* CONNECT said headers:true (HPUB allowed) */

    /* Private state below. */
    int state;
    uint32_t needed;  /* payload bytes (+CRLF) still to read for a split PUB/HPUB */
    char *scratch;    /* holds a split control line, then a split payload */
    size_t scratch_len;
    size_t scratch_cap;
    np_op pending;    /* the PUB/HPUB whose payload is being read */
    uint32_t arg_start;
    bool arg_in_scratch;
} np_parser;

void np_parser_init(np_parser *p);
void np_parser_free(np_parser *p);

/* Parses from buf[0..len).  Returns bytes consumed (>= 0) and fills *op (type NP_OP_NONE when
 * no op completed), or -(np_error) on a protocol error. */
ssize_t np_parse(np_parser *p, const uint8_t *buf, size_t len, np_op *op);

typedef enum np_error_action {
    NP_ACT_SEND_ERR_AND_CLOSE,
    NP_ACT_CLOSE,
} np_error_action;

np_error_action np_error_action_of(np_error e);
/* The -ERR text as Go sends it without quotes ("Unknown Protocol Operation"), or NULL. */
const char *np_error_text(np_error e);

#endif
