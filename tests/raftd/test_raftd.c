/* tests/raftd/test_raftd.c: nats-raftd as a process.  Three (or four) real raftd processes on
 * loopback ephemeral ports, driven over their control sockets: election, replication in the
 * same order everywhere, kill -9 of the leader, re-election, restart and catchup (also from a
 * snapshot), membership changes, groups created on request, and robustness against
 * malformed peer frames and control requests.
 *
 * Ports (process level) of Go server/raft_test.go cases that the core's unit tests
 * (tests/unit/test_raft_*.c) already cover on the simulator; here they run over real TCP,
 * real fsyncs and real crashes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/gotest.h"
#include "rdh.h"

#define META "_meta_"

static const char *const fast[] = {NULL};

/* Every subscriber sees the same gap-free sequence of applied entries. */
static void expect_events(rdh_conn *k, const char *group, json_t *want)
{
    size_t got = 0;
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    while (got < json_array_size(want)) {
        cr_assert(rdh_now_ms() < deadline, "only %zu of %zu apply events", got,
                  json_array_size(want));
        json_t *ev = rdh_conn_next(k, 1000);
        if (!ev)
            continue;
        const char *t = json_string_value(json_object_get(ev, "ev"));
        const char *g = json_string_value(json_object_get(ev, "group"));
        if (t && g && !strcmp(t, "apply") && !strcmp(g, group)) {
            json_t *w = json_array_get(want, got);
            cr_assert(json_equal(json_object_get(ev, "index"), json_object_get(w, "index")) &&
                          json_equal(json_object_get(ev, "data"), json_object_get(w, "data")),
                      "apply event %zu differs", got);
            got++;
        }
        json_decref(ev);
    }
}

Test(raftd, elect_and_replicate_in_order, .timeout = 120)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSimple",
                    "process level: no state-machine sum, entries compared instead");
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSimpleElection",
                    "process level: one election, vote counts not observed");
    rdh_cluster c;
    rdh_cluster_init(&c, 3, true, fast); /* config files: server_name, cluster, jetstream */
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    rdh_conn subs[3];
    for (int i = 0; i < 3; i++) {
        cr_assert(rdh_conn_open(&subs[i], &c.nodes[i]));
        cr_assert(rdh_conn_send(&subs[i], "{\"op\":\"sub\",\"id\":7}"));
        json_t *r = rdh_conn_next(&subs[i], 5000);
        cr_assert(r && json_is_true(json_object_get(r, "ok")) &&
                  json_integer_value(json_object_get(r, "id")) == 7);
        json_decref(r);
    }
    /* Through the leader and, forwarded, through both followers. */
    char buf[64];
    for (int k = 0; k < 30; k++) {
        snprintf(buf, sizeof(buf), "assignment-%02d", k);
        rdh_propose_sure(&c.nodes[k < 10 ? l : (l + 1 + k % 2) % 3], META, buf);
        if (k == 9) /* the leader's entries first, in their order */
            json_decref(rdh_wait_logs_equal(&c, META, 10));
    }
    json_t *log = rdh_wait_logs_equal(&c, META, 30);
    json_t *uniq = rdh_log_dedup(log); /* a retried proposal may be there twice */
    cr_assert_eq(json_array_size(uniq), 30);
    for (int k = 0; k < 30; k++) {
        snprintf(buf, sizeof(buf), "assignment-%02d", k);
        char *b = rdh_b64(buf);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(uniq, k), "data")), b);
        free(b);
    }
    json_decref(uniq);
    uint64_t prev = 0;
    for (size_t k = 0; k < json_array_size(log); k++) {
        uint64_t idx = (uint64_t)json_integer_value(json_object_get(json_array_get(log, k), "index"));
        cr_assert_geq(idx, prev, "indexes never go down (a batch shares one index, as in Go)");
        prev = idx;
    }
    for (int i = 0; i < 3; i++) {
        expect_events(&subs[i], META, log);
        rdh_conn_close(&subs[i]);
    }
    /* State: everyone current, one leader, cluster size 3.  "current" is the leader's recent
     * view of each peer, so it is polled (on whoever leads: a stall can move leadership). */
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        l = rdh_wait_leader(&c, META, -1);
        json_t *st = rdh_req_ok(&c.nodes[l], "{\"op\":\"state\",\"group\":\"" META "\"}");
        cr_assert_eq(json_integer_value(json_object_get(st, "cluster_size")), 3);
        json_t *peers = json_object_get(st, "peers");
        cr_assert_eq(json_array_size(peers), 3);
        size_t i;
        json_t *p;
        bool good = true;
        json_array_foreach(peers, i, p)
        {
            cr_assert_str_neq(json_string_value(json_object_get(p, "name")), "");
            bool self = !strcmp(json_string_value(json_object_get(p, "name")), c.nodes[l].name);
            good = good && json_is_true(json_object_get(p, "current"));
            if (!self) /* the leader has heard from each follower */
                good = good && json_integer_value(json_object_get(p, "last_contact_ms")) >= 0;
        }
        json_decref(st);
        if (good)
            break;
        cr_assert(rdh_now_ms() < deadline, "the leader never saw every peer current");
        rdh_pause_ms(20);
    }
    json_decref(log);
    rdh_cluster_stop(&c);
}

