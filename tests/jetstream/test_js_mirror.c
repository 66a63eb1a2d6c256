/* Mirrors and sources (storaged/js/js_mirror_cfg.c, js_mirror_sync.c) through js.h with the
 * fake host.  Ports cases of Go nats-server v2.14.5 server/jetstream_test.go. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gotest.h"
#include "js_harness.h"

static jh H;
static void setup(void) { jh_open(&H); }
static void teardown(void) { jh_close(&H); }

TestSuite(js_mirror, .init = setup, .fini = teardown);

static void send_n(const char *subj, int n) {
    for (int i = 0; i < n; i++) {
        json_t *a = jh_pub(&H, subj, NULL, "OK");
        cr_assert(a && !jh_has(a, "error"), "publish on %s failed", subj);
        json_decref(a);
    }
}

static json_t *info(const char *name) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.INFO.%s", name);
    js_server_flush(H.js);
    json_t *r = jh_req(&H, subj, NULL);
    cr_assert_not_null(r);
    return r;
}

static json_int_t state(const char *name, const char *field) {
    json_t *r = info(name);
    char path[64];
    snprintf(path, sizeof path, "state.%s", field);
    json_int_t v = jh_int(r, path);
    json_decref(r);
    return v;
}

static json_t *create(const char *name, const char *cfg) {
    char subj[128];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.CREATE.%s", name);
    return jh_req(&H, subj, cfg);
}

static int create_err(const char *name, const char *cfg) {
    json_t *r = create(name, cfg);
    int code = jh_err_code(r);
    json_decref(r);
    return code;
}

static int b64v(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static char *b64dec(const char *s) {
    size_t n = strlen(s);
    char *o = calloc(1, n + 1);
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64v(s[i]);
        if (v < 0) continue;
        acc = ((acc << 6) | (unsigned)v) & 0xffffffu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    return o;
}

/* MSG.GET seq: subject and the Nats-Stream-Source header value (malloc'd, "" if none). */
static void get_msg(const char *stream, int seq, char *subj, size_t subj_cap, char **src_hdr) {
    char s[128], body[64];
    snprintf(s, sizeof s, "$JS.API.STREAM.MSG.GET.%s", stream);
    snprintf(body, sizeof body, "{\"seq\":%d}", seq);
    json_t *r = jh_req(&H, s, body);
    cr_assert(!jh_has(r, "error"), "get %s %d: %s", stream, seq, jh_str(r, "error.description"));
    snprintf(subj, subj_cap, "%s", jh_str(r, "message.subject"));
    *src_hdr = strdup("");
    const char *h = jh_str(r, "message.hdrs");
    if (h) {
        char *d = b64dec(h);
        char *p = strstr(d, "Nats-Stream-Source: ");
        if (p) {
            p += strlen("Nats-Stream-Source: ");
            char *e = strstr(p, "\r\n");
            free(*src_hdr);
            *src_hdr = strndup(p, e ? (size_t)(e - p) : strlen(p));
        }
        free(d);
    }
    json_decref(r);
}

Test(js_mirror, mirror_basics) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMirrorBasics");
    json_t *r = create("M1", "{\"name\":\"M1\",\"subjects\":[\"foo\",\"bar\",\"baz\"],\"mirror\":{\"name\":\"S1\"}}");
    cr_assert_eq(jh_err_code(r), 10034);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream mirrors can not contain subjects");
    json_decref(r);
    jh_create(&H, "{\"name\":\"S1\",\"subjects\":[\"foo\",\"bar\",\"baz\"]}");
    jh_create(&H, "{\"name\":\"M1\",\"mirror\":{\"name\":\"S1\"}}");
    send_n("foo", 100);
    cr_assert_eq(state("M1", "messages"), 100);

    json_t *p = jh_req(&H, "$JS.API.STREAM.PURGE.S1", NULL);
    json_decref(p);
    send_n("bar", 50);
    jh_create(&H, "{\"name\":\"M2\",\"storage\":\"file\",\"mirror\":{\"name\":\"S1\"}}");
    cr_assert_eq(state("M2", "messages"), 50);
    cr_assert_eq(state("M2", "first_seq"), 101);

    send_n("baz", 100);
    jh_create(&H, "{\"name\":\"M3\",\"mirror\":{\"name\":\"S1\",\"opt_start_seq\":150}}");
    cr_assert_eq(state("M3", "messages"), 101);
    cr_assert_eq(state("M3", "first_seq"), 150);

    /* 2 hours before the fake clock */
    jh_create(&H, "{\"name\":\"M4\",\"mirror\":{\"name\":\"S1\",\"opt_start_time\":\"2025-12-31T22:00:00Z\"}}");
    cr_assert_eq(state("M4", "messages"), 150);
    cr_assert_eq(state("M4", "first_seq"), 101);

    cr_assert_eq(create_err("MBAD", "{\"name\":\"MBAD\",\"mirror\":{\"name\":\"S1\",\"filter_subject\":\"foo\","
                                    "\"subject_transforms\":[{\"src\":\"foo\",\"dest\":\"foo3\"}]}}"),
                 10150);
    cr_assert_eq(create_err("MBAD", "{\"name\":\"MBAD\",\"mirror\":{\"name\":\"S1\","
                                    "\"subject_transforms\":[{\"src\":\".*.\",\"dest\":\"foo3\"}]}}"),
                 10151);
    cr_assert_eq(create_err("MBAD", "{\"name\":\"MBAD\",\"mirror\":{\"name\":\"S1\","
                                    "\"subject_transforms\":[{\"src\":\"*\",\"dest\":\"{{wildcard(2)}}\"}]}}"),
                 10154);
    cr_assert_eq(create_err("MBAD", "{\"name\":\"MBAD\",\"mirror\":{\"name\":\"S1\",\"subject_transforms\":"
                                    "[{\"src\":\"foo\",\"dest\":\"\"},{\"src\":\"foo\",\"dest\":\"bar\"}]}}"),
                 10152);
    jh_create(&H, "{\"name\":\"M5\",\"mirror\":{\"name\":\"S1\",\"subject_transforms\":[{\"src\":\"foo\",\"dest\":\"foo2\"}]}}");
    jh_create(&H, "{\"name\":\"M6\",\"mirror\":{\"name\":\"S1\",\"subject_transforms\":"
                  "[{\"src\":\"bar\",\"dest\":\"bar2\"},{\"src\":\"baz\",\"dest\":\"baz2\"}]}}");
    send_n("foo", 100);
    js_server_flush(H.js);
    r = jh_req(&H, "$JS.API.STREAM.INFO.M5", "{\"subjects_filter\":\"foo2\"}");
    cr_assert_eq(jh_int(r, "state.subjects.foo2"), 100);
    cr_assert_eq(jh_int(r, "state.messages"), 100);
    cr_assert_eq(jh_int(r, "state.first_seq"), 251);
    cr_assert_eq(jh_int(r, "state.last_seq"), 350);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.INFO.M6", "{\"subjects_filter\":\">\"}");
    cr_assert_eq(jh_int(r, "state.subjects.bar2"), 50);
    cr_assert_eq(jh_int(r, "state.subjects.baz2"), 100);
    cr_assert_eq(jh_int(r, "state.messages"), 150);
    cr_assert_eq(jh_int(r, "state.first_seq"), 101);
    cr_assert_eq(jh_int(r, "state.last_seq"), 250);
    json_decref(r);
}

