/* Argument parsing for the client protocol parser, and its error/snippet helpers.
 *
 * Ports from Go nats-server v2.14.5: client.go processPub, processHeaderPub, parseSub,
 * processUnsub and splitArg; util.go parseSize; parser.go protoSnippet; the -ERR texts and
 * close reasons the callers of parse() use (client.go readLoop, maxPayloadViolation,
 * authViolation, overMaxControlLineLimit; monitor.go ClosedState.String).
 *
 * Invariants: nothing here allocates or copies; every np_str produced points into the
 * argument text given (or is the static empty string), and tokens are never empty.
 */
#include "proto/parser.h"

#include <stdio.h>
#include <string.h>

static const char np_empty[] = "";

#define NP_NOSTR ((np_str){np_empty, 0})

/* Separator classes: Go's processPub/processHeaderPub split on ' ' and '\t' only, while
 * splitArg (SUB/UNSUB) also splits on CR and LF, so a CR inside a PUB argument stays part of
 * a token. */
enum { NP_SEP_BLANK = 1, NP_SEP_CRLF = 2 };
static const uint8_t np_sep[256] = {
    [' '] = NP_SEP_BLANK, ['\t'] = NP_SEP_BLANK, ['\r'] = NP_SEP_CRLF, ['\n'] = NP_SEP_CRLF,
};

/* Stores up to `max` tokens separated by bytes of class `mask` and returns how many there
 * were in total, so callers can reject extra ones. */
static size_t np_split(const char *s, size_t n, uint8_t mask, np_str *tok, size_t max)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t count = 0;
    size_t i = 0;
    /* Every separator is <= ' ', so most bytes are settled by the first compare. */
    for (;;) {
        while (i < n && u[i] <= ' ' && (np_sep[u[i]] & mask))
            i++;
        if (i == n)
            return count;
        size_t start = i;
        while (i < n && (u[i] > ' ' || !(np_sep[u[i]] & mask)))
            i++;
        if (count < max)
            tok[count] = (np_str){s + start, (uint32_t)(i - start)};
        count++;
    }
}

int64_t np_parse_size(const char *s, size_t len)
{
    /* Go caps at 9 digits (999M) so the value cannot overflow; anything else is -1. */
    if (len == 0 || len > 9)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    return n;
}

/* Field by field: a compound-literal assignment compiles to a rep stos over the whole struct,
 * which dominated the cost of a small PUB. */
static inline void np_op_clear(np_op *op, np_op_type type)
{
    op->type = type;
    op->subject = NP_NOSTR;
    op->reply = NP_NOSTR;
    op->queue = NP_NOSTR;
    op->sid = NP_NOSTR;
    op->arg = NP_NOSTR;
    op->max_msgs = -1;
    op->hdr_len = 0;
    op->payload_len = 0;
    op->payload = (const uint8_t *)np_empty;
    op->size_str = NP_NOSTR;
    op->hdr_str = NP_NOSTR;
}

np_error np_parse_pub_args(const char *arg, size_t len, uint32_t max_payload, np_op *op)
{
    np_str t[3];
    size_t n = np_split(arg, len, NP_SEP_BLANK, t, 3);
    np_op_clear(op, NP_OP_PUB);
    if (n == 2) {
        op->subject = t[0];
        op->size_str = t[1];
    } else if (n == 3) {
        op->subject = t[0];
        op->reply = t[1];
        op->size_str = t[2];
    } else {
        return NP_ERR_BAD_ARGS;
    }
    int64_t size = np_parse_size(op->size_str.ptr, op->size_str.len);
    if (size < 0)
        return NP_ERR_BAD_ARGS;
    if ((uint64_t)size > max_payload)
        return NP_ERR_MAX_PAYLOAD;
    op->payload_len = (uint32_t)size;
    return NP_ERR_NONE;
}

np_error np_parse_hpub_args(const char *arg, size_t len, bool headers, uint32_t max_payload,
                            np_op *op)
{
    np_op_clear(op, NP_OP_HPUB);
    /* Go checks the headers flag before looking at the arguments at all. */
    if (!headers)
        return NP_ERR_HEADERS_NOT_SUPPORTED;
    np_str t[4];
    size_t n = np_split(arg, len, NP_SEP_BLANK, t, 4);
    if (n == 3) {
        op->subject = t[0];
        op->hdr_str = t[1];
        op->size_str = t[2];
    } else if (n == 4) {
        op->subject = t[0];
        op->reply = t[1];
        op->hdr_str = t[2];
        op->size_str = t[3];
    } else {
        return NP_ERR_BAD_ARGS;
    }
    int64_t hdr = np_parse_size(op->hdr_str.ptr, op->hdr_str.len);
    int64_t size = np_parse_size(op->size_str.ptr, op->size_str.len);
    if (hdr < 0 || size < 0 || hdr > size)
        return NP_ERR_BAD_ARGS;
    if ((uint64_t)size > max_payload)
        return NP_ERR_MAX_PAYLOAD;
    op->hdr_len = (uint32_t)hdr;
    op->payload_len = (uint32_t)size;
    return NP_ERR_NONE;
}

