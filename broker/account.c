/* The accounts of one broker worker: registry, sublists, compiled imports; see account.h.
 *
 * Ports the runtime side of Go nats-server v2.14.5 server/server.go configureAccounts /
 * registerAccount / lookupAccount and server/accounts.go NewAccount, addServiceImportSub
 * (a service import is an internal subscription on the importer's subject), and the stream
 * import bookkeeping (kept on the exporter here, walked when its clients publish: the same
 * deliveries as Go's shadow subscriptions).
 *
 * Every worker builds the same accounts from the same configuration, so a service import is
 * handled on the worker where the request is published; only the reply subjects
 * ("_R_.<tag>.>", one tag per worker incarnation) are announced to the other members, so a
 * response published on any worker comes back to the one that mapped it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/account.h"
#include "broker/mesh.h"
#include "broker/server.h"
#include "common/log.h"
#include "common/subject.h"

static char *xdup(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static br_acc_reg *reg(br_server *s) {
    return s->accounts;
}

static br_account *account_new(br_server *s, const char *name, size_t len) {
    br_account *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->name = strndup(name, len);
    if (!a->name) abort();
    a->name_len = len;
    bool global = len == 2 && !memcmp(name, BR_GLOBAL_ACCOUNT, 2);
    a->sublist = global && s->sublist ? s->sublist : sl_new(true);
    if (!a->sublist) abort();
    a->max_conns = a->max_subs = a->max_payload = -1;
    a->node_slot = br_node_acc_slot(s->node, a->name, a->name_len);
    nx_strmap_put(&reg(s)->by_name, a->name, a->name_len, a);
    return a;
}

br_account *br_account_get(br_server *s, const char *name, size_t len) {
    if (!reg(s)) return NULL;
    if (len == 0) return reg(s)->global;
    return nx_strmap_get(&reg(s)->by_name, name, len);
}

br_account *br_account_lookup_or_create(br_server *s, const char *name, size_t len) {
    br_account *a = br_account_get(s, name, len);
    return a ? a : account_new(s, name, len);
}

bool br_account_conns_reached(br_server *s, br_account *a) {
    if (a->max_conns < 0) return false; /* Go jwt.NoLimit */
    int32_t n =
        a->node_slot >= 0 ? br_node_acc_clients(s->node, a->node_slot) : (int32_t)a->nclients;
    return n >= a->max_conns;
}

void br_account_count_client(br_server *s, br_account *a, int delta) {
    a->nclients += (uint32_t)delta;
    if (a->node_slot >= 0)
        atomic_fetch_add(&s->node->shm->workers[s->worker].acc_clients[a->node_slot], delta);
}

br_account *br_account_global(br_server *s) {
    return reg(s)->global;
}

sl_sublist *br_account_sublist_for(void *ctx, const char *name, size_t len) {
    br_account *a = br_account_lookup_or_create(ctx, name, len);
    return a->sublist;
}

/* ---- internal subscriptions ------------------------------------------------------------- */

static br_isub *isub_add(br_server *s, br_account *a, const char *subject, uint8_t what,
                         br_service_in *si);

br_isub *br_account_isub(br_server *s, br_account *a, const char *subject, uint8_t what) {
    return isub_add(s, a, subject, what, NULL);
}

static br_isub *isub_add(br_server *s, br_account *a, const char *subject, uint8_t what,
                         br_service_in *si) {
    size_t sl = strlen(subject);
    br_isub *is = calloc(1, sizeof *is + sl + 1);
    if (!is) abort();
    memcpy(is->subject, subject, sl + 1);
    is->sl.subject = is->subject;
    is->sl.subject_len = (uint32_t)sl;
    is->sl.owner = is;
    is->kind = BR_SUB_INTERNAL;
    is->what = what;
    is->acc = a;
    is->si = si;
    if (sl_insert(a->sublist, &is->sl) != 0) {
        nx_error("Account %s: invalid internal subscription subject \"%s\"", a->name, subject);
        free(is);
        return NULL;
    }
    br_isub **ni = realloc(a->isubs, (a->nisubs + 1) * sizeof *ni);
    if (!ni) abort();
    a->isubs = ni;
    ni[a->nisubs++] = is;
    /* Reply subjects are this worker's: the others must send responses here. */
    if (what != BR_ISUB_SERVICE) br_mesh_local_sub_acc(&s->mesh, a->name, a->name_len, &is->sl, +1);
    return is;
}

