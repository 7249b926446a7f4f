/* test_queue.c - work queue: dedup, one worker per key, backoff, bucket, delays,
 * shutdown, metrics. A fake clock drives every delay; nothing asserts on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

static double fake_now;
static double fake_clock(void *ud) {
  (void)ud;
  return fake_now;
}

static kube_queue *new_q(double qps, int burst) {
  kube_queue_opts o = {.clock = fake_clock, .qps = qps, .burst = burst};
  kube_queue *q = NULL;
  assert_int_equal(kube_queue_new(&q, &o), MBCAS_OK);
  return q;
}

static const char *take(kube_queue *q) {
  const char *k = NULL;
  assert_int_equal(kube_queue_get(q, &k, 0), MBCAS_OK);
  assert_non_null(k);
  return k;
}

static void assert_empty(kube_queue *q) {
  const char *k = NULL;
  assert_int_equal(kube_queue_get(q, &k, 0), MBCAS_ETIMEOUT);
  assert_null(k);
}

static void test_dedup_and_fifo(void **state) {
  (void)state;
  fake_now = 100;
  kube_queue *q = new_q(-1, 0);
  assert_int_equal(kube_queue_add(q, "ns/a"), MBCAS_OK);
  assert_int_equal(kube_queue_add(q, "ns/b"), MBCAS_OK);
  assert_int_equal(kube_queue_add(q, "ns/a"), MBCAS_OK);
  assert_int_equal(kube_queue_len(q), 2);
  const char *k = take(q);
  assert_string_equal(k, "ns/a");
  kube_queue_done(q, k);
  k = take(q);
  assert_string_equal(k, "ns/b");
  kube_queue_done(q, k);
  assert_empty(q);
  assert_int_equal(kube_queue_add(q, ""), MBCAS_EINVAL);
  assert_int_equal(kube_queue_add(q, NULL), MBCAS_EINVAL);
  kube_queue_free(q);
}

static void test_readd_while_processing(void **state) {
  (void)state;
  fake_now = 0;
  kube_queue *q = new_q(-1, 0);
  assert_int_equal(kube_queue_add(q, "ns/a"), MBCAS_OK);
  const char *k = take(q);
  assert_int_equal(kube_queue_processing_len(q), 1);
  /* re-added while a worker holds it: not handed to a second worker */
  assert_int_equal(kube_queue_add(q, "ns/a"), MBCAS_OK);
  assert_int_equal(kube_queue_add(q, "ns/a"), MBCAS_OK);
  assert_int_equal(kube_queue_len(q), 0);
  assert_empty(q);
  kube_queue_done(q, k);
  assert_int_equal(kube_queue_processing_len(q), 0);
  assert_int_equal(kube_queue_len(q), 1); /* queued again exactly once */
  k = take(q);
  assert_string_equal(k, "ns/a");
  kube_queue_done(q, k);
  assert_empty(q);
  kube_queue_done(q, "ns/unknown"); /* harmless */
  kube_queue_free(q);
}

static void test_per_key_backoff(void **state) {
  (void)state;
  fake_now = 0;
  kube_queue_opts o = {.clock = fake_clock, .qps = -1, .base_delay = 1, .max_delay = 4};
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, &o), MBCAS_OK);
  double d, want[] = {1, 2, 4, 4};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(kube_queue_add_rate_limited(q, "ns/a", &d), MBCAS_OK);
    assert_true(d == want[i]);
    assert_int_equal(kube_queue_num_requeues(q, "ns/a"), i + 1);
  }
  /* another key has its own count */
  assert_int_equal(kube_queue_add_rate_limited(q, "ns/b", &d), MBCAS_OK);
  assert_true(d == 1);
  kube_queue_forget(q, "ns/a");
  assert_int_equal(kube_queue_num_requeues(q, "ns/a"), 0);
  assert_int_equal(kube_queue_add_rate_limited(q, "ns/a", &d), MBCAS_OK);
  assert_true(d == 1);
  assert_int_equal(kube_queue_num_requeues(q, "nope"), 0);
  kube_queue_free(q);
}

static void test_default_limiter(void **state) {
  (void)state;
  /* controller-runtime defaults: 5 ms doubling per key. */
  fake_now = 0;
  kube_queue *q = new_q(0, 0);
  double d;
  assert_int_equal(kube_queue_add_rate_limited(q, "k", &d), MBCAS_OK);
  assert_true(fabs(d - 0.005) < 1e-12);
  assert_int_equal(kube_queue_add_rate_limited(q, "k", &d), MBCAS_OK);
  assert_true(fabs(d - 0.010) < 1e-12);
  for (int i = 0; i < 40; i++) kube_queue_add_rate_limited(q, "k", &d);
  assert_true(d == 1000); /* capped */
  kube_queue_free(q);
}

