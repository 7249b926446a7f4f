/* servicebudget.h - the ServiceBudget kind (mbcas.io/v1alpha1, namespaced).
 *
 * sb_parse() checks an object exactly as the CRD schema and its CEL rules do, applies
 * the same defaults, and reports the first error with its field path
 * ("spec.cpu.min: must not exceed spec.cpu.max"). Budgets and CPU are integer
 * thousandths (millicores for CPU; budget "2.5" -> 2500). Status parses and
 * serializes symmetrically (sb_status_from_json / sb_status_to_json round-trip):
 * decimals (demand, shares) are written with at most 4 decimals, bids with 6
 * significant digits, CPU as canonical quantities. Bounded lists keep their CRD
 * maxItems (allocations 100, podDemands 100, history 10).
 * Size: sizeof is about 117 KB (fixed buffers at the CRD maxima); parse on demand
 * rather than keeping thousands parsed.
 * Owns: the object returned through **out (sb_free). Thread safety: values only. */
#ifndef MBCAS_API_SERVICEBUDGET_H
#define MBCAS_API_SERVICEBUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "conditions.h"
#include "meta.h"
#include "result.h"

#define SB_GROUP_VERSION "mbcas.io/v1alpha1"
#define SB_KIND "ServiceBudget"
#define SB_RESOURCE "servicebudgets"

#define SB_ALLOCATIONS_MAX 100
#define SB_POD_DEMANDS_MAX 100
#define SB_HISTORY_MAX 10
#define SB_REASON_MAX 1025
#define SB_ID_MAX 65

/* Condition types of a ServiceBudget. */
#define SB_COND_READY "Ready"
#define SB_COND_ACTUATED "Actuated"
#define SB_COND_CONFLICT "Conflict"
#define SB_COND_INVALID "Invalid"

typedef enum {
  SB_OUTCOME_NONE = 0, /* absent */
  SB_OUTCOME_PENDING,
  SB_OUTCOME_APPLIED,
  SB_OUTCOME_UNCHANGED,
  SB_OUTCOME_DEFERRED,
  SB_OUTCOME_INFEASIBLE,
  SB_OUTCOME_CONFLICT,
  SB_OUTCOME_RECOMMENDED
} sb_outcome;

/* "Pending", "Applied", ...; "" for SB_OUTCOME_NONE. */
const char *sb_outcome_str(sb_outcome o);
/* Parse an outcome name; SB_OUTCOME_NONE when unknown. */
sb_outcome sb_outcome_parse(const char *s);

typedef struct sb_spec {
  char market_ref[API_NAME_MAX];
  char target_api_version[API_NAME_MAX]; /* default "apps/v1" */
  char target_kind[64];                  /* default "Deployment" */
  char target_name[API_NAME_MAX];
  bool has_agent_policy_ref;
  char agent_policy_ref[API_NAME_MAX];
  int64_t budget_milli;  /* > 0; "100" -> 100000 */
  char container[64];    /* "" = the first container */
  int64_t cpu_min_milli; /* default 100m */
  bool has_cpu_max;
  int64_t cpu_max_milli;
  bool has_cpu_base;     /* burst sizing (needs max; min <= base <= max) */
  int64_t cpu_base_milli;
  bool has_replicas;    /* absent: never scale horizontally */
  int32_t replicas_min; /* default 1 */
  bool has_replicas_max;
  int32_t replicas_max;
} sb_spec;

typedef struct sb_pod_demand {
  char pod[API_NAME_MAX];
  bool has_demand;
  double demand;
} sb_pod_demand;

typedef struct sb_allocation {
  char pod[API_NAME_MAX];
  char node[API_NAME_MAX];
  bool has_cpu;
  int64_t cpu_milli;
  bool has_previous;
  int64_t previous_milli;
  sb_outcome outcome;
} sb_allocation;

typedef struct sb_decision {
  char id[SB_ID_MAX];
  time_t time; /* 0 = absent */
  char reason[SB_REASON_MAX];
  sb_outcome outcome;
  /* history entries only: */
  bool has_cpu;
  int64_t cpu_milli;
  bool has_replicas;
  int32_t replicas;
} sb_decision;

typedef struct sb_status {
  cond_list conditions;
  int64_t observed_generation;
  bool has_demand;
  double demand; /* [0,1] */
  time_t demand_time;
  int n_pod_demands;
  sb_pod_demand pod_demands[SB_POD_DEMANDS_MAX];
  bool has_bid;
  double bid;
  bool has_budget_share;
  double budget_share;
  bool has_allocation_share;
  double allocation_share;
  bool has_cpu;
  int64_t cpu_milli; /* sum over pods */
  int n_allocations;
  sb_allocation allocations[SB_ALLOCATIONS_MAX];
  bool has_current_replicas;
  int32_t current_replicas;
  bool has_desired_replicas;
  int32_t desired_replicas;
  bool has_last_decision;
  sb_decision last_decision;
  int n_history;
  sb_decision history[SB_HISTORY_MAX]; /* newest first */
} sb_status;

typedef struct servicebudget {
  api_meta meta;
  sb_spec spec;
  sb_status status;
} servicebudget;

mbcas_rc sb_parse(servicebudget **out, const cJSON *obj, mbcas_err *err);
mbcas_rc sb_parse_str(servicebudget **out, const char *json, mbcas_err *err);
/* Parse .spec alone (defaults applied, rules checked); errors start with "spec". */
mbcas_rc sb_spec_from_json(sb_spec *spec, const cJSON *spec_json, mbcas_err *err);
void sb_spec_defaults(sb_spec *spec);
mbcas_rc sb_status_from_json(sb_status *out, const cJSON *status_json, mbcas_err *err);
cJSON *sb_status_to_json(const sb_status *st);
/* Push d at the front of history, dropping the oldest beyond SB_HISTORY_MAX. */
void sb_history_push(sb_status *st, const sb_decision *d);
void sb_status_clear(sb_status *st);
void sb_free(servicebudget *sb);

#endif
