/* test_run.c - sim_run over every policy: sanity, determinism, contention, oracle. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue.h"
#include "sim.h"
#include "trace.h"

static double *synthetic(size_t n, double step, double peak) {
  double *v = malloc(n * sizeof *v);
  assert_non_null(v);
  for (size_t k = 0; k < n; k++) {
    double t = (double)k * step;
    v[k] = peak * (0.55 + 0.45 * sin(2.0 * M_PI * t / 86400.0)); /* daily swing */
    if ((k / 40) % 9 == 0) v[k] *= 1.3;                         /* short bursts */
  }
  return v;
}

static void test_names(void **s) {
  (void)s;
  for (int p = 0; p < SIM_NPOLICIES; p++)
    assert_int_equal(sim_policy_parse(sim_policy_name((sim_policy)p)), p);
  assert_int_equal(sim_policy_parse("kpa"), -1);
  assert_int_equal(sim_policy_parse(NULL), -1);
  assert_string_equal(sim_policy_name((sim_policy)99), "unknown");
}

static void test_config_errors(void **s) {
  (void)s;
  sim_config c;
  sim_scores sc;
  mbcas_err e;
  double load[4] = {1, 2, 3, 4};
  sim_config_default(&c);
  c.step_s = 0;
  assert_int_equal(sim_run(&sc, &c, SIM_HPA, load, 4, NULL, 1, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "stepS");
  sim_config_default(&c);
  c.slo_s = 0.001;
  assert_int_equal(sim_run(&sc, &c, SIM_HPA, load, 4, NULL, 1, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "sloS");
  sim_config_default(&c);
  c.floor_m = 5000;
  assert_int_equal(sim_run(&sc, &c, SIM_MBCAS, load, 4, NULL, 1, &e), MBCAS_EINVAL);
  sim_config_default(&c);
  c.n_nodes = 0;
  assert_int_equal(sim_run(&sc, &c, SIM_STATIC, load, 4, NULL, 1, &e), MBCAS_EINVAL);
  sim_config_default(&c);
  assert_int_equal(sim_run(&sc, &c, (sim_policy)42, load, 4, NULL, 1, &e), MBCAS_EINVAL);
  assert_int_equal(sim_run(NULL, &c, SIM_HPA, load, 4, NULL, 1, &e), MBCAS_EINVAL);
  c.max_replicas = 0;
  assert_int_equal(sim_run(&sc, &c, SIM_HPA, load, 4, NULL, 1, &e), MBCAS_EINVAL);
}

/* frontend 175 req/s x 4 ms = 0.7 cores -> 1 pod of 1000m at 70 %; backend 350 req/s x
 * 6 ms = 2.1 cores -> 3 pods; bounds apply. */
static void test_replicas_for(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  assert_int_equal(sim_replicas_for(&c, 0, 175.0, 0.7), 1);
  assert_int_equal(sim_replicas_for(&c, 1, 175.0, 0.7), 3);
  assert_int_equal(sim_replicas_for(&c, 0, 0.0, 0.7), 1);
  c.max_replicas = 2;
  assert_int_equal(sim_replicas_for(&c, 1, 175.0, 0.7), 2);
}

/* The oracle's sizing meets the SLO exactly under the same M/M/1 model, with pods no
 * larger than pod_cpu_m, and it grows with load. */
static void test_oracle_step(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  double prev = 0;
  for (double lam = 0; lam <= 800; lam += 50) {
    double cores[SIM_TIERS];
    int32_t pods[SIM_TIERS];
    double tot = sim_oracle_step(&c, lam, cores, pods);
    double lat = 0, f = 1;
    for (int t = 0; t < SIM_TIERS; t++) {
      if (t > 0) f *= c.tier[t].fanout;
      assert_true(cores[t] <= pods[t] * c.pod_cpu_m / 1000.0 + 1e-9);
      double per_mu = cores[t] / pods[t] / c.tier[t].cpu_s, per_lam = lam * f / pods[t];
      lat += c.tier[t].base_s + queue_mm1_quantile(per_lam, per_mu, 0.95);
    }
    assert_true(fabs(lat - c.slo_s) < 1e-9);
    assert_true(tot >= prev);
    prev = tot;
  }
}

static void test_every_policy_smoke(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  size_t n = 2 * 5760; /* two days at 15 s */
  double *load = synthetic(n, c.step_s, 500.0);
  sim_scores sc[SIM_NPOLICIES];
  for (int p = 0; p < SIM_NPOLICIES; p++) {
    mbcas_err e;
    assert_int_equal(sim_run(&sc[p], &c, (sim_policy)p, load, n, NULL, 1, &e), MBCAS_OK);
    assert_true(fabs(sc[p].hours - 48.0) < 1e-9);
    assert_true(sc[p].core_hours > 0 && sc[p].pod_hours > 0);
    assert_true(sc[p].violation_pct >= 0 && sc[p].violation_pct <= 100);
    assert_true(sc[p].p99_s >= sc[p].p95_s || p == SIM_ORACLE);
    /* limits never exceed the cluster, except that MBCAS pods request only their floor,
     * so a pod scheduled onto a fully cleared node adds its floor until the next clearing */
    double slack = (p == SIM_MBCAS || p == SIM_MBCAS_PROACTIVE)
                       ? SIM_TIERS * c.max_replicas * c.floor_m / 1000.0 : 0.0;
    if (p != SIM_ORACLE)
      assert_true(sc[p].peak_cores <= c.n_nodes * c.node_cpu_m / 1000.0 + slack + 1e-9);
  }
  assert_true(sc[SIM_ORACLE].violation_s == 0.0);
  assert_true(fabs(sc[SIM_ORACLE].p95_s - c.slo_s) < 1e-12);
  /* nobody beats the oracle on CPU while meeting the SLO as well */
  for (int p = 0; p < SIM_ORACLE; p++)
    assert_true(sc[p].core_hours > sc[SIM_ORACLE].core_hours || sc[p].violation_s > 0);
  assert_int_equal(sc[SIM_STATIC].scales, 0);
  assert_int_equal(sc[SIM_STATIC].resizes, 0);
  assert_true(sc[SIM_STATIC].mean_abs_delta_m == 0.0);
  assert_true(sc[SIM_HPA].scales > 0);
  assert_int_equal(sc[SIM_HPA].resizes, 0);
  assert_int_equal(sc[SIM_VPA].scales, 0);
  assert_true(sc[SIM_MBCAS].scales > 0);
  assert_true(sc[SIM_MBCAS_PROACTIVE].scales > 0);
  /* the forecast changes what proactive does */
  assert_true(sc[SIM_MBCAS_PROACTIVE].core_hours != sc[SIM_MBCAS].core_hours);
  free(load);
}

static void test_deterministic_and_csv(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  size_t n = 960;
  double *load = synthetic(n, c.step_s, 400.0);
  for (int p = 0; p < SIM_NPOLICIES; p++) {
    sim_scores a, b;
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(sim_run(&a, &c, (sim_policy)p, load, n, f, 10, NULL), MBCAS_OK);
    assert_int_equal(sim_run(&b, &c, (sim_policy)p, load, n, NULL, 1, NULL), MBCAS_OK);
    assert_memory_equal(&a, &b, sizeof a);
    rewind(f);
    char line[512];
    size_t rows = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(strncmp(line, "t_s,load_rps,alloc_cores", 24) == 0);
    while (fgets(line, sizeof line, f)) rows++;
    assert_int_equal(rows, n / 10);
    fclose(f);
  }
  free(load);
}

/* One small node under heavy load: the market shares it. MBCAS resizes pods in place,
 * never allocates more than the node, and the fairness index is measured. */
static void test_contention(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  c.n_nodes = 1;
  c.node_cpu_m = 6000;
  c.max_replicas = 6;
  size_t n = 480;
  double *load = malloc(n * sizeof *load);
  assert_non_null(load);
  for (size_t k = 0; k < n; k++) load[k] = k < 120 ? 100.0 : 300.0; /* needs ~8.4 cores */
  sim_scores m, h;
  assert_int_equal(sim_run(&m, &c, SIM_MBCAS, load, n, NULL, 1, NULL), MBCAS_OK);
  assert_int_equal(sim_run(&h, &c, SIM_HPA, load, n, NULL, 1, NULL), MBCAS_OK);
  assert_true(m.resizes > 0);
  assert_true(m.peak_cores <= 6.0 + SIM_TIERS * c.max_replicas * c.floor_m / 1000.0 + 1e-9);
  assert_true(h.peak_cores <= 6.0 + 1e-9);
  assert_true(m.contended_steps > 0 && h.contended_steps > 0);
  assert_true(m.jain > 0.0 && m.jain <= 1.0 + 1e-9);
  assert_true(m.violation_s > 0); /* the node is simply too small */
  free(load);
}

/* Demand-justified caps (market_need_m / need_m): on a steady load that the initial
 * 1-CPU pods serve at low utilization, the pods shrink toward their need in place, so
 * MBCAS allocates less than with plain caps, and never more than plain caps would. */
static void test_need_caps(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  c.min_replicas = 3; /* keep the replicas: only the vertical path acts */
  size_t n = 480;
  double *load = malloc(n * sizeof *load);
  assert_non_null(load);
  for (size_t k = 0; k < n; k++) load[k] = 150.0; /* ~4.2 cores over 9 pods */
  sim_scores plain, need;
  c.need_util = 0; /* plain caps: every uncontended pod gets its cap */
  assert_int_equal(sim_run(&plain, &c, SIM_MBCAS, load, n, NULL, 1, NULL), MBCAS_OK);
  c.need_util = 0.5;
  c.need_hold_s = 300;
  c.burst_cap_m = 0; /* the need may go below the base size */
  assert_int_equal(sim_run(&need, &c, SIM_MBCAS, load, n, NULL, 1, NULL), MBCAS_OK);
  assert_true(need.resizes > 0);
  assert_true(need.core_hours < 0.9 * plain.core_hours);
  assert_true(need.peak_cores <= plain.peak_cores + 1e-9);
  assert_true(need.violation_s <= plain.violation_s + 60.0);
  free(load);
}

/* Burst sizing (burst_cap_m above pod_cpu_m, market_need_burst_step): a one-minute spike on
 * a steady load is absorbed in place within a cycle or two: pods grow above the 1-CPU
 * base and come back to it, so there is less violation time than with pods fixed at the
 * base, and allocation above the base is paid for (core-hours > pod-hours) but pods
 * never go below the base. */
static void test_burst(void **s) {
  (void)s;
  sim_config c;
  sim_config_default(&c);
  c.min_replicas = 3;
  c.max_replicas = 3; /* replicas fixed: only the vertical path acts */
  size_t n = 480;
  double *load = malloc(n * sizeof *load);
  assert_non_null(load);
  for (size_t k = 0; k < n; k++) load[k] = (k % 40) < 4 ? 260.0 : 170.0; /* 1-min spikes */
  sim_scores burst, fixed;
  assert_int_equal(sim_run(&burst, &c, SIM_MBCAS, load, n, NULL, 1, NULL), MBCAS_OK);
  c.need_util = 0; /* plain caps: pods fixed at the 1-CPU base */
  assert_int_equal(sim_run(&fixed, &c, SIM_MBCAS, load, n, NULL, 1, NULL), MBCAS_OK);
  assert_true(burst.resizes > 0);
  assert_true(burst.core_hours > burst.pod_hours);        /* above the base at times */
  assert_true(burst.core_hours >= fixed.core_hours - 1e-9); /* never below the base */
  assert_true(fabs(fixed.core_hours - fixed.pod_hours) < 1e-9);
  assert_true(fixed.violation_s > 0);
  assert_true(burst.violation_s < 0.6 * fixed.violation_s);
  assert_true(burst.peak_cores <= 9 * 1.5 + 1e-9);
  free(load);
}

static void test_markdown(void **s) {
  (void)s;
  FILE *f = tmpfile();
  assert_non_null(f);
  sim_scores sc;
  memset(&sc, 0, sizeof sc);
  sc.core_hours = 20;
  sim_scores_md_header(f);
  sim_scores_md_row(f, "nasa", SIM_MBCAS_PROACTIVE, &sc, 10.0);
  sim_scores_md_row(f, "nasa", SIM_HPA, &sc, 0.0);
  rewind(f);
  char buf[4096];
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  buf[len] = 0;
  assert_non_null(strstr(buf, "| trace | policy |"));
  assert_non_null(strstr(buf, "| nasa | mbcas-proactive |"));
  assert_non_null(strstr(buf, "| 2.00 |"));
  assert_non_null(strstr(buf, "| nasa | hpa |"));
  fclose(f);
}

/* A slice of a real trace through every policy (MBCAS_SHARED_DIR from CTest). */
static void test_real_trace_slice(void **s) {
  (void)s;
  const char *dir = getenv("MBCAS_SHARED_DIR");
  if (!dir) skip();
  char p[1024];
  snprintf(p, sizeof p, "%s/traces/nasa_http_1995_jul.csv", dir);
  trace *t = NULL;
  if (trace_load(&t, p, NULL) != MBCAS_OK) skip();
  trace_opts o;
  trace_opts_default(&o);
  o.peak = 600;
  o.span_s = 6 * 3600;
  double *v = NULL;
  size_t n = 0;
  assert_int_equal(trace_series(&v, &n, t, &o, NULL), MBCAS_OK);
  trace_free(t);
  sim_config c;
  sim_config_default(&c);
  for (int pol = 0; pol < SIM_NPOLICIES; pol++) {
    sim_scores sc;
    assert_int_equal(sim_run(&sc, &c, (sim_policy)pol, v, n, NULL, 1, NULL), MBCAS_OK);
    assert_true(sc.core_hours > 0);
  }
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),           cmocka_unit_test(test_config_errors),
      cmocka_unit_test(test_replicas_for),    cmocka_unit_test(test_oracle_step),
      cmocka_unit_test(test_every_policy_smoke), cmocka_unit_test(test_deterministic_and_csv),
      cmocka_unit_test(test_contention),      cmocka_unit_test(test_markdown),
      cmocka_unit_test(test_need_caps),       cmocka_unit_test(test_burst),
      cmocka_unit_test(test_real_trace_slice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
