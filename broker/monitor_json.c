/* The monitoring JSON writer: Go's encoding/json output (MarshalIndent with two spaces, or
 * Marshal), Go's float, time and duration texts.
 *
 * Ports the observable formatting of Go's encoding/json (string escaping including the HTML
 * characters and invalid UTF-8, float64 'f'/'e' selection), time.Time.MarshalJSON
 * (RFC 3339 with trimmed nanoseconds), time.Duration.String, and monitor.go myUptime.
 * Supervisor only; no shared state (each response has its own buffer).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/monitor_int.h"

#define MJ_MAX_DEPTH 64

void mj_init(mj_buf *b, const char *indent) {
    memset(b, 0, sizeof *b);
    b->cap = 4096;
    b->p = malloc(b->cap);
    if (!b->p) abort();
    b->p[0] = '\0';
    b->ind = indent;
}

void mj_free(mj_buf *b) {
    free(b->p);
    b->p = NULL;
}

static void grow(mj_buf *b, size_t need) {
    if (b->len + need + 1 <= b->cap) return;
    size_t cap = b->cap;
    while (b->len + need + 1 > cap) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) abort();
    b->p = np;
    b->cap = cap;
}

void mj_raw(mj_buf *b, const char *s, size_t n) {
    grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void mj_rawf(mj_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        mj_raw(b, tmp, (size_t)n);
        return;
    }
    grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void newline(mj_buf *b) {
    if (!b->ind) return;
    mj_raw(b, "\n", 1);
    for (int i = 0; i < b->depth; i++) mj_raw(b, b->ind, strlen(b->ind));
}

static void put_string(mj_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    mj_raw(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char ch = *p;
        if (ch < 0x80) {
            char esc[8];
            switch (ch) {
            case '"': mj_raw(b, "\\\"", 2); break;
            case '\\': mj_raw(b, "\\\\", 2); break;
            case '\n': mj_raw(b, "\\n", 2); break;
            case '\r': mj_raw(b, "\\r", 2); break;
            case '\t': mj_raw(b, "\\t", 2); break;
            case '\b': mj_raw(b, "\\b", 2); break;
            case '\f': mj_raw(b, "\\f", 2); break;
            case '<':
            case '>':
            case '&':
            default:
                if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
                    memcpy(esc, "\\u00", 4);
                    esc[4] = hex[ch >> 4];
                    esc[5] = hex[ch & 15];
                    mj_raw(b, esc, 6);
                } else {
                    mj_raw(b, (const char *)p, 1);
                }
            }
            p++;
            continue;
        }
        /* Multi-byte UTF-8: copy valid sequences, replace invalid bytes with U+FFFD. */
        int n = ch >= 0xf0 && ch < 0xf5 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 && ch < 0xe0 ? 2 : 0;
        bool ok = n > 0;
        uint32_t cp = n == 2 ? ch & 0x1f : n == 3 ? ch & 0x0f : ch & 0x07;
        for (int i = 1; ok && i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                ok = false;
            else
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if (ok && ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
                   (n == 4 && (cp < 0x10000 || cp > 0x10ffff))))
            ok = false;
        if (!ok) {
            mj_raw(b, "\\ufffd", 6);
            p++;
            continue;
        }
        if (cp == 0x2028 || cp == 0x2029)
            mj_rawf(b, "\\u%04x", cp);
        else
            mj_raw(b, (const char *)p, (size_t)n);
        p += n;
    }
    mj_raw(b, "\"", 1);
}

/* Separator, indentation and key before a value. */
static void member(mj_buf *b, const char *key) {
    if (b->depth > 0) {
        if (!b->first[b->depth]) mj_raw(b, ",", 1);
        b->first[b->depth] = false;
        newline(b);
    }
    if (key) {
        put_string(b, key);
        mj_raw(b, b->ind ? ": " : ":", b->ind ? 2 : 1);
    }
}