/* The exporter's response type for `subject` (Go getServiceExport: exact, then wildcard). */
const br_export_conf *br_accounts_service_export(const br_acc_conf *e, const char *subject) {
    if (!e) return NULL;
    size_t len = strlen(subject);
    for (size_t i = 0; i < e->nexports; i++)
        if (e->exports[i].service && !strcmp(e->exports[i].subject, subject))
            return &e->exports[i];
    for (size_t i = 0; i < e->nexports; i++) {
        const br_export_conf *x = &e->exports[i];
        if (x->service && nx_subject_subset_match(subject, len, x->subject, strlen(x->subject)))
            return x;
    }
    return NULL;
}

static void add_service_import(br_server *s, br_account *a, const br_import_conf *im,
                               const br_accounts_conf *conf) {
    br_account *dest = br_account_get(s, im->account, strlen(im->account));
    if (!dest) return;
    br_service_in *si = calloc(1, sizeof *si);
    if (!si) abort();
    si->acc = a;
    si->dest = dest;
    si->from = xdup(im->to && *im->to ? im->to : im->subject);
    si->to = xdup(im->subject);
    const br_export_conf *ex =
        br_accounts_service_export(br_accounts_conf_find(conf, dest->name), si->to);
    si->rt = ex ? ex->rt : BR_RESP_SINGLETON;
    si->threshold_ms = ex ? ex->threshold_ms : 0;
    si->latency = ex && ex->lat_subject;
    if (!nx_subject_is_literal(si->to, strlen(si->to))) {
        if (!strcmp(si->to, si->from)) {
            si->use_pub = true;
        } else {
            /* Go addServiceImport: the transform is built from the exporter's subject to the
             * importer's ("$N" in the importer's subject, as `to: "my.orders.$1"` writes it,
             * or its wildcards in order), then reversed; the importer subscribes on its
             * subject with "*" for each "$N". */
            char *tok = nx_transform_tokenize(si->from), err[256];
            nx_transform *fwd = NULL;
            if (nx_transform_new(si->to, tok ? tok : si->from, true, &fwd, err, sizeof err) == 0) {
                si->tr = nx_transform_reverse(fwd);
                if (!si->tr) nx_error("Account %s: service import transform: not reversible", a->name);
            } else {
                nx_error("Account %s: service import transform: %s", a->name, err);
            }
            nx_transform_free(fwd);
            free(tok);
            char *filter = NULL, *phs = NULL;
            size_t nphs = 0;
            if (nx_transform_untokenize(si->from, &filter, &phs, &nphs) == 0 && filter) {
                free(si->from);
                si->from = filter;
            } else {
                free(filter);
            }
            free(phs);
        }
    }
    br_service_in **ns = realloc(a->services_in, (a->nservices_in + 1) * sizeof *ns);
    if (!ns) abort();
    a->services_in = ns;
    ns[a->nservices_in++] = si;
    isub_add(s, a, si->from, BR_ISUB_SERVICE, si);
    if (!dest->resp_sub) {
        dest->resp_sub = true;
        isub_add(s, dest, reg(s)->resp_subject, BR_ISUB_RESPONSE, NULL);
    }
}

static void add_stream_import(br_server *s, br_account *a, const br_import_conf *im) {
    br_account *exp = br_account_get(s, im->account, strlen(im->account));
    if (!exp) return;
    br_stream_out so = {.to_acc = a, .from = xdup(im->subject)};
    if (im->prefix && *im->prefix) {
        size_t pl = strlen(im->prefix);
        so.prefix = malloc(pl + 2);
        if (!so.prefix) abort();
        memcpy(so.prefix, im->prefix, pl);
        if (im->prefix[pl - 1] != '.') so.prefix[pl++] = '.';
        so.prefix[pl] = '\0';
    } else if (im->to && *im->to && strcmp(im->to, im->subject)) {
        if (nx_subject_is_literal(so.from, strlen(so.from))) {
            so.to = xdup(im->to);
        } else {
            char *tok = nx_transform_tokenize(im->to), err[256];
            if (nx_transform_new(so.from, tok ? tok : im->to, true, &so.tr, err, sizeof err))
                nx_error("Account %s: stream import transform: %s", a->name, err);
            free(tok);
        }
    }
    br_stream_out *ns = realloc(exp->streams_out, (exp->nstreams_out + 1) * sizeof *ns);
    if (!ns) abort();
    exp->streams_out = ns;
    ns[exp->nstreams_out++] = so;
}