Test(js_mirror, mirror_info_and_config) {
    jh_create(&H, "{\"name\":\"O\",\"subjects\":[\"o.>\"],\"allow_direct\":true}");
    json_t *r = create("M", "{\"name\":\"M\",\"mirror\":{\"name\":\"O\",\"opt_start_seq\":0,\"filter_subject\":\"o.a\"}}");
    cr_assert(!jh_has(r, "error"));
    /* normalised as Go re-encodes it; mirror_direct inherited from the origin */
    char *m = json_dumps(json_object_get(json_object_get(r, "config"), "mirror"), JSON_COMPACT);
    cr_assert_str_eq(m, "{\"name\":\"O\",\"filter_subject\":\"o.a\"}");
    free(m);
    cr_assert(json_is_true(json_object_get(json_object_get(r, "config"), "mirror_direct")));
    cr_assert(!jh_has(r, "config.subjects"));
    json_decref(r);
    send_n("o.a", 2);
    send_n("o.b", 1);
    send_n("o.a", 1);
    r = info("M");
    cr_assert_str_eq(jh_str(r, "mirror.name"), "O");
    cr_assert_eq(jh_int(r, "mirror.lag"), 0);
    cr_assert_eq(jh_int(r, "mirror.active"), 0);
    cr_assert_str_eq(jh_str(r, "mirror.filter_subject"), "o.a");
    cr_assert(!jh_has(r, "mirror.error"));
    /* the mirror keeps the origin's sequences: 3 is skipped */
    cr_assert_eq(jh_int(r, "state.messages"), 3);
    cr_assert_eq(jh_int(r, "state.first_seq"), 1);
    cr_assert_eq(jh_int(r, "state.last_seq"), 4);
    cr_assert_eq(jh_int(r, "state.num_deleted"), 1);
    json_decref(r);
    /* origin missing: the error is Go's consumer create error */
    jh_create(&H, "{\"name\":\"M2\",\"mirror\":{\"name\":\"NOPE\"}}");
    r = info("M2");
    cr_assert_eq(jh_int(r, "mirror.error.err_code"), 10059);
    cr_assert_eq(jh_int(r, "mirror.active"), -1);
    json_decref(r);
    /* deleted origin messages are skipped in the mirror */
    json_t *d = jh_req(&H, "$JS.API.STREAM.MSG.DELETE.O", "{\"seq\":4}");
    json_decref(d);
    send_n("o.a", 1);
    cr_assert_eq(state("M", "last_seq"), 5);
    cr_assert_eq(state("M", "messages"), 4); /* 4 was copied before its deletion */
}

Test(js_mirror, mirror_update_and_publish) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMirrorUpdatePreventsSubjects");
    GO_TEST("server/jetstream_test.go", "TestJetStreamMirrorUpdatesNotSupported");
    jh_create(&H, "{\"name\":\"ORIGINAL\"}");
    jh_create(&H, "{\"name\":\"MIRROR\",\"mirror\":{\"name\":\"ORIGINAL\"}}");
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.MIRROR",
                       "{\"name\":\"MIRROR\",\"mirror\":{\"name\":\"ORIGINAL\"},\"subjects\":[\"x\"]}");
    cr_assert_str_eq(jh_str(r, "error.description"), "stream mirrors can not contain subjects");
    json_decref(r);
    jh_create(&H, "{\"name\":\"OTHER\"}");
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.MIRROR", "{\"name\":\"MIRROR\",\"mirror\":{\"name\":\"OTHER\"}}");
    cr_assert_eq(jh_err_code(r), 10055);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream mirror configuration can not be updated");
    json_decref(r);
    /* promotion: removing the mirror turns it into a normal stream */
    send_n("ORIGINAL", 3);
    cr_assert_eq(state("MIRROR", "messages"), 3);
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.MIRROR", "{\"name\":\"MIRROR\",\"subjects\":[\"m\"]}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    cr_assert(!jh_has(r, "mirror"));
    json_decref(r);
    send_n("ORIGINAL", 1);
    send_n("m", 1);
    cr_assert_eq(state("MIRROR", "messages"), 4);
    cr_assert_eq(state("MIRROR", "last_seq"), 4);
}

