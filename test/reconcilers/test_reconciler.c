/* test_reconciler.c - whole cycles over an in-memory API (reconcilers/reconciler.c,
 * scalingmarket.c, servicebudget.c, agentpolicy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakeapi.h"
#include "reconciler.h"
#include "recutil.h"
#include "scalingmarket_rec.h"

#define MKT "/apis/mbcas.io/v1alpha1/scalingmarkets/m"
#define SB_WEB "/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/web"
#define SB_API "/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/api"
#define SB_BAD "/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/bad"
#define SB_LOST "/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/lost"
#define AP_SIDE "/apis/mbcas.io/v1alpha1/namespaces/shop/agentpolicies/side"
#define POD_WEB "/api/v1/namespaces/shop/pods/web-1"
#define POD_API "/api/v1/namespaces/shop/pods/api-1"
#define POD_OTHER "/api/v1/namespaces/kube-system/pods/dns"
#define SCALE_WEB "/apis/apps/v1/namespaces/shop/deployments/web/scale"
#define SCALE_API "/apis/apps/v1/namespaces/shop/deployments/api/scale"
#define NODE "/api/v1/nodes/n1"
#define HPA "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web"
#define METRICS "/apis/metrics.k8s.io/v1beta1/pods"
#define NOW 1700000000.0

typedef struct ev { char reason[64]; char type[16]; char name[64]; } ev;

typedef struct fx {
  fake_api *f;
  rec_api api;
  rec_observer obs;
  rec_options opt;
  rec_ctx *ctx;
  int n_ev;
  ev evs[64];
  int resizes[8]; /* by act_outcome */
  int scales[8];
  const cJSON *arr[8][16];
  kube_pod *kpods[16]; /* the snapshot's pods: records made from the fake's objects */
  int n_kpods;
  cJSON *kbudgets[16]; /* the snapshot's ServiceBudgets: compacted copies (as cached) */
  int n_kbudgets;
  rec_snapshot snap;
} fx;

static void on_event(void *ud, const cJSON *obj, const char *type, const char *reason, const char *msg) {
  fx *x = ud;
  (void)msg;
  if (x->n_ev < 64) {
    snprintf(x->evs[x->n_ev].reason, sizeof x->evs[0].reason, "%s", reason);
    snprintf(x->evs[x->n_ev].type, sizeof x->evs[0].type, "%s", type);
    snprintf(x->evs[x->n_ev].name, sizeof x->evs[0].name, "%s", ru_str(obj, "metadata.name"));
    x->n_ev++;
  }
}
static void on_resize(void *ud, act_outcome o, int64_t step) { (void)step; ((fx *)ud)->resizes[o]++; }
static void on_scale(void *ud, act_outcome o) { ((fx *)ud)->scales[o]++; }

static int count_ev(const fx *x, const char *reason, const char *name) {
  int n = 0;
  for (int i = 0; i < x->n_ev; i++)
    if (strcmp(x->evs[i].reason, reason) == 0 && (!name || strcmp(x->evs[i].name, name) == 0)) n++;
  return n;
}

static const char *market_json(const char *mode, const char *extra) {
  static char b[1024];
  snprintf(b, sizeof b,
           "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ScalingMarket\","
           "\"metadata\":{\"name\":\"m\",\"uid\":\"u-m\",\"generation\":1},"
           "\"spec\":{\"mode\":\"%s\",\"clearingInterval\":\"15s\",\"guardrails\":{\"maxStepPercent\":1000,"
           "\"cooldown\":\"0s\",\"deadBand\":\"0\"}%s}}",
           mode, extra ? extra : "");
  return b;
}

static const char *sb_json(const char *name, const char *market, int budget, const char *min,
                           const char *max, const char *extra) {
  static char b[1024];
  snprintf(b, sizeof b,
           "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ServiceBudget\","
           "\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\",\"uid\":\"u-%s\",\"generation\":1},"
           "\"spec\":{\"marketRef\":{\"name\":\"%s\"},\"targetRef\":{\"name\":\"%s\"},\"budget\":%d,"
           "\"container\":\"app\",\"cpu\":{\"min\":\"%s\",\"max\":\"%s\"}%s}}",
           name, name, market, name, budget, min, max, extra ? extra : "");
  return b;
}

static const char *pod_json(const char *ns, const char *name, const char *app, const char *req,
                            const char *lim) {
  static char b[1024];
  snprintf(b, sizeof b,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
           "\"uid\":\"u-%s\",\"labels\":{\"app\":\"%s\"}},"
           "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"app\",\"resources\":{"
           "\"requests\":{\"cpu\":\"%s\"},\"limits\":{\"cpu\":\"%s\"}}}]},"
           "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
           name, ns, name, app, req, lim);
  return b;
}

static const char *scale_json(const char *app, int replicas) {
  static char b[256];
  snprintf(b, sizeof b, "{\"spec\":{\"replicas\":%d},\"status\":{\"replicas\":%d,\"selector\":\"app=%s\"}}",
           replicas, replicas, app);
  return b;
}

static void kpods_free(fx *x) {
  for (int i = 0; i < x->n_kpods; i++) free(x->kpods[i]);
  x->n_kpods = 0;
  for (int i = 0; i < x->n_kbudgets; i++) cJSON_Delete(x->kbudgets[i]);
  x->n_kbudgets = 0;
}

