/* test_watch_it.c - watcher and informer against the API-server emulator: list
 * then watch, handlers, watch resume after dropped connections, relist on 410,
 * backoff through 503s on watch, timeoutSeconds renewal, pod indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver_fixture.h"
#include "informer.h"

static apiserver_fixture FX;
static kube_config *CFG;
static kube_client *CL;

static int group_setup(void **state) {
  if (fixture_available() != 0 || fixture_start(&FX, NULL, NULL, NULL) != 0) return -1;
  if (kube_config_load_files(&CFG, FX.kubeconfig, NULL, NULL)) return -1;
  kube_client_opts o = {.qps = 200, .burst = 100, .retry_initial_s = 0.01, .retry_max_s = 0.5};
  return kube_client_new(&CL, CFG, &o, NULL) ? -1 : 0;
}
static int group_teardown(void **state) {
  kube_client_free(CL);
  kube_config_free(CFG);
  fixture_stop(&FX);
  return 0;
}

typedef struct counts {
  atomic_int add, upd, del;
} counts;

static void on_add(void *ud, const void *it) { atomic_fetch_add(&((counts *)ud)->add, 1); }
static void on_upd(void *ud, const void *o, const void *n) { atomic_fetch_add(&((counts *)ud)->upd, 1); }
static void on_del(void *ud, const void *o) { atomic_fetch_add(&((counts *)ud)->del, 1); }

/* Poll cond for up to 30 s (a hang guard, not a timing assertion). */
#define EVENTUALLY(cond)                                                                 \
  do {                                                                                   \
    int _ok = 0;                                                                         \
    for (int _i = 0; _i < 3000 && !(_ok = (cond)); _i++) kube_sleep(0.01);               \
    assert_true(_ok);                                                                    \
  } while (0)

static void create_cm(const char *ns, const char *name, const char *label) {
  char path[256], body[512];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", ns);
  snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
                              "\"labels\":{\"suite\":\"%s\"}},\"data\":{\"a\":\"1\"}}", name, label);
  assert_int_equal(fixture_http(&FX, "POST", path, body), 201);
}

static kube_informer *cm_informer(const char *label, counts *c, int timeout_s) {
  kube_ref ref = {"", "v1", "configmaps", "default", NULL, NULL};
  char sel[64];
  snprintf(sel, sizeof sel, "suite=%s", label);
  kube_informer_opts o = {.kind = KUBE_CACHE_JSON, .name = label, .backoff_initial = 0.02, .backoff_max = 0.1};
  o.watch.label_selector = sel;
  o.watch.page_size = 3;
  o.watch.timeout_seconds = timeout_s;
  o.watch.read_timeout_ms = 50;
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new(&inf, CL, &ref, &o), MBCAS_OK);
  kube_informer_handlers h = {on_add, on_upd, on_del, c};
  assert_int_equal(kube_informer_add_handlers(inf, &h), MBCAS_OK);
  return inf;
}

static void test_informer_events(void **state) {
  for (int i = 0; i < 7; i++) {
    char n[32];
    snprintf(n, sizeof n, "ev-%d", i);
    create_cm("default", n, "events");
  }
  counts c = {0};
  kube_informer *inf = cm_informer("events", &c, 60);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_wait_synced(inf, 30), MBCAS_OK);
  kube_cache *cache = kube_informer_cache(inf);
  assert_int_equal(kube_cache_len(cache), 7); /* three pages of 3 */
  assert_int_equal(atomic_load(&c.add), 7);
  create_cm("default", "ev-new", "events");
  EVENTUALLY(kube_cache_len(cache) == 8);
  assert_int_equal(fixture_http(&FX, "DELETE", "/api/v1/namespaces/default/configmaps/ev-1", NULL), 200);
  EVENTUALLY(kube_cache_len(cache) == 7);
  EVENTUALLY(atomic_load(&c.del) == 1);
  cJSON *j = NULL;
  assert_int_equal(kube_cache_get_json(cache, &j, "default/ev-new"), MBCAS_OK);
  cJSON_Delete(j);
  assert_int_equal(kube_cache_get_json(cache, &j, "default/ev-1"), MBCAS_ENOTFOUND);
  kube_informer_stop(inf);
  kube_informer_free(inf);
}

static void test_resume_after_drop(void **state) {
  counts c = {0};
  create_cm("default", "drop-0", "drop");
  kube_informer *inf = cm_informer("drop", &c, 60);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_wait_synced(inf, 30), MBCAS_OK);
  kube_watcher *w = kube_informer_watcher(inf);
  EVENTUALLY(kube_watcher_state(w) == KUBE_WS_WATCHING);
  unsigned long watches = kube_watcher_watches(w);
  assert_int_equal(fixture_fault(&FX, "{\"dropWatches\":true}"), 0);
  EVENTUALLY(kube_watcher_watches(w) > watches);
  create_cm("default", "drop-1", "drop");
  EVENTUALLY(kube_cache_len(kube_informer_cache(inf)) == 2);
  assert_int_equal(kube_watcher_relists(w), 1); /* resumed from the RV, no relist */
  assert_int_equal(fixture_fault_clear(&FX), 0);
  kube_informer_stop(inf);
  kube_informer_free(inf);
}

