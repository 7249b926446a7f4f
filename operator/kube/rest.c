/* rest.c - REST client over libcurl. See rest.h. */
#include "rest.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backoff.h"
#include "log.h"
#include "ratelimit.h"

#define REST_BODY_MAX ((size_t)512 * 1024 * 1024) /* hard maximum of one response */
#define STREAM_BUF_MAX ((size_t)64 * 1024 * 1024) /* unread watch bytes held */
#define POOL_MAX 64

struct kube_client {
  kube_config *cfg;
  kube_client_opts o;
  char *ua;
  char *base;         /* URL prefix: scheme://host:port (host = tls-server-name if set) */
  char *connect_to;   /* "tlsname:port:realhost:port" or NULL */
  kube_ratelimit rl;
  pthread_mutex_t mu; /* pool and backoff rng */
  CURL *pool[POOL_MAX];
  int npool;
  kube_backoff rng_src;
  kube_transport_fn transport;
  void *transport_ud;
  kube_write_guard_fn guard;
  void *guard_ud;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---------- client ---------- */

/* Split "https://host:port" into parts for tls-server-name handling. */
static int split_server(const char *server, char *scheme, size_t sl, char *host, size_t hl,
                        int *port) {
  const char *p = strstr(server, "://");
  if (!p) return -1;
  size_t n = (size_t)(p - server);
  if (n + 1 > sl) return -1;
  memcpy(scheme, server, n);
  scheme[n] = '\0';
  p += 3;
  const char *end = p + strcspn(p, "/");
  const char *colon = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', (size_t)(end - p));
    if (!rb) return -1;
    colon = (rb + 1 < end && rb[1] == ':') ? rb + 1 : NULL;
  } else {
    colon = memchr(p, ':', (size_t)(end - p));
  }
  const char *hend = colon ? colon : end;
  if ((size_t)(hend - p) + 1 > hl) return -1;
  memcpy(host, p, (size_t)(hend - p));
  host[hend - p] = '\0';
  *port = colon ? atoi(colon + 1) : (!strcmp(scheme, "https") ? 443 : 80);
  return 0;
}

mbcas_rc kube_client_new(kube_client **out, kube_config *cfg, const kube_client_opts *opts,
                         mbcas_err *err) {
  *out = NULL;
  if (!cfg || !cfg->server) return mbcas_err_set(err, MBCAS_EINVAL, "server", "no server");
  pthread_once(&curl_once, curl_init_once);
  kube_client *c = calloc(1, sizeof *c);
  if (!c) return MBCAS_ENOMEM;
  if (opts) c->o = *opts;
  if (c->o.qps == 0) c->o.qps = 20;
  if (c->o.burst <= 0) c->o.burst = 30;
  if (c->o.timeout_ms <= 0) c->o.timeout_ms = 30000;
  if (c->o.connect_timeout_ms <= 0) c->o.connect_timeout_ms = 10000;
  if (c->o.max_retries == 0) c->o.max_retries = 5;
  if (c->o.pool_size <= 0) c->o.pool_size = 4;
  if (c->o.pool_size > POOL_MAX) c->o.pool_size = POOL_MAX;
  if (c->o.retry_initial_s <= 0) c->o.retry_initial_s = 0.5;
  if (c->o.retry_max_s <= 0) c->o.retry_max_s = 30;
  c->cfg = cfg;
  c->ua = strdup(c->o.user_agent ? c->o.user_agent : "mbcas-operator/0.1.0");
  c->o.user_agent = NULL;
  if (cfg->tls_server_name && *cfg->tls_server_name) {
    char scheme[16], host[256];
    int port = 0;
    if (split_server(cfg->server, scheme, sizeof scheme, host, sizeof host, &port) != 0) {
      free(c->ua);
      free(c);
      return mbcas_err_set(err, MBCAS_EINVAL, "server", "cannot parse server URL");
    }
    size_t n = strlen(cfg->tls_server_name) + 32;
    c->base = malloc(n);
    if (c->base) snprintf(c->base, n, "%s://%s:%d", scheme, cfg->tls_server_name, port);
    n = strlen(cfg->tls_server_name) + strlen(host) + 40;
    c->connect_to = malloc(n);
    if (c->connect_to) snprintf(c->connect_to, n, "%s:%d:%s:%d", cfg->tls_server_name, port, host, port);
  } else {
    c->base = strdup(cfg->server);
  }
  if (!c->ua || !c->base || (cfg->tls_server_name && *cfg->tls_server_name && !c->connect_to)) {
    free(c->ua);
    free(c->base);
    free(c->connect_to);
    free(c);
    return MBCAS_ENOMEM;
  }
  kube_ratelimit_init(&c->rl, c->o.qps, c->o.burst);
  pthread_mutex_init(&c->mu, NULL);
  kube_backoff_init(&c->rng_src, c->o.retry_initial_s, c->o.retry_max_s, 2.0, 0.5, 0);
  *out = c;
  return MBCAS_OK;
}

void kube_client_free(kube_client *c) {
  if (!c) return;
  for (int i = 0; i < c->npool; i++) curl_easy_cleanup(c->pool[i]);
  kube_ratelimit_destroy(&c->rl);
  pthread_mutex_destroy(&c->mu);
  free(c->ua);
  free(c->base);
  free(c->connect_to);
  free(c);
}

