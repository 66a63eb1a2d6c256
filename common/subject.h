/* Subject and queue-name validation and matching.
 *
 * Ports the subject helpers of Go nats-server v2.14.5 server/sublist.go (IsValidSubject,
 * IsValidPublishSubject, IsValidLiteralSubject, subjectIsLiteral, matchLiteral,
 * subjectIsSubsetMatch, tokenizing) and the queue-name check of client.go.
 * Tokens are separated by '.', '*' matches one token and '>' the rest (last token only).
 * All functions take (pointer, length) pairs; no NUL terminator is needed and none allocates.
 */
#ifndef NX_SUBJECT_H
#define NX_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

/* Go IsValidSubject: non-empty tokens, wildcards only as whole tokens, '>' last, no whitespace. */
bool nx_subject_valid(const char *s, size_t len);
/* Go IsValidLiteralSubject: valid and without wildcards (what pedantic mode requires of PUB). */
bool nx_subject_valid_literal(const char *s, size_t len);
/* Go IsValidPublishSubject: valid and literal; the non-pedantic client path checks less. */
bool nx_subject_valid_publish(const char *s, size_t len);
/* True if the subject contains no wildcard tokens. */
bool nx_subject_is_literal(const char *s, size_t len);
/* Go matchLiteral: does literal subject `lit` match `filter` (which may hold wildcards)? */
bool nx_subject_match_literal(const char *lit, size_t lit_len, const char *filter,
                              size_t filter_len);
/* Go subjectIsSubsetMatch: is every subject matched by `subj` also matched by `filter`? */
bool nx_subject_subset_match(const char *subj, size_t subj_len, const char *filter,
                             size_t filter_len);
/* Queue group names: Go's checks in parseSub (no whitespace, non-empty).  Precisely: non-empty
 * and none of the bytes Go's splitArg separates arguments on (' ', '\t', '\r', '\n'). */
bool nx_queue_valid(const char *s, size_t len);

/* --- Additions beyond the original contract --------------------------------------------- */

/* Go isValidSubject(s, checkRunes=true), used by the file store when recovering subjects:
 * nx_subject_valid plus no NUL byte and valid UTF-8 (Go also rejects an encoded U+FFFD,
 * because it cannot tell it from a decoding error). */
bool nx_subject_valid_checked(const char *s, size_t len);
/* Go SubjectsCollide: could both subjects (either may hold wildcards) match one literal? */
bool nx_subject_collide(const char *a, size_t a_len, const char *b, size_t b_len);
/* Go numTokens: 0 for the empty subject, else the number of '.'-separated tokens. */
size_t nx_subject_num_tokens(const char *s, size_t len);
/* Go tokenAt: the 1-based index-th token (index 0 or past the end gives an empty token).
 * Returns a pointer into `s` and stores the token length in *tok_len. */
const char *nx_subject_token_at(const char *s, size_t len, size_t index, size_t *tok_len);

#endif
