/* JetStream through the real processes: nats-server forks storaged (storaged/sd_process.c),
 * which joins the mesh; clients reach it through the broker workers with raw sockets and
 * libnats.  Covers the storaged issue's process part: start with -js, serve the API across
 * workers, restart on its own (SIGKILL) while clients stay connected and serve all stored data
 * again, Go's no-responders status while it is down (systemd deployment, where nothing restarts
 * it), and no acknowledged message lost when it is killed under load.
 */
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>
#include <openssl/evp.h>

#include "tests/integration/harness.h"
#include "tests/integration/js_util.h"
#include "tests/integration/monitor_util.h"

#define HDRS "{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}"

static void skip_if_go(void) {
    if (h_server_is_go()) cr_skip_test("storaged is this server's own process");
}

typedef struct js_env {
    char store[64];
    h_server *s;
} js_env;

static void env_start(js_env *e, const char *workers) {
    snprintf(e->store, sizeof e->store, "/tmp/nx-js-XXXXXX");
    cr_assert_not_null(mkdtemp(e->store));
    e->s = h_server_start(NULL, "-js", "-sd", e->store, "--workers", workers);
    cr_assert(h_server_wait_log(e->s, "Server is ready", H_TIMEOUT_MS));
}

static void env_stop(js_env *e) {
    h_server_stop(e->s);
    rm_tree(e->store);
}

/* ---- raw JetStream requests ------------------------------------------------------------- */

static json_t *request_json(h_conn *c, const char *subj, const char *body) {
    h_msg m;
    js_request(c, subj, body, &m);
    cr_assert(!m.hmsg || m.hdr_len < m.total_len, "no JSON in reply to %s: %s", subj, m.data);
    const char *json = m.hmsg ? m.data + m.hdr_len : m.data;
    json_error_t err;
    json_t *j = json_loads(json, 0, &err);
    cr_assert_not_null(j, "reply to %s is not JSON: %s", subj, json);
    h_msg_free(&m);
    return j;
}

static h_conn *js_conn(const h_server *s) {
    h_conn *c = h_connect_setup(s->port, HDRS);
    h_send(c, "SUB _INBOX.> 99\r\n");
    h_ping(c);
    return c;
}

static void create_stream(h_conn *c, const char *name, const char *subjects) {
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"subjects\":[\"%s\"],\"storage\":\"file\"}",
             name, subjects);
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", name);
    json_t *r = request_json(c, subj, body);
    cr_assert_null(json_object_get(r, "error"), "stream create failed: %s",
                   json_dumps(r, 0));
    cr_assert_str_eq(json_string_value(json_object_get(r, "type")),
                     "io.nats.jetstream.api.v1.stream_create_response");
    json_decref(r);
}

static uint64_t stream_msgs(h_conn *c, const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", name);
    json_t *r = request_json(c, subj, "");
    json_t *state = json_object_get(r, "state");
    cr_assert_not_null(state, "no state in stream info: %s", json_dumps(r, 0));
    uint64_t n = (uint64_t)json_integer_value(json_object_get(state, "messages"));
    json_decref(r);
    return n;
}

/* The payload of stream message seq (MSG.GET, base64-decoded), malloc'd; NULL if missing. */
static char *get_msg(h_conn *c, const char *stream, uint64_t seq) {
    char subj[128], body[64];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.MSG.GET.%s", stream);
    snprintf(body, sizeof body, "{\"seq\":%llu}", (unsigned long long)seq);
    json_t *r = request_json(c, subj, body);
    const char *b64 = json_string_value(json_object_get(json_object_get(r, "message"), "data"));
    char *out = NULL;
    if (b64) {
        size_t n = strlen(b64);
        out = calloc(1, n + 4);
        int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b64, (int)n);
        cr_assert_geq(len, 0);
        while (n > 0 && b64[n - 1] == '=') n--, len--; /* DecodeBlock counts the padding */
        out[len] = '\0';
    }
    json_decref(r);
    return out;
}

/* ---- tests ------------------------------------------------------------------------------ */

