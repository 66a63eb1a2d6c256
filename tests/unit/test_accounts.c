/* Account configuration tests (broker/account_conf.c, broker/account_check.c): ports of the
 * config cases of nats-server v2.14.5 server/accounts_test.go and the import cycle cases of
 * test/accounts_cycles_test.go, with Go's error texts.  Go inspects its Options/Account
 * structures; here the same facts come from br_accounts_conf and br_auth_opts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/account.h"
#include "broker/auth.h"
#include "common/conf.h"
#include "common/gotest.h"

typedef struct loaded {
    br_accounts_conf acc;
    br_auth_opts auth;
    br_conf_diag d;
} loaded;

/* Parses text as "test.conf" and applies the keys this module owns, as options_conf.c does. */
static int load(const char *text, loaded *l) {
    memset(l, 0, sizeof *l);
    nx_conf_value *root = NULL;
    char err[1024];
    nx_conf_opts co = {.file = "test.conf"};
    if (nx_conf_parse(text, strlen(text), &co, &root, err, sizeof err) < 0) {
        l->d.errors = strdup(err);
        l->d.nerrors = 1;
        return 1;
    }
    NX_CONF_MAP_FOREACH(root, e) {
        if (!strcasecmp(e->key, "accounts"))
            br_accounts_conf_parse(&l->acc, &l->auth, e->value, &l->d);
        else if (!strcasecmp(e->key, "system_account") || !strcasecmp(e->key, "system"))
            br_accounts_conf_system(&l->acc, e->value, &l->d);
        else
            br_auth_conf_apply(&l->auth, e->key, e->value, &l->d);
    }
    nx_conf_free(root);
    return l->d.nerrors;
}

static void unload(loaded *l) {
    br_accounts_conf_free(&l->acc);
    br_auth_opts_free(&l->auth);
    br_conf_diag_free(&l->d);
}

static void expect_ok(const char *text) {
    loaded l;
    cr_assert_eq(load(text, &l), 0, "unexpected errors: %s", l.d.errors);
    unload(&l);
}

static void expect_error(const char *text, const char *needle) {
    loaded l;
    cr_assert_gt(load(text, &l), 0, "expected an error containing \"%s\"", needle);
    cr_assert(strstr(l.d.errors, needle), "expected \"%s\" in: %s", needle, l.d.errors);
    unload(&l);
}

static const br_user *user(const loaded *l, const char *name) {
    for (size_t i = 0; i < l->auth.nusers; i++)
        if (!strcmp(l->auth.users[i].username, name)) return &l->auth.users[i];
    return NULL;
}

/* ---- server/accounts_test.go ---------------------------------------------------------- */

Test(accounts_conf, simple_list) {
    GO_TEST("server/accounts_test.go", "TestAccountSimpleConfig");
    loaded l;
    cr_assert_eq(load("accounts = [foo, bar]", &l), 0, "%s", l.d.errors);
    cr_assert_eq(l.acc.n, 2);
    cr_assert(br_accounts_conf_find(&l.acc, "foo"));
    cr_assert(br_accounts_conf_find(&l.acc, "bar"));
    unload(&l);
    expect_error("accounts = [foo, foo]", "test.conf:1:17: Duplicate Account Entry: foo");
}

Test(accounts_conf, users_per_account) {
    GO_TEST("server/accounts_test.go", "TestAccountParseConfig");
    loaded l;
    cr_assert_eq(load("accounts {\n"
                      "  synadia { users = [ {user: alice, password: foo}\n"
                      "                      {user: bob, password: bar} ] }\n"
                      "  nats.io { msg_trace: {dest: \"my.trace.dest\", sampling: 50%}\n"
                      "            users = [ {user: derek, password: foo}\n"
                      "                      {user: ivan, password: bar} ] }\n"
                      "}\n",
                      &l),
                 0, "%s", l.d.errors);
    cr_assert_eq(l.acc.n, 2);
    cr_assert_eq(l.auth.nusers, 4);
    cr_assert_str_eq(user(&l, "derek")->account, "nats.io");
    cr_assert_str_eq(user(&l, "alice")->account, "synadia");
    unload(&l);
}

Test(accounts_conf, duplicate_users) {
    GO_TEST("server/accounts_test.go", "TestAccountParseConfigDuplicateUsers");
    expect_error(
        "accounts {\n"
        "  synadia { users = [ {user: alice, password: foo}, {user: bob, password: bar} ] }\n"
        "  nats.io { users = [ {user: alice, password: bar} ] }\n"
        "}\n",
        "test.conf:3:13: Duplicate user \"alice\" detected");
}

