/* Expected differences between the Go server and ours, per differential case (see diff.h and
 * docs/parity/differential.md).  Keep this table and the document in step.
 *
 * Rewrites (go_from -> go_to) act on Go's transcript as printed: escaped, INFO normalised. */
#include "diff.h"

/* Escaped forms, as they appear in a transcript. */
#define Q "\\\""
#define CRLF "\\r\\n"
/* The normalised INFO body of a default server up to the last field both versions send. */
#define INFO_DEFAULT                                                                               \
    "INFO {" Q "server_id" Q ":" Q "<str>" Q "," Q "server_name" Q ":" Q "<str>" Q "," Q           \
    "version" Q ":" Q "<str>" Q "," Q "proto" Q ":1," Q "go" Q ":" Q "<str>" Q "," Q "host" Q      \
    ":" Q "127.0.0.1" Q "," Q "port" Q ":<num>," Q "headers" Q ":true," Q "max_payload" Q          \
    ":1048576," Q "client_id" Q ":<num>," Q "client_ip" Q ":" Q "127.0.0.1" Q
/* v2.14.5 answers the first PING after a CONNECT with "protocol":1 with PONG and then this
 * INFO (client.go processPing, "sendConnectInfo"; added in v2.11). */
#define CONNECT_INFO                                                                               \
    INFO_DEFAULT "," Q "connect_info" Q ":true," Q "remote_account" Q ":" Q "$G" Q "} " CRLF

#define CONNECT_INFO_REASON                                                                        \
    "v2.14.5 sends INFO {...,\"connect_info\":true,\"remote_account\":\"$G\"} after the PONG "     \
    "of the first PING that follows a CONNECT with protocol >= 1; Go 2.9.10 does not"

#define NO_RESPONDERS_REASON                                                                       \
    "Go 2.9.10's no-responders status has no Nats-Subject header; v2.14.5 (client.go "             \
    "processMsgResults) sends HMSG <reply> <sid> <32+len(subject)> <same>\\r\\nNATS/1.0 "          \
    "503\\r\\nNats-Subject: <subject>\\r\\n\\r\\n\\r\\n"

const diff_expect diff_expected[] = {
    /* ---- Go 2.9.10 vs v2.14.5 ------------------------------------------------------------ */
    {"request_no_responders", DX_VERSION, NO_RESPONDERS_REASON,
     "HMSG reply 1 16 16" CRLF "NATS/1.0 503" CRLF CRLF CRLF,
     "HMSG reply 1 35 35" CRLF "NATS/1.0 503" CRLF "Nats-Subject: foo" CRLF CRLF CRLF},
    {"request_no_responders_hpub", DX_VERSION, NO_RESPONDERS_REASON,
     "HMSG _INBOX.y 1 16 16" CRLF "NATS/1.0 503" CRLF CRLF CRLF,
     "HMSG _INBOX.y 1 37 37" CRLF "NATS/1.0 503" CRLF "Nats-Subject: svc.a" CRLF CRLF CRLF},
    {"request_no_responders_echo_off_self", DX_VERSION, NO_RESPONDERS_REASON,
     "HMSG rep 2 16 16" CRLF "NATS/1.0 503" CRLF CRLF CRLF,
     "HMSG rep 2 35 35" CRLF "NATS/1.0 503" CRLF "Nats-Subject: svc" CRLF CRLF CRLF},
    {"connect_protocol_1", DX_VERSION, CONNECT_INFO_REASON, "c0 sync    \"MSG foo 1 1",
     "c0 sync    \"" CONNECT_INFO "MSG foo 1 1"},
    {"connect_all_client_fields", DX_VERSION, CONNECT_INFO_REASON, "c0 sync    \"MSG foo 1 2",
     "c0 sync    \"" CONNECT_INFO "MSG foo 1 2"},

    {"pub_nrg_subject", DX_VERSION,
     "v2.14.5 refuses a client publish to $NRG.* with -ERR 'Permissions Violation for Publish "
     "to \"<subject>\"' (client.go processInboundClientMsg, clientNRGPrefix); Go 2.9.10 "
     "delivers it",
     "MSG $NRG.x 1 2" CRLF "ok" CRLF,
     "-ERR 'Permissions Violation for Publish to " Q "$NRG.x" Q "'" CRLF},

    {"pub_nrg_prefix_exact", DX_VERSION,
     "v2.14.5 (and ours) refuse a publish to the bare subject \"$NRG.\" (bytes.HasPrefix); "
     "Go 2.9.10 has no $NRG. check and delivers",
     "c0 sync    \"MSG after",
     "c0 sync    \"-ERR 'Permissions Violation for Publish to " Q "$NRG." Q "'" CRLF "MSG after"},

    /* The second CONNECT: v2.14.5 drops the subscriptions (ours too), Go 2.9.10 keeps them. */
    {"second_connect_plain", DX_VERSION,
     "a second CONNECT drops the connection's subscriptions in v2.14.5 (processConnect: "
     "clearAccountSubs when !firstConnect), as ours does; Go 2.9.10 keeps them",
     "c0 sync    \"MSG foo 1 2" CRLF "ok" CRLF "PONG", "c0 sync    \"PONG"},
    {"no_auth_user_sub_then_connect", DX_VERSION,
     "a first operation other than CONNECT under no_auth_user counts as the connection's "
     "CONNECT in v2.14.5 (parser.go sets connectReceived), so a later CONNECT is a second one "
     "and drops the subscriptions (processConnect: clearAccountSubs), as ours does; Go 2.9.10 "
     "keeps them",
     "MSG foo 1 1" CRLF "x" CRLF "MSG bar 2 1", "MSG bar 2 1"},
    {"second_connect_drops_subscriptions", DX_VERSION,
     "v2.14.5 and ours drop every subscription (plain, queue, auto-unsubscribe) on a second "
     "CONNECT (processConnect: clearAccountSubs when !firstConnect); Go 2.9.10 keeps them",
     "MSG foo 1 1" CRLF "a" CRLF "MSG bar 2 1" CRLF "b" CRLF "MSG baz 3 1" CRLF "c" CRLF, ""},

    /* ---- bugs in ours (DX_BUG) and features ours lacks (DX_PENDING): none open ------------ */
};
const size_t diff_expected_count = sizeof diff_expected / sizeof diff_expected[0];
