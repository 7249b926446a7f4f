/* mtest.h - deterministic random numbers for the market tests (splitmix64). */
#ifndef MBCAS_TEST_MARKET_MTEST_H
#define MBCAS_TEST_MARKET_MTEST_H

#include <stdint.h>

typedef struct mrng {
  uint64_t s;
} mrng;

static inline uint64_t mrng_next(mrng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* uniform integer in [lo, hi] */
static inline int64_t mrng_int(mrng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(mrng_next(r) % (uint64_t)(hi - lo + 1));
}
/* uniform double in [0, 1) */
static inline double mrng_unit(mrng *r) { return (double)(mrng_next(r) >> 11) * 0x1.0p-53; }

#endif