static const char *accounts_conf_text =
    "accounts: {\n"
    "  synadia: {\n"
    "    nkey: ADMHMDX2LEUJRZQHGVSVRWZEJ2CPNHYO6TB4ZCZ37LXAX5SYNEW252GF\n"
    "    users = [\n"
    "      {nkey : UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX}\n"
    "      {nkey : UBAAQWTW6CG2G6ANGNKB5U2B7HRWHSGMZEZX3AQSAJOQDAUGJD46LD2E}\n"
    "    ]\n"
    "    exports = [\n"
    "      {stream: \"public.>\"}\n"
    "      {stream: \"synadia.private.>\", accounts: [cncf, nats.io]}\n"
    "      {service: \"pub.request\"}\n"
    "      {service: \"pub.special.request\", accounts: [nats.io]}\n"
    "    ]\n"
    "    imports = [ {service: {account: \"nats.io\", subject: \"nats.time\"}} ]\n"
    "  }\n"
    "  nats.io: {\n"
    "    nkey: AB5UKNPVHDWBP5WODG742274I3OGY5FM3CBIFCYI4OFEH7Y23GNZPXFE\n"
    "    users = [\n"
    "      {nkey : UBRYMDSRTC6AVJL6USKKS3FIOE466GMEU67PZDGOWYSYHWA7GSKO42VW}\n"
    "      {nkey : UDEREK22W43P2NFQCSKGM6BWD23OVWEDR7JE7LSNCD232MZIC4X2MEKZ}\n"
    "    ]\n"
    "    imports = [\n"
    "      {stream: {account: \"synadia\", subject:\"public.synadia\"}, prefix: "
    "\"imports.synadia\", allow_trace: true}\n"
    "      {stream: {account: \"synadia\", subject:\"synadia.private.*\"}}\n"
    "      {service: {account: \"synadia\", subject: \"pub.special.request\"}, to: "
    "\"synadia.request\"}\n"
    "    ]\n"
    "    exports = [\n"
    "      {service: \"nats.time\", response: stream, allow_trace: true}\n"
    "      {service: \"nats.photo\", response: chunked}\n"
    "      {service: \"nats.add\", response: singleton, accounts: [cncf], allow_trace: true}\n"
    "      {service: \"nats.sub\"}\n"
    "    ]\n"
    "  }\n"
    "  cncf: { nkey: ABDAYEV6KZVLW3GSJ3V7IWC542676TFYILXF2C7Z56LCPSMVHJE5BVYO}\n"
    "}\n";

static size_t count(const br_acc_conf *a, bool service, bool import) {
    size_t n = 0;
    if (import) {
        for (size_t i = 0; i < a->nimports; i++)
            n += a->imports[i].service == service;
    } else {
        for (size_t i = 0; i < a->nexports; i++)
            n += a->exports[i].service == service;
    }
    return n;
}

static const br_export_conf *export_of(const br_acc_conf *a, const char *subject) {
    for (size_t i = 0; i < a->nexports; i++)
        if (!strcmp(a->exports[i].subject, subject)) return &a->exports[i];
    return NULL;
}

Test(accounts_conf, imports_exports) {
    GO_TEST("server/accounts_test.go", "TestAccountParseConfigImportsExports");
    loaded l;
    cr_assert_eq(load(accounts_conf_text, &l), 0, "%s", l.d.errors);
    cr_assert_eq(l.acc.n, 3);
    cr_assert_eq(l.auth.nnkeys, 4);
    cr_assert_eq(l.auth.nusers, 0);
    const br_acc_conf *nats = br_accounts_conf_find(&l.acc, "nats.io");
    const br_acc_conf *syn = br_accounts_conf_find(&l.acc, "synadia");
    cr_assert(nats && syn);
    cr_assert_str_eq(nats->nkey, "AB5UKNPVHDWBP5WODG742274I3OGY5FM3CBIFCYI4OFEH7Y23GNZPXFE");
    bool found = false;
    for (size_t i = 0; i < l.auth.nnkeys; i++)
        if (!strcmp(l.auth.nkeys[i].nkey,
                    "UBRYMDSRTC6AVJL6USKKS3FIOE466GMEU67PZDGOWYSYHWA7GSKO42VW")) {
            cr_assert_str_eq(l.auth.nkeys[i].account, "nats.io");
            found = true;
        }
    cr_assert(found);
    cr_assert_eq(count(nats, false, true), 2);
    cr_assert_eq(count(nats, true, true), 1);
    cr_assert_eq(count(nats, true, false), 4);
    cr_assert_eq(count(nats, false, false), 0);
    cr_assert_eq(export_of(nats, "nats.time")->rt, BR_RESP_STREAMED);
    cr_assert_eq(export_of(nats, "nats.photo")->rt, BR_RESP_CHUNKED);
    cr_assert_eq(export_of(nats, "nats.add")->rt, BR_RESP_SINGLETON);
    cr_assert_eq(count(syn, false, true), 0);
    cr_assert_eq(count(syn, true, true), 1);
    cr_assert_eq(count(syn, true, false), 2);
    cr_assert_eq(count(syn, false, false), 2);
    unload(&l);
}

