/* Permission tests (broker/perms.c, and the permission parts of broker/auth_conf.c): ports
 * of the permission cases of nats-server v2.14.5 server/client_test.go and
 * server/opts_test.go that can be checked without a running server, plus Go's %q quoting,
 * the violation texts and the reply-tracking rules.  Where Go drives a client connection
 * (CONNECT, SUB, +OK/-ERR), these tests call the checks the broker makes at the same points.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/auth.h"
#include "broker/perms.h"
#include "common/conf.h"
#include "common/gotest.h"
#include "common/subject.h"

#define S(x) (x), strlen(x)

static br_subject_perm *sp_make(const char *const *allow, const char *const *deny) {
    br_subject_perm *sp = br_subject_perm_new();
    for (; allow && *allow; allow++)
        br_subject_perm_add(sp, false, S(*allow));
    for (; deny && *deny; deny++)
        br_subject_perm_add(sp, true, S(*deny));
    return sp;
}
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A connection state with the given permissions (p is consumed). */
static void state_with(br_perm_state *st, br_permissions *p) {
    memset(st, 0, sizeof *st);
    br_perms *c = br_perms_compile(p);
    br_perm_state_set(st, c);
    br_perms_unref(c);
    br_permissions_free(p);
}

static br_permissions *sub_perms(const char *const *allow, const char *const *deny) {
    br_permissions *p = br_permissions_new();
    p->subscribe = sp_make(allow, deny);
    return p;
}

static bool sub_ok(br_perm_state *st, const char *subj, const char *queue) {
    return br_perms_sub_allowed(st, S(subj), queue, queue ? strlen(queue) : 0);
}

Test(perms, split_subject_queue) {
    GO_TEST("server/client_test.go", "TestSplitSubjectQueue");
    static const struct {
        const char *sq, *subj, *queue;
        bool err;
    } cases[] = {
        {"foo", "foo", NULL, false},
        {"foo bar", "foo", "bar", false},
        {" foo bar ", "foo", "bar", false},
        {"foo  bar", "foo", "bar", false},
        {"foo  bar fizz", NULL, NULL, true},
        {"", NULL, NULL, true},
        {"\t", NULL, NULL, true},
        {"\n", NULL, NULL, true},
        {" \t\r\n", NULL, NULL, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s, *q;
        size_t sl, ql;
        int rc = br_split_subject_queue(S(cases[i].sq), &s, &sl, &q, &ql);
        cr_assert_eq(rc < 0, cases[i].err, "case %zu", i);
        if (cases[i].err) {
            cr_assert_null(s);
            cr_assert_null(q);
            continue;
        }
        cr_assert(sl == strlen(cases[i].subj) && !memcmp(s, cases[i].subj, sl), "case %zu", i);
        if (!cases[i].queue) {
            cr_assert_null(q);
        } else {
            cr_assert(ql == strlen(cases[i].queue) && !memcmp(q, cases[i].queue, ql));
        }
    }
    /* Unicode white space separates too (Go strings.Fields), invalid subjects fail. */
    const char *s, *q;
    size_t sl, ql;
    cr_assert_eq(br_split_subject_queue(S("foo\xc2\xa0q"), &s, &sl, &q, &ql), 0);
    cr_assert_eq(ql, 1);
    cr_assert_lt(br_split_subject_queue(S("foo..bar q"), &s, &sl, &q, &ql), 0);
    cr_assert_lt(br_split_subject_queue(S("foo q..x"), &s, &sl, &q, &ql), 0);
}

Test(perms, queue_subscribe_permissions) {
    GO_TEST_PARTIAL("server/client_test.go", "TestQueueSubscribePermissions",
                    "checks br_perms_sub_allowed and the -ERR text, not the bytes of a live "
                    "connection after CONNECT");
    static const struct {
        const char *allow[3], *deny[3];
        const char *subject, *queue;
        const char *want; /* NULL: +OK */
    } cases[] = {
        {{"foo"}, {NULL}, "foo", NULL, NULL},
        {{"foo bar"}, {NULL}, "foo", "bar", NULL},
        {{"foo bar.*"}, {NULL}, "foo", "bar.fizz", NULL},
        {{"> bar.>"}, {NULL}, "whizz", "bar.bang", NULL},
        {{"> bar.>"}, {NULL}, "whizz", NULL, "Permissions Violation for Subscription to \"whizz\""},
        {{">"},
         {"foo"},
         "foo",
         "bar",
         "Permissions Violation for Subscription to \"foo\" using queue \"bar\""},
        {{">"}, {"foo"}, "bar", NULL, NULL},
        {{">"},
         {">"},
         "foo",
         "bar",
         "Permissions Violation for Subscription to \"foo\" using queue \"bar\""},
        {{"> v1.>"}, {NULL}, "foo", "v1.prod", NULL},
        {{">"}, {"> >"}, "foo", NULL, NULL},
        {{NULL},
         {"> >"},
         "foo",
         "bar",
         "Permissions Violation for Subscription to \"foo\" using queue \"bar\""},
        {{NULL}, {"> *.dev", "> *.stg"}, "foo", "bar", NULL},
        {{"> *.dev", "> *.stg"},
         {NULL},
         "foo",
         "bar",
         "Permissions Violation for Subscription to \"foo\" using queue \"bar\""},
        {{NULL},
         {"foo >"},
         "foo",
         "bar",
         "Permissions Violation for Subscription to \"foo\" using queue \"bar\""},
        {{"foo bar"},
         {NULL},
         "foo",
         "fizz",
         "Permissions Violation for Subscription to \"foo\" using queue \"fizz\""},
        {{"foo"}, {NULL}, "foo", "bar", NULL},
        {{">"},
         {"admin.>", "> restricted"},
         "admin.secret",
         "workers",
         "Permissions Violation for Subscription to \"admin.secret\" using queue \"workers\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        br_perm_state st;
        state_with(&st, sub_perms(cases[i].allow, cases[i].deny));
        bool ok = sub_ok(&st, cases[i].subject, cases[i].queue);
        cr_assert_eq(ok, cases[i].want == NULL, "case %zu", i);
        if (!ok) {
            char buf[256];
            const char *q = cases[i].queue;
            br_perms_sub_violation(buf, sizeof buf, S(cases[i].subject), q, q ? strlen(q) : 0);
            cr_assert_str_eq(buf, cases[i].want);
        }
        br_perm_state_clear(&st);
    }
}

Test(perms, deny_sys_group) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientDenySysGroupSub",
                    "checks br_perms_sub_allowed, not the client's async error");
    br_perm_state st = {0};
    cr_assert_not(sub_ok(&st, "foo", "_sys_"));
    cr_assert(sub_ok(&st, "foo", "_sys"));
    cr_assert(sub_ok(&st, "foo", NULL));
}

