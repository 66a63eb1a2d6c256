/* The `accounts {}` and `system_account` configuration, into br_accounts_conf.
 *
 * Role: called by the option layer (options_conf.c) for those top-level keys.  Ports Go
 * nats-server v2.14.5 server/opts.go parseAccounts (both the list and the map form),
 * parseAccountExports/parseAccountImports, parseExportStreamOrService,
 * parseImportStreamOrService, parseAccount, parseAccountLimits and configureSystemAccount, with
 * Go's messages; and server/accounts.go addStreamExportWithAccountPos,
 * addServiceExportWithResponseAndAccountPos, addStreamImportWithClaim,
 * addMappedStreamImportWithClaim, addServiceImportWithClaim and their checks (export approval,
 * prefix, duplicates, import cycles) as parseAccounts reports them ("Error adding stream import
 * %q: import forms a cycle" at the `accounts` block).
 *
 * Go walks maps in random order; here file order is used.  Account `jetstream` is Go's
 * parseJetStreamForAccount (storaged serves the enabled accounts); service `latency` is tracked
 * (account_latency.c); `threshold` bounds the life of the export's reply mappings
 * (account_route.c); `msg_trace` is checked as Go checks it and otherwise not acted on
 * (docs/deviations.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/account.h"
#include "broker/auth.h"
#include "common/nkey.h"
#include "common/duration.h"
#include "common/subject.h"
#include "common/transform.h"

static char *xdup(const char *s) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static bool key_is(const char *k, const char *const *names) {
    for (; *names; names++)
        if (!strcasecmp(k, *names)) return true;
    return false;
}
#define KEY(k, ...) key_is(k, (const char *const[]){__VA_ARGS__, NULL})

static bool used_var(const nx_conf_value *v) {
    return v->flags & NX_CONF_F_USED_VARIABLE;
}

static void unknown_field(br_conf_diag *d, const nx_conf_value *v, const char *k) {
    if (used_var(v)) return;
    char q[300];
    br_go_quote(q, sizeof q, k, strlen(k));
    br_conf_error(d, v, "unknown field %s", q);
}

static const char *q(char *buf, size_t cap, const char *s) {
    br_go_quote(buf, cap, s ? s : "", s ? strlen(s) : 0);
    return buf;
}

/* ---- freeing ---------------------------------------------------------------------------- */

static void export_free(br_export_conf *e) {
    free(e->subject);
    free(e->lat_subject);
    for (size_t i = 0; i < e->naccounts; i++)
        free(e->accounts[i]);
    free(e->accounts);
}

static void import_free(br_import_conf *i) {
    free(i->account);
    free(i->subject);
    free(i->to);
    free(i->prefix);
}

static void acc_free(br_acc_conf *a) {
    free(a->name);
    free(a->nkey);
    for (size_t i = 0; i < a->nexports; i++)
        export_free(&a->exports[i]);
    for (size_t i = 0; i < a->nimports; i++)
        import_free(&a->imports[i]);
    free(a->exports);
    free(a->imports);
    nx_mappings_free(&a->mappings);
}

void br_accounts_conf_free(br_accounts_conf *c) {
    for (size_t i = 0; i < c->n; i++)
        acc_free(&c->accs[i]);
    free(c->accs);
    free(c->system_account);
    memset(c, 0, sizeof *c);
}

const br_acc_conf *br_accounts_conf_find(const br_accounts_conf *c, const char *name) {
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->accs[i].name, name)) return &c->accs[i];
    return NULL;
}

const char *br_accounts_system_name(const br_accounts_conf *c) {
    if (c->system_account && c->system_account[0]) return c->system_account;
    return c->no_system_account ? NULL : BR_DEFAULT_SYSTEM_ACCOUNT;
}

static br_acc_conf *add_account(br_accounts_conf *c, const char *name) {
    br_acc_conf *na = realloc(c->accs, (c->n + 1) * sizeof *na);
    if (!na) abort();
    c->accs = na;
    br_acc_conf *a = &na[c->n++];
    *a = (br_acc_conf){
        .name = xdup(name), .max_conns = -1, .max_subs = -1, .max_payload = -1, .max_leafs = -1};
    return a;
}

