/* cache.c - indexed object store and the compact pod record. See cache.h. */
#include "cache.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- quantities ---------- */

static int parse_qty(const char *s, double *out) {
  if (!s || !*s) return -1;
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || !isfinite(v)) return -1;
  /* strtod accepts "1e3"; an exponent suffix like "1E" is handled below */
  double mul = 1;
  const char *u = end;
  if (!*u) mul = 1;
  else if (!strcmp(u, "m")) mul = 1e-3;
  else if (!strcmp(u, "n")) mul = 1e-9;
  else if (!strcmp(u, "u")) mul = 1e-6;
  else if (!strcmp(u, "k")) mul = 1e3;
  else if (!strcmp(u, "M")) mul = 1e6;
  else if (!strcmp(u, "G")) mul = 1e9;
  else if (!strcmp(u, "T")) mul = 1e12;
  else if (!strcmp(u, "P")) mul = 1e15;
  else if (!strcmp(u, "E")) mul = 1e18;
  else if (!strcmp(u, "Ki")) mul = 1024.0;
  else if (!strcmp(u, "Mi")) mul = 1048576.0;
  else if (!strcmp(u, "Gi")) mul = 1073741824.0;
  else if (!strcmp(u, "Ti")) mul = 1099511627776.0;
  else if (!strcmp(u, "Pi")) mul = 1125899906842624.0;
  else if (!strcmp(u, "Ei")) mul = 1152921504606846976.0;
  else return -1;
  *out = v * mul;
  return 0;
}

int kube_qty_milli(const char *s, int64_t *out) {
  double v;
  if (parse_qty(s, &v) || v * 1000 > 9e18 || v * 1000 < -9e18) return -1;
  *out = (int64_t)ceil(v * 1000 - 1e-9);
  return 0;
}

int kube_qty_bytes(const char *s, int64_t *out) {
  double v;
  if (parse_qty(s, &v) || v > 9e18 || v < -9e18) return -1;
  *out = (int64_t)ceil(v - 1e-9);
  return 0;
}

/* ---------- pod record ---------- */

typedef struct builder {
  char *base; /* NULL while measuring */
  size_t off;
} builder;

static const char *b_str(builder *b, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  const char *r = NULL;
  if (b->base) {
    memcpy(b->base + b->off, s, n);
    r = b->base + b->off;
  }
  b->off += n;
  return r;
}

static void *b_alloc(builder *b, size_t n) {
  b->off = (b->off + 7) & ~(size_t)7;
  void *r = b->base ? b->base + b->off : NULL;
  b->off += n;
  return r;
}

