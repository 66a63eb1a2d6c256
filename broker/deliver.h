/* Publish → match → deliver, for messages from local clients and from other workers.
 *
 * Ports Go nats-server v2.14.5 client.go processMsgResults, deliverMsg, msgHeader and the
 * no-responders reply of processInboundClientMsg.  A match result mixes local subscriptions
 * (br_sub) and other workers' interest (br_rsub, see mesh.h): local plain subscribers get the
 * message directly, each interested worker gets it once through the mesh, and each queue group
 * gets it exactly once, its member chosen at random over local members and remote weights.
 */
#ifndef BR_DELIVER_H
#define BR_DELIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/parser.h"

struct br_server;
struct br_client;

struct br_account;
struct br_service_in;

#define BR_MAX_IMPORT_HOPS 4 /* an import chain longer than this is not followed */

typedef struct br_pub {
    struct br_client *pub; /* the publishing client; NULL when the message came from the mesh */
    struct br_account *acc; /* the account the subject is matched in */
    uint32_t hops;          /* imports crossed so far (bounded) */
    bool response;          /* a service response on its way back: no further service import */
    bool stream_import;     /* delivered into an importer: its subscribers only (Go's shadow
                             * subscriptions), no further import of any kind */
    /* Go pa.psi: the service imports this request went through (cycles are not followed) */
    const struct br_service_in *psi[BR_MAX_IMPORT_HOPS];
    np_str subject;
    np_str deliver; /* Go pa.deliver: the subject shown in MSG when not `subject` (mesh.h) */
    np_str reply;
    np_str size_str; /* the client's own size text: Go echoes it verbatim in MSG/HMSG */
    np_str hdr_str;
    const uint8_t *payload; /* headers + body */
    uint32_t hdr_len;
    uint32_t total_len;
} br_pub;

/* Routes a client's message; true if any subscriber (local or on another worker) got it. */
bool br_route_publish(struct br_server *s, const br_pub *m);

/* The mesh's delivery callback (mesh.h br_mesh_deliver_fn; ctx is the br_server): a message
 * from another member for this worker's clients. */
struct br_mesh_msg;
void br_deliver_from_mesh(void *ctx, const struct br_mesh_msg *mm, const np_str *queues,
                          uint32_t nqueues);

/* Go's no-responders status message to the requester's own reply subscription. */
void br_send_no_responders(struct br_client *c, const br_pub *m);

#endif
