/* Authorization checks of a broker worker: compiled permissions shared by a user's
 * connections, the per-connection reply and deny-filter state, and Go's violation texts.
 *
 * Role: client.c asks br_perms_* on SUB, PUB and delivery; auth.c compiles one br_perms per
 * configured user.  Invariants: a compiled br_perms never changes after br_perms_compile (its
 * sublists are only matched, never modified), so sharing it between connections is safe and
 * its sublist caches stay valid.  Ports server/client.go (setPermissions, canSubscribe,
 * checkDenySub, pubAllowedFullCheck, responseAllowed, pruneReplyPerms, *Violation) and
 * server/auth.go (Permissions clone, validateResponsePermissions, validatePermissionSubjects)
 * of Go nats-server v2.14.5; see perms.h.
 */
#include "broker/perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/sublist.h"
#include "common/log.h"
#include "common/subject.h"

static void *xcalloc(size_t n, size_t sz) {
    void *p = calloc(n ? n : 1, sz);
    if (!p) abort();
    return p;
}

static char *xstrndup(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (!d) abort();
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* ---- the configured form ---------------------------------------------------------------- */

br_permissions *br_permissions_new(void) {
    return xcalloc(1, sizeof(br_permissions));
}

br_subject_perm *br_subject_perm_new(void) {
    return xcalloc(1, sizeof(br_subject_perm));
}

void br_subject_perm_add(br_subject_perm *sp, bool deny, const char *s, size_t len) {
    char ***list = deny ? &sp->deny : &sp->allow;
    size_t *n = deny ? &sp->ndeny : &sp->nallow;
    char **nl = realloc(*list, (*n + 1) * sizeof(char *));
    if (!nl) abort();
    nl[(*n)++] = xstrndup(s, len);
    *list = nl;
    if (!deny) sp->allow_set = true;
}

static char **clone_list(char *const *l, size_t n) {
    if (!l || !n) return NULL;
    char **c = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        c[i] = xstrndup(l[i], strlen(l[i]));
    return c;
}

static br_subject_perm *subject_perm_clone(const br_subject_perm *sp) {
    if (!sp) return NULL;
    br_subject_perm *c = br_subject_perm_new();
    c->allow = clone_list(sp->allow, sp->nallow);
    c->nallow = sp->nallow;
    c->allow_set = sp->allow_set;
    c->deny = clone_list(sp->deny, sp->ndeny);
    c->ndeny = sp->ndeny;
    return c;
}

static void subject_perm_free(br_subject_perm *sp) {
    if (!sp) return;
    for (size_t i = 0; i < sp->nallow; i++)
        free(sp->allow[i]);
    for (size_t i = 0; i < sp->ndeny; i++)
        free(sp->deny[i]);
    free(sp->allow);
    free(sp->deny);
    free(sp);
}

br_permissions *br_permissions_clone(const br_permissions *p) {
    if (!p) return NULL;
    br_permissions *c = br_permissions_new();
    c->publish = subject_perm_clone(p->publish);
    c->subscribe = subject_perm_clone(p->subscribe);
    if (p->response) {
        c->response = xcalloc(1, sizeof *c->response);
        *c->response = *p->response;
    }
    return c;
}

void br_permissions_free(br_permissions *p) {
    if (!p) return;
    subject_perm_free(p->publish);
    subject_perm_free(p->subscribe);
    free(p->response);
    free(p);
}

static bool list_equal(char *const *a, size_t na, bool seta, char *const *b, size_t nb, bool setb) {
    if (na != nb || seta != setb) return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0) return false;
    return true;
}

static bool subject_perm_equal(const br_subject_perm *a, const br_subject_perm *b) {
    if (!a || !b) return a == b;
    return list_equal(a->allow, a->nallow, a->allow_set || a->nallow, b->allow, b->nallow,
                      b->allow_set || b->nallow) &&
           list_equal(a->deny, a->ndeny, true, b->deny, b->ndeny, true);
}

