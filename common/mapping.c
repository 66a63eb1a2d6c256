/* Weighted subject mappings and the `mappings {}` configuration: see transform.h.
 *
 * Ports Go nats-server v2.14.5 server/accounts.go (AddWeightedMappings, selectMappedSubject)
 * and server/opts.go (parseAccountMappings, parseAccountMapDest).  The transforms themselves
 * are transform.c; the helpers both share are declared in transform_int.h.
 */
#include "common/transform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/subject.h"
#include "common/transform_int.h"

/* ---- weighted mappings ------------------------------------------------------------------ */

typedef struct mdest {
    nx_transform *tr; /* NULL for an empty destination (Go: nil transform) */
    unsigned weight;  /* cumulative after processing */
} mdest;

typedef struct dlist {
    char *cluster;
    mdest *d;
    size_t n;
} dlist;

struct nx_mapping {
    char *src;
    bool wc;
    dlist main;
    dlist *c; /* cluster scoped, in first-seen order */
    size_t nc;
};

static void dlist_free(dlist *l) {
    for (size_t i = 0; i < l->n; i++) nx_transform_free(l->d[i].tr);
    free(l->d);
    free(l->cluster);
}

static void mapping_free(nx_mapping *m) {
    if (!m) return;
    dlist_free(&m->main);
    for (size_t i = 0; i < m->nc; i++) dlist_free(&m->c[i]);
    free(m->c);
    free(m->src);
    free(m);
}

static bool dlist_push(dlist *l, nx_transform *tr, unsigned w) {
    mdest *nd = realloc(l->d, (l->n + 1) * sizeof *nd);
    if (!nd) return false;
    l->d = nd;
    l->d[l->n++] = (mdest){tr, w};
    return true;
}

/* Go processDestinations: auto-add the source, sort by weight (stable, as Go's insertion
 * sort for short slices), make the weights cumulative. */
static int process_dests(nx_mapping *m, dlist *l, bool have_src, char *err, size_t errlen) {
    unsigned ltw = 0;
    for (size_t i = 0; i < l->n; i++) ltw += l->d[i].weight;
    if (ltw != 100 && !have_src) {
        char *dest = m->wc ? nx_transform_tokenize(m->src) : strdup(m->src);
        nx_transform *tr = NULL;
        int rc = dest ? nx_transform_new(m->src, dest, false, &tr, err, errlen) : NX_TR_ERR_NOMEM;
        free(dest);
        if (rc) return rc;
        if (!dlist_push(l, tr, l->n == 0 ? 100 : 100 - ltw)) {
            nx_transform_free(tr);
            return NX_TR_ERR_NOMEM;
        }
    }
    for (size_t i = 1; i < l->n; i++) {
        mdest x = l->d[i];
        size_t j = i;
        for (; j > 0 && l->d[j - 1].weight > x.weight; j--) l->d[j] = l->d[j - 1];
        l->d[j] = x;
    }
    unsigned lw = 0;
    for (size_t i = 0; i < l->n; i++) lw = l->d[i].weight = (uint8_t)(l->d[i].weight + lw);
    return 0;
}

static bool str_eq(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

static int add_mapping(nx_mapping *m, const char *src, const nx_map_dest *dests, size_t n,
                       char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        const nx_map_dest *d = &dests[i];
        for (size_t j = 0; j < i; j++) {
            if (str_eq(dests[j].subject, d->subject)) {
                char *q = nxt_go_quote(d->subject ? d->subject : "", d->subject ? strlen(d->subject) : 0);
                nxt_seterr(err, errlen, "duplicate entry for %s", q ? q : "\"\"");
                free(q);
                return NX_TR_ERR_MAPPING;
            }
        }
        if (d->weight > 100) {
            nxt_seterr(err, errlen, "individual weights need to be <= 100");
            return NX_TR_ERR_MAPPING;
        }
        unsigned tw = d->weight;
        for (size_t j = 0; j < i; j++)
            if (str_eq(dests[j].cluster, d->cluster)) tw += dests[j].weight;
        if (tw > 100) {
            nxt_seterr(err, errlen, "total weight needs to be <= 100");
            return NX_TR_ERR_MAPPING;
        }
        const char *subj = d->subject ? d->subject : "";
        int rc = nx_transform_validate_mapping(src, subj, err, errlen);
        nx_transform *tr = NULL;
        if (rc || (rc = nx_transform_new(src, subj, false, &tr, err, errlen))) return rc;
        dlist *l = &m->main;
        if (d->cluster && *d->cluster) {
            l = NULL;
            for (size_t k = 0; k < m->nc && !l; k++)
                if (!strcmp(m->c[k].cluster, d->cluster)) l = &m->c[k];
            if (!l) {
                dlist *nc = realloc(m->c, (m->nc + 1) * sizeof *nc);
                if (!nc) goto nomem;
                m->c = nc;
                l = &m->c[m->nc];
                *l = (dlist){0};
                if (!(l->cluster = strdup(d->cluster))) goto nomem;
                m->nc++;
            }
        }
        if (!l || !dlist_push(l, tr, d->weight)) goto nomem; /* l is set above */
        continue;
    nomem:
        nx_transform_free(tr);
        return NX_TR_ERR_NOMEM;
    }
    bool have_src = false;
    for (size_t i = 0; i < n; i++) have_src |= str_eq(dests[i].subject, src);
    int rc = process_dests(m, &m->main, have_src, err, errlen);
    for (size_t k = 0; k < m->nc && !rc; k++) rc = process_dests(m, &m->c[k], have_src, err, errlen);
    return rc;
}