Test(js_mirror, mirror_first_seq_and_checks) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMirrorFirstSeqNotSupported");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s\"],\"max_msg_size\":100}");
    json_t *r = create("M", "{\"name\":\"M\",\"mirror\":{\"name\":\"S\"},\"first_seq\":10}");
    cr_assert_eq(jh_err_code(r), 10143);
    cr_assert_str_eq(jh_str(r, "error.description"), "stream mirrors can not have first sequence configured");
    json_decref(r);
    cr_assert_eq(create_err("M", "{\"name\":\"M\",\"mirror\":{\"name\":\"S\"},\"sources\":[{\"name\":\"S\"}]}"), 10031);
    cr_assert_eq(create_err("M", "{\"name\":\"M\",\"mirror\":{\"name\":\"S\"},\"max_msg_size\":10}"), 10030);
    cr_assert_eq(create_err("M", "{\"name\":\"M\",\"mirror\":{\"name\":\"S.x\"}}"), 10142);
    cr_assert_eq(create_err("M", "{\"name\":\"M\",\"mirror\":{\"name\":\"S\"},\"allow_msg_counter\":true}"), 10173);
    /* cycle through a mirror */
    jh_create(&H, "{\"name\":\"A\",\"subjects\":[\"a\"],\"sources\":[{\"name\":\"S\"}]}");
    r = create("B", "{\"name\":\"B\",\"mirror\":{\"name\":\"B\"}}");
    cr_assert_str_eq(jh_str(r, "error.description"), "detected cycle");
    json_decref(r);
}

Test(js_mirror, mirror_strip_expected_headers) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMirrorStripExpectedHeaders");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"foo\"]}");
    jh_create(&H, "{\"name\":\"M\",\"mirror\":{\"name\":\"S\"}}");
    send_n("foo", 1);
    cr_assert_eq(state("M", "messages"), 1);
    json_t *a = jh_pub(&H, "foo", "NATS/1.0\r\nNats-Expected-Stream: S\r\n\r\n", "x");
    cr_assert_eq(jh_int(a, "seq"), 2);
    json_decref(a);
    cr_assert_eq(state("M", "messages"), 2);
}

Test(js_mirror, source_basics) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamSourceBasics");
    cr_assert_eq(create_err("test", "{\"name\":\"test\",\"sources\":[{\"name\":\"\"}]}"), 10141);
    jh_create(&H, "{\"name\":\"foo\"}");
    jh_create(&H, "{\"name\":\"bar\"}");
    jh_create(&H, "{\"name\":\"baz\"}");
    send_n("foo", 10);
    send_n("bar", 15);
    send_n("baz", 25);
    jh_create(&H, "{\"name\":\"MS\",\"storage\":\"file\",\"sources\":[{\"name\":\"foo\",\"subject_transforms\":"
                  "[{\"src\":\">\",\"dest\":\"foo2.>\"}]},{\"name\":\"bar\"},{\"name\":\"baz\"}]}");
    cr_assert_eq(state("MS", "messages"), 50);
    json_t *r = jh_req(&H, "$JS.API.STREAM.INFO.MS", "{\"subjects_filter\":\"foo2.foo\"}");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(r, "state"), "subjects"), "foo2.foo")), 10);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.MS",
               "{\"name\":\"MS\",\"sources\":[{\"name\":\"foo\"},{\"name\":\"bar\"},{\"name\":\"dlc\"}]}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);

    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"dlc\",\"rip\",\"jnm\"]}");
    send_n("dlc", 20);
    send_n("rip", 20);
    send_n("dlc", 10);
    send_n("jnm", 10);
    jh_create(&H, "{\"name\":\"FMS\",\"sources\":[{\"name\":\"TEST\",\"opt_start_seq\":26}]}");
    cr_assert_eq(state("FMS", "messages"), 35);
    char subj[64], *sh;
    get_msg("FMS", 1, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "TEST 26 > > rip");
    free(sh);

    jh_create(&H, "{\"name\":\"FMS2\",\"sources\":[{\"name\":\"TEST\",\"opt_start_seq\":11,"
                  "\"subject_transforms\":[{\"src\":\"dlc\",\"dest\":\"dlc2\"}]}]}");
    cr_assert_eq(state("FMS2", "messages"), 20);
    get_msg("FMS2", 1, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "TEST 11 dlc dlc2 dlc");
    cr_assert_str_eq(subj, "dlc2");
    free(sh);

    jh_create(&H, "{\"name\":\"FMS3\",\"sources\":[{\"name\":\"TEST\",\"subject_transforms\":"
                  "[{\"src\":\"dlc\",\"dest\":\"dlc2\"},{\"src\":\"rip\",\"dest\":\"\"}]}]}");
    cr_assert_eq(state("FMS3", "messages"), 50);
    get_msg("FMS3", 1, subj, sizeof subj, &sh);
    cr_assert_str_eq(subj, "dlc2");
    cr_assert_str_eq(sh, "TEST 1 dlc\frip dlc2\f> dlc");
    free(sh);
    get_msg("FMS3", 21, subj, sizeof subj, &sh);
    cr_assert_str_eq(subj, "rip");
    free(sh);

    /* pre 2.10 header form "<stream> <seq>" is honoured when resuming */
    jh_create(&H, "{\"name\":\"A\",\"subjects\":[\"B.*\"],\"subject_transform\":{\"src\":\"B.*\",\"dest\":\"A.{{Wildcard(1)}}\"}}");
    send_n("B.A", 1);
    send_n("B.B", 1);
    jh_create(&H, "{\"name\":\"B\",\"subjects\":[\"A.*\"]}");
    json_t *a = jh_pub(&H, "A.A", "NATS/1.0\r\nNats-Stream-Source: A 1\r\n\r\n", "OK");
    json_decref(a);
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.B", "{\"name\":\"B\",\"subjects\":[\"A.*\"],\"sources\":[{\"name\":\"A\"}]}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    cr_assert_eq(state("B", "messages"), 2);
}

