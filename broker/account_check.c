/* The import/export checks Go's parseAccounts runs once every account is known.
 *
 * Ports Go nats-server v2.14.5 server/opts.go parseAccounts (the second half: exports first,
 * then stream imports, then service imports, each through the Account methods) and
 * server/accounts.go setExportAuth, checkStreamExportApproved/checkServiceExportApproved,
 * checkAuth, addStreamImportWithClaim, addMappedStreamImportWithClaim,
 * addServiceImportWithClaim, addServiceImport (duplicates, transforms),
 * streamImportFormsCycle/checkStreamImportsForCycles, serviceImportFormsCycle/
 * checkServiceImportsForCycles, with Go's error texts.  Pure: works on the configuration only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "common/subject.h"
#include "common/transform.h"

#define MAX_CYCLE_DEPTH 1024 /* Go MaxAccountCycleSearchDepth */

typedef struct r_export {
    const char *subject;
    bool restricted; /* approved accounts or a token position */
    const char **approved;
    size_t napproved;
    uint32_t pos;
} r_export;

typedef struct r_import {
    size_t acc; /* the other account (exporter) */
    char *from, *to;
} r_import;

typedef struct r_acc {
    const br_acc_conf *conf;
    r_export *streams, *services;
    size_t nstreams, nservices;
    r_import *simports, *vimports; /* stream, service */
    size_t nsimports, nvimports;
} r_acc;

typedef struct r_set {
    r_acc *a;
    size_t n;
    bool *visited; /* per account */
    size_t nvisited;
} r_set;

static long find(const r_set *r, const char *name) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->a[i].conf->name, name)) return (long)i;
    return -1;
}

static size_t len(const char *s) {
    return strlen(s);
}

/* Go setExportAuth + the map update of addStreamExport/addServiceExport. */
static int add_export(r_export **list, size_t *n, const br_export_conf *e, const char **approved,
                      size_t napproved) {
    if (e->token_pos > 0) {
        size_t tl;
        const char *t = nx_subject_token_at(e->subject, len(e->subject), e->token_pos, &tl);
        if (nx_subject_num_tokens(e->subject, len(e->subject)) < e->token_pos || tl != 1 ||
            t[0] != '*')
            return -1;
    }
    r_export *x = NULL;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i].subject, e->subject)) x = &(*list)[i];
    if (!x) {
        r_export *nl = realloc(*list, (*n + 1) * sizeof *nl);
        if (!nl) abort();
        *list = nl;
        x = &nl[(*n)++];
        *x = (r_export){.subject = e->subject};
    }
    if (napproved || e->token_pos) {
        x->restricted = true;
        if (e->token_pos) x->pos = e->token_pos;
        const char **na = realloc(x->approved, (x->napproved + napproved + 1) * sizeof *na);
        if (!na) abort();
        x->approved = na;
        for (size_t i = 0; i < napproved; i++)
            na[x->napproved++] = approved[i];
    }
    return 0;
}

/* Go checkAuth: tokens given only when the export matched as a wildcard. */
static bool check_auth(const r_export *x, const char *importer, const char *subject, bool tokens) {
    if (!x->restricted) return true;
    if (x->pos > 0) {
        if (!tokens) return false;
        size_t tl;
        const char *t = nx_subject_token_at(subject, len(subject), x->pos, &tl);
        return nx_subject_num_tokens(subject, len(subject)) >= x->pos && tl == len(importer) &&
               !memcmp(t, importer, tl);
    }
    for (size_t i = 0; i < x->napproved; i++)
        if (!strcmp(x->approved[i], importer)) return true;
    return false;
}

/* Go checkStreamExportApproved / checkServiceExportApproved. */
static bool export_approved(const r_export *list, size_t n, const char *importer,
                            const char *subject) {
    if (!nx_subject_valid(subject, len(subject))) return false;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].subject, subject))
            return check_auth(&list[i], importer, subject, false);
    for (size_t i = 0; i < n; i++)
        if (nx_subject_subset_match(subject, len(subject), list[i].subject, len(list[i].subject)))
            return check_auth(&list[i], importer, subject, true);
    return false;
}