Test(accounts_conf, import_export_failures) {
    GO_TEST("server/accounts_test.go", "TestImportExportConfigFailures");
    expect_error("accounts {\n nats.io {\n"
                 "  imports = [{stream: {account: \"synadia\", subject:\"foo\"}}]\n }\n}\n",
                 "test.conf:1:0: \"synadia\" account not defined for stream import");
    expect_error("accounts {\n nats.io {\n  imports = [{service: subject:\"foo.*\"}]\n }\n}\n",
                 "Service entry should be an account map, got string");
    expect_error("accounts {\n nats.io {\n"
                 "  imports = [{service: {account: \"nats.io\", subject:\"foo.*\"}]\n }\n}\n",
                 "Expected a map value terminator");
    expect_error("accounts {\n nats.io {\n  exports = [{service: \"foo.*\", wat:true}]\n }\n}\n",
                 "test.conf:3:33: unknown field \"wat\"");
    expect_error("accounts {\n nats.io {\n"
                 "  imports = [{stream: {account: nats.io, subject: \"foo.*\"}, wat:true}]\n"
                 " }\n}\n",
                 "unknown field \"wat\"");
    expect_error("accounts {\n nats.io {\n"
                 "  exports = [{service: {account: nats.io, subject:\"foo.*\"}}]\n }\n}\n",
                 "Expected service name to be string, got map[string]interface {}");
}

Test(accounts_conf, reserved_global) {
    GO_TEST("server/accounts_test.go", "TestAccountGlobalDefault");
    expect_error("accounts { $G {} }", "test.conf:1:11: \"$G\" is a Reserved Account");
    expect_error("accounts [ \"$G\" ]", "\"$G\" is a Reserved Account");
}

Test(accounts_conf, duplicate_service_import_subject) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountDuplicateServiceImportSubject",
                    "through the config file: Go's own parser check comes first");
    expect_error("accounts {\n"
                 " foo { exports [ {service: remote1}, {service: remote2} ] }\n"
                 " bar { imports [ {service: {account: foo, subject: remote1}, to: foo}\n"
                 "                 {service: {account: foo, subject: remote2}, to: foo} ] }\n"
                 "}\n",
                 "Duplicate service import subject \"foo\", previously used in import for "
                 "account \"foo\", subject \"remote1\"");
    expect_ok("accounts {\n"
              " foo { exports [ {service: remote1} ] }\n"
              " baz { exports [ {service: remote1} ] }\n"
              " bar { imports [ {service: {account: foo, subject: remote1}, to: foo}\n"
              "                 {service: {account: baz, subject: remote1}, to: foo} ] }\n"
              "}\n");
}

Test(accounts_conf, limits) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestAccountLimitsServerConfig",
                    "parsing only; enforcement is in tests/integration/test_accounts.c");
    loaded l;
    cr_assert_eq(load("accounts { MAXC { users = [{user: derek, password: foo}]\n"
                      "  limits { max_connections: 5, max_subs: 10, max_payload: 22, "
                      "max_leafnodes: 1 } } }",
                      &l),
                 0, "%s", l.d.errors);
    const br_acc_conf *a = br_accounts_conf_find(&l.acc, "MAXC");
    cr_assert_eq(a->max_conns, 5);
    cr_assert_eq(a->max_subs, 10);
    cr_assert_eq(a->max_payload, 22);
    cr_assert_eq(a->max_leafs, 1);
    unload(&l);
    expect_error("accounts { A { limits { max_wat: 1 } } }",
                 "test.conf:1:24: Unknown field \"max_wat\" parsing account limits");
}