static const char *js(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}
static const cJSON *jo(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int64_t q_milli(const cJSON *res, const char *which, const char *name) {
  int64_t v;
  const char *s = js(jo(res, which), name);
  return s && !kube_qty_milli(s, &v) ? v : KUBE_QTY_UNSET;
}
static int64_t q_bytes(const cJSON *res, const char *which, const char *name) {
  int64_t v;
  const char *s = js(jo(res, which), name);
  return s && !kube_qty_bytes(s, &v) ? v : KUBE_QTY_UNSET;
}

static const cJSON *controller_ref(const cJSON *md) {
  const cJSON *r, *first = NULL;
  cJSON_ArrayForEach(r, jo(md, "ownerReferences")) {
    if (!first) first = r;
    if (cJSON_IsTrue(jo(r, "controller"))) return r;
  }
  return first;
}

/* Fill (or measure, when b->base is NULL) a pod record. */
static void build_pod(builder *b, const cJSON *pod, char *wlbuf, size_t wlsz) {
  const cJSON *md = jo(pod, "metadata"), *spec = jo(pod, "spec"), *status = jo(pod, "status");
  kube_pod *p = b_alloc(b, sizeof(kube_pod));
  kube_pod tmp;
  if (!p) p = &tmp; /* measuring: write into a scratch record */
  memset(p, 0, sizeof *p);
  p->ns = b_str(b, js(md, "namespace") ? js(md, "namespace") : "");
  p->name = b_str(b, js(md, "name"));
  p->uid = b_str(b, js(md, "uid") ? js(md, "uid") : "");
  p->rv = b_str(b, js(md, "resourceVersion") ? js(md, "resourceVersion") : "");
  p->node = b_str(b, js(spec, "nodeName") ? js(spec, "nodeName") : "");
  p->phase = b_str(b, js(status, "phase") ? js(status, "phase") : "");
  p->deletion_timestamp = b_str(b, js(md, "deletionTimestamp"));
  const cJSON *g = jo(md, "generation");
  p->generation = cJSON_IsNumber(g) ? (int64_t)g->valuedouble : 0;
  g = jo(status, "observedGeneration");
  p->observed_generation = cJSON_IsNumber(g) ? (int64_t)g->valuedouble : 0;
  const cJSON *own = controller_ref(md);
  const char *ok = js(own, "kind"), *on = js(own, "name");
  p->owner_kind = b_str(b, ok);
  p->owner_name = b_str(b, on);
  const cJSON *labels = jo(md, "labels");
  if (ok && on) {
    const char *hash = js(labels, "pod-template-hash");
    size_t nl = strlen(on), hl = hash ? strlen(hash) : 0;
    if (!strcmp(ok, "ReplicaSet") && hash && nl > hl + 1 && on[nl - hl - 1] == '-' &&
        !strcmp(on + nl - hl, hash))
      snprintf(wlbuf, wlsz, "Deployment/%s/%.*s", js(md, "namespace") ? js(md, "namespace") : "",
               (int)(nl - hl - 1), on);
    else
      snprintf(wlbuf, wlsz, "%s/%s/%s", ok, js(md, "namespace") ? js(md, "namespace") : "", on);
    p->workload = b_str(b, wlbuf);
  }
  /* conditions */
  const cJSON *c;
  cJSON_ArrayForEach(c, jo(status, "conditions")) {
    const char *t = js(c, "type"), *s = js(c, "status");
    if (!t || !s) continue;
    int on_ = !strcmp(s, "True");
    if (!strcmp(t, "Ready")) p->ready = on_;
    else if (!strcmp(t, "PodResizePending") && on_) {
      p->resize_pending = 1;
      p->resize_reason = b_str(b, js(c, "reason") ? js(c, "reason") : "");
    } else if (!strcmp(t, "PodResizeInProgress") && on_) {
      p->resize_in_progress = 1;
      if (!p->resize_pending) p->resize_reason = b_str(b, js(c, "reason") ? js(c, "reason") : "");
    }
  }
  if (!p->resize_reason && js(status, "resize")) {
    const char *r = js(status, "resize");
    p->resize_reason = b_str(b, r);
    if (!strcmp(r, "InProgress")) p->resize_in_progress = 1;
    else p->resize_pending = 1;
  }
  /* labels */
  int nl = cJSON_GetArraySize(labels);
  p->label_keys = b_alloc(b, sizeof(char *) * (size_t)nl);
  p->label_values = b_alloc(b, sizeof(char *) * (size_t)nl);
  int i = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, labels) {
    if (!cJSON_IsString(l) || !l->string) continue;
    const char *k = b_str(b, l->string), *v = b_str(b, l->valuestring);
    if (b->base) {
      ((const char **)p->label_keys)[i] = k;
      ((const char **)p->label_values)[i] = v;
    }
    i++;
  }
  p->nlabels = i;
  /* containers */
  const cJSON *conts = jo(spec, "containers");
  int nc = cJSON_GetArraySize(conts);
  p->containers = b_alloc(b, sizeof(kube_pod_container) * (size_t)nc);
  i = 0;
  cJSON_ArrayForEach(c, conts) {
    kube_pod_container ct;
    memset(&ct, 0, sizeof ct);
    ct.name = b_str(b, js(c, "name") ? js(c, "name") : "");
    const cJSON *res = jo(c, "resources");
    ct.cpu_request_m = q_milli(res, "requests", "cpu");
    ct.cpu_limit_m = q_milli(res, "limits", "cpu");
    ct.mem_request = q_bytes(res, "requests", "memory");
    ct.mem_limit = q_bytes(res, "limits", "memory");
    ct.st_cpu_request_m = ct.st_cpu_limit_m = ct.st_mem_request = ct.st_mem_limit = KUBE_QTY_UNSET;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, jo(status, "containerStatuses")) {
      const char *csn = js(cs, "name");
      if (!csn || strcmp(csn, js(c, "name") ? js(c, "name") : "")) continue;
      const cJSON *sr = jo(cs, "resources");
      ct.st_cpu_request_m = q_milli(sr, "requests", "cpu");
      ct.st_cpu_limit_m = q_milli(sr, "limits", "cpu");
      ct.st_mem_request = q_bytes(sr, "requests", "memory");
      ct.st_mem_limit = q_bytes(sr, "limits", "memory");
      ct.ready = cJSON_IsTrue(jo(cs, "ready"));
      const cJSON *rc = jo(cs, "restartCount");
      ct.restart_count = cJSON_IsNumber(rc) ? rc->valueint : 0;
      break;
    }
    if (b->base) p->containers[i] = ct;
    i++;
  }
  p->ncontainers = i;
}

