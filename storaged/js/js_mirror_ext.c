/* External mirrors and sources (StreamSource.external) on a single node.
 *
 * Go nats-server v2.14.5 server/stream.go setupMirrorConsumer / setupSourceConsumer send the
 * origin's consumer create request to "<external.api>.CONSUMER.CREATE..." in the mirror's
 * account and receive the deliveries on "<external.deliver>.M.<rand>" (".S." for sources):
 * from the stream's internal client, which account mappings do not touch (parser.go maps
 * for client and leaf connections only, so "$JS.<own domain>.API" reaches nothing on a
 * standalone server): the request only reaches a JetStream API through the account's service
 * imports (an import whose local subject matches, the exporter's export approving the
 * importer), and the deliveries only come back through a stream import of the origin account
 * when that is another account.  Without a route the request gets no responders and nothing
 * is sourced.
 *
 * Origin and copy live in one process here: instead of the consumer round trip, storaged
 * resolves the same route through the accounts' configured imports and exports (copied into
 * each js_account from js_config) and, when both directions are permitted, copies from the
 * origin account's stream store with the same-account machinery (js_mirror_sync.c).
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subject.h"
#include "storaged/js/js_stream_int.h"

typedef struct js_link_imp {
    bool service;
    char *account, *subject, *to, *prefix;
} js_link_imp;

typedef struct js_link_exp {
    bool service;
    char *subject;
    char **accounts;
    size_t naccounts;
    bool accounts_set;
} js_link_exp;

struct js_links {
    js_link_imp *imps;
    size_t nimps;
    js_link_exp *exps;
    size_t nexps;
};

static char *dup_or_null(const char *s) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

void js_links_free(js_account *acc) {
    struct js_links *l = acc->links;
    if (!l) return;
    for (size_t i = 0; i < l->nimps; i++) {
        free(l->imps[i].account);
        free(l->imps[i].subject);
        free(l->imps[i].to);
        free(l->imps[i].prefix);
    }
    for (size_t i = 0; i < l->nexps; i++) {
        free(l->exps[i].subject);
        for (size_t k = 0; k < l->exps[i].naccounts; k++)
            free(l->exps[i].accounts[k]);
        free(l->exps[i].accounts);
    }
    free(l->imps);
    free(l->exps);
    free(l);
    acc->links = NULL;
}

void js_links_set(js_account *acc, const js_account_config *ac) {
    js_links_free(acc);
    if (!ac || (ac->nimports == 0 && ac->nexports == 0)) return;
    struct js_links *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->imps = calloc(ac->nimports + 1, sizeof *l->imps);
    l->exps = calloc(ac->nexports + 1, sizeof *l->exps);
    if (!l->imps || !l->exps) abort();
    for (size_t i = 0; i < ac->nimports; i++) {
        const js_import_config *c = &ac->imports[i];
        if (!c->account || !c->subject) continue;
        l->imps[l->nimps++] =
            (js_link_imp){c->service, dup_or_null(c->account), dup_or_null(c->subject),
                          dup_or_null(c->to), dup_or_null(c->prefix)};
    }
    for (size_t i = 0; i < ac->nexports; i++) {
        const js_export_config *c = &ac->exports[i];
        if (!c->subject) continue;
        js_link_exp *e = &l->exps[l->nexps++];
        e->service = c->service;
        e->subject = dup_or_null(c->subject);
        e->accounts_set = c->accounts_set;
        e->accounts = calloc(c->naccounts + 1, sizeof(char *));
        if (!e->accounts) abort();
        for (size_t k = 0; k < c->naccounts; k++)
            e->accounts[k] = dup_or_null(c->accounts[k]);
        e->naccounts = c->naccounts;
    }
    acc->links = l;
}

/* Go getHash: the first 8 bytes of sha256(name), each as a base62 digit. */
void js_sys_hash(const char *name, char out[9]) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)name, strlen(name), h);
    for (int i = 0; i < 8; i++)
        out[i] = digits[h[i] % 62];
    out[8] = 0;
}

const char *js_ext_api(const js_source_cfg *sc) {
    return sc->external ? json_string_value(json_object_get(sc->external, "api")) : NULL;
}

const char *js_ext_deliver(const js_source_cfg *sc) {
    return sc->external ? json_string_value(json_object_get(sc->external, "deliver")) : NULL;
}

/* ---- subject routing ------------------------------------------------------------------- */

static bool match(const char *lit, const char *pattern) {
    return nx_subject_match_literal(lit, strlen(lit), pattern, strlen(pattern));
}

/* Maps literal `subj` (matched by pattern `from`) onto pattern `to`: the tokens the wildcards
 * of `from` captured fill the wildcards of `to` in order (Go's import transforms). */
static char *map_subject(const char *subj, const char *from, const char *to) {
    const char *caps[64];
    size_t capl[64], ncap = 0;
    const char *s = subj, *f = from;
    while (*f && ncap < 64) {
        const char *fe = strchr(f, '.');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f);
        const char *se = strchr(s, '.');
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (fl == 1 && f[0] == '>') {
            caps[ncap] = s;
            capl[ncap++] = strlen(s);
            break;
        }
        if (fl == 1 && f[0] == '*') {
            caps[ncap] = s;
            capl[ncap++] = sl;
        }
        if (!fe || !se) break;
        f = fe + 1;
        s = se + 1;
    }
    size_t cap = strlen(to) + strlen(subj) + 2;
    char *o = malloc(cap);
    if (!o) abort();
    size_t k = 0, used = 0;
    const char *t = to;
    while (*t) {
        const char *te = strchr(t, '.');
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        if (k) o[k++] = '.';
        if (tl == 1 && (t[0] == '*' || t[0] == '>') && used < ncap) {
            memcpy(o + k, caps[used], capl[used]);
            k += capl[used++];
        } else {
            memcpy(o + k, t, tl);
            k += tl;
        }
        if (!te) break;
        t = te + 1;
    }
    o[k] = 0;
    return o;
}

