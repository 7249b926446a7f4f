/* bench_market.c - clearing time of the market engine (not a test; see run.sh).
 *
 *   bench_market [--reps N] [--dump DIR]
 *
 * 1. One node's market of 100, 1,000, 10,000 and 100,000 participants (clearing_solve).
 * 2. A whole cluster: 5,000 nodes x 30 pods per cycle through market_clear, with and
 *    without guardrails.
 * Instances come from a fixed seed (splitmix64), so every run clears the same markets.
 * Prints median, min and max wall time per instance (CLOCK_MONOTONIC). With --dump DIR
 * it writes every instance in market_clearing_driver's input format (single_<n>.txt,
 * cluster.txt) so run.sh can hand the same instances to a generic convex solver. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clearing.h"
#include "market.h"

static uint64_t rng_s = 20261123;
static uint64_t next(void) {
  uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double unit(void) { return (double)(next() >> 11) * 0x1.0p-53; }
static int64_t irange(int64_t lo, int64_t hi) { return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1)); }

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A pod: budget share 0.1..10, demand 0..1 -> bid; floor 0..200m; cap floor + 100..4000m. */
static void gen_pod(clearing_participant *p) {
  p->key = next();
  double share = 0.1 + 9.9 * unit(), demand = unit();
  p->bid = share * demand;
  p->floor_m = irange(0, 200);
  p->cap_m = p->floor_m + irange(100, 4000);
}

static int64_t contended_capacity(const clearing_participant *p, size_t n) {
  int64_t sf = 0, sc = 0;
  for (size_t i = 0; i < n; i++) {
    sf += p[i].floor_m;
    sc += p[i].cap_m;
  }
  return sf + (sc - sf) * 6 / 10;
}

static void dump(FILE *f, const clearing_participant *p, size_t n, int64_t cap) {
  fprintf(f, "%zu %" PRId64 "\n", n, cap);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%" PRIu64 " %.17g %" PRId64 " %" PRId64 "\n", p[i].key, p[i].bid, p[i].floor_m,
            p[i].cap_m);
}

int main(int argc, char **argv) {
  int reps = 21;
  const char *dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dir = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--reps N] [--dump DIR]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  double *t = malloc(sizeof *t * (size_t)reps);
  const size_t sizes[] = {100, 1000, 10000, 100000};
  printf("%-34s %12s %12s %12s\n", "instance", "median_ms", "min_ms", "max_ms");
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    size_t n = sizes[s];
    clearing_participant *p = malloc(n * sizeof *p);
    clearing_alloc *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) gen_pod(&p[i]);
    int64_t cap = contended_capacity(p, n);
    if (dir) {
      char path[512];
      snprintf(path, sizeof path, "%s/single_%zu.txt", dir, n);
      FILE *f = fopen(path, "w");
      if (!f) return 1;
      dump(f, p, n, cap);
      fclose(f);
    }
    clearing_result r;
    for (int k = 0; k < reps; k++) {
      double t0 = now_ms();
      if (clearing_solve(a, &r, p, n, cap, NULL) != MBCAS_OK) return 1;
      t[k] = now_ms() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmpd);
    char name[64];
    snprintf(name, sizeof name, "one node, %zu participants", n);
    printf("%-34s %12.4f %12.4f %12.4f\n", name, t[reps / 2], t[0], t[reps - 1]);
    free(p);
    free(a);
  }
  /* whole cluster */
  enum { NODES = 5000, PER = 30 };
  size_t np = (size_t)NODES * PER;
  market_node *nodes = malloc(NODES * sizeof *nodes);
  market_participant *parts = malloc(np * sizeof *parts);
  market_node_summary *ns = malloc(NODES * sizeof *ns);
  market_alloc *al = malloc(np * sizeof *al);
  clearing_participant *cp = malloc(PER * sizeof *cp);
  FILE *cf = NULL;
  if (dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/cluster.txt", dir);
    cf = fopen(path, "w");
    if (!cf) return 1;
  }
  for (size_t k = 0; k < NODES; k++) {
    int64_t sf = 0, sc = 0;
    for (size_t j = 0; j < PER; j++) {
      clearing_participant c;
      gen_pod(&c);
      double share = 0.1 + 9.9 * unit();
      double demand = c.bid / share > 1 ? 1 : c.bid / share;
      size_t i = k * PER + j;
      parts[i] = (market_participant){(uint32_t)k, c.key, share, demand, c.floor_m, c.cap_m,
                                      irange(c.floor_m, c.cap_m), irange(0, c.cap_m), -1, 0};
      cp[j] = (clearing_participant){c.key, share * demand, c.floor_m, c.cap_m};
      sf += c.floor_m;
      sc += c.cap_m;
    }
    nodes[k] = (market_node){sf + (sc - sf) * 6 / 10 + 1000, 500, 500};
    if (cf) dump(cf, cp, PER, clearing_capacity(nodes[k].allocatable_m, 500, 500));
  }
  if (cf) fclose(cf);
  guardrails_config g;
  guardrails_config_default(&g);
  for (int with_guard = 0; with_guard < 2; with_guard++) {
    market_input in = {nodes, NODES, parts, np, {0}, with_guard ? &g : NULL, 1000};
    market_output out = {ns, al, 0, 0, 0, 0, 0};
    int cr = reps > 11 ? 11 : reps;
    for (int k = 0; k < cr; k++) {
      double t0 = now_ms();
      if (market_clear(&out, &in, NULL) != MBCAS_OK) return 1;
      t[k] = now_ms() - t0;
    }
    qsort(t, (size_t)cr, sizeof *t, cmpd);
    printf("%-34s %12.4f %12.4f %12.4f\n",
           with_guard ? "cluster 5000x30, market_clear+guard" : "cluster 5000x30, market_clear",
           t[cr / 2], t[0], t[cr - 1]);
  }
  free(nodes);
  free(parts);
  free(ns);
  free(al);
  free(cp);
  free(t);
  return 0;
}
