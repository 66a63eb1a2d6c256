/* The official C client (libnats, Debian libnats-dev) against the server: what an application
 * sees.  Most of these have no single Go counterpart (the Go suites use nats.go throughout);
 * those that port a Go test carry its marker.
 *
 * Waits on callbacks are h_counter condvar waits with deadlines.  "Nothing more arrived" is
 * checked after natsConnection_Flush on the receiving connection: the server writes the PONG
 * after every MSG it had queued for that connection, so once Flush returns those MSGs are in
 * the subscription's pending queue.
 */
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "harness.h"

#define OK(call)                                                                                   \
    do {                                                                                           \
        natsStatus st_ = (call);                                                                   \
        cr_assert_eq(st_, NATS_OK, "%s: %s (%s)", #call, natsStatus_GetText(st_),                  \
                     nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");                      \
    } while (0)

static natsConnection *connect_to(const char *url) {
    natsConnection *nc = NULL;
    OK(natsConnection_ConnectTo(&nc, url));
    return nc;
}

/* Next message on a sync subscription, which must arrive within the harness timeout. */
static natsMsg *next_msg(natsSubscription *sub) {
    natsMsg *m = NULL;
    OK(natsSubscription_NextMsg(&m, sub, H_TIMEOUT_MS));
    return m;
}

static int pending(natsSubscription *sub) {
    int msgs = 0, bytes = 0;
    OK(natsSubscription_GetPending(sub, &msgs, &bytes));
    return msgs;
}

static void counter_cb(natsConnection *nc, void *closure) {
    (void)nc;
    h_counter_add(closure, 1);
}

Test(libnats, pub_sub) {
    h_server *s = h_server_start(NULL);
    natsConnection *nc = connect_to(s->url);
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "foo"));
    OK(natsConnection_PublishString(nc, "foo", "hello"));
    natsMsg *m = next_msg(sub);
    cr_assert_str_eq(natsMsg_GetSubject(m), "foo");
    cr_assert_eq(natsMsg_GetDataLength(m), 5);
    cr_assert(memcmp(natsMsg_GetData(m), "hello", 5) == 0);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(libnats, wildcards) {
    h_server *s = h_server_start(NULL);
    natsConnection *nc = connect_to(s->url);
    natsSubscription *star = NULL, *gt = NULL, *first = NULL;
    OK(natsConnection_SubscribeSync(&star, nc, "foo.*"));
    OK(natsConnection_SubscribeSync(&gt, nc, "foo.>"));
    OK(natsConnection_SubscribeSync(&first, nc, "*.bar"));
    OK(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS));

    const char *subjects[] = {"foo.bar", "foo.bar.baz", "x.bar", "foo", "foo.baz", "bar"};
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++)
        OK(natsConnection_PublishString(nc, subjects[i], "x"));
    OK(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS));

    cr_assert_eq(pending(star), 2);  /* foo.bar foo.baz */
    cr_assert_eq(pending(gt), 3);    /* foo.bar foo.bar.baz foo.baz */
    cr_assert_eq(pending(first), 2); /* foo.bar x.bar */
    natsMsg *m = next_msg(gt);
    cr_assert_str_eq(natsMsg_GetSubject(m), "foo.bar"); /* in publish order */
    natsMsg_Destroy(m);
    m = next_msg(gt);
    cr_assert_str_eq(natsMsg_GetSubject(m), "foo.bar.baz");
    natsMsg_Destroy(m);

    natsSubscription_Destroy(star);
    natsSubscription_Destroy(gt);
    natsSubscription_Destroy(first);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

static void literal_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc, (void)sub;
    natsMsg_Destroy(msg);
    h_counter_add(closure, 1);
}

Test(libnats, wildcard_chars_in_literal_subject) {
    GO_TEST("server/client_test.go", "TestWildcardCharsInLiteralSubjectWorks");
    h_server *s = h_server_start(NULL);
    natsConnection *nc = connect_to(s->url);
    h_counter *got = h_counter_new();
    /* '*' and '>' inside a token are plain characters, not wildcards. */
    const char *subj = "foo.bar,*,>,baz";
    for (int i = 0; i < 2; i++) {
        natsSubscription *sub = NULL;
        OK(natsConnection_Subscribe(&sub, nc, subj, literal_cb, got));
        OK(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS));
        const char *err = NULL;
        cr_assert_eq(natsConnection_GetLastError(nc, &err), NATS_OK, "server error: %s", err);
        OK(natsConnection_PublishString(nc, subj, "msg"));
        cr_assert(h_counter_wait(got, i + 1, H_TIMEOUT_MS), "message %d not received", i + 1);
        OK(natsSubscription_Unsubscribe(sub));
        natsSubscription_Destroy(sub);
    }
    natsConnection_Destroy(nc);
    h_counter_free(got);
    h_server_stop(s);
}

