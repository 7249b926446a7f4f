/* source.c - watches into caches, and snapshots of them; see source.h. */
#include "source.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "cache.h"
#include "log.h"
#include "recutil.h"
#include "watch.h"

typedef struct src_res {
  struct rec_source *owner;
  rec_src_kind kind;
  const char *group, *version, *resource;
  int namespaced, optional;
  kube_cache *cache;
  kube_cache *fresh;      /* being filled during a relist */
  kube_watcher *w;
  pthread_t thread;
  int started;
  atomic_int synced;
  atomic_int unavailable; /* 404/403: served as empty (or unknown) */
  const void **items;     /* snapshot array (cJSON, or kube_pod for pods) */
  size_t n_items, cap_items;
} src_res;

struct rec_source {
  kube_client *kc;
  char *ns;
  rec_source_change_fn on_change;
  void *ud;
  atomic_int stop;
  atomic_ulong errors;
  src_res res[REC_SRC_COUNT];
  const cJSON **workloads; /* snapshot array of deployments + statefulsets */
  size_t n_workloads, cap_workloads;
};

static const struct {
  const char *group, *version, *resource;
  int namespaced, optional;
} kinds[REC_SRC_COUNT] = {
    [REC_SRC_MARKETS] = {"mbcas.io", "v1alpha1", "scalingmarkets", 0, 0},
    [REC_SRC_BUDGETS] = {"mbcas.io", "v1alpha1", "servicebudgets", 1, 0},
    [REC_SRC_POLICIES] = {"mbcas.io", "v1alpha1", "agentpolicies", 1, 0},
    [REC_SRC_PODS] = {"", "v1", "pods", 1, 0},
    [REC_SRC_NODES] = {"", "v1", "nodes", 0, 0},
    [REC_SRC_HPAS] = {"autoscaling", "v2", "horizontalpodautoscalers", 1, 1},
    [REC_SRC_VPAS] = {"autoscaling.k8s.io", "v1", "verticalpodautoscalers", 1, 1},
    [REC_SRC_NAMESPACES] = {"", "v1", "namespaces", 0, 1},
    [REC_SRC_DEPLOYMENTS] = {"apps", "v1", "deployments", 1, 1},
    [REC_SRC_STATEFULSETS] = {"apps", "v1", "statefulsets", 1, 1},
};

static int64_t gen_of(const void *item) {
  return (int64_t)ru_num((const cJSON *)item, "metadata.generation", 0);
}

static void notify(src_res *r, const void *old_item, const void *new_item) {
  rec_source *s = r->owner;
  if (!s->on_change) return;
  if (r->kind == REC_SRC_PODS || r->kind == REC_SRC_NODES || r->kind == REC_SRC_NAMESPACES ||
      r->kind == REC_SRC_DEPLOYMENTS || r->kind == REC_SRC_STATEFULSETS)
    return;
  if (old_item && new_item && gen_of(old_item) == gen_of(new_item)) return; /* status only */
  s->on_change(s->ud, r->kind);
}

static void on_diff(void *ud, const void *old_item, const void *new_item) {
  notify(ud, old_item, new_item);
}

static void sleep_s(rec_source *s, double secs) {
  while (secs > 0 && !atomic_load(&s->stop)) {
    double d = secs > 0.2 ? 0.2 : secs;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
    secs -= d;
  }
}

