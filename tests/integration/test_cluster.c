/* Clustered JetStream: three nats-server processes with -js, server_name and cluster {} routes
 * to each other elect a JetStream meta leader (raftd's `_meta_` group, forked by each
 * supervisor) and report it as Go nats-server v2.14.5 does in /jsz meta_cluster and /varz
 * jetstream.meta (server/monitor.go MetaClusterInfo); the leader's server is killed and the
 * other two elect a new one; it restarts and rejoins.  raftd killed alone is restarted by the
 * supervisor.  And the start-up errors of server/jetstream.go validateJetStreamOptions and
 * server/opts.go parseCluster.
 *
 * Every wait polls a condition with a deadline; elections use Go's timeouts (4-9 s), so the
 * deadlines are generous.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/conf_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/js_util.h"
#include "tests/integration/monitor_util.h"

#define ELECT_MS 90000 /* bootstrap, pre-vote, elections at Go's 4-9 s, a loaded machine */

/* free_port (conf_util.h): a port for a cluster listener, bound, read and released. */

typedef struct node {
    h_server *s;
    char name[16];
    char store[64];
    int cport;
} node;

static char *cluster_conf(const node *n, const int *cports, int count) {
    char routes[512] = "";
    size_t off = 0;
    for (int i = 0; i < count; i++)
        off += (size_t)snprintf(routes + off, sizeof routes - off,
                                "%s\"nats-route://127.0.0.1:%d\"", i ? ", " : "", cports[i]);
    char *conf = NULL;
    cr_assert(asprintf(&conf,
                       "server_name: %s\n"
                       "jetstream { store_dir: \"%s\" }\n"
                       "cluster {\n  name: \"C1\"\n  listen: \"127.0.0.1:%d\"\n"
                       "  routes: [%s]\n}\n",
                       n->name, n->store, n->cport, routes) > 0);
    return conf;
}

static void start_nodes(node *nodes, int count) {
    int cports[3];
    for (int i = 0; i < count; i++) {
        snprintf(nodes[i].name, sizeof nodes[i].name, "n%d", i + 1);
        snprintf(nodes[i].store, sizeof nodes[i].store, "/tmp/nx-cl-XXXXXX");
        cr_assert_not_null(mkdtemp(nodes[i].store));
        nodes[i].cport = cports[i] = free_port();
    }
    for (int i = 0; i < count; i++) {
        char *conf = cluster_conf(&nodes[i], cports, count);
        nodes[i].s = h_server_start(conf, "-m", "-1", "--workers", "1");
        free(conf);
    }
}

static void stop_nodes(node *nodes, int count) {
    for (int i = 0; i < count; i++) {
        h_server_stop(nodes[i].s);
        rm_tree(nodes[i].store);
    }
}

/* The monitoring port of the node's current process: its own ports file (<name>_<pid>.ports;
 * a killed incarnation leaves its file behind). */
static int node_mon_port(const node *n) {
    char suffix[32];
    snprintf(suffix, sizeof suffix, "_%d.ports", (int)n->s->pid);
    DIR *d = opendir(n->s->dir);
    int port = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (l < sl || strcmp(e->d_name + l - sl, suffix)) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", n->s->dir, e->d_name);
        json_t *j = json_load_file(path, 0, NULL);
        const char *u = json_string_value(json_array_get(json_object_get(j, "monitoring"), 0));
        if (u) port = atoi(strrchr(u, ':') + 1);
        json_decref(j);
    }
    if (d) closedir(d);
    return port;
}

/* /jsz of a running node without asserting (NULL while it cannot answer). */
static json_t *try_jsz(const node *n, const char *path) {
    if (!n->s->pid) return NULL;
    int port = node_mon_port(n);
    http_resp r;
    if (port <= 0 || http_get_raw(port, path, &r) < 0) return NULL;
    json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    free(r.body);
    return j;
}

/* Waits until every running node's /jsz names the same meta leader, a running node other than
 * `not` (NULL: any), with cluster_size 3.  Returns the leader's index. */
