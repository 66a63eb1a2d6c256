/* Consumer configs and state in the LMDB metadata store (storaged/js/js_consumer_store.c over
 * storaged/sd_meta.c), driven through js.h with the consumer suite's harness:
 *  - an acknowledged ack survives a power cut right after its confirmation was published: the
 *    disk image is data.mdb as of the last LMDB commit (LMDB writes pages only at commit, and
 *    its commit returns after fdatasync), the process dies without closing anything;
 *  - acks do not rewrite a file each: N acks in one loop turn are one state record and one
 *    commit, and nothing is written under the stream's obs/ directory;
 *  - obs/<name>/meta.json + meta.sum + o.dat of an older data directory are migrated once;
 *  - snapshots carry the state (restore migrates it back); a damaged store is not fatal;
 *  - with encryption at rest the records are sealed with the stream's key. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "storaged/js/js_consumer_int.h"
#include "storaged/sd_meta.h"
#include "tests/consumer/cons_harness.h"

static int64_t jint(json_t *r, const char *path) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = r;
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, ".")) v = json_object_get(v, tok);
    cr_assert(v, "%s missing in %s", path, json_dumps(r, 0));
    return json_integer_value(v);
}

static void ack_to(h_env *e, h_msg *m, const char *confirm) {
    cr_assert(m && m->reply);
    char *r = strdup(m->reply);
    h_inbound(e, r, confirm, NULL, "+ACK");
    free(r);
}

static void setup(h_env *e, int msgs) {
    h_open(e);
    h_stream(e, "TEST", "[\"foo.>\"]", "file", NULL);
    json_decref(h_consumer(e, "TEST", "dur",
                           "{\"durable_name\":\"dur\",\"ack_policy\":\"explicit\",\"ack_wait\":30000000000}"));
    for (int i = 1; i <= msgs; i++) {
        char d[16];
        snprintf(d, sizeof d, "m%d", i);
        h_pub(e, "foo.a", d);
    }
}

/* --- power loss after confirmed acks ------------------------------------------------------- */

static char g_img[300];
static h_env *g_e;
static size_t g_published_at_commit;

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) _exit(20);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) _exit(21);
    fclose(in);
    fclose(out);
}

static void on_commit(void *arg, const char *dir) {
    (void)arg;
    char p[700];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    copy_file(p, g_img);
    g_published_at_commit = g_e->n;
}

Test(consumer_meta, acks_survive_power_loss) {
    h_env e;
    setup(&e, 5);
    js_server_close(e.js); /* everything so far on disk; no LMDB env across fork */
    e.js = NULL;
    snprintf(g_img, sizeof g_img, "%s.durable.mdb", e.dir);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        h_reopen(&e);
        g_e = &e;
        sd_meta_set_commit_hook(on_commit, NULL);
        char inbox[64];
        snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dur", "{\"batch\":5}"));
        if (h_count(&e, inbox) != 5) _exit(10);
        for (int i = 0; i < 3; i++) {
            char confirm[32];
            snprintf(confirm, sizeof confirm, "_INBOX.confirm.%d", i);
            ack_to(&e, h_nth(&e, inbox, (size_t)i), confirm);
            /* Confirmed, and only after the commit that holds it. */
            if (h_count(&e, confirm) != 1) _exit(11);
            size_t at = 0;
            while (at < e.n && strcmp(e.msgs[at].subj, confirm)) at++;
            if (at < g_published_at_commit) _exit(12);
        }
        kill(getpid(), SIGKILL); /* power cut: no close, no further commit */
        _exit(13);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st), "child exited with %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    /* The disk after the cut: the stream files (synced at the clean close) and data.mdb as
     * of its last durable commit; no lock file. */
    char img_dir[300], cmd[4096];
    snprintf(img_dir, sizeof img_dir, "%s.img", e.dir);
    snprintf(cmd, sizeof cmd, "cp -a %s %s && cp %s %s/jetstream/meta.lmdb/data.mdb && rm -f %s/jetstream/meta.lmdb/lock.mdb",
             e.dir, img_dir, g_img, img_dir, img_dir);
    cr_assert_eq(system(cmd), 0);
    char orig[256];
    snprintf(orig, sizeof orig, "%s", e.dir);
    cr_assert_lt(strlen(img_dir), sizeof e.dir);
    memcpy(e.dir, img_dir, strlen(img_dir) + 1);
    h_reopen(&e);
    json_t *r = h_info(&e, "TEST", "dur");
    cr_assert_null(json_object_get(r, "error"));
    cr_assert_eq(jint(r, "delivered.stream_seq"), 5);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 3);
    cr_assert_eq(jint(r, "num_ack_pending"), 2);
    json_decref(r);
    h_close(&e);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", orig, g_img);
    cr_assert_eq(system(cmd), 0);
}

