/* Client protocol parser state machine.
 *
 * Ports the CLIENT-kind paths of Go nats-server v2.14.5 server/parser.go (client.parse) and the
 * split-buffer handling around it (argBuf/msgBuf/scratch, overMaxControlLineLimit,
 * clonePubArg).  Argument splitting lives in parser_args.c.
 *
 * Go behaviour kept, byte for byte:
 *  - Op names are matched case-insensitively one byte at a time; any mismatch is a parse error
 *    (Unknown Protocol Operation).  A CLIENT may not start an op with R, L, A or M, so
 *    MSG/RMSG/LMSG/RS+/LS+/A+ are unknown ops.  HMSG is accepted, see parser.h.
 *  - PUB, HPUB, HMSG, SUB, UNSUB and -ERR need one ' ' or '\t' after the name; CONNECT and
 *    INFO need none ("CONNECT{}" is fine).  Blanks are then skipped and the first other byte,
 *    whatever it is (even CR or LF), starts the argument without being interpreted.
 *  - The argument runs to the next LF.  If a CR occurred anywhere in it (after its first
 *    byte) the single byte before the LF is dropped (Go's c.drop), else nothing is dropped.
 *    So "SUB foo 1\r\n" gives "foo 1", "CONNECT \r\n" gives "\r".
 *  - PING, PONG and +OK ignore every byte up to the LF.
 *  - Blank lines or blanks before an op are parse errors.
 *  - A payload of exactly the announced size must be followed by CR then LF; the first byte
 *    that differs is a parse error.  The payload itself is never inspected.
 *  - The control line limit applies to the argument length (after the drop) when the LF
 *    arrives and, as in Go, whenever a buffer ends inside an argument, so a line that never
 *    ends cannot buffer more than max_control_line (+1 for a trailing CR) bytes.
 *
 * Deliberate difference: when a buffer ends inside an argument Go keeps only non-CR bytes
 * (and drops the buffer's last byte if a CR was seen), so a bare CR inside an argument can make
 * the split result differ from the whole-buffer result.  Here the raw bytes are kept and the
 * whole-buffer rule is applied at the LF, so results never depend on read boundaries.  Only
 * arguments containing a CR that is not right before the LF are affected.
 *
 * Copying: an op that arrives whole is returned with pointers into the caller's buffer.  A
 * control line cut by a read boundary is accumulated in scratch; a payload cut by a read
 * boundary is copied into scratch after the op's strings (offsets kept, since scratch may
 * move when it grows).  Scratch is reused across ops.
 */
#include "proto/parser.h"

#include <stdlib.h>
#include <string.h>

enum np_state {
    S_START,
    S_P,         /* 'P' read: PUB, PING or PONG */
    S_H,         /* 'H' read: HPUB or HMSG */
    S_KW,        /* matching the rest of an op name */
    S_NEED_SPC,  /* op name done, one blank required */
    S_SPC,       /* skipping blanks before the argument */
    S_ARG,       /* reading the argument up to LF */
    S_SKIP_NL,   /* PING/PONG/+OK: ignore up to LF */
    S_PAYLOAD,   /* copying a split payload into scratch */
    S_END_R,     /* payload done, CR expected */
    S_END_N,     /* CR seen, LF expected */
    S_FAILED,    /* an error was returned; the owner must not feed us again */
};

enum np_kw {
    K_PUB,
    K_HPUB,
    K_HMSG,
    K_SUB,
    K_UNSUB,
    K_PING,
    K_PONG,
    K_CONNECT,
    K_INFO,
    K_OK,
    K_ERR,
};

/* Upper-case op names; letters compare with (b & 0xDF), which maps exactly the two cases of
 * a letter onto it.  '+' and '-' are only ever first bytes, matched in S_START. */
static const char *const np_kw_name[] = {
    [K_PUB] = "PUB",     [K_HPUB] = "HPUB", [K_HMSG] = "HMSG", [K_SUB] = "SUB",
    [K_UNSUB] = "UNSUB", [K_PING] = "PING", [K_PONG] = "PONG", [K_CONNECT] = "CONNECT",
    [K_INFO] = "INFO",   [K_OK] = "+OK",    [K_ERR] = "-ERR",
};