Test(raftd, kill_leader_reelect_restart_catchup, .timeout = 180)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSimpleCatchup",
                    "process level: catchup after kill -9 and restart, not a paused node");
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGRecoverFromFollowingNoLeader",
                    "process level: followers elect a new leader after the leader is killed");
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    char buf[64];
    for (int k = 0; k < 10; k++) {
        snprintf(buf, sizeof(buf), "before-%d", k);
        rdh_propose_sure(&c.nodes[l], META, buf);
    }
    json_decref(rdh_wait_logs_equal(&c, META, 10));
    /* Kill whoever leads now (a stall may have moved leadership), in the term it leads. */
    l = rdh_wait_leader(&c, META, -1);
    json_t *st = rdh_req_ok(&c.nodes[l], "{\"op\":\"state\",\"group\":\"" META "\"}");
    json_int_t term1 = json_integer_value(json_object_get(st, "term"));
    json_decref(st);

    rdh_kill9(&c.nodes[l]);
    int l2 = rdh_wait_leader(&c, META, l);
    cr_assert_neq(l2, l);
    st = rdh_req_ok(&c.nodes[l2], "{\"op\":\"state\",\"group\":\"" META "\"}");
    json_int_t term2 = json_integer_value(json_object_get(st, "term"));
    cr_assert_gt(term2, term1);
    json_decref(st);
    for (int k = 0; k < 10; k++) {
        snprintf(buf, sizeof(buf), "after-%d", k);
        rdh_propose_sure(&c.nodes[l2], META, buf);
    }
    json_decref(rdh_wait_logs_equal(&c, META, 20));

    rdh_start(&c.nodes[l]); /* restart: replays its log, then catches up */
    json_t *log = rdh_wait_logs_equal(&c, META, 20);
    json_t *uniq = rdh_log_dedup(log);
    cr_assert_eq(json_array_size(uniq), 20);
    json_decref(uniq);
    /* Pre-vote: the returning node (its old, lower term) does not disturb the leader.  Only
     * a leader that kept its term can show that: a stall on a loaded machine can start an
     * election of its own (the simulator checks pre-vote deterministically). */
    st = rdh_req_ok(&c.nodes[l2], "{\"op\":\"state\",\"group\":\"" META "\"}");
    json_int_t term3 = json_integer_value(json_object_get(st, "term"));
    json_decref(st);
    int l3 = rdh_wait_leader(&c, META, -1);
    if (term3 == term2)
        cr_assert_eq(l3, l2, "pre-vote: a returning node does not disturb the leader");
    else
        fprintf(stderr, "note: term moved %lld -> %lld while %s returned: pre-vote not "
                "checked\n", (long long)term2, (long long)term3, c.nodes[l].name);
    /* Everything applied was fsynced first: kill -9 every node at once, nothing is lost. */
    for (int i = 0; i < 3; i++)
        rdh_kill9(&c.nodes[i]);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    rdh_wait_leader(&c, META, -1);
    json_t *log2 = rdh_wait_logs_equal(&c, META, 20);
    cr_assert(json_equal(log, log2), "the log after a crash of every node differs");
    json_decref(log2);
    json_decref(log);
    rdh_cluster_stop(&c);
}