void kube_client_set_hook(kube_client *c, kube_request_hook hook, void *ud) {
  c->o.hook = hook;
  c->o.hook_ud = ud;
}

void kube_client_set_transport(kube_client *c, kube_transport_fn fn, void *ud) {
  c->transport = fn;
  c->transport_ud = ud;
}

void kube_client_set_write_guard(kube_client *c, kube_write_guard_fn fn, void *ud) {
  c->guard = fn;
  c->guard_ud = ud;
}

kube_config *kube_client_config(kube_client *c) { return c->cfg; }

static CURL *pool_get(kube_client *c) {
  CURL *h = NULL;
  pthread_mutex_lock(&c->mu);
  if (c->npool > 0) h = c->pool[--c->npool];
  pthread_mutex_unlock(&c->mu);
  if (h)
    curl_easy_reset(h);
  else
    h = curl_easy_init();
  return h;
}

static void pool_put(kube_client *c, CURL *h) {
  if (!h) return;
  pthread_mutex_lock(&c->mu);
  if (c->npool < c->o.pool_size) {
    c->pool[c->npool++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&c->mu);
  if (h) curl_easy_cleanup(h);
}

/* ---------- paths ---------- */

typedef struct sbuf {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 128;
    while (nc < b->len + n + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_esc(sbuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      sb_add(b, (const char *)&ch, 1);
    } else {
      char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
      sb_add(b, e, 3);
    }
  }
}

static int valid_seg(const char *s) { return s && *s && !strchr(s, '/'); }

char *kube_ref_path(const kube_ref *ref, const kube_list_opts *opts) {
  if (!ref || !valid_seg(ref->version) || !valid_seg(ref->resource)) return NULL;
  if (ref->subresource && *ref->subresource && !(ref->name && *ref->name)) return NULL;
  sbuf b = {0};
  if (ref->group && *ref->group) {
    sb_str(&b, "/apis/");
    sb_esc(&b, ref->group);
    sb_str(&b, "/");
  } else {
    sb_str(&b, "/api/");
  }
  sb_esc(&b, ref->version);
  if (ref->ns && *ref->ns) {
    sb_str(&b, "/namespaces/");
    sb_esc(&b, ref->ns);
  }
  sb_str(&b, "/");
  sb_esc(&b, ref->resource);
  if (ref->name && *ref->name) {
    sb_str(&b, "/");
    sb_esc(&b, ref->name);
    if (ref->subresource && *ref->subresource) {
      sb_str(&b, "/");
      sb_esc(&b, ref->subresource);
    }
  }
  if (opts) {
    char sep = '?';
#define QP(k, v)                                                                       \
  do {                                                                                 \
    sb_add(&b, &sep, 1);                                                               \
    sep = '&';                                                                         \
    sb_str(&b, k "=");                                                                 \
    sb_esc(&b, v);                                                                     \
  } while (0)
    char num[32];
    if (opts->watch) QP("watch", "1");
    if (opts->label_selector && *opts->label_selector) QP("labelSelector", opts->label_selector);
    if (opts->field_selector && *opts->field_selector) QP("fieldSelector", opts->field_selector);
    if (opts->limit > 0) {
      snprintf(num, sizeof num, "%ld", opts->limit);
      QP("limit", num);
    }
    if (opts->continue_token && *opts->continue_token) QP("continue", opts->continue_token);
    if (opts->resource_version && *opts->resource_version) QP("resourceVersion", opts->resource_version);
    if (opts->resource_version_match && *opts->resource_version_match)
      QP("resourceVersionMatch", opts->resource_version_match);
    if (opts->timeout_seconds > 0) {
      snprintf(num, sizeof num, "%d", opts->timeout_seconds);
      QP("timeoutSeconds", num);
    }
    if (opts->allow_bookmarks) QP("allowWatchBookmarks", "true");
#undef QP
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

static char *with_write_opts(const char *path, const kube_write_opts *wo) {
  sbuf b = {0};
  sb_str(&b, path);
  if (wo) {
    char sep = strchr(path, '?') ? '&' : '?';
    if (wo->field_manager && *wo->field_manager) {
      sb_add(&b, &sep, 1);
      sep = '&';
      sb_str(&b, "fieldManager=");
      sb_esc(&b, wo->field_manager);
    }
    if (wo->force) {
      sb_add(&b, &sep, 1);
      sep = '&';
      sb_str(&b, "force=true");
    }
    if (wo->dry_run) {
      sb_add(&b, &sep, 1);
      sb_str(&b, "dryRun=All");
    }
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* ---------- status ---------- */

mbcas_rc kube_rc_from_http(long code) {
  if (code >= 200 && code < 300) return MBCAS_OK;
  switch (code) {
  case 400:
  case 422:
    return MBCAS_EINVAL;
  case 401:
    return MBCAS_EUNAUTHORIZED;
  case 403:
    return MBCAS_EFORBIDDEN;
  case 404:
    return MBCAS_ENOTFOUND;
  case 409:
    return MBCAS_ECONFLICT;
  case 410:
    return MBCAS_EGONE;
  case 429:
    return MBCAS_ETOOMANY;
  case 415:
  case 405:
    return MBCAS_EUNSUPPORTED;
  case 504:
    return MBCAS_ETIMEOUT;
  default:
    return code >= 500 ? MBCAS_EUNAVAILABLE : (code == 0 ? MBCAS_EUNAVAILABLE : MBCAS_ERR);
  }
}

static void cpy(char *dst, size_t cap, const char *src) {
  if (!src) return;
  snprintf(dst, cap, "%s", src);
}

void kube_status_decode(kube_status *st, long http_code, const char *body, size_t len) {
  if (!st) return;
  int ra = st->retry_after_seconds;
  memset(st, 0, sizeof *st);
  st->retry_after_seconds = ra;
  st->code = (int)http_code;
  if (!body || !len) return;
  cJSON *j = cJSON_ParseWithLength(body, len);
  const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "kind"));
  if (j && kind && !strcmp(kind, "Status")) {
    cpy(st->reason, sizeof st->reason, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "reason")));
    cpy(st->message, sizeof st->message, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message")));
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (cJSON_IsNumber(code) && code->valueint > 0 && http_code == 0) st->code = code->valueint;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "details");
    cpy(st->details_name, sizeof st->details_name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "name")));
    cpy(st->details_kind, sizeof st->details_kind, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "kind")));
    cpy(st->details_group, sizeof st->details_group, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "group")));
    const cJSON *ras = cJSON_GetObjectItemCaseSensitive(d, "retryAfterSeconds");
    if (cJSON_IsNumber(ras) && ras->valueint > 0) st->retry_after_seconds = ras->valueint;
  } else {
    size_t n = len < sizeof st->message - 1 ? len : sizeof st->message - 1;
    memcpy(st->message, body, n);
    st->message[n] = '\0';
  }
  cJSON_Delete(j);
}

