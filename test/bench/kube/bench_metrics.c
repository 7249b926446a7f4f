/* bench_metrics.c - metrics registry cost at operator scale (see docs/benchmarks.md,
 * "Client runtime").
 *
 *   bench_kube_metrics [N]   (default N = 20000)
 *
 * One gauge family shaped like mbcas_pod_allocated_cpu_millicores (labels
 * market,node,namespace,pod,servicebudget) with N series: heap bytes per series
 * (mallinfo2 delta after creating them), ns per kube_metric_set on an existing
 * series (10 rounds over all N), one render, and a mark/set/sweep pass that drops
 * 1 % of the series (pods that vanished). Not a CTest test: it prints figures. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_used(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/* Label values of participant i: 50 nodes, 20 namespaces, 500 services. */
static void labels(int i, char v[5][64]) {
  snprintf(v[0], 64, "default");
  snprintf(v[1], 64, "worker-%03d", i % 50);
  snprintf(v[2], 64, "tenant-%02d", i % 20);
  snprintf(v[3], 64, "svc-%03d-7d9f8c6b5-%05d", i % 500, i);
  snprintf(v[4], 64, "svc-%03d", i % 500);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  if (n <= 0) n = 20000;
  char (*v)[5][64] = malloc(sizeof(*v) * (size_t)n);
  const char *(*lv)[5] = malloc(sizeof(*lv) * (size_t)n);
  if (!v || !lv) return 1;
  for (int i = 0; i < n; i++) {
    labels(i, v[i]);
    for (int k = 0; k < 5; k++) lv[i][k] = v[i][k];
  }
  kube_metrics *r;
  kube_metric *g;
  if (kube_metrics_new(&r) != MBCAS_OK ||
      kube_metrics_gauge(r, &g, "mbcas_pod_allocated_cpu_millicores", "h",
                         "market,node,namespace,pod,servicebudget") != MBCAS_OK)
    return 1;
#ifndef BENCH_OLD_API
  kube_metric_set_limit(g, (size_t)n);
#endif
  malloc_trim(0);
  size_t before = heap_used();
  double t0 = now_s();
  int fails = 0;
  for (int i = 0; i < n; i++) fails += kube_metric_set(g, lv[i], i) != MBCAS_OK;
  double create = now_s() - t0;
  malloc_trim(0);
  size_t after = heap_used();
  printf("metrics series=%d create_fails=%d heap_bytes=%zu bytes_per_series=%.0f create_ns=%.0f\n",
         n, fails, after - before, (double)(after - before) / n, create / n * 1e9);
  const int rounds = 10;
  t0 = now_s();
  for (int k = 0; k < rounds; k++)
    for (int i = 0; i < n; i++) kube_metric_set(g, lv[i], i + k);
  double set = now_s() - t0;
  printf("metrics set_ns_per_call=%.0f (%d rounds x %d series)\n", set / rounds / n * 1e9,
         rounds, n);
  char *out = NULL;
  size_t len = 0;
  t0 = now_s();
  kube_metrics_render(r, &out, &len);
  printf("metrics render_ms=%.2f bytes=%zu\n", (now_s() - t0) * 1e3, len);
  free(out);
#ifndef BENCH_OLD_API
  t0 = now_s();
  uint32_t mark = kube_metric_mark(g);
  for (int i = 0; i < n; i++)
    if (i % 100) kube_metric_set(g, lv[i], i);
  size_t gone = kube_metric_sweep(g, NULL, mark);
  printf("metrics mark_set_sweep_ms=%.2f swept=%zu left=%zu\n", (now_s() - t0) * 1e3, gone,
         kube_metric_len(g));
#endif
  kube_metrics_free(r);
  free(v);
  free(lv);
  return 0;
}
