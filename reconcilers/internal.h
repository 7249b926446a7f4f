/* internal.h - INTERNAL to reconcilers/: the context and the per-cycle working set the
 * three reconcilers share. Not installed, not for use outside this folder.
 * Thread safety: one reconciler thread (rec_ctx.force is the only shared field). */
#ifndef MBCAS_REC_INTERNAL_H
#define MBCAS_REC_INTERNAL_H

#include <stdatomic.h>

#include "agentpolicy.h"
#include "demand.h"
#include "horizontal.h"
#include "proactive.h"
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
  struct rec_proactive *fc; /* proactive mode: the service's forecast (owned; NULL: off) */
} rec_svc_state;

/* A market's effective clearing interval in seconds: the operator's --clearing-interval
 * when set, else spec.clearingInterval (spec_ms), at least 1 s. */
double rec_clearing_interval(const rec_ctx *c, int64_t spec_ms);

/* Releases what a rec_svc_state owns (c->svcs' free_value). */
void rec_svc_state_release(void *ss);

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

/* writer.c: status writes in flight at once (rec_options.status_writers). */
typedef struct rec_writer rec_writer;
/* threads <= 1: *out = NULL, and every write is made inline. */
mbcas_rc rec_writer_new(rec_writer **out, const rec_api *api, int threads);
/* Waits for queued writes, then stops the threads. Accepts NULL. */
void rec_writer_free(rec_writer *w);
/* Merge-patch {"status": status} to path (takes status). With a pool the write is queued
 * (waiting for a free slot, and for an earlier write to the same path to finish) and
 * *rc_out (may be NULL; must stay valid until rec_writer_flush) gets its result later;
 * inline (w NULL) it is made at once. Returns the result inline, or MBCAS_OK queued. */
mbcas_rc rec_writer_patch_status(rec_writer *w, const rec_api *api, const char *path,
                                 cJSON *status, mbcas_rc *rc_out);
/* Wait until every queued write is done (their *rc_out are set). */
void rec_writer_flush(rec_writer *w);

struct rec_ctx {
  rec_api api;
  rec_observer obs;
  rec_options opt;
  ru_map *pods;     /* "ns/pod" -> rec_pod_state */
  ru_map *svcs;     /* "ns/sb" -> rec_svc_state */
  ru_map *markets;  /* name -> rec_market_state */
  ru_map *policies; /* "ns/ap" -> rec_policy_state */
  rec_writer *writer; /* NULL: status writes inline */
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
  const kube_pod **pods;
  size_t n_pods, cap_pods;
  int skipped_not_ready, skipped_no_container, skipped_other_node;
  size_t first_part;       /* index of its first participant in the market input */
  double capped_budget;    /* after namespace caps, budget units */
  int32_t desired_replicas;
  char horizontal_line[512];
  act_outcome scale_outcome;
  mbcas_rc write_rc;       /* result of a queued status write (rec_budget_submit_status) */
  int write_pending;       /* queued, result not yet taken (rec_budget_status_written) */
  int64_t written_gen;     /* status.observedGeneration of that write */
  char written_id[SB_ID_MAX]; /* status.lastDecision.id of that write ("" if none) */
  /* Parked between the stages of a clearing (rec_svc_park): sb is freed (its status is
   * over 100 KB of fixed arrays) and what the stages read of it is kept here. */
  char *parked;            /* the status as JSON text while sb is NULL */
  sb_spec spec;            /* copy of sb->spec */
  char ns[API_NS_MAX], name[API_NAME_MAX];
  int64_t generation, observed_generation;
  bool has_demand;
  double demand, bid, budget_share, allocation_share;
  sb_outcome outcome;      /* status.lastDecision.outcome (SB_OUTCOME_NONE: none) */
  double *pod_demand;      /* per participant (pods[j]): its status.podDemands value */
  rec_forecast_settings forecast; /* its AgentPolicy's spec.forecast (rec_policy_evaluate) */
} rec_svc;

/* servicebudget.c */
/* Parse and check obj; resolve the target and its pods; detect HPA/VPA conflicts.
 * market_nodes: the market's nodes by name (values: size_t index). 
 * Fills svc (svc->sb is allocated unless parsing failed). Never fails the cycle. */
void rec_budget_prepare(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                        ru_map *market_nodes, rec_svc *svc,
                        double now);