/* Point the snapshot at the fake's objects (borrowed; they are modified in place); pods
 * as compact records made from them now, and ServiceBudgets as compacted copies
 * (rec_budget_compact), as the informer cache keeps them. */
static void snap_build(fx *x) {
  memset(&x->snap, 0, sizeof x->snap);
  kpods_free(x);
  int nm = 0, nb = 0, np = 0, npo = 0, nn = 0, nh = 0;
  for (int i = 0; i < x->f->n_objs; i++) {
    const char *p = x->f->paths[i];
    const cJSON *o = x->f->objs[i];
    if (strstr(p, "/scalingmarkets/")) x->arr[0][nm++] = o;
    else if (strstr(p, "/servicebudgets/")) {
      cJSON *d = cJSON_Duplicate(o, 1);
      assert_non_null(d);
      rec_budget_compact(d);
      x->kbudgets[x->n_kbudgets++] = d;
      x->arr[1][nb++] = d;
    }
    else if (strstr(p, "/agentpolicies/")) x->arr[2][np++] = o;
    else if (strstr(p, "/pods/") && !strstr(p, "metrics")) {
      x->kpods[npo++] = kube_pod_slim(o);
      assert_non_null(x->kpods[npo - 1]);
    }
    else if (strstr(p, "/nodes/")) x->arr[4][nn++] = o;
    else if (strstr(p, "horizontalpodautoscalers")) x->arr[5][nh++] = o;
  }
  x->snap.markets = x->arr[0]; x->snap.n_markets = (size_t)nm;
  x->snap.budgets = x->arr[1]; x->snap.n_budgets = (size_t)nb;
  x->snap.policies = x->arr[2]; x->snap.n_policies = (size_t)np;
  x->n_kpods = npo;
  x->snap.pods = (const kube_pod *const *)x->kpods; x->snap.n_pods = (size_t)npo;
  x->snap.nodes = x->arr[4]; x->snap.n_nodes = (size_t)nn;
  x->snap.hpas = x->arr[5]; x->snap.n_hpas = (size_t)nh;
  x->snap.n_namespaces = -1;
}

static fx *fx_new(const char *mode) {
  fx *x = calloc(1, sizeof *x);
  x->f = fake_new();
  fake_api_fill(x->f, &x->api);
  fake_put_json(x->f, MKT, market_json(mode, NULL));
  fake_put_json(x->f, SB_WEB, sb_json("web", "m", 300, "100m", "3", NULL));
  fake_put_json(x->f, SB_API, sb_json("api", "m", 100, "100m", "3", NULL));
  fake_put_json(x->f, POD_WEB, pod_json("shop", "web-1", "web", "100m", "1"));
  fake_put_json(x->f, POD_API, pod_json("shop", "api-1", "api", "100m", "1"));
  /* a pod outside the market requests 500m of the node */
  fake_put_json(x->f, POD_OTHER, pod_json("kube-system", "dns", "dns", "500m", "500m"));
  fake_put_json(x->f, SCALE_WEB, scale_json("web", 1));
  fake_put_json(x->f, SCALE_API, scale_json("api", 1));
  fake_put_json(x->f, NODE, "{\"metadata\":{\"name\":\"n1\",\"labels\":{}},\"status\":{\"allocatable\":{\"cpu\":\"4500m\"}}}");
  fake_put_json(x->f, METRICS,
                "{\"items\":[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"1\"}}]},"
                "{\"metadata\":{\"name\":\"api-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"1\"}}]}]}");
  x->obs.ud = x;
  x->obs.event = on_event;
  x->obs.resize = on_resize;
  x->obs.scale = on_scale;
  rec_options_default(&x->opt);
  return x;
}

static void fx_start(fx *x) {
  assert_int_equal(rec_ctx_new(&x->ctx, &x->api, &x->obs, &x->opt), MBCAS_OK);
}

static void fx_free(fx *x) {
  kpods_free(x);
  rec_ctx_free(x->ctx);
  fake_free(x->f);
  free(x);
}

static rec_cycle_stats cycle(fx *x, double now) {
  rec_cycle_stats st;
  snap_build(x);
  assert_int_equal(rec_cycle(x->ctx, &x->snap, now, &st, NULL), MBCAS_OK);
  return st;
}

static int64_t pod_limit(fx *x, const char *path) {
  const cJSON *c = cJSON_GetArrayItem(ru_get(fake_obj(x->f, path), "spec.containers"), 0);
  const char *q = ru_str(c, "resources.limits.cpu");
  extern mbcas_rc quantity_parse_milli(int64_t *, const char *, const char *, mbcas_err *);
  int64_t m = -1;
  quantity_parse_milli(&m, q, NULL, NULL);
  return m;
}

static const char *condst(fx *x, const char *path, const char *type) {
  const cJSON *c;
  cJSON_ArrayForEach(c, ru_get(fake_obj(x->f, path), "status.conditions")) if (strcmp(ru_str(c, "type"), type) == 0) return ru_str(c, "status");
  return NULL;
}