Test(accounts_conf, go_error_texts) {
    expect_error("accounts { A: 1 }", "test.conf:1:11: Expected map entries for accounts");
    expect_error("accounts { A { nkey: foo } }", "Not a valid public nkey for an account: \"foo\"");
    expect_error("accounts { A { exports: 1 } }", "Exports should be an array, got int64");
    expect_error("accounts { A { imports: 1 } }", "Imports should be an array, got int64");
    expect_error("accounts { A { exports [ {stream: foo, response: single} ] } }",
                 "Detected response directive on non-service");
    expect_error("accounts { A { exports [ {service: foo, response: wat} ] } }",
                 "Unknown response type: \"wat\"");
    expect_error("accounts { A { exports [ {stream: foo} ] }\n"
                 " B { imports [ {stream: {account: A, subject: foo}, prefix: \"p.*\"} ] } }",
                 "Error adding stream import \"foo\": stream import prefix can not contain "
                 "wildcard tokens");
    expect_error("accounts { A { exports [ {stream: foo, accounts: [C]} ] }\n"
                 " B { imports [ {stream: {account: A, subject: foo}} ] } }",
                 "\"C\" account not defined for stream export");
    expect_error("accounts { A { exports [ {stream: foo}, {stream: bar, accounts: [A]} ] }\n"
                 " B { imports [ {stream: {account: A, subject: bar}} ] } }",
                 "Error adding stream import \"bar\": stream import not authorized");
    expect_error("authorization { user: a, password: b }\n"
                 "accounts { A { users [ {user: x, password: y} ] } }",
                 "Can not have a single user/pass and accounts");
    expect_error("system_account: 1", "system account name must be a string");
}

Test(accounts_conf, token_position) {
    expect_ok("accounts { A { exports [ {stream: \"foo.*\", account_token_position: 2} ] }\n"
              " B { imports [ {stream: {account: A, subject: foo.B}} ] } }");
    expect_error("accounts { A { exports [ {stream: \"foo.*\", account_token_position: 2} ] }\n"
                 " B { imports [ {stream: {account: A, subject: foo.C}} ] } }",
                 "stream import not authorized");
    expect_error("accounts { A { exports [ {stream: \"foo.bar\", account_token_position: 2} ] } }",
                 "Error adding stream export \"foo.bar\": sublist: invalid subject");
}

Test(accounts_conf, no_auth_user_in_account) {
    loaded l;
    cr_assert_eq(load("accounts { A { users [ {user: a, password: a} ] } }\nno_auth_user: a", &l),
                 0, "%s", l.d.errors);
    br_auth *a = NULL;
    char err[512];
    cr_assert_eq(br_auth_new(&l.auth, &a, err, sizeof err), 0, "%s", err);
    br_auth_creds none = {0};
    br_auth_result r;
    cr_assert_eq(br_auth_check(a, &none, &r), 0);
    cr_assert_str_eq(r.account, "A");
    br_auth_free(a);
    unload(&l);
    cr_assert_eq(load("accounts { A { users [ {user: a, password: a} ] } }\nno_auth_user: b", &l),
                 0);
    cr_assert_lt(br_auth_new(&l.auth, &a, err, sizeof err), 0);
    cr_assert_str_eq(err, "no_auth_user: \"b\" not present as user or nkey in authorization "
                          "block or account configuration");
    unload(&l);
}

/* ---- test/accounts_cycles_test.go ------------------------------------------------------- */

#define CYCLE "import forms a cycle"

Test(accounts_cycles, service) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleService");
    expect_error("accounts {\n"
                 " A { exports [ { service: help } ]\n"
                 "     imports [ { service { subject: help, account: B } } ] }\n"
                 " B { exports [ { service: help } ]\n"
                 "     imports [ { service { subject: help, account: A } } ] }\n"
                 "}\n",
                 "test.conf:1:0: Error adding service import \"help\": " CYCLE);
    expect_error("accounts {\n"
                 " A { exports [ { service: * } ]\n"
                 "     imports [ { service { subject: help, account: B } } ] }\n"
                 " B { exports [ { service: help } ]\n"
                 "     imports [ { service { subject: *, account: A } } ] }\n"
                 "}\n",
                 CYCLE);
    expect_error("accounts {\n"
                 " A { exports [ { service: * } ]\n"
                 "     imports [ { service { subject: help, account: B } } ] }\n"
                 " B { exports [ { service: help } ]\n"
                 "     imports [ { service { subject: help, account: C } } ] }\n"
                 " C { exports [ { service: * } ]\n"
                 "     imports [ { service { subject: *, account: A } } ] }\n"
                 "}\n",
                 CYCLE);
}