/* Above this, scratch is released once the op that needed it is done, so one large split
 * message does not pin max_payload bytes for the life of an idle connection. */
#define NP_SCRATCH_RETAIN (64u * 1024u)
#define NP_SCRATCH_MIN 256u

static const char np_empty[] = "";
#define NP_NOSTR ((np_str){np_empty, 0})

void np_parser_init(np_parser *p)
{
    memset(p, 0, sizeof *p);
    p->max_payload = 1024 * 1024;
    p->max_control_line = 4096;
    p->state = S_START;
}

void np_parser_free(np_parser *p)
{
    free(p->scratch);
    p->scratch = NULL;
    p->scratch_len = 0;
    p->scratch_cap = 0;
}

static ssize_t np_fail(np_parser *p, size_t at, np_error e)
{
    p->err_offset = at;
    p->err = (uint8_t)e;
    p->state = S_FAILED;
    return -(ssize_t)e;
}

/* Grows scratch to hold `need` bytes, keeping its contents.  Geometric while small; a large
 * payload gets exactly what it needs.  Out of memory aborts, as everywhere in this project. */
static void np_reserve(np_parser *p, size_t need)
{
    if (need <= p->scratch_cap)
        return;
    size_t cap = need;
    if (need <= NP_SCRATCH_RETAIN) {
        cap = p->scratch_cap ? p->scratch_cap * 2 : NP_SCRATCH_MIN;
        while (cap < need)
            cap *= 2;
        if (cap > NP_SCRATCH_RETAIN)
            cap = NP_SCRATCH_RETAIN;
    }
    uint8_t *n = realloc(p->scratch, cap);
    if (!n)
        abort();
    p->scratch = n;
    p->scratch_cap = cap;
}

/* Field by field: a compound-literal assignment compiles to a rep stos over the whole struct,
 * which dominated the cost of a small PUB. */
static inline void np_op_reset(np_op *op, np_op_type type)
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

static void np_done(np_parser *p)
{
    p->state = S_START;
    p->scratch_len = 0;
    p->arg_in_scratch = false;
}

static np_str np_pend_str(const np_parser *p, int k)
{
    if (p->pend_len[k] == 0)
        return NP_NOSTR;
    return (np_str){(const char *)p->scratch + p->pend_off[k], p->pend_len[k]};
}

/* The payload is cut by the end of this buffer: move the op's strings into scratch (they may
 * point into the caller's buffer) and make room for the payload after them. */
static void np_stash(np_parser *p, const np_op *op)
{
    np_str s[4] = {op->subject, op->reply, op->size_str, op->hdr_str};
    size_t base = 0;
    if (p->arg_in_scratch) {
        /* Strings already point into scratch; record offsets before any realloc. */
        for (int k = 0; k < 4; k++) {
            p->pend_off[k] = s[k].len ? (uint32_t)((const uint8_t *)s[k].ptr - p->scratch) : 0;
            p->pend_len[k] = s[k].len;
        }
        base = p->scratch_len;
        np_reserve(p, base + op->payload_len);
    } else {
        for (int k = 0; k < 4; k++)
            base += s[k].len;
        np_reserve(p, base + op->payload_len);
        size_t o = 0;
        for (int k = 0; k < 4; k++) {
            if (s[k].len)
                memcpy(p->scratch + o, s[k].ptr, s[k].len);
            p->pend_off[k] = (uint32_t)o;
            p->pend_len[k] = s[k].len;
            o += s[k].len;
        }
        p->arg_in_scratch = true;
    }
    p->pend_type = (uint8_t)op->type;
    p->pend_hdr = op->hdr_len;
    p->pend_size = op->payload_len;
    p->pend_payload_off = (uint32_t)base;
    p->pend_got = 0;
}

