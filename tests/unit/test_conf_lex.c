/* Lexer tests: port of nats-server v2.14.5 conf/lex_test.go (every test function), plus
 * lexer limits that Go does not have.
 *
 * EXPECT keeps Go's expect() helper semantics (items compared in order, stop at an error) and
 * is stricter in one way: the lexer must reach EOF exactly where the expected list has its
 * EOF item.  TestJSONCompat lists "}" keys after the point where Go's lexer really ends, which
 * Go's helper never reaches, so it runs with EXPECT_LENIENT (Go's exact semantics).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/conf_lex.h"
#include "common/gotest.h"

#define ERR NX_CONF_ITEM_ERROR
#define NIL NX_CONF_ITEM_NIL
#define EOF_ NX_CONF_ITEM_EOF
#define KEY NX_CONF_ITEM_KEY
#define TEXT NX_CONF_ITEM_TEXT
#define STR NX_CONF_ITEM_STRING
#define BOOL NX_CONF_ITEM_BOOL
#define INT NX_CONF_ITEM_INTEGER
#define FLOAT NX_CONF_ITEM_FLOAT
#define DT NX_CONF_ITEM_DATETIME
#define AS NX_CONF_ITEM_ARRAY_START
#define AE NX_CONF_ITEM_ARRAY_END
#define MS NX_CONF_ITEM_MAP_START
#define ME NX_CONF_ITEM_MAP_END
#define CS NX_CONF_ITEM_COMMENT_START
#define VAR NX_CONF_ITEM_VARIABLE
#define INC NX_CONF_ITEM_INCLUDE

typedef struct {
    nx_conf_item_type t;
    const char *v;
    int line, pos;
} xi;

static void expect_items(const char *in, size_t len, const xi *x, size_t n, bool strict) {
    nx_conf_lexer *lx = nx_conf_lex_new(in, len);
    cr_assert_not_null(lx);
    for (size_t i = 0; i < n; i++) {
        nx_conf_item it;
        nx_conf_lex_next(lx, &it);
        if (it.type == EOF_) {
            if (strict)
                cr_expect_eq(x[i].t, EOF_, "input %s: item %zu: got EOF, want (%s, '%s')", in, i,
                             nx_conf_item_type_name(x[i].t), x[i].v);
            break;
        }
        cr_expect(it.type == x[i].t && it.len == strlen(x[i].v) &&
                      memcmp(it.val, x[i].v, it.len) == 0 && it.line == x[i].line &&
                      it.pos == x[i].pos,
                  "input %s: item %zu: want (%s, '%s', %d, %d), got (%s, '%s', %d, %d)", in, i,
                  nx_conf_item_type_name(x[i].t), x[i].v, x[i].line, x[i].pos,
                  nx_conf_item_type_name(it.type), it.val, it.line, it.pos);
        if (it.type == ERR) break;
    }
    nx_conf_lex_free(lx);
}

/* in is a string literal or a char array: its length is sizeof - 1, so NULs count. */
#define EXPECT(in, x) expect_items(in, sizeof(in) - 1, x, sizeof(x) / sizeof(x[0]), true)
#define EXPECT_LENIENT(in, x) expect_items(in, sizeof(in) - 1, x, sizeof(x) / sizeof(x[0]), false)

/* The expected item tables below mirror Go's, one Go item per entry. */
// clang-format off
static const char mlArray[] = "\n# top level comment\nfoo = [\n 1, # One\n 2, // Two\n 3 # Three\n 'bar'     ,\n \"bar\"\n]\n";
static const char mlArrayNoSep[] = "\n# top level comment\nfoo = [\n 1 // foo\n 2\n 3\n 'bar'\n \"bar\"\n]\n";
static const char mlMap[] = "\nfoo = {\n  ip = '127.0.0.1' # the IP\n  port= 4242 // the port\n}\n";
static const char nestedMap[] = "\nfoo = {\n  host = {\n    ip = '127.0.0.1'\n    port= 4242\n  }\n}\n";
static const char escString[] = "\nfoo  = \\t\nbar  = \\r\nbaz  = \\n\nq    = \\\"\nbs   = \\\\\n";
static const char nestedWhitespaceMap[] = "\nfoo  {\n  host  {\n    ip = '127.0.0.1'\n    port= 4242\n  }\n}\n";
static const char semicolons[] = "\nfoo = 123;\nbar = 'baz';\nbaz = 'boo'\nmap {\n id = 1;\n}\n";
static const char noquotes[] = "\nfoo = 123\nbar = baz\nbaz=boo\nmap {\n id:one\n id2 : onetwo\n}\nt true\nf false\ntstr \"true\"\ntkey = two\nfkey = five # This should be a string\n";
static const char danglingquote[] = "\nlisten: \"localhost:4242\n\nhttp: localhost:8222\n";
static const char keydanglingquote[] = "\nfoo = \"\nlisten: \"\n\nhttp: localhost:8222\n\n\"\n";
static const char danglingsquote[] = "\nlisten: 'localhost:4242\n\nhttp: localhost:8222\n";
static const char keydanglingsquote[] = "\nfoo = '\nlisten: '\n\nhttp: localhost:8222\n\n'\n";
static const char mapdanglingbracket[] = "\nlisten = 4222\n\ncluster = {\n\n  foo = bar\n\n";
static const char blockdanglingparens[] = "\nlisten = 4222\n\nquote = (\n\n  foo = bar\n\n";
static const char mlnestedmap[] = "\nsystems {\n  allinone {\n    description: \"This is a description.\"\n  }\n}\n";
static const char blockexample[] = "\nnumbers (\n1234567890\n)\n";
static const char mlblockexample[] = "\nnumbers (\n  12(34)56\n  (\n    7890\n  )\n)\n";
static const char arrayOfMaps[] = "\nauthorization {\n    users = [\n      {user: alice, password: foo}\n      {user: bob,   password: bar}\n    ]\n    timeout: 0.5\n}\n";

