/* Consumers: lifecycle (create/update/delete), the per-stream registry, advisories, and the
 * js_int.h hooks the stream side calls (stored, purged, free, count, all_acked).  Timers are in
 * js_consumer_timer.c, persistence and recovery in js_consumer_store.c.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go: addConsumerWithAssignment, updateConfig,
 * checkNewConsumerConfig, selectStartingSeqNo, updateInactiveThreshold, stopWithFlags,
 * cleanupNoInterestMessages, purge; and server/stream.go partitionUnique / checkForInterest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/subject.h"
#include "storaged/js/js_advisory.h"
#include "storaged/js/js_api_json.h"
#include "storaged/js/js_consumer_int.h"

#define JS_MAX_NAME_LEN 255
#define JS_DELETE_WAIT_DEFAULT (5 * JSC_NS_S)
#define JS_FC_MAX_PENDING (32 * 1024 * 1024)

/* --- registry ------------------------------------------------------------------------------ */

jsc_set *jsc_set_of(js_stream *st, bool create) {
    void **slot = js_stream_consumers_slot(st);
    if (!*slot && create) {
        jsc_set *s = calloc(1, sizeof *s);
        if (!s) abort();
        s->st = st;
        *slot = s;
        jsc_track_set(s);
    }
    return *slot;
}

js_consumer *jsc_lookup(js_stream *st, const char *name) {
    jsc_set *s = jsc_set_of(st, false);
    if (!s || !name) return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i]->name, name)) return s->v[i];
    return NULL;
}

static void set_add(jsc_set *s, js_consumer *o) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) abort();
    }
    s->v[s->n++] = o;
    o->set = s;
}
static void set_remove(jsc_set *s, js_consumer *o) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == o) {
            memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
            s->n--;
            return;
        }
}

bool jsc_is_durable(const js_consumer *o) {
    return o->cfg.durable != NULL;
}

void jsc_stream_state(js_consumer *o, sd_stream_state *ss) {
    memset(ss, 0, sizeof *ss);
    sd_store_fast_state(js_stream_store(o->st), ss);
}

