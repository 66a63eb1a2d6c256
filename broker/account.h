/* Accounts: isolated subject spaces, their exports/imports and limits.
 *
 * Ports Go nats-server v2.14.5 server/accounts.go (Account, stream/service exports and imports,
 * checkStreamImportAuthorized/checkServiceImportAuthorized, import cycle detection, service
 * response tracking with _R_ reply subjects) and, in account_conf.c, the `accounts {}` and
 * `system_account` parts of server/opts.go (parseAccounts, parseAccountExports/Imports,
 * parseExportStreamOrService, parseImportStreamOrService, parseAccountLimits).
 *
 * Two halves:
 *  - configuration (br_accounts_conf in br_options): what the file says, validated while the file
 *    is parsed, as Go reports these errors from parseAccounts;
 *  - runtime (br_account, one registry per broker worker, account.c / account_route.c): a
 *    sublist per account, the imports compiled into internal subscriptions, limits, and the
 *    service reply map.  Accounts live until the worker exits (sublists are referenced by other
 *    workers' interest); a reload that adds accounts creates them, one that drops them leaves
 *    them empty.
 */
#ifndef BR_ACCOUNT_H
#define BR_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/sublist.h"
#include "common/conf.h"
#include "common/strmap.h"
#include "common/transform.h"
#include "proto/parser.h"

#define BR_GLOBAL_ACCOUNT "$G"
#define BR_DEFAULT_SYSTEM_ACCOUNT "$SYS"

typedef enum br_resp_type {
    BR_RESP_SINGLETON = 0,
    BR_RESP_STREAMED,
    BR_RESP_CHUNKED,
} br_resp_type;

/* ---- configuration ---------------------------------------------------------------------- */

typedef struct br_export_conf {
    char *subject;
    bool service;
    br_resp_type rt;
    char **accounts; /* approved importers; NULL: public */
    size_t naccounts;
    bool accounts_set;  /* `accounts: []` given (Go: token required, never granted here) */
    uint32_t token_pos; /* account_token_position */
    char *lat_subject;  /* latency {subject}; NULL: no latency tracking */
    int lat_sampling;   /* 1..100, 0: "headers" */
    int64_t threshold_ms; /* response_threshold; 0: Go's default (2 min) */
} br_export_conf;

typedef struct br_import_conf {
    bool service;
    char *account; /* the exporting account */
    char *subject; /* the exporter's subject */
    char *to;      /* service: the importer's subject (default subject); stream: mapped */
    char *prefix;  /* stream only */
    bool share;
} br_import_conf;

/* An account's `jetstream` (Go parseJetStreamForAccount, JetStreamAccountLimits; -1: no
 * limit).  Only the default tier: tiers come from JWTs, which this server does not take. */
typedef struct br_acc_js {
    bool enabled;
    int64_t max_memory, max_store, max_streams, max_consumers, max_ack_pending;
    int64_t memory_max_stream_bytes, store_max_stream_bytes;
    bool max_bytes_required;
} br_acc_js;

typedef struct br_acc_conf {
    char *name;
    char *nkey;
    int32_t max_conns, max_subs, max_payload, max_leafs; /* -1: no limit (Go jwt.NoLimit) */
    br_export_conf *exports;
    size_t nexports;
    br_import_conf *imports;
    size_t nimports;
    nx_mappings mappings; /* the account's `mappings {}` */
    br_acc_js js;         /* the account's `jetstream` */
} br_acc_conf;

typedef struct br_accounts_conf {
    br_acc_conf *accs;
    size_t n;
    char *system_account; /* system_account / system; NULL: "$SYS" unless no_system_account */
    bool no_system_account;
} br_accounts_conf;

void br_accounts_conf_free(br_accounts_conf *c);
const br_acc_conf *br_accounts_conf_find(const br_accounts_conf *c, const char *name);
/* The service export of account e that covers subject (Go getServiceExport: an exact match
 * first, then a wildcard export); NULL when none. */
