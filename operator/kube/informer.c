/* informer.c - watcher + cache + handlers + thread. See informer.h. */
#include "informer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MAX_HANDLERS 8

struct kube_informer {
  kube_watcher *w;
  kube_cache *cache;
  kube_cache *staging; /* fills during a relist */
  kube_informer_opts o;
  char name[64];
  kube_informer_handlers h[MAX_HANDLERS];
  int nh;
  pthread_t thr;
  int running;
  atomic_int stop;
  atomic_int synced;
  atomic_ulong errors;
  kube_backoff bo;
  double next_resync;
  /* watch counters (opts.metrics), NULL without a registry */
  kube_metric *m_restarts, *m_relists, *m_errors;
  unsigned long seen_watches, seen_relists; /* watcher counters already published */
};

static mbcas_rc metrics_init(kube_informer *inf) {
  kube_metrics *r = inf->o.metrics;
  if (!r) return MBCAS_OK;
  mbcas_rc rc = kube_metrics_counter(r, &inf->m_restarts, "mbcas_watch_restarts_total",
                                     "Watch streams opened again after the first, per resource.",
                                     "resource");
  if (rc == MBCAS_OK)
    rc = kube_metrics_counter(r, &inf->m_relists, "mbcas_watch_relists_total",
                              "Full LISTs started again after the first, per resource.", "resource");
  if (rc == MBCAS_OK)
    rc = kube_metrics_counter(r, &inf->m_errors, "mbcas_watch_errors_total",
                              "Watch and list errors (each one backed off), per resource.",
                              "resource");
  if (rc != MBCAS_OK) {
    inf->m_restarts = inf->m_relists = inf->m_errors = NULL;
    return rc;
  }
  const char *lv[] = {inf->name};
  /* the series exist from the start, so rate() sees the first increment */
  kube_metric_add(inf->m_restarts, lv, 0);
  kube_metric_add(inf->m_relists, lv, 0);
  kube_metric_add(inf->m_errors, lv, 0);
  return MBCAS_OK;
}

/* Publish what the watcher counted since the last step: the first watch and the
 * first list are not restarts. */
static void metrics_publish(kube_informer *inf) {
  if (!inf->m_restarts) return;
  const char *lv[] = {inf->name};
  unsigned long w = kube_watcher_watches(inf->w), l = kube_watcher_relists(inf->w);
  unsigned long wr = w > 0 ? w - 1 : 0, sr = inf->seen_watches > 0 ? inf->seen_watches - 1 : 0;
  if (wr > sr) kube_metric_add(inf->m_restarts, lv, (double)(wr - sr));
  unsigned long lr = l > 0 ? l - 1 : 0, slr = inf->seen_relists > 0 ? inf->seen_relists - 1 : 0;
  if (lr > slr) kube_metric_add(inf->m_relists, lv, (double)(lr - slr));
  inf->seen_watches = w;
  inf->seen_relists = l;
}

static mbcas_rc inf_init(kube_informer **out, kube_watch_transport *t, const kube_informer_opts *opts) {
  *out = NULL;
  kube_informer *inf = calloc(1, sizeof *inf);
  if (!inf) {
    if (t->free) t->free(t->ud);
    return MBCAS_ENOMEM;
  }
  if (opts) inf->o = *opts;
  snprintf(inf->name, sizeof inf->name, "%s", inf->o.name ? inf->o.name : "informer");
  inf->o.name = inf->name;
  mbcas_rc rc = kube_watcher_new(&inf->w, t, &inf->o.watch);
  if (rc == MBCAS_OK) rc = kube_cache_new(&inf->cache, inf->o.kind);
  if (rc) {
    kube_informer_free(inf);
    return rc;
  }
  rc = metrics_init(inf);
  if (rc) {
    kube_informer_free(inf);
    return rc;
  }
  /* the watcher copied the selectors; our copy of opts must not keep caller pointers */
  inf->o.watch.label_selector = inf->o.watch.field_selector = NULL;
  kube_backoff_init(&inf->bo, inf->o.backoff_initial > 0 ? inf->o.backoff_initial : 0.8,
                    inf->o.backoff_max > 0 ? inf->o.backoff_max : 30.0, 2.0, 1.0, 120.0);
  *out = inf;
  return MBCAS_OK;
}

mbcas_rc kube_informer_new_transport(kube_informer **out, kube_watch_transport *t,
                                     const kube_informer_opts *opts) {
  return inf_init(out, t, opts);
}