int64_t jsc_stream_cfg_int(js_stream *st, const char *key) {
    const json_t *cfg = js_stream_config_json(st);
    json_t *v = cfg ? json_object_get(cfg, key) : NULL;
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* --- advisories ------------------------------------------------------------------------------ */

/* Ephemeral consumer names. */
static void rand_id(char *buf, size_t n) {
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static uint64_t x = 0;
    if (!x) {
        x = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&x;
        FILE *f = fopen("/dev/urandom", "rb");
        if (f) {
            if (fread(&x, sizeof x, 1, f) != 1) x ^= 0x1234567;
            fclose(f);
        }
    }
    for (size_t i = 0; i + 1 < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = al[x % 62];
    }
    buf[n - 1] = 0;
}

/* The envelope and publishing are js_advisory.c's; the consumer events name the stream and
 * the consumer in their subject (Go o.sendAdvisory: nothing is encoded without interest). */
json_t *jsc_event(js_server *js, const char *type) {
    return js_adv_event(js, type);
}

void jsc_advisory(js_consumer *o, const char *pre, json_t *ev) {
    char subj[1024];
    snprintf(subj, sizeof subj, "%s.%s.%s", pre, o->stream, o->name);
    /* Domain is last in most of Go's types; the others place it themselves. */
    if (!json_object_get(ev, "domain")) js_adv_domain(o->js, ev);
    js_adv_publish(o->js, jsc_acc(o), subj, ev);
}

/* Go sendPauseAdvisoryLocked.  PauseUntil is a time.Time without omitempty effect: the zero
 * time when not paused. */
void jsc_pause_advisory(js_consumer *o) {
    json_t *ev = jsc_event(o->js, "io.nats.jetstream.advisory.v1.consumer_pause");
    json_object_set_new(ev, "stream", json_string(o->stream));
    json_object_set_new(ev, "consumer", json_string(o->name));
    bool paused = o->cfg.has_pause_until && js_now(o->js) < o->cfg.pause_until;
    json_object_set_new(ev, "paused", json_boolean(paused));
    char ts[64];
    jsc_fmt_time(o->cfg.has_pause_until ? o->cfg.pause_until : 0, ts, sizeof ts);
    json_object_set_new(ev, "pause_until", json_string(ts));
    jsc_advisory(o, "$JS.EVENT.ADVISORY.CONSUMER.PAUSE", ev);
}

/* Go JSConsumerGroupPinnedAdvisory / JSConsumerGroupUnpinnedAdvisory: account, stream,
 * consumer, domain, group, then pinned_id or reason. */
void jsc_pin_advisory(js_consumer *o, const char *group, const char *reason) {
    json_t *e = jsc_event(o->js, reason ? "io.nats.jetstream.advisory.v1.consumer_group_unpinned"
                                        : "io.nats.jetstream.advisory.v1.consumer_group_pinned");
    json_object_set_new(e, "account", json_string(js_account_name(js_stream_account(o->st))));
    json_object_set_new(e, "stream", json_string(o->stream));
    json_object_set_new(e, "consumer", json_string(o->name));
    js_adv_domain(o->js, e);
    json_object_set_new(e, "group", json_string(group ? group : ""));
    if (reason) json_object_set_new(e, "reason", json_string(reason));
    else json_object_set_new(e, "pinned_id", json_string(o->pin_id));
    jsc_advisory(o, reason ? "$JS.EVENT.ADVISORY.CONSUMER.UNPINNED" : "$JS.EVENT.ADVISORY.CONSUMER.PINNED", e);
}

/* Go updatePauseState: a timer for the end of the pause. */
void jsc_update_pause_state(js_consumer *o) {
    int64_t now = js_now(o->js);
    o->uptmr = (o->cfg.has_pause_until && o->cfg.pause_until > now) ? o->cfg.pause_until : 0;
}

static void action_advisory(js_consumer *o, bool create) {
    json_t *e = jsc_event(o->js, "io.nats.jetstream.advisory.v1.consumer_action");
    json_object_set_new(e, "stream", json_string(o->stream));
    json_object_set_new(e, "consumer", json_string(o->name));
    json_object_set_new(e, "action", json_string(create ? "create" : "delete"));
    jsc_advisory(o, create ? "$JS.EVENT.ADVISORY.CONSUMER.CREATED" : "$JS.EVENT.ADVISORY.CONSUMER.DELETED", e);
}

static int select_starting_seq(js_consumer *o) {
    sd_store *store = js_stream_store(o->st);
    sd_stream_state ss;
    jsc_stream_state(o, &ss);
    jsc_config *c = &o->cfg;
    o->sseq = 0;
    if (c->opt_start_seq == 0) {
        if (c->deliver_policy == JSC_DELIVER_ALL) {
            o->sseq = ss.first_seq;
        } else if (c->deliver_policy == JSC_DELIVER_LAST) {
            if (!o->nfilters) {
                o->sseq = ss.last_seq;
            } else {
                for (size_t i = 0; i < o->nfilters; i++) {
                    sd_simple_state fs = {0};
                    if (sd_store_filtered_state(store, 1, o->filters[i], &fs) != 0) return -1;
                    if (fs.last > o->sseq) o->sseq = fs.last;
                }
            }
        } else if (c->deliver_policy == JSC_DELIVER_LAST_PER_SUBJECT) {
            if (jsc_stream_cfg_int(o->st, "max_msgs_per_subject") == 1) {
                o->sseq = ss.first_seq;
            } else {
                const char *one = c->filter_subject ? c->filter_subject : "";
                const char *const *fl = o->nfilters ? (const char *const *)o->filters : &one;
                size_t nf = o->nfilters ? o->nfilters : 1;
                uint64_t *seqs = NULL;
                size_t n = 0;
                sd_store_multi_last_seqs(store, fl, nf, 0, 0, &seqs, &n);
                free(o->lss);
                o->lss = seqs;
                o->lss_len = n;
                o->lss_idx = 0;
                o->lss_resume = ss.last_seq;
                o->lss_active = true;
                o->sseq = n ? seqs[0] : ss.last_seq;
            }
        } else if (c->has_opt_start_time) {
            o->sseq = sd_store_get_seq_from_time(store, c->opt_start_time);
            if (o->nfilters) {
                uint64_t nseq = ss.last_seq;
                for (size_t i = 0; i < o->nfilters; i++) {
                    sd_simple_state fs = {0};
                    if (sd_store_filtered_state(store, ss.first_seq, o->filters[i], &fs) != 0) return -1;
                    if (fs.first >= o->sseq && fs.first < nseq) nseq = fs.first;
                }
                if (nseq > o->sseq && nseq < ss.last_seq) o->sseq = nseq;
            }
        } else {
            o->sseq = ss.last_seq + 1;
        }
    } else {
        o->sseq = c->opt_start_seq;
    }
    if (ss.first_seq == 0 && (c->direct || c->opt_start_seq == 0)) o->sseq = 1;
    else if (o->sseq > ss.last_seq && (c->direct || c->opt_start_seq == 0)) o->sseq = ss.last_seq + 1;
    else if (o->sseq < ss.first_seq) o->sseq = ss.first_seq;
    o->dseq = 1;
    o->adflr = 0;
    o->asflr = o->sseq - 1;
    if (o->store && o->sseq > 0) o->store->ops->set_starting(o->store, o->sseq - 1);
    return 0;
}

static void set_filters(js_consumer *o) {
    for (size_t i = 0; i < o->nfilters; i++) free(o->filters[i]);
    free(o->filters);
    o->filters = NULL;
    o->nfilters = 0;
    if (nx_filter_set_count(&o->fset)) nx_filter_set_destroy(&o->fset);
    nx_filter_set_init(&o->fset);
    if (o->cfg.filter_subject) {
        o->filters = calloc(1, sizeof(char *));
        o->filters[0] = strdup(o->cfg.filter_subject);
        o->nfilters = 1;
    } else if (o->cfg.nfilter_subjects) {
        o->filters = calloc(o->cfg.nfilter_subjects, sizeof(char *));
        for (size_t i = 0; i < o->cfg.nfilter_subjects; i++) o->filters[i] = strdup(o->cfg.filter_subjects[i]);
        o->nfilters = o->cfg.nfilter_subjects;
    }
    if (o->nfilters > 1)
        for (size_t i = 0; i < o->nfilters; i++) nx_filter_set_add(&o->fset, o->filters[i], strlen(o->filters[i]));
}

static void update_inactive_threshold(js_consumer *o, jsc_config *cfg) {
    if (!jsc_is_durable(o) && cfg->inactive_threshold <= 0) {
        o->dthresh = JS_DELETE_WAIT_DEFAULT + 100 * JSC_NS_MS + (int64_t)(rand() % 900) * JSC_NS_MS;
        cfg->inactive_threshold = JS_DELETE_WAIT_DEFAULT;
    } else if (cfg->inactive_threshold > 0) {
        o->dthresh = cfg->inactive_threshold;
    } else {
        o->dthresh = 0;
    }
}

static bool partition_unique(jsc_set *s, const char *name, const jsc_config *c) {
    const char *one[1] = {c->filter_subject};
    const char *const *parts = c->filter_subject ? one : (const char *const *)c->filter_subjects;
    size_t np = c->filter_subject ? 1 : c->nfilter_subjects;
    for (size_t p = 0; p < np; p++) {
        for (size_t i = 0; s && i < s->n; i++) {
            js_consumer *o = s->v[i];
            if ((name && !strcmp(o->name, name)) || o->cfg.direct || o->cfg.sourcing) continue;
            if (!o->nfilters) return false;
            for (size_t k = 0; k < o->nfilters; k++)
                if (nx_subject_collide(parts[p], strlen(parts[p]), o->filters[k], strlen(o->filters[k])))
                    return false;
        }
    }
    return true;
}

static size_t num_limitable(jsc_set *s) {
    size_t n = 0;
    for (size_t i = 0; s && i < s->n; i++)
        if (!s->v[i]->cfg.sourcing) n++;
    return n;
}

/* Go checkNewConsumerConfig: NULL when allowed, else the error text (static). */
static const char *check_new_config(js_consumer *o, const jsc_config *c, const jsc_config *n, int *code) {
    *code = 10012;
    if (jsc_config_equal(c, n)) return NULL;
    if (c->deliver_policy != n->deliver_policy) return "deliver policy can not be updated";
    if (c->mem_storage != n->mem_storage) return "storage type can not be updated";
    if (c->opt_start_seq != n->opt_start_seq) return "start sequence can not be updated";
    if (c->has_opt_start_time != n->has_opt_start_time ||
        (c->has_opt_start_time && c->opt_start_time != n->opt_start_time))
        return "start time can not be updated";
    if (c->ack_policy != n->ack_policy) return "ack policy can not be updated";
    if (c->replay_policy != n->replay_policy) return "replay policy can not be updated";
    if (c->heartbeat != n->heartbeat) return "heart beats can not be updated";
    if (c->flow_control != n->flow_control) return "flow control can not be updated";
    const char *cd = c->deliver_subject ? c->deliver_subject : "", *nd = n->deliver_subject ? n->deliver_subject : "";
    if (strcmp(cd, nd)) {
        if (!*cd) return "can not update pull consumer to push based";
        if (!*nd) return "can not update push consumer to pull based";
        if (js_server_host(o->js)->has_interest && js_host_has_interest(o->js, jsc_acc(o), cd)) {
            *code = 10013;
            return "";
        }
    }
    if (c->max_waiting != n->max_waiting) return "max waiting can not be updated";
    if (n->nbackoff && n->max_deliver != -1 && (int64_t)n->nbackoff > n->max_deliver) {
        *code = 10116;
        return "";
    }
    return NULL;
}

static int update_config(js_consumer *o, jsc_config *cfg, char **arg) {
    int code;
    const char *e = check_new_config(o, &o->cfg, cfg, &code);
    if (e) {
        if (*e) *arg = strdup(e);
        return code;
    }
    sd_consumer_config scfg = {cfg->ack_policy, cfg->max_deliver};
    if (o->store) o->store->ops->update_config(o->store, &scfg);
    const char *od = o->cfg.deliver_subject ? o->cfg.deliver_subject : "";
    bool new_deliver = cfg->deliver_subject && strcmp(od, cfg->deliver_subject);
    o->maxp = cfg->max_ack_pending;
    if (cfg->ack_wait != o->cfg.ack_wait && o->ptmr) o->ptmr = js_now(o->js) + 100 * JSC_NS_MS;
    if (cfg->sample_freq) o->sfreq = atoi(cfg->sample_freq);
    else o->sfreq = 0;
    o->maxdc = cfg->max_deliver > 0 ? (uint64_t)cfg->max_deliver : 0;
    bool pause_changed = cfg->has_pause_until != o->cfg.has_pause_until ||
                         (cfg->has_pause_until && cfg->pause_until != o->cfg.pause_until);
    if (cfg->inactive_threshold != o->cfg.inactive_threshold) {
        update_inactive_threshold(o, cfg);
        o->dtmr = o->dthresh > 0 ? js_now(o->js) + o->dthresh : 0;
    }
    jsc_config old = o->cfg;
    o->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    jsc_config_free(&old);
    set_filters(o);
    if (new_deliver) {
        /* Go updateDeliverSubjectLocked + forceExpirePending: pending messages are queued for
         * redelivery to the new subject. */
        if (o->pending.n) {
            size_t n;
            uint64_t *k = jsc_map_keys_sorted(&o->pending, &n);
            int64_t now = js_now(o->js), off = 0;
            bool first = true;
            for (size_t i = 0; i < n; i++) {
                if (jsc_on_rdq(o, k[i]) || jsc_has_max_deliveries(o, k[i])) continue;
                jsc_ent *p = jsc_map_get(&o->pending, k[i]);
                if (first) {
                    off = now - p->b;
                    first = false;
                }
                p->b += off;
                jsc_rdq_add(o, k[i]);
            }
            free(k);
            if (!first) o->ptmr = now + jsc_ack_wait(o, 0);
        }
        o->active = false;
        jsc_push_interest(o);
    }
    if (pause_changed) {
        jsc_update_pause_state(o);
        jsc_pause_advisory(o);
    }
    jsc_write_meta(o);
    jsc_deliver(o);
    return 0;
}

/* Releases the consumer's memory (not its store). */
static void consumer_release(js_consumer *o) {
    jsc_map_free(&o->pending);
    jsc_map_free(&o->rdc);
    free(o->rdq);
    for (size_t i = 0; i < o->nfilters; i++) free(o->filters[i]);
    free(o->filters);
    nx_filter_set_destroy(&o->fset);
    free(o->lss);
    jsc_config_free(&o->cfg);
    free(o->name);
    free(o->stream);
    free(o);
}

js_consumer *jsc_add(js_stream *st, jsc_config *cfg, int action, bool pedantic, bool recovering,
                     int64_t created, uint64_t start_seq, int *err_code, char **err_arg) {
    js_server *js = js_stream_server(st);
    *err_code = 0;
    *err_arg = NULL;
    int rc = jsc_config_defaults(cfg, st, pedantic, err_arg);
    if (!rc) rc = jsc_config_check(cfg, st, recovering, err_arg);
    if (rc) {
        *err_code = rc;
        return NULL;
    }
    jsc_set *set = jsc_set_of(st, true);
    sd_retention_policy ret = js_stream_retention(st);
    const char *cname = cfg->durable ? cfg->durable : cfg->name;
    if (cname) {
        js_consumer *eo = jsc_lookup(st, cname);
        if (eo) {
            if (action == JSC_ACTION_CREATE) {
                jsc_config tmp;
                jsc_config_copy(&tmp, cfg);
                if (tmp.metadata) {
                    json_object_del(tmp.metadata, "_nats.ver");
                    json_object_del(tmp.metadata, "_nats.level");
                }
                bool eq = jsc_config_equal(&tmp, &eo->cfg);
                jsc_config_free(&tmp);
                if (!eq) {
                    *err_code = 10148;
                    return NULL;
                }
            }
            if (ret == SD_RETENTION_WORKQUEUE && !partition_unique(set, cname, cfg)) {
                *err_code = 10100;
                return NULL;
            }
            rc = update_config(eo, cfg, err_arg);
            if (rc) {
                *err_code = rc;
                return NULL;
            }
            return eo;
        }
    }
    if (action == JSC_ACTION_UPDATE) {
        *err_code = 10149;
        return NULL;
    }
    if (!recovering) {
        /* Go: the stream's max_consumers, or the account's when lower or the stream has none */
        int64_t maxc = jsc_stream_cfg_int(st, "max_consumers");
        int64_t amaxc = js_account_limits_of(js_stream_account(st))->max_consumers;
        if (maxc <= 0 || (amaxc > 0 && amaxc < maxc)) maxc = amaxc;
        if (maxc > 0 && (int64_t)num_limitable(set) >= maxc) {
            *err_code = 10026;
            return NULL;
        }
    }
    if (ret == SD_RETENTION_WORKQUEUE && !cfg->direct && !cfg->sourcing) {
        if (cfg->ack_policy != SD_ACK_EXPLICIT && cfg->ack_policy != SD_ACK_FLOW_CONTROL) {
            *err_code = 10098;
            return NULL;
        }
        if (cfg->deliver_policy != JSC_DELIVER_ALL) {
            *err_code = 10101;
            return NULL;
        }
        if (num_limitable(set) > 0) {
            if (!cfg->filter_subject && !cfg->nfilter_subjects) {
                *err_code = 10099;
                return NULL;
            }
            if (!partition_unique(set, cname, cfg) && !recovering) {
                *err_code = 10100;
                return NULL;
            }
        }
    }
    js_consumer *o = calloc(1, sizeof *o);
    if (!o) abort();
    o->js = js;
    o->st = st;
    o->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    o->stream = strdup(js_stream_name(st));
    o->created = created ? created : js_now(js);
    o->sfreq = o->cfg.sample_freq ? atoi(o->cfg.sample_freq) : 0;
    o->maxdc = o->cfg.max_deliver > 0 ? (uint64_t)o->cfg.max_deliver : 0;
    o->maxp = o->cfg.max_ack_pending;
    o->pull = o->cfg.deliver_subject == NULL;
    nx_filter_set_init(&o->fset);
    if (o->cfg.durable) {
        if (strlen(o->cfg.durable) > JS_MAX_NAME_LEN) {
            *err_code = 10102;
            *err_arg = strdup("255");
            consumer_release(o);
            return NULL;
        }
        o->name = strdup(o->cfg.durable);
    } else if (o->cfg.name) {
        o->name = strdup(o->cfg.name);
    } else {
        char nm[9];
        do {
            rand_id(nm, sizeof nm);
        } while (jsc_lookup(st, nm));
        o->name = strdup(nm);
        o->cfg.name = strdup(nm);
    }
    if (!jsc_valid_asset_name(o->name)) {
        *err_code = 10103;
        consumer_release(o);
        return NULL;
    }
    o->waiting.max = o->cfg.max_waiting;
    set_filters(o);
    if (!o->cfg.direct) {
        sd_consumer_config scfg = {o->cfg.ack_policy, o->cfg.max_deliver};
        int src = jsc_store_open(o, &scfg, recovering, &o->store);
        if (src != 0) {
            *err_code = 10104;
            *err_arg = strdup(sd_strerror(src));
            o->store = NULL;
            consumer_release(o);
            return NULL;
        }
    }
    if (o->store && o->store->ops->has_state(o->store)) {
        jsc_read_stored_state(o);
        o->start_seq = start_seq;
    } else if (recovering && start_seq && o->cfg.deliver_policy != JSC_DELIVER_LAST_PER_SUBJECT) {
        /* Go's file consumer store reports state once o.dat exists, even with nothing
         * delivered yet; resume from the sequence selected at creation. */
        o->sseq = start_seq;
        o->dseq = 1;
        o->adflr = 0;
        o->asflr = start_seq - 1;
        o->start_seq = start_seq;
    } else if (select_starting_seq(o) != 0) {
        *err_code = 10012;
        *err_arg = strdup("select starting sequence failed");
        jsc_delete(o, false);
        return NULL;
    }
    if (!o->start_seq) o->start_seq = o->sseq;
    jsc_update_pause_state(o);
    update_inactive_threshold(o, &o->cfg);
    set_add(set, o);
    int64_t now = js_now(js);
    if (!o->pull) {
        o->active = js_host_has_interest(js, jsc_acc(o), o->cfg.deliver_subject);
        if (o->cfg.flow_control) {
            o->pblimit = JS_FC_MAX_PENDING;
            o->maxpb = JS_FC_MAX_PENDING / 16;
        }
        if (o->cfg.heartbeat) o->hb_deadline = now + o->cfg.heartbeat;
        if (!o->active) o->interest_poll = now + 250 * JSC_NS_MS;
    }
    if (o->dthresh > 0 && (o->pull || !o->active)) o->dtmr = now + o->dthresh;
    if (o->cfg.replay_policy != JSC_REPLAY_INSTANT) {
        sd_stream_state ss;
        jsc_stream_state(o, &ss);
        o->replay = true;
        o->replay_lseq = ss.last_seq;
    }
    if (!recovering) jsc_write_meta(o);
    js_stream_mark_dirty(st);
    if (!recovering) action_advisory(o, true);
    return o;
}

void jsc_delete(js_consumer *o, bool advisory) {
    if (o->closed) return;
    o->closed = true;
    if (advisory) action_advisory(o, false);
    if (o->set) set_remove(o->set, o);
    jsc_wq_clear(o, "409 Consumer Deleted", false);
    /* For interest retention, messages this consumer held may now be removable. */
    sd_retention_policy ret = js_stream_retention(o->st);
    uint64_t from = o->asflr;
    if (o->store) {
        o->store->ops->delete_(o->store);
        o->store->ops->free(o->store);
        o->store = NULL;
    }
    jsc_remove_meta(o);
    /* Go cleanupNoInterestMessages (interest retention only; larger ranges are left to the
     * stream's periodic interest check). */
    if (ret == SD_RETENTION_INTEREST && o->set) {
        sd_stream_state ss;
        jsc_stream_state(o, &ss);
        sd_store *store = js_stream_store(o->st);
        if (from < ss.first_seq) from = ss.first_seq;
        if (ss.last_seq >= from && ss.last_seq - from <= 100000) {
            for (uint64_t seq = from; seq <= ss.last_seq; seq++)
                if (js_consumers_all_acked(o->st, seq) && sd_store_remove_msg(store, seq) > 0)
                    js_stream_mark_dirty(o->st);
        }
    }
    js_stream_mark_dirty(o->st);
    consumer_release(o);
}

/* --- js_int.h hooks --------------------------------------------------------------------------- */

void js_consumers_on_stored(js_stream *st, uint64_t seq, const char *subj) {
    (void)seq;
    (void)subj;
    jsc_set *s = jsc_set_of(st, false);
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        js_consumer *o = s->v[i];
        jsc_deliver(o);
        if (i < s->n && s->v[i] != o) i--; /* deleted during delivery */
    }
}