kube_pod *kube_pod_slim(const cJSON *pod) {
  if (!js(jo(pod, "metadata"), "name")) return NULL;
  char wl[512];
  builder m = {NULL, 0};
  build_pod(&m, pod, wl, sizeof wl);
  char *mem = malloc(m.off);
  if (!mem) return NULL;
  builder f = {mem, 0};
  build_pod(&f, pod, wl, sizeof wl);
  kube_pod *p = (kube_pod *)mem; /* the record is the first thing allocated */
  p->bytes = m.off;
  return p;
}

const char *kube_pod_label(const kube_pod *p, const char *key) {
  for (int i = 0; i < p->nlabels; i++)
    if (!strcmp(p->label_keys[i], key)) return p->label_values[i];
  return NULL;
}

/* ---------- hash tables ---------- */

typedef struct centry {
  struct centry *next;
  uint32_t hash;
  void *item;
  char key[];
} centry;

typedef struct ibucket {
  struct ibucket *next;
  uint32_t hash;
  uint32_t n, cap;
  centry **v;
  char val[];
} ibucket;

#define MAX_INDEXES 8
#define MAX_IDX_VALS 16

typedef struct cindex {
  char name[32];
  kube_index_fn fn;
  ibucket **b;
  size_t nb, n;
} cindex;

struct kube_cache {
  pthread_rwlock_t lk;
  kube_cache_kind kind;
  centry **b;
  size_t nb, n;
  cindex idx[MAX_INDEXES];
  int nidx;
};

