/* signals.c - demand signal sources; see signals.h. */
#include "signals.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "quantity.h"

static mbcas_rc usage_of(int64_t *out, const cJSON *pm, const char *container, const char *res,
                         int milli) {
  const cJSON *cs = cJSON_GetObjectItemCaseSensitive(pm, "containers");
  const cJSON *c;
  int64_t sum = 0;
  int found = 0;
  cJSON_ArrayForEach(c, cs) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
    if (container && *container && (!cJSON_IsString(n) || strcmp(n->valuestring, container) != 0))
      continue;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "usage"), res);
    if (!cJSON_IsString(v)) continue;
    quantity q;
    int64_t x;
    if (quantity_parse(&q, v->valuestring, NULL, NULL) != MBCAS_OK) continue;
    if ((milli ? quantity_milli(&x, &q) : quantity_value(&x, &q)) != MBCAS_OK) continue;
    sum += x;
    found = 1;
  }
  if (!found) return MBCAS_ENOTFOUND;
  *out = sum;
  return MBCAS_OK;
}

mbcas_rc sig_pod_cpu_usage(int64_t *out, const cJSON *pm, const char *container) {
  return usage_of(out, pm, container, "cpu", 1);
}

mbcas_rc sig_pod_mem_usage(int64_t *out, const cJSON *pm, const char *container) {
  return usage_of(out, pm, container, "memory", 0);
}

const cJSON *sig_find_pod_metrics(const cJSON *list, const char *pod) {
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items")) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "metadata"), "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, pod) == 0) return it;
  }
  return NULL;
}

mbcas_rc sig_fetch_pod_metrics(cJSON **out, const rec_api *api, const char *ns) {
  char path[256];
  if (ns && *ns)
    snprintf(path, sizeof path, "/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods", ns);
  else
    snprintf(path, sizeof path, "/apis/metrics.k8s.io/v1beta1/pods");
  return api->get(api->ctx, path, out);
}

/* --- list splitter ------------------------------------------------------------ */

struct sig_items {
  rec_item_fn fn;
  void *ud;
  int depth;        /* nesting of {} and [] outside strings */
  int in_str, esc;  /* inside a string; after a backslash in it */
  int expect_key;   /* at depth 1: the next string is a key */
  int key_items;    /* at depth 1: the current key is "items" */
  int in_items;     /* inside the top-level "items" array (depth >= 2) */
  int in_elem;      /* collecting an element (an object or array) of it */
  int stopped;
  char key[8];      /* the top-level key being read (only "items" matters) */
  size_t key_len;
  int key_long;
  char *buf;        /* the element being collected */
  size_t len, cap;
  size_t count;
};

sig_items *sig_items_new(rec_item_fn fn, void *ud) {
  sig_items *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->fn = fn;
  s->ud = ud;
  return s;
}

void sig_items_free(sig_items *s) {
  if (!s) return;
  free(s->buf);
  free(s);
}

size_t sig_items_count(const sig_items *s) { return s->count; }

static int elem_put(sig_items *s, char ch) {
  if (s->len + 1 >= s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 1024;
    char *nb = realloc(s->buf, nc);
    if (!nb) return -1;
    s->buf = nb;
    s->cap = nc;
  }
  s->buf[s->len++] = ch;
  return 0;
}

static mbcas_rc elem_done(sig_items *s) {
  cJSON *o = cJSON_ParseWithLength(s->buf, s->len);
  s->len = 0;
  s->in_elem = 0;
  if (!o) return MBCAS_EINVAL;
  s->count++;
  if (s->fn && s->fn(s->ud, o) != 0) s->stopped = 1;
  cJSON_Delete(o);
  if (s->cap > 64 * 1024) { /* one huge item does not pin its buffer */
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
  }
  return MBCAS_OK;
}