static const char *cond_reason(fx *x, const char *path, const char *type) {
  const cJSON *c;
  cJSON_ArrayForEach(c, ru_get(fake_obj(x->f, path), "status.conditions")) if (strcmp(ru_str(c, "type"), type) == 0) return ru_str(c, "reason");
  return NULL;
}

/* Under contention on one node: allocations follow budgets within floors and caps,
 * never above capacity; decision written (Pending) before the first resize. writers:
 * rec_options.status_writers (several status writes in flight: the same outcome). */
static void contention(int writers) {
  fx *x = fx_new("Enforce");
  x->opt.status_writers = writers;
  fx_start(x);
  rec_cycle_stats st = cycle(x, NOW);
  assert_int_equal(st.markets_cleared, 1);
  assert_int_equal(st.errors, 0);
  /* capacity = 4500 - 500 (dns) = 4000; bids 300:100 at demand 1 -> 3000 : 1000 */
  assert_int_equal(pod_limit(x, POD_WEB), 3000);
  assert_int_equal(pod_limit(x, POD_API), 1000);
  const cJSON *w = fake_obj(x->f, SB_WEB);
  assert_string_equal(ru_str(w, "status.lastDecision.outcome"), "Applied");
  assert_string_equal(ru_str(fake_obj(x->f, SB_API), "status.lastDecision.outcome"), "Unchanged");
  assert_string_equal(ru_str(w, "status.cpu"), "3");
  assert_string_equal(ru_str(w, "status.budgetShare"), "0.75");
  assert_non_null(ru_str(w, "status.lastDecision.reason"));
  assert_string_equal(condst(x, SB_WEB, "Ready"), "True");
  assert_string_equal(condst(x, SB_WEB, "Actuated"), "True");
  /* status write with Pending precedes the resize */
  int first_status = -1, first_resize = fake_first(x->f, "PATCH", "/resize");
  for (int i = 0; i < x->f->n_calls; i++)
    if (strstr(x->f->calls[i].path, "servicebudgets/web/status") && strstr(x->f->calls[i].body, "\"Pending\"")) {
      first_status = i;
      break;
    }
  assert_true(first_status >= 0);
  assert_true(first_resize > first_status);
  assert_string_equal(x->f->calls[first_resize].path, POD_WEB "/resize");
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 1);
  /* market status */
  const cJSON *m = fake_obj(x->f, MKT);
  assert_int_equal((int)ru_num(m, "status.participants", 0), 2);
  assert_int_equal((int)ru_num(m, "status.contendedNodes", 0), 1);
  assert_string_equal(ru_str(cJSON_GetArrayItem(ru_get(m, "status.nodes"), 0), "capacity"), "4");
  assert_string_equal(ru_str(w, "status.lastDecision.id"), ru_str(m, "status.lastDecisionID"));
  assert_string_equal(condst(x, MKT, "Contended"), "True");
  assert_int_equal(count_ev(x, "Resized", "web"), 1);
  assert_int_equal(x->resizes[ACT_APPLIED], 1);
  /* not due again within the interval; due after it, and relaxes nothing (same input) */
  st = cycle(x, NOW + 1);
  assert_int_equal(st.markets_cleared, 0);
  st = cycle(x, NOW + 15);
  assert_int_equal(st.markets_cleared, 1);
  assert_int_equal(st.resizes, 0);
  /* a forced cycle runs at once */
  rec_request_cycle(x->ctx);
  st = cycle(x, NOW + 16);
  assert_int_equal(st.markets_cleared, 1);
  fx_free(x);
}

static void test_contention(void **s) {
  (void)s;
  contention(0);
}

static void test_contention_writers(void **s) {
  (void)s;
  contention(4);
}

/* When contention ends (web idle), allocations relax toward the other's cap. */
static void test_contention_ends(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fx_start(x);
  cycle(x, NOW);
  /* web now uses nothing: its demand falls, api takes what web leaves, within its cap 3 */
  fake_put_json(x->f, METRICS,
                "{\"items\":[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"0\"}}]},"
                "{\"metadata\":{\"name\":\"api-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"1\"}}]}]}");
  for (int i = 1; i <= 20; i++) cycle(x, NOW + 15.0 * i);
  int64_t web = pod_limit(x, POD_WEB), api = pod_limit(x, POD_API);
  assert_true(web + api <= 4000);
  assert_true(api == 3000);      /* at its cap */
  assert_true(web >= 100);       /* never below its floor */
  assert_true(web < 3000);
  fx_free(x);
}

static void test_recommend(void **s) {
  (void)s;
  fx *x = fx_new("Recommend");
  fx_start(x);
  cycle(x, NOW);
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 0);
  assert_int_equal(fake_count(x->f, "PATCH", "/scale"), 0);
  assert_string_equal(ru_str(fake_obj(x->f, SB_WEB), "status.lastDecision.outcome"), "Recommended");
  assert_string_equal(ru_str(cJSON_GetArrayItem(ru_get(fake_obj(x->f, SB_WEB), "status.allocations"), 0), "cpu"), "3");
  assert_string_equal(cond_reason(x, SB_WEB, "Actuated"), "Recommend");
  assert_int_equal(pod_limit(x, POD_WEB), 1000);
  fx_free(x);
}

