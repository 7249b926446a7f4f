/* test_actuation.c - pods/resize and scale (reconcilers/actuation.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actuation.h"
#include "fakeapi.h"

#define POD_PATH "/api/v1/namespaces/shop/pods/web-1"

static const char *pod_json(const char *req, const char *lim, const char *conds) {
  static char buf[2048];
  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},"
           "\"spec\":{\"containers\":[{\"name\":\"sidecar\",\"resources\":{\"requests\":{\"cpu\":\"50m\"}}},"
           "{\"name\":\"app\",\"resources\":{%s%s%s}}]},"
           "\"status\":{\"phase\":\"Running\",\"conditions\":[%s]}}",
           req ? req : "", req && lim ? "," : "", lim ? lim : "", conds ? conds : "");
  return buf;
}

static cJSON *mkpod(const char *req, const char *lim, const char *conds) {
  return cJSON_Parse(pod_json(req, lim, conds));
}

/* The compact record the informer cache keeps (what the reconcilers hand to actuation). */
static kube_pod *mkkpod(const char *req, const char *lim, const char *conds) {
  cJSON *j = mkpod(req, lim, conds);
  kube_pod *p = kube_pod_slim(j);
  cJSON_Delete(j);
  assert_non_null(p);
  return p;
}

static kube_pod *slim(const cJSON *j) {
  kube_pod *p = kube_pod_slim(j);
  assert_non_null(p);
  return p;
}

static void test_names(void **s) {
  (void)s;
  assert_string_equal(act_outcome_name(ACT_APPLIED), "Applied");
  assert_string_equal(act_outcome_name(ACT_FAILED), "Failed");
  assert_string_equal(act_outcome_name((act_outcome)99), "Pending");
  assert_int_equal(act_outcome_parse("Infeasible"), ACT_INFEASIBLE);
  assert_int_equal(act_outcome_parse("nope"), ACT_PENDING);
  assert_int_equal(act_outcome_parse(NULL), ACT_PENDING);
  assert_string_equal(act_outcome_metric(ACT_DEFERRED), "deferred");
  assert_string_equal(act_outcome_metric(ACT_CONFLICT), "conflict");
  assert_string_equal(act_outcome_metric(ACT_FAILED), "failed");
  assert_string_equal(act_outcome_metric(ACT_INFEASIBLE), "infeasible");
  assert_string_equal(act_outcome_metric(ACT_APPLIED), "applied");
  assert_int_equal(act_policy_parse("Requests"), ACT_POLICY_REQUESTS);
  assert_int_equal(act_policy_parse("Both"), ACT_POLICY_BOTH);
  assert_int_equal(act_policy_parse("Limits"), ACT_POLICY_LIMITS);
  assert_int_equal(act_policy_parse(NULL), ACT_POLICY_LIMITS);
}

