/* storaged's process loop: the mesh on one side, JetStream (storaged/js/js.h) on the other.
 * See sd_process.h.  Plays the part of the JetStream half of Go nats-server v2.14.5
 * server/jetstream.go enableJetStream (start-up, banner) and the internal client through which
 * Go's JetStream sends and receives (server/client.go internal clients, sendInternalMsg). */
#include "storaged/sd_process.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/account.h"
#include "broker/mesh.h"
#include "broker/node_ctl.h"
#include "broker/query.h"
#include "broker/reload.h"
#include "broker/sublist.h"
#include "common/log.h"
#include "storaged/js/js.h"
#include "storaged/sd_imports.h"
#include "storaged/sd_raft.h"

#include <jansson.h>

#define IDLE_WAKE_MS 50 /* notice peers coming and going even when nothing happens */

/* An account's sublist: the brokers' interest in that account (JetStream publishes there). */
typedef struct sd_acc_list {
    sl_sublist *sublist;
    size_t name_len;
    char name[];
} sd_acc_list;

typedef struct sd_proc {
    br_node *node;
    uint32_t self;
    sl_sublist *sublist; /* "$G" */
    nx_strmap acc_lists; /* other accounts: name -> sd_acc_list */
    br_mesh mesh;
    js_server *js;
    sd_imports *imports; /* stream imports, applied to what JetStream publishes */
    sd_raft *raft; /* clustered JetStream: raftd's control socket (sd_raft.c), else NULL */
    int signal_fd;
    int ctl_fd;
    bool stop;
    uint8_t *scratch; /* headers + payload of an outgoing message, contiguous */
    size_t scratch_cap;
    uint8_t ctl_buf[BR_QUERY_MAX_REQUEST + sizeof(br_query_hdr)]; /* partial query frames */
    size_t ctl_len;
} sd_proc;

static int64_t realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the host JetStream runs on -------------------------------------------------------- */

/* The mesh's account resolver: peers' interest is kept per account, as a broker keeps it. */
static sl_sublist *acc_sublist(void *ctx, const char *name, size_t len) {
    sd_proc *p = ctx;
    if (len == 0 || (len == 2 && !memcmp(name, "$G", 2))) return p->sublist;
    sd_acc_list *a = nx_strmap_get(&p->acc_lists, name, len);
    if (!a) {
        a = malloc(sizeof *a + len + 1);
        if (!a) abort();
        a->sublist = sl_new(true);
        if (!a->sublist) abort();
        a->name_len = len;
        memcpy(a->name, name, len);
        a->name[len] = 0;
        nx_strmap_put(&p->acc_lists, a->name, len, a);
    }
    return a->sublist;
}

static void free_acc_lists(sd_proc *p) {
    nx_strmap_entry *e;
    for (uint32_t it = 0; nx_strmap_next(&p->acc_lists, &it, &e);) {
        sd_acc_list *a = e->value;
        sl_free(a->sublist);
        free(a);
    }
    nx_strmap_free(&p->acc_lists);
}

static void host_publish_as(void *ctx, const char *account, const char *subj, size_t subj_len,
                            const char *shown,
                            size_t shown_len, const char *reply, size_t reply_len,
                            const uint8_t *hdr, size_t hdr_len, const uint8_t *data,
                            size_t data_len) {
    sd_proc *p = ctx;
    size_t total = hdr_len + data_len;
    if (total > UINT32_MAX || subj_len == 0) return;
    if (total > p->scratch_cap) {
        size_t cap = p->scratch_cap ? p->scratch_cap : 4096;
        while (cap < total) cap *= 2;
        uint8_t *nb = realloc(p->scratch, cap);
        if (!nb) abort();
        p->scratch = nb;
        p->scratch_cap = cap;
    }
    if (hdr_len) memcpy(p->scratch, hdr, hdr_len);
    if (data_len) memcpy(p->scratch + hdr_len, data, data_len);
    /* Brokers echo these texts in MSG/HMSG lines, as they do a client's own. */
    char size_str[24], hdr_str[24];
    int sn = snprintf(size_str, sizeof size_str, "%zu", total);
    int hn = hdr_len ? snprintf(hdr_str, sizeof hdr_str, "%zu", hdr_len) : 0;
    br_mesh_msg mm = {
        .account = {account, strlen(account)}, /* the account JetStream acts in */
        .subject = {subj, subj_len},
        .reply = {reply ? reply : "", reply ? reply_len : 0},
        .size_str = {size_str, (size_t)sn},
        .hdr_str = {hdr_str, (size_t)hn},
        .hdr_len = (uint32_t)hdr_len,
        .total_len = (uint32_t)total,
        .payload = p->scratch,
        .deliver = {shown ? shown : "", shown ? shown_len : 0},
    };
    br_mesh_route(&p->mesh, &mm);
    sd_imports_route(p->imports, &p->mesh, &mm); /* Go's shadow subscriptions */
}