Test(js_mirror, source_info_restart_and_dedupe) {
    jh_create(&H, "{\"name\":\"O1\",\"subjects\":[\"one.>\"]}");
    jh_create(&H, "{\"name\":\"O2\",\"subjects\":[\"two.>\"]}");
    jh_create(&H, "{\"name\":\"AGG\",\"sources\":[{\"name\":\"O1\",\"filter_subject\":\"one.a\"},{\"name\":\"O2\"}]}");
    send_n("one.a", 3);
    send_n("one.b", 3);
    json_t *a = jh_pub(&H, "two.x", "NATS/1.0\r\nNats-Msg-Id: X1\r\nNats-Expected-Last-Sequence: 0\r\n\r\n", "1");
    json_decref(a);
    json_t *r = info("AGG");
    cr_assert_eq(jh_int(r, "state.messages"), 4);
    cr_assert(!jh_has(r, "config.subjects"));
    json_t *srcs = json_object_get(r, "sources");
    cr_assert_eq(json_array_size(srcs), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(srcs, 0), "name")), "O1");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(srcs, 0), "filter_subject")), "one.a");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(srcs, 1), "lag")), 0);
    json_decref(r);
    char subj[64], *sh;
    get_msg("AGG", 4, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "O2 1 > > two.x");
    free(sh);
    /* restart: resume after the last copied sequence of each source (from the headers) */
    jh_restart(&H);
    send_n("one.a", 1);
    send_n("two.y", 1);
    cr_assert_eq(state("AGG", "messages"), 6);
    get_msg("AGG", 5, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "O1 7 one.a > one.a");
    free(sh);
    get_msg("AGG", 6, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "O2 2 > > two.y");
    free(sh);
    /* a mirror resumes after its last sequence */
    jh_create(&H, "{\"name\":\"MIR\",\"mirror\":{\"name\":\"O1\"}}");
    cr_assert_eq(state("MIR", "messages"), 7);
    jh_restart(&H);
    send_n("one.b", 2);
    cr_assert_eq(state("MIR", "messages"), 9);
    cr_assert_eq(state("MIR", "last_seq"), 9);
}

Test(js_mirror, source_config_validation) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamSourceConfigValidation",
                    "same-account sources only; no external / durable consumer cases");
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"s.>\"]}");
    cr_assert_eq(create_err("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"S\"},{\"name\":\"S\"}]}"), 10140);
    cr_assert_eq(create_err("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"S\",\"filter_subject\":\"s.a\","
                                 "\"subject_transforms\":[{\"src\":\"s.b\",\"dest\":\"x\"}]}]}"), 10144);
    cr_assert_eq(create_err("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"S\",\"subject_transforms\":"
                                 "[{\"src\":\"s.>\",\"dest\":\"x.>\"},{\"src\":\"s.a\",\"dest\":\"y\"}]}]}"), 10147);
    cr_assert_eq(create_err("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"S\",\"subject_transforms\":"
                                 "[{\"src\":\"s..\",\"dest\":\"x\"}]}]}"), 10145);
    /* two sources of S with different filters are fine */
    jh_create(&H, "{\"name\":\"X\",\"sources\":[{\"name\":\"S\",\"filter_subject\":\"s.a\"},{\"name\":\"S\",\"filter_subject\":\"s.b\"}]}");
    /* X only takes filtered subsets and holds no subjects of its own: no cycle for Go */
    json_t *r = jh_req(&H, "$JS.API.STREAM.UPDATE.S", "{\"name\":\"S\",\"subjects\":[\"s.>\"],\"sources\":[{\"name\":\"X\"}]}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    json_decref(r);
    /* source loop: Z sources all of S, then S sources Z */
    jh_create(&H, "{\"name\":\"T\",\"subjects\":[\"t\"]}");
    jh_create(&H, "{\"name\":\"Z\",\"sources\":[{\"name\":\"T\"}]}");
    r = jh_req(&H, "$JS.API.STREAM.UPDATE.T", "{\"name\":\"T\",\"subjects\":[\"t\"],\"sources\":[{\"name\":\"Z\"}]}");
    cr_assert_str_eq(jh_str(r, "error.description"), "detected cycle");
    json_decref(r);
    r = create("Y", "{\"name\":\"Y\",\"sources\":[{\"name\":\"S\"}],\"mirror\":{\"name\":\"S\"}}");
    cr_assert_eq(jh_err_code(r), 10031);
    json_decref(r);
}

