/* Test harness for storaged's JetStream layer (storaged/js/js.h): a fake js_host that records
 * every published message and declared interest, a fake clock, and request helpers.
 * Owned by the stream side; the consumer tests may use it as is (read-only). */
#ifndef TESTS_JS_HARNESS_H
#define TESTS_JS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storaged/js/js.h"

typedef struct jh_msg {
    char *acc; /* the account it was published in */
    char *subj;
    char *reply;
    char *hdr; /* NUL-terminated copy (NULL when none) */
    size_t hdr_len;
    char *data; /* NUL-terminated copy */
    size_t len;
} jh_msg;

typedef struct jh {
    js_server *js;
    js_host host;
    js_config cfg;
    char dir[256];
    int64_t now;     /* fake clock (ns); 0: real clock */
    jh_msg *msgs;    /* everything published, in order */
    size_t nmsgs, cap;
    char *interest[256];
    char *interest_acc[256]; /* the account of interest[i] */
    int interest_n[256];
    size_t ninterest;
    int reply_seq;
    bool audit_interest; /* has_interest("$JS.EVENT.ADVISORY.API"); default false */
    const char *no_interest; /* subjects with this prefix have no interest (NULL: none) */
    const char *account; /* the account of jh_inbound/jh_req/jh_pub and jh_interest (NULL: $G) */
} jh;

/* Opens JetStream in a fresh temp dir (file storage default, SD_FS_SYNC_NONE) with a fake
 * clock starting at 2026-01-01. */
void jh_open(jh *h);
/* The same with configured accounts and the system account's name (may be NULL); accs and
 * sys must outlive h (jh_restart reuses them). */
void jh_open_accounts(jh *h, const js_account_config *accs, size_t n, const char *sys);
/* Reopens on the same dir (restart). */
void jh_restart(jh *h);
/* Closes and removes the dir. */
void jh_close(jh *h);
void jh_clear(jh *h);

/* Inbound message (hdr may be NULL), in h->account (NULL: $G). */
void jh_inbound(jh *h, const char *subj, const char *reply, const char *hdr, const char *data,
                size_t len);
/* Sends a request on subj with body (may be NULL), flushes, and returns the JSON of the last
 * message published on the reply subject (caller decrefs), or NULL. */
json_t *jh_req(jh *h, const char *subj, const char *body);
/* Same, returning the raw reply message (NULL if none). */
const jh_msg *jh_req_raw(jh *h, const char *subj, const char *body);
/* Publishes into a stream with a reply subject and optional headers; flushes; returns the
 * PubAck JSON (caller decrefs) or NULL when no reply was published. */
json_t *jh_pub(jh *h, const char *subj, const char *hdr, const char *data);
/* The last published message on subject (NULL if none). */
const jh_msg *jh_last_on(jh *h, const char *subj);
/* Count of messages published on subj. */
size_t jh_count_on(jh *h, const char *subj);
/* Net interest count declared on subject. */
int jh_interest(jh *h, const char *subject);
/* Creates a stream from a JSON config and asserts success. */
void jh_create(jh *h, const char *cfg_json);
/* Shortcuts into JSON. */
const char *jh_str(json_t *o, const char *path); /* "a.b.c" */
json_int_t jh_int(json_t *o, const char *path);
bool jh_has(json_t *o, const char *path);
int jh_err_code(json_t *o); /* error.err_code or 0 */

#endif
