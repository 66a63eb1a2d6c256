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
 *    PUB is parsed).  It consumes at least one byte whenever len > 0 and returns no error.
 *  - Strings and the payload in an np_op point either into the caller's buffer (when the op
 *    arrived whole: no copy) or into the parser's scratch buffer (when it was split across
 *    reads), possibly a mix of both.  They stay valid until the next np_parse/np_parser_free
 *    call only.  Absent strings are {"", 0}, never NULL.
 *  - Memory is bounded: a control line is never buffered past max_control_line (+1 for a CR),
 *    a split payload never past max_payload (the CRLF is checked, not stored).  Both limits are
 *    read from the parser at the moment of the check so the owner may change them between calls.
 *    Scratch is reused across ops; only after a split op above 64 KiB is it released again (at
 *    the next call), so idle connections do not pin max_payload bytes each.
 *  - Any byte sequence yields either ops or one error; after an error the parser must not be
 *    fed again (the connection is closed, as in Go).  Sole exception: NP_ERR_AUTH_REQUIRED
 *    consumes nothing and changes nothing (see require_connect).
 *  - Results do not depend on how the stream is split into reads (Go's own split-buffer path
 *    differs from its whole-buffer path in corner cases with a bare CR inside an argument;
 *    this parser always follows the whole-buffer behaviour, see parser.c).
 *
 * Go behaviour the owner must mirror when acting on errors and ops (CLIENT connections):
 *  - NP_ERR_UNKNOWN_OP: -ERR 'Unknown Protocol Operation', close (Protocol Violation).  Also
 *    raised when the two bytes after a payload are not exactly CR LF.
 *  - NP_ERR_MAX_CONTROL_LINE: -ERR 'maximum control line exceeded' (lower case: Go sends
 *    ErrMaxControlLine.Error()), close (Maximum Control Line Exceeded).  Checked on the argument
 *    text after the op name (not the op name, not the CRLF) whenever a line completes and
 *    whenever a read ends inside an argument.  PING/PONG/+OK and the blanks after
 *    CONNECT/INFO/op names are never buffered and never checked.
 *  - NP_ERR_MAX_PAYLOAD: -ERR 'Maximum Payload Violation', close (Maximum Message Payload
 *    Exceeded).  Checked when the PUB/HPUB line is parsed, before any payload byte.
 *  - NP_ERR_BAD_ARGS, NP_ERR_HEADERS_NOT_SUPPORTED: close (Protocol Violation), no -ERR.
 *  - NP_ERR_AUTH_REQUIRED: -ERR 'Authorization Violation', close (Authentication Failure).
 *  - NP_OP_INFO from a client: Go only json-decodes it; invalid JSON closes the connection
 *    (Protocol Violation, no -ERR), valid JSON is ignored.
 *  - NP_OP_CONNECT: arg may be anything (e.g. "\r" for "CONNECT \r\n"); invalid JSON closes
 *    (Protocol Violation, no -ERR).  The parser clears require_connect when it yields CONNECT.
 *  - NP_OP_ERR: Go logs "Client Error <arg>" and closes (Parse Error), sends nothing.
 *  - NP_OP_OK: ignored.
 *  - NP_OP_PUB with subject.len == 0: a client sent "HMSG <anything>\r\n\r\n".  Go parses the
 *    HMSG line (max control line applies), ignores its arguments and then runs the inbound
 *    message path directly (processInboundClientMsg) with an empty subject and empty payload;
 *    the processPub checks (pedantic subject check, max payload) are not run.  A real PUB
 *    never has an empty subject.  If the two bytes after the HMSG line are not CR LF:
 *    NP_ERR_UNKNOWN_OP.
 */
#ifndef NP_PARSER_H
#define NP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum np_op_type {
    NP_OP_NONE = 0, /* bytes consumed, no complete op yet */
    NP_OP_CONNECT,  /* arg = the text after "CONNECT" and its blanks, CR before LF removed */
    NP_OP_INFO,     /* arg = JSON text (a client may send INFO; Go ignores it for clients) */
    NP_OP_PING,
    NP_OP_PONG,
    NP_OP_PUB,      /* subject, reply (len 0 when absent), payload/payload_len, size_str */
    NP_OP_HPUB,     /* as PUB plus hdr_len/hdr_str: payload[0..hdr_len) are headers */
    NP_OP_SUB,      /* subject, queue (len 0 when absent), sid */
    NP_OP_UNSUB,    /* sid, max_msgs (-1 when absent or not a number) */
    NP_OP_OK,       /* +OK from a client: Go accepts and ignores it */
    NP_OP_ERR,      /* -ERR from a client: arg = the text; Go closes the connection */
} np_op_type;