/* Go consumer.purge(sseq, slseq, isWider).  The stream side reports the first sequence left
 * (for a filtered purge: the first left on the filter, 0 when none).  Without the purge
 * subject a filtered purge is handled as Go handles consumers wider than the purge: start at
 * the stream's first sequence and drop pending messages that are gone. */
static void consumer_purge(js_consumer *o, uint64_t sseq, uint64_t slseq, bool wider) {
    if (sseq == 0 && !wider) sseq = slseq + 1;
    if (o->sseq < sseq) {
        o->sseq = sseq;
        o->lss_active = false;
    }
    if (o->asflr < sseq) {
        o->asflr = sseq - 1;
        sd_store *store = js_stream_store(o->st);
        sd_store_msg sm = {0};
        size_t n;
        uint64_t *k = jsc_map_keys_sorted(&o->pending, &n);
        for (size_t i = 0; i < n; i++) {
            jsc_ent *p = jsc_map_get(&o->pending, k[i]);
            bool drop = k[i] <= o->asflr;
            if (!drop && wider) drop = sd_store_load_msg(store, k[i], &sm) != 0;
            if (!drop) continue;
            uint64_t pd = p->a;
            if (pd > o->adflr) {
                o->adflr = pd;
                if (o->adflr > o->dseq) o->dseq = o->adflr;
            }
            jsc_map_del(&o->pending, k[i]);
            jsc_map_del(&o->rdc, k[i]);
            jsc_update_acks(o, pd, k[i], NULL);
        }
        free(k);
        sd_store_msg_free(&sm);
    }
    if (o->pending.n == 0) {
        jsc_map_clear(&o->rdc);
        o->adflr = o->dseq - 1;
        o->asflr = o->sseq - 1;
    }
    size_t w = 0;
    for (size_t i = 0; i < o->rdq_len; i++)
        if (o->rdq[i] >= o->sseq) o->rdq[w++] = o->rdq[i];
    o->rdq_len = w;
    jsc_write_state(o);
}