static void *watch_thread(void *arg) {
  src_res *r = arg;
  rec_source *s = r->owner;
  kube_backoff bo;
  kube_backoff_init_default(&bo);
  while (!atomic_load(&s->stop)) {
    kube_watch_event ev;
    memset(&ev, 0, sizeof ev);
    if (kube_watcher_step(r->w, &ev) != MBCAS_OK) {
      sleep_s(s, 1);
      continue;
    }
    switch (ev.type) {
    case KUBE_WE_INIT:
      if (r->fresh) kube_cache_free(r->fresh);
      r->fresh = NULL;
      kube_cache_clone_empty(&r->fresh, r->cache);
      break;
    case KUBE_WE_INIT_APPLY:
    case KUBE_WE_APPLY: {
      cJSON *obj = ev.object; /* the pod cache slims it into a kube_pod */
      ev.object = NULL;
      if (!obj) break;
      if (r->kind == REC_SRC_BUDGETS) rec_budget_compact(obj); /* status as text */
      if (ev.type == KUBE_WE_INIT_APPLY) {
        if (r->fresh) kube_cache_upsert(r->fresh, obj, NULL, NULL);
        else cJSON_Delete(obj);
      } else {
        void *old = NULL;
        const void *nw = NULL;
        if (kube_cache_upsert(r->cache, obj, &old, &nw) == MBCAS_OK) {
          notify(r, old, nw);
          if (old) kube_cache_item_free(r->cache, old);
        }
      }
      break;
    }
    case KUBE_WE_INIT_DONE:
      if (r->fresh) {
        kube_cache_replace(r->cache, r->fresh, on_diff, r);
        r->fresh = NULL;
      }
      atomic_store(&r->synced, 1);
      atomic_store(&r->unavailable, 0);
      kube_backoff_reset(&bo);
      break;
    case KUBE_WE_DELETE: {
      char key[600];
      if (ev.object && kube_cache_key(ev.object, key, sizeof key) == 0) {
        void *old = NULL;
        if (kube_cache_delete(r->cache, key, &old) == MBCAS_OK) {
          notify(r, old, NULL);
          kube_cache_item_free(r->cache, old);
        }
      }
      break;
    }
    case KUBE_WE_ERROR: {
      atomic_fetch_add(&s->errors, 1);
      int code = ev.st.code;
      if (r->optional && (code == 404 || code == 403)) {
        /* Not served or not allowed: empty (namespaces: unknown); look again later. */
        if (!atomic_exchange(&r->unavailable, 1))
          LOG_INFO("resource not available", "resource=%s code=%d", r->resource, code);
        atomic_store(&r->synced, 1);
        sleep_s(s, 30);
      } else if (ev.rc != MBCAS_EGONE) {
        LOG_WARN("watch error", "resource=%s code=%d err=%s", r->resource, code, mbcas_strerror(ev.rc));
        sleep_s(s, kube_backoff_next(&bo, kube_now()));
      }
      break;
    }
    default:
      break;
    }
    kube_watch_event_clear(&ev);
  }
  return NULL;
}

mbcas_rc rec_source_new(rec_source **out, kube_client *kc, const char *ns,
                        rec_source_change_fn on_change, void *ud) {
  rec_source *s = calloc(1, sizeof *s);
  if (!s) return MBCAS_ENOMEM;
  s->kc = kc;
  s->ns = ns && *ns ? strdup(ns) : NULL;
  s->on_change = on_change;
  s->ud = ud;
  for (int k = 0; k < REC_SRC_COUNT; k++) {
    src_res *r = &s->res[k];
    r->owner = s;
    r->kind = (rec_src_kind)k;
    r->group = kinds[k].group;
    r->version = kinds[k].version;
    r->resource = kinds[k].resource;
    r->namespaced = kinds[k].namespaced;
    r->optional = kinds[k].optional;
    if (kube_cache_new(&r->cache, k == REC_SRC_PODS ? KUBE_CACHE_POD : KUBE_CACHE_JSON) != MBCAS_OK)
      goto fail;
    kube_ref ref = {r->group, r->version, r->resource, r->namespaced ? s->ns : NULL, NULL, NULL};
    kube_watch_transport t;
    if (kube_watch_transport_rest(&t, kc, &ref) != MBCAS_OK) goto fail;
    kube_watcher_opts wo;
    memset(&wo, 0, sizeof wo);
    wo.read_timeout_ms = 200;
    if (kube_watcher_new(&r->w, &t, &wo) != MBCAS_OK) goto fail;
  }
  *out = s;
  return MBCAS_OK;
fail:
  rec_source_free(s);
  return MBCAS_ENOMEM;
}

mbcas_rc rec_source_start(rec_source *s) {
  for (int k = 0; k < REC_SRC_COUNT; k++) {
    if (pthread_create(&s->res[k].thread, NULL, watch_thread, &s->res[k]) != 0) return MBCAS_ERR;
    s->res[k].started = 1;
  }
  return MBCAS_OK;
}

