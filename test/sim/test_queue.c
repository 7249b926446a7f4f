/* test_queue.c - the per-pod queueing model against M/M/1 closed forms. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "queue.h"

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

/* M/M/1: mean sojourn 1/(mu - lambda); quantile -ln(1-q)/(mu - lambda). */
static void test_closed_forms(void **s) {
  (void)s;
  NEAR(queue_mm1_mean(8.0, 10.0), 0.5, 1e-12);
  NEAR(queue_mm1_mean(0.0, 4.0), 0.25, 1e-12);
  NEAR(queue_mm1_quantile(8.0, 10.0, 0.95), log(20.0) / 2.0, 1e-12);
  NEAR(queue_mm1_quantile(50.0, 100.0, 0.5), log(2.0) / 50.0, 1e-12);
  assert_true(isinf(queue_mm1_mean(10.0, 10.0)));
  assert_true(isinf(queue_mm1_mean(1.0, 0.0)));
  assert_true(isinf(queue_mm1_quantile(1.0, 2.0, 1.0)));
}

/* In steady state the step model gives exactly the M/M/1 figures: a pod with 0.5 core
 * and requests of 5 ms core time (mu = 100/s) at 80 req/s has mean latency 50 ms and
 * p95 = ln 20 / 20 = 149.8 ms; busy = rho = 0.8. */
static void test_steady_state_is_mm1(void **s) {
  (void)s;
  queue_pod q = {0, 0};
  queue_out o;
  double mu = 0.5 / 0.005;
  queue_step(&o, &q, 80.0, mu, 15.0);
  NEAR(o.mean_s, queue_mm1_mean(80.0, mu), 1e-12);
  NEAR(o.offset_s - log(0.05) / o.rate, queue_mm1_quantile(80.0, mu, 0.95), 1e-12);
  NEAR(o.busy, 0.8, 1e-12);
  NEAR(o.served, 80.0, 1e-12);
  assert_int_equal(o.saturated, 0);
  assert_true(q.backlog == 0.0);
}

/* Overload builds a fluid backlog of (lambda - mu) dt, which then drains at mu - lambda;
 * latency includes the wait behind it (mean backlog / mu). */
static void test_overload_and_drain(void **s) {
  (void)s;
  queue_pod q = {0, 0};
  queue_out o;
  queue_step(&o, &q, 120.0, 100.0, 10.0);
  NEAR(q.backlog, 200.0, 1e-9);
  assert_int_equal(o.saturated, 1);
  NEAR(o.busy, 1.0, 1e-12);
  NEAR(o.offset_s, 0.5 * 200.0 / 100.0, 1e-12);
  NEAR(o.rate, 100.0 * (1.0 - QUEUE_RHO_MAX), 1e-9);
  queue_step(&o, &q, 50.0, 100.0, 2.0); /* drains 100 */
  NEAR(q.backlog, 100.0, 1e-9);
  NEAR(o.served, 50.0 + 50.0, 1e-9);
  assert_int_equal(o.saturated, 1);
  queue_step(&o, &q, 50.0, 100.0, 10.0); /* drains the rest */
  NEAR(q.backlog, 0.0, 1e-12);
  queue_step(&o, &q, 50.0, 100.0, 10.0);
  NEAR(o.mean_s, 1.0 / 50.0, 1e-12);
  assert_int_equal(o.saturated, 0);
}

/* The backlog never exceeds QUEUE_TIMEOUT_S of work; the rest is counted as dropped.
 * A pod with no CPU serves nothing. */
static void test_timeout_and_zero_capacity(void **s) {
  (void)s;
  queue_pod q = {0, 0};
  queue_out o;
  queue_step(&o, &q, 300.0, 100.0, 60.0); /* +12000 */
  NEAR(q.backlog, QUEUE_TIMEOUT_S * 100.0, 1e-9);
  NEAR(q.dropped, 12000.0 - QUEUE_TIMEOUT_S * 100.0, 1e-6);
  queue_pod z = {0, 0};
  queue_step(&o, &z, 5.0, 0.0, 10.0);
  assert_true(o.mean_s == QUEUE_LAT_MAX);
  assert_true(o.served == 0.0);
  NEAR(z.dropped, 50.0, 1e-12);
}

/* The mixture quantile: one pod gives its own quantile; identical pods give the same;
 * two pods bracket the result; zero weight gives 0. */
static void test_mix_quantile(void **s) {
  (void)s;
  double w[3] = {1, 1, 1}, off[3] = {0, 0, 0}, r[3] = {20, 20, 20};
  NEAR(queue_mix_quantile(w, off, r, 1, 0.95), log(20.0) / 20.0, 1e-9);
  NEAR(queue_mix_quantile(w, off, r, 3, 0.95), log(20.0) / 20.0, 1e-9);
  double r2[2] = {10, 40};
  double x = queue_mix_quantile(w, off, r2, 2, 0.95);
  assert_true(x > log(20.0) / 40.0 && x < log(20.0) / 10.0);
  /* check the defining equation: mean of the two tails = 5% */
  NEAR(0.5 * exp(-10 * x) + 0.5 * exp(-40 * x), 0.05, 1e-6);
  /* an offset shifts the quantile */
  double off2[1] = {0.3};
  NEAR(queue_mix_quantile(w, off2, r, 1, 0.95), 0.3 + log(20.0) / 20.0, 1e-9);
  double zero[2] = {0, 0};
  assert_true(queue_mix_quantile(zero, off, r, 2, 0.95) == 0.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_closed_forms),        cmocka_unit_test(test_steady_state_is_mm1),
      cmocka_unit_test(test_overload_and_drain),  cmocka_unit_test(test_timeout_and_zero_capacity),
      cmocka_unit_test(test_mix_quantile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
