/* test_writer.c - status writes in flight at once (reconcilers/writer.c) and the projected
 * metrics.k8s.io index (agentpolicy.c: rec_metrics_*) and parked ServiceBudgets
 * (servicebudget.c: rec_svc_park/unpark). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>

#include "internal.h"

/* A rec_api whose PATCH records (path, seq from the body), how many run at once, and
 * fails for paths containing "fail". */
typedef struct rec_log {
  pthread_mutex_t mu;
  int n;
  char path[256][64];
  int seq[256];
  atomic_int inflight, max_inflight;
  int want_overlap; /* the first write waits (up to 2 s) for a second one to start */
  atomic_int waited;
} rec_log;

static void nap(void) {
  struct timespec ts = {0, 2 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static mbcas_rc l_patch(void *ctx, const char *path, const char *ct, const char *body, cJSON **out) {
  rec_log *l = ctx;
  (void)ct;
  if (out) *out = NULL;
  int now = atomic_fetch_add(&l->inflight, 1) + 1;
  int m = atomic_load(&l->max_inflight);
  while (now > m && !atomic_compare_exchange_weak(&l->max_inflight, &m, now)) {}
  nap(); /* lets other writers overlap; nothing asserts on time */
  /* A pool runs writes at once: the first write holds on until a second one is in
   * flight, so max_inflight >= 2 is a fact, not a timing accident. A pool that ran one
   * write at a time makes this wait its 2 s once and then fails the assertion. */
  if (l->want_overlap && atomic_fetch_add(&l->waited, 1) == 0)
    for (int i = 0; i < 1000 && atomic_load(&l->max_inflight) < 2; i++) nap();
  cJSON *b = cJSON_Parse(body);
  const cJSON *sq = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "status"), "seq");
  pthread_mutex_lock(&l->mu);
  if (l->n < 256) {
    snprintf(l->path[l->n], sizeof l->path[0], "%s", path);
    l->seq[l->n] = cJSON_IsNumber(sq) ? sq->valueint : -1;
    l->n++;
  }
  pthread_mutex_unlock(&l->mu);
  cJSON_Delete(b);
  atomic_fetch_sub(&l->inflight, 1);
  return strstr(path, "fail") ? MBCAS_EUNAVAILABLE : MBCAS_OK;
}

static cJSON *status_seq(int seq) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "seq", seq);
  return o;
}