static bool subset(const char *a, const char *b) {
    return nx_subject_subset_match(a, len(a), b, len(b));
}

static bool collide(const char *a, const char *b) {
    return nx_subject_collide(a, len(a), b, len(b));
}

static size_t nvisited(const r_set *r) {
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        k += r->visited[i];
    return k;
}

/* Go checkStreamImportsForCycles. */
static const char *stream_cycles(r_set *r, size_t acc, const char *to) {
    if (nvisited(r) >= MAX_CYCLE_DEPTH) return "search cycle depth exhausted";
    r_acc *a = &r->a[acc];
    bool matching = false;
    for (size_t i = 0; i < a->nstreams && !matching; i++)
        matching = subset(to, a->streams[i].subject);
    if (!matching) return NULL;
    for (size_t i = 0; i < a->nsimports; i++) {
        const r_import *si = &a->simports[i];
        if (!collide(to, si->to)) continue;
        if (r->visited[si->acc]) return "import forms a cycle";
        r->visited[acc] = true;
        const char *t = subset(si->to, to) ? si->to : to;
        const char *e = stream_cycles(r, si->acc, t);
        if (e) return e;
    }
    return NULL;
}

/* Go checkServiceImportsForCycles. */
static const char *service_cycles(r_set *r, size_t acc, const char *from) {
    if (nvisited(r) >= MAX_CYCLE_DEPTH) return "search cycle depth exhausted";
    r_acc *a = &r->a[acc];
    for (size_t i = 0; i < a->nvimports; i++) {
        const r_import *si = &a->vimports[i];
        if (!collide(from, si->to)) continue;
        if (r->visited[si->acc]) return "import forms a cycle";
        r->visited[acc] = true;
        const char *f = subset(si->from, from) ? si->from : from;
        const char *e = service_cycles(r, si->acc, f);
        if (e) return e;
    }
    return NULL;
}

static void reset_visited(r_set *r, size_t importer) {
    memset(r->visited, 0, r->n * sizeof *r->visited);
    r->visited[importer] = true;
}

static void add_import(r_import **list, size_t *n, size_t acc, const char *from, const char *to) {
    r_import *nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) abort();
    *list = nl;
    nl[(*n)++] = (r_import){acc, strdup(from), strdup(to)};
}

/* Go addStreamImportWithClaim / addMappedStreamImportWithClaim; NULL or Go's error. */
static const char *stream_import(r_set *r, size_t ai, size_t ti, const br_import_conf *im,
                                 char *why, size_t cap) {
    r_acc *ta = &r->a[ti];
    const char *from = im->subject, *me = r->a[ai].conf->name;
    char to[1024];
    if (!export_approved(ta->streams, ta->nstreams, me, from))
        return "stream import not authorized";
    if (im->prefix && *im->prefix) {
        if (!nx_subject_is_literal(im->prefix, len(im->prefix)))
            return "stream import prefix can not contain wildcard tokens";
        size_t pl = len(im->prefix);
        snprintf(to, sizeof to, "%s%s%s", im->prefix, im->prefix[pl - 1] == '.' ? "" : ".", from);
    } else {
        snprintf(to, sizeof to, "%s", im->to && *im->to ? im->to : from);
    }
    reset_visited(r, ai);
    const char *e = stream_cycles(r, ti, to);
    if (!e) {
        reset_visited(r, ai);
        e = stream_cycles(r, ti, from);
    }
    if (e) return e;
    char stored[1024];
    snprintf(stored, sizeof stored, "%s", to);
    if (!nx_subject_is_literal(from, len(from)) && strcmp(to, from)) {
        char *tok = nx_transform_tokenize(to), terr[256];
        nx_transform *tr = NULL;
        int rc = nx_transform_new(from, tok ? tok : to, true, &tr, terr, sizeof terr);
        free(tok);
        nx_transform_free(tr);
        if (rc != 0) {
            snprintf(why, cap,
                     "failed to create mapping transform for stream import subject from \"%s\" to "
                     "\"%s\": %s",
                     from, to, terr);
            return why;
        }
        char *filter = NULL, *phs = NULL;
        size_t nphs = 0;
        if (nx_transform_untokenize(to, &filter, &phs, &nphs) == 0 && filter)
            snprintf(stored, sizeof stored, "%s", filter);
        free(filter);
        free(phs);
    }
    r_acc *a = &r->a[ai];
    for (size_t i = 0; i < a->nsimports; i++)
        if (a->simports[i].acc == ti && !strcmp(a->simports[i].from, from))
            return "stream import already exists";
    add_import(&a->simports, &a->nsimports, ti, from, stored);
    return NULL;
}