mbcas_rc kube_informer_new(kube_informer **out, kube_client *c, const kube_ref *ref,
                           const kube_informer_opts *opts) {
  *out = NULL;
  kube_watch_transport t;
  mbcas_rc rc = kube_watch_transport_rest(&t, c, ref);
  if (rc) return rc;
  return inf_init(out, &t, opts);
}

void kube_informer_free(kube_informer *inf) {
  if (!inf) return;
  kube_informer_stop(inf);
  kube_watcher_free(inf->w);
  kube_cache_free(inf->cache);
  kube_cache_free(inf->staging);
  free(inf);
}

mbcas_rc kube_informer_add_handlers(kube_informer *inf, const kube_informer_handlers *h) {
  if (!h || inf->nh >= MAX_HANDLERS || inf->running) return MBCAS_EINVAL;
  inf->h[inf->nh++] = *h;
  return MBCAS_OK;
}

kube_cache *kube_informer_cache(kube_informer *inf) { return inf->cache; }
kube_watcher *kube_informer_watcher(kube_informer *inf) { return inf->w; }
int kube_informer_synced(kube_informer *inf) { return atomic_load(&inf->synced); }
unsigned long kube_informer_errors(kube_informer *inf) { return atomic_load(&inf->errors); }

static void diff_cb(void *ud, const void *old_item, const void *new_item) {
  kube_informer *inf = ud;
  for (int i = 0; i < inf->nh; i++) {
    const kube_informer_handlers *h = &inf->h[i];
    if (!old_item && h->on_add) h->on_add(h->ud, new_item);
    else if (old_item && new_item && h->on_update) h->on_update(h->ud, old_item, new_item);
    else if (!new_item && h->on_delete) h->on_delete(h->ud, old_item);
  }
}

static char *obj_key(const cJSON *obj, char *buf, size_t len) {
  return kube_cache_key(obj, buf, len) == 0 ? buf : NULL;
}

mbcas_rc kube_informer_step(kube_informer *inf, kube_watch_event_type *type, mbcas_rc *rc_out) {
  kube_watch_event ev;
  mbcas_rc rc = kube_watcher_step(inf->w, &ev);
  metrics_publish(inf);
  if (type) *type = ev.type;
  if (rc_out) *rc_out = MBCAS_OK;
  if (rc) return rc;
  switch (ev.type) {
  case KUBE_WE_NONE:
    break;
  case KUBE_WE_INIT:
    kube_cache_free(inf->staging);
    inf->staging = NULL;
    rc = kube_cache_clone_empty(&inf->staging, inf->cache);
    break;
  case KUBE_WE_INIT_APPLY:
    if (inf->staging) {
      rc = kube_cache_upsert(inf->staging, ev.object, NULL, NULL);
      ev.object = NULL;
      if (rc == MBCAS_EINVAL) rc = MBCAS_OK; /* an object without a name: skip */
    }
    break;
  case KUBE_WE_INIT_DONE:
    if (inf->staging) {
      rc = kube_cache_replace(inf->cache, inf->staging, inf->nh ? diff_cb : NULL, inf);
      inf->staging = NULL;
      if (rc == MBCAS_OK) atomic_store(&inf->synced, 1);
      LOG_DEBUG("informer synced", "informer=%s objects=%zu rv=%s", inf->name,
                kube_cache_len(inf->cache), kube_watcher_rv(inf->w));
    }
    break;
  case KUBE_WE_APPLY: {
    void *old = NULL;
    const void *nw = NULL;
    rc = kube_cache_upsert(inf->cache, ev.object, &old, &nw);
    ev.object = NULL;
    if (rc == MBCAS_OK && nw) diff_cb(inf, old, nw);
    kube_cache_item_free(inf->cache, old);
    if (rc == MBCAS_EINVAL) rc = MBCAS_OK;
    break;
  }
  case KUBE_WE_DELETE: {
    char key[512];
    void *old = NULL;
    if (obj_key(ev.object, key, sizeof key) &&
        kube_cache_delete(inf->cache, key, &old) == MBCAS_OK) {
      diff_cb(inf, old, NULL);
      kube_cache_item_free(inf->cache, old);
    }
    break;
  }
  case KUBE_WE_ERROR:
    atomic_fetch_add(&inf->errors, 1);
    if (inf->m_errors) kube_metric_inc(inf->m_errors, (const char *const[]){inf->name});
    if (rc_out) *rc_out = ev.rc;
    if (ev.rc == MBCAS_EGONE) {
      kube_cache_free(inf->staging);
      inf->staging = NULL;
    }
    LOG_INFO("watch error", "informer=%s rc=%s code=%d reason=%s", inf->name, mbcas_strerror(ev.rc),
             ev.st.code, ev.st.reason[0] ? ev.st.reason : "-");
    break;
  }
  kube_watch_event_clear(&ev);
  return rc;
}

