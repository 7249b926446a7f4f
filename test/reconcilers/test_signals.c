/* test_signals.c - demand signal parsers and fetchers (reconcilers/signals.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fakeapi.h"
#include "signals.h"

static const char *PM =
    "{\"kind\":\"PodMetricsList\",\"items\":["
    "{\"metadata\":{\"name\":\"a\"},\"containers\":["
    "{\"name\":\"app\",\"usage\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}},"
    "{\"name\":\"side\",\"usage\":{\"cpu\":\"1500000n\",\"memory\":\"1Ki\"}}]},"
    "{\"metadata\":{\"name\":\"b\"},\"containers\":[{\"name\":\"app\",\"usage\":{}}]}]}";

static void test_usage(void **s) {
  (void)s;
  cJSON *l = cJSON_Parse(PM);
  const cJSON *a = sig_find_pod_metrics(l, "a");
  assert_non_null(a);
  assert_null(sig_find_pod_metrics(l, "zz"));
  int64_t v;
  assert_int_equal(sig_pod_cpu_usage(&v, a, "app"), MBCAS_OK);
  assert_int_equal(v, 250);
  assert_int_equal(sig_pod_cpu_usage(&v, a, NULL), MBCAS_OK);
  assert_int_equal(v, 252); /* 1.5m rounds up to 2m */
  assert_int_equal(sig_pod_mem_usage(&v, a, "app"), MBCAS_OK);
  assert_int_equal(v, 64 * 1024 * 1024);
  assert_int_equal(sig_pod_cpu_usage(&v, a, "nope"), MBCAS_ENOTFOUND);
  assert_int_equal(sig_pod_cpu_usage(&v, sig_find_pod_metrics(l, "b"), "app"), MBCAS_ENOTFOUND);
  cJSON_Delete(l);
}

static void test_fetch(void **s) {
  (void)s;
  fake_api *f = fake_new();
  rec_api api;
  fake_api_fill(f, &api);
  fake_put_json(f, "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods", PM);
  cJSON *out = NULL;
  assert_int_equal(sig_fetch_pod_metrics(&out, &api, "shop"), MBCAS_OK);
  assert_non_null(sig_find_pod_metrics(out, "a"));
  cJSON_Delete(out);
  assert_int_equal(sig_fetch_pod_metrics(&out, &api, NULL), MBCAS_ENOTFOUND);
  assert_int_equal(fake_count(f, "GET", "/apis/metrics.k8s.io/v1beta1/pods"), 1);
  fake_free(f);
}

typedef struct got {
  int n;
  char names[16][32];
  int stop_after;
} got;

static int on_item(void *ud, const cJSON *it) {
  got *g = ud;
  const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "metadata"), "name"));
  if (g->n < 16) snprintf(g->names[g->n], sizeof g->names[0], "%s", n ? n : "?");
  g->n++;
  return g->stop_after && g->n >= g->stop_after;
}

