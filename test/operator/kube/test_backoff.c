/* test_backoff.c - backoff.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static void test_default_doubles_to_cap(void **state) {
  (void)state;
  kube_backoff b;
  kube_backoff_init_default(&b);
  b.jitter = 0; /* exact values */
  double t = 1000;
  assert_float_equal(kube_backoff_next(&b, t), 0.8, 1e-9);
  assert_float_equal(kube_backoff_next(&b, t + 1), 1.6, 1e-9);
  assert_float_equal(kube_backoff_next(&b, t + 2), 3.2, 1e-9);
  for (int i = 0; i < 10; i++) kube_backoff_next(&b, t + 3 + i);
  assert_float_equal(kube_backoff_next(&b, t + 20), 30.0, 1e-9);
}

static void test_jitter_bounds_and_seed(void **state) {
  (void)state;
  kube_backoff a, b;
  kube_backoff_init(&a, 1.0, 8.0, 2.0, 1.0, 0);
  kube_backoff_init(&b, 1.0, 8.0, 2.0, 1.0, 0);
  kube_backoff_seed(&a, 42);
  kube_backoff_seed(&b, 42);
  double base = 1.0;
  for (int i = 0; i < 6; i++) {
    double da = kube_backoff_next(&a, i), db = kube_backoff_next(&b, i);
    assert_float_equal(da, db, 1e-12); /* same seed, same sequence */
    assert_true(da >= base && da < 2 * base);
    base = base * 2 > 8 ? 8 : base * 2;
  }
}

static void test_reset_after_quiet(void **state) {
  (void)state;
  kube_backoff b;
  kube_backoff_init(&b, 0.8, 30, 2, 0, 120);
  kube_backoff_next(&b, 0);
  kube_backoff_next(&b, 1);
  assert_float_equal(kube_backoff_next(&b, 2), 3.2, 1e-9);
  /* 120 s without a failure: back to the start */
  assert_float_equal(kube_backoff_next(&b, 122), 0.8, 1e-9);
  assert_float_equal(kube_backoff_next(&b, 123), 1.6, 1e-9);
  kube_backoff_reset(&b);
  assert_float_equal(kube_backoff_next(&b, 124), 0.8, 1e-9);
}

static void test_delay_pure(void **state) {
  (void)state;
  assert_float_equal(kube_backoff_delay(0.005, 2, 0, 1000), 0.005, 1e-12);
  assert_float_equal(kube_backoff_delay(0.005, 2, 3, 1000), 0.04, 1e-12);
  assert_float_equal(kube_backoff_delay(0.005, 2, 100, 1000), 1000, 1e-9);
  assert_float_equal(kube_backoff_delay(1, 1, 5, 10), 1, 1e-12);
}

static void test_now_and_sleep(void **state) {
  (void)state;
  double a = kube_now();
  kube_sleep(0);
  kube_sleep(-1);
  kube_sleep(0.001);
  double b = kube_now();
  assert_true(b >= a); /* monotonic: never goes back */
}

static void test_init_clamps(void **state) {
  (void)state;
  kube_backoff b;
  kube_backoff_init(&b, -1, -5, 0.5, -1, 0);
  assert_true(b.initial > 0);
  assert_true(b.max >= b.initial);
  assert_float_equal(b.factor, 1.0, 0);
  assert_float_equal(b.jitter, 0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_doubles_to_cap), cmocka_unit_test(test_jitter_bounds_and_seed),
      cmocka_unit_test(test_reset_after_quiet),     cmocka_unit_test(test_delay_pure),
      cmocka_unit_test(test_now_and_sleep),         cmocka_unit_test(test_init_clamps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