int nx_mappings_add(nx_mappings *ml, const char *src, const nx_map_dest *dests, size_t n,
                    char *err, size_t errlen) {
    if (!src || !nx_subject_valid(src, strlen(src))) {
        nxt_seterr(err, errlen, "invalid subject");
        return NX_TR_ERR_SUBJECT;
    }
    nx_mapping *m = calloc(1, sizeof *m);
    if (!m || !(m->src = strdup(src))) {
        free(m);
        nxt_seterr(err, errlen, "out of memory");
        return NX_TR_ERR_NOMEM;
    }
    m->wc = !nx_subject_is_literal(src, strlen(src));
    int rc = add_mapping(m, src, dests, n, err, errlen);
    if (!rc) {
        for (size_t i = 0; i < ml->len; i++) {
            if (!strcmp(ml->items[i]->src, src)) {
                mapping_free(ml->items[i]);
                ml->items[i] = m;
                return 0;
            }
        }
        nx_mapping **ni = realloc(ml->items, (ml->len + 1) * sizeof *ni);
        if (ni) {
            ml->items = ni;
            ml->items[ml->len++] = m;
            return 0;
        }
        rc = NX_TR_ERR_NOMEM;
    }
    if (rc == NX_TR_ERR_NOMEM) nxt_seterr(err, errlen, "out of memory");
    mapping_free(m);
    return rc;
}

int nx_mappings_add_simple(nx_mappings *ml, const char *src, const char *dest, char *err,
                           size_t errlen) {
    nx_map_dest d = {dest, 100, NULL};
    return nx_mappings_add(ml, src, &d, 1, err, errlen);
}

bool nx_mappings_has(const nx_mappings *ml, const char *src) {
    for (size_t i = 0; i < ml->len; i++)
        if (!strcmp(ml->items[i]->src, src)) return true;
    return false;
}

bool nx_mappings_remove(nx_mappings *ml, const char *src) {
    for (size_t i = 0; i < ml->len; i++) {
        if (!strcmp(ml->items[i]->src, src)) {
            mapping_free(ml->items[i]);
            ml->items[i] = ml->items[--ml->len];
            return true;
        }
    }
    return false;
}

void nx_mappings_free(nx_mappings *ml) {
    for (size_t i = 0; i < ml->len; i++) mapping_free(ml->items[i]);
    free(ml->items);
    ml->items = NULL;
    ml->len = 0;
}

