/* informer.h - list-then-watch one resource into a cache and tell handlers.
 *
 * An informer owns a kube_watcher and a kube_cache. Its thread steps the watcher
 * and applies each event: a relist (INIT .. INIT_DONE) fills a fresh cache that is
 * swapped in at INIT_DONE, and the swap's differences become add/update/delete
 * calls, so objects deleted while we were disconnected disappear; live events
 * upsert or delete and call the handlers. Errors back off (backoff.h, client-go
 * reflector defaults) before the next step. Every resync_seconds every cached item
 * is handed to on_update(old == new) as a safety net, as in client-go (a copy,
 * outside the cache lock). Watch restarts, relists and errors are counted into
 * an optional metrics registry (opts.metrics), so watch.c keeps no global state.
 * kube_informer_step() runs one step on the caller's thread for tests.
 *
 * Owns: the watcher, the cache, the thread. Handlers run on the informer thread,
 * after the cache changed and outside its lock; the items they get are borrowed,
 * valid during the call. Thread safety: start/stop/synced from any thread; the
 * cache is readable from any thread (cache.h). */
#ifndef MBCAS_KUBE_INFORMER_H
#define MBCAS_KUBE_INFORMER_H

#include "backoff.h"
#include "cache.h"
#include "metrics.h"
#include "rest.h"
#include "watch.h"

typedef struct kube_informer_handlers {
  void (*on_add)(void *ud, const void *item);
  void (*on_update)(void *ud, const void *old_item, const void *new_item);
  void (*on_delete)(void *ud, const void *old_item);
  void *ud;
} kube_informer_handlers;

typedef struct kube_informer_opts {
  kube_cache_kind kind;       /* KUBE_CACHE_POD for pods, else KUBE_CACHE_JSON */
  kube_watcher_opts watch;    /* selectors, page size, timeoutSeconds ... */
  double resync_seconds;      /* 0: no periodic resync */
  const char *name;           /* for logs and metrics: "pods" */
  /* Backoff after errors; zeros mean client-go's 0.8 s .. 30 s, reset 120 s. */
  double backoff_initial, backoff_max;
  /* Registry for the watch counters (may be NULL: none), label resource = name:
   *   mbcas_watch_restarts_total{resource}  watch streams opened after the first
   *     (server timeout, dropped connection, after a relist ...)
   *   mbcas_watch_relists_total{resource}   full LISTs started after the first
   *     (410 Gone, kube_watcher_relist(), a failed first list retried)
   *   mbcas_watch_errors_total{resource}    ERROR events (each one backed off)
   * The series exist, at 0, from kube_informer_new*. Borrowed: must outlive the
   * informer. (Added after first publication; zeroed opts leave it NULL.) */
  kube_metrics *metrics;
} kube_informer_opts;

typedef struct kube_informer kube_informer;

/* For ref (a collection: name and subresource NULL) over a client. */
mbcas_rc kube_informer_new(kube_informer **out, kube_client *c, const kube_ref *ref,
                           const kube_informer_opts *opts);
/* Over any transport (taken over, also on failure). */
mbcas_rc kube_informer_new_transport(kube_informer **out, kube_watch_transport *t,
                                     const kube_informer_opts *opts);
/* Stops (if running) and frees. */
void kube_informer_free(kube_informer *inf);
/* Up to 8 handler sets; add before start. */
mbcas_rc kube_informer_add_handlers(kube_informer *inf, const kube_informer_handlers *h);
kube_cache *kube_informer_cache(kube_informer *inf);

/* Start the thread / stop and join it (stop returns within about the watch read
 * timeout). */
mbcas_rc kube_informer_start(kube_informer *inf);
void kube_informer_stop(kube_informer *inf);
/* 1 once the first complete list has been swapped in. */
int kube_informer_synced(kube_informer *inf);
/* Wait until synced or timeout_s passed (polling). MBCAS_ETIMEOUT if not synced. */
mbcas_rc kube_informer_wait_synced(kube_informer *inf, double timeout_s);

/* One watcher step applied to the cache, on the caller's thread (no backoff
 * sleep). *type (may be NULL) receives the event type; *rc_out the ERROR code. */
mbcas_rc kube_informer_step(kube_informer *inf, kube_watch_event_type *type, mbcas_rc *rc_out);
/* Call on_update(item, item) for every cached item now, on the calling thread
 * (the informer thread calls it every resync_seconds). The keys are snapshotted
 * under the cache read lock; then each item is copied out (kube_cache_get_pod /
 * kube_cache_get_json) and the handlers get the copy, OUTSIDE any cache lock,
 * like every other handler call: they may block, read or even write the cache
 * without deadlock, and the informer's writes are never held up by them. An item
 * deleted after the snapshot is skipped. Cost: one copy per item per resync.
 * Not concurrently with itself or with kube_informer_step on another thread. */
void kube_informer_resync(kube_informer *inf);
/* The watcher (counters, state). Borrowed. */
kube_watcher *kube_informer_watcher(kube_informer *inf);
/* Errors seen (each one backed off). */
unsigned long kube_informer_errors(kube_informer *inf);

#endif
