/* Service latency tracking: a service export with `latency { sampling, subject }` gets, for
 * each sampled request through one of its imports, a ServiceLatency event published in the
 * exporting account on the latency subject.
 *
 * Ports Go nats-server v2.14.5 server/accounts.go (ServiceLatency, shouldSample and its trace
 * header rules, sendTrackingLatency, sendBadRequestTrackingLatency,
 * sendBackendErrorTrackingLatency, sanitizeLatencyMetric) and client.go getClientInfo.
 *
 * The measurement lives with the reply mapping on the requester's worker (account_route.c):
 * started when the request crosses the import, finished when the response comes back (from
 * any worker), or ended with 503 (no responder), 504 (the response threshold passed) or 400
 * (a sampled request without a reply subject).
 */
#ifndef BR_ACCOUNT_LATENCY_H
#define BR_ACCOUNT_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

struct br_server;
struct br_pub;
struct br_service_in;
struct br_account;

typedef struct br_latency br_latency;

/* Go shouldSample for the request m crossing si.  Returns a
 * started measurement, or NULL when the export tracks no latency or this request is not
 * sampled.  A sampled request without a reply subject is reported at once (400) and NULL is
 * returned. */
br_latency *br_latency_start(struct br_server *s, const struct br_pub *m,
                             const struct br_service_in *si);
/* The response m reached the requester's reply mapping: publishes the 200 event. */
void br_latency_response(struct br_server *s, br_latency *l, const struct br_pub *m, uint32_t hops);
/* The request went nowhere (503 "Service Unavailable") or the mapping expired without a
 * response (504 "Service Timeout"). */
void br_latency_fail(struct br_server *s, br_latency *l, int status, uint32_t hops);
void br_latency_free(br_latency *l);

struct br_client;
/* Go getClientInfo(detailed) as a JSON object in ClientInfo's field order. */
struct json_t *br_client_info_json(struct br_server *s, const struct br_client *c, bool detailed);
/* The import's `share` (Go si.share) from the configuration. */
bool br_service_import_share(struct br_server *s, const struct br_service_in *si);

#endif