static uint32_t fnv(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static int idx_node(const void *item, const char **vals, int max, char *buf, size_t bufsz) {
  const kube_pod *p = item;
  if (max < 1 || !p->node || !*p->node) return 0;
  vals[0] = p->node;
  return 1;
}

static int idx_workload(const void *item, const char **vals, int max, char *buf, size_t bufsz) {
  const kube_pod *p = item;
  if (max < 1 || !p->workload) return 0;
  vals[0] = p->workload;
  return 1;
}

mbcas_rc kube_cache_new(kube_cache **out, kube_cache_kind kind) {
  *out = NULL;
  kube_cache *c = calloc(1, sizeof *c);
  if (!c) return MBCAS_ENOMEM;
  c->kind = kind;
  c->nb = 64;
  c->b = calloc(c->nb, sizeof(centry *));
  if (!c->b) {
    free(c);
    return MBCAS_ENOMEM;
  }
  pthread_rwlock_init(&c->lk, NULL);
  if (kind == KUBE_CACHE_POD) {
    kube_cache_add_index(c, "node", idx_node);
    kube_cache_add_index(c, "workload", idx_workload);
  }
  *out = c;
  return MBCAS_OK;
}

kube_cache_kind kube_cache_get_kind(const kube_cache *c) { return c->kind; }

mbcas_rc kube_cache_add_index(kube_cache *c, const char *name, kube_index_fn fn) {
  if (!name || !fn || strlen(name) >= sizeof c->idx[0].name) return MBCAS_EINVAL;
  if (c->nidx >= MAX_INDEXES || c->n > 0) return MBCAS_EINVAL;
  for (int i = 0; i < c->nidx; i++)
    if (!strcmp(c->idx[i].name, name)) return MBCAS_EINVAL;
  cindex *x = &c->idx[c->nidx];
  memset(x, 0, sizeof *x);
  x->nb = 16;
  x->b = calloc(x->nb, sizeof(ibucket *));
  if (!x->b) return MBCAS_ENOMEM;
  snprintf(x->name, sizeof x->name, "%s", name);
  x->fn = fn;
  c->nidx++;
  return MBCAS_OK;
}

mbcas_rc kube_cache_clone_empty(kube_cache **out, const kube_cache *c) {
  *out = NULL;
  kube_cache *n = NULL;
  mbcas_rc rc = kube_cache_new(&n, c->kind);
  if (rc) return rc;
  for (int i = n->nidx; i < c->nidx; i++) {
    rc = kube_cache_add_index(n, c->idx[i].name, c->idx[i].fn);
    if (rc) {
      kube_cache_free(n);
      return rc;
    }
  }
  *out = n;
  return MBCAS_OK;
}

void kube_cache_item_free(const kube_cache *c, void *item) {
  if (!item) return;
  if (c->kind == KUBE_CACHE_JSON)
    cJSON_Delete(item);
  else
    free(item);
}

static void free_tables(kube_cache *c) {
  for (size_t i = 0; i < c->nb; i++) {
    centry *e = c->b[i];
    while (e) {
      centry *nx = e->next;
      kube_cache_item_free(c, e->item);
      free(e);
      e = nx;
    }
  }
  free(c->b);
  c->b = NULL;
  for (int k = 0; k < c->nidx; k++) {
    cindex *x = &c->idx[k];
    for (size_t i = 0; i < x->nb; i++) {
      ibucket *bk = x->b[i];
      while (bk) {
        ibucket *nx = bk->next;
        free(bk->v);
        free(bk);
        bk = nx;
      }
    }
    free(x->b);
    x->b = NULL;
  }
}

void kube_cache_free(kube_cache *c) {
  if (!c) return;
  free_tables(c);
  pthread_rwlock_destroy(&c->lk);
  free(c);
}

static centry *find(const kube_cache *c, const char *key, uint32_t h, centry ***link) {
  centry **pp = &c->b[h & (c->nb - 1)];
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->hash == h && !strcmp((*pp)->key, key)) {
      if (link) *link = pp;
      return *pp;
    }
  return NULL;
}

static void grow(kube_cache *c) {
  size_t nb = c->nb * 2;
  centry **b = calloc(nb, sizeof(centry *));
  if (!b) return; /* stay at the current size: slower, still correct */
  for (size_t i = 0; i < c->nb; i++) {
    centry *e = c->b[i];
    while (e) {
      centry *nx = e->next;
      e->next = b[e->hash & (nb - 1)];
      b[e->hash & (nb - 1)] = e;
      e = nx;
    }
  }
  free(c->b);
  c->b = b;
  c->nb = nb;
}

static ibucket *ifind(cindex *x, const char *val, uint32_t h) {
  for (ibucket *bk = x->b[h & (x->nb - 1)]; bk; bk = bk->next)
    if (bk->hash == h && !strcmp(bk->val, val)) return bk;
  return NULL;
}

static void igrow(cindex *x) {
  size_t nb = x->nb * 2;
  ibucket **b = calloc(nb, sizeof(ibucket *));
  if (!b) return;
  for (size_t i = 0; i < x->nb; i++) {
    ibucket *bk = x->b[i];
    while (bk) {
      ibucket *nx = bk->next;
      bk->next = b[bk->hash & (nb - 1)];
      b[bk->hash & (nb - 1)] = bk;
      bk = nx;
    }
  }
  free(x->b);
  x->b = b;
  x->nb = nb;
}