static void test_paused(void **s) {
  (void)s;
  fx *x = fx_new("Paused");
  fx_start(x);
  cycle(x, NOW);
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 0);
  assert_int_equal(fake_count(x->f, "PATCH", "servicebudgets/web/status"), 0);
  assert_string_equal(cond_reason(x, MKT, "Ready"), "Paused");
  fx_free(x);
}

static void test_hpa_conflict(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, HPA, "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"scaleTargetRef\":"
                           "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"}}}");
  fx_start(x);
  cycle(x, NOW);
  cycle(x, NOW + 15);
  assert_int_equal(fake_count(x->f, NULL, SCALE_WEB), 0);
  assert_int_equal(fake_count(x->f, NULL, POD_WEB), 0);
  assert_string_equal(condst(x, SB_WEB, "Conflict"), "True");
  assert_string_equal(cond_reason(x, SB_WEB, "Conflict"), "HorizontalPodAutoscaler");
  assert_string_equal(condst(x, SB_WEB, "Ready"), "False");
  assert_int_equal(count_ev(x, "Conflict", "web"), 1); /* once, not every cycle */
  /* api alone: web's pod counts as a non-participant (its 100m request) */
  assert_int_equal(pod_limit(x, POD_API), 3000);
  fx_free(x);
}

static void test_invalid_isolated(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, SB_BAD, sb_json("bad", "m", 100, "2", "1", NULL));
  fake_put_json(x->f, SB_LOST, sb_json("lost", "nope", 100, "100m", "1", NULL));
  fx_start(x);
  rec_cycle_stats st = cycle(x, NOW);
  assert_int_equal(st.invalid, 2);
  assert_string_equal(condst(x, SB_BAD, "Invalid"), "True");
  assert_string_equal(cond_reason(x, SB_BAD, "Invalid"), "InvalidSpec");
  char *bst = cJSON_Print(ru_get(fake_obj(x->f, SB_BAD), "status"));
  assert_non_null(strstr(bst, "spec.cpu.min"));
  free(bst);
  assert_string_equal(cond_reason(x, SB_LOST, "Invalid"), "MarketNotFound");
  assert_int_equal(count_ev(x, "Invalid", "bad"), 1);
  assert_int_equal(count_ev(x, "Invalid", "lost"), 1);
  /* the others are unaffected */
  assert_int_equal(pod_limit(x, POD_WEB), 3000);
  assert_string_equal(condst(x, SB_WEB, "Ready"), "True");
  /* no repeated Event for the same generation */
  cycle(x, NOW + 15);
  assert_int_equal(count_ev(x, "Invalid", "bad"), 1);
  assert_int_equal(count_ev(x, "Invalid", "lost"), 1);
  fx_free(x);
}

static void test_invalid_market(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, MKT, "{\"metadata\":{\"name\":\"m\",\"generation\":2},\"spec\":{\"mode\":\"Sometimes\"}}");
  fx_start(x);
  cycle(x, NOW);
  assert_string_equal(condst(x, MKT, "Invalid"), "True");
  assert_int_equal(count_ev(x, "Invalid", "m"), 1);
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 0);
  fx_free(x);
}

/* Killed between the decision write and actuation: the restarted operator completes
 * the recorded decision with the same values and does not step again. */
static void test_resume(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  cJSON *w = fake_obj(x->f, SB_WEB);
  cJSON_AddItemToObject(w, "status", cJSON_Parse(
      "{\"observedGeneration\":1,\"lastDecision\":{\"id\":\"00000000000000aa\",\"time\":\"2023-11-14T22:13:00Z\","
      "\"reason\":\"r\",\"outcome\":\"Pending\"},\"desiredReplicas\":1,"
      "\"allocations\":[{\"pod\":\"web-1\",\"node\":\"n1\",\"cpu\":\"2500m\",\"previous\":\"1\",\"outcome\":\"Pending\"}],"
      "\"history\":[{\"id\":\"00000000000000aa\",\"time\":\"2023-11-14T22:13:00Z\",\"outcome\":\"Pending\",\"cpu\":\"2500m\"}]}"));
  fx_start(x);
  rec_cycle_stats st = cycle(x, NOW);
  assert_int_equal(st.resumed, 1);
  assert_int_equal(pod_limit(x, POD_WEB), 2500);
  assert_int_equal(fake_count(x->f, "PATCH", POD_WEB "/resize"), 1);
  w = fake_obj(x->f, SB_WEB);
  assert_string_equal(ru_str(w, "status.lastDecision.id"), "00000000000000aa");
  assert_string_equal(ru_str(w, "status.lastDecision.outcome"), "Applied");
  assert_string_equal(ru_str(cJSON_GetArrayItem(ru_get(w, "status.history"), 0), "outcome"), "Applied");
  /* resuming again changes nothing: the decision is complete */
  st = cycle(x, NOW + 15);
  assert_int_equal(st.resumed, 0);
  fx_free(x);
}

/* The only service of the market resumes: no other decision in that cycle (regression:
 * an empty write order used to read before its array). */