/* ---------- one attempt over libcurl ---------- */

typedef struct rbuf {
  char *p;
  size_t len, cap, max;
  int overflow;
} rbuf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  rbuf *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > b->max) {
    b->overflow = 1;
    return 0;
  }
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + n + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) return 0;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, ptr, n);
  b->len += n;
  b->p[b->len] = '\0';
  return n;
}

typedef struct hinfo {
  int retry_after;
  int headers_done;
  long code;
} hinfo;

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  hinfo *h = ud;
  size_t n = size * nmemb;
  if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
    const char *sp = memchr(ptr, ' ', n);
    h->code = sp ? strtol(sp + 1, NULL, 10) : 0;
    h->retry_after = -1;
    h->headers_done = 0;
  } else if (n >= 12 && !strncasecmp(ptr, "Retry-After:", 12)) {
    char tmp[32];
    size_t m = n - 12 < sizeof tmp - 1 ? n - 12 : sizeof tmp - 1;
    memcpy(tmp, ptr + 12, m);
    tmp[m] = '\0';
    char *end = NULL;
    long v = strtol(tmp, &end, 10);
    if (end != tmp && v >= 0) h->retry_after = (int)(v > 3600 ? 3600 : v);
  } else if ((n == 2 && ptr[0] == '\r') || (n == 1 && ptr[0] == '\n')) {
    if (h->code >= 200) h->headers_done = 1;
  }
  return n;
}

/* Common options for every handle. */
static struct curl_slist *setup_easy(kube_client *c, CURL *h, const char *path,
                                     const kube_credentials *cred, const char *content_type,
                                     char *errbuf) {
  kube_config *cfg = c->cfg;
  size_t n = strlen(c->base) + strlen(path) + 1;
  char *url = malloc(n);
  if (!url) return NULL;
  snprintf(url, n, "%s%s", c->base, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  free(url); /* libcurl copies strings */
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->ua);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, cfg->insecure_skip_tls_verify ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, cfg->insecure_skip_tls_verify ? 0L : 2L);
  if (cfg->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
  if (cfg->ca_data) {
    struct curl_blob blob = {cfg->ca_data, cfg->ca_data_len, CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (c->connect_to) {
    struct curl_slist *ct = curl_slist_append(NULL, c->connect_to);
    /* CONNECT_TO keeps the pointer: we store it on the handle's private slot. */
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, ct);
    curl_easy_setopt(h, CURLOPT_PRIVATE, ct);
  }
  if (cfg->proxy_url) curl_easy_setopt(h, CURLOPT_PROXY, cfg->proxy_url);
  if (cred->client_cert_pem) {
    struct curl_blob cb = {cred->client_cert_pem, cred->client_cert_pem_len, CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (cfg->client_cert_file) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->client_cert_file);
  }
  if (cred->client_key_pem) {
    struct curl_blob kb = {cred->client_key_pem, cred->client_key_pem_len, CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (cfg->client_key_file) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->client_key_file);
  }
  if (cfg->username && cfg->password && !cred->token) {
    curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username);
    curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password);
  }
  struct curl_slist *hd = curl_slist_append(NULL, "Accept: application/json");
  if (!hd) return NULL;
  hd = curl_slist_append(hd, "Expect:");
  if (cred->token) {
    size_t tn = strlen(cred->token) + 32;
    char *ah = malloc(tn);
    if (ah) {
      snprintf(ah, tn, "Authorization: Bearer %s", cred->token);
      struct curl_slist *n2 = curl_slist_append(hd, ah);
      memset(ah, 0, tn);
      free(ah);
      if (n2) hd = n2;
    }
  }
  if (content_type) {
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    struct curl_slist *n2 = curl_slist_append(hd, ct);
    if (n2) hd = n2;
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  return hd;
}

