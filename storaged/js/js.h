/* JetStream inside storaged: the JetStream API ($JS.API.>), publishes into streams, consumers.
 *
 * Ports Go nats-server v2.14.5 server/jetstream.go, jetstream_api.go, stream.go, consumer.go
 * for a single node.  This layer does no I/O of its own: storaged's process loop
 * (storaged/sd_process.c) hands it every message published on a subject it holds interest in,
 * and gives it a host (js_host) through which it publishes replies, deliveries and advisories
 * and declares the interest it needs.  Everything runs on storaged's one thread.
 *
 * Durability: a PubAck (or any reply that reports a write done) is not published when the
 * message is stored but queued, and only published by js_server_flush() after the stores
 * have synced (group commit: the loop drains a batch of inbound messages, then flushes once).
 */
#ifndef SD_JS_H
#define SD_JS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storaged/filestore.h"

typedef struct js_server js_server;

/* What the process offers the JetStream layer.  Every call names the account it acts in
 * (never NULL; "$G" is the global account): JetStream serves each JetStream-enabled account
 * in that account's subject space, as Go's jsAccount sends through its account. */
typedef struct js_host {
    void *ctx;
    /* Publishes a message to the account's subscribers (like a client PUB/HPUB). hdr may be
     * NULL (hdr_len 0) for a plain message; reply may be NULL (reply_len 0). */
    void (*publish)(void *ctx, const char *account, const char *subj, size_t subj_len, const char *reply,
                    size_t reply_len, const uint8_t *hdr, size_t hdr_len, const uint8_t *data,
                    size_t data_len);
    /* Optional: publishes a message routed by `subj` (a deliver subject or a pull request's
     * inbox) that clients see with the subject `shown` (Go's pa.deliver).  Without it,
     * deliveries show the routing subject. */
    void (*publish_as)(void *ctx, const char *account, const char *subj, size_t subj_len, const char *shown,
                       size_t shown_len, const char *reply, size_t reply_len, const uint8_t *hdr,
                       size_t hdr_len, const uint8_t *data, size_t data_len);
    /* Adds (delta +1) or removes (-1) a subscription of this process on `subject` (may hold
     * wildcards).  Inbound messages are only delivered for subjects subscribed here. */
    void (*interest)(void *ctx, const char *account, const char *subject, int delta);
    /* True when some client of the account subscribes to a subject matching `subject`
     * (literal). */
    bool (*has_interest)(void *ctx, const char *account, const char *subject);
    /* Wall clock, ns since the epoch (tests pass a fake clock). */
    int64_t (*now_ns)(void *ctx);
} js_host;

/* Go JetStreamAccountLimits (the account's `jetstream {}` in the config; -1: unlimited). */
typedef struct js_account_limits {
    int64_t max_memory, max_store, max_streams, max_consumers, max_ack_pending;
    int64_t memory_max_stream_bytes, store_max_stream_bytes;
    bool max_bytes_required;
} js_account_limits;

/* An account's import (Go's accounts {} imports) as external mirrors and sources need it:
 * storaged resolves an ExternalStream's API and deliver prefixes through these (see
 * js_mirror_ext.c).  Strings borrowed. */
typedef struct js_import_config {
    bool service;        /* service import (else stream import) */
    const char *account; /* the exporting account */
    const char *subject; /* the exporter's subject */
    const char *to;      /* the importer's subject (service) or mapped subject; NULL: subject */
    const char *prefix;  /* stream imports: the prefix; NULL: none */
} js_import_config;

/* An account's export (Go's accounts {} exports). */
typedef struct js_export_config {
    bool service;
    const char *subject;
    const char *const *accounts; /* approved importers; NULL (and !accounts_set): public */
    size_t naccounts;
    bool accounts_set;
} js_export_config;

/* One account as configured (Go enableJetStreamAccounts / configJetStream). */
typedef struct js_account_config {
    const char *name;
    /* false: JetStream is not enabled for the account; its $JS.API requests get Go's
     * "jetstream not enabled for account" (10039) replies (configJetStream's info-only
     * service import). */
    bool enabled;
    js_account_limits limits;
    /* Imports and exports (borrowed; copied by js_server_open / reload). */
    const js_import_config *imports;
    size_t nimports;
    const js_export_config *exports;
    size_t nexports;
} js_account_config;

