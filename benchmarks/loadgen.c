/* loadgen: command line and entry point of the NATS load generator (see loadgen.h and
 * benchmarks/README.md). Modes follow `nats bench`: pub, sub, pubsub (fan-out and N x M),
 * queue, req (request/reply with latency percentiles), plus idle (many idle connections, for
 * memory), and js-pub (JetStream publish with PubAck latency, lg_js.c). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: loadgen MODE [options]\n"
        "modes:\n"
        "  pub      N publishers, no subscribers                (--pub)\n"
        "  sub      M subscribers; publishers are elsewhere     (--sub, --msgs per subscriber)\n"
        "  pubsub   N publishers x M subscribers, each subscriber gets every message\n"
        "           (1 x K is fan-out)                          (--pub, --sub)\n"
        "  queue    N publishers, M subscribers in one queue group (--pub, --sub, --queue)\n"
        "  req      N requesters (one request outstanding each) against M responders in a\n"
        "           queue group, both run here; latency p50/p90/p99/max (--pub, --sub)\n"
        "  idle     open --conns connections (CONNECT+PING, wait PONG) and hold them\n"
        "  js-pub   N publishers into a stream created for the run, each keeping up to\n"
        "           --window PubAcks outstanding (1 = synchronous); ack latency percentiles\n"
        "           (--pub, --stream, --storage)\n"
        "  js-consume  fill a stream with --msgs messages (--pub publishers, --window acks\n"
        "           outstanding), then --sub consumers fetch --batch at a time from one\n"
        "           durable pull consumer with explicit acks; consumed msgs/s\n"
        "options:\n"
        "  -s, --server URL    host:port or nats://host:port (default 127.0.0.1:4222)\n"
        "      --subject S     subject (default bench.loadgen)\n"
        "      --pub N         publishers / requesters (default 1)\n"
        "      --sub M         subscribers / responders (default 1)\n"
        "  -n, --msgs N        messages per publisher or requests per requester (default\n"
        "                      100000; 0 = until --duration)\n"
        "  -d, --duration S    stop publishing after S seconds (with --msgs: whichever first)\n"
        "      --size B        payload bytes, suffix k/m for KiB/MiB (default 128)\n"
        "      --window N      publishers stay at most N messages ahead of the subscribers\n"
        "                      (default: 8 MiB worth; 0 = unbounded, may cause slow consumers)\n"
        "      --flush BYTES   publishers send PING every BYTES (default 512k) ...\n"
        "      --max-pings N   ... with at most N unanswered (default 4)\n"
        "      --queue NAME    queue group (default loadgen)\n"
        "      --grace S       receivers wait S seconds after publishers end (default 5)\n"
        "      --conns N       idle: connections (default 10000)\n"
        "      --hold S        idle: hold them S seconds once all are ready (default 2)\n"
        "      --rss-pid PID   idle: report this process's VmRSS while holding\n"
        "      --json          print only the JSON line\n"
        "      --stream NAME   js: stream name (default LGBENCH)\n"
        "      --storage T     js: file or memory (default file)\n"
        "      --batch N       js-consume: messages per pull request (default 100)\n"
        "      --lat-file PATH req: write every round trip in us, one per line, in request\n"
        "                      order (requester after requester), to look at the tail\n"
        "Output: a human summary, then one JSON line (the last line, starting with '{').\n"
        "Exit status: 0 ok, 1 setup error, 2 usage, 3 run completed with losses or errors.\n");
}

/* "128", "4k", "1m" -> bytes; -1 when malformed. */
static long long parse_bytes(const char *s) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0) return -1;
    if (*end == 'k' || *end == 'K') v <<= 10, end++;
    else if (*end == 'm' || *end == 'M') v <<= 20, end++;
    if (*end == 'b' || *end == 'B') end++;
    return *end ? -1 : v;
}

