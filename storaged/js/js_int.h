/* JetStream internals shared by the stream side (js_server.c, js_api*.c, js_stream*.c) and
 * the consumer side (js_consumer*.c).  The two sides meet only through the functions below,
 * so each can change its own structures freely.
 *
 * Ownership: the stream side owns js_server, accounts, streams, the API dispatcher, error
 * responses and the deferred-reply queue; the consumer side owns consumers, pull requests,
 * push delivery, acks and consumer persistence.
 *
 * Notes from the stream side (as built, no prototype changed):
 *  - accounts (js_account.c): js_server_open declares "$JS.API.>" in every configured
 *    account, and "$JS.ACK.>", "$JS.FC.>" and every stream's subjects (kept in step on
 *    create/update/delete) in the JetStream-enabled ones; the consumer side only needs to
 *    declare anything else it listens on.  Every publish and interest call names the account
 *    (a stream's: js_account_name(js_stream_account(st))); an account without JetStream only
 *    ever sees its 10039 replies.
 *  - js_api_reply publishes {"type", "error"?, then resp's other fields in insertion order}
 *    at once, counts the request in the account's API stats (an error when resp has "error"),
 *    and encodes like Go (\u003c \u003e \u0026 escapes).  resp is not consumed.
 *  - js_api_set_error fills the first {placeholder} of the description with arg (Go's
 *    NewJS...Error(arg)); js_errors.h has the table, the enum of Go's identifiers and a
 *    two-argument form.  storaged/js/js_api_json.h has Go-compatible strict request decoding
 *    (unknown fields, type errors) and time formatting that the consumer side may use.
 *  - $JS.API.CONSUMER.* is forwarded whole (including CONSUMER.MSG.NEXT and unknown
 *    CONSUMER.* subjects, which the consumer side answers).
 *  - js_stream_mark_dirty then js_publish_after_sync is the pattern for replies that report a
 *    write; js_server_flush syncs dirty stores first, then publishes those replies in order.
 *  - mirrors and sourcing streams (js_mirror_*.c) copy from their origins at the start of
 *    js_server_flush; every copy is announced with js_consumers_on_stored like a publish.
 *    A mirror keeps the origin's sequences, so its store may hold skipped (deleted) ranges.
 *  - atomic batches (js_batch.c) store their messages only at commit, one
 *    js_consumers_on_stored per message, in order.
 */
#ifndef SD_JS_INT_H
#define SD_JS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "storaged/js/js.h"
#include "storaged/store.h"

typedef struct js_account js_account;
typedef struct js_stream js_stream;
typedef struct js_consumer js_consumer;

/* ---- provided by the stream side ------------------------------------------------------ */

js_server *js_stream_server(const js_stream *st);
js_account *js_stream_account(const js_stream *st);
const char *js_account_name(const js_account *acc);
const char *js_stream_name(const js_stream *st);
sd_store *js_stream_store(js_stream *st);
sd_retention_policy js_stream_retention(const js_stream *st);
sd_storage_type js_stream_storage(const js_stream *st);
/* The stream's configuration as Go's StreamConfig JSON (borrowed). */
const json_t *js_stream_config_json(const js_stream *st);
/* The directory holding the stream's files (file storage), NULL for memory streams. */
const char *js_stream_dir(const js_stream *st);
/* Looks a stream up by name in an account; NULL when missing. */
js_stream *js_account_stream(js_account *acc, const char *name);
/* The account of an inbound message (created on first use). */
js_account *js_server_account(js_server *js, const char *name);
/* The consumer side's slot on each stream (its list of consumers). */
void **js_stream_consumers_slot(js_stream *st);

/* Host access for both sides. */
const js_host *js_server_host(js_server *js);
const js_config *js_server_config(js_server *js);
int64_t js_now(js_server *js);

/* Publishes now, in the account named `acc` (every publish below names its account). */
void js_publish(js_server *js, const char *acc, const char *subj, const char *reply,
                const char *hdr, size_t hdr_len, const uint8_t *data, size_t len);
/* A consumer's delivery: routed by dsubj, shown to the client with the message's own subject
 * (Go's pa.deliver). */
void js_deliver(js_server *js, const char *acc, const char *dsubj, const char *subj,
                const char *reply, const char *hdr, size_t hdr_len, const uint8_t *data,
                size_t len);
/* Publishes after the next group commit (replies that report a write as done). */
void js_publish_after_sync(js_server *js, const char *acc, const char *subj, const char *hdr,
                           size_t hdr_len, const uint8_t *data, size_t len);
