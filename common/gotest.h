/* GO_TEST marks a test as a port of a Go nats-server v2.14.5 test function.
 *
 * It does nothing at run time: scripts/parity reads the markers from the test sources and
 * builds the parity ledger (docs/test_parity.db, docs/parity/summary.md).  Place it as the
 * first statement of the test body:
 *
 *     Test(sublist, literal_match) {
 *         GO_TEST("server/sublist_test.go", "TestSublistMatchLiterals");
 *         ...
 *     }
 *
 * A second form, GO_TEST_PARTIAL, claims a Go test whose assertions ours only partly cover;
 * the third argument says what is missing.
 */
#ifndef NX_GOTEST_H
#define NX_GOTEST_H

#define GO_TEST(go_file, go_test) ((void)0)
#define GO_TEST_PARTIAL(go_file, go_test, what_is_missing) ((void)0)

#endif