/* The control line of a PUB/HPUB/HMSG is complete and payload starts at buf[i]. */
static ssize_t np_payload_start(np_parser *p, const uint8_t *buf, size_t len, size_t i, np_op *op)
{
    size_t size = op->payload_len;
    size_t avail = len - i;
    if (avail >= size + 2) {
        /* Whole message in this buffer: no copy (Go jumps i to the payload end). */
        if (buf[i + size] != '\r')
            return np_fail(p, i + size, NP_ERR_UNKNOWN_OP);
        if (buf[i + size + 1] != '\n')
            return np_fail(p, i + size + 1, NP_ERR_UNKNOWN_OP);
        if (size)
            op->payload = buf + i;
        np_done(p);
        return (ssize_t)(i + size + 2);
    }
    np_stash(p, op);
    size_t take = avail < size ? avail : size;
    if (take)
        memcpy(p->scratch + p->pend_payload_off, buf + i, take);
    p->pend_got = (uint32_t)take;
    if (take < size) {
        p->state = S_PAYLOAD;
    } else if (avail == size) {
        p->state = S_END_R;
    } else { /* avail == size + 1: the CR is here, the LF is not */
        if (buf[i + size] != '\r')
            return np_fail(p, i + size, NP_ERR_UNKNOWN_OP);
        p->state = S_END_N;
    }
    op->type = NP_OP_NONE;
    return (ssize_t)len;
}

/* A control line is complete: arg/n is its argument, the next op starts at buf[next]. */
static ssize_t np_finish_arg(np_parser *p, const char *arg, size_t n, const uint8_t *buf,
                             size_t len, size_t next, np_op *op)
{
    np_error e = NP_ERR_NONE;
    switch ((enum np_kw)p->kw_op) {
    case K_CONNECT:
    case K_INFO:
    case K_ERR:
        np_op_reset(op, p->kw_op == K_CONNECT ? NP_OP_CONNECT
                        : p->kw_op == K_INFO  ? NP_OP_INFO
                                              : NP_OP_ERR);
        op->arg = (np_str){arg, (uint32_t)n};
        /* Go re-reads awaitingAuth() right after processConnect. */
        if (p->kw_op == K_CONNECT)
            p->require_connect = false;
        break;
    case K_SUB:
        e = np_parse_sub_args(arg, n, op);
        break;
    case K_UNSUB:
        e = np_parse_unsub_args(arg, n, op);
        break;
    case K_PUB:
        e = np_parse_pub_args(arg, n, p->max_payload, op);
        if (e == NP_ERR_NONE)
            return np_payload_start(p, buf, len, next, op);
        break;
    case K_HPUB:
        e = np_parse_hpub_args(arg, n, p->headers, p->max_payload, op);
        if (e == NP_ERR_NONE)
            return np_payload_start(p, buf, len, next, op);
        break;
    case K_HMSG:
        /* A CLIENT's HMSG line is not interpreted by Go: it then reads a zero-size payload
         * (pa.size is 0) and runs processInboundClientMsg with an empty subject. */
        np_op_reset(op, NP_OP_PUB);
        return np_payload_start(p, buf, len, next, op);
    case K_PING:
    case K_PONG:
    case K_OK:
        break;
    }
    if (e != NP_ERR_NONE)
        return np_fail(p, next - 1, e);
    np_done(p);
    return (ssize_t)next;
}

/* Reads argument bytes from buf[from]; the argument's first byte was already taken (it is at
 * buf[p->arg_start] or in scratch). */
static ssize_t np_arg(np_parser *p, const uint8_t *buf, size_t len, size_t from, np_op *op)
{
    const uint8_t *nl = memchr(buf + from, '\n', len - from);
    size_t end = nl ? (size_t)(nl - buf) : len;
    /* Usually the CR sits right before the LF; only otherwise scan the rest. */
    if (!p->drop && end > from &&
        (buf[end - 1] == '\r' || memchr(buf + from, '\r', end - from - 1)))
        p->drop = true;
    size_t raw = (p->arg_in_scratch ? p->scratch_len : from - p->arg_start) + (end - from);
    /* drop implies a CR after the first byte, so raw >= 2 then. */
    if (raw - p->drop > p->max_control_line)
        return np_fail(p, end, NP_ERR_MAX_CONTROL_LINE);

    const char *arg = (const char *)buf + p->arg_start;
    if (p->arg_in_scratch || !nl) {
        size_t src = p->arg_in_scratch ? from : p->arg_start;
        np_reserve(p, p->scratch_len + (end - src));
        if (end > src)
            memcpy(p->scratch + p->scratch_len, buf + src, end - src);
        p->scratch_len += end - src;
        p->arg_in_scratch = true;
        if (!nl)
            return (ssize_t)len;
        arg = (const char *)p->scratch;
    }
    return np_finish_arg(p, arg, raw - p->drop, buf, len, end + 1, op);
}

