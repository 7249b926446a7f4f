/* scalingmarket.h - the ScalingMarket kind (mbcas.io/v1alpha1, cluster-scoped).
 *
 * sm_parse() turns an object (as the API server returns it) into a scalingmarket:
 * every field is checked as the CRD schema and its CEL rules check it, defaults are
 * applied as the API server would, and the first error is reported with its field
 * path ("spec.horizontal.scaleInDemand: must be lower than scaleOutDemand").
 * Quantities are integer millicores (budgets: thousandths), durations milliseconds.
 * Status is parsed too (sm_status_from_json) and written back with sm_status_to_json;
 * the two round-trip. All strings are fixed buffers, so an object is one allocation
 * plus its condition messages.
 * Size: sizeof is about 380 KB (fixed buffers at the CRD maxima); parse on demand
 * rather than keeping thousands parsed.
 * Owns: the object returned through **out (sm_free). Thread safety: none needed;
 * a parsed object is a value. */
#ifndef MBCAS_API_SCALINGMARKET_H
#define MBCAS_API_SCALINGMARKET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "conditions.h"
#include "meta.h"
#include "result.h"

#define SM_GROUP_VERSION "mbcas.io/v1alpha1"
#define SM_KIND "ScalingMarket"
#define SM_RESOURCE "scalingmarkets"

#define SM_SELECTOR_EXPR_MAX 32
#define SM_SELECTOR_VALUES_MAX 64
#define SM_SELECTOR_LABELS_MAX 32
#define SM_LABEL_KEY_MAX 318
#define SM_LABEL_VALUE_MAX 64
#define SM_NS_CAPS_MAX 256
#define SM_STATUS_NODES_MAX 100

typedef enum { SEL_IN = 0, SEL_NOT_IN, SEL_EXISTS, SEL_DOES_NOT_EXIST } sel_operator;

typedef struct sel_requirement {
  char key[SM_LABEL_KEY_MAX];
  sel_operator op;
  int n_values;
  char values[SM_SELECTOR_VALUES_MAX][SM_LABEL_VALUE_MAX];
} sel_requirement;

/* A metav1.LabelSelector. present == false: the field was absent (matches everything). */
typedef struct label_selector {
  bool present;
  int n_labels;
  char label_keys[SM_SELECTOR_LABELS_MAX][SM_LABEL_KEY_MAX];
  char label_values[SM_SELECTOR_LABELS_MAX][SM_LABEL_VALUE_MAX];
  int n_exprs;
  sel_requirement exprs[SM_SELECTOR_EXPR_MAX];
} label_selector;

/* Whether labels (a JSON object of string values, may be NULL) match the selector. */
bool sel_matches(const label_selector *s, const cJSON *labels);

typedef enum { SM_MECH_PROPORTIONAL_SHARE = 0 } sm_mechanism;
typedef enum { SM_MODE_ENFORCE = 0, SM_MODE_RECOMMEND, SM_MODE_PAUSED } sm_mode;
typedef enum { SM_RESIZE_LIMITS = 0, SM_RESIZE_REQUESTS, SM_RESIZE_BOTH } sm_resize_policy;

typedef struct sm_guardrails {
  bool has_max_step_cpu;
  int64_t max_step_cpu_milli; /* when has_max_step_cpu */
  int32_t max_step_percent;   /* default 50 */
  int64_t cooldown_ms;        /* default 30s */
  bool dead_band_is_percent;  /* "5%" (default) vs a quantity */
  double dead_band_percent;   /* when dead_band_is_percent: 5.0 for "5%" */
  int64_t dead_band_milli;    /* otherwise */
  bool memory_increase_only;  /* default true */
} sm_guardrails;

typedef struct sm_horizontal {
  bool enabled;                /* default false */
  double scale_out_demand;     /* default 0.85, (0,1] */
  int64_t scale_out_window_ms; /* default 1m */
  double scale_in_demand;      /* default 0.3, [0,1], < scale_out_demand */
  int64_t scale_in_window_ms;  /* default 5m */
  int32_t max_replicas_total;  /* 0 = no ceiling */
  int64_t cooldown_ms;         /* default 2m */
} sm_horizontal;

typedef struct sm_ns_cap {
  char namespace_[API_NS_MAX];
  int64_t max_budget_milli; /* > 0 */
} sm_ns_cap;

typedef struct sm_spec {
  label_selector node_selector;
  label_selector namespace_selector;
  int64_t clearing_interval_ms; /* default 15s, 1s..1h */
  sm_mechanism mechanism;
  int64_t reserve_milli; /* default 0 */
  sm_mode mode;
  sm_resize_policy resize_policy;
  sm_guardrails guardrails;
  sm_horizontal horizontal;
  int n_ns_caps;
  sm_ns_cap ns_caps[SM_NS_CAPS_MAX];
} sm_spec;

typedef struct sm_node_status {
  char name[API_NAME_MAX];
  int64_t capacity_milli;
  int64_t allocated_milli;
  char price[33]; /* decimal string as written */
  bool contended;
  int32_t participants;
} sm_node_status;

typedef struct sm_status {
  cond_list conditions;
  int64_t observed_generation;
  time_t last_clearing_time;         /* 0 = never */
  int64_t last_clearing_duration_us; /* written as "1.234ms" etc. */
  char last_decision_id[65];
  int32_t node_count;
  int32_t participants;
  int32_t contended_nodes;
  char fairness[17]; /* "0.973"; "" = unknown */
  int n_nodes;
  sm_node_status nodes[SM_STATUS_NODES_MAX];
  int32_t nodes_omitted;
} sm_status;

typedef struct scalingmarket {
  api_meta meta;
  sm_spec spec;
  sm_status status;
} scalingmarket;

/* Parse, default and validate a whole object. */
mbcas_rc sm_parse(scalingmarket **out, const cJSON *obj, mbcas_err *err);
/* The same from JSON text. */
mbcas_rc sm_parse_str(scalingmarket **out, const char *json, mbcas_err *err);
/* Parse .spec alone into spec (defaults applied); path prefix "spec". */
mbcas_rc sm_spec_from_json(sm_spec *spec, const cJSON *spec_json, mbcas_err *err);
/* Defaults of an empty spec (what the API server fills in). */
void sm_spec_defaults(sm_spec *spec);
/* Parse .status (NULL -> empty). Errors name "status...". Clears out first. */
mbcas_rc sm_status_from_json(sm_status *out, const cJSON *status_json, mbcas_err *err);
/* status as JSON (NULL on ENOMEM). */
cJSON *sm_status_to_json(const sm_status *st);
/* Free conditions inside st (not st itself). */
void sm_status_clear(sm_status *st);
void sm_free(scalingmarket *sm);

const char *sm_mode_str(sm_mode m);
const char *sm_resize_policy_str(sm_resize_policy p);

#endif
