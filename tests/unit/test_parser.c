/* Unit tests for proto/parser: ports of Go nats-server v2.14.5 server/parser_test.go (the
 * CLIENT-kind tests) plus split-buffer, limit and error tests of our own.
 *
 * Go's tests poke at parser internals (c.state, c.as, c.drop, c.pa).  Where our states differ
 * we assert the observable equivalent: what np_parse consumed and which op it yielded.
 *
 * The transcript helpers feed an input in chunks (each chunk a separate heap copy freed right
 * after use, so ASan catches any op pointing into a stale chunk), record every op as text and
 * check that op pointers lie in the current chunk, in scratch, or are the empty string.
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "proto/parser.h"

#define S(lit) ((const uint8_t *)(lit)), (sizeof(lit) - 1)

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct tbuf {
    char *p;
    size_t len, cap;
} tbuf;

static void tb_putn(tbuf *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        cr_assert(t->p);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void tb_printf(tbuf *t, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    tb_putn(t, tmp, (size_t)n);
}

static void tb_esc(tbuf *t, const char *tag, const void *ptr, size_t n)
{
    const uint8_t *s = ptr;
    tb_printf(t, " %s=<", tag);
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '<' && s[i] != '>' && s[i] != '\\')
            tb_putn(t, (const char *)&s[i], 1);
        else
            tb_printf(t, "\\x%02x", s[i]);
    }
    tb_putn(t, ">", 1);
}

static const char *op_name(np_op_type t)
{
    switch (t) {
    case NP_OP_NONE: return "NONE";
    case NP_OP_CONNECT: return "CONNECT";
    case NP_OP_INFO: return "INFO";
    case NP_OP_PING: return "PING";
    case NP_OP_PONG: return "PONG";
    case NP_OP_PUB: return "PUB";
    case NP_OP_HPUB: return "HPUB";
    case NP_OP_SUB: return "SUB";
    case NP_OP_UNSUB: return "UNSUB";
    case NP_OP_OK: return "OK";
    case NP_OP_ERR: return "ERR";
    }
    return "?";
}

/* Every string of an op must be non-NULL and lie in the chunk, in scratch, or be empty. */
static void check_in(const np_parser *p, const uint8_t *chunk, size_t clen, const void *ptr,
                     size_t n)
{
    cr_assert(ptr != NULL);
    if (n == 0)
        return;
    const uint8_t *q = ptr;
    bool in_chunk = q >= chunk && q + n <= chunk + clen;
    bool in_scratch = p->scratch && q >= p->scratch && q + n <= p->scratch + p->scratch_cap;
    cr_assert(in_chunk || in_scratch, "op field outside chunk and scratch");
}

static void record(tbuf *t, const np_parser *p, const np_op *op, const uint8_t *chunk,
                   size_t clen)
{
    const np_str *strs[] = {&op->subject, &op->reply, &op->queue, &op->sid,
                            &op->arg,     &op->size_str, &op->hdr_str};
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        check_in(p, chunk, clen, strs[k]->ptr, strs[k]->len);
    check_in(p, chunk, clen, op->payload, op->payload_len);

    tb_printf(t, "%s", op_name(op->type));
    switch (op->type) {
    case NP_OP_PUB:
    case NP_OP_HPUB:
        tb_esc(t, "subj", op->subject.ptr, op->subject.len);
        tb_esc(t, "reply", op->reply.ptr, op->reply.len);
        tb_esc(t, "szb", op->size_str.ptr, op->size_str.len);
        tb_esc(t, "hdb", op->hdr_str.ptr, op->hdr_str.len);
        tb_printf(t, " hdr=%u size=%u", op->hdr_len, op->payload_len);
        tb_esc(t, "payload", op->payload, op->payload_len);
        break;
    case NP_OP_SUB:
        tb_esc(t, "subj", op->subject.ptr, op->subject.len);
        tb_esc(t, "queue", op->queue.ptr, op->queue.len);
        tb_esc(t, "sid", op->sid.ptr, op->sid.len);
        break;
    case NP_OP_UNSUB:
        tb_esc(t, "sid", op->sid.ptr, op->sid.len);
        tb_printf(t, " max=%lld", (long long)op->max_msgs);
        break;
    case NP_OP_CONNECT:
    case NP_OP_INFO:
    case NP_OP_ERR:
        tb_esc(t, "arg", op->arg.ptr, op->arg.len);
        break;
    default:
        break;
    }
    tb_putn(t, "\n", 1);
}

typedef struct cfg {
    uint32_t max_payload, max_control_line;
    bool require_connect, headers;
} cfg;

static const cfg DEF = {1024 * 1024, 4096, false, false};

static void setup(np_parser *p, const cfg *c)
{
    np_parser_init(p);
    p->max_payload = c->max_payload;
    p->max_control_line = c->max_control_line;
    p->require_connect = c->require_connect;
    p->headers = c->headers;
}

/* Feeds in[0..len) cut at the ascending positions cuts[0..ncuts) and returns the transcript
 * (caller frees).  The owner reacts to CONNECT like the broker would: headers:true enables
 * HPUB. */
static char *run_cuts(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
                      const cfg *c)
{
    np_parser p;
    setup(&p, c);
    tbuf t = {0};
    tb_putn(&t, "", 0);
    size_t start = 0;
    bool failed = false;
    for (size_t k = 0; k <= ncuts && !failed; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        size_t clen = end - start;
        uint8_t *chunk = malloc(clen ? clen : 1);
        memcpy(chunk, in + start, clen);
        size_t off = 0;
        while (off < clen) {
            np_op op;
            ssize_t n = np_parse(&p, chunk + off, clen - off, &op);
            if (n < 0) {
                tb_printf(&t, "ERROR %s\n", np_error_text((np_error)-n)
                                                ? np_error_text((np_error)-n)
                                                : ((np_error)-n == NP_ERR_BAD_ARGS ? "bad args"
                                                                                   : "headers"));
                failed = true;
                break;
            }
            cr_assert(n > 0, "no progress");
            cr_assert((size_t)n <= clen - off);
            off += (size_t)n;
            if (op.type != NP_OP_NONE) {
                record(&t, &p, &op, chunk, clen);
                if (op.type == NP_OP_CONNECT && memmem(op.arg.ptr, op.arg.len, "\"headers\":true", 14))
                    p.headers = true;
            }
        }
        free(chunk);
        start = end;
    }
    np_parser_free(&p);
    return t.p;
}

static char *run_whole(const uint8_t *in, size_t len, const cfg *c)
{
    return run_cuts(in, len, NULL, 0, c);
}

/* Whole, byte by byte, every 2-way split and (for short inputs) every 3-way split must give
 * the same transcript. */
static void check_splits(const uint8_t *in, size_t len, const cfg *c, const char *expect)
{
    char *whole = run_whole(in, len, c);
    if (expect)
        cr_assert_str_eq(whole, expect);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    for (size_t k = 1; k < len; k++)
        cuts[k - 1] = k;
    char *bytes = run_cuts(in, len, cuts, len ? len - 1 : 0, c);
    cr_assert_str_eq(bytes, whole, "byte-by-byte differs for %.*s", (int)len, (const char *)in);
    free(bytes);
    for (size_t a = 1; a < len; a++) {
        char *two = run_cuts(in, len, &a, 1, c);
        cr_assert_str_eq(two, whole, "split at %zu differs", a);
        free(two);
        if (len <= 80) {
            for (size_t b = a + 1; b < len; b++) {
                size_t ab[2] = {a, b};
                char *three = run_cuts(in, len, ab, 2, c);
                cr_assert_str_eq(three, whole, "split at %zu,%zu differs", a, b);
                free(three);
            }
        }
    }
    free(cuts);
    free(whole);
}

