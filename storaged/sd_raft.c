/* storaged's client of raftd's control socket (raftd/README.md "Control protocol"), run
 * inside storaged's poll loop without ever blocking it.
 *
 * Plays the part of Go nats-server v2.14.5 server/jetstream_cluster.go's view of the meta
 * group from the JetStream side: processLeaderChange (the "metadata leader" notices) and what
 * server/monitor.go Jsz/Varz report as MetaClusterInfo (the cluster's name, the meta leader
 * and its peer id, the replicas as the leader sees them via raftNodeToClusterInfo /
 * clusterInfo, the cluster size, the meta snapshot figures).  It subscribes to leader events
 * (not to assignments: streams stay local for now) and asks for `_meta_`'s state after every
 * leader change and once a second, so an answer is always at hand.  A lost connection (raftd
 * restarting) is retried every half second; meanwhile the last known leader is kept.
 */
#include "storaged/sd_raft.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define RETRY_MS 500
#define STATE_EVERY_MS 1000
#define MAX_LINE (4u << 20)
#define LOST_QUORUM_MS 10000 /* Go lostQuorumInterval: a peer silent longer is not current */
#define STATE_ID 2

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sd_raft {
    char path[108];
    char *cluster_name;
    int fd;
    int64_t retry_at, state_at;
    char *rbuf, *wbuf;
    size_t rlen, rcap, wlen, wcap;
    bool state_pending;
    bool connected_once;
    /* what raftd last told */
    char leader[64], leader_id[16], self[64];
    bool is_leader;
    int64_t leaderless_since; /* ms; 0 while a leader is known */
    json_t *state; /* last `state` answer for _meta_ (owned), NULL when none */
};

sd_raft *sd_raft_new(const char *sock_path, const char *cluster_name) {
    if (!sock_path || strlen(sock_path) >= sizeof(((sd_raft *)0)->path)) return NULL;
    sd_raft *r = calloc(1, sizeof *r);
    if (!r) abort();
    snprintf(r->path, sizeof r->path, "%s", sock_path);
    r->cluster_name = strdup(cluster_name ? cluster_name : "");
    r->fd = -1;
    r->leaderless_since = mono_ms();
    return r;
}

static void disconnect(sd_raft *r, int64_t now_ms) {
    if (r->fd >= 0) {
        close(r->fd);
        nx_debug("JetStream cluster: lost raftd's control socket %s", r->path);
    }
    r->fd = -1;
    r->rlen = r->wlen = 0;
    r->state_pending = false;
    r->retry_at = now_ms + RETRY_MS;
}

void sd_raft_free(sd_raft *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    json_decref(r->state);
    free(r->rbuf);
    free(r->wbuf);
    free(r->cluster_name);
    free(r);
}

static void queue(sd_raft *r, const char *line) {
    size_t n = strlen(line);
    if (r->wlen + n > r->wcap) {
        size_t cap = r->wcap ? r->wcap : 1024;
        while (cap < r->wlen + n) cap *= 2;
        char *nb = realloc(r->wbuf, cap);
        if (!nb) abort();
        r->wbuf = nb;
        r->wcap = cap;
    }
    memcpy(r->wbuf + r->wlen, line, n);
    r->wlen += n;
}

static void flush(sd_raft *r, int64_t now_ms) {
    while (r->fd >= 0 && r->wlen) {
        ssize_t n = send(r->fd, r->wbuf, r->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            disconnect(r, now_ms);
            return;
        }
        memmove(r->wbuf, r->wbuf + n, r->wlen - (size_t)n);
        r->wlen -= (size_t)n;
    }
}

static void ask_state(sd_raft *r, int64_t now_ms) {
    if (r->state_pending) return;
    queue(r, "{\"op\":\"state\",\"group\":\"_meta_\",\"id\":2}\n");
    r->state_pending = true;
    r->state_at = now_ms + STATE_EVERY_MS;
}

static void try_connect(sd_raft *r, int64_t now_ms) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r->retry_at = now_ms + RETRY_MS;
        return;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, r->path, strlen(r->path) + 1);
    /* A Unix stream connect completes at once or fails at once (EAGAIN: backlog full). */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        r->retry_at = now_ms + RETRY_MS;
        return;
    }
    r->fd = fd;
    if (!r->connected_once) nx_notice("JetStream cluster: connected to raftd at %s", r->path);
    r->connected_once = true;
    queue(r, "{\"op\":\"sub\",\"id\":1,\"assignments\":false,\"leaders\":true}\n");
    ask_state(r, now_ms);
    flush(r, now_ms);
}

