/* test_controller.c - the worker loop and its four-way result switch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "log.h"

static double fake_now;
static double fake_clock(void *ud) {
  (void)ud;
  return fake_now;
}

/* Scripted reconciler: the key's first letter picks the answer. */
static int calls;
static mbcas_rc scripted(void *ctx, const char *key, uint64_t *after) {
  (void)ctx;
  calls++;
  const char *name = strchr(key, '/') + 1;
  switch (name[0]) {
  case 'e': return MBCAS_EUNAVAILABLE;
  case 't': return MBCAS_EINVAL;
  case 'r': *after = 30000; return MBCAS_OK;
  default: return MBCAS_OK;
  }
}

static kube_queue *fake_queue(void) {
  kube_queue_opts qo = {.name = "test", .clock = fake_clock, .qps = -1};
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, &qo), MBCAS_OK);
  return q;
}

static void test_four_way_switch(void **state) {
  (void)state;
  fake_now = 0;
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_queue *q = fake_queue();
  kube_controller_opts o = {.name = "sb", .reconcile = scripted, .queue = q, .metrics = m};
  kube_controller *c;
  assert_int_equal(kube_controller_new(&c, &o), MBCAS_OK);
  assert_ptr_equal(kube_controller_queue(c), q);
  kube_reconcile_result r;

  /* success: forgotten, not requeued */
  kube_queue_add(q, "ns/ok");
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(r, KUBE_RESULT_SUCCESS);
  assert_int_equal(kube_queue_len(q) + kube_queue_delayed_len(q), 0);

  /* error: rate-limited requeue with growing backoff */
  kube_queue_add(q, "ns/err");
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(r, KUBE_RESULT_ERROR);
  assert_int_equal(kube_queue_num_requeues(q, "ns/err"), 1);
  assert_int_equal(kube_queue_delayed_len(q), 1);
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_ETIMEOUT);
  fake_now += 0.005; /* first backoff step */
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(r, KUBE_RESULT_ERROR);
  assert_int_equal(kube_queue_num_requeues(q, "ns/err"), 2);
  fake_now += 0.009;
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_ETIMEOUT);
  fake_now += 0.001; /* second step: 10 ms */
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(kube_queue_num_requeues(q, "ns/err"), 3);
  /* drain the third retry by hand so later steps start from an empty queue */
  fake_now += 1000;
  kube_queue_forget(q, "ns/err");
  const char *k;
  assert_int_equal(kube_queue_get(q, &k, 0), MBCAS_OK);
  assert_string_equal(k, "ns/err");
  kube_queue_done(q, k);
  assert_int_equal(kube_queue_len(q) + kube_queue_delayed_len(q), 0);

  /* terminal: not retried */
  kube_queue_add(q, "ns/terminal");
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(r, KUBE_RESULT_TERMINAL_ERROR);
  assert_int_equal(kube_queue_len(q) + kube_queue_delayed_len(q), 0);
  assert_int_equal(kube_queue_num_requeues(q, "ns/terminal"), 0);

  /* requeue-after: back after exactly that delay, failures forgotten */
  kube_queue_add(q, "ns/requeue");
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(r, KUBE_RESULT_REQUEUE_AFTER);
  assert_int_equal(kube_queue_delayed_len(q), 1);
  fake_now += 29.999;
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_ETIMEOUT);
  fake_now += 0.001;
  assert_int_equal(kube_controller_process_one(c, 0, &r), MBCAS_OK);
  assert_int_equal(r, KUBE_RESULT_REQUEUE_AFTER);

  assert_int_equal(kube_controller_count(c, KUBE_RESULT_SUCCESS), 1);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_ERROR), 3);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_TERMINAL_ERROR), 1);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_REQUEUE_AFTER), 2);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_COUNT), 0);

  kube_metric *total = kube_metrics_find(m, "controller_runtime_reconcile_total");
  assert_true(kube_metric_value(total, (const char *const[]){"sb", "success"}) == 1);
  assert_true(kube_metric_value(total, (const char *const[]){"sb", "error"}) == 4);
  assert_true(kube_metric_value(total, (const char *const[]){"sb", "requeue_after"}) == 2);
  const char *const lv[] = {"sb"};
  assert_true(kube_metric_value(kube_metrics_find(m, "controller_runtime_reconcile_errors_total"),
                                lv) == 4);
  assert_true(kube_metric_value(
                  kube_metrics_find(m, "controller_runtime_terminal_reconcile_errors_total"),
                  lv) == 1);
  assert_true(kube_metric_value(kube_metrics_find(m, "controller_runtime_reconcile_time_seconds"),
                                lv) == 7);
  assert_true(kube_metric_value(kube_metrics_find(m, "controller_runtime_active_workers"), lv) ==
              0);
  assert_true(
      kube_metric_value(kube_metrics_find(m, "controller_runtime_max_concurrent_reconciles"),
                        lv) == 1);

  kube_controller_free(c); /* borrowed queue survives */
  kube_queue_add(q, "ns/still-usable");
  assert_int_equal(kube_queue_len(q), 1);
  kube_queue_free(q);
  kube_metrics_free(m);
}