mbcas_rc sig_items_feed(sig_items *s, const char *buf, size_t n) {
  for (size_t i = 0; i < n && !s->stopped; i++) {
    char ch = buf[i];
    if (s->in_elem && elem_put(s, ch) != 0) return MBCAS_ENOMEM;
    if (s->in_str) {
      if (s->esc) s->esc = 0;
      else if (ch == '\\') s->esc = 1;
      else if (ch == '"') {
        s->in_str = 0;
        if (s->depth == 1 && s->expect_key) {
          s->key_items = !s->key_long && s->key_len == 5 && memcmp(s->key, "items", 5) == 0;
          s->expect_key = 0;
        }
      } else if (s->depth == 1 && s->expect_key) {
        if (s->key_len < sizeof s->key) s->key[s->key_len++] = ch;
        else s->key_long = 1;
      }
      continue;
    }
    switch (ch) {
    case '"':
      s->in_str = 1;
      if (s->depth == 1 && s->expect_key) {
        s->key_len = 0;
        s->key_long = 0;
      }
      break;
    case '{':
    case '[':
      if (s->depth == 0 && ch != '{') return MBCAS_EINVAL; /* a List is an object */
      s->depth++;
      if (s->depth == 1) s->expect_key = 1;
      else if (s->depth == 2 && ch == '[' && s->key_items) s->in_items = 1;
      else if (s->depth == 3 && s->in_items && !s->in_elem) {
        s->in_elem = 1;
        s->len = 0;
        if (elem_put(s, ch) != 0) return MBCAS_ENOMEM;
      }
      break;
    case '}':
    case ']':
      if (s->depth <= 0) return MBCAS_EINVAL;
      s->depth--;
      if (s->depth == 2 && s->in_elem) {
        mbcas_rc rc = elem_done(s);
        if (rc != MBCAS_OK) return rc;
      } else if (s->depth == 1) {
        s->in_items = 0;
        s->key_items = 0;
      }
      break;
    case ',':
      if (s->depth == 1) {
        s->expect_key = 1;
        s->key_items = 0;
      }
      break;
    default:
      break;
    }
  }
  return MBCAS_OK;
}

mbcas_rc sig_items_end(sig_items *s) {
  if (s->stopped) return MBCAS_OK;
  return s->depth == 0 && !s->in_str && !s->in_elem ? MBCAS_OK : MBCAS_EINVAL;
}

mbcas_rc sig_each_pod_metrics(const rec_api *api, const char *ns, rec_item_fn fn, void *ud) {
  char path[256];
  if (ns && *ns)
    snprintf(path, sizeof path, "/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods", ns);
  else
    snprintf(path, sizeof path, "/apis/metrics.k8s.io/v1beta1/pods");
  if (api->get_items) return api->get_items(api->ctx, path, fn, ud);
  cJSON *list = NULL;
  mbcas_rc rc = api->get(api->ctx, path, &list);
  if (rc == MBCAS_OK) rec_list_each(list, fn, ud);
  cJSON_Delete(list);
  return rc;
}

mbcas_rc sig_parse_demand(double *out, const char *body) {
  if (!body) return MBCAS_EINVAL;
  const char *p = body;
  while (isspace((unsigned char)*p)) p++;
  if (*p == '{') { /* {"demand": 0.4, ...} as agent sidecars (and the emulator) answer */
    cJSON *o = cJSON_Parse(p);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "demand");
    mbcas_rc rc = MBCAS_EINVAL;
    if (cJSON_IsNumber(d) && isfinite(d->valuedouble)) {
      *out = d->valuedouble < 0 ? 0 : (d->valuedouble > 1 ? 1 : d->valuedouble);
      rc = MBCAS_OK;
    }
    cJSON_Delete(o);
    return rc;
  }
  char *end;
  errno = 0;
  double v = strtod(body, &end);
  if (end == body || errno || !isfinite(v)) return MBCAS_EINVAL;
  while (*end && isspace((unsigned char)*end)) end++;
  if (*end) return MBCAS_EINVAL;
  *out = v < 0 ? 0 : (v > 1 ? 1 : v);
  return MBCAS_OK;
}

mbcas_rc sig_parse_prom_text(double *out, const char *body, const char *metric) {
  if (!body || !metric || !*metric) return MBCAS_EINVAL;
  size_t ml = strlen(metric);
  const char *line = body;
  while (*line) {
    const char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    if (len > ml && line[0] != '#' && strncmp(line, metric, ml) == 0 &&
        (line[ml] == '{' || line[ml] == ' ' || line[ml] == '\t')) {
      const char *p = line + ml;
      if (*p == '{') { /* skip labels, honouring quoted values */
        int inq = 0;
        for (p++; p < line + len; p++) {
          if (inq && *p == '\\') { p++; continue; }
          if (*p == '"') inq = !inq;
          else if (!inq && *p == '}') { p++; break; }
        }
      }
      char buf[64];
      while (p < line + len && (*p == ' ' || *p == '\t')) p++;
      size_t n = 0;
      while (p < line + len && !isspace((unsigned char)*p) && n + 1 < sizeof buf) buf[n++] = *p++;
      buf[n] = 0;
      char *end;
      double v = strtod(buf, &end);
      if (n == 0 || *end) return MBCAS_EINVAL;
      *out = v;
      return MBCAS_OK;
    }
    if (!eol) break;
    line = eol + 1;
  }
  return MBCAS_ENOTFOUND;
}

