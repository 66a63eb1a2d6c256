/* raftd/rd_group.c: the RAFT groups of a raftd process and their driver.
 *
 * Go runs one raft node per group (server/raft.go startRaftNode / bootstrapRaftNode with a
 * store directory per group under <store_dir>/<jsdir>/_js_/<group>) and the upper layer reads
 * the apply queue (jetstream_cluster.go monitorCluster, applyMetaEntries).  Here each group
 * is a pure rf_node (raft.h) plus its log_store in <store_dir>/raft/<group>/, and this file
 * is its driver, following the README's contract exactly: apply the batch's ops to the log
 * store, fsync, and only then send the messages, publish leader changes and committed
 * entries, then rf_advance.
 *
 * raftd's own state machine per group is the list of applied normal entries (struct
 * rd_hist_ent); a snapshot (taken every --snapshot_threshold applied entries) carries that
 * list, so a node caught up from a snapshot, or restarted, republishes every entry in order.
 * The upper layers (storaged, brokers) see one gap-free sequence of applied entries.
 *
 * Snapshot data: "RDSN" | u32 1 | u64 applied | u64 count | count x (u64 index | u32 len | data).
 */
#include "raftd/rd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

struct rd_group *rd_group_find(struct rd_server *s, const char *name)
{
    for (struct rd_group *g = s->groups; g; g = g->next)
        if (!strcmp(g->name, name))
            return g;
    return NULL;
}

/* The boot file: "<cluster size>\n" then one peer name per line (Go's peers.idx before the
 * first peer state is written). */
static int write_boot(const char *dir, const char *const *peers, int n, int csz)
{
    char path[4200], tmp[4210];
    snprintf(path, sizeof(path), "%s/boot", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%d\n", csz);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", peers[i]);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        int e = -errno;
        fclose(f);
        return e;
    }
    fclose(f);
    return rename(tmp, path) < 0 ? -errno : 0;
}

static int read_boot(const char *dir, char names[][RD_NAME_MAX + 1], int max, int *csz)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/boot", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char line[256];
    int n = 0;
    *csz = 0;
    if (fgets(line, sizeof(line), f)) {
        long v = strtol(line, NULL, 10);
        *csz = v > 0 && v <= 1024 ? (int)v : 0;
    }
    while (n < max && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (rd_valid_name(line)) /* at most 63 bytes */
            memcpy(names[n++], line, strlen(line) + 1);
    }
    fclose(f);
    return n;
}

