/* test_horizontal.c - replica decisions: windows, proportional steps, stabilization,
 * bounds, market ceiling and cooldown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "horizontal.h"

static horizontal_config cfg(void) {
  horizontal_config c;
  horizontal_config_default(&c);
  return c;
}

static void test_defaults_and_strings(void **state) {
  (void)state;
  horizontal_config c = cfg();
  assert_int_equal(c.min_replicas, 1);
  assert_int_equal(c.max_replicas, 10);
  horizontal_state st;
  horizontal_state_init(&st);
  assert_true(st.out_since < 0 && st.in_since < 0 && st.last_scale_at < 0);
  assert_string_equal(horizontal_reason_str(HORIZONTAL_SCALE_OUT), "scale-out");
  assert_string_equal(horizontal_reason_str(HORIZONTAL_MARKET_CEILING), "market-ceiling");
  assert_string_equal(horizontal_reason_str((horizontal_reason)99), "unknown");
  assert_true(horizontal_pod_at_cap(&c, 950, 1000));
  assert_false(horizontal_pod_at_cap(&c, 949, 1000));
  assert_false(horizontal_pod_at_cap(&c, 0, 0));
  assert_true(horizontal_pod_at_cap(NULL, 1000, 1000));
}

static void test_scale_out_after_window(void **state) {
  (void)state;
  horizontal_config c = cfg();
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_observation o = {3, 3, 3, 0.9, 3, 0, 0, 0};
  horizontal_decision d;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_WAIT_WINDOW);
  assert_int_equal(d.desired, 3);
  assert_true(d.window_left_s == 60);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 30, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_WAIT_WINDOW);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 60, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.recommendation, 5); /* ceil(3 * 0.9 / 0.6) = 5 */
  assert_int_equal(d.desired, 5);
  assert_true(st.last_scale_at == 60);
  /* the window restarts and cooldown applies */
  o.replicas = 5;
  o.pods = o.pods_at_cap = 5;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 75, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_WAIT_WINDOW);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 136, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 8);
}

static void test_scale_out_needs_cap_and_demand(void **state) {
  (void)state;
  horizontal_config c = cfg();
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  /* high demand but pods not at cap: market still has room on the node */
  horizontal_observation o = {3, 3, 1, 0.95, 3, 0, 0, 0};
  for (int t = 0; t <= 300; t += 15) {
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    assert_int_equal(d.desired, 3);
    assert_int_equal(d.reason, HORIZONTAL_HOLD);
  }
  /* interruption resets the window */
  o.pods_at_cap = 3;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 400, NULL), MBCAS_OK);
  o.demand = 0.5;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 430, NULL), MBCAS_OK);
  o.demand = 0.95;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 460, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_WAIT_WINDOW);
  assert_true(d.window_left_s == 60);
}

static void test_scale_in_stabilized(void **state) {
  (void)state;
  horizontal_config c = cfg();
  c.max_step_in = 0; /* no step limit: see the stabilization alone */
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  horizontal_observation o = {8, 8, 0, 0.3, 8, 0, 0, 0}; /* rec ceil(8*.3/.6) = 4 */
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_WAIT_WINDOW);
  o.demand = 0.05; /* rec 1, but the window's highest (4) wins */
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 150, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_IN);
  assert_int_equal(d.desired, 4);
  /* with the default step limit of 1 */
  c.max_step_in = 1;
  horizontal_state_init(&st);
  o.replicas = 4;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 1000, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 1300, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 3);
  /* at min: never below */
  horizontal_state_init(&st);
  o.replicas = 1;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 2000, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 2400, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_AT_MIN);
  assert_int_equal(d.desired, 1);
}

/* Regression: scale-in used to remove at least one replica (want = min(rec, cur - 1))
 * even when the proportional recommendation kept the current count: a 3-pod tier at
 * demand 0.66 with target 0.7 and scaleInDemand 0.63 went to 2 pods (99 % busy). Like the
 * HPA, scale-in never goes below the recommendation: here ceil(3 x 0.66 / 0.7) = 3. */