Test(accounts_cycles, stream) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleStream");
    expect_error("accounts {\n"
                 " A { exports [ { stream: strm } ]\n"
                 "     imports [ { stream { subject: strm, account: B } } ] }\n"
                 " B { exports [ { stream: strm } ]\n"
                 "     imports [ { stream { subject: strm, account: A } } ] }\n"
                 "}\n",
                 "Error adding stream import \"strm\": " CYCLE);
}

Test(accounts_cycles, stream_with_mapping) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleStreamWithMapping");
    expect_error("accounts {\n"
                 " A { exports [ { stream: * } ]\n"
                 "     imports [ { stream { subject: bar, account: B } } ] }\n"
                 " B { exports [ { stream: bar } ]\n"
                 "     imports [ { stream { subject: foo, account: A }, to: bar } ] }\n"
                 "}\n",
                 CYCLE);
}

Test(accounts_cycles, non_cycle_stream_with_mapping) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleNonCycleStreamWithMapping");
    expect_ok("accounts {\n"
              " A { exports [ { stream: foo } ]\n"
              "     imports [ { stream { subject: bar, account: B } } ] }\n"
              " B { exports [ { stream: bar } ]\n"
              "     imports [ { stream { subject: baz, account: C }, to: bar } ] }\n"
              " C { exports [ { stream: baz } ]\n"
              "     imports [ { stream { subject: foo, account: A }, to: bar } ] }\n"
              "}\n");
}

Test(accounts_cycles, service_cycle_with_mapping) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleServiceCycleWithMapping");
    expect_error("accounts {\n"
                 " A { exports [ { service: a } ]\n"
                 "     imports [ { service { subject: b, account: B }, to: a } ] }\n"
                 " B { exports [ { service: b } ]\n"
                 "     imports [ { service { subject: a, account: A }, to: b } ] }\n"
                 "}\n",
                 CYCLE);
}

Test(accounts_cycles, service_non_cycle) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleServiceNonCycle");
    expect_ok("accounts {\n"
              " A { exports [ { service: * } ]\n"
              "     imports [ { service { subject: help, account: B } } ] }\n"
              " B { exports [ { service: help } ]\n"
              "     imports [ { service { subject: nohelp, account: C } } ] }\n"
              " C { exports [ { service: * } ]\n"
              "     imports [ { service { subject: *, account: A } } ] }\n"
              "}\n");
}

Test(accounts_cycles, service_non_cycle_chain) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleServiceNonCycleChain");
    expect_ok("accounts {\n"
              " A { exports [ { service: help } ]\n"
              "     imports [ { service { subject: help, account: B } } ] }\n"
              " B { exports [ { service: help } ]\n"
              "     imports [ { service { subject: help, account: C } } ] }\n"
              " C { exports [ { service: help } ]\n"
              "     imports [ { service { subject: help, account: D } } ] }\n"
              " D { exports [ { service: help } ] }\n"
              "}\n");
}

Test(accounts_cycles, with_renaming) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleWithRenaming");
    expect_error("accounts {\n"
                 " A { exports [ { service: * } ]\n"
                 "     imports [ { service { subject: foo, account: B }, to: foo } ] }\n"
                 " B { exports [ { service: foo } ]\n"
                 "     imports [ { service { subject: *, account: A }, to: \"$1\" } ] }\n"
                 "}\n",
                 CYCLE);
    expect_error("accounts {\n"
                 " A { exports [ { stream: * } ]\n"
                 "     imports [ { stream { subject: foo, account: B }, to: foo } ] }\n"
                 " B { exports [ { stream: foo } ]\n"
                 "     imports [ { stream { subject: *, account: A }, to: \"$1\" } ] }\n"
                 "}\n",
                 CYCLE);
}

Test(accounts_cycles, false_positive_subject_mapping) {
    GO_TEST("test/accounts_cycles_test.go", "TestAccountCycleFalsePositiveSubjectMapping");
    expect_ok("accounts {\n"
              " A { exports [ { service: \"a.*\" } ]\n"
              "     imports [ { service { subject: \"a.*\", account: B }, to: \"b.*\" } ] }\n"
              " B { exports [ { service: \"a.*\" } ]\n"
              "     imports [ { service { subject: \"a.foo\", account: A }, to: \"c.foo\" } ] }\n"
              "}\n");
}