typedef struct keyset {
  char **k;
  size_t n, cap;
  int oom;
} keyset;

static int collect_key(void *ud, const char *key, const void *item) {
  (void)item;
  keyset *ks = ud;
  if (ks->n == ks->cap) {
    size_t nc = ks->cap ? ks->cap * 2 : 64;
    char **nk = realloc(ks->k, nc * sizeof *nk);
    if (!nk) {
      ks->oom = 1;
      return 1;
    }
    ks->k = nk;
    ks->cap = nc;
  }
  if (!(ks->k[ks->n] = strdup(key))) {
    ks->oom = 1;
    return 1;
  }
  ks->n++;
  return 0;
}

static void resync_item(kube_informer *inf, const void *item) {
  for (int i = 0; i < inf->nh; i++)
    if (inf->h[i].on_update) inf->h[i].on_update(inf->h[i].ud, item, item);
}

void kube_informer_resync(kube_informer *inf) {
  int any = 0;
  for (int i = 0; i < inf->nh; i++) any |= inf->h[i].on_update != NULL;
  if (!any) return;
  /* snapshot the keys under the read lock, then hand out copies outside it:
   * handlers never run while we hold a cache lock */
  keyset ks = {0};
  kube_cache_foreach(inf->cache, collect_key, &ks);
  if (ks.oom) LOG_WARN("informer resync: out of memory", "informer=%s keys=%zu", inf->name, ks.n);
  int pods = kube_cache_get_kind(inf->cache) == KUBE_CACHE_POD;
  for (size_t i = 0; i < ks.n; i++) {
    if (pods) {
      kube_pod *p = NULL;
      if (kube_cache_get_pod(inf->cache, &p, ks.k[i]) == MBCAS_OK) resync_item(inf, p);
      free(p);
    } else {
      cJSON *j = NULL;
      if (kube_cache_get_json(inf->cache, &j, ks.k[i]) == MBCAS_OK) resync_item(inf, j);
      cJSON_Delete(j);
    }
    free(ks.k[i]);
  }
  free(ks.k);
}

static void *run(void *arg) {
  kube_informer *inf = arg;
  inf->next_resync = inf->o.resync_seconds > 0 ? kube_now() + inf->o.resync_seconds : 0;
  while (!atomic_load(&inf->stop)) {
    kube_watch_event_type t;
    mbcas_rc erc = MBCAS_OK;
    mbcas_rc rc = kube_informer_step(inf, &t, &erc);
    if (rc == MBCAS_ENOMEM || t == KUBE_WE_ERROR) {
      double d = kube_backoff_next(&inf->bo, kube_now());
      /* a 410 is routine: relist at once, without backoff */
      if (t == KUBE_WE_ERROR && erc == MBCAS_EGONE) d = 0;
      double until = kube_now() + d;
      while (!atomic_load(&inf->stop) && kube_now() < until) kube_sleep(0.05);
    }
    if (inf->next_resync > 0 && kube_now() >= inf->next_resync && kube_informer_synced(inf)) {
      kube_informer_resync(inf);
      inf->next_resync = kube_now() + inf->o.resync_seconds;
    }
  }
  return NULL;
}

mbcas_rc kube_informer_start(kube_informer *inf) {
  if (inf->running) return MBCAS_EINVAL;
  atomic_store(&inf->stop, 0);
  if (pthread_create(&inf->thr, NULL, run, inf) != 0) return MBCAS_ERR;
  inf->running = 1;
  return MBCAS_OK;
}

void kube_informer_stop(kube_informer *inf) {
  if (!inf || !inf->running) return;
  atomic_store(&inf->stop, 1);
  pthread_join(inf->thr, NULL);
  inf->running = 0;
}

mbcas_rc kube_informer_wait_synced(kube_informer *inf, double timeout_s) {
  double until = kube_now() + timeout_s;
  while (!kube_informer_synced(inf)) {
    if (kube_now() >= until) return MBCAS_ETIMEOUT;
    kube_sleep(0.01);
  }
  return MBCAS_OK;
}
