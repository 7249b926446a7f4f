/* queue.c - deduplicating, rate-limited, delaying work queue. See queue.h.
 *
 * One record per known key lives in a chained hash table. Its flags say where
 * the key is: `dirty` (waiting: in the FIFO, or to be re-queued when the worker
 * holding it calls done), `processing` (a worker holds it), `heap_idx` (in the
 * timer heap of delayed adds), `failures` (rate-limiter state). A record with
 * none of these is freed at once, so memory follows the live keys.
 *
 * Sections: types, hash table, heap, core (locked), API. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "ratelimit.h"

/* ---- types ---- */

#define NOT_IN_HEAP SIZE_MAX

typedef struct item {
  char *key;
  struct item *hnext; /* hash chain */
  struct item *qnext; /* FIFO link */
  int dirty, processing;
  unsigned failures;
  size_t heap_idx;
  double due;        /* heap deadline */
  double added_at;   /* became waiting (queue latency) */
  double started_at; /* taken by a worker (work duration) */
} item;

struct kube_queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  item **buckets;
  size_t nbuckets, nitems;
  item *head, *tail; /* FIFO of waiting keys */
  size_t len, nprocessing;
  item **heap;
  size_t heap_len, heap_cap;
  int shutdown;
  kube_clock_fn clock;
  void *clock_ud;
  double base_delay, max_delay;
  kube_ratelimit bucket;
  char *name;
  kube_metric *m_depth, *m_adds, *m_retries, *m_latency, *m_work;
};

static double now_of(kube_queue *q) { return q->clock ? q->clock(q->clock_ud) : kube_now(); }

/* ---- hash table ---- */