/* Write a ServiceBudget's status (merge patch of the whole status). */
mbcas_rc rec_budget_write_status(rec_ctx *c, const rec_svc *svc);
/* The same through the writer pool: queued, result in svc->write_rc after
 * rec_writer_flush(c->writer), then taken with rec_budget_status_written. */
void rec_budget_submit_status(rec_ctx *c, rec_svc *svc);
/* After the flush: the queued write's result (and the generation it recorded as seen). */
mbcas_rc rec_budget_status_written(rec_ctx *c, rec_svc *svc);
/* Conditions and Event for a svc that is not SVC_OK, then write status. */
void rec_budget_report_state(rec_ctx *c, rec_svc *svc, double now);
/* Validate ServiceBudgets that no market visits (market missing): Invalid + Event. */
void rec_budget_orphans(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *st);
void rec_svc_clear(rec_svc *svc);
/* sb_parse of a ServiceBudget in either form (whole, or compacted: rec_budget_compact). */
mbcas_rc rec_sb_parse(servicebudget **out, const cJSON *obj, mbcas_err *err);
/* Its status object: borrowed, or parsed from the text into *owned (caller deletes). */
const cJSON *rec_budget_status(const cJSON *obj, cJSON **owned);
/* Keep what later stages read (spec, names, generations, demand, shares, outcome, each
 * participant's demand) and the status as JSON text; free svc->sb. MBCAS_ENOMEM leaves
 * svc as it was. */
mbcas_rc rec_svc_park(rec_svc *svc);
/* Parse svc->sb again: spec and meta from the snapshot object, status from the text. */
mbcas_rc rec_svc_unpark(rec_svc *svc);
/* The last stage is done with it: keep the fields as rec_svc_park does (no status text,
 * it cannot be unparked again) and free svc->sb. */
void rec_svc_done(rec_svc *svc);
/* The HPA or VPA (borrowed) controlling ns/kind/name, or NULL; *what = "HorizontalPodAutoscaler"... */
const cJSON *rec_budget_find_controller(const rec_snapshot *snap, const char *ns,
                                        const char *api_version, const char *kind,
                                        const char *name, const char **what);
/* Actuate what svc's status records as Pending (allocations, replicas) and queue the
 * outcome's status write (status, Actuated condition; Events, metrics at once). After
 * rec_writer_flush, rec_budget_actuate_done takes the write's result. */
void rec_budget_actuate(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                        rec_svc *svc, double now, rec_cycle_stats *st);
void rec_budget_actuate_done(rec_ctx *c, rec_svc *svc, rec_cycle_stats *st);
/* Complete a Pending decision recorded in status (resize to the recorded values). */
void rec_budget_resume(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                       rec_svc *svc, double now, rec_cycle_stats *st);

/* agentpolicy.c */
/* Usage of one container, projected out of a metrics.k8s.io PodMetrics. */
typedef struct rec_cusage {
  char name[64];          /* container names are DNS labels (<= 63) */
  int64_t cpu_m, mem_b;   /* -1: absent or unparsable */
} rec_cusage;
/* A PodMetricsList cut down to what demand reads: "namespace/name" -> its containers'
 * usage (about 100 bytes a pod instead of the parsed list). */
typedef struct rec_metrics {
  ru_map *idx;            /* key -> rec_metrics_span */
  rec_cusage *c;
  size_t n, cap;
} rec_metrics;
typedef struct rec_metrics_span { size_t first; size_t n; } rec_metrics_span;
/* An empty index (NULL on ENOMEM); rec_metrics_add projects one PodMetrics into it
 * (a rec_item_fn: non-zero on ENOMEM). */
rec_metrics *rec_metrics_new(void);
int rec_metrics_add(void *m, const cJSON *pod_metrics);
/* Project a PodMetricsList (which the caller may free right after). NULL on ENOMEM. */
rec_metrics *rec_metrics_index(const cJSON *list);
void rec_metrics_free(rec_metrics *m);
/* CPU (millicores, cpu=1) or memory (bytes, cpu=0) usage of container (NULL/"": every
 * container summed) of pod ns/name. MBCAS_ENOTFOUND when there is no sample. */
mbcas_rc rec_metrics_usage(const rec_metrics *m, const char *ns, const char *pod,
                           const char *container, int cpu, int64_t *out);
/* Sense demand for svc's pods and write it into svc->sb->status (demand, podDemands,
 * demandTime). metrics: from rec_metrics_index (may be NULL). */
void rec_policy_evaluate(rec_ctx *c, const rec_snapshot *snap, rec_svc *svc,
                         const rec_metrics *metrics, double now);
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
