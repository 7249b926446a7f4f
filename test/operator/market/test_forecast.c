/* test_forecast.c - Holt-Winters forecast: settings, fallbacks, trend and daily season. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "forecast.h"

static forecast_state *mk(forecast_method m) {
  forecast_config c;
  forecast_config_default(&c);
  c.method = m;
  forecast_state *st = NULL;
  assert_int_equal(forecast_new(&st, &c, NULL), MBCAS_OK);
  assert_non_null(st);
  return st;
}

static void test_defaults_and_parse(void **s) {
  (void)s;
  forecast_config c;
  forecast_config_default(&c);
  assert_int_equal(c.method, FORECAST_HOLT_WINTERS);
  assert_true(c.season_s == 86400.0);
  assert_int_equal(c.bins, 96);
  assert_int_equal(forecast_parse_method("holt-winters"), FORECAST_HOLT_WINTERS);
  assert_int_equal(forecast_parse_method("holt"), FORECAST_HOLT);
  assert_int_equal(forecast_parse_method("naive"), FORECAST_NAIVE);
  assert_int_equal(forecast_parse_method("arima"), -1);
  assert_int_equal(forecast_parse_method(NULL), -1);
}

static void test_new_rejects_bad_settings(void **s) {
  (void)s;
  forecast_config c;
  forecast_state *st = NULL;
  mbcas_err e;
  forecast_config_default(&c);
  c.alpha = 0.0;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "alpha");
  forecast_config_default(&c);
  c.beta = 1.5;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "beta");
  forecast_config_default(&c);
  c.gamma = NAN;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "gamma");
  forecast_config_default(&c);
  c.phi = 0.0;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "phi");
  forecast_config_default(&c);
  c.season_s = -1;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "seasonS");
  forecast_config_default(&c);
  c.bins = 1;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "bins");
  forecast_config_default(&c);
  c.method = (forecast_method)7;
  assert_int_equal(forecast_new(&st, &c, &e), MBCAS_EINVAL);
  assert_null(st);
  forecast_free(NULL);
}

static void test_empty_and_naive(void **s) {
  (void)s;
  forecast_state *st = mk(FORECAST_NAIVE);
  assert_true(forecast_predict(st, 60) == 0.0);
  assert_true(forecast_predict_max(st, 60, 15) == 0.0);
  assert_int_equal(forecast_count(st), 0);
  forecast_observe(st, 0, 10);
  forecast_observe(st, 15, 20);
  forecast_observe(st, 15, 99);  /* not later: ignored */
  forecast_observe(st, 30, NAN); /* ignored */
  assert_int_equal(forecast_count(st), 2);
  assert_true(forecast_predict(st, 300) == 20.0);
  assert_false(forecast_seasonal_ready(st));
  forecast_free(st);
}

/* A constant series is forecast as that constant; a linear ramp continues upward. */
static void test_holt_constant_and_trend(void **s) {
  (void)s;
  forecast_state *st = mk(FORECAST_HOLT);
  for (int i = 0; i < 200; i++) forecast_observe(st, i * 15.0, 50.0);
  assert_true(fabs(forecast_predict(st, 600) - 50.0) < 1e-6);
  forecast_free(st);

  st = mk(FORECAST_HOLT);
  for (int i = 0; i < 2000; i++) forecast_observe(st, i * 15.0, 10.0 + 0.1 * i); /* +0.4/min */
  double now = 10.0 + 0.1 * 1999;
  double f = forecast_predict(st, 300.0); /* 5 min ahead: undamped truth now + 2 */
  assert_true(f > now + 0.5);
  assert_true(f < now + 2.5);
  /* predict_max of an increasing forecast is the value at the horizon */
  assert_true(fabs(forecast_predict_max(st, 300.0, 15.0) - f) < 1e-9);
  forecast_free(st);
}

/* Two days of a daily sine: after the first day the seasonal term is in use and the
 * forecast one hour ahead follows the sine (within 10% of the amplitude), which Holt
 * alone cannot do near a turning point. Negative forecasts are clamped to 0. */
static double daily(double t) { return 100.0 + 50.0 * sin(2.0 * M_PI * t / 86400.0); }

static void test_holt_winters_season(void **s) {
  (void)s;
  forecast_state *st = mk(FORECAST_HOLT_WINTERS);
  double t = 0;
  for (; t < 86400.0; t += 60.0) forecast_observe(st, t, daily(t));
  assert_false(forecast_seasonal_ready(st));
  for (; t < 3 * 86400.0; t += 60.0) forecast_observe(st, t, daily(t));
  assert_true(forecast_seasonal_ready(st));
  /* now = last observation (3 days - 60 s); check several horizons */
  double now = t - 60.0;
  for (double h = 900.0; h <= 6 * 3600.0; h += 900.0) {
    double err = fabs(forecast_predict(st, h) - daily(now + h));
    assert_true(err < 5.0);
  }
  /* max over the next 8 hours is near the daily peak (150 at 6 h after midnight) */
  double mx = forecast_predict_max(st, 8 * 3600.0, 900.0);
  assert_true(mx > 140.0 && mx < 160.0);
  forecast_free(st);

  st = mk(FORECAST_HOLT);
  for (int i = 0; i < 100; i++) forecast_observe(st, i * 60.0, 100.0 - i); /* falling fast */
  assert_true(forecast_predict(st, 86400.0) >= 0.0);
  forecast_free(st);
}