bool br_permissions_equal(const br_permissions *a, const br_permissions *b) {
    if (!a || !b) return a == b;
    if (!subject_perm_equal(a->publish, b->publish)) return false;
    if (!subject_perm_equal(a->subscribe, b->subscribe)) return false;
    if (!a->response || !b->response) return a->response == b->response;
    return a->response->max_msgs == b->response->max_msgs &&
           a->response->expires_ns == b->response->expires_ns;
}

void br_permissions_fix_response(br_permissions *p) {
    if (!p || !p->response) return;
    if (!p->publish) p->publish = br_subject_perm_new();
    p->publish->allow_set = true; /* Go: Allow = []string{} when nil */
    if (p->response->max_msgs == 0) p->response->max_msgs = BR_ALLOW_RESPONSE_MAX_MSGS;
    if (p->response->expires_ns == 0) p->response->expires_ns = BR_ALLOW_RESPONSE_EXPIRATION_NS;
}

/* ---- Go strings.Fields ------------------------------------------------------------------ */

/* Decodes one UTF-8 rune as Go does; an invalid sequence is U+FFFD of width 1. */
static uint32_t utf8_rune(const unsigned char *s, size_t len, size_t *width) {
    unsigned c = s[0];
    *width = 1;
    if (c < 0x80) return c;
    size_t n;
    uint32_t r, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, r = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, r = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, r = c & 0x07, min = 0x10000;
    } else {
        return 0xFFFD;
    }
    if (len < n) return 0xFFFD;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0xFFFD;
        r = (r << 6) | (s[i] & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0xFFFD;
    *width = n;
    return r;
}

/* Go unicode.IsSpace. */
static bool go_is_space(uint32_t r) {
    switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return r >= 0x2000 && r <= 0x200A;
    }
}

/* Splits like Go strings.Fields; returns the number of fields, storing at most max. */
static size_t go_fields(const char *s, size_t len, const char **f, size_t *fl, size_t max) {
    size_t n = 0, i = 0;
    while (i < len) {
        size_t w;
        while (i < len && go_is_space(utf8_rune((const unsigned char *)s + i, len - i, &w)))
            i += w;
        if (i >= len) break;
        size_t start = i;
        while (i < len && !go_is_space(utf8_rune((const unsigned char *)s + i, len - i, &w)))
            i += w;
        if (n < max) {
            f[n] = s + start;
            fl[n] = i - start;
        }
        n++;
    }
    return n;
}

int br_split_subject_queue(const char *sq, size_t len, const char **subject, size_t *subject_len,
                           const char **queue, size_t *queue_len) {
    const char *f[2];
    size_t fl[2];
    size_t n = go_fields(sq, len, f, fl, 2);
    *subject = *queue = NULL;
    *subject_len = *queue_len = 0;
    if (n == 0 || n > 2) return -EINVAL;
    if (!nx_subject_valid(f[0], fl[0])) return -EINVAL;
    if (n == 2 && !nx_subject_valid(f[1], fl[1])) return -EINVAL;
    *subject = f[0];
    *subject_len = fl[0];
    if (n == 2) {
        *queue = f[1];
        *queue_len = fl[1];
    }
    return 0;
}

int br_perm_check_subjects(char *const *sa, size_t n, bool allow_queue, char *err, size_t errlen) {
    char q[1024];
    for (size_t i = 0; i < n; i++) {
        const char *s = sa[i];
        size_t len = strlen(s);
        if (nx_subject_valid(s, len)) continue;
        const char *f[2];
        size_t fl[2];
        size_t nf = allow_queue ? go_fields(s, len, f, fl, 2) : 0;
        if (!allow_queue || nf != 2) {
            br_go_quote(q, sizeof q, s, len);
            snprintf(err, errlen, "subject %s is not a valid subject", q);
        } else if (!nx_subject_valid(f[0], fl[0])) {
            br_go_quote(q, sizeof q, f[0], fl[0]);
            snprintf(err, errlen, "subject %s is not a valid subject", q);
        } else if (!nx_subject_valid(f[1], fl[1])) {
            br_go_quote(q, sizeof q, f[1], fl[1]);
            snprintf(err, errlen, "queue %s is not a valid queue", q);
        } else {
            continue;
        }
        return -EINVAL;
    }
    return 0;
}

