/* Subject validation and matching.
 *
 * Ports Go nats-server v2.14.5 server/sublist.go: isValidSubject, IsValidLiteralSubject,
 * IsValidPublishSubject, subjectIsLiteral, matchLiteral, subjectIsSubsetMatch
 * (isSubsetMatchTokenized), SubjectsCollide, numTokens and tokenAt, plus the queue-name rule
 * implied by client.go splitArg/parseSub.
 *
 * Invariants kept from Go (tests in tests/unit/test_subject.c pin them):
 *  - tokens are the pieces between '.' separators; "" has one empty token, "a." has two;
 *  - '*' and '>' are wildcards only as whole one-byte tokens ("foo*" and "*bar" are literal);
 *  - nothing here allocates: tokenizing walks the bytes with a cursor instead of Go's slices.
 * Quirks of the Go code are reproduced on purpose (marked "Go quirk") because subject
 * behaviour is visible on the wire and must match the reference server.
 */
#include "common/subject.h"

#include <string.h>

#define NX_PWC '*'
#define NX_FWC '>'
#define NX_TSEP '.'

/* Cursor over the '.'-separated tokens of a subject, mirroring Go's strings.Split semantics. */
typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    bool done;
} tok_iter;

static void tok_init(tok_iter *it, const char *s, size_t len) {
    it->s = s;
    it->len = len;
    it->pos = 0;
    it->done = false;
}

static bool tok_next(tok_iter *it, const char **t, size_t *tl) {
    if (it->done) return false;
    const char *start = it->s + it->pos;
    size_t rest = it->len - it->pos;
    const char *dot = rest ? memchr(start, NX_TSEP, rest) : NULL;
    *t = start;
    if (dot) {
        *tl = (size_t)(dot - start);
        it->pos += *tl + 1;
    } else {
        *tl = rest;
        it->done = true;
    }
    return true;
}

static inline bool is_pwc(const char *t, size_t tl) {
    return tl == 1 && t[0] == NX_PWC;
}
static inline bool is_fwc(const char *t, size_t tl) {
    return tl == 1 && t[0] == NX_FWC;
}

/* Go's isValidSubject whitespace set. */
static inline bool is_subject_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Decodes like Go's `for _, r := range string`: false if any rune decodes to utf8.RuneError
 * (an invalid or overlong sequence, a surrogate, > U+10FFFF, or an encoded U+FFFD). */
static bool utf8_no_rune_error(const unsigned char *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char b = p[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0)
                lo = 0xA0;
            else if (b == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0)
                lo = 0x90;
            else if (b == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (len - i <= need) return false;
        if (p[i + 1] < lo || p[i + 1] > hi) return false;
        for (size_t k = 2; k <= need; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
        if (need == 2 && b == 0xEF && p[i + 1] == 0xBF && p[i + 2] == 0xBD)
            return false; /* U+FFFD itself: indistinguishable from RuneError in Go */
        i += need + 1;
    }
    return true;
}

static bool valid_subject(const char *s, size_t len, bool check_runes) {
    if (len == 0) return false;
    if (check_runes) {
        if (memchr(s, 0, len)) return false;
        if (!utf8_no_rune_error((const unsigned char *)s, len)) return false;
    }
    bool sfwc = false;
    tok_iter it;
    const char *t;
    size_t tl;
    tok_init(&it, s, len);
    while (tok_next(&it, &t, &tl)) {
        if (tl == 0 || sfwc) return false;
        if (tl > 1) {
            for (size_t i = 0; i < tl; i++)
                if (is_subject_space(t[i])) return false;
            continue;
        }
        if (t[0] == NX_FWC)
            sfwc = true;
        else if (is_subject_space(t[0]))
            return false;
    }
    return true;
}

bool nx_subject_valid(const char *s, size_t len) {
    return valid_subject(s, len, false);
}

bool nx_subject_valid_checked(const char *s, size_t len) {
    return valid_subject(s, len, true);
}

/* Go IsValidLiteralSubject only rejects empty and wildcard tokens; it does not look for
 * whitespace (Go quirk: "foo bar" is a valid literal subject). */
bool nx_subject_valid_literal(const char *s, size_t len) {
    tok_iter it;
    const char *t;
    size_t tl;
    tok_init(&it, s, len);
    while (tok_next(&it, &t, &tl)) {
        if (tl == 0 || is_pwc(t, tl) || is_fwc(t, tl)) return false;
    }
    return true;
}

bool nx_subject_valid_publish(const char *s, size_t len) {
    return nx_subject_valid(s, len) && nx_subject_is_literal(s, len);
}

/* Fast scan, no validity check (Go uses it in the cache layer): a '*' or '>' that stands
 * alone between separators or the ends makes the subject a wildcard subject. */
bool nx_subject_is_literal(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c != NX_PWC && c != NX_FWC) continue;
        if ((i == 0 || s[i - 1] == NX_TSEP) && (i + 1 == len || s[i + 1] == NX_TSEP)) return false;
    }
    return true;
}

