/* Lexer for the NATS configuration format.
 *
 * Port of nats-server v2.14.5 conf/lex.go.  The lexer is the same state machine as Go's
 * (one state per function, a stack of return states, a small item queue), so the token
 * stream, the values and the Go "line/pos" of every item match Go byte for byte.  That
 * matters because Go reports config errors with these exact positions.
 *
 * Position convention (kept from Go on purpose): `line` is 1-based; `pos` is the byte offset
 * of the item from the newline that starts its line, so it is 0-based on line 1 and 1-based on
 * later lines, and for strings with escapes it is computed from the decoded length.
 */
#ifndef NX_CONF_LEX_H
#define NX_CONF_LEX_H

#include <stddef.h>

typedef enum nx_conf_item_type {
    NX_CONF_ITEM_ERROR = 0,
    NX_CONF_ITEM_NIL,
    NX_CONF_ITEM_EOF,
    NX_CONF_ITEM_KEY,
    NX_CONF_ITEM_TEXT,
    NX_CONF_ITEM_STRING,
    NX_CONF_ITEM_BOOL,
    NX_CONF_ITEM_INTEGER,
    NX_CONF_ITEM_FLOAT,
    NX_CONF_ITEM_DATETIME,
    NX_CONF_ITEM_ARRAY_START,
    NX_CONF_ITEM_ARRAY_END,
    NX_CONF_ITEM_MAP_START,
    NX_CONF_ITEM_MAP_END,
    NX_CONF_ITEM_COMMENT_START,
    NX_CONF_ITEM_VARIABLE,
    NX_CONF_ITEM_INCLUDE,
} nx_conf_item_type;

typedef struct nx_conf_item {
    nx_conf_item_type type;
    const char *val; /* NUL-terminated (may also contain NULs, see len); owned by the lexer,
                        valid until the next nx_conf_lex_next() or nx_conf_lex_free() */
    size_t len;
    int line;
    int pos;
} nx_conf_item;

typedef struct nx_conf_lexer nx_conf_lexer;

/* Deepest state stack the lexer accepts before it reports "nesting too deep" (Go has no
 * limit; a valid config never needs more than a few entries per nesting level). */
#define NX_CONF_LEX_MAX_STACK 4096

/* input need not be NUL-terminated and must outlive the lexer.  NULL on allocation failure. */
nx_conf_lexer *nx_conf_lex_new(const char *input, size_t len);

/* Next item.  After an ERROR or EOF item the lexer is finished and keeps returning EOF. */
void nx_conf_lex_next(nx_conf_lexer *lx, nx_conf_item *it);

void nx_conf_lex_free(nx_conf_lexer *lx);

/* Go's itemType.String(): "Error", "EOF", "Key", ... */
const char *nx_conf_item_type_name(nx_conf_item_type t);

/* Go's unicode.IsSpace / unicode.IsDigit (Unicode 15.0, as in Go 1.25), used by the lexer and
 * by the parser's integer scan. */
int nx_conf_is_space(int r);
int nx_conf_is_digit(int r);

/* Go's utf8.DecodeRune: the rune at s[0..n) and its width; invalid bytes give U+FFFD, width 1.
 * n must be > 0. */
int nx_conf_decode_rune(const char *s, size_t n, int *width);

#endif