/* Does `exporter` export `subject` (a service or a stream) to account `importer`? */
static bool exported(js_account *exporter, bool service, const char *subject,
                     const char *importer) {
    struct js_links *l = exporter->links;
    for (size_t i = 0; l && i < l->nexps; i++) {
        const js_link_exp *e = &l->exps[i];
        if (e->service != service ||
            !nx_subject_subset_match(subject, strlen(subject), e->subject, strlen(e->subject)))
            continue;
        if (!e->accounts_set && e->naccounts == 0) return true;
        for (size_t k = 0; k < e->naccounts; k++)
            if (!strcmp(e->accounts[k], importer)) return true;
    }
    return false;
}

static js_account *find_account(js_server *js, const char *name) {
    for (size_t i = 0; i < js->naccounts; i++)
        if (!strcmp(js->accounts[i]->name, name)) return js->accounts[i];
    return NULL;
}

/* Where a request published in `acc` on `subj` lands: the JetStream account serving it
 * (NULL: no responders).  Service imports first (an import shadows the account's own API),
 * then the account's own JetStream API.  Account mappings (the domain mappings Go adds for
 * "$JS.<domain>.API") do not apply: Go maps subjects in the parser of client and leaf
 * connections only, never on a stream's internal sends. */
static js_account *route_request(js_account *acc, const char *subj0) {
    js_server *js = acc->js;
    char *subj = strdup(subj0);
    if (!subj) abort();
    js_account *out = NULL;
    for (int hop = 0; hop < 8; hop++) {
        const js_link_imp *imp = NULL;
        struct js_links *l = acc->links;
        for (size_t i = 0; l && i < l->nimps && !imp; i++) {
            const js_link_imp *c = &l->imps[i];
            if (c->service && match(subj, c->to ? c->to : c->subject)) imp = c;
        }
        if (imp) {
            js_account *exp = find_account(js, imp->account);
            if (!exp || exp == acc || !exported(exp, true, imp->subject, acc->name)) break;
            char *next = imp->to ? map_subject(subj, imp->to, imp->subject) : strdup(subj);
            if (!next) abort();
            free(subj);
            subj = next;
            acc = exp;
            continue;
        }
        if (!strncmp(subj, "$JS.API.", 8)) out = acc; /* answered, 10039 without JetStream */
        break;
    }
    free(subj);
    return out;
}

/* Does a message the origin account publishes on `dsubj` reach `acc` on that subject? */
static bool delivers(js_account *origin, js_account *acc, const char *dsubj) {
    if (origin == acc) return true;
    struct js_links *l = acc->links;
    for (size_t i = 0; l && i < l->nimps; i++) {
        const js_link_imp *c = &l->imps[i];
        if (c->service || strcmp(c->account, origin->name) || !match(dsubj, c->subject)) continue;
        if (!exported(origin, false, c->subject, acc->name)) continue;
        char *seen = NULL;
        if (c->prefix && c->prefix[0]) {
            if (asprintf(&seen, "%s.%s", c->prefix, dsubj) < 0) abort();
        } else if (c->to && strcmp(c->to, c->subject)) {
            seen = map_subject(dsubj, c->subject, c->to);
        }
        bool ok = !seen || !strcmp(seen, dsubj);
        free(seen);
        if (ok) return true;
    }
    return false;
}

/* Go's ".." collapsing after the API prefix replacement. */
static void collapse_dots(char *s) {
    char *w = s;
    for (char *r = s; *r; r++)
        if (!(r[0] == '.' && r[1] == '.')) *w++ = *r;
    *w = 0;
}

/* The consumer create subject Go sends (CreateEx with the filter when there is one). */
static char *create_subject(const js_source_cfg *sc, bool mirror, const char *api) {
    const char *filter = sc->filter && sc->filter[0] ? sc->filter
                         : sc->ntr == 1              ? sc->tr_src[0]
                                                     : NULL;
    char *s = NULL;
    int n = filter ? asprintf(&s, "%s.CONSUMER.CREATE.%s.%s.%s", api, sc->name,
                              mirror ? "JS_MIRROR_0" : "JS_SRC_0", filter)
                   : asprintf(&s, "%s.CONSUMER.CREATE.%s", api, sc->name);
    if (n < 0) abort();
    collapse_dots(s);
    return s;
}

js_stream *js_ext_origin(js_account *acc, const js_source_cfg *sc, bool mirror, int *state) {
    const char *api = js_ext_api(sc), *del = js_ext_deliver(sc);
    *state = JS_EXT_UNREACHABLE;
    if (!api || !api[0]) return NULL;
    char *req = create_subject(sc, mirror, api);
    js_account *origin = route_request(acc, req);
    free(req);
    if (!origin) return NULL;
    char *dsubj = NULL;
    int n = del && del[0] ? asprintf(&dsubj, "%s.%s.x0000000", del, mirror ? "M" : "S")
                          : asprintf(&dsubj, "$JS.%s.x0000000", mirror ? "M" : "S");
    if (n < 0) abort();
    collapse_dots(dsubj);
    bool ok = delivers(origin, acc, dsubj);
    free(dsubj);
    if (!ok) return NULL;
    if (!origin->enabled) { /* Go answers 10039 to a request of such an account */
        *state = JS_EXT_NOT_ENABLED;
        return NULL;
    }
    js_stream *o = js_account_stream(origin, sc->name);
    *state = o ? JS_EXT_OK : JS_EXT_NO_STREAM;
    return o;
}
