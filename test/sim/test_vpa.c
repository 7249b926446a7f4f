/* test_vpa.c - the VPA-like recommender: buckets, decaying percentile, bounds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vpa.h"

static void test_buckets(void **s) {
  (void)s;
  assert_int_equal(vpa_bucket(0.0), 0);
  assert_int_equal(vpa_bucket(5.0), 0);
  assert_int_equal(vpa_bucket(10.4), 0);
  assert_int_equal(vpa_bucket(10.6), 1);
  assert_true(fabs(vpa_bucket_end(0) - 10.5) < 1e-9);
  for (double v = 11; v < 50000; v *= 1.3) {
    int b = vpa_bucket(v);
    assert_true(v <= vpa_bucket_end(b) + 1e-9);
    assert_true(b == 0 || v >= vpa_bucket_end(b - 1) - 1e-9);
  }
  assert_int_equal(vpa_bucket(1e12), VPA_BUCKETS - 1);
}

/* 90 samples at 100m and 10 at 1000m: P90 is the 100m bucket's edge, P95 the 1000m one;
 * target = P90 x 1.15. Empty histogram: 0, target = min. */
static void test_percentile_and_target(void **s) {
  (void)s;
  vpa_hist h;
  vpa_hist_init(&h, 86400.0);
  assert_true(vpa_hist_percentile(&h, 0.9) == 0.0);
  assert_int_equal(vpa_target(&h, 0.9, 0.15, 25), 25);
  for (int i = 0; i < 90; i++) vpa_hist_add(&h, 100.0, 0.0);
  for (int i = 0; i < 10; i++) vpa_hist_add(&h, 1000.0, 0.0);
  double p90 = vpa_hist_percentile(&h, 0.9);
  assert_true(fabs(p90 - vpa_bucket_end(vpa_bucket(100.0))) < 1e-9);
  assert_true(fabs(vpa_hist_percentile(&h, 0.95) - vpa_bucket_end(vpa_bucket(1000.0))) < 1e-9);
  assert_int_equal(vpa_target(&h, 0.9, 0.15, 25), (int64_t)ceil(p90 * 1.15));
  vpa_hist_add(&h, NAN, 0.0); /* ignored */
  vpa_hist_add(&h, -1.0, 0.0);
  assert_true(fabs(h.total - 100.0) < 1e-9);
}

/* A sample one half-life newer weighs twice as much: 60 old at 100m vs 40 new at 500m
 * (weight 80) puts P50 at 500m. Rescaling after many half-lives keeps the order. */
static void test_decay(void **s) {
  (void)s;
  vpa_hist h;
  vpa_hist_init(&h, 3600.0);
  for (int i = 0; i < 60; i++) vpa_hist_add(&h, 100.0, 0.0);
  for (int i = 0; i < 40; i++) vpa_hist_add(&h, 500.0, 3600.0);
  assert_true(fabs(vpa_hist_percentile(&h, 0.5) - vpa_bucket_end(vpa_bucket(500.0))) < 1e-9);
  vpa_hist_add(&h, 2000.0, 3600.0 * 100.0); /* forces a rescale */
  assert_true(fabs(vpa_hist_percentile(&h, 0.5) - vpa_bucket_end(vpa_bucket(2000.0))) < 1e-9);
  assert_true(isfinite(h.total));
}

/* Bounds: wide with little history (upper x (1 + 1/days)), narrow after days. */
static void test_recommend_bounds(void **s) {
  (void)s;
  vpa_hist h;
  vpa_hist_init(&h, 86400.0);
  for (int i = 0; i < 100; i++) vpa_hist_add(&h, 400.0, i * 60.0);
  vpa_rec r;
  vpa_recommend(&r, &h, 3600.0, 0.15, 25); /* one hour: days = 1/24 */
  double edge = vpa_bucket_end(vpa_bucket(400.0));
  assert_int_equal(r.target_m, (int64_t)ceil(edge * 1.15));
  assert_true(r.upper_m >= (int64_t)(edge * 1.15 * 25.0) - 1);
  assert_true(r.lower_m <= r.target_m);
  vpa_recommend(&r, &h, 30 * 86400.0, 0.15, 25);
  assert_true(r.upper_m <= (int64_t)ceil(edge * 1.15 * (1.0 + 1.0 / 30.0)) + 1);
  assert_true(r.lower_m >= (int64_t)(edge * 1.15 * 0.99));
  vpa_hist e;
  vpa_hist_init(&e, 0.0); /* default half-life */
  assert_true(e.half_life_s == 86400.0);
  vpa_recommend(&r, &e, 100.0, 0.15, 25);
  assert_int_equal(r.target_m, 25);
  assert_int_equal(r.lower_m, 25);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buckets), cmocka_unit_test(test_percentile_and_target),
      cmocka_unit_test(test_decay),   cmocka_unit_test(test_recommend_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
