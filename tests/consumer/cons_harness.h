/* Test harness for the consumer suite: a js_server driven through js.h with a fake host that
 * records every published message, a fake clock and helpers for API requests, publishes, acks
 * and pull requests. */
#ifndef CONS_HARNESS_H
#define CONS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storaged/js/js.h"

typedef struct h_msg {
    char *subj, *reply;
    char *hdr; /* NUL-terminated copy, or NULL */
    size_t hdr_len;
    char *data; /* NUL-terminated copy */
    size_t len;
    char *shown; /* the subject clients see (publish_as), NULL: subj */
} h_msg;

typedef struct h_env {
    js_server *js;
    h_msg *msgs;
    size_t n, cap;
    int64_t now;
    char dir[256];
    char *no_interest[16]; /* subjects (prefix match) reported as without interest */
    size_t n_no;
    int inbox;
    const char *domain; /* JetStream domain of the next open/reopen (NULL: none) */
} h_env;

#define H_MS 1000000LL
#define H_S 1000000000LL

void h_open(h_env *e);
void h_reopen(h_env *e);
void h_close(h_env *e);
void h_inbound(h_env *e, const char *subj, const char *reply, const char *hdr, const char *data);
/* API request; returns the parsed reply (caller decrefs) or NULL when none came. */
json_t *h_api(h_env *e, const char *subj, const char *body);
/* Creates a stream: name, subjects JSON array text, storage ("memory"/"file"), extra JSON
 * members (e.g. "\"retention\":\"workqueue\"") or NULL.  Asserts success. */
void h_stream(h_env *e, const char *name, const char *subjects, const char *storage, const char *extra);
void h_pub(h_env *e, const char *subj, const char *data);
void h_pub_hdr(h_env *e, const char *subj, const char *hdr, const char *data);
/* Creates a consumer (CONSUMER.CREATE.<stream>.<name> or legacy when name is NULL) with the
 * config JSON text; returns the response (caller decrefs). */
json_t *h_consumer(h_env *e, const char *stream, const char *name, const char *config);
json_t *h_info(h_env *e, const char *stream, const char *name);
/* Sends a pull request with the given body; returns the reply inbox used. */
const char *h_pull(h_env *e, const char *stream, const char *cons, const char *body);
void h_advance(h_env *e, int64_t ns);
void h_clear(h_env *e);
/* Messages published to subj since index `from` (count), and the k-th one. */
size_t h_count(h_env *e, const char *subj);
h_msg *h_nth(h_env *e, const char *subj, size_t k);
h_msg *h_last(h_env *e, const char *subj);
/* Header value lookup in a recorded message (static buffer). */
const char *h_hval(const h_msg *m, const char *key);
bool h_status(const h_msg *m, const char *status_line);

#endif