static void test_overall_bucket(void **state) {
  (void)state;
  fake_now = 10;
  kube_queue_opts o = {.clock = fake_clock, .qps = 1, .burst = 2, .base_delay = 0.001};
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, &o), MBCAS_OK);
  double d;
  char key[16];
  /* burst of 2: first two only see the per-key delay */
  for (int i = 0; i < 2; i++) {
    snprintf(key, sizeof(key), "ns/k%d", i);
    assert_int_equal(kube_queue_add_rate_limited(q, key, &d), MBCAS_OK);
    assert_true(d == 0.001);
  }
  /* then one token per second, each caller further back */
  assert_int_equal(kube_queue_add_rate_limited(q, "ns/k2", &d), MBCAS_OK);
  assert_true(fabs(d - 1) < 1e-9);
  assert_int_equal(kube_queue_add_rate_limited(q, "ns/k3", &d), MBCAS_OK);
  assert_true(fabs(d - 2) < 1e-9);
  assert_int_equal(kube_queue_delayed_len(q), 4);
  fake_now += 1.5;
  kube_queue_tick(q);
  assert_int_equal(kube_queue_len(q), 3); /* k0, k1, k2 due; k3 not yet */
  kube_queue_free(q);
}

static void test_delayed_adds(void **state) {
  (void)state;
  fake_now = 0;
  kube_queue *q = new_q(-1, 0);
  assert_int_equal(kube_queue_add_after(q, "ns/late", 10), MBCAS_OK);
  assert_int_equal(kube_queue_add_after(q, "ns/a", 5), MBCAS_OK);
  assert_int_equal(kube_queue_add_after(q, "ns/b", 8), MBCAS_OK);
  assert_int_equal(kube_queue_add_after(q, "ns/b", 2), MBCAS_OK);  /* earlier wins */
  assert_int_equal(kube_queue_add_after(q, "ns/a", 50), MBCAS_OK); /* later loses */
  assert_int_equal(kube_queue_delayed_len(q), 3);
  assert_int_equal(kube_queue_len(q), 0);
  assert_empty(q);
  fake_now = 1.999;
  assert_empty(q);
  fake_now = 2;
  const char *k = take(q); /* get promotes due keys itself */
  assert_string_equal(k, "ns/b");
  kube_queue_done(q, k);
  fake_now = 9.9;
  k = take(q);
  assert_string_equal(k, "ns/a");
  kube_queue_done(q, k);
  assert_empty(q);
  assert_int_equal(kube_queue_delayed_len(q), 1);
  fake_now = 10;
  k = take(q);
  assert_string_equal(k, "ns/late");
  kube_queue_done(q, k);
  /* a delayed add of a key already waiting is dropped; delay <= 0 is immediate */
  assert_int_equal(kube_queue_add(q, "ns/c"), MBCAS_OK);
  assert_int_equal(kube_queue_add_after(q, "ns/c", 3), MBCAS_OK);
  assert_int_equal(kube_queue_delayed_len(q), 0);
  assert_int_equal(kube_queue_add_after(q, "ns/d", 0), MBCAS_OK);
  assert_int_equal(kube_queue_len(q), 2);
  kube_queue_free(q); /* frees waiting keys too */
}

static void test_delayed_heap_order(void **state) {
  (void)state;
  fake_now = 0;
  kube_queue *q = new_q(-1, 0);
  char key[32];
  /* 200 keys with scrambled deadlines come out in deadline order */
  for (int i = 0; i < 200; i++) {
    int d = (i * 7919) % 200;
    snprintf(key, sizeof(key), "ns/%03d", d);
    assert_int_equal(kube_queue_add_after(q, key, d + 1), MBCAS_OK);
  }
  assert_int_equal(kube_queue_delayed_len(q), 200);
  for (int i = 0; i < 200; i++) {
    fake_now = i + 1;
    const char *k = take(q);
    snprintf(key, sizeof(key), "ns/%03d", i);
    assert_string_equal(k, key);
    kube_queue_done(q, k);
    assert_empty(q);
  }
  kube_queue_free(q);
}

static void test_real_clock_wait(void **state) {
  (void)state;
  /* Default clock: a blocking get returns once a short delay is due. */
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, NULL), MBCAS_OK);
  assert_int_equal(kube_queue_add_after(q, "ns/x", 0.02), MBCAS_OK);
  const char *k;
  assert_int_equal(kube_queue_get(q, &k, -1), MBCAS_OK);
  assert_string_equal(k, "ns/x");
  kube_queue_done(q, k);
  assert_int_equal(kube_queue_get(q, &k, 10), MBCAS_ETIMEOUT);
  kube_queue_free(q);
}

static void *blocked_get(void *arg) {
  kube_queue *q = arg;
  const char *k;
  return (void *)(intptr_t)kube_queue_get(q, &k, -1);
}