void br_accounts_conf_system(br_accounts_conf *c, const nx_conf_value *v, br_conf_diag *d) {
    if (v->type != NX_CONF_STRING) {
        br_conf_error(d, v, "system account name must be a string");
        return;
    }
    free(c->system_account);
    c->system_account = xdup(v->u.s.ptr);
}

/* ---- exports ---------------------------------------------------------------------------- */

/* Go parseServiceLatency; false when it returned an error (reported). */
static bool parse_latency(br_conf_diag *d, const nx_conf_value *v, br_export_conf *e) {
    if (v->type == NX_CONF_STRING) {
        free(e->lat_subject);
        e->lat_subject = xdup(v->u.s.ptr);
        e->lat_sampling = 100; /* Go DEFAULT_SERVICE_LATENCY_SAMPLING */
        return true;
    }
    if (v->type != NX_CONF_MAP) {
        br_conf_error(d, v, "Expected latency entry to be a map/struct or string, got %s",
                      br_conf_go_type(v));
        return false;
    }
    int sampling = 100;
    const nx_conf_value *subj = NULL;
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        if (!strcmp(it->key, "subject")) subj = mv;
        if (strcmp(it->key, "sampling")) continue;
        bool header = false;
        long long sample = 0;
        if (mv->type == NX_CONF_INT) {
            sample = mv->u.i;
        } else if (mv->type == NX_CONF_STRING) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", mv->u.s.ptr);
            char *b = buf;
            while (*b == ' ' || *b == '\t')
                b++;
            if (!strcasecmp(b, "headers")) {
                header = true;
            } else {
                size_t n = strlen(buf);
                if (n && buf[n - 1] == '%') buf[--n] = '\0';
                char *end;
                sample = strtoll(buf, &end, 10);
                if (!n || *end) {
                    char qb[200];
                    br_conf_error(d, mv,
                                  "Failed to parse latency sample: strconv.Atoi: parsing %s: "
                                  "invalid syntax",
                                  q(qb, sizeof qb, buf));
                    return false;
                }
            }
        } else {
            br_conf_error(d, mv, "Expected latency sample to be a string or map/struct, got %s",
                          br_conf_go_type(mv));
            return false;
        }
        if (!header && (sample < 1 || sample > 100)) {
            br_conf_error(d, mv, "bad sampling percentage, should be 1-100");
            return false;
        }
        sampling = (int)sample;
    }
    if (!subj) {
        br_conf_error(d, v, "Latency subject required, but missing");
        return false;
    }
    if (subj->type != NX_CONF_STRING) { /* Go prints the %T of its empty string */
        br_conf_error(d, subj, "Expected latency subject to be a string, got string");
        return false;
    }
    free(e->lat_subject);
    e->lat_subject = xdup(subj->u.s.ptr);
    e->lat_sampling = sampling;
    return true;
}

/* Go parseAccountMsgTrace: checked, not acted on (no trace events here). */
static void parse_msg_trace(br_conf_diag *d, const nx_conf_value *v, const char *top) {
    char qb[600], qk[300];
    if (v->type == NX_CONF_STRING) {
        if (!nx_subject_valid_publish(v->u.s.ptr, v->u.s.len))
            br_conf_error(d, v, "Trace destination %s is not valid", q(qb, sizeof qb, v->u.s.ptr));
        return;
    }
    if (v->type != NX_CONF_MAP) {
        br_conf_error(d, v,
                      "Expected account message trace %s to be a string or a map/struct, got %s",
                      q(qk, sizeof qk, top), br_conf_go_type(v));
        return;
    }
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        if (!strcasecmp(it->key, "dest")) {
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv, "Field %s should be a string, got %s",
                              q(qk, sizeof qk, it->key), br_conf_go_type(mv));
                return;
            }
            if (!nx_subject_valid_publish(mv->u.s.ptr, mv->u.s.len)) {
                br_conf_error(d, mv, "Trace destination %s is not valid",
                              q(qb, sizeof qb, mv->u.s.ptr));
                return;
            }
        } else if (!strcasecmp(it->key, "sampling")) {
            long long n;
            if (mv->type == NX_CONF_INT) {
                n = mv->u.i;
            } else if (mv->type == NX_CONF_STRING) {
                char buf[64], *end;
                snprintf(buf, sizeof buf, "%s", mv->u.s.ptr);
                size_t l = strlen(buf);
                if (l && buf[l - 1] == '%') buf[--l] = '\0';
                n = strtoll(buf, &end, 10);
                if (!l || *end) {
                    br_conf_error(d, mv, "Invalid trace destination sampling value %s",
                                  q(qb, sizeof qb, mv->u.s.ptr));
                    return;
                }
            } else {
                br_conf_error(d, mv,
                              "Trace destination sampling field %s should be an integer or a "
                              "percentage, got %s",
                              q(qk, sizeof qk, it->key), br_conf_go_type(mv));
                return;
            }
            if (n <= 0 || n > 100) {
                br_conf_error(d, mv,
                              "Ttrace destination sampling value %lld is invalid, needs to be "
                              "[1..100]",
                              n);
                return;
            }
        } else if (!used_var(mv)) {
            br_conf_error(d, mv, "Unknown field %s parsing account message trace map/struct %s",
                          q(qk, sizeof qk, it->key), q(qb, sizeof qb, top));
            return;
        }
    }
}