/* Parses one whole buffer expecting exactly one op that uses all of it. */
static np_op parse_one(np_parser *p, const uint8_t *buf, size_t len)
{
    np_op op;
    ssize_t n = np_parse(p, buf, len, &op);
    cr_assert_eq(n, (ssize_t)len, "consumed %zd of %zu", n, len);
    cr_assert_neq(op.type, NP_OP_NONE);
    return op;
}

static ssize_t parse_err(const uint8_t *buf, size_t len, const cfg *c)
{
    np_parser p;
    setup(&p, c);
    size_t off = 0;
    ssize_t n = 0;
    while (off < len) {
        np_op op;
        n = np_parse(&p, buf + off, len - off, &op);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    np_parser_free(&p);
    return n < 0 ? n : 0;
}

static bool str_is(np_str s, const char *lit)
{
    return s.ptr && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* ---- ports of server/parser_test.go ------------------------------------------------------- */

Test(parser, ping)
{
    GO_TEST("server/parser_test.go", "TestParsePing");
    np_parser p;
    np_parser_init(&p);
    const char *ping = "PING\r\n";
    np_op op;
    for (int k = 0; k < 5; k++) { /* Go: OP_P, OP_PI, OP_PIN, OP_PING, OP_PING */
        cr_assert_eq(np_parse(&p, (const uint8_t *)ping + k, 1, &op), 1);
        cr_assert_eq(op.type, NP_OP_NONE);
    }
    cr_assert_eq(np_parse(&p, (const uint8_t *)ping + 5, 1, &op), 1);
    cr_assert_eq(op.type, NP_OP_PING);
    op = parse_one(&p, S("PING\r\n"));
    cr_assert_eq(op.type, NP_OP_PING);
    /* Should tolerate spaces */
    cr_assert_eq(np_parse(&p, S("PING  \r"), &op), 7);
    cr_assert_eq(op.type, NP_OP_NONE);
    np_parser_free(&p);
    np_parser_init(&p); /* Go resets c.state = OP_START */
    op = parse_one(&p, S("PING  \r  \n"));
    cr_assert_eq(op.type, NP_OP_PING);
    np_parser_free(&p);
}

Test(parser, pong)
{
    GO_TEST_PARTIAL("server/parser_test.go", "TestParsePong",
                    "ping.out reset to 0 is the broker's processPong, not parser state");
    np_parser p;
    np_parser_init(&p);
    const char *pong = "PONG\r\n";
    np_op op;
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(np_parse(&p, (const uint8_t *)pong + k, 1, &op), 1);
        cr_assert_eq(op.type, NP_OP_NONE);
    }
    cr_assert_eq(np_parse(&p, (const uint8_t *)pong + 5, 1, &op), 1);
    cr_assert_eq(op.type, NP_OP_PONG);
    op = parse_one(&p, S("PONG\r\n"));
    cr_assert_eq(op.type, NP_OP_PONG);
    cr_assert_eq(np_parse(&p, S("PONG  \r"), &op), 7);
    cr_assert_eq(op.type, NP_OP_NONE);
    np_parser_free(&p);
    np_parser_init(&p);
    op = parse_one(&p, S("PONG  \r  \n"));
    cr_assert_eq(op.type, NP_OP_PONG);
    op = parse_one(&p, S("PONG\r\n"));
    cr_assert_eq(op.type, NP_OP_PONG);
    np_parser_free(&p);
}

Test(parser, connect)
{
    GO_TEST("server/parser_test.go", "TestParseConnect");
    np_parser p;
    np_parser_init(&p);
    static const char connect[] =
        "CONNECT {\"verbose\":false,\"pedantic\":true,\"tls_required\":false}\r\n";
    np_op op = parse_one(&p, S(connect));
    cr_assert_eq(op.type, NP_OP_CONNECT);
    /* Go: c.as == 8; the argument is zero-copy at offset 8. */
    cr_assert_eq(op.arg.ptr, connect + 8);
    cr_assert(str_is(op.arg, "{\"verbose\":false,\"pedantic\":true,\"tls_required\":false}"));
    np_parser_free(&p);
}

Test(parser, sub)
{
    GO_TEST("server/parser_test.go", "TestParseSub");
    np_parser p;
    np_parser_init(&p);
    static const char sub[] = "SUB foo 1\r";
    np_op op;
    cr_assert_eq(np_parse(&p, S(sub), &op), 10);
    cr_assert_eq(op.type, NP_OP_NONE);
    /* Go: state SUB_ARG, as == 4, drop == 1, arg so far "foo 1\r". */
    cr_assert_eq(p.arg_start, 4);
    cr_assert(p.drop);
    cr_assert(p.arg_in_scratch);
    cr_assert_eq(p.scratch_len, 6);
    cr_assert(memcmp(p.scratch, "foo 1\r", 6) == 0);
    cr_assert_eq(np_parse(&p, S("\n"), &op), 1);
    cr_assert_eq(op.type, NP_OP_SUB);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert(str_is(op.sid, "1"));
    cr_assert_eq(op.queue.len, 0);
    np_parser_free(&p);
}

Test(parser, pub)
{
    GO_TEST("server/parser_test.go", "TestParsePub");
    np_parser p;
    np_parser_init(&p);
    np_op op;
    /* Go stops in MSG_END_N with pa filled; we yield the op once the LF arrives. */
    cr_assert_eq(np_parse(&p, S("PUB foo 5\r\nhello\r"), &op), 17);
    cr_assert_eq(op.type, NP_OP_NONE);
    cr_assert_eq(np_parse(&p, S("\n"), &op), 1);
    cr_assert_eq(op.type, NP_OP_PUB);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert_eq(op.reply.len, 0);
    cr_assert_eq(op.payload_len, 5);
    cr_assert(memcmp(op.payload, "hello", 5) == 0);

    cr_assert_eq(np_parse(&p, S("PUB foo.bar INBOX.22 11\r\nhello world\r"), &op), 37);
    cr_assert_eq(np_parse(&p, S("\n"), &op), 1);
    cr_assert_eq(op.type, NP_OP_PUB);
    cr_assert(str_is(op.subject, "foo.bar"));
    cr_assert(str_is(op.reply, "INBOX.22"));
    cr_assert_eq(op.payload_len, 11);
    cr_assert(memcmp(op.payload, "hello world", 11) == 0);
    np_parser_free(&p);

    /* Data has more bytes than expected by size. */
    np_parser_init(&p);
    ssize_t n = np_parse(&p, S("PUB foo.bar 11\r\nhello world hello world\r"), &op);
    cr_assert_eq(n, -NP_ERR_UNKNOWN_OP);
    cr_assert_eq(op.type, NP_OP_NONE);
    cr_assert_eq(np_parser_error_offset(&p), 16 + 11);
    np_parser_free(&p);
}

Test(parser, pub_size_overflow)
{
    GO_TEST("server/parser_test.go", "TestParsePubSizeOverflow");
    cr_assert_eq(parse_err(S("PUB foo 3333333333333333333333333333333333333333333333333333333333333333\r\n"),
                           &DEF),
                 -NP_ERR_BAD_ARGS);
}

struct pub_arg_case {
    const char *arg, *subject, *reply;
    int hdr, size;
    const char *szb;
};

Test(parser, pub_arg)
{
    GO_TEST("server/parser_test.go", "TestParsePubArg");
    static const struct pub_arg_case tests[] = {
        {"a 2", "a", "", 0, 2, "2"},
        {"a 222", "a", "", 0, 222, "222"},
        {"foo 22", "foo", "", 0, 22, "22"},
        {" foo 22", "foo", "", 0, 22, "22"},
        {"foo 22 ", "foo", "", 0, 22, "22"},
        {"foo   22", "foo", "", 0, 22, "22"},
        {" foo 22 ", "foo", "", 0, 22, "22"},
        {" foo   22 ", "foo", "", 0, 22, "22"},
        {"foo bar 22", "foo", "bar", 0, 22, "22"},
        {" foo bar 22", "foo", "bar", 0, 22, "22"},
        {"foo bar 22 ", "foo", "bar", 0, 22, "22"},
        {"foo  bar  22", "foo", "bar", 0, 22, "22"},
        {" foo bar 22 ", "foo", "bar", 0, 22, "22"},
        {"  foo   bar  22  ", "foo", "bar", 0, 22, "22"},
        {"  foo   bar  2222  ", "foo", "bar", 0, 2222, "2222"},
        {"  foo     2222  ", "foo", "", 0, 2222, "2222"},
        {"a\t2", "a", "", 0, 2, "2"},
        {"a\t222", "a", "", 0, 222, "222"},
        {"foo\t22", "foo", "", 0, 22, "22"},
        {"\tfoo\t22", "foo", "", 0, 22, "22"},
        {"foo\t22\t", "foo", "", 0, 22, "22"},
        {"foo\t\t\t22", "foo", "", 0, 22, "22"},
        {"\tfoo\t22\t", "foo", "", 0, 22, "22"},
        {"\tfoo\t\t\t22\t", "foo", "", 0, 22, "22"},
        {"foo\tbar\t22", "foo", "bar", 0, 22, "22"},
        {"\tfoo\tbar\t22", "foo", "bar", 0, 22, "22"},
        {"foo\tbar\t22\t", "foo", "bar", 0, 22, "22"},
        {"foo\t\tbar\t\t22", "foo", "bar", 0, 22, "22"},
        {"\tfoo\tbar\t22\t", "foo", "bar", 0, 22, "22"},
        {"\t \tfoo\t \t \tbar\t \t22\t \t", "foo", "bar", 0, 22, "22"},
        {"\t\tfoo\t\t\tbar\t\t2222\t\t", "foo", "bar", 0, 2222, "2222"},
        {"\t \tfoo\t \t \t\t\t2222\t \t", "foo", "", 0, 2222, "2222"},
    };
    for (size_t k = 0; k < sizeof tests / sizeof tests[0]; k++) {
        const struct pub_arg_case *t = &tests[k];
        np_op op;
        cr_assert_eq(np_parse_pub_args(t->arg, strlen(t->arg), 1024 * 1024, &op), NP_ERR_NONE,
                     "%s", t->arg);
        cr_assert(str_is(op.subject, t->subject), "%s", t->arg);
        cr_assert(str_is(op.reply, t->reply), "%s", t->arg);
        cr_assert(str_is(op.size_str, t->szb), "%s", t->arg);
        cr_assert_eq(op.payload_len, (uint32_t)t->size, "%s", t->arg);
        cr_assert_eq(op.type, NP_OP_PUB);
    }
}

Test(parser, pub_bad_size)
{
    GO_TEST("server/parser_test.go", "TestParsePubBadSize");
    np_op op;
    /* More than 9 digits is "Bad or Missing Size" before max payload is even looked at. */
    cr_assert_eq(np_parse_pub_args("foo 2222222222222222", 20, 32768, &op), NP_ERR_BAD_ARGS);
    cr_assert_eq(np_parse_pub_args("foo 32769", 9, 32768, &op), NP_ERR_MAX_PAYLOAD);
    cr_assert_eq(np_parse_pub_args("foo 32768", 9, 32768, &op), NP_ERR_NONE);
}

Test(parser, header_pub)
{
    GO_TEST("server/parser_test.go", "TestParseHeaderPub");
    np_parser p;
    np_parser_init(&p);
    p.headers = true;
    np_op op;

    cr_assert_eq(np_parse(&p, S("HPUB foo 12 17\r\nname:derek\r\nHELLO\r"), &op), 34);
    cr_assert_eq(op.type, NP_OP_NONE);
    cr_assert_eq(np_parse(&p, S("\n"), &op), 1);
    cr_assert_eq(op.type, NP_OP_HPUB);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert_eq(op.reply.len, 0);
    cr_assert_eq(op.hdr_len, 12);
    cr_assert(str_is(op.hdr_str, "12"));
    cr_assert_eq(op.payload_len, 17);
    cr_assert(memcmp(op.payload, "name:derek\r\nHELLO", 17) == 0);

    cr_assert_eq(np_parse(&p, S("HPUB foo INBOX.22 12 17\r\nname:derek\r\nHELLO\r"), &op), 43);
    cr_assert_eq(np_parse(&p, S("\n"), &op), 1);
    cr_assert_eq(op.type, NP_OP_HPUB);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert(str_is(op.reply, "INBOX.22"));
    cr_assert_eq(op.hdr_len, 12);
    cr_assert(str_is(op.hdr_str, "12"));
    cr_assert_eq(op.payload_len, 17);

    cr_assert_eq(np_parse(&p, S("HPUB foo INBOX.22 0 5\r\nHELLO\r"), &op), 29);
    cr_assert_eq(np_parse(&p, S("\n"), &op), 1);
    cr_assert_eq(op.type, NP_OP_HPUB);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert(str_is(op.reply, "INBOX.22"));
    cr_assert_eq(op.hdr_len, 0);
    cr_assert(str_is(op.hdr_str, "0"));
    cr_assert_eq(op.payload_len, 5);
    np_parser_free(&p);
}

Test(parser, header_pub_arg)
{
    GO_TEST("server/parser_test.go", "TestParseHeaderPubArg");
    static const struct pub_arg_case tests[] = {
        {"a 2 4", "a", "", 2, 4, "4"},
        {"a 22 222", "a", "", 22, 222, "222"},
        {"foo 3 22", "foo", "", 3, 22, "22"},
        {" foo   1 22", "foo", "", 1, 22, "22"},
        {"foo 0   22 ", "foo", "", 0, 22, "22"},
        {"foo  0     22", "foo", "", 0, 22, "22"},
        {" foo 1 22 ", "foo", "", 1, 22, "22"},
        {" foo   3 22 ", "foo", "", 3, 22, "22"},
        {"foo bar 1 22", "foo", "bar", 1, 22, "22"},
        {" foo bar 11 22", "foo", "bar", 11, 22, "22"},
        {"foo bar 11 22 ", "foo", "bar", 11, 22, "22"},
        {"foo  bar  11  22", "foo", "bar", 11, 22, "22"},
        {" foo bar  11 22 ", "foo", "bar", 11, 22, "22"},
        {"  foo   bar  11   22  ", "foo", "bar", 11, 22, "22"},
        {"  foo   bar  22   2222  ", "foo", "bar", 22, 2222, "2222"},
        {"  foo 1    2222  ", "foo", "", 1, 2222, "2222"},
        {"a\t2\t22", "a", "", 2, 22, "22"},
        {"a\t2\t\t222", "a", "", 2, 222, "222"},
        {"foo\t2 22", "foo", "", 2, 22, "22"},
        {"\tfoo\t11\t  22", "foo", "", 11, 22, "22"},
        {"foo\t11\t22\t", "foo", "", 11, 22, "22"},
        {"foo\t\t\t11 22", "foo", "", 11, 22, "22"},
        {"\tfoo\t11\t \t 22\t", "foo", "", 11, 22, "22"},
        {"\tfoo\t\t\t11 22\t", "foo", "", 11, 22, "22"},
        {"foo\tbar\t2 22", "foo", "bar", 2, 22, "22"},
        {"\tfoo\tbar\t11\t22", "foo", "bar", 11, 22, "22"},
        {"foo\tbar\t11\t\t22\t ", "foo", "bar", 11, 22, "22"},
        {"foo\t\tbar\t\t11\t\t\t22", "foo", "bar", 11, 22, "22"},
        {"\tfoo\tbar\t11\t22\t", "foo", "bar", 11, 22, "22"},
        {"\t \tfoo\t \t \tbar\t \t11\t 22\t \t", "foo", "bar", 11, 22, "22"},
        {"\t\tfoo\t\t\tbar\t\t22\t\t\t2222\t\t", "foo", "bar", 22, 2222, "2222"},
        {"\t \tfoo\t \t \t\t\t11\t\t 2222\t \t", "foo", "", 11, 2222, "2222"},
    };
    for (size_t k = 0; k < sizeof tests / sizeof tests[0]; k++) {
        const struct pub_arg_case *t = &tests[k];
        np_op op;
        cr_assert_eq(np_parse_hpub_args(t->arg, strlen(t->arg), true, 1024 * 1024, &op),
                     NP_ERR_NONE, "%s", t->arg);
        cr_assert_eq(op.type, NP_OP_HPUB);
        cr_assert(str_is(op.subject, t->subject), "%s", t->arg);
        cr_assert(str_is(op.reply, t->reply), "%s", t->arg);
        cr_assert(str_is(op.size_str, t->szb), "%s", t->arg);
        cr_assert_eq(op.hdr_len, (uint32_t)t->hdr, "%s", t->arg);
        cr_assert_eq(op.payload_len, (uint32_t)t->size, "%s", t->arg);
    }
}

Test(parser, msg_space)
{
    GO_TEST_PARTIAL("server/parser_test.go", "TestParseMsgSpace",
                    "route half (MSG <SPC> from a ROUTER) has no client-parser equivalent");
    /* Anything with an M from a client should parse error. */
    cr_assert_eq(parse_err(S("M"), &DEF), -NP_ERR_UNKNOWN_OP);
    cr_assert_eq(parse_err(S("MSG \r\n"), &DEF), -NP_ERR_UNKNOWN_OP);
}

Test(parser, ping_no_auth_user)
{
    GO_TEST_PARTIAL("server/parser_test.go", "TestParsePingNoAuthUserExceptionsAndRestrictions",
                    "no_auth_user lookup and authentication are the broker's; only the parser "
                    "half (auth error before CONNECT, retry after the owner accepts) is tested");
    np_parser p;
    np_parser_init(&p);
    p.require_connect = true;
    np_op op;
    /* Without no_auth_user: PING first is an auth violation, nothing consumed. */
    cr_assert_eq(np_parse(&p, S("PING\r\n"), &op), -NP_ERR_AUTH_REQUIRED);
    cr_assert_eq(op.type, NP_OP_NONE);
    cr_assert(p.require_connect);
    cr_assert_eq(np_parser_error_offset(&p), 0);
    /* The owner's no_auth_user check passed: it clears the flag and feeds the same bytes. */
    p.require_connect = false;
    op = parse_one(&p, S("PING\r\n"));
    cr_assert_eq(op.type, NP_OP_PING);
    np_parser_free(&p);
}

Test(parser, ping_no_auth_user_restrictions)
{
    GO_TEST_PARTIAL("server/parser_test.go", "TestParsePingNoAuthUserEnforcesUserRestrictions",
                    "allowed_connection_types and proxy_required checks are the broker's; the "
                    "parser keeps rejecting until the owner clears require_connect");
    np_parser p;
    np_parser_init(&p);
    p.require_connect = true;
    np_op op;
    /* Owner refused the no_auth_user: the error is stable and CONNECT is not marked received. */
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(np_parse(&p, S("PING\r\n"), &op), -NP_ERR_AUTH_REQUIRED);
        cr_assert(p.require_connect);
    }
    np_parser_free(&p);
}