int rec_source_synced(rec_source *s) {
  /* Optional kinds too: an HPA or VPA not yet listed would let a first clearing write to
   * a target it controls. One the server does not serve or RBAC refuses counts as
   * synced (empty) once that answer came (watch_thread). */
  for (int k = 0; k < REC_SRC_COUNT; k++)
    if (!atomic_load(&s->res[k].synced)) return 0;
  return 1;
}

unsigned long rec_source_errors(rec_source *s) { return atomic_load(&s->errors); }

static int collect(void *ud, const char *key, const void *item) {
  (void)key;
  src_res *r = ud;
  if (r->n_items == r->cap_items) {
    size_t nc = r->cap_items ? r->cap_items * 2 : 64;
    const void **ni = realloc(r->items, nc * sizeof *ni);
    if (!ni) return 1;
    r->items = ni;
    r->cap_items = nc;
  }
  r->items[r->n_items++] = item;
  return 0;
}

mbcas_rc rec_source_snapshot(rec_source *s, rec_snapshot *snap) {
  memset(snap, 0, sizeof *snap);
  for (int k = 0; k < REC_SRC_COUNT; k++) {
    src_res *r = &s->res[k];
    kube_cache_rdlock(r->cache);
    r->n_items = 0;
    kube_cache_foreach(r->cache, collect, r);
  }
#define SET(field, nfield, kind)                                          \
  snap->field = (const cJSON *const *)s->res[kind].items;                 \
  snap->nfield = s->res[kind].n_items;
  SET(markets, n_markets, REC_SRC_MARKETS)
  SET(budgets, n_budgets, REC_SRC_BUDGETS)
  SET(policies, n_policies, REC_SRC_POLICIES)
  SET(nodes, n_nodes, REC_SRC_NODES)
  SET(hpas, n_hpas, REC_SRC_HPAS)
  SET(vpas, n_vpas, REC_SRC_VPAS)
#undef SET
  snap->pods = (const kube_pod *const *)s->res[REC_SRC_PODS].items;
  snap->n_pods = s->res[REC_SRC_PODS].n_items;
  /* Deployments and StatefulSets side by side in one array. */
  src_res *d = &s->res[REC_SRC_DEPLOYMENTS], *ss = &s->res[REC_SRC_STATEFULSETS];
  s->n_workloads = 0;
  size_t need = d->n_items + ss->n_items;
  if (need > s->cap_workloads) {
    const cJSON **nw = realloc(s->workloads, need * sizeof *nw);
    if (nw) {
      s->workloads = nw;
      s->cap_workloads = need;
    }
  }
  if (need <= s->cap_workloads) {
    for (size_t i = 0; i < d->n_items; i++) s->workloads[s->n_workloads++] = d->items[i];
    for (size_t i = 0; i < ss->n_items; i++) s->workloads[s->n_workloads++] = ss->items[i];
  }
  snap->workloads = (const cJSON *const *)s->workloads;
  snap->n_workloads = s->n_workloads;
  src_res *nsr = &s->res[REC_SRC_NAMESPACES];
  snap->namespaces = (const cJSON *const *)nsr->items;
  snap->n_namespaces = (atomic_load(&nsr->unavailable) || !atomic_load(&nsr->synced))
                           ? -1 : (long)nsr->n_items;
  return MBCAS_OK;
}

void rec_source_release(rec_source *s, rec_snapshot *snap) {
  for (int k = 0; k < REC_SRC_COUNT; k++) kube_cache_unlock(s->res[k].cache);
  memset(snap, 0, sizeof *snap);
}

void rec_source_free(rec_source *s) {
  if (!s) return;
  atomic_store(&s->stop, 1);
  for (int k = 0; k < REC_SRC_COUNT; k++)
    if (s->res[k].started) pthread_join(s->res[k].thread, NULL);
  for (int k = 0; k < REC_SRC_COUNT; k++) {
    kube_watcher_free(s->res[k].w);
    kube_cache_free(s->res[k].fresh);
    kube_cache_free(s->res[k].cache);
    free(s->res[k].items);
  }
  free(s->workloads);
  free(s->ns);
  free(s);
}