/* Go parseExportStreamOrService; false when Go returned an error (reported). */
static bool parse_export(br_conf_diag *d, const nx_conf_value *v, br_acc_conf *a) {
    char qb[600];
    if (v->type != NX_CONF_MAP) {
        br_conf_error(d, v, "Export Items should be a map with type entry, got %s",
                      br_conf_go_type(v));
        return false;
    }
    br_export_conf e = {0};
    bool have_stream = false, have_service = false, rt_seen = false, thresh_seen = false;
    const nx_conf_value *rt_tk = NULL, *lat_tk = NULL, *atrc_tk = NULL;
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        const char *k = it->key;
        if (KEY(k, "stream")) {
            if (have_service) {
                br_conf_error(d, mv, "Detected stream %s but already saw a service",
                              mv->type == NX_CONF_STRING ? q(qb, sizeof qb, mv->u.s.ptr) : "");
                continue;
            }
            if (rt_tk || lat_tk || atrc_tk) {
                br_conf_error(d,
                              rt_tk    ? rt_tk
                              : lat_tk ? lat_tk
                                       : atrc_tk,
                              "Detected %s directive on non-service",
                              rt_tk    ? "response"
                              : lat_tk ? "latency"
                                       : "allow_trace");
                continue;
            }
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv, "Expected stream name to be string, got %s",
                              br_conf_go_type(mv));
                continue;
            }
            free(e.subject);
            e.subject = xdup(mv->u.s.ptr);
            have_stream = true;
        } else if (KEY(k, "service")) {
            if (have_stream) {
                br_conf_error(d, mv, "Detected service %s but already saw a stream",
                              mv->type == NX_CONF_STRING ? q(qb, sizeof qb, mv->u.s.ptr) : "");
                continue;
            }
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv, "Expected service name to be string, got %s",
                              br_conf_go_type(mv));
                continue;
            }
            free(e.subject);
            e.subject = xdup(mv->u.s.ptr);
            e.service = have_service = true;
        } else if (KEY(k, "response", "response_type")) {
            if (rt_seen) {
                br_conf_error(d, mv, "Duplicate response type definition");
                continue;
            }
            rt_seen = true;
            rt_tk = mv;
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv, "Expected response type to be string, got %s",
                              br_conf_go_type(mv));
                continue;
            }
            const char *s = mv->u.s.ptr;
            if (!strcasecmp(s, "single") || !strcasecmp(s, "singleton"))
                e.rt = BR_RESP_SINGLETON;
            else if (!strcasecmp(s, "stream"))
                e.rt = BR_RESP_STREAMED;
            else if (!strcasecmp(s, "chunk") || !strcasecmp(s, "chunked"))
                e.rt = BR_RESP_CHUNKED;
            else {
                br_conf_error(d, mv, "Unknown response type: %s", q(qb, sizeof qb, s));
                continue;
            }
            if (have_stream) br_conf_error(d, mv, "Detected response directive on non-service");
        } else if (KEY(k, "threshold", "response_threshold", "response_max_time",
                       "response_time")) {
            if (thresh_seen) {
                br_conf_error(d, mv, "Duplicate response threshold detected");
                continue;
            }
            thresh_seen = true;
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv,
                              "Expected response threshold to be a parseable time duration, "
                              "got %s",
                              br_conf_go_type(mv));
                continue;
            }
            int64_t ns;
            if (nx_parse_duration(mv->u.s.ptr, &ns) < 0) {
                br_conf_error(d, mv,
                              "Expected response threshold to be a parseable time duration, "
                              "got %s",
                              q(qb, sizeof qb, mv->u.s.ptr));
                continue;
            }
            e.threshold_ms = ns > 0 && ns < 1000000 ? 1 : ns / 1000000;
            if (have_stream) br_conf_error(d, mv, "Detected response directive on non-service");
        } else if (KEY(k, "accounts")) {
            if (mv->type != NX_CONF_ARRAY) {
                br_conf_error(d, mv, "interface conversion: interface {} is %s, not []interface {}",
                              br_conf_go_type(mv));
                export_free(&e);
                return true; /* Go: a recovered panic, no export */
            }
            for (size_t i = 0; i < mv->u.arr.len; i++) {
                const nx_conf_value *av = mv->u.arr.items[i];
                if (av->type != NX_CONF_STRING) {
                    br_conf_error(d, av, "interface conversion: interface {} is %s, not string",
                                  br_conf_go_type(av));
                    export_free(&e);
                    return true;
                }
                char **na = realloc(e.accounts, (e.naccounts + 1) * sizeof *na);
                if (!na) abort();
                e.accounts = na;
                na[e.naccounts++] = xdup(av->u.s.ptr);
            }
        } else if (KEY(k, "latency")) {
            lat_tk = mv;
            if (!parse_latency(d, mv, &e)) continue;
            if (have_stream) br_conf_error(d, mv, "Detected latency directive on non-service");
        } else if (KEY(k, "account_token_position")) {
            if (mv->type != NX_CONF_INT) {
                br_conf_error(d, mv, "interface conversion: interface {} is %s, not int64",
                              br_conf_go_type(mv));
                export_free(&e);
                return true;
            }
            e.token_pos = (uint32_t)mv->u.i;
        } else if (KEY(k, "allow_trace")) {
            atrc_tk = mv;
            if (have_stream) br_conf_error(d, mv, "Detected allow_trace directive on non-service");
        } else {
            unknown_field(d, mv, k);
        }
    }
    if (!have_stream && !have_service) {
        export_free(&e);
        return true;
    }
    br_export_conf *ne = realloc(a->exports, (a->nexports + 1) * sizeof *ne);
    if (!ne) abort();
    a->exports = ne;
    ne[a->nexports++] = e;
    return true;
}