static void free_connect_to(CURL *h) {
  struct curl_slist *ct = NULL;
  curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&ct);
  if (ct) {
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, NULL);
    curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
    curl_slist_free_all(ct);
  }
}

static mbcas_rc curl_rc(CURLcode cc) {
  switch (cc) {
  case CURLE_OK:
    return MBCAS_OK;
  case CURLE_OPERATION_TIMEDOUT:
    return MBCAS_ETIMEOUT;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ENGINE_INITFAILED:
    return MBCAS_ETLS;
  case CURLE_OUT_OF_MEMORY:
    return MBCAS_ENOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return MBCAS_EINVAL;
  default:
    return MBCAS_EUNAVAILABLE;
  }
}

static mbcas_rc curl_attempt(kube_client *c, const kube_http_req *rq, const kube_credentials *cred,
                             kube_http_resp *resp, char *errbuf) {
  CURL *h = pool_get(c);
  if (!h) return MBCAS_ENOMEM;
  errbuf[0] = '\0';
  struct curl_slist *hd = setup_easy(c, h, rq->path, cred, rq->content_type, errbuf);
  if (!hd) {
    free_connect_to(h);
    curl_easy_cleanup(h);
    return MBCAS_ENOMEM;
  }
  rbuf b = {.max = REST_BODY_MAX};
  hinfo hi = {.retry_after = -1};
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &hi);
  if (!strcmp(rq->method, "GET")) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->body) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (!strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT") ||
               !strcmp(rq->method, "PATCH")) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
  }
  CURLcode cc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(hd);
  free_connect_to(h);
  mbcas_rc rc = MBCAS_OK;
  if (cc != CURLE_OK) {
    rc = b.overflow ? MBCAS_EINVAL : curl_rc(cc);
    free(b.p);
    /* a handle that failed below HTTP may hold a broken connection */
    curl_easy_cleanup(h);
    return rc;
  }
  pool_put(c, h);
  resp->code = code;
  resp->body = b.p;
  resp->len = b.len;
  resp->retry_after = hi.retry_after;
  return MBCAS_OK;
}

/* ---------- the request loop ---------- */

static const char *verb_of(const char *method, const char *path) {
  if (!strcmp(method, "GET")) {
    /* a collection GET is a LIST; names have an odd number of segments after
     * the version: /api/v1/pods (list) vs /api/v1/namespaces/x/pods/y (get) */
    const char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    int segs = 0;
    for (size_t i = 0; i < plen; i++)
      if (path[i] == '/') segs++;
    int core = !strncmp(path, "/api/", 5);
    int after = segs - (core ? 2 : 3); /* segments after /api/v1 or /apis/g/v */
    int nsd = strstr(path, "/namespaces/") != NULL && after >= 3;
    if (nsd) after -= 2;
    return after == 1 ? "LIST" : "GET";
  }
  return method;
}