static int wait_leader(node *nodes, int count, const char *not) {
    int64_t deadline = h_now_ms() + ELECT_MS;
    char last[512] = "no answer";
    for (;;) {
        char leader[32] = "";
        bool agree = true;
        for (int i = 0; i < count && agree; i++) {
            if (!nodes[i].s->pid) continue;
            json_t *j = try_jsz(&nodes[i], "/jsz");
            json_t *m = j ? json_object_get(j, "meta_cluster") : NULL;
            const char *l = m ? JS(m, "leader") : NULL;
            char *mj = m ? json_dumps(m, JSON_COMPACT) : NULL;
            snprintf(last, sizeof last, "%s: %s", nodes[i].name,
                     mj ? mj : j ? "no meta_cluster" : "no answer");
            free(mj);
            if (!l || JI(m, "cluster_size") != 3 || (leader[0] && strcmp(leader, l)))
                agree = false;
            else
                snprintf(leader, sizeof leader, "%s", l);
            json_decref(j);
        }
        for (int i = 0; agree && i < count; i++)
            if (!strcmp(nodes[i].name, leader) && nodes[i].s->pid &&
                (!not || strcmp(not, leader)))
                return i;
        if (h_now_ms() >= deadline) {
            for (int i = 0; i < count; i++) { /* the story, for the failure report */
                char *log = nodes[i].s->pid ? h_server_log(nodes[i].s) : strdup("(down)");
                size_t n = strlen(log);
                cr_log_error("%s log tail:\n%s", nodes[i].name, log + (n > 4000 ? n - 4000 : 0));
                free(log);
            }
            cr_assert_fail("no agreed meta leader within %d ms (last: %s)", ELECT_MS, last);
        }
        h_pause_ms(100); /* polling interval of the condition */
    }
}

Test(cluster, meta_leader_failover_and_rejoin, .timeout = 400) {
    node nodes[3];
    start_nodes(nodes, 3);
    int li = wait_leader(nodes, 3, NULL);

    /* Go's shapes: the leader lists the other two as replicas, sorted by name; /varz too. */
    json_t *j = try_jsz(&nodes[li], "/jsz");
    cr_assert_not_null(j);
    json_t *m = json_object_get(j, "meta_cluster");
    cr_assert_str_eq(JS(m, "name"), "C1");
    cr_assert_eq(strlen(JS(m, "peer")), 8);
    json_t *reps = json_object_get(m, "replicas");
    cr_assert_eq(json_array_size(reps), 2, "replicas: %s", json_dumps(m, 0));
    cr_assert_lt(strcmp(JS(json_array_get(reps, 0), "name"), JS(json_array_get(reps, 1), "name")),
                 0);
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(reps, i);
        cr_assert_str_neq(JS(r, "name"), nodes[li].name);
        cr_assert_eq(strlen(JS(r, "peer")), 8);
        cr_assert(json_is_integer(json_object_get(r, "active")));
    }
    cr_assert(json_is_object(json_object_get(m, "snapshot")));
    json_decref(j);
    j = try_jsz(&nodes[(li + 1) % 3], "/varz");
    cr_assert_not_null(j);
    json_t *vm = json_object_get(json_object_get(j, "jetstream"), "meta");
    cr_assert_str_eq(JS(vm, "leader"), nodes[li].name);
    cr_assert_null(json_object_get(vm, "replicas"), "only the leader lists replicas");
    json_decref(j);

    /* The leader's whole server dies: the other two elect one of themselves. */
    char old[16];
    snprintf(old, sizeof old, "%s", nodes[li].name);
    h_server_signal(nodes[li].s, SIGKILL);
    cr_assert(h_server_wait_exit(nodes[li].s, 10000));
    int ni = wait_leader(nodes, 3, old);
    cr_assert_neq(ni, li);

    /* It comes back and follows the current leader. */
    h_server_restart(nodes[li].s);
    int64_t deadline = h_now_ms() + ELECT_MS;
    for (;;) {
        int cur = wait_leader(nodes, 3, NULL);
        json_t *rj = try_jsz(&nodes[li], "/jsz");
        const char *l = rj ? JS(json_object_get(rj, "meta_cluster"), "leader") : NULL;
        bool seen = l && !strcmp(l, nodes[cur].name);
        json_decref(rj);
        if (seen) break;
        cr_assert(h_now_ms() < deadline, "restarted %s never saw the leader", old);
        h_pause_ms(100);
    }
    stop_nodes(nodes, 3);
}