bool nx_mappings_select_w(const nx_mappings *ml, const char *subj, size_t len,
                          const char *cluster, uint32_t w, nx_tr_out *out) {
    if (!ml || !ml->len) return false;
    tok stack[32], *t = NULL, stoks[32];
    size_t nt = 0;
    const nx_mapping *m = NULL;
    bool tokenized = false, nomem = false;
    for (size_t i = 0; i < ml->len && !m && !nomem; i++) {
        const nx_mapping *rm = ml->items[i];
        if (!rm->wc && strlen(rm->src) == len && !memcmp(rm->src, subj, len)) {
            m = rm; /* Go leaves the tokens empty when this is the first mapping tried */
            break;
        }
        if (!tokenized) {
            t = nxt_split_toks(subj, len, stack, 32, &nt);
            tokenized = true;
            if (!t) {
                nomem = true;
                break;
            }
        }
        size_t ns;
        tok *s = nxt_split_toks(rm->src, strlen(rm->src), stoks, 32, &ns);
        if (!s) {
            nomem = true;
            break;
        }
        if (nxt_subset_match(t, nt, s, ns)) m = rm;
        if (s != stoks) free(s);
    }
    bool mapped = m != NULL || nomem;
    out->len = 0;
    if (out->buf) out->buf[0] = '\0';
    if (m) {
        const dlist *l = &m->main;
        if (m->nc) {
            for (size_t k = 0; k < m->nc; k++)
                if (cluster && !strcmp(m->c[k].cluster, cluster)) l = &m->c[k];
        }
        const mdest *d = NULL;
        if (l->n == 1 && l->d[0].weight == 100) {
            d = &l->d[0];
        } else {
            for (size_t k = 0; k < l->n && !d; k++)
                if (w < l->d[k].weight) d = &l->d[k];
        }
        if (d && d->tr) nxt_apply_tokens(d->tr, t ? t : stack, t ? nt : 0, out);
    }
    if (t && t != stack) free(t);
    return mapped;
}

bool nx_mappings_select(const nx_mappings *ml, const char *subj, size_t len,
                        const char *cluster, nx_tr_out *out) {
    if (!ml || !ml->len) return false;
    return nx_mappings_select_w(ml, subj, len, cluster, (uint32_t)(((uint64_t)nxt_rnd32() * 100) >> 32),
                                out);
}

/* ---- `mappings {}` configuration (Go parseAccountMappings) ------------------------------ */

typedef struct errs {
    char *buf;
    size_t cap, len;
    int n;
} errs;