/* What went wrong; each maps to Go's reaction in np_error_action/np_error_text. */
typedef enum np_error {
    NP_ERR_NONE = 0,
    NP_ERR_UNKNOWN_OP,       /* parseErr: -ERR 'Unknown Protocol Operation', close */
    NP_ERR_BAD_ARGS,         /* processPub/Sub/Unsub parse errors: close, no -ERR */
    NP_ERR_MAX_PAYLOAD,      /* -ERR 'Maximum Payload Violation', close */
    NP_ERR_MAX_CONTROL_LINE, /* -ERR 'maximum control line exceeded', close */
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
    /* PUB/HPUB: the size tokens exactly as the client wrote them (e.g. "005").  Go copies
     * these bytes verbatim into the MSG/HMSG line it delivers (client.go msgHeader uses
     * pa.szb/pa.hdb), so byte-compatible delivery must echo them, not reformat the numbers. */
    np_str size_str;
    np_str hdr_str; /* HPUB only; {"", 0} for PUB */
} np_op;

typedef struct np_parser {
    /* Limits and flags: set by the owner, read at each check. */
    uint32_t max_payload;      /* default 1 MiB; UINT32_MAX = no limit (Go's jwt.NoLimit -1) */
    uint32_t max_control_line; /* default 4096 */
    /* Auth required and CONNECT not yet seen (Go's awaitingAuth()).  While set, any op whose
     * first byte is not 'C'/'c' fails with NP_ERR_AUTH_REQUIRED before anything is consumed.
     * The parser clears it when it yields a CONNECT (Go re-reads awaitingAuth() after
     * processConnect).  no_auth_user nuance: Go lets a CLIENT's first non-CONNECT op through
     * when no_auth_user names an existing user that is not proxy_required and whose
     * allowed_connection_types admit this connection, after running the CONNECT authentication
     * pipeline for that user (and marking CONNECT received).  An owner with no_auth_user does
     * that on NP_ERR_AUTH_REQUIRED: authenticate, clear require_connect, call np_parse again
     * with the same bytes; if authentication fails, send the auth violation as usual. */
    bool require_connect;
    bool headers; /* CONNECT said headers:true and the server supports them (HPUB allowed) */

    /* Private state below. */
    uint8_t state;     /* np_state in parser.c */
    uint8_t kw_op;     /* the op whose name/argument is being read */
    uint8_t kw_pos;    /* bytes of the op name matched so far */
    bool drop;         /* a CR was seen inside the argument: drop the byte before LF (Go c.drop) */
    bool arg_in_scratch; /* the argument so far lives in scratch, not in the current buffer */
    uint8_t err;       /* the np_error that stopped the parser, NP_ERR_NONE while healthy */
    size_t arg_start;  /* offset of the argument in the current buffer (!arg_in_scratch) */
    uint8_t *scratch;  /* a split control line, then the pending op's strings and payload */
    size_t scratch_len;
    size_t scratch_cap;
    /* The PUB/HPUB whose payload is being read: strings as offsets into scratch. */
    uint8_t pend_type;
    uint32_t pend_off[4], pend_len[4]; /* subject, reply, size_str, hdr_str */
    uint32_t pend_hdr, pend_size, pend_got, pend_payload_off;
    size_t err_offset; /* where in the last buffer the last error was detected */
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

/* --- Additions beyond the original contract --------------------------------------------- */

/* Go's ClosedState string for the close that follows the error ("Protocol Violation",
 * "Maximum Message Payload Exceeded", ...), as /connz reports it. */
const char *np_error_close_reason(np_error e);

/* Offset, in the buffer given to the failing np_parse call, of the byte at which the last
 * error was detected (Go's i in "parser ERROR, state=%d, i=%d"). */
size_t np_parser_error_offset(const np_parser *p);

/* Go protoSnippet(start, max, buf): %q-quoted buf[start:stop] for log lines, where stop is
 * start+max, or len-1 when that passes the end (Go's off-by-one kept); `""` when start >= len.
 * Writes at most outcap-1 bytes plus NUL; returns the length written.  Bytes >= 0x80 are
 * written as \xNN (Go prints valid printable UTF-8 as is). */
size_t np_proto_snippet(const uint8_t *buf, size_t len, size_t start, size_t max, char *out,
                        size_t outcap);

/* Go parseSize: 1..9 ASCII digits, else -1. */
int64_t np_parse_size(const char *s, size_t len);

/* The argument parsers np_parse uses once a control line is complete; arg excludes the op
 * name and the line end.  Each fills op (type and the fields of that op; strings point into
 * arg) and returns NP_ERR_NONE or the error.
 *  - PUB (Go processPub): fields split on ' '/'\t' only; 2 or 3 fields; size 1..9 digits.
 *  - HPUB (processHeaderPub): headers must be on (checked first); 3 or 4 fields; hdr <= size.
 *  - SUB (parseSub) and UNSUB (processUnsub): split on ' ', '\t', '\r', '\n'; SUB 2 or 3
 *    fields; UNSUB 1 or 2, max_msgs = np_parse_size of the second (-1 when not a number). */
np_error np_parse_pub_args(const char *arg, size_t len, uint32_t max_payload, np_op *op);
np_error np_parse_hpub_args(const char *arg, size_t len, bool headers, uint32_t max_payload,
                            np_op *op);
np_error np_parse_sub_args(const char *arg, size_t len, np_op *op);
np_error np_parse_unsub_args(const char *arg, size_t len, np_op *op);

#endif