const char *sig_pod_proxy_path(char *buf, size_t len, const char *ns, const char *pod, int port,
                               const char *path) {
  if (!path || !*path) path = "/demand";
  snprintf(buf, len, "/api/v1/namespaces/%s/pods/%s:%d/proxy%s%s", ns, pod, port,
           path[0] == '/' ? "" : "/", path);
  return buf;
}

char *sig_expand_query(const char *query, const char *ns, const char *service) {
  size_t cap = strlen(query) + 1, nsl = strlen(ns), svl = strlen(service);
  for (const char *p = query; (p = strchr(p, '$')); p++) cap += nsl + svl;
  char *out = malloc(cap), *w = out;
  if (!out) return NULL;
  for (const char *p = query; *p;) {
    if (strncmp(p, "$namespace", 10) == 0) { memcpy(w, ns, nsl); w += nsl; p += 10; }
    else if (strncmp(p, "$service", 8) == 0) { memcpy(w, service, svl); w += svl; p += 8; }
    else *w++ = *p++;
  }
  *w = 0;
  return out;
}

mbcas_rc sig_parse_prom_answer(double *out, const char *json, mbcas_err *err) {
  cJSON *root = cJSON_Parse(json);
  if (!root) return mbcas_err_set(err, MBCAS_EINVAL, "", "answer is not JSON");
  mbcas_rc rc = MBCAS_OK;
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
  if (!cJSON_IsString(status) || strcmp(status->valuestring, "success") != 0) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    rc = mbcas_err_set(err, MBCAS_EINVAL, "", "prometheus: %s",
                       cJSON_IsString(e) ? e->valuestring : "query failed");
    goto done;
  }
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
  const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
  const cJSON *value = NULL;
  if (cJSON_IsString(type) && strcmp(type->valuestring, "vector") == 0) {
    const cJSON *first = cJSON_GetArrayItem(result, 0);
    if (!first) { rc = mbcas_err_set(err, MBCAS_ENOTFOUND, "", "query returned no samples"); goto done; }
    value = cJSON_GetObjectItemCaseSensitive(first, "value");
  } else if (cJSON_IsString(type) && strcmp(type->valuestring, "scalar") == 0) {
    value = result;
  } else {
    rc = mbcas_err_set(err, MBCAS_EINVAL, "", "unsupported result type");
    goto done;
  }
  const cJSON *v = cJSON_GetArrayItem(value, 1);
  char *end;
  double d = cJSON_IsString(v) ? strtod(v->valuestring, &end) : NAN;
  if (!cJSON_IsString(v) || *end || isnan(d)) {
    rc = mbcas_err_set(err, MBCAS_EINVAL, "", "sample is not a number");
    goto done;
  }
  *out = d;
done:
  cJSON_Delete(root);
  return rc;
}

typedef struct { char *buf; size_t len; int over; } sink;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  sink *s = ud;
  size_t k = sz * n;
  if (s->len + k > SIG_BODY_MAX) { s->over = 1; return 0; }
  char *nb = realloc(s->buf, s->len + k + 1);
  if (!nb) return 0;
  memcpy(nb + s->len, p, k);
  s->buf = nb;
  s->len += k;
  s->buf[s->len] = 0;
  return k;
}

mbcas_rc sig_prom_query(double *out, const char *address, const char *query, long timeout_ms,
                        mbcas_err *err) {
  CURL *h = curl_easy_init();
  if (!h) return mbcas_err_set(err, MBCAS_ENOMEM, "", "curl init failed");
  char *q = curl_easy_escape(h, query, 0);
  size_t ul = strlen(address) + (q ? strlen(q) : 0) + 32;
  char *url = malloc(ul);
  sink s = {0};
  mbcas_rc rc;
  if (!q || !url) { rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory"); goto done; }
  size_t al = strlen(address);
  while (al && address[al - 1] == '/') al--;
  snprintf(url, ul, "%.*s/api/v1/query?query=%s", (int)al, address, q);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 5000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode cc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (cc != CURLE_OK) {
    rc = mbcas_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? MBCAS_ETIMEOUT : MBCAS_EUNAVAILABLE, "",
                       "prometheus: %s", s.over ? "answer too large" : curl_easy_strerror(cc));
    goto done;
  }
  if (!s.buf) { rc = mbcas_err_set(err, MBCAS_EUNAVAILABLE, "", "prometheus: HTTP %ld, empty", code); goto done; }
  rc = sig_parse_prom_answer(out, s.buf, err);
done:
  free(s.buf);
  free(url);
  if (q) curl_free(q);
  curl_easy_cleanup(h);
  return rc;
}