/* ---- registry --------------------------------------------------------------------------- */

static void apply_conf(br_server *s) {
    const br_accounts_conf *c = &s->opts->accounts;
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&reg(s)->by_name, &it, &e);) {
        br_account *a = e->value;
        a->mappings = NULL; /* the previous options are gone */
        a->is_system = false;
    }
    for (size_t i = 0; i < c->n; i++) {
        const br_acc_conf *ac = &c->accs[i];
        br_account *a = br_account_lookup_or_create(s, ac->name, strlen(ac->name));
        a->max_conns = ac->max_conns;
        a->max_subs = ac->max_subs;
        a->max_payload = ac->max_payload;
        a->mappings = ac->mappings.len ? &ac->mappings : NULL;
    }
    const char *sys = br_accounts_system_name(c);
    if (sys) {
        reg(s)->system = br_account_lookup_or_create(s, sys, strlen(sys));
        reg(s)->system->is_system = true;
    }
}

int br_accounts_init(br_server *s) {
    br_acc_reg *r = calloc(1, sizeof *r);
    if (!r) abort();
    s->accounts = r;
    /* A new incarnation: whatever the previous one counted died with its clients. */
    for (int i = 0; i < BR_NODE_ACC_SLOTS; i++)
        atomic_store(&s->node->shm->workers[s->worker].acc_clients[i], 0);
    static const char b62[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (int i = 0; i < 6; i++)
        r->tag[i] = b62[random() % 62];
    snprintf(r->resp_subject, sizeof r->resp_subject, "_R_.%s.>", r->tag);
    r->global = account_new(s, BR_GLOBAL_ACCOUNT, 2);
    apply_conf(s);
    const br_accounts_conf *c = &s->opts->accounts;
    for (size_t i = 0; i < c->n; i++) {
        const br_acc_conf *ac = &c->accs[i];
        br_account *a = br_account_get(s, ac->name, strlen(ac->name));
        for (size_t k = 0; k < ac->nimports; k++) {
            if (ac->imports[k].service)
                add_service_import(s, a, &ac->imports[k], c);
            else
                add_stream_import(s, a, &ac->imports[k]);
        }
    }
    s->mesh.sublist_for = br_account_sublist_for;
    s->mesh.sublist_ctx = s;
    br_sys_init(s);
    return 0;
}

void br_accounts_reload(br_server *s) {
    /* New accounts and limits apply at once; imports and exports as configured at start. */
    apply_conf(s);
}

static void account_free(br_server *s, br_account *a) {
    for (size_t i = 0; i < a->nisubs; i++) {
        (void)sl_remove(a->sublist, &a->isubs[i]->sl);
        free(a->isubs[i]);
    }
    free(a->isubs);
    for (size_t i = 0; i < a->nstreams_out; i++) {
        br_stream_out *so = &a->streams_out[i];
        free(so->from);
        free(so->to);
        free(so->prefix);
        nx_transform_free(so->tr);
    }
    free(a->streams_out);
    for (size_t i = 0; i < a->nservices_in; i++) {
        br_service_in *si = a->services_in[i];
        free(si->from);
        free(si->to);
        nx_transform_free(si->tr);
        free(si);
    }
    free(a->services_in);
    if (a->sublist != s->sublist) sl_free(a->sublist);
    free(a->name);
    free(a);
}

void br_accounts_free(br_server *s) {
    br_acc_reg *r = reg(s);
    if (!r) return;
    br_sys_free(s);
    while (r->oldest) {
        br_reply *rp = r->oldest;
        r->oldest = rp->next;
        free(rp);
    }
    nx_strmap_free(&r->replies);
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&r->by_name, &it, &e);)
        account_free(s, e->value);
    nx_strmap_free(&r->by_name);
    for (size_t i = 0; i < sizeof r->scratch / sizeof r->scratch[0]; i++)
        free(r->scratch[i].buf);
    free(r);
    s->accounts = NULL;
}