Test(raftd, restart_catches_up_from_snapshot, .timeout = 180)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSnapshotCatchup",
                    "process level: the follower is killed, not paused; snapshot contents are "
                    "raftd's applied entries");
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSnapshotAndRestart",
                    "process level: restart replays snapshot + log to subscribers");
    static const char *const snap[] = {"--snapshot_threshold", "8", NULL};
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, snap);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    int f = (l + 1) % 3;
    char buf[64];
    for (int k = 0; k < 5; k++) {
        snprintf(buf, sizeof(buf), "e-%03d", k);
        rdh_propose_sure(&c.nodes[l], META, buf);
    }
    json_decref(rdh_wait_logs_equal(&c, META, 5));
    json_t *st = rdh_req_ok(&c.nodes[f], "{\"op\":\"state\",\"group\":\"" META "\"}");
    json_int_t f_index = json_integer_value(json_object_get(st, "index"));
    json_decref(st);

    rdh_kill9(&c.nodes[f]);
    for (int k = 5; k < 60; k++) {
        snprintf(buf, sizeof(buf), "e-%03d", k);
        rdh_propose_sure(&c.nodes[l], META, buf);
    }
    json_decref(rdh_wait_logs_equal(&c, META, 60));
    /* The leader compacted past what the follower has: only a snapshot can catch it up. */
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        st = rdh_req_ok(&c.nodes[l], "{\"op\":\"state\",\"group\":\"" META "\"}");
        json_int_t si = json_integer_value(json_object_get(st, "snapshot_index"));
        json_decref(st);
        if (si > f_index + 8)
            break;
        cr_assert(rdh_now_ms() < deadline, "leader never snapshotted");
        rdh_pause_ms(20);
    }
    rdh_start(&c.nodes[f]);
    json_t *log = rdh_wait_logs_equal(&c, META, 60);
    json_t *uniq = rdh_log_dedup(log);
    cr_assert_eq(json_array_size(uniq), 60);
    for (int k = 0; k < 60; k++) {
        snprintf(buf, sizeof(buf), "e-%03d", k);
        char *b = rdh_b64(buf);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(uniq, k), "data")), b);
        free(b);
    }
    json_decref(uniq);
    /* A new subscriber of the restarted node gets every assignment, in order. */
    rdh_conn k;
    cr_assert(rdh_conn_open(&k, &c.nodes[f]));
    cr_assert(rdh_conn_send(&k, "{\"op\":\"sub\",\"leaders\":false}"));
    json_decref(rdh_conn_next(&k, 5000));
    expect_events(&k, META, log);
    rdh_conn_close(&k);
    /* And a full restart of everything recovers from snapshot + log. */
    rdh_cluster_stop(&c);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    rdh_wait_leader(&c, META, -1);
    json_t *log2 = rdh_wait_logs_equal(&c, META, 60);
    cr_assert(json_equal(log, log2), "the log after a full restart differs");
    json_decref(log2);
    json_decref(log);
    rdh_cluster_stop(&c);
}

static bool has_peer(json_t *st, const char *name, bool want_current)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(st, "peers"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "name")), name))
            return !want_current || json_is_true(json_object_get(p, "current"));
    }
    return false;
}

Test(raftd, add_and_remove_peer, .timeout = 180)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGAddPeers",
                    "process level: one server added to a 3-node group, not three");
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGProposeRemovePeer",
                    "process level: remove the added server again");
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    char buf[16];
    for (int k = 0; k < 5; k++) {
        snprintf(buf, sizeof(buf), "x%d", k); /* distinct: a client retries by content */
        rdh_propose_sure(&c.nodes[l], META, buf);
    }
    json_decref(rdh_wait_logs_equal(&c, META, 5));

    rdh_node *n4 = rdh_cluster_add(&c); /* routes to n1..n3 only: they learn it implicitly */
    rdh_start(n4);
    /* add_peer goes to the leader of the moment; like a proposal it can be lost when
     * leadership moves (or refused while another change is in flight), so it is made again
     * each RDH_REPROPOSE_MS until n4 is a current member. */
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS, again = 0;
    for (;;) {
        l = rdh_wait_leader(&c, META, -1);
        if (rdh_now_ms() >= again) {
            json_decref(rdh_req(&c.nodes[l], "{\"op\":\"add_peer\",\"group\":\"" META
                                             "\",\"peer\":\"%s\"}", n4->name));
            again = rdh_now_ms() + RDH_REPROPOSE_MS;
        }
        json_t *st = rdh_req_ok(&c.nodes[l], "{\"op\":\"state\",\"group\":\"" META "\"}");
        bool done = has_peer(st, n4->name, true) &&
                    json_integer_value(json_object_get(st, "cluster_size")) == 4;
        json_decref(st);
        if (done)
            break;
        cr_assert(rdh_now_ms() < deadline, "n4 never became a current member");
        rdh_pause_ms(20);
    }
    rdh_propose_sure(&c.nodes[l], META, "with-4");
    json_t *log = rdh_wait_logs_equal(&c, META, 6); /* n4 included */
    json_decref(log);

    deadline = rdh_now_ms() + RDH_WAIT_MS;
    again = 0;
    for (;;) {
        int lead = rdh_wait_leader(&c, META, -1);
        if (rdh_now_ms() >= again) { /* forwarded when not the leader; may be lost likewise */
            json_decref(rdh_req(&c.nodes[lead], "{\"op\":\"remove_peer\",\"group\":\"" META
                                                "\",\"peer\":\"%s\"}", n4->name));
            again = rdh_now_ms() + RDH_REPROPOSE_MS;
        }
        json_t *st = rdh_req_ok(&c.nodes[lead], "{\"op\":\"state\",\"group\":\"" META "\"}");
        bool done = !has_peer(st, n4->name, false) &&
                    json_integer_value(json_object_get(st, "cluster_size")) == 3;
        json_decref(st);
        if (done)
            break;
        cr_assert(rdh_now_ms() < deadline, "n4 never left the group");
        rdh_pause_ms(20);
    }
    rdh_stop(n4);
    l = rdh_wait_leader(&c, META, -1);
    rdh_propose_sure(&c.nodes[l], META, "without-4");
    json_decref(rdh_wait_logs_equal(&c, META, 7));
    rdh_cluster_stop(&c);
}

