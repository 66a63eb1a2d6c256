/* JetStream advisories and metrics on $JS.EVENT.ADVISORY.> / $JS.EVENT.METRIC.>: the shared
 * event envelope (TypedEvent: type, id, timestamp), the interest check Go's publishAdvisory and
 * consumer sendAdvisory make before encoding, and the stream snapshot/restore advisories.
 *
 * Ports Go nats-server v2.14.5 server/jetstream_events.go (publishAdvisory, the advisory
 * types) and the advisory parts of server/jetstream_api.go jsStreamSnapshotRequest and
 * processStreamRestore. */
#ifndef STORAGED_JS_ADVISORY_H
#define STORAGED_JS_ADVISORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "storaged/js/js.h"

/* A new event object {type, id (NUID), timestamp (RFC 3339, UTC, ns)} at the server clock. */
json_t *js_adv_event(js_server *js, const char *type);
/* Adds "domain" (Go's omitempty JetStreamDomain) when one is configured. */
void js_adv_domain(js_server *js, json_t *ev);
/* Go publishAdvisory: encodes and publishes ev (taken) in the account (NULL: "$G") when the
 * subject has interest there.  Returns whether it was published. */
bool js_adv_publish(js_server *js, const char *acc, const char *subj, json_t *ev);
/* The system account's name, or NULL when none is configured. */
const char *js_adv_system_account(js_server *js);
/* Go ClientInfo.forAdvisory of a request: its Nats-Request-Info header without jwt and alts;
 * JSON null when the request carries none (the broker does not pass the requester's info). */
json_t *js_adv_client(const js_inmsg *m);

/* $JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.<stream> (state: the snapshot's stream state). */
void js_adv_snapshot_create(js_server *js, const char *acc, const char *stream, json_t *state,
                            const json_t *client);
/* $JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.<stream>. */
void js_adv_snapshot_complete(js_server *js, const char *acc, const char *stream, int64_t start,
                              const json_t *client);
/* $JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.<stream>. */
void js_adv_restore_create(js_server *js, const char *acc, const char *stream,
                           const json_t *client);
/* $JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.<stream>: bytes received. */
void js_adv_restore_complete(js_server *js, const char *acc, const char *stream, int64_t start,
                             uint64_t bytes, const json_t *client);

#endif