/* The node's JetStream settings (Go's jetstream {} block and -js/-sd flags). */
typedef struct js_config {
    const char *store_dir;   /* streams live in <store_dir>/jetstream/<account>/streams/<name> */
    int64_t max_memory;      /* max_memory_store; < 0: unlimited (Go computes a default) */
    int64_t max_store;       /* max_file_store; < 0: unlimited */
    const char *domain;      /* NULL or "" for none */
    sd_fs_sync_mode sync;    /* SD_FS_SYNC_NONE with group commit is the default (durable) */
    int64_t sync_interval_ns;
    uint64_t block_size;     /* max_file; 0: default */
    const char *server_id;   /* for advisories and cluster info */
    const char *server_name;
    int32_t max_payload;     /* the node's max_payload (max_msg_size defaults) */
    /* Encryption at rest (Go's jetstream `cipher` and `key`): file streams are encrypted when
     * key is set (borrowed: must outlive the server). */
    sd_fs_cipher cipher;
    const char *key;
    /* jetstream { strict: false }: API requests decoded leniently as Go's json.Unmarshal
     * fallback does (unknown fields ignored).  Added by the stream side; false = Go's
     * default strict mode. */
    bool strict_off;
    /* The accounts JetStream serves (copied).  None (naccounts 0): only the global account
     * "$G", unlimited, as Go does when no accounts are configured.  Otherwise exactly those
     * listed with enabled set; the others listed answer 10039. */
    const js_account_config *accounts;
    size_t naccounts;
    /* The system account (NULL: none).  Never JetStream's; Go still answers its clients'
     * $JS.API requests ("JetStream not enabled for account", a system_response but for
     * $JS.API.INFO). */
    const char *system_account;
} js_config;

/* An inbound message. Pointers are valid only during the call. */
typedef struct js_inmsg {
    const char *account; /* the account it was published in; NULL: the global account "$G" */
    const char *subject;
    size_t subject_len;
    const char *reply;
    size_t reply_len;
    const uint8_t *hdr; /* NATS/1.0 header block or NULL */
    size_t hdr_len;
    const uint8_t *data;
    size_t data_len;
} js_inmsg;

/* Opens JetStream: recovers every stream and consumer under store_dir and declares the
 * interest it needs through host->interest.  NULL with a message in err on failure. */
js_server *js_server_open(const js_config *cfg, const js_host *host, char *err, size_t err_len);
void js_server_close(js_server *js);

/* A configuration reload (Go configAllJetStreamAccounts on reload): accounts newly enabled
 * start (their streams recovered), accounts no longer enabled stop (streams closed, data
 * kept), the others take the new limits.  The same arguments as js_config's (copied). */
void js_server_reload_accounts(js_server *js, const js_account_config *accounts, size_t n,
                               const char *system_account);

/* Handles one inbound message (API request, stream publish, ack, flow control reply). */
void js_server_inbound(js_server *js, const js_inmsg *m);
/* Group commit: syncs stores written since the last flush, then publishes the replies that
 * waited for it. */
void js_server_flush(js_server *js);
/* Timers (expiry, ack wait, heartbeats, pull request expiry): the next deadline in ns since
 * the epoch (INT64_MAX: none) and the call that runs what is due. */
int64_t js_server_next_deadline(js_server *js);
void js_server_tick(js_server *js, int64_t now_ns);

/* Figures for /jsz and $JS.API.INFO. */
typedef struct js_usage {
    uint64_t streams, consumers, messages, bytes, memory, storage, api_total, api_errors;
    uint64_t accounts; /* JetStream-enabled accounts */
} js_usage;
void js_server_usage(js_server *js, js_usage *out);

/* /jsz account details (js_jsz.c): Go's AccountDetail array, as a jansson array (caller
 * decrefs).  account: only that one (NULL/"": all). */
typedef struct js_jsz_opts {
    const char *account;
    bool streams, consumers, config;
} js_jsz_opts;
struct json_t;
struct json_t *js_server_jsz_details(js_server *js, const js_jsz_opts *o);

#endif
