/* test_cache.c - cache.h: pod slimming, quantities, store, indexes, replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static cJSON *pod(const char *ns, const char *name, const char *rv, const char *node, const char *rs,
                  const char *hash) {
  char buf[4096];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
           "\"uid\":\"u-%s\",\"resourceVersion\":\"%s\",\"generation\":3,"
           "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"%s\"},"
           "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"%s\",\"uid\":\"x\",\"controller\":true}],"
           "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"fieldsV1\":{\"f:metadata\":{}}}]},"
           "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"app\",\"image\":\"nginx\","
           "\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"128Mi\"},\"limits\":{\"cpu\":\"1\",\"memory\":\"1G\"}}},"
           "{\"name\":\"sidecar\",\"image\":\"envoy\",\"resources\":{}}]},"
           "\"status\":{\"phase\":\"Running\",\"observedGeneration\":3,\"conditions\":["
           "{\"type\":\"Ready\",\"status\":\"True\"},"
           "{\"type\":\"PodResizeInProgress\",\"status\":\"True\",\"reason\":\"\"}],"
           "\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"restartCount\":2,"
           "\"resources\":{\"requests\":{\"cpu\":\"200m\",\"memory\":\"128Mi\"},\"limits\":{\"cpu\":\"500m\"}}}]}}",
           name, ns, name, rv, hash, rs, node);
  cJSON *j = cJSON_Parse(buf);
  assert_non_null(j);
  return j;
}

static void test_quantities(void **state) {
  (void)state;
  int64_t v;
  assert_int_equal(kube_qty_milli("250m", &v), 0);
  assert_int_equal(v, 250);
  assert_int_equal(kube_qty_milli("1", &v), 0);
  assert_int_equal(v, 1000);
  assert_int_equal(kube_qty_milli("0.5", &v), 0);
  assert_int_equal(v, 500);
  assert_int_equal(kube_qty_milli("100u", &v), 0);
  assert_int_equal(v, 1); /* rounds up */
  assert_int_equal(kube_qty_bytes("128Mi", &v), 0);
  assert_int_equal(v, 134217728);
  assert_int_equal(kube_qty_bytes("1G", &v), 0);
  assert_int_equal(v, 1000000000);
  assert_int_equal(kube_qty_bytes("1e3", &v), 0);
  assert_int_equal(v, 1000);
  assert_int_equal(kube_qty_bytes("2Ki", &v), 0);
  assert_int_equal(v, 2048);
  assert_int_equal(kube_qty_bytes("1.5Gi", &v), 0);
  assert_int_equal(v, 1610612736);
  assert_int_equal(kube_qty_bytes("12k", &v), 0);
  assert_int_equal(v, 12000);
  assert_int_equal(kube_qty_milli("", &v), -1);
  assert_int_equal(kube_qty_milli("abc", &v), -1);
  assert_int_equal(kube_qty_milli("1Xi", &v), -1);
  assert_int_equal(kube_qty_milli(NULL, &v), -1);
}

