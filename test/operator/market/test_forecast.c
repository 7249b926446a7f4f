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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_parse),   cmocka_unit_test(test_new_rejects_bad_settings),
      cmocka_unit_test(test_empty_and_naive),      cmocka_unit_test(test_holt_constant_and_trend),
      cmocka_unit_test(test_holt_winters_season),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
