/* test_metrics.c - metrics registry and exact Prometheus text output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define LV(...) ((const char *const[]){__VA_ARGS__})

static char *render(kube_metrics *r) {
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(kube_metrics_render(r, &out, &len), MBCAS_OK);
  assert_non_null(out);
  assert_int_equal(len, strlen(out));
  return out;
}

static void test_counter_gauge_text(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *c, *g;
  assert_int_equal(kube_metrics_counter(r, &c, "rest_client_requests_total",
                                        "Requests by verb and code.", "verb,code"), MBCAS_OK);
  assert_int_equal(kube_metrics_gauge(r, &g, "leader_is_leader", "1 when leading.", NULL),
                   MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("GET", "200")), MBCAS_OK);
  assert_int_equal(kube_metric_add(c, LV("GET", "200"), 2), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("PATCH", "409")), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, NULL, 1), MBCAS_OK);
  assert_int_equal(kube_metric_add(g, NULL, -0.5), MBCAS_OK);
  char *t = render(r);
  assert_string_equal(t,
                      "# HELP leader_is_leader 1 when leading.\n"
                      "# TYPE leader_is_leader gauge\n"
                      "leader_is_leader 0.5\n"
                      "# HELP rest_client_requests_total Requests by verb and code.\n"
                      "# TYPE rest_client_requests_total counter\n"
                      "rest_client_requests_total{verb=\"GET\",code=\"200\"} 3\n"
                      "rest_client_requests_total{verb=\"PATCH\",code=\"409\"} 1\n");
  free(t);
  assert_true(kube_metric_value(c, LV("GET", "200")) == 3);
  assert_true(kube_metric_value(c, LV("GET", "500")) == 0);
  kube_metrics_free(r);
}

static void test_histogram_text(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *h;
  const double b[] = {0.1, 0.5, 2.5};
  assert_int_equal(kube_metrics_histogram(r, &h, "reconcile_seconds", "Reconcile time.",
                                          "controller", b, 3), MBCAS_OK);
  assert_int_equal(kube_metric_observe(h, LV("sb"), 0.05), MBCAS_OK);
  assert_int_equal(kube_metric_observe(h, LV("sb"), 0.5), MBCAS_OK); /* le is inclusive */
  assert_int_equal(kube_metric_observe(h, LV("sb"), 7), MBCAS_OK);
  char *t = render(r);
  assert_string_equal(t,
                      "# HELP reconcile_seconds Reconcile time.\n"
                      "# TYPE reconcile_seconds histogram\n"
                      "reconcile_seconds_bucket{controller=\"sb\",le=\"0.1\"} 1\n"
                      "reconcile_seconds_bucket{controller=\"sb\",le=\"0.5\"} 2\n"
                      "reconcile_seconds_bucket{controller=\"sb\",le=\"2.5\"} 2\n"
                      "reconcile_seconds_bucket{controller=\"sb\",le=\"+Inf\"} 3\n"
                      "reconcile_seconds_sum{controller=\"sb\"} 7.55\n"
                      "reconcile_seconds_count{controller=\"sb\"} 3\n");
  free(t);
  assert_true(kube_metric_value(h, LV("sb")) == 3);
  assert_true(fabs(kube_metric_sum(h, LV("sb")) - 7.55) < 1e-12);
  kube_metrics_free(r);
}

static void test_histogram_default_buckets_no_labels(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *h;
  assert_int_equal(kube_metrics_histogram(r, &h, "x_seconds", "", NULL, NULL, 0), MBCAS_OK);
  assert_int_equal(kube_metric_observe(h, NULL, 0.02), MBCAS_OK);
  char *t = render(r);
  assert_non_null(strstr(t, "x_seconds_bucket{le=\"0.005\"} 0\n"));
  assert_non_null(strstr(t, "x_seconds_bucket{le=\"0.025\"} 1\n"));
  assert_non_null(strstr(t, "x_seconds_bucket{le=\"10\"} 1\n"));
  assert_non_null(strstr(t, "x_seconds_bucket{le=\"+Inf\"} 1\n"));
  assert_non_null(strstr(t, "x_seconds_sum 0.02\nx_seconds_count 1\n"));
  free(t);
  kube_metrics_free(r);
}