static mbcas_rc index_add(kube_cache *c, centry *e) {
  for (int k = 0; k < c->nidx; k++) {
    cindex *x = &c->idx[k];
    const char *vals[MAX_IDX_VALS];
    char buf[512];
    int nv = x->fn(e->item, vals, MAX_IDX_VALS, buf, sizeof buf);
    for (int i = 0; i < nv; i++) {
      uint32_t h = fnv(vals[i]);
      ibucket *bk = ifind(x, vals[i], h);
      if (!bk) {
        size_t l = strlen(vals[i]);
        bk = calloc(1, sizeof *bk + l + 1);
        if (!bk) return MBCAS_ENOMEM;
        memcpy(bk->val, vals[i], l + 1);
        bk->hash = h;
        bk->next = x->b[h & (x->nb - 1)];
        x->b[h & (x->nb - 1)] = bk;
        x->n++;
        if (x->n > x->nb) igrow(x);
      }
      if (bk->n == bk->cap) {
        uint32_t nc = bk->cap ? bk->cap * 2 : 4;
        centry **nv2 = realloc(bk->v, nc * sizeof(centry *));
        if (!nv2) return MBCAS_ENOMEM;
        bk->v = nv2;
        bk->cap = nc;
      }
      bk->v[bk->n++] = e;
    }
  }
  return MBCAS_OK;
}

static void index_remove(kube_cache *c, centry *e) {
  for (int k = 0; k < c->nidx; k++) {
    cindex *x = &c->idx[k];
    const char *vals[MAX_IDX_VALS];
    char buf[512];
    int nv = x->fn(e->item, vals, MAX_IDX_VALS, buf, sizeof buf);
    for (int i = 0; i < nv; i++) {
      uint32_t h = fnv(vals[i]);
      ibucket **pp = &x->b[h & (x->nb - 1)];
      for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && !strcmp((*pp)->val, vals[i])) break;
      ibucket *bk = *pp;
      if (!bk) continue;
      for (uint32_t j = 0; j < bk->n; j++)
        if (bk->v[j] == e) {
          bk->v[j] = bk->v[--bk->n];
          break;
        }
      if (bk->n == 0) {
        *pp = bk->next;
        free(bk->v);
        free(bk);
        x->n--;
      }
    }
  }
}

