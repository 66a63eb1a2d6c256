/* Configuration checks with -t: ports Go nats-server v2.14.5 server/config_check_test.go.
 *
 * Every entry of Go's TestConfigCheck table is here, verbatim (config text, Go's message and
 * position).  Each one is written to a file and checked with `$NATS_SERVER_BIN -c file -t`, and
 * the test asserts the exit status and the exact text after "nats-server: " (Go main.go
 * PrintAndDie: warnings, then errors, one per line, then an empty line).  Where Go's test only
 * checks a substring, the expectation is Go v2.14.5's whole output.  Entries for features this
 * server does not have (gateway, leaf nodes, accounts, MQTT, websocket, proxies, JetStream)
 * expect the refusal at the top-level key instead (cluster {} is parsed, but its
 * authorization and tls blocks are refused and a cluster needs JetStream here: CC_DIFF); Go's own text stays in the table
 * so the entry can switch to CC_GO when the feature is built.  %F stands for the file's path;
 * `expect` holds the lines, the test adds Go's closing empty line.
 * Configs naming configs/certs/... get freshly generated certificates at that path.
 *
 * Also here: the variable and environment tests of server/opts_test.go (the config language
 * as the server reads it) and -t on tls {} files that do not load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common/gotest.h"
#include "tests/integration/conf_util.h"
#include "tests/integration/harness.h"

enum {
    CC_GO,      /* as Go v2.14.5 */
    CC_REFUSED, /* a feature not built: refused at the top-level key */
    CC_DIFF,    /* a documented difference (docs/deviations.md) */
};

typedef struct cc_case {
    const char *name;
    int kind;
    const char *expect; /* stderr after "nats-server: " (%F: the file); NULL: valid */
    const char *go;     /* Go's text where expect differs ("": valid in Go) */
    const char *conf;
} cc_case;

#define REF(l, c, key)                                                                             \
    "%F:" #l ":" #c ": option \"" key "\" is not supported by this server yet; refusing to start " \
    "without it (see docs/deviations.md)\n"