Test(parser, should_fail)
{
    GO_TEST_PARTIAL("server/parser_test.go", "TestShouldFail",
                    "\"CONNECT \\r\\n\" and \"INFO  \\r\\n\" fail in Go's JSON decoding, which "
                    "is the broker's; here we assert the parser hands over the non-JSON \"\\r\"");
    static const struct {
        const char *proto;
        np_error err;
    } wrong[] = {
        {"xxx", NP_ERR_UNKNOWN_OP},
        {"Px", NP_ERR_UNKNOWN_OP},
        {"PIx", NP_ERR_UNKNOWN_OP},
        {"PINx", NP_ERR_UNKNOWN_OP},
        {" PING", NP_ERR_UNKNOWN_OP},
        {"POx", NP_ERR_UNKNOWN_OP},
        {"PONx", NP_ERR_UNKNOWN_OP},
        {"+x", NP_ERR_UNKNOWN_OP},
        {"+Ox", NP_ERR_UNKNOWN_OP},
        {"-x", NP_ERR_UNKNOWN_OP},
        {"-Ex", NP_ERR_UNKNOWN_OP},
        {"-ERx", NP_ERR_UNKNOWN_OP},
        {"-ERRx", NP_ERR_UNKNOWN_OP},
        {"Cx", NP_ERR_UNKNOWN_OP},
        {"COx", NP_ERR_UNKNOWN_OP},
        {"CONx", NP_ERR_UNKNOWN_OP},
        {"CONNx", NP_ERR_UNKNOWN_OP},
        {"CONNEx", NP_ERR_UNKNOWN_OP},
        {"CONNECx", NP_ERR_UNKNOWN_OP},
        {"PUx", NP_ERR_UNKNOWN_OP},
        {"PUB foo\r\n", NP_ERR_BAD_ARGS},
        {"PUB  \r\n", NP_ERR_BAD_ARGS},
        {"PUB foo bar       \r\n", NP_ERR_BAD_ARGS},
        {"PUB foo 2\r\nok \r\n", NP_ERR_UNKNOWN_OP},
        {"PUB foo 2\r\nok\r \n", NP_ERR_UNKNOWN_OP},
        {"Sx", NP_ERR_UNKNOWN_OP},
        {"SUx", NP_ERR_UNKNOWN_OP},
        {"SUB\r\n", NP_ERR_UNKNOWN_OP},
        {"SUB  \r\n", NP_ERR_BAD_ARGS},
        {"SUB foo\r\n", NP_ERR_BAD_ARGS},
        {"SUB foo bar baz 22\r\n", NP_ERR_BAD_ARGS},
        {"Ux", NP_ERR_UNKNOWN_OP},
        {"UNx", NP_ERR_UNKNOWN_OP},
        {"UNSx", NP_ERR_UNKNOWN_OP},
        {"UNSUx", NP_ERR_UNKNOWN_OP},
        {"UNSUBx", NP_ERR_UNKNOWN_OP},
        {"UNSUBUNSUB 1\r\n", NP_ERR_UNKNOWN_OP},
        {"UNSUB_2\r\n", NP_ERR_UNKNOWN_OP},
        {"UNSUB_UNSUB_UNSUB 2\r\n", NP_ERR_UNKNOWN_OP},
        {"UNSUB_\t2\r\n", NP_ERR_UNKNOWN_OP},
        {"UNSUB\r\n", NP_ERR_UNKNOWN_OP},
        {"UNSUB \r\n", NP_ERR_BAD_ARGS},
        {"UNSUB          \t       \r\n", NP_ERR_BAD_ARGS},
        {"Ix", NP_ERR_UNKNOWN_OP},
        {"INx", NP_ERR_UNKNOWN_OP},
        {"INFx", NP_ERR_UNKNOWN_OP},
    };
    for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++) {
        const char *s = wrong[k].proto;
        cr_assert_eq(parse_err((const uint8_t *)s, strlen(s), &DEF), -(ssize_t)wrong[k].err,
                     "%s", s);
    }
    /* CONNECT/INFO: the argument is the lone CR, which is not JSON. */
    np_parser p;
    np_parser_init(&p);
    np_op op = parse_one(&p, S("CONNECT \r\n"));
    cr_assert_eq(op.type, NP_OP_CONNECT);
    cr_assert(str_is(op.arg, "\r"));
    op = parse_one(&p, S("INFO  \r\n"));
    cr_assert_eq(op.type, NP_OP_INFO);
    cr_assert(str_is(op.arg, "\r"));
    np_parser_free(&p);
}

