/* Pull consumers: the waiting request queue (Go waitQueue, with priority ordering), request
 * expiry and heartbeats, priority groups (pinned client, overflow), and the MSG.NEXT request
 * itself with its 400/404/408/409/423 statuses.
 *
 * Ports Go nats-server v2.14.5 server/consumer.go: waitQueue (add, addPrioritized, pop,
 * popAndRequeue, cycle, remove), processWaiting, nextWaiting, assignNewPinId,
 * nextReqFromMsg, processNextMsgRequest, releaseAnyPendingRequests.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storaged/js/js_consumer_int.h"

/* --- waiting queue -------------------------------------------------------------------------- */

void jsc_wr_free(jsc_wr *wr) {
    free(wr->reply);
    free(wr->group);
    free(wr->pin_id);
    free(wr);
}

static void wq_add_tail(jsc_wq *wq, jsc_wr *wr) {
    wr->next = NULL;
    if (!wq->head) wq->head = wr;
    else wq->tail->next = wr;
    wq->tail = wr;
}

static void wq_insert_sorted(jsc_wq *wq, jsc_wr *wr) {
    int prio = wr->has_group ? wr->priority : INT32_MAX;
    jsc_wr *prev = NULL, *cur = wq->head;
    while (cur) {
        int cp = cur->has_group ? cur->priority : INT32_MAX;
        if (cp > prio) break;
        prev = cur;
        cur = cur->next;
    }
    if (!prev) {
        wr->next = wq->head;
        wq->head = wr;
        if (!wr->next) wq->tail = wr;
    } else {
        wr->next = prev->next;
        prev->next = wr;
        if (!wr->next) wq->tail = wr;
    }
}

static void wq_remove(jsc_wq *wq, jsc_wr *pre, jsc_wr *wr) {
    if (pre) pre->next = wr->next;
    else if (wr == wq->head) wq->head = wr->next;
    if (wr == wq->tail) wq->tail = pre;
    wq->n--;
}

static void wq_cycle(jsc_wq *wq) {
    jsc_wr *wr = wq->head;
    if (!wr) return;
    wq_remove(wq, NULL, wr);
    wq_add_tail(wq, wr);
    wq->n++;
}

/* Go pop / popAndRequeue: one delivery from the head request. */
static jsc_wr *wq_pop(js_consumer *o) {
    jsc_wq *wq = &o->waiting;
    jsc_wr *wr = wq->head;
    if (!wr) return NULL;
    wr->d++;
    wr->n--;
    if (o->cfg.priority_policy == JSC_PRIO_PRIORITIZED) {
        if (wr->n > 0 && wq->n > 1) {
            if (!wr->next) return wr;
            wq->head = wr->next;
            wr->next = NULL;
            wq_insert_sorted(wq, wr);
        } else if (wr->n <= 0) {
            wq_remove(wq, NULL, wr);
        }
        return wr;
    }
    if (wr->n > 0 && wq->n > 1) {
        wq_remove(wq, NULL, wr);
        wq_add_tail(wq, wr);
        wq->n++;
    } else if (wr->n <= 0) {
        wq_remove(wq, NULL, wr);
    }
    return wr;
}

/* Drops every waiting request; with a status ("409 Consumer Deleted", "409 Server Shutdown")
 * each requester is told (Go releaseAnyPendingRequests / signalPullConsumers). */
void jsc_wq_clear(js_consumer *o, const char *status, bool pending_hdrs) {
    jsc_wr *wr = o->waiting.head;
    while (wr) {
        jsc_wr *n = wr->next;
        if (status && pending_hdrs) {
            jsc_send_status_pending(o, wr->reply, status, wr->n, wr->b);
        } else if (status) {
            char h[128];
            snprintf(h, sizeof h, "NATS/1.0 %s\r\n\r\n", status);
            jsc_send_status(o, wr->reply, NULL, h);
        }
        jsc_wr_free(wr);
        wr = n;
    }
    o->waiting.head = o->waiting.tail = NULL;
    o->waiting.n = 0;
}

bool jsc_has_interest(js_consumer *o, const char *subj) {
    return js_host_has_interest(o->js, jsc_acc(o), subj);
}