/* --- acks in a group commit: no file per ack ----------------------------------------------- */

static size_t count_files(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    cr_assert_eq(fscanf(p, "%zu", &n), 1);
    pclose(p);
    return n;
}

Test(consumer_meta, acks_do_not_rewrite_a_file_each) {
    h_env e;
    setup(&e, 200);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dur", "{\"batch\":200}"));
    cr_assert_eq(h_count(&e, inbox), 200);
    char sdir[400];
    snprintf(sdir, sizeof sdir, "%s/jetstream/$G/streams/TEST", e.dir);
    size_t files_before = count_files(sdir);
    cr_assert_gt(files_before, 0);
    uint64_t c0, p0, c1, p1;
    jsc_meta_stats(e.js, &c0, &p0);
    /* 150 acks in one loop turn (drained together), then the group commit. */
    for (size_t i = 0; i < 150; i++) {
        h_msg *m = h_nth(&e, inbox, i);
        js_inmsg im = {.subject = m->reply, .subject_len = strlen(m->reply), .data = (const uint8_t *)"+ACK",
                       .data_len = 4};
        js_server_inbound(e.js, &im);
    }
    js_server_flush(e.js);
    jsc_meta_stats(e.js, &c1, &p1);
    cr_assert_eq(c1 - c0, 1, "commits %llu", (unsigned long long)(c1 - c0));
    cr_assert_eq(p1 - p0, 1, "state records %llu", (unsigned long long)(p1 - p0));
    /* One ack per loop turn: one commit and one record each, still no file. */
    for (size_t i = 150; i < 200; i++) {
        h_msg *m = h_nth(&e, inbox, i);
        char *r = strdup(m->reply);
        h_inbound(&e, r, NULL, NULL, "+ACK");
        free(r);
    }
    uint64_t c2, p2;
    jsc_meta_stats(e.js, &c2, &p2);
    cr_assert_eq(c2 - c1, 50);
    cr_assert_eq(p2 - p1, 50);
    cr_assert_eq(count_files(sdir), files_before);
    char obs[500];
    snprintf(obs, sizeof obs, "%s/obs", sdir);
    struct stat sb;
    cr_assert_neq(stat(obs, &sb), 0, "obs/ exists");
    json_t *r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 200);
    json_decref(r);
    h_reopen(&e);
    r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 200);
    cr_assert_eq(jint(r, "num_ack_pending"), 0);
    json_decref(r);
    h_close(&e);
}

/* --- migration of obs/<name>/ files ------------------------------------------------------------ */

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(consumer_meta, legacy_obs_files_migrated_once) {
    h_env e;
    setup(&e, 4);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dur", "{\"batch\":3}"));
    cr_assert_eq(h_count(&e, inbox), 3);
    ack_to(&e, h_nth(&e, inbox, 0), NULL);
    json_t *before = h_info(&e, "TEST", "dur");
    js_server_close(e.js);
    e.js = NULL;
    /* Turn the records into an older data directory's files. */
    char mdir[400], odir[500], p[600];
    snprintf(mdir, sizeof mdir, "%s/jetstream/meta.lmdb", e.dir);
    snprintf(odir, sizeof odir, "%s/jetstream/$G/streams/TEST/obs", e.dir);
    cr_assert_eq(mkdir(odir, 0750), 0);
    snprintf(odir, sizeof odir, "%s/jetstream/$G/streams/TEST/obs/dur", e.dir);
    cr_assert_eq(mkdir(odir, 0750), 0);
    sd_meta *m;
    char err[256];
    cr_assert_eq(sd_meta_open(mdir, &m, err, sizeof err), 0, "%s", err);
    uint8_t *cfg, *state;
    size_t cl, sl;
    cr_assert_eq(sd_meta_get(m, "c/$G/TEST/dur/cfg", &cfg, &cl), 0);
    cr_assert_eq(sd_meta_get(m, "c/$G/TEST/dur/state", &state, &sl), 0);
    snprintf(p, sizeof p, "%s/meta.json", odir);
    write_file(p, cfg, cl);
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)XXH64(cfg, cl, 0));
    snprintf(p, sizeof p, "%s/meta.sum", odir);
    write_file(p, sum, 16);
    snprintf(p, sizeof p, "%s/o.dat", odir);
    write_file(p, state, sl);
    free(cfg);
    free(state);
    cr_assert_eq(sd_meta_del_prefix(m, "c/"), 2);
    cr_assert_eq(sd_meta_commit(m), 0);
    sd_meta_close(m);

    h_reopen(&e);
    json_t *after = h_info(&e, "TEST", "dur");
    cr_assert_null(json_object_get(after, "error"), "%s", json_dumps(after, 0));
    cr_assert(json_equal(json_object_get(after, "config"), json_object_get(before, "config")));
    cr_assert_eq(jint(after, "delivered.stream_seq"), 3);
    cr_assert_eq(jint(after, "ack_floor.stream_seq"), 1);
    cr_assert_eq(jint(after, "num_ack_pending"), 2);
    json_decref(after);
    struct stat sb;
    cr_assert_neq(stat(odir, &sb), 0, "obs/dur still there");
    /* From LMDB from now on. */
    h_reopen(&e);
    after = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(after, "ack_floor.stream_seq"), 1);
    cr_assert_eq(jint(after, "num_ack_pending"), 2);
    json_decref(after);
    json_decref(before);
    h_close(&e);
}