static void test_scale_in_never_below_recommendation(void **state) {
  (void)state;
  horizontal_config c = cfg();
  c.target_demand = 0.7;
  c.scale_out_demand = 0.77;
  c.scale_in_demand = 0.63;
  c.max_step_in = 0;
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  horizontal_observation o = {3, 3, 0, 0.66, 3, 0, 0, 0};
  for (int t = 0; t <= 900; t += 15) {
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    assert_int_equal(d.recommendation, 3);
    assert_int_equal(d.desired, 3);
    assert_true(d.reason == HORIZONTAL_WAIT_WINDOW || d.reason == HORIZONTAL_HOLD);
  }
  /* the window starts again after a hold, so a later drop scales in after a full window
   * of the lower recommendation (tumbling stabilization), not never */
  o.demand = 0.4; /* rec ceil(3 x 0.4 / 0.7) = 2 */
  int scaled_at = -1;
  for (int t = 915; t <= 2000 && scaled_at < 0; t += 15) {
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    if (d.reason == HORIZONTAL_SCALE_IN) scaled_at = t;
  }
  assert_true(scaled_at > 915 && scaled_at <= 915 + 600);
  assert_int_equal(d.desired, 2);
}

/* The forecast input: scale out ahead without pods at cap; scale-in not below it. */
static void test_forecast_demand(void **state) {
  (void)state;
  horizontal_config c = cfg(); /* out 0.8, in 0.3, target 0.6, window 60 s */
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  /* low demand now, no pod at cap, but the forecast needs 1.2 x the current caps */
  horizontal_observation o = {4, 4, 0, 0.2, 4, 0, 1.2, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_WAIT_WINDOW);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 60, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.recommendation, 8); /* ceil(4 x 1.2 / 0.6) */
  assert_int_equal(d.desired, 8);
  /* without the forecast the same observation scales in (toward ceil(4 x .2/.6) = 2) */
  horizontal_state_init(&st);
  o.forecast_demand = 0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_IN);
  assert_int_equal(d.desired, 3); /* default step in: 1 */
  /* a forecast below scale-out still floors scale-in: ceil(4 x 0.45 / 0.6) = 3 */
  c.max_step_in = 0;
  horizontal_state_init(&st);
  o.forecast_demand = 0.45;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_IN);
  assert_int_equal(d.desired, 3);
  /* non-finite forecast: ignored */
  horizontal_state_init(&st);
  o.forecast_demand = 1.0 / 0.0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 2);
}

/* forecast_target_demand: the forecast is sized at its own utilization and scales out
 * as soon as it needs more pods than there are; forecast_hold_demand floors scale-in
 * only. */
static void test_forecast_sized_and_hold(void **state) {
  (void)state;
  horizontal_config c = cfg(); /* out 0.8, in 0.3, target 0.6, window 60 s */
  c.forecast_target_demand = 0.85;
  c.scale_out_window_s = 0;
  c.cooldown_s = 0;
  c.max_step_in = 0;
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  /* 4 pods, forecast 0.9 of their caps: ceil(4 x 0.9 / 0.85) = 5 > 4 -> out now, although
   * 0.9 would not reach scale_out_demand's proportional meaning at target 0.6 */
  horizontal_observation o = {4, 4, 0, 0.2, 4, 0, 0.9, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 5);
  /* forecast 0.8: ceil(4 x 0.8 / 0.85) = 4: no scale-out (unsized, 0.8 >= out 0.8 would) */
  horizontal_state_init(&st);
  o.forecast_demand = 0.8;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 4);
  c.forecast_target_demand = 0;
  horizontal_state_init(&st);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 6); /* ceil(4 x 0.8 / 0.6) */
  /* hold demand: low demand scales in, but not below ceil(4 x 0.5 / 0.85) = 3 ... */
  c.forecast_target_demand = 0.85;
  horizontal_state_init(&st);
  o.forecast_demand = 0;
  o.forecast_hold_demand = 0.5;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_IN);
  assert_int_equal(d.desired, 3);
  /* ... and a hold demand needing more pods than there are does not scale out */
  horizontal_state_init(&st);
  o.forecast_hold_demand = 2.0;
  for (double t = 0; t <= 600; t += 15) {
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    assert_int_equal(d.desired, 4);
  }
  /* without it, the same observation goes to ceil(4 x 0.2 / 0.6) = 2 */
  horizontal_state_init(&st);
  o.forecast_hold_demand = 0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 2);
  /* non-finite hold: ignored; forecast_target_demand > 1: invalid */
  horizontal_state_init(&st);
  o.forecast_hold_demand = NAN;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 300, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 2);
  c.forecast_target_demand = 1.5;
  mbcas_err e;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "forecastTargetDemand");
}