static void test_resume_only(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, SB_API, sb_json("api", "elsewhere", 100, "100m", "3", NULL));
  cJSON *w = fake_obj(x->f, SB_WEB);
  cJSON_AddItemToObject(w, "status", cJSON_Parse(
      "{\"observedGeneration\":1,\"lastDecision\":{\"id\":\"00000000000000bb\",\"time\":\"2023-11-14T22:13:00Z\","
      "\"outcome\":\"Pending\"},\"allocations\":[{\"pod\":\"web-1\",\"node\":\"n1\",\"cpu\":\"1500m\","
      "\"previous\":\"1\",\"outcome\":\"Pending\"}]}"));
  fx_start(x);
  rec_cycle_stats st = cycle(x, NOW);
  assert_int_equal(st.resumed, 1);
  assert_int_equal(pod_limit(x, POD_WEB), 1500);
  fx_free(x);
}

/* A clearing can be replayed from status alone. */
static void test_replay(void **s) {
  (void)s;
  fx *x = fx_new("Recommend");
  fx_start(x);
  cycle(x, NOW);
  scalingmarket *sm = NULL;
  servicebudget *sbs[2] = {NULL, NULL};
  assert_int_equal(sm_parse(&sm, fake_obj(x->f, MKT), NULL), MBCAS_OK);
  assert_int_equal(sb_parse(&sbs[0], fake_obj(x->f, SB_WEB), NULL), MBCAS_OK);
  assert_int_equal(sb_parse(&sbs[1], fake_obj(x->f, SB_API), NULL), MBCAS_OK);
  int64_t got[8];
  size_t n = 0;
  assert_int_equal(rec_market_replay(got, 8, &n, sm, (const servicebudget *const *)sbs, 2, NULL), MBCAS_OK);
  assert_int_equal(n, 2);
  assert_int_equal(got[0], sbs[0]->status.allocations[0].cpu_milli);
  assert_int_equal(got[1], sbs[1]->status.allocations[0].cpu_milli);
  assert_int_equal(got[0], 3000);
  /* too small an output, and an unknown node, are reported */
  assert_int_equal(rec_market_replay(got, 1, &n, sm, (const servicebudget *const *)sbs, 2, NULL), MBCAS_EINVAL);
  snprintf(sbs[1]->status.allocations[0].node, 8, "zz");
  assert_int_equal(rec_market_replay(got, 8, &n, sm, (const servicebudget *const *)sbs, 2, NULL), MBCAS_EINVAL);
  sm_free(sm);
  sb_free(sbs[0]);
  sb_free(sbs[1]);
  fx_free(x);
}

static void test_resize_unsupported(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  x->opt.pods_resize_supported = 0;
  fx_start(x);
  cycle(x, NOW);
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 0);
  assert_string_equal(condst(x, MKT, "ResizeUnsupported"), "True");
  assert_string_equal(cond_reason(x, SB_WEB, "Actuated"), "ResizeUnsupported");
  rec_ctx_set_resize_supported(x->ctx, 1);
  cycle(x, NOW + 15);
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 1);
  assert_null(condst(x, MKT, "ResizeUnsupported"));
  fx_free(x);
}

/* A failed status write: no actuation for that service (status first), others go on;
 * the next cycle catches up. */
static void status_failure(int writers) {
  fx *x = fx_new("Enforce");
  x->opt.status_writers = writers;
  fx_start(x);
  fake_fail(x->f, "PATCH", "servicebudgets/web/status", 1, MBCAS_EUNAVAILABLE);
  rec_cycle_stats st = cycle(x, NOW);
  assert_true(st.errors >= 1);
  assert_int_equal(fake_count(x->f, "PATCH", POD_WEB "/resize"), 0);
  cycle(x, NOW + 15);
  assert_int_equal(pod_limit(x, POD_WEB), 3000);
  fx_free(x);
}

static void test_status_failure(void **s) {
  (void)s;
  status_failure(0);
  status_failure(3); /* with writes in flight at once: the same */
}

static void test_scale_out(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, MKT, market_json("Enforce", ",\"horizontal\":{\"enabled\":true,\"scaleOutWindow\":\"0s\","
                                                   "\"cooldown\":\"0s\",\"scaleInWindow\":\"1h\"}"));
  /* web capped at 1 core with full demand: it sits at its cap -> scale out */
  fake_put_json(x->f, SB_WEB, sb_json("web", "m", 300, "100m", "1", ",\"replicas\":{\"min\":1,\"max\":3}"));
  fx_start(x);
  cycle(x, NOW);
  assert_int_equal(fake_count(x->f, "PATCH", SCALE_WEB), 1);
  /* proportional: ceil(1 x demand 1.0 / target 0.6) = 2 */
  assert_int_equal((int)ru_num(fake_obj(x->f, SCALE_WEB), "spec.replicas", 0), 2);
  assert_int_equal((int)ru_num(fake_obj(x->f, SB_WEB), "status.desiredReplicas", 0), 2);
  assert_int_equal(x->scales[ACT_APPLIED], 1);
  assert_int_equal(count_ev(x, "Scaled", "web"), 1);
  /* api has no spec.replicas: never scaled */
  assert_int_equal(fake_count(x->f, "PATCH", SCALE_API), 0);
  fx_free(x);
}

