/* backoff.c - exponential backoff with jitter. See backoff.h. */
#include "backoff.h"

#include <errno.h>
#include <math.h>
#include <time.h>

double kube_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kube_sleep(double seconds) {
  if (!(seconds > 0)) return;
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

void kube_backoff_seed(kube_backoff *b, uint64_t seed) {
  b->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

void kube_backoff_init(kube_backoff *b, double initial, double max, double factor,
                       double jitter, double reset_after) {
  b->initial = initial > 0 ? initial : 0.001;
  b->max = max >= b->initial ? max : b->initial;
  b->factor = factor >= 1.0 ? factor : 1.0;
  b->jitter = jitter > 0 ? jitter : 0;
  b->reset_after = reset_after;
  b->current = b->initial;
  b->last_failure = -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  kube_backoff_seed(b, ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
                           (uint64_t)(uintptr_t)b);
}

void kube_backoff_init_default(kube_backoff *b) {
  kube_backoff_init(b, 0.8, 30.0, 2.0, 1.0, 120.0);
}

double kube_backoff_next(kube_backoff *b, double now) {
  if (b->reset_after > 0 && b->last_failure >= 0 &&
      now - b->last_failure >= b->reset_after)
    b->current = b->initial;
  b->last_failure = now;
  double d = b->current;
  b->current = b->current * b->factor;
  if (b->current > b->max) b->current = b->max;
  if (b->jitter > 0) {
    double r = (double)(xorshift(&b->rng) >> 11) / 9007199254740992.0; /* [0,1) */
    d += d * b->jitter * r;
  }
  return d;
}

void kube_backoff_reset(kube_backoff *b) {
  b->current = b->initial;
  b->last_failure = -1;
}

double kube_backoff_delay(double base, double factor, unsigned attempt, double max) {
  double d = base;
  for (unsigned i = 0; i < attempt && d < max; i++) d *= factor;
  return d > max ? max : d;
}
