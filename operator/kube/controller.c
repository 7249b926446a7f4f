/* controller.c - worker threads and the four-way result switch. See controller.h. */
#include "controller.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "log.h"

struct kube_controller {
  char *name;
  int nworkers;
  kube_reconcile_fn reconcile;
  void *ctx;
  kube_queue *queue;
  int own_queue;
  pthread_t *threads;
  int started;
  atomic_ulong counts[KUBE_RESULT_COUNT];
  atomic_ulong next_id;
  kube_metric *m_total, *m_errors, *m_terminal, *m_time, *m_active, *m_max;
};

static const char *result_names[KUBE_RESULT_COUNT] = {"success", "requeue_after", "error",
                                                      "terminal_error"};

const char *kube_reconcile_result_name(kube_reconcile_result r) {
  return r >= 0 && r < KUBE_RESULT_COUNT ? result_names[r] : "unknown";
}

#define CLV(c) ((const char *const[]){(c)->name})

static mbcas_rc register_metrics(kube_controller *c, kube_metrics *m) {
  static const double b[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4,
                             0.45,  0.5,  0.6,   0.7,  0.8, 0.9,  1.0, 1.25, 1.5, 1.75, 2.0,
                             2.5,   3.0,  3.5,   4.0,  4.5, 5,    6,   7,    8,   9};
  mbcas_rc rc = kube_metrics_counter(m, &c->m_total, "controller_runtime_reconcile_total",
                                     "Total number of reconciliations per controller",
                                     "controller,result");
  if (rc == MBCAS_OK)
    rc = kube_metrics_counter(m, &c->m_errors, "controller_runtime_reconcile_errors_total",
                              "Total number of reconciliation errors per controller",
                              "controller");
  if (rc == MBCAS_OK)
    rc = kube_metrics_counter(m, &c->m_terminal,
                              "controller_runtime_terminal_reconcile_errors_total",
                              "Total number of terminal reconciliation errors per controller",
                              "controller");
  if (rc == MBCAS_OK)
    rc = kube_metrics_histogram(m, &c->m_time, "controller_runtime_reconcile_time_seconds",
                                "Length of time per reconciliation per controller",
                                "controller", b, sizeof(b) / sizeof(b[0]));
  if (rc == MBCAS_OK)
    rc = kube_metrics_gauge(m, &c->m_active, "controller_runtime_active_workers",
                            "Number of currently used workers per controller", "controller");
  if (rc == MBCAS_OK)
    rc = kube_metrics_gauge(m, &c->m_max, "controller_runtime_max_concurrent_reconciles",
                            "Maximum number of concurrent reconciles per controller",
                            "controller");
  if (rc != MBCAS_OK) return rc;
  /* Series exist from the start, so dashboards see zeros, not gaps. */
  for (int r = 0; r < 3; r++) {
    static const char *labels[] = {"success", "requeue_after", "error"};
    kube_metric_add(c->m_total, (const char *const[]){c->name, labels[r]}, 0);
  }
  kube_metric_add(c->m_errors, CLV(c), 0);
  kube_metric_add(c->m_terminal, CLV(c), 0);
  kube_metric_set(c->m_active, CLV(c), 0);
  kube_metric_set(c->m_max, CLV(c), c->nworkers);
  return MBCAS_OK;
}

mbcas_rc kube_controller_new(kube_controller **out, const kube_controller_opts *o) {
  *out = NULL;
  if (!o || !o->name || !*o->name || !o->reconcile || o->workers < 0) return MBCAS_EINVAL;
  kube_controller *c = calloc(1, sizeof(*c));
  if (!c) return MBCAS_ENOMEM;
  c->name = strdup(o->name);
  c->nworkers = o->workers ? o->workers : 1;
  c->reconcile = o->reconcile;
  c->ctx = o->ctx;
  mbcas_rc rc = c->name ? MBCAS_OK : MBCAS_ENOMEM;
  if (rc == MBCAS_OK && o->queue) {
    c->queue = o->queue;
  } else if (rc == MBCAS_OK) {
    kube_queue_opts qo = {.name = o->name, .metrics = o->metrics};
    rc = kube_queue_new(&c->queue, &qo);
    c->own_queue = rc == MBCAS_OK;
  }
  if (rc == MBCAS_OK && o->metrics) rc = register_metrics(c, o->metrics);
  if (rc != MBCAS_OK) {
    kube_controller_free(c);
    return rc;
  }
  *out = c;
  return MBCAS_OK;
}

kube_queue *kube_controller_queue(kube_controller *c) { return c ? c->queue : NULL; }

unsigned long kube_controller_count(kube_controller *c, kube_reconcile_result r) {
  if (!c || r < 0 || r >= KUBE_RESULT_COUNT) return 0;
  return atomic_load(&c->counts[r]);
}