Test(raftd, groups_on_request, .timeout = 120)
{
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    rdh_wait_leader(&c, META, -1);
    rdh_conn sub;
    cr_assert(rdh_conn_open(&sub, &c.nodes[0]));
    cr_assert(rdh_conn_send(&sub, "{\"op\":\"sub\",\"applies\":true}"));
    for (int i = 0; i < 3; i++)
        json_decref(rdh_req_ok(&c.nodes[i], "{\"op\":\"create\",\"group\":\"S-orders\","
                                            "\"peers\":[\"n1\",\"n2\",\"n3\"]}"));
    json_t *again = rdh_req_ok(&c.nodes[0], "{\"op\":\"create\",\"group\":\"S-orders\","
                                            "\"peers\":[\"n1\",\"n2\",\"n3\"]}");
    cr_assert(json_is_true(json_object_get(again, "exists")));
    json_decref(again);
    int gl = rdh_wait_leader(&c, "S-orders", -1);
    /* The subscriber saw the group's leader change. */
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (bool seen = false; !seen;) {
        cr_assert(rdh_now_ms() < deadline, "no leader event for S-orders");
        json_t *ev = rdh_conn_next(&sub, 1000);
        const char *t = json_string_value(json_object_get(ev, "ev"));
        const char *g = json_string_value(json_object_get(ev, "group"));
        const char *ln = json_string_value(json_object_get(ev, "leader"));
        seen = t && g && ln && !strcmp(t, "leader") && !strcmp(g, "S-orders") &&
               !strcmp(ln, c.nodes[gl].name);
        json_decref(ev);
    }
    char buf[32];
    for (int k = 0; k < 10; k++) {
        snprintf(buf, sizeof(buf), "msg-%d", k);
        rdh_propose_sure(&c.nodes[k % 3], "S-orders", buf);
    }
    json_t *log = rdh_wait_logs_equal(&c, "S-orders", 10);
    expect_events(&sub, "S-orders", log);
    json_decref(log);
    /* Groups come back from disk after a restart of every node. */
    rdh_cluster_stop(&c);
    rdh_conn_close(&sub);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    cr_assert(rdh_conn_open(&sub, &c.nodes[0]));
    rdh_wait_leader(&c, "S-orders", -1);
    rdh_propose_sure(&c.nodes[1], "S-orders", "after-restart");
    json_decref(rdh_wait_logs_equal(&c, "S-orders", 11));
    json_t *gs = rdh_req_ok(&c.nodes[1], "{\"op\":\"groups\"}");
    cr_assert_eq(json_array_size(json_object_get(gs, "groups")), 2);
    json_decref(gs);
    /* The meta group's entries are unaffected. */
    json_t *ml = rdh_wait_logs_equal(&c, META, 0);
    cr_assert_eq(json_array_size(ml), 0);
    json_decref(ml);
    for (int i = 0; i < 3; i++)
        json_decref(rdh_req_ok(&c.nodes[i], "{\"op\":\"remove\",\"group\":\"S-orders\"}"));
    json_t *r = rdh_req(&c.nodes[0], "{\"op\":\"state\",\"group\":\"S-orders\"}");
    cr_assert(r && json_is_false(json_object_get(r, "ok")));
    json_decref(r);
    rdh_conn_close(&sub);
    rdh_cluster_stop(&c);
}

