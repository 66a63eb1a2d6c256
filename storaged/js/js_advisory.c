/* JetStream advisory plumbing shared by streams and consumers, and the stream snapshot and
 * restore advisories (see js_advisory.h).
 *
 * Ports Go nats-server v2.14.5 server/jetstream_events.go publishAdvisory and the types
 * JSSnapshotCreateAdvisory, JSSnapshotCompleteAdvisory, JSRestoreCreateAdvisory and
 * JSRestoreCompleteAdvisory (field order and omitempty as Go's encoding/json writes them),
 * and server/events.go ClientInfo.forAdvisory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storaged/js/js_advisory.h"
#include "storaged/js/js_api_json.h"
#include "storaged/js/js_stream_int.h"

json_t *js_adv_event(js_server *js, const char *type) {
    char id[23];
    js_nuid(id);
    json_t *e = json_object();
    json_object_set_new(e, "type", json_string(type));
    json_object_set_new(e, "id", json_string(id));
    json_object_set_new(e, "timestamp", js_time_json(js_now(js)));
    return e;
}

void js_adv_domain(js_server *js, json_t *ev) {
    const char *d = js_server_config(js)->domain;
    if (d && *d) json_object_set_new(ev, "domain", json_string(d));
}

bool js_adv_publish(js_server *js, const char *acc, const char *subj, json_t *ev) {
    if (!js_host_has_interest(js, acc, subj)) {
        json_decref(ev);
        return false;
    }
    size_t len = 0;
    char *body = js_json_encode(ev, &len);
    json_decref(ev);
    if (!body) return false;
    js_publish(js, acc, subj, NULL, NULL, 0, (const uint8_t *)body, len);
    free(body);
    return true;
}

const char *js_adv_system_account(js_server *js) {
    for (size_t i = 0; i < js->naccounts; i++)
        if (js->accounts[i]->is_system) return js->accounts[i]->name;
    return NULL;
}

json_t *js_adv_client(const js_inmsg *m) {
    char *ci = m && m->hdr ? js_hdr_get(m->hdr, m->hdr_len, "Nats-Request-Info") : NULL;
    json_t *o = ci ? json_loads(ci, 0, NULL) : NULL;
    free(ci);
    if (!json_is_object(o)) {
        json_decref(o);
        return json_null();
    }
    json_object_del(o, "jwt");
    json_object_del(o, "alts");
    return o;
}

static void stream_event(js_server *js, const char *acc, const char *kind, const char *stream,
                         json_t *ev) {
    char subj[512];
    snprintf(subj, sizeof subj, "$JS.EVENT.ADVISORY.STREAM.%s.%s", kind, stream);
    js_adv_publish(js, acc, subj, ev);
}

static json_t *client_or_null(const json_t *client) {
    return client ? json_deep_copy(client) : json_null();
}

void js_adv_snapshot_create(js_server *js, const char *acc, const char *stream, json_t *state,
                            const json_t *client) {
    json_t *e = js_adv_event(js, "io.nats.jetstream.advisory.v1.snapshot_create");
    json_object_set_new(e, "stream", json_string(stream));
    json_object_set(e, "state", state);
    json_object_set_new(e, "client", client_or_null(client));
    js_adv_domain(js, e);
    stream_event(js, acc, "SNAPSHOT_CREATE", stream, e);
}

void js_adv_snapshot_complete(js_server *js, const char *acc, const char *stream, int64_t start,
                              const json_t *client) {
    int64_t end = js_now(js);
    json_t *e = js_adv_event(js, "io.nats.jetstream.advisory.v1.snapshot_complete");
    json_object_set_new(e, "timestamp", js_time_json(end));
    json_object_set_new(e, "stream", json_string(stream));
    json_object_set_new(e, "start", js_time_json(start));
    json_object_set_new(e, "end", js_time_json(end));
    json_object_set_new(e, "client", client_or_null(client));
    js_adv_domain(js, e);
    stream_event(js, acc, "SNAPSHOT_COMPLETE", stream, e);
}

void js_adv_restore_create(js_server *js, const char *acc, const char *stream,
                           const json_t *client) {
    json_t *e = js_adv_event(js, "io.nats.jetstream.advisory.v1.restore_create");
    json_object_set_new(e, "stream", json_string(stream));
    json_object_set_new(e, "client", client_or_null(client));
    js_adv_domain(js, e);
    stream_event(js, acc, "RESTORE_CREATE", stream, e);
}

void js_adv_restore_complete(js_server *js, const char *acc, const char *stream, int64_t start,
                             uint64_t bytes, const json_t *client) {
    int64_t end = js_now(js);
    json_t *e = js_adv_event(js, "io.nats.jetstream.advisory.v1.restore_complete");
    json_object_set_new(e, "timestamp", js_time_json(end));
    json_object_set_new(e, "stream", json_string(stream));
    json_object_set_new(e, "start", js_time_json(start));
    json_object_set_new(e, "end", js_time_json(end));
    json_object_set_new(e, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(e, "client", client_or_null(client));
    js_adv_domain(js, e);
    stream_event(js, acc, "RESTORE_COMPLETE", stream, e);
}