/* Go AddServiceImport(destination, from = the importer's subject, to = the exporter's). */
static const char *service_import(r_set *r, size_t ai, size_t ti, const br_import_conf *im,
                                  char *why, size_t cap) {
    const char *from = im->to && *im->to ? im->to : im->subject, *to = im->subject;
    r_acc *ta = &r->a[ti], *a = &r->a[ai];
    if (!nx_subject_valid(from, len(from)) || !nx_subject_valid(to, len(to)))
        return "sublist: invalid subject";
    if (!export_approved(ta->services, ta->nservices, a->conf->name, to))
        return "service import not authorized";
    char fromt[1024];
    snprintf(fromt, sizeof fromt, "%s", from);
    if (!nx_subject_is_literal(to, len(to))) {
        char *filter = NULL, *phs = NULL;
        size_t nphs = 0;
        if (nx_transform_untokenize(from, &filter, &phs, &nphs) == 0 && filter)
            snprintf(fromt, sizeof fromt, "%s", filter);
        free(filter);
        free(phs);
    }
    reset_visited(r, ai);
    const char *e = service_cycles(r, ti, fromt);
    if (e) return e;
    for (size_t i = 0; i < a->nvimports; i++) {
        if (a->vimports[i].acc == ti && !strcmp(a->vimports[i].from, from)) {
            snprintf(why, cap,
                     "duplicate service import subject \"%s\", previously used in import for "
                     "account \"%s\", subject \"%s\"",
                     from, ta->conf->name, a->vimports[i].to);
            return why;
        }
    }
    if (!nx_subject_is_literal(to, len(to)) && strcmp(to, from)) {
        char *filter = NULL, *phs = NULL, *tok = nx_transform_tokenize(from), terr[256];
        size_t nphs = 0;
        (void)nx_transform_untokenize(to, &filter, &phs, &nphs);
        nx_transform *tr = NULL;
        int rc =
            nx_transform_new(filter ? filter : to, tok ? tok : from, true, &tr, terr, sizeof terr);
        nx_transform_free(tr);
        free(filter);
        free(phs);
        free(tok);
        if (rc != 0) {
            snprintf(why, cap,
                     "failed to create mapping transform for service import subject from \"%s\" "
                     "to \"%s\": %s",
                     from, to, terr);
            return why;
        }
    }
    add_import(&a->vimports, &a->nvimports, ti, fromt, to);
    return NULL;
}

/* Go TrackServiceExportWithSampling as parseAccounts calls it. */
static int latency_check(const br_accounts_conf *c, const r_acc *a, const br_export_conf *e,
                         char *err, size_t errlen) {
    const char *res = e->lat_subject, *why = NULL;
    if (c->no_system_account) {
        snprintf(err, errlen,
                 "Error adding service latency sampling for \"%s\": system account not setup",
                 e->subject);
        return -1;
    }
    bool exported = false;
    for (size_t i = 0; i < a->nservices && !exported; i++)
        exported = !strcmp(a->services[i].subject, res) ||
                   (nx_subject_valid(res, len(res)) &&
                    nx_subject_match_literal(res, len(res), a->services[i].subject,
                                             len(a->services[i].subject)));
    if (e->lat_sampling != 0 && (e->lat_sampling < 1 || e->lat_sampling > 100))
        why = "bad sampling percentage, should be 1-100";
    else if (!nx_subject_valid_publish(res, len(res)) || exported)
        why = "invalid publish subject";
    else if (e->rt != BR_RESP_SINGLETON)
        why = "bad service response type";
    if (!why) return 0;
    snprintf(err, errlen, "Error adding service latency sampling for \"%s\" on subject \"%s\": %s",
             e->subject, res, why);
    return -1;
}

