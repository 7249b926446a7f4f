/* test_trace.c - CSV traces: parsing, errors, resampling, scaling, zero filling. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "trace.h"

static char path[256];

static const char *write_tmp(const char *text) {
  snprintf(path, sizeof path, "/tmp/mbcas-test-trace-%d.csv", (int)getpid());
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void test_load_ok(void **s) {
  (void)s;
  trace *t = NULL;
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a,b\r\n0,1,10\n60,2,20\n120,3.5,30\n"), NULL),
                   MBCAS_OK);
  assert_int_equal(t->rows, 3);
  assert_int_equal(t->cols, 2);
  assert_true(t->interval_s == 60.0);
  assert_string_equal(t->names[0], "a");
  assert_string_equal(t->names[1], "b");
  assert_int_equal(trace_column(t, "b"), 1);
  assert_int_equal(trace_column(t, "zz"), -1);
  assert_int_equal(trace_column(NULL, "a"), -1);
  assert_true(t->v[2 * 2 + 0] == 3.5);
  trace_free(t);
  trace_free(NULL);
  unlink(path);
}

static void test_load_errors(void **s) {
  (void)s;
  trace *t = NULL;
  mbcas_err e;
  assert_int_equal(trace_load(&t, "/nonexistent/x.csv", &e), MBCAS_EIO);
  assert_int_equal(trace_load(&t, write_tmp(""), &e), MBCAS_EINVAL);
  assert_int_equal(trace_load(&t, write_tmp("t_seconds\n0\n"), &e), MBCAS_EINVAL);
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a\n0,1\n60,x\n"), &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "line 3");
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a\n0,1\n60,1,2\n"), &e), MBCAS_EINVAL);
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a\n0,1\n60\n"), &e), MBCAS_EINVAL);
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a\n60,1\n0,1\n"), &e), MBCAS_EINVAL);
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a\n"), &e), MBCAS_EINVAL);
  assert_null(t);
  unlink(path);
}

/* 60 s rows of 60, 120, 180 requests -> 15 s steps hold 1, 2, 3 req/s (4 steps each);
 * 1 s rows averaged over 15 s; a window; the sum of columns; the peak scaling. */
static void test_series(void **s) {
  (void)s;
  trace *t = NULL;
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a,b\n0,60,0\n60,120,60\n120,180,0\n"), NULL),
                   MBCAS_OK);
  trace_opts o;
  trace_opts_default(&o);
  o.column = 0;
  double *v = NULL;
  size_t n = 0;
  assert_int_equal(trace_series(&v, &n, t, &o, NULL), MBCAS_OK);
  assert_int_equal(n, 12);
  for (size_t k = 0; k < n; k++) assert_true(fabs(v[k] - (double)(k / 4 + 1)) < 1e-12);
  free(v);
  o.column = -1; /* sum: 1, 3, 3 */
  o.start_s = 60;
  o.span_s = 60;
  assert_int_equal(trace_series(&v, &n, t, &o, NULL), MBCAS_OK);
  assert_int_equal(n, 4);
  assert_true(fabs(v[0] - 3.0) < 1e-12);
  free(v);
  o.start_s = 0;
  o.span_s = 0;
  o.column = 0;
  o.peak = 600;
  assert_int_equal(trace_series(&v, &n, t, &o, NULL), MBCAS_OK);
  assert_true(fabs(v[11] - 600.0) < 1e-9 && fabs(v[0] - 200.0) < 1e-9);
  free(v);
  /* bad options */
  mbcas_err e;
  o.column = 5;
  assert_int_equal(trace_series(&v, &n, t, &o, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "column");
  o.column = 0;
  o.step_s = 0;
  assert_int_equal(trace_series(&v, &n, t, &o, &e), MBCAS_EINVAL);
  o.step_s = 15;
  o.peak_quantile = 0;
  assert_int_equal(trace_series(&v, &n, t, &o, &e), MBCAS_EINVAL);
  o.peak_quantile = 1;
  o.start_s = 1e6;
  assert_int_equal(trace_series(&v, &n, t, &o, &e), MBCAS_EINVAL);
  trace_free(t);

  /* 1 s rows: 15 values per step are averaged (rate per second) */
  char buf[4096] = "t_seconds,x\n";
  for (int i = 0; i < 30; i++) {
    char line[32];
    snprintf(line, sizeof line, "%d,%d\n", i, i < 15 ? 2 : 4);
    strcat(buf, line);
  }
  assert_int_equal(trace_load(&t, write_tmp(buf), NULL), MBCAS_OK);
  trace_opts_default(&o);
  assert_int_equal(trace_series(&v, &n, t, &o, NULL), MBCAS_OK);
  assert_int_equal(n, 2);
  assert_true(fabs(v[0] - 2.0) < 1e-12 && fabs(v[1] - 4.0) < 1e-12);
  free(v);
  trace_free(t);
  unlink(path);
}

static void test_fill_zeros_and_quantile(void **s) {
  (void)s;
  trace *t = NULL;
  assert_int_equal(trace_load(&t, write_tmp("t_seconds,a\n0,0\n15,30\n30,0\n45,0\n60,15\n"), NULL),
                   MBCAS_OK);
  trace_opts o;
  trace_opts_default(&o);
  o.fill_zeros = 1;
  double *v = NULL;
  size_t n = 0;
  assert_int_equal(trace_series(&v, &n, t, &o, NULL), MBCAS_OK);
  assert_int_equal(n, 5);
  /* a leading zero stays (nothing to hold), later zeros hold 30 (= 2 req/s) */
  assert_true(v[0] == 0.0 && v[1] == 2.0 && v[2] == 2.0 && v[3] == 2.0 && v[4] == 1.0);
  free(v);
  trace_free(t);
  unlink(path);
  double q[5] = {5, 1, 4, 2, 3};
  assert_true(trace_quantile(q, 5, 0.5) == 3.0);
  assert_true(trace_quantile(q, 5, 1.0) == 5.0);
  assert_true(trace_quantile(q, 5, 0.0) == 1.0);
  assert_true(fabs(trace_quantile(q, 5, 0.9) - 4.6) < 1e-12);
  assert_true(trace_quantile(q, 0, 0.5) == 0.0);
}

/* The shared traces (MBCAS_SHARED_DIR) all load and resample. */
static void test_shared_traces(void **s) {
  (void)s;
  const char *dir = getenv("MBCAS_SHARED_DIR");
  if (!dir) skip();
  const char *names[] = {"nasa_http_1995_jul", "worldcup98_growth", "twitter_stream_2021_08",
                         "azure_llm_inference_2023", "azure_vm_cpu_2019", "alibaba2018_cluster_cpu"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char p[1024];
    snprintf(p, sizeof p, "%s/traces/%s.csv", dir, names[i]);
    trace *t = NULL;
    mbcas_err e;
    if (access(p, R_OK) != 0) continue;
    assert_int_equal(trace_load(&t, p, &e), MBCAS_OK);
    assert_true(t->rows > 1000);
    trace_opts o;
    trace_opts_default(&o);
    o.column = 0;
    o.peak = 100;
    o.span_s = 3 * 3600;
    double *v = NULL;
    size_t n = 0;
    assert_int_equal(trace_series(&v, &n, t, &o, &e), MBCAS_OK);
    assert_true(n > 100);
    free(v);
    trace_free(t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_ok),  cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_series),   cmocka_unit_test(test_fill_zeros_and_quantile),
      cmocka_unit_test(test_shared_traces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