Test(parser, proto_snippet)
{
    GO_TEST("server/parser_test.go", "TestProtoSnippet");
    static const char sample[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char *const expected[] = {
        "\"abcdefghijklmnopqrstuvwxyzABCDEF\"", "\"bcdefghijklmnopqrstuvwxyzABCDEFG\"",
        "\"cdefghijklmnopqrstuvwxyzABCDEFGH\"", "\"defghijklmnopqrstuvwxyzABCDEFGHI\"",
        "\"efghijklmnopqrstuvwxyzABCDEFGHIJ\"", "\"fghijklmnopqrstuvwxyzABCDEFGHIJK\"",
        "\"ghijklmnopqrstuvwxyzABCDEFGHIJKL\"", "\"hijklmnopqrstuvwxyzABCDEFGHIJKLM\"",
        "\"ijklmnopqrstuvwxyzABCDEFGHIJKLMN\"", "\"jklmnopqrstuvwxyzABCDEFGHIJKLMNO\"",
        "\"klmnopqrstuvwxyzABCDEFGHIJKLMNOP\"", "\"lmnopqrstuvwxyzABCDEFGHIJKLMNOPQ\"",
        "\"mnopqrstuvwxyzABCDEFGHIJKLMNOPQR\"", "\"nopqrstuvwxyzABCDEFGHIJKLMNOPQRS\"",
        "\"opqrstuvwxyzABCDEFGHIJKLMNOPQRST\"", "\"pqrstuvwxyzABCDEFGHIJKLMNOPQRSTU\"",
        "\"qrstuvwxyzABCDEFGHIJKLMNOPQRSTUV\"", "\"rstuvwxyzABCDEFGHIJKLMNOPQRSTUVW\"",
        "\"stuvwxyzABCDEFGHIJKLMNOPQRSTUVWX\"", "\"tuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY\"",
        "\"uvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\"", "\"vwxyzABCDEFGHIJKLMNOPQRSTUVWXY\"",
        "\"wxyzABCDEFGHIJKLMNOPQRSTUVWXY\"",    "\"xyzABCDEFGHIJKLMNOPQRSTUVWXY\"",
        "\"yzABCDEFGHIJKLMNOPQRSTUVWXY\"",      "\"zABCDEFGHIJKLMNOPQRSTUVWXY\"",
        "\"ABCDEFGHIJKLMNOPQRSTUVWXY\"",        "\"BCDEFGHIJKLMNOPQRSTUVWXY\"",
        "\"CDEFGHIJKLMNOPQRSTUVWXY\"",          "\"DEFGHIJKLMNOPQRSTUVWXY\"",
        "\"EFGHIJKLMNOPQRSTUVWXY\"",            "\"FGHIJKLMNOPQRSTUVWXY\"",
        "\"GHIJKLMNOPQRSTUVWXY\"",              "\"HIJKLMNOPQRSTUVWXY\"",
        "\"IJKLMNOPQRSTUVWXY\"",                "\"JKLMNOPQRSTUVWXY\"",
        "\"KLMNOPQRSTUVWXY\"",                  "\"LMNOPQRSTUVWXY\"",
        "\"MNOPQRSTUVWXY\"",                    "\"NOPQRSTUVWXY\"",
        "\"OPQRSTUVWXY\"",                      "\"PQRSTUVWXY\"",
        "\"QRSTUVWXY\"",                        "\"RSTUVWXY\"",
        "\"STUVWXY\"",                          "\"TUVWXY\"",
        "\"UVWXY\"",                            "\"VWXY\"",
        "\"WXY\"",                              "\"XY\"",
        "\"Y\"",                                "\"\"",
        "\"\"",                                 "\"\"",
        "\"\"",
    };
    for (size_t start = 0; start < sizeof expected / sizeof expected[0]; start++) {
        char out[128];
        size_t n = np_proto_snippet((const uint8_t *)sample, sizeof sample - 1, start, 32, out,
                                    sizeof out);
        cr_assert_str_eq(out, expected[start], "start=%zu", start);
        cr_assert_eq(n, strlen(expected[start]));
    }
    /* Escapes as Go's %q does for ASCII. */
    char out[64];
    np_proto_snippet(S("a\r\n\t\"\\\x01\x7f\xffz"), 0, 32, out, sizeof out);
    cr_assert_str_eq(out, "\"a\\r\\n\\t\\\"\\\\\\x01\\x7f\\xff\"");
    /* Truncates to the output buffer. */
    char tiny[4];
    np_proto_snippet(S("abcdef"), 0, 32, tiny, sizeof tiny);
    cr_assert_str_eq(tiny, "\"ab");
}

Test(parser, ok)
{
    GO_TEST("server/parser_test.go", "TestParseOK");
    np_parser p;
    np_parser_init(&p);
    const char *ok = "+OK\r\n";
    np_op op;
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(np_parse(&p, (const uint8_t *)ok + k, 1, &op), 1);
        cr_assert_eq(op.type, NP_OP_NONE);
    }
    cr_assert_eq(np_parse(&p, (const uint8_t *)ok + 4, 1, &op), 1);
    cr_assert_eq(op.type, NP_OP_OK);
    np_parser_free(&p);
}