/* Proactive mode (AgentPolicy spec.forecast): web runs 3 replicas at low demand. The
 * reactive market scales it in after its 30 s window; with the forecast on, scale-in
 * waits until the forecast has seen ten minutes of its own errors (40 clearings at 15 s),
 * then follows the upper forecast. Returns spec.replicas after `cycles` clearings. */
#define AP_FC "/apis/mbcas.io/v1alpha1/namespaces/shop/agentpolicies/fc"
static int forecast_hold(int forecast, int cycles) {
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, MKT, market_json("Enforce", ",\"horizontal\":{\"enabled\":true,\"scaleOutWindow\":\"0s\","
                                                   "\"cooldown\":\"0s\",\"scaleInWindow\":\"30s\"}"));
  char ap[512];
  snprintf(ap, sizeof ap,
           "{\"metadata\":{\"name\":\"fc\",\"namespace\":\"shop\",\"generation\":1},"
           "\"spec\":{\"signals\":[{\"name\":\"cpu\",\"resource\":{\"name\":\"cpu\",\"relativeTo\":\"Limit\"},"
           "\"target\":0.8}],"
           "\"smoothing\":{\"halfLife\":\"0\"},\"forecast\":{\"enabled\":%s}}}",
           forecast ? "true" : "false");
  fake_put_json(x->f, AP_FC, ap);
  fake_put_json(x->f, SB_WEB, sb_json("web", "m", 300, "100m", "1",
                                      ",\"replicas\":{\"min\":1,\"max\":5},\"agentPolicyRef\":{\"name\":\"fc\"}"));
  fake_put_json(x->f, SCALE_WEB, scale_json("web", 3));
  fake_put_json(x->f, METRICS,
                "{\"items\":[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"100m\"}}]},"
                "{\"metadata\":{\"name\":\"api-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"100m\"}}]}]}");
  fx_start(x);
  for (int i = 0; i < cycles; i++) cycle(x, NOW + 15.0 * i);
  int r = (int)ru_num(fake_obj(x->f, SCALE_WEB), "spec.replicas", 0);
  fx_free(x);
  return r;
}

static void test_forecast_hold(void **s) {
  (void)s;
  assert_true(forecast_hold(0, 8) < 3);  /* reactive: scaled in after the window */
  assert_int_equal(forecast_hold(1, 8), 3); /* the untrusted forecast holds the replicas */
  assert_true(forecast_hold(1, 50) < 3); /* trusted after 40 clearings: it follows it */
}

/* Burst sizing (ServiceBudget spec.cpu.base 1): web, pressed (usage at its 1-CPU limit),
 * grows in place above the base instead of taking its 3-CPU cap; when the pressure goes,
 * it falls back to the base within a few clearings and never below it. The recorded
 * decision replays from status alone. */
static int64_t burst_limit(fx *x) { return pod_limit(x, POD_WEB); }

static void test_burst(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, AP_FC,
                "{\"metadata\":{\"name\":\"fc\",\"namespace\":\"shop\",\"generation\":1},"
                "\"spec\":{\"signals\":[{\"name\":\"cpu\",\"resource\":{\"name\":\"cpu\",\"relativeTo\":\"Limit\"},"
                "\"target\":0.8}],\"smoothing\":{\"halfLife\":\"0\"}}}");
  char extra[128];
  snprintf(extra, sizeof extra, ",\"agentPolicyRef\":{\"name\":\"fc\"}");
  char sb[1024];
  snprintf(sb, sizeof sb, "%s", sb_json("web", "m", 300, "100m", "3", extra));
  char *base = strstr(sb, "\"max\":\"3\"");
  assert_non_null(base);
  char fixed[1100];
  snprintf(fixed, sizeof fixed, "%.*s\"max\":\"3\",\"base\":\"1\"%s", (int)(base - sb), sb,
           base + strlen("\"max\":\"3\""));
  fake_put_json(x->f, SB_WEB, fixed);
  fx_start(x);
  cycle(x, NOW); /* usage 1 of a 1-CPU limit: pressed */
  int64_t up = burst_limit(x);
  assert_true(up > 1000 && up < 3000);
  assert_int_equal(up, 1334); /* ceil(1000 x 1 / 0.75) */
  /* replayable from status */
  scalingmarket *sm = NULL;
  servicebudget *sbs[2] = {NULL, NULL};
  assert_int_equal(sm_parse(&sm, fake_obj(x->f, MKT), NULL), MBCAS_OK);
  assert_int_equal(sb_parse(&sbs[0], fake_obj(x->f, SB_WEB), NULL), MBCAS_OK);
  assert_int_equal(sb_parse(&sbs[1], fake_obj(x->f, SB_API), NULL), MBCAS_OK);
  int64_t got[8];
  size_t n = 0;
  assert_int_equal(rec_market_replay(got, 8, &n, sm, (const servicebudget *const *)sbs, 2, NULL), MBCAS_OK);
  assert_int_equal(got[0], sbs[0]->status.allocations[0].cpu_milli);
  assert_int_equal(got[0], 1334);
  sm_free(sm);
  sb_free(sbs[0]);
  sb_free(sbs[1]);
  /* the pressure goes: back to the base, not below */
  fake_put_json(x->f, METRICS,
                "{\"items\":[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"150m\"}}]},"
                "{\"metadata\":{\"name\":\"api-1\",\"namespace\":\"shop\"},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":\"1\"}}]}]}");
  int64_t prev = up;
  for (int i = 1; i <= 8; i++) {
    cycle(x, NOW + 15.0 * i);
    int64_t l = burst_limit(x);
    assert_true(l <= prev);  /* falls ... */
    assert_true(l >= 1000);  /* ... never below the base */
    prev = l;
  }
  assert_int_equal(prev, 1000);
  fx_free(x);
}

