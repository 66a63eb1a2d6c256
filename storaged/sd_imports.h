/* Stream imports applied to what storaged itself publishes (advisories, API replies, PubAcks,
 * consumer deliveries).
 *
 * Plays the part of Go nats-server v2.14.5 server/accounts.go addStreamImportWithClaim /
 * addMappedStreamImportWithClaim and the shadow subscriptions they leave in the exporting
 * account (server/client.go processMsgResults, the `sub.im != nil` branch): a message
 * published into the exporting account by JetStream's internal client also reaches the
 * importing accounts' subscribers, under the prefixed, `to`-mapped or transformed subject, and
 * those subscribers count as interest in the exporting account.  One hop: a copy delivered
 * into an importer is not exported again (as broker/account_route.c does for a client
 * publish).  The configuration was validated at load (broker/account_check.c), so every
 * stream import it lists is approved by its exporter.
 */
#ifndef SD_IMPORTS_H
#define SD_IMPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/mesh.h"
#include "broker/options.h"

typedef struct sd_imports sd_imports;

/* The stream imports of every configured account (JetStream or not); NULL when none. */
sd_imports *sd_imports_new(const br_options *o);
void sd_imports_free(sd_imports *t);

/* Routes a copy of `mm` (published into mm->account) into every account importing a stream
 * whose subject matches mm->subject, routed by the mapped subject.  Clients see the mapped
 * subject, or mm->deliver when set (Go: a JetStream delivery crossing a stream import still
 * shows the stored message's subject, TestJetStreamAccountImportBasics).  True when some copy
 * was forwarded. */
bool sd_imports_route(sd_imports *t, br_mesh *mesh, const br_mesh_msg *mm);

/* True when an importing account subscribes to what `subject` (literal) maps to there. */
bool sd_imports_has_interest(sd_imports *t, br_mesh *mesh, const char *account, const char *subject,
                             size_t len);

#endif