/* ---- imports ---------------------------------------------------------------------------- */

/* Go parseAccount: {account, subject}. */
static void parse_import_account(br_conf_diag *d, const nx_conf_value *v, char **acc, char **subj) {
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        if (KEY(it->key, "account") || KEY(it->key, "subject")) {
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv, "interface conversion: interface {} is %s, not string",
                              br_conf_go_type(mv));
                continue;
            }
            char **dst = KEY(it->key, "account") ? acc : subj;
            free(*dst);
            *dst = xdup(mv->u.s.ptr);
        } else {
            unknown_field(d, mv, it->key);
        }
    }
}

/* Go parseImportStreamOrService plus parseAccountImports' duplicate check. */
static void parse_import(br_conf_diag *d, const nx_conf_value *v, br_acc_conf *a) {
    char qb[3][600];
    if (v->type != NX_CONF_MAP) {
        br_conf_error(d, v, "Import Items should be a map with type entry, got %s",
                      br_conf_go_type(v));
        return;
    }
    br_import_conf im = {0};
    bool have_stream = false, have_service = false, atrc_seen = false;
    const nx_conf_value *atrc_tk = NULL;
    char *pre = NULL, *to = NULL;
    bool share = false;
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        const char *k = it->key;
        if (KEY(k, "stream") || KEY(k, "service")) {
            bool svc = KEY(k, "service");
            if (svc ? have_stream : have_service) {
                br_conf_error(d, mv, "Detected %s but already saw a %s", svc ? "service" : "stream",
                              svc ? "stream" : "service");
                continue;
            }
            if (svc && atrc_seen) {
                br_conf_error(d, atrc_tk, "Detected allow_trace directive on a non-stream");
                continue;
            }
            if (mv->type != NX_CONF_MAP) {
                br_conf_error(d, mv, "%s entry should be an account map, got %s",
                              svc ? "Service" : "Stream", br_conf_go_type(mv));
                continue;
            }
            char *an = NULL, *sub = NULL;
            parse_import_account(d, mv, &an, &sub);
            if (!an || !*an || !sub || !*sub) {
                br_conf_error(d, mv, "Expect an account name and a subject");
                free(an);
                free(sub);
                continue;
            }
            import_free(&im);
            im = (br_import_conf){.service = svc, .account = an, .subject = sub};
            if (svc) {
                im.to = xdup(to && *to ? to : sub);
                im.share = share;
                have_service = true;
            } else {
                if (to && *to) im.to = xdup(to);
                if (pre && *pre) im.prefix = xdup(pre);
                have_stream = true;
            }
        } else if (KEY(k, "prefix") || KEY(k, "to")) {
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv, "interface conversion: interface {} is %s, not string",
                              br_conf_go_type(mv));
                goto out;
            }
            if (KEY(k, "prefix")) {
                free(pre);
                pre = xdup(mv->u.s.ptr);
                if (have_stream) {
                    free(im.prefix);
                    im.prefix = xdup(pre);
                }
            } else {
                free(to);
                to = xdup(mv->u.s.ptr);
                if (have_service || have_stream) {
                    free(im.to);
                    im.to = xdup(to);
                }
                if (have_stream && im.prefix && *im.prefix) {
                    br_conf_error(d, mv,
                                  "Stream import can not have a 'prefix' and a 'to' property");
                    continue;
                }
            }
        } else if (KEY(k, "share")) {
            if (mv->type != NX_CONF_BOOL) {
                br_conf_error(d, mv, "interface conversion: interface {} is %s, not bool",
                              br_conf_go_type(mv));
                goto out;
            }
            share = mv->u.b;
            if (have_service) im.share = share;
        } else if (KEY(k, "allow_trace")) {
            if (have_service) {
                br_conf_error(d, mv, "Detected allow_trace directive on a non-stream");
                continue;
            }
            atrc_seen = true;
            atrc_tk = mv;
        } else {
            unknown_field(d, mv, k);
        }
    }
    if (have_service) {
        for (size_t i = 0; i < a->nimports; i++) {
            const br_import_conf *dup = &a->imports[i];
            if (dup->service && !strcmp(dup->to, im.to) && !strcmp(dup->account, im.account)) {
                br_conf_error(d, v,
                              "Duplicate service import subject %s, previously used in import "
                              "for account %s, subject %s",
                              q(qb[0], sizeof qb[0], im.to), q(qb[1], sizeof qb[1], dup->account),
                              q(qb[2], sizeof qb[2], dup->subject));
                goto out;
            }
        }
    }
    if (have_service || have_stream) {
        br_import_conf *ni = realloc(a->imports, (a->nimports + 1) * sizeof *ni);
        if (!ni) abort();
        a->imports = ni;
        ni[a->nimports++] = im;
        memset(&im, 0, sizeof im);
    }