static void test_new_validation(void **state) {
  (void)state;
  kube_controller *c;
  kube_controller_opts o = {.name = "x", .reconcile = NULL};
  assert_int_equal(kube_controller_new(&c, &o), MBCAS_EINVAL);
  assert_null(c);
  o.reconcile = scripted;
  o.name = "";
  assert_int_equal(kube_controller_new(&c, &o), MBCAS_EINVAL);
  o.name = "x";
  o.workers = -1;
  assert_int_equal(kube_controller_new(&c, &o), MBCAS_EINVAL);
  assert_int_equal(kube_controller_new(&c, NULL), MBCAS_EINVAL);
  o.workers = 0;
  assert_int_equal(kube_controller_new(&c, &o), MBCAS_OK); /* own queue */
  assert_non_null(kube_controller_queue(c));
  kube_controller_stop(c); /* not started: harmless */
  assert_int_equal(kube_controller_process_one(c, 0, NULL), MBCAS_EGONE);
  assert_int_equal(kube_controller_start(c), MBCAS_EINVAL); /* queue shut down */
  kube_controller_free(c);
  kube_controller_free(NULL);
  assert_string_equal(kube_reconcile_result_name(KUBE_RESULT_REQUEUE_AFTER), "requeue_after");
  assert_string_equal(kube_reconcile_result_name(KUBE_RESULT_COUNT), "unknown");
}

/* Threaded: several workers, keys that fail twice then succeed; every key
 * ends reconciled successfully, no key ever in two reconciles at once. */
#define NK 16
static atomic_int attempts[NK], busy[NK], overlap, done_ok;

static mbcas_rc flaky(void *ctx, const char *key, uint64_t *after) {
  (void)ctx;
  (void)after;
  int i = atoi(strchr(key, '/') + 1);
  if (atomic_fetch_add(&busy[i], 1) != 0) atomic_fetch_add(&overlap, 1);
  int n = atomic_fetch_add(&attempts[i], 1);
  atomic_fetch_sub(&busy[i], 1);
  if (n < 2) return MBCAS_ECONFLICT;
  atomic_fetch_add(&done_ok, 1);
  return MBCAS_OK;
}

static void test_workers(void **state) {
  (void)state;
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_controller_opts o = {.name = "flaky", .workers = 4, .reconcile = flaky, .metrics = m};
  kube_controller *c;
  assert_int_equal(kube_controller_new(&c, &o), MBCAS_OK);
  assert_int_equal(kube_controller_start(c), MBCAS_OK);
  assert_int_equal(kube_controller_start(c), MBCAS_EINVAL);
  char key[16];
  for (int i = 0; i < NK; i++) {
    snprintf(key, sizeof(key), "ns/%d", i);
    assert_int_equal(kube_queue_add(kube_controller_queue(c), key), MBCAS_OK);
  }
  while (atomic_load(&done_ok) < NK) {
    const struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  kube_controller_stop(c);
  kube_controller_stop(c);
  assert_int_equal(atomic_load(&overlap), 0);
  for (int i = 0; i < NK; i++) assert_int_equal(atomic_load(&attempts[i]), 3);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_ERROR), 2 * NK);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_SUCCESS), NK);
  /* its own queue carries the controller's name and registry */
  assert_true(kube_metric_value(kube_metrics_find(m, "workqueue_retries_total"),
                                (const char *const[]){"flaky"}) == 2 * NK);
  kube_controller_free(c);
  kube_metrics_free(m);
}

int main(void) {
  mbcas_log_set_level(MBCAS_LOG_OFF);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_four_way_switch),
      cmocka_unit_test(test_new_validation),
      cmocka_unit_test(test_workers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
