/* Unit tests for common/transform.c: ports of Go nats-server v2.14.5
 * server/subject_transform_test.go, plus the pure mapping parts (weights, selection, config
 * parsing) of server/accounts_test.go, and checks of Go behaviour read from the sources
 * (error texts, ValidateMapping, selectMappedSubject quirks). */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/gotest.h"
#include "common/transform.h"

static nx_transform *new_tr(const char *src, const char *dest, bool strict, int *rc, char *err,
                            size_t errlen) {
    nx_transform *tr = NULL;
    *rc = nx_transform_new(src, dest, strict, &tr, err, errlen);
    return tr;
}

static void should_err(const char *src, const char *dest, bool strict) {
    char err[512] = "";
    int rc;
    nx_transform *tr = new_tr(src, dest, strict, &rc, err, sizeof err);
    cr_assert(rc == NX_TR_ERR_SUBJECT || rc == NX_TR_ERR_DEST,
              "Did not get an error for src=%s and dest=%s", src, dest);
    cr_assert_null(tr);
    if (rc == NX_TR_ERR_DEST)
        cr_assert(!strncmp(err, "invalid mapping destination", 27), "%s", err);
    else
        cr_assert_str_eq(err, "invalid subject");
}

static nx_transform *should_be_ok(const char *src, const char *dest, bool strict) {
    char err[512] = "";
    int rc;
    nx_transform *tr = new_tr(src, dest, strict, &rc, err, sizeof err);
    cr_assert_eq(rc, 0, "Got an error %s for src=%s and dest=%s", err, src, dest);
    return tr;
}

static void ok_free(const char *src, const char *dest, bool strict) {
    nx_transform_free(should_be_ok(src, dest, strict));
}

/* expected: NULL-terminated list of accepted results. */
static void should_match_any(const char *src, const char *dest, const char *sample,
                             const char *const *expected) {
    nx_transform *tr = should_be_ok(src, dest, false);
    if (!tr) { /* Go: a nil transform is not matched */
        return;
    }
    nx_tr_out o = {0};
    int rc = nx_transform_match(tr, sample, strlen(sample), &o);
    cr_assert_eq(rc, 0, "Got an error %d when expecting a match for %s", rc, sample);
    bool found = false;
    for (const char *const *e = expected; *e; e++) found |= !strcmp(o.buf, *e);
    cr_assert(found, "Dest does not match what was expected. Got %s (expected e.g. %s)", o.buf,
              expected[0]);
    free(o.buf);
    nx_transform_free(tr);
}

#define should_match(src, dest, sample, ...)                                                       \
    should_match_any(src, dest, sample, (const char *const[]){__VA_ARGS__, NULL})

static void ph_check(const char *tok, nx_tr_fn want_fn, const int64_t *want_idx, size_t want_n,
                     int32_t want_int) {
    nx_tr_fn fn;
    int64_t idx[8];
    size_t n;
    int32_t iarg;
    char err[256];
    int rc = nx_transform_token_info(tok, strlen(tok), &fn, idx, 8, &n, &iarg, NULL, 0, err,
                                     sizeof err);
    cr_assert_eq(rc, 0, "Error parsing %s: %s", tok, err);
    cr_assert_eq(fn, want_fn, "Error parsing %s", tok);
    cr_assert_eq(n, want_n, "Error parsing %s", tok);
    for (size_t i = 0; i < n; i++) cr_assert_eq(idx[i], want_idx[i], "Error parsing %s", tok);
    cr_assert_eq(iarg, want_int, "Error parsing %s", tok);
}

