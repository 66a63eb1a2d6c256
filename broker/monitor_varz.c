/* /varz and /metrics for the whole node (supervisor process).
 *
 * Ports Go nats-server v2.14.5 monitor.go Varz (createVarz, updateVarzConfigReloadableFields,
 * updateVarzRuntimeFields) and server/pse/pse_linux.go (CPU sampled over about one second,
 * resident memory).  Node-wide here means: message and byte counters and slow consumers summed
 * from the workers' shared slots, connections from the slots' client counts, subscriptions and
 * total/stale connection counts asked from each worker, CPU and memory summed over the
 * supervisor and the workers (/proc).  /metrics is this server's own: the same figures in the
 * Prometheus text format, node-wide and per worker.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "broker/info.h"
#include "broker/monitor_int.h"
#include "broker/node.h"
#include "broker/query.h"
#include "broker/supervisor.h"

/* ---- process usage ------------------------------------------------------------------------- */

/* utime+stime in clock ticks and resident bytes of one process, from /proc/<pid>/stat; the
 * proportional set size from smaps_rollup when available (shared node memory counted once). */
static bool proc_stat(int pid, int64_t *ticks, int64_t *mem) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return false;
    long long v[26] = {0}; /* v[i] is field i of proc(5), from 3 on */
    int field = 2;         /* p points after field 2 (comm) */
    for (char *save = NULL, *t = strtok_r(p + 1, " ", &save); t && field < 25;
         t = strtok_r(NULL, " ", &save))
        v[++field] = strtoll(t, NULL, 10);
    *ticks = v[14] + v[15];                 /* utime, stime */
    *mem = v[24] * sysconf(_SC_PAGESIZE);   /* rss */
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    f = fopen(path, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "Pss:", 4) == 0) {
                *mem = strtoll(line + 4, NULL, 10) * 1024;
                break;
            }
        }
        fclose(f);
    }
    return true;
}

static pthread_mutex_t cpu_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t cpu_last_ticks = -1, cpu_last_ns;
static double cpu_pct;

void mon_proc_usage(double *pcpu, int64_t *mem) {
    int64_t ticks = 0, bytes = 0, t, m;
    if (proc_stat((int)getpid(), &t, &m)) ticks += t, bytes += m;
    const br_node *node = br_supervisor_node();
    for (uint32_t w = 0; node && w < node->shm->nworkers; w++) {
        int pid = atomic_load(&node->shm->workers[w].pid);
        if (pid > 0 && proc_stat(pid, &t, &m)) ticks += t, bytes += m;
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    int64_t now = mon_mono_ns();
    pthread_mutex_lock(&cpu_lock);
    if (cpu_last_ticks < 0) { /* first sample: the average since start */
        int64_t life = mon_wall_ns() - g_mon.start_ns;
        if (life > 0) cpu_pct = (double)ticks / (double)hz * 1e9 / (double)life * 100;
        cpu_last_ticks = ticks;
        cpu_last_ns = now;
    } else if (now - cpu_last_ns >= 1000000000) { /* Go samples once a second */
        int64_t dt = ticks - cpu_last_ticks;
        if (dt < 0) dt = 0; /* a worker died and took its ticks along */
        cpu_pct = (double)dt / (double)hz * 1e9 / (double)(now - cpu_last_ns) * 100;
        cpu_last_ticks = ticks;
        cpu_last_ns = now;
    }
    *pcpu = (double)(int64_t)(cpu_pct * 10) / 10; /* Go keeps tenths of a percent */
    pthread_mutex_unlock(&cpu_lock);
    *mem = bytes;
}

static int num_cpu(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Go tlsCertNotAfter: expiry of the server certificate (first in the file). */
static int64_t cert_not_after_ns(const char *path) {
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return 0;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) return 0;
    struct tm tm;
    int64_t ns = 0;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) ns = (int64_t)timegm(&tm) * 1000000000;
    X509_free(x);
    return ns;
}

/* ---- figures gathered from the workers ----------------------------------------------------- */

typedef struct node_figs {
    uint64_t subs, total_conns, stale;
    uint64_t in_msgs, in_bytes, out_msgs, out_bytes, slow;
    int64_t conns;
} node_figs;

