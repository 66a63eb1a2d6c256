/* raftd/rd_opts.c: raftd's options from a NATS config file and the command line.
 *
 * Reads the parts of Go's server/opts.go the consensus process needs: `server_name`,
 * `cluster { name, listen (or host/port), routes [...] }` (parseCluster) and
 * `jetstream { store_dir }` (parseJetStream; Go's default is <tmp>/nats/jetstream).  RAFT
 * state goes under <store_dir>/raft/<group>/.  Flags override the file, as in Go's
 * ConfigureOptions/MergeOptions.  Other keys of the shared config belong to the broker and
 * are ignored here.
 */
#include "raftd/rd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"

static void usage(void)
{
    fprintf(stderr,
            "Usage: nats-raftd [options]\n"
            "  -c, --config <file>            NATS configuration file\n"
            "  -n, --name <name>              server name (Go's server_name; the RAFT peer id\n"
            "                                 is derived from it)\n"
            "      --cluster_name <name>      cluster name (peers must match)\n"
            "      --cluster_listen <h:p>     RAFT transport listener (also --cluster URL)\n"
            "      --routes <url,url>         peers' cluster listeners\n"
            "      --store_dir <dir>          state under <dir>/raft/<group>\n"
            "      --control_socket <path>    Unix control socket (see raftd/README.md)\n"
            "  -l, --log <file>               log file (default: stderr)\n"
            "      --election_timeout <min[,max]>  ms (Go: 4000,9000)\n"
            "      --heartbeat <ms>           (Go: 1000)\n"
            "      --lost_quorum <ms>         (Go: 10000)\n"
            "      --tick <ms>                timer resolution (default 50)\n"
            "      --snapshot_threshold <n>   snapshot every n applied entries (default 8192,\n"
            "                                 0: never)\n"
            "      --max_queue_bytes <n>      per peer output queue bound (default 64MB)\n"
            "      --bootstrap_wait <ms>      a new meta group waits this long for route\n"
            "                                 names (default 5000)\n"
            "  -D, --debug                    debug log (RF_DEBUG=1 for the core's log)\n");
}

static int split_hostport(const char *in, char *host, size_t hlen, int *port)
{
    const char *p = strstr(in, "://");
    if (p)
        in = p + 3;
    const char *at = strrchr(in, '@');
    if (at)
        in = at + 1;
    const char *colon = strrchr(in, ':');
    if (!colon) {
        char *end;
        long v = strtol(in, &end, 10);
        if (*in && !*end) { /* just a port */
            snprintf(host, hlen, "0.0.0.0");
            *port = (int)v;
            return v >= 0 && v < 65536 ? 0 : -1;
        }
        return -1;
    }
    size_t hl = (size_t)(colon - in);
    if (hl >= hlen)
        return -1;
    memcpy(host, in, hl);
    host[hl] = 0;
    if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (!colon[1] || (*end && *end != '/') || v < 0 || v > 65535)
        return -1;
    if (!host[0])
        snprintf(host, hlen, "0.0.0.0");
    *port = (int)v;
    return 0;
}

int rd_parse_hostport(const char *in, char *host, size_t hlen, int *port)
{
    return split_hostport(in, host, hlen, port);
}

static void add_route(struct rd_opts *o, const char *url)
{
    char **r = realloc(o->routes, sizeof(*r) * (size_t)(o->n_routes + 1));
    if (!r)
        abort();
    o->routes = r;
    o->routes[o->n_routes++] = strdup(url);
}

static void clear_routes(struct rd_opts *o)
{
    for (int i = 0; i < o->n_routes; i++)
        free(o->routes[i]);
    free(o->routes);
    o->routes = NULL;
    o->n_routes = 0;
}

