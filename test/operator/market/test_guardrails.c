/* test_guardrails.c - step limits, cooldown, dead band, usage protection, bounds, the
 * node capacity stages and memory increase-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "clearing.h"
#include "guardrails.h"
#include "mtest.h"

static guardrails_config cfg_nousage(void) {
  guardrails_config c;
  guardrails_config_default(&c);
  c.usage_headroom = -1;
  return c;
}

static void test_step_limit(void **state) {
  (void)state;
  guardrails_config c;
  guardrails_config_default(&c);
  assert_int_equal(guardrails_step_limit(&c, 400), 200);   /* 50% of 400 */
  assert_int_equal(guardrails_step_limit(&c, 4000), 500);  /* absolute cap */
  assert_int_equal(guardrails_step_limit(&c, 20), 50);     /* min step */
  assert_int_equal(guardrails_step_limit(NULL, 400), 0);
  c.max_step_m = 0;
  assert_int_equal(guardrails_step_limit(&c, 4000), 2000);
  c.max_step_frac = 0;
  assert_int_equal(guardrails_step_limit(&c, 4000), 0);
  c.max_step_m = 300;
  assert_int_equal(guardrails_step_limit(&c, 4000), 300);
}

static void test_pod_rules(void **state) {
  (void)state;
  guardrails_config c = cfg_nousage();
  guardrails_decision d;
  /* step: 400 -> 744 limited to +200 */
  guardrails_pod p = {1, 400, 744, 100, 1000, -1, -1};
  guardrails_apply_pod(&d, &c, &p, 100);
  assert_int_equal(d.desired_m, 600);
  assert_int_equal(d.step_limit_m, 200);
  assert_true(d.flags & GUARDRAILS_STEP_LIMITED);
  assert_true(d.flags & GUARDRAILS_CHANGED);
  /* cooldown: changed 10 s ago */
  p.last_change_at = 90;
  guardrails_apply_pod(&d, &c, &p, 100);
  assert_int_equal(d.desired_m, 400);
  assert_int_equal(d.flags, GUARDRAILS_COOLDOWN);
  p.last_change_at = 70; /* 30 s ago: allowed */
  guardrails_apply_pod(&d, &c, &p, 100);
  assert_int_equal(d.desired_m, 600);
  /* dead band: 1000 -> 1015 inside max(10, 2%) = 20 */
  guardrails_pod q = {2, 1000, 1015, 0, 2000, -1, -1};
  guardrails_apply_pod(&d, &c, &q, 100);
  assert_int_equal(d.desired_m, 1000);
  assert_int_equal(d.flags, GUARDRAILS_DEAD_BAND);
  q.target_m = 1025;
  guardrails_apply_pod(&d, &c, &q, 100);
  assert_int_equal(d.desired_m, 1025);
  /* bounds: a new pod at 0 goes straight to its floor */
  guardrails_pod n = {3, 0, 300, 100, 1000, -1, -1};
  guardrails_apply_pod(&d, &c, &n, 100);
  assert_int_equal(d.desired_m, 100);
  assert_true(d.flags & GUARDRAILS_BOUNDS);
  /* no config: target as is */
  guardrails_apply_pod(&d, NULL, &p, 100);
  assert_int_equal(d.desired_m, 744);
  assert_int_equal(d.flags, GUARDRAILS_CHANGED);
}

static void test_usage_protection(void **state) {
  (void)state;
  guardrails_config c;
  guardrails_config_default(&c); /* headroom 0.2 */
  guardrails_decision d;
  /* 1000 -> 300 with usage 700: step allows 500, usage protects 840 */
  guardrails_pod p = {1, 1000, 300, 0, 2000, 700, -1};
  guardrails_apply_pod(&d, &c, &p, 0);
  assert_int_equal(d.desired_m, 840);
  assert_true(d.flags & GUARDRAILS_USAGE_PROTECTED);
  /* usage above current: protection never raises above current */
  p.usage_m = 5000;
  guardrails_apply_pod(&d, &c, &p, 0);
  assert_int_equal(d.desired_m, 1000);
  /* low usage: the step limit is what binds */
  p.usage_m = 100;
  guardrails_apply_pod(&d, &c, &p, 0);
  assert_int_equal(d.desired_m, 500);
  assert_false(d.flags & GUARDRAILS_USAGE_PROTECTED);
}