/* --- snapshots carry the state from LMDB ------------------------------------------------------ */

static void send_raw(h_env *e, const char *subj, const char *reply, const char *data, size_t len) {
    js_inmsg m = {.subject = subj, .subject_len = strlen(subj), .reply = reply,
                  .reply_len = reply ? strlen(reply) : 0, .data = (const uint8_t *)data, .data_len = len};
    js_server_inbound(e->js, &m);
    js_server_flush(e->js);
}

Test(consumer_meta, snapshot_and_restore_keep_consumer_state) {
    h_env e;
    setup(&e, 6);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dur", "{\"batch\":4}"));
    cr_assert_eq(h_count(&e, inbox), 4);
    ack_to(&e, h_nth(&e, inbox, 0), NULL);
    ack_to(&e, h_nth(&e, inbox, 1), NULL);
    ack_to(&e, h_nth(&e, inbox, 3), NULL);
    h_clear(&e);
    json_t *r = h_api(&e, "$JS.API.STREAM.SNAPSHOT.TEST", "{\"deliver_subject\":\"snap.d\"}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    json_decref(r);
    char *ar = NULL;
    size_t len = 0;
    bool end = false;
    for (size_t done = 0, rounds = 0; !end && rounds < 1000; rounds++) {
        size_t n = h_count(&e, "snap.d");
        for (; done < n && !end; done++) {
            h_msg *m = h_nth(&e, "snap.d", done);
            if (m->len == 0) {
                end = true;
                break;
            }
            ar = realloc(ar, len + m->len);
            memcpy(ar + len, m->data, m->len);
            len += m->len;
            if (m->reply) {
                char *rp = strdup(m->reply);
                send_raw(&e, rp, NULL, "", 0);
                free(rp);
            }
        }
        if (!end) h_advance(&e, 10 * H_MS);
    }
    cr_assert(end && len > 0, "snapshot did not finish");
    r = h_api(&e, "$JS.API.STREAM.DELETE.TEST", "");
    json_decref(r);
    r = h_api(&e, "$JS.API.STREAM.RESTORE.TEST",
              "{\"config\":{\"name\":\"TEST\",\"subjects\":[\"foo.>\"],\"storage\":\"file\"},\"state\":{}}");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    char deliver[256];
    snprintf(deliver, sizeof deliver, "%s", json_string_value(json_object_get(r, "deliver_subject")));
    json_decref(r);
    for (size_t off = 0; off < len; off += 4096)
        send_raw(&e, deliver, "_INBOX.rst", ar + off, len - off < 4096 ? len - off : 4096);
    send_raw(&e, deliver, "_INBOX.rst.end", "", 0);
    h_msg *fin = h_last(&e, "_INBOX.rst.end");
    cr_assert(fin);
    cr_assert(!strstr(fin->data, "\"error\""), "%s", fin->data);
    free(ar);
    r = h_info(&e, "TEST", "dur");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    cr_assert_eq(jint(r, "delivered.stream_seq"), 4);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 2);
    cr_assert_eq(jint(r, "num_ack_pending"), 1);
    json_decref(r);
    char obs[400];
    snprintf(obs, sizeof obs, "%s/jetstream/$G/streams/TEST/obs", e.dir);
    struct stat sb;
    cr_assert_neq(stat(obs, &sb), 0, "restored obs/ not migrated");
    h_reopen(&e);
    r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 2);
    cr_assert_eq(jint(r, "num_ack_pending"), 1);
    json_decref(r);
    h_close(&e);
}

