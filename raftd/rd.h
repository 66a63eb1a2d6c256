/* raftd/rd.h: the raftd process around the pure RAFT core: configuration, the TCP transport
 * between raftd nodes, the RAFT groups this process runs, and the control socket.
 *
 * Go counterparts (v2.14.5): server/raft.go (the node's I/O side: sendq, the $NRG.* subjects,
 * the apply queue, bootstrapRaftNode, startRaftNode), server/jetstream_cluster.go (the meta
 * group "_meta_", assignments applied from it, leader changes), server/route.go (peers found
 * through the cluster routes).
 *
 * One thread, one epoll loop (raftd_main.c).  Everything here is owned by struct rd_server.
 * Invariant: a ready batch's messages and committed entries leave a group only after its ops
 * were applied to the log store and fsynced (rd_group_pump, the README's driver contract).
 */
#ifndef RD_H
#define RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raftd/log_store.h"
#include "raftd/raft.h"
#include "raftd/rd_frame.h"

#define RD_META_GROUP "_meta_"
#define RD_NAME_MAX 63          /* server and group names */
#define RD_MAX_PEERS 64

/* epoll tags: every registered object starts with one of these. */
enum rd_kind { RD_K_LISTEN = 1, RD_K_OUT, RD_K_IN, RD_K_CTL_LISTEN, RD_K_CTL, RD_K_TIMER,
               RD_K_SIGNAL };

struct rd_opts {
    char *conf_file;
    char name[RD_NAME_MAX + 1];
    char cluster_name[RD_NAME_MAX + 1];
    char listen_host[256];
    int listen_port; /* -1: no cluster listener */
    char **routes;
    int n_routes;
    char *store_dir;
    char *control_socket;
    char *log_file; /* NULL: stderr */
    uint32_t election_min_ms, election_max_ms, hb_ms, lost_quorum_ms;
    uint32_t tick_ms;
    uint64_t snapshot_threshold; /* applied entries between automatic snapshots, 0: never */
    uint64_t max_queue_bytes;    /* per peer output queue */
    uint32_t bootstrap_wait_ms;  /* how long a fresh meta group waits for the route names */
    bool debug;
};
/* Parses argv (and the -c file).  0 or -1 with a message printed to stderr. */
int rd_opts_parse(int argc, char **argv, struct rd_opts *o);
void rd_opts_free(struct rd_opts *o);
/* "host:port", "port" or a URL (scheme://[user@]host:port) into host and port. */
int rd_parse_hostport(const char *in, char *host, size_t hlen, int *port);

/* Outbound connection to a route (we send frames on it; it only answers our hello). */
enum rd_out_state { RD_OUT_IDLE, RD_OUT_CONNECTING, RD_OUT_HELLO, RD_OUT_UP, RD_OUT_DEAD };
struct rd_out {
    int kind;
    struct rd_server *srv;
    char host[256];
    int port;
    bool dynamic; /* learned from an inbound hello, not configured */
    bool is_self;
    bool resolved; /* hello reply seen at least once: name/id known */
    char name[RD_NAME_MAX + 1];
    rf_id id;
    int fd;
    enum rd_out_state st;
    uint64_t next_try_ms;
    uint64_t down_since_ms; /* first failure since it was last up, 0 while up */
    uint32_t backoff_ms;
    struct rd_buf wq;
    struct rd_buf rq;
    uint64_t dropped;
    struct rd_out *next;
};

/* Inbound connection from a peer's rd_out. */
struct rd_in {
    int kind;
    struct rd_server *srv;
    int fd;
    bool hello;
    char name[RD_NAME_MAX + 1];
    rf_id id;
    char addr[64];
    struct rd_buf rq;
    struct rd_buf wq; /* our hello reply only */
    struct rd_in *next;
};

/* Raftd's own state machine for every group: the applied normal entries since the beginning
 * (a snapshot carries them all).  The upper layers keep their own state from the published
 * entries; this is what catchup and restart replay hand back to them. */
struct rd_hist_ent {
    uint64_t index;
    uint32_t len;
    uint8_t *data;
};

struct rd_group {
    char name[RD_NAME_MAX + 1];
    struct rd_server *srv;
    struct rf_node *n;
    struct rf_log_store *ls;
    struct rf_disk disk;
    char *dir;
    uint64_t applied;     /* last committed index handed to the state machine */
    uint64_t published;   /* last index published to subscribers */
    uint64_t last_snap;   /* applied index of our last snapshot */
    struct rd_hist_ent *hist;
    size_t n_hist, cap_hist;
    bool failed;          /* storage error: the node is closed */
    /* Managed groups: the client applies and snapshots.  raftd keeps only what the client
     * has not acknowledged ("applied" op): entries after its applied index and the latest
     * snapshot it was handed, and calls rf_applied only on its acknowledgement. */
    bool managed;
    uint64_t acked;
    uint8_t *snap_data;
    uint64_t snap_len, snap_index;
    rf_id last_leader;    /* leader last published to subscribers */
    bool last_is_leader;
    struct rd_group *next;
};

