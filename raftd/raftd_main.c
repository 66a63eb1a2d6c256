/* raftd/raftd_main.c: main of nats-raftd, the consensus process of the node (Go runs the same
 * RAFT groups inside nats-server: server/raft.go, server/jetstream_cluster.go).  Everything
 * is in rd_process.c so that the nats-server supervisor can also run it in a forked child. */
#include "raftd/rd.h"

int main(int argc, char **argv)
{
    return rd_process_main(argc, argv);
}
