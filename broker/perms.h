/* Authorization: per-user publish/subscribe permissions and response (reply) permissions.
 *
 * Ports the permission model of Go nats-server v2.14.5: the Permissions/SubjectPermission/
 * ResponsePermission types of server/auth.go (clone, validateResponsePermissions,
 * validatePermissionSubjects), server/opts.go checkPermSubjectArray, and the client side of
 * server/client.go: setPermissions, splitSubjectQueue, publicPermissions, canSubscribe and
 * queueMatches, loadMsgDenyFilterIfNeeded/checkDenySub, pubAllowedFullCheck, responseAllowed,
 * pruneReplyPerms and the "Permissions Violation" texts.
 *
 * Three layers:
 *  - br_permissions: the configured form (what Go keeps in Options), plain lists of strings.
 *  - br_perms: the compiled form, one per configured user, immutable, reference counted and
 *    shared by every connection of that user (Go builds one per connection; the lists never
 *    change on a connection here, so sharing is not observable).  Allow/deny lists are
 *    sl_sublists, matched as Go matches its permission sublists.
 *  - br_perm_state: per connection: the reply subjects it may answer (allow_responses) and
 *    whether delivery must be filtered against subscribe deny entries (Go mperms).
 *
 * Go's per-connection publish cache (pcache) is an optimisation only here: the shared sublists
 * keep their own bounded result cache (a cached literal subject is checked without
 * allocating), and, as in Go, whether a subject is allowed as a tracked reply is never cached,
 * so reply permissions stay dynamic.
 *
 * Single-threaded: a br_perm_state belongs to its connection's worker loop.  A br_perms may be
 * read from several threads only if its reference count is changed by one thread.
 */
#ifndef BR_PERMS_H
#define BR_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strmap.h"

/* Go DEFAULT_ALLOW_RESPONSE_MAX_MSGS / DEFAULT_ALLOW_RESPONSE_EXPIRATION */
#define BR_ALLOW_RESPONSE_MAX_MSGS 1
#define BR_ALLOW_RESPONSE_EXPIRATION_NS (2LL * 60 * 1000000000)

/* Go: replyPermLimit, replyPruneTime */
#define BR_REPLY_PERM_LIMIT 4096
#define BR_REPLY_PRUNE_NS 1000000000LL

/* Go sysGroup: a queue group name clients may never subscribe with. */
#define BR_SYS_GROUP "_sys_"

/* ---- the configured form ---------------------------------------------------------------- */

typedef struct br_subject_perm {
    char **allow; /* NUL-terminated strings */
    size_t nallow;
    bool allow_set; /* Go: Allow != nil.  Set with nallow == 0 allows nothing (allow_responses) */
    char **deny;
    size_t ndeny;
} br_subject_perm;

typedef struct br_response_perm {
    int64_t max_msgs;   /* <= 0: unlimited (Go: negative means infinite) */
    int64_t expires_ns; /* <= 0: never */
} br_response_perm;

typedef struct br_permissions {
    br_subject_perm *publish; /* NULL: Go nil (no restriction) */
    br_subject_perm *subscribe;
    br_response_perm *response; /* NULL: no allow_responses */
} br_permissions;

br_permissions *br_permissions_new(void);
/* Deep copy (Go Permissions.clone); NULL gives NULL.  Aborts on out of memory. */
br_permissions *br_permissions_clone(const br_permissions *p);
void br_permissions_free(br_permissions *p);
/* Go reflect.DeepEqual of two Permissions (nil and empty lists differ, as in Go). */
bool br_permissions_equal(const br_permissions *a, const br_permissions *b);

br_subject_perm *br_subject_perm_new(void);
/* Appends a subject to the allow (deny == false) or deny list; allow also sets allow_set. */
void br_subject_perm_add(br_subject_perm *sp, bool deny, const char *s, size_t len);

/* Go validateResponsePermissions: with a response permission, publish exists, its allow list
 * is set (empty: only replies may be published) and zero max/expires take the defaults. */
void br_permissions_fix_response(br_permissions *p);

/* Go checkPermSubjectArray: 0, or -EINVAL with Go's message in err, e.g.
 * `subject "a b c" is not a valid subject` or `queue "x y" is not a valid queue`. */
int br_perm_check_subjects(char *const *sa, size_t n, bool allow_queue, char *err, size_t errlen);
/* Go validatePermissionSubjects: 0, or -EINVAL with e.g.
 * `publish deny: subject "foo bar" is not a valid subject` in err. */
int br_permissions_validate(const br_permissions *p, char *err, size_t errlen);

/* Go splitSubjectQueue: "subject" or "subject queue" separated by Unicode white space.
 * 0 with the pieces (pointers into sq; *queue = NULL and *queue_len = 0 when absent), or
 * -EINVAL (Go: `invalid subject-queue "..."`). */
int br_split_subject_queue(const char *sq, size_t len, const char **subject, size_t *subject_len,
                           const char **queue, size_t *queue_len);

/* ---- the compiled form ------------------------------------------------------------------ */

typedef struct br_perms br_perms;

/* Go setPermissions.  NULL permissions give NULL (no restrictions); anything else, even an
 * empty br_permissions, gives a br_perms with one reference.  Entries Go would skip (invalid
 * subjects) are skipped and logged as Go logs them. */