Test(raftd, bootstrap_expected_cluster_size_from_routes, .timeout = 60)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGBootstrapExpectedClusterSize",
                    "routes only: raftd has no gateways");
    static const char *const quick[] = {"--bootstrap_wait", "200", NULL};
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, quick); /* n2 and n3 never start */
    rdh_start(&c.nodes[0]);
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    json_t *st;
    while (!(st = rdh_req(&c.nodes[0], "{\"op\":\"state\",\"group\":\"" META "\"}")) ||
           !json_is_true(json_object_get(st, "ok"))) {
        json_decref(st);
        cr_assert(rdh_now_ms() < deadline, "meta group never bootstrapped");
        rdh_pause_ms(20);
    }
    cr_assert_eq(json_integer_value(json_object_get(st, "cluster_size")), 3,
                 "self + two unresolved routes");
    cr_assert_str_eq(json_string_value(json_object_get(st, "leader")), "",
                     "no quorum, no leader");
    json_decref(st);
    rdh_cluster_stop(&c);
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    return fd;
}

Test(raftd, malformed_frames_and_requests, .timeout = 120)
{
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    /* Garbage, a huge length, a bad hello, and a good hello followed by a bad message. */
    static const uint8_t hello[] = {24, 0, 0, 0, 1, 'R', 'F', 'H', 'I', 1, 4, 'e', 'v', 'i', 'l',
                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t badmsg[] = {9, 0, 0, 0, 2, 6, '_', 'm', 'e', 't', 'a', '_', 1};
    const struct {
        const void *p;
        size_t n;
    } junk[] = {
        {"GET / HTTP/1.1\r\n\r\n", 18},
        {"\xff\xff\xff\xff\x02", 5},
        {"\x05\x00\x00\x00\x01RFHI", 9},
        {"\x00\x00\x00\x00", 4},
    };
    for (int t = 0; t < 4; t++) {
        for (size_t k = 0; k < sizeof(junk) / sizeof(junk[0]); k++) {
            int fd = dial(c.nodes[t % 3].port);
            if (t == 3) {
                if (write(fd, hello, sizeof(hello)) < 0 || write(fd, badmsg, sizeof(badmsg)) < 0) {
                }
            }
            if (write(fd, junk[k].p, junk[k].n) < 0) {
            }
            close(fd);
        }
    }
    /* Control socket: not JSON, not an object, unknown op, missing fields, bad base64. */
    const char *bad[] = {"nonsense", "[1,2]", "{\"op\":\"fly\"}", "{\"op\":\"propose\"}",
                         "{\"op\":\"propose\",\"group\":\"" META "\",\"data\":\"!!\"}",
                         "{\"op\":\"create\",\"group\":\"../x\",\"peers\":[\"n1\"]}",
                         "{\"op\":\"create\",\"group\":\"g\",\"peers\":[]}",
                         "{\"op\":\"remove\",\"group\":\"" META "\"}",
                         "{\"op\":\"state\",\"group\":\"nope\"}"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        json_t *r = rdh_req(&c.nodes[0], "%s", bad[k]);
        cr_assert(r, "no answer to %s", bad[k]);
        cr_assert(json_is_false(json_object_get(r, "ok")), "accepted %s", bad[k]);
        cr_assert(json_is_string(json_object_get(r, "error")));
        json_decref(r);
    }
    for (int i = 0; i < 3; i++)
        cr_assert(rdh_alive(&c.nodes[i]), "%s died", c.nodes[i].name);
    l = rdh_wait_leader(&c, META, -1);
    rdh_propose_sure(&c.nodes[l], META, "still-fine");
    json_decref(rdh_wait_logs_equal(&c, META, 1));
    rdh_cluster_stop(&c);
}

static bool wait_leader_event(rdh_conn *k, const char *group, const char *leader)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    while (rdh_now_ms() < deadline) {
        json_t *ev = rdh_conn_next(k, 1000);
        const char *t = json_string_value(json_object_get(ev, "ev"));
        const char *g = json_string_value(json_object_get(ev, "group"));
        const char *ln = json_string_value(json_object_get(ev, "leader"));
        bool hit = t && g && ln && !strcmp(t, "leader") && !strcmp(g, group) &&
                   !strcmp(ln, leader);
        json_decref(ev);
        if (hit)
            return true;
    }
    return false;
}