static size_t hash_key(const char *s) {
  size_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static item *lookup(kube_queue *q, const char *key) {
  for (item *it = q->buckets[hash_key(key) & (q->nbuckets - 1)]; it; it = it->hnext)
    if (strcmp(it->key, key) == 0) return it;
  return NULL;
}

static void grow(kube_queue *q) {
  size_t n = q->nbuckets * 2;
  item **nb = calloc(n, sizeof(*nb));
  if (!nb) return; /* keep the old table: slower, still correct */
  for (size_t i = 0; i < q->nbuckets; i++) {
    for (item *it = q->buckets[i], *next; it; it = next) {
      next = it->hnext;
      size_t b = hash_key(it->key) & (n - 1);
      it->hnext = nb[b];
      nb[b] = it;
    }
  }
  free(q->buckets);
  q->buckets = nb;
  q->nbuckets = n;
}

static item *lookup_or_create(kube_queue *q, const char *key) {
  item *it = lookup(q, key);
  if (it) return it;
  it = calloc(1, sizeof(*it));
  if (!it) return NULL;
  it->key = strdup(key);
  if (!it->key) {
    free(it);
    return NULL;
  }
  it->heap_idx = NOT_IN_HEAP;
  if (q->nitems + 1 > q->nbuckets) grow(q);
  size_t b = hash_key(key) & (q->nbuckets - 1);
  it->hnext = q->buckets[b];
  q->buckets[b] = it;
  q->nitems++;
  return it;
}

/* Free the record when nothing refers to the key any more. */
static void maybe_release(kube_queue *q, item *it) {
  if (it->dirty || it->processing || it->heap_idx != NOT_IN_HEAP || it->failures) return;
  item **pp = &q->buckets[hash_key(it->key) & (q->nbuckets - 1)];
  while (*pp != it) pp = &(*pp)->hnext;
  *pp = it->hnext;
  q->nitems--;
  free(it->key);
  free(it);
}

/* ---- heap (min on due) ---- */

static void heap_swap(kube_queue *q, size_t a, size_t b) {
  item *t = q->heap[a];
  q->heap[a] = q->heap[b];
  q->heap[b] = t;
  q->heap[a]->heap_idx = a;
  q->heap[b]->heap_idx = b;
}

static void heap_up(kube_queue *q, size_t i) {
  while (i > 0 && q->heap[(i - 1) / 2]->due > q->heap[i]->due) {
    heap_swap(q, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(kube_queue *q, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < q->heap_len && q->heap[l]->due < q->heap[m]->due) m = l;
    if (r < q->heap_len && q->heap[r]->due < q->heap[m]->due) m = r;
    if (m == i) return;
    heap_swap(q, i, m);
    i = m;
  }
}

static mbcas_rc heap_push(kube_queue *q, item *it) {
  if (q->heap_len == q->heap_cap) {
    size_t cap = q->heap_cap ? q->heap_cap * 2 : 16;
    item **nh = realloc(q->heap, cap * sizeof(*nh));
    if (!nh) return MBCAS_ENOMEM;
    q->heap = nh;
    q->heap_cap = cap;
  }
  it->heap_idx = q->heap_len;
  q->heap[q->heap_len++] = it;
  heap_up(q, it->heap_idx);
  return MBCAS_OK;
}

static item *heap_pop(kube_queue *q) {
  item *top = q->heap[0];
  heap_swap(q, 0, q->heap_len - 1);
  q->heap_len--;
  top->heap_idx = NOT_IN_HEAP;
  if (q->heap_len) heap_down(q, 0);
  return top;
}

/* ---- core (called with mu held) ---- */

#define name_lv(q) ((const char *const[]){(q)->name})

static void set_depth(kube_queue *q) {
  if (q->m_depth) kube_metric_set(q->m_depth, name_lv(q), (double)q->len);
}

static void add_locked(kube_queue *q, item *it, double now) {
  if (it->dirty) return;
  if (q->m_adds) kube_metric_inc(q->m_adds, name_lv(q));
  it->dirty = 1;
  it->added_at = now;
  if (it->processing) return; /* re-queued by done */
  it->qnext = NULL;
  if (q->tail) q->tail->qnext = it;
  else q->head = it;
  q->tail = it;
  q->len++;
  set_depth(q);
  pthread_cond_signal(&q->cv);
}

static void promote_locked(kube_queue *q, double now) {
  while (q->heap_len && q->heap[0]->due <= now) {
    item *it = heap_pop(q);
    add_locked(q, it, now);
  }
}

static mbcas_rc add_after_locked(kube_queue *q, const char *key, double delay, double now) {
  if (q->shutdown) return MBCAS_EGONE;
  item *it = lookup_or_create(q, key);
  if (!it) return MBCAS_ENOMEM;
  if (delay <= 0) {
    add_locked(q, it, now);
    return MBCAS_OK;
  }
  if (it->dirty) return MBCAS_OK; /* runs sooner anyway */
  double due = now + delay;
  if (it->heap_idx != NOT_IN_HEAP) {
    if (due < it->due) {
      it->due = due;
      heap_up(q, it->heap_idx);
    }
    return MBCAS_OK;
  }
  it->due = due;
  mbcas_rc rc = heap_push(q, it);
  if (rc != MBCAS_OK) {
    maybe_release(q, it);
    return rc;
  }
  pthread_cond_broadcast(&q->cv); /* a waiter may need to wake earlier */
  return MBCAS_OK;
}

/* ---- API ---- */

mbcas_rc kube_queue_new(kube_queue **out, const kube_queue_opts *opts) {
  *out = NULL;
  kube_queue_opts o = {0};
  if (opts) o = *opts;
  kube_queue *q = calloc(1, sizeof(*q));
  if (!q) return MBCAS_ENOMEM;
  q->nbuckets = 64;
  q->buckets = calloc(q->nbuckets, sizeof(*q->buckets));
  q->name = strdup(o.name ? o.name : "default");
  if (!q->buckets || !q->name) {
    free(q->buckets);
    free(q->name);
    free(q);
    return MBCAS_ENOMEM;
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cv, &ca);
  pthread_condattr_destroy(&ca);
  q->clock = o.clock;
  q->clock_ud = o.clock_ud;
  q->base_delay = o.base_delay > 0 ? o.base_delay : 0.005;
  q->max_delay = o.max_delay > 0 ? o.max_delay : 1000.0;
  kube_ratelimit_init(&q->bucket, o.qps == 0 ? 10.0 : o.qps, o.burst > 0 ? o.burst : 100);
  if (o.metrics) {
    /* controller-runtime's names and buckets (1e-8 s .. 1e3 s). */
    static const double b[] = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3,
                               1e-2, 1e-1, 1,    10,   100,  1000};
    mbcas_rc rc = kube_metrics_gauge(o.metrics, &q->m_depth, "workqueue_depth",
                                     "Current depth of workqueue", "name");
    if (rc == MBCAS_OK)
      rc = kube_metrics_counter(o.metrics, &q->m_adds, "workqueue_adds_total",
                                "Total number of adds handled by workqueue", "name");
    if (rc == MBCAS_OK)
      rc = kube_metrics_counter(o.metrics, &q->m_retries, "workqueue_retries_total",
                                "Total number of retries handled by workqueue", "name");
    if (rc == MBCAS_OK)
      rc = kube_metrics_histogram(o.metrics, &q->m_latency, "workqueue_queue_duration_seconds",
                                  "How long in seconds an item stays in workqueue before being requested",
                                  "name", b, sizeof(b) / sizeof(b[0]));
    if (rc == MBCAS_OK)
      rc = kube_metrics_histogram(o.metrics, &q->m_work, "workqueue_work_duration_seconds",
                                  "How long in seconds processing an item from workqueue takes",
                                  "name", b, sizeof(b) / sizeof(b[0]));
    if (rc != MBCAS_OK) {
      kube_queue_free(q);
      return rc;
    }
    set_depth(q);
  }
  *out = q;
  return MBCAS_OK;
}

void kube_queue_free(kube_queue *q) {
  if (!q) return;
  for (size_t i = 0; i < q->nbuckets; i++) {
    for (item *it = q->buckets[i], *n; it; it = n) {
      n = it->hnext;
      free(it->key);
      free(it);
    }
  }
  free(q->buckets);
  free(q->heap);
  free(q->name);
  kube_ratelimit_destroy(&q->bucket);
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

mbcas_rc kube_queue_add(kube_queue *q, const char *key) {
  return kube_queue_add_after(q, key, 0);
}

mbcas_rc kube_queue_add_after(kube_queue *q, const char *key, double delay) {
  if (!q || !key || !*key) return MBCAS_EINVAL;
  double now = now_of(q);
  pthread_mutex_lock(&q->mu);
  mbcas_rc rc = add_after_locked(q, key, delay, now);
  pthread_mutex_unlock(&q->mu);
  return rc;
}

mbcas_rc kube_queue_add_rate_limited(kube_queue *q, const char *key, double *delay_out) {
  if (delay_out) *delay_out = 0;
  if (!q || !key || !*key) return MBCAS_EINVAL;
  double now = now_of(q);
  pthread_mutex_lock(&q->mu);
  if (q->shutdown) {
    pthread_mutex_unlock(&q->mu);
    return MBCAS_EGONE;
  }
  item *it = lookup_or_create(q, key);
  if (!it) {
    pthread_mutex_unlock(&q->mu);
    return MBCAS_ENOMEM;
  }
  double per_key = kube_backoff_delay(q->base_delay, 2.0, it->failures, q->max_delay);
  double overall = kube_ratelimit_reserve(&q->bucket, now);
  double delay = per_key > overall ? per_key : overall;
  it->failures++;
  if (q->m_retries) kube_metric_inc(q->m_retries, name_lv(q));
  mbcas_rc rc = add_after_locked(q, key, delay, now);
  pthread_mutex_unlock(&q->mu);
  if (delay_out) *delay_out = delay;
  return rc;
}

void kube_queue_forget(kube_queue *q, const char *key) {
  if (!q || !key) return;
  pthread_mutex_lock(&q->mu);
  item *it = lookup(q, key);
  if (it) {
    it->failures = 0;
    maybe_release(q, it);
  }
  pthread_mutex_unlock(&q->mu);
}

unsigned kube_queue_num_requeues(kube_queue *q, const char *key) {
  if (!q || !key) return 0;
  pthread_mutex_lock(&q->mu);
  item *it = lookup(q, key);
  unsigned n = it ? it->failures : 0;
  pthread_mutex_unlock(&q->mu);
  return n;
}

static void mono_deadline(struct timespec *ts, double seconds) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  if (seconds > 1e6) seconds = 1e6;
  long long ns = (long long)(seconds * 1e9) + ts->tv_nsec;
  ts->tv_sec += (time_t)(ns / 1000000000LL);
  ts->tv_nsec = (long)(ns % 1000000000LL);
}

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

mbcas_rc kube_queue_get(kube_queue *q, const char **key, int timeout_ms) {
  *key = NULL;
  if (!q) return MBCAS_EINVAL;
  double give_up = timeout_ms >= 0 ? mono_now() + timeout_ms / 1000.0 : 0;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    double now = now_of(q);
    promote_locked(q, now);
    if (q->shutdown) {
      pthread_mutex_unlock(&q->mu);
      return MBCAS_EGONE;
    }
    if (q->head) {
      item *it = q->head;
      q->head = it->qnext;
      if (!q->head) q->tail = NULL;
      it->qnext = NULL;
      q->len--;
      it->dirty = 0;
      it->processing = 1;
      it->started_at = now;
      q->nprocessing++;
      set_depth(q);
      if (q->m_latency) kube_metric_observe(q->m_latency, name_lv(q), now - it->added_at);
      *key = it->key;
      pthread_mutex_unlock(&q->mu);
      return MBCAS_OK;
    }
    /* Sleep until the next delayed key is due, the deadline, or a signal. */
    double wait = -1;
    if (timeout_ms >= 0) {
      wait = give_up - mono_now();
      if (wait <= 0) break;
    }
    if (q->heap_len) {
      double due = q->heap[0]->due - now;
      if (due < 0.001) due = 0.001;
      if (wait < 0 || due < wait) wait = due;
    }
    if (wait < 0) {
      pthread_cond_wait(&q->cv, &q->mu);
    } else {
      struct timespec ts;
      mono_deadline(&ts, wait);
      int e = pthread_cond_timedwait(&q->cv, &q->mu, &ts);
      (void)e; /* loop re-checks everything, ETIMEDOUT or not */
    }
  }
  pthread_mutex_unlock(&q->mu);
  return MBCAS_ETIMEOUT;
}