Test(parser, max_control_line)
{
    GO_TEST_PARTIAL("server/parser_test.go", "TestMaxControlLine",
                    "leaf/route/gateway kinds (16x limit) are not the client parser's");
    cfg c = DEF;
    c.max_control_line = 8;
    static const char pub[] = "PUB foo.bar.baz 2\r\nok\r\n";
    /* First a partial: PUB foo.bar.ba */
    np_parser p;
    setup(&p, &c);
    np_op op;
    cr_assert_eq(np_parse(&p, (const uint8_t *)pub, 14, &op), -NP_ERR_MAX_CONTROL_LINE);
    np_parser_free(&p);
    /* Now the full protocol (no split): still enforced. */
    cr_assert_eq(parse_err(S(pub), &c), -NP_ERR_MAX_CONTROL_LINE);
    cr_assert_str_eq(np_error_text(NP_ERR_MAX_CONTROL_LINE), "maximum control line exceeded");
}

/* ---- our own tests ------------------------------------------------------------------------- */

Test(parser, returns_after_each_op)
{
    np_parser p;
    np_parser_init(&p);
    static const char in[] = "PING\r\nSUB a 1\r\nPUB a 2\r\nhi\r\nUNSUB 1 5\r\nPONG\r\n";
    size_t off = 0;
    np_op_type want[] = {NP_OP_PING, NP_OP_SUB, NP_OP_PUB, NP_OP_UNSUB, NP_OP_PONG};
    size_t ends[] = {6, 15, 28, 39, 45};
    for (size_t k = 0; k < 5; k++) {
        np_op op;
        ssize_t n = np_parse(&p, (const uint8_t *)in + off, sizeof in - 1 - off, &op);
        cr_assert_gt(n, 0);
        off += (size_t)n;
        cr_assert_eq(op.type, want[k]);
        cr_assert_eq(off, ends[k]);
        /* Whole ops are zero-copy. */
        if (op.type == NP_OP_PUB) {
            cr_assert(op.subject.ptr > in && op.subject.ptr < in + sizeof in);
            cr_assert((const char *)op.payload == in + 24);
        }
    }
    cr_assert_eq(off, sizeof in - 1);
    np_parser_free(&p);
}

