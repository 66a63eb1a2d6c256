/* JetStream API error lookups and formatting: Go nats-server v2.14.5
 * server/jetstream_errors.go (ApiError, NewJS...Error placeholder replacement). */
#include "storaged/js/js_errors.h"

#include <stdlib.h>
#include <string.h>

#include "storaged/js/js_int.h"

static int cmp_code(const void *k, const void *e) {
    int a = *(const int *)k, b = ((const js_error_def *)e)->err_code;
    return (a > b) - (a < b);
}

const js_error_def *js_error_lookup(int err_code) {
    return bsearch(&err_code, js_error_table, JS_ERRORS_COUNT, sizeof(js_error_table[0]),
                   cmp_code);
}

char *js_error_format(int err_code, const char *const *args, size_t nargs) {
    const js_error_def *d = js_error_lookup(err_code);
    const char *s = d ? d->description : "";
    size_t cap = strlen(s) + 1, len = 0, used = 0;
    for (size_t i = 0; i < nargs; i++) cap += args[i] ? strlen(args[i]) : 0;
    char *out = malloc(cap);
    if (!out) abort();
    while (*s) {
        if (*s == '{' && used < nargs) {
            const char *e = strchr(s, '}');
            bool ok = e != NULL && e > s + 1;
            for (const char *p = s + 1; ok && p < e; p++)
                if (!((*p >= 'a' && *p <= 'z') || *p == '_')) ok = false;
            if (ok) {
                const char *a = args[used++];
                if (a) {
                    size_t al = strlen(a);
                    memcpy(out + len, a, al);
                    len += al;
                }
                s = e + 1;
                continue;
            }
        }
        out[len++] = *s++;
    }
    out[len] = 0;
    return out;
}

json_t *js_error_json(int err_code, const char *const *args, size_t nargs) {
    const js_error_def *d = js_error_lookup(err_code);
    json_t *o = json_object();
    json_object_set_new(o, "code", json_integer(d ? d->code : 500));
    if (err_code) json_object_set_new(o, "err_code", json_integer(err_code));
    char *desc = js_error_format(err_code, args, nargs);
    if (desc[0]) json_object_set_new(o, "description", json_string(desc));
    free(desc);
    return o;
}

void js_api_set_error(json_t *resp, int err_code, const char *arg) {
    const char *sep = arg ? strchr(arg, JS_ERR_ARG_SEP) : NULL;
    if (sep) {
        char *a1 = strndup(arg, (size_t)(sep - arg));
        if (!a1) abort();
        js_api_set_error2(resp, err_code, a1, sep + 1);
        free(a1);
        return;
    }
    const char *args[1] = {arg};
    json_object_set_new(resp, "error", js_error_json(err_code, args, arg ? 1 : 0));
}

void js_api_set_error2(json_t *resp, int err_code, const char *arg1, const char *arg2) {
    const char *args[2] = {arg1, arg2};
    json_object_set_new(resp, "error", js_error_json(err_code, args, 2));
}