/* The host's interest calls in an account (no-ops / true without the host's callbacks). */
void js_host_interest(js_server *js, const char *acc, const char *subject, int delta);
bool js_host_has_interest(js_server *js, const char *acc, const char *subject);
/* The account's JetStream limits (Go jsAccount.limits[""]; -1: unlimited). */
const js_account_limits *js_account_limits_of(const js_account *acc);
/* Marks a stream's store as written, so js_server_flush syncs it. */
void js_stream_mark_dirty(js_stream *st);

/* API replies: a JSON response with Go's "type" field set (borrowed json, not freed). */
void js_api_reply(js_server *js, const js_inmsg *req, const char *type, json_t *resp);
/* Sets resp's "error" to Go's API error (err_code from server/errors.json, see js_errors.h),
 * formatting its description with the optional argument as Go's NewJS...Error(opts) does. */
void js_api_set_error(json_t *resp, int err_code, const char *arg);

/* ---- stream snapshots and restores (js_snapshot.c) ------------------------------------- */

/* $JS.API.STREAM.SNAPSHOT.<stream> and $JS.API.STREAM.RESTORE.<stream>. */
void js_api_stream_snapshot(js_server *js, js_account *acc, const js_inmsg *m);
void js_api_stream_restore(js_server *js, js_account *acc, const js_inmsg *m);
/* $JS.SNAPSHOT.ACK.> and $JS.SNAPSHOT.RESTORE.>: true when the subject is under $JS.SNAPSHOT. */
bool js_snapshot_inbound(js_server *js, const js_inmsg *m);
int64_t js_snapshot_next_deadline(js_server *js);
void js_snapshot_tick(js_server *js, int64_t now_ns);
/* Abandons every transfer of js (closing). */
void js_snapshot_close(js_server *js);

/* ---- provided by the consumer side ------------------------------------------------------ */

/* $JS.API.CONSUMER.* requests; `op` is the subject after "$JS.API." (e.g.
 * "CONSUMER.CREATE.ORDERS.dur"). */
void js_consumer_api(js_server *js, js_account *acc, const char *op, const js_inmsg *m);
/* $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> is part of the above. */
/* $JS.ACK.> acknowledgements and $JS.FC.> flow control replies. */
void js_consumer_ack(js_server *js, const js_inmsg *m);
void js_consumer_flow_control(js_server *js, const js_inmsg *m);
/* A message was stored in the stream at seq (deliver to waiting pulls / push consumers). */
void js_consumers_on_stored(js_stream *st, uint64_t seq, const char *subj);
/* The stream was purged or messages removed (consumers adjust their positions). */
void js_consumers_on_purged(js_stream *st, uint64_t new_first_seq);
/* The stream is being deleted (delete=true: remove consumer state from disk) or closed. */
void js_consumers_free(js_stream *st, bool delete_state);
/* At startup: recover the stream's durable consumers from disk. */
void js_consumers_recover(js_stream *st);
/* Group commit of consumer state and configs (LMDB, storaged/sd_meta.h): js_server_flush calls
 * it after syncing the stream stores and before publishing the deferred replies. */
void js_consumers_commit(js_server *js);
/* js_server_close, after the streams are closed: the last commit; closes the LMDB store. */
void js_consumers_close(js_server *js);
/* Snapshot members obs/<name>/{meta.json,meta.sum,o.dat} of the stream's consumers (the form
 * js_consumers_recover migrates after a restore); free with js_consumers_snapshot_files_free. */
sd_snapshot_file *js_consumers_snapshot_files(js_stream *st, size_t *n);
void js_consumers_snapshot_files_free(sd_snapshot_file *f, size_t n);
/* Go's stream update check of consumer_limits: the names (", "-joined, malloc'd) of the
 * consumers whose inactive_threshold or max_ack_pending exceed the new limits, or NULL. */
char *js_consumers_limits_violation(js_stream *st, int64_t inactive_threshold,
                                    int64_t max_ack_pending);
/* Counts for stream info and account usage. */
size_t js_consumers_count(js_stream *st);
/* For interest/workqueue retention: true when no consumer still needs seq (so the stream may
 * remove it); the stream side asks this before removing. */
bool js_consumers_all_acked(js_stream *st, uint64_t seq);
/* Timers. */
int64_t js_consumers_next_deadline(js_server *js);
void js_consumers_tick(js_server *js, int64_t now_ns);

#endif
