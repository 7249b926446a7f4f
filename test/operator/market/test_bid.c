/* test_bid.c - demand factor, namespace caps, budget split and effective bids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "bid.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_demand_factor(void **state) {
  (void)state;
  bid_config c = {0};
  NEAR(bid_demand_factor(&c, 0.8), 0.8);
  NEAR(bid_demand_factor(NULL, 0.8), 0.8);
  NEAR(bid_demand_factor(&c, 2), 1);
  NEAR(bid_demand_factor(&c, NAN), 0);
  c.min_demand_factor = 0.2;
  NEAR(bid_demand_factor(&c, 0), 0.2);
  NEAR(bid_demand_factor(&c, 0.5), 0.6);
  NEAR(bid_demand_factor(&c, 1), 1);
  c.min_demand_factor = 7; /* clamped to 1 */
  NEAR(bid_demand_factor(&c, 0), 1);
  /* non-decreasing */
  c.min_demand_factor = 0.1;
  for (int i = 1; i <= 100; i++)
    assert_true(bid_demand_factor(&c, i / 100.0) >= bid_demand_factor(&c, (i - 1) / 100.0));
}

static void test_service_budgets_caps(void **state) {
  (void)state;
  /* namespace 0 capped at 10: services 8 + 12 = 20 -> 4 + 6; namespace 1 uncapped */
  bid_service s[3] = {{0, 8, 2}, {0, 12, 3}, {1, 50, 1}};
  double caps[2] = {10, 0};
  double out[3];
  assert_int_equal(bid_service_budgets(out, s, 3, caps, 2, NULL), MBCAS_OK);
  NEAR(out[0], 4);
  NEAR(out[1], 6);
  NEAR(out[2], 50);
  /* under the cap: unchanged */
  caps[0] = 100;
  assert_int_equal(bid_service_budgets(out, s, 3, caps, 2, NULL), MBCAS_OK);
  NEAR(out[0], 8);
  /* no caps at all */
  assert_int_equal(bid_service_budgets(out, s, 3, NULL, 0, NULL), MBCAS_OK);
  NEAR(out[1], 12);
  caps[0] = INFINITY;
  assert_int_equal(bid_service_budgets(out, s, 3, caps, 2, NULL), MBCAS_OK);
  NEAR(out[1], 12);
}

/* Creating more ServiceBudgets inside a capped namespace gains nothing: the namespace's
 * total effective budget stays at the cap however the budget is split. */
static void test_more_services_gain_nothing(void **state) {
  (void)state;
  double caps[1] = {10};
  bid_service one[1] = {{0, 10, 1}};
  bid_service many[5] = {{0, 10, 1}, {0, 10, 1}, {0, 10, 1}, {0, 10, 1}, {0, 10, 1}};
  double o1[1], o5[5];
  assert_int_equal(bid_service_budgets(o1, one, 1, caps, 1, NULL), MBCAS_OK);
  assert_int_equal(bid_service_budgets(o5, many, 5, caps, 1, NULL), MBCAS_OK);
  double t = 0;
  for (int i = 0; i < 5; i++) t += o5[i];
  NEAR(t, o1[0]);
}

static void test_service_budgets_invalid(void **state) {
  (void)state;
  bid_service s[2] = {{0, 8, 2}, {3, 1, 1}};
  double caps[1] = {10};
  double out[2] = {-7, -7};
  mbcas_err e;
  assert_int_equal(bid_service_budgets(out, s, 2, caps, 1, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "services[1].ns");
  NEAR(out[0], -7);
  s[1].ns = 0;
  s[1].budget = -1;
  assert_int_equal(bid_service_budgets(out, s, 2, caps, 1, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "services[1].budget");
  s[1].budget = NAN;
  assert_int_equal(bid_service_budgets(out, s, 2, caps, 1, &e), MBCAS_EINVAL);
  assert_int_equal(bid_service_budgets(NULL, s, 2, caps, 1, &e), MBCAS_EINVAL);
  assert_int_equal(bid_service_budgets(NULL, NULL, 0, NULL, 0, &e), MBCAS_OK);
}

static void test_pod_share_and_bid(void **state) {
  (void)state;
  NEAR(bid_pod_share(12, 4), 3);
  NEAR(bid_pod_share(12, 0), 0);
  NEAR(bid_pod_share(-1, 2), 0);
  NEAR(bid_pod_share(INFINITY, 2), 0);
  /* replicas do not add spending power: n pods x share == budget */
  for (uint32_t n = 1; n < 50; n++) NEAR(bid_pod_share(7.5, n) * n, 7.5);
  bid_config c = {0};
  NEAR(bid_effective(&c, 0.3, 0.8), 0.24);
  NEAR(bid_effective(&c, -0.3, 0.8), 0);
  NEAR(bid_effective(&c, NAN, 0.8), 0);
  /* monotone in share and demand */
  assert_true(bid_effective(&c, 0.3, 0.9) > bid_effective(&c, 0.3, 0.8));
  assert_true(bid_effective(&c, 0.4, 0.8) > bid_effective(&c, 0.3, 0.8));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_demand_factor),
      cmocka_unit_test(test_service_budgets_caps),
      cmocka_unit_test(test_more_services_gain_nothing),
      cmocka_unit_test(test_service_budgets_invalid),
      cmocka_unit_test(test_pod_share_and_bid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
