/* test_hpa.c - the HPA baseline against hand-worked examples of documented Kubernetes
 * behaviour (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
 * "Algorithm details", "Support for configurable scaling behavior", default behavior). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hpa.h"

static hpa_config cfg(double target, int32_t min, int32_t max) {
  hpa_config c;
  hpa_config_default(&c);
  c.target_util = target;
  c.min_replicas = min;
  c.max_replicas = max;
  return c;
}

static void test_defaults(void **s) {
  (void)s;
  hpa_config c;
  hpa_config_default(&c);
  assert_true(c.tolerance == 0.1);
  assert_true(c.sync_s == 15.0);
  assert_true(c.down_window_s == 300.0);
  assert_true(c.up_window_s == 0.0);
  assert_int_equal(c.up_pods, 4);
  assert_true(c.up_percent == 100.0 && c.up_period_s == 15.0);
  assert_true(c.down_percent == 100.0 && c.down_period_s == 15.0);
}

/* Docs: "if the current metric value is 200m, and the desired value is 100m, the number
 * of replicas will be doubled"; desired = ceil(current * current/desired). */
static void test_ratio(void **s) {
  (void)s;
  hpa_config c = cfg(0.5, 1, 100);
  hpa_metrics m = {4, 4, 0, 0, 4 * 1.0}; /* 4 pods at 100 % with target 50 % */
  assert_int_equal(hpa_recommend(&c, &m), 8);
  /* 4 pods at 90 % for target 60 %: ratio 1.5 -> 6 */
  c = cfg(0.6, 1, 100);
  m = (hpa_metrics){4, 4, 0, 0, 4 * 0.9};
  assert_int_equal(hpa_recommend(&c, &m), 6);
  /* "50m ... desired 100m: halved": 6 pods at 30 % target 60 % -> 3 */
  m = (hpa_metrics){6, 6, 0, 0, 6 * 0.3};
  assert_int_equal(hpa_recommend(&c, &m), 3);
  /* 3 pods at 75 %, target 70 %: ratio 1.071 -> within 0.1 tolerance: keep 3 */
  c = cfg(0.7, 1, 100);
  m = (hpa_metrics){3, 3, 0, 0, 3 * 0.75};
  assert_int_equal(hpa_recommend(&c, &m), 3);
  /* 3 pods at 78 %: ratio 1.114 -> ceil(3.343) = 4 */
  m = (hpa_metrics){3, 3, 0, 0, 3 * 0.78};
  assert_int_equal(hpa_recommend(&c, &m), 4);
  /* no ready pod with a metric: no change */
  m = (hpa_metrics){3, 0, 3, 0, 0};
  assert_int_equal(hpa_recommend(&c, &m), 3);
}

/* Docs: when scaling up, not-yet-ready pods and pods with missing metrics are assumed to
 * use 0 %; when scaling down, missing pods are assumed at 100 % of target; if that
 * reverses the direction or falls within tolerance, no scaling. */
static void test_readiness(void **s) {
  (void)s;
  hpa_config c = cfg(0.5, 1, 100);
  /* 4 ready at 100 %, 2 starting: ratio 2 -> recompute 400/6 = 66.7 % -> 1.333 x 6 = 8 */
  hpa_metrics m = {6, 4, 2, 0, 4 * 1.0};
  assert_int_equal(hpa_recommend(&c, &m), 8);
  /* 2 ready at 60 %, 2 starting, target 50: ratio 1.2 -> 120/4 = 30 % -> reverses: keep */
  m = (hpa_metrics){4, 2, 2, 0, 2 * 0.6};
  assert_int_equal(hpa_recommend(&c, &m), 4);
  /* scale down: 4 ready at 20 %, 2 missing at 100 % of target (50 %):
   * (80 + 100)/6 = 30 % -> ratio 0.6 -> ceil(3.6) = 4 */
  m = (hpa_metrics){6, 4, 0, 2, 4 * 0.2};
  assert_int_equal(hpa_recommend(&c, &m), 4);
  /* scale down ignores starting pods: 2 ready at 10 %, 2 starting -> ratio 0.2 -> 1 */
  m = (hpa_metrics){4, 2, 2, 0, 2 * 0.1};
  assert_int_equal(hpa_recommend(&c, &m), 1);
  /* scale down with missing pods lands inside the tolerance: keep
   * 1 ready at 40 %, 3 missing: (40 + 150)/4 = 47.5 % -> 0.95 */
  m = (hpa_metrics){4, 1, 0, 3, 0.4};
  assert_int_equal(hpa_recommend(&c, &m), 4);
}

