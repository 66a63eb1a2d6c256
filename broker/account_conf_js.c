/* An account's `jetstream` in the `accounts {}` configuration (br_acc_conf.js), and the
 * start-up checks JetStream makes of the configured accounts.
 *
 * Ports Go nats-server v2.14.5 server/opts.go parseJetStreamForAccount (with Go's messages)
 * and, from server/jetstream.go and server/server.go, the checks enableJetStreamAccounts and
 * Start make: no JetStream on the system account, and sufficientResources (the accounts'
 * max_memory / max_store added up against the server's).  Called by account_conf.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/account.h"
#include "broker/auth.h"
#include "broker/perms.h"

static bool key_is(const char *k, const char *const *names) {
    for (; *names; names++)
        if (!strcasecmp(k, *names)) return true;
    return false;
}
#define KEY(k, ...) key_is(k, (const char *const[]){__VA_ARGS__, NULL})

static const char *q(char *buf, size_t cap, const char *s) {
    br_go_quote(buf, cap, s ? s : "", s ? strlen(s) : 0);
    return buf;
}

static const br_acc_js js_dynamic = {true, -1, -1, -1, -1, -1, -1, -1, false};

/* Go's %v of a scalar configuration value. */
static const char *go_v(char *buf, size_t cap, const nx_conf_value *v) {
    switch (v->type) {
    case NX_CONF_STRING: snprintf(buf, cap, "%s", v->u.s.ptr); break;
    case NX_CONF_INT: snprintf(buf, cap, "%lld", (long long)v->u.i); break;
    case NX_CONF_FLOAT: snprintf(buf, cap, "%g", v->u.f); break;
    case NX_CONF_BOOL: snprintf(buf, cap, "%s", v->u.b ? "true" : "false"); break;
    case NX_CONF_MAP: snprintf(buf, cap, "map[]"); break;
    case NX_CONF_ARRAY: snprintf(buf, cap, "[]"); break;
    default: snprintf(buf, cap, "%s", ""); break;
    }
    return buf;
}

/* Go parseJetStreamForAccount: true/"enabled" (dynamic limits), false (unchanged),
 * "disabled", or a map of limits (unset ones -1).  An error leaves the account as it was. */
void br_acc_conf_parse_jetstream(br_conf_diag *d, const nx_conf_value *v, br_acc_conf *a) {
    char qb[300], vb[300];
    if (v->type == NX_CONF_BOOL) {
        if (v->u.b) a->js = js_dynamic;
        return;
    }
    if (v->type == NX_CONF_STRING) {
        if (!strcasecmp(v->u.s.ptr, "enabled") || !strcasecmp(v->u.s.ptr, "enable"))
            a->js = js_dynamic;
        else if (!strcasecmp(v->u.s.ptr, "disabled") || !strcasecmp(v->u.s.ptr, "disable"))
            a->js.enabled = false;
        else
            br_conf_error(d, v, "Expected 'enabled' or 'disabled' for string value, got '%s'",
                          v->u.s.ptr);
        return;
    }
    if (v->type != NX_CONF_MAP) {
        br_conf_error(d, v, "Expected map, bool or string to define JetStream, got %s",
                      br_conf_go_type(v));
        return;
    }
    br_acc_js js = js_dynamic;
    NX_CONF_MAP_FOREACH(v, it) {
        const nx_conf_value *mv = it->value;
        const char *k = it->key;
        int64_t *dst = NULL;
        if (KEY(k, "max_memory", "max_mem", "mem", "memory"))
            dst = &js.max_memory;
        else if (KEY(k, "max_store", "max_file", "max_disk", "store", "disk"))
            dst = &js.max_store;
        else if (KEY(k, "max_streams", "streams"))
            dst = &js.max_streams;
        else if (KEY(k, "max_consumers", "consumers"))
            dst = &js.max_consumers;
        else if (KEY(k, "mem_max_stream_bytes", "memory_max_stream_bytes"))
            dst = &js.memory_max_stream_bytes;
        else if (KEY(k, "disk_max_stream_bytes", "store_max_stream_bytes"))
            dst = &js.store_max_stream_bytes;
        else if (KEY(k, "max_ack_pending"))
            dst = &js.max_ack_pending;
        if (dst) {
            if (mv->type != NX_CONF_INT) {
                br_conf_error(d, mv, "Expected a parseable size for %s, got %s",
                              q(qb, sizeof qb, k), go_v(vb, sizeof vb, mv));
                return;
            }
            *dst = mv->u.i;
        } else if (KEY(k, "max_bytes_required", "max_stream_bytes", "max_bytes")) {
            if (mv->type != NX_CONF_BOOL) {
                br_conf_error(d, mv, "Expected a parseable bool for %s, got %s",
                              q(qb, sizeof qb, k), go_v(vb, sizeof vb, mv));
                return;
            }
            js.max_bytes_required = mv->u.b;
        } else if (KEY(k, "cluster_traffic")) {
            /* Clustering only (Go nrgAccount): checked, without effect on one server. */
            if (mv->type != NX_CONF_STRING) {
                br_conf_error(d, mv,
                              "Expected either 'system' or 'owner' string value for %s, got %s",
                              q(qb, sizeof qb, k), go_v(vb, sizeof vb, mv));
                return;
            }
            if (strcmp(mv->u.s.ptr, "system") != 0 && mv->u.s.ptr[0] != '\0' &&
                strcmp(mv->u.s.ptr, "owner") != 0) {
                br_conf_error(d, mv, "Expected 'system' or 'owner' string value for %s, got %s",
                              q(qb, sizeof qb, k), mv->u.s.ptr);
                return;
            }
        } else if (!(mv->flags & NX_CONF_F_USED_VARIABLE)) {
            br_conf_error(d, mv, "unknown field %s", q(qb, sizeof qb, k));
        }
    }
    a->js = js;
}

const char *br_accounts_conf_js_resources(const br_accounts_conf *c, int64_t max_memory,
                                          int64_t max_store) {
    const char *sys = br_accounts_system_name(c);
    int64_t mem = 0, store = 0;
    for (size_t i = 0; i < c->n; i++) {
        const br_acc_js *j = &c->accs[i].js;
        if (!j->enabled || (sys && !strcmp(c->accs[i].name, sys))) continue;
        if (j->max_memory > 0) mem += j->max_memory;
        if (j->max_store > 0) store += j->max_store;
        if (mem > max_memory) return "insufficient memory resources available (10028)";
        if (store > max_store) return "insufficient storage resources available (10047)";
    }
    return NULL;
}

bool br_accounts_conf_js_on_system(const br_accounts_conf *c) {
    const char *sys = br_accounts_system_name(c);
    const br_acc_conf *a = sys ? br_accounts_conf_find(c, sys) : NULL;
    return a && a->js.enabled;
}