Test(jetstream, api_answers_on_every_worker) {
    skip_if_go();
    js_env e;
    env_start(&e, "2");
    h_conn *c[4];
    for (int i = 0; i < 4; i++) c[i] = js_conn(e.s);
    for (int i = 0; i < 4; i++) {
        js_wait_api(c[i]);
        json_t *r = request_json(c[i], "$JS.API.INFO", "");
        cr_assert_str_eq(json_string_value(json_object_get(r, "type")),
                         "io.nats.jetstream.api.v1.account_info_response");
        json_decref(r);
    }
    for (int i = 0; i < 4; i++) h_close(c[i]);
    env_stop(&e);
}

Test(jetstream, libnats_stream_publish_and_get) {
    skip_if_go();
    js_env e;
    env_start(&e, "2");
    h_conn *raw = js_conn(e.s);
    js_wait_api(raw);
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    cr_assert_eq(natsConnection_ConnectTo(&nc, e.s->url), NATS_OK);
    cr_assert_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"orders.>"};
    cfg.Name = "ORDERS";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    cr_assert_eq(js_AddStream(&si, js, &cfg, NULL, &jerr), NATS_OK, "AddStream: %d", jerr);
    cr_assert_str_eq(si->Config->Name, "ORDERS");
    jsStreamInfo_Destroy(si);
    for (int i = 1; i <= 3; i++) {
        char data[16];
        snprintf(data, sizeof data, "order-%d", i);
        jsPubAck *pa = NULL;
        cr_assert_eq(js_Publish(&pa, js, "orders.new", data, (int)strlen(data), NULL, &jerr),
                     NATS_OK, "publish %d: %d", i, jerr);
        cr_assert_str_eq(pa->Stream, "ORDERS");
        cr_assert_eq(pa->Sequence, (uint64_t)i);
        jsPubAck_Destroy(pa);
    }
    natsMsg *m = NULL;
    cr_assert_eq(js_GetMsg(&m, js, "ORDERS", 2, NULL, &jerr), NATS_OK);
    cr_assert_eq(natsMsg_GetDataLength(m), 7);
    cr_assert(!memcmp(natsMsg_GetData(m), "order-2", 7));
    cr_assert_str_eq(natsMsg_GetSubject(m), "orders.new");
    natsMsg_Destroy(m);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    h_close(raw);
    env_stop(&e);
}

Test(jetstream, storaged_restarts_alone_and_serves_its_data_again) {
    skip_if_go();
    js_env e;
    env_start(&e, "2");
    h_conn *c = js_conn(e.s);
    js_wait_api(c);
    create_stream(c, "KEEP", "keep.>");
    for (int i = 0; i < 10; i++) {
        char body[16];
        snprintf(body, sizeof body, "v%d", i);
        json_t *ack = request_json(c, "keep.x", body);
        cr_assert_eq(json_integer_value(json_object_get(ack, "seq")), i + 1);
        json_decref(ack);
    }
    pid_t sd = storaged_pid(e.s);
    cr_assert_gt(sd, 0, "no storaged child process");
    kill(sd, SIGKILL);
    cr_assert(h_server_wait_log(e.s, "Storage daemon", H_TIMEOUT_MS));
    h_ping(c); /* the client's connection is untouched */
    js_wait_api(c);
    cr_assert_neq(storaged_pid(e.s), sd, "storaged was not restarted");
    cr_assert_eq(stream_msgs(c, "KEEP"), 10);
    char *v = get_msg(c, "KEEP", 7);
    cr_assert_str_eq(v, "v6");
    free(v);
    json_t *ack = request_json(c, "keep.x", "after");
    cr_assert_eq(json_integer_value(json_object_get(ack, "seq")), 11);
    json_decref(ack);
    h_close(c);
    env_stop(&e);
}

/* kill -9 while a client publishes with acknowledgements: every acknowledged message is there
 * afterwards, at the sequence its ack named, with its payload. */
