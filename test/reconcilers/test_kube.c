/* test_kube.c - the reconcilers' kube bindings against the API-server emulator:
 * recapi_kube.c (rec_api over kube_request), source.c (watches -> snapshot) and
 * observer_kube.c (metrics, aggregated Events). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "apiserver_fixture.h"
#include "config.h"
#include "fakeapi.h"
#include "metrics.h"
#include "observer_kube.h"
#include "recapi_kube.h"
#include "recutil.h"
#include "rest.h"
#include "source.h"

static apiserver_fixture fx;
static kube_config *cfg;
static kube_client *kc;

static int setup(void **s) {
  (void)s;
  if (fixture_start(&fx, NULL, NULL, NULL) != 0) return -1;
  if (kube_config_load(&cfg, fx.kubeconfig, NULL, NULL) != MBCAS_OK) return -1;
  if (kube_client_new(&kc, cfg, NULL, NULL) != MBCAS_OK) return -1;
  fixture_http(&fx, "POST", "/api/v1/namespaces",
               "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}");
  return 0;
}

static int teardown(void **s) {
  (void)s;
  kube_client_free(kc);
  kube_config_free(cfg);
  fixture_stop(&fx);
  return 0;
}

static int count_item(void *ud, const cJSON *it) {
  (void)it;
  (*(int *)ud)++;
  return 0;
}

static int find_d(void *ud, const cJSON *it) {
  if (strcmp(ru_str(it, "metadata.name"), "d") != 0) return 0;
  *(int *)ud = strcmp(ru_str(it, "data.b"), "]}") == 0;
  return 1; /* found: stop */
}

static void test_recapi(void **s) {
  (void)s;
  rec_api api;
  rec_api_kube(&api, kc);
  cJSON *o = NULL;
  assert_int_equal(api.get(api.ctx, "/api/v1/namespaces/shop", &o), MBCAS_OK);
  assert_string_equal(ru_str(o, "metadata.name"), "shop");
  cJSON_Delete(o);
  assert_int_equal(api.get(api.ctx, "/api/v1/namespaces/nope", &o), MBCAS_ENOTFOUND);
  assert_null(o);
  const char *cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}";
  assert_int_equal(api.post(api.ctx, "/api/v1/namespaces/shop/configmaps", cm, &o), MBCAS_OK);
  assert_string_equal(ru_str(o, "data.a"), "1");
  cJSON_Delete(o);
  assert_int_equal(api.patch(api.ctx, "/api/v1/namespaces/shop/configmaps/c", REC_PATCH_MERGE,
                             "{\"data\":{\"a\":\"2\"}}", &o), MBCAS_OK);
  assert_string_equal(ru_str(o, "data.a"), "2");
  cJSON_Delete(o);
  assert_int_equal(api.put(api.ctx, "/api/v1/namespaces/shop/configmaps/c",
                           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"1\"},\"data\":{}}",
                           &o), MBCAS_ECONFLICT);
  cJSON_Delete(o);
  char *raw = NULL;
  size_t len = 0;
  assert_int_equal(api.get_raw(api.ctx, "/version", &raw, &len), MBCAS_OK);
  assert_non_null(strstr(raw, "gitVersion"));
  assert_int_equal(len, strlen(raw));
  free(raw);
  /* a list item by item, as it streams in */
  const char *cm2 = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"d\"},\"data\":{\"b\":\"]}\"}}";
  assert_int_equal(api.post(api.ctx, "/api/v1/namespaces/shop/configmaps", cm2, NULL), MBCAS_OK);
  assert_non_null(api.get_items);
  int n_items = 0, saw_d = 0;
  assert_int_equal(api.get_items(api.ctx, "/api/v1/namespaces/shop/configmaps", count_item, &n_items),
                   MBCAS_OK);
  assert_true(n_items >= 2);
  assert_int_equal(api.get_items(api.ctx, "/api/v1/namespaces/shop/configmaps", find_d, &saw_d),
                   MBCAS_OK);
  assert_int_equal(saw_d, 1);
  n_items = 0;
  assert_int_equal(api.get_items(api.ctx, "/apis/nope.example/v1/things", count_item, &n_items),
                   MBCAS_ENOTFOUND);
  assert_int_equal(n_items, 0);
}

