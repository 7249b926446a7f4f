/* test_demand.c - pressures, combining, EWMA with irregular steps, staleness and the
 * honesty rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "demand.h"
#include "mtest.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_pressure(void **state) {
  (void)state;
  NEAR(demand_pressure(50, 100), 0.5);
  NEAR(demand_pressure(150, 100), 1);
  NEAR(demand_pressure(-3, 100), 0);
  NEAR(demand_pressure(NAN, 100), 0);
  NEAR(demand_pressure(5, 0), 0);
  NEAR(demand_pressure(5, NAN), 0);
  NEAR(demand_pressure(INFINITY, 10), 1);
}

static void test_combine(void **state) {
  (void)state;
  demand_signal s[3] = {
      {50, 100, 1, 100, 1},  /* 0.5 */
      {90, 100, 3, 100, 1},  /* 0.9 */
      {100, 100, 1, 10, 1},  /* 1.0 but stale at now=100 with limit 30 */
  };
  double out = -1;
  assert_int_equal(demand_combine(&out, s, 3, DEMAND_COMBINE_MAX, 100, 30), 2);
  NEAR(out, 0.9);
  assert_int_equal(demand_combine(&out, s, 3, DEMAND_COMBINE_WEIGHTED_SUM, 100, 30), 2);
  NEAR(out, (0.5 * 1 + 0.9 * 3) / 4);
  /* never stale when the limit is 0: all three */
  assert_int_equal(demand_combine(&out, s, 3, DEMAND_COMBINE_MAX, 100, 0), 3);
  NEAR(out, 1);
  /* zero weights: plain mean */
  s[0].weight = s[1].weight = s[2].weight = 0;
  assert_int_equal(demand_combine(&out, s, 3, DEMAND_COMBINE_WEIGHTED_SUM, 100, 0), 3);
  NEAR(out, (0.5 + 0.9 + 1) / 3);
  /* nothing fresh: out untouched */
  s[0].valid = s[1].valid = 0;
  out = 0.123;
  assert_int_equal(demand_combine(&out, s, 3, DEMAND_COMBINE_MAX, 100, 30), 0);
  NEAR(out, 0.123);
  assert_int_equal(demand_combine(&out, NULL, 0, DEMAND_COMBINE_MAX, 100, 30), 0);
}

static void test_ewma_irregular(void **state) {
  (void)state;
  NEAR(demand_ewma(0, 1, 60, 60), 0.5); /* one half-life: half way */
  NEAR(demand_ewma(0, 1, 120, 60), 0.75);
  NEAR(demand_ewma(0.3, 1, 0, 60), 0.3);
  NEAR(demand_ewma(0.3, 0.8, 10, 0), 0.8);
  /* irregular steps with a constant sample equal one step of the total */
  mrng r = {3};
  for (int t = 0; t < 1000; t++) {
    double prev = mrng_unit(&r), sample = mrng_unit(&r), h = 1 + 100 * mrng_unit(&r);
    double dt1 = 50 * mrng_unit(&r), dt2 = 50 * mrng_unit(&r);
    double two = demand_ewma(demand_ewma(prev, sample, dt1, h), sample, dt2, h);
    double one = demand_ewma(prev, sample, dt1 + dt2, h);
    assert_true(fabs(two - one) < 1e-12);
    assert_true(one >= 0 && one <= 1);
  }
}

static void test_supported(void **state) {
  (void)state;
  demand_usage u = {200, 1000, 1};
  NEAR(demand_supported(&u, 0.25), 0.25);
  u.usage_m = 1000;
  NEAR(demand_supported(&u, 0.25), 1);
  u.usage_m = 0;
  NEAR(demand_supported(&u, 0.25), 0);
  u.valid = 0;
  NEAR(demand_supported(&u, 0.25), 1);
  NEAR(demand_supported(NULL, 0.25), 1);
  u.valid = 1;
  NEAR(demand_supported(&u, -1), 1); /* rule off */
  u.alloc_m = 0;
  NEAR(demand_supported(&u, 0.25), 1);
}