static void test_escaping(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(r, &c, "e_total", "a\\b\nc \"q\"", "path"), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("x\"y\\z\nw")), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV(NULL)), MBCAS_OK);
  char *t = render(r);
  assert_string_equal(t,
                      "# HELP e_total a\\\\b\\nc \"q\"\n"
                      "# TYPE e_total counter\n"
                      "e_total{path=\"x\\\"y\\\\z\\nw\"} 1\n"
                      "e_total{path=\"\"} 1\n");
  free(t);
  kube_metrics_free(r);
}

static void test_registration_rules(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *a, *b;
  assert_int_equal(kube_metrics_counter(r, &a, "a_total", "h", "x"), MBCAS_OK);
  assert_int_equal(kube_metrics_counter(r, &b, "a_total", "other help", "x"), MBCAS_OK);
  assert_ptr_equal(a, b); /* idempotent */
  assert_ptr_equal(kube_metrics_find(r, "a_total"), a);
  assert_null(kube_metrics_find(r, "nope"));
  assert_int_equal(kube_metrics_gauge(r, &b, "a_total", "h", "x"), MBCAS_EINVAL);
  assert_null(b);
  assert_int_equal(kube_metrics_counter(r, &b, "a_total", "h", "y"), MBCAS_EINVAL);
  assert_int_equal(kube_metrics_counter(r, &b, "9bad", "h", NULL), MBCAS_EINVAL);
  assert_int_equal(kube_metrics_counter(r, &b, "bad-name", "h", NULL), MBCAS_EINVAL);
  assert_int_equal(kube_metrics_counter(r, &b, "ok", "h", "le"), MBCAS_EINVAL);
  assert_int_equal(kube_metrics_counter(r, &b, "ok", "h", "a,,b"), MBCAS_EINVAL);
  assert_int_equal(kube_metrics_counter(r, &b, "ok", "h", "__x"), MBCAS_EINVAL);
  const double bad[] = {1, 1};
  assert_int_equal(kube_metrics_histogram(r, &b, "h", "h", NULL, bad, 2), MBCAS_EINVAL);
  /* wrong operations */
  assert_int_equal(kube_metric_add(a, LV("v"), -1), MBCAS_EINVAL);
  assert_int_equal(kube_metric_set(a, LV("v"), 1), MBCAS_EINVAL);
  assert_int_equal(kube_metric_observe(a, LV("v"), 1), MBCAS_EINVAL);
  assert_int_equal(kube_metric_inc(NULL, NULL), MBCAS_EINVAL);
  kube_metric *h;
  assert_int_equal(kube_metrics_histogram(r, &h, "h_seconds", "h", NULL, NULL, 0), MBCAS_OK);
  assert_int_equal(kube_metric_inc(h, NULL), MBCAS_EINVAL);
  kube_metrics_free(r);
}

static void test_series_cap(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(r, &c, "cap_total", "h", "k"), MBCAS_OK);
  char v[32];
  for (int i = 0; i < KUBE_METRICS_MAX_SERIES; i++) {
    snprintf(v, sizeof(v), "%d", i);
    assert_int_equal(kube_metric_inc(c, LV(v)), MBCAS_OK);
  }
  assert_int_equal(kube_metric_inc(c, LV("one-more")), MBCAS_ETOOMANY);
  assert_int_equal(kube_metric_inc(c, LV("0")), MBCAS_OK); /* existing still fine */
  kube_metrics_free(r);
}

static int collected;
static kube_metric *collected_gauge;
static void collector(void *ud) {
  collected++;
  kube_metric_set(collected_gauge, NULL, *(double *)ud);
}