static void test_resize_state(void **s) {
  (void)s;
  cJSON *p = mkpod(NULL, NULL, NULL);
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_NONE);
  cJSON_Delete(p);
  p = mkpod(NULL, NULL, "{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Deferred\"}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_DEFERRED);
  cJSON_Delete(p);
  p = mkpod(NULL, NULL, "{\"type\":\"PodResizeInProgress\",\"status\":\"True\"},"
                        "{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Infeasible\"}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_INFEASIBLE);
  cJSON_Delete(p);
  p = mkpod(NULL, NULL, "{\"type\":\"PodResizeInProgress\",\"status\":\"True\"}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_IN_PROGRESS);
  cJSON_Delete(p);
  p = mkpod(NULL, NULL, "{\"type\":\"PodResizeInProgress\",\"status\":\"False\"}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_NONE);
  cJSON_Delete(p);
  p = cJSON_Parse("{\"status\":{\"resize\":\"Infeasible\"}}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_INFEASIBLE);
  cJSON_Delete(p);
  p = cJSON_Parse("{\"status\":{\"resize\":\"Deferred\"}}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_DEFERRED);
  cJSON_Delete(p);
  p = cJSON_Parse("{\"status\":{\"resize\":\"Proposed\"}}");
  assert_int_equal(act_pod_resize_state(p), ACT_RESIZE_IN_PROGRESS);
  cJSON_Delete(p);
}

/* The same states read from the compact record. */
static void test_kpod_resize_state(void **s) {
  (void)s;
  static const struct { const char *conds, *legacy; act_resize_state want; } cases[] = {
      {NULL, NULL, ACT_RESIZE_NONE},
      {"{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Deferred\"}", NULL, ACT_RESIZE_DEFERRED},
      {"{\"type\":\"PodResizeInProgress\",\"status\":\"True\"},"
       "{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Infeasible\"}", NULL, ACT_RESIZE_INFEASIBLE},
      {"{\"type\":\"PodResizeInProgress\",\"status\":\"True\"}", NULL, ACT_RESIZE_IN_PROGRESS},
      {"{\"type\":\"PodResizeInProgress\",\"status\":\"False\"}", NULL, ACT_RESIZE_NONE},
      {NULL, "Infeasible", ACT_RESIZE_INFEASIBLE},
      {NULL, "Deferred", ACT_RESIZE_DEFERRED},
      {NULL, "Proposed", ACT_RESIZE_IN_PROGRESS},
      {NULL, "InProgress", ACT_RESIZE_IN_PROGRESS},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cJSON *j = mkpod(NULL, NULL, cases[i].conds);
    if (cases[i].legacy)
      cJSON_AddStringToObject(cJSON_GetObjectItem(j, "status"), "resize", cases[i].legacy);
    kube_pod *p = slim(j);
    assert_int_equal(act_kpod_resize_state(p), cases[i].want);
    assert_int_equal(act_pod_resize_state(j), cases[i].want);
    free(p);
    cJSON_Delete(j);
  }
}

static void test_container_cpu(void **s) {
  (void)s;
  kube_pod *p = mkkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"0.5\"}", NULL);
  const kube_pod_container *c = act_find_container(p, "app");
  assert_non_null(c);
  assert_ptr_equal(act_find_container(p, NULL), act_find_container(p, "sidecar"));
  assert_null(act_find_container(p, "missing"));
  int64_t v = 0;
  assert_int_equal(act_container_cpu(&v, p, "app", ACT_POLICY_LIMITS), MBCAS_OK);
  assert_int_equal(v, 500);
  assert_int_equal(act_container_cpu(&v, p, "app", ACT_POLICY_REQUESTS), MBCAS_OK);
  assert_int_equal(v, 200);
  assert_int_equal(act_container_cpu(&v, p, "app", ACT_POLICY_BOTH), MBCAS_OK);
  assert_int_equal(v, 500);
  assert_int_equal(act_container_cpu(&v, p, "nope", ACT_POLICY_BOTH), MBCAS_ENOTFOUND);
  /* limit absent: the request stands for it */
  assert_int_equal(act_container_cpu(&v, p, "sidecar", ACT_POLICY_LIMITS), MBCAS_OK);
  assert_int_equal(v, 50);
  assert_int_equal(act_pod_cpu_requests(p), 250);
  free(p);
  p = mkkpod(NULL, NULL, NULL);
  assert_int_equal(act_container_cpu(&v, p, "app", ACT_POLICY_LIMITS), MBCAS_ENOTFOUND);
  free(p);
}

static void test_resize_allowed(void **s) {
  (void)s;
  char why[160];
  /* Burstable pod: raising the limit is fine; a limit under the request is not. */
  kube_pod *p = mkkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}", NULL);
  assert_true(act_resize_allowed(p, "app", ACT_POLICY_LIMITS, 800, why, sizeof why));
  assert_false(act_resize_allowed(p, "app", ACT_POLICY_LIMITS, 100, why, sizeof why));
  assert_non_null(strstr(why, "below the request"));
  assert_true(act_resize_allowed(p, "app", ACT_POLICY_REQUESTS, 400, why, sizeof why));
  assert_false(act_resize_allowed(p, "app", ACT_POLICY_REQUESTS, 600, why, sizeof why));
  assert_true(act_resize_allowed(p, "app", ACT_POLICY_BOTH, 600, why, sizeof why));
  assert_false(act_resize_allowed(p, "app", ACT_POLICY_BOTH, 0, why, sizeof why));
  assert_false(act_resize_allowed(p, "zzz", ACT_POLICY_BOTH, 100, why, sizeof why));
  free(p);
  /* Guaranteed pod (every container requests == limits): changing only limits would
   * make it Burstable -> refused; Both keeps it Guaranteed. */
  cJSON *j = cJSON_Parse("{\"metadata\":{\"name\":\"g\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":{"
                         "\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},"
                         "\"limits\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]}}");
  p = slim(j);
  cJSON_Delete(j);
  assert_false(act_resize_allowed(p, "app", ACT_POLICY_LIMITS, 700, why, sizeof why));
  assert_non_null(strstr(why, "QoS"));
  assert_true(act_resize_allowed(p, "app", ACT_POLICY_BOTH, 700, why, sizeof why));
  free(p);
}

static void test_resize_body(void **s) {
  (void)s;
  char *b = act_resize_body("app", ACT_POLICY_LIMITS, 750);
  assert_string_equal(b, "{\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":{\"limits\":{\"cpu\":\"750m\"}}}]}}");
  free(b);
  b = act_resize_body("app", ACT_POLICY_REQUESTS, 2000);
  assert_string_equal(b, "{\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]}}");
  free(b);
  b = act_resize_body("x", ACT_POLICY_BOTH, 100);
  assert_non_null(strstr(b, "\"limits\":{\"cpu\":\"100m\"}"));
  assert_non_null(strstr(b, "\"requests\":{\"cpu\":\"100m\"}"));
  free(b);
}

static void test_act_resize(void **s) {
  (void)s;
  fake_api *f = fake_new();
  rec_api api;
  fake_api_fill(f, &api);
  char msg[256];
  kube_pod *pod = mkkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}", NULL);
  fake_put_obj(f, POD_PATH, mkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}", NULL));
  /* applied: one PATCH to pods/resize keyed by container name */
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 700, msg, sizeof msg), ACT_APPLIED);
  assert_int_equal(fake_count(f, "PATCH", POD_PATH "/resize"), 1);
  assert_non_null(strstr(f->calls[0].body, "\"name\":\"app\""));
  int64_t v;
  kube_pod *now = slim(fake_obj(f, POD_PATH));
  assert_int_equal(act_container_cpu(&v, now, "app", ACT_POLICY_LIMITS), MBCAS_OK);
  assert_int_equal(v, 700);
  free(now);
  /* unchanged: no call */
  fake_clear_calls(f);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 500, msg, sizeof msg), ACT_UNCHANGED);
  assert_int_equal(f->n_calls, 0);
  /* 409 twice, then accepted */
  fake_fail(f, "PATCH", "/resize", 2, MBCAS_ECONFLICT);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_APPLIED);
  assert_int_equal(fake_count(f, "PATCH", "/resize"), 3);
  /* 409 forever: conflict after 3 attempts */
  fake_clear_calls(f);
  fake_fail(f, "PATCH", "/resize", 10, MBCAS_ECONFLICT);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_CONFLICT);
  assert_int_equal(fake_count(f, "PATCH", "/resize"), 3);
  /* 422: infeasible; 503: failed */
  fake_fail(f, "PATCH", "/resize", 1, MBCAS_EINVAL);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_INFEASIBLE);
  fake_fail(f, "PATCH", "/resize", 1, MBCAS_EUNAVAILABLE);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_FAILED);
  fake_fail(f, "PATCH", "/resize", 1, MBCAS_ENOTFOUND);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_FAILED);
  /* refused up front: limit below request, no call */
  fake_clear_calls(f);
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 100, msg, sizeof msg), ACT_INFEASIBLE);
  assert_int_equal(f->n_calls, 0);
  assert_int_equal(act_resize(&api, pod, "nope", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_INFEASIBLE);
  free(pod);
  /* a resize already pending on the node: deferred, no call */
  pod = mkkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}",
              "{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Deferred\"}");
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 600, msg, sizeof msg), ACT_DEFERRED);
  assert_int_equal(f->n_calls, 0);
  /* the answer says Infeasible / Deferred: read back */
  free(pod);
  pod = mkkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}", NULL);
  fake_put_obj(f, POD_PATH, mkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}",
                                  "{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Infeasible\"}"));
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 900, msg, sizeof msg), ACT_INFEASIBLE);
  fake_put_obj(f, POD_PATH, mkpod("\"requests\":{\"cpu\":\"200m\"}", "\"limits\":{\"cpu\":\"500m\"}",
                                  "{\"type\":\"PodResizePending\",\"status\":\"True\",\"reason\":\"Deferred\"}"));
  assert_int_equal(act_resize(&api, pod, "app", ACT_POLICY_LIMITS, 900, msg, sizeof msg), ACT_DEFERRED);
  free(pod);
  fake_free(f);
}