br_perms *br_perms_compile(const br_permissions *p);
br_perms *br_perms_ref(br_perms *p);
void br_perms_unref(br_perms *p);
/* The response permission, or NULL. */
const br_response_perm *br_perms_response(const br_perms *p);
/* Go publicPermissions (user info): rebuilt from what was compiled, subscribe entries as
 * "subject queue".  Caller frees with br_permissions_free.  NULL for NULL. */
br_permissions *br_perms_public(const br_perms *p);

/* ---- per connection --------------------------------------------------------------------- */

typedef struct br_perm_state {
    br_perms *perms;   /* NULL: no permissions, everything allowed */
    nx_strmap replies; /* Go c.replies: reply subject -> tracked response */
    uint32_t replies_since_prune;
    int64_t last_prune_ns;
    bool pruned_once; /* Go's zero lastReplyPrune */
    bool deny_filter; /* Go c.mperms != nil: filter deliveries against subscribe deny */
} br_perm_state;

/* Go setPermissions/RegisterUser on a connection: drops previous state (tracked replies, deny
 * filter) and takes a new reference to p (NULL: no permissions). */
void br_perm_state_set(br_perm_state *st, br_perms *p);
/* Releases everything; the state is left as if zeroed (no permissions). */
void br_perm_state_clear(br_perm_state *st);

/* Go pubAllowedFullCheck(subject, fullCheck=true): may the connection publish to `subject`?
 * A subject allowed only as a tracked reply counts one response against the reply's max.
 * now_ns: a monotonic clock in nanoseconds. */
bool br_perms_pub_allowed(br_perm_state *st, const char *subject, size_t len, int64_t now_ns);
/* Go processSubEx's checks for a CLIENT: canSubscribe (and the deny filter it may switch on)
 * plus the "_sys_" queue group, which is refused even without permissions.  queue: NULL or
 * qlen 0 for a plain subscription. */
bool br_perms_sub_allowed(br_perm_state *st, const char *subject, size_t len, const char *queue,
                          size_t qlen);
/* Go deliverMsg's `client.mperms != nil && client.checkDenySub(subject, sub.queue)`: true when
 * a message on the literal `subject` must not be delivered to this connection's subscription
 * (queue: that subscription's queue group or NULL) because of a subscribe deny entry. */
bool br_perms_deny_delivery(br_perm_state *st, const char *subject, size_t len, const char *queue,
                            size_t qlen);
/* Go deliverMsg's reply tracking: after queuing a message carrying `reply` to this connection,
 * remember that it may publish to the reply (allow_responses).  A no-op without response
 * permissions or when the reply is publishable anyway. */
void br_perms_track_reply(br_perm_state *st, const char *reply, size_t len, int64_t now_ns);
/* True if br_perms_track_reply can do anything (the connection has response permissions). */
bool br_perms_tracks_replies(const br_perm_state *st);
/* Go pruneReplyPerms. */
void br_perms_prune_replies(br_perm_state *st, int64_t now_ns);
/* Number of tracked reply subjects (tests, monitoring). */
uint32_t br_perms_tracked_replies(const br_perm_state *st);

/* ---- reserved subjects (client.go processInboundClientMsg) ------------------------------ */

/* Subjects a CLIENT may never publish to, permissions or not: the gateway routed reply
 * prefix "_GR_." and the RAFT prefix "$NRG." (Go allows the latter to the system account
 * only).  Both answer with the publish violation. */
bool br_perms_pub_reserved(const char *subject, size_t len);
/* Go isReservedReply: "_R_.", "$JS.ACK." and "_GR_." reply subjects; answered with the
 * "Publish with Reply" violation. */
bool br_perms_reply_reserved(const char *reply, size_t len);

/* ---- texts ------------------------------------------------------------------------------ */

/* Go's %q (strconv.Quote) of arbitrary bytes into out, NUL-terminated and truncated to cap;
 * returns the full length (snprintf style). */
size_t br_go_quote(char *out, size_t cap, const char *s, size_t len);

/* The -ERR texts (without -ERR and quotes), snprintf style:
 *   Permissions Violation for Publish to "x"
 *   Permissions Violation for Subscription to "x"
 *   Permissions Violation for Subscription to "x" using queue "q"   (queue != NULL)
 *   Permissions Violation for Publish with Reply of "x"                                  */
int br_perms_pub_violation(char *buf, size_t cap, const char *subject, size_t len);
int br_perms_sub_violation(char *buf, size_t cap, const char *subject, size_t len,
                           const char *queue, size_t qlen);
int br_perms_reply_violation(char *buf, size_t cap, const char *reply, size_t len);
/* The error log lines Go writes with them:
 *   Publish Violation - Subject "x"
 *   Subscription Violation - Subject "x", SID 1
 *   Subscription Violation - Subject "x", Queue: "q", SID 1
 *   Publish Violation - Reply "x"                                                         */
int br_perms_pub_violation_log(char *buf, size_t cap, const char *subject, size_t len);
int br_perms_sub_violation_log(char *buf, size_t cap, const char *subject, size_t len,
                               const char *queue, size_t qlen, const char *sid, size_t sid_len);
int br_perms_reply_violation_log(char *buf, size_t cap, const char *reply, size_t len);

#endif