int64_t jsc_process_waiting(js_consumer *o, bool eos, int64_t *brp) {
    int64_t fexp = 0, now = js_now(o->js);
    *brp = 0;
    jsc_wq *wq = &o->waiting;
    if (!wq->n) return 0;
    jsc_wr *pre = NULL, *wr = wq->head;
    while (wr) {
        bool expires = wr->expires && now >= wr->expires;
        jsc_wr *next = wr->next;
        if ((eos && wr->no_wait) || expires) {
            if (expires) {
                jsc_send_status_pending(o, wr->reply, "408 Request Timeout", wr->n, wr->b);
                wq_remove(wq, pre, wr);
                jsc_wr_free(wr);
                wr = next;
                continue;
            } else if (!wr->expires || wr->d > 0) {
                jsc_send_status(o, wr->reply, NULL, "NATS/1.0 404 No Messages\r\n\r\n");
                wq_remove(wq, pre, wr);
                jsc_wr_free(wr);
                wr = next;
                continue;
            }
        }
        if (!jsc_has_interest(o, wr->reply)) {
            wq_remove(wq, pre, wr);
            jsc_wr_free(wr);
            wr = next;
            continue;
        }
        *brp += wr->n;
        if (wr->hbt) {
            if (now >= wr->hbt) {
                jsc_send_heartbeat(o, wr->reply);
                wr->hbt = now + wr->hb;
            }
            if (!fexp || wr->hbt < fexp) fexp = wr->hbt;
        }
        if (wr->expires && (!fexp || wr->expires < fexp)) fexp = wr->expires;
        pre = wr;
        wr = next;
    }
    return fexp;
}

static void assign_pin(js_consumer *o, jsc_wr *wr) {
    if (!wr->has_group || !wr->group || !*wr->group) return;
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t r = (uint64_t)rand() * 6364136223846793005ULL + (uint64_t)js_now(o->js);
    for (int i = 0; i < 22; i++) {
        o->pin_id[i] = al[r % 62];
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        r ^= r >> 29;
    }
    o->pin_id[22] = 0;
    free(wr->pin_id);
    wr->pin_id = strdup(o->pin_id);
    o->pinned_ts = js_now(o->js);
    o->pin_deadline = o->pinned_ts + o->cfg.pinned_ttl;
    if (!o->pin_group[0]) snprintf(o->pin_group, sizeof o->pin_group, "%s", wr->group);
    jsc_pin_advisory(o, wr->group, NULL);
}

/* The consumer's pending count during a delivery pass: computed once from the store, then
 * decremented per first delivery as Go does with o.npc. */
uint64_t jsc_pass_pending(js_consumer *o) {
    if (o->np_pass < 0) o->np_pass = (int64_t)jsc_num_pending(o);
    return (uint64_t)o->np_pass;
}

/* Go nextWaiting: the request the next message of size sz goes to, or NULL. */
jsc_wr *jsc_next_waiting(js_consumer *o, int64_t sz) {
    jsc_wq *wq = &o->waiting;
    bool need_pin = !o->pin_id[0] && o->cfg.priority_policy == JSC_PRIO_PINNED;
    int64_t cycled = 0, now = js_now(o->js);
    while (wq->n && wq->head) {
        jsc_wr *wr = wq->head;
        if (!wr->expires || now < wr->expires) {
            bool assigned = false;
            if (need_pin) {
                if (!wr->pin_id || !*wr->pin_id) {
                    assign_pin(o, wr);
                    assigned = true;
                } else {
                    jsc_send_status_pending(o, wr->reply, "423 Nats-Wrong-Pin-Id", wr->n, wr->b);
                    wq_remove(wq, NULL, wr);
                    jsc_wr_free(wr);
                    continue;
                }
            } else if (o->pin_id[0]) {
                if (wr->pin_id && !strcmp(wr->pin_id, o->pin_id)) {
                } else if (!wr->pin_id || !*wr->pin_id) {
                    wq_cycle(wq);
                    if (++cycled >= wq->n) return NULL;
                    continue;
                } else {
                    jsc_send_status_pending(o, wr->reply, "423 Nats-Wrong-Pin-Id", wr->n, wr->b);
                    wq_remove(wq, NULL, wr);
                    jsc_wr_free(wr);
                    continue;
                }
            }
            if (o->cfg.priority_policy == JSC_PRIO_OVERFLOW && wr->has_group &&
                (wr->min_pending > 0 || wr->min_ack_pending > 0) &&
                !((wr->min_pending > 0 && (uint64_t)wr->min_pending <= jsc_pass_pending(o) + 1) ||
                  (wr->min_ack_pending > 0 && wr->min_ack_pending <= (int64_t)o->pending.n))) {
                wq_cycle(wq);
                if (++cycled >= wq->n) return NULL;
                continue;
            }
            if (wr->b > 0) {
                if (sz <= wr->b) {
                    wr->b -= sz;
                    if (wr->b == 0) wr->n = 1;
                } else {
                    jsc_send_status_pending(o, wr->reply, "409 Message Size Exceeds MaxBytes", wr->n, wr->b);
                    if (assigned) o->pin_id[0] = 0;
                    wq_remove(wq, NULL, wr);
                    jsc_wr_free(wr);
                    continue;
                }
            }
            if (jsc_has_interest(o, wr->reply)) return wq_pop(o);
        } else {
            jsc_send_status_pending(o, wr->reply, "408 Request Timeout", wr->n, wr->b);
            wq_remove(wq, NULL, wr);
            jsc_wr_free(wr);
            continue;
        }
        wq_remove(wq, NULL, wr);
        jsc_wr_free(wr);
    }
    return NULL;
}