int br_permissions_validate(const br_permissions *p, char *err, size_t errlen) {
    if (!p) return 0;
    static const char *const what[] = {"publish allow", "publish deny", "subscribe allow",
                                       "subscribe deny"};
    for (int k = 0; k < 4; k++) {
        const br_subject_perm *sp = k < 2 ? p->publish : p->subscribe;
        if (!sp) continue;
        char e[1200];
        int rc = (k & 1) ? br_perm_check_subjects(sp->deny, sp->ndeny, k >= 2, e, sizeof e)
                         : br_perm_check_subjects(sp->allow, sp->nallow, k >= 2, e, sizeof e);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", what[k], e);
            return rc;
        }
    }
    return 0;
}

/* ---- the compiled form ------------------------------------------------------------------ */

typedef struct perm_entry {
    sl_sub sl;
    char *subject;
    char *queue;
} perm_entry;

typedef struct perm_list {
    sl_sublist *sl; /* NULL: no such list (Go nil sublist) */
    perm_entry *e;
    size_t n;
} perm_list;

struct br_perms {
    uint32_t refs;
    perm_list pub_allow, pub_deny, sub_allow, sub_deny; /* sub_deny entries: Go c.darray */
    bool has_resp;
    br_response_perm resp;
};

static void list_init(perm_list *l, size_t cap) {
    l->sl = sl_new(true);
    if (!l->sl) abort();
    l->e = xcalloc(cap, sizeof(perm_entry));
    l->n = 0;
}

static bool list_insert(perm_list *l, const char *s, size_t len, const char *q, size_t qlen) {
    perm_entry *pe = &l->e[l->n];
    pe->subject = xstrndup(s, len);
    pe->queue = q ? xstrndup(q, qlen) : NULL;
    pe->sl = (sl_sub){.subject = pe->subject,
                      .subject_len = (uint32_t)len,
                      .queue = pe->queue,
                      .queue_len = (uint32_t)qlen,
                      .owner = pe};
    if (sl_insert(l->sl, &pe->sl) < 0) {
        free(pe->subject);
        free(pe->queue);
        memset(pe, 0, sizeof *pe);
        return false;
    }
    l->n++;
    return true;
}