static int parse_url(const char *url, lg_opts *o) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strrchr(p, '@');  /* user:pass@ is accepted and ignored (no auth here) */
    if (at) p = at + 1;
    const char *host = p, *colon;
    size_t hl;
    if (*p == '[') {  /* [ipv6]:port */
        const char *rb = strchr(p, ']');
        if (!rb) return -1;
        host = p + 1;
        hl = (size_t)(rb - host);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = strrchr(p, ':');
        hl = colon ? (size_t)(colon - p) : strlen(p);
    }
    if (hl == 0 || hl >= sizeof(o->host)) return -1;
    memcpy(o->host, host, hl);
    o->host[hl] = 0;
    snprintf(o->port, sizeof(o->port), "%s", colon && colon[1] ? colon + 1 : "4222");
    char *slash = strchr(o->port, '/');
    if (slash) *slash = 0;
    return 0;
}

static const struct {
    const char *name;
    lg_mode mode;
} modes[] = {
    {"pub", LG_MODE_PUB},     {"sub", LG_MODE_SUB}, {"pubsub", LG_MODE_PUBSUB},
    {"queue", LG_MODE_QUEUE}, {"req", LG_MODE_REQ}, {"idle", LG_MODE_IDLE},
    {"js-pub", LG_MODE_JSPUB}, {"js-consume", LG_MODE_JSCONSUME},
};