static int load_conf(struct rd_opts *o)
{
    char err[512];
    nx_conf_value *root;
    if (nx_conf_parse_file(o->conf_file, &root, err, sizeof(err)) < 0) {
        fprintf(stderr, "nats-raftd: %s\n", err);
        return -1;
    }
    int rc = 0;
    nx_conf_value *v = nx_conf_map_get(root, "server_name");
    if (v && v->type == NX_CONF_STRING)
        snprintf(o->name, sizeof(o->name), "%s", v->u.s.ptr);
    nx_conf_value *cl = nx_conf_map_get(root, "cluster");
    if (cl && cl->type == NX_CONF_MAP) {
        if ((v = nx_conf_map_get(cl, "name")) && v->type == NX_CONF_STRING)
            snprintf(o->cluster_name, sizeof(o->cluster_name), "%s", v->u.s.ptr);
        if ((v = nx_conf_map_get(cl, "host")) && v->type == NX_CONF_STRING)
            snprintf(o->listen_host, sizeof(o->listen_host), "%s", v->u.s.ptr);
        if ((v = nx_conf_map_get(cl, "port")) && v->type == NX_CONF_INT)
            o->listen_port = (int)v->u.i;
        if ((v = nx_conf_map_get(cl, "listen"))) {
            if (v->type == NX_CONF_INT) {
                o->listen_port = (int)v->u.i;
            } else if (v->type != NX_CONF_STRING ||
                       split_hostport(v->u.s.ptr, o->listen_host, sizeof(o->listen_host),
                                      &o->listen_port) < 0) {
                fprintf(stderr, "nats-raftd: %s: bad cluster listen\n", o->conf_file);
                rc = -1;
            }
        }
        if (o->listen_port < 0 && !nx_conf_map_get(cl, "port"))
            o->listen_port = 6222; /* Go's DEFAULT_ROUTE_PORT */
        nx_conf_value *rs = nx_conf_map_get(cl, "routes");
        if (rs && rs->type == NX_CONF_ARRAY) {
            nx_conf_value *it;
            NX_CONF_ARRAY_FOREACH(rs, it, i)
            {
                if (it->type == NX_CONF_STRING)
                    add_route(o, it->u.s.ptr);
            }
        } else if (rs && rs->type == NX_CONF_STRING) {
            add_route(o, rs->u.s.ptr);
        }
    }
    nx_conf_value *js = nx_conf_map_get(root, "jetstream");
    if (js && js->type == NX_CONF_MAP) {
        const char *keys[] = {"store_dir", "store", "storedir"};
        for (size_t k = 0; k < 3; k++)
            if ((v = nx_conf_map_get(js, keys[k])) && v->type == NX_CONF_STRING) {
                /* Go keeps JetStream's files in <store_dir>/jetstream (the meta group in
                 * jetstream/$SYS/_js_); raftd's go to <store_dir>/jetstream/raft, as when
                 * nats-server forks it (broker/supervisor_raftd.c). */
                free(o->store_dir);
                if (asprintf(&o->store_dir, "%s/jetstream", v->u.s.ptr) < 0)
                    abort();
            }
    }
    nx_conf_free(root);
    return rc;
}