Test(perms, deny_wildcard_overlap_blocks_delivery) {
    GO_TEST_PARTIAL("server/client_test.go", "TestClientSubscribeDenyWildcardOverlapBlocksDelivery",
                    "checks br_perms_deny_delivery for the subscriber, not delivery between two "
                    "live connections");
    static const struct {
        const char *deny, *sub, *blocked, *allowed;
    } cases[] = {
        {"*.secret", "foo.*", "foo.secret", "foo.public"},
        {"foo.*.bar", "foo.baz.*", "foo.baz.bar", "foo.baz.qux"},
        {"*.*.bar", "foo.*.*", "foo.baz.bar", "foo.baz.qux"},
        {"a.>", "*.b", "a.b", "z.b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert(nx_subject_collide(S(cases[i].deny), S(cases[i].sub)));
        br_perm_state st;
        const char *deny[] = {cases[i].deny, NULL};
        state_with(&st, sub_perms(LIST(">"), deny));
        cr_assert(sub_ok(&st, cases[i].sub, "workers"), "case %zu", i);
        cr_assert(st.deny_filter);
        cr_assert(br_perms_deny_delivery(&st, S(cases[i].blocked), S("workers")));
        cr_assert_not(br_perms_deny_delivery(&st, S(cases[i].allowed), S("workers")));
        br_perm_state_clear(&st);
    }
}

Test(perms, queue_scoped_deny_blocks_only_matching_queue) {
    GO_TEST_PARTIAL("server/client_test.go",
                    "TestClientQueueScopedSubscribeDenyBlocksOnlyMatchingQueue",
                    "checks br_perms_sub_allowed/br_perms_deny_delivery, not live delivery");
    static const struct {
        const char *deny, *denied_q, *allowed_q, *subject, *subscribe;
    } cases[] = {
        {"admin.secret workers", "workers", "auditors", "admin.secret", "admin.*"},
        {"admin.secret work.*", "work.prod", "audit.prod", "admin.secret", "admin.*"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        br_perm_state st;
        const char *deny[] = {cases[i].deny, NULL};
        state_with(&st, sub_perms(LIST(">"), deny));
        cr_assert(sub_ok(&st, cases[i].subscribe, cases[i].denied_q));
        cr_assert(sub_ok(&st, cases[i].subscribe, cases[i].allowed_q));
        cr_assert(sub_ok(&st, cases[i].subscribe, NULL));
        cr_assert(br_perms_deny_delivery(&st, S(cases[i].subject), S(cases[i].denied_q)));
        cr_assert_not(br_perms_deny_delivery(&st, S(cases[i].subject), S(cases[i].allowed_q)));
        cr_assert_not(br_perms_deny_delivery(&st, S(cases[i].subject), NULL, 0));
        br_perm_state_clear(&st);
    }
}

Test(perms, set_permissions_clears_stale_deny_state) {
    GO_TEST("server/client_test.go", "TestClientSetPermissionsClearsStaleMsgDenyState");
    br_perm_state st = {0};
    br_permissions *p = sub_perms(NULL, LIST("foo.secret"));
    br_perms *c = br_perms_compile(p);
    br_perm_state_set(&st, c);
    br_perms_unref(c);
    cr_assert(sub_ok(&st, "foo.*", NULL));
    cr_assert(st.deny_filter);
    br_permissions *pub = br_perms_public(st.perms);
    cr_assert_eq(pub->subscribe->ndeny, 1); /* Go: len(c.darray) == 1 */
    br_permissions_free(pub);

    br_permissions *empty = br_permissions_new();
    c = br_perms_compile(empty);
    br_perm_state_set(&st, c);
    br_perms_unref(c);
    cr_assert_not(st.deny_filter);
    pub = br_perms_public(st.perms);
    cr_assert_eq(pub->subscribe->ndeny, 0);
    br_permissions_free(pub);
    cr_assert(sub_ok(&st, "foo.*", NULL));
    cr_assert_not(st.deny_filter);
    br_perm_state_clear(&st);
    br_permissions_free(empty);
    br_permissions_free(p);
}

Test(perms, publish_deny_queue_qualifier_fails_closed) {
    GO_TEST("server/client_test.go",
            "TestClientSetPermissionsPublishDenyQueueQualifierFailsClosed");
    br_permissions *p = br_permissions_new();
    p->publish = sp_make(NULL, LIST("admin.secret workers"));
    br_perm_state st;
    state_with(&st, p);
    br_permissions *pub = br_perms_public(st.perms);
    cr_assert_eq(pub->publish->ndeny, 1);
    cr_assert_str_eq(pub->publish->deny[0], "admin.secret");
    br_permissions_free(pub);
    cr_assert_not(br_perms_pub_allowed(&st, S("admin.secret"), 0));
    cr_assert(br_perms_pub_allowed(&st, S("admin.other"), 0));
    br_perm_state_clear(&st);
}

Test(perms, public_permissions_preserve_queue_qualifier) {
    GO_TEST("server/client_test.go", "TestClientPublicPermissionsPreservesQueueQualifier");
    br_perm_state st;
    state_with(&st, sub_perms(LIST("events.* readers"), LIST("admin.secret workers")));
    br_permissions *pub = br_perms_public(st.perms);
    cr_assert_str_eq(pub->subscribe->allow[0], "events.* readers");
    cr_assert_str_eq(pub->subscribe->deny[0], "admin.secret workers");
    br_permissions_free(pub);
    br_perm_state_clear(&st);
}

#define MS 1000000LL

/* A service with response permissions that received one request with reply "reply". */
static void service(br_perm_state *st, int64_t max, int64_t expires_ns) {
    br_permissions *p = br_permissions_new();
    p->response = calloc(1, sizeof *p->response);
    p->response->max_msgs = max;
    p->response->expires_ns = expires_ns;
    br_permissions_fix_response(p);
    state_with(st, p);
    br_perms_track_reply(st, S("reply"), 1000 * MS);
}

Test(perms, response_permissions) {
    GO_TEST_PARTIAL("server/client_test.go", "TestResponsePermissions",
                    "drives the reply tracking with a fake clock instead of live connections");
    br_perm_state st;
    /* max_msgs: 2 replies, then denied */
    service(&st, 2, 3600000 * MS);
    cr_assert(br_perms_pub_allowed(&st, S("reply"), 1001 * MS));
    cr_assert(br_perms_pub_allowed(&st, S("reply"), 1002 * MS));
    for (int i = 0; i < 8; i++)
        cr_assert_not(br_perms_pub_allowed(&st, S("reply"), 1003 * MS));
    br_perm_state_clear(&st);
    /* no_expire_limit: -1ms expiration is infinite */
    service(&st, 3, -1 * MS);
    cr_assert(br_perms_pub_allowed(&st, S("reply"), 1001 * MS));
    cr_assert(br_perms_pub_allowed(&st, S("reply"), 999999 * MS));
    br_perm_state_clear(&st);
    /* expire / no_msgs_limit: one within 100ms, then expired */
    for (int k = 0; k < 2; k++) {
        service(&st, k ? -1 : 1000, 100 * MS);
        cr_assert(br_perms_pub_allowed(&st, S("reply"), 1050 * MS));
        cr_assert_not(br_perms_pub_allowed(&st, S("reply"), 1250 * MS));
        br_perm_state_clear(&st);
    }
}

Test(perms, response_permissions_details) {
    br_perm_state st;
    service(&st, 1, 0);
    /* The publish allow list is empty: nothing else may be published. */
    cr_assert_not(br_perms_pub_allowed(&st, S("other"), 1001 * MS));
    cr_assert_eq(br_perms_tracked_replies(&st), 1);
    /* Go quirk: a second request with the same reply uses the response up. */
    br_perms_track_reply(&st, S("reply"), 1001 * MS);
    cr_assert_not(br_perms_pub_allowed(&st, S("reply"), 1002 * MS));
    /* A fresh request makes it publishable again. */
    br_perms_track_reply(&st, S("reply"), 1003 * MS);
    cr_assert(br_perms_pub_allowed(&st, S("reply"), 1004 * MS));
    cr_assert_not(br_perms_pub_allowed(&st, S("reply"), 1005 * MS));
    cr_assert_eq(br_perms_tracked_replies(&st), 0);
    /* Pruning drops used and expired entries (default expiry 2 minutes). */
    br_perms_track_reply(&st, S("r1"), 2000 * MS);
    br_perms_track_reply(&st, S("r2"), 2000 * MS);
    cr_assert_eq(br_perms_tracked_replies(&st), 2);
    br_perms_prune_replies(&st, 2000 * MS + BR_ALLOW_RESPONSE_EXPIRATION_NS + 1);
    cr_assert_eq(br_perms_tracked_replies(&st), 0);
    br_perm_state_clear(&st);

    /* A reply already publishable is not tracked. */
    br_permissions *p = br_permissions_new();
    p->publish = sp_make(LIST("_INBOX.>"), NULL);
    p->response = calloc(1, sizeof *p->response);
    br_permissions_fix_response(p);
    cr_assert_eq(p->response->max_msgs, BR_ALLOW_RESPONSE_MAX_MSGS);
    cr_assert_eq(p->response->expires_ns, BR_ALLOW_RESPONSE_EXPIRATION_NS);
    state_with(&st, p);
    br_perms_track_reply(&st, S("_INBOX.x"), 1);
    cr_assert_eq(br_perms_tracked_replies(&st), 0);
    br_perm_state_clear(&st);

    /* Without response permissions nothing is tracked. */
    state_with(&st, sub_perms(LIST("foo"), NULL));
    cr_assert_not(br_perms_tracks_replies(&st));
    br_perms_track_reply(&st, S("x"), 1);
    cr_assert_eq(br_perms_tracked_replies(&st), 0);
    br_perm_state_clear(&st);
}

Test(perms, publish_allow_deny) {
    br_permissions *p = br_permissions_new();
    p->publish = sp_make(LIST("SANDBOX.*", "baz.>"), LIST("baz.foo.>"));
    br_perm_state st;
    state_with(&st, p);
    cr_assert(br_perms_pub_allowed(&st, S("SANDBOX.foo"), 0));
    cr_assert_not(br_perms_pub_allowed(&st, S("SANDBOX.foo.bar"), 0));
    cr_assert(br_perms_pub_allowed(&st, S("baz.bar"), 0));
    cr_assert(br_perms_pub_allowed(&st, S("baz.foo"), 0));
    cr_assert_not(br_perms_pub_allowed(&st, S("baz.foo.x"), 0));
    cr_assert_not(br_perms_pub_allowed(&st, S("foo"), 0));
    cr_assert_not(br_perms_pub_allowed(&st, S("foo..bar"), 0));
    /* Repeated checks (cached sublist results) answer the same. */
    for (int i = 0; i < 3; i++) {
        cr_assert(br_perms_pub_allowed(&st, S("SANDBOX.foo"), 0));
        cr_assert_not(br_perms_pub_allowed(&st, S("baz.foo.x"), 0));
    }
    br_perm_state_clear(&st);
    /* No permissions: everything; an empty Permissions: everything too. */
    cr_assert(br_perms_pub_allowed(&st, S("anything"), 0));
    state_with(&st, br_permissions_new());
    cr_assert(br_perms_pub_allowed(&st, S("anything"), 0));
    cr_assert(sub_ok(&st, "anything.>", "q"));
    br_perm_state_clear(&st);
}

Test(perms, subscribe_wildcards_against_allow) {
    br_perm_state st;
    state_with(&st, sub_perms(LIST("foo.*", "bar.>", "PUBLIC.>"), LIST("SYS.*")));
    cr_assert(sub_ok(&st, "foo.bar", NULL));
    cr_assert(sub_ok(&st, "foo.*", NULL));
    /* Go matches the subscription subject as if literal: the '*' of "foo.*" takes the ">"
     * token, so "foo.>" passes (Go's sublist behaviour, kept). */
    cr_assert(sub_ok(&st, "foo.>", NULL));
    cr_assert_not(sub_ok(&st, "foo.bar.baz", NULL));
    cr_assert(sub_ok(&st, "bar.*", NULL));
    cr_assert(sub_ok(&st, "bar.x.>", NULL));
    cr_assert_not(sub_ok(&st, ">", NULL));
    br_perm_state_clear(&st);
}

Test(perms, check_subjects_and_validate) {
    char err[256];
    char *bad_pub[] = {"foo", "foo bar"};
    cr_assert_lt(br_perm_check_subjects(bad_pub, 2, false, err, sizeof err), 0);
    cr_assert_str_eq(err, "subject \"foo bar\" is not a valid subject");
    cr_assert_eq(br_perm_check_subjects(bad_pub, 2, true, err, sizeof err), 0);
    char *bad3[] = {"a b c"};
    cr_assert_lt(br_perm_check_subjects(bad3, 1, true, err, sizeof err), 0);
    cr_assert_str_eq(err, "subject \"a b c\" is not a valid subject");
    char *badq[] = {"foo q..x"};
    cr_assert_lt(br_perm_check_subjects(badq, 1, true, err, sizeof err), 0);
    cr_assert_str_eq(err, "queue \"q..x\" is not a valid queue");
    char *bads[] = {"foo..bar q"};
    cr_assert_lt(br_perm_check_subjects(bads, 1, true, err, sizeof err), 0);
    cr_assert_str_eq(err, "subject \"foo..bar\" is not a valid subject");

    br_permissions *p = br_permissions_new();
    p->subscribe = sp_make(NULL, LIST("ok", "x >.y"));
    cr_assert_lt(br_permissions_validate(p, err, sizeof err), 0);
    cr_assert_str_eq(err, "subscribe deny: queue \">.y\" is not a valid queue");
    br_permissions_free(p);
}

Test(perms, go_quote) {
    char b[128];
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"foo", 3, "\"foo\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\t\n\r\a\b\f\v", 7, "\"\\t\\n\\r\\a\\b\\f\\v\""},
        {"\x01\x7f", 2, "\"\\x01\\x7f\""},
        {"\0", 1, "\"\\x00\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
        {"\xff", 1, "\"\\xff\""},
        {"\xc3", 1, "\"\\xc3\""},
        {"\xc2\xa0", 2, "\"\\u00a0\""},
        {"\xe2\x80\x8b", 3, "\"\\u200b\""},
        {"\xef\xbb\xbf", 3, "\"\\ufeff\""},
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
        {"\xf3\xb0\x80\x80", 4, "\"\\U000f0000\""},
        {"\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\""},
        {"\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = br_go_quote(b, sizeof b, cases[i].in, cases[i].len);
        cr_assert_str_eq(b, cases[i].out, "case %zu", i);
        cr_assert_eq(n, strlen(cases[i].out));
    }
    /* Truncation keeps a NUL and reports the full length. */
    cr_assert_eq(br_go_quote(b, 4, "abcdef", 6), 8);
    cr_assert_str_eq(b, "\"ab");
}

Test(perms, violation_texts) {
    char b[256];
    br_perms_pub_violation(b, sizeof b, S("foo.bar"));
    cr_assert_str_eq(b, "Permissions Violation for Publish to \"foo.bar\"");
    br_perms_sub_violation(b, sizeof b, S("foo"), NULL, 0);
    cr_assert_str_eq(b, "Permissions Violation for Subscription to \"foo\"");
    br_perms_sub_violation(b, sizeof b, S("foo"), S("bar"));
    cr_assert_str_eq(b, "Permissions Violation for Subscription to \"foo\" using queue \"bar\"");
    br_perms_reply_violation(b, sizeof b, S("_R_.x"));
    cr_assert_str_eq(b, "Permissions Violation for Publish with Reply of \"_R_.x\"");
    br_perms_pub_violation_log(b, sizeof b, S("foo"));
    cr_assert_str_eq(b, "Publish Violation - Subject \"foo\"");
    br_perms_sub_violation_log(b, sizeof b, S("foo"), NULL, 0, S("1"));
    cr_assert_str_eq(b, "Subscription Violation - Subject \"foo\", SID 1");
    br_perms_sub_violation_log(b, sizeof b, S("foo"), S("q"), S("22"));
    cr_assert_str_eq(b, "Subscription Violation - Subject \"foo\", Queue: \"q\", SID 22");
    br_perms_reply_violation_log(b, sizeof b, S("r"));
    cr_assert_str_eq(b, "Publish Violation - Reply \"r\"");
    int n = br_perms_pub_violation(b, 10, S("foo"));
    cr_assert_eq(n, (int)strlen("Permissions Violation for Publish to \"foo\""));
    cr_assert_eq(strlen(b), 9);
}

Test(perms, reserved_subjects) {
    cr_assert(br_perms_pub_reserved(S("_GR_.abc")));
    cr_assert_not(br_perms_pub_reserved(S("_GR_.")));
    cr_assert(br_perms_pub_reserved(S("$NRG.x")));
    cr_assert_not(br_perms_pub_reserved(S("foo")));
    cr_assert(br_perms_reply_reserved(S("_R_.")));
    cr_assert(br_perms_reply_reserved(S("_R_.abc")));
    cr_assert_not(br_perms_reply_reserved(S("_R_")));
    cr_assert(br_perms_reply_reserved(S("$JS.ACK.x")));
    cr_assert_not(br_perms_reply_reserved(S("$JS.ACK.")));
    cr_assert(br_perms_reply_reserved(S("_GR_.x")));
    cr_assert_not(br_perms_reply_reserved(S("_INBOX.x")));
}

Test(perms, clone_and_equal) {
    br_permissions *p = br_permissions_new();
    p->publish = sp_make(LIST("a", "b"), LIST("c"));
    p->subscribe = sp_make(NULL, LIST("d q"));
    p->response = calloc(1, sizeof *p->response);
    p->response->max_msgs = 3;
    br_permissions *c = br_permissions_clone(p);
    cr_assert(br_permissions_equal(p, c));
    cr_assert_neq(c->publish->allow, p->publish->allow);
    c->response->max_msgs = 4;
    cr_assert_not(br_permissions_equal(p, c));
    c->response->max_msgs = 3;
    c->publish->allow_set = false;
    c->publish->nallow = 0;
    cr_assert_not(br_permissions_equal(p, c));
    c->publish->nallow = 2;
    c->publish->allow_set = true;
    cr_assert(br_permissions_equal(p, c));
    cr_assert_null(br_permissions_clone(NULL));
    cr_assert(br_permissions_equal(NULL, NULL));
    cr_assert_not(br_permissions_equal(p, NULL));
    br_permissions_free(p);
    br_permissions_free(c);
}

/* ---- permissions from config files (server/opts_test.go) ---- */

/* Parses text as file "test.conf" and applies it; returns the number of errors. */
static int load(const char *text, br_auth_opts *o, br_conf_diag *d) {
    memset(o, 0, sizeof *o);
    memset(d, 0, sizeof *d);
    nx_conf_value *root = NULL;
    char err[1024];
    nx_conf_opts co = {.file = "test.conf"};
    if (nx_conf_parse(text, strlen(text), &co, &root, err, sizeof err) < 0) {
        d->errors = strdup(err);
        d->nerrors = 1;
        return 1;
    }
    int n = br_auth_conf_load(o, root, d);
    nx_conf_free(root);
    return n;
}

static bool has_error(const br_conf_diag *d, const char *needle) {
    return d->errors && strstr(d->errors, needle);
}

static br_auth *auth_from(const char *text) {
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load(text, &o, &d), 0, "%s", d.errors ? d.errors : "");
    br_auth *a = NULL;
    char err[512];
    cr_assert_eq(br_auth_new(&o, &a, err, sizeof err), 0, "%s", err);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
    return a;
}

static br_user *find_user(const br_auth_opts *o, const char *name) {
    for (size_t i = 0; i < o->nusers; i++)
        if (!strcmp(o->users[i].username, name)) return &o->users[i];
    return NULL;
}

typedef struct creds {
    const char *user, *pass;
} creds;

static int check(const br_auth *a, creds c, br_auth_result *r) {
    br_auth_creds bc = {0};
    if (c.user) bc.user = c.user, bc.user_len = strlen(c.user);
    if (c.pass) bc.pass = c.pass, bc.pass_len = strlen(c.pass);
    return br_auth_check(a, &bc, r);
}

static void expect_error(const char *conf, const char *needle) {
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_gt(load(conf, &o, &d), 0, "no error for %s", conf);
    if (needle) cr_assert(has_error(&d, needle), "got %s", d.errors);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

static void response_case(const char *a, const char *b, const char *err, int64_t max, int64_t ttl) {
    char conf[512];
    snprintf(conf, sizeof conf,
             "listen: \"127.0.0.1:-1\"\nauthorization {\n users [\n {\n user: ivan\n"
             " password: pwd\n permissions {\n allow_responses {\n %s\n %s\n }\n }\n }\n ]\n}\n",
             a, b);
    br_auth_opts o;
    br_conf_diag d;
    int n = load(conf, &o, &d);
    if (err) {
        cr_assert(n > 0 && has_error(&d, err), "want %s, got %s", err, d.errors);
    } else {
        cr_assert_eq(n, 0, "%s", d.errors);
        const br_response_perm *p = o.users[0].perms->response;
        cr_assert_not_null(p);
        cr_assert_eq(p->max_msgs, max, "%s %s", a, b);
        cr_assert_eq(p->expires_ns, ttl, "%s %s", a, b);
    }
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(perms_conf, nkey_users_default_permissions_config) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestNkeyUsersDefaultPermissionsConfig",
                    "the accounts{} half is not ported (accounts are not supported)");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("authorization {\n default_permissions = {\n publish = \"foo\"\n }\n"
                      " users = [\n { user: \"user\", password: \"pwd\"}\n"
                      " { user: \"other\", password: \"pwd\",\n permissions = {\n"
                      " subscribe = \"bar\"\n }\n }\n"
                      " { nkey: \"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\" }\n"
                      " { nkey: \"UA3C5TBZYK5GJQJRWPMU6NFY5JNAEVQB2V2TUZFZDHFJFUYVKTTUOFKZ\",\n"
                      " permissions = {\n subscribe = \"bar\"\n }\n }\n ]\n}\n",
                      &o, &d),
                 0, "%s", d.errors);
    cr_assert_eq(o.nusers, 2);
    cr_assert_eq(o.nnkeys, 2);
    const br_permissions *def[2] = {find_user(&o, "user")->perms, o.nkeys[0].perms};
    const br_permissions *own[2] = {find_user(&o, "other")->perms, o.nkeys[1].perms};
    for (int i = 0; i < 2; i++) {
        cr_assert_str_eq(def[i]->publish->allow[0], "foo");
        cr_assert_null(def[i]->subscribe);
        cr_assert_str_eq(own[i]->subscribe->allow[0], "bar");
        cr_assert_null(own[i]->publish);
    }
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(perms_conf, nkey_users_with_perms_config) {
    GO_TEST("server/opts_test.go", "TestNkeyUsersWithPermsConfig");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("authorization {\n users = [\n"
                      " {nkey: \"UDKTV7HZVYJFJN64LLMYQBUR6MTNNYCDC3LAZH4VHURW3GZLL3FULBXV\",\n"
                      " permissions = {\n publish = \"$SYS.>\"\n"
                      " subscribe = { deny = [\"foo\", \"bar\", \"baz\"] }\n }\n }\n ]\n}",
                      &o, &d),
                 0);
    cr_assert_eq(o.nnkeys, 1);
    const br_permissions *p = o.nkeys[0].perms;
    cr_assert(p && p->publish);
    cr_assert_str_eq(p->publish->allow[0], "$SYS.>");
    cr_assert(p->subscribe);
    cr_assert_not(p->subscribe->allow_set);
    cr_assert_null(p->subscribe->allow);
    cr_assert_eq(p->subscribe->ndeny, 3);
    cr_assert_str_eq(p->subscribe->deny[0], "foo");
    cr_assert_str_eq(p->subscribe->deny[1], "bar");
    cr_assert_str_eq(p->subscribe->deny[2], "baz");
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(perms_conf, new_style_authorization_config) {
    GO_TEST("server/opts_test.go", "TestNewStyleAuthorizationConfig");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(
        load("listen: 127.0.0.1:4222\n\nauthorization {\n"
             "  normal_user = {\n    publish = {\n      allow = [\"foo\", \"bar\", \"baz\"]\n"
             "    }\n    subscribe = {\n      deny = \"$SYS.>\"\n    }\n  }\n"
             " admin_user = {\n   publish = \"$SYS.>\"\n   subscribe = {\n"
             "     deny = [\"foo\", \"bar\", \"baz\"]\n   }\n }\n"
             "  users = [\n"
             "    {user: alice, password: foo, permissions: $normal_user}\n"
             "    {user: bob, password: special, permissions: $admin_user}\n  ]\n}\n",
             &o, &d),
        0, "%s", d.errors);
    cr_assert_eq(o.nusers, 2);
    br_user *alice = find_user(&o, "alice");
    cr_assert(alice && alice->perms && alice->perms->publish);
    cr_assert_eq(alice->perms->publish->nallow, 3);
    cr_assert_str_eq(alice->perms->publish->allow[0], "foo");
    cr_assert_str_eq(alice->perms->publish->allow[1], "bar");
    cr_assert_str_eq(alice->perms->publish->allow[2], "baz");
    cr_assert_eq(alice->perms->publish->ndeny, 0);
    cr_assert(alice->perms->subscribe);
    cr_assert_eq(alice->perms->subscribe->nallow, 0);
    cr_assert_eq(alice->perms->subscribe->ndeny, 1);
    cr_assert_str_eq(alice->perms->subscribe->deny[0], "$SYS.>");
    br_user *bob = find_user(&o, "bob");
    cr_assert(bob && bob->perms && bob->perms->publish);
    cr_assert_eq(bob->perms->publish->nallow, 1);
    cr_assert_str_eq(bob->perms->publish->allow[0], "$SYS.>");
    cr_assert_eq(bob->perms->publish->ndeny, 0);
    cr_assert(bob->perms->subscribe);
    cr_assert_eq(bob->perms->subscribe->nallow, 0);
    cr_assert_eq(bob->perms->subscribe->ndeny, 3);
    cr_assert_str_eq(bob->perms->subscribe->deny[0], "foo");
    cr_assert_str_eq(bob->perms->subscribe->deny[1], "bar");
    cr_assert_str_eq(bob->perms->subscribe->deny[2], "baz");
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
}

Test(perms_conf, parsing_response_permissions) {
    GO_TEST("server/opts_test.go", "TestParsingResponsePermissions");
    const int64_t s = 1000000000, dm = BR_ALLOW_RESPONSE_MAX_MSGS;
    const int64_t dt = BR_ALLOW_RESPONSE_EXPIRATION_NS;
    response_case("", "", NULL, dm, dt);
    response_case("max: 10", "", NULL, 10, dt);
    response_case("", "ttl: 5s", NULL, dm, 5 * s);
    response_case("max: 0", "", NULL, dm, dt);
    response_case("", "ttl: \"0s\"", NULL, dm, dt);
    response_case("max: 10", "ttl: \"5s\"", NULL, 10, 5 * s);
    response_case("max: -1", "ttl: \"5s\"", NULL, -1, 5 * s);
    response_case("max: 10", "ttl: \"-1s\"", NULL, 10, -1 * s);
    response_case("max: -1", "ttl: \"-1s\"", NULL, -1, -1 * s);
    response_case("unknown_field: 123", "", "Unknown field", 0, 0);
    response_case("max: 10", "ttl: 123", "not a duration string", 0, 0);
    response_case("max: 10", "ttl: xyz", "error parsing expires", 0, 0);
}

Test(perms_conf, queue_permissions) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestQueuePermissions",
                    "checks the parsed permissions with br_perms_sub_allowed instead of a client");
    static const struct {
        const char *type, *queue;
        bool err;
    } cases[] = {{"allow", "queue.dev", false},
                 {"allow", NULL, true},
                 {"allow", "bad", true},
                 {"deny", NULL, false},
                 {"deny", "queue.dev", true}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char conf[512];
        snprintf(conf, sizeof conf,
                 "listen: 127.0.0.1:-1\nno_auth_user: u\nauthorization {\n users [{\n"
                 " user: u, password: pwd, permissions: { sub: { %s: [\"foo.> *.dev\"] } }\n }]\n}",
                 cases[i].type);
        br_auth *a = auth_from(conf);
        br_auth_result r;
        cr_assert_eq(check(a, (creds){0}, &r), 0);
        br_perm_state st = {0};
        br_perm_state_set(&st, r.perms);
        const char *q = cases[i].queue;
        bool ok = br_perms_sub_allowed(&st, "foo.bar", 7, q, q ? strlen(q) : 0);
        cr_assert_eq(ok, !cases[i].err, "case %zu", i);
        if (!ok) {
            char buf[256];
            br_perms_sub_violation(buf, sizeof buf, "foo.bar", 7, q, q ? strlen(q) : 0);
            cr_assert(strstr(buf, "Permissions Violation for Subscription to \"foo.bar\""));
        }
        br_perm_state_clear(&st);
        br_auth_free(a);
    }
}