static void perr(errs *e, const nx_conf_value *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(errs *e, const nx_conf_value *at, const char *fmt, ...) {
    char line[2048];
    int k = 0;
    if (at && !(at->flags & NX_CONF_F_NO_POS))
        k = snprintf(line, sizeof line, "%s:%d:%d: ", at->file ? at->file : "", at->line, at->col);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    e->n++;
    if (!e->buf || !e->cap) return;
    int w = snprintf(e->buf + e->len, e->cap - e->len, "%s%s", e->len ? "\n" : "", line);
    e->len += w < 0 ? 0 : (size_t)w;
    if (e->len >= e->cap) e->len = e->cap - 1;
}

static const char *go_type(nx_conf_type t) {
    switch (t) {
    case NX_CONF_STRING: return "string";
    case NX_CONF_INT: return "int64";
    case NX_CONF_FLOAT: return "float64";
    case NX_CONF_BOOL: return "bool";
    case NX_CONF_TIME: return "time.Time";
    case NX_CONF_MAP: return "map[string]interface {}";
    case NX_CONF_ARRAY: return "[]interface {}";
    }
    return "interface {}";
}

/* Go %v of a scalar (floats: strconv 'g' shortest). */
static void go_v(char *b, size_t cap, const nx_conf_value *v) {
    switch (v->type) {
    case NX_CONF_STRING: snprintf(b, cap, "%s", v->u.s.ptr); return;
    case NX_CONF_INT: snprintf(b, cap, "%lld", (long long)v->u.i); return;
    case NX_CONF_BOOL: snprintf(b, cap, "%s", v->u.b ? "true" : "false"); return;
    case NX_CONF_FLOAT: {
        int p = 1;
        for (; p < 17; p++) {
            snprintf(b, cap, "%.*e", p - 1, v->u.f);
            if (strtod(b, NULL) == v->u.f) break;
        }
        int exp = atoi(strchr(b, 'e') + 1);
        if (exp < -4 || exp >= 6) /* %e with at least two exponent digits, as C */
            snprintf(b, cap, "%.*e", p - 1, v->u.f);
        else
            snprintf(b, cap, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v->u.f);
        return;
    }
    case NX_CONF_TIME: {
        time_t t = (time_t)v->u.t;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(b, cap, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        return;
    }
    default: snprintf(b, cap, "%s", go_type(v->type)); return;
    }
}

/* Go's recovered panic of a failed v.(string). */
static bool want_string(errs *e, const nx_conf_value *v, bool *panicked) {
    if (v->type == NX_CONF_STRING) return true;
    perr(e, v, "interface conversion: interface {} is %s, not string", go_type(v->type));
    *panicked = true;
    return false;
}

#define Q(s) (q = nxt_go_quote((s), strlen(s))) ? q : "\"\""

/* Go parseAccountMapDest; false on error (*panicked: stop everything). */
static bool parse_map_dest(errs *e, const nx_conf_value *v, nx_map_dest *md, bool *panicked) {
    char *q = NULL, b[128];
    if (v->type != NX_CONF_MAP) {
        perr(e, v, "Expected an entry for the mapping destination");
        return false;
    }
    *md = (nx_map_dest){"", 0, NULL};
    bool sw = false;
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *dv = it->value;
        const char *k = it->key;
        if (!strcasecmp(k, "dest") || !strcasecmp(k, "destination")) {
            if (!want_string(e, dv, panicked)) return false;
            md->subject = dv->u.s.ptr;
        } else if (!strcasecmp(k, "cluster")) {
            if (!want_string(e, dv, panicked)) return false;
            md->cluster = dv->u.s.ptr;
        } else if (!strcasecmp(k, "weight")) {
            int64_t w;
            if (dv->type == NX_CONF_STRING) {
                tok ws = {dv->u.s.ptr, dv->u.s.len};
                if (ws.n && ws.p[ws.n - 1] == '%') ws.n--;
                if (!nxt_parse_int(ws, 64, &w)) {
                    char *t = strndup(ws.p, ws.n);
                    perr(e, dv, "Invalid weight %s for mapping destination", t ? Q(t) : "");
                    free(t);
                    free(q);
                    return false;
                }
            } else if (dv->type == NX_CONF_INT) {
                w = dv->u.i;
            } else {
                go_v(b, sizeof b, dv);
                perr(e, dv, "Unknown entry type for weight of %s", b); /* Go adds a "\n" */
                return false;
            }
            if (w > 100 || w < 0) {
                perr(e, dv, "Invalid weight %lld for mapping destination", (long long)w);
                return false;
            }
            md->weight = (uint8_t)w;
            sw = true;
        } else {
            perr(e, dv, "Unknown field %s for mapping destination", Q(k));
            free(q);
            return false;
        }
    }
    if (!sw) {
        perr(e, v, "Missing weight for mapping destination %s", Q(md->subject));
        free(q);
        return false;
    }
    return true;
}

int nx_mappings_parse_conf(const nx_conf_value *v, nx_mappings *ml, char *err, size_t errlen) {
    errs e = {err, errlen, 0, 0};
    if (err && errlen) err[0] = '\0';
    if (!v) return 0;
    if (v->type != NX_CONF_MAP) {
        perr(&e, v, "interface conversion: interface {} is %s, not map[string]interface {}",
             go_type(v->type));
        return e.n;
    }
    bool panicked = false;
    NX_CONF_MAP_FOREACH(v, it) {
        char *q = NULL, *q2 = NULL, emsg[1024];
        const char *subj = it->key;
        const nx_conf_value *mv = it->value;
        if (!nx_subject_valid(subj, strlen(subj))) {
            perr(&e, v, "Subject %s is not a valid subject", Q(subj));
        } else if (mv->type == NX_CONF_STRING) {
            if (nx_mappings_add_simple(ml, subj, mv->u.s.ptr, emsg, sizeof emsg)) {
                q2 = nxt_go_quote(mv->u.s.ptr, mv->u.s.len);
                perr(&e, mv, "Error adding mapping for %s to %s : %s", Q(subj), q2 ? q2 : "",
                     emsg);
            }
        } else {
            size_t n = mv->type == NX_CONF_ARRAY ? mv->u.arr.len : 1, nd = 0;
            nx_map_dest *md = calloc(n ? n : 1, sizeof *md);
            if (!md) {
                perr(&e, mv, "out of memory");
                return e.n;
            }
            for (size_t i = 0; i < n && !panicked; i++) {
                const nx_conf_value *dv = mv->type == NX_CONF_ARRAY ? mv->u.arr.items[i] : mv;
                if (parse_map_dest(&e, dv, &md[nd], &panicked)) nd++;
            }
            if (!panicked && (mv->type == NX_CONF_ARRAY || nd) &&
                nx_mappings_add(ml, subj, md, nd, emsg, sizeof emsg))
                perr(&e, mv, "Error adding mapping for %s : %s", Q(subj), emsg);
            free(md);
        }
        free(q);
        free(q2);
        if (panicked) break;
    }
    return e.n;
}
