/* INFO and the ports file; see info.h. */
#include "broker/info.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/account.h"
#include "broker/client.h"
#include "broker/monitor.h"
#include "broker/server.h"
#include "common/log.h"

static void put(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *n, const char *fmt, ...) {
    if (*n >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (m > 0) *n += (size_t)m;
    if (*n > cap) *n = cap;
}

void br_json_str(char *buf, size_t cap, size_t *n, const char *s) {
    put(buf, cap, n, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': put(buf, cap, n, "\\\""); break;
        case '\\': put(buf, cap, n, "\\\\"); break;
        case '\n': put(buf, cap, n, "\\n"); break;
        case '\r': put(buf, cap, n, "\\r"); break;
        case '\t': put(buf, cap, n, "\\t"); break;
        case '<': put(buf, cap, n, "\\u003c"); break; /* Go's encoder escapes HTML */
        case '>': put(buf, cap, n, "\\u003e"); break;
        case '&': put(buf, cap, n, "\\u0026"); break;
        default:
            if (*p < 0x20)
                put(buf, cap, n, "\\u%04x", *p);
            else
                put(buf, cap, n, "%c", *p);
        }
    }
    put(buf, cap, n, "\"");
}

size_t br_server_info_line(br_server *s, br_client *c, bool connect_info, char *buf, size_t cap) {
    const br_options *o = s->opts;
    size_t n = 0;
    put(buf, cap, &n, "INFO {\"server_id\":\"%s\",\"server_name\":", s->server_id);
    br_json_str(buf, cap, &n, s->server_name);
    put(buf, cap, &n, ",\"version\":\"%s\",\"proto\":1,\"go\":\"nats-server-c/%s\",\"host\":",
        BR_GO_VERSION, NX_VERSION);
    /* client_advertise replaces host and port (Go setInfoHostPort). */
    char adv_host[256];
    int port = s->listen_port;
    const char *host = o->host && o->host[0] ? o->host : "0.0.0.0";
    if (o->client_advertise && o->client_advertise[0]) {
        snprintf(adv_host, sizeof adv_host, "%s", o->client_advertise);
        char *colon = strrchr(adv_host, ':');
        if (colon && !strchr(colon, ']')) {
            *colon = '\0';
            port = (int)strtol(colon + 1, NULL, 10);
        }
        host = adv_host;
    }
    br_json_str(buf, cap, &n, host);
    put(buf, cap, &n, ",\"port\":%d,\"headers\":%s", port,
        o->no_header_support ? "false" : "true");
    if (br_auth_info_auth_required(s->auth)) put(buf, cap, &n, ",\"auth_required\":true");
    if (o->tls) { /* Go: tls_required unless allow_non_tls, which advertises tls_available */
        const br_tls_config *t = &o->tls_cfg;
        if (!t->allow_non_tls) put(buf, cap, &n, ",\"tls_required\":true");
        if (t->verify || t->verify_and_map) put(buf, cap, &n, ",\"tls_verify\":true");
        if (t->allow_non_tls) put(buf, cap, &n, ",\"tls_available\":true");
    }
    /* Go generateClientInfoJSON: the client's own limit (account max_payload, when lower). */
    int32_t mpay = o->max_payload;
    if (c && c->acc && c->acc->max_payload >= 0 && c->acc->max_payload < mpay)
        mpay = c->acc->max_payload;
    put(buf, cap, &n, ",\"max_payload\":%d", mpay);
    if (o->jetstream) put(buf, cap, &n, ",\"jetstream\":true"); /* served by storaged */
    if (c) {
        put(buf, cap, &n, ",\"client_id\":%" PRIu64, c->cid);
        if (c->host[0]) put(buf, cap, &n, ",\"client_ip\":\"%s\"", c->host);
        if (c->nonce[0]) put(buf, cap, &n, ",\"nonce\":\"%s\"", c->nonce);
    }
    if (o->jetstream && o->js_domain && o->js_domain[0]) {
        put(buf, cap, &n, ",\"domain\":");
        br_json_str(buf, cap, &n, o->js_domain);
    }
    if (s->state == BR_LAME_DUCK) put(buf, cap, &n, ",\"ldm\":true");
    if (connect_info) { /* Go: the client's account, and whether it is the system account */
        put(buf, cap, &n, ",\"connect_info\":true,\"remote_account\":");
        br_json_str(buf, cap, &n, c && c->acc ? c->acc->name : "$G");
        if (c && c->acc && c->acc->is_system) put(buf, cap, &n, ",\"acc_is_sys\":true");
    }
    put(buf, cap, &n, ",\"xkey\":\"%s\"} \r\n", s->xkey);
    return n < cap ? n : cap;
}

/* Go lists every interface address when bound to 0.0.0.0 (getURLsAsString). */
static void add_urls(const char *host, const char *scheme, int port, char *buf, size_t cap,
                     size_t *n) {
    bool first = true;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
        struct ifaddrs *ifs = NULL;
        if (getifaddrs(&ifs) == 0) {
            for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
                char ip[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof ip);
                put(buf, cap, n, "%s\"%s://%s:%d\"", first ? "" : ",", scheme, ip, port);
                first = false;
            }
            freeifaddrs(ifs);
        }
        if (!first) return;
        host = "127.0.0.1";
    }
    bool v6 = strchr(host, ':') != NULL;
    put(buf, cap, n, "\"%s://%s%s%s:%d\"", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

char *br_write_ports_file(const br_options *o, int port) {
    const char *dir = o->ports_file_dir;
    if (!dir || !dir[0]) return NULL;
    char path[4096], tmp[4200], json[4096];
    snprintf(path, sizeof path, "%s/nats-server_%d.ports", dir, (int)getpid());
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    size_t n = 0;
    put(json, sizeof json, &n, "{\"nats\":[");
    /* Go PortsInfo: "tls" when clients must use TLS. */
    const char *scheme = o->tls && !o->tls_cfg.allow_non_tls ? "tls" : "nats";
    add_urls(o->host && o->host[0] ? o->host : "0.0.0.0", scheme, port, json, sizeof json, &n);
    put(json, sizeof json, &n, "]");
    if (br_monitor_port()) { /* Go Ports.Monitoring: the HTTP(S) listener's URLs */
        const char *mh = o->http_host && o->http_host[0] ? o->http_host
                         : o->host && o->host[0]          ? o->host
                                                          : "0.0.0.0";
        put(json, sizeof json, &n, ",\"monitoring\":[");
        add_urls(mh, br_monitor_scheme(), br_monitor_port(), json, sizeof json, &n);
        put(json, sizeof json, &n, "]");
    }
    put(json, sizeof json, &n, "}");
    /* Written to a temporary name and renamed, so a watcher never reads half a file. */
    FILE *f = fopen(tmp, "w");
    if (!f || fwrite(json, 1, n, f) != n || fclose(f) != 0) {
        nx_error("Error writing ports file (%s): %s", path, strerror(errno));
        return NULL;
    }
    if (rename(tmp, path) != 0) {
        nx_error("Error writing ports file (%s): %s", path, strerror(errno));
        unlink(tmp);
        return NULL;
    }
    return strdup(path);
}