Test(js_mirror, duplicate_windows) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamStreamMirrorWithoutDuplicateWindow");
    GO_TEST("server/jetstream_test.go", "TestJetStreamStreamSourceWithoutDuplicateWindow");
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamMirrorIgnoresUpstreamDuplicateMsgIds",
                    "fake clock for the windows");
    jh_create(&H, "{\"name\":\"TEST\",\"subjects\":[\"foo\"],\"duplicate_window\":1000000000}");
    const char *hid = "NATS/1.0\r\nNats-Msg-Id: msgId\r\n\r\n";
    json_t *a = jh_pub(&H, "foo", hid, "");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "foo", hid, "");
    cr_assert(json_is_true(json_object_get(a, "duplicate")));
    json_decref(a);
    H.now += 1200LL * 1000000;
    js_server_tick(H.js, H.now);
    a = jh_pub(&H, "foo", hid, "");
    cr_assert_eq(jh_int(a, "seq"), 2);
    json_decref(a);
    jh_create(&H, "{\"name\":\"M\",\"mirror\":{\"name\":\"TEST\"},\"duplicate_window\":120000000000}");
    jh_create(&H, "{\"name\":\"S\",\"sources\":[{\"name\":\"TEST\"}]}");
    cr_assert_eq(state("M", "messages"), 2);
    cr_assert_eq(state("M", "last_seq"), 2);
    cr_assert_eq(state("S", "messages"), 2);
    cr_assert_eq(state("S", "last_seq"), 2);
    /* after a restart the mirror still ignores the ids it holds */
    jh_restart(&H);
    H.now += 1200LL * 1000000;
    js_server_tick(H.js, H.now);
    a = jh_pub(&H, "foo", hid, "");
    cr_assert_eq(jh_int(a, "seq"), 3);
    json_decref(a);
    cr_assert_eq(state("M", "messages"), 3);
}

Test(js_mirror, counter_source_aggregates) {
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamAllowMsgCounterSourceAggregates",
                    "single node (R1)");
    jh_create(&H, "{\"name\":\"O1\",\"subjects\":[\"foo.1\"],\"allow_msg_counter\":true}");
    jh_create(&H, "{\"name\":\"O2\",\"subjects\":[\"foo.2\"],\"allow_msg_counter\":true}");
    jh_create(&H, "{\"name\":\"M\",\"allow_msg_counter\":true,\"sources\":["
                  "{\"name\":\"O1\",\"subject_transforms\":[{\"src\":\"foo.*\",\"dest\":\"foo\"}]},"
                  "{\"name\":\"O2\",\"subject_transforms\":[{\"src\":\"foo.*\",\"dest\":\"foo\"}]}]}");
    json_t *a = jh_pub(&H, "foo.1", "NATS/1.0\r\nNats-Incr: 1\r\n\r\n", "");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "foo.2", "NATS/1.0\r\nNats-Incr: 2\r\n\r\n", "");
    cr_assert_eq(jh_int(a, "seq"), 1);
    json_decref(a);
    a = jh_pub(&H, "foo.1", "NATS/1.0\r\nNats-Incr: 5\r\n\r\n", "");
    json_decref(a);
    js_server_flush(H.js);
    json_t *r = jh_req(&H, "$JS.API.STREAM.MSG.GET.M", "{\"seq\":2}");
    char *d = b64dec(jh_str(r, "message.data"));
    cr_assert_str_eq(d, "{\"val\":\"3\"}");
    free(d);
    json_decref(r);
    r = jh_req(&H, "$JS.API.STREAM.MSG.GET.M", "{\"seq\":3}");
    d = b64dec(jh_str(r, "message.data"));
    cr_assert_str_eq(d, "{\"val\":\"8\"}");
    free(d);
    char *h = b64dec(jh_str(r, "message.hdrs"));
    cr_assert(strstr(h, "Nats-Incr: 5\r\n"), "%s", h);
    cr_assert(strstr(h, "Nats-Counter-Sources: {\"O1\":{\"foo.1\":\"6\"},\"O2\":{\"foo.2\":\"2\"}}\r\n"), "%s", h);
    free(h);
    json_decref(r);
}

/* ---- external mirrors and sources across accounts (js_mirror_ext.c) ------------------- */

/* B exports its JetStream API (to A, D and C2 only) and its deliver subjects; A imports both
 * under "$JS.B.API" / "deliver.B"; C imports nothing; D only the API; E imports both but is
 * not approved for the API. */
static const char *const b_api_to[] = {"A", "D"};
static const js_export_config b_exports[] = {
    {.service = true, .subject = "$JS.API.>", .accounts = b_api_to, .naccounts = 2,
     .accounts_set = true},
    {.service = false, .subject = "deliver.B.>"},
};
static const js_import_config a_imports[] = {
    {.service = true, .account = "B", .subject = "$JS.API.>", .to = "$JS.B.API.>"},
    {.service = false, .account = "B", .subject = "deliver.B.>"},
    {.service = true, .account = "N", .subject = "$JS.API.>", .to = "$JS.N.API.>"},
    {.service = false, .account = "N", .subject = "deliver.N.>"},
};
/* N has no JetStream but exports its API and deliver subjects to everyone. */
static const js_export_config n_exports[] = {
    {.service = true, .subject = "$JS.API.>"},
    {.service = false, .subject = "deliver.N.>"},
};
static const js_import_config d_imports[] = {
    {.service = true, .account = "B", .subject = "$JS.API.>", .to = "$JS.B.API.>"},
};
static const js_import_config e_imports[] = {
    {.service = true, .account = "B", .subject = "$JS.API.>", .to = "$JS.B.API.>"},
    {.service = false, .account = "B", .subject = "deliver.B.>"},
};
/* Go TestJetStreamMirrorCrossAccountWithFilteredSubjectAndSubjectTransform's accounts: only
 * the filtered consumer creates are exported. */
