/* libFuzzer target for the config lexer and parser (common/conf_lex.c, common/conf.c, ports of
 * nats-server v2.14.5 conf/lex.go and conf/parse.go; Go's conf/fuzz.go fuzzes Parse the same
 * way).
 *
 * The input is parsed as a config string with includes disabled (fuzz input must not open
 * files) and must never crash, leak or trip a sanitizer; a parsed tree is also encoded to JSON
 * and walked.  A few environment variables are set once so that $VAR expansion, nested
 * expansion and the cycle check are reachable.  The lexer is also driven on its own to EOF.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/conf.h"
#include "common/conf_lex.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("NXF_MAP", "{ a = 1, b = [x, 2 ], c = $NXF_STR }", 1);
    setenv("NXF_STR", "'str'", 1);
    setenv("NXF_REF", "$NXF_MAP", 1);
    setenv("NXF_CYCLE", "[ $NXF_CYCLE ]", 1);
    setenv("NXF_BAD", "\"unterminated", 1);
    return 0;
}

/* Counts nodes; the depth is bounded by NX_CONF_MAX_DEPTH, so recursion is safe. */
static size_t walk(const nx_conf_value *v, int depth) {
    if (depth > NX_CONF_MAX_DEPTH + 1) abort();
    size_t n = 1;
    if (v->type == NX_CONF_MAP) {
        NX_CONF_MAP_FOREACH(v, e) {
            if (!e->key || !e->value) abort();
            n += walk(e->value, depth + 1);
        }
    } else if (v->type == NX_CONF_ARRAY) {
        const nx_conf_value *it;
        NX_CONF_ARRAY_FOREACH(v, it, i) n += walk(it, depth + 1);
    } else if (v->type == NX_CONF_STRING && v->u.s.ptr[v->u.s.len] != '\0') {
        abort();
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nx_conf_lexer *lx = nx_conf_lex_new((const char *)data, size);
    if (lx) {
        nx_conf_item it;
        do
            nx_conf_lex_next(lx, &it);
        while (it.type != NX_CONF_ITEM_EOF && it.type != NX_CONF_ITEM_ERROR);
        nx_conf_lex_free(lx);
    }

    nx_conf_opts opts = {.file = "fuzz.conf", .flags = NX_CONF_NO_INCLUDE};
    nx_conf_value *root = NULL;
    char err[256];
    if (nx_conf_parse((const char *)data, size, &opts, &root, err, sizeof err) == 0) {
        walk(root, 0);
        char *json = NULL;
        size_t len = 0;
        if (nx_conf_to_json(root, &json, &len) == 0) free(json);
        nx_conf_free(root);
    } else if (root || err[0] == '\0') {
        abort(); /* a failed parse returns no tree and says why */
    }
    return 0;
}