/* Queue group of three members on three connections plus one plain subscriber: every message
 * reaches exactly one member and the plain subscriber. */
struct qstate {
    h_counter *total;
    pthread_mutex_t mu;
    int seen[300];
};

static void queue_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc, (void)sub;
    struct qstate *q = closure;
    int idx = atoi(natsMsg_GetData(msg));
    pthread_mutex_lock(&q->mu);
    if (idx >= 0 && idx < 300) q->seen[idx]++;
    pthread_mutex_unlock(&q->mu);
    natsMsg_Destroy(msg);
    h_counter_add(q->total, 1);
}

Test(libnats, queue_group_exactly_once) {
    h_server *s = h_server_start(NULL);
    struct qstate q = {.total = h_counter_new()};
    pthread_mutex_init(&q.mu, NULL);
    natsConnection *members[3];
    natsSubscription *msubs[3];
    for (int i = 0; i < 3; i++) {
        members[i] = connect_to(s->url);
        OK(natsConnection_QueueSubscribe(&msubs[i], members[i], "jobs", "workers", queue_cb, &q));
        OK(natsConnection_FlushTimeout(members[i], H_TIMEOUT_MS));
    }
    natsConnection *plain = connect_to(s->url);
    natsSubscription *psub = NULL;
    OK(natsConnection_SubscribeSync(&psub, plain, "jobs"));
    OK(natsConnection_FlushTimeout(plain, H_TIMEOUT_MS));

    natsConnection *pub = connect_to(s->url);
    char buf[16];
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        OK(natsConnection_PublishString(pub, "jobs", buf));
    }
    OK(natsConnection_FlushTimeout(pub, H_TIMEOUT_MS));
    cr_assert(h_counter_wait(q.total, 300, H_TIMEOUT_MS), "queue group got %d of 300",
              h_counter_get(q.total));
    /* Anything extra the server sent is in by now. */
    int used = 0;
    for (int i = 0; i < 3; i++) {
        OK(natsConnection_FlushTimeout(members[i], H_TIMEOUT_MS));
        int64_t delivered = 0;
        OK(natsSubscription_GetDelivered(msubs[i], &delivered));
        if (delivered > 0) used++;
        cr_assert_eq(pending(msubs[i]), 0);
    }
    OK(natsConnection_FlushTimeout(plain, H_TIMEOUT_MS));
    cr_assert_eq(h_counter_get(q.total), 300);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(q.seen[i], 1, "message %d seen %d times", i, q.seen[i]);
    cr_assert_geq(used, 2, "distribution should use several members");
    cr_assert_eq(pending(psub), 300);

    natsConnection_Destroy(pub);
    natsSubscription_Destroy(psub);
    natsConnection_Destroy(plain);
    for (int i = 0; i < 3; i++) {
        natsSubscription_Destroy(msubs[i]);
        natsConnection_Destroy(members[i]);
    }
    h_counter_free(q.total);
    h_server_stop(s);
}

Test(libnats, queue_sub_no_echo) {
    GO_TEST("server/client_test.go", "TestClientPubWithQueueSubNoEcho");
    h_server *s = h_server_start(NULL);
    /* nc1 does not want its own messages (CONNECT echo:false), so its queue member must never
     * be picked for what nc1 publishes: all 100 go to nc2's member. */
    natsOptions *o = NULL;
    OK(natsOptions_Create(&o));
    OK(natsOptions_SetURL(o, s->url));
    OK(natsOptions_SetNoEcho(o, true));
    natsConnection *nc1 = NULL;
    OK(natsConnection_Connect(&nc1, o));
    h_counter *n1 = h_counter_new(), *n2 = h_counter_new();
    natsSubscription *s1 = NULL, *s2 = NULL;
    OK(natsConnection_QueueSubscribe(&s1, nc1, "foo", "bar", literal_cb, n1));
    OK(natsConnection_FlushTimeout(nc1, H_TIMEOUT_MS));
    natsConnection *nc2 = connect_to(s->url);
    OK(natsConnection_QueueSubscribe(&s2, nc2, "foo", "bar", literal_cb, n2));
    OK(natsConnection_FlushTimeout(nc2, H_TIMEOUT_MS));

    for (int i = 0; i < 100; i++)
        OK(natsConnection_PublishString(nc1, "foo", "Hello"));
    OK(natsConnection_FlushTimeout(nc1, H_TIMEOUT_MS));
    cr_assert(h_counter_wait(n2, 100, H_TIMEOUT_MS), "nc2 got %d of 100", h_counter_get(n2));
    OK(natsConnection_FlushTimeout(nc1, H_TIMEOUT_MS));
    cr_assert_eq(h_counter_get(n1), 0);
    cr_assert_eq(pending(s1), 0);

    natsSubscription_Destroy(s1);
    natsSubscription_Destroy(s2);
    natsConnection_Destroy(nc1);
    natsConnection_Destroy(nc2);
    natsOptions_Destroy(o);
    h_counter_free(n1);
    h_counter_free(n2);
    h_server_stop(s);
}

