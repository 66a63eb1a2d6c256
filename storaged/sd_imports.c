/* Stream imports applied to storaged's own publishes.  See sd_imports.h.
 *
 * Plays the part of Go nats-server v2.14.5 server/accounts.go addStreamImportWithClaim /
 * addMappedStreamImportWithClaim (the import's mapping: prefix, literal `to`, or a transform
 * from the exported subject to the tokenized `to`) and server/client.go processMsgResults
 * (shadow subscriptions: the copy is routed by the mapped subject, and shows it unless it
 * is a JetStream delivery, which shows pa.deliver as without the import).  The mappings are built
 * as broker/account.c add_stream_import builds them for a client publish. */
#include "storaged/sd_imports.h"

#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/subject.h"
#include "common/transform.h"

typedef struct sd_import {
    char *importer;   /* the importing account */
    char *from;       /* the exporter's subject (may hold wildcards) */
    char *prefix;     /* with its trailing '.', or NULL */
    char *to;         /* a literal destination, or NULL */
    nx_transform *tr; /* a wildcard destination, or NULL */
} sd_import;

typedef struct sd_exporter {
    sd_import *v;
    size_t n;
    size_t name_len;
    char name[];
} sd_exporter;

struct sd_imports {
    nx_strmap by_exporter; /* exporter name -> sd_exporter */
    nx_tr_out out;         /* the mapped subject of the copy being routed */
};

static char *xdup(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static sd_exporter *exporter_of(sd_imports *t, const char *name) {
    size_t len = strlen(name);
    sd_exporter *e = nx_strmap_get(&t->by_exporter, name, len);
    if (e) return e;
    e = calloc(1, sizeof *e + len + 1);
    if (!e) abort();
    e->name_len = len;
    memcpy(e->name, name, len + 1);
    nx_strmap_put(&t->by_exporter, e->name, len, e);
    return e;
}

/* The mapping of one configured stream import, as broker/account.c add_stream_import. */
static void add_import(sd_imports *t, const char *importer, const br_import_conf *im) {
    sd_import x = {.importer = xdup(importer), .from = xdup(im->subject)};
    if (im->prefix && *im->prefix) {
        size_t pl = strlen(im->prefix);
        x.prefix = malloc(pl + 2);
        if (!x.prefix) abort();
        memcpy(x.prefix, im->prefix, pl);
        if (im->prefix[pl - 1] != '.') x.prefix[pl++] = '.';
        x.prefix[pl] = '\0';
    } else if (im->to && *im->to && strcmp(im->to, im->subject)) {
        if (nx_subject_is_literal(x.from, strlen(x.from))) {
            x.to = xdup(im->to);
        } else {
            char *tok = nx_transform_tokenize(im->to), err[256];
            if (nx_transform_new(x.from, tok ? tok : im->to, true, &x.tr, err, sizeof err))
                nx_debug("storaged: account %s: stream import transform: %s", importer, err);
            free(tok);
        }
    }
    sd_exporter *e = exporter_of(t, im->account);
    sd_import *nv = realloc(e->v, (e->n + 1) * sizeof *nv);
    if (!nv) abort();
    e->v = nv;
    nv[e->n++] = x;
}

sd_imports *sd_imports_new(const br_options *o) {
    const br_accounts_conf *c = &o->accounts;
    sd_imports *t = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const br_acc_conf *a = &c->accs[i];
        for (size_t k = 0; k < a->nimports; k++) {
            const br_import_conf *im = &a->imports[k];
            if (im->service || !im->account || !im->subject) continue;
            if (!t && !(t = calloc(1, sizeof *t))) abort();
            add_import(t, a->name, im);
        }
    }
    return t;
}

void sd_imports_free(sd_imports *t) {
    if (!t) return;
    nx_strmap_entry *en;
    for (uint32_t it = 0; nx_strmap_next(&t->by_exporter, &it, &en);) {
        sd_exporter *e = en->value;
        for (size_t i = 0; i < e->n; i++) {
            free(e->v[i].importer);
            free(e->v[i].from);
            free(e->v[i].prefix);
            free(e->v[i].to);
            nx_transform_free(e->v[i].tr);
        }
        free(e->v);
        free(e);
    }
    nx_strmap_free(&t->by_exporter);
    free(t->out.buf);
    free(t);
}

static const sd_exporter *find_exporter(const sd_imports *t, const char *acc, size_t len) {
    if (!t) return NULL;
    if (len == 0) acc = BR_GLOBAL_ACCOUNT, len = strlen(BR_GLOBAL_ACCOUNT);
    return nx_strmap_get(&t->by_exporter, acc, len);
}

/* The subject `subj` shows in the importer, in t->out; false when the import does not take it. */
static bool map_subject(sd_imports *t, const sd_import *x, const char *subj, size_t len) {
    if (!nx_subject_match_literal(subj, len, x->from, strlen(x->from))) return false;
    nx_tr_out *o = &t->out;
    const char *src = subj;
    size_t n = len, pl = 0;
    if (x->prefix) {
        pl = strlen(x->prefix);
    } else if (x->tr) {
        return nx_transform_match(x->tr, subj, len, o) == NX_TR_OK;
    } else if (x->to) {
        src = x->to;
        n = strlen(x->to);
    }
    if (o->cap < pl + n + 1) {
        char *nb = realloc(o->buf, pl + n + 1);
        if (!nb) abort();
        o->buf = nb;
        o->cap = pl + n + 1;
    }
    if (pl) memcpy(o->buf, x->prefix, pl);
    memcpy(o->buf + pl, src, n);
    o->len = pl + n;
    o->buf[o->len] = '\0';
    return true;
}

bool sd_imports_route(sd_imports *t, br_mesh *mesh, const br_mesh_msg *mm) {
    const sd_exporter *e = find_exporter(t, mm->account.ptr, mm->account.len);
    if (!e) return false;
    bool delivered = false;
    for (size_t i = 0; i < e->n; i++) {
        const sd_import *x = &e->v[i];
        if (!map_subject(t, x, mm->subject.ptr, mm->subject.len)) continue;
        br_mesh_msg copy = *mm;
        copy.account = (np_str){x->importer, strlen(x->importer)};
        copy.subject = (np_str){t->out.buf, t->out.len};
        /* A JetStream delivery keeps showing the stored message's subject (Go swaps dsubj and
         * subj for a shadow subscription when pa.deliver is set); others show the mapping. */
        copy.visited = 0;
        copy.queues_only = false;
        delivered |= br_mesh_route(mesh, &copy);
    }
    return delivered;
}

bool sd_imports_has_interest(sd_imports *t, br_mesh *mesh, const char *account, const char *subject,
                             size_t len) {
    const sd_exporter *e = find_exporter(t, account, strlen(account));
    if (!e || !nx_subject_is_literal(subject, len)) return false;
    for (size_t i = 0; i < e->n; i++) {
        const sd_import *x = &e->v[i];
        if (map_subject(t, x, subject, len) &&
            br_mesh_has_interest_acc(mesh, x->importer, strlen(x->importer), t->out.buf,
                                     t->out.len))
            return true;
    }
    return false;
}