Test(transform, placeholder_index) {
    GO_TEST("server/subject_transform_test.go", "TestPlaceHolderIndex");
    ph_check("$1", NX_TR_WILDCARD, (int64_t[]){1}, 1, -1);
    ph_check("{{partition(10,1,2,3)}}", NX_TR_PARTITION, (int64_t[]){1, 2, 3}, 3, 10);
    ph_check("{{ Partition (10,1,2,3) }}", NX_TR_PARTITION, (int64_t[]){1, 2, 3}, 3, 10);
    ph_check("{{wildcard(2)}}", NX_TR_WILDCARD, (int64_t[]){2}, 1, -1);
    ph_check("{{SplitFromLeft(2,1)}}", NX_TR_SPLIT_FROM_LEFT, (int64_t[]){2}, 1, 1);
    ph_check("{{SplitFromRight(3,2)}}", NX_TR_SPLIT_FROM_RIGHT, (int64_t[]){3}, 1, 2);
    ph_check("{{SliceFromLeft(2,2)}}", NX_TR_SLICE_FROM_LEFT, (int64_t[]){2}, 1, 2);
    ph_check("{{Left(3,2)}}", NX_TR_LEFT, (int64_t[]){3}, 1, 2);
    ph_check("{{Right(3,2)}}", NX_TR_RIGHT, (int64_t[]){3}, 1, 2);
}

Test(transform, helpers) {
    GO_TEST("server/subject_transform_test.go", "TestSubjectTransformHelpers");
    char *f, *phs;
    size_t n;
    cr_assert_eq(nx_transform_untokenize("bar", &f, &phs, &n), 0);
    cr_assert_str_eq(f, "bar");
    cr_assert_eq(n, 0);
    free(f);
    free(phs);
    cr_assert_eq(nx_transform_untokenize("foo.$2.$1", &f, &phs, &n), 0);
    cr_assert_str_eq(f, "foo.*.*");
    cr_assert_eq(n, 2);
    cr_assert_str_eq(phs, "$2\n$1");
    free(f);
    free(phs);
    cr_assert_eq(nx_transform_untokenize("foo.{{wildcard(2)}}.{{wildcard(1)}}", &f, &phs, &n), 0);
    cr_assert_str_eq(f, "foo.*.*");
    cr_assert_eq(n, 2);
    cr_assert_str_eq(phs, "{{wildcard(2)}}\n{{wildcard(1)}}");
    free(f);
    free(phs);

    nx_transform *tr = should_be_ok("foo.*.*", "bar.$2.{{Wildcard(1)}}", true);
    nx_tr_out t = {0}, r = {0};
    cr_assert_eq(nx_transform_apply(tr, "foo.b.a", 7, &t), 0);
    cr_assert_str_eq(t.buf, "bar.a.b");
    nx_transform *rev = nx_transform_reverse(tr);
    cr_assert_not_null(rev);
    cr_assert_eq(nx_transform_apply(rev, t.buf, t.len, &r), 0);
    cr_assert_str_eq(r.buf, "foo.b.a", "Reversed transform subject not matching");
    free(t.buf);
    free(r.buf);
    nx_transform_free(rev);
    nx_transform_free(tr);
}

