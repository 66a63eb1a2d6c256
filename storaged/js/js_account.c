/* Per-account JetStream: which accounts JetStream serves, their limits, and the replies an
 * account without JetStream gets.
 *
 * Ports Go nats-server v2.14.5 server/jetstream.go (enableJetStreamAccounts, configJetStream,
 * jsAccount limits: selectLimits, countStreams, tieredReservation, checkLimits,
 * checkBytesLimits, wouldExceedLimits) and server/jetstream_api.go (checkJetStream and the
 * NewJSNotEnabledForAccountError replies of every handler, jsNonClusteredStreamLimitsCheck).
 * Single node, no tiers (the configuration file only sets the default tier "").
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/subject.h"
#include "storaged/js/js_stream_int.h"

static const js_account_limits dynamic_limits = {-1, -1, -1, -1, -1, -1, -1, false};

const js_account_limits *js_account_limits_of(const js_account *acc) {
    return acc ? &acc->limits : &dynamic_limits;
}

void js_accounts_setup(js_server *js) {
    const js_config *c = &js->cfg;
    js->global_only = c->naccounts == 0;
    if (js->global_only) {
        (void)js_server_account(js, "$G");
    } else {
        for (size_t i = 0; i < c->naccounts; i++) {
            const js_account_config *ac = &c->accounts[i];
            if (!ac->name || !ac->name[0]) continue;
            js_account *a = js_server_account(js, ac->name);
            a->enabled = ac->enabled;
            a->limits = ac->enabled ? ac->limits : dynamic_limits;
            js_links_set(a, ac);
        }
    }
    if (c->system_account && c->system_account[0]) {
        js_account *a = js_server_account(js, c->system_account);
        a->enabled = false;
        a->is_system = true;
        a->limits = dynamic_limits;
    }
    js->cfg.accounts = NULL; /* borrowed: only valid during js_server_open */
    js->cfg.naccounts = 0;
    js->cfg.system_account = NULL;
}

void js_account_start(js_account *acc) {
    js_server *js = acc->js;
    js_host_interest(js, acc->name, "$JS.ACK.>", 1);
    js_host_interest(js, acc->name, "$JS.FC.>", 1);
    char *sd = js_account_streams_dir(js, acc->name);
    struct stat sb;
    if (stat(sd, &sb) == 0 && S_ISDIR(sb.st_mode)) js_stream_recover_all(js, acc->name, sd);
    free(sd);
}

/* Go DisableJetStream: the account's streams stop (their files stay), its subscriptions go. */
static void account_stop(js_account *acc) {
    js_server *js = acc->js;
    js_server_flush(js); /* replies that waited for a sync go out first */
    for (size_t i = 0; i < acc->nstreams; i++) {
        js_server_declare_stream_interest(js, acc->streams[i], -1);
        js_stream_close(acc->streams[i]);
    }
    free(acc->streams);
    acc->streams = NULL;
    acc->nstreams = 0;
    acc->mem_used = acc->store_used = 0;
    js_host_interest(js, acc->name, "$JS.ACK.>", -1);
    js_host_interest(js, acc->name, "$JS.FC.>", -1);
}

void js_server_reload_accounts(js_server *js, const js_account_config *accounts, size_t n,
                               const char *system_account) {
    bool global_only = n == 0;
    bool *seen = calloc(js->naccounts + n + 2, sizeof *seen);
    if (!seen) abort();
    js->global_only = global_only;
    size_t had = js->naccounts;
    for (size_t i = 0; i <= n; i++) {
        const char *name = i < n ? accounts[i].name : global_only ? "$G" : NULL;
        if (!name || !name[0]) continue;
        size_t before = js->naccounts;
        js_account *a = js_server_account(js, name);
        if (js->naccounts != before) a->enabled = false; /* new: started below when enabled */
        bool en = i < n ? accounts[i].enabled : true;
        js_account_limits l = i < n && en ? accounts[i].limits : dynamic_limits;
        for (size_t k = 0; k < js->naccounts; k++)
            if (js->accounts[k] == a) seen[k] = true;
        a->limits = l; /* Go UpdateJetStreamLimits (no reservation check here) */
        js_links_set(a, i < n ? &accounts[i] : NULL);
        if (!a->api_sub) {
            js_host_interest(js, a->name, "$JS.API.>", 1);
            a->api_sub = true;
        }
        if (en && !a->enabled) {
            a->enabled = true;
            js_account_start(a);
        } else if (!en && a->enabled) {
            a->enabled = false;
            account_stop(a);
        }
    }
    /* Accounts no longer configured (and "$G" once accounts are) lose JetStream. */
    for (size_t k = 0; k < had; k++) {
        js_account *a = js->accounts[k];
        if (seen[k] || a->is_system) continue;
        js_links_free(a);
        if (a->enabled) {
            a->enabled = false;
            account_stop(a);
        }
        a->limits = dynamic_limits;
    }
    if (system_account && system_account[0]) {
        js_account *a = js_server_account(js, system_account);
        if (a->enabled) account_stop(a);
        a->enabled = false;
        a->is_system = true;
        if (!a->api_sub) {
            js_host_interest(js, a->name, "$JS.API.>", 1);
            a->api_sub = true;
        }
    }
    free(seen);
}

