/* JSON helpers for the JetStream API: Go encoding/json behaviour as Go nats-server v2.14.5
 * relies on it (jetstream_api.go unmarshalRequest, jsonResponse), and Go time.Time JSON. */
#include "storaged/js/js_api_json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool g_strict = true;

void js_json_set_strict(bool strict) { g_strict = strict; }

/* Length of the valid UTF-8 sequence at s (1..4), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) need = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) need = 4, cp = c & 0x07;
    else return 0;
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return need;
}

json_t *js_json_string_lossy(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t cap = len * 3 + 1, o = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(u + i, len - i);
        if (k == 0) { /* U+FFFD for each invalid byte, as Go does */
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        }
    }
    json_t *j = json_stringn(buf, o);
    free(buf);
    return j ? j : json_string("");
}

char *js_json_encode(const json_t *v, size_t *len) {
    char *raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!raw) abort();
    size_t n = strlen(raw), extra = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '<' || c == '>' || c == '&') extra += 5;
        else if (c == 0xE2 && i + 2 < n && (unsigned char)raw[i + 1] == 0x80 &&
                 ((unsigned char)raw[i + 2] == 0xA8 || (unsigned char)raw[i + 2] == 0xA9))
            extra += 3;
    }
    char *out = malloc(n + extra + 1);
    if (!out) abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '<' || c == '>' || c == '&') {
            o += (size_t)sprintf(out + o, "\\u00%02x", c);
        } else if (c == 0xE2 && i + 2 < n && (unsigned char)raw[i + 1] == 0x80 &&
                   ((unsigned char)raw[i + 2] == 0xA8 || (unsigned char)raw[i + 2] == 0xA9)) {
            o += (size_t)sprintf(out + o, "\\u202%c", (unsigned char)raw[i + 2] == 0xA8 ? '8' : '9');
            i += 2;
        } else if (c == '\\' && i + 5 < n && raw[i + 1] == 'u') {
            /* jansson writes \u001F; Go writes lower-case hex */
            out[o++] = '\\';
            out[o++] = 'u';
            for (int k = 2; k < 6; k++) out[o++] = (char)tolower((unsigned char)raw[i + k]);
            i += 5;
        } else if (c == '\\' && i + 1 < n) {
            out[o++] = raw[i++];
            out[o++] = raw[i];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
    free(raw);
    if (len) *len = o;
    return out;
}

size_t js_time_format(int64_t ns, char *out) {
    if (ns == 0) {
        strcpy(out, "0001-01-01T00:00:00Z");
        return 20;
    }
    time_t secs = (time_t)(ns / 1000000000);
    int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs--;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, "%09lld", (long long)frac);
        int l = 9;
        while (l > 0 && f[l - 1] == '0') l--;
        f[l] = 0;
        n += (size_t)sprintf(out + n, ".%s", f);
    }
    out[n++] = 'Z';
    out[n] = 0;
    return n;
}

json_t *js_time_json(int64_t ns) {
    char b[40];
    js_time_format(ns, b);
    return json_string(b);
}

bool js_time_parse(const char *s, int64_t *ns) {
    struct tm tm = {0};
    int y, mo, d, h, mi, se, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6) return false;
    const char *p = s + used;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 9) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        while (digits++ < 9) frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return false;
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p) return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    int64_t t = (int64_t)timegm(&tm) - off;
    *ns = t * 1000000000 + frac;
    return true;
}

static const char *json_kind(const json_t *v, char *num, size_t cap) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    case JSON_INTEGER:
        snprintf(num, cap, "number %" JSON_INTEGER_FORMAT, json_integer_value(v));
        return num;
    case JSON_REAL: snprintf(num, cap, "number %g", json_real_value(v)); return num;
    default: return "null";
    }
}

void js_json_type_error(const json_t *v, const char *path, const char *gotype, char *err,
                        size_t errlen) {
    char num[64];
    const char *k = json_kind(v, num, sizeof num);
    /* Go reports the bare kind for strings/objects/arrays/bools and "number N" only when a
     * number does not fit; a number given for a string field is just "number". */
    if ((json_is_integer(v) || json_is_real(v)) && !strstr(gotype, "int")) k = "number";
    if (strchr(path, '.'))
        snprintf(err, errlen, "json: cannot unmarshal %s into Go struct field %s of type %s", k,
                 path, gotype);
    else
        snprintf(err, errlen, "json: cannot unmarshal %s into Go value of type %s", k, gotype);
}