/* A damaged metadata store is reported, JetStream keeps running (streams, new consumers). */
Test(consumer_meta, damaged_store_reported_not_fatal) {
    h_env e;
    setup(&e, 3);
    js_server_close(e.js);
    e.js = NULL;
    char p[400];
    snprintf(p, sizeof p, "%s/jetstream/meta.lmdb/data.mdb", e.dir);
    cr_assert_eq(truncate(p, 3000), 0);
    h_reopen(&e);
    json_t *r = h_info(&e, "TEST", "dur");
    cr_assert_eq(jint(r, "error.err_code"), 10014);
    json_decref(r);
    r = h_api(&e, "$JS.API.STREAM.INFO.TEST", "");
    cr_assert_eq(jint(r, "state.messages"), 3);
    json_decref(r);
    json_decref(h_consumer(&e, "TEST", "d2", "{\"durable_name\":\"d2\",\"ack_policy\":\"explicit\"}"));
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "d2", "{\"batch\":3}"));
    cr_assert_eq(h_count(&e, inbox), 3);
    ack_to(&e, h_nth(&e, inbox, 0), "_INBOX.c");
    r = h_info(&e, "TEST", "d2");
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 1);
    json_decref(r);
    h_close(&e);
}

/* --- encryption at rest: the records are sealed with the stream's key ------------------------- */

static void enc_publish(void *ctx, const char *account, const char *subj, size_t subj_len, const char *reply, size_t reply_len,
                        const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t data_len) {
    h_env *e = ctx;
    (void)account;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->msgs = realloc(e->msgs, e->cap * sizeof *e->msgs);
    }
    h_msg *m = &e->msgs[e->n++];
    memset(m, 0, sizeof *m);
    m->subj = strndup(subj, subj_len);
    m->reply = reply_len ? strndup(reply, reply_len) : NULL;
    m->hdr = hdr_len ? strndup((const char *)hdr, hdr_len) : NULL;
    m->hdr_len = hdr_len;
    m->data = malloc(data_len + 1);
    memcpy(m->data, data, data_len);
    m->data[data_len] = 0;
    m->len = data_len;
}
static void enc_publish_as(void *ctx, const char *account, const char *subj, size_t subj_len, const char *shown, size_t shown_len,
                           const char *reply, size_t reply_len, const uint8_t *hdr, size_t hdr_len,
                           const uint8_t *data, size_t data_len) {
    (void)shown, (void)shown_len;
    enc_publish(ctx, account, subj, subj_len, reply, reply_len, hdr, hdr_len, data, data_len);
}
static int64_t enc_now(void *ctx) { return ((h_env *)ctx)->now; }

static void enc_open(h_env *e) {
    js_host host = {.ctx = e, .publish = enc_publish, .publish_as = enc_publish_as, .now_ns = enc_now};
    js_config cfg = {.store_dir = e->dir, .max_memory = -1, .max_store = -1, .server_id = "SRV",
                     .server_name = "srv", .max_payload = 1024 * 1024, .cipher = SD_FS_CIPHER_CHACHAPOLY,
                     .key = "s3cr3t-key-for-the-test"};
    char err[256];
    e->js = js_server_open(&cfg, &host, err, sizeof err);
    cr_assert(e->js, "open: %s", err);
}

static bool file_has(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

Test(consumer_meta, encrypted_stream_seals_records) {
    h_env e;
    h_open(&e);
    js_server_close(e.js);
    enc_open(&e);
    h_stream(&e, "TEST", "[\"foo.>\"]", "file", NULL);
    json_decref(h_consumer(&e, "TEST", "dur",
                           "{\"durable_name\":\"dur\",\"ack_policy\":\"explicit\",\"description\":\"TOPSECRETDESC\"}"));
    for (int i = 0; i < 3; i++) h_pub(&e, "foo.a", "m");
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s", h_pull(&e, "TEST", "dur", "{\"batch\":2}"));
    cr_assert_eq(h_count(&e, inbox), 2);
    ack_to(&e, h_nth(&e, inbox, 0), NULL);
    js_server_close(e.js);
    char p[400];
    snprintf(p, sizeof p, "%s/jetstream/meta.lmdb/data.mdb", e.dir);
    cr_assert(file_has(p, "c/$G/TEST/dur/cfg")); /* keys are plain */
    cr_assert(!file_has(p, "TOPSECRETDESC"), "config stored in the clear");
    cr_assert(!file_has(p, "ack_policy"), "config stored in the clear");
    enc_open(&e);
    json_t *r = h_info(&e, "TEST", "dur");
    cr_assert_null(json_object_get(r, "error"), "%s", json_dumps(r, 0));
    cr_assert_eq(jint(r, "delivered.stream_seq"), 2);
    cr_assert_eq(jint(r, "ack_floor.stream_seq"), 1);
    json_decref(r);
    h_close(&e);
}