/* clang-format off */
static cc_case cases[] = {
    {"when unknown field is used at top level", CC_GO, "%F:2:17: unknown field \"monitor\"\n",
     NULL, "\n                monitor = \"127.0.0.1:4442\"\n                "},
    {"when default permissions are used at top level", CC_GO, "%F:2:18: unknown field \"default_permissions\"\n",
     NULL, "\n                \"default_permissions\" {\n                  publish = [\"_SANDBOX.>\"]\n                  subscribe = [\"_SANDBOX.>\"]\n                }\n                "},
    {"when authorization config is empty", CC_GO, NULL,
     NULL, "\n\t\tauthorization = {\n\t\t}\n\t\t"},
    {"when authorization config has unknown fields", CC_GO, "%F:3:5: unknown field \"foo\"\n",
     NULL, "\n\t\tauthorization = {\n\t\t  foo = \"bar\"\n\t\t}\n\t\t"},
    {"when authorization config has unknown fields", CC_GO, "%F:6:5: unknown field \"foo\"\n",
     NULL, "\n\t\tport = 4222\n\n\t\tauthorization = {\n\t\t  user = \"hello\"\n\t\t  foo = \"bar\"\n\t\t  password = \"world\"\n\t\t}\n\n\t\t"},
    {"when user authorization config has unknown fields", CC_GO, "%F:7:9: unknown field \"token\"\n",
     NULL, "\n\t\tauthorization = {\n\t\t  users = [\n\t\t    {\n\t\t      user = \"foo\"\n\t\t      pass = \"bar\"\n\t\t      token = \"quux\"\n\t\t    }\n\t\t  ]\n\t\t}\n\t\t"},
    {"when user authorization permissions config has unknown fields", CC_GO, "%F:5:7: Unknown field \"inboxes\" parsing permissions\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    subscribe = {}\n\t\t    inboxes = {}\n\t\t    publish = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when user authorization permissions config has unknown fields within allow or deny", CC_GO, "%F:7:9: Unknown field name \"denied\" parsing subject permissions, only 'allow' or 'deny' are permitted\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    subscribe = {\n\t\t      allow = [\"hello\", \"world\"]\n\t\t      deny = [\"foo\", \"bar\"]\n\t\t      denied = \"_INBOX.>\"\n\t\t    }\n\t\t    publish = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when user authorization permissions config has unknown fields within allow or deny", CC_GO, "%F:7:9: Unknown field name \"allowed\" parsing subject permissions, only 'allow' or 'deny' are permitted\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    publish = {\n\t\t      allow = [\"hello\", \"world\"]\n\t\t      deny = [\"foo\", \"bar\"]\n\t\t      allowed = \"_INBOX.>\"\n\t\t    }\n\t\t    subscribe = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when user authorization permissions config has unknown fields using arrays", CC_GO, "%F:7:6: Unknown field \"inboxes\" parsing permissions\n",
     NULL, "\n\t\tauthorization {\n\n\t\t default_permissions {\n\t\t   subscribe = [\"a\"]\n\t\t   publish = [\"b\"]\n\t\t   inboxes = [\"c\"]\n\t\t }\n\n\t\t users = [\n\t\t   {\n\t\t     user = \"foo\"\n\t\t     pass = \"bar\"\n\t\t   }\n\t\t  ]\n\t\t}\n\t\t"},
    {"when user authorization permissions config has unknown fields using strings", CC_GO, "%F:6:6: Unknown field \"requests\" parsing permissions\n",
     NULL, "\n\t\tauthorization {\n\n\t\t default_permissions {\n\t\t   subscribe = \"a\"\n\t\t   requests = \"b\"\n\t\t   publish = \"c\"\n\t\t }\n\n\t\t users = [\n\t\t   {\n\t\t     user = \"foo\"\n\t\t     pass = \"bar\"\n\t\t   }\n\t\t  ]\n\t\t}\n\t\t"},
    {"when user authorization permissions config is empty", CC_GO, NULL,
     NULL, "\n\t\tauthorization = {\n\t\t  users = [\n\t\t    {\n\t\t      user = \"foo\", pass = \"bar\", permissions = {\n\t\t      }\n\t\t    }\n\t\t  ]\n\t\t}\n\t\t"},
    {"when unknown permissions are included in user config", CC_GO, "%F:6:11: Unknown field \"inboxes\" parsing permissions\n",
     NULL, "\n\t\tauthorization = {\n\t\t  users = [\n\t\t    {\n\t\t      user = \"foo\", pass = \"bar\", permissions {\n\t\t        inboxes = true\n\t\t      }\n\t\t    }\n\t\t  ]\n\t\t}\n\t\t"},
    {"when clustering config is empty", CC_GO, NULL,
     NULL, "\n\t\tcluster = {\n\t\t}\n\t\t"},
    {"when unknown option is in clustering config", CC_DIFF, "%F:9:5: unknown field \"foo\"\n%F:11:5: option \"authorization\" is not supported by this server yet; refusing to start without it (see docs/deviations.md)\n",
     "%F:9:5: unknown field \"foo\"\n", "\n\t\t# NATS Server Configuration\n\t\tport = 4222\n\n\t\tcluster = {\n\n\t\t  port = 6222\n\n\t\t  foo = \"bar\"\n\n\t\t  authorization {\n\t\t    user = \"hello\"\n\t\t    pass = \"world\"\n\t\t  }\n\n\t\t}\n\t\t"},
    {"when unknown option is in clustering authorization config", CC_DIFF, "%F:3:5: option \"authorization\" is not supported by this server yet; refusing to start without it (see docs/deviations.md)\n",
     "%F:4:7: unknown field \"foo\"\n", "\n\t\tcluster = {\n\t\t  authorization {\n\t\t    foo = \"bar\"\n\t\t  }\n\t\t}\n\t\t"},
    {"when unknown option is in tls config", CC_GO, "%F:3:5: error parsing tls config, unknown field \"hello\"\n",
     NULL, "\n\t\ttls = {\n\t\t  hello = \"world\"\n\t\t}\n\t\t"},
    {"when unknown option is in cluster tls config", CC_DIFF, "%F:3:5: option \"tls\" is not supported by this server yet; refusing to start without it (see docs/deviations.md)\n",
     "%F:4:7: error parsing tls config, unknown field \"foo\"\n", "\n\t\tcluster {\n\t\t  tls = {\n\t\t    foo = \"bar\"\n\t\t  }\n\t\t}\n\t\t"},
    {"when using cipher suites in the TLS config", CC_GO, "%F:7:7: error parsing tls config, unknown field \"preferences\"\n",
     NULL, "\n\t\ttls = {\n\t\t    cipher_suites: [\n\t\t\t\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\",\n\t\t\t\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"\n\t\t    ]\n\t\t    preferences = []\n\t\t}\n\t\t"},
    {"when using curve preferences in the TLS config", CC_GO, "%F:8:7: error parsing tls config, unknown field \"suites\"\n",
     NULL, "\n\t\ttls = {\n\t\t    curve_preferences: [\n\t\t\t\"CurveP256\",\n\t\t\t\"CurveP384\",\n\t\t\t\"CurveP521\"\n\t\t    ]\n\t\t    suites = []\n\t\t}\n\t\t"},
    {"when using curve preferences in the TLS config", CC_GO, "%F:4:5: unrecognized curve preference CurveP5210000\n",
     NULL, "\n\t\ttls = {\n\t\t    curve_preferences: [\n\t\t\t\"CurveP5210000\"\n\t\t    ]\n\t\t}\n\t\t"},
    {"verify_cert_and_check_known_urls not support for clients", CC_GO, "%F:5:10: verify_cert_and_check_known_urls not supported in this context\n",
     NULL, "\n\t\ttls = {\n\t\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\t\tkey_file: \"configs/certs/key.pem\"\n\t\t\t\t\t    verify_cert_and_check_known_urls: true\n\t\t}\n\t\t"},
    {"when unknown option is in cluster config with defined routes", CC_GO, "%F:7:5: unknown field \"peers\"\n",
     NULL, "\n\t\tcluster {\n\t\t  port = 6222\n\t\t  routes = [\n\t\t    nats://127.0.0.1:6222\n\t\t  ]\n\t\t  peers = []\n\t\t}\n\t\t"},
    {"when used as variable in authorization block it should not be considered as unknown field", CC_GO, "%F:27:5: unknown field \"unused\"\n",
     NULL, "\n\t\t# listen:   127.0.0.1:-1\n\t\tlisten:   127.0.0.1:4222\n\n\t\tauthorization {\n\t\t  # Superuser can do anything.\n\t\t  super_user = {\n\t\t    publish = \">\"\n\t\t    subscribe = \">\"\n\t\t  }\n\n\t\t  # Can do requests on foo or bar, and subscribe to anything\n\t\t  # that is a response to an _INBOX.\n\t\t  #\n\t\t  # Notice that authorization filters can be singletons or arrays.\n\t\t  req_pub_user = {\n\t\t    publish = [\"req.foo\", \"req.bar\"]\n\t\t    subscribe = \"_INBOX.>\"\n\t\t  }\n\n\t\t  # Setup a default user that can subscribe to anything, but has\n\t\t  # no publish capabilities.\n\t\t  default_user = {\n\t\t    subscribe = \"PUBLIC.>\"\n\t\t  }\n\n\t\t  unused = \"hello\"\n\n\t\t  # Default permissions if none presented. e.g. susan below.\n\t\t  default_permissions: $default_user\n\n\t\t  # Users listed with persmissions.\n\t\t  users = [\n\t\t    {user: alice, password: foo, permissions: $super_user}\n\t\t    {user: bob,   password: bar, permissions: $req_pub_user}\n\t\t    {user: susan, password: baz}\n\t\t  ]\n\t\t}\n\t\t"},
    {"when used as variable in top level config it should not be considered as unknown field", CC_GO, NULL,
     NULL, "\n\t\tmonitoring_port = 8222\n\n\t\thttp_port = $monitoring_port\n\n\t\tport = 4222\n\t\t"},
    {"when used as variable in cluster config it should not be considered as unknown field", CC_DIFF, "clustering without JetStream (routes) is not supported by this server yet; refusing to start rather than run without it (see docs/deviations.md)",
     "", "\n\t\tcluster {\n\t\t  clustering_port = 6222\n\t\t  port = $clustering_port\n\t\t}\n\t\t"},
    {"when setting permissions within cluster authorization block", CC_DIFF, "%F:3:5: option \"authorization\" is not supported by this server yet; refusing to start without it (see docs/deviations.md)\n",
     "%F:3:5: invalid use of field \"authorization\": setting \"permissions\" within cluster authorization block is deprecated\n", "\n\t\tcluster {\n\t\t  authorization {\n\t\t    permissions = {\n\t\t      publish = { allow = [\"foo\", \"bar\"] }\n\t\t    }\n\t\t  }\n\n\t\t  permissions = {\n\t\t    publish = { deny = [\"foo\", \"bar\"] }\n\t\t  }\n\t\t}\n\t\t"},
    {"when write deadline is used with deprecated usage", CC_GO, "%F:2:17: invalid use of field \"write_deadline\": write_deadline should be converted to a duration\n",
     NULL, "\n                write_deadline = 100\n\t\t"},
    {"when accounts block is correctly configured", CC_GO, NULL,
     NULL, "\n\t\thttp_port = 8222\n\n\t\taccounts {\n\n\t\t  #\n\t\t  # synadia > nats.io, cncf\n\t\t  #\n\t\t  synadia {\n\t\t    # SAADJL5XAEM6BDYSWDTGVILJVY54CQXZM5ZLG4FRUAKB62HWRTPNSGXOHA\n\t\t    nkey = \"AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL\"\n\n\t\t    users [\n\t\t      {\n\t\t        # SUAEL6RU3BSDAFKOHNTEOK5Q6FTM5FTAMWVIKBET6FHPO4JRII3CYELVNM\n\t\t        nkey = \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t      }\n\t\t    ]\n\n\t\t    exports = [\n\t\t      { service: \"synadia.requests\", accounts: [nats, cncf] }\n\t\t    ]\n\t\t  }\n\n\t\t  #\n\t\t  # nats < synadia\n\t\t  #\n\t\t  nats {\n\t\t    # SUAJTM55JH4BNYDA22DMDZJSRBRKVDGSLYK2HDIOCM3LPWCDXIDV5Q4CIE\n\t\t    nkey = \"ADRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS\"\n\n\t\t    users [\n\t\t      {\n\t\t        # SUADZTYQAKTY5NQM7XRB5XR3C24M6ROGZLBZ6P5HJJSSOFUGC5YXOOECOM\n\t\t        nkey = \"UD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI\"\n\t\t      }\n\t\t    ]\n\n\t\t    imports = [\n\t\t      # This account has to send requests to 'nats.requests' subject\n\t\t      { service: { account: \"synadia\", subject: \"synadia.requests\" }, to: \"nats.requests\" }\n\t\t    ]\n\t\t  }\n\n\t\t  #\n\t\t  # cncf < synadia\n\t\t  #\n\t\t  cncf {\n\t\t    # SAAFHDZX7SGZ2SWHPS22JRPPK5WX44NPLNXQHR5C5RIF6QRI3U65VFY6C4\n\t\t    nkey = \"AD4YRVUJF2KASKPGRMNXTYKIYSCB3IHHB4Y2ME6B2PDIV5QJ23C2ZRIT\"\n\n\t\t    users [\n\t\t      {\n\t\t        # SUAKINP3Z2BPUXWOFSW2FZC7TFJCMMU7DHKP2C62IJQUDASOCDSTDTRMJQ\n\t\t        nkey = \"UB57IEMPG4KOTPFV5A66QKE2HZ3XBXFHVRCCVMJEWKECMVN2HSH3VTSJ\"\n\t\t      }\n\t\t    ]\n\n\t\t    imports = [\n\t\t      # This account has to send requests to 'synadia.requests' subject\n\t\t      { service: { account: \"synadia\", subject: \"synadia.requests\" } }\n\t\t    ]\n\t\t  }\n\t\t}\n\t\t\t\t"},
    {"when nkey is invalid within accounts block", CC_GO, "%F:14:11: Not a valid public nkey for a user\n",
     NULL, "\n\t\taccounts {\n\n\t\t  #\n\t\t  # synadia > nats.io, cncf\n\t\t  #\n\t\t  synadia {\n\t\t    # SAADJL5XAEM6BDYSWDTGVILJVY54CQXZM5ZLG4FRUAKB62HWRTPNSGXOHA\n\t\t    nkey = \"AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL\"\n\n\t\t    users [\n\t\t      {\n\t\t        # SUAEL6RU3BSDAFKOHNTEOK5Q6FTM5FTAMWVIKBET6FHPO4JRII3CYELVNM\n\t\t        nkey = \"SCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t      }\n\t\t    ]\n\n\t\t    exports = [\n\t\t      { service: \"synadia.requests\", accounts: [nats, cncf] }\n\t\t    ]\n\t\t  }\n\n\t\t  #\n\t\t  # nats < synadia\n\t\t  #\n\t\t  nats {\n\t\t    # SUAJTM55JH4BNYDA22DMDZJSRBRKVDGSLYK2HDIOCM3LPWCDXIDV5Q4CIE\n\t\t    nkey = \"ADRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS\"\n\n\t\t    users [\n\t\t      {\n\t\t        # SUADZTYQAKTY5NQM7XRB5XR3C24M6ROGZLBZ6P5HJJSSOFUGC5YXOOECOM\n\t\t        nkey = \"UD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI\"\n\t\t      }\n\t\t    ]\n\n\t\t    imports = [\n\t\t      # This account has to send requests to 'nats.requests' subject\n\t\t      { service: { account: \"synadia\", subject: \"synadia.requests\" }, to: \"nats.requests\" }\n\t\t    ]\n\t\t  }\n\n\t\t  #\n\t\t  # cncf < synadia\n\t\t  #\n\t\t  cncf {\n\t\t    # SAAFHDZX7SGZ2SWHPS22JRPPK5WX44NPLNXQHR5C5RIF6QRI3U65VFY6C4\n\t\t    nkey = \"AD4YRVUJF2KASKPGRMNXTYKIYSCB3IHHB4Y2ME6B2PDIV5QJ23C2ZRIT\"\n\n\t\t    users [\n\t\t      {\n\t\t        # SUAKINP3Z2BPUXWOFSW2FZC7TFJCMMU7DHKP2C62IJQUDASOCDSTDTRMJQ\n\t\t        nkey = \"UB57IEMPG4KOTPFV5A66QKE2HZ3XBXFHVRCCVMJEWKECMVN2HSH3VTSJ\"\n\t\t      }\n\t\t    ]\n\n\t\t    imports = [\n\t\t      # This account has to send requests to 'synadia.requests' subject\n\t\t      { service: { account: \"synadia\", subject: \"synadia.requests\" } }\n\t\t    ]\n\t\t  }\n\t\t}\n\t\t\t\t"},
    {"when accounts block has unknown fields", CC_GO, "%F:5:19: Expected map entries for accounts\n",
     NULL, "\n\t\thttp_port = 8222\n\n\t\taccounts {\n                  foo = \"bar\"\n\t\t}"},
    {"when accounts has a referenced config variable within same block", CC_GO, NULL,
     NULL, "\n\t\t\t  accounts {\n\t\t\t    PERMISSIONS = {\n\t\t\t\tpublish = {\n\t\t\t\t  allow = [\"foo\",\"bar\"]\n\t\t\t\t  deny = [\"quux\"]\n\t\t\t\t}\n\t\t\t    }\n\n\t\t\t    synadia {\n\t\t\t\tnkey = \"AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL\"\n\n\t\t\t\tusers [\n\t\t\t\t  {\n\t\t\t\t    nkey = \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t    permissions = $PERMISSIONS\n\t\t\t\t  }\n\t\t\t\t]\n\t\t\t\texports = [\n\t\t\t\t  { stream: \"synadia.>\" }\n\t\t\t\t]\n\t\t\t    }\n\t\t\t  }"},
    {"when accounts has an unreferenced config variables within same block", CC_GO, "%F:4:5: unknown field \"publish\"\n",
     NULL, "\n\t\t\t  accounts {\n\t\t\t    PERMISSIONS = {\n\t\t\t\tpublish = {\n\t\t\t\t  allow = [\"foo\",\"bar\"]\n\t\t\t\t  deny = [\"quux\"]\n\t\t\t\t}\n\t\t\t    }\n\n\t\t\t    synadia {\n\t\t\t\tnkey = \"AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL\"\n\n\t\t\t\tusers [\n\t\t\t\t  {\n\t\t\t\t    nkey = \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t  }\n\t\t\t\t]\n\t\t\t\texports = [\n\t\t\t\t  { stream: \"synadia.>\" }\n\t\t\t\t]\n\t\t\t   }\n\t\t\t }"},
    {"when accounts block defines a global account", CC_GO, "%F:5:19: \"$G\" is a Reserved Account\n",
     NULL, "\n\t\thttp_port = 8222\n\n\t\taccounts {\n                  $G = {\n                  }\n\t\t}\n\t\t\t\t"},
    {"when accounts block uses an invalid public key", CC_GO, "%F:4:21: Not a valid public nkey for an account: \"invalid\"\n",
     NULL, "\n\t\taccounts {\n                  synadia = {\n                    nkey = \"invalid\"\n                  }\n\t\t}\n\t\t\t\t"},
    {"when accounts list includes reserved account", CC_GO, "%F:4:26: \"$G\" is a Reserved Account\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = [foo, bar, \"$G\"]\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts list includes a dupe entry", CC_GO, "%F:4:25: Duplicate Account Entry: bar\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = [foo, bar, bar]\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts block includes a dupe user", CC_GO, "%F:6:21: Duplicate user \"foo\" detected\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    users = [\n                      { user: \"foo\",   pass: \"bar\" },\n                      { user: \"hello\", pass: \"world\" },\n                      { user: \"foo\",   pass: \"bar\" }\n                    ]\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts block imports are not a list", CC_GO, "%F:6:21: Imports should be an array, got bool\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    imports = true\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts block exports are not a list", CC_GO, "%F:6:21: Exports should be an array, got bool\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    exports = true\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts block imports items are not a map", CC_GO, "%F:7:23: Import Items should be a map with type entry, got bool\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    imports = [\n                      false\n                    ]\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts block export items are not a map", CC_GO, "%F:7:23: Export Items should be a map with type entry, got bool\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    exports = [\n                      false\n                    ]\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts exports has a stream name that is not a string", CC_GO, "%F:8:25: Expected stream name to be string, got bool\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    exports = [\n                      {\n                        stream: false\n                      }\n                    ]\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts exports has a service name that is not a string", CC_GO, "%F:6:25: Expected service name to be string, got bool\n",
     NULL, "\n\t\taccounts = {\n                  nats {\n                    exports = [\n                      {\n                        service: false\n                      }\n                    ]\n                  }\n                }\n\t\t\t\t"},
    {"when accounts imports stream without name", CC_GO, "%F:7:25: Expect an account name and a subject\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    imports = [\n                      { stream: { }}\n                    ]\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when accounts imports service without name", CC_GO, "%F:7:25: Expect an account name and a subject\n",
     NULL, "\n                port = 4222\n\n\t\taccounts = {\n                  nats {\n                    imports = [\n                      { service: { }}\n                    ]\n                  }\n                }\n\n                http_port = 8222\n\t\t\t\t"},
    {"when account trace destination is of the wrong type", CC_GO, "%F:3:23: Expected account message trace \"trace_dest\" to be a string or a map/struct, got int64\n",
     NULL, "\n                accounts {\n                  A { trace_dest: 123 }\n                }\n\t\t\t"},
    {"when account trace destination is not a valid destination", CC_GO, "%F:3:23: Trace destination \"invalid..dest\" is not valid\n",
     NULL, "\n                accounts {\n                  A { trace_dest: \"invalid..dest\" }\n                }\n\t\t\t"},
    {"when account trace destination is not a valid publish subject", CC_GO, "%F:3:23: Trace destination \"invalid.publish.*.subject\" is not valid\n",
     NULL, "\n                accounts {\n                  A { trace_dest: \"invalid.publish.*.subject\" }\n                }\n\t\t\t"},
    {"when account message trace dest is wrong type", CC_GO, "%F:3:35: Field \"dest\" should be a string, got int64\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: 123} }\n                }\n\t\t\t"},
    {"when account message trace dest is invalid", CC_GO, "%F:3:35: Trace destination \"invalid..dest\" is not valid\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: \"invalid..dest\"} }\n                }\n\t\t\t"},
    {"when account message trace sampling is wrong type", CC_GO, "%F:3:53: Trace destination sampling field \"sampling\" should be an integer or a percentage, got map[string]interface {}\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: \"acc.dest\", sampling: {wront: \"type\"}} }\n                }\n\t\t\t"},
    {"when account message trace sampling is wrong string", CC_GO, "%F:3:53: Invalid trace destination sampling value \"abc%\"\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: \"acc.dest\", sampling: abc%} }\n                }\n\t\t\t"},
    {"when account message trace sampling is negative", CC_GO, "%F:3:53: Ttrace destination sampling value -1 is invalid, needs to be [1..100]\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: \"acc.dest\", sampling: -1} }\n                }\n\t\t\t"},
    {"when account message trace sampling is zero", CC_GO, "%F:3:53: Ttrace destination sampling value 0 is invalid, needs to be [1..100]\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: \"acc.dest\", sampling: 0} }\n                }\n\t\t\t"},
    {"when account message trace sampling is more than 100", CC_GO, "%F:3:53: Ttrace destination sampling value 101 is invalid, needs to be [1..100]\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {dest: \"acc.dest\", sampling: 101} }\n                }\n\t\t\t"},
    {"when account message trace has unknown field", CC_GO, "%F:3:35: Unknown field \"wrong\" parsing account message trace map/struct \"msg_trace\"\n",
     NULL, "\n                accounts {\n                  A { msg_trace: {wrong: \"field\"} }\n                }\n\t\t\t"},
    {"when user authorization config has both token and users", CC_GO, "%F:2:3: Can not have a token and a users array\n",
     NULL, "\n\t\tauthorization = {\n\t\t\ttoken = \"s3cr3t\"\n\t\t\tusers = [\n\t\t\t\t{\n\t\t\t\t\tuser = \"foo\"\n\t\t\t\t\tpass = \"bar\"\n\t\t\t\t}\n\t\t\t]\n\t\t}\n\t\t"},
    {"when user authorization config has both token and user", CC_GO, "%F:2:3: Cannot have a user/pass and token\n",
     NULL, "\n\t\tauthorization = {\n\t\t\tuser = \"foo\"\n\t\t\tpass = \"bar\"\n\t\t\ttoken = \"baz\"\n\t\t}\n\t\t"},
    {"when user authorization config has both user and users array", CC_GO, "%F:2:3: Can not have a single user/pass and a users array\n",
     NULL, "\n\t\tauthorization = {\n\t\t\tuser = \"user1\"\n\t\t\tpass = \"pwd1\"\n\t\t\tusers = [\n\t\t\t\t{\n\t\t\t\t\tuser = \"user2\"\n\t\t\t\t\tpass = \"pwd2\"\n\t\t\t\t}\n\t\t\t]\n\t\t}\n\t\t"},
    {"when user authorization has duplicate users", CC_GO, "%F:2:3: Duplicate user \"user1\" detected\n",
     NULL, "\n\t\tauthorization = {\n\t\t\tusers = [\n\t\t\t\t{user: \"user1\", pass: \"pwd\"}\n\t\t\t\t{user: \"user2\", pass: \"pwd\"}\n\t\t\t\t{user: \"user1\", pass: \"pwd\"}\n\t\t\t]\n\t\t}\n\t\t"},
    {"when user authorization has duplicate nkeys", CC_GO, "%F:2:3: Duplicate nkey \"UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX\" detected\n",
     NULL, "\n\t\tauthorization = {\n\t\t\tusers = [\n\t\t\t\t{nkey: UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX }\n\t\t\t\t{nkey: UBAAQWTW6CG2G6ANGNKB5U2B7HRWHSGMZEZX3AQSAJOQDAUGJD46LD2E }\n\t\t\t\t{nkey: UC6NLCN7AS34YOJVCYD4PJ3QB7QGLYG5B5IMBT25VW5K4TNUJODM7BOX }\n\t\t\t]\n\t\t}\n\t\t"},
    {"when user authorization config has users not as a list", CC_GO, "%F:3:5: Expected users field to be an array, got false\n",
     NULL, "\n\t\tauthorization = {\n\t\t  users = false\n\t\t}\n\t\t"},
    {"when user authorization config has users not as a map", CC_GO, "%F:3:14: Expected user entry to be a map/struct, got false\n",
     NULL, "\n\t\tauthorization = {\n\t\t  users = [false]\n\t\t}\n\t\t"},
    {"when user authorization config has permissions not as a map", CC_GO, "%F:4:19: Expected permissions to be a map/struct, got false\n",
     NULL, "\n\t\tauthorization = {\n\t\t  users = [{user: hello, pass: world}]\n                  permissions = false\n\t\t}\n\t\t"},
    {"when user authorization permissions config has invalid fields within allow", CC_GO, "%F:5:18: Subject in permissions array cannot be cast to string\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    publish = {\n\t\t      allow = [false, \"hello\", \"world\"]\n\t\t      deny = [\"foo\", \"bar\"]\n\t\t    }\n\t\t    subscribe = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when user authorization permissions config has invalid fields within deny", CC_GO, "%F:6:17: Subject in permissions array cannot be cast to string\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    publish = {\n\t\t      allow = [\"hello\", \"world\"]\n\t\t      deny = [true, \"foo\", \"bar\"]\n\t\t    }\n\t\t    subscribe = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when user authorization permissions config has invalid type", CC_GO, "%F:5:9: Expected subject permissions to be a subject, or array of subjects, got bool\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    publish = {\n\t\t      allow = false\n\t\t    }\n\t\t    subscribe = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when user authorization permissions subject is invalid", CC_GO, "%F:5:9: subject \"foo..bar\" is not a valid subject\n",
     NULL, "\n\t\tauthorization {\n\t\t  permissions {\n\t\t    publish = {\n\t\t      allow = [\"foo..bar\"]\n\t\t    }\n\t\t    subscribe = {}\n\t\t  }\n\t\t}\n\t\t"},
    {"when cluster config listen is invalid", CC_GO, "%F:3:5: could not parse port \"XXXX\"\n",
     NULL, "\n\t\tcluster {\n\t\t  listen = \"0.0.0.0:XXXX\"\n\t\t}\n\t\t"},
    {"when cluster config includes multiple users", CC_DIFF, "%F:3:5: option \"authorization\" is not supported by this server yet; refusing to start without it (see docs/deviations.md)\n",
     "%F:3:5: Cluster authorization does not allow multiple users\n", "\n\t\tcluster {\n\t\t  authorization {\n                    users = []\n                  }\n\t\t}\n\t\t"},
    {"when cluster routes are invalid", CC_GO, "%F:4:22: error parsing route url [\"0.0.0.0:XXXX\"]\n",
     NULL, "\n\t\tcluster {\n                  routes = [\n                    \"0.0.0.0:XXXX\"\n                    # \"0.0.0.0:YYYY\"\n                    # \"0.0.0.0:ZZZZ\"\n                  ]\n\t\t}\n\t\t"},
    {"when setting invalid TLS config within cluster block", CC_GO, NULL,
     NULL, "\n\t\tcluster {\n\t\t  tls {\n\t\t  }\n\t\t}\n\t\t"},
    {"invalid lame_duck_duration type", CC_GO, "%F:2:5: error parsing lame_duck_duration: time: invalid duration \"abc\"\n",
     NULL, "\n\t\t\t\tlame_duck_duration: abc\n\t\t\t"},
    {"lame_duck_duration too small", CC_GO, "%F:2:5: invalid lame_duck_duration of 5s, minimum is 30 seconds\n",
     NULL, "\n\t\t\t\tlame_duck_duration: \"5s\"\n\t\t\t"},
    {"invalid lame_duck_grace_period type", CC_GO, "%F:2:5: error parsing lame_duck_grace_period: time: invalid duration \"abc\"\n",
     NULL, "\n\t\t\t\tlame_duck_grace_period: abc\n\t\t\t"},
    {"lame_duck_grace_period should be positive", CC_GO, "%F:2:5: invalid lame_duck_grace_period, needs to be positive\n",
     NULL, "\n\t\t\t\tlame_duck_grace_period: \"-5s\"\n\t\t\t"},
    {"when only setting TLS timeout for a leafnode remote", CC_REFUSED, REF(2, 3, "leafnodes"),
     "", "\n\t\tleafnodes {\n\t\t  remotes = [\n\t\t    {\n\t\t      url: \"tls://nats:7422\"\n\t\t      tls {\n\t\t        timeout: 0.01\n\t\t      }\n\t\t    }\n\t\t  ]\n\t\t}"},
    {"verify_cert_and_check_known_urls do not work for leaf nodes", CC_REFUSED, REF(2, 3, "leafnodes"),
     "%F:8:5: verify_cert_and_check_known_urls not supported in this context\n", "\n\t\tleafnodes {\n\t\t  remotes = [\n\t\t    {\n\t\t      url: \"tls://nats:7422\"\n\t\t      tls {\n\t\t        timeout: 0.01\n\t\t\t\tverify_cert_and_check_known_urls: true\n\t\t      }\n\t\t    }\n\t\t  ]\n\t\t}"},
    {"when leafnode remotes use wrong type", CC_REFUSED, REF(2, 3, "leafnodes"),
     "%F:3:5: Expected remotes field to be an array, got map[string]interface {}\n", "\n\t\tleafnodes {\n\t\t  remotes: {\n  \t            url: \"tls://nats:7422\"\n\t\t  }\n\t\t}"},
    {"when leafnode remotes url uses wrong type", CC_REFUSED, REF(2, 3, "leafnodes"),
     "%F:4:18: Expected remote leafnode url to be an array or string, got 1234\n", "\n\t\tleafnodes {\n\t\t  remotes: [\n  \t            { urls: 1234 }\n\t\t  ]\n\t\t}"},
    {"when leafnode min_version is wrong type", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:4:6: interface conversion: interface {} is int64, not string\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tmin_version = 123\n\t\t\t\t}"},
    {"when leafnode min_version has parsing error", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:4:6: invalid leafnode's minimum version: invalid semver\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tmin_version = bad.version\n\t\t\t\t}"},
    {"when leafnode min_version is too low", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:4:6: the minimum version should be at least 2.8.0\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tmin_version = 2.7.9\n\t\t\t\t}"},
    {"when setting latency tracking with a system account", CC_GO, NULL,
     NULL, "\n                system_account: sys\n\n                accounts {\n                  sys { users = [ {user: sys, pass: \"\" } ] }\n\n                  nats.io: {\n                    users = [ { user : bar, pass: \"\" } ]\n\n                    exports = [\n                      { service: \"nats.add\"\n                        response: singleton\n                        latency: {\n                          sampling: 100%\n                          subject: \"latency.tracking.add\"\n                        }\n                      }\n\n                    ]\n                  }\n                }\n                "},
    {"when setting latency tracking with an invalid publish subject", CC_GO, "%F:3:17: Error adding service latency sampling for \"nats.add\" on subject \"*\": invalid publish subject\n",
     NULL, "\n                system_account = sys\n                accounts {\n                  sys { users = [ {user: sys, pass: \"\" } ] }\n\n                  nats.io: {\n                    users = [ { user : bar, pass: \"\" } ]\n\n                    exports = [\n                      { service: \"nats.add\"\n                        response: singleton\n                        latency: \"*\"\n                      }\n                    ]\n                  }\n                }\n                "},
    {"when setting latency tracking on a stream", CC_GO, "%F:11:25: Detected latency directive on non-service\n",
     NULL, "\n                system_account = sys\n                accounts {\n                  sys { users = [ {user: sys, pass: \"\" } ] }\n\n                  nats.io: {\n                    users = [ { user : bar, pass: \"\" } ]\n\n                    exports = [\n                      { stream: \"nats.add\"\n                        latency: \"foo\"\n                      }\n                    ]\n                  }\n                }\n                "},
    {"when setting allow_trace on a stream export (after)", CC_GO, "%F:8:55: Detected allow_trace directive on non-service\n",
     NULL, "\n                system_account = sys\n                accounts {\n                  sys { users = [ {user: sys, pass: \"\" } ] }\n\n                  nats.io: {\n                    users = [ { user : bar, pass: \"\" } ]\n                    exports = [ { stream: \"nats.add\", allow_trace: true } ]\n                  }\n                }\n                "},
    {"when setting allow_trace on a stream export (before)", CC_GO, "%F:8:35: Detected allow_trace directive on non-service\n",
     NULL, "\n                system_account = sys\n                accounts {\n                  sys { users = [ {user: sys, pass: \"\" } ] }\n\n                  nats.io: {\n                    users = [ { user : bar, pass: \"\" } ]\n                    exports = [ { allow_trace: true, stream: \"nats.add\" } ]\n                  }\n                }\n                "},
    {"when setting allow_trace on a service import (after)", CC_GO, "%F:9:76: Detected allow_trace directive on a non-stream\n",
     NULL, "\n                accounts {\n                  A: {\n                    users = [ {user: user1, pass: \"\"} ]\n                    exports = [{service: \"foo\"}]\n                  }\n                  B: {\n                    users = [ {user: user2, pass: \"\"} ]\n                    imports = [ { service: {account: \"A\", subject: \"foo\"}, allow_trace: true } ]\n                  }\n                }\n                "},
    {"when setting allow_trace on a service import (before)", CC_GO, "%F:9:35: Detected allow_trace directive on a non-stream\n",
     NULL, "\n                accounts {\n                  A: {\n                    users = [ {user: user1, pass: \"\"} ]\n                    exports = [{service: \"foo\"}]\n                  }\n                  B: {\n                    users = [ {user: user2, pass: \"\"} ]\n                    imports = [ { allow_trace: true, service: {account: \"A\", subject: \"foo\"} } ]\n                  }\n                }\n                "},
    {"when using duplicate service import subject", CC_GO, "%F:14:71: Duplicate service import subject \"local\", previously used in import for account \"A\", subject \"remote1\"\n",
     NULL, "\n\t\t\t\t\t\t\t\taccounts {\n\t\t\t\t\t\t\t\t\t A: {\n\t\t\t\t\t\t\t\t\t\t users = [ {user: user1, pass: \"\"} ]\n\t\t\t\t\t\t\t\t\t\t exports = [\n\t\t\t\t\t\t\t\t\t\t\t {service: \"remote1\"}\n\t\t\t\t\t\t\t\t\t\t\t {service: \"remote2\"}\n\t\t\t\t\t\t\t\t\t\t ]\n\t\t\t\t\t\t\t\t\t }\n\t\t\t\t\t\t\t\t\t B: {\n\t\t\t\t\t\t\t\t\t\t users = [ {user: user2, pass: \"\"} ]\n\t\t\t\t\t\t\t\t\t\t imports = [\n\t\t\t\t\t\t\t\t\t\t\t {service: {account: \"A\", subject: \"remote1\"}, to: \"local\"}\n\t\t\t\t\t\t\t\t\t\t\t {service: {account: \"A\", subject: \"remote2\"}, to: \"local\"}\n\t\t\t\t\t\t\t\t\t\t ]\n\t\t\t\t\t\t\t\t\t }\n\t\t\t\t\t\t\t\t}\n\t\t\t\t\t\t\t"},
    {"mixing single and multi users in leafnode authorization", CC_REFUSED, REF(2, 17, "leafnodes"),
     "%F:3:20: can not have a single user/pass and a users array\n", "\n                leafnodes {\n                   authorization {\n                     user: user1\n                     password: pwd\n                     users = [{user: user2, password: pwd}]\n                   }\n                }\n              "},
    {"duplicate usernames in leafnode authorization", CC_REFUSED, REF(2, 17, "leafnodes"),
     "%F:3:21: duplicate user \"user\" detected in leafnode authorization\n", "\n                leafnodes {\n                    authorization {\n                        users = [\n                            {user: user, password: pwd}\n                            {user: user, password: pwd}\n                        ]\n                    }\n                }\n              "},
    {"mqtt bad type", CC_REFUSED, REF(2, 17, "mqtt"),
     "%F:2:17: Expected mqtt to be a map, got []interface {}\n", "\n                mqtt [\n\t\t\t\t\t\"wrong\"\n\t\t\t\t]\n\t\t\t"},
    {"mqtt bad listen", CC_REFUSED, REF(2, 17, "mqtt"),
     "%F:3:21: could not parse address string \"xxxxxxxx\"\n", "\n                mqtt {\n                    listen: \"xxxxxxxx\"\n\t\t\t\t}\n\t\t\t"},
    {"mqtt bad host", CC_REFUSED, REF(2, 17, "mqtt"),
     "%F:3:21: interface conversion: interface {} is int64, not string\n", "\n                mqtt {\n                    host: 1234\n\t\t\t\t}\n\t\t\t"},
    {"mqtt bad port", CC_REFUSED, REF(2, 17, "mqtt"),
     "%F:3:21: interface conversion: interface {} is string, not int64\n", "\n                mqtt {\n                    port: \"abc\"\n\t\t\t\t}\n\t\t\t"},
    {"mqtt bad TLS", CC_REFUSED, REF(2, 17, "mqtt"),
     "%F:4:21: missing 'key_file' in TLS configuration\n", "\n                mqtt {\n\t\t\t\t\tport: -1\n                    tls {\n                        cert_file: \"./configs/certs/server.pem\"\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"connection types wrong type", CC_GO, "%F:4:53: error parsing allowed connection types: unsupported type int64\n",
     NULL, "\n                   authorization {\n                       users [\n                           {user: a, password: pwd, allowed_connection_types: 123}\n\t\t\t\t\t   ]\n\t\t\t\t   }\n\t\t\t"},
    {"connection types content wrong type", CC_GO, "%F:5:32: error parsing allowed connection types: unsupported type in array int64\n",
     NULL, "\n                   authorization {\n                       users [\n                           {user: a, password: pwd, allowed_connection_types: [\n                               123\n                               WEBSOCKET\n\t\t\t\t\t\t\t]}\n\t\t\t\t\t   ]\n\t\t\t\t   }\n\t\t\t"},
    {"connection types type unknown", CC_GO, "%F:4:53: invalid connection types [\"UNKNOWN\"]\n",
     NULL, "\n                   authorization {\n                       users [\n                           {user: a, password: pwd, allowed_connection_types: [ \"UNKNOWN\" ]}\n\t\t\t\t\t   ]\n\t\t\t\t   }\n\t\t\t"},
    {"websocket auth unknown var", CC_REFUSED, REF(2, 5, "websocket"),
     "%F:4:25: unknown field \"unknown\"\n", "\n\t\t\t\twebsocket {\n\t\t\t\t\tauthorization {\n                        unknown: \"field\"\n\t\t\t\t   }\n\t\t\t\t}\n\t\t\t"},
    {"websocket bad tls", CC_REFUSED, REF(2, 5, "websocket"),
     "%F:3:21: missing 'key_file' in TLS configuration\n", "\n\t\t\t\twebsocket {\n                    tls {\n\t\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"verify_cert_and_check_known_urls not support for websockets", CC_REFUSED, REF(2, 5, "websocket"),
     "%F:6:10: verify_cert_and_check_known_urls not supported in this context\n", "\n\t\t\t\twebsocket {\n                    tls {\n\t\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\t\tkey_file: \"configs/certs/key.pem\"\n\t\t\t\t\t    verify_cert_and_check_known_urls: true\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"ambiguous store dir", CC_GO, "%F:4:35: Duplicate 'store_dir' configuration\n",
     NULL, "\n                                store_dir: \"foo\"\n                                jetstream {\n                                  store_dir: \"bar\"\n                                }\n                        "},
    {"token not supported in cluster", CC_DIFF, "%F:4:6: option \"authorization\" is not supported by this server yet; refusing to start without it (see docs/deviations.md)\n",
     "%F:4:6: Cluster authorization does not support tokens\n", "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tauthorization {\n\t\t\t\t\t\ttoken: \"my_token\"\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"token not supported in gateway", CC_REFUSED, REF(2, 5, "gateway"),
     "%F:5:6: Gateway authorization does not support tokens\n", "\n\t\t\t\tgateway {\n\t\t\t\t\tport: -1\n\t\t\t\t\tname: \"A\"\n\t\t\t\t\tauthorization {\n\t\t\t\t\t\ttoken: \"my_token\"\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for cluster pool size", CC_GO, "%F:4:6: interface conversion: interface {} is string, not int64\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tpool_size: \"abc\"\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for cluster accounts", CC_GO, "%F:4:6: error parsing accounts: unsupported type int64\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\taccounts: 123\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for cluster compression", CC_GO, "%F:4:6: field \"compression\" should be a boolean or a structure, got int64\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: 123\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for cluster compression mode", CC_GO, "%F:5:7: interface conversion: interface {} is int64, not string\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: {\n\t\t\t\t\t\tmode: 123\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for cluster compression rtt thresholds", CC_GO, "%F:6:7: interface conversion: interface {} is int64, not []interface {}\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: {\n\t\t\t\t\t\tmode: \"s2_auto\"\n\t\t\t\t\t\trtt_thresholds: 123\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"invalid durations for cluster compression rtt thresholds", CC_GO, "%F:6:7: time: invalid duration \"abc\"\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: {\n\t\t\t\t\t\tmode: \"s2_auto\"\n\t\t\t\t\t\trtt_thresholds: [abc]\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"invalid durations for cluster ping interval", CC_GO, "%F:4:6: invalid use of field \"ping_interval\": ping_interval should be converted to a duration\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tping_interval: -1\n\t\t\t\t\tping_max: 6\n\t\t\t\t}\n\t\t\t"},
    {"invalid durations for cluster ping interval", CC_GO, "%F:4:6: Cluster 'ping_interval' will reset to 30s which is the max for routes\n",
     NULL, "\n\t\t\t\tcluster {\n\t\t\t\t\tport: -1\n\t\t\t\t\tping_interval: '2m'\n\t\t\t\t\tping_max: 6\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for leafnodes compression", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:4:6: field \"compression\" should be a boolean or a structure, got int64\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: 123\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for leafnodes compression mode", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:5:7: interface conversion: interface {} is int64, not string\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: {\n\t\t\t\t\t\tmode: 123\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for leafnodes compression rtt thresholds", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:7: interface conversion: interface {} is int64, not []interface {}\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: {\n\t\t\t\t\t\tmode: \"s2_auto\"\n\t\t\t\t\t\trtt_thresholds: 123\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"invalid durations for leafnodes compression rtt thresholds", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:7: time: invalid duration \"abc\"\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tcompression: {\n\t\t\t\t\t\tmode: \"s2_auto\"\n\t\t\t\t\t\trtt_thresholds: [abc]\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for remote leafnodes compression", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:7:8: field \"compression\" should be a boolean or a structure, got int64\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tremotes [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"nats://127.0.0.1:123\"\n\t\t\t\t\t\t\tcompression: 123\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for remote leafnodes compression mode", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:8:9: interface conversion: interface {} is int64, not string\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tremotes [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"nats://127.0.0.1:123\"\n\t\t\t\t\t\t\tcompression: {\n\t\t\t\t\t\t\t\tmode: 123\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"wrong type for remote leafnodes compression rtt thresholds", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:9:9: interface conversion: interface {} is int64, not []interface {}\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tremotes [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"nats://127.0.0.1:123\"\n\t\t\t\t\t\t\tcompression: {\n\t\t\t\t\t\t\t\tmode: \"s2_auto\"\n\t\t\t\t\t\t\t\trtt_thresholds: 123\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"invalid durations for remote leafnodes compression rtt thresholds", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:9:9: time: invalid duration \"abc\"\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tremotes [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"nats://127.0.0.1:123\"\n\t\t\t\t\t\t\tcompression: {\n\t\t\t\t\t\t\t\tmode: \"s2_auto\"\n\t\t\t\t\t\t\t\trtt_thresholds: [abc]\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"invalid duration for remote leafnode first info timeout", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:7:8: error parsing first_info_timeout: time: invalid duration \"abc\"\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tremotes [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"nats://127.0.0.1:123\"\n\t\t\t\t\t\t\tfirst_info_timeout: abc\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"duplicate remote leafnode", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:7:9: duplicate remote\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tremotes [\n\t\t\t\t\t\t{ url: \"nats://user1:pwd@127.0.0.1:1234\" }\n\t\t\t\t\t\t{ url: \"nats://user2:pwd@127.0.0.1:1235\" }\n\t\t\t\t\t\t{ url: \"nats://user1:pwd@127.0.0.1:1234\" }\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"show warnings on empty configs without values", CC_GO, "%F: config has no values or is empty\n",
     NULL, ""},
    {"show warnings on empty configs without values and only comments", CC_GO, "%F: config has no values or is empty\n",
     NULL, "# Valid file but has no usable values.\n                                    "},
    {"TLS handshake first, wrong type", CC_GO, "%F:4:6: field \"first\" should be a boolean or a string, got int64\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tfirst: 123\n\t\t\t\t}\n\t\t\t"},
    {"TLS handshake first, wrong value", CC_GO, "%F:4:6: field \"first\"'s value \"123\" is invalid\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tfirst: \"123\"\n\t\t\t\t}\n\t\t\t"},
    {"TLS multiple certs", CC_DIFF, "%F:4:6: tls option \"certs\" with more than one certificate is not supported by this server yet\n",
     "", "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tcerts: [\n\t\t\t\t\t  { cert_file: \"configs/certs/server.pem\", key_file: \"configs/certs/key.pem\"},\n\t\t\t\t\t  { cert_file: \"configs/certs/cert.new.pem\", key_file: \"configs/certs/key.new.pem\"},\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"TLS multiple certs, bad type", CC_GO, "%F:5:49: error parsing certificates config: unsupported type int64\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tcerts: [\n\t\t\t\t\t  { cert_file: \"configs/certs/server.pem\", key_file: 123 },\n\t\t\t\t\t  { cert_file: \"configs/certs/cert.new.pem\", key_file: \"configs/certs/key.new.pem\"},\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"TLS multiple certs, missing key_file", CC_GO, "%F:5:10: error parsing certificates config: both 'cert_file' and 'cert_key' options are required\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tcerts: [\n\t\t\t\t\t  { cert_file: \"configs/certs/server.pem\" }\n\t\t\t\t\t  { cert_file: \"configs/certs/cert.new.pem\", key_file: \"configs/certs/key.new.pem\"}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"TLS multiple certs and single cert options at the same time", CC_GO, "%F:3:5: error parsing tls config, cannot combine 'cert_file' option with 'certs' option\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\tkey_file: \"configs/certs/key.pem\"\n\t\t\t\t\tcerts: [\n\t\t\t\t\t  { cert_file: \"configs/certs/server.pem\", key_file: \"configs/certs/key.pem\"},\n\t\t\t\t\t  { cert_file: \"configs/certs/cert.new.pem\", key_file: \"configs/certs/key.new.pem\"},\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"TLS multiple certs used but not configured, but cert_file configured", CC_GO, NULL,
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tcert_file: \"configs/certs/server.pem\"\n\t\t\t\t\tkey_file: \"configs/certs/key.pem\"\n\t\t\t\t\tcerts: []\n\t\t\t\t}\n\t\t\t"},
    {"TLS multiple certs, missing bad path", CC_GO, "%F:3:5: error parsing X509 certificate/key pair 2/2: open configs/certs/key.new.pom: no such file or directory\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\ttls {\n\t\t\t\t\tcerts: [\n\t\t\t\t\t  { cert_file: \"configs/certs/cert.new.pem\", key_file: \"configs/certs/key.new.pem\"}\n\t\t\t\t\t  { cert_file: \"configs/certs/server.pem\", key_file: \"configs/certs/key.new.pom\" }\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"Proxies wrong type", CC_REFUSED, REF(3, 5, "proxies"),
     "%F:3:5: expected proxies to be a map/struct, got int64\n", "\n\t\t\t\tport: -1\n\t\t\t\tproxies: 123\n\t\t\t"},
    {"Proxies unknown field", CC_REFUSED, REF(3, 5, "proxies"),
     "%F:4:6: unknown field\n", "\n\t\t\t\tport: -1\n\t\t\t\tproxies: {\n\t\t\t\t\tfield1: 123\n\t\t\t\t}\n\t\t\t"},
    {"Proxies trusted wrong type", CC_REFUSED, REF(3, 5, "proxies"),
     "%F:4:6: expected proxies' trusted field to be an array, got int64\n", "\n\t\t\t\tport: -1\n\t\t\t\tproxies: {\n\t\t\t\t\ttrusted: 123\n\t\t\t\t}\n\t\t\t"},
    {"Proxies trusted key wrong type", CC_REFUSED, REF(3, 5, "proxies"),
     "%F:5:8: expected proxies' trusted entry to be a map/struct, got string\n", "\n\t\t\t\tport: -1\n\t\t\t\tproxies: {\n\t\t\t\t\ttrusted: [\n\t\t\t\t\t\t\"abc\",\n\t\t\t\t\t\t\"def\"\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"Proxies trusted unknown field", CC_REFUSED, REF(3, 5, "proxies"),
     "%F:7:8: unknown field\n", "\n\t\t\t\tport: -1\n\t\t\t\tproxies: {\n\t\t\t\t\ttrusted: [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\tkey: \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t\t\t\tfield1: 123\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"Proxies trusted key invalid", CC_REFUSED, REF(3, 5, "proxies"),
     "%F:6:8: invalid proxy key\n", "\n\t\t\t\tport: -1\n\t\t\t\tproxies: {\n\t\t\t\t\ttrusted: [\n\t\t\t\t\t\t{key: \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"}\n\t\t\t\t\t\t{key: \"bad1\"}\n\t\t\t\t\t\t{key: \"UD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI\"}\n\t\t\t\t\t\t{key: \"bad2\"}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"Auth user require proxied wrong type", CC_GO, "%F:6:6: interface conversion: interface {} is int64, not bool\n%F:3:5: runtime error: invalid memory address or nil pointer dereference\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\tauthorization {\n\t\t\t\t\tuser: user\n\t\t\t\t\tpassword: pwd\n\t\t\t\t\tproxy_required: 123\n\t\t\t\t}\n\t\t\t"},
    {"Auth users require proxied wrong type", CC_GO, "%F:8:8: interface conversion: interface {} is int64, not bool\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\tauthorization {\n\t\t\t\t\tusers: [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\tuser: user\n\t\t\t\t\t\t\tpassword: pwd\n\t\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"Auth nkey users require proxied wrong type", CC_GO, "%F:7:8: interface conversion: interface {} is int64, not bool\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\tauthorization {\n\t\t\t\t\tusers: [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\tnkey: \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"Account users require proxied wrong type", CC_GO, "%F:9:9: interface conversion: interface {} is int64, not bool\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\taccounts {\n\t\t\t\t\tA: {\n\t\t\t\t\t\tusers: [\n\t\t\t\t\t\t\t{\n\t\t\t\t\t\t\t\tuser: user\n\t\t\t\t\t\t\t\tpassword: pwd\n\t\t\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t]\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"Account nkey users require proxied wrong type", CC_GO, "%F:8:9: interface conversion: interface {} is int64, not bool\n",
     NULL, "\n\t\t\t\tport: -1\n\t\t\t\taccounts {\n\t\t\t\t\tA: {\n\t\t\t\t\t\tusers: [\n\t\t\t\t\t\t\t{\n\t\t\t\t\t\t\t\tnkey: \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t]\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"Leafnode user require proxied wrong type", CC_REFUSED, REF(3, 5, "leafnodes"),
     "%F:8:7: interface conversion\n", "\n\t\t\t\tport: -1\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tauthorization {\n\t\t\t\t\t\tuser: user\n\t\t\t\t\t\tpassword: pwd\n\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"Leafnode neky user require proxied wrong type", CC_REFUSED, REF(3, 5, "leafnodes"),
     "%F:7:7: interface conversion\n", "\n\t\t\t\tport: -1\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tauthorization {\n\t\t\t\t\t\tnkey: \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"Leafnode users require proxied wrong type", CC_REFUSED, REF(3, 5, "leafnodes"),
     "%F:10:9: interface conversion\n", "\n\t\t\t\tport: -1\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tauthorization {\n\t\t\t\t\t\tusers: [\n\t\t\t\t\t\t\t{\n\t\t\t\t\t\t\t\tuser: user\n\t\t\t\t\t\t\t\tpassword: pwd\n\t\t\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t]\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"Leafnode nkey users require proxied wrong type", CC_REFUSED, REF(3, 5, "leafnodes"),
     "%F:9:9: interface conversion\n", "\n\t\t\t\tport: -1\n\t\t\t\tleafnodes {\n\t\t\t\t\tport: -1\n\t\t\t\t\tauthorization {\n\t\t\t\t\t\tusers: [\n\t\t\t\t\t\t\t{\n\t\t\t\t\t\t\t\tnkey: \"UCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n\t\t\t\t\t\t\t\tproxy_required: 123\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t]\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t"},
    {"leafnode proxy with unsupported scheme", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:8: proxy URL scheme must be http or https, got: ftp\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tremotes = [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"ws://127.0.0.1:7422\"\n\t\t\t\t\t\t\tproxy {\n\t\t\t\t\t\t\t\turl: \"ftp://proxy.example.com:8080\"\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"leafnode proxy with missing host", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:8: proxy URL must specify a host\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tremotes = [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"ws://127.0.0.1:7422\"\n\t\t\t\t\t\t\tproxy {\n\t\t\t\t\t\t\t\turl: \"http://\"\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"leafnode proxy with username but no password", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:8: proxy username and password must both be specified or both be empty\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tremotes = [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"ws://127.0.0.1:7422\"\n\t\t\t\t\t\t\tproxy {\n\t\t\t\t\t\t\t\turl: \"http://proxy.example.com:8080\"\n\t\t\t\t\t\t\t\tusername: \"testuser\"\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"leafnode proxy with password but no username", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:8: proxy username and password must both be specified or both be empty\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tremotes = [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"ws://127.0.0.1:7422\"\n\t\t\t\t\t\t\tproxy {\n\t\t\t\t\t\t\t\turl: \"http://proxy.example.com:8080\"\n\t\t\t\t\t\t\t\tpassword: \"testpass\"\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
    {"leafnode proxy with WSS URL but no TLS config", CC_REFUSED, REF(2, 5, "leafnodes"),
     "%F:6:8: proxy is configured but remote URL wss://127.0.0.1:7422 requires TLS and no TLS configuration is provided\n", "\n\t\t\t\tleafnodes {\n\t\t\t\t\tremotes = [\n\t\t\t\t\t\t{\n\t\t\t\t\t\t\turl: \"wss://127.0.0.1:7422\"\n\t\t\t\t\t\t\tproxy {\n\t\t\t\t\t\t\t\turl: \"http://proxy.example.com:8080\"\n\t\t\t\t\t\t\t}\n\t\t\t\t\t\t}\n\t\t\t\t\t]\n\t\t\t\t}\n\t\t\t"},
};
/* clang-format on */

/* configs/certs/{server,key,cert.new,key.new}.pem under dir, as the Go tests' files are named. */
static void make_certs(const char *dir) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/configs/certs && cd %s/configs/certs && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout key.pem -out server.pem -days 2 -subj /CN=localhost 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout key.new.pem -out cert.new.pem -days 2 -subj /CN=localhost 2>/dev/null",
             dir, dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* ---- the table ---------------------------------------------------------------------------- */

#define NCASES (sizeof cases / sizeof cases[0])

/* Criterion copies parameters into fresh worker processes: pass indexes, not pointers. */
ParameterizedTestParameters(config_check, go_table) {
    static int idx[NCASES];
    for (size_t i = 0; i < NCASES; i++)
        idx[i] = (int)i;
    return cr_make_param_array(int, idx, NCASES);
}

ParameterizedTest(int *i, config_check, go_table) {
    GO_TEST_PARTIAL("server/config_check_test.go", "TestConfigCheck",
                    "all 156 entries run; 54 give Go's exact text (top level, authorization, tls, "
                    "durations, lame duck, empty files); 102 configure cluster, gateway, leaf "
                    "nodes, accounts, mqtt, websocket, proxies or JetStream and are refused at "
                    "that key; 'TLS multiple certs' is refused (one certificate per server here)");
    const cc_case *c = &cases[*i];
    if (h_server_is_go()) cr_skip_test("the table holds v2.14.5's texts");
    char *dir = tmp_dir();
    if (strstr(c->conf, "configs/certs/")) make_certs(dir);
    char *path = put(dir, "test.conf", c->conf), *want = NULL;
    if (c->expect && asprintf(&want, "%s\n", c->expect) < 0) cr_assert_fail("asprintf");
    check_file(dir, path, want, c->name); /* Go: the lines, then an empty one */
    free(want);
    free(path);
    rm_dir(dir);
}

/* ---- the other tests of config_check_test.go ---------------------------------------------- */

Test(config_check, includes) {
    GO_TEST("server/config_check_test.go", "TestConfigCheckIncludes");
    if (h_server_is_go()) cr_skip_test("v2.14.5 texts");
    char *dir = tmp_dir();
    free(put(dir, "include_conf_check_a.conf",
             "\nport = 4222\n\ninclude \"include_conf_check_b.conf\"\n\n"
             "http_port = $monitoring_port\n"));
    free(put(dir, "include_conf_check_b.conf",
             "\nmonitoring_port = 8222\n\ninclude \"include_conf_check_c.conf\"\n"));
    free(put(dir, "include_conf_check_c.conf",
             "\nauthorization {\n  user = \"foo\"\n  pass = \"bar\"\n}\n"));
    free(put(dir, "include_bad_conf_check_a.conf",
             "\nport = 4222\n\ninclude \"include_bad_conf_check_b.conf\"\n\n"
             "# http_port = $monitoring_port\n"));
    free(put(dir, "include_bad_conf_check_b.conf",
             "\n\n\n\n\n\n\n\n\n                  monitoring_port = 8222\n\n"
             "include \"include_conf_check_c.conf\"\n"));
    check_file(dir, "./include_conf_check_a.conf", NULL, "good includes");
    /* Go: the error names the included file and its own line and column. */
    check_file(dir, "./include_bad_conf_check_a.conf",
               "include_bad_conf_check_b.conf:10:19: unknown field \"monitoring_port\"\n\n",
               "bad includes");
    rm_dir(dir);
}

static const char multiple_errors_conf[] =
    "\nauthorization {\n  user = foo\n  pass = bar\n  token = quux\n}\n\nhttp_port = 8222\n\n"
    "monitoring = 8222\n\nwrite_deadline = 5\n\naccounts {\n  synadia {\n    exports = [\n"
    "      { stream: \"synadia.>\" }\n    ]\n  \n    # Malformed nkeys\n"
    "    nkey = \"OC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL\"\n\n    users [\n"
    "      {\n        # Malformed nkeys\n"
    "        nkey = \"OCARKS2E3KVB7YORL2DG34XLT7PUCOL2SVM7YXV6ETHLW6Z46UUJ2VZ3\"\n      }\n"
    "    ]\n  }\n\n  #\n  # + nats < synadia\n  #\n  nats {\n    # Malformed nkeys\n"
    "    nkey = \"ODRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS\"\n\n    users [\n"
    "      {\n        # Malformed nkeys\n"
    "        nkey = \"OD6AYQSOIN2IN5OGC6VQZCR4H3UFMIOXSW6NNS6N53CLJA4PB56CEJJI\"\n      }\n"
    "    ]\n\n    imports = [\n"
    "      { stream: { account: \"synadia\", subject: \"synadia.>\" }, prefix: \"imports.nats\" }\n"
    "    ]\n  }\n\n  # + cncf < synadia\n  cncf {\n"
    "    nkey = \"AD4YRVUJF2KASKPGRMNXTYKIYSCB3IHHB4Y2ME6B2PDIV5QJ23C2ZRIT\"\n\n    users [\n"
    "      {\n        nkey = \"UB57IEMPG4KOTPFV5A66QKE2HZ3XBXFHVRCCVMJEWKECMVN2HSH3VTSJ\"\n      "
    "}\n"
    "    ]\n\n    imports = [\n"
    "      { stream: { account: \"synadia\", subject: \"synadia.>\" }, prefix: \"imports.cncf\" }\n"
    "    ]\n  }\n}\n\ncluster {\n  authorization {\n    users = []\n  }\n}\n";

Test(config_check, multiple_errors) {
    GO_TEST_PARTIAL("server/config_check_test.go", "TestConfigCheckMultipleErrors",
                    "the warning, the authorization, unknown-field and account errors are Go's; "
                    "cluster authorization is refused instead of Go's cluster error");
    if (h_server_is_go()) cr_skip_test("v2.14.5 texts");
    char *dir = tmp_dir();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/configs", dir);
    cr_assert_eq(mkdir(sub, 0755), 0, "mkdir %s: %s", sub, strerror(errno));
    free(put(sub, "multiple_errors.conf", multiple_errors_conf));
    /* One warning first, then the errors in file order. */
    check_file(dir, "./configs/multiple_errors.conf",
               "%F:12:1: invalid use of field \"write_deadline\": write_deadline should be "
               "converted to a duration\n"
               "%F:2:1: Cannot have a user/pass and token\n"
               "%F:10:1: unknown field \"monitoring\"\n"
               "%F:21:5: Not a valid public nkey for an account: "
               "\"OC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL\"\n"
               "%F:26:9: Not a valid public nkey for a user\n"
               "%F:36:5: Not a valid public nkey for an account: "
               "\"ODRZ42QBM7SXQDXXTSVWT2WLLFYOQGAFC4TO6WOAXHEKQHIXR4HFYJDS\"\n"
               "%F:41:9: Not a valid public nkey for a user\n"
               "%F:54:5: Can not have a single user/pass and accounts\n" /* Go's 8th, file order */
               "%F:67:3: option \"authorization\" is not supported by this server yet; refusing "
               "to start without it (see docs/deviations.md)\n\n",
               "multiple errors");
    rm_dir(dir);
}

/* ---- variables, the environment, includes (server/opts_test.go) ------------------------- */

/* Starts the binary on conf (with env), returns the client port it listens on. */
static int port_of(const char *conf, const char *const *env) {
    char *dir = tmp_dir();
    free(put(dir, "v.conf", conf));
    pid_t pid;
    json_t *p = start_plain(dir, env, (const char *const[]){"-c", "v.conf", NULL}, &pid);
    int port = url_port(p, "nats", NULL, 0);
    json_decref(p);
    stop(pid);
    rm_dir(dir);
    return port;
}

Test(config_check, var_references_var) {
    GO_TEST("server/opts_test.go", "TestVarReferencesVar");
    int port = free_port();
    char conf[200];
    snprintf(conf, sizeof conf, "\n\t\tA: %d\n\t\tB: $A\n\t\tC: $B\n\t\tport: $C\n\t", port);
    cr_expect_eq(port_of(conf, NULL), port);
}

Test(config_check, var_references_env_var) {
    GO_TEST("server/opts_test.go", "TestVarReferencesEnvVar");
    char env[64];
    int port = free_port();
    snprintf(env, sizeof env, "_TEST_ENV_NATS_PORT_=%d", port);
    cr_expect_eq(port_of("\n\t\tA: $_TEST_ENV_NATS_PORT_\n\t\tB: $A\n\t\tC: $B\n\t\tport: $C\n\t",
                         (const char *const[]){env, NULL}),
                 port);
}

Test(config_check, env_var_references_env_var) {
    GO_TEST("server/opts_test.go", "TestEnvVarReferencesEnvVar");
    char env[64];
    int port = free_port();
    snprintf(env, sizeof env, "_TEST_ENV_C_=%d", port);
    cr_expect_eq(port_of("\n\t\tport: $_TEST_ENV_A_\n\t",
                         (const char *const[]){"_TEST_ENV_A_=$_TEST_ENV_B_",
                                               "_TEST_ENV_B_=$_TEST_ENV_C_", env, NULL}),
                 port);
}

/* `-t` of conf with env: fails with a message containing want. */
static void env_fails(const char *conf, const char *const *env, const char *want) {
    char *dir = tmp_dir(), *path = put(dir, "e.conf", conf);
    run_out r = run_env(dir, env, (const char *const[]){"-c", path, "-t", NULL});
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, want), "want %s in: %s", want, r.err);
    run_free(&r);
    free(path);
    rm_dir(dir);
}

Test(config_check, var_references_self) {
    GO_TEST("server/opts_test.go", "TestVarReferencesSelf");
    env_fails("A: $A", NULL, "variable reference for 'A' on line 1 can not be found");
}

Test(config_check, env_var_references_var) {
    GO_TEST("server/opts_test.go", "TestEnvVarReferencesVar");
    env_fails("\n\t\tP: 8080\n\t\tport: $_TEST_ENV_NATS_PORT_\n\t",
              (const char *const[]){"_TEST_ENV_NATS_PORT_=$P", NULL},
              "variable reference for 'P' on line 1 can not be found");
}

Test(config_check, env_var_references_self) {
    GO_TEST("server/opts_test.go", "TestEnvVarReferencesSelf");
    if (h_server_is_go()) cr_skip_test("v2.14.5 texts");
    env_fails("\n\t\tTEST: $_TEST_ENV_\n\t", (const char *const[]){"_TEST_ENV_=$_TEST_ENV_", NULL},
              "variable reference cycle");
}

Test(config_check, env_var_references_self_cycle) {
    GO_TEST("server/opts_test.go", "TestEnvVarReferencesSelfCycle");
    if (h_server_is_go()) cr_skip_test("v2.14.5 texts");
    env_fails("\n\t\tTEST: $_TEST_ENV_A_\n\t",
              (const char *const[]){"_TEST_ENV_A_=$_TEST_ENV_B_", "_TEST_ENV_B_=$_TEST_ENV_C_",
                                    "_TEST_ENV_C_=$_TEST_ENV_A_", NULL},
              "variable reference cycle");
}

Test(config_check, env_var_include) {
    GO_TEST("server/opts_test.go", "TestEnvVarInclude");
    env_fails("\n\t\tTEST: $_TEST_ENV_A_\n\t",
              (const char *const[]){"_TEST_ENV_A_=include x", NULL},
              "Expected a top-level value to end with a new line, comment or EOF");
}

Test(config_check, env_var_from_included_file) {
    GO_TEST("server/opts_test.go", "TestEnvVarFromIncludedFile");
    char *dir = tmp_dir(), env[64];
    int port = free_port();
    snprintf(env, sizeof env, "_TEST_ENV_PORT_B_=%d", port);
    free(put(dir, "inc.conf", "\n\t\tTEST_PORT: $_TEST_ENV_PORT_A_\n\t"));
    free(put(dir, "conf-main", "\n\t\tinclude \"./inc.conf\"\n\t\tport: $TEST_PORT\n\t"));
    pid_t pid;
    json_t *p =
        start_plain(dir, (const char *const[]){"_TEST_ENV_PORT_A_=$_TEST_ENV_PORT_B_", env, NULL},
                    (const char *const[]){"-c", "conf-main", NULL}, &pid);
    cr_expect_eq(url_port(p, "nats", NULL, 0), port);
    json_decref(p);
    stop(pid);
    rm_dir(dir);
}

/* ---- tls {} files: GenTLSConfig's checks happen with -t too ---------------------------- */

Test(config_check, tls_files) {
    if (h_server_is_go()) cr_skip_test("v2.14.5 texts");
    /* GenTLSConfig's checks happen with -t too, at the tls key. */
    check_conf("tls {\n  cert_file: \"nothere.pem\"\n}\n",
               "%F:1:0: missing 'key_file' in TLS configuration\n\n");
    check_conf("tls {\n  key_file: \"nothere.pem\"\n}\n",
               "%F:1:0: missing 'cert_file' in TLS configuration\n\n");
    check_conf("tls {\n  cert_file: \"/nothere/c.pem\"\n  key_file: \"/nothere/k.pem\"\n}\n",
               "%F:1:0: error parsing X509 certificate/key pair: open /nothere/c.pem: no such "
               "file or directory\n\n");
    check_conf("tls {\n  verify: \"yes please\"\n}\n",
               "%F:2:3: error parsing tls config, expected 'verify' to be a boolean\n\n");
    check_conf("tls: true\n",
               "%F:1:0: interface conversion: interface {} is bool, not map[string]interface "
               "{}\n\n");
}
