/* Unit tests for common/subject.c: ports of the subject validity, matching and subset tests of
 * Go nats-server v2.14.5 server/sublist_test.go, plus checks of the added helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gotest.h"
#include "common/subject.h"

/* Subjects are passed as (pointer, length); S() expands a string literal to both. */
#define S(x) (x), (sizeof(x) - 1)

#define CHECK(fn, subj, want)                                                                      \
    cr_assert_eq(fn(S(subj)), (want), "%s(\"%s\") should be %s", #fn, subj,                        \
                 (want) ? "true" : "false")

#define CHECK2(fn, a, b, want)                                                                     \
    cr_assert_eq(fn(S(a), S(b)), (want), "%s(\"%s\", \"%s\") should be %s", #fn, a, b,             \
                 (want) ? "true" : "false")

Test(subject, valid_literal_subjects) {
    GO_TEST("server/sublist_test.go", "TestSublistValidLiteralSubjects");
    CHECK(nx_subject_valid_literal, "foo", true);
    CHECK(nx_subject_valid_literal, ".foo", false);
    CHECK(nx_subject_valid_literal, "foo.", false);
    CHECK(nx_subject_valid_literal, "foo..bar", false);
    CHECK(nx_subject_valid_literal, "foo.bar.*", false);
    CHECK(nx_subject_valid_literal, "foo.bar.>", false);
    CHECK(nx_subject_valid_literal, "*", false);
    CHECK(nx_subject_valid_literal, ">", false);
    /* Wildcard characters that are not whole tokens are literal. */
    CHECK(nx_subject_valid_literal, "foo*", true);
    CHECK(nx_subject_valid_literal, "foo**", true);
    CHECK(nx_subject_valid_literal, "foo.**", true);
    CHECK(nx_subject_valid_literal, "foo*bar", true);
    CHECK(nx_subject_valid_literal, "foo.*bar", true);
    CHECK(nx_subject_valid_literal, "foo*.bar", true);
    CHECK(nx_subject_valid_literal, "*bar", true);
    CHECK(nx_subject_valid_literal, "foo>", true);
    CHECK(nx_subject_valid_literal, "foo>>", true);
    CHECK(nx_subject_valid_literal, "foo.>>", true);
    CHECK(nx_subject_valid_literal, "foo>bar", true);
    CHECK(nx_subject_valid_literal, "foo.>bar", true);
    CHECK(nx_subject_valid_literal, "foo>.bar", true);
    CHECK(nx_subject_valid_literal, ">bar", true);
}

Test(subject, valid_literal_extra) {
    /* Beyond Go's test: the empty subject, and Go's (quirky) acceptance of whitespace. */
    CHECK(nx_subject_valid_literal, "", false);
    CHECK(nx_subject_valid_literal, "foo bar", true);
}

Test(subject, valid_subjects) {
    GO_TEST("server/sublist_test.go", "TestSublistValidSubjects");
    CHECK(nx_subject_valid, ".", false);
    CHECK(nx_subject_valid, ".foo", false);
    CHECK(nx_subject_valid, "foo.", false);
    CHECK(nx_subject_valid, "foo..bar", false);
    CHECK(nx_subject_valid, ">.bar", false);
    CHECK(nx_subject_valid, "foo.>.bar", false);
    CHECK(nx_subject_valid, "foo", true);
    CHECK(nx_subject_valid, "foo.bar.*", true);
    CHECK(nx_subject_valid, "foo.bar.>", true);
    CHECK(nx_subject_valid, "*", true);
    CHECK(nx_subject_valid, ">", true);
    CHECK(nx_subject_valid, "foo*", true);
    CHECK(nx_subject_valid, "foo**", true);
    CHECK(nx_subject_valid, "foo.**", true);
    CHECK(nx_subject_valid, "foo*bar", true);
    CHECK(nx_subject_valid, "foo.*bar", true);
    CHECK(nx_subject_valid, "foo*.bar", true);
    CHECK(nx_subject_valid, "*bar", true);
    CHECK(nx_subject_valid, "foo>", true);
    CHECK(nx_subject_valid, "foo.>>", true);
    CHECK(nx_subject_valid, "foo>bar", true);
    CHECK(nx_subject_valid, "foo.>bar", true);
    CHECK(nx_subject_valid, "foo>.bar", true);
    CHECK(nx_subject_valid, ">bar", true);

    /* Embedded NUL: only the rune-checking variant (Go isValidSubject(s, true)) rejects it. */
    static const char nul[] = "foo.bar.baz.\0";
    cr_assert_not(nx_subject_valid_checked(nul, sizeof(nul) - 1));
    cr_assert(nx_subject_valid(nul, sizeof(nul) - 1));
}