/* ---- accounts without JetStream ------------------------------------------------------- */

#define T_PRE "io.nats.jetstream.api.v1."

static const struct {
    const char *pattern, *type;
    bool cluster_required; /* Go checks clustering first: JSClusterRequiredErr */
} handlers[] = {
    {"$JS.API.INFO", T_PRE "account_info_response", false},
    {"$JS.API.STREAM.CREATE.*", T_PRE "stream_create_response", false},
    {"$JS.API.STREAM.UPDATE.*", T_PRE "stream_update_response", false},
    {"$JS.API.STREAM.NAMES", T_PRE "stream_names_response", false},
    {"$JS.API.STREAM.LIST", T_PRE "stream_list_response", false},
    {"$JS.API.STREAM.INFO.*", T_PRE "stream_info_response", false},
    {"$JS.API.STREAM.DELETE.*", T_PRE "stream_delete_response", false},
    {"$JS.API.STREAM.PURGE.*", T_PRE "stream_purge_response", false},
    {"$JS.API.STREAM.SNAPSHOT.*", T_PRE "stream_snapshot_response", false},
    {"$JS.API.STREAM.RESTORE.*", T_PRE "stream_restore_response", false},
    {"$JS.API.STREAM.MSG.DELETE.*", T_PRE "stream_msg_delete_response", false},
    {"$JS.API.STREAM.MSG.GET.*", T_PRE "stream_msg_get_response", false},
    {"$JS.API.STREAM.LEADER.STEPDOWN.*", T_PRE "stream_leader_stepdown_response", true},
    {"$JS.API.STREAM.PEER.REMOVE.*", T_PRE "stream_remove_peer_response", true},
    {"$JS.API.CONSUMER.CREATE.*", T_PRE "consumer_create_response", false},
    {"$JS.API.CONSUMER.CREATE.*.>", T_PRE "consumer_create_response", false},
    {"$JS.API.CONSUMER.DURABLE.CREATE.*.*", T_PRE "consumer_create_response", false},
    {"$JS.API.CONSUMER.NAMES.*", T_PRE "consumer_names_response", false},
    {"$JS.API.CONSUMER.LIST.*", T_PRE "consumer_list_response", false},
    {"$JS.API.CONSUMER.INFO.*.*", T_PRE "consumer_info_response", false},
    {"$JS.API.CONSUMER.DELETE.*.*", T_PRE "consumer_delete_response", false},
    {"$JS.API.CONSUMER.PAUSE.*.*", T_PRE "consumer_pause_response", false},
    {"$JS.API.CONSUMER.UNPIN.*.*", T_PRE "consumer_unpin_response", false},
    {"$JS.API.CONSUMER.RESET.*.*", T_PRE "consumer_reset_response", false},
    {"$JS.API.CONSUMER.LEADER.STEPDOWN.*.*", T_PRE "consumer_leader_stepdown_response", true},
};

void js_api_not_enabled(js_server *js, js_account *acc, const js_inmsg *m) {
    char *subj = strndup(m->subject, m->subject_len);
    char *reply = m->reply_len ? strndup(m->reply, m->reply_len) : NULL;
    if (!subj) abort();
    /* Go apiDispatch ignores the system-level requests; they are not the account's. */
    if (!strcmp(subj, "$JS.API.META.LEADER.STEPDOWN") || !strcmp(subj, "$JS.API.SERVER.REMOVE") ||
        !strncmp(subj, "$JS.API.ACCOUNT.", 16))
        goto out;
    const char *type = T_PRE "system_response";
    int code = JSBadRequestErr; /* apiDispatch: no handler for the subject */
    size_t sl = strlen(subj);
    if (acc->is_system) {
        /* Go apiDispatch: a request of the system account's own clients (no client info
         * header) reaches only the account info handler; the others get a system_response. */
        if (!strcmp(subj, "$JS.API.INFO")) type = handlers[0].type;
        code = JSNotEnabledForAccountErr;
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0] && !acc->is_system; i++) {
        if (nx_subject_match_literal(subj, sl, handlers[i].pattern, strlen(handlers[i].pattern))) {
            type = handlers[i].type;
            code = handlers[i].cluster_required ? JSClusterRequiredErr
                   : js_api_level_error(m)      ? JSRequiredApiLevelErr
                                                : JSNotEnabledForAccountErr;
            break;
        }
    }
    json_t *resp = json_object();
    js_api_set_error(resp, code, NULL);
    /* Audited; not counted (Go's trackAPIErr counts only in an account with JetStream). */
    js_api_send(js, acc, reply, type, resp, true, m);
    json_decref(resp);