/* The op name is complete: what must follow it. */
static void np_after_name(np_parser *p)
{
    switch ((enum np_kw)p->kw_op) {
    case K_CONNECT:
    case K_INFO:
        p->state = S_SPC;
        break;
    case K_PING:
    case K_PONG:
    case K_OK:
        p->state = S_SKIP_NL;
        break;
    case K_PUB:
    case K_HPUB:
    case K_HMSG:
    case K_SUB:
    case K_UNSUB:
    case K_ERR:
        p->state = S_NEED_SPC;
        break;
    }
}

static void np_name(np_parser *p, enum np_kw kw, uint8_t matched)
{
    p->kw_op = (uint8_t)kw;
    p->kw_pos = matched;
    p->state = S_KW;
}

/* Hot-path shortcut for the frequent ops when their whole name (and, for PUB/SUB, the blank
 * after it) is in view: one 32-bit compare instead of a state per byte.  Anything it does not
 * recognise falls through to the byte-wise matcher, so errors are found exactly as before.
 * Sets the state and kw_pos = bytes to consume. */
static inline bool np_fast_name(np_parser *p, const uint8_t *s)
{
    uint32_t w;
    memcpy(&w, s, 4);
    w &= 0xDFDFDFDFu; /* letters to upper case; only letters can then match the names */
#define NP_W(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
    bool blank3 = s[3] == ' ' || s[3] == '\t';
    bool blank4 = s[4] == ' ' || s[4] == '\t';
    if ((w & 0xFFFFFFu) == NP_W('P', 'U', 'B', 0) && blank3) {
        p->kw_op = K_PUB;
        p->kw_pos = 4;
        p->state = S_SPC;
    } else if (w == NP_W('H', 'P', 'U', 'B') && blank4) {
        p->kw_op = K_HPUB;
        p->kw_pos = 5;
        p->state = S_SPC;
    } else if ((w & 0xFFFFFFu) == NP_W('S', 'U', 'B', 0) && blank3) {
        p->kw_op = K_SUB;
        p->kw_pos = 4;
        p->state = S_SPC;
    } else if (w == NP_W('P', 'I', 'N', 'G') || w == NP_W('P', 'O', 'N', 'G')) {
        p->kw_op = w == NP_W('P', 'I', 'N', 'G') ? K_PING : K_PONG;
        p->kw_pos = 4;
        p->state = S_SKIP_NL;
    } else {
        return false;
    }
#undef NP_W
    return true;
}

