/* controller.h - the controller-runtime worker loop over a kube_queue.
 *
 * N worker threads each take a key, call the reconcile function, and act on
 * its answer in one four-way switch (controller-runtime's reconcileHandler):
 *   error, not MBCAS_EINVAL  -> rate-limited requeue (per-key backoff + bucket)
 *   MBCAS_EINVAL (terminal)  -> forget; no retry until the key is added again
 *   OK with requeue_after>0  -> forget the failures, add after that delay
 *   OK                       -> forget
 * and counts each outcome in controller_runtime_* metrics. The queue guarantees
 * one key is never reconciled by two workers at once. Event handlers only add
 * keys; reconcile reads current state itself (it gets no event and no object).
 * Start it after the informer caches have synced.
 *
 * Owns: the worker threads and, unless one was given, the queue. Borrows: ctx,
 * the metrics registry. Thread safety: reconcile runs on several threads at
 * once (for different keys); start/stop/free from one thread. */
#ifndef MBCAS_KUBE_CONTROLLER_H
#define MBCAS_KUBE_CONTROLLER_H

#include <stdint.h>

#include "metrics.h"
#include "queue.h"
#include "result.h"

typedef struct kube_controller kube_controller;

/* Reconcile one key. *requeue_after_ms starts at 0; set it to come back later
 * (the clearing cycle is such a delay). Return MBCAS_EINVAL for bad input that
 * retrying cannot fix (terminal), another error to retry with backoff. */
typedef mbcas_rc (*kube_reconcile_fn)(void *ctx, const char *key, uint64_t *requeue_after_ms);

typedef enum {
  KUBE_RESULT_SUCCESS = 0,
  KUBE_RESULT_REQUEUE_AFTER,
  KUBE_RESULT_ERROR,
  KUBE_RESULT_TERMINAL_ERROR,
  KUBE_RESULT_COUNT
} kube_reconcile_result;

typedef struct kube_controller_opts {
  const char *name;         /* label "controller"; required */
  int workers;              /* 0: 1 */
  kube_reconcile_fn reconcile; /* required */
  void *ctx;
  kube_queue *queue;        /* borrowed; NULL: the controller makes its own */
  kube_metrics *metrics;    /* NULL: no metrics (also for its own queue) */
} kube_controller_opts;

mbcas_rc kube_controller_new(kube_controller **out, const kube_controller_opts *opts);
/* Stops (if running) and frees; accepts NULL. */
void kube_controller_free(kube_controller *c);

/* The queue event handlers add keys to. Borrowed. */
kube_queue *kube_controller_queue(kube_controller *c);

/* Start the worker threads. MBCAS_EINVAL when already started. */
mbcas_rc kube_controller_start(kube_controller *c);
/* Shut the queue down, let in-flight reconciles finish, join the workers. A
 * borrowed queue is shut down too (it cannot be restarted). Idempotent. */
void kube_controller_stop(kube_controller *c);

/* One iteration of a worker on the calling thread: take a key (waiting up to
 * timeout_ms), reconcile, handle the result. *result (may be NULL) receives
 * the outcome. Returns MBCAS_OK when a key was processed, MBCAS_ETIMEOUT or
 * MBCAS_EGONE (shut down) otherwise. For tests and single-threaded use. */
mbcas_rc kube_controller_process_one(kube_controller *c, int timeout_ms,
                                     kube_reconcile_result *result);

/* Outcomes counted since creation. */
unsigned long kube_controller_count(kube_controller *c, kube_reconcile_result r);

/* "success", "requeue_after", "error", "terminal_error". */
const char *kube_reconcile_result_name(kube_reconcile_result r);

#endif