const br_export_conf *br_accounts_service_export(const br_acc_conf *e, const char *subject);
/* The system account's name, or NULL when there is none (no_system_account). */
const char *br_accounts_system_name(const br_accounts_conf *c);
/* True when the system account has JetStream enabled (Go: "Not allowed to enable JetStream on
 * the system account", fatal when the server runs JetStream). */
bool br_accounts_conf_js_on_system(const br_accounts_conf *c);
/* Go sufficientResources when JetStream enables the configured accounts: the accounts'
 * max_memory / max_store added up against the server's; NULL, or Go's error text. */
const char *br_accounts_conf_js_resources(const br_accounts_conf *c, int64_t max_memory,
                                          int64_t max_store);

struct br_auth_opts;
struct br_conf_diag;
/* Go parseAccounts for the value of `accounts` (v), adding users to auth (their account set),
 * errors and warnings to d with Go's texts and positions. */
void br_accounts_conf_parse(br_accounts_conf *c, struct br_auth_opts *auth, const nx_conf_value *v,
                            struct br_conf_diag *d);
/* Go configureSystemAccount: `system_account` / `system` must be a string. */
void br_accounts_conf_system(br_accounts_conf *c, const nx_conf_value *v, struct br_conf_diag *d);

/* Go parseJetStreamForAccount for the value of an account's `jetstream` (account_conf_js.c). */
void br_acc_conf_parse_jetstream(struct br_conf_diag *d, const nx_conf_value *v, br_acc_conf *a);

/* Go errors of the import/export checks, exported for the unit tests: 0 or -1 with Go's text
 * (e.g. "import forms a cycle", "stream import not authorized") in err. */
int br_accounts_conf_resolve(br_accounts_conf *c, char *err, size_t errlen);

/* ---- runtime ---------------------------------------------------------------------------- */

struct br_server;
struct br_client;
struct br_pub;

typedef struct br_account br_account;

/* A stream this account exports to an importer (kept on the exporter, walked on publish). */
typedef struct br_stream_out {
    br_account *to_acc; /* the importer */
    char *from;         /* the exporter's subject (may hold wildcards) */
    char *to;           /* the importer's subject; NULL: the published subject */
    char *prefix;       /* "p." or NULL */
    nx_transform *tr;   /* wildcards mapped to other positions */
} br_stream_out;

/* A service this account imports (an internal subscription on `from` in its sublist). */
typedef struct br_service_in {
    br_account *acc;  /* the importer (this account) */
    br_account *dest; /* the exporter */
    char *from;       /* importer's subject */
    char *to;         /* exporter's subject */
    nx_transform *tr; /* from -> to when they differ with wildcards */
    br_resp_type rt;
    int64_t threshold_ms; /* the export's response threshold (0: Go's default, 2 min) */
    bool latency;         /* the export tracks latency: requests look up its settings */
    bool use_pub;
} br_service_in;

struct br_account {
    char *name;
    size_t name_len;
    sl_sublist *sublist;
    uint32_t nclients; /* this worker's clients in the account */
    int node_slot;     /* br_node_acc_slot: node-wide connection count (-1: none) */
    int32_t max_conns, max_subs, max_payload; /* -1: no limit */
    bool is_system;
    uint32_t nsubs; /* this worker's client subscriptions in the account */
    uint64_t in_msgs, in_bytes, out_msgs, out_bytes; /* this worker's, for account events */
    const nx_mappings *mappings;                     /* into the current options; NULL: none */
    br_stream_out *streams_out;
    size_t nstreams_out;
    br_service_in **services_in;
    size_t nservices_in;
    struct br_isub **isubs; /* internal subscriptions in this account's sublist */
    size_t nisubs;
    bool resp_sub; /* "_R_.<worker tag>.>" is subscribed here */
};

/* An internal subscription: a service import, or the replies to this worker's requests. */
enum { BR_ISUB_SERVICE = 1, BR_ISUB_RESPONSE = 2, BR_ISUB_SYS = 3 };
typedef struct br_isub {
    sl_sub sl;
    uint8_t kind; /* BR_SUB_INTERNAL (mesh.h); must follow sl as in br_sub */
    uint8_t what;
    br_account *acc;
    br_service_in *si;
    char subject[];
} br_isub;