out:
    import_free(&im);
    free(pre);
    free(to);
}

/* Go parseAccountLimits. */
static void parse_limits(br_conf_diag *d, const nx_conf_value *v, br_acc_conf *a) {
    if (v->type != NX_CONF_MAP) {
        char val[64] = "";
        if (v->type == NX_CONF_STRING) snprintf(val, sizeof val, "%.60s", v->u.s.ptr);
        br_conf_error(d, v, "Expected account limits to be a map/struct, got %s", val);
        return;
    }
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        int32_t *dst = NULL;
        if (KEY(it->key, "max_connections", "max_conn"))
            dst = &a->max_conns;
        else if (KEY(it->key, "max_subscriptions", "max_subs"))
            dst = &a->max_subs;
        else if (KEY(it->key, "max_payload", "max_pay"))
            dst = &a->max_payload;
        else if (KEY(it->key, "max_leafnodes", "max_leafs"))
            dst = &a->max_leafs;
        if (!dst) {
            if (!used_var(mv)) {
                char qb[300];
                br_conf_error(d, mv, "Unknown field %s parsing account limits",
                              q(qb, sizeof qb, it->key));
            }
            continue;
        }
        if (mv->type != NX_CONF_INT) { /* Go: a recovered panic ends the block */
            br_conf_error(d, mv, "interface conversion: interface {} is %s, not int64",
                          br_conf_go_type(mv));
            return;
        }
        *dst = (int32_t)mv->u.i;
    }
}