Test(transform, transforms) {
    GO_TEST("server/subject_transform_test.go", "TestSubjectTransforms");
    char big[128];
    should_err("foo..", "bar", false);
    should_err("foo.*", "bar.*", false);
    should_err("foo.*", "bar.$2", false);
    should_err("foo.*", "bar.$1.>", false);
    should_err("foo.>", "bar.baz", false);
    should_err("foo.*.*", "bar.$2", true);
    should_err("foo.*", "foo.$foo", true);
    should_err("foo.*", "bar.{{Partition(2,1)}}", true);
    should_err("foo.*", "foo.{{wildcard(2)}}", false);
    should_err("foo.*", "foo.{{unimplemented(1)}}", false);
    should_err("foo.*", "foo.{{partition()}}", false);
    should_err("foo.*", "foo.{{random()}}", false);
    should_err("foo.*", "foo.{{wildcard(foo)}}", false);
    should_err("foo.*", "foo.{{wildcard()}}", false);
    should_err("foo.*", "foo.{{wildcard(1,2)}}", false);
    should_err("foo.*", "foo.{{ wildcard5) }}", false);
    should_err("foo.*", "foo.{{splitLeft(2,2}}", false);
    should_err("foo", "bla.{{wildcard(1)}}", false);
    snprintf(big, sizeof big, "foo.{{partition(%lld)}}", (long long)INT32_MAX + 1);
    should_err("foo.*", big, false);
    snprintf(big, sizeof big, "foo.{{random(%lld)}}", (long long)INT32_MAX + 1);
    should_err("foo.*", big, false);

    ok_free("foo.*", "bar.{{Wildcard(1)}}", true);
    ok_free("foo.*.*", "bar.$2", false);
    ok_free("foo.*.*", "bar.{{wildcard(1)}}", false);
    ok_free("foo.*.*", "bar.{{partition(1)}}", false);
    ok_free("foo.*.*", "bar.{{random(5)}}", false);
    ok_free("foo", "bar", false);
    ok_free("foo.*.bar.*.baz", "req.$2.$1", false);
    ok_free("baz.>", "mybaz.>", false);
    ok_free("*", "{{splitfromleft(1,1)}}", false);
    ok_free("", "prefix.>", false);
    ok_free("*.*", "{{partition(10,1,2)}}", false);
    ok_free("foo.*.*", "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}", false);
    snprintf(big, sizeof big, "foo.{{partition(%d)}}", INT32_MAX);
    ok_free("foo.*", big, false);
    snprintf(big, sizeof big, "foo.{{random(%d)}}", INT32_MAX);
    ok_free("foo.*", big, false);
    ok_free("foo.bar", big, false);

    should_match("", "prefix.>", "foo", "prefix.foo");
    should_match("foo", "", "foo", "foo");
    should_match("foo", "bar", "foo", "bar");
    should_match("foo.*.bar.*.baz", "req.$2.$1", "foo.A.bar.B.baz", "req.B.A");
    should_match("foo.*.bar.*.baz", "req.{{wildcard(2)}}.{{wildcard(1)}}", "foo.A.bar.B.baz",
                 "req.B.A");
    should_match("baz.>", "my.pre.>", "baz.1.2.3", "my.pre.1.2.3");
    should_match("baz.>", "foo.bar.>", "baz.1.2.3", "foo.bar.1.2.3");
    should_match("*", "foo.bar.$1", "foo", "foo.bar.foo");
    should_match("*", "{{splitfromleft(1,3)}}", "12345", "123.45");
    should_match("*", "{{SplitFromRight(1,3)}}", "12345", "12.345");
    should_match("*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0");
    should_match("*", "{{SliceFromRight(1,3)}}", "1234567890", "1.234.567.890");
    should_match("*", "{{split(1,-)}}", "-abc-def--ghi-", "abc.def.ghi");
    should_match("*", "{{split(1,-)}}", "abc-def--ghi-", "abc.def.ghi");
    should_match("*.*", "{{split(2,-)}}.{{splitfromleft(1,2)}}", "foo.-abc-def--ghij-",
                 "abc.def.ghij.fo.o");
    should_match("*", "{{right(1,1)}}", "1234", "4");
    should_match("*", "{{right(1,3)}}", "1234", "234");
    should_match("*", "{{right(1,6)}}", "1234", "1234");
    should_match("*", "{{left(1,1)}}", "1234", "1");
    should_match("*", "{{left(1,3)}}", "1234", "123");
    should_match("*", "{{left(1,6)}}", "1234", "1234");
    should_match("*", "bar.{{partition(0)}}", "baz", "bar.0");
    should_match("*", "bar.{{partition(10, 0)}}", "foo", "bar.3");
    should_match("*.*", "bar.{{partition(10)}}", "foo.bar", "bar.6");
    should_match("*", "bar.{{partition(10)}}", "foo", "bar.3");
    should_match("*", "bar.{{partition(10)}}", "baz", "bar.0");
    should_match("*", "bar.{{partition(10)}}", "qux", "bar.9");
    should_match("*", "bar.{{random(0)}}", "qux", "bar.0");
    for (int i = 0; i < 100; i++)
        should_match("*", "bar.{{random(6)}}", "qux", "bar.0", "bar.1", "bar.2", "bar.3", "bar.4",
                     "bar.5");
    ok_free("foo.bar", "baz.{{partition(10)}}", false);
    should_match("foo.bar", "baz.{{partition(10)}}", "foo.bar", "baz.6");
    should_match("foo.baz", "qux.{{partition(10)}}", "foo.baz", "qux.4");
    should_match("test.subject", "result.{{partition(5)}}", "test.subject", "result.0");
}