np_error np_parse_sub_args(const char *arg, size_t len, np_op *op)
{
    np_str t[3];
    size_t n = np_split(arg, len, NP_SEP_BLANK | NP_SEP_CRLF, t, 3);
    np_op_clear(op, NP_OP_SUB);
    if (n == 2) {
        op->subject = t[0];
        op->sid = t[1];
    } else if (n == 3) {
        op->subject = t[0];
        op->queue = t[1];
        op->sid = t[2];
    } else {
        return NP_ERR_BAD_ARGS;
    }
    return NP_ERR_NONE;
}

np_error np_parse_unsub_args(const char *arg, size_t len, np_op *op)
{
    np_str t[2];
    size_t n = np_split(arg, len, NP_SEP_BLANK | NP_SEP_CRLF, t, 2);
    np_op_clear(op, NP_OP_UNSUB);
    if (n < 1 || n > 2)
        return NP_ERR_BAD_ARGS;
    op->sid = t[0];
    /* Go: max = parseSize(args[1]); a non-number gives -1, which processUnsub treats exactly
     * like an absent max (unsubscribe now), so it is not an error. */
    if (n == 2)
        op->max_msgs = np_parse_size(t[1].ptr, t[1].len);
    return NP_ERR_NONE;
}

np_error_action np_error_action_of(np_error e)
{
    switch (e) {
    case NP_ERR_UNKNOWN_OP:
    case NP_ERR_MAX_PAYLOAD:
    case NP_ERR_MAX_CONTROL_LINE:
    case NP_ERR_AUTH_REQUIRED:
        return NP_ACT_SEND_ERR_AND_CLOSE;
    case NP_ERR_NONE:
    case NP_ERR_BAD_ARGS:
    case NP_ERR_HEADERS_NOT_SUPPORTED:
        break;
    }
    return NP_ACT_CLOSE;
}

const char *np_error_text(np_error e)
{
    switch (e) {
    case NP_ERR_UNKNOWN_OP:
        return "Unknown Protocol Operation";
    case NP_ERR_MAX_PAYLOAD:
        return "Maximum Payload Violation";
    case NP_ERR_MAX_CONTROL_LINE:
        /* overMaxControlLineLimit sends err.Error() of an errCtx wrapping ErrMaxControlLine,
         * which is the wrapped error's text, lower case. */
        return "maximum control line exceeded";
    case NP_ERR_AUTH_REQUIRED:
        return "Authorization Violation";
    case NP_ERR_NONE:
    case NP_ERR_BAD_ARGS:
    case NP_ERR_HEADERS_NOT_SUPPORTED:
        break;
    }
    return NULL;
}

const char *np_error_close_reason(np_error e)
{
    switch (e) {
    case NP_ERR_MAX_PAYLOAD:
        return "Maximum Message Payload Exceeded";
    case NP_ERR_MAX_CONTROL_LINE:
        return "Maximum Control Line Exceeded";
    case NP_ERR_AUTH_REQUIRED:
        return "Authentication Failure";
    case NP_ERR_NONE:
        return NULL;
    case NP_ERR_UNKNOWN_OP:
    case NP_ERR_BAD_ARGS:
    case NP_ERR_HEADERS_NOT_SUPPORTED:
        break;
    }
    return "Protocol Violation";
}

size_t np_parser_error_offset(const np_parser *p)
{
    return p->err_offset;
}

/* Appends s to out if it fits; keeps the result NUL-terminated. */
static void np_put(char *out, size_t outcap, size_t *o, const char *s, size_t n)
{
    if (outcap == 0)
        return;
    for (size_t k = 0; k < n && *o + 1 < outcap; k++)
        out[(*o)++] = s[k];
    out[*o] = '\0';
}

size_t np_proto_snippet(const uint8_t *buf, size_t len, size_t start, size_t max, char *out,
                        size_t outcap)
{
    size_t o = 0;
    if (outcap)
        out[0] = '\0';
    if (start >= len) {
        np_put(out, outcap, &o, "\"\"", 2);
        return o;
    }
    size_t stop = start + max;
    if (stop > len)
        stop = len - 1; /* Go's off-by-one: the last byte is left out */
    np_put(out, outcap, &o, "\"", 1);
    for (size_t i = start; i < stop; i++) {
        uint8_t c = buf[i];
        char esc[5];
        size_t n = 2;
        esc[0] = '\\';
        switch (c) {
        case '\a': esc[1] = 'a'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\v': esc[1] = 'v'; break;
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                esc[0] = (char)c;
                n = 1;
            } else {
                snprintf(esc, sizeof esc, "\\x%02x", c);
                n = 4;
            }
        }
        np_put(out, outcap, &o, esc, n);
    }
    np_put(out, outcap, &o, "\"", 1);
    return o;
}