static void add_worker(uint32_t w, json_t *a, void *arg) {
    (void)w;
    node_figs *f = arg;
    f->subs += (uint64_t)json_integer_value(json_object_get(a, "subscriptions"));
    f->total_conns += (uint64_t)json_integer_value(json_object_get(a, "total_connections"));
    f->stale += (uint64_t)json_integer_value(json_object_get(a, "stale_connections"));
}

static void gather(node_figs *f) {
    memset(f, 0, sizeof *f);
    mon_query_all(BR_QUERY_VARZ, NULL, 0, add_worker, f);
    const br_node *node = br_supervisor_node();
    for (uint32_t w = 0; node && w < node->shm->nworkers; w++) {
        const br_worker_slot *s = &node->shm->workers[w];
        f->in_msgs += atomic_load_explicit(&s->in_msgs, memory_order_relaxed);
        f->in_bytes += atomic_load_explicit(&s->in_bytes, memory_order_relaxed);
        f->out_msgs += atomic_load_explicit(&s->out_msgs, memory_order_relaxed);
        f->out_bytes += atomic_load_explicit(&s->out_bytes, memory_order_relaxed);
        f->slow += atomic_load_explicit(&s->slow_consumers, memory_order_relaxed);
        f->conns += atomic_load_explicit(&s->num_clients, memory_order_relaxed);
    }
}

/* ---- /varz --------------------------------------------------------------------------------- */