int main(int argc, char **argv) {
    lg_opts o = {
        .subject = "bench.loadgen",
        .queue = "loadgen",
        .pubs = 1,
        .subs = 1,
        .msgs = 100000,
        .size = 128,
        .flush_bytes = 512u << 10,
        .max_pings = 4,
        .grace = 5.0,
        .conns = 10000,
        .hold = 2.0,
        .stream = "LGBENCH",
        .storage = "file",
        .batch = 100,
    };
    long long window = -1;
    strcpy(o.host, "127.0.0.1");
    strcpy(o.port, "4222");
    enum { O_SUBJ = 256, O_PUB, O_SUB, O_SIZE, O_WIN, O_FLUSH, O_MAXP, O_QUEUE, O_GRACE,
           O_CONNS, O_HOLD, O_RSS, O_JSON, O_LATF, O_STREAM, O_STORAGE, O_BATCH };
    static const struct option lo[] = {
        {"server", required_argument, 0, 's'}, {"subject", required_argument, 0, O_SUBJ},
        {"pub", required_argument, 0, O_PUB},  {"sub", required_argument, 0, O_SUB},
        {"msgs", required_argument, 0, 'n'},   {"duration", required_argument, 0, 'd'},
        {"size", required_argument, 0, O_SIZE}, {"window", required_argument, 0, O_WIN},
        {"flush", required_argument, 0, O_FLUSH}, {"max-pings", required_argument, 0, O_MAXP},
        {"queue", required_argument, 0, O_QUEUE}, {"grace", required_argument, 0, O_GRACE},
        {"conns", required_argument, 0, O_CONNS}, {"hold", required_argument, 0, O_HOLD},
        {"rss-pid", required_argument, 0, O_RSS}, {"json", no_argument, 0, O_JSON},
        {"lat-file", required_argument, 0, O_LATF},
        {"stream", required_argument, 0, O_STREAM}, {"storage", required_argument, 0, O_STORAGE},
        {"batch", required_argument, 0, O_BATCH},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    int c;
    long long b;
    while ((c = getopt_long(argc, argv, "s:n:d:h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_url(optarg, &o) < 0) {
                fprintf(stderr, "loadgen: bad server URL '%s'\n", optarg);
                return 2;
            }
            break;
        case O_SUBJ: o.subject = optarg; break;
        case O_PUB: o.pubs = atoi(optarg); break;
        case O_SUB: o.subs = atoi(optarg); break;
        case 'n': o.msgs = strtoull(optarg, NULL, 10); break;
        case 'd': o.duration = atof(optarg); break;
        case O_SIZE:
            if ((b = parse_bytes(optarg)) < 0 || b > (64ll << 20)) {
                fprintf(stderr, "loadgen: bad --size '%s' (0..64m)\n", optarg);
                return 2;
            }
            o.size = (size_t)b;
            break;
        case O_WIN: window = strtoll(optarg, NULL, 10); break;
        case O_FLUSH:
            if ((b = parse_bytes(optarg)) <= 0) {
                fprintf(stderr, "loadgen: bad --flush '%s'\n", optarg);
                return 2;
            }
            o.flush_bytes = (size_t)b;
            break;
        case O_MAXP: o.max_pings = atoi(optarg); break;
        case O_QUEUE: o.queue = optarg; break;
        case O_GRACE: o.grace = atof(optarg); break;
        case O_CONNS: o.conns = atoi(optarg); break;
        case O_HOLD: o.hold = atof(optarg); break;
        case O_RSS: o.rss_pid = atoi(optarg); break;
        case O_JSON: o.json_only = true; break;
        case O_LATF: o.lat_file = optarg; break;
        case O_STREAM: o.stream = optarg; break;
        case O_STORAGE: o.storage = optarg; break;
        case O_BATCH: o.batch = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    o.mode_name = argv[optind];
    bool found = false;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (!strcmp(modes[i].name, o.mode_name)) {
            o.mode = modes[i].mode;
            found = true;
        }
    }
    if (!found) {
        fprintf(stderr, "loadgen: unknown mode '%s'\n", o.mode_name);
        usage(stderr);
        return 2;
    }
    if (strlen(o.subject) > 200 || strlen(o.queue) > 200 || !o.subject[0]) {
        fprintf(stderr, "loadgen: subject and queue must be 1..200 characters\n");
        return 2;
    }
    if (o.pubs < 1 || o.subs < 1 || o.conns < 1 || o.max_pings < 1 || o.pubs + o.subs > 10000) {
        fprintf(stderr, "loadgen: --pub, --sub, --conns and --max-pings must be at least 1\n");
        return 2;
    }
    if (o.msgs == 0 && o.duration <= 0 && o.mode != LG_MODE_IDLE) {
        fprintf(stderr, "loadgen: --msgs 0 needs --duration\n");
        return 2;
    }
    /* Enough in flight to keep the server busy through scheduling hiccups on a small
     * machine, far below the 64 MB max_pending at which servers cut a slow consumer off. */
    bool js = o.mode == LG_MODE_JSPUB || o.mode == LG_MODE_JSCONSUME;
    if (window < 0 && js) o.window = 128; /* outstanding PubAcks */
    else if (window < 0) o.window = (8u << 20) / (o.size + strlen(o.subject) + 32);
    else o.window = (uint64_t)window;
    if (o.window && o.window < 2) o.window = 2;
    /* A closed socket must be an error we report, not a silent SIGPIPE death. */
    signal(SIGPIPE, SIG_IGN);

    if (js) {
        if (!o.window) o.window = 1;
        if (o.batch < 1 || o.batch > 10000) {
            fprintf(stderr, "loadgen: --batch must be 1..10000\n");
            return 2;
        }
        if (o.mode == LG_MODE_JSCONSUME && !o.msgs) {
            fprintf(stderr, "loadgen: js-consume needs --msgs\n");
            return 2;
        }
        if (strcmp(o.storage, "file") && strcmp(o.storage, "memory")) {
            fprintf(stderr, "loadgen: --storage must be file or memory\n");
            return 2;
        }
        if (strlen(o.stream) > 200) {
            fprintf(stderr, "loadgen: --stream must be at most 200 characters\n");
            return 2;
        }
        return lg_js_run(&o);
    }
    if (o.mode == LG_MODE_IDLE) {
        lg_idle_result r;
        lg_idle_run(&o, &r);
        return lg_report_idle(&o, &r);
    }
    lg_run run = {.o = &o};
    int rc;
    if (lg_run_clients(&run) < 0) {
        fprintf(stderr, "loadgen: setup failed, nothing measured\n");
        rc = 1;
    } else {
        rc = lg_report(&run);
    }
    for (int i = 0; run.clients && i < run.nclients; i++) free(run.clients[i].lat_ns);
    free(run.clients);
    return rc;
}