/* ---- accounts --------------------------------------------------------------------------- */

static bool name_used(const struct br_auth_opts *o, const char *n) {
    for (size_t i = 0; i < o->nusers; i++)
        if (!strcmp(o->users[i].username, n)) return true;
    for (size_t i = 0; i < o->nnkeys; i++)
        if (!strcmp(o->nkeys[i].nkey, n)) return true;
    return false;
}

static void parse_account_map(br_accounts_conf *c, br_auth_opts *auth, const char *name,
                              const nx_conf_value *mv, br_conf_diag *d) {
    char qb[600];
    br_acc_conf *a = add_account(c, name);
    size_t ai = c->n - 1;
    br_user *users = NULL;
    br_nkey_user *nkeys = NULL;
    size_t nusers = 0, nnkeys = 0;
    const nx_conf_value *users_tk = NULL;
    br_permissions *defaults = NULL;
    NX_CONF_MAP_FOREACH(mv, it) {
        const nx_conf_value *ev = it->value;
        const char *k = it->key;
        a = &c->accs[ai];
        if (KEY(k, "nkey")) {
            uint8_t raw[32];
            if (ev->type != NX_CONF_STRING || strlen(ev->u.s.ptr) != NX_NKEY_PUBLIC_LEN ||
                !nx_nkey_decode_public(ev->u.s.ptr, NX_NKEY_PREFIX_ACCOUNT, raw)) {
                br_conf_error(d, ev, "Not a valid public nkey for an account: %s",
                              ev->type == NX_CONF_STRING ? q(qb, sizeof qb, ev->u.s.ptr) : "");
                continue;
            }
            free(a->nkey);
            a->nkey = xdup(ev->u.s.ptr);
        } else if (KEY(k, "imports")) {
            if (ev->type != NX_CONF_ARRAY) {
                br_conf_error(d, ev, "Imports should be an array, got %s", br_conf_go_type(ev));
                continue;
            }
            for (size_t i = 0; i < ev->u.arr.len; i++)
                parse_import(d, ev->u.arr.items[i], a);
        } else if (KEY(k, "exports")) {
            if (ev->type != NX_CONF_ARRAY) {
                br_conf_error(d, ev, "Exports should be an array, got %s", br_conf_go_type(ev));
                continue;
            }
            for (size_t i = 0; i < ev->u.arr.len; i++)
                parse_export(d, ev->u.arr.items[i], a);
        } else if (KEY(k, "users")) {
            for (size_t i = 0; i < nusers; i++)
                br_user_free(&users[i]);
            free(users);
            br_auth_opts tmp = {.nkeys = nkeys, .nnkeys = nnkeys};
            br_auth_opts_free(&tmp);
            users_tk = ev;
            if (br_auth_conf_parse_users(d, ev, &users, &nusers, &nkeys, &nnkeys) == -1) {
                users = NULL, nkeys = NULL, nusers = nnkeys = 0;
            }
        } else if (KEY(k, "default_permissions")) {
            br_permissions *p = br_auth_conf_permissions(d, ev);
            if (p) {
                br_permissions_free(defaults);
                defaults = p;
            }
        } else if (KEY(k, "limits")) {
            parse_limits(d, ev, a);
        } else if (KEY(k, "mappings", "maps")) {
            char merr[2048] = ""; /* common/transform.c: Go's errors, "file:line:col: reason" */
            if (nx_mappings_parse_conf(ev, &a->mappings, merr, sizeof merr) > 0)
                for (char *line = strtok(merr, "\n"); line; line = strtok(NULL, "\n"))
                    br_conf_error(d, NULL, "%s", line);
        } else if (KEY(k, "msg_trace", "trace_dest")) {
            /* Message tracing is not built: checked, the destination gets no events. */
            parse_msg_trace(d, ev, k);
        } else if (KEY(k, "jetstream")) {
            br_acc_conf_parse_jetstream(d, ev, a);
        } else {
            unknown_field(d, ev, k);
        }
    }
    if (nusers || nnkeys) {
        if (auth->username && *auth->username) {
            br_conf_error(d, users_tk, "Can not have a single user/pass and accounts");
            goto out;
        }
        if (auth->token && *auth->token) {
            br_conf_error(d, users_tk, "Can not have a token and accounts");
            goto out;
        }
    }
    for (size_t i = 0; i < nnkeys; i++) { /* Go applyDefaultPermissions, then duplicates */
        if (!nkeys[i].perms && defaults) nkeys[i].perms = br_permissions_clone(defaults);
        if (name_used(auth, nkeys[i].nkey)) {
            br_conf_error(d, users_tk, "Duplicate nkey %s detected",
                          q(qb, sizeof qb, nkeys[i].nkey));
            continue;
        }
        br_auth_opts_add_nkey(auth, nkeys[i].nkey, nkeys[i].perms);
        br_nkey_user *nu = &auth->nkeys[auth->nnkeys - 1];
        nu->account = xdup(name);
        nu->conn_types = nkeys[i].conn_types;
        nu->proxy_required = nkeys[i].proxy_required;
    }
    for (size_t i = 0; i < nusers; i++) {
        if (!users[i].perms && defaults) users[i].perms = br_permissions_clone(defaults);
        if (name_used(auth, users[i].username)) {
            br_conf_error(d, users_tk, "Duplicate user %s detected",
                          q(qb, sizeof qb, users[i].username));
            continue;
        }
        br_auth_opts_add_user(auth, users[i].username, users[i].password, users[i].perms);
        br_user *u = &auth->users[auth->nusers - 1];
        u->account = xdup(name);
        u->conn_types = users[i].conn_types;
        u->proxy_required = users[i].proxy_required;
    }
out:
    for (size_t i = 0; i < nusers; i++)
        br_user_free(&users[i]);
    free(users);
    br_auth_opts tmp = {.nkeys = nkeys, .nnkeys = nnkeys};
    br_auth_opts_free(&tmp);
    br_permissions_free(defaults);
}