void mon_varz(const mon_req *r, mon_resp *resp) {
    (void)r;
    double pcpu;
    int64_t mem;
    mon_proc_usage(&pcpu, &mem);
    mon_count_req("/varz");
    node_figs f;
    gather(&f);
    mon_opts_read_lock(); /* a config reload swaps the options */
    const br_options *o = g_mon.opts;
    const br_node *node = br_supervisor_node();
    const br_node_shm *shm = node ? node->shm : NULL;
    int64_t now = mon_wall_ns();
    bool tls_req = o->tls && !o->tls_cfg.allow_non_tls;

    mj_buf b;
    mj_init(&b, "  ");
    mj_obj(&b, NULL);
    mj_str(&b, "server_id", shm ? shm->server_id : "");
    mj_str(&b, "server_name", shm ? shm->server_name : "");
    mj_str(&b, "version", BR_GO_VERSION);
    mj_int(&b, "proto", 1);
    /* git_commit: omitted (empty), as in a Go build without one */
    char gov[64];
    snprintf(gov, sizeof gov, "nats-server-c/%s", NX_VERSION);
    mj_str(&b, "go", gov);
    mj_str(&b, "host", o->host && o->host[0] ? o->host : "0.0.0.0");
    mj_int(&b, "port", shm ? atomic_load(&shm->listen_port) : 0);
    if (o->auth.username || o->auth.token || o->auth.nusers || o->auth.nnkeys)
        mj_bool(&b, "auth_required", true);
    if (tls_req) mj_bool(&b, "tls_required", true);
    if (o->tls && o->tls_cfg.verify) mj_bool(&b, "tls_verify", true);
    mj_int(&b, "max_connections", o->max_connections);
    if (o->max_subs) mj_int(&b, "max_subscriptions", o->max_subs);
    mj_int(&b, "ping_interval", o->ping_interval_ms * 1000000);
    mj_int(&b, "ping_max", o->ping_max);
    mj_str(&b, "http_host", o->http_host && o->http_host[0] ? o->http_host
                            : o->host && o->host[0]          ? o->host
                                                              : "0.0.0.0");
    mj_int(&b, "http_port", o->http_port);
    mj_str(&b, "http_base_path", o->http_base_path ? o->http_base_path : "");
    mj_int(&b, "https_port", o->https_port);
    mj_float(&b, "auth_timeout", (double)o->auth_timeout_ms / 1000.0);
    mj_int(&b, "max_control_line", o->max_control_line);
    mj_int(&b, "max_payload", o->max_payload);
    mj_int(&b, "max_pending", o->max_pending);
    static const char *const empty[] = {"cluster", "gateway", "leaf", "mqtt", "websocket"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        mj_obj(&b, empty[i]);
        mj_obj_end(&b);
    }
    mon_varz_jetstream(&b, o);
    mj_float(&b, "tls_timeout", (double)o->tls_cfg.timeout_ms / 1000.0);
    mj_int(&b, "write_deadline", o->write_deadline_ms * 1000000);
    mj_time(&b, "start", g_mon.start_ns, true);
    mj_time(&b, "now", now, true);
    char up[64];
    mj_uptime(now - g_mon.start_ns, up, sizeof up);
    mj_str(&b, "uptime", up);
    mj_int(&b, "mem", mem);
    mj_int(&b, "cores", num_cpu());
    mj_int(&b, "gomaxprocs", shm ? (int64_t)shm->nworkers : 1);
    mj_float(&b, "cpu", pcpu);
    mj_int(&b, "connections", f.conns);
    mj_uint(&b, "total_connections", f.total_conns);
    mj_int(&b, "routes", 0);
    mj_int(&b, "remotes", 0);
    mj_int(&b, "leafnodes", 0);
    mj_uint(&b, "in_msgs", f.in_msgs);
    mj_uint(&b, "in_bytes", f.in_bytes);
    mj_uint(&b, "in_client_msgs", f.in_msgs);
    mj_uint(&b, "in_client_bytes", f.in_bytes);
    mj_uint(&b, "out_msgs", f.out_msgs);
    mj_uint(&b, "out_bytes", f.out_bytes);
    mj_uint(&b, "out_client_msgs", f.out_msgs);
    mj_uint(&b, "out_client_bytes", f.out_bytes);
    mj_uint(&b, "slow_consumers", f.slow);
    mj_uint(&b, "stale_connections", f.stale);
    mj_int(&b, "stalled_clients", 0);
    mj_uint(&b, "subscriptions", f.subs);
    mon_write_req_stats(&b);
    mj_time(&b, "config_load_time", g_mon.config_ns, true);
    mj_str(&b, "config_digest", g_mon.config_digest);
    mj_obj(&b, "feature_flags"); /* Go's known flags and their defaults */
    mj_bool(&b, "js_ack_fc_v2", false);
    mj_bool(&b, "js_raft_delete_range", false);
    mj_obj_end(&b);
    mj_obj(&b, "slow_consumer_stats");
    mj_uint(&b, "clients", f.slow);
    mj_int(&b, "routes", 0);
    mj_int(&b, "gateways", 0);
    mj_int(&b, "leafs", 0);
    mj_obj_end(&b);
    mj_obj(&b, "stale_connection_stats");
    mj_uint(&b, "clients", f.stale);
    mj_int(&b, "routes", 0);
    mj_int(&b, "gateways", 0);
    mj_int(&b, "leafs", 0);
    mj_obj_end(&b);
    mj_obj(&b, "disk_io_wait_stats");
    mj_int(&b, "waiters", 0);
    mj_int(&b, "waits", 0);
    mj_int(&b, "wait_time", 0);
    mj_int(&b, "max_wait_time", 0);
    mj_obj_end(&b);
    if (o->tls) {
        int64_t na = cert_not_after_ns(o->tls_cfg.cert_file);
        if (na) mj_time(&b, "tls_cert_not_after", na, true);
    }
    mon_opts_read_unlock();
    mj_obj_end(&b);
    mon_resp_json(resp, &b);
}

/* ---- /metrics (Prometheus text exposition format 0.0.4) ------------------------------------ */