static int write_marker(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/managed", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int rd_group_open(struct rd_server *s, const char *name, const char *const *peers, int n_peers,
                  int cluster_size, bool managed, struct rd_group **out)
{
    if (!rd_valid_name(name))
        return -EINVAL;
    if (rd_group_find(s, name))
        return -EEXIST;
    if (n_peers > RD_MAX_PEERS)
        return -E2BIG;
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s/raft/%s", s->o->store_dir, name) >= (int)sizeof(dir))
        return -ENAMETOOLONG;
    int rc = rd_mkdir_p(dir);
    if (rc < 0)
        return rc;
    char names[RD_MAX_PEERS + 1][RD_NAME_MAX + 1];
    int n = 0, csz = cluster_size;
    if (peers) {
        for (int i = 0; i < n_peers; i++) {
            if (!rd_valid_name(peers[i]))
                return -EINVAL;
            bool dup = false;
            for (int j = 0; j < n; j++)
                dup = dup || !strcmp(names[j], peers[i]);
            if (!dup)
                snprintf(names[n++], RD_NAME_MAX + 1, "%s", peers[i]);
        }
        bool self = false;
        for (int j = 0; j < n; j++)
            self = self || !strcmp(names[j], s->o->name);
        if (!self)
            snprintf(names[n++], RD_NAME_MAX + 1, "%s", s->o->name);
        if (csz < n)
            csz = n;
        const char *ptrs[RD_MAX_PEERS + 1];
        for (int j = 0; j < n; j++)
            ptrs[j] = names[j];
        /* The marker first: the boot file's rename is what makes the group exist. */
        if ((managed && (rc = write_marker(dir)) < 0) || (rc = write_boot(dir, ptrs, n, csz)) < 0)
            return rc;
    } else {
        char path[4200];
        snprintf(path, sizeof(path), "%s/managed", dir);
        managed = access(path, F_OK) == 0;
        n = read_boot(dir, names, RD_MAX_PEERS, &csz);
        if (n < 0)
            n = 0;
        if (n == 0)
            snprintf(names[n++], RD_NAME_MAX + 1, "%s", s->o->name);
        if (csz < n)
            csz = n;
    }
    struct rd_group *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->srv = s;
    g->managed = managed;
    g->dir = strdup(dir);
    if ((rc = rf_disk_posix_open(dir, &g->disk)) < 0) {
        free(g->dir);
        free(g);
        return rc;
    }
    struct rf_ls_config lc = {.segment_bytes = 64ull << 20};
    struct rf_recovered rec;
    memset(&rec, 0, sizeof(rec));
    if ((rc = rf_ls_open(&g->disk, &lc, &g->ls, &rec)) < 0) {
        nx_error("group %s: cannot open its log store in %s: %s", name, dir, strerror(-rc));
        rf_disk_posix_close(&g->disk);
        free(g->dir);
        free(g);
        return rc;
    }
    if (rec.damaged)
        nx_warn("group %s: damaged durable state found, repairing from peers", name);
    struct rf_config cfg;
    rf_config_defaults(&cfg);
    cfg.id = s->id;
    snprintf(cfg.group, sizeof(cfg.group), "%s", name);
    if (getrandom(&cfg.seed, sizeof(cfg.seed), 0) != sizeof(cfg.seed))
        cfg.seed = rd_now_ms() ^ (uint64_t)getpid() << 32;
    cfg.election_min_ms = s->o->election_min_ms;
    cfg.election_max_ms = s->o->election_max_ms;
    cfg.hb_ms = s->o->hb_ms;
    cfg.lost_quorum_ms = s->o->lost_quorum_ms;
    if (cfg.campaign_max_ms > cfg.election_min_ms / 2) { /* short test timeouts */
        cfg.campaign_min_ms = cfg.election_min_ms / 10 + 1;
        cfg.campaign_max_ms = cfg.election_min_ms / 2;
    }
    if (cfg.catchup_activity_ms > cfg.election_max_ms) {
        cfg.catchup_activity_ms = cfg.election_max_ms;
        cfg.catchup_stall_ms = cfg.election_max_ms;
    }
    cfg.recovering = rec.has_meta;
    rf_id ids[RD_MAX_PEERS + 1];
    for (int j = 0; j < n; j++) {
        ids[j] = rd_name_id(names[j]);
        rd_name_learn(s, ids[j], names[j]);
    }
    struct rf_peerstate boot = {.n_peers = (uint32_t)n, .peers = ids,
                                .cluster_size = (uint32_t)csz};
    rc = rf_node_create(&cfg, &boot, &rec, rd_now_ms(), &g->n);
    rf_recovered_free(&rec);
    if (rc < 0) {
        nx_error("group %s: cannot create its RAFT node: %s", name, strerror(-rc));
        rf_ls_close(g->ls);
        rf_disk_posix_close(&g->disk);
        free(g->dir);
        free(g);
        return rc;
    }
    g->next = s->groups;
    s->groups = g;
    nx_notice("RAFT group %s started (%d known peers, cluster size %d%s)", name, n, csz,
              managed ? ", managed by its client" : "");
    if (out)
        *out = g;
    return 0;
}

static void hist_clear(struct rd_group *g)
{
    for (size_t i = 0; i < g->n_hist; i++)
        free(g->hist[i].data);
    free(g->hist);
    g->hist = NULL;
    g->n_hist = g->cap_hist = 0;
}

static void group_free(struct rd_group *g)
{
    rf_node_destroy(g->n);
    rf_ls_close(g->ls);
    rf_disk_posix_close(&g->disk);
    hist_clear(g);
    free(g->snap_data);
    free(g->dir);
    free(g);
}

int rd_group_remove(struct rd_server *s, const char *group)
{
    char name[RD_NAME_MAX + 1]; /* group may be the removed group's own name */
    snprintf(name, sizeof(name), "%s", group);
    for (struct rd_group **pp = &s->groups; *pp; pp = &(*pp)->next) {
        struct rd_group *g = *pp;
        if (strcmp(g->name, name) != 0)
            continue;
        *pp = g->next;
        rf_stop(g->n);
        char *dir = strdup(g->dir);
        group_free(g);
        if (dir)
            rd_rm_rf(dir);
        free(dir);
        nx_notice("RAFT group %s removed", name);
        rd_ctl_publish_removed(s, name);
        return 0;
    }
    return -ENOENT;
}