/* $JS.API.INFO on a node (its payload, malloc'd; NULL without an answer). */
static char *js_info(const node *n) {
    h_conn *c = h_connect_setup(n->s->port, NULL);
    h_send(c, "SUB _INBOX.info 1\r\nPUB $JS.API.INFO _INBOX.info 0\r\n\r\n");
    h_msg m;
    char *out = h_try_read_msg(c, &m, 2000) ? strdup(m.data) : NULL;
    if (out) h_msg_free(&m);
    h_close(c);
    return out;
}

/* Go jsAccountInfoRequest: a leaderless meta group (for longer than the lost quorum interval)
 * makes $JS.API.INFO answer JSClusterNotAvailErr; with a leader the account info comes back. */
Test(cluster, leaderless_info, .timeout = 400) {
    node nodes[3];
    start_nodes(nodes, 3);
    int li = wait_leader(nodes, 3, NULL);
    char *info = js_info(&nodes[li]);
    cr_assert(info && strstr(info, "account_info_response") && !strstr(info, "\"error\""),
              "%s", info ? info : "(no answer)");
    free(info);
    for (int i = 0; i < 3; i++) /* the leader alone loses its quorum and steps down */
        if (i != li) {
            h_server_signal(nodes[i].s, SIGKILL);
            cr_assert(h_server_wait_exit(nodes[i].s, 10000));
        }
    int64_t deadline = h_now_ms() + ELECT_MS;
    for (;;) {
        info = js_info(&nodes[li]);
        bool refused = info && strstr(info, "\"err_code\":10008") &&
                       strstr(info, "JetStream system temporarily unavailable");
        if (refused) break;
        if (h_now_ms() >= deadline) {
            char *log = h_server_log(nodes[li].s);
            size_t n = strlen(log);
            cr_log_error("survivor log tail:\n%s", log + (n > 3000 ? n - 3000 : 0));
            free(log);
            json_t *jz = try_jsz(&nodes[li], "/jsz");
            char *mj = jz ? json_dumps(json_object_get(jz, "meta_cluster"), 0) : NULL;
            cr_log_error("meta_cluster: %s", mj ? mj : "(none)");
            free(mj);
            json_decref(jz);
            cr_assert_fail("never refused; last: %s", info ? info : "(none)");
        }
        free(info);
        h_pause_ms(200); /* polling interval of the condition */
    }
    free(info);
    json_t *j = try_jsz(&nodes[li], "/jsz");
    cr_assert_not_null(j);
    cr_assert_null(json_object_get(json_object_get(j, "meta_cluster"), "leader"));
    cr_assert_str_eq(JS(json_object_get(j, "meta_cluster"), "peer"), "47DEQpj8");
    json_decref(j);
    stop_nodes(nodes, 3);
}

/* The raftd child of a server (it names itself "nats-raftd"), 0 when there is none. */
static pid_t raftd_pid(const h_server *s) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", s->pid, s->pid);
    FILE *f = fopen(path, "r");
    pid_t found = 0;
    if (f && fgets(buf, sizeof buf, f)) {
        char *save = NULL;
        for (char *tok = strtok_r(buf, " \n", &save); tok && !found;
             tok = strtok_r(NULL, " \n", &save)) {
            char cp[64], comm[64] = "";
            snprintf(cp, sizeof cp, "/proc/%s/comm", tok);
            FILE *c = fopen(cp, "r");
            if (c && fgets(comm, sizeof comm, c) && !strncmp(comm, "nats-raftd", 10))
                found = (pid_t)atol(tok);
            if (c) fclose(c);
        }
    }
    if (f) fclose(f);
    return found;
}

/* A one-server cluster (its only route is itself): raftd killed is restarted by the
 * supervisor and the meta group comes back with the same leader. */
Test(cluster, raftd_restarted_by_supervisor, .timeout = 200) {
    node n = {0};
    snprintf(n.name, sizeof n.name, "solo");
    snprintf(n.store, sizeof n.store, "/tmp/nx-cl-XXXXXX");
    cr_assert_not_null(mkdtemp(n.store));
    n.cport = free_port();
    char *conf = cluster_conf(&n, &n.cport, 1);
    n.s = h_server_start(conf, "-m", "-1", "--workers", "1");
    free(conf);
    int64_t deadline = h_now_ms() + ELECT_MS;
    for (int round = 0; round < 2; round++) {
        for (;;) { /* the meta group of one elects itself */
            json_t *j = try_jsz(&n, "/jsz");
            json_t *m = j ? json_object_get(j, "meta_cluster") : NULL;
            bool ok = m && JS(m, "leader") && !strcmp(JS(m, "leader"), "solo");
            json_decref(j);
            if (ok) break;
            cr_assert(h_now_ms() < deadline, "no meta leader (round %d)", round);
            h_pause_ms(100);
        }
        if (round) break;
        pid_t rp = raftd_pid(n.s);
        cr_assert_gt(rp, 0, "no nats-raftd child");
        cr_assert_eq(kill(rp, SIGKILL), 0);
        h_server_expect_log(n.s, "killed by signal 9; restarting");
        while (raftd_pid(n.s) == 0 || raftd_pid(n.s) == rp) {
            cr_assert(h_now_ms() < deadline, "raftd was not restarted");
            h_pause_ms(50);
        }
        h_server_expect_log(n.s, "Restarting raftd");
    }
    h_server_stop(n.s);
    rm_tree(n.store);
}