Test(transform, missing_token_no_panic) {
    GO_TEST("server/subject_transform_test.go",
            "TestSubjectTransformDoesntPanicTransformingMissingToken");
    nx_transform *tr = should_be_ok("foo.*", "one.two.{{wildcard(1)}}", false);
    nx_tr_out o = {0};
    cr_assert_eq(nx_transform_apply(tr, "foo", 3, &o), 0);
    cr_assert_str_eq(o.buf, "one.two.");
    free(o.buf);
    nx_transform_free(tr);
}

/* ---- exact Go error texts (read from subject_transform.go / errors.go) ------------------ */

static void err_text(const char *src, const char *dest, bool strict, const char *want) {
    char err[512] = "";
    int rc;
    nx_transform *tr = new_tr(src, dest, strict, &rc, err, sizeof err);
    cr_assert_null(tr);
    cr_assert_neq(rc, 0);
    cr_assert_str_eq(err, want, "%s -> %s", src, dest);
}

#define D "invalid mapping destination: "
Test(transform, error_texts) {
    err_text("foo..", "bar", false, "invalid subject");
    err_text("foo.*", "bar.*", false, "invalid subject");
    err_text("foo.>", "bar.baz", false, "invalid subject");
    err_text("foo.*", "bar.$2", false, D "wildcard index out of range in $2: [2]");
    err_text("foo.*", "foo.{{wildcard(2)}}", false,
             D "wildcard index out of range in {{wildcard(2)}}: [2]");
    err_text("foo", "bla.{{wildcard(1)}}", false, D "wildcard index out of range in {{wildcard(1)}}");
    err_text("foo.*.*", "bar.$2", true, D "not using all of the token wildcard(s) in bar.$2");
    err_text("foo.*", "bar.{{Partition(2,1)}}", true,
             D "the only mapping function allowed for import transforms is {{Wildcard()}} in "
               "{{Partition(2,1)}}");
    err_text("foo.*", "foo.{{unimplemented(1)}}", false, D "unknown function in {{unimplemented(1)}}");
    err_text("foo.*", "foo.{{partition()}}", false,
             D "function argument is invalid or in the wrong format in {{partition()}}");
    err_text("foo.*", "foo.{{wildcard()}}", false,
             D "not enough arguments passed to the function in {{wildcard()}}");
    err_text("foo.*", "foo.{{wildcard(1,2)}}", false,
             D "too many arguments passed to the function in {{wildcard(1,2)}}");
    err_text("foo.*", "foo.{{left(1)}}", false,
             D "not enough arguments passed to the function in {{left(1)}}");
    nx_transform_free(should_be_ok("foo.*", "foo.{{split(1,a.b)}}", false)); /* 2 plain tokens */
    err_text("foo.*", "foo.{{split(1,a b)}}", false,
             D "function argument is invalid or in the wrong format in {{split(1,a b)}}");
    err_text("foo.*", "foo.{{WILDCARD(1)}}", false, D "unknown function in {{WILDCARD(1)}}");
    /* strict mode only checks when the source has wildcards */
    nx_transform_free(should_be_ok("foo", "bar.{{partition(2)}}", true));
}

Test(transform, quirks) {
    /* "$x" that is not a number stays literal; spaces around the name and after commas. */
    should_match("*", "$foo.$1", "a", "$foo.a");
    should_match("*.*", "{{ wildcard( 2 ) }}.{{partition(10,  1,2)}}", "a.b", "b.6");
    /* split with an empty delimiter splits into characters (Go strings.Split). */
    should_match("*", "{{split(1,)}}", "abc", "a.b.c");
    /* literal source: partition without indexes hashes the whole subject */
    should_match("foo.bar", "x.{{partition(10,1)}}", "foo.bar", "x.6");
    /* no match / bad subject */
    nx_transform *tr = should_be_ok("foo.*", "bar.$1", false);
    nx_tr_out o = {0};
    cr_assert_eq(nx_transform_match(tr, "baz.1", 5, &o), NX_TR_ERR_NOMATCH);
    cr_assert_eq(nx_transform_match(tr, "foo.*", 5, &o), NX_TR_ERR_SUBJECT);
    cr_assert_eq(nx_transform_match(tr, "foo.1.2", 7, &o), NX_TR_ERR_NOMATCH);
    free(o.buf);
    nx_transform_free(tr);
    char *t = nx_transform_tokenize("foo.*.bar.*.>");
    cr_assert_str_eq(t, "foo.$1.bar.$2.>");
    free(t);
}