static void test_collectors(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  assert_int_equal(kube_metrics_gauge(r, &collected_gauge, "depth", "d", NULL), MBCAS_OK);
  double v = 42;
  assert_int_equal(kube_metrics_add_collector(r, collector, &v), MBCAS_OK);
  collected = 0;
  char *t = render(r);
  assert_int_equal(collected, 1);
  assert_non_null(strstr(t, "depth 42\n"));
  free(t);
  kube_metrics_remove_collector(r, collector, &v);
  v = 7;
  t = render(r);
  assert_int_equal(collected, 1);
  assert_non_null(strstr(t, "depth 42\n"));
  free(t);
  assert_int_equal(kube_metrics_add_collector(r, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_metrics_add_collector(r, collector, &v), MBCAS_OK);
  kube_metrics_free(r); /* frees the collector still registered */
}

static void test_format_value(void **state) {
  (void)state;
  char b[64];
  assert_string_equal(kube_metrics_format_value(0, b, sizeof(b)), "0");
  assert_string_equal(kube_metrics_format_value(0.1, b, sizeof(b)), "0.1");
  assert_string_equal(kube_metrics_format_value(1e-8, b, sizeof(b)), "1e-08");
  assert_string_equal(kube_metrics_format_value(123456, b, sizeof(b)), "123456");
  assert_string_equal(kube_metrics_format_value(123456789, b, sizeof(b)), "1.23456789e+08");
  assert_string_equal(kube_metrics_format_value(10, b, sizeof(b)), "10");
  /* integral values: the %ld fast path below 1e6, Go's exponent form from 1e6 */
  assert_string_equal(kube_metrics_format_value(999999, b, sizeof(b)), "999999");
  assert_string_equal(kube_metrics_format_value(-999999, b, sizeof(b)), "-999999");
  assert_string_equal(kube_metrics_format_value(-42, b, sizeof(b)), "-42");
  assert_string_equal(kube_metrics_format_value(1e6, b, sizeof(b)), "1e+06");
  assert_string_equal(kube_metrics_format_value(-1e6, b, sizeof(b)), "-1e+06");
  assert_string_equal(kube_metrics_format_value(999999.5, b, sizeof(b)), "999999.5");
  assert_string_equal(kube_metrics_format_value(0.005, b, sizeof(b)), "0.005");
  assert_string_equal(kube_metrics_format_value(7.55, b, sizeof(b)), "7.55");
  assert_string_equal(kube_metrics_format_value(-2.5, b, sizeof(b)), "-2.5");
  assert_string_equal(kube_metrics_format_value(INFINITY, b, sizeof(b)), "+Inf");
  assert_string_equal(kube_metrics_format_value(-INFINITY, b, sizeof(b)), "-Inf");
  assert_string_equal(kube_metrics_format_value(NAN, b, sizeof(b)), "NaN");
  assert_true(strtod(kube_metrics_format_value(1.0 / 3, b, sizeof(b)), NULL) == 1.0 / 3);
}

static void test_default_registry(void **state) {
  (void)state;
  kube_metrics *d = kube_metrics_default();
  assert_non_null(d);
  assert_ptr_equal(kube_metrics_default(), d);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(d, &c, "d_total", "h", NULL), MBCAS_OK);
  kube_metrics_default_free();
  kube_metrics_default_free(); /* idempotent */
  d = kube_metrics_default();
  assert_null(kube_metrics_find(d, "d_total"));
  kube_metrics_default_free();
}

static void *hammer(void *arg) {
  kube_metric *c = arg;
  for (int i = 0; i < 10000; i++) kube_metric_inc(c, LV(i % 2 ? "a" : "b"));
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(r, &c, "t_total", "h", "k"), MBCAS_OK);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, c);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_true(kube_metric_value(c, LV("a")) == 20000);
  assert_true(kube_metric_value(c, LV("b")) == 20000);
  kube_metrics_free(r);
}

static void test_rest_hook(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metrics_rest_hook(r, "GET", 200, 0.01);
  kube_metrics_rest_hook(r, "GET", 200, 0.02);
  kube_metrics_rest_hook(r, "PATCH", 0, 3);
  kube_metrics_rest_hook(NULL, "GET", 200, 1); /* no registry: ignored */
  kube_metric *t = kube_metrics_find(r, "rest_client_requests_total");
  assert_true(kube_metric_value(t, LV("200", "GET")) == 2);
  assert_true(kube_metric_value(t, LV("<error>", "PATCH")) == 1);
  kube_metric *h = kube_metrics_find(r, "rest_client_request_duration_seconds");
  assert_true(kube_metric_value(h, LV("GET")) == 2);
  assert_true(fabs(kube_metric_sum(h, LV("GET")) - 0.03) < 1e-12);
  char *txt = render(r);
  assert_non_null(strstr(txt, "rest_client_requests_total{code=\"<error>\",verb=\"PATCH\"} 1\n"));
  assert_non_null(strstr(txt, "rest_client_request_duration_seconds_bucket{verb=\"PATCH\",le=\"4\"} 1\n"));
  free(txt);
  kube_metrics_free(r);
}