void js_consumers_on_purged(js_stream *st, uint64_t new_first_seq) {
    jsc_set *s = jsc_set_of(st, false);
    if (!s) return;
    sd_stream_state ss;
    memset(&ss, 0, sizeof ss);
    sd_store_fast_state(js_stream_store(st), &ss);
    bool wider = new_first_seq != ss.first_seq;
    for (size_t i = 0; i < s->n; i++) {
        js_consumer *o = s->v[i];
        consumer_purge(o, wider ? ss.first_seq : new_first_seq, ss.last_seq, wider);
        jsc_deliver(o);
    }
}

void js_consumers_free(js_stream *st, bool delete_state) {
    jsc_set *s = jsc_set_of(st, false);
    if (!s) return;
    while (s->n) {
        js_consumer *o = s->v[s->n - 1];
        s->n--;
        o->set = NULL;
        o->closed = true;
        if (delete_state) jsc_wq_clear(o, "409 Consumer Deleted", false);
        else jsc_wq_clear(o, "409 Server Shutdown", true);
        if (o->store) {
            if (delete_state) o->store->ops->stream_delete(o->store);
            else o->store->ops->stop(o->store);
            o->store->ops->free(o->store);
        }
        consumer_release(o);
    }
    free(s->v);
    jsc_untrack_set(s);
    free(s);
    *js_stream_consumers_slot(st) = NULL;
    if (delete_state) jsc_forget_stream(st);
}