Test(conf_lex, PlainValue) {
    GO_TEST("conf/lex_test.go", "TestPlainValue");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {EOF_, "", 1, 0},
    };
    EXPECT("foo", e1);
}

Test(conf_lex, SimpleKeyStringValues) {
    GO_TEST("conf/lex_test.go", "TestSimpleKeyStringValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "bar", 1, 7}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = \"bar\"", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {STR, "bar", 1, 7}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 'bar'", e2);
    static const xi e3[] = {
        {KEY, "foo", 1, 0}, {STR, "bar", 1, 5}, {EOF_, "", 1, 0},
    };
    EXPECT("foo='bar'", e3);
    static const xi e4[] = {
        {KEY, "foo", 1, 0}, {STR, "bar", 1, 5}, {EOF_, "", 1, 0},
    };
    EXPECT("foo='bar'\r\n", e4);
    static const xi e5[] = {
        {KEY, "foo", 1, 0}, {STR, "bar", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo=\t'bar'\t", e5);
}

Test(conf_lex, ComplexStringValues) {
    GO_TEST("conf/lex_test.go", "TestComplexStringValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "bar\\r\\n  \\t", 1, 7}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = 'bar\\r\\n  \\t'", e1);
}

Test(conf_lex, StringStartingWithNumber) {
    GO_TEST("conf/lex_test.go", "TestStringStartingWithNumber");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "3xyz", 1, 6}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = 3xyz", e1);
    EXPECT("foo = 3xyz,", e1);
    EXPECT("foo = 3xyz;", e1);
    static const xi e2[] = {
        {KEY, "foo", 2, 9}, {STR, "3xyz", 2, 15}, {EOF_, "", 2, 0},
    };
    EXPECT("\n        foo = 3xyz\n        ", e2);
    static const xi e3[] = {
        {KEY, "map", 2, 9}, {MS, "", 2, 14}, {KEY, "foo", 3, 11}, {STR, "3xyz", 3, 17},
        {ME, "", 3, 22}, {EOF_, "", 2, 0},
    };
    EXPECT("\n        map {\n          foo = 3xyz}\n        ", e3);
    static const xi e4[] = {
        {KEY, "map", 2, 9}, {MS, "", 2, 14}, {KEY, "foo", 3, 11}, {STR, "3xyz", 3, 17},
        {ME, "", 4, 10}, {EOF_, "", 2, 0},
    };
    EXPECT("\n        map {\n          foo = 3xyz;\n        }\n        ", e4);
    static const xi e5[] = {
        {KEY, "map", 2, 9}, {MS, "", 2, 14}, {KEY, "foo", 3, 11}, {STR, "3xyz", 3, 17},
        {KEY, "bar", 4, 11}, {STR, "4wqs", 4, 17}, {ME, "", 5, 10}, {EOF_, "", 2, 0},
    };
    EXPECT("\n        map {\n          foo = 3xyz,\n          bar = 4wqs\n        }\n        ", e5);
}

Test(conf_lex, BinaryString) {
    GO_TEST("conf/lex_test.go", "TestBinaryString");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "e", 1, 9}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = \\x65", e1);
}

Test(conf_lex, BinaryStringLatin1) {
    GO_TEST("conf/lex_test.go", "TestBinaryStringLatin1");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "\xe9", 1, 9}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = \\xe9", e1);
}

Test(conf_lex, SimpleKeyIntegerValues) {
    GO_TEST("conf/lex_test.go", "TestSimpleKeyIntegerValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 123", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 4}, {EOF_, "", 1, 0},
    };
    EXPECT("foo=123", e2);
    EXPECT("foo=123\r\n", e2);
}

Test(conf_lex, SimpleKeyNegativeIntegerValues) {
    GO_TEST("conf/lex_test.go", "TestSimpleKeyNegativeIntegerValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "-123", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = -123", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {INT, "-123", 1, 4}, {EOF_, "", 1, 0},
    };
    EXPECT("foo=-123", e2);
    EXPECT("foo=-123\r\n", e2);
}