static void copy_str(char *dst, size_t cap, json_t *v) {
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* Go processLeaderChange's notices. */
static void on_leader(sd_raft *r, json_t *ev, int64_t now_ms) {
    char leader[64];
    copy_str(leader, sizeof leader, json_object_get(ev, "leader"));
    bool is_leader = json_is_true(json_object_get(ev, "is_leader"));
    bool changed = strcmp(leader, r->leader) || is_leader != r->is_leader;
    memcpy(r->leader, leader, sizeof leader);
    copy_str(r->leader_id, sizeof r->leader_id, json_object_get(ev, "leader_id"));
    r->is_leader = is_leader;
    if (!leader[0] && !r->leaderless_since) r->leaderless_since = mono_ms();
    if (leader[0]) r->leaderless_since = 0;
    if (!changed) return;
    if (is_leader)
        nx_notice("Self is new JetStream cluster metadata leader");
    else if (!leader[0])
        nx_notice("JetStream cluster no metadata leader");
    else if (r->cluster_name[0])
        nx_notice("JetStream cluster new metadata leader: %s/%s", leader, r->cluster_name);
    else
        nx_notice("JetStream cluster new metadata leader: %s", leader);
    r->state_pending = false; /* a fresh answer, even if one is on its way */
    ask_state(r, now_ms);
}

static void on_line(sd_raft *r, const char *line, size_t len, int64_t now_ms) {
    json_t *j = json_loadb(line, len, 0, NULL);
    if (!j) return;
    const char *ev = json_string_value(json_object_get(j, "ev"));
    const char *group = json_string_value(json_object_get(j, "group"));
    json_t *id = json_object_get(j, "id");
    if (ev && !strcmp(ev, "leader") && group && !strcmp(group, "_meta_")) {
        on_leader(r, j, now_ms);
    } else if (!ev && json_is_integer(id) && json_integer_value(id) == STATE_ID) {
        r->state_pending = false;
        json_decref(r->state);
        r->state = json_is_true(json_object_get(j, "ok")) ? json_incref(j) : NULL;
        if (r->state) copy_str(r->self, sizeof r->self, json_object_get(j, "name"));
    }
    json_decref(j);
}

void sd_raft_handle(sd_raft *r, short revents, int64_t now_ms) {
    if (r->fd < 0) return;
    if (revents & POLLOUT) flush(r, now_ms);
    if (r->fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR))) return;
    for (;;) {
        if (r->rcap - r->rlen < 4096) {
            size_t cap = r->rcap ? r->rcap * 2 : 8192;
            char *nb = realloc(r->rbuf, cap);
            if (!nb) abort();
            r->rbuf = nb;
            r->rcap = cap;
        }
        ssize_t n = recv(r->fd, r->rbuf + r->rlen, r->rcap - r->rlen, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            disconnect(r, now_ms);
            return;
        }
        r->rlen += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < r->rlen; i++) {
            if (r->rbuf[i] != '\n') continue;
            on_line(r, r->rbuf + start, i - start, now_ms);
            start = i + 1;
        }
        memmove(r->rbuf, r->rbuf + start, r->rlen - start);
        r->rlen -= start;
        if (r->rlen > MAX_LINE) { /* not raftd talking: start over */
            disconnect(r, now_ms);
            return;
        }
    }
    flush(r, now_ms);
}

void sd_raft_tick(sd_raft *r, int64_t now_ms) {
    if (r->fd < 0) {
        if (now_ms >= r->retry_at) try_connect(r, now_ms);
        return;
    }
    if (now_ms >= r->state_at) {
        r->state_pending = false; /* an answer that never came is not waited for forever */
        ask_state(r, now_ms);
    }
    flush(r, now_ms);
}

int sd_raft_fd(const sd_raft *r) {
    return r ? r->fd : -1;
}

short sd_raft_events(const sd_raft *r) {
    return (short)(POLLIN | (r && r->wlen ? POLLOUT : 0));
}

