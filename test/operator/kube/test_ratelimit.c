/* test_ratelimit.c - ratelimit.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

static void test_burst_then_rate(void **state) {
  (void)state;
  kube_ratelimit rl;
  kube_ratelimit_init(&rl, 10, 3);
  double t = 100;
  for (int i = 0; i < 3; i++) assert_float_equal(kube_ratelimit_reserve(&rl, t), 0, 1e-12);
  /* the 4th waits one token time (0.1 s), the 5th two */
  assert_float_equal(kube_ratelimit_reserve(&rl, t), 0.1, 1e-9);
  assert_float_equal(kube_ratelimit_reserve(&rl, t), 0.2, 1e-9);
  assert_float_equal(kube_ratelimit_tokens(&rl, t), -2, 1e-9);
  /* 1 s later: refilled by 10 but capped at burst */
  assert_float_equal(kube_ratelimit_tokens(&rl, t + 1), 3, 1e-9);
  kube_ratelimit_destroy(&rl);
}

static void test_try(void **state) {
  (void)state;
  kube_ratelimit rl;
  kube_ratelimit_init(&rl, 2, 1);
  assert_int_equal(kube_ratelimit_try(&rl, 5), 1);
  assert_int_equal(kube_ratelimit_try(&rl, 5), 0);
  assert_int_equal(kube_ratelimit_try(&rl, 5.25), 0);
  assert_int_equal(kube_ratelimit_try(&rl, 5.5), 1);
  kube_ratelimit_destroy(&rl);
}

static void test_unlimited_and_wait(void **state) {
  (void)state;
  kube_ratelimit rl;
  kube_ratelimit_init(&rl, -1, 0);
  for (int i = 0; i < 1000; i++) assert_float_equal(kube_ratelimit_reserve(&rl, 0), 0, 0);
  assert_int_equal(kube_ratelimit_try(&rl, 0), 1);
  kube_ratelimit_wait(&rl); /* returns at once */
  kube_ratelimit_destroy(&rl);
  kube_ratelimit_init(&rl, 1000, 2);
  kube_ratelimit_wait(&rl);
  kube_ratelimit_wait(&rl);
  kube_ratelimit_wait(&rl); /* sleeps ~1 ms */
  kube_ratelimit_destroy(&rl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_burst_then_rate),
      cmocka_unit_test(test_try),
      cmocka_unit_test(test_unlimited_and_wait),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