/* Go's stream state counts the consumers recorded in the store: direct ones are not. */
size_t js_consumers_count(js_stream *st) {
    jsc_set *s = jsc_set_of(st, false);
    size_t n = 0;
    for (size_t i = 0; s && i < s->n; i++)
        if (!s->v[i]->cfg.direct) n++;
    return n;
}

bool js_consumers_all_acked(js_stream *st, uint64_t seq) {
    jsc_set *s = jsc_set_of(st, false);
    if (!s) return true;
    char *subj = NULL;
    bool loaded = false;
    for (size_t i = 0; i < s->n; i++) {
        js_consumer *o = s->v[i];
        if (o->nfilters && !loaded) {
            loaded = true;
            sd_store_subject_for_seq(js_stream_store(st), seq, &subj);
        }
        if (jsc_need_ack(o, seq, subj)) {
            free(subj);
            return false;
        }
    }
    free(subj);
    return true;
}


/* For the stream side's update path (Go stream.update): the names of consumers whose
 * inactive_threshold / max_ack_pending exceed new stream consumer limits (> 0 values only),
 * comma separated as Go joins them, or NULL when none.  malloc'd. */
char *js_consumers_limits_violation(js_stream *st, int64_t inactive_threshold, int64_t max_ack_pending) {
    jsc_set *s = jsc_set_of(st, false);
    char *out = NULL;
    size_t len = 0;
    for (size_t i = 0; s && i < s->n; i++) {
        js_consumer *o = s->v[i];
        if ((inactive_threshold > 0 && o->cfg.inactive_threshold > inactive_threshold) ||
            (max_ack_pending > 0 && o->cfg.max_ack_pending > max_ack_pending)) {
            size_t nl = strlen(o->name);
            out = realloc(out, len + nl + 3);
            if (!out) abort();
            if (len) {
                memcpy(out + len, ", ", 2);
                len += 2;
            }
            memcpy(out + len, o->name, nl);
            len += nl;
            out[len] = 0;
        }
    }
    return out;
}