/* Regression: while new pods start (pods observed < replicas), scale-out multiplied the
 * demand of the running pods by the replica count that already includes the starting
 * ones, so a service kept stepping out every cooldown until its new pods were ready
 * (3 running at demand 0.9 with 3 starting: ceil(6 x 0.9 / 0.6) = 9, then 14, ...).
 * Like the HPA (pods not ready count as 0 % on scale-up), the recommendation counts the
 * observed pods only: ceil(3 x 0.9 / 0.6) = 5 <= 6, so the starting pods cover it. */
static void test_scale_out_counts_observed_pods(void **state) {
  (void)state;
  horizontal_config c = cfg();
  c.scale_out_window_s = 0;
  c.cooldown_s = 0;
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  horizontal_observation o = {6, 3, 3, 0.9, 6, 0, 0, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_HOLD);
  assert_int_equal(d.desired, 6);
  assert_int_equal(d.recommendation, 5);
  /* demand the starting pods cannot cover: ceil(3 x 1.0 / 0.45) = 7 > 6 */
  c.target_demand = 0.45;
  c.scale_in_demand = 0.2;
  o.demand = 1.0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 15, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 7);
  /* every pod observed: unchanged behaviour, at least one more */
  c = cfg();
  c.scale_out_window_s = 0;
  horizontal_state_init(&st);
  o = (horizontal_observation){6, 6, 6, 0.85, 6, 0, 0, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 9); /* ceil(6 x 0.85 / 0.6) */
}

/* in_sliding: the HPA's scale-down stabilization over a (bucketed) sliding window. */
static void test_scale_in_sliding(void **state) {
  (void)state;
  horizontal_config c = cfg(); /* in 0.3, target 0.6, window 300 s, step in 1 */
  c.in_sliding = 1;
  c.max_step_in = 0;
  c.cooldown_s = 0;
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  /* noisy demand: low, but above the threshold every fourth cycle. The continuous mode
   * never scales in (the window restarts); the sliding one does, to the window's
   * highest recommendation (the in-band cycles recommend the current count 8, so it
   * waits until they leave the window: they never do here) */
  horizontal_observation o = {8, 8, 0, 0.1, 8, 0, 0, 0};
  int scaled = 0;
  for (int t = 0; t <= 1200; t += 15) {
    o.demand = (t / 15) % 4 == 3 ? 0.35 : 0.1; /* 0.35: inside the band: rec 8 */
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    scaled |= d.desired != 8;
  }
  assert_false(scaled);
  /* below the threshold but varying: rec ceil(8 x 0.3 / 0.6) = 4 and 2 */
  horizontal_state_init(&st);
  int at = -1;
  for (int t = 0; t <= 1200 && at < 0; t += 15) {
    o.demand = (t / 15) % 4 == 3 ? 0.3 : 0.1;
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    if (d.reason == HORIZONTAL_SCALE_IN) at = t;
    else assert_int_equal(d.desired, 8);
  }
  assert_int_equal(at, 300); /* after one full window */
  assert_int_equal(d.desired, 4); /* the window's highest, not the last (2) */
  /* the same in continuous mode: it waits for the full window too, then the highest */
  c.in_sliding = 0;
  horizontal_state_init(&st);
  at = -1;
  for (int t = 0; t <= 1200 && at < 0; t += 15) {
    o.demand = (t / 15) % 4 == 3 ? 0.3 : 0.1;
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    if (d.reason == HORIZONTAL_SCALE_IN) at = t;
  }
  assert_int_equal(at, 300);
  assert_int_equal(d.desired, 4);
  /* sliding: a high recommendation leaves the window after at most 1.5 windows */
  c.in_sliding = 1;
  horizontal_state_init(&st);
  o.replicas = o.pods = 8;
  o.demand = 0.5; /* in band: rec 8 */
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  o.demand = 0.1; /* rec 2 */
  at = -1;
  for (int t = 15; t <= 1200 && at < 0; t += 15) {
    assert_int_equal(horizontal_decide(&d, &st, &c, &o, t, NULL), MBCAS_OK);
    if (d.reason == HORIZONTAL_SCALE_IN) at = t;
  }
  assert_true(at >= 300 && at <= 450);
  assert_int_equal(d.desired, 2);
  /* after the change the new count opens the next window: no second step at once */
  o.replicas = o.pods = 2;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, at + 15, NULL), MBCAS_OK);
  assert_int_equal(d.desired, 2);
}