void rd_group_recover_all(struct rd_server *s)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/raft", s->o->store_dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!rd_valid_name(e->d_name))
            continue;
        char p[4400];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (rd_group_open(s, e->d_name, NULL, 0, 0, false, NULL) == 0 &&
            !strcmp(e->d_name, RD_META_GROUP))
            s->meta_started = true;
    }
    closedir(d);
}

/* Go's bootstrapRaftNode for the meta group: the known peers are the servers behind the
 * routes, the expected cluster size counts routes not yet resolved.  Waits for the routes'
 * names up to --bootstrap_wait. */
void rd_group_start_meta(struct rd_server *s, uint64_t now)
{
    if (s->meta_started)
        return;
    int unresolved;
    if (!rd_net_routes_resolved(s, &unresolved) && now - s->start_ms < s->o->bootstrap_wait_ms)
        return;
    const char *peers[RD_MAX_PEERS];
    int n = 0;
    peers[n++] = s->o->name;
    for (struct rd_out *c = s->outs; c && n < RD_MAX_PEERS; c = c->next)
        if (c->resolved && !c->is_self && c->name[0]) {
            bool dup = false;
            for (int j = 0; j < n; j++)
                dup = dup || !strcmp(peers[j], c->name);
            if (!dup)
                peers[n++] = c->name;
        }
    int rc = rd_group_open(s, RD_META_GROUP, peers, n, n + unresolved, false, NULL);
    if (rc < 0)
        nx_fatal("cannot start the meta group: %s", strerror(-rc));
    s->meta_started = true;
}

void rd_group_step(struct rd_server *s, const char *group, struct rf_msg *m)
{
    struct rd_group *g = rd_group_find(s, group);
    if (!g || g->failed)
        return; /* not a member (yet): Go has no subscription for it either */
    rf_step(g->n, m);
}

void rd_group_tick_all(struct rd_server *s, uint64_t now)
{
    for (struct rd_group *g = s->groups; g; g = g->next)
        if (!g->failed)
            rf_tick(g->n, now);
}