/* Items of a list split out of its text fed in pieces of every size. */
static void test_items_split(void **s) {
  (void)s;
  const char *text =
      "{\"kind\":\"PodMetricsList\",\"metadata\":{\"items\":[{\"no\":1}]},\"x\":\"items\","
      "\"items\" : [ {\"metadata\":{\"name\":\"a\"},\"s\":\"br}]ack\\\"ets{[\"},"
      "{\"metadata\":{\"name\":\"b\",\"l\":[1,[2,{}]]}} ,{\"metadata\":{\"name\":\"\\u00e9\\\\\"}}],"
      "\"after\":{\"items\":[{\"metadata\":{\"name\":\"nested\"}}]}}";
  cJSON *whole = cJSON_Parse(text);
  assert_non_null(whole); /* the text itself is valid JSON */
  cJSON_Delete(whole);
  size_t n = strlen(text);
  for (size_t piece = 1; piece <= n; piece = piece < 8 ? piece + 1 : piece * 2) {
    got g;
    memset(&g, 0, sizeof g);
    sig_items *sp = sig_items_new(on_item, &g);
    assert_non_null(sp);
    for (size_t i = 0; i < n; i += piece)
      assert_int_equal(sig_items_feed(sp, text + i, n - i < piece ? n - i : piece), MBCAS_OK);
    assert_int_equal(sig_items_end(sp), MBCAS_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(sig_items_count(sp), 3);
    assert_string_equal(g.names[0], "a");
    assert_string_equal(g.names[1], "b");
    assert_string_equal(g.names[2], "\xc3\xa9\\");
    sig_items_free(sp);
  }
  /* stop early: the rest is ignored, even if cut short */
  got g;
  memset(&g, 0, sizeof g);
  g.stop_after = 1;
  sig_items *sp = sig_items_new(on_item, &g);
  assert_int_equal(sig_items_feed(sp, text, n / 2), MBCAS_OK);
  assert_int_equal(sig_items_end(sp), MBCAS_OK);
  assert_int_equal(g.n, 1);
  sig_items_free(sp);
  /* cut short, not JSON, an element that does not parse, an empty list */
  memset(&g, 0, sizeof g);
  sp = sig_items_new(on_item, &g);
  assert_int_equal(sig_items_feed(sp, text, n - 3), MBCAS_OK);
  assert_int_equal(sig_items_end(sp), MBCAS_EINVAL);
  sig_items_free(sp);
  sp = sig_items_new(on_item, &g);
  assert_int_equal(sig_items_feed(sp, "[1]", 3), MBCAS_EINVAL);
  sig_items_free(sp);
  sp = sig_items_new(on_item, &g);
  assert_int_equal(sig_items_feed(sp, "{}}", 3), MBCAS_EINVAL);
  sig_items_free(sp);
  sp = sig_items_new(on_item, &g);
  assert_int_equal(sig_items_feed(sp, "{\"items\":[{\"a\":tru}]}", 21), MBCAS_EINVAL);
  sig_items_free(sp);
  memset(&g, 0, sizeof g);
  sp = sig_items_new(on_item, &g);
  assert_int_equal(sig_items_feed(sp, "{\"items\":[]}", 12), MBCAS_OK);
  assert_int_equal(sig_items_end(sp), MBCAS_OK);
  assert_int_equal(g.n, 0);
  sig_items_free(sp);
  sig_items_free(NULL);
}

/* Item by item, through get_items or (without it) one get. */
static void test_each_pod_metrics(void **s) {
  (void)s;
  for (int no_items = 0; no_items < 2; no_items++) {
    fake_api *f = fake_new();
    f->no_get_items = no_items;
    rec_api api;
    fake_api_fill(f, &api);
    assert_true(no_items ? api.get_items == NULL : api.get_items != NULL);
    fake_put_json(f, "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods", PM);
    got g;
    memset(&g, 0, sizeof g);
    assert_int_equal(sig_each_pod_metrics(&api, "shop", on_item, &g), MBCAS_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.names[0], "a");
    assert_string_equal(g.names[1], "b");
    memset(&g, 0, sizeof g);
    g.stop_after = 1;
    assert_int_equal(sig_each_pod_metrics(&api, "shop", on_item, &g), MBCAS_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(sig_each_pod_metrics(&api, NULL, on_item, &g), MBCAS_ENOTFOUND);
    fake_free(f);
  }
}

static void test_demand(void **s) {
  (void)s;
  double v = -1;
  assert_int_equal(sig_parse_demand(&v, "0.75\n"), MBCAS_OK);
  assert_true(v == 0.75);
  assert_int_equal(sig_parse_demand(&v, " 3"), MBCAS_OK);
  assert_true(v == 1.0);
  assert_int_equal(sig_parse_demand(&v, "-2"), MBCAS_OK);
  assert_true(v == 0.0);
  assert_int_equal(sig_parse_demand(&v, "high"), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, "0.5 0.6"), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, ""), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, "nan"), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, NULL), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, " {\"demand\": 0.4, \"queueLength\": 3}"), MBCAS_OK);
  assert_true(v == 0.4);
  assert_int_equal(sig_parse_demand(&v, "{\"demand\": 7}"), MBCAS_OK);
  assert_true(v == 1.0);
  assert_int_equal(sig_parse_demand(&v, "{\"demand\": \"high\"}"), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, "{\"other\": 1}"), MBCAS_EINVAL);
  assert_int_equal(sig_parse_demand(&v, "{broken"), MBCAS_EINVAL);
}