static void test_service_demand(void **state) {
  (void)state;
  int64_t alloc[3] = {1000, 500, 250};
  int64_t cap[3] = {1000, 1000, 1000};
  double dem[3] = {0.5, 1.0, 0.8};
  /* (500 + 500 + 200) / 3000 */
  assert_true(fabs(horizontal_service_demand(alloc, dem, cap, 3) - 0.4) < 1e-12);
  /* every pod at its cap: the mean demand */
  int64_t full[3] = {1000, 1000, 1000};
  assert_true(fabs(horizontal_service_demand(full, dem, cap, 3) - 2.3 / 3) < 1e-12);
  double bad[3] = {NAN, -1, 2};
  assert_true(fabs(horizontal_service_demand(full, bad, cap, 3) - 1.0 / 3) < 1e-12);
  assert_true(horizontal_service_demand(alloc, dem, cap, 0) == 0);
  assert_true(horizontal_service_demand(NULL, dem, cap, 3) == 0);
  int64_t zero[3] = {0, 0, 0};
  assert_true(horizontal_service_demand(alloc, dem, zero, 3) == 0);
}

static void test_bounds_ceiling_cooldown(void **state) {
  (void)state;
  horizontal_config c = cfg();
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  horizontal_observation o = {0, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_BELOW_MIN);
  assert_int_equal(d.desired, 1);
  o.replicas = 14;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 1, NULL), MBCAS_OK); /* bounds ignore cooldown */
  assert_int_equal(d.reason, HORIZONTAL_ABOVE_MAX);
  assert_int_equal(d.desired, 10);
  /* at max */
  horizontal_state_init(&st);
  o = (horizontal_observation){10, 10, 10, 1.0, 10, 0, 0, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 100, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_AT_MAX);
  /* market ceiling: 2 replicas of room left in the market */
  horizontal_state_init(&st);
  o = (horizontal_observation){3, 3, 3, 1.0, 18, 20, 0, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 60, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 5);
  o.market_replicas = 20;
  horizontal_state_init(&st);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 60, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_MARKET_CEILING);
  assert_int_equal(d.desired, 3);
  /* cooldown after a change */
  horizontal_state_init(&st);
  st.last_scale_at = 50;
  o.market_ceiling = 0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 100, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_COOLDOWN);
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 110, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_SCALE_OUT);
  assert_int_equal(d.desired, 5); /* ceil(3 x 1.0 / 0.6) = 5, within the step limit of 4 */
}

static void test_invalid(void **state) {
  (void)state;
  horizontal_config c = cfg();
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_state before = st;
  horizontal_decision d;
  horizontal_observation o = {3, 3, 3, 0.9, 3, 0, 0, 0};
  mbcas_err e;
  c.max_replicas = 0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "maxReplicas");
  c = cfg();
  c.scale_in_demand = 0.9;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "scaleInDemand");
  c = cfg();
  c.target_demand = 0;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, &e), MBCAS_EINVAL);
  c = cfg();
  o.pods_at_cap = 4;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, &e), MBCAS_EINVAL);
  assert_memory_equal(&st, &before, sizeof st);
  assert_int_equal(horizontal_decide(NULL, &st, &c, &o, 0, &e), MBCAS_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_strings),
      cmocka_unit_test(test_scale_out_after_window),
      cmocka_unit_test(test_scale_out_needs_cap_and_demand),
      cmocka_unit_test(test_scale_in_stabilized),
      cmocka_unit_test(test_scale_in_never_below_recommendation),
      cmocka_unit_test(test_forecast_demand), cmocka_unit_test(test_forecast_sized_and_hold),
      cmocka_unit_test(test_service_demand),
      cmocka_unit_test(test_scale_out_counts_observed_pods),
      cmocka_unit_test(test_scale_in_sliding),
      cmocka_unit_test(test_bounds_ceiling_cooldown),
      cmocka_unit_test(test_invalid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