static int changes;
static void on_change(void *ud, rec_src_kind k) {
  (void)ud;
  if (k == REC_SRC_BUDGETS || k == REC_SRC_MARKETS) __atomic_add_fetch(&changes, 1, __ATOMIC_SEQ_CST);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_source(void **s) {
  (void)s;
  /* CRDs first, so the watches have something to list */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s apply --kubeconfig %s -f %s/crds >/dev/null 2>&1", getenv("KUBECTL"),
           fx.kubeconfig, getenv("MBCAS_SOURCE_DIR"));
  assert_int_equal(system(cmd), 0);
  rec_source *src = NULL;
  assert_int_equal(rec_source_new(&src, kc, NULL, on_change, NULL), MBCAS_OK);
  assert_int_equal(rec_source_start(src), MBCAS_OK);
  for (int i = 0; i < 200 && !rec_source_synced(src); i++) sleep_ms(50);
  assert_true(rec_source_synced(src));
  assert_int_equal(fixture_http(&fx, "POST", "/apis/mbcas.io/v1alpha1/scalingmarkets",
                                "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ScalingMarket\",\"metadata\":{\"name\":\"m\"},\"spec\":{}}"),
                   201);
  assert_int_equal(fixture_http(&fx, "POST", "/api/v1/namespaces/shop/pods",
                                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"annotations\":{\"big\":\"x\"}},"
                                "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}"),
                   201);
  rec_snapshot snap;
  int ok = 0;
  for (int i = 0; i < 200 && !ok; i++) {
    rec_source_snapshot(src, &snap);
    ok = snap.n_markets == 1 && snap.n_pods == 1;
    if (ok) {
      assert_string_equal(ru_str(snap.markets[0], "metadata.name"), "m");
      /* pods are the cache's compact records */
      assert_string_equal(snap.pods[0]->name, "p1");
      assert_string_equal(snap.pods[0]->ns, "shop");
      assert_int_equal(snap.pods[0]->ncontainers, 1);
      assert_string_equal(snap.pods[0]->containers[0].name, "c");
      assert_true(snap.n_namespaces >= 1);
    }
    rec_source_release(src, &snap);
    if (!ok) sleep_ms(50);
  }
  assert_true(ok);
  assert_true(__atomic_load_n(&changes, __ATOMIC_SEQ_CST) >= 1);
  /* a status-only change is not a "change"; a deletion is */
  int before = __atomic_load_n(&changes, __ATOMIC_SEQ_CST);
  assert_int_equal(fixture_http(&fx, "DELETE", "/apis/mbcas.io/v1alpha1/scalingmarkets/m", NULL), 200);
  for (int i = 0; i < 200 && __atomic_load_n(&changes, __ATOMIC_SEQ_CST) == before; i++) sleep_ms(50);
  assert_true(__atomic_load_n(&changes, __ATOMIC_SEQ_CST) > before);
  /* dropped watches: the cache recovers */
  assert_int_equal(fixture_fault(&fx, "{\"dropWatches\":true}"), 0);
  assert_int_equal(fixture_http(&fx, "POST", "/apis/mbcas.io/v1alpha1/scalingmarkets",
                                "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ScalingMarket\",\"metadata\":{\"name\":\"m2\"},\"spec\":{}}"),
                   201);
  ok = 0;
  for (int i = 0; i < 200 && !ok; i++) {
    rec_source_snapshot(src, &snap);
    ok = snap.n_markets == 1 && strcmp(ru_str(snap.markets[0], "metadata.name"), "m2") == 0;
    rec_source_release(src, &snap);
    if (!ok) sleep_ms(50);
  }
  assert_true(ok);
  (void)rec_source_errors(src);
  rec_source_free(src);
  rec_source_free(NULL);
}