static int is_write(const char *method) {
  return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH") ||
         !strcmp(method, "DELETE");
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Percent-decode s in place. */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    int hi, lo;
    if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
      *w++ = (char)(hi * 16 + lo);
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* The kube_ref a raw path names, the API server's way (RequestInfoFactory):
 * /api/V/... or /apis/G/V/..., then namespaces/NS unless what follows NS is a
 * namespace subresource (status, finalize), then resource, name, subresource.
 * Fields point into buf; they stay NULL for parts the path lacks (e.g. /version). */
static void ref_from_path(const char *path, kube_ref *ref, char *buf, size_t cap) {
  memset(ref, 0, sizeof *ref);
  size_t n = strcspn(path, "?");
  if (n >= cap) n = cap - 1;
  memcpy(buf, path, n);
  buf[n] = '\0';
  char *parts[8];
  int np = 0;
  for (char *save = NULL, *t = strtok_r(buf, "/", &save); t && np < 8; t = strtok_r(NULL, "/", &save)) {
    unescape(t);
    parts[np++] = t;
  }
  int i;
  if (np >= 2 && !strcmp(parts[0], "api")) {
    ref->group = "";
    ref->version = parts[1];
    i = 2;
  } else if (np >= 3 && !strcmp(parts[0], "apis")) {
    ref->group = parts[1];
    ref->version = parts[2];
    i = 3;
  } else {
    return;
  }
  if (np - i >= 2 && !strcmp(parts[i], "namespaces")) {
    ref->ns = parts[i + 1];
    if (np - i > 2 && strcmp(parts[i + 2], "status") && strcmp(parts[i + 2], "finalize")) {
      i += 2;
    } else {
      ref->ns = NULL; /* a Namespace object itself (cluster-scoped) */
    }
  }
  if (i < np) ref->resource = parts[i];
  if (i + 1 < np) ref->name = parts[i + 1];
  if (i + 2 < np) ref->subresource = parts[i + 2];
}

/* 1 when the write guard lets this request through (always for reads). */
static int guard_allows(kube_client *c, const kube_ref *ref, const char *method, const char *path) {
  if (!c->guard || !is_write(method)) return 1;
  if (ref) return c->guard(c->guard_ud, ref, method) != 0;
  kube_ref parsed;
  char buf[1024];
  ref_from_path(path, &parsed, buf, sizeof buf);
  return c->guard(c->guard_ud, &parsed, method) != 0;
}

static mbcas_rc refused(const char *method, const char *path, kube_status *st, mbcas_err *err) {
  if (st) {
    memset(st, 0, sizeof *st);
    cpy(st->message, sizeof st->message, "write refused: not the leader");
  }
  LOG_DEBUG("kube write refused", "verb=%s reason=not-leader", method);
  return mbcas_err_set(err, MBCAS_ENOTLEADER, "", "%s %s: write refused: not the leader", method,
                       path);
}

static mbcas_rc request_ref(kube_client *c, const kube_ref *ref, kube_response **out,
                            const char *method, const char *path, const char *content_type,
                            const char *body, size_t body_len, kube_status *st, mbcas_err *err);

mbcas_rc kube_request(kube_client *c, kube_response **out, const char *method, const char *path,
                      const char *content_type, const char *body, size_t body_len, kube_status *st,
                      mbcas_err *err) {
  return request_ref(c, NULL, out, method, path, content_type, body, body_len, st, err);
}

/* kube_request; ref (may be NULL: parsed from path when the guard needs it)
 * names the target for the write guard. */
static mbcas_rc request_ref(kube_client *c, const kube_ref *ref, kube_response **out,
                            const char *method, const char *path, const char *content_type,
                            const char *body, size_t body_len, kube_status *st, mbcas_err *err) {
  if (out) *out = NULL;
  if (st) memset(st, 0, sizeof *st);
  if (!c || !method || !path || path[0] != '/')
    return mbcas_err_set(err, MBCAS_EINVAL, "path", "bad request arguments");
  const char *verb = verb_of(method, path);
  kube_backoff bo;
  kube_backoff_init(&bo, c->o.retry_initial_s, c->o.retry_max_s, 2.0, 0.5, 0);
  pthread_mutex_lock(&c->mu);
  kube_backoff_seed(&bo, c->rng_src.rng ^ (uint64_t)(uintptr_t)&bo);
  c->rng_src.rng = c->rng_src.rng * 6364136223846793005ULL + 1442695040888963407ULL;
  pthread_mutex_unlock(&c->mu);
  int max_retries = c->o.max_retries < 0 ? 0 : c->o.max_retries;
  int reauthed = 0;
  char errbuf[CURL_ERROR_SIZE];
  for (int attempt = 0;; attempt++) {
    /* before the token bucket and again before every retry: leadership may be
     * lost while we wait, and nothing may be sent after that */
    if (!guard_allows(c, ref, method, path)) return refused(method, path, st, err);
    kube_ratelimit_wait(&c->rl);
    if (!guard_allows(c, ref, method, path)) return refused(method, path, st, err);
    kube_credentials cred;
    mbcas_rc rc = kube_config_credentials(c->cfg, &cred, err);
    if (rc) return rc;
    kube_http_req rq = {method, path, body ? content_type : NULL, body, body_len, cred.token};
    kube_http_resp resp = {.retry_after = -1};
    double t0 = kube_now();
    errbuf[0] = '\0';
    if (c->transport)
      rc = c->transport(c->transport_ud, &rq, &resp);
    else
      rc = curl_attempt(c, &rq, &cred, &resp, errbuf);
    kube_credentials_clear(&cred);
    double secs = kube_now() - t0;
    if (c->o.hook) c->o.hook(c->o.hook_ud, verb, rc == MBCAS_OK ? (int)resp.code : 0, secs);
    if (rc != MBCAS_OK) {
      free(resp.body);
      int retryable = rc == MBCAS_EUNAVAILABLE || rc == MBCAS_ETIMEOUT;
      if (st) {
        memset(st, 0, sizeof *st);
        cpy(st->message, sizeof st->message, errbuf[0] ? errbuf : mbcas_strerror(rc));
      }
      if (!retryable || attempt >= max_retries) {
        return mbcas_err_set(err, rc, "", "%s %s: %s", method, path,
                             errbuf[0] ? errbuf : mbcas_strerror(rc));
      }
      double d = kube_backoff_next(&bo, kube_now());
      LOG_DEBUG("kube request retry", "verb=%s attempt=%d delay=%.3f rc=%s", verb, attempt + 1, d,
                mbcas_strerror(rc));
      kube_sleep(d);
      continue;
    }
    long code = resp.code;
    if (code >= 200 && code < 300) {
      if (out) {
        kube_response *r = calloc(1, sizeof *r);
        if (!r) {
          free(resp.body);
          return MBCAS_ENOMEM;
        }
        r->code = code;
        r->body = resp.body ? resp.body : strdup("");
        r->len = resp.body ? resp.len : 0;
        if (!r->body) {
          free(r);
          return MBCAS_ENOMEM;
        }
        *out = r;
      } else {
        free(resp.body);
      }
      return MBCAS_OK;
    }
    kube_status tmp = {.retry_after_seconds = resp.retry_after > 0 ? resp.retry_after : 0};
    kube_status_decode(&tmp, code, resp.body, resp.len);
    if (st) *st = tmp;
    int retryable = code == 429 || code >= 500;
    if (code == 401 && !reauthed && (c->cfg->token_file || c->cfg->exec.command)) {
      /* the token may have rotated under us: re-read it once */
      reauthed = 1;
      kube_config_invalidate(c->cfg);
      free(resp.body);
      attempt--;
      continue;
    }
    if (retryable && attempt < max_retries) {
      double d = kube_backoff_next(&bo, kube_now());
      if (tmp.retry_after_seconds > 0) d = tmp.retry_after_seconds;
      if (d > c->o.retry_max_s) d = c->o.retry_max_s;
      free(resp.body);
      LOG_DEBUG("kube request retry", "verb=%s attempt=%d code=%ld delay=%.3f", verb, attempt + 1,
                code, d);
      kube_sleep(d);
      continue;
    }
    mbcas_rc hrc = kube_rc_from_http(code);
    if (out) {
      kube_response *r = calloc(1, sizeof *r);
      if (r) {
        r->code = code;
        r->body = resp.body;
        r->len = resp.len;
        resp.body = NULL;
        *out = r;
      }
    }
    free(resp.body);
    return mbcas_err_set(err, hrc, "", "%s %s: %ld %s: %s", method, path, code, tmp.reason,
                         tmp.message);
  }
}

void kube_response_free(kube_response *r) {
  if (!r) return;
  free(r->body);
  free(r->content_type);
  free(r);
}

/* ---------- typed verbs ---------- */

static mbcas_rc do_json(kube_client *c, cJSON **out, const kube_ref *ref, const char *method,
                        const char *path, const char *ctype, const char *body, kube_status *st,
                        mbcas_err *err) {
  if (out) *out = NULL;
  kube_response *r = NULL;
  mbcas_rc rc = request_ref(c, ref, out ? &r : NULL, method, path, ctype, body,
                            body ? strlen(body) : 0, st, err);
  if (rc != MBCAS_OK) {
    kube_response_free(r);
    return rc;
  }
  if (out) {
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    kube_response_free(r);
    if (!j)
      return mbcas_err_set(err, MBCAS_EINVAL, "", "%s %s: response is not JSON", method, path);
    *out = j;
  }
  return MBCAS_OK;
}

mbcas_rc kube_get(kube_client *c, cJSON **out, const kube_ref *ref, kube_status *st, mbcas_err *err) {
  *out = NULL;
  char *path = kube_ref_path(ref, NULL);
  if (!path) return mbcas_err_set(err, MBCAS_EINVAL, "ref", "incomplete reference");
  mbcas_rc rc = do_json(c, out, ref, "GET", path, NULL, NULL, st, err);
  free(path);
  return rc;
}

mbcas_rc kube_list(kube_client *c, cJSON **out, const kube_ref *ref, const kube_list_opts *opts,
                   kube_status *st, mbcas_err *err) {
  *out = NULL;
  kube_list_opts o = {0};
  if (opts) o = *opts;
  o.watch = 0;
  o.allow_bookmarks = 0;
  char *path = kube_ref_path(ref, &o);
  if (!path) return mbcas_err_set(err, MBCAS_EINVAL, "ref", "incomplete reference");
  mbcas_rc rc = do_json(c, out, ref, "GET", path, NULL, NULL, st, err);
  free(path);
  if (rc == MBCAS_OK && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*out, "items")) &&
      !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(*out, "items"))) {
    cJSON_Delete(*out);
    *out = NULL;
    return mbcas_err_set(err, MBCAS_EINVAL, "items", "list response has no items");
  }
  return rc;
}