bool nx_subject_match_literal(const char *lit, size_t ll, const char *filter, size_t ls) {
    size_t li = 0;
    for (size_t i = 0; i < ls; i++) {
        if (li >= ll) return false;
        char c = filter[i];
        if (c == NX_PWC) {
            /* Only a whole-token '*' is a wildcard; otherwise compare it as a byte below. */
            if (i == 0 || filter[i - 1] == NX_TSEP) {
                if (i == ls - 1) {
                    /* Last filter token: the rest of the literal must be one token. */
                    for (;;) {
                        if (li >= ll) return true;
                        if (lit[li] == NX_TSEP) return false;
                        li++;
                    }
                } else if (filter[i + 1] == NX_TSEP) {
                    /* Skip one literal token; the '.' after it is compared below. */
                    for (;;) {
                        if (li >= ll) return false;
                        if (lit[li] == NX_TSEP) break;
                        li++;
                    }
                    i++;
                }
            }
        } else if (c == NX_FWC) {
            if ((i == 0 || filter[i - 1] == NX_TSEP) && i == ls - 1) return true;
        }
        if (filter[i] != lit[li]) return false;
        li++;
    }
    return li >= ll;
}

/* Go isSubsetMatchTokenized over two token cursors. */
static bool subset_match_iters(tok_iter *subj, tok_iter *test) {
    const char *t1, *t2;
    size_t l1, l2;
    while (tok_next(test, &t2, &l2)) {
        if (!tok_next(subj, &t1, &l1)) return false;
        if (l2 == 0) return false;
        if (is_fwc(t2, l2)) return true;
        if (l1 == 0 || is_fwc(t1, l1)) return false;
        if (is_pwc(t1, l1)) {
            if (!is_pwc(t2, l2)) return false;
            continue;
        }
        /* Go quirk: any test token that merely starts with '*' accepts any subject token. */
        if (t2[0] != NX_PWC && (l1 != l2 || memcmp(t1, t2, l1) != 0)) return false;
    }
    /* Equal token counts: the subject cursor must be exhausted too. */
    return !tok_next(subj, &t1, &l1);
}

bool nx_subject_subset_match(const char *subj, size_t subj_len, const char *filter,
                             size_t filter_len) {
    tok_iter a, b;
    tok_init(&a, subj, subj_len);
    tok_init(&b, filter, filter_len);
    return subset_match_iters(&a, &b);
}

/* Go splitArg separates SUB arguments on these bytes, so a queue name cannot hold them. */
bool nx_queue_valid(const char *s, size_t len) {
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return false;
    }
    return true;
}

/* Go analyzeTokens plus a token count. */
static void analyze_tokens(const char *s, size_t len, bool *pwc, bool *fwc, size_t *n) {
    tok_iter it;
    const char *t;
    size_t tl;
    *pwc = *fwc = false;
    *n = 0;
    tok_init(&it, s, len);
    while (tok_next(&it, &t, &tl)) {
        (*n)++;
        if (is_pwc(t, tl))
            *pwc = true;
        else if (is_fwc(t, tl))
            *fwc = true;
    }
}

/* Go tokensCanMatch: note a token merely starting with a wildcard byte counts as wildcard. */
static bool tokens_can_match(const char *t1, size_t l1, const char *t2, size_t l2) {
    if (l1 == 0 || l2 == 0) return false;
    char a = t1[0], b = t2[0];
    if (a == NX_PWC || b == NX_PWC || a == NX_FWC || b == NX_FWC) return true;
    return l1 == l2 && memcmp(t1, t2, l1) == 0;
}

bool nx_subject_collide(const char *s1, size_t len1, const char *s2, size_t len2) {
    if (len1 == len2 && memcmp(s1, s2, len1) == 0) return true;
    bool pwc1, fwc1, pwc2, fwc2;
    size_t n1, n2;
    analyze_tokens(s1, len1, &pwc1, &fwc1, &n1);
    analyze_tokens(s2, len2, &pwc2, &fwc2, &n2);
    bool lit1 = !(pwc1 || fwc1), lit2 = !(pwc2 || fwc2);
    if (lit1 && lit2) return false; /* both literal and (checked above) different */
    tok_iter a, b;
    if (lit1 && !lit2) {
        tok_init(&a, s1, len1);
        tok_init(&b, s2, len2);
        return subset_match_iters(&a, &b);
    }
    if (lit2 && !lit1) {
        tok_init(&a, s2, len2);
        tok_init(&b, s1, len1);
        return subset_match_iters(&a, &b);
    }
    /* Both have wildcards: only '>' lets the token counts differ, and only on the shorter. */
    if (!fwc1 && !fwc2 && n1 != n2) return false;
    if (n1 != n2 && ((n1 < n2 && !fwc1) || (n2 < n1 && !fwc2))) return false;
    tok_init(&a, s1, len1);
    tok_init(&b, s2, len2);
    const char *t1, *t2;
    size_t l1, l2;
    while (tok_next(&a, &t1, &l1) && tok_next(&b, &t2, &l2))
        if (!tokens_can_match(t1, l1, t2, l2)) return false;
    return true;
}

size_t nx_subject_num_tokens(const char *s, size_t len) {
    if (len == 0) return 0;
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == NX_TSEP) n++;
    return n;
}

/* Go's tokenAt takes a uint8 index; we accept any size_t (no wrap at 256 tokens). */
const char *nx_subject_token_at(const char *s, size_t len, size_t index, size_t *tok_len) {
    size_t ti = 1, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == NX_TSEP) {
            if (ti == index) {
                *tok_len = i - start;
                return s + start;
            }
            start = i + 1;
            ti++;
        }
    }
    if (ti == index) {
        *tok_len = len - start;
        return s + start;
    }
    *tok_len = 0;
    return s + len;
}
