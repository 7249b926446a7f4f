/* ratelimit.h - token bucket (QPS + burst), like client-go's default client limiter
 * and the overall bucket of controller-runtime's queue limiter.
 *
 * The bucket holds at most `burst` tokens and refills at `qps` per second.
 * kube_ratelimit_reserve() always takes a token and returns how long the caller
 * must wait before using it (0 when one was available), so waiting callers are
 * served in order and never exceed the rate. Time is passed in (kube_now()), so
 * tests are deterministic; kube_ratelimit_wait() is the sleeping convenience.
 *
 * Owns: a mutex (init/destroy). Thread safety: all functions lock; one limiter
 * may be shared by every thread of a client. */
#ifndef MBCAS_KUBE_RATELIMIT_H
#define MBCAS_KUBE_RATELIMIT_H

#include <pthread.h>

typedef struct kube_ratelimit {
  pthread_mutex_t mu;
  double qps;     /* <= 0: unlimited */
  double burst;   /* >= 1 */
  double tokens;  /* may go negative: reserved future tokens */
  double last;    /* time of the last refill; < 0 before first use */
} kube_ratelimit;

void kube_ratelimit_init(kube_ratelimit *rl, double qps, int burst);
void kube_ratelimit_destroy(kube_ratelimit *rl);
/* Take one token at time now; return seconds to wait before using it. */
double kube_ratelimit_reserve(kube_ratelimit *rl, double now);
/* Take a token only if one is available now; 1 if taken, 0 if not. */
int kube_ratelimit_try(kube_ratelimit *rl, double now);
/* Tokens available at time now (after refill; negative when reserved ahead). */
double kube_ratelimit_tokens(kube_ratelimit *rl, double now);
/* reserve + sleep. */
void kube_ratelimit_wait(kube_ratelimit *rl);

#endif