mbcas_rc kube_list_all(kube_client *c, cJSON **out, const kube_ref *ref, const kube_list_opts *opts,
                       kube_status *st, mbcas_err *err) {
  *out = NULL;
  kube_list_opts o = {0};
  if (opts) o = *opts;
  if (o.limit <= 0) o.limit = 500;
  cJSON *all = NULL;
  char *cont = NULL;
  mbcas_rc rc = MBCAS_OK;
  for (;;) {
    o.continue_token = cont;
    if (cont) {
      o.resource_version = NULL; /* not allowed together with continue */
      o.resource_version_match = NULL;
    }
    cJSON *page = NULL;
    rc = kube_list(c, &page, ref, &o, st, err);
    free(cont);
    cont = NULL;
    if (rc) break;
    cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    if (!all) {
      all = page;
      if (!cJSON_IsArray(items)) {
        cJSON_DeleteItemFromObjectCaseSensitive(all, "items");
        if (!cJSON_AddArrayToObject(all, "items")) {
          rc = MBCAS_ENOMEM;
          break;
        }
      }
    } else {
      cJSON *dst = cJSON_GetObjectItemCaseSensitive(all, "items");
      cJSON *it;
      while (cJSON_IsArray(items) && (it = cJSON_DetachItemFromArray(items, 0)) != NULL)
        cJSON_AddItemToArray(dst, it);
      cJSON *md = cJSON_DetachItemFromObjectCaseSensitive(page, "metadata");
      if (md) cJSON_ReplaceItemInObjectCaseSensitive(all, "metadata", md);
      cJSON_Delete(page);
    }
    cJSON *md = cJSON_GetObjectItemCaseSensitive(all, "metadata");
    const char *ct = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "continue"));
    if (!ct || !*ct) break;
    cont = strdup(ct);
    if (!cont) {
      rc = MBCAS_ENOMEM;
      break;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(md, "continue");
  }
  if (rc) {
    cJSON_Delete(all);
    return rc;
  }
  *out = all;
  return MBCAS_OK;
}

