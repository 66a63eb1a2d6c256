/* loadgen: the report. A human summary in the shape of `nats bench` (per-role and per-client
 * rates, min/avg/max/stddev, aggregate), then losses and errors, then one JSON line (the last
 * line of stdout, starting with '{') for scripts. Rates are measured from the common start
 * (when every client had connected and subscribed) to each client's last message; MB are
 * 10^6 payload bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

typedef struct {
    uint64_t msgs;       /* sum over the clients */
    double elapsed;      /* common start to the last client's end */
    double rate;         /* aggregate msgs/s */
    double min, avg, max, stddev;  /* per-client msgs/s */
    int n;
} group_stats;

static double client_rate(const lg_run *run, const lg_client *c) {
    uint64_t n = atomic_load(&c->count);
    double el = c->t_last - run->t_start;
    return n && el > 0 ? (double)n / el : 0.0;
}

static group_stats group(const lg_run *run, int from, int to) {
    group_stats g = {0};
    double sum = 0, sq = 0;
    for (int i = from; i < to; i++) {
        const lg_client *c = &run->clients[i];
        uint64_t n = atomic_load(&c->count);
        g.msgs += n;
        if (n && c->t_last - run->t_start > g.elapsed) g.elapsed = c->t_last - run->t_start;
        double r = client_rate(run, c);
        if (g.n == 0 || r < g.min) g.min = r;
        if (g.n == 0 || r > g.max) g.max = r;
        sum += r;
        sq += r * r;
        g.n++;
    }
    if (g.n) {
        g.avg = sum / g.n;
        double var = sq / g.n - g.avg * g.avg;
        g.stddev = var > 0 ? sqrt(var) : 0;
    }
    g.rate = g.elapsed > 0 ? (double)g.msgs / g.elapsed : 0;
    return g;
}

/* 1234567 -> "1,234,567" (rates and counts are read by people first). */
static const char *commas(double v, char *buf, size_t len) {
    char raw[40];
    snprintf(raw, sizeof(raw), "%.0f", v);
    size_t rl = strlen(raw), o = 0;
    for (size_t i = 0; i < rl && o + 2 < len; i++) {
        buf[o++] = raw[i];
        size_t left = rl - i - 1;
        if (left && left % 3 == 0 && raw[i] != '-') buf[o++] = ',';
    }
    buf[o] = 0;
    return buf;
}