static void test_delete(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *g;
  assert_int_equal(kube_metrics_gauge(r, &g, "pod_cpu", "h", "namespace,pod"), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("ns", "a"), 1), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("ns", "b"), 2), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("ns", "c"), 3), MBCAS_OK);
  assert_int_equal(kube_metric_len(g), 3);
  assert_int_equal(kube_metric_delete(g, LV("ns", "b")), MBCAS_OK);
  assert_int_equal(kube_metric_delete(g, LV("ns", "b")), MBCAS_ENOTFOUND);
  assert_int_equal(kube_metric_delete(g, LV("other", "a")), MBCAS_ENOTFOUND);
  assert_int_equal(kube_metric_delete(NULL, LV("ns", "a")), MBCAS_EINVAL);
  assert_int_equal(kube_metric_len(g), 2);
  assert_true(kube_metric_value(g, LV("ns", "b")) == 0);
  char *t = render(r);
  assert_string_equal(t,
                      "# HELP pod_cpu h\n"
                      "# TYPE pod_cpu gauge\n"
                      "pod_cpu{namespace=\"ns\",pod=\"a\"} 1\n"
                      "pod_cpu{namespace=\"ns\",pod=\"c\"} 3\n");
  free(t);
  /* Head and tail too; a deleted series comes back new, at the end. */
  assert_int_equal(kube_metric_delete(g, LV("ns", "a")), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("ns", "b"), 5), MBCAS_OK);
  assert_int_equal(kube_metric_delete(g, LV("ns", "b")), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("ns", "a"), 4), MBCAS_OK);
  t = render(r);
  assert_string_equal(t,
                      "# HELP pod_cpu h\n"
                      "# TYPE pod_cpu gauge\n"
                      "pod_cpu{namespace=\"ns\",pod=\"c\"} 3\n"
                      "pod_cpu{namespace=\"ns\",pod=\"a\"} 4\n");
  free(t);
  /* A family without labels: its one series. */
  kube_metric *one;
  assert_int_equal(kube_metrics_gauge(r, &one, "one", "h", NULL), MBCAS_OK);
  assert_int_equal(kube_metric_set(one, NULL, 1), MBCAS_OK);
  assert_int_equal(kube_metric_delete(one, NULL), MBCAS_OK);
  assert_int_equal(kube_metric_len(one), 0);
  assert_int_equal(kube_metric_delete(one, NULL), MBCAS_ENOTFOUND);
  kube_metrics_free(r);
}

static void test_label_identity(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *c;
  assert_int_equal(kube_metrics_counter(r, &c, "id_total", "h", "a,b"), MBCAS_OK);
  /* Values that concatenate alike are distinct series; NULL is "". */
  assert_int_equal(kube_metric_inc(c, LV("ab", "")), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("a", "b")), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("", "ab")), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("ab", NULL)), MBCAS_OK);
  assert_int_equal(kube_metric_len(c), 3);
  assert_true(kube_metric_value(c, LV("ab", "")) == 2);
  assert_true(kube_metric_value(c, LV("a", "b")) == 1);
  assert_true(kube_metric_value(c, LV("a", "")) == 0);
  assert_true(kube_metric_value(c, LV("abc", "")) == 0);
  assert_true(kube_metric_value(c, LV("a", "bc")) == 0);
  kube_metrics_free(r);
}

