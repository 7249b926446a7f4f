/* clearing_driver.c - test driver: reads markets from stdin, clears each with
 * clearing_solve and prints one JSON object per market on stdout.
 *
 * Input, repeated until EOF:   n C            (participants, capacity in millicores)
 *                              key bid floor cap    (n lines; bid as a decimal number)
 * Output per market: {"rc":0,"price":p,"flags":f,"alloc":[..],"exact":[..],"ns":t}
 * where ns is the time clear took in nanoseconds (informational; tests never use it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clearing.h"

int main(void) {
  size_t n;
  long long cap;
  while (scanf("%zu %lld", &n, &cap) == 2) {
    clearing_participant *p = calloc(n ? n : 1, sizeof *p);
    clearing_alloc *a = calloc(n ? n : 1, sizeof *a);
    if (!p || !a) return 2;
    for (size_t i = 0; i < n; i++) {
      unsigned long long k;
      long long f, c;
      if (scanf("%llu %lf %lld %lld", &k, &p[i].bid, &f, &c) != 4) return 2;
      p[i].key = k;
      p[i].floor_m = f;
      p[i].cap_m = c;
    }
    clearing_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mbcas_rc rc = clearing_solve(a, &r, p, n, cap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    if (rc != MBCAS_OK) {
      printf("{\"rc\":%d}\n", (int)rc);
    } else {
      printf("{\"rc\":0,\"price\":%.17g,\"flags\":%u,\"ns\":%lld,\"alloc\":[", r.price,
             r.flags, ns);
      for (size_t i = 0; i < n; i++) printf("%s%" PRId64, i ? "," : "", a[i].alloc_m);
      printf("],\"exact\":[");
      for (size_t i = 0; i < n; i++) printf("%s%.17g", i ? "," : "", a[i].exact_m);
      printf("]}\n");
    }
    free(p);
    free(a);
  }
  return 0;
}