Test(subject, valid_subject_whitespace_and_runes) {
    /* Go's isValidSubject whitespace set is " \t\n\r\f", alone or inside a token. */
    CHECK(nx_subject_valid, "", false);
    CHECK(nx_subject_valid, "foo bar", false);
    CHECK(nx_subject_valid, "foo.\t", false);
    CHECK(nx_subject_valid, "foo.b\nr", false);
    CHECK(nx_subject_valid, "\r", false);
    CHECK(nx_subject_valid, "a.\f", false);
    CHECK(nx_subject_valid, "a.\v", true);
    CHECK(nx_subject_valid_checked, "foo.bar", true);
    CHECK(nx_subject_valid_checked, "caf\xc3\xa9.>", true);
    CHECK(nx_subject_valid_checked, "\xf0\x9f\x98\x80", true);
    CHECK(nx_subject_valid_checked, "foo.\xff", false);         /* invalid byte */
    CHECK(nx_subject_valid_checked, "foo.\xc3", false);         /* truncated */
    CHECK(nx_subject_valid_checked, "\xc0\xaf", false);         /* overlong */
    CHECK(nx_subject_valid_checked, "\xed\xa0\x80", false);     /* surrogate */
    CHECK(nx_subject_valid_checked, "\xf4\x90\x80\x80", false); /* > U+10FFFF */
    CHECK(nx_subject_valid_checked, "a\xef\xbf\xbd", false);    /* U+FFFD reads as RuneError */
    CHECK(nx_subject_valid_checked, "foo..bar", false);
}

Test(subject, valid_publish) {
    CHECK(nx_subject_valid_publish, "foo.bar", true);
    CHECK(nx_subject_valid_publish, "foo.*", false);
    CHECK(nx_subject_valid_publish, ">", false);
    CHECK(nx_subject_valid_publish, "foo.>bar", true);
    CHECK(nx_subject_valid_publish, "foo bar", false);
    CHECK(nx_subject_valid_publish, "foo..bar", false);
    CHECK(nx_subject_valid_publish, "", false);
}

Test(subject, match_literals) {
    GO_TEST("server/sublist_test.go", "TestSublistMatchLiterals");
    CHECK2(nx_subject_match_literal, "foo", "foo", true);
    CHECK2(nx_subject_match_literal, "foo", "bar", false);
    CHECK2(nx_subject_match_literal, "foo", "*", true);
    CHECK2(nx_subject_match_literal, "foo", ">", true);
    CHECK2(nx_subject_match_literal, "foo.bar", ">", true);
    CHECK2(nx_subject_match_literal, "foo.bar", "foo.>", true);
    CHECK2(nx_subject_match_literal, "foo.bar", "bar.>", false);
    CHECK2(nx_subject_match_literal, "stats.test.22", "stats.>", true);
    CHECK2(nx_subject_match_literal, "stats.test.22", "stats.*.*", true);
    CHECK2(nx_subject_match_literal, "foo.bar", "foo", false);
    CHECK2(nx_subject_match_literal, "stats.test.foos", "stats.test.foos", true);
    CHECK2(nx_subject_match_literal, "stats.test.foos", "stats.test.foo", false);
    CHECK2(nx_subject_match_literal, "stats.test", "stats.test.*", false);
    CHECK2(nx_subject_match_literal, "stats.test.foos", "stats.*", false);
    CHECK2(nx_subject_match_literal, "stats.test.foos", "stats.*.*.foos", false);

    /* Wildcard characters that do not form a whole token are compared literally. */
    CHECK2(nx_subject_match_literal, "*bar", "*bar", true);
    CHECK2(nx_subject_match_literal, "foo*", "foo*", true);
    CHECK2(nx_subject_match_literal, "foo*bar", "foo*bar", true);
    CHECK2(nx_subject_match_literal, "foo.***.bar", "foo.***.bar", true);
    CHECK2(nx_subject_match_literal, ">bar", ">bar", true);
    CHECK2(nx_subject_match_literal, "foo>", "foo>", true);
    CHECK2(nx_subject_match_literal, "foo>bar", "foo>bar", true);
    CHECK2(nx_subject_match_literal, "foo.>>>.bar", "foo.>>>.bar", true);
}