/* ---- weighted mappings ------------------------------------------------------------------ */

static const char *sel(nx_mappings *ml, const char *subj, const char *cluster, uint32_t w,
                       nx_tr_out *o) {
    if (!nx_mappings_select_w(ml, subj, strlen(subj), cluster, w, o)) return NULL;
    return o->buf ? o->buf : "";
}

Test(mapping, multi_weighted) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountMultiWeightedRouteMappings",
                    "AddWeightedMappings errors and weight selection only; no server/clients");
    nx_mappings ml = {0};
    char err[256];
#define MD(s, w) ((nx_map_dest){(s), (w), NULL})
    cr_assert_neq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 150)}, 1, err, sizeof err), 0);
    cr_assert_str_eq(err, "individual weights need to be <= 100");
    cr_assert_eq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 50)}, 1, err, sizeof err), 0);
    cr_assert_eq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 50), MD("baz", 50)}, 2, err,
                                 sizeof err), 0);
    cr_assert_neq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 50), MD("bar", 50)}, 2, err,
                                  sizeof err), 0);
    cr_assert_str_eq(err, "duplicate entry for \"bar\"");
    cr_assert_neq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 50), MD("baz", 60)}, 2, err,
                                  sizeof err), 0);
    cr_assert_str_eq(err, "total weight needs to be <= 100");
    cr_assert(nx_mappings_remove(&ml, "foo"));
    cr_assert_eq(ml.len, 0);
    cr_assert_eq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 50), MD("baz", 30)}, 2, err,
                                 sizeof err), 0);
    /* sorted ascending with the auto-added source: foo 20, baz 30, bar 50 */
    int counts[3] = {0};
    nx_tr_out o = {0};
    for (uint32_t w = 0; w < 100; w++) {
        const char *s = sel(&ml, "foo", NULL, w, &o);
        cr_assert_not_null(s);
        counts[!strcmp(s, "foo") ? 0 : !strcmp(s, "baz") ? 1 : 2]++;
        if (w < 20) cr_assert_str_eq(s, "foo");
        else if (w < 50) cr_assert_str_eq(s, "baz");
        else cr_assert_str_eq(s, "bar");
    }
    cr_assert(counts[0] == 20 && counts[1] == 30 && counts[2] == 50);
    /* random selection stays within the set */
    int rc[3] = {0};
    for (int i = 0; i < 5000; i++) {
        cr_assert(nx_mappings_select(&ml, "foo", 3, NULL, &o));
        rc[!strcmp(o.buf, "foo") ? 0 : !strcmp(o.buf, "baz") ? 1 : 2]++;
    }
    cr_assert(rc[0] > 800 && rc[0] < 1200 && rc[1] > 1200 && rc[1] < 1800 && rc[2] > 2000 &&
              rc[2] < 3000, "%d %d %d", rc[0], rc[1], rc[2]);
    cr_assert_null(sel(&ml, "other", NULL, 0, &o));
    free(o.buf);
    nx_mappings_free(&ml);
}

Test(mapping, simple_weighted) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountSimpleWeightedRouteMapping",
                    "selection only; no server/clients");
    nx_mappings ml = {0};
    char err[256];
    cr_assert_eq(nx_mappings_add(&ml, "foo", (nx_map_dest[]){MD("bar", 50)}, 1, err, sizeof err), 0);
    nx_tr_out o = {0};
    /* equal weights keep their order (stable sort): bar, then the auto-added foo */
    cr_assert_str_eq(sel(&ml, "foo", NULL, 49, &o), "bar");
    cr_assert_str_eq(sel(&ml, "foo", NULL, 50, &o), "foo");
    free(o.buf);
    nx_mappings_free(&ml);
}