static mbcas_rc write_obj(kube_client *c, cJSON **out, const char *method, const kube_ref *ref,
                          const cJSON *obj, const char *ctype, const char *text,
                          const kube_write_opts *wo, kube_status *st, mbcas_err *err) {
  if (out) *out = NULL;
  char *p0 = kube_ref_path(ref, NULL);
  char *path = p0 ? with_write_opts(p0, wo) : NULL;
  free(p0);
  if (!path) return mbcas_err_set(err, MBCAS_EINVAL, "ref", "incomplete reference");
  char *body = obj ? cJSON_PrintUnformatted(obj) : NULL;
  if (obj && !body) {
    free(path);
    return MBCAS_ENOMEM;
  }
  mbcas_rc rc = do_json(c, out, ref, method, path, ctype, body ? body : text, st, err);
  free(body);
  free(path);
  return rc;
}

mbcas_rc kube_create(kube_client *c, cJSON **out, const kube_ref *ref, const cJSON *obj,
                     const kube_write_opts *wo, kube_status *st, mbcas_err *err) {
  if (!obj) return mbcas_err_set(err, MBCAS_EINVAL, "body", "no object");
  return write_obj(c, out, "POST", ref, obj, "application/json", NULL, wo, st, err);
}

mbcas_rc kube_update(kube_client *c, cJSON **out, const kube_ref *ref, const cJSON *obj,
                     const kube_write_opts *wo, kube_status *st, mbcas_err *err) {
  if (!obj || !ref || !ref->name || !*ref->name)
    return mbcas_err_set(err, MBCAS_EINVAL, "ref.name", "update needs an object and a name");
  return write_obj(c, out, "PUT", ref, obj, "application/json", NULL, wo, st, err);
}

mbcas_rc kube_patch(kube_client *c, cJSON **out, const kube_ref *ref, kube_patch_type type,
                    const char *patch, const kube_write_opts *wo, kube_status *st, mbcas_err *err) {
  static const char *const ctypes[] = {
      "application/merge-patch+json", "application/json-patch+json",
      "application/strategic-merge-patch+json", "application/apply-patch+yaml"};
  if (!patch || (unsigned)type > KUBE_PATCH_APPLY || !ref || !ref->name || !*ref->name)
    return mbcas_err_set(err, MBCAS_EINVAL, "patch", "patch needs a body, a type and a name");
  if (type == KUBE_PATCH_APPLY && !(wo && wo->field_manager && *wo->field_manager))
    return mbcas_err_set(err, MBCAS_EINVAL, "fieldManager", "apply patch needs a field manager");
  return write_obj(c, out, "PATCH", ref, NULL, ctypes[type], patch, wo, st, err);
}

mbcas_rc kube_delete(kube_client *c, cJSON **out, const kube_ref *ref, const cJSON *delete_options,
                     kube_status *st, mbcas_err *err) {
  if (!ref || !ref->name || !*ref->name)
    return mbcas_err_set(err, MBCAS_EINVAL, "ref.name", "delete needs a name");
  return write_obj(c, out, "DELETE", ref, delete_options,
                   delete_options ? "application/json" : NULL, NULL, NULL, st, err);
}

/* ---------- streams ---------- */

struct kube_stream {
  kube_client *c;
  CURLM *m;
  CURL *h;
  struct curl_slist *hd;
  kube_credentials cred;
  rbuf b;       /* unread bytes are b.p[off .. len) */
  size_t off;
  hinfo hi;
  int done;
  CURLcode result;
  double t0;
  char errbuf[CURL_ERROR_SIZE];
};

static size_t on_stream_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  kube_stream *s = ud;
  if (s->off > 0 && s->off == s->b.len) {
    s->off = 0;
    s->b.len = 0;
  } else if (s->off > 0 && s->off > s->b.cap / 2) {
    memmove(s->b.p, s->b.p + s->off, s->b.len - s->off);
    s->b.len -= s->off;
    s->off = 0;
  }
  return on_body(ptr, size, nmemb, &s->b);
}

/* One round of the multi loop: wait up to timeout_ms for activity. */
static void stream_pump(kube_stream *s, int timeout_ms) {
  int running = 0;
  curl_multi_perform(s->m, &running);
  if (running && timeout_ms > 0 && s->b.len == s->off) {
    curl_multi_poll(s->m, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(s->m, &running);
  }
  int q = 0;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(s->m, &q)) != NULL) {
    if (msg->msg == CURLMSG_DONE) {
      s->done = 1;
      s->result = msg->data.result;
    }
  }
}