Test(subject, match_literal_benchmark_filters) {
    /* The filter set of Go's Benchmark_SublistMatchLiteral: all must match. */
    static const char *filters[] = {
        "foo.foo.foo.foo.foo.foo.foo.foo.foo.foo",
        "foo.foo.foo.foo.foo.foo.foo.foo.foo.>",
        "foo.foo.foo.foo.foo.foo.foo.foo.>",
        "foo.foo.foo.foo.foo.foo.foo.>",
        "foo.foo.foo.foo.foo.foo.>",
        "foo.foo.foo.foo.foo.>",
        "foo.foo.foo.foo.>",
        "foo.foo.foo.>",
        "foo.foo.>",
        "foo.>",
        ">",
        "foo.foo.foo.foo.foo.foo.foo.foo.foo.*",
        "foo.foo.foo.foo.foo.foo.foo.foo.*.*",
        "foo.foo.foo.foo.foo.foo.foo.*.*.*",
        "foo.foo.foo.foo.foo.foo.*.*.*.*",
        "foo.foo.foo.foo.foo.*.*.*.*.*",
        "foo.foo.foo.foo.*.*.*.*.*.*",
        "foo.foo.foo.*.*.*.*.*.*.*",
        "foo.foo.*.*.*.*.*.*.*.*",
        "foo.*.*.*.*.*.*.*.*.*",
        "*.*.*.*.*.*.*.*.*.*",
    };
    static const char lit[] = "foo.foo.foo.foo.foo.foo.foo.foo.foo.foo";
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
        cr_assert(nx_subject_match_literal(S(lit), filters[i], strlen(filters[i])), "%s",
                  filters[i]);
    /* And the cases of Go's Benchmark_SubjectFilterMatchers, through both matchers. */
    struct {
        const char *subj, *filter;
        bool want;
    } cases[] = {
        {"foo.baz.12345", "foo.baz.*", true},
        {"foo.baz.12345", "foo.*.>", true},
        {"foo.alpha.beta.gamma.delta.epsilon.zeta.12345",
         "foo.alpha.beta.gamma.delta.epsilon.zeta.*", true},
        {"foo.alpha.beta.gamma.delta.epsilon.zeta.12345", "foo.*.*.*.*.*.*.99999", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *s = cases[i].subj, *f = cases[i].filter;
        cr_assert_eq(nx_subject_match_literal(s, strlen(s), f, strlen(f)), cases[i].want);
        cr_assert_eq(nx_subject_subset_match(s, strlen(s), f, strlen(f)), cases[i].want);
    }
}

Test(subject, is_literal) {
    GO_TEST("server/sublist_test.go", "TestSubjectIsLiteral");
    CHECK(nx_subject_is_literal, "foo", true);
    CHECK(nx_subject_is_literal, "foo.bar", true);
    CHECK(nx_subject_is_literal, "foo*.bar", true);
    CHECK(nx_subject_is_literal, "*", false);
    CHECK(nx_subject_is_literal, ">", false);
    CHECK(nx_subject_is_literal, "foo.*", false);
    CHECK(nx_subject_is_literal, "foo.>", false);
    CHECK(nx_subject_is_literal, "foo.*.>", false);
    CHECK(nx_subject_is_literal, "foo.*.bar", false);
    CHECK(nx_subject_is_literal, "foo.bar.>", false);
}

static void check_token(const char *subj, size_t index, const char *want) {
    size_t tl = 99;
    const char *t = nx_subject_token_at(subj, strlen(subj), index, &tl);
    cr_assert_eq(tl, strlen(want), "token %zu of %s: length %zu, want %zu", index, subj, tl,
                 strlen(want));
    cr_assert(memcmp(t, want, tl) == 0, "token %zu of %s: want %s", index, subj, want);
}

Test(subject, token_at) {
    GO_TEST("server/sublist_test.go", "TestSubjectToken");
    check_token("foo.bar.baz.*", 0, "");
    check_token("foo.bar.baz.*", 1, "foo");
    check_token("foo.bar.baz.*", 2, "bar");
    check_token("foo.bar.baz.*", 3, "baz");
    check_token("foo.bar.baz.*", 4, "*");
    check_token("foo.bar.baz.*", 5, "");
    check_token("", 1, "");
    check_token("a..b", 2, "");
    check_token("a..b", 3, "b");
}

Test(subject, num_tokens) {
    cr_assert_eq(nx_subject_num_tokens(S("")), 0);
    cr_assert_eq(nx_subject_num_tokens(S("foo")), 1);
    cr_assert_eq(nx_subject_num_tokens(S("foo.bar.>")), 3);
    cr_assert_eq(nx_subject_num_tokens(S("foo.")), 2);
    cr_assert_eq(nx_subject_num_tokens(S(".")), 2);
}

Test(subject, is_subset_match) {
    GO_TEST("server/sublist_test.go", "TestIsSubsetMatch");
    CHECK2(nx_subject_subset_match, "foo.bar", "foo.bar", true);
    CHECK2(nx_subject_subset_match, "foo.*", ">", true);
    CHECK2(nx_subject_subset_match, "foo.*", "*.*", true);
    CHECK2(nx_subject_subset_match, "foo.*", "foo.*", true);
    CHECK2(nx_subject_subset_match, "foo.*", "foo.bar", false);
    CHECK2(nx_subject_subset_match, "foo.>", ">", true);
    CHECK2(nx_subject_subset_match, "foo.>", "*.>", true);
    CHECK2(nx_subject_subset_match, "foo.>", "foo.>", true);
    CHECK2(nx_subject_subset_match, "foo.>", "foo.bar", false);
    CHECK2(nx_subject_subset_match, "foo..bar", "foo.*", false); /* bad subject */
    CHECK2(nx_subject_subset_match, "foo.*", "foo..bar", false); /* bad filter */
}

Test(subject, is_subset_match_extra) {
    /* Token-count edges, and Go's quirk that a filter token starting with '*' is a wildcard. */
    CHECK2(nx_subject_subset_match, "foo", "foo.bar", false);
    CHECK2(nx_subject_subset_match, "foo.bar", "foo", false);
    CHECK2(nx_subject_subset_match, "foo.bar", "foo.*", true);
    CHECK2(nx_subject_subset_match, "foo.bar.baz", "foo.>", true);
    CHECK2(nx_subject_subset_match, "foo", "foo.>", false);
    CHECK2(nx_subject_subset_match, "foo.bar", "foo.*x", true);
    CHECK2(nx_subject_subset_match, "", ">", true); /* Go checks the filter token first */
    CHECK2(nx_subject_subset_match, "", "", false);
}

Test(subject, subjects_collide) {
    GO_TEST("server/sublist_test.go", "TestSublistSubjectCollide");
    CHECK2(nx_subject_collide, "foo.*", "foo.*.bar.>", false);
    CHECK2(nx_subject_collide, "foo.*.bar.>", "foo.*", false);
    CHECK2(nx_subject_collide, "foo.*", "foo.foo", true);
    CHECK2(nx_subject_collide, "foo.*", "*.foo", true);
    CHECK2(nx_subject_collide, "foo.bar.>", "*.bar.foo", true);
}

Test(subject, subjects_collide_extra) {
    CHECK2(nx_subject_collide, "foo.bar", "foo.bar", true);
    CHECK2(nx_subject_collide, "foo.bar", "foo.baz", false);
    CHECK2(nx_subject_collide, "foo.*", "foo.>", true);
    CHECK2(nx_subject_collide, "foo.*", "bar.*", false);
    CHECK2(nx_subject_collide, "*.*", "*.*.*", false);
    CHECK2(nx_subject_collide, "foo.>", "*.bar.*.>", true);
    CHECK2(nx_subject_collide, "foo.>", "bar.>", false);
    CHECK2(nx_subject_collide, ">", "foo.bar", true);
}

Test(subject, queue_names) {
    /* client.go splitArg separates SUB arguments on ' ', '\t', '\r', '\n' only. */
    CHECK(nx_queue_valid, "workers", true);
    CHECK(nx_queue_valid, "q.*.>", true);
    CHECK(nx_queue_valid, "", false);
    CHECK(nx_queue_valid, "a b", false);
    CHECK(nx_queue_valid, "a\tb", false);
    CHECK(nx_queue_valid, "a\r", false);
    CHECK(nx_queue_valid, "\nq", false);
    CHECK(nx_queue_valid, "a\fb", true);
}
