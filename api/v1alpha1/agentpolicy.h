/* agentpolicy.h - the AgentPolicy kind (mbcas.io/v1alpha1, namespaced).
 *
 * How a service's demand intensity in [0,1] is sensed: signals (resource usage from
 * metrics.k8s.io, a Prometheus query, or a pod HTTP endpoint), each with a target
 * (the value where its pressure reaches 1) and a weight; how they combine; EWMA
 * smoothing; staleness; fallback demand; optional Holt-Winters forecast.
 * ap_parse() applies the CRD schema, its CEL rules and defaults, and reports the
 * first error with its field path ("spec.signals[0]: exactly one of resource,
 * prometheus or pod must be set"). Durations are milliseconds.
 * Size: sizeof is about 92 KB (fixed buffers at the CRD maxima); parse on demand
 * rather than keeping thousands parsed.
 * Owns: the object returned through **out (ap_free). Thread safety: values only. */
#ifndef MBCAS_API_AGENTPOLICY_H
#define MBCAS_API_AGENTPOLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "conditions.h"
#include "meta.h"
#include "result.h"

#define AP_GROUP_VERSION "mbcas.io/v1alpha1"
#define AP_KIND "AgentPolicy"
#define AP_RESOURCE "agentpolicies"

#define AP_SIGNALS_MAX 8
#define AP_ADDRESS_MAX 2049
#define AP_QUERY_MAX 4097
#define AP_PATH_MAX 1025
#define AP_METRIC_MAX 257
#define AP_ERROR_MAX 1025

#define AP_COND_READY "Ready"
#define AP_COND_INVALID "Invalid"

typedef enum { AP_SOURCE_RESOURCE = 0, AP_SOURCE_PROMETHEUS, AP_SOURCE_POD } ap_source_kind;
typedef enum { AP_RESOURCE_CPU = 0, AP_RESOURCE_MEMORY } ap_resource_name;
typedef enum { AP_RELATIVE_REQUEST = 0, AP_RELATIVE_LIMIT } ap_relative_to;
typedef enum { AP_POD_FORMAT_DEMAND = 0, AP_POD_FORMAT_PROMETHEUS } ap_pod_format;
typedef enum { AP_COMBINE_MAX = 0, AP_COMBINE_WEIGHTED_SUM } ap_combine;
typedef enum { AP_FORECAST_HOLT_WINTERS = 0, AP_FORECAST_NONE } ap_forecast_method;

typedef struct ap_signal {
  char name[64];
  ap_source_kind source;
  /* source == AP_SOURCE_RESOURCE */
  ap_resource_name resource;
  ap_relative_to relative_to; /* default Request */
  /* source == AP_SOURCE_PROMETHEUS */
  char prom_address[AP_ADDRESS_MAX];
  char prom_query[AP_QUERY_MAX];
  /* source == AP_SOURCE_POD */
  int32_t pod_port;
  char pod_path[AP_PATH_MAX];     /* default "/demand" */
  ap_pod_format pod_format;       /* default Demand */
  char pod_metric[AP_METRIC_MAX]; /* required when format Prometheus */
  double target;                  /* > 0; 1 when absent (pod, format Demand) */
  double weight;                  /* (0,1], default 1 */
} ap_signal;

typedef struct ap_spec {
  int n_signals;
  ap_signal signals[AP_SIGNALS_MAX];
  ap_combine combine;                 /* default Max */
  int64_t half_life_ms;               /* default 1m; 0 = no smoothing */
  int64_t stale_after_ms;             /* default 2m, 1s..1h */
  double fallback_demand;             /* default 0.5 */
  bool forecast_enabled;              /* default false */
  ap_forecast_method forecast_method; /* default HoltWinters */
  int64_t forecast_horizon_ms;        /* default 5m, >= 1s, < season */
  int64_t forecast_season_ms;         /* default 24h, 1m..168h */
  int64_t forecast_lead_ms;           /* default 1m, >= 1s, <= horizon */
  double forecast_error_band;         /* default 0.5, [0, 5] */
} ap_spec;

typedef struct ap_signal_status {
  char name[64];
  bool healthy;
  bool has_last_value;
  double last_value;
  char last_error[AP_ERROR_MAX];
  time_t last_time;
} ap_signal_status;

typedef struct ap_status {
  cond_list conditions;
  int64_t observed_generation;
  time_t last_evaluation_time;
  int32_t healthy_signals; /* signalCount is written as n_signals */
  int n_signals;
  ap_signal_status signals[AP_SIGNALS_MAX];
} ap_status;

typedef struct agentpolicy {
  api_meta meta;
  ap_spec spec;
  ap_status status;
} agentpolicy;

mbcas_rc ap_parse(agentpolicy **out, const cJSON *obj, mbcas_err *err);
mbcas_rc ap_parse_str(agentpolicy **out, const char *json, mbcas_err *err);
mbcas_rc ap_spec_from_json(ap_spec *spec, const cJSON *spec_json, mbcas_err *err);
/* Defaults of an empty spec (no signals). */
void ap_spec_defaults(ap_spec *spec);
/* The policy used when a ServiceBudget has no agentPolicyRef: one signal "cpu"
 * (resource cpu relative to Request, target 0.8), half-life 1m, defaults otherwise. */
void ap_spec_builtin(ap_spec *spec);
mbcas_rc ap_status_from_json(ap_status *out, const cJSON *status_json, mbcas_err *err);
cJSON *ap_status_to_json(const ap_status *st);
void ap_status_clear(ap_status *st);
void ap_free(agentpolicy *ap);

const char *ap_combine_str(ap_combine c);

#endif