Test(mapping, basic_and_wildcard) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountWildcardRouteMapping",
                    "mapping selection only; no server/clients");
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountBasicRouteMapping",
                    "AddMapping/RemoveMapping and selection only; no server/clients");
    nx_mappings ml = {0};
    char err[256];
    nx_tr_out o = {0};
    cr_assert_eq(nx_mappings_add_simple(&ml, "foo", "bar", err, sizeof err), 0);
    cr_assert_str_eq(sel(&ml, "foo", NULL, 99, &o), "bar");
    cr_assert(nx_mappings_remove(&ml, "foo"));
    cr_assert_null(sel(&ml, "foo", NULL, 0, &o));
    cr_assert_eq(nx_mappings_add_simple(&ml, "foo.*.*", "bar.$2.$1", err, sizeof err), 0);
    cr_assert_eq(nx_mappings_add_simple(&ml, "bar.*.>", "baz.$1.>", err, sizeof err), 0);
    cr_assert_str_eq(sel(&ml, "foo.1.2", NULL, 0, &o), "bar.2.1"); /* mapped once only */
    cr_assert_str_eq(sel(&ml, "bar.1.2.3", NULL, 0, &o), "baz.1.2.3");
    cr_assert_null(sel(&ml, "baz.1", NULL, 0, &o));
    /* invalid source, destination errors through ValidateMapping */
    cr_assert_eq(nx_mappings_add_simple(&ml, "foo..x", "bar", err, sizeof err), NX_TR_ERR_SUBJECT);
    cr_assert_str_eq(err, "invalid subject");
    cr_assert_eq(nx_mappings_add_simple(&ml, "a.*", "b.{{left(1,2)}}", err, sizeof err), NX_TR_ERR_DEST);
    cr_assert_str_eq(err, D "unknown function in {{left(1,2)}}"); /* Go's ValidateMapping list */
    cr_assert_eq(nx_mappings_add_simple(&ml, "a", "b c", err, sizeof err), NX_TR_ERR_DEST);
    cr_assert_str_eq(err, D "invalid transform");
    free(o.buf);
    nx_mappings_free(&ml);
}

Test(mapping, loss_and_cluster) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountRouteMappingsWithOriginClusterFilter",
                    "config parse and selection with/without the cluster name; no server");
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountRouteMappingsWithLossInjection",
                    "config parse and selection; no server/clients");
    nx_conf_value *root;
    char err[1024];
    cr_assert_eq(nx_conf_parse_string("mappings = {\n foo: { dest: foo, weight: 80% }\n"
                                      " bar: { dest: bar, weight: 0% }\n"
                                      " baz: { dest: bar, cluster: SYN, weight: 100% }\n}\n",
                                      &root, err, sizeof err), 0);
    nx_mappings ml = {0};
    cr_assert_eq(nx_mappings_parse_conf(nx_conf_map_get(root, "mappings"), &ml, err, sizeof err), 0,
                 "%s", err);
    nx_tr_out o = {0};
    cr_assert_str_eq(sel(&ml, "foo", NULL, 79, &o), "foo");
    cr_assert_str_eq(sel(&ml, "foo", NULL, 80, &o), ""); /* dropped */
    cr_assert_str_eq(sel(&ml, "bar", NULL, 0, &o), "");
    cr_assert_str_eq(sel(&ml, "baz", NULL, 0, &o), "baz");
    cr_assert_str_eq(sel(&ml, "baz", "OTHER", 0, &o), "baz");
    cr_assert_str_eq(sel(&ml, "baz", "SYN", 0, &o), "bar");
    free(o.buf);
    nx_mappings_free(&ml);
    nx_conf_free(root);
}