/* Default scale-up policy: at most max(+4 pods, +100 %) per 15 s. */
static void test_scale_up_rate(void **s) {
  (void)s;
  hpa_config c = cfg(0.5, 1, 100);
  hpa_state st;
  hpa_state_init(&st);
  hpa_metrics m = {2, 2, 0, 0, 2 * 5.0}; /* recommends 20 */
  assert_int_equal(hpa_decide(&st, &c, &m, 0.0), 6);  /* max(2+4, 2*2) */
  m = (hpa_metrics){6, 6, 0, 0, 6 * 5.0}; /* recommends 60 */
  assert_int_equal(hpa_decide(&st, &c, &m, 15.0), 12); /* max(6+4, 12); event at 0 s is out */
  m = (hpa_metrics){12, 12, 0, 0, 12 * 5.0};
  assert_int_equal(hpa_decide(&st, &c, &m, 30.0), 24);
  /* maxReplicas bounds it */
  c.max_replicas = 30;
  m = (hpa_metrics){24, 24, 0, 0, 24 * 5.0};
  assert_int_equal(hpa_decide(&st, &c, &m, 45.0), 30);
  /* two decisions inside one period share the limit: 10 -> 14 at t, then only up to 20
   * (period start 10, 100 %) at t + 5 */
  hpa_state_init(&st);
  c = cfg(0.5, 1, 100);
  m = (hpa_metrics){10, 10, 0, 0, 10 * 0.7}; /* ratio 1.4 -> 14 */
  assert_int_equal(hpa_decide(&st, &c, &m, 100.0), 14);
  m = (hpa_metrics){14, 14, 0, 0, 14 * 5.0}; /* recommends 140 */
  assert_int_equal(hpa_decide(&st, &c, &m, 105.0), 20);
}

/* Default scale-down: the highest recommendation of the last 300 s wins; then 100 % per
 * 15 s, so the drop happens at once when the window has passed; minReplicas holds. */
static void test_scale_down_stabilization(void **s) {
  (void)s;
  hpa_config c = cfg(0.5, 2, 100);
  hpa_state st;
  hpa_state_init(&st);
  hpa_metrics m = {10, 10, 0, 0, 10 * 0.5}; /* at target: rec 10 */
  assert_int_equal(hpa_decide(&st, &c, &m, 0.0), 10);
  int32_t r = 10;
  for (double t = 15.0; t < 300.0; t += 15.0) {
    m = (hpa_metrics){r, r, 0, 0, r * 0.1}; /* load fell: rec ceil(0.2 x 10) = 2 */
    r = hpa_decide(&st, &c, &m, t);
    assert_int_equal(r, 10); /* the rec of 10 at t = 0 is still inside (t - 300, t] */
  }
  m = (hpa_metrics){r, r, 0, 0, r * 0.1};
  /* at t = 300 the t = 0 rec is no longer After(now - 300 s): straight to 2 (100 %/15 s) */
  assert_int_equal(hpa_decide(&st, &c, &m, 300.0), 2);
  /* minReplicas */
  m = (hpa_metrics){2, 2, 0, 0, 0.0};
  assert_int_equal(hpa_decide(&st, &c, &m, 315.0), 2);
  /* a rise inside the window is followed at once (no scale-up stabilization) */
  m = (hpa_metrics){2, 2, 0, 0, 2 * 1.0};
  assert_int_equal(hpa_decide(&st, &c, &m, 330.0), 4);
}

/* The recommendation and event buffers never overflow over a long run. */
static void test_long_run_bounded(void **s) {
  (void)s;
  hpa_config c = cfg(0.5, 1, 50);
  c.down_window_s = 10000.0; /* keeps more than HPA_MAX_RECS */
  hpa_state st;
  hpa_state_init(&st);
  int32_t r = 5;
  for (int i = 0; i < 2000; i++) {
    double u = (i % 7) * 0.3;
    hpa_metrics m = {r, r, 0, 0, r * u};
    r = hpa_decide(&st, &c, &m, i * 15.0);
    assert_true(r >= 1 && r <= 50);
    assert_true(st.n_recs <= HPA_MAX_RECS && st.n_ev <= HPA_MAX_EVENTS);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),       cmocka_unit_test(test_ratio),
      cmocka_unit_test(test_readiness),      cmocka_unit_test(test_scale_up_rate),
      cmocka_unit_test(test_scale_down_stabilization), cmocka_unit_test(test_long_run_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