static void print_group(const lg_run *run, const char *title, int from, int to, bool per) {
    const lg_opts *o = run->o;
    group_stats g = group(run, from, to);
    char a[40], b[40], c[40], d[40];
    printf("%s: %s msgs/sec ~ %.2f MB/sec (%s msgs in %.3f s)\n", title, commas(g.rate, a, 40),
           g.rate * (double)o->size / 1e6, commas((double)g.msgs, b, 40), g.elapsed);
    if (!per) return;
    for (int i = from; i < to; i++) {
        const lg_client *cl = &run->clients[i];
        double r = client_rate(run, cl);
        printf("  [%d] %s msgs/sec ~ %.2f MB/sec (%s msgs)\n", i - from + 1, commas(r, a, 40),
               r * (double)o->size / 1e6, commas((double)atomic_load(&cl->count), b, 40));
    }
    if (to - from > 1)
        printf("  min %s | avg %s | max %s | stddev %s msgs/sec\n", commas(g.min, a, 40),
               commas(g.avg, b, 40), commas(g.max, c, 40), commas(g.stddev, d, 40));
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double q) {
    if (!n) return 0;
    size_t k = (size_t)ceil(q * (double)n);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return (double)v[k - 1] / 1e3;
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

int lg_report(const lg_run *run) {
    const lg_opts *o = run->o;
    int np = run->first_sub, n = run->nclients;
    group_stats pg = group(run, 0, np), sg = group(run, np, n);
    uint64_t pub_sent = atomic_load(&run->pub_sent);
    uint64_t expected = 0, lost = 0, dups = 0;
    /* What the receivers should have got, from what the publishers actually wrote. */
    if (o->mode == LG_MODE_PUBSUB) {
        expected = pub_sent * (uint64_t)(n - np);
        for (int i = np; i < n; i++) {
            uint64_t c = atomic_load(&run->clients[i].count);
            if (c < pub_sent) lost += pub_sent - c;
            else dups += c - pub_sent;
        }
    } else if (o->mode == LG_MODE_QUEUE) {
        expected = pub_sent;
        if (sg.msgs < expected) lost = expected - sg.msgs;
        else dups = sg.msgs - expected;
    } else if (o->mode == LG_MODE_SUB && o->msgs && o->duration <= 0) {
        expected = o->msgs * (uint64_t)(n - np);
        lost = expected > sg.msgs ? expected - sg.msgs : 0;
    }
    int errors = 0;
    for (int i = 0; i < n; i++) errors += run->clients[i].err[0] != 0;

    if (o->mode == LG_MODE_REQ && o->lat_file) {  /* before sorting: keep the time order */
        FILE *f = fopen(o->lat_file, "w");
        if (!f) {
            perror(o->lat_file);
        } else {
            for (int i = 0; i < np; i++)
                for (size_t k = 0; k < run->clients[i].nlat; k++)
                    fprintf(f, "%.1f\n", (double)run->clients[i].lat_ns[k] / 1e3);
            fclose(f);
        }
    }
    /* Request/reply latencies over every requester. */
    size_t nl = 0;
    uint64_t *lat = NULL;
    double lat_sum = 0;
    if (o->mode == LG_MODE_REQ) {
        for (int i = 0; i < np; i++) nl += run->clients[i].nlat;
        lat = malloc((nl ? nl : 1) * sizeof(*lat));
        size_t k = 0;
        for (int i = 0; lat && i < np; i++) {
            memcpy(lat + k, run->clients[i].lat_ns, run->clients[i].nlat * sizeof(*lat));
            k += run->clients[i].nlat;
        }
        if (!lat) nl = 0;
        if (nl) qsort(lat, nl, sizeof(*lat), cmp_u64);
        for (size_t i = 0; i < nl; i++) lat_sum += (double)lat[i];
    }
    double p50 = pct_us(lat, nl, .50), p90 = pct_us(lat, nl, .90), p99 = pct_us(lat, nl, .99);
    double pmax = nl ? (double)lat[nl - 1] / 1e3 : 0, pavg = nl ? lat_sum / (double)nl / 1e3 : 0;
    double elapsed = pg.elapsed > sg.elapsed ? pg.elapsed : sg.elapsed;
    double agg = elapsed > 0 ? (double)(pg.msgs + sg.msgs) / elapsed : 0;

    if (!o->json_only) {
        char a[40], b[40], c[40];
        printf("loadgen %s: %d %s x %d %s, %zu B payload, %s msgs per %s%s, server %s:%s\n",
               o->mode_name, np, o->mode == LG_MODE_REQ ? "requester(s)" : "publisher(s)", n - np,
               o->mode == LG_MODE_REQ ? "responder(s)" : "subscriber(s)", o->size,
               o->msgs ? commas((double)o->msgs, a, 40) : "unlimited",
               o->mode == LG_MODE_SUB ? "subscriber" : "publisher",
               o->duration > 0 ? " (duration-capped)" : "", o->host, o->port);
        if (o->mode == LG_MODE_REQ) {
            print_group(run, "Requests", 0, np, np > 1);
            print_group(run, "Replies sent by responders", np, n, n - np > 1);
            printf("Latency (round trip, %s requests): p50 %.1f us | p90 %.1f us | p99 %.1f us | "
                   "max %.1f us | avg %.1f us\n",
                   commas((double)nl, b, 40), p50, p90, p99, pmax, pavg);
        } else {
            if (np) print_group(run, "Pub stats", 0, np, np > 1);
            if (n - np) print_group(run, "Sub stats", np, n, true);
            if (np && n - np)
                printf("Pub+Sub aggregate: %s msgs/sec ~ %.2f MB/sec\n", commas(agg, a, 40),
                       agg * (double)o->size / 1e6);
        }
        if (expected) {
            if (lost || dups)
                printf("LOSSES: %s of %s expected deliveries missing, %s duplicates\n",
                       commas((double)lost, a, 40), commas((double)expected, b, 40),
                       commas((double)dups, c, 40));
            else
                printf("Losses: none (%s of %s expected deliveries)\n",
                       commas((double)sg.msgs, a, 40), commas((double)expected, b, 40));
        }
        if (atomic_load(&run->window_off))
            printf("Note: flow control gave up waiting after %.1f s without subscriber progress\n",
                   o->grace);
        for (int i = 0; i < n; i++)
            if (run->clients[i].err[0])
                printf("ERROR client %d (%s %d): %s\n", i, i < np ? "publisher" : "receiver",
                       i < np ? i + 1 : i - np + 1, run->clients[i].err);
    }

    printf("{\"tool\":\"loadgen\",\"mode\":\"%s\",\"server\":\"%s:%s\",\"size\":%zu,\"pubs\":%d,"
           "\"subs\":%d,\"msgs\":%llu,\"duration\":%g,\"elapsed_s\":%.6f,",
           o->mode_name, o->host, o->port, o->size, np, n - np, (unsigned long long)o->msgs,
           o->duration, elapsed);
    printf("\"pub_msgs\":%llu,\"pub_msgs_per_sec\":%.1f,\"pub_mb_per_sec\":%.3f,",
           (unsigned long long)pg.msgs, pg.rate, pg.rate * (double)o->size / 1e6);
    printf("\"sub_msgs\":%llu,\"sub_expected\":%llu,\"sub_msgs_per_sec\":%.1f,"
           "\"sub_mb_per_sec\":%.3f,\"agg_msgs_per_sec\":%.1f,\"agg_mb_per_sec\":%.3f,",
           (unsigned long long)sg.msgs, (unsigned long long)expected, sg.rate,
           sg.rate * (double)o->size / 1e6, agg, agg * (double)o->size / 1e6);
    printf("\"lost\":%llu,\"duplicates\":%llu,\"errors\":%d,\"window_gave_up\":%s,",
           (unsigned long long)lost, (unsigned long long)dups, errors,
           atomic_load(&run->window_off) ? "true" : "false");
    printf("\"requests\":%zu,\"lat_p50_us\":%.2f,\"lat_p90_us\":%.2f,\"lat_p99_us\":%.2f,"
           "\"lat_max_us\":%.2f,\"lat_avg_us\":%.2f,",
           nl, p50, p90, p99, pmax, pavg);
    printf("\"clients\":[");
    for (int i = 0; i < n; i++) {
        const lg_client *c = &run->clients[i];
        static const char *roles[] = {"pub", "sub", "req", "resp"};
        printf("%s{\"role\":\"%s\",\"msgs\":%llu,\"msgs_per_sec\":%.1f,\"error\":", i ? "," : "",
               roles[c->role], (unsigned long long)atomic_load(&c->count), client_rate(run, c));
        json_str(c->err);
        printf("}");
    }
    printf("]}\n");
    free(lat);
    return lost || dups || errors ? 3 : 0;
}

int lg_report_idle(const lg_opts *o, const lg_idle_result *r) {
    if (!o->json_only) {
        if (o->rss_pid > 0)
            printf("server pid %d (with its child processes) holding %d connections: VmRSS "
                   "%.1f MiB, Pss %.1f MiB (%.1f KiB RSS per connection, base included)\n",
                   o->rss_pid, r->ready, (double)r->rss_kb / 1024.0, (double)r->pss_kb / 1024.0,
                   r->ready ? (double)r->rss_kb / r->ready : 0.0);
        if (r->err[0]) printf("ERROR: %s\n", r->err);
    }
    printf("{\"tool\":\"loadgen\",\"mode\":\"idle\",\"server\":\"%s:%s\",\"conns\":%d,"
           "\"ready\":%d,\"failed\":%d,\"connect_s\":%.3f,\"rss_kb\":%ld,\"pss_kb\":%ld,"
           "\"errors\":%d,\"error\":",
           o->host, o->port, o->conns, r->ready, r->failed, r->connect_s, r->rss_kb, r->pss_kb,
           r->err[0] ? 1 : 0);
    json_str(r->err);
    printf("}\n");
    return r->ready == o->conns && !r->err[0] ? 0 : 3;
}