Test(raftd, step_down_to_preferred_and_leader_events, .timeout = 120)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGLeaderTransfer",
                    "process level: StepDown with a preferred peer over the control socket");
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    int f = (l + 1) % 3, p = (l + 2) % 3;
    rdh_conn sub;
    cr_assert(rdh_conn_open(&sub, &c.nodes[f]));
    cr_assert(rdh_conn_send(&sub, "{\"op\":\"sub\",\"assignments\":false}"));
    cr_assert(wait_leader_event(&sub, META, c.nodes[l].name), "initial leader event");
    rdh_propose_sure(&c.nodes[l], META, "one");
    json_decref(rdh_wait_logs_equal(&c, META, 1));
    /* Whoever leads now (a stall may have moved leadership) hands over to a node other than
     * the subscriber's, which is killed next. */
    l = rdh_wait_leader(&c, META, -1);
    p = l != f ? 3 - l - f : (l + 1) % 3;
    json_decref(rdh_req_ok(&c.nodes[l], "{\"op\":\"step_down\",\"group\":\"" META
                                        "\",\"preferred\":\"%s\"}", c.nodes[p].name));
    cr_assert(wait_leader_event(&sub, META, c.nodes[p].name), "no leader event for %s",
              c.nodes[p].name);
    /* The failover: a follower's subscriber hears about the leader's successor. */
    rdh_kill9(&c.nodes[p]);
    int l3 = rdh_wait_leader(&c, META, p);
    cr_assert(wait_leader_event(&sub, META, c.nodes[l3].name));
    rdh_conn_close(&sub);
    rdh_cluster_stop(&c);
}

Test(raftd, many_groups_per_process, .timeout = 180)
{
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    rdh_wait_leader(&c, META, -1);
    enum { NG = 24 };
    char g[32], buf[48];
    for (int k = 0; k < NG; k++) {
        snprintf(g, sizeof(g), "G%02d", k);
        /* R3 groups and, every third one, R1 groups living on one node only. */
        for (int i = 0; i < 3; i++) {
            if (k % 3 == 2 && i != k % 3)
                continue;
            if (k % 3 == 2)
                json_decref(rdh_req_ok(&c.nodes[i], "{\"op\":\"create\",\"group\":\"%s\","
                                                    "\"peers\":[\"%s\"]}", g, c.nodes[i].name));
            else
                json_decref(rdh_req_ok(&c.nodes[i], "{\"op\":\"create\",\"group\":\"%s\","
                                                    "\"peers\":[\"n1\",\"n2\",\"n3\"]}", g));
        }
    }
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < NG; k++) {
            snprintf(g, sizeof(g), "G%02d", k);
            snprintf(buf, sizeof(buf), "%s-%d", g, round);
            int via = k % 3 == 2 ? 2 : (k + round) % 3;
            /* A complete leader first (a leader takes forwarded proposals only once its
             * no-op is applied, as Go), then propose as a client does: until applied. */
            if (round == 0 && k % 3 != 2)
                rdh_wait_leader(&c, g, -1);
            rdh_propose_sure(&c.nodes[via], g, buf);
        }
    for (int k = 0; k < NG; k++) {
        if (k % 3 == 2)
            continue;
        snprintf(g, sizeof(g), "G%02d", k);
        json_t *log = rdh_wait_logs_equal(&c, g, 3);
        json_t *uniq = rdh_log_dedup(log);
        cr_assert_eq(json_array_size(uniq), 3, "%s", g);
        json_decref(uniq);
        json_decref(log);
    }
    for (int k = 2; k < NG; k += 3) {
        snprintf(g, sizeof(g), "G%02d", k);
        json_t *r = rdh_req_ok(&c.nodes[2], "{\"op\":\"log\",\"group\":\"%s\"}", g);
        int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
        while (json_array_size(json_object_get(r, "entries")) < 3) {
            json_decref(r);
            cr_assert(rdh_now_ms() < deadline, "R1 group %s", g);
            rdh_pause_ms(20);
            r = rdh_req_ok(&c.nodes[2], "{\"op\":\"log\",\"group\":\"%s\"}", g);
        }
        json_decref(r);
    }
    rdh_cluster_stop(&c);
}

/* Entries far larger than a socket read, and a multi-megabyte snapshot sent in chunks. */
Test(raftd, large_entries_and_chunked_snapshot, .timeout = 180)
{
    static const char *const snap[] = {"--snapshot_threshold", "2", NULL};
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, snap);
    for (int i = 0; i < 3; i++)
        rdh_start(&c.nodes[i]);
    int l = rdh_wait_leader(&c, META, -1);
    int f = (l + 1) % 3;
    rdh_kill9(&c.nodes[f]);
    size_t sz = 1u << 20;
    char *text = malloc(sz + 1);
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < sz; i++)
            text[i] = (char)('a' + (i * 7 + (size_t)k) % 26);
        text[sz] = 0;
        char *b = rdh_b64(text);
        rdh_propose_sure_b64(&c.nodes[l], META, b);
        free(b);
    }
    free(text);
    json_t *log = rdh_wait_logs_equal(&c, META, 4);
    json_t *uniq = rdh_log_dedup(log);
    cr_assert_eq(json_array_size(uniq), 4);
    json_decref(uniq);
    json_decref(log);
    rdh_start(&c.nodes[f]); /* needs the leader's ~4 MB snapshot */
    log = rdh_wait_logs_equal(&c, META, 4);
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e)
    {
        cr_assert_eq(json_string_length(json_object_get(e, "data")), (sz + 2) / 3 * 4);
    }
    json_decref(log);
    rdh_cluster_stop(&c);
}

