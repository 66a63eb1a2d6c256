/* Secret redaction in trace output: the case tables of Go nats-server v2.14.5
 * server/log_test.go TestRemovePassFromTrace, TestRemoveAuthTokenFromTrace and
 * TestRemoveAdditionalAuthFieldsFromTrace, run against broker/redact.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "broker/redact.h"
#include "common/gotest.h"

typedef struct redact_case {
    const char *name, *input, *expected;
} redact_case;

static const redact_case RemovePassFromTrace_cases[] = {
    {"user and pass",
     "CONNECT {\"user\":\"derek\",\"pass\":\"s3cr3t\"}\r\n",
     "CONNECT {\"user\":\"derek\",\"pass\":\"[REDACTED]\"}\r\n"},
    {"user and pass extra space",
     "CONNECT {\"user\":\"derek\",\"pass\":  \"s3cr3t\"}\r\n",
     "CONNECT {\"user\":\"derek\",\"pass\":  \"[REDACTED]\"}\r\n"},
    {"user and pass is empty",
     "CONNECT {\"user\":\"derek\",\"pass\":\"\"}\r\n",
     "CONNECT {\"user\":\"derek\",\"pass\":\"[REDACTED]\"}\r\n"},
    {"user and pass is empty whitespace",
     "CONNECT {\"user\":\"derek\",\"pass\":\"               \"}\r\n",
     "CONNECT {\"user\":\"derek\",\"pass\":\"[REDACTED]\"}\r\n"},
    {"user and pass whitespace",
     "CONNECT {\"user\":\"derek\",\"pass\":    \"s3cr3t\"     }\r\n",
     "CONNECT {\"user\":\"derek\",\"pass\":    \"[REDACTED]\"     }\r\n"},
    {"only pass",
     "CONNECT {\"pass\":\"s3cr3t\",}\r\n",
     "CONNECT {\"pass\":\"[REDACTED]\",}\r\n"},
    {"invalid json",
     "CONNECT {pass:s3cr3t ,   password =  s3cr3t}",
     "CONNECT {pass:[REDACTED],   password =  [REDACTED]}"},
    {"invalid json no whitespace after key",
     "CONNECT {pass:s3cr3t ,   password=  s3cr3t}",
     "CONNECT {pass:[REDACTED],   password=  [REDACTED]}"},
    {"both pass and wrong password key",
     "CONNECT {\"pass\":\"s3cr3t4\", \"password\": \"s3cr3t4\"}",
     "CONNECT {\"pass\":\"[REDACTED]\", \"password\": \"[REDACTED]\"}"},
    {"invalid json",
     "CONNECT {user = hello, password =  s3cr3t}",
     "CONNECT {user = hello, password =  [REDACTED]}"},
    {"complete connect",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"pass\":\"s3cr3t\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"pass\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n"},
    {"invalid json with only pass key",
     "CONNECT {pass:s3cr3t\r\n",
     "CONNECT {pass:[REDACTED]\r\n"},
    {"invalid password key also filtered",
     "CONNECT {\"password\":\"s3cr3t\",}\r\n",
     "CONNECT {\"password\":\"[REDACTED]\",}\r\n"},
    {"single long password with whitespace",
     "CONNECT {\"pass\":\"secret password which is very long\",}\r\n",
     "CONNECT {\"pass\":\"[REDACTED]\",}\r\n"},
    {"single long pass key is filtered",
     "CONNECT {\"pass\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}\r\n",
     "CONNECT {\"pass\":\"[REDACTED]\"}\r\n"},
    {"duplicate keys all filtered",
     "CONNECT {\"pass\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"pass\":\"BBBBBBBBBBBBBBBBBBBB\",\"password\":\"CCCCCCCCCCCCCCCC\"}\r\n",
     "CONNECT {\"pass\":\"[REDACTED]\",\"pass\":\"[REDACTED]\",\"password\":\"[REDACTED]\"}\r\n"},
    {"invalid json with multiple keys all filtered",
     "CONNECT {pass = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",pass= \"BBBBBBBBBBBBBBBBBBBB\",password =\"CCCCCCCCCCCCCCCC\"}\r\n",
     "CONNECT {pass = \"[REDACTED]\",pass= \"[REDACTED]\",password =\"[REDACTED]\"}\r\n"},
    {"complete connect protocol",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"pass\":\"s3cr3t\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"pass\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n"},
    {"user and pass are filterered",
     "CONNECT {\"user\":\"s3cr3t\",\"pass\":\"s3cr3t\"}\r\n",
     "CONNECT {\"user\":\"s3cr3t\",\"pass\":\"[REDACTED]\"}\r\n"},
    {"complete connect using password key with user and password being the same",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"pass\":\"s3cr3t\",\"tls_required\":false,\"name\":\"...\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"pass\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"...\"}\r\n"},
    {"complete connect with user password and name all the same",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"pass\":\"s3cr3t\",\"tls_required\":false,\"name\":\"s3cr3t\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"pass\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"s3cr3t\"}\r\n"},
    {"complete connect extra white space at the beginning",
     "CONNECT \t {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"pass\":\"s3cr3t\",\"tls_required\":false,\"name\":\"foo\"}\r\n",
     "CONNECT \t {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"pass\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"foo\"}\r\n"},
};
static const redact_case RemoveAuthTokenFromTrace_cases[] = {
    {"user and auth_token",
     "CONNECT {\"user\":\"derek\",\"auth_token\":\"s3cr3t\"}\r\n",
     "CONNECT {\"user\":\"derek\",\"auth_token\":\"[REDACTED]\"}\r\n"},
    {"user and pass extra space",
     "CONNECT {\"user\":\"derek\",\"auth_token\":  \"s3cr3t\"}\r\n",
     "CONNECT {\"user\":\"derek\",\"auth_token\":  \"[REDACTED]\"}\r\n"},
    {"user and pass is empty",
     "CONNECT {\"user\":\"derek\",\"auth_token\":\"\"}\r\n",
     "CONNECT {\"user\":\"derek\",\"auth_token\":\"[REDACTED]\"}\r\n"},
    {"user and pass is empty whitespace",
     "CONNECT {\"user\":\"derek\",\"auth_token\":\"               \"}\r\n",
     "CONNECT {\"user\":\"derek\",\"auth_token\":\"[REDACTED]\"}\r\n"},
    {"user and pass whitespace",
     "CONNECT {\"user\":\"derek\",\"auth_token\":    \"s3cr3t\"     }\r\n",
     "CONNECT {\"user\":\"derek\",\"auth_token\":    \"[REDACTED]\"     }\r\n"},
    {"only pass",
     "CONNECT {\"auth_token\":\"s3cr3t\",}\r\n",
     "CONNECT {\"auth_token\":\"[REDACTED]\",}\r\n"},
    {"invalid json",
     "CONNECT {auth_token:s3cr3t ,   password =  s3cr3t}",
     "CONNECT {auth_token:[REDACTED],   password =  [REDACTED]}"},
    {"invalid json no whitespace after key",
     "CONNECT {auth_token:s3cr3t ,   password=  s3cr3t}",
     "CONNECT {auth_token:[REDACTED],   password=  [REDACTED]}"},
    {"both pass and wrong password key",
     "CONNECT {\"auth_token\":\"s3cr3t4\", \"password\": \"s3cr3t4\"}",
     "CONNECT {\"auth_token\":\"[REDACTED]\", \"password\": \"[REDACTED]\"}"},
    {"invalid json",
     "CONNECT {user = hello, auth_token =  s3cr3t}",
     "CONNECT {user = hello, auth_token =  [REDACTED]}"},
    {"complete connect",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"auth_token\":\"s3cr3t\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"auth_token\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n"},
    {"invalid json with only pass key",
     "CONNECT {auth_token:s3cr3t\r\n",
     "CONNECT {auth_token:[REDACTED]\r\n"},
    {"invalid password key also filtered",
     "CONNECT {\"auth_token\":\"s3cr3t\",}\r\n",
     "CONNECT {\"auth_token\":\"[REDACTED]\",}\r\n"},
    {"single long password with whitespace",
     "CONNECT {\"auth_token\":\"secret password which is very long\",}\r\n",
     "CONNECT {\"auth_token\":\"[REDACTED]\",}\r\n"},
    {"single long pass key is filtered",
     "CONNECT {\"auth_token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}\r\n",
     "CONNECT {\"auth_token\":\"[REDACTED]\"}\r\n"},
    {"duplicate keys all filtered",
     "CONNECT {\"auth_token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"auth_token\":\"BBB\",\"pass\":\"BBBBBBBBBBBBBBBBBBBB\",\"password\":\"CCCCCCCCCCCCCCCC\"}\r\n",
     "CONNECT {\"auth_token\":\"[REDACTED]\",\"auth_token\":\"[REDACTED]\",\"pass\":\"[REDACTED]\",\"password\":\"[REDACTED]\"}\r\n"},
    {"invalid json with multiple keys all filtered",
     "CONNECT {auth_token = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",pass= \"BBBBBBBBBBBBBBBBBBBB\",password =\"CCCCCCCCCCCCCCCC\"}\r\n",
     "CONNECT {auth_token = \"[REDACTED]\",pass= \"[REDACTED]\",password =\"[REDACTED]\"}\r\n"},
    {"complete connect protocol",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"auth_token\":\"s3cr3t\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"foo\",\"auth_token\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"APM7JU94z77YzP6WTBEiuw\"}\r\n"},
    {"user and token are filterered",
     "CONNECT {\"user\":\"s3cr3t\",\"auth_token\":\"s3cr3t\"}\r\n",
     "CONNECT {\"user\":\"s3cr3t\",\"auth_token\":\"[REDACTED]\"}\r\n"},
    {"complete connect using token key with user and token being the same",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"auth_token\":\"s3cr3t\",\"tls_required\":false,\"name\":\"...\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"auth_token\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"...\"}\r\n"},
    {"complete connect with user, token and name all the same",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"auth_token\":\"s3cr3t\",\"tls_required\":false,\"name\":\"s3cr3t\"}\r\n",
     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"auth_token\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"s3cr3t\"}\r\n"},
    {"complete connect extra white space at the beginning",
     "CONNECT \t {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"auth_token\":\"s3cr3t\",\"tls_required\":false,\"name\":\"foo\"}\r\n",
     "CONNECT \t {\"echo\":true,\"verbose\":false,\"pedantic\":false,\"user\":\"s3cr3t\",\"auth_token\":\"[REDACTED]\",\"tls_required\":false,\"name\":\"foo\"}\r\n"},
};
static const redact_case RemoveAdditionalAuthFieldsFromTrace_cases[] = {
    {"sig",
     "CONNECT {\"sig\":\"signature\",\"user\":\"foo\"}\r\n",
     "CONNECT {\"sig\":\"[REDACTED]\",\"user\":\"foo\"}\r\n"},
    {"nkey",
     "CONNECT {\"nkey\":\"nkey\",\"user\":\"foo\"}\r\n",
     "CONNECT {\"nkey\":\"[REDACTED]\",\"user\":\"foo\"}\r\n"},
    {"proxy sig",
     "CONNECT {\"proxy_sig\":\"proxy-signature\",\"user\":\"foo\"}\r\n",
     "CONNECT {\"proxy_sig\":\"[REDACTED]\",\"user\":\"foo\"}\r\n"},
    {"proxy sig followed by sig",
     "CONNECT {\"proxy_sig\":\"proxy-signature\",\"sig\":\"sig\",\"user\":\"foo\"}\r\n",
     "CONNECT {\"proxy_sig\":\"[REDACTED]\",\"sig\":\"[REDACTED]\",\"user\":\"foo\"}\r\n"},
    {"sig followed by proxy sig",
     "CONNECT {\"sig\":\"sig\",\"proxy_sig\":\"proxy-signature\",\"user\":\"foo\"}\r\n",
     "CONNECT {\"sig\":\"[REDACTED]\",\"proxy_sig\":\"[REDACTED]\",\"user\":\"foo\"}\r\n"},
    {"sig marker inside another string still redacts real sig",
     "CONNECT {\"name\":\"foo sig:bar\",\"sig\":\"REAL\",\"user\":\"foo\"}\r\n",
     "CONNECT {\"name\":\"foo sig:[REDACTED]\",\"sig\":\"[REDACTED]\",\"user\":\"foo\"}\r\n"},
    {"malformed sig without object delimiters",
     "CONNECT sig=abc\r\n",
     "CONNECT sig=[REDACTED]\r\n"},
    {"sig after malformed quoted field is redacted",
     "CONNECT {\"name\":\"unterminated,\"sig\":\"abc\"}\r\n",
     "CONNECT {\"name\":\"unterminated,\"sig\":\"[REDACTED]\"}\r\n"},
};

static void run(const redact_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char out[4096];
        br_redact_connect(cases[i].input, strlen(cases[i].input), out, sizeof out);
        cr_expect_str_eq(out, cases[i].expected, "case \"%s\"", cases[i].name);
    }
}

#define RUN(t) run(t, sizeof t / sizeof t[0])

Test(redact, pass) {
    GO_TEST("server/log_test.go", "TestRemovePassFromTrace");
    RUN(RemovePassFromTrace_cases);
}

Test(redact, auth_token) {
    GO_TEST("server/log_test.go", "TestRemoveAuthTokenFromTrace");
    RUN(RemoveAuthTokenFromTrace_cases);
}

Test(redact, sig_nkey_proxy_sig) {
    GO_TEST("server/log_test.go", "TestRemoveAdditionalAuthFieldsFromTrace");
    RUN(RemoveAdditionalAuthFieldsFromTrace_cases);
}
