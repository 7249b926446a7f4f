/* internal.h - INTERNAL to reconcilers/: the context and the per-cycle working set the
 * three reconcilers share. Not installed, not for use outside this folder.
 * Thread safety: one reconciler thread (rec_ctx.force is the only shared field). */
#ifndef MBCAS_REC_INTERNAL_H
#define MBCAS_REC_INTERNAL_H

#include <stdatomic.h>

#include "agentpolicy.h"
#include "demand.h"
#include "horizontal.h"
#include "reconciler.h"
#include "recutil.h"
#include "scalingmarket.h"
#include "servicebudget.h"

typedef struct rec_pod_state {
  demand_state ds;
  double last_change_at; /* < 0: never (0 after zero-fill is fixed up on creation) */
} rec_pod_state;

typedef struct rec_svc_state {
  horizontal_state hs;
  int hs_init;             /* hs initialised */
  int64_t invalid_gen;     /* generation an Invalid Event was sent for (+1), 0: none */
  int conflict_reported;   /* Conflict Event sent for the current conflict */
  int64_t seen_gen;        /* generation whose status we wrote (the cache may lag) */
  char done_id[SB_ID_MAX]; /* last decision we actuated and recorded the outcome of */
} rec_svc_state;

typedef struct rec_market_state {
  double last_clear;       /* 0: never */
  int64_t generation;      /* generation at the last clearing */
  int64_t invalid_gen;
} rec_market_state;

/* Per-signal health gathered while evaluating demand, written to AgentPolicy status. */
typedef struct rec_policy_state {
  int n;
  ap_signal_status sig[AP_SIGNALS_MAX];
  double evaluated_at;     /* 0: not evaluated this cycle */
  int64_t invalid_gen;
} rec_policy_state;

struct rec_ctx {
  rec_api api;
  rec_observer obs;
  rec_options opt;
  ru_map *pods;     /* "ns/pod" -> rec_pod_state */
  ru_map *svcs;     /* "ns/sb" -> rec_svc_state */
  ru_map *markets;  /* name -> rec_market_state */
  ru_map *policies; /* "ns/ap" -> rec_policy_state */
  atomic_int force;
};

/* The operator is stopping (rec_options.stop): end the cycle at the next safe point. */
int rec_stopping(const rec_ctx *c);

/* What happened to a ServiceBudget in this cycle. */
typedef enum {
  SVC_OK = 0,       /* takes part */
  SVC_INVALID,      /* spec or reference wrong: Invalid condition */
  SVC_NOT_READY,    /* target missing, namespace not allowed ... : Ready False */
  SVC_CONFLICT,     /* HPA/VPA controls the target: takes no part, nothing written to it */
  SVC_RESUME        /* a Pending decision from status is completed this cycle */
} svc_state;

typedef struct rec_svc {
  const cJSON *obj;        /* the ServiceBudget object (borrowed from the snapshot) */
  servicebudget *sb;       /* parsed (owned); status is updated in place and written */
  const cJSON *policy_obj; /* the AgentPolicy object or NULL (built-in policy) */
  svc_state state;
  char reason[64];         /* condition reason when not SVC_OK */
  char message[512];
  char key[API_NS_MAX + API_NAME_MAX + 2]; /* "ns/name" */
  /* target, from the scale subresource */
  char scale_path[600];
  int32_t spec_replicas, status_replicas;
  char selector[1024];
  /* participating pods (borrowed) and their clearing indices */
  const cJSON **pods;
  size_t n_pods, cap_pods;
  int skipped_not_ready, skipped_no_container, skipped_other_node;
  size_t first_part;       /* index of its first participant in the market input */
  double capped_budget;    /* after namespace caps, budget units */
  int32_t desired_replicas;
  char horizontal_line[512];
  act_outcome scale_outcome;
} rec_svc;

/* servicebudget.c */
/* Parse and check obj; resolve the target and its pods; detect HPA/VPA conflicts.
 * Fills svc (svc->sb is allocated unless parsing failed). Never fails the cycle. */
void rec_budget_prepare(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                        const cJSON *const *market_nodes, size_t n_market_nodes, rec_svc *svc,
                        double now);
/* Write a ServiceBudget's status (merge patch of the whole status). */
mbcas_rc rec_budget_write_status(rec_ctx *c, const rec_svc *svc);
/* Conditions and Event for a svc that is not SVC_OK, then write status. */
void rec_budget_report_state(rec_ctx *c, rec_svc *svc, double now);
/* Validate ServiceBudgets that no market visits (market missing): Invalid + Event. */
void rec_budget_orphans(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *st);
void rec_svc_clear(rec_svc *svc);
/* The HPA or VPA (borrowed) controlling ns/kind/name, or NULL; *what = "HorizontalPodAutoscaler"... */
const cJSON *rec_budget_find_controller(const rec_snapshot *snap, const char *ns,
                                        const char *api_version, const char *kind,
                                        const char *name, const char **what);
/* Actuate what svc's status records as Pending (allocations, replicas) and write the
 * outcome back (status, Actuated condition, Events, metrics). */
void rec_budget_actuate(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                        rec_svc *svc, double now, rec_cycle_stats *st);
/* Complete a Pending decision recorded in status (resize to the recorded values). */
void rec_budget_resume(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                       rec_svc *svc, double now, rec_cycle_stats *st);

/* agentpolicy.c */
/* Index a PodMetricsList by "namespace/name" (values: const cJSON *, borrowed from list).
 * NULL on ENOMEM. */
ru_map *rec_metrics_index(const cJSON *list);
/* Sense demand for svc's pods and write it into svc->sb->status (demand, podDemands,
 * demandTime). metrics: from rec_metrics_index (may be NULL). */
void rec_policy_evaluate(rec_ctx *c, const rec_snapshot *snap, rec_svc *svc, ru_map *metrics,
                         double now);
/* Write AgentPolicy status for policies evaluated this cycle, and Invalid ones. */
void rec_policy_write_all(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *st);
/* The AgentPolicy object ns/name in the snapshot, or NULL. */
const cJSON *rec_find_policy(const rec_snapshot *snap, const char *ns, const char *name);

/* scalingmarket.c */
mbcas_rc rec_market_run(rec_ctx *c, const rec_snapshot *snap, const cJSON *sm_obj, double now,
                        rec_cycle_stats *st);

/* reconciler.c */
void rec_event(rec_ctx *c, const cJSON *obj, const char *type, const char *reason,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "ns/name" of an object into buf. */
const char *rec_obj_key(const cJSON *obj, char *buf, size_t len);
/* Status path "/apis/mbcas.io/v1alpha1/[namespaces/NS/]RES/NAME/status". */
const char *rec_status_path(char *buf, size_t len, const char *resource, const char *ns,
                            const char *name);
/* Merge-patch {"status": status} to path. Takes ownership of status. */
mbcas_rc rec_patch_status(rec_ctx *c, const char *path, cJSON *status);
/* Test hook: when MBCAS_TEST_CRASH_AFTER_STATUS is set, _exit(3) after the first
 * decision status write (simulates a crash between status and actuation). */
void rec_crash_point(void);

#endif