Test(perms_conf, queue_qualifier_only_for_subscribe) {
    GO_TEST_PARTIAL("server/opts_test.go", "TestQueueQualifierOnlyAllowedForSubscribePermissions",
                    "the leafnode and cluster cases are not ported (not supported)");
    br_auth_opts o;
    br_conf_diag d;
    cr_assert_eq(load("authorization {\n users: [{\n user: u\n password: p\n"
                      " permissions: { subscribe: { deny: [\"admin.secret workers\"] } }\n }]\n}",
                      &o, &d),
                 0);
    br_auth_opts_free(&o);
    br_conf_diag_free(&d);
    expect_error("authorization {\n users: [{\n user: u\n password: p\n"
                 " permissions: { publish: { deny: [\"admin.secret workers\"] } }\n }]\n}",
                 "test.conf:5:28: subject \"admin.secret workers\" is not a valid subject");
    /* Programmatic permissions are checked by br_auth_new (Go validateAuth). */
    br_auth_opts po = {0};
    br_permissions *p = br_permissions_new();
    p->publish = br_subject_perm_new();
    br_subject_perm_add(p->publish, true, "admin.secret workers", 20);
    br_auth_opts_add_user(&po, "u", "p", p);
    br_auth *a = NULL;
    char err[256];
    cr_assert_lt(br_auth_new(&po, &a, err, sizeof err), 0);
    cr_assert_str_eq(err, "invalid permissions for user \"u\": publish deny: subject "
                          "\"admin.secret workers\" is not a valid subject");
    br_permissions_free(p);
    br_auth_opts_free(&po);
}