static int hist_add(struct rd_group *g, uint64_t index, const uint8_t *data, uint32_t len)
{
    if (g->n_hist == g->cap_hist) {
        size_t cap = g->cap_hist ? g->cap_hist * 2 : 64;
        struct rd_hist_ent *h = realloc(g->hist, cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        g->hist = h;
        g->cap_hist = cap;
    }
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        return -ENOMEM;
    if (len)
        memcpy(d, data, len);
    g->hist[g->n_hist++] = (struct rd_hist_ent){.index = index, .len = len, .data = d};
    return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int snap_encode(const struct rd_group *g, uint8_t **out, uint64_t *olen)
{
    uint64_t n = 24;
    for (size_t i = 0; i < g->n_hist; i++)
        n += 12 + g->hist[i].len;
    uint8_t *b = malloc(n);
    if (!b)
        return -ENOMEM;
    memcpy(b, "RDSN\1\0\0\0", 8);
    put64(b + 8, g->applied);
    put64(b + 16, g->n_hist);
    uint64_t pos = 24;
    for (size_t i = 0; i < g->n_hist; i++) {
        put64(b + pos, g->hist[i].index);
        uint32_t l = g->hist[i].len;
        b[pos + 8] = (uint8_t)l;
        b[pos + 9] = (uint8_t)(l >> 8);
        b[pos + 10] = (uint8_t)(l >> 16);
        b[pos + 11] = (uint8_t)(l >> 24);
        memcpy(b + pos + 12, g->hist[i].data, l);
        pos += 12 + l;
    }
    *out = b;
    *olen = n;
    return 0;
}

/* Replace the state with a snapshot's.  -EBADMSG if it is not ours or malformed. */
static int snap_restore(struct rd_group *g, const uint8_t *b, uint64_t len, uint64_t at)
{
    if (len < 24 || memcmp(b, "RDSN\1\0\0\0", 8) != 0 || get64(b + 8) != at)
        return -EBADMSG;
    uint64_t count = get64(b + 16), pos = 24;
    if (count > len / 12)
        return -EBADMSG;
    hist_clear(g);
    for (uint64_t i = 0; i < count; i++) {
        if (len - pos < 12)
            return -EBADMSG;
        uint64_t idx = get64(b + pos);
        uint32_t l = (uint32_t)b[pos + 8] | (uint32_t)b[pos + 9] << 8 |
                     (uint32_t)b[pos + 10] << 16 | (uint32_t)b[pos + 11] << 24;
        if (len - pos - 12 < l || idx > at)
            return -EBADMSG;
        if (hist_add(g, idx, b + pos + 12, l) < 0)
            return -ENOMEM;
        pos += 12 + l;
    }
    return pos == len ? 0 : -EBADMSG;
}

/* Managed: tell the core everything is applied up to the first entry the client still has
 * to acknowledge.  Committed entries with nothing for the client (the leader's peer-state
 * no-op, membership changes) count as applied at once, as Go's upper layer applies them. */
static void managed_ack_through(struct rd_group *g)
{
    uint64_t limit = g->applied;
    if (g->snap_data && g->snap_index - 1 < limit)
        limit = g->snap_index - 1;
    if (g->n_hist && g->hist[0].index - 1 < limit)
        limit = g->hist[0].index - 1;
    if (limit <= g->acked)
        return;
    uint64_t bytes;
    rf_applied(g->n, limit, &bytes);
    g->acked = limit;
}

int rd_group_ack(struct rd_group *g, uint64_t index)
{
    if (!g->managed)
        return -EINVAL;
    if (index > g->applied)
        return -ERANGE; /* not delivered yet */
    if (index <= g->acked)
        return 0;
    size_t keep = 0;
    for (size_t i = 0; i < g->n_hist; i++) {
        if (g->hist[i].index <= index)
            free(g->hist[i].data);
        else
            g->hist[keep++] = g->hist[i];
    }
    g->n_hist = keep;
    if (g->snap_data && g->snap_index <= index) {
        free(g->snap_data);
        g->snap_data = NULL;
        g->snap_len = g->snap_index = 0;
    }
    managed_ack_through(g);
    return 0;
}

int rd_group_client_snapshot(struct rd_group *g, const uint8_t *data, uint64_t len)
{
    if (!g->managed)
        return -EINVAL;
    uint64_t idx, commit, applied;
    rf_progress(g->n, &idx, &commit, &applied);
    int rc = rf_install_snapshot(g->n, data, len, false); /* at the acknowledged index */
    if (rc == 0)
        g->last_snap = applied;
    return rc;
}

int rd_group_snapshot(struct rd_group *g)
{
    if (g->managed)
        return -EINVAL; /* the client supplies the data */
    uint64_t idx, commit, applied;
    rf_progress(g->n, &idx, &commit, &applied);
    if (applied != g->applied || applied == 0)
        return -EAGAIN; /* the snapshot must describe exactly the applied state */
    uint8_t *b;
    uint64_t len;
    int rc = snap_encode(g, &b, &len);
    if (rc < 0)
        return rc;
    rc = rf_install_snapshot(g->n, b, len, false);
    free(b);
    if (rc == 0)
        g->last_snap = applied;
    return rc;
}

static void publish_from(struct rd_group *g, uint64_t after)
{
    for (size_t i = 0; i < g->n_hist; i++)
        if (g->hist[i].index > after)
            rd_ctl_publish_apply(g->srv, g, g->hist[i].index, g->hist[i].data, g->hist[i].len);
}

/* Managed: keep the snapshot until the client acknowledges it, drop older entries. */
static void keep_snapshot(struct rd_group *g, uint64_t index, const uint8_t *data, uint32_t len)
{
    uint8_t *d = malloc(len ? len : 1);
    if (!d)
        nx_fatal("group %s: out of memory", g->name);
    if (len)
        memcpy(d, data, len);
    free(g->snap_data);
    g->snap_data = d;
    g->snap_len = len;
    g->snap_index = index;
    hist_clear(g);
    rd_ctl_publish_snapshot(g->srv, g);
}

static void apply_committed(struct rd_group *g, const struct rf_committed *ce)
{
    if (ce->is_nil || ce->index == 0 || ce->index <= g->applied)
        return; /* end of replay / catchup markers */
    if (g->managed) {
        for (uint32_t k = 0; k < ce->n_entries; k++) {
            const struct rf_entry *e = &ce->entries[k];
            if (e->type == RF_ENTRY_SNAPSHOT) {
                keep_snapshot(g, ce->index, e->data, e->len);
            } else if (e->type == RF_ENTRY_NORMAL) {
                if (hist_add(g, ce->index, e->data, e->len) < 0)
                    nx_fatal("group %s: out of memory", g->name);
                rd_ctl_publish_apply(g->srv, g, ce->index, e->data, e->len);
            }
        }
        g->applied = g->published = ce->index;
        managed_ack_through(g);
        return;
    }
    size_t first_new = g->n_hist;
    for (uint32_t k = 0; k < ce->n_entries; k++) {
        const struct rf_entry *e = &ce->entries[k];
        if (e->type == RF_ENTRY_SNAPSHOT) {
            uint64_t before = g->published;
            if (snap_restore(g, e->data, e->len, ce->index) < 0) {
                nx_error("group %s: snapshot at %llu is not raftd's, ignoring its data", g->name,
                         (unsigned long long)ce->index);
                hist_clear(g);
            }
            g->last_snap = ce->index;
            /* Republish what this node had not published yet (all of it after a restart). */
            publish_from(g, before);
            first_new = g->n_hist;
        } else if (e->type == RF_ENTRY_NORMAL) {
            if (hist_add(g, ce->index, e->data, e->len) < 0)
                nx_fatal("group %s: out of memory", g->name);
        }
    }
    for (size_t i = first_new; i < g->n_hist; i++)
        rd_ctl_publish_apply(g->srv, g, g->hist[i].index, g->hist[i].data, g->hist[i].len);
    g->applied = ce->index;
    g->published = ce->index;
}

static void pump(struct rd_group *g)
{
    struct rd_server *s = g->srv;
    struct rf_ready rd;
    while (!g->failed && rf_ready(g->n, &rd)) {
        int rc = rf_ls_apply(g->ls, rd.ops, rd.n_ops);
        if (rc == 0 && rd.n_ops)
            rc = rf_ls_sync(g->ls);
        if (rc < 0) { /* Go's setWriteErr: the node stops */
            nx_error("group %s: storage error: %s; the group is closed", g->name,
                     strerror(-rc));
            rf_storage_error(g->n, rc);
            rf_ready_free(&rd);
            g->failed = true;
            return;
        }
        for (uint32_t i = 0; i < rd.n_msgs; i++)
            rd_net_send(s, g->name, &rd.msgs[i]);
        for (uint32_t i = 0; i < rd.n_committed; i++) {
            apply_committed(g, &rd.committed[i]);
            const struct rf_committed *ce = &rd.committed[i];
            if (ce->index && !ce->is_nil && !g->managed) {
                uint64_t bytes;
                rf_applied(g->n, ce->index, &bytes);
                uint64_t th = s->o->snapshot_threshold;
                if (th && g->applied >= g->last_snap + th)
                    (void)rd_group_snapshot(g);
            }
        }
        rf_advance(g->n, &rd);
    }
}

/* Leader changes as every member sees them (Go's LeadChangeC tells only the node itself;
 * the meta group's leader is also what `nats server report jetstream` shows everywhere). */
static void watch_leader(struct rd_group *g)
{
    rf_id lid = rf_group_leader(g->n);
    bool isl = rf_leader(g->n);
    if (rf_id_eq(lid, g->last_leader) && isl == g->last_is_leader)
        return;
    g->last_leader = lid;
    g->last_is_leader = isl;
    rd_ctl_publish_leader(g->srv, g);
}

void rd_group_pump_all(struct rd_server *s)
{
    for (struct rd_group *g = s->groups; g; g = g->next) {
        if (g->failed)
            continue;
        if (rf_has_ready(g->n))
            pump(g);
        watch_leader(g);
    }
}

void rd_group_close_all(struct rd_server *s)
{
    while (s->groups) {
        struct rd_group *g = s->groups;
        s->groups = g->next;
        rf_stop(g->n);
        group_free(g);
    }
}