static void list_free(perm_list *l) {
    if (l->sl) sl_free(l->sl);
    for (size_t i = 0; i < l->n; i++) {
        free(l->e[i].subject);
        free(l->e[i].queue);
    }
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* Go's c.Errorf for entries setPermissions skips: `<what> "<subject>"`. */
static void log_invalid(const char *what, const char *s) {
    char q[1024];
    br_go_quote(q, sizeof q, s, strlen(s));
    nx_error("%s %s", what, q);
}

static void compile_sub_list(perm_list *l, char *const *list, size_t n, const char *what) {
    if (n == 0) return;
    list_init(l, n);
    for (size_t i = 0; i < n; i++) {
        const char *s, *q;
        size_t sl, ql;
        if (br_split_subject_queue(list[i], strlen(list[i]), &s, &sl, &q, &ql) < 0) {
            log_invalid("invalid subject-queue", list[i]);
            continue;
        }
        if (!list_insert(l, s, sl, q, ql)) log_invalid(what, list[i]);
    }
}

br_perms *br_perms_compile(const br_permissions *p) {
    if (!p) return NULL;
    br_perms *c = xcalloc(1, sizeof *c);
    c->refs = 1;
    const br_subject_perm *pub = p->publish, *sub = p->subscribe;
    if (pub) {
        if (pub->allow_set || pub->nallow) list_init(&c->pub_allow, pub->nallow);
        for (size_t i = 0; i < pub->nallow; i++) {
            const char *s = pub->allow[i];
            if (!nx_subject_valid(s, strlen(s)) ||
                !list_insert(&c->pub_allow, s, strlen(s), NULL, 0))
                log_invalid("invalid publish subject", s);
        }
        if (pub->ndeny) list_init(&c->pub_deny, pub->ndeny);
        for (size_t i = 0; i < pub->ndeny; i++) {
            const char *s = pub->deny[i], *q;
            size_t sl = strlen(s), ql;
            if (!nx_subject_valid(s, sl)) {
                if (br_split_subject_queue(pub->deny[i], sl, &s, &sl, &q, &ql) < 0) {
                    log_invalid("invalid publish deny subject", pub->deny[i]);
                    continue;
                }
                /* Go keeps the subject's scope rather than an unreachable entry. */
                log_invalid("queue qualifier is not valid for publish deny subject", pub->deny[i]);
            }
            if (!list_insert(&c->pub_deny, s, sl, NULL, 0))
                log_invalid("invalid publish deny subject", pub->deny[i]);
        }
    }
    if (p->response) {
        c->has_resp = true;
        c->resp = *p->response;
    }
    if (sub) {
        compile_sub_list(&c->sub_allow, sub->allow, sub->nallow, "invalid subscribe allow subject");
        compile_sub_list(&c->sub_deny, sub->deny, sub->ndeny, "invalid subscribe deny subject");
    }
    return c;
}

br_perms *br_perms_ref(br_perms *p) {
    if (p) p->refs++;
    return p;
}

void br_perms_unref(br_perms *p) {
    if (!p || --p->refs > 0) return;
    list_free(&p->pub_allow);
    list_free(&p->pub_deny);
    list_free(&p->sub_allow);
    list_free(&p->sub_deny);
    free(p);
}

const br_response_perm *br_perms_response(const br_perms *p) {
    return p && p->has_resp ? &p->resp : NULL;
}

static void public_list(const perm_list *l, br_subject_perm *sp, bool deny) {
    char buf[2048];
    for (size_t i = 0; i < l->n; i++) {
        const perm_entry *e = &l->e[i];
        if (e->queue) {
            int n = snprintf(buf, sizeof buf, "%s %s", e->subject, e->queue);
            br_subject_perm_add(sp, deny, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
        } else {
            br_subject_perm_add(sp, deny, e->subject, strlen(e->subject));
        }
    }
}

br_permissions *br_perms_public(const br_perms *p) {
    if (!p) return NULL;
    br_permissions *o = br_permissions_new();
    o->publish = br_subject_perm_new();
    o->subscribe = br_subject_perm_new();
    public_list(&p->pub_allow, o->publish, false);
    public_list(&p->pub_deny, o->publish, true);
    public_list(&p->sub_allow, o->subscribe, false);
    public_list(&p->sub_deny, o->subscribe, true);
    if (p->has_resp) {
        o->response = xcalloc(1, sizeof *o->response);
        *o->response = p->resp;
    }
    return o;
}

/* ---- per connection --------------------------------------------------------------------- */

typedef struct reply_ent {
    int64_t t_ns;
    int64_t n;
    uint32_t len;
    char key[];
} reply_ent;

static void replies_free(br_perm_state *st) {
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&st->replies, &it, &e);)
        free(e->value);
    nx_strmap_free(&st->replies);
}

void br_perm_state_clear(br_perm_state *st) {
    replies_free(st);
    br_perms_unref(st->perms);
    memset(st, 0, sizeof *st);
}

void br_perm_state_set(br_perm_state *st, br_perms *p) {
    br_perms_ref(p);
    br_perm_state_clear(st);
    st->perms = p;
}

