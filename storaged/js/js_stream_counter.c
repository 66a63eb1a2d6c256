/* Counter streams (allow_msg_counter): the value arithmetic of Go nats-server v2.14.5
 * server/stream.go processJetStreamMsg (Nats-Incr with math/big, CounterValue {"val":"N"}),
 * for messages published directly (not sourced: Nats-Counter-Sources is not maintained). */
#include <stdlib.h>
#include <string.h>

#include "storaged/js/js_stream_int.h"

/* Go big.Int SetString(s, 10): optional sign, then one or more decimal digits. */
static bool parse_big(const char *s, bool *neg, char **mag) {
    *neg = false;
    if (*s == '+' || *s == '-') *neg = *s++ == '-';
    if (!*s) return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return false;
    while (s[0] == '0' && s[1]) s++;
    *mag = strdup(s);
    if (!*mag) abort();
    if (!strcmp(*mag, "0")) *neg = false;
    return true;
}

bool js_counter_valid(const char *s) {
    bool neg;
    char *m = NULL;
    bool ok = parse_big(s, &neg, &m);
    free(m);
    return ok;
}

static int cmp_mag(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(a, b);
}

static char *add_mag(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), n = (la > lb ? la : lb) + 1;
    char *r = malloc(n + 1);
    if (!r) abort();
    r[n] = 0;
    int carry = 0;
    for (size_t i = 0; i < n; i++) {
        int d = carry;
        if (i < la) d += a[la - 1 - i] - '0';
        if (i < lb) d += b[lb - 1 - i] - '0';
        r[n - 1 - i] = (char)('0' + d % 10);
        carry = d / 10;
    }
    char *s = r;
    while (s[0] == '0' && s[1]) s++;
    memmove(r, s, strlen(s) + 1);
    return r;
}

/* a - b with a >= b */
static char *sub_mag(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + 1);
    if (!r) abort();
    r[la] = 0;
    int borrow = 0;
    for (size_t i = 0; i < la; i++) {
        int d = a[la - 1 - i] - '0' - borrow;
        if (i < lb) d -= b[lb - 1 - i] - '0';
        borrow = d < 0;
        if (d < 0) d += 10;
        r[la - 1 - i] = (char)('0' + d);
    }
    char *s = r;
    while (s[0] == '0' && s[1]) s++;
    memmove(r, s, strlen(s) + 1);
    return r;
}

/* The decimal sum of two big integers (both valid per js_counter_valid); malloc'd. */
char *js_counter_add(const char *a, const char *b) {
    bool na, nb;
    char *ma = NULL, *mb = NULL, *m;
    parse_big(a, &na, &ma);
    parse_big(b, &nb, &mb);
    bool neg;
    if (na == nb) {
        m = add_mag(ma, mb);
        neg = na;
    } else if (cmp_mag(ma, mb) >= 0) {
        m = sub_mag(ma, mb);
        neg = na;
    } else {
        m = sub_mag(mb, ma);
        neg = nb;
    }
    free(ma);
    free(mb);
    if (!strcmp(m, "0")) neg = false;
    char *out = malloc(strlen(m) + 2);
    if (!out) abort();
    strcpy(out, neg ? "-" : "");
    strcat(out, m);
    free(m);
    return out;
}