static void host_publish(void *ctx, const char *account, const char *subj, size_t subj_len,
                         const char *reply, size_t reply_len, const uint8_t *hdr, size_t hdr_len,
                         const uint8_t *data, size_t data_len) {
    host_publish_as(ctx, account, subj, subj_len, NULL, 0, reply, reply_len, hdr, hdr_len, data,
                    data_len);
}

static void host_interest(void *ctx, const char *account, const char *subject, int delta) {
    sd_proc *p = ctx;
    sl_sub sub = {.subject = subject, .subject_len = (uint32_t)strlen(subject)};
    br_mesh_local_sub_acc(&p->mesh, account, strlen(account), &sub, delta > 0 ? +1 : -1);
}

static bool host_has_interest(void *ctx, const char *account, const char *subject) {
    sd_proc *p = ctx;
    size_t len = strlen(subject);
    return br_mesh_has_interest_acc(&p->mesh, account, strlen(account), subject, len) ||
           sd_imports_has_interest(p->imports, &p->mesh, account, subject, len);
}

static int64_t host_now(void *ctx) {
    (void)ctx;
    return realtime_ns();
}

/* The mesh's delivery callback: a publish on a subject JetStream subscribed to. */
static void on_mesh_msg(void *ctx, const br_mesh_msg *mm, const np_str *queues, uint32_t nq) {
    (void)queues;
    (void)nq;
    sd_proc *p = ctx;
    if (!p->js) return;
    char acc[256]; /* the mesh's account name ("" is "$G"), NUL-terminated for js */
    bool global =
        mm->account.len == 0 || (mm->account.len == 2 && !memcmp(mm->account.ptr, "$G", 2));
    if (!global) snprintf(acc, sizeof acc, "%.*s", (int)mm->account.len, mm->account.ptr);
    js_inmsg in = {
        .account = global ? NULL : acc,
        .subject = mm->subject.ptr,
        .subject_len = mm->subject.len,
        .reply = mm->reply.len ? mm->reply.ptr : NULL,
        .reply_len = mm->reply.len,
        .hdr = mm->hdr_len ? mm->payload : NULL,
        .hdr_len = mm->hdr_len,
        .data = mm->payload + mm->hdr_len,
        .data_len = mm->total_len - mm->hdr_len,
    };
    const char *busy = sd_raft_api_refusal(p->raft, mm->subject.ptr, mm->subject.len);
    if (busy && mm->reply.len) { /* clustered, no meta leader: Go's 10008 (sd_raft.c) */
        host_publish(p, global ? "$G" : acc, mm->reply.ptr, mm->reply.len, NULL, 0, NULL, 0,
                     (const uint8_t *)busy, strlen(busy));
        return;
    }
    js_server_inbound(p->js, &in);
}

/* ---- start-up ---------------------------------------------------------------------------- */

/* Go enableJetStreamAccounts over the configured accounts: none besides the system account
 * means JetStream serves "$G" alone (NULL, 0); otherwise every account but the system one is
 * listed ("$G" too, without JetStream), enabled where its `jetstream` says so.  The names are
 * borrowed from opts. */