Test(conf_lex, ConvenientIntegerValues) {
    GO_TEST("conf/lex_test.go", "TestConvenientIntegerValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "1k", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1k", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {INT, "1K", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1K", e2);
    static const xi e3[] = {
        {KEY, "foo", 1, 0}, {INT, "1m", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1m", e3);
    static const xi e4[] = {
        {KEY, "foo", 1, 0}, {INT, "1M", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1M", e4);
    static const xi e5[] = {
        {KEY, "foo", 1, 0}, {INT, "1g", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1g", e5);
    static const xi e6[] = {
        {KEY, "foo", 1, 0}, {INT, "1G", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1G", e6);
    static const xi e7[] = {
        {KEY, "foo", 1, 0}, {INT, "1MB", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1MB", e7);
    static const xi e8[] = {
        {KEY, "foo", 1, 0}, {INT, "1Gb", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1Gb", e8);
    static const xi e9[] = {
        {KEY, "foo", 1, 0}, {INT, "-1m", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = -1m", e9);
    static const xi e10[] = {
        {KEY, "foo", 1, 0}, {INT, "-1GB", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = -1GB ", e10);
    static const xi e11[] = {
        {KEY, "foo", 1, 0}, {STR, "1Ghz", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 1Ghz", e11);
    static const xi e12[] = {
        {KEY, "foo", 1, 0}, {STR, "2Pie", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 2Pie", e12);
    static const xi e13[] = {
        {KEY, "foo", 1, 0}, {STR, "3Mbs", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 3Mbs,", e13);
    static const xi e14[] = {
        {KEY, "foo", 1, 0}, {INT, "4Gb", 1, 6}, {KEY, "bar", 1, 11}, {STR, "5G\xc3\xb8", 1, 17},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo = 4Gb, bar = 5G\xc3\xb8", e14);
}

Test(conf_lex, SimpleKeyFloatValues) {
    GO_TEST("conf/lex_test.go", "TestSimpleKeyFloatValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {FLOAT, "22.2", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 22.2", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {FLOAT, "22.2", 1, 4}, {EOF_, "", 1, 0},
    };
    EXPECT("foo=22.2", e2);
    EXPECT("foo=22.2\r\n", e2);
}

Test(conf_lex, BadBinaryStringEndingAfterZeroHexChars) {
    GO_TEST("conf/lex_test.go", "TestBadBinaryStringEndingAfterZeroHexChars");
    static const xi e1[] = {
        {KEY, "foo", 1, 0},
        {ERR, "Expected two hexadecimal digits after '\\x', but hit end of line", 2, 1},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo = xyz\\x\n", e1);
}

Test(conf_lex, BadBinaryStringEndingAfterOneHexChar) {
    GO_TEST("conf/lex_test.go", "TestBadBinaryStringEndingAfterOneHexChar");
    static const xi e1[] = {
        {KEY, "foo", 1, 0},
        {ERR, "Expected two hexadecimal digits after '\\x', but hit end of line", 2, 1},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo = xyz\\xF\n", e1);
}

Test(conf_lex, BadBinaryStringWithZeroHexChars) {
    GO_TEST("conf/lex_test.go", "TestBadBinaryStringWithZeroHexChars");
    static const xi e1[] = {
        {KEY, "foo", 1, 0},
        {ERR, "Expected two hexadecimal digits after '\\x', but got ']\"'", 1, 12},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo = \"[\\x]\"", e1);
}

Test(conf_lex, BadBinaryStringWithOneHexChar) {
    GO_TEST("conf/lex_test.go", "TestBadBinaryStringWithOneHexChar");
    static const xi e1[] = {
        {KEY, "foo", 1, 0},
        {ERR, "Expected two hexadecimal digits after '\\x', but got 'e]'", 1, 12}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = \"[\\xe]\"", e1);
}

Test(conf_lex, BadFloatValues) {
    GO_TEST("conf/lex_test.go", "TestBadFloatValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {ERR, "Floats must start with a digit", 1, 7}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = .2", e1);
}

Test(conf_lex, BadKey) {
    GO_TEST("conf/lex_test.go", "TestBadKey");
    static const xi e1[] = {
        {ERR, "Unexpected key separator ':'", 1, 1}, {EOF_, "", 1, 0},
    };
    EXPECT(" :foo = 22", e1);
}

Test(conf_lex, SimpleKeyBoolValues) {
    GO_TEST("conf/lex_test.go", "TestSimpleKeyBoolValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {BOOL, "true", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = true", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {BOOL, "true", 1, 4}, {EOF_, "", 1, 0},
    };
    EXPECT("foo=true", e2);
    EXPECT("foo=true\r\n", e2);
}

Test(conf_lex, Comments) {
    GO_TEST("conf/lex_test.go", "TestComments");
    static const xi e1[] = {
        {CS, "", 1, 1}, {TEXT, " This is a comment", 1, 1}, {EOF_, "", 1, 0},
    };
    EXPECT("# This is a comment", e1);
    EXPECT("# This is a comment\r\n", e1);
    static const xi e2[] = {
        {CS, "", 1, 2}, {TEXT, " This is a comment", 1, 2}, {EOF_, "", 1, 0},
    };
    EXPECT("// This is a comment\r\n", e2);
}

Test(conf_lex, TopValuesWithComments) {
    GO_TEST("conf/lex_test.go", "TestTopValuesWithComments");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 6}, {CS, "", 1, 12},
        {TEXT, " This is a comment", 1, 12}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 123 // This is a comment", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 4}, {CS, "", 1, 12},
        {TEXT, " This is a comment", 1, 12}, {EOF_, "", 1, 0},
    };
    EXPECT("foo=123    # This is a comment", e2);
}

Test(conf_lex, RawString) {
    GO_TEST("conf/lex_test.go", "TestRawString");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "bar", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = bar", e1);
    EXPECT("foo = bar' ", e1);
}

Test(conf_lex, DateValues) {
    GO_TEST("conf/lex_test.go", "TestDateValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {DT, "2016-05-04T18:53:41Z", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = 2016-05-04T18:53:41Z", e1);
}

Test(conf_lex, VariableValues) {
    GO_TEST("conf/lex_test.go", "TestVariableValues");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {VAR, "bar", 1, 7}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = $bar", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {VAR, "bar", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo =$bar", e2);
    static const xi e3[] = {
        {KEY, "foo", 1, 0}, {VAR, "bar", 1, 5}, {EOF_, "", 1, 0},
    };
    EXPECT("foo $bar", e3);
}

Test(conf_lex, Arrays) {
    GO_TEST("conf/lex_test.go", "TestArrays");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {AS, "", 1, 7}, {INT, "1", 1, 7}, {INT, "2", 1, 10}, {INT, "3", 1, 13},
        {STR, "bar", 1, 17}, {AE, "", 1, 22}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = [1, 2, 3, 'bar']", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {AS, "", 1, 7}, {INT, "1", 1, 7}, {INT, "2", 1, 9}, {INT, "3", 1, 11},
        {STR, "bar", 1, 14}, {AE, "", 1, 19}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = [1,2,3,'bar']", e2);
    static const xi e3[] = {
        {KEY, "foo", 1, 0}, {AS, "", 1, 7}, {INT, "1", 1, 7}, {INT, "2", 1, 10}, {INT, "3", 1, 12},
        {STR, "bar", 1, 15}, {AE, "", 1, 20}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = [1, 2,3,'bar']", e3);
}

Test(conf_lex, MultilineArrays) {
    GO_TEST("conf/lex_test.go", "TestMultilineArrays");
    static const xi e1[] = {
        {CS, "", 2, 2}, {TEXT, " top level comment", 2, 2}, {KEY, "foo", 3, 1}, {AS, "", 3, 8},
        {INT, "1", 4, 2}, {CS, "", 4, 6}, {TEXT, " One", 4, 6}, {INT, "2", 5, 2}, {CS, "", 5, 7},
        {TEXT, " Two", 5, 7}, {INT, "3", 6, 2}, {CS, "", 6, 5}, {TEXT, " Three", 6, 5},
        {STR, "bar", 7, 3}, {STR, "bar", 8, 3}, {AE, "", 9, 2}, {EOF_, "", 9, 0},
    };
    EXPECT(mlArray, e1);
}

Test(conf_lex, MultilineArraysNoSep) {
    GO_TEST("conf/lex_test.go", "TestMultilineArraysNoSep");
    static const xi e1[] = {
        {CS, "", 2, 2}, {TEXT, " top level comment", 2, 2}, {KEY, "foo", 3, 1}, {AS, "", 3, 8},
        {INT, "1", 4, 2}, {CS, "", 4, 6}, {TEXT, " foo", 4, 6}, {INT, "2", 5, 2}, {INT, "3", 6, 2},
        {STR, "bar", 7, 3}, {STR, "bar", 8, 3}, {AE, "", 9, 2}, {EOF_, "", 9, 0},
    };
    EXPECT(mlArrayNoSep, e1);
}

Test(conf_lex, SimpleMap) {
    GO_TEST("conf/lex_test.go", "TestSimpleMap");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 7}, {KEY, "ip", 1, 7}, {STR, "127.0.0.1", 1, 11},
        {KEY, "port", 1, 23}, {INT, "4242", 1, 30}, {ME, "", 1, 35}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = {ip='127.0.0.1', port = 4242}", e1);
}

Test(conf_lex, MultilineMap) {
    GO_TEST("conf/lex_test.go", "TestMultilineMap");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {MS, "", 2, 8}, {KEY, "ip", 3, 3}, {STR, "127.0.0.1", 3, 9},
        {CS, "", 3, 21}, {TEXT, " the IP", 3, 21}, {KEY, "port", 4, 3}, {INT, "4242", 4, 9},
        {CS, "", 4, 16}, {TEXT, " the port", 4, 16}, {ME, "", 5, 2}, {EOF_, "", 5, 0},
    };
    EXPECT(mlMap, e1);
}

Test(conf_lex, NestedMaps) {
    GO_TEST("conf/lex_test.go", "TestNestedMaps");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {MS, "", 2, 8}, {KEY, "host", 3, 3}, {MS, "", 3, 11}, {KEY, "ip", 4, 5},
        {STR, "127.0.0.1", 4, 11}, {KEY, "port", 5, 5}, {INT, "4242", 5, 11}, {ME, "", 6, 4},
        {ME, "", 7, 2}, {EOF_, "", 7, 0},
    };
    EXPECT(nestedMap, e1);
}

Test(conf_lex, QuotedKeys) {
    GO_TEST("conf/lex_test.go", "TestQuotedKeys");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo : 123", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 1}, {INT, "123", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("'foo' : 123", e2);
    EXPECT("\"foo\" : 123", e2);
}

Test(conf_lex, QuotedKeysWithSpace) {
    GO_TEST("conf/lex_test.go", "TestQuotedKeysWithSpace");
    static const xi e1[] = {
        {KEY, " foo", 1, 1}, {INT, "123", 1, 9}, {EOF_, "", 1, 0},
    };
    EXPECT("' foo' : 123", e1);
    static const xi e2[] = {
        {KEY, " foo", 1, 1}, {INT, "123", 1, 9}, {EOF_, "", 1, 0},
    };
    EXPECT("\" foo\" : 123", e2);
}

Test(conf_lex, ColonKeySep) {
    GO_TEST("conf/lex_test.go", "TestColonKeySep");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo : 123", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 4}, {EOF_, "", 1, 0},
    };
    EXPECT("foo:123", e2);
    static const xi e3[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 5}, {EOF_, "", 1, 0},
    };
    EXPECT("foo: 123", e3);
    static const xi e4[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 6}, {EOF_, "", 1, 0},
    };
    EXPECT("foo:  123\r\n", e4);
}

Test(conf_lex, WhitespaceKeySep) {
    GO_TEST("conf/lex_test.go", "TestWhitespaceKeySep");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 4}, {EOF_, "", 1, 0},
    };
    EXPECT("foo 123", e1);
    EXPECT("foo 123", e1);
    EXPECT("foo\t123", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {INT, "123", 1, 5}, {EOF_, "", 1, 0},
    };
    EXPECT("foo\t\t123\r\n", e2);
}

Test(conf_lex, EscapedString) {
    GO_TEST("conf/lex_test.go", "TestEscapedString");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {STR, "\t", 2, 9}, {KEY, "bar", 3, 1}, {STR, "\r", 3, 9},
        {KEY, "baz", 4, 1}, {STR, "\n", 4, 9}, {KEY, "q", 5, 1}, {STR, "\"", 5, 9},
        {KEY, "bs", 6, 1}, {STR, "\\", 6, 9}, {EOF_, "", 6, 0},
    };
    EXPECT(escString, e1);
}

Test(conf_lex, CompoundStringES) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringES");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "\\end", 1, 8}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \"\\\\end\"", e1);
}

Test(conf_lex, CompoundStringSE) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringSE");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "start\\", 1, 8}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \"start\\\\\"", e1);
}

Test(conf_lex, CompoundStringEE) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringEE");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "Eq", 1, 12}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \\x45\\x71", e1);
}

Test(conf_lex, CompoundStringSEE) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringSEE");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "startEq", 1, 12}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = start\\x45\\x71", e1);
}

Test(conf_lex, CompoundStringSES) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringSES");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "start|end", 1, 9}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = start\\x7Cend", e1);
}

Test(conf_lex, CompoundStringEES) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringEES");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "<>end", 1, 12}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \\x3c\\x3eend", e1);
}

Test(conf_lex, CompoundStringESE) {
    GO_TEST("conf/lex_test.go", "TestCompoundStringESE");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "<middle>", 1, 12}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \\x3cmiddle\\x3E", e1);
}

Test(conf_lex, BadStringEscape) {
    GO_TEST("conf/lex_test.go", "TestBadStringEscape");
    static const xi e1[] = {
        {KEY, "foo", 1, 0},
        {ERR, "Invalid escape character 'y'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.", 1, 8},
        {EOF_, "", 2, 0},
    };
    EXPECT("foo = \\y", e1);
}

Test(conf_lex, NonBool) {
    GO_TEST("conf/lex_test.go", "TestNonBool");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "\\true", 1, 7}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \\\\true", e1);
}

Test(conf_lex, NonVariable) {
    GO_TEST("conf/lex_test.go", "TestNonVariable");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "\\$var", 1, 7}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \\\\$var", e1);
}

Test(conf_lex, EmptyStringDQ) {
    GO_TEST("conf/lex_test.go", "TestEmptyStringDQ");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "", 1, 7}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = \"\"", e1);
}