Test(jetstream, no_acknowledged_message_lost_when_storaged_is_killed) {
    skip_if_go();
    js_env e;
    env_start(&e, "1");
    h_conn *c = js_conn(e.s);
    js_wait_api(c);
    create_stream(c, "LOAD", "load");
    enum { N = 3000, BATCH = 100 };
    static uint64_t acked_seq[N];
    memset(acked_seq, 0, sizeof acked_seq);
    pid_t sd = storaged_pid(e.s);
    cr_assert_gt(sd, 0);
    int acks = 0;
    for (int b = 0; b < N / BATCH; b++) {
        for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
            h_sendf(c, "PUB load _INBOX.ack.%d %d\r\nm%05d\r\n", i, 6, i);
            if (i == N / 2 + BATCH / 2) kill(sd, SIGKILL); /* mid-batch */
        }
        /* Barrier: a request answered after the batch is answered after all of its acks (one
         * ring, in order); what died in flight with storaged is never answered. */
        for (int64_t deadline = h_now_ms() + 20000;;) {
            cr_assert_lt(h_now_ms(), deadline, "storaged did not come back");
            h_sendf(c, "PUB $JS.API.STREAM.INFO.LOAD _INBOX.done 0\r\n\r\n");
            bool answered = false, replied = false;
            while (!replied) {
                h_msg m;
                /* A barrier sent into a dying storaged gets nothing: send another. */
                if (!h_try_read_msg(c, &m, 1000)) break;
                if (!strncmp(m.subject, "_INBOX.ack.", 11)) {
                    int i = atoi(m.subject + 11);
                    const char *body = m.hmsg ? m.data + m.hdr_len : m.data;
                    json_t *j = json_loads(body, 0, NULL);
                    if (j && json_object_get(j, "seq") && !json_object_get(j, "error")) {
                        cr_assert(i >= 0 && i < N);
                        cr_assert_eq(acked_seq[i], 0, "message %d acked twice", i);
                        acked_seq[i] = (uint64_t)json_integer_value(json_object_get(j, "seq"));
                        acks++;
                    }
                    json_decref(j);
                } else if (!strcmp(m.subject, "_INBOX.done")) {
                    replied = true;
                    answered = !m.hmsg || strncmp(m.data, "NATS/1.0 503", 12) != 0;
                }
                h_msg_free(&m);
            }
            if (answered) break;
            h_pause_ms(20); /* storaged still restarting */
        }
    }
    cr_assert_gt(acks, N / 2, "too few acks (%d) to mean anything", acks);
    for (int i = 0; i < N; i++) {
        if (!acked_seq[i]) continue;
        char want[16];
        snprintf(want, sizeof want, "m%05d", i);
        char *got = get_msg(c, "LOAD", acked_seq[i]);
        cr_assert_not_null(got, "acked message %d (seq %llu) is gone", i,
                           (unsigned long long)acked_seq[i]);
        cr_assert_str_eq(got, want, "seq %llu holds the wrong message",
                         (unsigned long long)acked_seq[i]);
        free(got);
    }
    h_close(c);
    env_stop(&e);
}

/* The systemd deployment: storaged is its own unit (nats-storaged); while it is down nothing
 * restarts it, requests get Go's no-responders status, and started again it serves its data. */
static pid_t spawn_member(const h_server *s, const char *sock, const char *store, int worker) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char port[16], idx[16];
        snprintf(port, sizeof port, "%d", s->port);
        snprintf(idx, sizeof idx, "%d", worker);
        if (worker < 0)
            execl(getenv("NATS_STORAGED_BIN"), "nats-storaged", "-js", "-sd", store,
                  "--node_socket", sock, (char *)NULL);
        else
            execl(getenv("NATS_SERVER_BIN"), "nats-server", "-a", "127.0.0.1", "-p", port, "-js",
                  "-sd", store, "--node_socket", sock, "--worker", idx, (char *)NULL);
        _exit(127);
    }
    return pid;
}