static void r_free(r_set *r) {
    for (size_t i = 0; i < r->n; i++) {
        r_acc *a = &r->a[i];
        for (size_t k = 0; k < a->nstreams; k++)
            free(a->streams[k].approved);
        for (size_t k = 0; k < a->nservices; k++)
            free(a->services[k].approved);
        for (size_t k = 0; k < a->nsimports; k++)
            free(a->simports[k].from), free(a->simports[k].to);
        for (size_t k = 0; k < a->nvimports; k++)
            free(a->vimports[k].from), free(a->vimports[k].to);
        free(a->streams);
        free(a->services);
        free(a->simports);
        free(a->vimports);
    }
    free(r->a);
    free(r->visited);
}

int br_accounts_conf_resolve(br_accounts_conf *c, char *err, size_t errlen) {
    r_set r = {.n = c->n};
    r.a = calloc(c->n + 1, sizeof *r.a);
    r.visited = calloc(c->n + 1, sizeof *r.visited);
    if (!r.a || !r.visited) abort();
    for (size_t i = 0; i < c->n; i++)
        r.a[i].conf = &c->accs[i];
    char why[4096];
    int rc = -1;
    for (int pass = 0; pass < 2; pass++) { /* stream exports, then service exports */
        for (size_t i = 0; i < c->n; i++) {
            const br_acc_conf *a = &c->accs[i];
            for (size_t k = 0; k < a->nexports; k++) {
                const br_export_conf *e = &a->exports[k];
                if (e->service != (pass == 1)) continue;
                const char **appr = calloc(e->naccounts + 1, sizeof *appr);
                if (!appr) abort();
                size_t na = 0;
                for (size_t j = 0; j < e->naccounts; j++) {
                    if (find(&r, e->accounts[j]) < 0) {
                        snprintf(err, errlen, "\"%s\" account not defined for %s export",
                                 e->accounts[j], pass ? "service" : "stream");
                        free(appr);
                        goto out;
                    }
                    appr[na++] = e->accounts[j];
                }
                int x = pass ? add_export(&r.a[i].services, &r.a[i].nservices, e, appr, na)
                             : add_export(&r.a[i].streams, &r.a[i].nstreams, e, appr, na);
                free(appr);
                if (x < 0) {
                    snprintf(err, errlen, "Error adding %s export \"%s\": sublist: invalid subject",
                             pass ? "service" : "stream", e->subject);
                    goto out;
                }
                if (pass && e->lat_subject && latency_check(c, &r.a[i], e, err, errlen) < 0)
                    goto out;
            }
        }
    }
    for (int pass = 0; pass < 2; pass++) { /* stream imports, then service imports */
        for (size_t i = 0; i < c->n; i++) {
            const br_acc_conf *a = &c->accs[i];
            for (size_t k = 0; k < a->nimports; k++) {
                const br_import_conf *im = &a->imports[k];
                if (im->service != (pass == 1)) continue;
                long ti = find(&r, im->account);
                if (ti < 0) {
                    snprintf(err, errlen, "\"%s\" account not defined for %s import", im->account,
                             pass ? "service" : "stream");
                    goto out;
                }
                const char *e = pass ? service_import(&r, i, (size_t)ti, im, why, sizeof why)
                                     : stream_import(&r, i, (size_t)ti, im, why, sizeof why);
                if (e) {
                    snprintf(err, errlen, "Error adding %s import \"%s\": %s",
                             pass ? "service" : "stream", im->subject, e);
                    goto out;
                }
            }
        }
    }
    rc = 0;
out:
    r_free(&r);
    return rc;
}