/* Go validateJetStreamOptions: clustered JetStream needs server_name and cluster.name. */
Test(cluster, startup_errors) {
    char *dir = tmp_dir();
    static const struct {
        const char *conf, *want;
    } cases[] = {
        {"jetstream: enabled\ncluster { name: C1, listen: \"127.0.0.1:-1\", "
         "routes: [\"nats-route://127.0.0.1:1\"] }\n",
         "nats-server: jetstream cluster requires `server_name` to be set\n"},
        {"server_name: a\njetstream: enabled\ncluster { listen: \"127.0.0.1:-1\", "
         "routes: [\"nats-route://127.0.0.1:1\"] }\n",
         "nats-server: jetstream cluster requires `cluster.name` to be set\n"},
        {"server_name: a\njetstream: enabled\n"
         "cluster {\n  name: C1\n  listen: \"127.0.0.1:XXXX\"\n}\n",
         "nats-server: %F:5:3: could not parse port \"XXXX\"\n\n"},
        {"server_name: a\njetstream: enabled\ncluster {\n  name: C1\n  listen: \"localhost\"\n}\n",
         "nats-server: %F:5:3: could not parse address string \"localhost\"\n\n"},
        {"server_name: a\njetstream: enabled\ncluster {\n  name: \"C 1\"\n  port: -1\n}\n",
         "nats-server: %F:4:3: cluster name cannot contain spaces\n\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = put(dir, "c.conf", cases[i].conf);
        run_out r = RUN(dir, "-c", path, "-a", "127.0.0.1", "-p", "-1");
        char *want = subst(cases[i].want, path);
        const char *tail = strstr(r.err, "nats-server: ");
        cr_expect_eq(r.status, 1, "case %zu: status %d: %s", i, r.status, r.err);
        cr_expect_str_eq(tail ? tail : r.err, want, "case %zu", i);
        free(want);
        run_free(&r);
        free(path);
    }
    rm_dir(dir);
}

/* Without JetStream there is nothing for a cluster to carry here (no route protocol). */
Test(cluster, refused_without_jetstream) {
    char *dir = tmp_dir();
    char *path = put(dir, "c.conf", "cluster { name: C1, listen: \"127.0.0.1:-1\" }\n");
    run_out r = RUN(dir, "-c", path, "-a", "127.0.0.1", "-p", "-1");
    cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "clustering without JetStream (routes) is not supported"), "%s",
              r.err);
    run_free(&r);
    free(path);
    rm_dir(dir);
}

/* The same rules through Go's flags (--cluster URL, --routes, --cluster_name). */
Test(cluster, flags) {
    char *dir = tmp_dir();
    run_out r = RUN(dir, "-js", "-n", "a", "--cluster", "nats://127.0.0.1:-1", "--routes",
                    "nats://127.0.0.1:1", "-a", "127.0.0.1", "-p", "-1");
    const char *tail = strstr(r.err, "nats-server: ");
    cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
    cr_expect_str_eq(tail ? tail : r.err,
                     "nats-server: jetstream cluster requires `cluster.name` to be set\n");
    run_free(&r);
    r = RUN(dir, "-js", "-n", "a", "--cluster_name", "C1", "--cluster", "nats://127.0.0.1:-1",
            "-a", "127.0.0.1", "-p", "-1");
    cr_expect_eq(r.status, 1, "status %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "Can't start JetStream: JetStream cluster requires configured routes "
                            "or solicited leafnode for the system account"),
              "%s", r.err);
    run_free(&r);
    rm_dir(dir);
}