Test(mapping, global_config) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestGlobalAccountRouteMappingsConfiguration",
                    "config parse and deterministic selection; no server/clients");
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountRouteMappingsConfiguration",
                    "parsing of the mappings block only (3 mappings); accounts/Accountz not here");
    nx_conf_value *root;
    char err[1024];
    cr_assert_eq(nx_conf_parse_string(
                     "port: -1\nmappings = {\n foo: bar\n"
                     " foo.*: [ { dest: bar.v1.$1, weight: 40% }, { destination: baz.v2.$1, weight: 20 } ]\n"
                     " bar.*.*: RAB.$2.$1\n}\n",
                     &root, err, sizeof err), 0);
    nx_mappings ml = {0};
    cr_assert_eq(nx_mappings_parse_conf(nx_conf_map_get(root, "mappings"), &ml, err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(ml.len, 3);
    nx_tr_out o = {0};
    cr_assert_str_eq(sel(&ml, "foo", NULL, 0, &o), "bar");
    cr_assert_str_eq(sel(&ml, "bar.11.22", NULL, 0, &o), "RAB.22.11");
    /* weights 20 baz, 40 remainder (foo.$1), 40 bar: cumulative 20, 60, 100 */
    cr_assert_str_eq(sel(&ml, "foo.22", NULL, 19, &o), "baz.v2.22");
    cr_assert_str_eq(sel(&ml, "foo.22", NULL, 20, &o), "bar.v1.22");
    cr_assert_str_eq(sel(&ml, "foo.22", NULL, 60, &o), "foo.22");
    free(o.buf);
    nx_mappings_free(&ml);
    nx_conf_free(root);
}

static void conf_errs(const char *text, const char *want) {
    nx_conf_value *root;
    char err[2048];
    cr_assert_eq(nx_conf_parse_string(text, &root, err, sizeof err), 0, "%s", err);
    nx_mappings ml = {0};
    int n = nx_mappings_parse_conf(nx_conf_map_get(root, "mappings"), &ml, err, sizeof err);
    cr_assert_gt(n, 0);
    cr_assert_str_eq(err, want, "%s", text);
    nx_mappings_free(&ml);
    nx_conf_free(root);
}

Test(mapping, config_errors) {
    conf_errs("mappings {\n \"foo..\": bar\n}\n", ":1:0: Subject \"foo..\" is not a valid subject");
    conf_errs("mappings {\n foo: \"bar..\"\n}\n",
              ":2:2: Error adding mapping for \"foo\" to \"bar..\" : " D "invalid transform");
    conf_errs("mappings {\n foo: { dest: bar }\n}\n",
              ":2:2: Missing weight for mapping destination \"bar\"");
    conf_errs("mappings {\n foo: { dest: bar, weight: 101 }\n}\n",
              ":2:20: Invalid weight 101 for mapping destination");
    conf_errs("mappings {\n foo: { dest: bar, weight: \"x%\" }\n}\n",
              ":2:20: Invalid weight \"x\" for mapping destination");
    conf_errs("mappings {\n foo: { dest: bar, weight: 1.5 }\n}\n",
              ":2:20: Unknown entry type for weight of 1.5");
    conf_errs("mappings {\n foo: { dest: bar, weight: 1, x: 1 }\n}\n",
              ":2:31: Unknown field \"x\" for mapping destination");
    conf_errs("mappings {\n foo: 1\n}\n", ":2:2: Expected an entry for the mapping destination");
    conf_errs("mappings {\n foo: { dest: 1, weight: 1 }\n bar: baz\n}\n",
              ":2:9: interface conversion: interface {} is int64, not string");
    conf_errs("mappings {\n foo: [ { dest: bar, weight: 60 }, { dest: baz, weight: 60 } ]\n}\n",
              ":2:2: Error adding mapping for \"foo\" : total weight needs to be <= 100");
    conf_errs("mappings = 1\n", ":1:0: interface conversion: interface {} is int64, not "
                                "map[string]interface {}");
}

/* Go selectMappedSubject does not tokenize when the first mapping tried matches literally, so
 * a partition over the whole subject hashes an empty key there. */
Test(mapping, literal_partition_quirk) {
    nx_mappings ml = {0};
    char err[256];
    nx_tr_out o = {0};
    cr_assert_eq(nx_mappings_add_simple(&ml, "foo.bar", "baz.{{partition(10)}}", err, sizeof err), 0);
    cr_assert_str_eq(sel(&ml, "foo.bar", NULL, 0, &o), "baz.1"); /* fnv32a("") % 10 */
    nx_mappings_free(&ml);
    cr_assert_eq(nx_mappings_add_simple(&ml, "x", "y", err, sizeof err), 0);
    cr_assert_eq(nx_mappings_add_simple(&ml, "foo.bar", "baz.{{partition(10)}}", err, sizeof err), 0);
    cr_assert_str_eq(sel(&ml, "foo.bar", NULL, 0, &o), "baz.6");
    free(o.buf);
    nx_mappings_free(&ml);
}
