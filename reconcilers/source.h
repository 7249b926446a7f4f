/* source.h - the reconcilers' view of the cluster, kept current by watches.
 *
 * One thread per resource (ScalingMarkets, ServiceBudgets, AgentPolicies, Pods, Nodes,
 * HPAs, VPAs, Namespaces, Deployments, StatefulSets) runs a kube_watcher (list, then watch; relist on 410) into a
 * kube_cache: JSON objects, except pods, which the cache keeps as compact kube_pod records
 * (KUBE_CACHE_POD, operator/kube/cache.h: about 700 bytes a pod), so 10,000 pods stay small. A resource the server does not serve or
 * RBAC does not allow (VPAs without their CRD, namespaces under the chart's role) is
 * retried slowly and reads as empty (namespaces: unknown). A change that matters (a new
 * object, a new generation, a deletion; not our own status writes) calls on_change.
 * rec_source_snapshot() read-locks every cache and fills a rec_snapshot that stays valid
 * until rec_source_release().
 * Owns: the threads, watchers and caches. Borrows: the kube_client.
 * Thread safety: snapshot/release from one thread; on_change is called from watch threads. */
#ifndef MBCAS_REC_SOURCE_H
#define MBCAS_REC_SOURCE_H

#include <cjson/cJSON.h>

#include "reconciler.h"
#include "rest.h"
#include "result.h"

typedef enum {
  REC_SRC_MARKETS = 0,
  REC_SRC_BUDGETS,
  REC_SRC_POLICIES,
  REC_SRC_PODS,
  REC_SRC_NODES,
  REC_SRC_HPAS,
  REC_SRC_VPAS,
  REC_SRC_NAMESPACES,
  REC_SRC_DEPLOYMENTS,
  REC_SRC_STATEFULSETS,
  REC_SRC_COUNT
} rec_src_kind;

/* Called from a watch thread when an object of kind was added, deleted, or changed its
 * generation (spec). */
typedef void (*rec_source_change_fn)(void *ud, rec_src_kind kind);

typedef struct rec_source rec_source;

/* ns: namespace scope for namespaced kinds (NULL or "": all namespaces). */
mbcas_rc rec_source_new(rec_source **out, kube_client *kc, const char *ns,
                        rec_source_change_fn on_change, void *ud);
/* Start the watch threads. */
mbcas_rc rec_source_start(rec_source *s);
/* 1 when every cache listed once (an optional kind the server does not serve or RBAC
 * refuses counts once that answer came): no clearing before the HPAs and VPAs are known. */
int rec_source_synced(rec_source *s);
/* Read-lock the caches and fill snap (arrays owned by s until release). */
mbcas_rc rec_source_snapshot(rec_source *s, rec_snapshot *snap);
void rec_source_release(rec_source *s, rec_snapshot *snap);
/* Counters for tests and logs: relists and watch errors seen. */
unsigned long rec_source_errors(rec_source *s);
/* Stop threads and free everything. Accepts NULL. */
void rec_source_free(rec_source *s);

#endif