static void test_delete_match_and_reset(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *g;
  assert_int_equal(kube_metrics_gauge(r, &g, "alloc", "h", "market,namespace,pod"), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m1", "ns", "p1"), 1), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m2", "ns", "p1"), 2), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m1", "ns", "p2"), 3), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m1", "other", "p1"), 4), MBCAS_OK);
  assert_int_equal(kube_metric_delete_match(g, LV(NULL, "ns", "p1")), 2);
  assert_int_equal(kube_metric_delete_match(g, LV(NULL, "ns", "p1")), 0);
  assert_int_equal(kube_metric_len(g), 2);
  assert_true(kube_metric_value(g, LV("m1", "ns", "p2")) == 3);
  assert_true(kube_metric_value(g, LV("m1", "other", "p1")) == 4);
  assert_int_equal(kube_metric_delete_match(g, LV("m1", NULL, "")), 0); /* "" is a value */
  assert_int_equal(kube_metric_delete_match(g, NULL), 2);
  assert_int_equal(kube_metric_len(g), 0);
  assert_int_equal(kube_metric_delete_match(NULL, NULL), 0);
  /* reset: a histogram family keeps its registration and takes new series. */
  kube_metric *h;
  const double b[] = {1, 2};
  assert_int_equal(kube_metrics_histogram(r, &h, "lat", "h", "k", b, 2), MBCAS_OK);
  assert_int_equal(kube_metric_observe(h, LV("x"), 1.5), MBCAS_OK);
  assert_int_equal(kube_metric_observe(h, LV("y"), 0.5), MBCAS_OK);
  kube_metric_reset(h);
  kube_metric_reset(NULL);
  assert_int_equal(kube_metric_len(h), 0);
  char *t = render(r);
  assert_string_equal(t,
                      "# HELP alloc h\n# TYPE alloc gauge\n"
                      "# HELP lat h\n# TYPE lat histogram\n");
  free(t);
  assert_int_equal(kube_metric_observe(h, LV("y"), 3), MBCAS_OK);
  t = render(r);
  assert_non_null(strstr(t, "lat_bucket{k=\"y\",le=\"2\"} 0\n"
                            "lat_bucket{k=\"y\",le=\"+Inf\"} 1\n"
                            "lat_sum{k=\"y\"} 3\n"
                            "lat_count{k=\"y\"} 1\n"));
  assert_null(strstr(t, "k=\"x\""));
  free(t);
  kube_metrics_free(r);
}

static void test_mark_sweep(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *g, *c;
  assert_int_equal(kube_metrics_gauge(r, &g, "alloc", "h", "market,pod"), MBCAS_OK);
  assert_int_equal(kube_metrics_counter(r, &c, "n_total", "h", "pod"), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m1", "a"), 1), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m1", "b"), 2), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m2", "c"), 3), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("m2", "d"), 4), MBCAS_OK);
  /* A pass over market m1 that only sees pod a: b goes, m2 is left alone. */
  uint32_t t1 = kube_metric_mark(g);
  assert_int_equal(kube_metric_set(g, LV("m1", "a"), 10), MBCAS_OK);
  assert_true(kube_metric_value(g, LV("m1", "b")) == 2); /* reading is not an update */
  assert_int_equal(kube_metric_sweep(g, LV("m1", NULL), t1), 1);
  assert_int_equal(kube_metric_len(g), 3);
  assert_true(kube_metric_value(g, LV("m1", "a")) == 10);
  assert_true(kube_metric_value(g, LV("m1", "b")) == 0);
  /* Interleaved marks: a sweep with the older token keeps what was updated after
   * it, even when a newer mark was taken in between. */
  uint32_t t2 = kube_metric_mark(g);
  uint32_t t3 = kube_metric_mark(g);
  assert_true(t3 != t2);
  assert_int_equal(kube_metric_set(g, LV("m2", "c"), 30), MBCAS_OK); /* after t3 */
  assert_int_equal(kube_metric_sweep(g, LV("m2", NULL), t2), 1);     /* d */
  assert_true(kube_metric_value(g, LV("m2", "c")) == 30);
  assert_true(kube_metric_value(g, LV("m2", "d")) == 0);
  /* Whole family: m1/a was last set before t2. */
  assert_int_equal(kube_metric_sweep(g, NULL, t3), 1);
  assert_int_equal(kube_metric_len(g), 1);
  /* A series created after the mark survives its sweep; inc counts as an update. */
  assert_int_equal(kube_metric_inc(c, LV("old")), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("kept")), MBCAS_OK);
  uint32_t t4 = kube_metric_mark(c);
  assert_int_equal(kube_metric_inc(c, LV("kept")), MBCAS_OK);
  assert_int_equal(kube_metric_inc(c, LV("new")), MBCAS_OK);
  assert_int_equal(kube_metric_sweep(c, NULL, t4), 1);
  assert_true(kube_metric_value(c, LV("kept")) == 2);
  assert_true(kube_metric_value(c, LV("new")) == 1);
  assert_true(kube_metric_value(c, LV("old")) == 0);
  assert_int_equal(kube_metric_mark(NULL), 0);
  assert_int_equal(kube_metric_sweep(NULL, NULL, 1), 0);
  kube_metrics_free(r);
}