Test(conf_lex, EmptyStringSQ) {
    GO_TEST("conf/lex_test.go", "TestEmptyStringSQ");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "", 1, 7}, {EOF_, "", 2, 0},
    };
    EXPECT("foo = ''", e1);
}

Test(conf_lex, NestedWhitespaceMaps) {
    GO_TEST("conf/lex_test.go", "TestNestedWhitespaceMaps");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {MS, "", 2, 7}, {KEY, "host", 3, 3}, {MS, "", 3, 10}, {KEY, "ip", 4, 5},
        {STR, "127.0.0.1", 4, 11}, {KEY, "port", 5, 5}, {INT, "4242", 5, 11}, {ME, "", 6, 4},
        {ME, "", 7, 2}, {EOF_, "", 7, 0},
    };
    EXPECT(nestedWhitespaceMap, e1);
}

Test(conf_lex, OptionalSemicolons) {
    GO_TEST("conf/lex_test.go", "TestOptionalSemicolons");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {INT, "123", 2, 7}, {KEY, "bar", 3, 1}, {STR, "baz", 3, 8},
        {KEY, "baz", 4, 1}, {STR, "boo", 4, 8}, {KEY, "map", 5, 1}, {MS, "", 5, 6},
        {KEY, "id", 6, 2}, {INT, "1", 6, 7}, {ME, "", 7, 2}, {EOF_, "", 8, 0},
    };
    EXPECT(semicolons, e1);
}