static void test_pod_slim(void **state) {
  (void)state;
  cJSON *j = pod("shop", "web-7d9f8-abcde", "41", "node-1", "web-7d9f8", "7d9f8");
  kube_pod *p = kube_pod_slim(j);
  assert_non_null(p);
  assert_string_equal(p->ns, "shop");
  assert_string_equal(p->name, "web-7d9f8-abcde");
  assert_string_equal(p->uid, "u-web-7d9f8-abcde");
  assert_string_equal(p->rv, "41");
  assert_string_equal(p->node, "node-1");
  assert_string_equal(p->phase, "Running");
  assert_null(p->deletion_timestamp);
  assert_string_equal(p->owner_kind, "ReplicaSet");
  assert_string_equal(p->owner_name, "web-7d9f8");
  assert_string_equal(p->workload, "Deployment/shop/web");
  assert_int_equal(p->ready, 1);
  assert_int_equal(p->resize_in_progress, 1);
  assert_int_equal(p->resize_pending, 0);
  assert_int_equal(p->generation, 3);
  assert_int_equal(p->observed_generation, 3);
  assert_int_equal(p->nlabels, 2);
  assert_string_equal(kube_pod_label(p, "app"), "web");
  assert_null(kube_pod_label(p, "nope"));
  assert_int_equal(p->ncontainers, 2);
  const kube_pod_container *c = &p->containers[0];
  assert_string_equal(c->name, "app");
  assert_int_equal(c->cpu_request_m, 250);
  assert_int_equal(c->cpu_limit_m, 1000);
  assert_int_equal(c->mem_request, 134217728);
  assert_int_equal(c->mem_limit, 1000000000);
  assert_int_equal(c->st_cpu_request_m, 200);
  assert_int_equal(c->st_cpu_limit_m, 500);
  assert_int_equal(c->st_mem_limit, KUBE_QTY_UNSET);
  assert_int_equal(c->ready, 1);
  assert_int_equal(c->restart_count, 2);
  assert_string_equal(p->containers[1].name, "sidecar");
  assert_int_equal(p->containers[1].cpu_request_m, KUBE_QTY_UNSET);
  assert_int_equal(p->containers[1].st_cpu_request_m, KUBE_QTY_UNSET);
  assert_true(p->bytes < 2048);
  free(p);
  cJSON_Delete(j);
  /* the older status.resize field, no owner, deleting, no name */
  j = cJSON_Parse("{\"metadata\":{\"name\":\"solo\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
                  "\"status\":{\"resize\":\"Infeasible\"}}");
  p = kube_pod_slim(j);
  assert_non_null(p);
  assert_string_equal(p->ns, "");
  assert_string_equal(p->node, "");
  assert_null(p->owner_kind);
  assert_null(p->workload);
  assert_string_equal(p->deletion_timestamp, "2026-01-01T00:00:00Z");
  assert_int_equal(p->resize_pending, 1);
  assert_string_equal(p->resize_reason, "Infeasible");
  free(p);
  cJSON_Delete(j);
  j = cJSON_Parse("{\"metadata\":{\"ownerReferences\":[{\"kind\":\"StatefulSet\",\"name\":\"db\"}],"
                  "\"namespace\":\"n\",\"name\":\"db-0\"},"
                  "\"status\":{\"conditions\":[{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Deferred\"}]}}");
  p = kube_pod_slim(j);
  assert_string_equal(p->workload, "StatefulSet/n/db");
  assert_int_equal(p->resize_pending, 1);
  assert_string_equal(p->resize_reason, "Deferred");
  free(p);
  cJSON_Delete(j);
  j = cJSON_Parse("{\"metadata\":{}}");
  assert_null(kube_pod_slim(j));
  cJSON_Delete(j);
}

typedef struct seen {
  int n;
  char keys[16][64];
} seen;

static int visit(void *ud, const char *key, const void *item) {
  seen *s = ud;
  if (s->n < 16) snprintf(s->keys[s->n], 64, "%s", key);
  s->n++;
  return 0;
}

static int stop_first(void *ud, const char *key, const void *item) {
  ((seen *)ud)->n++;
  return 1;
}

