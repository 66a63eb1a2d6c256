/* Internals shared by common/transform.c (subject transforms) and common/mapping.c (weighted
 * mappings and `mappings {}`).  Not a public interface: see transform.h. */
#ifndef NX_TRANSFORM_INT_H
#define NX_TRANSFORM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A subject token: a view into a subject, not NUL-terminated. */
typedef struct tok {
    const char *p;
    size_t n;
} tok;

/* snprintf into err (when err is not NULL). */
void nxt_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Splits s at '.' into stack (stack_n entries) or, when more are needed, a malloc'd array
 * (free it when it is not `stack`); NULL on allocation failure. */
tok *nxt_split_toks(const char *s, size_t n, tok *stack, size_t stack_n, size_t *count);
/* Go isSubsetMatchTokenized: does the token list `test` match everything `tokens` matches? */
bool nxt_subset_match(const tok *tokens, size_t nt, const tok *test, size_t ntest);
/* strconv.ParseInt(t, 10, bits) after trimming spaces. */
bool nxt_parse_int(tok t, int bits, int64_t *out);
/* Go strconv.Quote of s (malloc'd). */
char *nxt_go_quote(const char *s, size_t n);
struct nx_transform;
struct nx_tr_out;
/* Applies tr to an already split subject (transform.c; used by the weighted selection). */
int nxt_apply_tokens(const struct nx_transform *tr, const tok *toks, size_t nt,
                     struct nx_tr_out *o);
/* A random 32-bit number (weighted destinations, {{random()}}). */
uint32_t nxt_rnd32(void);

#endif