Test(accounts_conf, default_permissions_per_account) {
    loaded l;
    cr_assert_eq(load("accounts { A {\n"
                      "  default_permissions { publish: \"foo\" }\n"
                      "  users [ {user: a, password: a}\n"
                      "          {user: b, password: b, permissions: {publish: \"bar\"}} ] } }",
                      &l),
                 0, "%s", l.d.errors);
    const br_user *a = user(&l, "a"), *b = user(&l, "b");
    cr_assert(a->perms && a->perms->publish && a->perms->publish->nallow == 1);
    cr_assert_str_eq(a->perms->publish->allow[0], "foo");
    cr_assert_str_eq(b->perms->publish->allow[0], "bar");
    cr_assert_str_eq(a->account, "A");
    unload(&l);
}

Test(accounts_conf, system_account_default) {
    loaded l;
    cr_assert_eq(load("accounts { A {} }", &l), 0);
    cr_assert_str_eq(br_accounts_system_name(&l.acc), "$SYS");
    unload(&l);
    cr_assert_eq(load("accounts { SYS {} }\nsystem_account: SYS", &l), 0);
    cr_assert_str_eq(br_accounts_system_name(&l.acc), "SYS");
    unload(&l);
}

/* One stream (or service) import of `subject` by bar from foo, whose exports are `exports`. */
static bool import_ok(const char *exports, bool service, const char *subject) {
    char conf[1024];
    snprintf(conf, sizeof conf,
             "accounts {\n foo { exports [ %s ] }\n"
             " bar { imports [ {%s: {account: foo, subject: \"%s\"}} ] } }\n",
             exports, service ? "service" : "stream", subject);
    loaded l;
    int n = load(conf, &l);
    bool ok = n == 0;
    if (!ok)
        cr_assert(strstr(l.d.errors, service ? "service import not authorized"
                                             : "stream import not authorized"),
                  "%s", l.d.errors);
    unload(&l);
    return ok;
}

Test(accounts_conf, import_authorized) {
    GO_TEST_PARTIAL("server/accounts_test.go", "TestImportAuthorized",
                    "through config imports; no activation tokens");
    cr_assert(!import_ok("{stream: other}", false, "foo"));
    const char *pub = "{stream: foo}";
    cr_assert(import_ok(pub, false, "foo"));
    cr_assert(!import_ok(pub, false, "bar"));
    cr_assert(!import_ok(pub, false, "*"));
    const char *star = "{stream: foo}, {stream: \"*\", accounts: [bar]}";
    cr_assert(import_ok(star, false, "foo"));
    cr_assert(import_ok(star, false, "bar"));
    cr_assert(import_ok(star, false, "baz"));
    cr_assert(!import_ok(star, false, "foo.bar"));
    cr_assert(!import_ok(star, false, ">"));
    cr_assert(import_ok(star, false, "*"));
    cr_assert(!import_ok(star, false, "foo.*"));
    cr_assert(!import_ok(star, false, "*.*"));
    cr_assert(!import_ok(star, false, "*.>"));
    const char *fwc = "{stream: \">\"}";
    const char *all[] = {"foo", "bar", "baz", "foo.bar", ">", "*", "foo.*", "*.*", "*.>"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_assert(import_ok(fwc, false, all[i]));
    const char *pos = "{stream: \"foo.*\", account_token_position: 2}, "
                      "{stream: \"bar.*.foo\", account_token_position: 2}";
    cr_assert(import_ok(pos, false, "foo.bar"));
    cr_assert(import_ok(pos, false, "bar.bar.foo"));
    cr_assert(!import_ok(pos, false, "foo.X"));
    cr_assert(!import_ok(pos, false, "bar.X.foo"));
    const char *spos = "{service: \"a.*\", account_token_position: 2}, "
                       "{service: \"b.*.a\", account_token_position: 2}";
    cr_assert(import_ok(spos, true, "a.bar"));
    cr_assert(import_ok(spos, true, "b.bar.a"));
    cr_assert(!import_ok(spos, true, "a.X"));
    cr_assert(!import_ok(spos, true, "b.X.a"));
    const char *mixed = "{stream: \"foo.*.baz.>\", accounts: [bar]}";
    cr_assert(import_ok(mixed, false, "foo.bar.baz.1"));
    cr_assert(import_ok(mixed, false, "foo.bar.baz.*"));
    cr_assert(import_ok(mixed, false, "foo.*.baz.1.1"));
    cr_assert(import_ok(mixed, false, "foo.22.baz.22"));
    cr_assert(!import_ok(mixed, false, "foo.bar.baz"));
    cr_assert(!import_ok(mixed, false, "foo.bar.*.*"));
}