static void test_pod_cache_indexes(void **state) {
  (void)state;
  kube_cache *c = NULL;
  assert_int_equal(kube_cache_new(&c, KUBE_CACHE_POD), MBCAS_OK);
  assert_int_equal(kube_cache_get_kind(c), KUBE_CACHE_POD);
  void *old = NULL;
  const void *nw = NULL;
  assert_int_equal(kube_cache_upsert(c, pod("a", "web-h1-1", "1", "n1", "web-h1", "h1"), &old, &nw), MBCAS_OK);
  assert_null(old);
  assert_non_null(nw);
  assert_int_equal(kube_cache_upsert(c, pod("a", "web-h1-2", "2", "n2", "web-h1", "h1"), NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_cache_upsert(c, pod("a", "api-h2-1", "3", "n1", "api-h2", "h2"), NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_cache_len(c), 3);
  seen s = {0};
  assert_int_equal(kube_cache_by_index(c, "node", "n1", visit, &s), 2);
  s.n = 0;
  assert_int_equal(kube_cache_by_index(c, "workload", "Deployment/a/web", visit, &s), 2);
  s.n = 0;
  assert_int_equal(kube_cache_by_index(c, "node", "n9", visit, &s), 0);
  assert_int_equal(kube_cache_by_index(c, "nope", "x", visit, &s), -1);
  /* move web-h1-2 to n1: the node index follows */
  assert_int_equal(kube_cache_upsert(c, pod("a", "web-h1-2", "5", "n1", "web-h1", "h1"), &old, NULL), MBCAS_OK);
  assert_non_null(old);
  assert_string_equal(kube_cache_item_rv(c, old), "2");
  kube_cache_item_free(c, old);
  s.n = 0;
  assert_int_equal(kube_cache_by_index(c, "node", "n1", visit, &s), 3);
  assert_int_equal(kube_cache_by_index(c, "node", "n2", visit, &s), 0);
  s.n = 0;
  assert_int_equal(kube_cache_by_index(c, "node", "n1", stop_first, &s), 1);
  kube_pod *p = NULL;
  assert_int_equal(kube_cache_get_pod(c, &p, "a/web-h1-2"), MBCAS_OK);
  assert_string_equal(p->rv, "5");
  assert_string_equal(kube_pod_label(p, "app"), "web");
  assert_string_equal(p->containers[0].name, "app");
  assert_string_equal(p->workload, "Deployment/a/web");
  free(p);
  assert_int_equal(kube_cache_get_pod(c, &p, "a/none"), MBCAS_ENOTFOUND);
  cJSON *j = NULL;
  assert_int_equal(kube_cache_get_json(c, &j, "a/web-h1-2"), MBCAS_EINVAL);
  kube_cache_rdlock(c);
  const kube_pod *bp = kube_cache_get_locked(c, "a/api-h2-1");
  assert_string_equal(bp->node, "n1");
  kube_cache_unlock(c);
  assert_int_equal(kube_cache_delete(c, "a/web-h1-1", &old), MBCAS_OK);
  kube_cache_item_free(c, old);
  assert_int_equal(kube_cache_delete(c, "a/web-h1-1", NULL), MBCAS_ENOTFOUND);
  s.n = 0;
  assert_int_equal(kube_cache_by_index(c, "workload", "Deployment/a/web", visit, &s), 1);
  s.n = 0;
  kube_cache_foreach(c, visit, &s);
  assert_int_equal(s.n, 2);
  s.n = 0;
  kube_cache_foreach(c, stop_first, &s);
  assert_int_equal(s.n, 1);
  assert_true(kube_cache_bytes(c) > 0);
  /* no name: rejected */
  assert_int_equal(kube_cache_upsert(c, cJSON_Parse("{\"metadata\":{}}"), NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_cache_add_index(c, "late", NULL), MBCAS_EINVAL);
  kube_cache_free(c);
  kube_cache_free(NULL);
}

static int idx_label_app(const void *item, const char **vals, int max, char *buf, size_t bufsz) {
  const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(item, "metadata"), "labels");
  const char *app = cJSON_GetStringValue(cJSON_GetObjectItem(l, "app"));
  if (!app || max < 1) return 0;
  snprintf(buf, bufsz, "app=%s", app);
  vals[0] = buf;
  return 1;
}

static cJSON *cr(const char *ns, const char *name, const char *rv, const char *app) {
  char b[512];
  snprintf(b, sizeof b, "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"%s\","
                        "\"labels\":{\"app\":\"%s\"}}}", ns, name, rv, app);
  return cJSON_Parse(b);
}

typedef struct diffs {
  int add, upd, del;
} diffs;

static void on_diff(void *ud, const void *o, const void *n) {
  diffs *d = ud;
  if (!o) d->add++;
  else if (n) d->upd++;
  else d->del++;
}

static void test_json_cache_replace(void **state) {
  (void)state;
  kube_cache *c = NULL;
  assert_int_equal(kube_cache_new(&c, KUBE_CACHE_JSON), MBCAS_OK);
  assert_int_equal(kube_cache_add_index(c, "app", idx_label_app), MBCAS_OK);
  assert_int_equal(kube_cache_add_index(c, "app", idx_label_app), MBCAS_EINVAL);
  kube_cache_upsert(c, cr("n", "keep", "1", "x"), NULL, NULL);
  kube_cache_upsert(c, cr("n", "change", "1", "x"), NULL, NULL);
  kube_cache_upsert(c, cr("n", "gone", "1", "y"), NULL, NULL);
  kube_cache_upsert(c, cr("", "cluster-wide", "1", "y"), NULL, NULL);
  cJSON *j = NULL;
  assert_int_equal(kube_cache_get_json(c, &j, "cluster-wide"), MBCAS_OK);
  cJSON_Delete(j);
  kube_cache *fresh = NULL;
  assert_int_equal(kube_cache_clone_empty(&fresh, c), MBCAS_OK);
  kube_cache_upsert(fresh, cr("n", "keep", "1", "x"), NULL, NULL);
  kube_cache_upsert(fresh, cr("n", "change", "2", "z"), NULL, NULL);
  kube_cache_upsert(fresh, cr("n", "new", "3", "z"), NULL, NULL);
  kube_cache_upsert(fresh, cr("", "cluster-wide", "1", "y"), NULL, NULL);
  diffs d = {0};
  assert_int_equal(kube_cache_replace(c, fresh, on_diff, &d), MBCAS_OK);
  assert_int_equal(d.add, 1);
  assert_int_equal(d.upd, 1);
  assert_int_equal(d.del, 1);
  assert_int_equal(kube_cache_len(c), 4);
  seen s = {0};
  assert_int_equal(kube_cache_by_index(c, "app", "app=z", visit, &s), 2);
  assert_int_equal(kube_cache_by_index(c, "app", "app=y", visit, &s), 1);
  assert_int_equal(kube_cache_get_json(c, &j, "n/gone"), MBCAS_ENOTFOUND);
  assert_int_equal(kube_cache_get_json(c, &j, "n/change"), MBCAS_OK);
  assert_string_equal(kube_cache_item_rv(c, j), "2");
  cJSON_Delete(j);
  kube_pod *p;
  assert_int_equal(kube_cache_get_pod(c, &p, "n/keep"), MBCAS_EINVAL);
  /* kind mismatch */
  kube_cache *pc = NULL;
  assert_int_equal(kube_cache_new(&pc, KUBE_CACHE_POD), MBCAS_OK);
  assert_int_equal(kube_cache_replace(c, pc, NULL, NULL), MBCAS_EINVAL);
  kube_cache_free(pc);
  assert_true(kube_cache_bytes(c) > 0);
  char key[64];
  cJSON *o = cr("ns", "nm", "1", "a");
  assert_int_equal(kube_cache_key(o, key, sizeof key), 0);
  assert_string_equal(key, "ns/nm");
  assert_int_equal(kube_cache_key(o, key, 3), -1);
  cJSON_Delete(o);
  assert_string_equal(kube_cache_item_rv(c, NULL), "");
  kube_cache_free(c);
}

static void test_many_pods_grow(void **state) {
  (void)state;
  kube_cache *c = NULL;
  assert_int_equal(kube_cache_new(&c, KUBE_CACHE_POD), MBCAS_OK);
  char name[64], node[32];
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "p-%d", i);
    snprintf(node, sizeof node, "n%d", i % 10);
    assert_int_equal(kube_cache_upsert(c, pod("ns", name, "1", node, "rs-h", "h"), NULL, NULL), MBCAS_OK);
  }
  assert_int_equal(kube_cache_len(c), 2000);
  seen s = {0};
  assert_int_equal(kube_cache_by_index(c, "node", "n3", visit, &s), 200);
  size_t per = kube_cache_bytes(c) / 2000;
  assert_true(per < 2048);
  for (int i = 0; i < 2000; i += 2) {
    snprintf(name, sizeof name, "ns/p-%d", i);
    assert_int_equal(kube_cache_delete(c, name, NULL), MBCAS_OK);
  }
  assert_int_equal(kube_cache_len(c), 1000);
  kube_cache_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantities),        cmocka_unit_test(test_pod_slim),
      cmocka_unit_test(test_pod_cache_indexes), cmocka_unit_test(test_json_cache_replace),
      cmocka_unit_test(test_many_pods_grow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