/* A managed group's client (storaged later): applies entries into its own state, acknowledges
 * them ("applied"), and hands raftd snapshots of that state. */
struct mclient {
    rdh_conn k;
    char state[8192]; /* "e0,e1,..." */
    int64_t last;
    int snaps; /* snapshot events seen */
};

static void mclient_open(struct mclient *m, rdh_node *nd)
{
    memset(m, 0, sizeof(*m));
    cr_assert(rdh_conn_open(&m->k, nd));
    cr_assert(rdh_conn_send(&m->k, "{\"op\":\"sub\",\"applies\":true,\"assignments\":false,"
                                   "\"leaders\":false}"));
}

static char *b64dec(const char *s) /* test payloads: text */
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), o = 0;
    char *out = calloc(1, n + 1);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        acc = acc << 6 | (uint32_t)(strchr(al, s[i]) - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits);
        }
    }
    return out;
}

static bool has_entry(const char *state, const char *e)
{
    size_t n = strlen(e);
    for (const char *p = state; *p;) {
        const char *q = strchr(p, ',');
        size_t l = q ? (size_t)(q - p) : strlen(p);
        if (l == n && !memcmp(p, e, n))
            return true;
        if (!q)
            break;
        p = q + 1;
    }
    return false;
}

/* Read what is there (up to wait_ms), apply it, acknowledge the last index. */
static void mclient_pump(struct mclient *m, int wait_ms)
{
    int64_t before = m->last;
    for (json_t *ev; (ev = rdh_conn_next(&m->k, wait_ms)); json_decref(ev)) {
        wait_ms = 1;
        const char *t = json_string_value(json_object_get(ev, "ev"));
        const char *g = json_string_value(json_object_get(ev, "group"));
        if (!t || !g || strcmp(g, "M1") != 0)
            continue;
        char *d = b64dec(json_string_value(json_object_get(ev, "data")));
        int64_t idx = json_integer_value(json_object_get(ev, "index"));
        if (!strcmp(t, "snapshot")) {
            snprintf(m->state, sizeof(m->state), "%s", d);
            m->last = idx;
            m->snaps++;
        } else if (!strcmp(t, "apply") && idx >= m->last) {
            if (!has_entry(m->state, d)) { /* a retried proposal may be applied twice */
                size_t l = strlen(m->state);
                snprintf(m->state + l, sizeof(m->state) - l, "%s%s", l ? "," : "", d);
            }
            m->last = idx;
        }
        free(d);
    }
    if (m->last > before) {
        char line[128];
        snprintf(line, sizeof(line), "{\"op\":\"applied\",\"group\":\"M1\",\"index\":%lld}",
                 (long long)m->last);
        cr_assert(rdh_conn_send(&m->k, line));
    }
}

static int count_entries(const char *state)
{
    int n = state[0] ? 1 : 0;
    for (const char *p = state; *p; p++)
        n += *p == ',';
    return n;
}

static void pump_until(struct mclient *mc, rdh_cluster *c, int want)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        bool all = true;
        for (int i = 0; i < c->n; i++) {
            if (c->nodes[i].pid <= 0)
                continue;
            mclient_pump(&mc[i], 20);
            all = all && count_entries(mc[i].state) >= want;
        }
        if (all)
            return;
        cr_assert(rdh_now_ms() < deadline, "clients did not reach %d entries", want);
    }
}

static void wait_acked(rdh_node *nd, int64_t index)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        json_t *st = rdh_req_ok(nd, "{\"op\":\"state\",\"group\":\"M1\"}");
        bool done = json_integer_value(json_object_get(st, "acked")) >= index;
        json_decref(st);
        if (done)
            return;
        cr_assert(rdh_now_ms() < deadline, "%s: ack of %lld never arrived", nd->name,
                  (long long)index);
        rdh_pause_ms(10);
    }
}

/* The client's proposal: through nd until every running node's client has applied it
 * (proposed again each RDH_REPROPOSE_MS: one made while leadership changes can be lost,
 * and a new leader takes forwarded proposals only once its clients' acknowledgements let it
 * apply its no-op).  The clients are pumped meanwhile, which is what lets that happen. */
