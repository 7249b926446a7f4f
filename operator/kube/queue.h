/* queue.h - work queue of object keys for one controller.
 *
 * Keys are "namespace/name" strings. A key is in the queue at most once;
 * adding a key that is already waiting is a no-op. A key taken by a worker
 * is not handed to another worker until kube_queue_done() is called for it;
 * if it was re-added meanwhile, it is queued again at that point.
 * Delayed adds sit in a timer heap until due (the earliest deadline wins).
 * Rate-limited adds wait max(per-key exponential backoff, overall token
 * bucket): controller-runtime's default limiter, 5 ms doubling to 1000 s per
 * key, 10 qps with a burst of 100 overall (backoff.h, ratelimit.h).
 * The clock is injectable, so tests of backoff and delays never sleep.
 *
 * Owns: copies of the keys it stores. Does not touch: objects, the cache, HTTP.
 * Thread safety: all functions may be called from any thread. */
#ifndef MBCAS_KUBE_QUEUE_H
#define MBCAS_KUBE_QUEUE_H

#include <stddef.h>

#include "metrics.h"
#include "result.h"

typedef struct kube_queue kube_queue;

/* Monotonic seconds; the default is kube_now() from backoff.h. */
typedef double (*kube_clock_fn)(void *ud);

typedef struct kube_queue_opts {
  const char *name;       /* label "name" on the workqueue_* metrics; NULL: "default" */
  kube_metrics *metrics;  /* registry for workqueue_* metrics; NULL: no metrics */
  kube_clock_fn clock;    /* NULL: kube_now() */
  void *clock_ud;
  double base_delay;      /* per-key backoff start, seconds; 0: 0.005 */
  double max_delay;       /* per-key backoff cap; 0: 1000 */
  double qps;             /* overall bucket; 0: 10; < 0: no bucket */
  int burst;              /* 0: 100 */
} kube_queue_opts;

/* opts may be NULL for the defaults. */
mbcas_rc kube_queue_new(kube_queue **out, const kube_queue_opts *opts);
/* Frees everything; keys still held by workers become invalid. Call after
 * kube_queue_shutdown() and after the workers have stopped. */
void kube_queue_free(kube_queue *q);

/* Queue key now (no-op when already waiting). MBCAS_EGONE after shutdown,
 * MBCAS_EINVAL for a NULL or empty key. */
mbcas_rc kube_queue_add(kube_queue *q, const char *key);
/* Queue key after delay seconds (<= 0: now). A key already waiting or with an
 * earlier deadline keeps it. */
mbcas_rc kube_queue_add_after(kube_queue *q, const char *key, double delay);
/* Add after the rate limiter's delay for key and count a failure for it.
 * *delay_out (may be NULL) receives the delay chosen. */
mbcas_rc kube_queue_add_rate_limited(kube_queue *q, const char *key, double *delay_out);
/* Reset the key's failure count (after success). */
void kube_queue_forget(kube_queue *q, const char *key);
/* Failures counted for key since the last forget. */
unsigned kube_queue_num_requeues(kube_queue *q, const char *key);

/* Take the next key. Waits up to timeout_ms (< 0: forever, 0: do not wait).
 * *key is borrowed: valid until kube_queue_done(q, *key). Returns MBCAS_OK,
 * MBCAS_ETIMEOUT when nothing became ready, MBCAS_EGONE once shut down (keys
 * still waiting are dropped; workers should then return). */
mbcas_rc kube_queue_get(kube_queue *q, const char **key, int timeout_ms);
/* The worker finished key (the pointer from kube_queue_get). If the key was
 * added meanwhile it is queued again now. */
void kube_queue_done(kube_queue *q, const char *key);

/* Keys waiting to be taken (not counting delayed or in-process ones). */
size_t kube_queue_len(kube_queue *q);
/* Keys in the timer heap. */
size_t kube_queue_delayed_len(kube_queue *q);
/* Keys being processed by workers. */
size_t kube_queue_processing_len(kube_queue *q);

/* Move due delayed keys into the queue and wake waiting workers. Workers do
 * this themselves; tests with a fake clock call it after moving the clock. */
void kube_queue_tick(kube_queue *q);

/* Stop: wake every waiting kube_queue_get (they return MBCAS_EGONE) and refuse
 * new adds. Idempotent. */
void kube_queue_shutdown(kube_queue *q);
int kube_queue_is_shutdown(kube_queue *q);

#endif