static void test_relist_on_410(void **state) {
  counts c = {0};
  create_cm("default", "gone-0", "gone");
  kube_informer *inf = cm_informer("gone", &c, 60);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_wait_synced(inf, 30), MBCAS_OK);
  kube_watcher *w = kube_informer_watcher(inf);
  EVENTUALLY(kube_watcher_state(w) == KUBE_WS_WATCHING);
  assert_int_equal(kube_watcher_relists(w), 1);
  /* writes this watch does not see move the server past our resourceVersion;
   * forgetting the history then makes it too old */
  create_cm("default", "gone-other", "other");
  assert_int_equal(fixture_fault(&FX, "{\"expireResourceVersions\":true}"), 0);
  assert_int_equal(fixture_fault(&FX, "{\"dropWatches\":true}"), 0);
  EVENTUALLY(kube_watcher_relists(w) >= 2);
  EVENTUALLY(kube_informer_synced(inf) && kube_watcher_state(w) == KUBE_WS_WATCHING);
  create_cm("default", "gone-1", "gone");
  EVENTUALLY(kube_cache_len(kube_informer_cache(inf)) == 2);
  assert_int_equal(fixture_fault_clear(&FX), 0);
  kube_informer_stop(inf);
  kube_informer_free(inf);
}

static void test_backoff_on_503_watch(void **state) {
  counts c = {0};
  kube_informer *inf = cm_informer("unavail", &c, 60);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_wait_synced(inf, 30), MBCAS_OK);
  kube_watcher *w = kube_informer_watcher(inf);
  EVENTUALLY(kube_watcher_state(w) == KUBE_WS_WATCHING);
  unsigned long errs = kube_informer_errors(inf);
  assert_int_equal(fixture_fault(&FX, "{\"status\":503,\"verb\":\"watch\",\"count\":3}"), 0);
  assert_int_equal(fixture_fault(&FX, "{\"dropWatches\":true}"), 0);
  EVENTUALLY(kube_informer_errors(inf) >= errs + 3);
  /* create once the watch is back: the emulator (as of this writing) does not
   * flush events replayed from its history until a live event arrives */
  EVENTUALLY(kube_watcher_state(w) == KUBE_WS_WATCHING && kube_watcher_watches(w) >= 2);
  create_cm("default", "unavail-1", "unavail");
  EVENTUALLY(kube_cache_len(kube_informer_cache(inf)) == 1);
  assert_int_equal(kube_watcher_relists(w), 1);
  assert_int_equal(fixture_fault_clear(&FX), 0);
  kube_informer_stop(inf);
  kube_informer_free(inf);
}

static void test_timeout_renewal(void **state) {
  counts c = {0};
  kube_informer *inf = cm_informer("renew", &c, 1);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_wait_synced(inf, 30), MBCAS_OK);
  kube_watcher *w = kube_informer_watcher(inf);
  EVENTUALLY(kube_watcher_watches(w) >= 3);
  assert_int_equal(kube_watcher_relists(w), 1);
  assert_int_equal(kube_informer_errors(inf), 0);
  create_cm("default", "renew-1", "renew");
  EVENTUALLY(kube_cache_len(kube_informer_cache(inf)) == 1);
  kube_informer_stop(inf);
  kube_informer_free(inf);
}

static int nop(void *ud, const char *k, const void *i) { return 0; }

static void test_pod_informer_indexes(void **state) {
  assert_int_equal(fixture_http(&FX, "POST", "/api/v1/namespaces",
                                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"podit\"}}"), 201);
  for (int i = 0; i < 4; i++) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-abc12-%d\",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"abc12\"},"
             "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-abc12\",\"uid\":\"u1\",\"controller\":true}]},"
             "\"spec\":{\"nodeName\":\"node-%d\",\"containers\":[{\"name\":\"app\",\"image\":\"nginx\","
             "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":\"500m\"}}}]}}",
             i, i % 2);
    int code = fixture_http(&FX, "POST", "/api/v1/namespaces/podit/pods", body);
    assert_true(code == 201);
  }
  kube_ref ref = {"", "v1", "pods", "podit", NULL, NULL};
  kube_informer_opts o = {.kind = KUBE_CACHE_POD, .name = "pods"};
  o.watch.read_timeout_ms = 50;
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new(&inf, CL, &ref, &o), MBCAS_OK);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_wait_synced(inf, 30), MBCAS_OK);
  kube_cache *cache = kube_informer_cache(inf);
  assert_int_equal(kube_cache_len(cache), 4);
  assert_int_equal(kube_cache_by_index(cache, "node", "node-0", nop, NULL), 2);
  assert_int_equal(kube_cache_by_index(cache, "workload", "Deployment/podit/web", nop, NULL), 4);
  kube_pod *p = NULL;
  assert_int_equal(kube_cache_get_pod(cache, &p, "podit/web-abc12-1"), MBCAS_OK);
  assert_int_equal(p->containers[0].cpu_request_m, 100);
  assert_int_equal(p->containers[0].cpu_limit_m, 500);
  assert_int_equal(p->containers[0].mem_request, 64 * 1024 * 1024);
  assert_true(p->bytes < 2048);
  free(p);
  kube_informer_stop(inf);
  kube_informer_free(inf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_informer_events),     cmocka_unit_test(test_resume_after_drop),
      cmocka_unit_test(test_relist_on_410),       cmocka_unit_test(test_backoff_on_503_watch),
      cmocka_unit_test(test_timeout_renewal),     cmocka_unit_test(test_pod_informer_indexes),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