static const char *const samples[] = {
    "PING\r\nPONG\r\n+OK\r\n",
    "pInG\npOnG  xyz\r\n",
    "CONNECT {\"verbose\":false}\r\nPING\r\n",
    "CONNECT{}\r\nINFO\t{\"a\":1}  \r\n",
    "SUB foo 1\r\nSUB foo.* q 2\r\nUNSUB 1\r\nUNSUB 2 10\r\nUNSUB 3 abc\r\n",
    "sub\tfoo\t\tq\t9\r\nunsub  9  0\r\n",
    "PUB foo 5\r\nhello\r\nPUB foo bar 0\r\n\r\n",
    "PUB foo 005\r\nhe\r\nl\r\n",
    "PUB foo 11\r\nPUB x 1\r\nab\r\n",
    "pub a.b reply 3\nabc\r\nPING\r\n",
    "CONNECT {\"headers\":true}\r\nHPUB foo 12 17\r\nname:derek\r\nHELLO\r\n",
    "CONNECT {\"headers\":true}\r\nHPUB foo r 0 0\r\n\r\nhpub a 2 3\r\nk:v\r\n",
    "-ERR 'Unknown Protocol Operation'\r\n",
    "HMSG foo 1 2\r\n\r\nPING\r\n",
    "SUB foo\r 1\r\nSUB a\rbcd 1\n",
    "CONNECT\n{}\nPING\r\n",
    "PUB foo 2\r\nok \r\n",
    "PUB foo 2\r\nok\r \n",
    "PUB foo 5\r\r\nhello\r\n",
    "SUB foo 1\r\nMSG foo 1 0\r\n\r\n",
    "HPUB foo 1 2\r\nab\r\n",
    "PING\r\n\r\n",
    "UNSUB\r\n",
    "PUB foo 3333333333\r\n",
    "PUB foo 1\r\nx\r\nRS+ foo\r\n",
};

Test(parser, splits_equal_whole)
{
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++)
        check_splits((const uint8_t *)samples[k], strlen(samples[k]), &DEF, NULL);
}

Test(parser, sample_transcripts)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"pInG\npOnG  xyz\r\n", "PING\nPONG\n"},
        {"CONNECT{}\r\nINFO\t{\"a\":1}  \r\n", "CONNECT arg=<{}>\nINFO arg=<{\"a\":1}  >\n"},
        {"SUB foo 1\r\nSUB foo.* q 2\r\nUNSUB 1\r\nUNSUB 2 10\r\nUNSUB 3 abc\r\nUNSUB 4 0\r\n",
         "SUB subj=<foo> queue=<> sid=<1>\nSUB subj=<foo.*> queue=<q> sid=<2>\n"
         "UNSUB sid=<1> max=-1\nUNSUB sid=<2> max=10\nUNSUB sid=<3> max=-1\n"
         "UNSUB sid=<4> max=0\n"},
        {"PUB foo 005\r\nhe\r\nl\r\n",
         "PUB subj=<foo> reply=<> szb=<005> hdb=<> hdr=0 size=5 payload=<he\\x0d\\x0al>\n"},
        /* A payload is not inspected, even when it looks like a protocol line. */
        {"PUB foo 11\r\nPUB x 1\r\nab\r\n",
         "PUB subj=<foo> reply=<> szb=<11> hdb=<> hdr=0 size=11 payload=<PUB x 1\\x0d\\x0aab>\n"},
        /* LF alone ends a line; no CR means nothing is dropped. */
        {"pub a.b reply 3\nabc\r\n",
         "PUB subj=<a.b> reply=<reply> szb=<3> hdb=<> hdr=0 size=3 payload=<abc>\n"},
        {"-ERR 'Unknown Protocol Operation'\r\n", "ERR arg=<'Unknown Protocol Operation'>\n"},
        /* A client's HMSG: arguments ignored, zero-size payload, empty subject. */
        {"HMSG foo 1 2\r\n\r\nPING\r\n",
         "PUB subj=<> reply=<> szb=<> hdb=<> hdr=0 size=0 payload=<>\nPING\n"},
        {"HMSG foo 1 2\r\nab\r\n", "ERROR Unknown Protocol Operation\n"},
        /* A CR not right before the LF: the byte before the LF is dropped anyway (Go). */
        {"SUB foo\r 1\r\n", "SUB subj=<foo> queue=<> sid=<1>\n"},
        {"SUB a\rbcd 1\n", "SUB subj=<a> queue=<> sid=<bcd>\n"},
        {"SUB a b 1x\r\n", "SUB subj=<a> queue=<b> sid=<1x>\n"},
        /* In PUB a CR is not a separator: "5\r" is no number. */
        {"PUB foo 5\r\r\nhello\r\n", "ERROR bad args\n"},
        /* "CONNECT\n" starts the argument with the LF, which runs to the next LF. */
        {"CONNECT\n{}\nPING\r\n", "CONNECT arg=<\\x0a{}>\nPING\n"},
        {"PING\r\n\r\n", "PING\nERROR Unknown Protocol Operation\n"},
        {"SUB foo 1\r\nMSG foo 1 0\r\n\r\n",
         "SUB subj=<foo> queue=<> sid=<1>\nERROR Unknown Protocol Operation\n"},
        {"PUB foo 1\r\nx\r\nRS+ foo\r\n",
         "PUB subj=<foo> reply=<> szb=<1> hdb=<> hdr=0 size=1 payload=<x>\n"
         "ERROR Unknown Protocol Operation\n"},
        {"LS+ foo\r\n", "ERROR Unknown Protocol Operation\n"},
        {"A+ foo\r\n", "ERROR Unknown Protocol Operation\n"},
        {"HPUB foo 1 2\r\nab\r\n", "ERROR headers\n"},
        {"CONNECT {\"headers\":true}\r\nHPUB foo 3 2\r\nab\r\n",
         "CONNECT arg=<{\"headers\":true}>\nERROR bad args\n"},
        {"CONNECT {\"headers\":true}\r\nHPUB foo r 0 0\r\n\r\n",
         "CONNECT arg=<{\"headers\":true}>\n"
         "HPUB subj=<foo> reply=<r> szb=<0> hdb=<0> hdr=0 size=0 payload=<>\n"},
        {"PUB foo\tbar\t\t2 \r\nok\r\n",
         "PUB subj=<foo> reply=<bar> szb=<2> hdb=<> hdr=0 size=2 payload=<ok>\n"},
        {"PUB foo bar baz 2\r\nok\r\n", "ERROR bad args\n"},
        {"PUB foo -1\r\n", "ERROR bad args\n"},
        {"PUB foo +1\r\n", "ERROR bad args\n"},
        {"UNSUB 1 2 3\r\n", "ERROR bad args\n"},
        {"SUB a b c d\r\n", "ERROR bad args\n"},
        {"PUB foo 999999999\r\n", "ERROR Maximum Payload Violation\n"},
        {"\r\n", "ERROR Unknown Protocol Operation\n"},
        {"PINGPONG\r\nX", "PING\nERROR Unknown Protocol Operation\n"},
        {"+OK garbage\r\n", "OK\n"},
        {"-ERR\r\n", "ERROR Unknown Protocol Operation\n"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_splits((const uint8_t *)cases[k].in, strlen(cases[k].in), &DEF, cases[k].out);
}

