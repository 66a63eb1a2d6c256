/* libFuzzer target for common/transform.c (port of nats-server v2.14.5 subject transforms and
 * weighted mappings).
 *
 * Input: flags byte, then NUL-separated fields: source, destination, then subjects.  The pair
 * is compiled (strict or not, per flag bit 0), matched and applied to each subject, reversed,
 * validated as a mapping, and added to a mapping list (with the same destination weighted and
 * cluster-scoped per the flag bits) that is then selected from.  Nothing may crash, leak or
 * trip a sanitizer; results must be NUL-terminated with the reported length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const nx_tr_out *o) {
    if (o->buf && strlen(o->buf) > o->len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    uint8_t flags = data[0];
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    buf[size] = '\0';
    const char *fields[8];
    size_t lens[8], nf = 0;
    for (size_t st = 0, i = 0; i <= size - 1 && nf < 8; i++) {
        if (i == size - 1 || buf[i] == '\0') {
            fields[nf] = buf + st;
            lens[nf++] = i - st;
            st = i + 1;
        }
    }
    const char *src = nf > 0 ? fields[0] : "";
    const char *dest = nf > 1 ? fields[1] : "";
    char err[256];
    nx_tr_out o = {0};
    nx_transform *tr = NULL;
    if (nx_transform_new(src, dest, flags & 1, &tr, err, sizeof err) == 0 && tr) {
        for (size_t i = 2; i < nf; i++) {
            if (nx_transform_match(tr, fields[i], lens[i], &o) == 0) check(&o);
            if (nx_transform_apply(tr, fields[i], lens[i], &o) == 0) check(&o);
        }
        nx_transform *rev = nx_transform_reverse(tr);
        if (rev) {
            for (size_t i = 2; i < nf; i++)
                if (nx_transform_apply(rev, fields[i], lens[i], &o) == 0) check(&o);
            nx_transform_free(rev);
        }
        nx_transform_free(tr);
    } else if (err[0] == '\0') {
        if (tr) abort();
    }
    (void)nx_transform_validate_mapping(src, dest, err, sizeof err);
    char *tk = nx_transform_tokenize(src);
    free(tk);

    nx_mappings ml = {0};
    nx_map_dest md[2] = {{dest, (uint8_t)((flags >> 1) % 101), NULL},
                         {src, (uint8_t)((flags >> 3) % 60), (flags & 0x80) ? "C1" : NULL}};
    (void)nx_mappings_add(&ml, src, md, (flags & 0x40) ? 2 : 1, err, sizeof err);
    (void)nx_mappings_add_simple(&ml, "fz.*.>", "x.$1.>", err, sizeof err);
    for (size_t i = 2; i < nf; i++) {
        for (uint32_t w = 0; w < 100; w += 33) {
            if (nx_mappings_select_w(&ml, fields[i], lens[i], (w & 1) ? "C1" : NULL, w, &o))
                check(&o);
        }
    }
    if (nf > 0) (void)nx_mappings_remove(&ml, src);
    nx_mappings_free(&ml);
    free(o.buf);
    free(buf);
    return 0;
}