static void test_update_smoothing_and_fallback(void **state) {
  (void)state;
  demand_config c;
  demand_config_default(&c);
  assert_int_equal(c.combine, DEMAND_COMBINE_MAX);
  c.honesty_headroom = -1; /* off here */
  demand_state st = {0};
  demand_result r;
  demand_signal s = {80, 100, 1, 0, 1};
  assert_int_equal(demand_update(&r, &st, &c, &s, 1, NULL, 0), MBCAS_OK);
  NEAR(r.smoothed, 0.8); /* first sample taken as is */
  assert_int_equal(r.n_fresh, 1);
  s.value = 0;
  s.observed_at = 60;
  assert_int_equal(demand_update(&r, &st, &c, &s, 1, NULL, 60), MBCAS_OK);
  NEAR(r.smoothed, 0.4); /* one half-life toward 0 */
  /* signal goes stale: fallback 0.5 becomes the sample */
  assert_int_equal(demand_update(&r, &st, &c, &s, 1, NULL, 60 + 121), MBCAS_OK);
  assert_int_equal(r.used_fallback, 1);
  NEAR(r.raw, 0.5);
  assert_true(r.smoothed > 0.4 && r.smoothed < 0.5);
  NEAR(st.smoothed, r.smoothed);
  assert_int_equal(demand_update(NULL, NULL, &c, &s, 1, NULL, 0), MBCAS_EINVAL);
  assert_int_equal(demand_update(NULL, &st, NULL, &s, 1, NULL, 0), MBCAS_EINVAL);
  assert_int_equal(demand_update(NULL, &st, &c, NULL, 1, NULL, 0), MBCAS_EINVAL);
}

/* A pod that claims 1.0 while using 10% of its allocation is pulled down to what usage
 * supports; an honest pod (using all its allocation) keeps its claim. */
static void test_honesty_rule(void **state) {
  (void)state;
  demand_config c;
  demand_config_default(&c);
  c.half_life_s = 0; /* look at the raw pipeline */
  c.honesty_headroom = 0.25;
  c.honesty_half_life_s = 60;
  demand_state liar = {0}, honest = {0};
  demand_signal s = {1, 1, 1, 0, 1};
  demand_usage lu = {100, 1000, 1}, hu = {1000, 1000, 1};
  demand_result r;
  double last = 1;
  for (int t = 0; t <= 600; t += 15) {
    s.observed_at = t;
    assert_int_equal(demand_update(&r, &liar, &c, &s, 1, &lu, t), MBCAS_OK);
    NEAR(r.supported, 0.125);
    assert_true(r.honest <= last + 1e-12); /* decays monotonically */
    last = r.honest;
    if (t == 0) NEAR(r.honest, 1); /* a short burst passes */
    if (t == 60) NEAR(r.honest, 0.125 + 0.875 * 0.5);
    if (t > 0) assert_int_equal(r.limited, 1);
    assert_int_equal(demand_update(&r, &honest, &c, &s, 1, &hu, t), MBCAS_OK);
    NEAR(r.honest, 1);
    assert_int_equal(r.limited, 0);
  }
  assert_true(last < 0.126);
  /* once the claim falls within support, the clock resets */
  s.value = 0.1;
  assert_int_equal(demand_update(&r, &liar, &c, &s, 1, &lu, 615), MBCAS_OK);
  assert_int_equal(liar.excess_active, 0);
  NEAR(r.honest, 0.1);
  s.value = 1;
  assert_int_equal(demand_update(&r, &liar, &c, &s, 1, &lu, 630), MBCAS_OK);
  NEAR(r.honest, 1);
  /* honesty half-life 0: cut at once */
  c.honesty_half_life_s = 0;
  demand_state st = {0};
  assert_int_equal(demand_update(&r, &st, &c, &s, 1, &lu, 0), MBCAS_OK);
  NEAR(r.honest, 0.125);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pressure),       cmocka_unit_test(test_combine),
      cmocka_unit_test(test_ewma_irregular), cmocka_unit_test(test_supported),
      cmocka_unit_test(test_update_smoothing_and_fallback),
      cmocka_unit_test(test_honesty_rule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
