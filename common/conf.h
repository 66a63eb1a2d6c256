/* NATS configuration file parser: a value tree built from the conf_lex.h token stream.
 *
 * Port of nats-server v2.14.5 conf/parse.go, in the "pedantic" mode the Go server itself uses
 * (ParseFileWithChecks): every value carries the position Go's token would carry, so the
 * option layer can report "file:line:pos: unknown field" exactly like Go.
 *
 * Semantics kept from Go:
 *  - `key = v`, `key: v`, `key v`; maps {...} (also a bare top-level {...}); arrays [...];
 *    # and // comments; "..." with \t \n \r \" \\ \xXX escapes; '...' raw; bare strings;
 *    ( ... ) blocks ending at a ')' alone on a line.
 *  - integers with suffixes: k m g t p e = powers of 1000; kb/ki/kib (and mb, gi, ...) =
 *    powers of 1024, case-insensitive, wrapping on int64 overflow as Go does; an unknown
 *    suffix ("1kbi") sets no value at all, as in Go.
 *  - floats, booleans (true/false/yes/no/on/off, any case), ISO8601 Zulu datetimes
 *    (YYYY-MM-DDTHH:MM:SSZ); durations and everything else stay strings.
 *  - $VAR: looked up first in the maps being built (innermost first, exact key match), then
 *    in the environment, whose value is parsed as `pk=<value>` (cycles are errors).
 *    "$2a$..." (a bcrypt hash) is a plain string.
 *  - include "file" / include file: parsed on its own (it cannot see the includer's
 *    variables) relative to the directory of the including file, its keys merged into the
 *    current map.  Go does not detect include cycles; here they are errors.
 *  - a later duplicate key replaces the earlier value (Go map semantics); keys differing only
 *    in case are distinct entries, in file order.
 *
 * Limits Go does not have, so that no input can exhaust memory or the stack: nesting depth
 * (NX_CONF_MAX_DEPTH, counted through variables and includes too), include depth and count,
 * file size.  Variable references share the referenced subtree instead of copying it.
 *
 * Positions: `line` is 1-based; `col` is Go's token "position" (byte offset from the newline
 * that starts the line: 0-based on line 1, 1-based afterwards).  A map entry's value carries
 * its key's position (as Go's pedantic parser moves it there); array elements carry their
 * own (a map or array inside an array: its closing bracket).
 *
 * Errors are Go's messages prefixed by "file:line:col: " (or "line:col: " when parsing a
 * string without a name).  Go's "config is invalid (file:line:col)" already carries its
 * position and gets no prefix.
 */
#ifndef NX_CONF_H
#define NX_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum nx_conf_type {
    NX_CONF_MAP = 1,
    NX_CONF_ARRAY,
    NX_CONF_STRING,
    NX_CONF_INT,
    NX_CONF_FLOAT,
    NX_CONF_BOOL,
    NX_CONF_TIME,
} nx_conf_type;

/* flags */
#define NX_CONF_F_USED_VARIABLE 0x1u /* some $ref resolved to this value (Go IsUsedVariable) */
#define NX_CONF_F_FROM_VARIABLE 0x2u /* this value was produced by a $ref */
#define NX_CONF_F_NO_POS 0x4u        /* from an environment variable: Go keeps no token */
#define NX_CONF_F_ROOT 0x8u          /* the tree root returned by the parse functions */

#define NX_CONF_MAX_DEPTH 256        /* nested maps/arrays */
#define NX_CONF_MAX_INCLUDE_DEPTH 32 /* nested include files */
#define NX_CONF_MAX_INCLUDES 1024    /* include files per parse */
#define NX_CONF_MAX_ENV_DEPTH 32     /* environment variables expanding to variables */
#define NX_CONF_MAX_FILE (64u << 20) /* bytes per config file */

typedef struct nx_conf_value nx_conf_value;

typedef struct nx_conf_entry {
    const char *key; /* original key text, NUL-terminated */
    size_t key_len;
    nx_conf_value *value;
} nx_conf_entry;

struct nx_conf_value {
    nx_conf_type type;
    int line;
    int col;
    unsigned flags;
    int height;       /* nesting height: 0 for scalars, 1 + deepest child for containers */
    const char *file; /* source file as named by the parse call or include; "" when none */
    union {
        int64_t i; /* INT */
        double f;  /* FLOAT */
        bool b;    /* BOOL */
        int64_t t; /* TIME: Unix seconds, UTC */
        struct {
            const char *ptr;
            size_t len;
        } s; /* STRING: NUL-terminated, may hold NULs */
        struct {
            nx_conf_entry *items;
            size_t len;
        } map;
        struct {
            nx_conf_value **items;
            size_t len;
        } arr;
    } u;
};

/* Parse option flags. */
#define NX_CONF_NO_INCLUDE 0x1u /* an include is an error (e.g. untrusted input, fuzzing) */
#define NX_CONF_NO_ENV 0x2u     /* $VAR never reads the environment */

typedef struct nx_conf_opts {
    const char *file; /* name for positions and base for includes; NULL: none (cwd) */
    unsigned flags;
} nx_conf_opts;

/* All return 0 and set *out to the root map, or -1 with a message in err (always
 * NUL-terminated when errlen > 0) and *out = NULL.  The tree is freed with nx_conf_free. */
int nx_conf_parse(const char *data, size_t len, const nx_conf_opts *opts, nx_conf_value **out,
                  char *err, size_t errlen);
int nx_conf_parse_string(const char *text, nx_conf_value **out, char *err, size_t errlen);
int nx_conf_parse_file(const char *path, nx_conf_value **out, char *err, size_t errlen);
int nx_conf_parse_file_opts(const char *path, unsigned flags, nx_conf_value **out, char *err,
                            size_t errlen);

/* Frees a whole tree; root must come from a parse function (other values are ignored). */
void nx_conf_free(nx_conf_value *root);

/* Map lookups.  nx_conf_map_get matches keys case-insensitively (ASCII), as Go's option layer
 * does, returning the last match in file order; _exact matches bytes like Go's map index. */
nx_conf_value *nx_conf_map_get(const nx_conf_value *map, const char *key);
nx_conf_value *nx_conf_map_get_exact(const nx_conf_value *map, const char *key, size_t key_len);

/* Number of entries of a map or items of an array; 0 for scalars and NULL. */
size_t nx_conf_len(const nx_conf_value *v);

#define NX_CONF_MAP_FOREACH(m_, e)                                                                 \
    for (const nx_conf_entry *e = (m_)->u.map.items; e < (m_)->u.map.items + (m_)->u.map.len; e++)
#define NX_CONF_ARRAY_FOREACH(a_, it, i)                                                           \
    for (size_t i = 0; i < (a_)->u.arr.len && ((it) = (a_)->u.arr.items[i], 1); i++)

/* "map", "array", "string", "int", "float", "bool", "time". */
const char *nx_conf_type_name(nx_conf_type t);

/* Go encoding/json of the value (sorted map keys, HTML-safe escaping, Go float format, times
 * in RFC 3339), as Go's configDigest hashes it: the server's config digest is
 * "sha256:" + hex(sha256(json + "\n")).  *out is malloc'd.  0 or -ENOMEM. */
int nx_conf_to_json(const nx_conf_value *v, char **out, size_t *out_len);

#endif