/* The four-way switch. Runs on a worker holding key. */
static kube_reconcile_result handle(kube_controller *c, const char *key) {
  unsigned long id = atomic_fetch_add(&c->next_id, 1) + 1;
  uint64_t after_ms = 0;
  if (c->m_active) kube_metric_add(c->m_active, CLV(c), 1);
  double t0 = kube_now();
  mbcas_rc rc = c->reconcile(c->ctx, key, &after_ms);
  double dt = kube_now() - t0;
  if (c->m_active) kube_metric_add(c->m_active, CLV(c), -1);
  if (c->m_time) kube_metric_observe(c->m_time, CLV(c), dt);

  kube_reconcile_result res;
  const char *label;
  if (rc != MBCAS_OK && rc != MBCAS_EINVAL) {
    double delay = 0;
    kube_queue_add_rate_limited(c->queue, key, &delay);
    res = KUBE_RESULT_ERROR;
    label = "error";
    LOG_ERROR("reconcile failed", "controller=%s key=%s reconcileID=%lu error=%s retry_in=%.3f",
              c->name, key, id, mbcas_strerror(rc), delay);
  } else if (rc == MBCAS_EINVAL) {
    kube_queue_forget(c->queue, key);
    res = KUBE_RESULT_TERMINAL_ERROR;
    label = "error";
    LOG_ERROR("reconcile failed terminally", "controller=%s key=%s reconcileID=%lu error=%s",
              c->name, key, id, mbcas_strerror(rc));
  } else if (after_ms > 0) {
    kube_queue_forget(c->queue, key);
    kube_queue_add_after(c->queue, key, (double)after_ms / 1000.0);
    res = KUBE_RESULT_REQUEUE_AFTER;
    label = "requeue_after";
  } else {
    kube_queue_forget(c->queue, key);
    res = KUBE_RESULT_SUCCESS;
    label = "success";
  }
  atomic_fetch_add(&c->counts[res], 1);
  if (c->m_total) kube_metric_inc(c->m_total, (const char *const[]){c->name, label});
  if (res == KUBE_RESULT_ERROR || res == KUBE_RESULT_TERMINAL_ERROR) {
    if (c->m_errors) kube_metric_inc(c->m_errors, CLV(c));
  }
  if (res == KUBE_RESULT_TERMINAL_ERROR && c->m_terminal) kube_metric_inc(c->m_terminal, CLV(c));
  LOG_DEBUG("reconciled", "controller=%s key=%s reconcileID=%lu result=%s seconds=%.6f",
            c->name, key, id, result_names[res], dt);
  return res;
}

mbcas_rc kube_controller_process_one(kube_controller *c, int timeout_ms,
                                     kube_reconcile_result *result) {
  if (!c) return MBCAS_EINVAL;
  const char *key;
  mbcas_rc rc = kube_queue_get(c->queue, &key, timeout_ms);
  if (rc != MBCAS_OK) return rc;
  kube_reconcile_result r = handle(c, key);
  kube_queue_done(c->queue, key);
  if (result) *result = r;
  return MBCAS_OK;
}

static void *worker(void *arg) {
  kube_controller *c = arg;
  while (kube_controller_process_one(c, -1, NULL) == MBCAS_OK) {
  }
  return NULL;
}

mbcas_rc kube_controller_start(kube_controller *c) {
  if (!c || c->started || kube_queue_is_shutdown(c->queue)) return MBCAS_EINVAL;
  c->threads = calloc((size_t)c->nworkers, sizeof(pthread_t));
  if (!c->threads) return MBCAS_ENOMEM;
  int n = 0;
  for (; n < c->nworkers; n++)
    if (pthread_create(&c->threads[n], NULL, worker, c) != 0) break;
  c->started = n;
  if (n < c->nworkers) {
    kube_controller_stop(c);
    return MBCAS_ERR;
  }
  LOG_INFO("controller started", "controller=%s workers=%d", c->name, c->nworkers);
  return MBCAS_OK;
}

void kube_controller_stop(kube_controller *c) {
  if (!c || !c->queue) return;
  kube_queue_shutdown(c->queue);
  for (int i = 0; i < c->started; i++) pthread_join(c->threads[i], NULL);
  if (c->started) LOG_INFO("controller stopped", "controller=%s", c->name);
  c->started = 0;
  free(c->threads);
  c->threads = NULL;
}

void kube_controller_free(kube_controller *c) {
  if (!c) return;
  if (c->started) kube_controller_stop(c);
  if (c->own_queue) kube_queue_free(c->queue);
  free(c->threads);
  free(c->name);
  free(c);
}