static void metric(mj_buf *b, const char *name, const char *type, const char *help) {
    mj_rawf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void mon_metrics(const mon_req *r, mon_resp *resp) {
    (void)r;
    node_figs f;
    gather(&f);
    double pcpu;
    int64_t mem;
    mon_proc_usage(&pcpu, &mem);
    const br_node *node = br_supervisor_node();
    uint32_t nw = node ? node->shm->nworkers : 0;
    mj_buf b;
    mj_init(&b, NULL);
    metric(&b, "nats_info", "gauge", "Server identity; always 1.");
    mj_rawf(&b, "nats_info{server_id=\"%s\",server_name=\"%s\",version=\"%s\"} 1\n",
            node ? node->shm->server_id : "", node ? node->shm->server_name : "", BR_GO_VERSION);
    metric(&b, "nats_uptime_seconds", "gauge", "Seconds since the server started.");
    mj_rawf(&b, "nats_uptime_seconds %.3f\n", (double)(mon_wall_ns() - g_mon.start_ns) / 1e9);
    metric(&b, "nats_connections", "gauge", "Open client connections.");
    mj_rawf(&b, "nats_connections %lld\n", (long long)f.conns);
    metric(&b, "nats_connections_total", "counter", "Client connections accepted since start.");
    mj_rawf(&b, "nats_connections_total %llu\n", (unsigned long long)f.total_conns);
    metric(&b, "nats_subscriptions", "gauge", "Client subscriptions.");
    mj_rawf(&b, "nats_subscriptions %llu\n", (unsigned long long)f.subs);
    static const char *const io[][2] = {
        {"nats_in_msgs_total", "Messages received from clients."},
        {"nats_in_bytes_total", "Payload bytes received from clients."},
        {"nats_out_msgs_total", "Messages delivered to clients."},
        {"nats_out_bytes_total", "Payload bytes delivered to clients."},
        {"nats_slow_consumers_total", "Clients closed as slow consumers."},
    };
    uint64_t vals[5] = {f.in_msgs, f.in_bytes, f.out_msgs, f.out_bytes, f.slow};
    for (int i = 0; i < 5; i++) {
        metric(&b, io[i][0], "counter", io[i][1]);
        mj_rawf(&b, "%s %llu\n", io[i][0], (unsigned long long)vals[i]);
    }
    metric(&b, "nats_stale_connections_total", "counter", "Connections closed as stale.");
    mj_rawf(&b, "nats_stale_connections_total %llu\n", (unsigned long long)f.stale);
    metric(&b, "nats_cpu_percent", "gauge", "CPU use of the node's processes, percent of a core.");
    mj_rawf(&b, "nats_cpu_percent %.1f\n", pcpu);
    metric(&b, "nats_memory_bytes", "gauge", "Memory of the node's processes (PSS).");
    mj_rawf(&b, "nats_memory_bytes %lld\n", (long long)mem);
    metric(&b, "nats_workers", "gauge", "Broker worker processes configured.");
    mj_rawf(&b, "nats_workers %u\n", nw);

    static const struct {
        const char *name, *type, *help;
    } per[] = {
        {"nats_worker_up", "gauge", "1 while the worker process runs."},
        {"nats_worker_connections", "gauge", "Open client connections of the worker."},
        {"nats_worker_in_msgs_total", "counter", "Messages received from the worker's clients."},
        {"nats_worker_in_bytes_total", "counter", "Bytes received from the worker's clients."},
        {"nats_worker_out_msgs_total", "counter", "Messages delivered to the worker's clients."},
        {"nats_worker_out_bytes_total", "counter", "Bytes delivered to the worker's clients."},
        {"nats_worker_slow_consumers_total", "counter", "Slow consumers closed by the worker."},
        {"nats_worker_mesh_dropped_total", "counter",
         "Messages the worker dropped because a peer's ring stayed full."},
        {"nats_worker_restarts_total", "counter", "Times the worker was (re)started, minus one."},
    };
    for (size_t m = 0; m < sizeof per / sizeof per[0]; m++) {
        metric(&b, per[m].name, per[m].type, per[m].help);
        for (uint32_t w = 0; w < nw; w++) {
            const br_worker_slot *s = &node->shm->workers[w];
            uint64_t v = 0;
            switch (m) {
            case 0: v = atomic_load(&s->pid) != 0; break;
            case 1: v = (uint64_t)atomic_load(&s->num_clients); break;
            case 2: v = atomic_load_explicit(&s->in_msgs, memory_order_relaxed); break;
            case 3: v = atomic_load_explicit(&s->in_bytes, memory_order_relaxed); break;
            case 4: v = atomic_load_explicit(&s->out_msgs, memory_order_relaxed); break;
            case 5: v = atomic_load_explicit(&s->out_bytes, memory_order_relaxed); break;
            case 6: v = atomic_load_explicit(&s->slow_consumers, memory_order_relaxed); break;
            case 7: v = atomic_load_explicit(&s->mesh_dropped, memory_order_relaxed); break;
            default: { /* the epoch moves twice per life: start and death */
                uint32_t e = atomic_load(&s->epoch);
                v = e > 1 ? (e - 1) / 2 : 0;
            }
            }
            mj_rawf(&b, "%s{worker=\"%u\"} %llu\n", per[m].name, w, (unsigned long long)v);
        }
    }
    mon_resp_json(resp, &b);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