Test(jetstream, systemd_storaged_down_means_no_responders) {
    skip_if_go();
    char store[64], sock[128];
    snprintf(store, sizeof store, "/tmp/nx-js-XXXXXX");
    cr_assert_not_null(mkdtemp(store));
    snprintf(sock, sizeof sock, "/tmp/nx-jsnode-%d.sock", (int)getpid());
    h_server *s = h_server_start(NULL, "-js", "-sd", store, "--workers", "1", "--node_socket",
                                 sock, "-m", "-1");
    int port = mon_port(s);
    cr_assert_gt(port, 0);
    pid_t w0 = spawn_member(s, sock, store, 0);
    pid_t sd = spawn_member(s, sock, store, -1);
    cr_assert(h_server_wait_log(s, "Server is ready", H_TIMEOUT_MS));
    h_conn *c = js_conn(s);
    js_wait_api(c);
    create_stream(c, "UNIT", "unit.>");
    json_t *ack = request_json(c, "unit.a", "hello");
    cr_assert_eq(json_integer_value(json_object_get(ack, "seq")), 1);
    json_decref(ack);

    kill(sd, SIGKILL);
    waitpid(sd, NULL, 0);
    cr_assert(h_server_wait_log(s, "Storage daemon left the node", H_TIMEOUT_MS));
    /* A request the worker forwarded before it noticed may get nothing; then no responders. */
    bool no_responders = false;
    for (int64_t deadline = h_now_ms() + H_TIMEOUT_MS; !no_responders && h_now_ms() < deadline;) {
        h_sendf(c, "PUB $JS.API.STREAM.INFO.UNIT _INBOX.gone 0\r\n\r\n");
        h_msg m;
        if (!h_try_read_msg(c, &m, 500)) continue;
        cr_assert(m.hmsg && !strncmp(m.data, "NATS/1.0 503", 12),
                  "expected no responders, got %s", m.data);
        no_responders = true;
        h_msg_free(&m);
    }
    cr_assert(no_responders, "requests were never answered with no responders");
    char *body = read_body_ex(port, "/healthz", 503, "application/json");
    cr_assert(strstr(body, "\"status\":\"unavailable\"") && strstr(body, "JetStream not enabled"),
              "healthz while storaged is down: %s", body);
    free(body);

    sd = spawn_member(s, sock, store, -1);
    js_wait_api(c);
    cr_assert_eq(stream_msgs(c, "UNIT"), 1);
    char *v = get_msg(c, "UNIT", 1);
    cr_assert_str_eq(v, "hello");
    free(v);
    h_close(c);
    h_server_stop(s);
    cr_assert_eq(waitpid(w0, NULL, 0), w0);
    cr_assert_eq(waitpid(sd, NULL, 0), sd);
    rm_tree(store);
}

/* Monitoring with JetStream on: /jsz and /varz carry storaged's figures and configuration,
 * /healthz is ok; INFO says jetstream. */
Test(jetstream, monitoring_shows_storaged_figures) {
    skip_if_go();
    char store[64];
    snprintf(store, sizeof store, "/tmp/nx-js-XXXXXX");
    cr_assert_not_null(mkdtemp(store));
    srv = h_server_start(NULL, "-js", "-sd", store, "-m", "-1", "--workers", "2");
    mp = mon_port(srv);
    cr_assert_gt(mp, 0);
    h_conn *c = h_connect(srv->port);
    json_t *info = h_read_info(c);
    cr_assert(json_is_true(json_object_get(info, "jetstream")), "INFO lacks jetstream:true");
    json_decref(info);
    h_close(c);
    c = js_conn(srv);
    js_wait_api(c);
    create_stream(c, "MON", "mon.>");
    for (int i = 0; i < 5; i++) json_decref(request_json(c, "mon.x", "12345"));
    json_t *jsz = get_json(mp, "/jsz");
    cr_assert_eq(JI(jsz, "streams"), 1);
    cr_assert_eq(JI(jsz, "messages"), 5);
    cr_assert_gt(JI(jsz, "storage"), 0);
    cr_assert_null(json_object_get(jsz, "disabled"));
    json_t *cfg = json_object_get(jsz, "config");
    char want_dir[128];
    snprintf(want_dir, sizeof want_dir, "%s/jetstream", store);
    cr_assert_str_eq(JS(cfg, "store_dir"), want_dir);
    cr_assert(json_is_true(json_object_get(cfg, "sync_always")));
    cr_assert_eq(JI(json_object_get(jsz, "api"), "level"), 4);
    cr_assert_geq(JI(json_object_get(jsz, "api"), "total"), 2); /* INFO, CREATE */
    json_decref(jsz);
    jsz = get_json(mp, "/jsz?streams=true&config=true");
    json_t *acc = json_array_get(json_object_get(jsz, "account_details"), 0);
    cr_assert_str_eq(JS(acc, "name"), "$G");
    json_t *sd = json_array_get(json_object_get(acc, "stream_detail"), 0);
    cr_assert_str_eq(JS(sd, "name"), "MON");
    cr_assert_eq(JI(json_object_get(sd, "state"), "messages"), 5);
    cr_assert_str_eq(JS(json_object_get(sd, "config"), "name"), "MON");
    json_decref(jsz);
    json_t *varz = get_json(mp, "/varz");
    json_t *vjs = json_object_get(varz, "jetstream");
    cr_assert_str_eq(JS(json_object_get(vjs, "config"), "store_dir"), want_dir);
    cr_assert_gt(JI(json_object_get(vjs, "stats"), "storage"), 0);
    json_decref(varz);
    json_t *hz = get_json(mp, "/healthz");
    cr_assert_str_eq(JS(hz, "status"), "ok");
    json_decref(hz);
    h_close(c);
    h_server_stop(srv);
    rm_tree(store);
}