static js_account_config *js_accounts_from_options(const br_options *o, size_t *n) {
    const br_accounts_conf *c = &o->accounts;
    const char *sys = br_accounts_system_name(c);
    *n = 0;
    bool others = false;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->accs[i].name, BR_GLOBAL_ACCOUNT) != 0 &&
            (!sys || strcmp(c->accs[i].name, sys) != 0))
            others = true;
    if (!others) return NULL;
    js_account_config *v = calloc(c->n + 1, sizeof *v);
    if (!v) abort();
    bool has_global = false;
    for (size_t i = 0; i < c->n; i++) {
        const br_acc_conf *a = &c->accs[i];
        if (sys && !strcmp(a->name, sys)) continue; /* never the system account */
        if (!strcmp(a->name, BR_GLOBAL_ACCOUNT)) has_global = true;
        js_account_config *x = &v[(*n)++];
        x->name = a->name;
        x->enabled = a->js.enabled;
        x->limits = (js_account_limits){
            .max_memory = a->js.max_memory,
            .max_store = a->js.max_store,
            .max_streams = a->js.max_streams,
            .max_consumers = a->js.max_consumers,
            .max_ack_pending = a->js.max_ack_pending,
            .memory_max_stream_bytes = a->js.memory_max_stream_bytes,
            .store_max_stream_bytes = a->js.store_max_stream_bytes,
            .max_bytes_required = a->js.max_bytes_required,
        };
        /* Imports and exports, for external mirrors and sources (js_mirror_ext.c). */
        js_import_config *im = calloc(a->nimports + 1, sizeof *im);
        js_export_config *ex = calloc(a->nexports + 1, sizeof *ex);
        if (!im || !ex) abort();
        for (size_t k = 0; k < a->nimports; k++)
            im[k] = (js_import_config){a->imports[k].service, a->imports[k].account,
                                       a->imports[k].subject, a->imports[k].to,
                                       a->imports[k].prefix};
        for (size_t k = 0; k < a->nexports; k++)
            ex[k] = (js_export_config){a->exports[k].service, a->exports[k].subject,
                                       (const char *const *)a->exports[k].accounts,
                                       a->exports[k].naccounts, a->exports[k].accounts_set};
        x->imports = im;
        x->nimports = a->nimports;
        x->exports = ex;
        x->nexports = a->nexports;
    }
    if (!has_global) v[(*n)++] = (js_account_config){.name = BR_GLOBAL_ACCOUNT, .enabled = false};
    return v;
}

static void js_accounts_free(js_account_config *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        free((void *)v[i].imports);
        free((void *)v[i].exports);
    }
    free(v);
}

static void friendly_bytes(int64_t v, char *buf, size_t cap) {
    if (v < 0) {
        snprintf(buf, cap, "unlimited");
        return;
    }
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    double d = (double)v;
    size_t u = 0;
    while (d >= 1024 && u + 1 < sizeof units / sizeof units[0]) d /= 1024, u++;
    if (u == 0)
        snprintf(buf, cap, "%" PRId64 " B", v);
    else
        snprintf(buf, cap, "%.2f %s", d, units[u]);
}

static void log_banner(const br_options *o, const char *dir, int64_t max_mem, int64_t max_store) {
    char mem[32], store[32];
    friendly_bytes(max_mem, mem, sizeof mem);
    friendly_bytes(max_store, store, sizeof store);
    nx_notice("Starting JetStream");
    nx_notice("---------------- JETSTREAM ----------------");
    if (o->js_strict_off) nx_notice("  Strict:          false");
    nx_notice("  Max Memory:      %s", mem);
    nx_notice("  Max Storage:     %s", store);
    nx_notice("  Store Directory: \"%s/jetstream\"", dir);
    if (o->js_domain && o->js_domain[0]) nx_notice("  Domain:          %s", o->js_domain);
    nx_notice("  Sync:            %s", o->js_sync_interval_ns > 0 ? "interval (lazy)"
                                                                  : "always (group commit)");
    nx_notice("-------------------------------------------");
}

static int setup_signals(sd_proc *p) {
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;
    signal(SIGPIPE, SIG_IGN);
    p->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return p->signal_fd < 0 ? -errno : 0;
}

/* SIGHUP (the supervisor passes a reload on once it accepted the new configuration): the
 * accounts' JetStream settings are applied as Go's reload does (configAllJetStreamAccounts). */
static void reload_accounts(sd_proc *p) {
    br_options next;
    char *err = NULL;
    if (br_options_load(&next, &err) < 0) {
        nx_debug("storaged: reload refused: %s", err ? err : "");
        free(err);
        br_options_free(&next);
        return;
    }
    size_t n = 0;
    js_account_config *accs = js_accounts_from_options(&next, &n);
    js_server_reload_accounts(p->js, accs, n, br_accounts_system_name(&next.accounts));
    js_accounts_free(accs, n);
    sd_imports_free(p->imports);
    p->imports = sd_imports_new(&next);
    br_options_free(&next);
}