/* --- pull requests -------------------------------------------------------------------------- */

static void send_err(js_consumer *o, const char *reply, int status, const char *desc) {
    char h[1024];
    snprintf(h, sizeof h, "NATS/1.0 %d %s\r\n\r\n", status, desc);
    jsc_send_status(o, reply, NULL, h);
}

static bool jint(json_t *j, const char *k, int64_t *out, char *err, size_t el) {
    json_t *v = json_object_get(j, k);
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v)) {
        snprintf(err, el, "json: cannot unmarshal %s into Go struct field JSApiConsumerGetNextRequest.%s of type %s",
                 json_is_string(v) ? "string" : json_is_boolean(v) ? "bool" : json_is_real(v) ? "number" : "value",
                 k, (!strcmp(k, "expires") || !strcmp(k, "idle_heartbeat")) ? "time.Duration" : "int");
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

void jsc_process_next_request(js_consumer *o, const char *reply, const uint8_t *msg, size_t len) {
    if (!reply || !*reply) return;
    if (!o->pull) {
        send_err(o, reply, 409, "Consumer is push based");
        return;
    }
    int64_t now = js_now(o->js);
    while (len && isspace(*msg)) msg++, len--;
    while (len && isspace(msg[len - 1])) len--;
    int64_t expires = 0, batch = 1, max_bytes = 0, hb = 0, hbt = 0;
    bool no_wait = false, has_group = false;
    char *group = NULL, *id = NULL;
    int64_t min_pending = 0, min_ack_pending = 0, priority = 0;
    if (len && msg[0] == '{') {
        json_error_t je;
        json_t *j = json_loadb((const char *)msg, len, 0, &je);
        char err[512] = "";
        if (!j) {
            snprintf(err, sizeof err, "%s", je.text);
        } else {
            int64_t exp = 0;
            batch = 0;
            bool ok = jint(j, "expires", &exp, err, sizeof err) && jint(j, "batch", &batch, err, sizeof err) &&
                      jint(j, "max_bytes", &max_bytes, err, sizeof err) &&
                      jint(j, "idle_heartbeat", &hb, err, sizeof err) &&
                      jint(j, "min_pending", &min_pending, err, sizeof err) &&
                      jint(j, "min_ack_pending", &min_ack_pending, err, sizeof err) &&
                      jint(j, "priority", &priority, err, sizeof err);
            json_t *nw = json_object_get(j, "no_wait");
            if (ok && nw && !json_is_null(nw)) {
                if (!json_is_boolean(nw)) {
                    snprintf(err, sizeof err, "json: cannot unmarshal value into Go struct field "
                                              "JSApiConsumerGetNextRequest.no_wait of type bool");
                    ok = false;
                } else {
                    no_wait = json_is_true(nw);
                }
            }
            json_t *g = json_object_get(j, "group"), *idv = json_object_get(j, "id");
            if (json_is_string(g)) group = strdup(json_string_value(g));
            if (json_is_string(idv)) id = strdup(json_string_value(idv));
            has_group = true;
            if (ok && hb > 0 && hb * 2 > exp) {
                snprintf(err, sizeof err, "heartbeat value too large");
                ok = false;
            }
            if (ok) {
                if (hb > 0) hbt = now + hb;
                if (exp) expires = now + exp;
                err[0] = 0;
            }
            json_decref(j);
        }
        if (err[0]) {
            char d[600];
            snprintf(d, sizeof d, "Bad Request - %s", err);
            send_err(o, reply, 400, d);
            free(group);
            free(id);
            return;
        }
    } else if (len) {
        char b[32];
        size_t l = len < sizeof b - 1 ? len : sizeof b - 1;
        memcpy(b, msg, l);
        b[l] = 0;
        char *end;
        long v = strtol(b, &end, 10);
        if (*b && !*end) batch = v;
    }
    char d[256];
    if (o->cfg.max_batch > 0 && batch > o->cfg.max_batch) {
        snprintf(d, sizeof d, "Exceeded MaxRequestBatch of %" PRId64, o->cfg.max_batch);
        goto fail409;
    }
    if (expires && o->cfg.max_expires > 0 && expires > now + o->cfg.max_expires) {
        char dur[64];
        jsc_fmt_duration(o->cfg.max_expires, dur, sizeof dur);
        snprintf(d, sizeof d, "Exceeded MaxRequestExpires of %s", dur);
        goto fail409;
    }
    if (max_bytes > 0 && o->cfg.max_bytes > 0 && max_bytes > o->cfg.max_bytes) {
        snprintf(d, sizeof d, "Exceeded MaxRequestMaxBytes of %" PRId64, o->cfg.max_bytes);
        goto fail409;
    }
    if (has_group) {
        const char *bad = NULL;
        if ((min_pending || min_ack_pending) && o->cfg.priority_policy != JSC_PRIO_OVERFLOW)
            bad = "Bad Request - Not a Overflow Priority consumer";
        else if (id && *id && o->cfg.priority_policy != JSC_PRIO_PINNED)
            bad = "Bad Request - Not a Pinned Client Priority consumer";
        else if (priority < 0 || priority > 9)
            bad = "Bad Request - Priority must be between 0 and 9";
        if (!bad && o->cfg.priority_policy != JSC_PRIO_NONE) {
            if (!group || !*group) {
                bad = "Bad Request - Priority Group missing";
            } else {
                bool found = false;
                for (size_t i = 0; i < o->cfg.npriority_groups; i++)
                    if (!strcmp(o->cfg.priority_groups[i], group)) found = true;
                if (!found) bad = "Bad Request - Invalid Priority Group";
            }
            if (!bad && o->pin_id[0]) {
                if (id && !strcmp(id, o->pin_id)) {
                    o->pin_deadline = now + o->cfg.pinned_ttl;
                } else if (id && *id) {
                    send_err(o, reply, 423, "Nats-Pin-Id mismatch");
                    free(group);
                    free(id);
                    return;
                }
            }
        }
        if (bad) {
            send_err(o, reply, 400, bad);
            free(group);
            free(id);
            return;
        }
    }
    if (o->waiting.max > 0 && o->waiting.n >= o->waiting.max) {
        int64_t brp;
        jsc_process_waiting(o, false, &brp);
    }
    if (no_wait) {
        uint64_t mp = jsc_num_pending(o) + o->rdq_len;
        if (mp == 0 && !expires) {
            o->waiting.last = now;
            send_err(o, reply, 404, "No Messages");
            free(group);
            free(id);
            return;
        }
        if (mp > 0) {
            int64_t brp;
            jsc_process_waiting(o, false, &brp);
            if (mp < (uint64_t)brp) {
                o->waiting.last = now;
                send_err(o, reply, 408, "Requests Pending");
                free(group);
                free(id);
                return;
            }
        }
    }
    jsc_wr *wr = calloc(1, sizeof *wr);
    if (!wr) abort();
    wr->reply = strdup(reply);
    wr->n = batch;
    wr->b = max_bytes;
    wr->no_wait = no_wait;
    wr->expires = expires;
    wr->hb = hb;
    wr->hbt = hbt;
    wr->received = now;
    wr->has_group = has_group;
    wr->group = group;
    wr->pin_id = id;
    wr->min_pending = min_pending;
    wr->min_ack_pending = min_ack_pending;
    wr->priority = (int)priority;
    if (o->waiting.max > 0 && o->waiting.n >= o->waiting.max) {
        if (hb == 0) send_err(o, reply, 409, "Exceeded MaxWaiting");
        jsc_wr_free(wr);
        return;
    }
    if (o->cfg.priority_policy == JSC_PRIO_PRIORITIZED) wq_insert_sorted(&o->waiting, wr);
    else wq_add_tail(&o->waiting, wr);
    o->waiting.n++;
    o->waiting.last = now;
    jsc_deliver(o);
    return;
fail409:
    send_err(o, reply, 409, d);
    free(group);
    free(id);
}