/* $JS.API.STREAM.SNAPSHOT then RESTORE as `nats stream backup/restore` drive them: chunks
 * with acknowledged replies, a 204 at the end; the restored stream holds the same messages and
 * its durable consumer. */
Test(jetstream, snapshot_and_restore_a_stream) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamSnapshotsAPI",
                    "backup and restore round trip with acks; no Go-format archives");
    skip_if_go();
    js_env e;
    env_start(&e, "1");
    h_conn *c = js_conn(e.s);
    js_wait_api(c);
    create_stream(c, "BAK", "bak.>");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 200; i++) json_decref(request_json(c, i % 2 ? "bak.a" : "bak.b", big));
    json_t *r = request_json(c, "$JS.API.CONSUMER.CREATE.BAK.KEEP",
                             "{\"stream_name\":\"BAK\",\"config\":{\"durable_name\":\"KEEP\","
                             "\"ack_policy\":\"explicit\"}}");
    cr_assert_null(json_object_get(r, "error"));
    json_decref(r);

    /* Backup: small chunks so there are many, each acknowledged. */
    h_send(c, "SUB _SNAP.data 7\r\n");
    h_ping(c);
    r = request_json(c, "$JS.API.STREAM.SNAPSHOT.BAK",
                     "{\"deliver_subject\":\"_SNAP.data\",\"chunk_size\":4096}");
    cr_assert_str_eq(JS(r, "type"), "io.nats.jetstream.api.v1.stream_snapshot_response");
    cr_assert_eq(JI(json_object_get(r, "state"), "messages"), 200);
    json_decref(r);
    size_t cap = 1 << 20, len = 0;
    char *archive = malloc(cap);
    int chunks = 0;
    for (;;) {
        h_msg m;
        cr_assert(h_try_read_msg(c, &m, H_TIMEOUT_MS), "snapshot stalled after %d chunks", chunks);
        cr_assert_str_eq(m.subject, "_SNAP.data");
        long body = m.total_len - (m.hmsg ? m.hdr_len : 0);
        if (body == 0) { /* the end */
            cr_assert(m.hmsg && !strncmp(m.data, "NATS/1.0 204", 12), "end: %s", m.data);
            h_msg_free(&m);
            break;
        }
        while (len + (size_t)body > cap) archive = realloc(archive, cap *= 2);
        memcpy(archive + len, m.data + (m.hmsg ? m.hdr_len : 0), (size_t)body);
        len += (size_t)body;
        chunks++;
        if (m.reply[0]) h_sendf(c, "PUB %s 0\r\n\r\n", m.reply);
        h_msg_free(&m);
    }
    cr_assert_gt(chunks, 3, "expected many chunks, got %d", chunks);

    /* Gone, then back from the archive. */
    r = request_json(c, "$JS.API.STREAM.DELETE.BAK", "");
    cr_assert(json_is_true(json_object_get(r, "success")));
    json_decref(r);
    r = request_json(c, "$JS.API.STREAM.RESTORE.BAK",
                     "{\"config\":{\"name\":\"BAK\",\"subjects\":[\"bak.>\"],\"storage\":\"file\"},"
                     "\"state\":{}}");
    cr_assert_str_eq(JS(r, "type"), "io.nats.jetstream.api.v1.stream_restore_response");
    char deliver[256];
    snprintf(deliver, sizeof deliver, "%s", JS(r, "deliver_subject"));
    json_decref(r);
    for (size_t off = 0; off < len; off += 8192) {
        size_t n = len - off < 8192 ? len - off : 8192;
        h_sendf(c, "PUB %s _INBOX.rst %zu\r\n", deliver, n);
        h_sendn(c, archive + off, n);
        h_send(c, "\r\n");
        h_msg m;
        cr_assert(h_try_read_msg(c, &m, H_TIMEOUT_MS), "restore chunk not acknowledged");
        cr_assert_str_eq(m.subject, "_INBOX.rst");
        cr_assert_eq(m.total_len, 0, "chunk answer: %s", m.data);
        h_msg_free(&m);
    }
    free(archive);
    r = request_json(c, deliver, ""); /* the empty chunk ends it */
    cr_assert_str_eq(JS(r, "type"), "io.nats.jetstream.api.v1.stream_create_response");
    cr_assert_null(json_object_get(r, "error"), "restore: %s", json_dumps(r, 0));
    cr_assert_eq(JI(json_object_get(r, "state"), "messages"), 200);
    json_decref(r);
    cr_assert_eq(stream_msgs(c, "BAK"), 200);
    char *v = get_msg(c, "BAK", 200);
    cr_assert_eq(strlen(v), sizeof big - 1);
    free(v);
    r = request_json(c, "$JS.API.CONSUMER.INFO.BAK.KEEP", "");
    cr_assert_null(json_object_get(r, "error"), "consumer lost: %s", json_dumps(r, 0));
    json_decref(r);
    /* Publishing goes on where the stream left off. */
    json_t *ack = request_json(c, "bak.a", "after");
    cr_assert_eq(json_integer_value(json_object_get(ack, "seq")), 201);
    json_decref(ack);
    h_close(c);
    env_stop(&e);
}