static void open_c(mj_buf *b, const char *key, char c) {
    member(b, key);
    mj_raw(b, &c, 1);
    if (b->depth + 1 < MJ_MAX_DEPTH) b->depth++;
    b->first[b->depth] = true;
}

static void close_c(mj_buf *b, char c) {
    bool empty = b->first[b->depth];
    if (b->depth > 0) b->depth--;
    if (!empty) newline(b);
    mj_raw(b, &c, 1);
}

void mj_obj(mj_buf *b, const char *key) { open_c(b, key, '{'); }
void mj_obj_end(mj_buf *b) { close_c(b, '}'); }
void mj_arr(mj_buf *b, const char *key) { open_c(b, key, '['); }
void mj_arr_end(mj_buf *b) { close_c(b, ']'); }

void mj_str(mj_buf *b, const char *key, const char *v) {
    member(b, key);
    put_string(b, v);
}

void mj_int(mj_buf *b, const char *key, int64_t v) {
    member(b, key);
    mj_rawf(b, "%lld", (long long)v);
}

void mj_uint(mj_buf *b, const char *key, uint64_t v) {
    member(b, key);
    mj_rawf(b, "%llu", (unsigned long long)v);
}

void mj_bool(mj_buf *b, const char *key, bool v) {
    member(b, key);
    mj_raw(b, v ? "true" : "false", v ? 4 : 5);
}

void mj_null(mj_buf *b, const char *key) {
    member(b, key);
    mj_raw(b, "null", 4);
}

/* Go encodes float64 with the shortest text that reads back exactly, in 'f' form for
 * 1e-6 <= |v| < 1e21 and 'e' form otherwise (with a one-digit negative exponent trimmed). */
void mj_float(mj_buf *b, const char *key, double v) {
    member(b, key);
    if (!isfinite(v)) { /* Go refuses; never produced here */
        mj_raw(b, "0", 1);
        return;
    }
    if (v == 0) {
        mj_raw(b, "0", 1);
        return;
    }
    char e[64];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    double a = fabs(v);
    if (a < 1e-6 || a >= 1e21) {
        /* %e gives at least two exponent digits: Go keeps them except "e-0X" -> "e-X". */
        char *x = strchr(e, 'e');
        if (x && x[1] == '-' && x[2] == '0' && x[3] && !x[4]) memmove(x + 2, x + 3, 2);
        if (x && x[1] == '+' && x[2] == '0' && x[3] && !x[4]) memmove(x + 2, x + 3, 2);
        mj_raw(b, e, strlen(e));
        return;
    }
    /* Fixed form with exactly the significant digits found above. */
    int exp10 = (int)strtol(strchr(e, 'e') + 1, NULL, 10);
    int decimals = prec - 1 - exp10;
    if (decimals < 0) decimals = 0;
    char f[400];
    snprintf(f, sizeof f, "%.*f", decimals, v);
    mj_raw(b, f, strlen(f));
}

void mj_time_text(int64_t unix_ns, bool utc, char *out, size_t cap) {
    time_t secs = (time_t)(unix_ns / 1000000000);
    int64_t frac = unix_ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs--;
    }
    struct tm tm;
    long off = 0;
    if (utc) {
        gmtime_r(&secs, &tm);
    } else {
        localtime_r(&secs, &tm);
        off = tm.tm_gmtoff;
    }
    char fs[16] = "";
    if (frac) {
        snprintf(fs, sizeof fs, ".%09lld", (long long)frac);
        size_t n = strlen(fs);
        while (n > 1 && fs[n - 1] == '0') fs[--n] = '\0';
    }
    char zone[32];
    if (off == 0) {
        snprintf(zone, sizeof zone, "Z");
    } else {
        long a = off < 0 ? -off : off;
        snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600,
                 (a / 60) % 60);
    }
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fs, zone);
}

void mj_time(mj_buf *b, const char *key, int64_t unix_ns, bool utc) {
    char t[80];
    mj_time_text(unix_ns, utc, t, sizeof t);
    mj_str(b, key, t);
}