void br_accounts_conf_parse(br_accounts_conf *c, br_auth_opts *auth, const nx_conf_value *v,
                            br_conf_diag *d) {
    char qb[600];
    int errors_before = d->nerrors;
    if (v->type == NX_CONF_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++) {
            const nx_conf_value *n = v->u.arr.items[i];
            if (n->type != NX_CONF_STRING) {
                br_conf_error(d, n, "interface conversion: interface {} is %s, not string",
                              br_conf_go_type(n));
                return;
            }
            const char *ns = n->u.s.ptr;
            if (!strcmp(ns, BR_GLOBAL_ACCOUNT)) {
                br_conf_error(d, n, "%s is a Reserved Account", q(qb, sizeof qb, ns));
                continue;
            }
            if (br_accounts_conf_find(c, ns)) {
                br_conf_error(d, n, "Duplicate Account Entry: %s", ns);
                continue;
            }
            add_account(c, ns);
        }
    } else if (v->type == NX_CONF_MAP) {
        NX_CONF_MAP_FOREACH(v, it) {
            const nx_conf_value *mv = it->value;
            if (used_var(mv)) continue;
            if (mv->type != NX_CONF_MAP) {
                br_conf_error(d, mv, "Expected map entries for accounts");
                continue;
            }
            if (!strcmp(it->key, BR_GLOBAL_ACCOUNT)) {
                br_conf_error(d, mv, "%s is a Reserved Account", q(qb, sizeof qb, it->key));
                continue;
            }
            parse_account_map(c, auth, it->key, mv, d);
        }
    }
    (void)errors_before;
    if (d->nerrors > 0) return; /* Go: bail before imports/exports on any error so far */
    char err[1024];
    if (br_accounts_conf_resolve(c, err, sizeof err) < 0) br_conf_error(d, v, "%s", err);
}