/* Go stream.go update: lowering consumer_limits below what existing consumers use fails with
 * JSStreamUpdateErrF and the consumers' names. */
Test(jetstream, stream_update_refuses_consumer_limits_violations) {
    skip_if_go(); /* consumer_limits arrived after 2.9 */
    js_env e;
    env_start(&e, "1");
    h_conn *c = js_conn(e.s);
    js_wait_api(c);
    create_stream(c, "LIM", "lim.>");
    json_t *r = request_json(c, "$JS.API.CONSUMER.CREATE.LIM.C1",
                             "{\"stream_name\":\"LIM\",\"config\":{\"durable_name\":\"C1\","
                             "\"ack_policy\":\"explicit\",\"max_ack_pending\":500}}");
    cr_assert_null(json_object_get(r, "error"));
    json_decref(r);
    r = request_json(c, "$JS.API.STREAM.UPDATE.LIM",
                     "{\"name\":\"LIM\",\"subjects\":[\"lim.>\"],\"storage\":\"file\","
                     "\"consumer_limits\":{\"max_ack_pending\":10}}");
    json_t *err = json_object_get(r, "error");
    cr_assert_not_null(err, "update accepted: %s", json_dumps(r, 0));
    cr_assert_eq(JI(err, "err_code"), 10069);
    cr_assert_str_eq(JS(err, "description"), "change to limits violates consumers: C1");
    json_decref(r);
    h_close(c);
    env_stop(&e);
}

/* Does any file under dir contain needle? */
static bool tree_contains(const char *dir, const char *needle) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -rqa '%s' '%s'", needle, dir);
    return system(cmd) == 0;
}

/* jetstream { key, cipher }: messages are encrypted on disk, read back with the key after a
 * restart, and a restart with another key does not serve them (Go: encryption at rest). */
