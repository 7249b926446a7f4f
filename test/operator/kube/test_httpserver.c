/* test_httpserver.c - /healthz, /readyz, /metrics over real HTTP on 127.0.0.1:0,
 * fetched with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpserver.h"

typedef struct resp {
  long code;
  char *body;
  size_t len;
  char ctype[128];
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  resp *r = ud;
  char *nb = realloc(r->body, r->len + sz * n + 1);
  if (!nb) return 0;
  r->body = nb;
  memcpy(r->body + r->len, p, sz * n);
  r->len += sz * n;
  r->body[r->len] = '\0';
  return sz * n;
}

static resp fetch(kube_http *s, const char *path, const char *method) {
  resp r = {0};
  char url[256];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", kube_http_port(s), path);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  if (method) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x");
  }
  CURLcode cc = curl_easy_perform(c);
  static int nreq;
  nreq++;
  if (cc != CURLE_OK) fprintf(stderr, "GET#%d %s: %s\n", nreq, path, curl_easy_strerror(cc));
  assert_int_equal(cc, CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
  char *ct = NULL;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
  if (ct) snprintf(r.ctype, sizeof(r.ctype), "%s", ct);
  curl_easy_cleanup(c);
  if (!r.body) r.body = strdup("");
  return r;
}

static atomic_int synced, leader_known;
static mbcas_rc check_synced(void *ud, char *why, size_t n) {
  (void)ud;
  if (atomic_load(&synced)) return MBCAS_OK;
  snprintf(why, n, "informer caches not synced");
  return MBCAS_EUNAVAILABLE;
}
static mbcas_rc check_leader(void *ud, char *why, size_t n) {
  (void)ud;
  (void)why;
  (void)n;
  return atomic_load(&leader_known) ? MBCAS_OK : MBCAS_ENOTLEADER;
}
static mbcas_rc check_ok(void *ud, char *why, size_t n) {
  (void)why;
  (void)n;
  (*(int *)ud)++;
  return MBCAS_OK;
}

static void test_parse_addr(void **state) {
  (void)state;
  char h[64];
  int p;
  assert_int_equal(kube_http_parse_addr(":8080", h, sizeof(h), &p), MBCAS_OK);
  assert_string_equal(h, "");
  assert_int_equal(p, 8080);
  assert_int_equal(kube_http_parse_addr("127.0.0.1:0", h, sizeof(h), &p), MBCAS_OK);
  assert_string_equal(h, "127.0.0.1");
  assert_int_equal(p, 0);
  assert_int_equal(kube_http_parse_addr("9090", h, sizeof(h), &p), MBCAS_OK);
  assert_int_equal(p, 9090);
  assert_int_equal(kube_http_parse_addr("[::1]:81", h, sizeof(h), &p), MBCAS_OK);
  assert_string_equal(h, "::1");
  assert_int_equal(p, 81);
  assert_int_equal(kube_http_parse_addr("::1:81", h, sizeof(h), &p), MBCAS_EINVAL);
  assert_int_equal(kube_http_parse_addr("host:", h, sizeof(h), &p), MBCAS_EINVAL);
  assert_int_equal(kube_http_parse_addr("host:70000", h, sizeof(h), &p), MBCAS_EINVAL);
  assert_int_equal(kube_http_parse_addr("host:8x", h, sizeof(h), &p), MBCAS_EINVAL);
  assert_int_equal(kube_http_parse_addr(NULL, h, sizeof(h), &p), MBCAS_EINVAL);
  assert_int_equal(kube_http_parse_addr("averyveryverylonghostname:1", h, 8, &p), MBCAS_EINVAL);
}

static void test_endpoints(void **state) {
  (void)state;
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(m, &c, "hits_total", "Hits.", NULL), MBCAS_OK);
  kube_metric_add(c, NULL, 5);
  kube_http *s;
  mbcas_err err;
  assert_int_equal(kube_http_start(&s, "127.0.0.1:0", m, &err), MBCAS_OK);
  assert_true(kube_http_port(s) > 0);

  /* no checks: healthy and ready */
  resp r = fetch(s, "/healthz", NULL);
  assert_int_equal(r.code, 200);
  assert_string_equal(r.body, "ok");
  free(r.body);
  r = fetch(s, "/readyz", NULL);
  assert_int_equal(r.code, 200);
  free(r.body);

  /* readiness follows the registered checks */
  atomic_store(&synced, 0);
  atomic_store(&leader_known, 0);
  assert_int_equal(kube_http_add_readyz(s, "informer-sync", check_synced, NULL), MBCAS_OK);
  assert_int_equal(kube_http_add_readyz(s, "leader-election", check_leader, NULL), MBCAS_OK);
  int hz = 0;
  assert_int_equal(kube_http_add_healthz(s, "ping", check_ok, &hz), MBCAS_OK);
  r = fetch(s, "/readyz", NULL);
  assert_int_equal(r.code, 500);
  assert_string_equal(r.body,
                      "[-]informer-sync failed: informer caches not synced\n"
                      "[-]leader-election failed: not leader\n"
                      "readyz check failed\n");
  free(r.body);
  atomic_store(&synced, 1);
  r = fetch(s, "/readyz", NULL);
  assert_int_equal(r.code, 500);
  assert_non_null(strstr(r.body, "[+]informer-sync ok\n[-]leader-election failed"));
  free(r.body);
  atomic_store(&leader_known, 1);
  r = fetch(s, "/readyz", NULL);
  assert_int_equal(r.code, 200);
  assert_string_equal(r.body, "ok");
  free(r.body);
  r = fetch(s, "/readyz?verbose", NULL);
  assert_int_equal(r.code, 200);
  assert_string_equal(r.body, "[+]informer-sync ok\n[+]leader-election ok\nreadyz check passed\n");
  free(r.body);
  r = fetch(s, "/healthz", NULL); /* healthz runs only its own checks */
  assert_int_equal(r.code, 200);
  assert_int_equal(hz, 1);
  free(r.body);
  kube_http_remove_check(s, "informer-sync");
  atomic_store(&synced, 0);
  r = fetch(s, "/readyz?verbose=1", NULL);
  assert_string_equal(r.body, "[+]leader-election ok\nreadyz check passed\n");
  free(r.body);

  /* metrics */
  r = fetch(s, "/metrics", NULL);
  assert_int_equal(r.code, 200);
  assert_string_equal(r.body, "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 5\n");
  assert_non_null(strstr(r.ctype, "version=0.0.4"));
  free(r.body);

  /* others */
  r = fetch(s, "/nope", NULL);
  assert_int_equal(r.code, 404);
  free(r.body);
  r = fetch(s, "/healthz", "POST");
  assert_int_equal(r.code, 405);
  free(r.body);
  assert_true(kube_http_requests(s) >= 11);
  kube_http_stop(s);
  kube_metrics_free(m);
}