static void handle_signals(sd_proc *p) {
    struct signalfd_siginfo si;
    while (read(p->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGINT:
        case SIGTERM:
        case SIGQUIT: p->stop = true; break;
        case SIGUSR1: nx_log_reopen(); break;
        case SIGHUP: reload_accounts(p); break;
        default: break; /* SIGUSR2: the supervisor decides */
        }
    }
}

/* Writes all of buf to the control connection (answers are small; the peer reads them). */
static void ctl_write(sd_proc *p, const void *buf, size_t len) {
    const uint8_t *b = buf;
    while (len > 0) {
        ssize_t n = send(p->ctl_fd, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd w = {.fd = p->ctl_fd, .events = POLLOUT};
            if (poll(&w, 1, 1000) <= 0) return; /* the supervisor stopped reading: give up */
            continue;
        }
        if (n <= 0) return;
        b += n;
        len -= (size_t)n;
    }
}

/* A flag of the query string ("accounts=true&acc=A"): its value, NULL when absent. */
static char *query_arg(const char *args, size_t len, const char *name) {
    size_t nl = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && args[e] != '&') e++;
        if (e - i > nl && args[i + nl] == '=' && !memcmp(args + i, name, nl))
            return strndup(args + i + nl + 1, e - i - nl - 1);
        i = e + 1;
    }
    return NULL;
}

static bool query_true(const char *args, size_t len, const char *name) {
    char *v = query_arg(args, len, name);
    bool t = v && (!strcmp(v, "true") || !strcmp(v, "1"));
    free(v);
    return t;
}

/* The JSON of BR_QUERY_JSZ: storaged's part of /jsz, /varz and /healthz.  With details
 * requested (the supervisor passes /jsz's query: accounts, acc, streams, consumers, config),
 * "account_details" holds Go's AccountDetail array. */
static char *jsz_answer(sd_proc *p, const char *args, size_t args_len) {
    js_usage u = {0};
    js_server_usage(p->js, &u);
    char *out = NULL;
    if (asprintf(&out,
                 "{\"memory\":%llu,\"storage\":%llu,\"accounts\":%llu,\"api_total\":%llu,"
                 "\"api_errors\":%llu,\"streams\":%llu,\"consumers\":%llu,\"messages\":%llu,"
                 "\"bytes\":%llu}",
                 (unsigned long long)u.memory, (unsigned long long)u.storage,
                 (unsigned long long)u.accounts, (unsigned long long)u.api_total,
                 (unsigned long long)u.api_errors, (unsigned long long)u.streams,
                 (unsigned long long)u.consumers, (unsigned long long)u.messages,
                 (unsigned long long)u.bytes) < 0)
        abort();
    json_t *meta = sd_raft_meta_json(p->raft); /* Go JSInfo.Meta, spliced in */
    char *mj = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    if (mj) {
        char *joined = NULL;
        if (asprintf(&joined, "%.*s,\"meta_cluster\":%s}", (int)(strlen(out) - 1), out, mj) < 0)
            abort();
        free(mj);
        free(out);
        out = joined;
    }
    char *acc = query_arg(args, args_len, "acc");
    js_jsz_opts o = {.account = acc,
                     .consumers = query_true(args, args_len, "consumers"),
                     .config = query_true(args, args_len, "config")};
    o.streams = o.consumers || query_true(args, args_len, "streams");
    bool details = (acc && acc[0]) || o.streams || query_true(args, args_len, "accounts");
    if (details) { /* splice the details into the object: {..., "account_details":[...]} */
        json_t *d = js_server_jsz_details(p->js, &o);
        char *dj = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        char *joined = NULL;
        size_t n = strlen(out);
        if (!dj || asprintf(&joined, "%.*s,\"account_details\":%s}", (int)(n - 1), out, dj) < 0)
            abort();
        free(dj);
        free(out);
        out = joined;
    }
    free(acc);
    return out;
}

static void answer_query(sd_proc *p, const br_query_hdr *h, const char *args) {
    char *json = NULL;
    uint32_t status = 0;
    if (h->kind == BR_QUERY_PING)
        json = strdup("{}");
    else if (h->kind == BR_QUERY_JSZ)
        json = jsz_answer(p, args, h->len);
    else
        status = ENOTSUP;
    size_t len = json ? strlen(json) : 0;
    br_query_hdr a = {(uint32_t)len, status, h->id};
    ctl_write(p, &a, sizeof a);
    if (len) ctl_write(p, json, len);
    free(json);
}