Test(conf_lex, SemicolonChaining) {
    GO_TEST("conf/lex_test.go", "TestSemicolonChaining");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {STR, "1", 1, 5}, {KEY, "bar", 1, 9}, {FLOAT, "2.2", 1, 13},
        {KEY, "baz", 1, 18}, {BOOL, "true", 1, 22}, {EOF_, "", 1, 0},
    };
    EXPECT("foo='1'; bar=2.2; baz=true;", e1);
}

Test(conf_lex, NonQuotedStrings) {
    GO_TEST("conf/lex_test.go", "TestNonQuotedStrings");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {INT, "123", 2, 7}, {KEY, "bar", 3, 1}, {STR, "baz", 3, 7},
        {KEY, "baz", 4, 1}, {STR, "boo", 4, 5}, {KEY, "map", 5, 1}, {MS, "", 5, 6},
        {KEY, "id", 6, 2}, {STR, "one", 6, 5}, {KEY, "id2", 7, 2}, {STR, "onetwo", 7, 8},
        {ME, "", 8, 2}, {KEY, "t", 9, 1}, {BOOL, "true", 9, 3}, {KEY, "f", 10, 1},
        {BOOL, "false", 10, 3}, {KEY, "tstr", 11, 1}, {STR, "true", 11, 7}, {KEY, "tkey", 12, 1},
        {STR, "two", 12, 8}, {KEY, "fkey", 13, 1}, {STR, "five", 13, 8}, {CS, "", 13, 14},
        {TEXT, " This should be a string", 13, 14}, {EOF_, "", 14, 0},
    };
    EXPECT(noquotes, e1);
}

Test(conf_lex, DanglingQuotedString) {
    GO_TEST("conf/lex_test.go", "TestDanglingQuotedString");
    static const xi e1[] = {
        {KEY, "listen", 2, 1}, {ERR, "Unexpected EOF.", 5, 1},
    };
    EXPECT(danglingquote, e1);
}

Test(conf_lex, KeyDanglingQuotedString) {
    GO_TEST("conf/lex_test.go", "TestKeyDanglingQuotedString");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {STR, "\nlisten: ", 3, 8}, {KEY, "http", 5, 1},
        {STR, "localhost:8222", 5, 7}, {ERR, "Unexpected EOF.", 8, 1},
    };
    EXPECT(keydanglingquote, e1);
}