static void test_observer(void **s) {
  (void)s;
  kube_metrics *reg = NULL;
  assert_int_equal(kube_metrics_new(&reg), MBCAS_OK);
  fake_api *f = fake_new();
  rec_api api;
  fake_api_fill(f, &api);
  rec_kobs *k = NULL;
  assert_int_equal(rec_kobs_new(&k, reg, &api, "mbcas-operator", "test"), MBCAS_OK);
  rec_observer o;
  rec_kobs_observer(k, &o);
  o.pod_allocated(o.ud, "m", "n1", "shop", "p", "web", 750);
  o.pod_usage(o.ud, "shop", "p", 300);
  o.budget(o.ud, "shop", "web", 0.5, 150, 0.75, 0.6);
  o.node_price(o.ud, "m", "n1", 10);
  o.resize(o.ud, ACT_APPLIED, 250);
  o.resize(o.ud, ACT_DEFERRED, 0);
  o.scale(o.ud, ACT_FAILED);
  o.clearing(o.ud, "m", 0.002);
  o.cycle_done(o.ud);
  char *text = NULL;
  assert_int_equal(kube_metrics_render(reg, &text, NULL), MBCAS_OK);
  assert_non_null(strstr(text, "mbcas_pod_allocated_cpu_millicores{market=\"m\",node=\"n1\",namespace=\"shop\",pod=\"p\",servicebudget=\"web\"} 750"));
  assert_non_null(strstr(text, "mbcas_pod_usage_cpu_millicores{namespace=\"shop\",pod=\"p\"} 300"));
  assert_non_null(strstr(text, "mbcas_servicebudget_effective_bid{namespace=\"shop\",servicebudget=\"web\"} 150"));
  assert_non_null(strstr(text, "mbcas_servicebudget_allocation_share"));
  assert_non_null(strstr(text, "mbcas_node_clearing_price{market=\"m\",node=\"n1\"} 10"));
  assert_non_null(strstr(text, "mbcas_resizes_total{result=\"applied\"} 1"));
  assert_non_null(strstr(text, "mbcas_resizes_total{result=\"deferred\"} 1"));
  assert_non_null(strstr(text, "mbcas_scales_total{result=\"failed\"} 1"));
  assert_non_null(strstr(text, "mbcas_clearing_duration_seconds_count 1"));
  assert_non_null(strstr(text, "mbcas_resize_step_millicores_count 1"));
  free(text);
  /* a pod that the next clearing of its market does not set leaves /metrics; another
   * market's series stay */
  o.pod_allocated(o.ud, "m2", "n1", "shop", "other", "api", 100);
  o.clearing(o.ud, "m2", 0.001);
  o.pod_allocated(o.ud, "m", "n1", "shop", "q", "web", 500);
  o.clearing(o.ud, "m", 0.002);
  assert_int_equal(kube_metrics_render(reg, &text, NULL), MBCAS_OK);
  assert_null(strstr(text, "pod=\"p\",servicebudget"));
  assert_non_null(strstr(text, "pod=\"q\",servicebudget=\"web\"} 500"));
  assert_non_null(strstr(text, "pod=\"other\",servicebudget=\"api\"} 100"));
  free(text);
  /* more pods than the registry's default cap of 2,000 are exported */
  char pn[32];
  for (int i = 0; i < 2500; i++) {
    snprintf(pn, sizeof pn, "p%d", i);
    o.pod_allocated(o.ud, "m", "n1", "shop", pn, "web", i);
  }
  assert_int_equal(kube_metrics_render(reg, &text, NULL), MBCAS_OK);
  assert_non_null(strstr(text, "pod=\"p2499\""));
  free(text);
  /* Events: created once, then aggregated by (object, reason) */
  cJSON *obj = cJSON_Parse("{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ServiceBudget\","
                           "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"u1\"}}");
  o.event(o.ud, obj, "Normal", "Resized", "resized 1 pod(s): a 1->2");
  o.event(o.ud, obj, "Normal", "Resized", "resized 1 pod(s): a 2->3");
  o.event(o.ud, obj, "Warning", "Invalid", "bad");
  unsigned long created = 0, patched = 0;
  rec_kobs_counts(k, &created, &patched);
  assert_int_equal(created, 2);
  assert_int_equal(patched, 1);
  assert_int_equal(fake_count(f, "POST", "/api/v1/namespaces/shop/events"), 2);
  int i = fake_first(f, "PATCH", "/api/v1/namespaces/shop/events/web.");
  assert_true(i >= 0);
  assert_non_null(strstr(f->calls[i].body, "\"count\":2"));
  assert_non_null(strstr(f->calls[0].body, "\"involvedObject\""));
  /* cluster-scoped objects report into "default"; a gone Event is created again */
  cJSON *sm = cJSON_Parse("{\"kind\":\"ScalingMarket\",\"metadata\":{\"name\":\"m\",\"uid\":\"u2\"}}");
  o.event(o.ud, sm, "Warning", "Invalid", "x");
  assert_int_equal(fake_count(f, "POST", "/api/v1/namespaces/default/events"), 1);
  fake_fail(f, "PATCH", "/events/", 1, MBCAS_ENOTFOUND);
  o.event(o.ud, sm, "Warning", "Invalid", "y");
  assert_int_equal(fake_count(f, "POST", "/api/v1/namespaces/default/events"), 2);
  cJSON_Delete(sm);
  cJSON_Delete(obj);
  rec_kobs_free(k);
  rec_kobs_free(NULL);
  fake_free(f);
  kube_metrics_free(reg);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(test_observer),
  };
  int r = cmocka_run_group_tests_name("pure", pure, NULL, NULL);
  if (fixture_available() == 0) {
    const struct CMUnitTest emu[] = {
        cmocka_unit_test(test_recapi),
        cmocka_unit_test(test_source),
    };
    r |= cmocka_run_group_tests_name("emulator", emu, setup, teardown);
  }
  curl_global_cleanup();
  return r;
}