/* Error band: a constant load is predicted exactly (sd 0); an alternating load has an
 * error of known size; outliers fade; bad input is ignored. */
static void test_band(void **s) {
  (void)s;
  forecast_state *st = mk(FORECAST_NAIVE);
  forecast_band b;
  forecast_band_init(&b, 30, 0.5);
  assert_true(b.lead_s == 30 && b.alpha == 0.5 && b.mae < 0);
  assert_true(forecast_band_sd(&b) == 0);
  assert_false(forecast_band_ready(&b, 1));
  assert_true(forecast_band_ready(&b, 0));
  for (int i = 0; i < 10; i++) { /* every 15 s: predictions for t + 30 */
    forecast_observe(st, i * 15.0, 100);
    forecast_band_observe(&b, st, i * 15.0, 100);
  }
  assert_int_equal(b.resolved, 8); /* t = 30 .. 135 */
  assert_true(forecast_band_ready(&b, 8));
  assert_false(forecast_band_ready(&b, 9));
  assert_true(forecast_band_sd(&b) == 0);
  assert_true(fabs(forecast_upper(st, &b, 60, 15, 2) - 100) < 1e-9);
  /* naive forecast of an alternating 100/140 load, lead one sample (15 s): every error
   * is 40 */
  forecast_state *alt = mk(FORECAST_NAIVE);
  forecast_band_init(&b, 15, 1.0);
  for (int i = 0; i < 10; i++) {
    double v = i % 2 ? 140 : 100;
    forecast_observe(alt, i * 15.0, v);
    forecast_band_observe(&b, alt, i * 15.0, v);
  }
  double sd = forecast_band_sd(&b);
  assert_true(fabs(sd - 40 * 1.2533141373155001) < 1e-9); /* sqrt(pi/2) x MAE */
  /* last value 140: upper = 140 + 1 x sd */
  assert_true(fabs(forecast_upper(alt, &b, 15, 15, 1) - (140 + sd)) < 1e-9);
  assert_true(fabs(forecast_upper(alt, &b, 15, 15, 0) - 140) < 1e-9);
  assert_true(fabs(forecast_upper(alt, NULL, 15, 15, 3) - 140) < 1e-9);
  /* an outlier fades: one error of 1000 with alpha 0.25, then exact predictions */
  forecast_state *o = mk(FORECAST_NAIVE);
  forecast_band_init(&b, 15, 0.25);
  double t = 0;
  for (int i = 0; i < 5; i++, t += 15) {
    forecast_observe(o, t, 100);
    forecast_band_observe(&b, o, t, 100);
  }
  forecast_observe(o, t, 1100);
  forecast_band_observe(&b, o, t, 1100);
  t += 15;
  double peak = forecast_band_sd(&b);
  assert_true(peak > 100);
  for (int i = 0; i < 20; i++, t += 15) {
    forecast_observe(o, t, 1100);
    forecast_band_observe(&b, o, t, 1100);
  }
  assert_true(forecast_band_sd(&b) < peak * 0.01);
  /* ignored: non-finite values, time going backwards; NULL arguments */
  size_t before = b.resolved;
  forecast_band_observe(&b, o, t, NAN);
  forecast_band_observe(&b, o, -1000, 5);
  assert_int_equal(b.resolved, before);
  forecast_band_observe(NULL, o, t, 1);
  forecast_band_observe(&b, NULL, t, 1);
  forecast_band_init(NULL, 1, 1);
  assert_true(forecast_band_sd(NULL) == 0);
  assert_false(forecast_band_ready(NULL, 0));
  /* bad settings fall back to defaults */
  forecast_band_init(&b, -1, 7);
  assert_true(b.lead_s == 60 && b.alpha == 0.025);
  forecast_free(st);
  forecast_free(alt);
  forecast_free(o);
}

/* The ring holds FORECAST_BAND_RING pending predictions: a lead longer than the ring
 * covers drops the oldest unresolved, never overflows. */
static void test_band_ring(void **s) {
  (void)s;
  forecast_state *st = mk(FORECAST_NAIVE);
  forecast_band b;
  forecast_band_init(&b, 10000, 0.5);
  for (int i = 0; i < 3 * FORECAST_BAND_RING; i++) {
    forecast_observe(st, i * 15.0, 100);
    forecast_band_observe(&b, st, i * 15.0, 100);
    assert_true(b.count <= FORECAST_BAND_RING);
  }
  assert_int_equal(b.count, FORECAST_BAND_RING);
  assert_int_equal(b.resolved, 0);
  forecast_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_parse),   cmocka_unit_test(test_new_rejects_bad_settings),
      cmocka_unit_test(test_empty_and_naive),      cmocka_unit_test(test_holt_constant_and_trend),
      cmocka_unit_test(test_holt_winters_season), cmocka_unit_test(test_band),
      cmocka_unit_test(test_band_ring),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