Test(conf_lex, DanglingSingleQuotedString) {
    GO_TEST("conf/lex_test.go", "TestDanglingSingleQuotedString");
    static const xi e1[] = {
        {KEY, "listen", 2, 1}, {ERR, "Unexpected EOF.", 5, 1},
    };
    EXPECT(danglingsquote, e1);
}

Test(conf_lex, KeyDanglingSingleQuotedString) {
    GO_TEST("conf/lex_test.go", "TestKeyDanglingSingleQuotedString");
    static const xi e1[] = {
        {KEY, "foo", 2, 1}, {STR, "\nlisten: ", 3, 8}, {KEY, "http", 5, 1},
        {STR, "localhost:8222", 5, 7}, {ERR, "Unexpected EOF.", 8, 1},
    };
    EXPECT(keydanglingsquote, e1);
}

Test(conf_lex, MapDanglingBracket) {
    GO_TEST("conf/lex_test.go", "TestMapDanglingBracket");
    static const xi e1[] = {
        {KEY, "listen", 2, 1}, {INT, "4222", 2, 10}, {KEY, "cluster", 4, 1}, {MS, "", 4, 12},
        {KEY, "foo", 6, 3}, {STR, "bar", 6, 9}, {ERR, "Unexpected EOF processing map.", 8, 1},
    };
    EXPECT(mapdanglingbracket, e1);
}

Test(conf_lex, BlockDanglingParens) {
    GO_TEST("conf/lex_test.go", "TestBlockDanglingParens");
    static const xi e1[] = {
        {KEY, "listen", 2, 1}, {INT, "4222", 2, 10}, {KEY, "quote", 4, 1},
        {ERR, "Unexpected EOF processing block.", 8, 1},
    };
    EXPECT(blockdanglingparens, e1);
}

Test(conf_lex, MapQuotedKeys) {
    GO_TEST("conf/lex_test.go", "TestMapQuotedKeys");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 7}, {KEY, "bar", 1, 8}, {INT, "4242", 1, 15},
        {ME, "", 1, 20}, {EOF_, "", 1, 0},
    };
    EXPECT("foo = {'bar' = 4242}", e1);
    EXPECT("foo = {\"bar\" = 4242}", e1);
}

Test(conf_lex, SpecialCharsMapQuotedKeys) {
    GO_TEST("conf/lex_test.go", "TestSpecialCharsMapQuotedKeys");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 7}, {KEY, "bar-1.2.3", 1, 8}, {MS, "", 1, 22},
        {KEY, "port", 1, 23}, {INT, "4242", 1, 28}, {ME, "", 1, 34}, {ME, "", 1, 35},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo = {'bar-1.2.3' = { port:4242 }}", e1);
    EXPECT("foo = {\"bar-1.2.3\" = { port:4242 }}", e1);
}

Test(conf_lex, DoubleNestedMapsNewLines) {
    GO_TEST("conf/lex_test.go", "TestDoubleNestedMapsNewLines");
    static const xi e1[] = {
        {KEY, "systems", 2, 1}, {MS, "", 2, 10}, {KEY, "allinone", 3, 3}, {MS, "", 3, 13},
        {KEY, "description", 4, 5}, {STR, "This is a description.", 4, 19}, {ME, "", 5, 4},
        {ME, "", 6, 2}, {EOF_, "", 7, 0},
    };
    EXPECT(mlnestedmap, e1);
}

Test(conf_lex, BlockString) {
    GO_TEST("conf/lex_test.go", "TestBlockString");
    static const xi e1[] = {
        {KEY, "numbers", 2, 1}, {STR, "\n1234567890\n", 4, 10},
    };
    EXPECT(blockexample, e1);
}

Test(conf_lex, BlockStringEOF) {
    GO_TEST("conf/lex_test.go", "TestBlockStringEOF");
    static const xi e1[] = {
        {KEY, "numbers", 2, 1}, {STR, "\n1234567890\n", 4, 10},
    };
    /* Go replaces the final '\n' with a NUL byte, which its lexer reads as EOF. */
    char blockbytes[sizeof blockexample];
    memcpy(blockbytes, blockexample, sizeof blockexample);
    blockbytes[sizeof blockexample - 2] = '\0';
    EXPECT(blockbytes, e1);
}

Test(conf_lex, BlockStringMultiLine) {
    GO_TEST("conf/lex_test.go", "TestBlockStringMultiLine");
    static const xi e1[] = {
        {KEY, "numbers", 2, 1}, {STR, "\n  12(34)56\n  (\n    7890\n  )\n", 7, 10},
    };
    EXPECT(mlblockexample, e1);
}