static const char *const p_to[] = {"INTERNAL_ACCOUNT"};
static const js_export_config p_exports[] = {
    {true, "$JS.API.CONSUMER.CREATE.S.*.public.a", p_to, 1, true},
    {true, "$JS.API.CONSUMER.CREATE.S.*.public.b", p_to, 1, true},
    {true, "$JS.API.CONSUMER.CREATE.S.*.public.c", p_to, 1, true},
    {true, "$JS.FC.>", NULL, 0, false},
    {false, "shared.public.>", p_to, 1, true},
};
static const js_import_config i_imports[] = {
    {true, "PUBLIC_ACCOUNT", "$JS.API.CONSUMER.CREATE.S.*.public.a",
     "JS.PUBLIC_ACCOUNT.CONSUMER.CREATE.S.*.public.a", NULL},
    {true, "PUBLIC_ACCOUNT", "$JS.API.CONSUMER.CREATE.S.*.public.b",
     "JS.PUBLIC_ACCOUNT.CONSUMER.CREATE.S.*.public.b", NULL},
    {true, "PUBLIC_ACCOUNT", "$JS.API.CONSUMER.CREATE.S.*.public.c",
     "JS.PUBLIC_ACCOUNT.CONSUMER.CREATE.S.*.public.c", NULL},
    {true, "PUBLIC_ACCOUNT", "$JS.FC.>", "$JS.FC.>", NULL},
    {false, "PUBLIC_ACCOUNT", "shared.public.>", "shared.public.>", NULL},
};
#define UNLIM {-1, -1, -1, -1, -1, -1, -1, false}
static const js_account_config ext_accs[] = {
    {.name = "PUBLIC_ACCOUNT", .enabled = true, .limits = UNLIM, .exports = p_exports, .nexports = 5},
    {.name = "INTERNAL_ACCOUNT", .enabled = true, .limits = UNLIM, .imports = i_imports, .nimports = 5},
    {.name = "A", .enabled = true, .limits = UNLIM, .imports = a_imports, .nimports = 4},
    {.name = "N", .enabled = false, .exports = n_exports, .nexports = 2},
    {.name = "B", .enabled = true, .limits = UNLIM, .exports = b_exports, .nexports = 2},
    {.name = "C", .enabled = true, .limits = UNLIM},
    {.name = "D", .enabled = true, .limits = UNLIM, .imports = d_imports, .nimports = 1},
    {.name = "E", .enabled = true, .limits = UNLIM, .imports = e_imports, .nimports = 2},
};

static void setup_ext(void) { jh_open_accounts(&H, ext_accs, 8, "SYS"); }

TestSuite(js_mirror_ext, .init = setup_ext, .fini = teardown);

#define EXT_B "\"external\":{\"api\":\"$JS.B.API\",\"deliver\":\"deliver.B\"}"

Test(js_mirror_ext, mirror_filtered_consumer_create_exports) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamMirrorCrossAccountWithFilteredSubjectAndSubjectTransform");
    H.account = "PUBLIC_ACCOUNT";
    jh_create(&H, "{\"name\":\"S\",\"subjects\":[\"public.>\"]}");
    H.account = "INTERNAL_ACCOUNT";
#define EXT_P "\"external\":{\"api\":\"JS.PUBLIC_ACCOUNT\",\"deliver\":\"shared.public\"}"
    jh_create(&H, "{\"name\":\"M1\",\"mirror\":{\"name\":\"S\",\"filter_subject\":\"public.a\"," EXT_P "}}");
    H.account = "PUBLIC_ACCOUNT";
    send_n("public.a", 1);
    H.account = "INTERNAL_ACCOUNT";
    cr_assert_eq(state("M1", "messages"), 1);
    jh_create(&H, "{\"name\":\"M2\",\"mirror\":{\"name\":\"S\",\"subject_transforms\":"
                  "[{\"src\":\"public.b\"}]," EXT_P "}}");
    H.account = "PUBLIC_ACCOUNT";
    send_n("public.b", 1);
    H.account = "INTERNAL_ACCOUNT";
    cr_assert_eq(state("M2", "messages"), 1);
    jh_create(&H, "{\"name\":\"M3\",\"mirror\":{\"name\":\"S\",\"subject_transforms\":"
                  "[{\"src\":\"public.c\",\"dest\":\"public.d\"}]," EXT_P "}}");
    H.account = "PUBLIC_ACCOUNT";
    send_n("public.c", 1);
    H.account = "INTERNAL_ACCOUNT";
    cr_assert_eq(state("M3", "messages"), 1);
    for (int round = 0; round < 2; round++) {
        const char *names[] = {"M1", "M2", "M3"}, *subjs[] = {"public.a", "public.b", "public.d"};
        for (int i = 0; i < 3; i++) {
            char subj[64], *sh;
            cr_assert_eq(state(names[i], "messages"), 1);
            get_msg(names[i], i + 1, subj, sizeof subj, &sh);
            cr_assert_str_eq(subj, subjs[i]);
            free(sh);
        }
        jh_restart(&H);
    }
    /* an unexported filter is not reached */
    jh_create(&H, "{\"name\":\"M4\",\"mirror\":{\"name\":\"S\",\"filter_subject\":\"public.x\"," EXT_P "}}");
    H.account = "PUBLIC_ACCOUNT";
    send_n("public.x", 1);
    H.account = "INTERNAL_ACCOUNT";
    cr_assert_eq(state("M4", "messages"), 0);
}