/* The control connection: queries from the supervisor's monitoring (query.h); its end means
 * the supervisor (or node daemon) is gone. */
static void handle_control(sd_proc *p, short revents) {
    ssize_t n = read(p->ctl_fd, p->ctl_buf + p->ctl_len, sizeof p->ctl_buf - p->ctl_len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        p->stop = true;
        return;
    }
    if (n < 0) {
        if (revents & (POLLHUP | POLLERR)) p->stop = true;
        return;
    }
    p->ctl_len += (size_t)n;
    for (;;) {
        br_query_hdr h;
        if (p->ctl_len < sizeof h) break;
        memcpy(&h, p->ctl_buf, sizeof h);
        if (h.len > BR_QUERY_MAX_REQUEST) { /* not our supervisor: drop the connection */
            p->stop = true;
            return;
        }
        if (p->ctl_len < sizeof h + h.len) break;
        answer_query(p, &h, (const char *)p->ctl_buf + sizeof h);
        size_t used = sizeof h + h.len;
        memmove(p->ctl_buf, p->ctl_buf + used, p->ctl_len - used);
        p->ctl_len -= used;
    }
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void run_loop(sd_proc *p) {
    br_worker_slot *slot = &p->node->shm->workers[p->self];
    int doorbell = p->node->doorbell[p->self];
    while (!p->stop) {
        br_mesh_flush(&p->mesh);
        int64_t now = realtime_ns();
        int64_t due = js_server_next_deadline(p->js);
        int timeout = IDLE_WAKE_MS;
        if (due <= now)
            timeout = 0;
        else if (due - now < (int64_t)IDLE_WAKE_MS * 1000000)
            timeout = (int)((due - now + 999999) / 1000000);
        /* Announce sleep, then look at the rings once more (see server.c). */
        atomic_store(&slot->sleeping, 1);
        if (br_mesh_has_input(&p->mesh)) timeout = 0;
        struct pollfd pfd[4] = {{.fd = doorbell, .events = POLLIN},
                                {.fd = p->signal_fd, .events = POLLIN},
                                {.fd = p->ctl_fd, .events = POLLIN},
                                {.fd = sd_raft_fd(p->raft), .events = sd_raft_events(p->raft)}};
        int n = poll(pfd, 4, timeout); /* negative fds are skipped */
        atomic_store(&slot->sleeping, 0);
        if (n > 0) {
            if (pfd[0].revents) {
                uint64_t v;
                ssize_t r = read(doorbell, &v, sizeof v);
                (void)r;
            }
            if (pfd[1].revents) handle_signals(p);
            if (p->ctl_fd >= 0 && pfd[2].revents) handle_control(p, pfd[2].revents);
            if (pfd[3].fd >= 0 && pfd[3].revents)
                sd_raft_handle(p->raft, pfd[3].revents, realtime_ns() / 1000000);
        }
        if (p->raft) sd_raft_tick(p->raft, realtime_ns() / 1000000);
        /* Group commit: everything the rings held is stored, synced once, then acknowledged. */
        if (br_mesh_drain(&p->mesh) > 0) js_server_flush(p->js);
        now = realtime_ns();
        if (js_server_next_deadline(p->js) <= now) {
            js_server_tick(p->js, now);
            js_server_flush(p->js);
        }
    }
    js_server_flush(p->js);
    br_mesh_flush(&p->mesh);
}

int sd_process_run(const br_options *opts, br_node *node, uint32_t self, int ctl_fd) {
    sd_proc p = {.node = node, .self = self, .signal_fd = -1, .ctl_fd = ctl_fd};
    prctl(PR_SET_NAME, "nats-storaged"); /* ps/top (and tests) tell it from the workers */
    if (setup_signals(&p) < 0) {
        nx_error("storaged: unable to set up signal handling");
        return 3;
    }
    p.sublist = sl_new(true);
    if (!p.sublist) abort();
    br_mesh_init(&p.mesh, node, self, p.sublist, on_mesh_msg, &p);
    p.mesh.sublist_for = acc_sublist;
    p.mesh.sublist_ctx = &p;

    const char *dir;
    int64_t max_mem, max_store;
    br_js_effective(opts, &max_mem, &max_store, &dir);
    if (!opts->store_dir || !opts->store_dir[0])
        nx_warn("Temporary storage directory used, data could be lost on system reboot");
    log_banner(opts, dir, max_mem, max_store);
    js_config cfg = {
        .store_dir = dir,
        .max_memory = max_mem,
        .max_store = max_store,
        .domain = opts->js_domain,
        .sync = opts->js_sync_interval_ns > 0 ? SD_FS_SYNC_INTERVAL : SD_FS_SYNC_NONE,
        .sync_interval_ns = opts->js_sync_interval_ns,
        .server_id = node->shm->server_id,
        .server_name = node->shm->server_name,
        .max_payload = opts->max_payload,
        .strict_off = opts->js_strict_off,
        .key = opts->js_key && opts->js_key[0] ? opts->js_key : NULL,
    };
    size_t nacc = 0;
    js_account_config *accs = js_accounts_from_options(opts, &nacc);
    cfg.accounts = accs;
    cfg.naccounts = nacc;
    cfg.system_account = br_accounts_system_name(&opts->accounts);
    for (size_t i = 0; i < (accs ? nacc : 1); i++) { /* Go EnableJetStream's debug lines */
        const js_account_config *x = accs ? &accs[i] : NULL;
        if (x && !x->enabled) continue;
        char m[32] = "-1 B", st[32] = "-1 B"; /* Go friendlyBytes(-1) */
        if (x && x->limits.max_memory >= 0) friendly_bytes(x->limits.max_memory, m, sizeof m);
        if (x && x->limits.max_store >= 0) friendly_bytes(x->limits.max_store, st, sizeof st);
        nx_debug("Enabled JetStream for account \"%s\"", x ? x->name : BR_GLOBAL_ACCOUNT);
        nx_debug("  Max Memory:      %s", m);
        nx_debug("  Max Storage:     %s", st);
    }
    if (opts->js_cipher && sd_filestore_parse_cipher(opts->js_cipher, &cfg.cipher) < 0) {
        nx_error("Could not start JetStream: unknown cipher %s", opts->js_cipher);
        return 1;
    }
    if (cfg.key) /* Go: the cipher is used only with a key (ChaCha20-Poly1305 by default) */
        nx_notice("  Encryption:      %s",
                  cfg.cipher == SD_FS_CIPHER_AES ? "AES" : "ChaCha20-Poly1305");
    p.imports = sd_imports_new(opts);
    js_host host = {.ctx = &p, .publish = host_publish, .publish_as = host_publish_as,
                    .interest = host_interest,
                    .has_interest = host_has_interest, .now_ns = host_now};
    char err[512] = "";
    p.js = js_server_open(&cfg, &host, err, sizeof err);
    js_accounts_free(accs, nacc);
    char raft_sock[4200];
    if (br_raftd_socket_path(opts, raft_sock, sizeof raft_sock) > 0)
        p.raft = sd_raft_new(raft_sock, opts->cluster_name);
    int rc = 0;
    if (!p.js) {
        nx_error("Could not start JetStream: %s", err);
        rc = 1;
    } else {
        atomic_store(&node->shm->workers[self].listening, 1); /* ready: the supervisor waits */
        run_loop(&p);
        js_server_close(p.js);
    }
    atomic_store(&node->shm->workers[self].listening, 0);
    sd_raft_free(p.raft);
    br_mesh_free(&p.mesh);
    sl_free(p.sublist);
    free_acc_lists(&p);
    sd_imports_free(p.imports);
    free(p.scratch);
    close(p.signal_fd);
    return rc;
}

int sd_join_run(const br_options *opts) {
    if (!opts->node_socket) {
        nx_error("nats-storaged needs --node_socket (the node daemon's socket)");
        return 2;
    }
    br_node node;
    int ctl = br_node_ctl_join(opts->node_socket, BR_NODE_CTL_STORAGED, &node);
    if (ctl < 0) {
        nx_error("Unable to join the node at %s as storaged: %s", opts->node_socket,
                 strerror(-ctl));
        return 1;
    }
    int self = br_node_storaged_index(&node);
    if (self < 0) {
        nx_error("The node at %s has no storaged member (JetStream is not enabled there)",
                 opts->node_socket);
        close(ctl);
        br_node_destroy(&node);
        return 1;
    }
    int rc = sd_process_run(opts, &node, (uint32_t)self, ctl);
    close(ctl);
    br_node_destroy(&node);
    return rc;
}
