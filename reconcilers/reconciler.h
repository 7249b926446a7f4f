/* reconciler.h - the operator's control loop over one consistent view of the cluster.
 *
 * A cycle (rec_cycle) takes a snapshot - borrowed arrays of objects from the informer
 * caches (or from LISTs) - and, for every ScalingMarket whose clearing interval has
 * passed (or whose inputs changed), runs the three stages that hand over through status:
 *   1. demand   (agentpolicy.c): sense each pod's demand, write it into ServiceBudget
 *               status (demand, podDemands, demandTime);
 *   2. market   (scalingmarket.c): from those status fields and the pods, clear every
 *               node (operator/market), write the decision with its id to ServiceBudget
 *               and ScalingMarket status, outcome Pending;
 *   3. actuate  (actuation.c): pods/resize and scale, then write the outcome back.
 * A ServiceBudget whose status still says Pending (the operator died between 2 and 3)
 * first has that decision completed - the same absolute values, so never a double step.
 * ServiceBudgets and AgentPolicies outside any clearing are validated on their own
 * (servicebudget.c, agentpolicy.c): an Invalid condition and an Event, no effect on others.
 *
 * Owns: the in-memory state (demand EWMA per pod, last resize time per pod, horizontal
 * windows per service, last clearing per market), all rebuildable from status.
 * Borrows: the snapshot, the rec_api, the observer. Thread safety: one thread calls
 * rec_cycle; rec_request_cycle may be called from any thread. */
#ifndef MBCAS_REC_RECONCILER_H
#define MBCAS_REC_RECONCILER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "actuation.h"
#include "cache.h"
#include "recapi.h"
#include "result.h"

/* The cluster as one cycle sees it. Every pointer is borrowed for the cycle. Pods are
 * the informer cache's compact records (kube_pod, operator/kube/cache.h: about 700 bytes
 * a pod instead of a JSON tree), everything else is the API object as JSON.
 * n_namespaces < 0: namespaces unknown (namespaceSelector then admits everything). */
typedef struct rec_snapshot {
  const cJSON *const *markets;  size_t n_markets;
  const cJSON *const *budgets;  size_t n_budgets;
  const cJSON *const *policies; size_t n_policies;
  const kube_pod *const *pods;  size_t n_pods;
  const cJSON *const *nodes;    size_t n_nodes;
  const cJSON *const *hpas;     size_t n_hpas;
  const cJSON *const *vpas;     size_t n_vpas;
  /* Deployments and StatefulSets (apps/v1), to resolve targets without a GET of their
   * scale subresource; other kinds with a scale subresource are read through it. */
  const cJSON *const *workloads; size_t n_workloads;
  const cJSON *const *namespaces; long n_namespaces;
} rec_snapshot;

/* What the reconcilers report outward: metrics and Events. Every callback may be NULL. */
typedef struct rec_observer {
  void *ud;
  /* An Event about obj (kind/ns/name/uid from obj). type "Normal" | "Warning". */
  void (*event)(void *ud, const cJSON *obj, const char *type, const char *reason,
                const char *message);
  void (*pod_allocated)(void *ud, const char *market, const char *node, const char *ns,
                        const char *pod, const char *sb, int64_t milli);
  void (*pod_usage)(void *ud, const char *ns, const char *pod, int64_t milli);
  void (*budget)(void *ud, const char *ns, const char *sb, double demand, double bid,
                 double budget_share, double allocation_share);
  void (*node_price)(void *ud, const char *market, const char *node, double price);
  void (*resize)(void *ud, act_outcome o, int64_t step_m);
  void (*scale)(void *ud, act_outcome o);
  void (*clearing)(void *ud, const char *market, double seconds);
  /* Forget label sets of pods/nodes/budgets no longer present (called after a cycle). */
  void (*cycle_done)(void *ud);
} rec_observer;

typedef struct rec_options {
  int64_t clearing_interval_ms; /* > 0: overrides every market's spec.clearingInterval */
  int pods_resize_supported;    /* discovery: 0 -> condition ResizeUnsupported, no resize */
  int scale_supported;          /* 1 normally */
  long prom_timeout_ms;         /* Prometheus query timeout; 0: 2000 */
  double min_demand_factor;     /* bid f(0); default 0 */
  const atomic_int *stop;       /* may be NULL; when non-zero a cycle ends at the next
                                   safe point (a Pending decision is resumed later) */
  int status_writers;           /* ServiceBudget status writes in flight at once (worker
                                   threads; the rec_api must then be thread-safe, as the
                                   kube one is); 0 or 1: one at a time, inline */
} rec_options;

/* The informer cache's form of a ServiceBudget (rec_budget_compact): its status - tens
 * of KB as a cJSON tree with 100 pods (podDemands, allocations, history) - kept as its
 * JSON text under this key, "status" keeping only observedGeneration. The reconcilers
 * read either form. */
#define REC_STATUS_TEXT "x-mbcas-status-text"
/* In place; a no-op without status or on ENOMEM (the object stays whole). */
void rec_budget_compact(cJSON *obj);

typedef struct rec_ctx rec_ctx;

/* api and obs are borrowed (obs may be NULL). */
mbcas_rc rec_ctx_new(rec_ctx **out, const rec_api *api, const rec_observer *obs,
                     const rec_options *opts);
void rec_ctx_free(rec_ctx *c);
void rec_options_default(rec_options *o);
/* Change discovery facts at run time (e.g. after rediscovery). */
void rec_ctx_set_resize_supported(rec_ctx *c, int supported);

/* Ask the next rec_cycle to clear every market now (e.g. after a watch event changed a
 * spec). Thread-safe. */
void rec_request_cycle(rec_ctx *c);

/* Counters of one cycle (tests, logs). */
typedef struct rec_cycle_stats {
  int markets_cleared;
  int budgets_written;
  int resizes;       /* resize calls made (any outcome) */
  int scales;        /* scale calls made */
  int invalid;       /* objects found invalid */
  int resumed;       /* pending decisions completed from status */
  int errors;        /* API errors (the cycle went on) */
} rec_cycle_stats;

/* Run one cycle at time now (seconds since the epoch). Markets not due are skipped.
 * Never stops on one object's error: it is reported (condition, Event, stats->errors)
 * and the others go on. *next_s (may be NULL) = seconds until the next market is due. */
mbcas_rc rec_cycle(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *stats,
                   double *next_s);

#endif
