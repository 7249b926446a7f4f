/* cache.h - the object store behind an informer: keyed by "namespace/name", with
 * extra indexes, holding either compact records or cJSON.
 *
 * Each cache has a kind: KUBE_CACHE_JSON stores the cJSON object as is (fine for
 * low-volume kinds like our CRDs); KUBE_CACHE_POD passes each Pod through
 * kube_pod_slim(), a one-allocation record of only the fields MBCAS reads (well
 * under 2 KiB per pod; docs/benchmarks.md). Indexes map a value computed from an
 * item to the items that have it: pods by node ("node"), pods by owning workload
 * ("workload": "Deployment/ns/web" for a ReplicaSet pod, "Kind/ns/name" otherwise).
 * kube_cache_replace() swaps a whole relist in at once (readers never see half a
 * list) and reports adds/updates/deletes.
 *
 * Owns: items and keys. Items returned by get/foreach are BORROWED and read-only:
 * valid only while the caller holds kube_cache_rdlock() (get/foreach/by_index take
 * it themselves for the callback's duration; taking the read lock again inside a
 * held read lock is fine, the rwlock prefers readers). Thread safety: a rwlock;
 * one writer (the informer thread), any number of readers. Never write to a cache
 * while holding its read lock. */
#ifndef MBCAS_KUBE_CACHE_H
#define MBCAS_KUBE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "result.h"

typedef enum { KUBE_CACHE_JSON = 0, KUBE_CACHE_POD = 1 } kube_cache_kind;

/* ---------- compact pod record ---------- */

#define KUBE_QTY_UNSET INT64_MIN

typedef struct kube_pod_container {
  const char *name;
  int64_t cpu_request_m, cpu_limit_m; /* millicores; KUBE_QTY_UNSET when absent */
  int64_t mem_request, mem_limit;     /* bytes */
  /* status.containerStatuses[].resources: what the kubelet actually applied */
  int64_t st_cpu_request_m, st_cpu_limit_m, st_mem_request, st_mem_limit;
  int ready;
  int restart_count;
} kube_pod_container;

typedef struct kube_pod {
  const char *ns, *name, *uid, *rv;
  const char *node;                 /* spec.nodeName, "" when unscheduled */
  const char *phase;                /* "Running" ... */
  const char *deletion_timestamp;   /* NULL unless terminating */
  const char *owner_kind, *owner_name; /* controller ownerReference, NULL if none */
  const char *workload;             /* index value: "Deployment/ns/web" ... */
  int ready;                        /* Ready condition True */
  /* resize: PodResizePending / PodResizeInProgress conditions (1.33+) or the
   * older status.resize field ("Proposed", "InProgress", "Deferred", "Infeasible") */
  int resize_pending, resize_in_progress;
  const char *resize_reason;        /* reason of the pending/in-progress condition, or status.resize */
  int64_t generation, observed_generation;
  int nlabels;
  const char **label_keys, **label_values;
  int ncontainers;
  kube_pod_container *containers;
  size_t bytes;                     /* size of the one allocation */
} kube_pod;

/* Build the record from a Pod. Returns NULL if obj has no metadata.name or on
 * out-of-memory. Free with free() (one allocation). */
kube_pod *kube_pod_slim(const cJSON *pod);
/* Label lookup; NULL when absent. */
const char *kube_pod_label(const kube_pod *p, const char *key);
/* Parse a Kubernetes quantity: CPU into millicores ("250m", "1", "0.5"),
 * memory into bytes ("128Mi", "1G", "1e3"). Returns 0 or -1 on bad text. */
int kube_qty_milli(const char *s, int64_t *out);
int kube_qty_bytes(const char *s, int64_t *out);

/* ---------- cache ---------- */

typedef struct kube_cache kube_cache;

/* Computes up to max values of one index for an item; returns how many. The
 * values are copied by the cache; writing into buf (size bufsz) is allowed. */
typedef int (*kube_index_fn)(const void *item, const char **vals, int max, char *buf, size_t bufsz);

/* Change report from kube_cache_replace(): old is NULL for adds, new NULL for
 * deletes. Items are valid during the call only. */
typedef void (*kube_cache_diff_fn)(void *ud, const void *old_item, const void *new_item);

mbcas_rc kube_cache_new(kube_cache **out, kube_cache_kind kind);
void kube_cache_free(kube_cache *c);
kube_cache_kind kube_cache_get_kind(const kube_cache *c);
/* Register an index before the first insert. Pod caches come with "node" and
 * "workload" already. Max 8 indexes. */
mbcas_rc kube_cache_add_index(kube_cache *c, const char *name, kube_index_fn fn);

/* Key of an object: "ns/name" or "name" (cluster-scoped) into buf. */
int kube_cache_key(const cJSON *obj, char *buf, size_t len);

/* Insert or replace from an API object (taken over: JSON caches keep it, pod
 * caches slim it and delete it). *old_out, if given, receives the previous item,
 * which the caller must release with kube_cache_item_free(); *new_out receives
 * the stored item (borrowed). */
mbcas_rc kube_cache_upsert(kube_cache *c, cJSON *obj, void **old_out, const void **new_out);
/* Remove by key; *old_out (may be NULL) receives the item to release with
 * kube_cache_item_free(), else it is freed. MBCAS_ENOTFOUND if absent. */
mbcas_rc kube_cache_delete(kube_cache *c, const char *key, void **old_out);
void kube_cache_item_free(const kube_cache *c, void *item);

/* Swap in a complete list (the objects of `fresh`, a cache of the same kind and
 * indexes, which is emptied and freed). diff (may be NULL) is called after the
 * swap, outside the lock, for each add, changed item (resourceVersion differs)
 * and delete. */
mbcas_rc kube_cache_replace(kube_cache *c, kube_cache *fresh, kube_cache_diff_fn diff, void *ud);
/* A new empty cache with the same kind and indexes (for a relist). */
mbcas_rc kube_cache_clone_empty(kube_cache **out, const kube_cache *c);

/* Borrowed lookups: hold the read lock around them and any use of the result. */
void kube_cache_rdlock(kube_cache *c);
void kube_cache_unlock(kube_cache *c);
const void *kube_cache_get_locked(kube_cache *c, const char *key);

/* Copy out a JSON item (JSON caches only); caller frees with cJSON_Delete.
 * MBCAS_ENOTFOUND if absent. */
mbcas_rc kube_cache_get_json(kube_cache *c, cJSON **out, const char *key);
/* Copy out a pod record (pod caches only); caller frees with free(). */
mbcas_rc kube_cache_get_pod(kube_cache *c, kube_pod **out, const char *key);

size_t kube_cache_len(kube_cache *c);
/* Call fn for each item under the read lock; stop when fn returns non-zero. */
typedef int (*kube_cache_visit_fn)(void *ud, const char *key, const void *item);
void kube_cache_foreach(kube_cache *c, kube_cache_visit_fn fn, void *ud);
/* Items whose index `index` has value `value`; returns how many were visited,
 * or -1 if the index does not exist. */
int kube_cache_by_index(kube_cache *c, const char *index, const char *value, kube_cache_visit_fn fn,
                        void *ud);
/* resourceVersion of an item ("" if none). Borrowed. */
const char *kube_cache_item_rv(const kube_cache *c, const void *item);
/* Approximate heap bytes held by items, keys and tables (for the benchmark). */
size_t kube_cache_bytes(kube_cache *c);

#endif