Test(conf_lex, UnquotedIPAddr) {
    GO_TEST("conf/lex_test.go", "TestUnquotedIPAddr");
    static const xi e1[] = {
        {KEY, "listen", 1, 0}, {STR, "127.0.0.1:4222", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("listen: 127.0.0.1:4222", e1);
    static const xi e2[] = {
        {KEY, "listen", 1, 0}, {STR, "127.0.0.1", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("listen: 127.0.0.1", e2);
    static const xi e3[] = {
        {KEY, "listen", 1, 0}, {STR, "apcera.me:80", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("listen: apcera.me:80", e3);
    static const xi e4[] = {
        {KEY, "listen", 1, 0}, {STR, "nats.io:-1", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("listen: nats.io:-1", e4);
    static const xi e5[] = {
        {KEY, "listen", 1, 0}, {INT, "-1", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("listen: -1", e5);
    static const xi e6[] = {
        {KEY, "listen", 1, 0}, {STR, ":-1", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("listen: :-1", e6);
    static const xi e7[] = {
        {KEY, "listen", 1, 0}, {STR, ":80", 1, 9}, {EOF_, "", 1, 0},
    };
    EXPECT("listen = :80", e7);
    static const xi e8[] = {
        {KEY, "listen", 1, 0}, {AS, "", 1, 10}, {STR, "localhost:4222", 1, 10},
        {STR, "localhost:4333", 1, 26}, {AE, "", 1, 41}, {EOF_, "", 1, 0},
    };
    EXPECT("listen = [localhost:4222, localhost:4333]", e8);
}

Test(conf_lex, ArrayOfMaps) {
    GO_TEST("conf/lex_test.go", "TestArrayOfMaps");
    static const xi e1[] = {
        {KEY, "authorization", 2, 1}, {MS, "", 2, 16}, {KEY, "users", 3, 5}, {AS, "", 3, 14},
        {MS, "", 4, 8}, {KEY, "user", 4, 8}, {STR, "alice", 4, 14}, {KEY, "password", 4, 21},
        {STR, "foo", 4, 31}, {ME, "", 4, 35}, {MS, "", 5, 8}, {KEY, "user", 5, 8},
        {STR, "bob", 5, 14}, {KEY, "password", 5, 21}, {STR, "bar", 5, 31}, {ME, "", 5, 35},
        {AE, "", 6, 6}, {KEY, "timeout", 7, 5}, {FLOAT, "0.5", 7, 14}, {ME, "", 8, 2},
        {EOF_, "", 9, 0},
    };
    EXPECT(arrayOfMaps, e1);
}

Test(conf_lex, Include) {
    GO_TEST("conf/lex_test.go", "TestInclude");
    static const xi e1[] = {
        {INC, "users.conf", 1, 9}, {EOF_, "", 1, 0},
    };
    EXPECT("include \"users.conf\"", e1);
    EXPECT("include 'users.conf'", e1);
    static const xi e2[] = {
        {INC, "users.conf", 1, 8}, {EOF_, "", 1, 0},
    };
    EXPECT("include users.conf", e2);
}

Test(conf_lex, MapInclude) {
    GO_TEST("conf/lex_test.go", "TestMapInclude");
    static const xi e1[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 5}, {INC, "users.conf", 1, 14}, {ME, "", 1, 26},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo { include users.conf }", e1);
    static const xi e2[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 5}, {INC, "users.conf", 1, 13}, {ME, "", 1, 24},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo {include users.conf}", e2);
    static const xi e3[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 5}, {INC, "users.conf", 1, 15}, {ME, "", 1, 28},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo { include 'users.conf' }", e3);
    static const xi e4[] = {
        {KEY, "foo", 1, 0}, {MS, "", 1, 5}, {INC, "users.conf", 1, 15}, {ME, "", 1, 27},
        {EOF_, "", 1, 0},
    };
    EXPECT("foo { include \"users.conf\"}", e4);
}

Test(conf_lex, JSONCompat) {
    GO_TEST("conf/lex_test.go", "TestJSONCompat");
    /* should omit initial and final brackets at top level with a single item */
    static const xi j0[] = {
        {KEY, "http_port", 3, 28}, {INT, "8223", 3, 40}, {KEY, "}", 4, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("\n                        {\n                          \"http_port\": 8223\n                        }\n                        ", j0);
    /* should omit trailing commas at top level with two items */
    static const xi j1[] = {
        {KEY, "http_port", 3, 28}, {INT, "8223", 3, 40}, {KEY, "port", 4, 28}, {INT, "4223", 4, 35},
        {KEY, "}", 5, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("\n                        {\n                          \"http_port\": 8223,\n                          \"port\": 4223\n                        }\n                        ", j1);
    /* should omit trailing commas at top level with multiple items */
    static const xi j2[] = {
        {KEY, "http_port", 3, 28}, {INT, "8223", 3, 40}, {KEY, "port", 4, 28}, {INT, "4223", 4, 35},
        {KEY, "max_payload", 5, 28}, {STR, "5MB", 5, 43}, {KEY, "debug", 6, 28},
        {BOOL, "true", 6, 36}, {KEY, "max_control_line", 7, 28}, {INT, "1024", 7, 47},
        {KEY, "}", 8, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("\n                        {\n                          \"http_port\": 8223,\n                          \"port\": 4223,\n                          \"max_payload\": \"5MB\",\n                          \"debug\": true,\n                          \"max_control_line\": 1024\n                        }\n                        ", j2);
    /* should support JSON not prettified */
    static const xi j3[] = {
        {KEY, "http_port", 1, 2}, {INT, "8224", 1, 14}, {KEY, "port", 1, 20}, {INT, "4224", 1, 27},
        {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("{\"http_port\": 8224,\"port\": 4224}\n                        ", j3);
    /* should support JSON not prettified with final bracket after newline */
    static const xi j4[] = {
        {KEY, "http_port", 1, 2}, {INT, "8225", 1, 14}, {KEY, "port", 1, 20}, {INT, "4225", 1, 27},
        {KEY, "}", 2, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("{\"http_port\": 8225,\"port\": 4225\n                        }\n                        ", j4);
    /* should support uglified JSON with inner blocks */
    static const xi j5[] = {
        {KEY, "http_port", 1, 2}, {INT, "8227", 1, 14}, {KEY, "port", 1, 20}, {INT, "4227", 1, 27},
        {KEY, "write_deadline", 1, 33}, {STR, "1h", 1, 51}, {KEY, "cluster", 1, 56},
        {MS, "", 1, 67}, {KEY, "port", 1, 68}, {INT, "6222", 1, 75}, {KEY, "routes", 1, 81},
        {AS, "", 1, 91}, {STR, "nats://127.0.0.1:4222", 1, 92},
        {STR, "nats://127.0.0.1:4223", 1, 116}, {STR, "nats://127.0.0.1:4224", 1, 140},
        {AE, "", 1, 163}, {ME, "", 1, 164}, {KEY, "}", 14, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("{\"http_port\": 8227,\"port\": 4227,\"write_deadline\": \"1h\",\"cluster\": {\"port\": 6222,\"routes\": [\"nats://127.0.0.1:4222\",\"nats://127.0.0.1:4223\",\"nats://127.0.0.1:4224\"]}}\n                        ", j5);
    /* should support prettified JSON with inner blocks */
    static const xi j6[] = {
        {KEY, "http_port", 3, 28}, {INT, "8227", 3, 40}, {KEY, "port", 4, 28}, {INT, "4227", 4, 35},
        {KEY, "write_deadline", 5, 28}, {STR, "1h", 5, 46}, {KEY, "cluster", 6, 28},
        {MS, "", 6, 39}, {KEY, "port", 7, 30}, {INT, "6222", 7, 37}, {KEY, "routes", 8, 30},
        {AS, "", 8, 40}, {STR, "nats://127.0.0.1:4222", 9, 32},
        {STR, "nats://127.0.0.1:4223", 10, 32}, {STR, "nats://127.0.0.1:4224", 11, 32},
        {AE, "", 12, 30}, {ME, "", 13, 28}, {KEY, "}", 14, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("\n                        {\n                          \"http_port\": 8227,\n                          \"port\": 4227,\n                          \"write_deadline\": \"1h\",\n                          \"cluster\": {\n                            \"port\": 6222,\n                            \"routes\": [\n                              \"nats://127.0.0.1:4222\",\n                              \"nats://127.0.0.1:4223\",\n                              \"nats://127.0.0.1:4224\"\n                            ]\n                          }\n                        }\n                        ", j6);
    /* should support JSON with blocks */
    static const xi j7[] = {
        {KEY, "jetstream", 2, 28}, {MS, "", 2, 41}, {KEY, "store_dir", 3, 30},
        {STR, "/tmp/nats", 3, 43}, {KEY, "max_mem", 4, 30}, {INT, "1000000", 4, 40},
        {ME, "", 5, 28}, {KEY, "port", 6, 28}, {INT, "4222", 6, 35}, {KEY, "server_name", 7, 28},
        {STR, "nats1", 7, 43}, {KEY, "}", 8, 25}, {EOF_, "", 0, 0},
    };
    EXPECT_LENIENT("{\n                          \"jetstream\": {\n                            \"store_dir\": \"/tmp/nats\"\n                            \"max_mem\": 1000000,\n                          },\n                          \"port\": 4222,\n                          \"server_name\": \"nats1\"\n                        }\n                        ", j7);
}
// clang-format on

/* ---- beyond lex_test.go ---- */

Test(conf_lex_extra, nul_byte_is_eof_and_lexer_stays_finished) {
    /* Go's eof rune is 0, so a NUL ends a value like a newline would... */
    static const xi e[] = {
        {KEY, "a", 1, 0}, {INT, "1", 1, 2}, {KEY, "b", 1, 4}, {INT, "2", 1, 6}, {EOF_, "", 1, 0}};
    EXPECT("a=1\0b=2", e);
    /* ...and inside a quoted string it is an unexpected EOF. */
    static const xi e2[] = {{KEY, "a", 1, 0}, {ERR, "Unexpected EOF.", 1, 5}};
    EXPECT("a=\"x\0y\"", e2);
    nx_conf_lexer *lx = nx_conf_lex_new("a=1", 3);
    nx_conf_item it;
    for (int i = 0; i < 5; i++)
        nx_conf_lex_next(lx, &it);
    cr_expect_eq(it.type, EOF_, "a finished lexer keeps returning EOF");
    nx_conf_lex_free(lx);
}

Test(conf_lex_extra, unicode_rules_follow_go) {
    /* U+0663 (Arabic-Indic three) is a digit to Go's unicode.IsDigit: an integer item. */
    static const xi e1[] = {{KEY, "a", 1, 0}, {INT, "\xd9\xa3", 1, 4}, {EOF_, "", 1, 0}};
    EXPECT("a = \xd9\xa3", e1);
    /* U+00A0 is a space to unicode.IsSpace, so it ends a key. */
    static const xi e2[] = {{KEY, "a", 1, 0}, {INT, "1", 1, 3}, {EOF_, "", 1, 0}};
    EXPECT("a\xc2\xa0"
           "1",
           e2);
    /* strings.ToLower("\u0130nclude") == "include": the include keyword. */
    static const xi e3[] = {{INC, "x.conf", 1, 9}, {EOF_, "", 1, 0}};
    EXPECT("\xc4\xb0nclude x.conf", e3);
    /* An invalid byte is one U+FFFD rune of width 1. */
    static const xi e4[] = {{KEY, "\xff", 1, 0}, {STR, "\xfe", 1, 4}, {EOF_, "", 1, 0}};
    EXPECT("\xff = \xfe", e4);
}

Test(conf_lex_extra, deep_nesting_is_an_error_not_a_crash) {
    size_t n = 3 * NX_CONF_LEX_MAX_STACK;
    char *in = malloc(n);
    memset(in, '{', n);
    nx_conf_lexer *lx = nx_conf_lex_new(in, n);
    nx_conf_item it;
    nx_conf_lex_next(lx, &it);
    cr_expect_eq(it.type, ERR);
    cr_expect_not_null(strstr(it.val, "nesting too deep"), "%s", it.val);
    nx_conf_lex_free(lx);
    free(in);
}