static ssize_t np_step(np_parser *p, const uint8_t *buf, size_t len, np_op *op)
{
    if (p->state == S_FAILED)
        return -(ssize_t)p->err;
    if (p->state == S_START && p->scratch_cap > NP_SCRATCH_RETAIN) {
        free(p->scratch);
        p->scratch = NULL;
        p->scratch_cap = 0;
    }

    size_t i = 0;
    while (i < len) {
        uint8_t b = buf[i];
        switch ((enum np_state)p->state) {
        case S_START:
            /* Go's authErr: only a CONNECT may come first while auth is pending.  Nothing is
             * consumed and the state is kept, so the owner may retry (no_auth_user). */
            if (p->require_connect && (b & 0xDF) != 'C') {
                p->err_offset = i;
                return -(ssize_t)NP_ERR_AUTH_REQUIRED;
            }
            if (len - i >= 5 && np_fast_name(p, buf + i)) {
                i += p->kw_pos;
                break;
            }
            if (b == '+') {
                np_name(p, K_OK, 1);
            } else if (b == '-') {
                np_name(p, K_ERR, 1);
            } else {
                switch (b & 0xDF) {
                case 'P': p->state = S_P; break;
                case 'H': p->state = S_H; break;
                case 'S': np_name(p, K_SUB, 1); break;
                case 'U': np_name(p, K_UNSUB, 1); break;
                case 'C': np_name(p, K_CONNECT, 1); break;
                case 'I': np_name(p, K_INFO, 1); break;
                default: return np_fail(p, i, NP_ERR_UNKNOWN_OP);
                }
            }
            i++;
            break;
        case S_P:
            switch (b & 0xDF) {
            case 'U': np_name(p, K_PUB, 2); break;
            case 'I': np_name(p, K_PING, 2); break;
            case 'O': np_name(p, K_PONG, 2); break;
            default: return np_fail(p, i, NP_ERR_UNKNOWN_OP);
            }
            i++;
            break;
        case S_H:
            switch (b & 0xDF) {
            case 'P': np_name(p, K_HPUB, 2); break;
            case 'M': np_name(p, K_HMSG, 2); break;
            default: return np_fail(p, i, NP_ERR_UNKNOWN_OP);
            }
            i++;
            break;
        case S_KW: {
            const char *name = np_kw_name[p->kw_op];
            if ((b & 0xDF) != (uint8_t)name[p->kw_pos])
                return np_fail(p, i, NP_ERR_UNKNOWN_OP);
            i++;
            if (name[++p->kw_pos] == '\0')
                np_after_name(p);
            break;
        }
        case S_NEED_SPC:
            if (b != ' ' && b != '\t')
                return np_fail(p, i, NP_ERR_UNKNOWN_OP);
            p->state = S_SPC;
            i++;
            break;
        case S_SPC:
            while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
            if (i == len)
                return (ssize_t)len;
            p->arg_start = i;
            p->arg_in_scratch = false;
            p->drop = false;
            p->scratch_len = 0;
            p->state = S_ARG;
            return np_arg(p, buf, len, i + 1, op);
        case S_ARG:
            return np_arg(p, buf, len, i, op);
        case S_SKIP_NL: {
            const uint8_t *nl = memchr(buf + i, '\n', len - i);
            if (!nl)
                return (ssize_t)len;
            np_op_reset(op, p->kw_op == K_PING   ? NP_OP_PING
                            : p->kw_op == K_PONG ? NP_OP_PONG
                                                 : NP_OP_OK);
            np_done(p);
            return (ssize_t)(nl - buf + 1);
        }
        case S_PAYLOAD: {
            size_t want = p->pend_size - p->pend_got;
            size_t take = len - i < want ? len - i : want;
            memcpy(p->scratch + p->pend_payload_off + p->pend_got, buf + i, take);
            p->pend_got += (uint32_t)take;
            i += take;
            if (p->pend_got == p->pend_size)
                p->state = S_END_R;
            break;
        }
        case S_END_R:
            if (b != '\r')
                return np_fail(p, i, NP_ERR_UNKNOWN_OP);
            p->state = S_END_N;
            i++;
            break;
        case S_END_N:
            if (b != '\n')
                return np_fail(p, i, NP_ERR_UNKNOWN_OP);
            np_op_reset(op, (np_op_type)p->pend_type);
            op->subject = np_pend_str(p, 0);
            op->reply = np_pend_str(p, 1);
            op->size_str = np_pend_str(p, 2);
            op->hdr_str = np_pend_str(p, 3);
            op->hdr_len = p->pend_hdr;
            op->payload_len = p->pend_size;
            if (p->pend_size)
                op->payload = p->scratch + p->pend_payload_off;
            np_done(p);
            return (ssize_t)(i + 1);
        case S_FAILED:
            return -(ssize_t)p->err;
        }
    }
    return (ssize_t)len;
}

ssize_t np_parse(np_parser *p, const uint8_t *buf, size_t len, np_op *op)
{
    op->type = NP_OP_NONE;
    ssize_t r = np_step(p, buf, len, op);
    /* Error paths may have half-filled op; make sure the caller never acts on it. */
    if (r < 0)
        op->type = NP_OP_NONE;
    return r;
}