static void test_node_relax_trim_force(void **state) {
  (void)state;
  guardrails_config c;
  guardrails_config_default(&c);
  guardrails_decision d[2];
  /* 1. relax: A protected at 1000, B +100 -> 1300 > 1200; A gives 100 back */
  guardrails_pod p[2] = {{1, 1000, 200, 0, 2000, 900, -1}, {2, 200, 1000, 0, 2000, -1, -1}};
  assert_int_equal(guardrails_apply_node(d, &c, p, 2, 1200, 0, NULL), MBCAS_OK);
  assert_int_equal(d[0].desired_m, 900);
  assert_true(d[0].flags & GUARDRAILS_USAGE_RELAXED);
  assert_int_equal(d[1].desired_m, 300);
  /* 2. trim: A in cooldown (held at 1000); B's increase trimmed to fit */
  c = cfg_nousage();
  p[0].last_change_at = 0;
  assert_int_equal(guardrails_apply_node(d, &c, p, 2, 1200, 10, NULL), MBCAS_OK);
  assert_int_equal(d[0].desired_m, 1000);
  assert_int_equal(d[1].desired_m, 200);
  assert_true(d[1].flags & GUARDRAILS_TRIMMED);
  assert_false(d[1].flags & GUARDRAILS_CHANGED);
  /* 3. force: B already at 300 > what is left; A forced below its hold */
  p[1].current_m = 300;
  assert_int_equal(guardrails_apply_node(d, &c, p, 2, 1200, 10, NULL), MBCAS_OK);
  assert_int_equal(d[1].desired_m, 300);
  assert_int_equal(d[0].desired_m, 900);
  assert_true(d[0].flags & GUARDRAILS_FORCED);
  /* targets themselves do not fit: follow targets */
  assert_int_equal(guardrails_apply_node(d, &c, p, 2, 1000, 10, NULL), MBCAS_OK);
  assert_int_equal(d[0].desired_m, 200);
  assert_int_equal(d[1].desired_m, 1000);
  /* invalid */
  mbcas_err e;
  p[1].cap_m = -5;
  assert_int_equal(guardrails_apply_node(d, &c, p, 2, 1200, 10, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "pods[1].cap_m");
  assert_int_equal(guardrails_apply_node(NULL, &c, p, 2, 1200, 10, &e), MBCAS_EINVAL);
  assert_int_equal(guardrails_apply_node(NULL, &c, NULL, 0, 1200, 10, &e), MBCAS_OK);
}

/* Random nodes cleared by clearing_solve, then guarded: the node never exceeds capacity,
 * every pod stays within its bounds, and the answer is deterministic. */
static void test_random_nodes(void **state) {
  (void)state;
  enum { N = 40 };
  mrng r = {11};
  for (int t = 0; t < 3000; t++) {
    size_t n = (size_t)mrng_int(&r, 1, N);
    clearing_participant cp[N];
    clearing_alloc ca[N];
    guardrails_pod gp[N];
    guardrails_decision d[N], d2[N];
    int64_t sc = 0;
    for (size_t i = 0; i < n; i++) {
      int64_t f = mrng_int(&r, 0, 200), cap = f + mrng_int(&r, 0, 2000);
      cp[i] = (clearing_participant){mrng_next(&r), mrng_unit(&r) * 3, f, cap};
      sc += cap;
    }
    int64_t C = mrng_int(&r, 0, sc);
    clearing_result cr;
    assert_int_equal(clearing_solve(ca, &cr, cp, n, C, NULL), MBCAS_OK);
    for (size_t i = 0; i < n; i++)
      gp[i] = (guardrails_pod){cp[i].key,       mrng_int(&r, 0, 2500), ca[i].alloc_m,
                               cp[i].floor_m,   cp[i].cap_m,
                               mrng_int(&r, -1, 2000), mrng_int(&r, 0, 3) ? -1 : 95.0};
    guardrails_config c;
    guardrails_config_default(&c);
    if (mrng_int(&r, 0, 1)) c.usage_headroom = -1;
    memset(d, 0xA5, sizeof d);
    memset(d2, 0x5A, sizeof d2);
    assert_int_equal(guardrails_apply_node(d, &c, gp, n, C, 100, NULL), MBCAS_OK);
    assert_int_equal(guardrails_apply_node(d2, &c, gp, n, C, 100, NULL), MBCAS_OK);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
      sum += d[i].desired_m;
      int64_t lo = gp[i].floor_m < gp[i].target_m ? gp[i].floor_m : gp[i].target_m;
      assert_true(d[i].desired_m >= lo);
      assert_true(d[i].desired_m <= gp[i].cap_m);
      assert_int_equal(d[i].desired_m, d2[i].desired_m);
      assert_int_equal(d[i].flags, d2[i].flags);
      assert_int_equal(!!(d[i].flags & GUARDRAILS_CHANGED), d[i].desired_m != gp[i].current_m);
      if (!(d[i].flags & GUARDRAILS_BOUNDS)) { /* between current and target */
        int64_t a = gp[i].current_m, b = gp[i].target_m;
        assert_true(d[i].desired_m >= (a < b ? a : b) && d[i].desired_m <= (a > b ? a : b));
      }
    }
    assert_true(sum <= C);
  }
}

static void test_memory(void **state) {
  (void)state;
  assert_int_equal(guardrails_memory(1000, 500, 1), 1000);
  assert_int_equal(guardrails_memory(1000, 1500, 1), 1500);
  assert_int_equal(guardrails_memory(1000, 500, 0), 500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_step_limit),        cmocka_unit_test(test_pod_rules),
      cmocka_unit_test(test_usage_protection),  cmocka_unit_test(test_node_relax_trim_force),
      cmocka_unit_test(test_random_nodes),      cmocka_unit_test(test_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
