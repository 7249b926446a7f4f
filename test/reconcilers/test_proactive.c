/* test_proactive.c - AgentPolicy forecast settings -> horizontal inputs (proactive.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "horizontal.h"
#include "proactive.h"

static ap_spec spec(void) {
  ap_spec s;
  memset(&s, 0, sizeof s);
  s.forecast_enabled = true;
  s.forecast_method = AP_FORECAST_HOLT_WINTERS;
  s.forecast_horizon_ms = 300000;
  s.forecast_lead_ms = 60000;
  s.forecast_season_ms = 86400000;
  s.forecast_error_band = 0.5;
  return s;
}

/* The settings as the demand stage copies them from an AgentPolicy. */
static const rec_forecast_settings *fs(const ap_spec *ap) {
  static rec_forecast_settings out;
  rec_forecast_settings_of(&out, ap);
  return &out;
}

/* No forecast: off, method None, NULL policy; settings changes are noticed. */
static void test_off_and_same(void **st) {
  (void)st;
  rec_proactive *p = (rec_proactive *)1;
  ap_spec s = spec();
  s.forecast_enabled = false;
  assert_int_equal(rec_proactive_new(&p, fs(&s), 15, NULL), MBCAS_OK);
  assert_null(p);
  assert_true(rec_proactive_same(NULL, fs(&s), 15));
  s = spec();
  s.forecast_method = AP_FORECAST_NONE;
  assert_int_equal(rec_proactive_new(&p, fs(&s), 15, NULL), MBCAS_OK);
  assert_null(p);
  assert_int_equal(rec_proactive_new(&p, fs(NULL), 15, NULL), MBCAS_OK);
  assert_null(p);
  s = spec();
  assert_false(rec_proactive_same(NULL, fs(&s), 15));
  assert_int_equal(rec_proactive_new(&p, fs(&s), 15, NULL), MBCAS_OK);
  assert_non_null(p);
  assert_true(rec_proactive_same(p, fs(&s), 15));
  assert_false(rec_proactive_same(p, fs(&s), 30));
  s.forecast_error_band = 1;
  assert_false(rec_proactive_same(p, fs(&s), 15));
  s = spec();
  s.forecast_lead_ms = 30000;
  assert_false(rec_proactive_same(p, fs(&s), 15));
  s.forecast_enabled = false;
  assert_false(rec_proactive_same(p, fs(&s), 15));
  rec_proactive_free(p);
  rec_proactive_free(NULL);
  assert_int_equal(rec_proactive_new(&p, NULL, 15, NULL), MBCAS_OK);
  assert_null(p);
  rec_forecast_settings f;
  rec_forecast_settings_of(&f, NULL);
  assert_false(f.on);
  s = spec();
  rec_forecast_settings_of(&f, &s);
  assert_true(f.on && f.horizon_ms == 300000 && f.lead_ms == 60000 && f.error_band == 0.5);
  rec_forecast_settings_of(NULL, &s);
  /* bad interval */
  s = spec();
  mbcas_err e;
  assert_int_equal(rec_proactive_new(&p, fs(&s), 0, &e), MBCAS_EINVAL);
  assert_null(p);
  assert_int_equal(rec_proactive_new(NULL, fs(&s), 15, NULL), MBCAS_EINVAL);
}

/* A steady 2,000m service of 4 pods capped at 1,000m: forecast_demand 0.5; the hold keeps
 * every replica for the first ten minutes (40 observations at 15 s), then follows the
 * forecast; a step up shows in forecast_demand at once. */
static void test_outputs(void **st) {
  (void)st;
  ap_spec s = spec();
  rec_proactive *p = NULL;
  assert_int_equal(rec_proactive_new(&p, fs(&s), 15, NULL), MBCAS_OK);
  rec_forecast_out o;
  rec_proactive_outputs(p, 4000, 0.85, &o);
  assert_true(o.forecast_demand == 0 && o.hold_demand == 0 && !o.band_ready); /* nothing seen */
  double t = 0;
  for (int i = 0; i < 20; i++, t += 15) rec_proactive_observe(p, t, 2000);
  rec_proactive_outputs(p, 4000, 0.85, &o);
  assert_true(fabs(o.forecast_demand - 0.5) < 1e-6);
  assert_false(o.band_ready);
  assert_true(o.hold_demand == 0.85); /* holds all 4: ceil(4 x 0.85 / 0.85) */
  horizontal_config c;
  horizontal_config_default(&c);
  c.forecast_target_demand = 0.85;
  c.max_step_in = 0;
  horizontal_state hs;
  horizontal_state_init(&hs);
  horizontal_observation ob = {4, 4, 0, 0.1, 4, 0, o.forecast_demand, o.hold_demand};
  horizontal_decision d;
  assert_int_equal(horizontal_decide(&d, &hs, &c, &ob, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &hs, &c, &ob, 400, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 4); /* low demand, but the untrusted hold keeps the pods */
  for (int i = 0; i < 40; i++, t += 15) rec_proactive_observe(p, t, 2000);
  rec_proactive_outputs(p, 4000, 0.85, &o);
  assert_true(o.band_ready);
  assert_true(fabs(o.hold_demand - 0.5) < 1e-6);
  ob.forecast_hold_demand = o.hold_demand;
  horizontal_state_init(&hs);
  assert_int_equal(horizontal_decide(&d, &hs, &c, &ob, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &hs, &c, &ob, 400, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 3); /* ceil(4 x 0.5 / 0.85): the trusted hold floors it */
  /* a step to 4,000m: the upper forecast over the lead exceeds the caps */
  for (int i = 0; i < 4; i++, t += 15) rec_proactive_observe(p, t, 4000);
  rec_proactive_outputs(p, 4000, 0.85, &o);
  assert_true(o.forecast_demand > 0.85);
  assert_true(o.horizon_m >= o.lead_m); /* the horizon covers every point of the lead */
  /* ignored: time not after the last, negative, NaN */
  double before = o.lead_m;
  rec_proactive_observe(p, t - 15, 100000);
  rec_proactive_observe(p, t, -5);
  rec_proactive_observe(p, t, NAN);
  rec_proactive_outputs(p, 4000, 0.85, &o);
  assert_true(o.lead_m == before);
  rec_proactive_outputs(p, 0, 0.85, &o);
  assert_true(o.forecast_demand == 0);
  rec_proactive_outputs(p, 4000, 0.85, NULL);
  rec_proactive_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_off_and_same),
      cmocka_unit_test(test_outputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