static void responder_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)sub, (void)closure;
    char reply[64];
    snprintf(reply, sizeof reply, "re:%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
    natsConnection_PublishString(nc, natsMsg_GetReply(msg), reply);
    natsMsg_Destroy(msg);
}

Test(libnats, request_reply) {
    h_server *s = h_server_start(NULL);
    natsConnection *srv = connect_to(s->url), *cli = connect_to(s->url);
    natsSubscription *sub = NULL;
    OK(natsConnection_Subscribe(&sub, srv, "help", responder_cb, NULL));
    OK(natsConnection_FlushTimeout(srv, H_TIMEOUT_MS));
    for (int i = 0; i < 3; i++) {
        natsMsg *reply = NULL;
        OK(natsConnection_RequestString(&reply, cli, "help", "hi", H_TIMEOUT_MS));
        cr_assert_eq(natsMsg_GetDataLength(reply), 5);
        cr_assert(memcmp(natsMsg_GetData(reply), "re:hi", 5) == 0);
        natsMsg_Destroy(reply);
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(srv);
    natsConnection_Destroy(cli);
    h_server_stop(s);
}

Test(libnats, headers) {
    h_server *s = h_server_start(NULL);
    natsConnection *nc = connect_to(s->url);
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "hdr"));
    natsMsg *out = NULL;
    OK(natsMsg_Create(&out, "hdr", NULL, "body", 4));
    OK(natsMsgHeader_Set(out, "X-Key", "v1"));
    OK(natsMsgHeader_Set(out, "Other", "v 2"));
    OK(natsConnection_PublishMsg(nc, out));
    natsMsg_Destroy(out);

    natsMsg *in = next_msg(sub);
    const char *v = NULL;
    OK(natsMsgHeader_Get(in, "X-Key", &v));
    cr_assert_str_eq(v, "v1");
    OK(natsMsgHeader_Get(in, "Other", &v));
    cr_assert_str_eq(v, "v 2");
    cr_assert_eq(natsMsg_GetDataLength(in), 4);
    cr_assert(memcmp(natsMsg_GetData(in), "body", 4) == 0);
    natsMsg_Destroy(in);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(libnats, no_responders) {
    h_server *s = h_server_start(NULL);
    natsConnection *nc = connect_to(s->url);
    natsMsg *reply = NULL;
    /* The server answers at once with a 503 status, well before the timeout. */
    int64_t start = h_now_ms();
    natsStatus st = natsConnection_RequestString(&reply, nc, "nobody.home", "x", H_TIMEOUT_MS);
    cr_assert_eq(st, NATS_NO_RESPONDERS, "got %s", natsStatus_GetText(st));
    cr_assert_lt(h_now_ms() - start, H_TIMEOUT_MS);
    cr_assert_null(reply);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(libnats, auto_unsubscribe) {
    h_server *s = h_server_start(NULL);
    natsConnection *nc = connect_to(s->url);
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "foo"));
    OK(natsSubscription_AutoUnsubscribe(sub, 3));
    for (int i = 0; i < 10; i++)
        OK(natsConnection_PublishString(nc, "foo", "x"));
    OK(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS));
    for (int i = 0; i < 3; i++)
        natsMsg_Destroy(next_msg(sub));
    natsMsg *m = NULL;
    cr_assert_eq(natsSubscription_NextMsg(&m, sub, 100), NATS_MAX_DELIVERED_MSGS);
    cr_assert(!natsSubscription_IsValid(sub));
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    h_server_stop(s);
}

Test(libnats, flush) {
    h_server *s = h_server_start(NULL);
    natsConnection *pub = connect_to(s->url), *rcv = connect_to(s->url);
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, rcv, "bulk"));
    OK(natsConnection_FlushTimeout(rcv, H_TIMEOUT_MS));
    for (int i = 0; i < 1000; i++)
        OK(natsConnection_PublishString(pub, "bulk", "0123456789"));
    OK(natsConnection_FlushTimeout(pub, H_TIMEOUT_MS));
    OK(natsConnection_FlushTimeout(rcv, H_TIMEOUT_MS));
    cr_assert_eq(pending(sub), 1000);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(pub);
    natsConnection_Destroy(rcv);
    h_server_stop(s);
}