static void test_many_series_and_limit(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *g;
  assert_int_equal(kube_metrics_gauge(r, &g, "big", "h", "ns,pod"), MBCAS_OK);
  assert_int_equal(kube_metric_set_limit(g, 0), MBCAS_EINVAL);
  assert_int_equal(kube_metric_set_limit(NULL, 5), MBCAS_EINVAL);
  assert_int_equal(kube_metric_set_limit(g, 3), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("n", "1"), 1), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("n", "2"), 1), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("n", "3"), 1), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("n", "4"), 1), MBCAS_ETOOMANY);
  assert_int_equal(kube_metric_delete(g, LV("n", "2")), MBCAS_OK);
  assert_int_equal(kube_metric_set(g, LV("n", "4"), 1), MBCAS_OK); /* room again */
  assert_int_equal(kube_metric_set(g, LV("n", "5"), 1), MBCAS_ETOOMANY);
  kube_metric_reset(g);
  /* 20,000 series: several table growths; every value found, deletes of every
   * other one leave the rest intact and in creation order. */
  enum { N = 20000 };
  assert_int_equal(kube_metric_set_limit(g, N), MBCAS_OK);
  char v[32];
  for (int i = 0; i < N; i++) {
    snprintf(v, sizeof(v), "pod-%d", i);
    assert_int_equal(kube_metric_set(g, LV("ns", v), i), MBCAS_OK);
  }
  assert_int_equal(kube_metric_set(g, LV("ns", "extra"), 1), MBCAS_ETOOMANY);
  for (int i = 0; i < N; i++) {
    snprintf(v, sizeof(v), "pod-%d", i);
    assert_true(kube_metric_value(g, LV("ns", v)) == i);
  }
  for (int i = 0; i < N; i += 2) {
    snprintf(v, sizeof(v), "pod-%d", i);
    assert_int_equal(kube_metric_delete(g, LV("ns", v)), MBCAS_OK);
  }
  assert_int_equal(kube_metric_len(g), N / 2);
  for (int i = 0; i < N; i++) {
    snprintf(v, sizeof(v), "pod-%d", i);
    assert_true(kube_metric_value(g, LV("ns", v)) == (i % 2 ? i : 0));
  }
  char *t = render(r);
  const char *p = t;
  for (int i = 1; i < N; i += 2) {
    char line[96];
    snprintf(line, sizeof(line), "big{ns=\"ns\",pod=\"pod-%d\"} %d\n", i, i);
    const char *q = strstr(p, line);
    assert_non_null(q);
    p = q + strlen(line);
  }
  assert_null(strstr(t, "pod=\"pod-0\""));
  free(t);
  kube_metrics_free(r);
}

static void *churn(void *arg) {
  kube_metric *g = arg;
  char v[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(v, sizeof(v), "p%d", i % 97);
    kube_metric_set(g, LV(v), i);
    if (i % 3 == 0) kube_metric_delete(g, LV(v));
    if (i % 500 == 0) kube_metric_sweep(g, NULL, kube_metric_mark(g));
  }
  return NULL;
}

static void test_threads_delete(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  kube_metric *g;
  assert_int_equal(kube_metrics_gauge(r, &g, "churn", "h", "pod"), MBCAS_OK);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, g);
  for (int i = 0; i < 3; i++) {
    char *txt = render(r);
    free(txt);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_true(kube_metric_len(g) <= 97);
  size_t lines = 0;
  char *txt = render(r);
  for (const char *p = txt; (p = strstr(p, "churn{")) != NULL; p++) lines++;
  free(txt);
  assert_int_equal(lines, kube_metric_len(g));
  kube_metrics_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_gauge_text),
      cmocka_unit_test(test_histogram_text),
      cmocka_unit_test(test_histogram_default_buckets_no_labels),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_registration_rules),
      cmocka_unit_test(test_series_cap),
      cmocka_unit_test(test_collectors),
      cmocka_unit_test(test_format_value),
      cmocka_unit_test(test_default_registry),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_rest_hook),
      cmocka_unit_test(test_delete),
      cmocka_unit_test(test_label_identity),
      cmocka_unit_test(test_delete_match_and_reset),
      cmocka_unit_test(test_mark_sweep),
      cmocka_unit_test(test_many_series_and_limit),
      cmocka_unit_test(test_threads_delete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
