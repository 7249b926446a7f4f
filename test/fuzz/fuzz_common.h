/* fuzz_common.h - helpers shared by the fuzz targets of test/fuzz/.
 *
 * Every target defines LLVMFuzzerTestOneInput(): libFuzzer calls it when the
 * target is built with MBCAS_FUZZ=ON and clang, replay_main.c calls it over the
 * seed corpus otherwise (a ctest test in every build). A target must free all it
 * allocates and never crash; FUZZ_ASSERT turns a broken invariant of the code
 * under test (a round trip that does not round-trip, an unterminated string)
 * into an abort, which libFuzzer reports as a crash with its input.
 * Owns: nothing. Thread safety: single-threaded, like libFuzzer's loop. */
#ifndef MBCAS_FUZZ_COMMON_H
#define MBCAS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                    \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
      abort();                                                                               \
    }                                                                                        \
  } while (0)

/* The input as a NUL-terminated string (embedded NULs cut it short, as they
 * would for any C string API). Aborts when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  FUZZ_ASSERT(s != NULL);
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* An exact-size copy, without terminator: ASan catches a read one past the end. */
static inline char *fuzz_copy(const uint8_t *data, size_t size) {
  char *s = malloc(size ? size : 1);
  FUZZ_ASSERT(s != NULL);
  if (size) memcpy(s, data, size);
  return s;
}

/* A fixed-size char array holds a terminated string. */
#define FUZZ_TERMINATED(arr) FUZZ_ASSERT(memchr((arr), '\0', sizeof(arr)) != NULL)

/* Logging off once: the code under test may log at debug/warn level. */
static inline void fuzz_quiet(void) {
  static int done;
  if (!done) {
    mbcas_log_set_level(MBCAS_LOG_OFF);
    done = 1;
  }
}

/* FUZZ_SKIP_KNOWN=1 in the environment lets a fuzzing session explore past the
 * findings already reported in docs/fuzzing.md (each target names the exact
 * signature it lets through). Unset - as in every ctest replay - all invariants
 * are strict, and the reproducers under crashes/ fail. */
static inline int fuzz_skip_known(void) {
  static int v = -1;
  if (v < 0) {
    const char *e = getenv("FUZZ_SKIP_KNOWN");
    v = e && e[0] == '1';
  }
  return v;
}

/* Small deterministic generator for chunk sizes and choices (xorshift32). */
typedef struct fuzz_rng {
  uint32_t s;
} fuzz_rng;

static inline void fuzz_rng_seed(fuzz_rng *r, uint32_t seed) { r->s = seed * 2654435761u + 0x9e3779b9u; if (!r->s) r->s = 1; }

static inline uint32_t fuzz_rng_next(fuzz_rng *r) {
  uint32_t x = r->s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return r->s = x;
}

/* Uniform-ish in [lo, hi]. */
static inline size_t fuzz_rng_range(fuzz_rng *r, size_t lo, size_t hi) {
  return lo + (size_t)(fuzz_rng_next(r) % (uint32_t)(hi - lo + 1));
}

#endif