void kube_stream_close(kube_stream *s) {
  if (!s) return;
  if (s->m && s->h) curl_multi_remove_handle(s->m, s->h);
  if (s->h) {
    free_connect_to(s->h);
    curl_easy_cleanup(s->h);
  }
  if (s->m) curl_multi_cleanup(s->m);
  curl_slist_free_all(s->hd);
  kube_credentials_clear(&s->cred);
  free(s->b.p);
  free(s);
}

mbcas_rc kube_stream_open(kube_client *c, kube_stream **out, const char *path, kube_status *st,
                          mbcas_err *err) {
  *out = NULL;
  if (st) memset(st, 0, sizeof *st);
  if (!path || path[0] != '/') return mbcas_err_set(err, MBCAS_EINVAL, "path", "bad path");
  kube_stream *s = calloc(1, sizeof *s);
  if (!s) return MBCAS_ENOMEM;
  s->c = c;
  s->b.max = STREAM_BUF_MAX;
  s->hi.retry_after = -1;
  kube_ratelimit_wait(&c->rl);
  mbcas_rc rc = kube_config_credentials(c->cfg, &s->cred, err);
  if (rc) {
    free(s);
    return rc;
  }
  s->m = curl_multi_init();
  s->h = curl_easy_init();
  if (!s->m || !s->h) {
    kube_stream_close(s);
    return MBCAS_ENOMEM;
  }
  s->hd = setup_easy(c, s->h, path, &s->cred, NULL, s->errbuf);
  if (!s->hd) {
    kube_stream_close(s);
    return MBCAS_ENOMEM;
  }
  curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_stream_body);
  curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(s->h, CURLOPT_HEADERDATA, &s->hi);
  /* no overall timeout: the server ends the watch (timeoutSeconds); a dead
   * peer is caught by TCP keepalive and the low-speed limit */
  curl_easy_setopt(s->h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(s->h, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_multi_add_handle(s->m, s->h);
  s->t0 = kube_now();
  double deadline = s->t0 + (double)(c->o.connect_timeout_ms + c->o.timeout_ms) / 1000.0;
  while (!s->done && !s->hi.headers_done) {
    if (kube_now() > deadline) {
      if (c->o.hook) c->o.hook(c->o.hook_ud, "WATCH", 0, kube_now() - s->t0);
      kube_stream_close(s);
      return mbcas_err_set(err, MBCAS_ETIMEOUT, "", "watch %s: no response headers", path);
    }
    stream_pump(s, 200);
  }
  long code = s->hi.code;
  if (!s->hi.headers_done && s->done && s->result != CURLE_OK) {
    mbcas_rc crc = curl_rc(s->result);
    if (c->o.hook) c->o.hook(c->o.hook_ud, "WATCH", 0, kube_now() - s->t0);
    if (st) cpy(st->message, sizeof st->message, s->errbuf);
    rc = mbcas_err_set(err, crc, "", "watch %s: %s", path, s->errbuf[0] ? s->errbuf : mbcas_strerror(crc));
    kube_stream_close(s);
    return rc;
  }
  if (c->o.hook) c->o.hook(c->o.hook_ud, "WATCH", (int)code, kube_now() - s->t0);
  if (code < 200 || code >= 300) {
    /* read the (small) error body whole */
    double d2 = kube_now() + (double)c->o.timeout_ms / 1000.0;
    while (!s->done && kube_now() < d2) stream_pump(s, 200);
    kube_status tmp = {.retry_after_seconds = s->hi.retry_after > 0 ? s->hi.retry_after : 0};
    kube_status_decode(&tmp, code, s->b.p, s->b.len);
    if (st) *st = tmp;
    if (code == 401) kube_config_invalidate(c->cfg);
    rc = mbcas_err_set(err, kube_rc_from_http(code), "", "watch %s: %ld %s: %s", path, code, tmp.reason,
                       tmp.message);
    kube_stream_close(s);
    return rc;
  }
  *out = s;
  return MBCAS_OK;
}

mbcas_rc kube_stream_read(kube_stream *s, char *buf, size_t cap, size_t *n, int timeout_ms) {
  *n = 0;
  double deadline = kube_now() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
  for (;;) {
    if (s->b.len > s->off) {
      size_t k = s->b.len - s->off;
      if (k > cap) k = cap;
      memcpy(buf, s->b.p + s->off, k);
      s->off += k;
      if (s->off == s->b.len) s->off = s->b.len = 0;
      *n = k;
      return MBCAS_OK;
    }
    if (s->done) {
      if (s->result == CURLE_OK) return MBCAS_OK;
      return s->b.overflow ? MBCAS_EINVAL : MBCAS_EUNAVAILABLE;
    }
    double left = deadline - kube_now();
    if (left <= 0 && timeout_ms >= 0) {
      stream_pump(s, 0);
      if (s->b.len > s->off || s->done) continue;
      return MBCAS_ETIMEOUT;
    }
    stream_pump(s, (int)(left * 1000) + 1);
  }
}