static int dec_int(const json_t *v, int64_t lo, int64_t hi, int64_t *out, const char *path,
                   const char *gotype, char *err, size_t errlen) {
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        js_json_type_error(v, path, gotype, err, errlen);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int js_json_decode(const json_t *v, const js_jfield *fields, size_t n, void *dst,
                   const char *path, const char *gotype, char *err, size_t errlen) {
    if (json_is_null(v)) return 0;
    if (!json_is_object(v)) {
        js_json_type_error(v, path, gotype, err, errlen);
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        const js_jfield *f = NULL;
        for (size_t i = 0; i < n && !f; i++)
            if (strcmp(fields[i].name, key) == 0) f = &fields[i];
        for (size_t i = 0; i < n && !f; i++)
            if (strcasecmp(fields[i].name, key) == 0) f = &fields[i];
        if (!f) {
            if (!g_strict) continue;
            snprintf(err, errlen, "json: unknown field \"%s\"", key);
            return -1;
        }
        if (json_is_null(val)) continue;
        char fpath[256];
        /* Go's UnmarshalTypeError: the innermost struct's type name, then the full JSON path
         * from the top (Struct.a.b). */
        const char *sname = strrchr(gotype, '.');
        sname = sname ? sname + 1 : gotype;
        const char *rest = strchr(path, '.');
        snprintf(fpath, sizeof fpath, "%s%s.%s", sname, rest ? rest : "", f->name);
        char *p = (char *)dst + f->off;
        int64_t iv;
        switch (f->type) {
        case JF_STRING:
            if (!json_is_string(val)) {
                js_json_type_error(val, fpath, "string", err, errlen);
                return -1;
            }
            free(*(char **)p);
            *(char **)p = strdup(json_string_value(val));
            break;
        case JF_BOOL:
            if (!json_is_boolean(val)) {
                js_json_type_error(val, fpath, "bool", err, errlen);
                return -1;
            }
            *(bool *)p = json_is_true(val);
            break;
        case JF_INT64:
            if (dec_int(val, INT64_MIN, INT64_MAX, &iv, fpath, "int64", err, errlen)) return -1;
            *(int64_t *)p = iv;
            break;
        case JF_INT:
            if (dec_int(val, INT64_MIN, INT64_MAX, &iv, fpath, "int", err, errlen)) return -1;
            *(int64_t *)p = iv;
            break;
        case JF_INT32:
            if (dec_int(val, INT32_MIN, INT32_MAX, &iv, fpath, "int32", err, errlen)) return -1;
            *(int32_t *)p = (int32_t)iv;
            break;
        case JF_UINT64:
            if (dec_int(val, 0, INT64_MAX, &iv, fpath, "uint64", err, errlen)) return -1;
            *(uint64_t *)p = (uint64_t)iv;
            break;
        case JF_STRINGS: {
            if (!json_is_array(val)) {
                js_json_type_error(val, fpath, "[]string", err, errlen);
                return -1;
            }
            char ***arr = (char ***)p;
            size_t *cnt = (size_t *)((char *)dst + f->off2);
            for (size_t i = 0; i < *cnt; i++) free((*arr)[i]);
            free(*arr);
            *arr = NULL;
            *cnt = 0;
            size_t m = json_array_size(val);
            if (m) {
                *arr = calloc(m, sizeof(char *));
                if (!*arr) abort();
            }
            for (size_t i = 0; i < m; i++) {
                json_t *e = json_array_get(val, i);
                if (json_is_null(e)) {
                    (*arr)[(*cnt)++] = strdup("");
                    continue;
                }
                if (!json_is_string(e)) {
                    js_json_type_error(e, fpath, "string", err, errlen);
                    return -1;
                }
                (*arr)[(*cnt)++] = strdup(json_string_value(e));
            }
            break;
        }
        case JF_TIME: {
            int64_t t;
            if (!json_is_string(val)) {
                js_json_type_error(val, fpath, "time.Time", err, errlen);
                return -1;
            }
            if (!js_time_parse(json_string_value(val), &t)) {
                snprintf(err, errlen, "parsing time \"%s\" as \"2006-01-02T15:04:05Z07:00\": "
                                      "cannot parse",
                         json_string_value(val));
                return -1;
            }
            *(int64_t *)p = t;
            if (f->off2) *(bool *)((char *)dst + f->off2) = true;
            break;
        }
        case JF_RAW:
            json_decref(*(json_t **)p);
            *(json_t **)p = json_incref(val);
            break;
        case JF_CUSTOM:
            if (f->custom(val, p, fpath, err, errlen)) return -1;
            break;
        }
    }
    return 0;
}

/* Go's json.Unmarshal error for a body json.Decoder refused (jetstream strict: false). */
static void unmarshal_error(const uint8_t *data, size_t len, char *err, size_t errlen) {
    size_t pos = 0, start = 0;
    int r = js_json_scan_value(data, len, &pos, &start, err, errlen);
    if (r < 0) {
        char *at = strstr(err, " at offset ");
        if (at) *at = 0;
        if (!strcmp(err, "unexpected EOF")) snprintf(err, errlen, "unexpected end of JSON input");
        return;
    }
    while (pos < len && (data[pos] == 32 || data[pos] == 9 || data[pos] == 13 || data[pos] == 10)) pos++;
    if (pos < len) snprintf(err, errlen, "invalid character '%c' after top-level value", data[pos]);
    else snprintf(err, errlen, "unexpected end of JSON input");
}

json_t *js_json_parse(const uint8_t *data, size_t len, char *err, size_t errlen) {
    /* Go's json.Decoder loop in unmarshalRequest: every value in the body is decoded in turn
     * into the same request (later fields overwrite earlier ones). */
    json_t *first = NULL;
    size_t pos = 0, start = 0;
    for (;;) {
        int r = js_json_scan_value(data, len, &pos, &start, err, errlen);
        if (r < 0) {
            if (!g_strict) unmarshal_error(data, len, err, errlen);
            json_decref(first);
            return NULL;
        }
        if (r == 0) break;
        json_error_t je;
        json_t *v = json_loadb((const char *)data + start, pos - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v) { /* valid for Go, not for jansson (invalid UTF-8, integer range) */
            snprintf(err, errlen, "%s", je.text);
            json_decref(first);
            return NULL;
        }
        if (!first) {
            first = v;
        } else if (json_is_object(first) && json_is_object(v)) {
            json_object_update(first, v);
            json_decref(v);
        } else {
            json_decref(first);
            first = v;
        }
    }
    if (!first) snprintf(err, errlen, "unexpected end of JSON input");
    return first;
}

bool js_is_json_object_or_array(const uint8_t *d, size_t len) {
    size_t i = 0;
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r')) i++;
    return i < len && (d[i] == '{' || d[i] == '[');
}

bool js_is_empty_request(const uint8_t *d, size_t len) {
    if (len == 0) return true;
    if (len == 2 && d[0] == '{' && d[1] == '}') return true;
    json_error_t je;
    json_t *v = json_loadb((const char *)d, len, JSON_DECODE_ANY, &je);
    bool empty = json_is_object(v) && json_object_size(v) == 0;
    json_decref(v);
    return empty;
}

json_t *js_json_base64(const uint8_t *d, size_t len) {
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t olen = 4 * ((len + 2) / 3);
    char *o = malloc(olen + 1);
    if (!o) abort();
    size_t j = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < len) v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < len) v |= d[i + 2];
        o[j++] = tb[(v >> 18) & 63];
        o[j++] = tb[(v >> 12) & 63];
        o[j++] = i + 1 < len ? tb[(v >> 6) & 63] : '=';
        o[j++] = i + 2 < len ? tb[v & 63] : '=';
    }
    o[j] = 0;
    json_t *s = json_stringn(o, j);
    free(o);
    return s;
}