static void mpropose(struct mclient *mc, rdh_cluster *c, int nd, const char *text)
{
    int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
    for (;;) {
        rdh_propose(&c->nodes[nd], "M1", text);
        int64_t again = rdh_now_ms() + RDH_REPROPOSE_MS;
        while (rdh_now_ms() < again) {
            bool all = true;
            for (int i = 0; i < c->n; i++) {
                if (c->nodes[i].pid <= 0)
                    continue;
                mclient_pump(&mc[i], 20);
                all = all && has_entry(mc[i].state, text);
            }
            if (all)
                return;
        }
        cr_assert(rdh_now_ms() < deadline, "%s was never applied everywhere", text);
    }
}

/* Every running node's client snapshots its state at the index it acknowledged (storaged
 * does so on every node), so whichever node leads when the follower returns has compacted
 * its log past the follower's. */
static void msnapshot_all(struct mclient *mc, rdh_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->nodes[i].pid <= 0)
            continue;
        wait_acked(&c->nodes[i], mc[i].last);
        char *b = rdh_b64(mc[i].state);
        int64_t deadline = rdh_now_ms() + RDH_WAIT_MS;
        for (;;) { /* a snapshot is refused while a catchup runs (Go's errCatchupsRunning) */
            json_t *r = rdh_req(&c->nodes[i], "{\"op\":\"snapshot\",\"group\":\"M1\","
                                              "\"data\":\"%s\"}", b);
            bool ok = r && json_is_true(json_object_get(r, "ok"));
            char *txt = r ? json_dumps(r, 0) : NULL;
            json_decref(r);
            if (ok) {
                free(txt);
                break;
            }
            cr_assert(rdh_now_ms() < deadline, "%s: snapshot: %s", c->nodes[i].name,
                      txt ? txt : "no response");
            free(txt);
            rdh_pause_ms(20);
        }
        free(b);
    }
}

Test(raftd, managed_group_client_applies_and_snapshots, .timeout = 180)
{
    GO_TEST_PARTIAL("server/raft_test.go", "TestNRGSnapshotCatchup",
                    "process level, managed group: the client's own snapshot reaches a "
                    "restarted follower");
    rdh_cluster c;
    rdh_cluster_init(&c, 3, false, fast);
    struct mclient mc[3];
    for (int i = 0; i < 3; i++) {
        rdh_start(&c.nodes[i]);
        json_decref(rdh_req_ok(&c.nodes[i], "{\"op\":\"create\",\"group\":\"M1\",\"managed\":true,"
                                            "\"peers\":[\"n1\",\"n2\",\"n3\"]}"));
        mclient_open(&mc[i], &c.nodes[i]);
    }
    int l = rdh_wait_leader(&c, "M1", -1);
    int f = (l + 1) % 3;
    char buf[16];
    for (int k = 0; k < 6; k++) {
        snprintf(buf, sizeof(buf), "e%d", k);
        mpropose(mc, &c, l, buf);
    }
    pump_until(mc, &c, 6);
    cr_assert_str_eq(mc[l].state, "e0,e1,e2,e3,e4,e5");
    cr_assert_str_eq(mc[f].state, mc[l].state);
    json_t *r = rdh_req(&c.nodes[l], "{\"op\":\"applied\",\"group\":\"M1\",\"index\":999}");
    cr_assert(json_is_false(json_object_get(r, "ok")), "ack beyond what was delivered");
    json_decref(r);

    rdh_kill9(&c.nodes[f]);
    rdh_conn_close(&mc[f].k);
    for (int k = 6; k < 12; k++) {
        snprintf(buf, sizeof(buf), "e%d", k);
        mpropose(mc, &c, l, buf);
    }
    pump_until(mc, &c, 12);
    msnapshot_all(mc, &c);
    /* The follower comes back behind the compacted logs: it gets the client's snapshot, and
     * its client ends with the same state. */
    rdh_start(&c.nodes[f]);
    mclient_open(&mc[f], &c.nodes[f]);
    for (int k = 12; k < 14; k++) {
        snprintf(buf, sizeof(buf), "e%d", k);
        mpropose(mc, &c, l, buf);
    }
    pump_until(mc, &c, 14);
    cr_assert_str_eq(mc[f].state, mc[l].state);
    cr_assert_str_eq(mc[l].state, "e0,e1,e2,e3,e4,e5,e6,e7,e8,e9,e10,e11,e12,e13");
    cr_assert_geq(mc[f].snaps, 1, "the restarted follower caught up from the snapshot");
    json_t *st = rdh_req_ok(&c.nodes[f], "{\"op\":\"state\",\"group\":\"M1\"}");
    cr_assert(json_is_true(json_object_get(st, "managed")));
    json_decref(st);
    for (int i = 0; i < 3; i++)
        rdh_conn_close(&mc[i].k);
    rdh_cluster_stop(&c);
}