static void test_scale(void **s) {
  (void)s;
  char buf[300];
  assert_string_equal(act_kind_resource("Deployment", buf, sizeof buf), "deployments");
  assert_string_equal(act_kind_resource("StatefulSet", buf, sizeof buf), "statefulsets");
  assert_string_equal(act_kind_resource("Policy", buf, sizeof buf), "policies");
  assert_string_equal(act_kind_resource("Ingress", buf, sizeof buf), "ingresses");
  assert_string_equal(act_kind_resource("Gateway", buf, sizeof buf), "gateways");
  assert_string_equal(act_kind_resource("", buf, sizeof buf), "");
  assert_string_equal(act_scale_path(buf, sizeof buf, "apps/v1", "Deployment", "shop", "web"),
                      "/apis/apps/v1/namespaces/shop/deployments/web/scale");
  assert_string_equal(act_scale_path(buf, sizeof buf, NULL, "StatefulSet", "db", "pg"),
                      "/apis/apps/v1/namespaces/db/statefulsets/pg/scale");
  assert_string_equal(act_scale_path(buf, sizeof buf, "v1", "ReplicationController", "a", "b"),
                      "/api/v1/namespaces/a/replicationcontrollers/b/scale");
  fake_api *f = fake_new();
  rec_api api;
  fake_api_fill(f, &api);
  const char *sp = "/apis/apps/v1/namespaces/shop/deployments/web/scale";
  fake_put_json(f, sp, "{\"spec\":{\"replicas\":2},\"status\":{\"replicas\":2}}");
  char msg[128];
  assert_int_equal(act_scale(&api, sp, 2, 2, msg, sizeof msg), ACT_UNCHANGED);
  assert_int_equal(f->n_calls, 0);
  assert_int_equal(act_scale(&api, sp, 2, 4, msg, sizeof msg), ACT_APPLIED);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(fake_obj(f, sp), "spec"), "replicas")->valueint, 4);
  fake_fail(f, "PATCH", "/scale", 5, MBCAS_ECONFLICT);
  assert_int_equal(act_scale(&api, sp, 4, 5, msg, sizeof msg), ACT_CONFLICT);
  fake_fail(f, "PATCH", "/scale", 1, MBCAS_EFORBIDDEN);
  assert_int_equal(act_scale(&api, sp, 4, 5, msg, sizeof msg), ACT_INFEASIBLE);
  fake_fail(f, "PATCH", "/scale", 1, MBCAS_EUNAVAILABLE);
  assert_int_equal(act_scale(&api, sp, 4, 5, msg, sizeof msg), ACT_FAILED);
  fake_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),        cmocka_unit_test(test_resize_state),
      cmocka_unit_test(test_kpod_resize_state),
      cmocka_unit_test(test_container_cpu), cmocka_unit_test(test_resize_allowed),
      cmocka_unit_test(test_resize_body),  cmocka_unit_test(test_act_resize),
      cmocka_unit_test(test_scale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