static void test_large_metrics_body(void **state) {
  (void)state;
  /* more than one write chunk */
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(m, &c, "big_total", "h", "k"), MBCAS_OK);
  char v[32];
  for (int i = 0; i < 1500; i++) {
    snprintf(v, sizeof(v), "value-%d", i);
    kube_metric_inc(c, (const char *const[]){v});
  }
  char *want;
  size_t want_len;
  assert_int_equal(kube_metrics_render(m, &want, &want_len), MBCAS_OK);
  assert_true(want_len > 30000);
  kube_http *s;
  assert_int_equal(kube_http_start(&s, "127.0.0.1:0", m, NULL), MBCAS_OK);
  for (int i = 0; i < 3; i++) {
    resp r = fetch(s, "/metrics", NULL);
    assert_int_equal(r.code, 200);
    assert_int_equal(r.len, want_len);
    assert_memory_equal(r.body, want, want_len);
    free(r.body);
  }
  free(want);
  kube_http_stop(s);
  kube_metrics_free(m);
}

static void test_no_metrics_and_errors(void **state) {
  (void)state;
  kube_http *s, *s2;
  mbcas_err err;
  assert_int_equal(kube_http_start(&s, "127.0.0.1:0", NULL, &err), MBCAS_OK);
  resp r = fetch(s, "/metrics", NULL);
  assert_int_equal(r.code, 404);
  free(r.body);
  /* the same port twice cannot bind */
  char addr[64];
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", kube_http_port(s));
  assert_int_equal(kube_http_start(&s2, addr, NULL, &err), MBCAS_EIO);
  assert_null(s2);
  assert_int_equal(kube_http_start(&s2, "bad:addr:x", NULL, &err), MBCAS_EINVAL);
  assert_int_equal(kube_http_add_readyz(s, "", check_ok, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_http_add_readyz(s, "x", NULL, NULL), MBCAS_EINVAL);
  int status;
  char *body;
  assert_int_equal(kube_http_run_checks(s, 1, 0, &status, &body), MBCAS_OK);
  assert_int_equal(status, 200);
  assert_string_equal(body, "ok");
  free(body);
  kube_http_stop(s);
  kube_http_stop(NULL);
  assert_int_equal(kube_http_port(NULL), -1);
}

/* One connection, several requests (how Prometheus and kubelet probes behave). */
static void test_keepalive(void **state) {
  (void)state;
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_metric *g;
  assert_int_equal(kube_metrics_gauge(m, &g, "g", "h", NULL), MBCAS_OK);
  kube_http *s;
  assert_int_equal(kube_http_start(&s, "127.0.0.1:0", m, NULL), MBCAS_OK);
  CURL *c = curl_easy_init();
  const char *paths[] = {"/healthz", "/metrics", "/readyz", "/nope", "/metrics"};
  const long codes[] = {200, 200, 200, 404, 200};
  for (int i = 0; i < 5; i++) {
    resp r = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", kube_http_port(s), paths[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    assert_int_equal(r.code, codes[i]);
    long connects = -1;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    assert_int_equal(connects, i == 0 ? 1 : 0); /* reused after the first */
    free(r.body);
  }
  curl_easy_cleanup(c);
  kube_http_stop(s);
  kube_metrics_free(m);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_addr),
      cmocka_unit_test(test_endpoints),
      cmocka_unit_test(test_large_metrics_body),
      cmocka_unit_test(test_no_metrics_and_errors),
      cmocka_unit_test(test_keepalive),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
