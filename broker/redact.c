/* Secret redaction for trace output; see redact.h.  Follows the two patterns of Go
 * nats-server v2.14.5 client.go: a key starting with "auth_token" or "pass" (any suffix, e.g.
 * "password"), and the exact keys "sig", "proxy_sig" and "nkey" (not inside a longer word);
 * the value is what follows [:=] and an optional quote, up to one of `",\r\n}`. */
#include "broker/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool starts(const char *p, const char *end, const char *w) {
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && memcmp(p, w, n) == 0;
}

static bool word_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* After a key ends at p: "? \s* [:=] \s* "? then the value; returns its start or NULL. */
static const char *value_after(const char *p, const char *end) {
    if (p < end && *p == '"') p++;
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p >= end || (*p != ':' && *p != '=')) return NULL;
    p++;
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p < end && *p == '"') p++;
    return p;
}

/* Finds a secret value starting at or after p: sets [*vs, *ve) and returns true. */
static bool next_secret(const char *p, const char *end, const char *start, const char **vs,
                        const char **ve) {
    for (; p < end; p++) {
        const char *v = NULL;
        if (starts(p, end, "auth_token") || starts(p, end, "pass")) {
            /* Go: \S*? — the shortest run of non-space characters after which a value starts. */
            const char *k = p + (starts(p, end, "pass") ? 4 : 10);
            for (; k <= end && !v; k++) {
                v = value_after(k, end);
                if (k < end && isspace((unsigned char)*k)) break;
            }
        } else if ((p == start || !word_char(p[-1]) || p[-1] == '"') &&
                   (starts(p, end, "proxy_sig") || starts(p, end, "sig") ||
                    starts(p, end, "nkey"))) {
            size_t kl = starts(p, end, "proxy_sig") ? 9 : starts(p, end, "sig") ? 3 : 4;
            if (p > start && p[-1] != '"' && word_char(p[-1])) continue;
            v = value_after(p + kl, end);
        }
        if (!v) continue;
        const char *e = v;
        while (e < end && !strchr("\",\r\n}", *e)) e++;
        *vs = v;
        *ve = e;
        return true;
    }
    return false;
}

size_t br_redact_connect(const char *arg, size_t len, char *out, size_t cap) {
    const char *p = arg, *end = arg + len, *vs, *ve;
    size_t n = 0;
    if (cap == 0) return 0;
#define PUT(src, l)                                                                                \
    do {                                                                                           \
        size_t l_ = (l);                                                                           \
        if (l_ > cap - 1 - n) l_ = cap - 1 - n;                                                    \
        memcpy(out + n, (src), l_);                                                                \
        n += l_;                                                                                   \
    } while (0)
    while (next_secret(p, end, arg, &vs, &ve)) {
        PUT(p, (size_t)(vs - p));
        PUT("[REDACTED]", 10);
        p = ve;
    }
    PUT(p, (size_t)(end - p));
#undef PUT
    out[n] = '\0';
    return n;
}