/* Go responseAllowed: counts one response when the subject is a tracked reply. */
static bool response_allowed(br_perm_state *st, const char *s, size_t len, int64_t now_ns) {
    const br_response_perm *rp = &st->perms->resp;
    reply_ent *e = nx_strmap_get(&st->replies, s, len);
    if (!e) return false;
    e->n++;
    if ((rp->max_msgs > 0 && e->n > rp->max_msgs) ||
        (rp->expires_ns > 0 && now_ns - e->t_ns > rp->expires_ns)) {
        free(nx_strmap_del(&st->replies, s, len));
        return false;
    }
    return true;
}

bool br_perms_pub_allowed(br_perm_state *st, const char *subject, size_t len, int64_t now_ns) {
    br_perms *p = st->perms;
    if (!p || (!p->pub_allow.sl && !p->pub_deny.sl)) return true;
    /* Go counts the plain subscriptions of the list (NumInterest); sl_match gives the same
     * answer and keeps the list's result cache warm, which plays the part of Go's pcache. */
    bool allowed = true;
    if (p->pub_allow.sl) {
        sl_result *r = sl_match(p->pub_allow.sl, subject, len);
        allowed = r->npsubs != 0;
        sl_result_release(r);
    }
    if (allowed && p->pub_deny.sl) {
        sl_result *r = sl_match(p->pub_deny.sl, subject, len);
        allowed = r->npsubs == 0;
        sl_result_release(r);
    }
    if (!allowed && p->has_resp) allowed = response_allowed(st, subject, len, now_ns);
    return allowed;
}

/* Go queueMatches. */
static bool queue_matches(const char *q, size_t ql, const sl_result *r) {
    if (r->nqsubs == 0) return true;
    for (uint32_t i = 0; i < r->nqsubs; i++) {
        const sl_sub *s = r->qsubs[i].subs[0];
        if ((s->queue_len == ql && memcmp(s->queue, q, ql) == 0) ||
            (!nx_subject_is_literal(s->queue, s->queue_len) &&
             nx_subject_subset_match(q, ql, s->queue, s->queue_len)))
            return true;
    }
    return false;
}

/* Go canSubscribeInternal for a CLIENT. */
static bool can_subscribe(const br_perms *p, const char *s, size_t len, const char *q, size_t ql) {
    bool allowed = true;
    if (p->sub_allow.sl) {
        sl_result *r = sl_match(p->sub_allow.sl, s, len);
        allowed = r->npsubs > 0;
        if (ql && r->nqsubs > 0) allowed = queue_matches(q, ql, r);
        sl_result_release(r);
    }
    if (allowed && p->sub_deny.sl) {
        sl_result *r = sl_match(p->sub_deny.sl, s, len);
        allowed = r->npsubs == 0;
        if (allowed && ql && r->nqsubs > 0) allowed = !queue_matches(q, ql, r);
        sl_result_release(r);
    }
    return allowed;
}

bool br_perms_sub_allowed(br_perm_state *st, const char *subject, size_t len, const char *queue,
                          size_t qlen) {
    const br_perms *p = st->perms;
    if (!queue) qlen = 0;
    if (p) {
        if (!can_subscribe(p, subject, len, queue, qlen)) return false;
        /* Go loadMsgDenyFilterIfNeeded */
        if (!st->deny_filter && (qlen || !nx_subject_is_literal(subject, len))) {
            for (size_t i = 0; i < p->sub_deny.n; i++) {
                const perm_entry *e = &p->sub_deny.e[i];
                if (nx_subject_collide(e->subject, e->sl.subject_len, subject, len)) {
                    st->deny_filter = true;
                    break;
                }
            }
        }
    }
    return !(qlen == sizeof BR_SYS_GROUP - 1 && memcmp(queue, BR_SYS_GROUP, qlen) == 0);
}

bool br_perms_deny_delivery(br_perm_state *st, const char *subject, size_t len, const char *queue,
                            size_t qlen) {
    if (!st->deny_filter || !st->perms || !st->perms->sub_deny.sl) return false;
    if (!queue) qlen = 0;
    sl_result *r = sl_match(st->perms->sub_deny.sl, subject, len);
    bool denied = r->npsubs != 0;
    if (!denied && qlen && r->nqsubs != 0) denied = queue_matches(queue, qlen, r);
    sl_result_release(r);
    return denied;
}

