/* Go encoding/json error texts and option decoding for the system account's requests
 * (broker/sys_json.c): what nats-server v2.14.5 server/events.go zReq puts in
 * {"error":{"code":400,"description":...}} when a request body does not decode. */
#include <criterion/criterion.h>
#include <string.h>

#include "broker/sys_requests.h"

static void syntax(const char *doc, const char *want) {
    char err[256];
    sys_json_syntax_error(doc, strlen(doc), err, sizeof err);
    cr_assert_str_eq(err, want, "for %s", doc);
}

Test(sys_json, go_syntax_errors) {
    syntax("{\"limit\":5}", "");
    syntax(" [1, {\"a\":\"\\u00e9\"}, true, null, -1.5e+3] ", "");
    syntax("", "unexpected end of JSON input");
    syntax("{", "unexpected end of JSON input");
    syntax("{\"a\":", "unexpected end of JSON input");
    syntax("x", "invalid character 'x' looking for beginning of value");
    syntax("{\"a\" 1}", "invalid character '1' after object key");
    syntax("{\"a\":1 \"b\"}", "invalid character '\"' after object key:value pair");
    syntax("[1 2]", "invalid character '2' after array element");
    syntax("{\"a\":tru}", "invalid character '}' in literal true (expecting 'e')");
    syntax("{\"a\":nul}", "invalid character '}' in literal null (expecting 'l')");
    syntax("{\"a\":-x}", "invalid character 'x' in numeric literal");
    syntax("{\"a\":1.}", "invalid character '}' after decimal point in numeric literal");
    syntax("{\"a\":1e}", "invalid character '}' in exponent of numeric literal");
    syntax("\"\\x\"", "invalid character 'x' in string escape code");
    syntax("\"a\nb\"", "invalid character '\\n' in string literal");
    syntax("{} {}", "invalid character '{' after top-level value");
    syntax("01", "invalid character '1' after top-level value");
    syntax("{'a':1}", "invalid character '\\'' looking for beginning of object key string");
    syntax("{\"a\":1,}", "invalid character '}' looking for beginning of object key string");
    syntax("[1,]", "invalid character ']' looking for beginning of value");
}

static const sys_opt_field fields[] = {
    {"limit", SYS_OT_INT, "limit"},
    {"cid", SYS_OT_UINT64, "cid"},
    {"subscriptions", SYS_OT_BOOL, "subs"},
    {"state", SYS_OT_STATE, "state"},
    {"sort", SYS_OT_SORT, "sort"},
    {"accounts", SYS_OT_STRLIST, "accounts"},
    {NULL, 0, NULL},
};

static int decode(const char *body, json_t **args, sys_filter *f, char *err) {
    return sys_decode_opts(body, strlen(body), "ConnzEventOptions", fields, args, f, err, 256);
}

