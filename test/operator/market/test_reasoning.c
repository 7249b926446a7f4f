/* test_reasoning.c - the human lines for CPU and replica decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "clearing.h"
#include "guardrails.h"
#include "reasoning.h"

static reasoning_record capped(void) {
  reasoning_record r;
  memset(&r, 0, sizeof r);
  r.budget_share = 0.3;
  r.demand = 0.8;
  r.bid = 0.24;
  r.price = 3100;
  r.exact_m = 600;
  r.cleared_m = 600;
  r.floor_m = 100;
  r.cap_m = 600;
  r.clearing_flags = CLEARING_AT_CAP;
  r.node_flags = CLEARING_CONTENDED;
  r.floor_scale = 1;
  r.current_m = 400;
  r.desired_m = 600;
  r.step_limit_m = 200;
  r.guard_flags = GUARDRAILS_STEP_LIMITED | GUARDRAILS_CHANGED;
  return r;
}

static void test_format_capped_step(void **state) {
  (void)state;
  reasoning_record r = capped();
  char buf[256];
  size_t n = reasoning_format(buf, sizeof buf, &r, "n1");
  assert_string_equal(buf, "bid 0.24 = budget share 0.3 x demand 0.80; node n1 price 3100m per "
                           "bid unit; 744m capped at max 600m; step limited to +200m from 400m");
  assert_int_equal(n, strlen(buf));
  /* snprintf contract: truncated but terminated, full length returned */
  char small[20];
  assert_int_equal(reasoning_format(small, sizeof small, &r, "n1"), n);
  assert_int_equal(strlen(small), sizeof small - 1);
  assert_int_equal(reasoning_format(NULL, 0, &r, "n1"), n);
  assert_int_equal(reasoning_format(buf, sizeof buf, NULL, "n1"), 0);
}

static void test_format_cases(void **state) {
  (void)state;
  char buf[256];
  reasoning_record r = capped();
  r.node_flags = CLEARING_UNCONTENDED;
  r.guard_flags = 0;
  r.desired_m = 600;
  reasoning_format(buf, sizeof buf, &r, NULL);
  assert_string_equal(buf, "bid 0.24 = budget share 0.3 x demand 0.80; node node uncontended "
                           "(all caps fit); 600m at cap");
  r = capped();
  r.clearing_flags = CLEARING_BETWEEN;
  r.price = 2000;
  r.exact_m = 480;
  r.cleared_m = 480;
  r.current_m = 480;
  r.desired_m = 480;
  r.guard_flags = GUARDRAILS_DEAD_BAND;
  reasoning_format(buf, sizeof buf, &r, "n2");
  assert_string_equal(buf, "bid 0.24 = budget share 0.3 x demand 0.80; node n2 price 2000m per "
                           "bid unit; gets 480m within [100m, 600m]; held at 480m (inside dead band)");
  r = capped();
  r.node_flags = CLEARING_FLOORS_EXCEED | CLEARING_CONTENDED;
  r.floor_scale = 0.5;
  r.clearing_flags = CLEARING_FLOOR_SCALED;
  r.cleared_m = 50;
  r.desired_m = 50;
  r.guard_flags = GUARDRAILS_FORCED;
  reasoning_format(buf, sizeof buf, &r, "n3");
  assert_string_equal(buf, "bid 0.24 = budget share 0.3 x demand 0.80; node n3 floors exceed "
                           "capacity, scaled x0.500; floor 100m scaled to 50m; decrease forced "
                           "to 50m to fit the node");
  r = capped();
  r.bid = 0.27; /* min demand factor in play: f(0.8) = 0.9 */
  r.clearing_flags = CLEARING_AT_FLOOR;
  r.price = 100;
  r.cleared_m = 100;
  r.guard_flags = GUARDRAILS_COOLDOWN;
  r.desired_m = 400;
  reasoning_format(buf, sizeof buf, &r, "n1");
  assert_string_equal(buf, "bid 0.27 = budget share 0.3 x f(demand 0.80) 0.90; node n1 price "
                           "100m per bid unit; 27m raised to floor 100m; held at 400m (cooldown)");
}

static void test_format_horizontal(void **state) {
  (void)state;
  horizontal_config c;
  horizontal_config_default(&c);
  horizontal_observation o = {3, 3, 3, 0.92, 3, 0, 0, 0};
  horizontal_decision d = {5, HORIZONTAL_SCALE_OUT, 5, 0};
  char buf[256];
  size_t n = reasoning_format_horizontal(buf, sizeof buf, &d, &o, &c);
  assert_string_equal(buf, "scale-out 3 -> 5: 3/3 pods at cap, demand 0.92 >= 0.80 for 60s; "
                           "proportional 5");
  assert_int_equal(n, strlen(buf));
  d = (horizontal_decision){3, HORIZONTAL_WAIT_WINDOW, 5, 30};
  reasoning_format_horizontal(buf, sizeof buf, &d, &o, &c);
  assert_string_equal(buf, "wait-window 3 -> 3: 3/3 pods at cap, demand 0.92; condition must "
                           "hold 30s more");
  for (int k = HORIZONTAL_HOLD; k <= HORIZONTAL_MARKET_CEILING; k++) {
    d.reason = (horizontal_reason)k;
    assert_true(reasoning_format_horizontal(buf, sizeof buf, &d, &o, &c) > 20);
    assert_non_null(strstr(buf, horizontal_reason_str(d.reason)));
  }
  assert_int_equal(reasoning_format_horizontal(buf, sizeof buf, NULL, &o, &c), 0);
  /* a scale-out the forecast asked for says so, not "demand 0.40 >= 0.80" */
  c.forecast_target_demand = 0.85;
  o = (horizontal_observation){3, 3, 0, 0.40, 3, 0, 1.10, 0.9};
  d = (horizontal_decision){4, HORIZONTAL_SCALE_OUT, 4, 0};
  reasoning_format_horizontal(buf, sizeof buf, &d, &o, &c);
  assert_string_equal(buf, "scale-out 3 -> 4: 0/3 pods at cap, demand 0.40; forecast demand 1.10 "
                           "of the caps, sized at 0.85: proportional 4");
  o = (horizontal_observation){6, 6, 0, 0.20, 6, 0, 0.3, 0.5};
  d = (horizontal_decision){4, HORIZONTAL_SCALE_IN, 4, 0};
  reasoning_format_horizontal(buf, sizeof buf, &d, &o, &c);
  assert_string_equal(buf, "scale-in 6 -> 4: 0/6 pods at cap, demand 0.20 <= 0.30 for 300s; "
                           "proportional 4 (the forecast holds 0.50 of the caps)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format_capped_step),
      cmocka_unit_test(test_format_cases),
      cmocka_unit_test(test_format_horizontal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
