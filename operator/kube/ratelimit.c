/* ratelimit.c - token bucket. See ratelimit.h. */
#include "ratelimit.h"

#include "backoff.h"

void kube_ratelimit_init(kube_ratelimit *rl, double qps, int burst) {
  pthread_mutex_init(&rl->mu, NULL);
  rl->qps = qps;
  rl->burst = burst >= 1 ? burst : 1;
  rl->tokens = rl->burst;
  rl->last = -1;
}

void kube_ratelimit_destroy(kube_ratelimit *rl) { pthread_mutex_destroy(&rl->mu); }

static void refill(kube_ratelimit *rl, double now) {
  if (rl->last < 0) {
    rl->last = now;
    return;
  }
  if (now > rl->last) {
    rl->tokens += (now - rl->last) * rl->qps;
    if (rl->tokens > rl->burst) rl->tokens = rl->burst;
    rl->last = now;
  }
}

double kube_ratelimit_reserve(kube_ratelimit *rl, double now) {
  if (rl->qps <= 0) return 0;
  pthread_mutex_lock(&rl->mu);
  refill(rl, now);
  rl->tokens -= 1.0;
  double wait = rl->tokens >= 0 ? 0 : -rl->tokens / rl->qps;
  pthread_mutex_unlock(&rl->mu);
  return wait;
}

int kube_ratelimit_try(kube_ratelimit *rl, double now) {
  if (rl->qps <= 0) return 1;
  pthread_mutex_lock(&rl->mu);
  refill(rl, now);
  int ok = rl->tokens >= 1.0;
  if (ok) rl->tokens -= 1.0;
  pthread_mutex_unlock(&rl->mu);
  return ok;
}

double kube_ratelimit_tokens(kube_ratelimit *rl, double now) {
  if (rl->qps <= 0) return rl->burst;
  pthread_mutex_lock(&rl->mu);
  refill(rl, now);
  double t = rl->tokens;
  pthread_mutex_unlock(&rl->mu);
  return t;
}

void kube_ratelimit_wait(kube_ratelimit *rl) {
  kube_sleep(kube_ratelimit_reserve(rl, kube_now()));
}
