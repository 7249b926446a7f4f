/* test_horizontal.c - replica decisions: windows, proportional steps, stabilization,
 * bounds, market ceiling and cooldown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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
  horizontal_observation o = {3, 3, 3, 0.9, 3, 0};
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
  horizontal_observation o = {3, 3, 1, 0.95, 3, 0};
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
  horizontal_observation o = {8, 8, 0, 0.3, 8, 0}; /* rec ceil(8*.3/.6) = 4 */
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

static void test_bounds_ceiling_cooldown(void **state) {
  (void)state;
  horizontal_config c = cfg();
  horizontal_state st;
  horizontal_state_init(&st);
  horizontal_decision d;
  horizontal_observation o = {0, 0, 0, 0, 0, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 0, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_BELOW_MIN);
  assert_int_equal(d.desired, 1);
  o.replicas = 14;
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 1, NULL), MBCAS_OK); /* bounds ignore cooldown */
  assert_int_equal(d.reason, HORIZONTAL_ABOVE_MAX);
  assert_int_equal(d.desired, 10);
  /* at max */
  horizontal_state_init(&st);
  o = (horizontal_observation){10, 10, 10, 1.0, 10, 0};
  assert_int_equal(horizontal_decide(&d, &st, &c, &o, 100, NULL), MBCAS_OK);
  assert_int_equal(d.reason, HORIZONTAL_AT_MAX);
  /* market ceiling: 2 replicas of room left in the market */
  horizontal_state_init(&st);
  o = (horizontal_observation){3, 3, 3, 1.0, 18, 20};
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
  horizontal_observation o = {3, 3, 3, 0.9, 3, 0};
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
      cmocka_unit_test(test_bounds_ceiling_cooldown),
      cmocka_unit_test(test_invalid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