/* A reply subject this worker handed to a service (Go's response service import). */
typedef struct br_reply {
    struct br_reply *prev, *next; /* oldest first */
    br_account *acc;              /* the requester's account */
    br_resp_type rt;
    int64_t expires_ms;           /* the list is kept in this order */
    int64_t threshold_ms;         /* a streamed/chunked mapping lives this long past each response */
    uint32_t token_len, reply_len;
    struct br_latency *lat; /* a sampled request's latency measurement (account_latency.h) */
    char *token; /* points into text */
    char *reply;
    char text[];
} br_reply;

/* The registry of one worker (br_server.accounts). */
typedef struct br_acc_reg {
    nx_strmap by_name;
    br_account *global, *system;
    char tag[8];           /* this worker incarnation's reply tag: "_R_.<tag>.<n>" */
    char resp_subject[16]; /* "_R_.<tag>.>" */
    nx_strmap replies;     /* token -> br_reply */
    br_reply *oldest, *newest;
    uint64_t reply_seq;
    nx_tr_out scratch[4];  /* transformed subjects, one per import hop */
    void *sys_events;      /* account_sys.c: events to publish at the start of the next turn */
    int64_t start_wall_ns; /* when this worker started (statsz "start") */
} br_acc_reg;

/* The registry of one worker: every configured account, "$G", and the system account. */
int br_accounts_init(struct br_server *s);
void br_accounts_free(struct br_server *s);
/* After a reload: creates accounts the new configuration names. */
void br_accounts_reload(struct br_server *s);
br_account *br_account_get(struct br_server *s, const char *name, size_t len);
/* Like br_account_get, creating an empty account (a peer worker's newer configuration). */
br_account *br_account_lookup_or_create(struct br_server *s, const char *name, size_t len);
br_account *br_account_global(struct br_server *s);
/* The mesh's br_mesh_sublist_fn (ctx: the br_server). */
sl_sublist *br_account_sublist_for(void *ctx, const char *name, size_t len);

/* Adds an internal subscription of kind `what` (BR_ISUB_*) to the account's sublist;
 * responses and system requests are announced to the other mesh members. */
br_isub *br_account_isub(struct br_server *s, br_account *a, const char *subject, uint8_t what);

/* account_sys.c: the system account's events and requests. */
void br_sys_init(struct br_server *s);
void br_sys_connect_event(struct br_server *s, struct br_client *c);
void br_sys_conns_event(struct br_server *s, br_account *a);
void br_sys_disconnect_event(struct br_server *s, struct br_client *c, const char *reason);
/* Go sendAuthErrorEvent: $SYS.SERVER.<id>.CLIENT.AUTH.ERR. */
void br_sys_auth_error_event(struct br_server *s, struct br_client *c, const char *reason);
bool br_sys_request(struct br_server *s, const struct br_pub *m);
/* Publishes the queued events (called once per loop turn). */
void br_sys_flush(struct br_server *s);
void br_sys_free(struct br_server *s);

/* Go MaxTotalConnectionsReached over the whole node. */
bool br_account_conns_reached(struct br_server *s, br_account *a);
/* A client joins (+1) or leaves (-1) the account's node-wide count. */
void br_account_count_client(struct br_server *s, br_account *a, int delta);

/* account_route.c: runs an internal subscription the publish matched (service import or a
 * response to one); true when the message went somewhere. */
bool br_account_internal(struct br_server *s, const struct br_pub *m, br_isub *is, bool from_mesh);
/* account_route.c: the streams the publishing account exports to importers. */
bool br_account_stream_exports(struct br_server *s, const struct br_pub *m);
/* Drops expired service reply mappings (called from the server tick). */
void br_account_expire_replies(struct br_server *s, int64_t now_ms);

#endif