Test(libnats, reconnect_after_restart) {
    h_server *s = h_server_start(NULL);
    h_counter *disc = h_counter_new(), *reco = h_counter_new();
    natsOptions *o = NULL;
    OK(natsOptions_Create(&o));
    OK(natsOptions_SetURL(o, s->url));
    OK(natsOptions_SetMaxReconnect(o, -1));
    OK(natsOptions_SetReconnectWait(o, 50));
    OK(natsOptions_SetDisconnectedCB(o, counter_cb, disc));
    OK(natsOptions_SetReconnectedCB(o, counter_cb, reco));
    natsConnection *nc = NULL;
    OK(natsConnection_Connect(&nc, o));
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "foo"));
    OK(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS));

    h_server_restart(s);
    cr_assert(h_counter_wait(disc, 1, H_TIMEOUT_MS), "no disconnect callback");
    cr_assert(h_counter_wait(reco, 1, 2 * H_TIMEOUT_MS), "no reconnect callback");

    /* The client re-sent its SUB on reconnect: the subscription works on the new server. */
    OK(natsConnection_PublishString(nc, "foo", "again"));
    natsMsg *m = next_msg(sub);
    cr_assert(memcmp(natsMsg_GetData(m), "again", 5) == 0);
    natsMsg_Destroy(m);

    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    h_counter_free(disc);
    h_counter_free(reco);
    h_server_stop(s);
}

/* lame_duck_duration has a 30s minimum; the short grace period makes the server close its
 * client ~1s after SIGUSR2 and then exit. */
#define LDM_CONF "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n"

Test(libnats, lame_duck_no_clients) {
    GO_TEST_PARTIAL("server/server_test.go", "TestLameDuckMode",
                    "only the no-client shutdown; see lame_duck_fails_over for the rest");
    h_server *s = h_server_start(LDM_CONF);
    h_server_signal(s, SIGUSR2);
    cr_assert(h_server_wait_exit(s, H_TIMEOUT_MS), "server with no clients should exit");
    h_server_stop(s);
}

Test(libnats, lame_duck_fails_over) {
    GO_TEST_PARTIAL("server/server_test.go", "TestLameDuckMode",
                    "no cluster/routes, one client instead of 50, no connz closed reasons");
    h_server *a = h_server_start(LDM_CONF);
    h_server *b = h_server_start(NULL);
    h_counter *ldm = h_counter_new(), *reco = h_counter_new();
    natsOptions *o = NULL;
    OK(natsOptions_Create(&o));
    const char *servers[] = {a->url, b->url};
    OK(natsOptions_SetServers(o, servers, 2));
    OK(natsOptions_SetNoRandomize(o, true));
    OK(natsOptions_SetReconnectWait(o, 50));
    OK(natsOptions_SetMaxReconnect(o, 20));
    OK(natsOptions_SetLameDuckModeCB(o, counter_cb, ldm));
    OK(natsOptions_SetReconnectedCB(o, counter_cb, reco));
    natsConnection *nc = NULL;
    OK(natsConnection_Connect(&nc, o));
    char url[128];
    OK(natsConnection_GetConnectedUrl(nc, url, sizeof url));
    cr_assert_str_eq(url, a->url);
    natsSubscription *sub = NULL;
    OK(natsConnection_SubscribeSync(&sub, nc, "foo"));
    OK(natsConnection_FlushTimeout(nc, H_TIMEOUT_MS));

    h_server_signal(a, SIGUSR2);
    /* The server tells its clients with INFO {"ldm":true}... */
    cr_assert(h_counter_wait(ldm, 1, H_TIMEOUT_MS), "no lame duck callback");
    h_server_expect_log(a, "Entering lame duck mode, stop accepting new clients");
    /* ...after it stopped accepting: a new connection is refused. */
    int fd = h_try_connect(a->port);
    cr_assert_lt(fd, 0, "server in lame duck mode accepted a connection");

    /* After the grace period it closes the client, which reconnects to the other server. */
    cr_assert(h_counter_wait(reco, 1, 2 * H_TIMEOUT_MS), "client did not reconnect");
    OK(natsConnection_GetConnectedUrl(nc, url, sizeof url));
    cr_assert_str_eq(url, b->url);
    OK(natsConnection_PublishString(nc, "foo", "on b"));
    natsMsg *m = next_msg(sub);
    cr_assert(memcmp(natsMsg_GetData(m), "on b", 4) == 0);
    natsMsg_Destroy(m);
    /* Having closed its last client, the lame duck server shuts down. */
    cr_assert(h_server_wait_exit(a, 2 * H_TIMEOUT_MS), "lame duck server did not exit");

    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    h_counter_free(ldm);
    h_counter_free(reco);
    h_server_stop(a);
    h_server_stop(b);
}