Test(sys_json, options_decode_as_go) {
    json_t *args;
    sys_filter f;
    char err[256];
    cr_assert_eq(decode("{\"Limit\":5,\"subscriptions\":true,\"state\":1,\"sort\":\"cid\","
                        "\"unknown\":[1],\"cid\":null,\"server_name\":\"x\",\"exact_match\":true,"
                        "\"tags\":[\"a\",\"b\"],\"domain\":\"d\"}",
                        &args, &f, err),
                 0, "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(args, "limit")), "5");
    cr_assert_str_eq(json_string_value(json_object_get(args, "subs")), "true");
    cr_assert_str_eq(json_string_value(json_object_get(args, "state")), "closed");
    cr_assert_str_eq(json_string_value(json_object_get(args, "sort")), "cid");
    cr_assert(!json_object_get(args, "cid")); /* null leaves it alone */
    cr_assert_str_eq(f.name, "x");
    cr_assert_str_eq(f.domain, "d");
    cr_assert(f.exact);
    cr_assert_eq(f.ntags, 2);
    json_decref(args);
    sys_filter_free(&f);
    cr_assert_eq(decode("null", &args, &f, err), 0);
    json_decref(args);
    sys_filter_free(&f);
    static const char *const bad[][2] = {
        {"{\"limit\":\"5\"}", "json: cannot unmarshal string into Go struct field "
                              "ConnzEventOptions.limit of type int"},
        {"{\"limit\":1.5}", "json: cannot unmarshal number 1.5 into Go struct field "
                            "ConnzEventOptions.limit of type int"},
        {"{\"cid\":-2}", "json: cannot unmarshal number -2 into Go struct field "
                         "ConnzEventOptions.cid of type uint64"},
        {"{\"subscriptions\":\"yes\"}", "json: cannot unmarshal string into Go struct field "
                                        "ConnzEventOptions.subscriptions of type bool"},
        {"{\"sort\":1}", "json: cannot unmarshal number into Go struct field "
                         "ConnzEventOptions.sort of type server.SortOpt"},
        {"{\"state\":\"open\"}", "json: cannot unmarshal string into Go struct field "
                                 "ConnzEventOptions.state of type server.ConnState"},
        {"{\"accounts\":\"A\"}", "json: cannot unmarshal string into Go struct field "
                                 "ConnzEventOptions.accounts of type []string"},
        {"{\"tags\":[true]}", "json: cannot unmarshal bool into Go struct field "
                              "ConnzEventOptions.tags of type string"},
        {"{\"server_name\":{}}", "json: cannot unmarshal object into Go struct field "
                                 "ConnzEventOptions.server_name of type string"},
        {"[]", "json: cannot unmarshal array into Go value of type server.ConnzEventOptions"},
        {"\"x\"", "json: cannot unmarshal string into Go value of type "
                  "server.ConnzEventOptions"},
        {"{\"limit\":", "unexpected end of JSON input"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(decode(bad[i][0], &args, &f, err), -1, "%s", bad[i][0]);
        cr_assert_str_eq(err, bad[i][1]);
        json_decref(args);
        sys_filter_free(&f);
    }
}

Test(sys_json, filters_as_go) {
    sys_filter f = {0};
    cr_assert(!sys_filter_skips(&f, "srv", "0.0.0.0", "", ""));
    f.name = strdup("sr");
    cr_assert(!sys_filter_skips(&f, "srv", "0.0.0.0", "", "")); /* contains */
    f.exact = true;
    cr_assert(sys_filter_skips(&f, "srv", "0.0.0.0", "", ""));
    f.exact = false;
    f.cluster = strdup("C");
    cr_assert(sys_filter_skips(&f, "srv", "0.0.0.0", "", ""));
    cr_assert(!sys_filter_skips(&f, "srv", "0.0.0.0", "CLU", ""));
    f.domain = strdup("hub");
    cr_assert(sys_filter_skips(&f, "srv", "0.0.0.0", "CLU", "leaf"));
    cr_assert(!sys_filter_skips(&f, "srv", "0.0.0.0", "CLU", "hub"));
    f.ntags = 1;
    cr_assert(sys_filter_skips(&f, "srv", "0.0.0.0", "CLU", "hub"));
    sys_filter_free(&f);
}

Test(sys_json, compact_text_helpers) {
    char doc[] = "{\n  \"a\": \"x y\\\" z\",\n  \"b\": [1, {\"c\": 2}],\n  \"d\": {}\n}";
    size_t n = sys_json_compact(doc, strlen(doc));
    cr_assert_str_eq(doc, "{\"a\":\"x y\\\" z\",\"b\":[1,{\"c\":2}],\"d\":{}}");
    size_t off, len;
    cr_assert(sys_json_member(doc, n, "b", &off, &len));
    cr_assert_eq(len, 11);
    cr_assert(!strncmp(doc + off, "[1,{\"c\":2}]", len));
    cr_assert(sys_json_member(doc, n, "d", &off, &len));
    cr_assert(!strncmp(doc + off, "{}", len));
    cr_assert(!sys_json_member(doc, n, "c", &off, &len));
}