out:
    free(subj);
    free(reply);
}

/* ---- limits ------------------------------------------------------------------------- */

/* The bytes reserved (max_bytes) by streams of one storage type: the account's and the
 * server's, without `skip`. */
static void reserved(js_account *acc, int storage, const js_stream *skip, int64_t *acc_res,
                     int64_t *srv_res) {
    *acc_res = *srv_res = 0;
    js_server *js = acc->js;
    for (size_t a = 0; a < js->naccounts; a++) {
        js_account *x = js->accounts[a];
        for (size_t i = 0; i < x->nstreams; i++) {
            js_stream *s = x->streams[i];
            if (s == skip || s->cfg.storage != storage || s->cfg.max_bytes <= 0) continue;
            *srv_res += s->cfg.max_bytes;
            if (x == acc) *acc_res += s->cfg.max_bytes;
        }
    }
}

int js_account_bytes_check(js_account *acc, const js_stream_cfg *c, const js_stream *skip,
                           int64_t add) {
    if (add < 0) add = 1;
    bool mem = c->storage == SD_STORAGE_MEMORY;
    if (!mem && c->storage != SD_STORAGE_FILE) return 0; /* storage not given yet */
    int err = mem ? JSMemoryResourcesExceededErr : JSStorageResourcesExceededErr;
    int64_t acc_res, srv_res;
    reserved(acc, c->storage, skip, &acc_res, &srv_res);
    int64_t alim = mem ? acc->limits.max_memory : acc->limits.max_store;
    if (alim >= 0 && (acc_res > alim || add > alim - acc_res)) return err;
    int64_t slim = mem ? acc->js->cfg.max_memory : acc->js->cfg.max_store;
    if (slim >= 0 && (srv_res > slim || add > slim - srv_res)) return err;
    return 0;
}

int js_account_stream_limits_check(js_account *acc, const js_stream_cfg *c) {
    const js_account_limits *l = &acc->limits;
    if (l->max_streams > 0) {
        int64_t n = 0; /* Go countStreams: a stream of the same name does not count */
        for (size_t i = 0; i < acc->nstreams; i++)
            if (!c->name || strcmp(acc->streams[i]->cfg.name, c->name) != 0) n++;
        if (n >= l->max_streams) return JSMaximumStreamsLimitErr;
    }
    /* Go checkLimits: the stream's max_consumers against the account's. */
    if (c->max_consumers > 0 && l->max_consumers > 0 && c->max_consumers > l->max_consumers)
        return JSMaximumConsumersLimitErr;
    js_stream *same = c->name ? js_account_stream(acc, c->name) : NULL;
    return js_account_bytes_check(acc, c, same, c->max_bytes);
}

bool js_account_limits_exceeded(js_account *acc, int storage, size_t subj_len, size_t hdr_len,
                                size_t msg_len) {
    bool mem = storage == SD_STORAGE_MEMORY;
    int64_t lim = mem ? acc->limits.max_memory : acc->limits.max_store;
    if (lim < 0) return false;
    int64_t sz = (int64_t)(mem ? sd_memstore_msg_size(subj_len, hdr_len, msg_len)
                               : sd_filestore_msg_size(subj_len, hdr_len, msg_len));
    return (mem ? acc->mem_used : acc->store_used) + sz > lim;
}

json_t *js_account_limits_json(const js_account *acc) {
    const js_account_limits *l = js_account_limits_of(acc);
    json_t *o = json_object();
    json_object_set_new(o, "max_memory", json_integer(l->max_memory));
    json_object_set_new(o, "max_storage", json_integer(l->max_store));
    json_object_set_new(o, "max_streams", json_integer(l->max_streams));
    json_object_set_new(o, "max_consumers", json_integer(l->max_consumers));
    json_object_set_new(o, "max_ack_pending", json_integer(l->max_ack_pending));
    json_object_set_new(o, "memory_max_stream_bytes", json_integer(l->memory_max_stream_bytes));
    json_object_set_new(o, "storage_max_stream_bytes", json_integer(l->store_max_stream_bytes));
    json_object_set_new(o, "max_bytes_required", json_boolean(l->max_bytes_required));
    return o;
}