static void run_writes(int threads) {
  rec_log *l = calloc(1, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  l->want_overlap = threads > 1;
  rec_api api;
  memset(&api, 0, sizeof api);
  api.ctx = l;
  api.patch = l_patch;
  rec_writer *w = NULL;
  assert_int_equal(rec_writer_new(&w, &api, threads), MBCAS_OK);
  if (threads <= 1) assert_null(w);
  else assert_non_null(w);
  enum { PATHS = 10, ROUNDS = 3 };
  mbcas_rc rcs[ROUNDS][PATHS + 1];
  for (int r = 0; r < ROUNDS; r++) {
    for (int p = 0; p < PATHS; p++) {
      char path[64];
      snprintf(path, sizeof path, "/o/%d/status", p);
      mbcas_rc rc = rec_writer_patch_status(w, &api, path, status_seq(r), &rcs[r][p]);
      assert_int_equal(rc, MBCAS_OK);
    }
    rec_writer_patch_status(w, &api, "/o/fail/status", status_seq(r), &rcs[r][PATHS]);
  }
  /* NULL status: out of memory, reported at once */
  mbcas_rc nomem = MBCAS_OK;
  assert_int_equal(rec_writer_patch_status(w, &api, "/o/x/status", NULL, &nomem), MBCAS_ENOMEM);
  assert_int_equal(nomem, MBCAS_ENOMEM);
  rec_writer_flush(w);
  assert_int_equal(l->n, ROUNDS * (PATHS + 1));
  for (int r = 0; r < ROUNDS; r++) {
    for (int p = 0; p < PATHS; p++) assert_int_equal(rcs[r][p], MBCAS_OK);
    assert_int_equal(rcs[r][PATHS], MBCAS_EUNAVAILABLE);
  }
  /* per object: the writes arrived in the order they were made */
  for (int p = 0; p <= PATHS; p++) {
    char path[64];
    if (p < PATHS) snprintf(path, sizeof path, "/o/%d/status", p);
    else snprintf(path, sizeof path, "/o/fail/status");
    int last = -1;
    for (int i = 0; i < l->n; i++) {
      if (strcmp(l->path[i], path) != 0) continue;
      assert_int_equal(l->seq[i], last + 1);
      last = l->seq[i];
    }
    assert_int_equal(last, ROUNDS - 1);
  }
  /* bounded: never more than `threads` at once (one when inline) */
  assert_true(atomic_load(&l->max_inflight) <= (threads > 1 ? threads : 1));
  assert_true(atomic_load(&l->max_inflight) >= (threads > 1 ? 2 : 1));
  rec_writer_flush(w); /* nothing queued: returns */
  rec_writer_free(w);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

static void test_writer_inline(void **s) {
  (void)s;
  run_writes(0);
  run_writes(1);
}

static void test_writer_pool(void **s) {
  (void)s;
  run_writes(4);
  run_writes(2);
}

/* Freeing a writer with writes still queued makes them first. */
static void test_writer_free_drains(void **s) {
  (void)s;
  rec_log *l = calloc(1, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  rec_api api;
  memset(&api, 0, sizeof api);
  api.ctx = l;
  api.patch = l_patch;
  rec_writer *w = NULL;
  assert_int_equal(rec_writer_new(&w, &api, 3), MBCAS_OK);
  for (int i = 0; i < 12; i++) {
    char path[64];
    snprintf(path, sizeof path, "/d/%d/status", i);
    rec_writer_patch_status(w, &api, path, status_seq(0), NULL);
  }
  rec_writer_free(w);
  assert_int_equal(l->n, 12);
  rec_writer_free(NULL);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

static void test_metrics_index(void **s) {
  (void)s;
  cJSON *list = cJSON_Parse(
      "{\"items\":["
      "{\"metadata\":{\"name\":\"a\",\"namespace\":\"shop\"},\"containers\":["
      "{\"name\":\"app\",\"usage\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}},"
      "{\"name\":\"side\",\"usage\":{\"cpu\":\"15000000n\",\"memory\":\"1Ki\"}}]},"
      "{\"metadata\":{\"name\":\"b\",\"namespace\":\"shop\"},\"containers\":["
      "{\"name\":\"app\",\"usage\":{\"memory\":\"bad\"}}]},"
      "{\"metadata\":{\"name\":\"c\"},\"containers\":[{\"name\":\"x\",\"usage\":{\"cpu\":\"1\"}}]}]}");
  rec_metrics *m = rec_metrics_index(list);
  cJSON_Delete(list); /* the index keeps nothing of the list */
  assert_non_null(m);
  int64_t v = 0;
  assert_int_equal(rec_metrics_usage(m, "shop", "a", "app", 1, &v), MBCAS_OK);
  assert_int_equal(v, 250);
  assert_int_equal(rec_metrics_usage(m, "shop", "a", NULL, 1, &v), MBCAS_OK);
  assert_int_equal(v, 265); /* every container summed */
  assert_int_equal(rec_metrics_usage(m, "shop", "a", "", 0, &v), MBCAS_OK);
  assert_int_equal(v, 64 * 1024 * 1024 + 1024);
  assert_int_equal(rec_metrics_usage(m, "shop", "a", "nope", 1, &v), MBCAS_ENOTFOUND);
  assert_int_equal(rec_metrics_usage(m, "shop", "b", "app", 1, &v), MBCAS_ENOTFOUND);
  assert_int_equal(rec_metrics_usage(m, "shop", "b", "app", 0, &v), MBCAS_ENOTFOUND);
  assert_int_equal(rec_metrics_usage(m, "other", "a", "app", 1, &v), MBCAS_ENOTFOUND);
  assert_int_equal(rec_metrics_usage(m, NULL, "c", NULL, 1, &v), MBCAS_OK);
  assert_int_equal(v, 1000);
  assert_int_equal(rec_metrics_usage(NULL, "shop", "a", NULL, 1, &v), MBCAS_ENOTFOUND);
  rec_metrics_free(m);
  rec_metrics_free(NULL);
  /* no items: an empty index */
  list = cJSON_Parse("{}");
  m = rec_metrics_index(list);
  cJSON_Delete(list);
  assert_non_null(m);
  assert_int_equal(rec_metrics_usage(m, "shop", "a", NULL, 1, &v), MBCAS_ENOTFOUND);
  rec_metrics_free(m);
}

/* A parked ServiceBudget keeps what the later stages read, and unparks to the same status. */
static void test_svc_park(void **s) {
  (void)s;
  cJSON *obj = cJSON_Parse(
      "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ServiceBudget\","
      "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"generation\":3},"
      "\"spec\":{\"marketRef\":{\"name\":\"m\"},\"targetRef\":{\"name\":\"web\"},\"budget\":250,"
      "\"container\":\"app\",\"cpu\":{\"min\":\"100m\",\"max\":\"2\"}},"
      "\"status\":{\"observedGeneration\":2,\"demand\":\"0.5\",\"bid\":\"1.25\","
      "\"podDemands\":[{\"pod\":\"web-1\",\"demand\":\"0.75\"}],"
      "\"lastDecision\":{\"id\":\"abc\",\"time\":\"2026-01-01T00:00:00Z\",\"outcome\":\"Pending\","
      "\"reason\":\"r\"}}}");
  assert_non_null(obj);
  cJSON *pj = cJSON_Parse("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\"}}");
  cJSON *pj2 = cJSON_Parse("{\"metadata\":{\"name\":\"web-2\",\"namespace\":\"shop\"}}");
  kube_pod *p1 = kube_pod_slim(pj), *p2 = kube_pod_slim(pj2);
  const kube_pod *pods[2] = {p1, p2};
  rec_svc svc;
  memset(&svc, 0, sizeof svc);
  svc.obj = obj;
  assert_int_equal(sb_parse(&svc.sb, obj, NULL), MBCAS_OK);
  svc.pods = malloc(sizeof pods);
  memcpy(svc.pods, pods, sizeof pods);
  svc.n_pods = svc.cap_pods = 2;
  svc.sb->status.allocation_share = 0.5; /* changed in memory: the parked text has it */
  svc.sb->status.has_allocation_share = true;
  cJSON *bj = sb_status_to_json(&svc.sb->status);
  char *before = cJSON_PrintUnformatted(bj);
  cJSON_Delete(bj);
  assert_int_equal(rec_svc_park(&svc), MBCAS_OK);
  assert_null(svc.sb);
  assert_non_null(svc.parked);
  assert_string_equal(svc.ns, "shop");
  assert_string_equal(svc.name, "web");
  assert_int_equal(svc.generation, 3);
  assert_int_equal(svc.observed_generation, 2);
  assert_int_equal(svc.spec.budget_milli, 250000);
  assert_true(svc.has_demand);
  assert_true(svc.demand == 0.5);
  assert_true(svc.bid == 1.25);
  assert_true(svc.allocation_share == 0.5);
  assert_int_equal(svc.outcome, SB_OUTCOME_PENDING);
  assert_true(svc.pod_demand[0] == 0.75);
  assert_true(svc.pod_demand[1] == 0.5); /* not in podDemands: the service's demand */
  assert_int_equal(rec_svc_park(&svc), MBCAS_OK); /* parked already: nothing to do */
  assert_int_equal(rec_svc_unpark(&svc), MBCAS_OK);
  assert_non_null(svc.sb);
  assert_null(svc.parked);
  assert_string_equal(svc.sb->spec.container, "app");
  assert_int_equal(svc.sb->meta.generation, 3);
  cJSON *aj = sb_status_to_json(&svc.sb->status);
  char *after = cJSON_PrintUnformatted(aj);
  cJSON_Delete(aj);
  assert_string_equal(after, before);
  assert_int_equal(rec_svc_unpark(&svc), MBCAS_OK); /* unparked already */
  /* done: fields kept, nothing to unpark any more */
  svc.sb->status.bid = 2.5;
  rec_svc_done(&svc);
  assert_null(svc.sb);
  assert_null(svc.parked);
  assert_true(svc.bid == 2.5);
  assert_int_equal(svc.outcome, SB_OUTCOME_PENDING);
  assert_int_equal(rec_svc_unpark(&svc), MBCAS_EINVAL);
  rec_svc_done(&svc); /* no sb: nothing to do */
  free(after);
  free(before);
  rec_svc_clear(&svc);
  /* nothing parked and no sb: refused */
  assert_int_equal(rec_svc_unpark(&svc), MBCAS_EINVAL);
  free(p1);
  free(p2);
  cJSON_Delete(pj);
  cJSON_Delete(pj2);
  cJSON_Delete(obj);
}

/* The cache's compact ServiceBudget parses to the same thing as the whole object. */
static void test_budget_compact(void **s) {
  (void)s;
  const char *text =
      "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ServiceBudget\","
      "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"generation\":3},"
      "\"spec\":{\"marketRef\":{\"name\":\"m\"},\"targetRef\":{\"name\":\"web\"},\"budget\":250},"
      "\"status\":{\"observedGeneration\":2,\"demand\":\"0.5\","
      "\"podDemands\":[{\"pod\":\"web-1\",\"demand\":\"0.75\"}]}}";
  cJSON *whole = cJSON_Parse(text), *compact = cJSON_Parse(text);
  rec_budget_compact(compact);
  rec_budget_compact(compact); /* twice: no change */
  assert_true(cJSON_IsRaw(cJSON_GetObjectItem(compact, REC_STATUS_TEXT)));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(compact, "status")), 1);
  assert_true(ru_num(compact, "status.observedGeneration", -1) == 2);
  cJSON *owned = NULL;
  const cJSON *st = rec_budget_status(compact, &owned);
  assert_non_null(owned);
  assert_ptr_equal(st, owned);
  assert_true(cJSON_Compare(st, cJSON_GetObjectItem(whole, "status"), 1));
  cJSON_Delete(owned);
  st = rec_budget_status(whole, &owned);
  assert_null(owned);
  assert_ptr_equal(st, cJSON_GetObjectItem(whole, "status"));
  servicebudget *a = NULL, *b = NULL;
  assert_int_equal(rec_sb_parse(&a, whole, NULL), MBCAS_OK);
  assert_int_equal(rec_sb_parse(&b, compact, NULL), MBCAS_OK);
  assert_int_equal(memcmp(&a->meta, &b->meta, sizeof a->meta), 0);
  cJSON *ja = sb_status_to_json(&a->status), *jb = sb_status_to_json(&b->status);
  assert_true(cJSON_Compare(ja, jb, 1));
  assert_int_equal(b->spec.budget_milli, 250000);
  cJSON_Delete(ja);
  cJSON_Delete(jb);
  sb_free(a);
  sb_free(b);
  /* the compact object is untouched by parsing */
  assert_true(cJSON_IsRaw(cJSON_GetObjectItem(compact, REC_STATUS_TEXT)));
  assert_non_null(cJSON_GetObjectItem(compact, "spec"));
  /* without status: nothing to compact */
  cJSON *bare = cJSON_Parse("{\"metadata\":{\"name\":\"x\"}}");
  rec_budget_compact(bare);
  assert_null(cJSON_GetObjectItem(bare, REC_STATUS_TEXT));
  cJSON_Delete(bare);
  cJSON_Delete(whole);
  cJSON_Delete(compact);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_writer_inline),
      cmocka_unit_test(test_writer_pool),
      cmocka_unit_test(test_writer_free_drains),
      cmocka_unit_test(test_metrics_index),
      cmocka_unit_test(test_svc_park),
      cmocka_unit_test(test_budget_compact),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