void kube_queue_done(kube_queue *q, const char *key) {
  if (!q || !key) return;
  double now = now_of(q);
  pthread_mutex_lock(&q->mu);
  item *it = lookup(q, key);
  if (it && it->processing) {
    it->processing = 0;
    q->nprocessing--;
    if (q->m_work) kube_metric_observe(q->m_work, name_lv(q), now - it->started_at);
    if (it->dirty && !q->shutdown) {
      it->qnext = NULL;
      if (q->tail) q->tail->qnext = it;
      else q->head = it;
      q->tail = it;
      q->len++;
      set_depth(q);
      pthread_cond_signal(&q->cv);
    } else {
      it->dirty = 0;
      maybe_release(q, it);
    }
  }
  pthread_mutex_unlock(&q->mu);
}

size_t kube_queue_len(kube_queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->len;
  pthread_mutex_unlock(&q->mu);
  return n;
}

size_t kube_queue_delayed_len(kube_queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->heap_len;
  pthread_mutex_unlock(&q->mu);
  return n;
}

size_t kube_queue_processing_len(kube_queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->nprocessing;
  pthread_mutex_unlock(&q->mu);
  return n;
}

void kube_queue_tick(kube_queue *q) {
  double now = now_of(q);
  pthread_mutex_lock(&q->mu);
  promote_locked(q, now);
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

void kube_queue_shutdown(kube_queue *q) {
  if (!q) return;
  pthread_mutex_lock(&q->mu);
  q->shutdown = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

int kube_queue_is_shutdown(kube_queue *q) {
  pthread_mutex_lock(&q->mu);
  int s = q->shutdown;
  pthread_mutex_unlock(&q->mu);
  return s;
}