static void test_shutdown(void **state) {
  (void)state;
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, NULL), MBCAS_OK);
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, blocked_get, q);
  assert_int_equal(kube_queue_is_shutdown(q), 0);
  kube_queue_shutdown(q);
  kube_queue_shutdown(q);
  for (int i = 0; i < 3; i++) {
    void *rv;
    pthread_join(t[i], &rv);
    assert_int_equal((int)(intptr_t)rv, MBCAS_EGONE);
  }
  assert_int_equal(kube_queue_is_shutdown(q), 1);
  assert_int_equal(kube_queue_add(q, "a/b"), MBCAS_EGONE);
  assert_int_equal(kube_queue_add_after(q, "a/b", 1), MBCAS_EGONE);
  assert_int_equal(kube_queue_add_rate_limited(q, "a/b", NULL), MBCAS_EGONE);
  kube_queue_free(q);
  kube_queue_free(NULL);
}

/* Many workers, few keys, many adds: never two workers on one key, and every
 * key added after its last processing started is processed again. */
#define NKEYS 8
static atomic_int in_flight[NKEYS];
static atomic_int violations, processed;

static void *worker(void *arg) {
  kube_queue *q = arg;
  const char *k;
  while (kube_queue_get(q, &k, -1) == MBCAS_OK) {
    int i = atoi(k + 3);
    if (atomic_fetch_add(&in_flight[i], 1) != 0) atomic_fetch_add(&violations, 1);
    for (volatile int spin = 0; spin < 2000; spin++) {
    }
    atomic_fetch_sub(&in_flight[i], 1);
    atomic_fetch_add(&processed, 1);
    kube_queue_done(q, k);
  }
  return NULL;
}

static void test_never_two_workers(void **state) {
  (void)state;
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, NULL), MBCAS_OK);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, q);
  char key[16];
  for (int n = 0; n < 20000; n++) {
    snprintf(key, sizeof(key), "ns/%d", n % NKEYS);
    assert_int_equal(kube_queue_add(q, key), MBCAS_OK);
  }
  /* drain: wait until nothing waits or runs (polling, no timing assertion) */
  while (kube_queue_len(q) || kube_queue_processing_len(q)) {
    const struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  kube_queue_shutdown(q);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_int_equal(atomic_load(&violations), 0);
  assert_true(atomic_load(&processed) >= NKEYS);
  assert_true(atomic_load(&processed) <= 20000);
  kube_queue_free(q);
}

static void test_metrics(void **state) {
  (void)state;
  kube_metrics *r;
  assert_int_equal(kube_metrics_new(&r), MBCAS_OK);
  fake_now = 0;
  kube_queue_opts o = {.name = "sb", .metrics = r, .clock = fake_clock, .qps = -1};
  kube_queue *q;
  assert_int_equal(kube_queue_new(&q, &o), MBCAS_OK);
  const char *const lv[] = {"sb"};
  kube_queue_add(q, "a/1");
  kube_queue_add(q, "a/1");
  kube_queue_add(q, "a/2");
  assert_true(kube_metric_value(kube_metrics_find(r, "workqueue_adds_total"), lv) == 2);
  assert_true(kube_metric_value(kube_metrics_find(r, "workqueue_depth"), lv) == 2);
  fake_now = 3;
  const char *k = take(q);
  kube_metric *lat = kube_metrics_find(r, "workqueue_queue_duration_seconds");
  assert_true(kube_metric_value(lat, lv) == 1);
  assert_true(kube_metric_sum(lat, lv) == 3);
  fake_now = 3.5;
  kube_queue_done(q, k);
  kube_metric *work = kube_metrics_find(r, "workqueue_work_duration_seconds");
  assert_true(kube_metric_sum(work, lv) == 0.5);
  kube_queue_add_rate_limited(q, "a/3", NULL);
  assert_true(kube_metric_value(kube_metrics_find(r, "workqueue_retries_total"), lv) == 1);
  assert_true(kube_metric_value(kube_metrics_find(r, "workqueue_depth"), lv) == 1);
  /* a second queue with another name shares the families */
  kube_queue *q2;
  o.name = "sm";
  assert_int_equal(kube_queue_new(&q2, &o), MBCAS_OK);
  kube_queue_add(q2, "x/y");
  assert_true(kube_metric_value(kube_metrics_find(r, "workqueue_depth"),
                                (const char *const[]){"sm"}) == 1);
  kube_queue_free(q2);
  kube_queue_free(q);
  kube_metrics_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedup_and_fifo),
      cmocka_unit_test(test_readd_while_processing),
      cmocka_unit_test(test_per_key_backoff),
      cmocka_unit_test(test_default_limiter),
      cmocka_unit_test(test_overall_bucket),
      cmocka_unit_test(test_delayed_adds),
      cmocka_unit_test(test_delayed_heap_order),
      cmocka_unit_test(test_real_clock_wait),
      cmocka_unit_test(test_shutdown),
      cmocka_unit_test(test_never_two_workers),
      cmocka_unit_test(test_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