Test(js_mirror_ext, source_and_mirror_from_other_account) {
    H.account = "B";
    jh_create(&H, "{\"name\":\"ORIGIN\",\"subjects\":[\"o.>\"]}");
    send_n("o.a", 2);
    send_n("o.b", 1);
    H.account = "A";
    jh_create(&H, "{\"name\":\"S\",\"sources\":[{\"name\":\"ORIGIN\"," EXT_B "}]}");
    jh_create(&H, "{\"name\":\"M\",\"mirror\":{\"name\":\"ORIGIN\",\"filter_subject\":\"o.a\"," EXT_B "}}");
    jh_create(&H, "{\"name\":\"M2\",\"mirror\":{\"name\":\"ORIGIN\",\"subject_transforms\":"
                  "[{\"src\":\"o.b\",\"dest\":\"o.d\"}]," EXT_B "}}");
    cr_assert_eq(state("S", "messages"), 3);
    cr_assert_eq(state("M", "messages"), 2);
    H.account = "B";
    send_n("o.a", 1);
    send_n("o.b", 1);
    H.account = "A";
    cr_assert_eq(state("S", "messages"), 5);
    json_t *r = info("M");
    cr_assert_eq(jh_int(r, "state.messages"), 3);
    cr_assert_eq(jh_int(r, "state.last_seq"), 4); /* the origin's sequences */
    cr_assert_str_eq(jh_str(r, "mirror.name"), "ORIGIN");
    cr_assert_str_eq(jh_str(r, "mirror.external.api"), "$JS.B.API");
    cr_assert_str_eq(jh_str(r, "mirror.external.deliver"), "deliver.B");
    cr_assert_str_eq(jh_str(r, "mirror.filter_subject"), "o.a");
    cr_assert_eq(jh_int(r, "mirror.lag"), 0);
    cr_assert_eq(jh_int(r, "mirror.active"), 0);
    cr_assert_str_eq(jh_str(r, "config.mirror.external.api"), "$JS.B.API");
    json_decref(r);
    char subj[64], *sh;
    get_msg("M2", 5, subj, sizeof subj, &sh);
    cr_assert_str_eq(subj, "o.d");
    free(sh);
    r = info("S");
    json_t *s0 = json_array_get(json_object_get(r, "sources"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(s0, "name")), "ORIGIN");
    cr_assert_str_eq(jh_str(s0, "external.api"), "$JS.B.API");
    cr_assert_str_eq(jh_str(s0, "external.deliver"), "deliver.B");
    cr_assert_eq(jh_int(s0, "lag"), 0);
    cr_assert_eq(jh_int(s0, "active"), 0);
    cr_assert(!jh_has(s0, "error"));
    json_decref(r);
    /* Go genSourceHeader: the index name carries getHash(api) */
    get_msg("S", 1, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "ORIGIN:8NMxRuwd 1 > > o.a");
    free(sh);
    /* a wildcard filter in the consumer create subject */
    jh_create(&H, "{\"name\":\"SF\",\"sources\":[{\"name\":\"ORIGIN\",\"filter_subject\":\"o.>\"," EXT_B "}]}");
    cr_assert_eq(state("SF", "messages"), 5);
    /* resumes from the stored headers after a restart */
    jh_restart(&H);
    H.account = "B";
    send_n("o.c", 1);
    H.account = "A";
    cr_assert_eq(state("S", "messages"), 6);
}

Test(js_mirror_ext, no_route_no_sync) {
    H.account = "B";
    jh_create(&H, "{\"name\":\"ORIGIN\",\"subjects\":[\"o.>\"]}");
    send_n("o.a", 2);
    /* no imports, the API but not the deliveries, not approved for the API */
    const char *accs[] = {"C", "D", "E"};
    for (size_t i = 0; i < 3; i++) {
        H.account = accs[i];
        jh_create(&H, "{\"name\":\"S\",\"sources\":[{\"name\":\"ORIGIN\"," EXT_B "}]}");
        jh_create(&H, "{\"name\":\"M\",\"mirror\":{\"name\":\"ORIGIN\"," EXT_B "}}");
        cr_assert_eq(state("S", "messages"), 0, "%s", accs[i]);
        cr_assert_eq(state("M", "messages"), 0, "%s", accs[i]);
        json_t *r = info("S");
        json_t *s0 = json_array_get(json_object_get(r, "sources"), 0);
        cr_assert_str_eq(jh_str(s0, "external.api"), "$JS.B.API");
        cr_assert_eq(jh_int(s0, "active"), -1); /* never heard from */
        cr_assert(!jh_has(s0, "error"));        /* no responders: no error */
        json_decref(r);
    }
    /* reached, but no such stream: the origin's consumer create error */
    H.account = "A";
    jh_create(&H, "{\"name\":\"S\",\"sources\":[{\"name\":\"NOPE\"," EXT_B "}]}");
    json_t *r = info("S");
    cr_assert_eq(jh_int(json_array_get(json_object_get(r, "sources"), 0), "error.err_code"), 10059);
    json_decref(r);
    /* reached, but the account has no JetStream */
    jh_create(&H, "{\"name\":\"SN\",\"sources\":[{\"name\":\"ORIGIN\",\"external\":"
                  "{\"api\":\"$JS.N.API\",\"deliver\":\"deliver.N\"}}]}");
    r = info("SN");
    cr_assert_eq(jh_int(json_array_get(json_object_get(r, "sources"), 0), "error.err_code"), 10039);
    json_decref(r);
}