/* Go PeerInfo of each replica but this server (clusterInfo), sorted by name. */
static json_t *replicas(const sd_raft *r) {
    json_t *out = json_array(), *p;
    json_t *peers = json_object_get(r->state, "peers");
    size_t i;
    json_array_foreach(peers, i, p) {
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *name = json_string_value(json_object_get(p, "name"));
        if (!id || (r->leader[0] && name && !strcmp(name, r->self))) continue;
        json_int_t last = json_integer_value(json_object_get(p, "last_contact_ms"));
        json_int_t lag = json_integer_value(json_object_get(p, "lag"));
        bool current = json_is_true(json_object_get(p, "current")) && last <= LOST_QUORUM_MS;
        json_t *pi = json_object();
        char unknown[128];
        snprintf(unknown, sizeof unknown, "Server name unknown at this time (peerID: %s)", id);
        bool known = name && name[0];
        json_object_set_new(pi, "name", json_string(known ? name : unknown));
        json_object_set_new(pi, "current", json_boolean(current));
        /* Go: offline when the server is unknown or not heard from (nodeToInfo). */
        if (!known || last < 0 || last > LOST_QUORUM_MS)
            json_object_set_new(pi, "offline", json_true());
        json_object_set_new(pi, "active", json_integer(last > 0 ? last * 1000000 : 0));
        if (known && lag > 0) json_object_set_new(pi, "lag", json_integer(lag));
        json_object_set_new(pi, "peer", json_string(id));
        /* insertion sort by name, as Go's slices.SortFunc */
        size_t at = json_array_size(out);
        while (at > 0 && strcmp(json_string_value(json_object_get(json_array_get(out, at - 1),
                                                                  "name")),
                                known ? name : unknown) > 0)
            at--;
        json_array_insert_new(out, at, pi);
    }
    return out;
}

json_t *sd_raft_meta_json(const sd_raft *r) {
    if (!r) return NULL;
    json_t *m = json_object();
    if (r->cluster_name[0]) json_object_set_new(m, "name", json_string(r->cluster_name));
    if (r->leader[0]) json_object_set_new(m, "leader", json_string(r->leader));
    /* Go: getHash(leader), computed even for no leader: getHash("") is "47DEQpj8". */
    json_object_set_new(m, "peer", json_string(r->leader[0] ? r->leader_id : "47DEQpj8"));
    if (r->is_leader && r->state) {
        json_t *reps = replicas(r);
        if (json_array_size(reps))
            json_object_set_new(m, "replicas", reps);
        else
            json_decref(reps);
    }
    json_int_t size = r->state ? json_integer_value(json_object_get(r->state, "cluster_size")) : 0;
    json_object_set_new(m, "cluster_size", json_integer(size));
    json_object_set_new(m, "pending", json_integer(0));
    json_object_set_new(m, "pending_requests", json_integer(0));
    json_object_set_new(m, "pending_infos", json_integer(0));
    json_int_t idx = r->state ? json_integer_value(json_object_get(r->state, "index")) : 0;
    json_int_t snap = r->state ? json_integer_value(json_object_get(r->state, "snapshot_index"))
                               : 0;
    json_t *ss = json_object();
    json_object_set_new(ss, "pending_entries", json_integer(idx > snap ? idx - snap : 0));
    json_object_set_new(ss, "pending_size", json_integer(0));
    json_object_set_new(ss, "last_time", json_string("0001-01-01T00:00:00Z"));
    json_object_set_new(m, "snapshot", ss);
    return m;
}

bool sd_raft_is_meta_leader(const sd_raft *r) {
    return r && r->is_leader;
}

const char *sd_raft_api_refusal(const sd_raft *r, const char *subj, size_t len) {
    static const char info[] = "$JS.API.INFO";
    if (!r || len != sizeof info - 1 || memcmp(subj, info, len)) return NULL;
    if (!r->leaderless_since || mono_ms() - r->leaderless_since <= LOST_QUORUM_MS) return NULL;
    return "{\"type\":\"io.nats.jetstream.api.v1.account_info_response\",\"error\":"
           "{\"code\":503,\"err_code\":10008,\"description\":\"JetStream system temporarily "
           "unavailable\"}}";
}

const char *sd_raft_meta_leader(const sd_raft *r) {
    return r ? r->leader : "";
}