static void test_policy_pod_signal(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fake_put_json(x->f, AP_SIDE, "{\"metadata\":{\"name\":\"side\",\"namespace\":\"shop\",\"generation\":1},"
                               "\"spec\":{\"signals\":[{\"name\":\"agent\",\"pod\":{\"port\":9100}},"
                               "{\"name\":\"q\",\"prometheus\":{\"address\":\"http://127.0.0.1:1\",\"query\":\"x\"},\"target\":1}]}}");
  fake_put_json(x->f, SB_API, sb_json("api", "m", 100, "100m", "3", ",\"agentPolicyRef\":{\"name\":\"side\"}"));
  x->f->raw_path = strdup("/api/v1/namespaces/shop/pods/api-1:9100/proxy/demand");
  x->f->raw_body = strdup("0.25\n");
  x->opt.prom_timeout_ms = 500;
  fx_start(x);
  cycle(x, NOW);
  const cJSON *ap = fake_obj(x->f, AP_SIDE);
  assert_int_equal((int)ru_num(ap, "status.healthySignals", -1), 1);
  const cJSON *sig0 = cJSON_GetArrayItem(ru_get(ap, "status.signals"), 0);
  const cJSON *sig1 = cJSON_GetArrayItem(ru_get(ap, "status.signals"), 1);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sig0, "healthy")));
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(sig1, "healthy")));
  assert_non_null(ru_str(sig1, "lastError"));
  assert_string_equal(condst(x, AP_SIDE, "Ready"), "True");
  assert_string_equal(ru_str(fake_obj(x->f, SB_API), "status.demand"), "0.25");
  fx_free(x);
}

/* A spec change is re-cleared at once (no waiting for the interval), and the changed
 * ServiceBudget's status is written first. */
static void test_changed_first(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fx_start(x);
  cycle(x, NOW);
  fake_clear_calls(x->f);
  cJSON *md = cJSON_GetObjectItem(fake_obj(x->f, SB_API), "metadata");
  cJSON_ReplaceItemInObject(md, "generation", cJSON_CreateNumber(2));
  rec_cycle_stats st = cycle(x, NOW + 1);
  assert_int_equal(st.markets_cleared, 1);
  int first = fake_first(x->f, "PATCH", "servicebudgets/");
  assert_true(first >= 0);
  assert_non_null(strstr(x->f->calls[first].path, "servicebudgets/api/status"));
  assert_int_equal((int)ru_num(fake_obj(x->f, SB_API), "status.observedGeneration", 0), 2);
  /* observed now: not cleared again before the interval */
  st = cycle(x, NOW + 2);
  assert_int_equal(st.markets_cleared, 0);
  fx_free(x);
}

/* Deployments in the snapshot resolve targets without a GET of .../scale. */
static void test_cached_workload(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fx_start(x);
  const cJSON *wl[2];
  wl[0] = cJSON_Parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"replicas\":1,"
                      "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}},\"status\":{\"replicas\":1}}");
  wl[1] = cJSON_Parse("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\"},"
                      "\"spec\":{\"serviceName\":\"api\",\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"api\"}}}}");
  snap_build(x);
  x->snap.workloads = wl;
  x->snap.n_workloads = 2;
  rec_cycle_stats st;
  assert_int_equal(rec_cycle(x->ctx, &x->snap, NOW, &st, NULL), MBCAS_OK);
  assert_int_equal(fake_count(x->f, "GET", SCALE_WEB), 0);
  assert_int_equal(fake_count(x->f, "GET", SCALE_API), 1); /* a StatefulSet is not a Deployment */
  assert_int_equal(pod_limit(x, POD_WEB), 3000);
  cJSON_Delete((cJSON *)wl[0]);
  cJSON_Delete((cJSON *)wl[1]);
  fx_free(x);
}

/* The cache may still show our own Pending write after we completed the decision:
 * that is not a restart, nothing is resumed. */
static void test_stale_pending_not_resumed(void **s) {
  (void)s;
  fx *x = fx_new("Enforce");
  fx_start(x);
  cycle(x, NOW);
  cJSON *ld = (cJSON *)ru_get(fake_obj(x->f, SB_WEB), "status.lastDecision");
  cJSON_ReplaceItemInObject(ld, "outcome", cJSON_CreateString("Pending"));
  rec_cycle_stats st = cycle(x, NOW + 15);
  assert_int_equal(st.resumed, 0);
  assert_int_equal(st.markets_cleared, 1);
  fx_free(x);
}

/* Stopping: the cycle ends at the next safe point, before any write. */
static void test_stop(void **s) {
  (void)s;
  static atomic_int stop;
  atomic_store(&stop, 1);
  fx *x = fx_new("Enforce");
  x->opt.stop = &stop;
  fx_start(x);
  cycle(x, NOW);
  assert_int_equal(fake_count(x->f, "PATCH", NULL), 0);
  atomic_store(&stop, 0);
  rec_request_cycle(x->ctx);
  cycle(x, NOW + 1);
  assert_int_equal(fake_count(x->f, "PATCH", "/resize"), 1);
  fx_free(x);
}