Test(jetstream, encryption_at_rest_with_the_configured_key) {
    skip_if_go();
    js_env e;
    snprintf(e.store, sizeof e.store, "/tmp/nx-js-XXXXXX");
    cr_assert_not_null(mkdtemp(e.store));
    char conf[256];
    snprintf(conf, sizeof conf,
             "jetstream {\n  store_dir: \"%s\"\n  key: \"s3cr3t-key\"\n  cipher: \"aes\"\n}\n",
             e.store);
    e.s = h_server_start(conf, "--workers", "1");
    h_conn *c = js_conn(e.s);
    js_wait_api(c);
    create_stream(c, "SEC", "sec.>");
    json_decref(request_json(c, "sec.a", "PLAINTEXT-MARKER-42"));
    cr_assert(!tree_contains(e.store, "PLAINTEXT-MARKER-42"), "the payload is on disk in clear");
    h_close(c);
    h_server_restart(e.s);
    c = js_conn(e.s);
    js_wait_api(c);
    char *v = get_msg(c, "SEC", 1);
    cr_assert_str_eq(v, "PLAINTEXT-MARKER-42");
    free(v);
    h_close(c);
    /* Another key: the stream is not served (and nothing is deleted). */
    h_server_terminate(e.s);
    FILE *f = fopen(e.s->conf_path, "w");
    fprintf(f, "jetstream {\n  store_dir: \"%s\"\n  key: \"another-key\"\n  cipher: \"aes\"\n}\n",
            e.store);
    fclose(f);
    h_server_restart(e.s);
    c = js_conn(e.s);
    js_wait_api(c);
    json_t *r = request_json(c, "$JS.API.STREAM.INFO.SEC", "");
    cr_assert_not_null(json_object_get(r, "error"), "served with the wrong key: %s",
                       json_dumps(r, 0));
    json_decref(r);
    h_close(c);
    env_stop(&e);
}

/* A flipped bit in a stored block: detected at start, reported in the log and in /jsz, the
 * damaged message fenced, everything else served (storaged issue, corruption). */
Test(jetstream, flipped_bit_is_fenced_and_reported) {
    skip_if_go();
    js_env e;
    snprintf(e.store, sizeof e.store, "/tmp/nx-js-XXXXXX");
    cr_assert_not_null(mkdtemp(e.store));
    e.s = h_server_start(NULL, "-js", "-sd", e.store, "--workers", "1", "-m", "-1");
    h_conn *c = js_conn(e.s);
    js_wait_api(c);
    create_stream(c, "BITS", "bits");
    for (int i = 1; i <= 20; i++) {
        char body[64];
        snprintf(body, sizeof body, "payload-%02d-xxxxxxxxxxxxxxxxxxxxxxxx", i);
        json_decref(request_json(c, "bits", body));
    }
    h_close(c);
    h_server_terminate(e.s);
    char blk[256];
    snprintf(blk, sizeof blk, "%s/jetstream/$G/streams/BITS/msgs/00000001.blk", e.store);
    FILE *f = fopen(blk, "r+b");
    cr_assert_not_null(f, "no block file %s", blk);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    char *hit = memmem(buf, n, "payload-10-", 11);
    cr_assert_not_null(hit, "message 10 not found in the block");
    fseek(f, (long)(hit - buf) + 14, SEEK_SET);
    fputc(hit[14] ^ 0x01, f);
    fclose(f);
    h_server_restart(e.s);
    cr_assert(h_server_wait_log(e.s, "recovered with lost data", H_TIMEOUT_MS),
              "the damage was not logged");
    c = js_conn(e.s);
    js_wait_api(c);
    char *v = get_msg(c, "BITS", 9);
    cr_assert_str_eq(v, "payload-09-xxxxxxxxxxxxxxxxxxxxxxxx");
    free(v);
    v = get_msg(c, "BITS", 11);
    cr_assert_str_eq(v, "payload-11-xxxxxxxxxxxxxxxxxxxxxxxx");
    free(v);
    cr_assert_null(get_msg(c, "BITS", 10), "the damaged message was served");
    int port = mon_port(e.s);
    json_t *jsz = get_json(port, "/jsz?streams=true");
    json_t *sd = json_array_get(
        json_object_get(json_array_get(json_object_get(jsz, "account_details"), 0),
                        "stream_detail"),
        0);
    json_t *lost = json_object_get(json_object_get(sd, "state"), "lost");
    cr_assert_not_null(lost, "/jsz does not report the lost data");
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(lost, "msgs"), 0)), 10);
    json_decref(jsz);
    h_close(c);
    env_stop(&e);
}