Test(parser, pub_exact_max_payload)
{
    cfg c = DEF;
    c.max_payload = 4;
    check_splits(S("PUB a 4\r\nabcd\r\nPUB a 5\r\nabcde\r\n"), &c,
                 "PUB subj=<a> reply=<> szb=<4> hdb=<> hdr=0 size=4 payload=<abcd>\n"
                 "ERROR Maximum Payload Violation\n");
    c.max_payload = 0;
    check_splits(S("PUB a 0\r\n\r\nPUB a 1\r\n"), &c,
                 "PUB subj=<a> reply=<> szb=<0> hdb=<> hdr=0 size=0 payload=<>\n"
                 "ERROR Maximum Payload Violation\n");
    /* No limit (Go's jwt.NoLimit): nine digits is the only bound. */
    np_op op;
    cr_assert_eq(np_parse_pub_args("a 999999999", 11, UINT32_MAX, &op), NP_ERR_NONE);
    cr_assert_eq(op.payload_len, 999999999u);
    /* HPUB: the size (headers included) is what counts. */
    cr_assert_eq(np_parse_hpub_args("a 2 5", 5, true, 4, &op), NP_ERR_MAX_PAYLOAD);
    cr_assert_eq(np_parse_hpub_args("a 2 4", 5, true, 4, &op), NP_ERR_NONE);
    /* HPUB checks the headers flag before its arguments. */
    cr_assert_eq(np_parse_hpub_args("", 0, false, 4, &op), NP_ERR_HEADERS_NOT_SUPPORTED);
    cr_assert_eq(np_parse_hpub_args("a", 1, true, 4, &op), NP_ERR_BAD_ARGS);
    cr_assert_eq(np_parse_hpub_args("a x 4", 5, true, 4, &op), NP_ERR_BAD_ARGS);
    cr_assert_eq(np_parse_hpub_args("a 1 x", 5, true, 4, &op), NP_ERR_BAD_ARGS);
}

Test(parser, control_line_limit_exact)
{
    cfg c = DEF;
    c.max_control_line = 7;
    /* The argument "foo 1 2" is 7 bytes: fine; CR before LF does not count. */
    check_splits(S("SUB foo 1 2\r\n"), &c, "SUB subj=<foo> queue=<1> sid=<2>\n");
    check_splits(S("SUB foo  1 2\r\n"), &c, "ERROR maximum control line exceeded\n");
    /* The op name and blanks before the argument do not count either. */
    check_splits(S("SUB \t  foo 1 2\n"), &c, "SUB subj=<foo> queue=<1> sid=<2>\n");
    /* PING/PONG/+OK lines and CONNECT's leading blanks are never limited. */
    check_splits(S("PING 0123456789abcdef\r\n+OK 0123456789\r\nCONNECT            {}\r\n"), &c,
                 "PING\nOK\nCONNECT arg=<{}>\n");
    /* A line that never ends is cut off as soon as it is over the limit. */
    np_parser p;
    setup(&p, &c);
    np_op op;
    cr_assert_eq(np_parse(&p, S("SUB foo 1 2"), &op), 11);
    cr_assert_eq(np_parse(&p, S("\r"), &op), 1); /* 8 raw bytes, the CR would be dropped */
    cr_assert_eq(np_parse(&p, S("x"), &op), -NP_ERR_MAX_CONTROL_LINE);
    cr_assert_eq(np_parse(&p, S("\n"), &op), -NP_ERR_MAX_CONTROL_LINE); /* stays failed */
    cr_assert_leq(p.scratch_cap, 256u);
    np_parser_free(&p);

    /* Default limit, a 4096-byte argument passes and 4097 fails, whole and split. */
    cfg d = DEF;
    size_t n = 4 + 4096 + 2;
    uint8_t *buf = malloc(n + 2);
    memcpy(buf, "SUB ", 4);
    memset(buf + 4, 'x', 4096);
    buf[4 + 4096 - 2] = ' ';
    memcpy(buf + 4 + 4096, "\r\n", 2);
    char *w = run_whole(buf, n, &d);
    cr_assert(strncmp(w, "SUB subj=<xxx", 13) == 0);
    size_t cut = 2000;
    char *s2 = run_cuts(buf, n, &cut, 1, &d);
    cr_assert_str_eq(s2, w);
    free(w);
    free(s2);
    buf[4 + 4096 - 2] = 'x';
    memcpy(buf + 4 + 4096, " 1\r\n", 4);
    w = run_whole(buf, n + 2, &d);
    cr_assert_str_eq(w, "ERROR maximum control line exceeded\n");
    free(w);
    free(buf);
}

Test(parser, payload_crlf_checked_as_it_arrives)
{
    np_parser p;
    np_parser_init(&p);
    np_op op;
    cr_assert_eq(np_parse(&p, S("PUB a 3\r\nab"), &op), 11);
    cr_assert_eq(np_parse(&p, S("c"), &op), 1);
    cr_assert_eq(np_parse(&p, S("\rX"), &op), -NP_ERR_UNKNOWN_OP);
    cr_assert_eq(np_parser_error_offset(&p), 1);
    np_parser_free(&p);

    np_parser_init(&p);
    cr_assert_eq(np_parse(&p, S("PUB a 3\r\nabcX"), &op), -NP_ERR_UNKNOWN_OP);
    cr_assert_eq(np_parser_error_offset(&p), 12);
    np_parser_free(&p);

    np_parser_init(&p);
    cr_assert_eq(np_parse(&p, S("PUB a 3\r\nabc\r"), &op), 13);
    cr_assert_eq(np_parse(&p, S("\r"), &op), -NP_ERR_UNKNOWN_OP);
    np_parser_free(&p);
}