/* The pure helpers of scalingmarket_rec.h. */
static void test_market_helpers(void **s) {
  (void)s;
  scalingmarket *sm = NULL;
  assert_int_equal(sm_parse_str(&sm, "{\"metadata\":{\"name\":\"m\"},\"spec\":{\"guardrails\":{\"maxStepCPU\":\"500m\","
                                     "\"maxStepPercent\":20,\"cooldown\":\"45s\",\"deadBand\":\"25m\"},"
                                     "\"namespaceBudgetCaps\":[{\"namespace\":\"a\",\"maxBudget\":100}]}}", NULL),
                   MBCAS_OK);
  guardrails_config g;
  rec_market_guardrails(&g, &sm->spec);
  assert_int_equal(g.max_step_m, 500);
  assert_true(g.max_step_frac == 0.2);
  assert_true(g.cooldown_s == 45);
  assert_int_equal(g.dead_band_m, 25);
  assert_true(g.dead_band_frac == 0);
  assert_true(g.usage_headroom < 0);
  sm->spec.guardrails.dead_band_is_percent = true;
  sm->spec.guardrails.dead_band_percent = 5;
  rec_market_guardrails(&g, &sm->spec);
  assert_true(g.dead_band_frac == 0.05);
  /* namespace caps: a's two services (80 + 120) are scaled to 100 in total */
  servicebudget *b[3];
  const char *ns[3] = {"a", "a", "b"};
  int bud[3] = {80, 120, 50};
  for (int i = 0; i < 3; i++) {
    char j[512];
    snprintf(j, sizeof j, "{\"metadata\":{\"name\":\"s%d\",\"namespace\":\"%s\"},\"spec\":{\"marketRef\":{\"name\":\"m\"},"
                          "\"targetRef\":{\"name\":\"t\"},\"budget\":%d}}", i, ns[i], bud[i]);
    assert_int_equal(sb_parse_str(&b[i], j, NULL), MBCAS_OK);
  }
  double out[3];
  assert_int_equal(rec_market_budgets(out, &sm->spec, (const servicebudget *const *)b, 3), MBCAS_OK);
  assert_true(out[0] > 39.99 && out[0] < 40.01);
  assert_true(out[1] > 59.99 && out[1] < 60.01);
  assert_true(out[2] == 50);
  /* demand lookup: podDemands (sorted), else the service's demand */
  b[0]->status.has_demand = true;
  b[0]->status.demand = 0.3;
  b[0]->status.n_pod_demands = 2;
  snprintf(b[0]->status.pod_demands[0].pod, 8, "p1");
  b[0]->status.pod_demands[0].has_demand = true;
  b[0]->status.pod_demands[0].demand = 0.9;
  snprintf(b[0]->status.pod_demands[1].pod, 8, "p2");
  b[0]->status.pod_demands[1].has_demand = true;
  b[0]->status.pod_demands[1].demand = 0.1;
  assert_true(rec_pod_demand(&b[0]->status, "p1") == 0.9);
  assert_true(rec_pod_demand(&b[0]->status, "p2") == 0.1);
  assert_true(rec_pod_demand(&b[0]->status, "p3") == 0.3);
  assert_true(rec_pod_demand(&b[1]->status, "p3") == 0);
  for (int i = 0; i < 3; i++) sb_free(b[i]);
  sm_free(sm);
  cJSON *n = cJSON_Parse("{\"status\":{\"allocatable\":{\"cpu\":\"3500m\"},\"capacity\":{\"cpu\":\"4\"}}}");
  assert_int_equal(rec_node_allocatable(n), 3500);
  cJSON_DeleteItemFromObject(cJSON_GetObjectItem(n, "status"), "allocatable");
  assert_int_equal(rec_node_allocatable(n), 4000);
  cJSON_DeleteItemFromObject(n, "status");
  assert_int_equal(rec_node_allocatable(n), 0);
  cJSON_Delete(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contention),
      cmocka_unit_test(test_contention_writers),      cmocka_unit_test(test_contention_ends),
      cmocka_unit_test(test_recommend),       cmocka_unit_test(test_paused),
      cmocka_unit_test(test_hpa_conflict),    cmocka_unit_test(test_invalid_isolated),
      cmocka_unit_test(test_invalid_market),  cmocka_unit_test(test_resume),
      cmocka_unit_test(test_resume_only),
      cmocka_unit_test(test_replay),          cmocka_unit_test(test_resize_unsupported),
      cmocka_unit_test(test_status_failure),  cmocka_unit_test(test_scale_out), cmocka_unit_test(test_forecast_hold), cmocka_unit_test(test_burst),
      cmocka_unit_test(test_policy_pod_signal), cmocka_unit_test(test_market_helpers),
      cmocka_unit_test(test_stale_pending_not_resumed), cmocka_unit_test(test_stop),
      cmocka_unit_test(test_cached_workload), cmocka_unit_test(test_changed_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
