/* httpserver.c - /healthz, /readyz, /metrics on libwebsockets. See httpserver.h.
 *
 * The lws context runs on one thread that only calls lws_service(); stopping
 * sets a flag and wakes it with lws_cancel_service(). Each request builds its
 * whole response body up front (checks, or the metrics text) and writes it in
 * chunks as the socket becomes writable.
 *
 * Sections: types, address parsing, checks, lws callback, API. */
#include "httpserver.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- types ---- */

typedef struct check {
  char *name;
  int readyz;
  kube_http_check fn;
  void *ud;
  struct check *next;
} check;

struct kube_http {
  struct lws_context *ctx;
  struct lws_vhost *vh;
  pthread_t thread;
  int thread_started;
  atomic_int stop;
  int port;
  kube_metrics *metrics;
  pthread_mutex_t mu; /* checks */
  check *checks;
  atomic_ulong requests;
  struct lws_protocols protocols[2];
};

typedef struct session {
  char *body;
  size_t len, off;
} session;

#define CHUNK 4096

/* ---- address parsing ---- */

mbcas_rc kube_http_parse_addr(const char *addr, char *host, size_t host_len, int *port) {
  if (!addr || !host || host_len == 0 || !port) return MBCAS_EINVAL;
  host[0] = '\0';
  const char *colon = strrchr(addr, ':');
  const char *ps = addr;
  if (colon) {
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
      h++;
      hl -= 2;
    } else if (memchr(addr, ':', hl)) {
      return MBCAS_EINVAL; /* bare IPv6 needs brackets */
    }
    if (hl >= host_len) return MBCAS_EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    ps = colon + 1;
  }
  if (!*ps) return MBCAS_EINVAL;
  long p = 0;
  for (const char *c = ps; *c; c++) {
    if (*c < '0' || *c > '9') return MBCAS_EINVAL;
    p = p * 10 + (*c - '0');
    if (p > 65535) return MBCAS_EINVAL;
  }
  *port = (int)p;
  return MBCAS_OK;
}

/* ---- checks ---- */

static mbcas_rc add_check(kube_http *s, const char *name, kube_http_check fn, void *ud,
                          int readyz) {
  if (!s || !name || !*name || !fn) return MBCAS_EINVAL;
  check *c = calloc(1, sizeof(*c));
  if (!c) return MBCAS_ENOMEM;
  c->name = strdup(name);
  if (!c->name) {
    free(c);
    return MBCAS_ENOMEM;
  }
  c->readyz = readyz;
  c->fn = fn;
  c->ud = ud;
  pthread_mutex_lock(&s->mu);
  check **pp = &s->checks;
  while (*pp) pp = &(*pp)->next;
  *pp = c;
  pthread_mutex_unlock(&s->mu);
  return MBCAS_OK;
}

mbcas_rc kube_http_add_healthz(kube_http *s, const char *name, kube_http_check fn, void *ud) {
  return add_check(s, name, fn, ud, 0);
}

mbcas_rc kube_http_add_readyz(kube_http *s, const char *name, kube_http_check fn, void *ud) {
  return add_check(s, name, fn, ud, 1);
}

void kube_http_remove_check(kube_http *s, const char *name) {
  if (!s || !name) return;
  pthread_mutex_lock(&s->mu);
  for (check **pp = &s->checks; *pp;) {
    if (strcmp((*pp)->name, name) == 0) {
      check *c = *pp;
      *pp = c->next;
      free(c->name);
      free(c);
    } else {
      pp = &(*pp)->next;
    }
  }
  pthread_mutex_unlock(&s->mu);
}

static int append(char **b, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char **b, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*b ? *b + *len : NULL, *b ? *cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if (*b && *len + (size_t)n < *cap) {
      *len += (size_t)n;
      return 0;
    }
    size_t nc = *cap ? *cap : 256;
    while (nc <= *len + (size_t)n) nc *= 2;
    char *nb = realloc(*b, nc);
    if (!nb) return -1;
    *b = nb;
    *cap = nc;
  }
}

/* Checks run under the lock, so a check cannot be removed (and its ud freed)
 * while it runs. */