Test(parser, auth_required_until_connect)
{
    cfg c = DEF;
    c.require_connect = true;
    check_splits(S("PING\r\n"), &c, "ERROR Authorization Violation\n");
    check_splits(S("SUB a 1\r\n"), &c, "ERROR Authorization Violation\n");
    check_splits(S("\r\n"), &c, "ERROR Authorization Violation\n");
    /* Only the first byte is checked: "CX" is an unknown op, not an auth error. */
    check_splits(S("CX"), &c, "ERROR Unknown Protocol Operation\n");
    check_splits(S("connect {}\r\nPING\r\n"), &c, "CONNECT arg=<{}>\nPING\n");
    np_parser p;
    setup(&p, &c);
    np_op op = parse_one(&p, S("CONNECT {}\r\n"));
    cr_assert_eq(op.type, NP_OP_CONNECT);
    cr_assert_not(p.require_connect);
    np_parser_free(&p);
}

Test(parser, split_payload_uses_bounded_scratch)
{
    /* A 200 KiB payload fed in 1000-byte reads: copied once into scratch, which is exactly
     * control strings + payload, and released at the next call. */
    size_t size = 200 * 1024;
    char head[64];
    int hl = snprintf(head, sizeof head, "PUB big.subject rep %zu\r\n", size);
    size_t n = (size_t)hl + size + 2;
    uint8_t *in = malloc(n);
    memcpy(in, head, (size_t)hl);
    for (size_t k = 0; k < size; k++)
        in[hl + k] = (uint8_t)(k * 7);
    memcpy(in + hl + size, "\r\n", 2);

    np_parser p;
    np_parser_init(&p);
    np_op op = {0};
    size_t off = 0;
    int ops = 0;
    while (off < n) {
        size_t chunk = n - off < 1000 ? n - off : 1000;
        size_t used = 0;
        while (used < chunk) {
            ssize_t r = np_parse(&p, in + off + used, chunk - used, &op);
            cr_assert_gt(r, 0);
            used += (size_t)r;
            if (op.type != NP_OP_NONE) {
                ops++;
                cr_assert_eq(op.type, NP_OP_PUB);
                cr_assert(str_is(op.subject, "big.subject"));
                cr_assert(str_is(op.reply, "rep"));
                cr_assert_eq(op.payload_len, size);
                cr_assert(memcmp(op.payload, in + hl, size) == 0);
                cr_assert_eq(p.scratch_cap, strlen("big.subject") + 3 + 6 + size);
            }
        }
        off += chunk;
    }
    cr_assert_eq(ops, 1);
    /* The next call releases the large scratch. */
    op = parse_one(&p, S("PING\r\n"));
    cr_assert_eq(p.scratch_cap, 0);
    cr_assert_null(p.scratch);

    /* Small split messages reuse scratch without growing it. */
    for (int k = 0; k < 100; k++) {
        cr_assert_eq(np_parse(&p, S("PUB a 2\r\nh"), &op), 10);
        size_t cap = p.scratch_cap;
        op = parse_one(&p, S("i\r\n"));
        cr_assert(memcmp(op.payload, "hi", 2) == 0);
        cr_assert_eq(p.scratch_cap, cap);
        cr_assert_leq(cap, 256);
    }
    np_parser_free(&p);
    free(in);
}

Test(parser, split_control_line_with_whole_payload_mixes_pointers)
{
    np_parser p;
    np_parser_init(&p);
    np_op op;
    cr_assert_eq(np_parse(&p, S("PUB foo"), &op), 7);
    static const char rest[] = " 2\r\nok\r\n";
    op = parse_one(&p, S(rest));
    cr_assert_eq(op.type, NP_OP_PUB);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert((const uint8_t *)op.subject.ptr >= p.scratch &&
              (const uint8_t *)op.subject.ptr < p.scratch + p.scratch_cap);
    cr_assert((const char *)op.payload == rest + 4);
    np_parser_free(&p);
}

Test(parser, error_actions_and_texts)
{
    cr_assert_eq(np_error_action_of(NP_ERR_UNKNOWN_OP), NP_ACT_SEND_ERR_AND_CLOSE);
    cr_assert_eq(np_error_action_of(NP_ERR_MAX_PAYLOAD), NP_ACT_SEND_ERR_AND_CLOSE);
    cr_assert_eq(np_error_action_of(NP_ERR_MAX_CONTROL_LINE), NP_ACT_SEND_ERR_AND_CLOSE);
    cr_assert_eq(np_error_action_of(NP_ERR_AUTH_REQUIRED), NP_ACT_SEND_ERR_AND_CLOSE);
    cr_assert_eq(np_error_action_of(NP_ERR_BAD_ARGS), NP_ACT_CLOSE);
    cr_assert_eq(np_error_action_of(NP_ERR_HEADERS_NOT_SUPPORTED), NP_ACT_CLOSE);
    cr_assert_str_eq(np_error_text(NP_ERR_UNKNOWN_OP), "Unknown Protocol Operation");
    cr_assert_str_eq(np_error_text(NP_ERR_MAX_PAYLOAD), "Maximum Payload Violation");
    cr_assert_str_eq(np_error_text(NP_ERR_AUTH_REQUIRED), "Authorization Violation");
    cr_assert_null(np_error_text(NP_ERR_BAD_ARGS));
    cr_assert_null(np_error_text(NP_ERR_HEADERS_NOT_SUPPORTED));
    cr_assert_null(np_error_text(NP_ERR_NONE));
    cr_assert_str_eq(np_error_close_reason(NP_ERR_UNKNOWN_OP), "Protocol Violation");
    cr_assert_str_eq(np_error_close_reason(NP_ERR_BAD_ARGS), "Protocol Violation");
    cr_assert_str_eq(np_error_close_reason(NP_ERR_HEADERS_NOT_SUPPORTED), "Protocol Violation");
    cr_assert_str_eq(np_error_close_reason(NP_ERR_MAX_PAYLOAD),
                     "Maximum Message Payload Exceeded");
    cr_assert_str_eq(np_error_close_reason(NP_ERR_MAX_CONTROL_LINE),
                     "Maximum Control Line Exceeded");
    cr_assert_str_eq(np_error_close_reason(NP_ERR_AUTH_REQUIRED), "Authentication Failure");
}

Test(parser, parse_size)
{
    cr_assert_eq(np_parse_size("0", 1), 0);
    cr_assert_eq(np_parse_size("007", 3), 7);
    cr_assert_eq(np_parse_size("999999999", 9), 999999999);
    cr_assert_eq(np_parse_size("1000000000", 10), -1);
    cr_assert_eq(np_parse_size("", 0), -1);
    cr_assert_eq(np_parse_size("1a", 2), -1);
    cr_assert_eq(np_parse_size("-1", 2), -1);
}

Test(parser, sub_unsub_args)
{
    np_op op;
    cr_assert_eq(np_parse_sub_args("foo\r\nq\t1", 8, &op), NP_ERR_NONE);
    cr_assert(str_is(op.subject, "foo"));
    cr_assert(str_is(op.queue, "q"));
    cr_assert(str_is(op.sid, "1"));
    cr_assert_eq(np_parse_sub_args("foo", 3, &op), NP_ERR_BAD_ARGS);
    cr_assert_eq(np_parse_unsub_args("sid-x", 5, &op), NP_ERR_NONE);
    cr_assert(str_is(op.sid, "sid-x"));
    cr_assert_eq(op.max_msgs, -1);
    cr_assert_eq(np_parse_unsub_args(" 1 12345678901 ", 15, &op), NP_ERR_NONE);
    cr_assert_eq(op.max_msgs, -1);
    cr_assert_eq(np_parse_unsub_args("", 0, &op), NP_ERR_BAD_ARGS);
}
