/* backoff.h - exponential backoff with jitter, shared by watch, REST retries and
 * the work queue.
 *
 * A kube_backoff is a small value (no allocation): each failure doubles the delay
 * from `initial` up to `max`, adds up to `jitter`*delay of randomness (so many
 * clients do not retry in step), and starts again from `initial` when no failure
 * happened for `reset_after` seconds. Defaults are client-go's reflector
 * (0.8 s doubling to 30 s, jitter 1.0, reset after 120 s quiet). Time is passed
 * in by the caller (kube_now()), so tests are deterministic; the random source
 * is a per-object xorshift seeded by kube_backoff_seed().
 *
 * Owns: nothing. Thread safety: one kube_backoff per thread or caller-locked;
 * kube_backoff_delay() and kube_now() are pure/thread-safe. */
#ifndef MBCAS_KUBE_BACKOFF_H
#define MBCAS_KUBE_BACKOFF_H

#include <stdint.h>

typedef struct kube_backoff {
  double initial;      /* seconds */
  double max;          /* seconds, cap before jitter */
  double factor;       /* >= 1 */
  double jitter;       /* 0: none; 1.0: delay in [d, 2d) */
  double reset_after;  /* seconds without failure that reset the delay; <= 0: never */
  double current;      /* next base delay (before jitter) */
  double last_failure; /* kube_now() of the last kube_backoff_next(), < 0: none */
  uint64_t rng;
} kube_backoff;

/* Monotonic clock in seconds. */
double kube_now(void);

/* Explicit parameters. */
void kube_backoff_init(kube_backoff *b, double initial, double max, double factor,
                       double jitter, double reset_after);
/* client-go reflector defaults: 0.8 s, 30 s, x2, jitter 1.0, reset after 120 s. */
void kube_backoff_init_default(kube_backoff *b);
/* Reproducible jitter (tests); otherwise seeded from the clock and address. */
void kube_backoff_seed(kube_backoff *b, uint64_t seed);
/* Record a failure at time now; return how long to wait (seconds, jittered). */
double kube_backoff_next(kube_backoff *b, double now);
/* Forget failures: the next delay is `initial` again. */
void kube_backoff_reset(kube_backoff *b);
/* Pure: base * factor^attempt capped at max (attempt 0 -> base). For per-item
 * queue backoff where the caller stores only the attempt count. */
double kube_backoff_delay(double base, double factor, unsigned attempt, double max);
/* Sleep for seconds (nanosleep, restarts on EINTR). */
void kube_sleep(double seconds);

#endif
