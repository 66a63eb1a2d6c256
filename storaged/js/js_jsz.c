/* The account details of /jsz (accounts=true, streams=true, consumers=true, config=true,
 * acc=<name>): Go nats-server v2.14.5 server/monitor.go accountDetail, StreamDetail and
 * AccountDetail.  storaged builds them on the supervisor's request (BR_QUERY_JSZ). */
#include <string.h>

#include "storaged/js/js_api_json.h"
#include "storaged/js/js_consumer_int.h"
#include "storaged/js/js_int.h"
#include "storaged/js/js_stream_int.h"

static json_t *stream_detail(js_stream *st, const js_jsz_opts *o) {
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(st->cfg.name));
    json_object_set_new(d, "created", js_time_json(st->created));
    json_object_set_new(d, "cluster", json_pack("{s:s}", "leader",
                                                js_server_config(st->acc->js)->server_name));
    if (o->config) json_object_set(d, "config", st->cfg_json);
    json_t *state = js_stream_state_json(st, false, NULL);
    if (!json_object_get(state, "lost")) { /* lost data comes with the full state only */
        sd_stream_state ss = {0};
        sd_store_state(js_stream_store(st), &ss);
        if (ss.lost_len || ss.lost_bytes) {
            json_t *msgs = ss.lost_len ? json_array() : json_null();
            for (size_t i = 0; i < ss.lost_len; i++)
                json_array_append_new(msgs, json_integer((json_int_t)ss.lost_msgs[i]));
            json_object_set_new(state, "lost", json_pack("{s:o,s:I}", "msgs", msgs, "bytes",
                                                         (json_int_t)ss.lost_bytes));
        }
        sd_stream_state_free(&ss);
    }
    json_object_set_new(d, "state", state);
    jsc_set *set = o->consumers ? jsc_set_of(st, false) : NULL;
    if (set && set->n) {
        json_t *arr = json_array();
        for (size_t i = 0; i < set->n; i++) json_array_append_new(arr, jsc_info_json(set->v[i]));
        json_object_set_new(d, "consumer_detail", arr);
    }
    return d;
}

json_t *js_server_jsz_details(js_server *js, const js_jsz_opts *o) {
    json_t *arr = json_array();
    for (size_t a = 0; a < js->naccounts; a++) {
        js_account *acc = js->accounts[a];
        if (!acc->enabled) continue;
        if (o->account && o->account[0] && strcmp(o->account, acc->name)) continue;
        uint64_t mem, store, rmem, rstore, cons;
        js_account_usage(acc, &mem, &store, &rmem, &rstore, &cons);
        json_t *d = json_object();
        json_object_set_new(d, "name", json_string(acc->name));
        json_object_set_new(d, "id", json_string(acc->name));
        json_object_set_new(d, "memory", json_integer((json_int_t)mem));
        json_object_set_new(d, "storage", json_integer((json_int_t)store));
        json_object_set_new(d, "reserved_memory", json_integer((json_int_t)rmem));
        json_object_set_new(d, "reserved_storage", json_integer((json_int_t)rstore));
        json_object_set_new(d, "accounts", json_integer(1));
        json_object_set_new(d, "ha_assets", json_integer(0));
        json_object_set_new(d, "api", json_pack("{s:i,s:I,s:I}", "level", 4, "total",
                                                (json_int_t)acc->api_total, "errors",
                                                (json_int_t)acc->api_errors));
        if (o->streams && acc->nstreams) {
            json_t *sd = json_array();
            for (size_t i = 0; i < acc->nstreams; i++)
                json_array_append_new(sd, stream_detail(acc->streams[i], o));
            json_object_set_new(d, "stream_detail", sd);
        }
        json_array_append_new(arr, d);
    }
    return arr;
}