Test(js_mirror_ext, config_checks) {
    GO_TEST("server/jetstream_test.go", "TestJetStreamStreamCheckSourcesWithExternal");
    GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamStreamUpdateWithExternalSource",
                    "no leafnode domains: only the config acceptance of an external source "
                    "named like the stream itself");
    H.account = "A";
    jh_create(&H, "{\"name\":\"ORIGIN\",\"subjects\":[\"foo.>\"]}");
    /* external {} behaves as none for the source checks */
    const char *ext[] = {"", ",\"external\":{}"};
    for (int i = 0; i < 2; i++) {
        char cfg[512];
        snprintf(cfg, sizeof cfg, "{\"name\":\"SOURCE\",\"sources\":[{\"name\":\"ORIGIN\",\"filter_subject\":"
                 "\"filter\",\"subject_transforms\":[{\"src\":\"filter\"}]%s}]}", ext[i]);
        cr_assert_eq(create_err("SOURCE", cfg), 10144);
        snprintf(cfg, sizeof cfg, "{\"name\":\"SOURCE\",\"sources\":[{\"name\":\"ORIGIN\","
                 "\"subject_transforms\":[{\"src\":\".invalid\"}]%s}]}", ext[i]);
        cr_assert_eq(create_err("SOURCE", cfg), 10145);
        snprintf(cfg, sizeof cfg, "{\"name\":\"SOURCE\",\"sources\":[{\"name\":\"ORIGIN\","
                 "\"subject_transforms\":[{\"src\":\"src\",\"dest\":\".invalid\"}]%s}]}", ext[i]);
        cr_assert_eq(create_err("SOURCE", cfg), 10146);
        snprintf(cfg, sizeof cfg, "{\"name\":\"SOURCE\",\"sources\":[{\"name\":\"ORIGIN\","
                 "\"subject_transforms\":[{\"src\":\"src\"},{\"src\":\"src\"}]%s}]}", ext[i]);
        cr_assert_eq(create_err("SOURCE", cfg), 10147);
    }
    json_t *r = create("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"ORIGIN\",\"external\":{\"api\":\"$JS.API\"}}]}");
    cr_assert_eq(jh_err_code(r), 10021);
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "stream external api prefix $JS.API must not overlap with $JS.API");
    json_decref(r);
    r = create("X", "{\"name\":\"X\",\"mirror\":{\"name\":\"ORIGIN\",\"external\":{\"api\":\"$JS.*.API\"}}}");
    cr_assert_eq(jh_err_code(r), 10052);
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "stream external api prefix \"$JS.*.API\" must be a valid subject without wildcards");
    json_decref(r);
    r = create("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"ORIGIN\",\"external\":{\"api\":\"$JS.B.API\",\"deliver\":\"d.*\"}}]}");
    cr_assert_eq(jh_err_code(r), 10024);
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "stream external delivery prefix d.* must not contain wildcards");
    json_decref(r);
    r = create("X", "{\"name\":\"X\",\"sources\":[{\"name\":\"ORIGIN\"},{\"name\":\"ORIGIN\","
                    "\"external\":{\"api\":\"$JS.B.API\",\"deliver\":\"foo\"}}]}");
    cr_assert_eq(jh_err_code(r), 10022);
    cr_assert_str_eq(jh_str(r, "error.description"),
                     "stream external delivery prefix foo overlaps with stream subject foo.>");
    json_decref(r);
    /* an external origin named like a local stream is neither checked nor a cycle */
    r = create("ORIGIN2", "{\"name\":\"ORIGIN2\",\"subjects\":[\"bar\"],\"sources\":[{\"name\":\"ORIGIN2\","
                          "\"filter_subject\":\"nope\",\"external\":{\"api\":\"$JS.B.API\"}}]}");
    cr_assert(!jh_has(r, "error"), "%s", jh_str(r, "error.description"));
    cr_assert_str_eq(jh_str(r, "config.sources.0.external.deliver"), "");
    json_decref(r);
}

/* A source's `domain` (clients send external.api "$JS.<domain>.API") naming this server's own
 * domain: Go's domain mappings apply to client connections only, not to the stream's
 * internal consumer create request, so on a standalone server nobody answers it. */
Test(js_mirror_ext, own_domain_api_not_mapped) {
    H.cfg.domain = "HUB";
    jh_restart(&H);
    H.account = "A";
    jh_create(&H, "{\"name\":\"O\",\"subjects\":[\"x.>\"]}");
    send_n("x.1", 3);
    jh_create(&H, "{\"name\":\"S\",\"sources\":[{\"name\":\"O\",\"external\":{\"api\":\"$JS.HUB.API\"}}]}");
    cr_assert_eq(state("S", "messages"), 0);
    json_t *r = info("S");
    json_t *s0 = json_array_get(json_object_get(r, "sources"), 0);
    cr_assert_eq(jh_int(s0, "active"), -1);
    cr_assert(!jh_has(s0, "error"));
    json_decref(r);
    /* the same prefix imported as a service does reach it (B's API here) */
    H.account = "B";
    jh_create(&H, "{\"name\":\"O\",\"subjects\":[\"x.>\"]}");
    send_n("x.1", 2);
    H.account = "A";
    jh_create(&H, "{\"name\":\"S2\",\"sources\":[{\"name\":\"O\"," EXT_B "}]}");
    cr_assert_eq(state("S2", "messages"), 2);
    char subj[64], *sh;
    get_msg("S2", 1, subj, sizeof subj, &sh);
    cr_assert_str_eq(sh, "O:8NMxRuwd 1 > > x.1");
    free(sh);
}