bool br_perms_tracks_replies(const br_perm_state *st) {
    return st->perms && st->perms->has_resp;
}

uint32_t br_perms_tracked_replies(const br_perm_state *st) {
    return st->replies.count;
}

void br_perms_prune_replies(br_perm_state *st, int64_t now_ns) {
    if (!br_perms_tracks_replies(st)) return;
    const br_response_perm *rp = &st->perms->resp;
    nx_strmap_entry *me;
    for (uint32_t it = 0; nx_strmap_next(&st->replies, &it, &me);) {
        reply_ent *e = me->value;
        if ((rp->max_msgs > 0 && e->n >= rp->max_msgs) ||
            (rp->expires_ns > 0 && now_ns - e->t_ns > rp->expires_ns))
            free(nx_strmap_del(&st->replies, e->key, e->len));
    }
    st->replies_since_prune = 0;
    st->last_prune_ns = now_ns;
    st->pruned_once = true;
}

void br_perms_track_reply(br_perm_state *st, const char *reply, size_t len, int64_t now_ns) {
    if (!br_perms_tracks_replies(st) || len == 0 || len > UINT32_MAX) return;
    if (br_perms_pub_allowed(st, reply, len, now_ns)) return;
    reply_ent *e = malloc(sizeof *e + len + 1);
    if (!e) abort();
    e->t_ns = now_ns;
    e->n = 0;
    e->len = (uint32_t)len;
    memcpy(e->key, reply, len);
    e->key[len] = '\0';
    free(nx_strmap_put(&st->replies, e->key, len, e));
    st->replies_since_prune++;
    if (st->replies_since_prune > BR_REPLY_PERM_LIMIT || !st->pruned_once ||
        now_ns - st->last_prune_ns > BR_REPLY_PRUNE_NS)
        br_perms_prune_replies(st, now_ns);
}

/* ---- reserved subjects ------------------------------------------------------------------ */

static bool has_prefix(const char *s, size_t len, const char *pre) {
    size_t pl = strlen(pre);
    return len > pl && memcmp(s, pre, pl) == 0;
}

bool br_perms_pub_reserved(const char *subject, size_t len) {
    /* Go: hasGWRoutedReplyPrefix, and clientNRGPrefix for accounts other than $SYS. */
    return has_prefix(subject, len, "_GR_.") || (len >= 5 && memcmp(subject, "$NRG.", 5) == 0);
}

bool br_perms_reply_reserved(const char *reply, size_t len) {
    return (len >= 4 && memcmp(reply, "_R_.", 4) == 0) || has_prefix(reply, len, "$JS.ACK.") ||
           has_prefix(reply, len, "_GR_.");
}

/* ---- texts ------------------------------------------------------------------------------ */

/* Go unicode.IsPrint for a valid rune above ASCII (letters, marks, numbers, punctuation and
 * symbols; not spaces, controls, format characters or private use).  Unassigned code points
 * are treated as printable except the common ranges below. */
static bool go_is_print(uint32_t r) {
    if (r < 0x20 || (r >= 0x7F && r <= 0xA0) || r == 0xAD) return false;
    if (r < 0x100) return true;
    if ((r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD || r == 0x70F || r == 0x8E2 ||
        r == 0x180E || r == 0x1680)
        return false;
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
        (r >= 0x205F && r <= 0x206F) || r == 0x3000)
        return false;
    if ((r >= 0xE000 && r <= 0xF8FF) || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) ||
        r == 0xFFFE || r == 0xFFFF)
        return false;
    if (r == 0xE0001 || (r >= 0xE0020 && r <= 0xE007F) || r >= 0xF0000) return false;
    return true;
}