static int parse_u64(const char *flag, const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-') {
        fprintf(stderr, "nats-raftd: bad value for %s: %s\n", flag, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_u32(const char *flag, const char *v, uint32_t *out)
{
    uint64_t x = 0;
    if (parse_u64(flag, v, &x) < 0)
        return -1;
    if (x > UINT32_MAX) {
        fprintf(stderr, "nats-raftd: value too large for %s\n", flag);
        return -1;
    }
    *out = (uint32_t)x;
    return 0;
}

int rd_opts_parse(int argc, char **argv, struct rd_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->listen_port = -1;
    o->election_min_ms = 4000;
    o->election_max_ms = 9000;
    o->hb_ms = 1000;
    o->lost_quorum_ms = 10000;
    o->tick_ms = 50;
    o->snapshot_threshold = 8192;
    o->max_queue_bytes = 64ull << 20;
    o->bootstrap_wait_ms = 5000;
    /* First pass: the config file, so that flags can override it. */
    for (int i = 1; i < argc; i++)
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            o->conf_file = strdup(argv[i + 1]);
    if (o->conf_file && load_conf(o) < 0)
        return -1;
    bool routes_flag = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            exit(0);
        }
        if (!strcmp(a, "-D") || !strcmp(a, "--debug")) {
            o->debug = true;
            continue;
        }
        if (i + 1 >= argc || a[0] != '-') {
            fprintf(stderr, "nats-raftd: unknown or incomplete option %s\n", a);
            usage();
            return -1;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            continue;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--name") || !strcmp(a, "--server_name")) {
            snprintf(o->name, sizeof(o->name), "%s", v);
        } else if (!strcmp(a, "--cluster_name")) {
            snprintf(o->cluster_name, sizeof(o->cluster_name), "%s", v);
        } else if (!strcmp(a, "--cluster_listen") || !strcmp(a, "--cluster")) {
            if (split_hostport(v, o->listen_host, sizeof(o->listen_host), &o->listen_port) < 0) {
                fprintf(stderr, "nats-raftd: bad %s %s\n", a, v);
                return -1;
            }
        } else if (!strcmp(a, "--routes")) {
            if (!routes_flag)
                clear_routes(o);
            routes_flag = true;
            char *dup = strdup(v), *save = NULL;
            for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (*t)
                    add_route(o, t);
            free(dup);
        } else if (!strcmp(a, "--store_dir") || !strcmp(a, "-sd")) {
            free(o->store_dir);
            o->store_dir = strdup(v);
        } else if (!strcmp(a, "-l") || !strcmp(a, "--log")) {
            free(o->log_file);
            o->log_file = strdup(v);
        } else if (!strcmp(a, "--control_socket")) {
            free(o->control_socket);
            o->control_socket = strdup(v);
        } else if (!strcmp(a, "--election_timeout")) {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", v);
            char *comma = strchr(buf, ',');
            if (comma)
                *comma = 0;
            if (parse_u32(a, buf, &o->election_min_ms) < 0)
                return -1;
            o->election_max_ms = o->election_min_ms * 2;
            if (comma && parse_u32(a, comma + 1, &o->election_max_ms) < 0)
                return -1;
            if (o->election_min_ms == 0 || o->election_max_ms < o->election_min_ms) {
                fprintf(stderr, "nats-raftd: bad --election_timeout %s\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--heartbeat")) {
            if (parse_u32(a, v, &o->hb_ms) < 0)
                return -1;
        } else if (!strcmp(a, "--lost_quorum")) {
            if (parse_u32(a, v, &o->lost_quorum_ms) < 0)
                return -1;
        } else if (!strcmp(a, "--tick")) {
            if (parse_u32(a, v, &o->tick_ms) < 0 || o->tick_ms == 0)
                return -1;
        } else if (!strcmp(a, "--snapshot_threshold")) {
            if (parse_u64(a, v, &o->snapshot_threshold) < 0)
                return -1;
        } else if (!strcmp(a, "--max_queue_bytes")) {
            if (parse_u64(a, v, &o->max_queue_bytes) < 0)
                return -1;
        } else if (!strcmp(a, "--bootstrap_wait")) {
            if (parse_u32(a, v, &o->bootstrap_wait_ms) < 0)
                return -1;
        } else {
            fprintf(stderr, "nats-raftd: unknown option %s\n", a);
            usage();
            return -1;
        }
    }
    if (!o->name[0]) { /* Go would use its generated server id; ours must be stable */
        char hn[256] = "";
        gethostname(hn, sizeof(hn) - 1);
        for (char *p = hn; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                *p = '_';
        snprintf(o->name, sizeof(o->name), "%s", hn[0] ? hn : "raftd");
    }
    if (!rd_valid_name(o->name)) {
        fprintf(stderr, "nats-raftd: server name %s: use 1-63 of [A-Za-z0-9_.-]\n", o->name);
        return -1;
    }
    if (o->cluster_name[0] && !rd_valid_name(o->cluster_name)) {
        fprintf(stderr, "nats-raftd: bad cluster name %s\n", o->cluster_name);
        return -1;
    }
    if (!o->store_dir) {
        /* Go: <os.TempDir()>/nats/jetstream.  Under systemd (StateDirectory=) the unit's
         * state directory instead: a private /tmp would lose votes and logs on restart. */
        const char *sd = getenv("STATE_DIRECTORY");
        const char *tmp = getenv("TMPDIR");
        char buf[4096];
        if (sd && *sd && !strchr(sd, ':'))
            snprintf(buf, sizeof(buf), "%s/jetstream", sd);
        else
            snprintf(buf, sizeof(buf), "%s/nats/jetstream", tmp && *tmp ? tmp : "/tmp");
        o->store_dir = strdup(buf);
    }
    if (!o->control_socket) {
        /* Where storaged looks for it (broker/options.c br_raftd_socket_path). */
        char sock[4200];
        int n = snprintf(sock, sizeof(sock), "%s/raftd.sock", o->store_dir);
        if (n > 0 && n < 108)
            o->control_socket = strdup(sock);
        else
            fprintf(stderr, "nats-raftd: %s is too long for a Unix socket; no control "
                            "socket (use --control_socket)\n", sock);
    }
    if (o->n_routes && o->listen_port < 0) {
        fprintf(stderr, "nats-raftd: routes need a cluster listener\n");
        return -1;
    }
    if (o->listen_port >= 0 && !o->listen_host[0])
        snprintf(o->listen_host, sizeof(o->listen_host), "0.0.0.0");
    if (o->hb_ms == 0 || o->hb_ms >= o->election_min_ms) {
        fprintf(stderr, "nats-raftd: heartbeat must be below the election timeout\n");
        return -1;
    }
    return 0;
}

void rd_opts_free(struct rd_opts *o)
{
    clear_routes(o);
    free(o->conf_file);
    free(o->store_dir);
    free(o->control_socket);
    free(o->log_file);
}