mbcas_rc kube_http_run_checks(kube_http *s, int readyz, int verbose, int *status,
                              char **body) {
  *body = NULL;
  *status = 500;
  if (!s) return MBCAS_EINVAL;
  char *b = NULL;
  size_t len = 0, cap = 0;
  int failed = 0, oom = 0;
  pthread_mutex_lock(&s->mu);
  for (check *c = s->checks; c; c = c->next) {
    if (c->readyz != readyz) continue;
    char why[256] = "";
    mbcas_rc rc = c->fn(c->ud, why, sizeof(why));
    if (rc == MBCAS_OK) {
      oom |= append(&b, &len, &cap, "[+]%s ok\n", c->name);
    } else {
      failed = 1;
      oom |= append(&b, &len, &cap, "[-]%s failed: %s\n", c->name,
                    why[0] ? why : mbcas_strerror(rc));
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (!oom && failed)
    oom |= append(&b, &len, &cap, "%s check failed\n", readyz ? "readyz" : "healthz");
  else if (!oom && verbose)
    oom |= append(&b, &len, &cap, "%s check passed\n", readyz ? "readyz" : "healthz");
  if (oom) {
    free(b);
    return MBCAS_ENOMEM;
  }
  if (!failed && !verbose) {
    free(b);
    b = strdup("ok");
    if (!b) return MBCAS_ENOMEM;
  }
  *status = failed ? 500 : 200;
  *body = b;
  return MBCAS_OK;
}

/* ---- lws callback ---- */

static int has_arg(struct lws *wsi, const char *name) {
  char frag[128];
  size_t nl = strlen(name);
  for (int i = 0; i < 16; i++) {
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    if (strncmp(frag, name, nl) == 0 && (frag[nl] == '\0' || frag[nl] == '=')) return 1;
  }
  return 0;
}

/* Build the response for path into ss; return the HTTP status. */
static int route(kube_http *s, struct lws *wsi, const char *path, session *ss,
                 const char **ctype) {
  *ctype = "text/plain; charset=utf-8";
  int status = 500;
  if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
             strcmp(path, "/readyz") == 0) {
    int readyz = strcmp(path, "/readyz") == 0;
    if (kube_http_run_checks(s, readyz, has_arg(wsi, "verbose"), &status, &ss->body) !=
        MBCAS_OK)
      status = 500;
  } else if (strcmp(path, "/metrics") == 0 && s->metrics) {
    if (kube_metrics_render(s->metrics, &ss->body, NULL) == MBCAS_OK) {
      status = 200;
      *ctype = "text/plain; version=0.0.4; charset=utf-8";
    }
  } else {
    ss->body = strdup("404 page not found\n");
    status = 404;
  }
  if (!ss->body) {
    ss->body = strdup("internal error\n");
    status = 500;
  }
  ss->len = ss->body ? strlen(ss->body) : 0;
  ss->off = 0;
  return status;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  session *ss = user;
  kube_http *s = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_HTTP: {
    char path[256];
    size_t n = len < sizeof(path) - 1 ? len : sizeof(path) - 1;
    memcpy(path, in ? in : "", in ? n : 0);
    path[in ? n : 0] = '\0';
    atomic_fetch_add(&s->requests, 1);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
      /* Only GET is served. Answer at once and close: no request body is read. */
      lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return -1;
    }
    free(ss->body);
    ss->body = NULL;
    const char *ctype;
    int status = route(s, wsi, path, ss, &ctype);
    if (!ss->body) return -1;
    unsigned char hdr[LWS_PRE + 512], *start = &hdr[LWS_PRE], *p = start,
                                      *end = &hdr[sizeof(hdr) - 1];
    if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, ss->len, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
      return 1;
    lws_callback_on_writable(wsi);
    return 0;
  }
  case LWS_CALLBACK_HTTP_WRITEABLE: {
    if (!ss->body) break;
    unsigned char out[LWS_PRE + CHUNK];
    size_t n = ss->len - ss->off;
    if (n > CHUNK) n = CHUNK;
    int final = ss->off + n == ss->len;
    memcpy(out + LWS_PRE, ss->body + ss->off, n);
    if (lws_write(wsi, out + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        (int)n)
      return 1;
    ss->off += n;
    if (!final) {
      lws_callback_on_writable(wsi);
      return 0;
    }
    free(ss->body);
    ss->body = NULL;
    if (lws_http_transaction_completed(wsi)) return -1;
    return 0;
  }
  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    if (ss) {
      free(ss->body);
      ss->body = NULL;
    }
    break;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- API ---- */

static void lws_to_log(int level, const char *line) {
  char q[512];
  size_t n = strlen(line);
  char tmp[480];
  if (n >= sizeof(tmp)) n = sizeof(tmp) - 1;
  memcpy(tmp, line, n);
  while (n && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r')) n--;
  tmp[n] = '\0';
  mbcas_log(level == LLL_ERR ? MBCAS_LOG_ERROR : MBCAS_LOG_WARN, "libwebsockets", "line=%s",
            mbcas_log_quote(tmp, q, sizeof(q)));
}

static void *serve(void *arg) {
  kube_http *s = arg;
  while (!atomic_load(&s->stop)) {
    if (lws_service(s->ctx, 0) < 0) break;
  }
  return NULL;
}

void kube_http_stop(kube_http *s) {
  if (!s) return;
  if (s->thread_started) {
    atomic_store(&s->stop, 1);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
  }
  if (s->ctx) lws_context_destroy(s->ctx);
  for (check *c = s->checks, *n; c; c = n) {
    n = c->next;
    free(c->name);
    free(c);
  }
  pthread_mutex_destroy(&s->mu);
  free(s);
}

mbcas_rc kube_http_start(kube_http **out, const char *addr, kube_metrics *metrics,
                         mbcas_err *err) {
  *out = NULL;
  char host[128];
  int port;
  if (kube_http_parse_addr(addr, host, sizeof(host), &port) != MBCAS_OK)
    return mbcas_err_set(err, MBCAS_EINVAL, "bind-address", "malformed address %s",
                         addr ? addr : "(null)");
  kube_http *s = calloc(1, sizeof(*s));
  if (!s) return MBCAS_ENOMEM;
  pthread_mutex_init(&s->mu, NULL);
  s->metrics = metrics;
  s->protocols[0].name = "http";
  s->protocols[0].callback = callback;
  s->protocols[0].per_session_data_size = sizeof(session);
  lws_set_log_level(LLL_ERR, lws_to_log);

  struct lws_context_creation_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  ci.user = s;
  ci.port = CONTEXT_PORT_NO_LISTEN;
  s->ctx = lws_create_context(&ci);
  if (!s->ctx) {
    kube_http_stop(s);
    return mbcas_err_set(err, MBCAS_ERR, "", "cannot create the libwebsockets context");
  }
  struct lws_context_creation_info vi;
  memset(&vi, 0, sizeof(vi));
  vi.vhost_name = "mbcas";
  vi.port = port;
  vi.iface = host[0] ? host : NULL;
  vi.protocols = s->protocols;
  vi.keepalive_timeout = 30;
  vi.timeout_secs = 30;
  if (host[0] && strchr(host, '.')) vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  s->vh = lws_create_vhost(s->ctx, &vi);
  if (!s->vh) {
    kube_http_stop(s);
    return mbcas_err_set(err, MBCAS_EIO, "bind-address", "cannot listen on %s", addr);
  }
  s->port = lws_get_vhost_listen_port(s->vh);
  if (pthread_create(&s->thread, NULL, serve, s) != 0) {
    kube_http_stop(s);
    return mbcas_err_set(err, MBCAS_ERR, "", "cannot start the HTTP thread");
  }
  s->thread_started = 1;
  LOG_INFO("http server listening", "addr=%s port=%d", addr, s->port);
  *out = s;
  return MBCAS_OK;
}

int kube_http_port(kube_http *s) { return s ? s->port : -1; }

unsigned long kube_http_requests(kube_http *s) { return s ? atomic_load(&s->requests) : 0; }