void mj_json(mj_buf *b, const char *key, json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        mj_obj(b, key);
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it))
            mj_json(b, json_object_iter_key(it), json_object_iter_value(it));
        mj_obj_end(b);
        break;
    }
    case JSON_ARRAY: {
        mj_arr(b, key);
        for (size_t i = 0; i < json_array_size(v); i++) mj_json(b, NULL, json_array_get(v, i));
        mj_arr_end(b);
        break;
    }
    case JSON_STRING: mj_str(b, key, json_string_value(v)); break;
    case JSON_INTEGER: mj_int(b, key, (int64_t)json_integer_value(v)); break;
    case JSON_REAL: mj_float(b, key, json_real_value(v)); break;
    case JSON_TRUE: mj_bool(b, key, true); break;
    case JSON_FALSE: mj_bool(b, key, false); break;
    default: mj_null(b, key); break;
    }
}

/* Go fmtFrac + fmtInt: v / 10^prec with the fraction's trailing zeros dropped. */
static void frac_text(uint64_t v, int prec, char *out, size_t cap) {
    uint64_t pow = 1;
    for (int i = 0; i < prec; i++) pow *= 10;
    uint64_t ip = v / pow, fp = v % pow;
    if (!fp) {
        snprintf(out, cap, "%llu", (unsigned long long)ip);
        return;
    }
    char f[24];
    snprintf(f, sizeof f, "%0*llu", prec, (unsigned long long)fp);
    size_t n = strlen(f);
    while (n > 0 && f[n - 1] == '0') f[--n] = '\0';
    snprintf(out, cap, "%llu.%s", (unsigned long long)ip, f);
}

void mj_go_duration(int64_t ns, char *out, size_t cap) {
    if (ns == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    const char *sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char num[48];
    if (u < 1000000000ull) {
        if (u < 1000) {
            snprintf(out, cap, "%s%lluns", sign, (unsigned long long)u);
        } else if (u < 1000000) {
            frac_text(u, 3, num, sizeof num);
            snprintf(out, cap, "%s%s\xc2\xb5s", sign, num); /* µs, as Go prints it */
        } else {
            frac_text(u, 6, num, sizeof num);
            snprintf(out, cap, "%s%sms", sign, num);
        }
        return;
    }
    uint64_t secs_ns = u % 60000000000ull;
    uint64_t mins = u / 60000000000ull;
    frac_text(secs_ns, 9, num, sizeof num);
    if (mins == 0)
        snprintf(out, cap, "%s%ss", sign, num);
    else if (mins < 60)
        snprintf(out, cap, "%s%llum%ss", sign, (unsigned long long)mins, num);
    else
        snprintf(out, cap, "%s%lluh%llum%ss", sign, (unsigned long long)(mins / 60),
                 (unsigned long long)(mins % 60), num);
}

void mj_uptime(int64_t ns, char *out, size_t cap) {
    int64_t tsecs = ns / 1000000000, tmins = tsecs / 60, thrs = tmins / 60, tdays = thrs / 24,
            tyrs = tdays / 365;
    if (tyrs > 0)
        snprintf(out, cap, "%lldy%lldd%lldh%lldm%llds", (long long)tyrs, (long long)(tdays % 365),
                 (long long)(thrs % 24), (long long)(tmins % 60), (long long)(tsecs % 60));
    else if (tdays > 0)
        snprintf(out, cap, "%lldd%lldh%lldm%llds", (long long)tdays, (long long)(thrs % 24),
                 (long long)(tmins % 60), (long long)(tsecs % 60));
    else if (thrs > 0)
        snprintf(out, cap, "%lldh%lldm%llds", (long long)thrs, (long long)(tmins % 60),
                 (long long)(tsecs % 60));
    else if (tmins > 0)
        snprintf(out, cap, "%lldm%llds", (long long)tmins, (long long)(tsecs % 60));
    else
        snprintf(out, cap, "%llds", (long long)tsecs);
}

int64_t mon_wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mon_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