struct rd_ctl;

struct rd_server {
    struct rd_opts *o;
    rf_id id;
    int ep;
    int listen_fd, ctl_fd, timer_fd, sig_fd;
    struct rd_out *outs;
    struct rd_in *ins;
    struct rd_group *groups;
    struct rd_ctl *ctls;
    bool meta_started;
    uint64_t start_ms;
    bool stopping;
    /* id -> name, learned from hellos and group peer lists */
    struct { rf_id id; char name[RD_NAME_MAX + 1]; } names[256];
    int n_names;
};

/* rd_process.c: runs raftd with nats-raftd's command line (argv[0] included) until SIGTERM or
 * SIGINT; returns the exit status.  Blocks SIGTERM/SIGINT/SIGHUP and ignores SIGPIPE. */
int rd_process_main(int argc, char **argv);

/* rd_util.c */
uint64_t rd_now_ms(void);
rf_id rd_name_id(const char *name); /* Go's getHash: base64url(sha256(name))[:8] */
void rd_id_str(rf_id id, char out[RF_ID_LEN + 1]);
void rd_name_learn(struct rd_server *s, rf_id id, const char *name);
const char *rd_name_of(struct rd_server *s, rf_id id); /* NULL if unknown */
char *rd_b64_encode(const uint8_t *p, size_t n);                   /* malloc'd */
int rd_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *olen); /* 0 / -EINVAL */
int rd_mkdir_p(const char *path);
int rd_rm_rf(const char *path);
int rd_set_nonblock(int fd);
void rd_ep_add(struct rd_server *s, int fd, void *tag, uint32_t events);
void rd_ep_mod(struct rd_server *s, int fd, void *tag, uint32_t events);
void rd_ep_del(struct rd_server *s, int fd);

/* rd_net.c */
int rd_net_listen(struct rd_server *s);
void rd_net_add_route(struct rd_server *s, const char *url, bool dynamic);
void rd_net_tick(struct rd_server *s, uint64_t now);
void rd_net_on_listen(struct rd_server *s);
void rd_net_on_out(struct rd_out *c, uint32_t events);
void rd_net_on_in(struct rd_in *c, uint32_t events);
void rd_net_send(struct rd_server *s, const char *group, const struct rf_msg *m);
/* All routes resolved (self or a named peer)?  *unresolved gets the others' count. */
bool rd_net_routes_resolved(struct rd_server *s, int *unresolved);
void rd_net_reap(struct rd_server *s); /* free dropped implicit routes, between batches */
void rd_net_close_all(struct rd_server *s);

/* rd_group.c */
struct rd_group *rd_group_find(struct rd_server *s, const char *name);
/* Open (recovering from disk) or create a group.  peers: server names (self added). */
int rd_group_open(struct rd_server *s, const char *name, const char *const *peers, int n_peers,
                  int cluster_size, bool managed, struct rd_group **out);
/* Managed groups: the client applied everything up to index; its snapshot of that state. */
int rd_group_ack(struct rd_group *g, uint64_t index);
int rd_group_client_snapshot(struct rd_group *g, const uint8_t *data, uint64_t len);
int rd_group_remove(struct rd_server *s, const char *name);
void rd_group_recover_all(struct rd_server *s);
void rd_group_start_meta(struct rd_server *s, uint64_t now);
void rd_group_step(struct rd_server *s, const char *group, struct rf_msg *m);
void rd_group_tick_all(struct rd_server *s, uint64_t now);
void rd_group_pump_all(struct rd_server *s);
int rd_group_snapshot(struct rd_group *g);
void rd_group_close_all(struct rd_server *s);

/* rd_ctl.c */
int rd_ctl_listen(struct rd_server *s);
void rd_ctl_on_listen(struct rd_server *s);
void rd_ctl_on_client(struct rd_ctl *c, uint32_t events);
void rd_ctl_publish_apply(struct rd_server *s, struct rd_group *g, uint64_t index,
                          const uint8_t *data, uint32_t len);
void rd_ctl_publish_snapshot(struct rd_server *s, struct rd_group *g);
void rd_ctl_publish_leader(struct rd_server *s, struct rd_group *g);
void rd_ctl_publish_removed(struct rd_server *s, const char *group);
void rd_ctl_reap(struct rd_server *s); /* free closed clients, between event batches */
void rd_ctl_close_all(struct rd_server *s);

#endif