size_t br_go_quote(char *out, size_t cap, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
#define PUT(c) ((o + 1 < cap ? (void)(out[o] = (char)(c)) : (void)0), o++)
    PUT('"');
    for (size_t i = 0; i < len;) {
        size_t w;
        const unsigned char *u = (const unsigned char *)s + i;
        uint32_t r = utf8_rune(u, len - i, &w);
        if (r == 0xFFFD && w == 1) {
            PUT('\\'), PUT('x'), PUT(hex[u[0] >> 4]), PUT(hex[u[0] & 15]);
        } else if (r == '"' || r == '\\') {
            PUT('\\'), PUT(r);
        } else if (r < 0x80 ? (r >= 0x20 && r < 0x7F) : go_is_print(r)) {
            for (size_t k = 0; k < w; k++)
                PUT(u[k]);
        } else {
            const char *esc = NULL;
            switch (r) {
            case '\a':
                esc = "\\a";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            case '\v':
                esc = "\\v";
                break;
            default:
                break;
            }
            if (esc) {
                PUT(esc[0]), PUT(esc[1]);
            } else if (r < 0x20 || r == 0x7F) {
                PUT('\\'), PUT('x'), PUT(hex[r >> 4]), PUT(hex[r & 15]);
            } else {
                int digits = r < 0x10000 ? 4 : 8;
                PUT('\\'), PUT(digits == 4 ? 'u' : 'U');
                for (int k = digits - 1; k >= 0; k--)
                    PUT(hex[(r >> (4 * k)) & 15]);
            }
        }
        i += w;
    }
    PUT('"');
#undef PUT
    if (cap) out[o < cap ? o : cap - 1] = '\0';
    return o;
}

/* Formats `prefix "a"` or `prefix "a"<mid>"b"<tail>` with Go quoting. */
static int fmt_quoted(char *buf, size_t cap, const char *prefix, const char *a, size_t alen,
                      const char *mid, const char *b, size_t blen, const char *tail) {
    size_t n = (size_t)snprintf(buf, cap, "%s", prefix);
    n += br_go_quote(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, a, alen);
    if (mid) {
        n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%s", mid);
        if (b) n += br_go_quote(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, b, blen);
    }
    if (tail) n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%s", tail);
    return (int)n;
}

int br_perms_pub_violation(char *buf, size_t cap, const char *subject, size_t len) {
    return fmt_quoted(buf, cap, "Permissions Violation for Publish to ", subject, len, NULL, NULL,
                      0, NULL);
}

int br_perms_sub_violation(char *buf, size_t cap, const char *subject, size_t len,
                           const char *queue, size_t qlen) {
    return fmt_quoted(buf, cap, "Permissions Violation for Subscription to ", subject, len,
                      queue ? " using queue " : NULL, queue, qlen, NULL);
}

int br_perms_reply_violation(char *buf, size_t cap, const char *reply, size_t len) {
    return fmt_quoted(buf, cap, "Permissions Violation for Publish with Reply of ", reply, len,
                      NULL, NULL, 0, NULL);
}

int br_perms_pub_violation_log(char *buf, size_t cap, const char *subject, size_t len) {
    return fmt_quoted(buf, cap, "Publish Violation - Subject ", subject, len, NULL, NULL, 0, NULL);
}

int br_perms_sub_violation_log(char *buf, size_t cap, const char *subject, size_t len,
                               const char *queue, size_t qlen, const char *sid, size_t sid_len) {
    char tail[600];
    snprintf(tail, sizeof tail, ", SID %.*s", (int)(sid_len < 512 ? sid_len : 512), sid);
    if (queue)
        return fmt_quoted(buf, cap, "Subscription Violation - Subject ", subject, len,
                          ", Queue: ", queue, qlen, tail);
    return fmt_quoted(buf, cap, "Subscription Violation - Subject ", subject, len, tail, NULL, 0,
                      NULL);
}

int br_perms_reply_violation_log(char *buf, size_t cap, const char *reply, size_t len) {
    return fmt_quoted(buf, cap, "Publish Violation - Reply ", reply, len, NULL, NULL, 0, NULL);
}