int kube_cache_key(const cJSON *obj, char *buf, size_t len) {
  const cJSON *md = jo(obj, "metadata");
  const char *name = js(md, "name"), *ns = js(md, "namespace");
  if (!name || !*name) return -1;
  int n = ns && *ns ? snprintf(buf, len, "%s/%s", ns, name) : snprintf(buf, len, "%s", name);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *kube_cache_item_rv(const kube_cache *c, const void *item) {
  if (!item) return "";
  if (c->kind == KUBE_CACHE_POD) return ((const kube_pod *)item)->rv;
  const char *rv = js(jo(item, "metadata"), "resourceVersion");
  return rv ? rv : "";
}

/* Insert under the write lock. */
static mbcas_rc upsert_locked(kube_cache *c, const char *key, void *item, void **old_out) {
  uint32_t h = fnv(key);
  centry *e = find(c, key, h, NULL);
  if (e) {
    index_remove(c, e);
    void *old = e->item;
    e->item = item;
    mbcas_rc rc = index_add(c, e);
    if (old_out)
      *old_out = old;
    else
      kube_cache_item_free(c, old);
    return rc;
  }
  size_t kl = strlen(key);
  e = malloc(sizeof *e + kl + 1);
  if (!e) {
    kube_cache_item_free(c, item);
    return MBCAS_ENOMEM;
  }
  memcpy(e->key, key, kl + 1);
  e->hash = h;
  e->item = item;
  e->next = c->b[h & (c->nb - 1)];
  c->b[h & (c->nb - 1)] = e;
  c->n++;
  if (c->n > c->nb) grow(c);
  return index_add(c, e);
}

mbcas_rc kube_cache_upsert(kube_cache *c, cJSON *obj, void **old_out, const void **new_out) {
  if (old_out) *old_out = NULL;
  if (new_out) *new_out = NULL;
  char key[512];
  if (!obj || kube_cache_key(obj, key, sizeof key) != 0) {
    cJSON_Delete(obj);
    return MBCAS_EINVAL;
  }
  void *item = obj;
  if (c->kind == KUBE_CACHE_POD) {
    item = kube_pod_slim(obj);
    cJSON_Delete(obj);
    if (!item) return MBCAS_ENOMEM;
  }
  pthread_rwlock_wrlock(&c->lk);
  mbcas_rc rc = upsert_locked(c, key, item, old_out);
  if (new_out && rc != MBCAS_ENOMEM) *new_out = item;
  pthread_rwlock_unlock(&c->lk);
  return rc;
}

mbcas_rc kube_cache_delete(kube_cache *c, const char *key, void **old_out) {
  if (old_out) *old_out = NULL;
  pthread_rwlock_wrlock(&c->lk);
  centry **link = NULL;
  centry *e = find(c, key, fnv(key), &link);
  if (!e) {
    pthread_rwlock_unlock(&c->lk);
    return MBCAS_ENOTFOUND;
  }
  index_remove(c, e);
  *link = e->next;
  c->n--;
  pthread_rwlock_unlock(&c->lk);
  if (old_out)
    *old_out = e->item;
  else
    kube_cache_item_free(c, e->item);
  free(e);
  return MBCAS_OK;
}

mbcas_rc kube_cache_replace(kube_cache *c, kube_cache *fresh, kube_cache_diff_fn diff, void *ud) {
  if (!fresh || fresh->kind != c->kind || fresh->nidx != c->nidx) return MBCAS_EINVAL;
  pthread_rwlock_wrlock(&c->lk);
  /* swap tables: c gets the new content, fresh the old */
  centry **b = c->b;
  size_t nb = c->nb, n = c->n;
  c->b = fresh->b;
  c->nb = fresh->nb;
  c->n = fresh->n;
  fresh->b = b;
  fresh->nb = nb;
  fresh->n = n;
  for (int k = 0; k < c->nidx; k++) {
    cindex t = c->idx[k];
    c->idx[k] = fresh->idx[k];
    fresh->idx[k] = t;
  }
  pthread_rwlock_unlock(&c->lk);
  if (diff) {
    /* only this (writer) thread changes c, so reading it unlocked is safe here */
    for (size_t i = 0; i < c->nb; i++)
      for (centry *e = c->b[i]; e; e = e->next) {
        centry *o = find(fresh, e->key, e->hash, NULL);
        if (!o)
          diff(ud, NULL, e->item);
        else if (strcmp(kube_cache_item_rv(c, o->item), kube_cache_item_rv(c, e->item)) != 0)
          diff(ud, o->item, e->item);
      }
    for (size_t i = 0; i < fresh->nb; i++)
      for (centry *e = fresh->b[i]; e; e = e->next)
        if (!find(c, e->key, e->hash, NULL)) diff(ud, e->item, NULL);
  }
  kube_cache_free(fresh);
  return MBCAS_OK;
}

void kube_cache_rdlock(kube_cache *c) { pthread_rwlock_rdlock(&c->lk); }
void kube_cache_unlock(kube_cache *c) { pthread_rwlock_unlock(&c->lk); }

const void *kube_cache_get_locked(kube_cache *c, const char *key) {
  centry *e = find(c, key, fnv(key), NULL);
  return e ? e->item : NULL;
}

mbcas_rc kube_cache_get_json(kube_cache *c, cJSON **out, const char *key) {
  *out = NULL;
  if (c->kind != KUBE_CACHE_JSON) return MBCAS_EINVAL;
  mbcas_rc rc = MBCAS_ENOTFOUND;
  kube_cache_rdlock(c);
  const cJSON *j = kube_cache_get_locked(c, key);
  if (j) {
    *out = cJSON_Duplicate(j, 1);
    rc = *out ? MBCAS_OK : MBCAS_ENOMEM;
  }
  kube_cache_unlock(c);
  return rc;
}

mbcas_rc kube_cache_get_pod(kube_cache *c, kube_pod **out, const char *key) {
  *out = NULL;
  if (c->kind != KUBE_CACHE_POD) return MBCAS_EINVAL;
  mbcas_rc rc = MBCAS_ENOTFOUND;
  kube_cache_rdlock(c);
  const kube_pod *p = kube_cache_get_locked(c, key);
  if (p) {
    /* relocate the pointers of the one-allocation record */
    char *m = malloc(p->bytes);
    if (m) {
      memcpy(m, p, p->bytes);
      kube_pod *q = (kube_pod *)m;
      ptrdiff_t d = m - (const char *)p;
#define MV(f) if (q->f) q->f = (const char *)((const char *)q->f + d)
      MV(ns); MV(name); MV(uid); MV(rv); MV(node); MV(phase); MV(deletion_timestamp);
      MV(owner_kind); MV(owner_name); MV(workload); MV(resize_reason);
      q->label_keys = (const char **)((char *)q->label_keys + d);
      q->label_values = (const char **)((char *)q->label_values + d);
      for (int i = 0; i < q->nlabels; i++) {
        q->label_keys[i] += d;
        q->label_values[i] += d;
      }
      q->containers = (kube_pod_container *)((char *)q->containers + d);
      for (int i = 0; i < q->ncontainers; i++) q->containers[i].name += d;
#undef MV
      *out = q;
      rc = MBCAS_OK;
    } else {
      rc = MBCAS_ENOMEM;
    }
  }
  kube_cache_unlock(c);
  return rc;
}

size_t kube_cache_len(kube_cache *c) {
  kube_cache_rdlock(c);
  size_t n = c->n;
  kube_cache_unlock(c);
  return n;
}

void kube_cache_foreach(kube_cache *c, kube_cache_visit_fn fn, void *ud) {
  kube_cache_rdlock(c);
  for (size_t i = 0; i < c->nb; i++)
    for (centry *e = c->b[i]; e; e = e->next)
      if (fn(ud, e->key, e->item)) {
        kube_cache_unlock(c);
        return;
      }
  kube_cache_unlock(c);
}

int kube_cache_by_index(kube_cache *c, const char *index, const char *value, kube_cache_visit_fn fn,
                        void *ud) {
  kube_cache_rdlock(c);
  cindex *x = NULL;
  for (int k = 0; k < c->nidx; k++)
    if (!strcmp(c->idx[k].name, index)) x = &c->idx[k];
  if (!x) {
    kube_cache_unlock(c);
    return -1;
  }
  int visited = 0;
  ibucket *bk = ifind(x, value, fnv(value));
  for (uint32_t j = 0; bk && j < bk->n; j++) {
    visited++;
    if (fn(ud, bk->v[j]->key, bk->v[j]->item)) break;
  }
  kube_cache_unlock(c);
  return visited;
}

static size_t json_bytes(const cJSON *j) {
  size_t n = 0;
  for (; j; j = j->next) {
    n += sizeof(cJSON);
    if (j->string) n += strlen(j->string) + 1;
    if (j->valuestring) n += strlen(j->valuestring) + 1;
    n += json_bytes(j->child);
  }
  return n;
}

size_t kube_cache_bytes(kube_cache *c) {
  kube_cache_rdlock(c);
  size_t n = sizeof *c + c->nb * sizeof(centry *);
  for (size_t i = 0; i < c->nb; i++)
    for (centry *e = c->b[i]; e; e = e->next) {
      n += sizeof *e + strlen(e->key) + 1;
      n += c->kind == KUBE_CACHE_POD ? ((const kube_pod *)e->item)->bytes : json_bytes(e->item);
    }
  for (int k = 0; k < c->nidx; k++) {
    cindex *x = &c->idx[k];
    n += x->nb * sizeof(ibucket *);
    for (size_t i = 0; i < x->nb; i++)
      for (ibucket *bk = x->b[i]; bk; bk = bk->next)
        n += sizeof *bk + strlen(bk->val) + 1 + bk->cap * sizeof(centry *);
  }
  kube_cache_unlock(c);
  return n;
}