static void test_prom_text(void **s) {
  (void)s;
  const char *body =
      "# HELP queue_depth jobs\n# TYPE queue_depth gauge\n"
      "queue_depth_total 9\n"
      "queue_depth{queue=\"a}b\",x=\"\\\"q\"} 42.5 1700000000\n"
      "other 1\n"
      "bad_metric{a=\"b\"} xyz\n";
  double v;
  assert_int_equal(sig_parse_prom_text(&v, body, "queue_depth"), MBCAS_OK);
  assert_true(v == 42.5);
  assert_int_equal(sig_parse_prom_text(&v, body, "queue_depth_total"), MBCAS_OK);
  assert_true(v == 9);
  assert_int_equal(sig_parse_prom_text(&v, body, "other"), MBCAS_OK);
  assert_true(v == 1);
  assert_int_equal(sig_parse_prom_text(&v, body, "missing"), MBCAS_ENOTFOUND);
  assert_int_equal(sig_parse_prom_text(&v, body, "bad_metric"), MBCAS_EINVAL);
  assert_int_equal(sig_parse_prom_text(&v, "x 1", ""), MBCAS_EINVAL);
  assert_int_equal(sig_parse_prom_text(&v, "x 1", "x"), MBCAS_OK);
}

static void test_paths(void **s) {
  (void)s;
  char b[256];
  assert_string_equal(sig_pod_proxy_path(b, sizeof b, "shop", "web-1", 9090, "/demand"),
                      "/api/v1/namespaces/shop/pods/web-1:9090/proxy/demand");
  assert_string_equal(sig_pod_proxy_path(b, sizeof b, "shop", "web-1", 80, "metrics"),
                      "/api/v1/namespaces/shop/pods/web-1:80/proxy/metrics");
  assert_string_equal(sig_pod_proxy_path(b, sizeof b, "shop", "w", 80, NULL),
                      "/api/v1/namespaces/shop/pods/w:80/proxy/demand");
  char *q = sig_expand_query("sum(x{namespace=\"$namespace\",service=\"$service\"}) $other", "shop", "web");
  assert_string_equal(q, "sum(x{namespace=\"shop\",service=\"web\"}) $other");
  free(q);
}

static void test_prom_answer(void **s) {
  (void)s;
  double v;
  mbcas_err e;
  assert_int_equal(sig_parse_prom_answer(&v,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
      "{\"metric\":{},\"value\":[1700000000.1,\"0.125\"]}]}}", &e), MBCAS_OK);
  assert_true(v == 0.125);
  assert_int_equal(sig_parse_prom_answer(&v,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"7\"]}}", &e), MBCAS_OK);
  assert_true(v == 7);
  assert_int_equal(sig_parse_prom_answer(&v,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", &e), MBCAS_ENOTFOUND);
  assert_int_equal(sig_parse_prom_answer(&v,
      "{\"status\":\"error\",\"error\":\"parse error at char 3\"}", &e), MBCAS_EINVAL);
  assert_non_null(strstr(e.msg, "parse error"));
  assert_int_equal(sig_parse_prom_answer(&v,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", &e), MBCAS_EINVAL);
  assert_int_equal(sig_parse_prom_answer(&v,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"x\"]}}", &e), MBCAS_EINVAL);
  assert_int_equal(sig_parse_prom_answer(&v, "not json", &e), MBCAS_EINVAL);
}

static void test_prom_query_unreachable(void **s) {
  (void)s;
  double v;
  mbcas_err e;
  /* Port 1 on loopback: nothing listens; the error is reported, nothing hangs. */
  mbcas_rc rc = sig_prom_query(&v, "http://127.0.0.1:1/", "up", 2000, &e);
  assert_true(rc == MBCAS_EUNAVAILABLE || rc == MBCAS_ETIMEOUT);
  assert_non_null(strstr(e.msg, "prometheus"));
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_usage),     cmocka_unit_test(test_fetch),
      cmocka_unit_test(test_items_split), cmocka_unit_test(test_each_pod_metrics),
      cmocka_unit_test(test_demand),    cmocka_unit_test(test_prom_text),
      cmocka_unit_test(test_paths),     cmocka_unit_test(test_prom_answer),
      cmocka_unit_test(test_prom_query_unreachable),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return r;
}
