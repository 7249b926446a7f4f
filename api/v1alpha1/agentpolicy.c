/* agentpolicy.c - AgentPolicy parse/validate/default/serialize; see agentpolicy.h. */
#include "agentpolicy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"

#define TRY(x)                                                                                               \
  do {                                                                                                       \
    mbcas_rc rc_ = (x);                                                                                      \
    if (rc_ != MBCAS_OK) return rc_;                                                                         \
  } while (0)

static const char *const resources[] = {"cpu", "memory", NULL};
static const char *const relatives[] = {"Request", "Limit", NULL};
static const char *const formats[] = {"Demand", "Prometheus", NULL};
static const char *const combines[] = {"Max", "WeightedSum", NULL};
static const char *const methods[] = {"HoltWinters", "None", NULL};

const char *ap_combine_str(ap_combine c) {
  return (c >= 0 && c <= AP_COMBINE_WEIGHTED_SUM) ? combines[c] : "Max";
}

void ap_spec_defaults(ap_spec *s) {
  memset(s, 0, sizeof *s);
  s->combine = AP_COMBINE_MAX;
  s->half_life_ms = 60000;
  s->stale_after_ms = 120000;
  s->fallback_demand = 0.5;
  s->forecast_enabled = false;
  s->forecast_method = AP_FORECAST_HOLT_WINTERS;
  s->forecast_horizon_ms = 300000;
  s->forecast_season_ms = 24LL * 3600 * 1000;
  s->forecast_lead_ms = 60000;
  s->forecast_error_band = 0.5;
}

void ap_spec_builtin(ap_spec *s) {
  ap_spec_defaults(s);
  s->n_signals = 1;
  ap_signal *g = &s->signals[0];
  snprintf(g->name, sizeof g->name, "cpu");
  g->source = AP_SOURCE_RESOURCE;
  g->resource = AP_RESOURCE_CPU;
  g->relative_to = AP_RELATIVE_REQUEST;
  g->target = 0.8;
  g->weight = 1.0;
}

static int has_key(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return v && !cJSON_IsNull(v);
}

static mbcas_rc parse_signal(ap_signal *g, const cJSON *o, const char *pi, mbcas_err *err) {
  char p[JU_PATH_MAX], pf[JU_PATH_MAX];
  memset(g, 0, sizeof *g);
  if (!cJSON_IsObject(o))
    return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
  TRY(ju_string(g->name, sizeof g->name, NULL, o, "name", pi, 1, 1, 63, err));
  if (!ju_is_dns_label(g->name))
    return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, pi, "name"),
                         "Invalid value: \"%s\": %s in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
                         g->name, pf);
  g->weight = 1.0;
  g->relative_to = AP_RELATIVE_REQUEST;
  g->pod_format = AP_POD_FORMAT_DEMAND;
  snprintf(g->pod_path, sizeof g->pod_path, "/demand");

  const cJSON *r, *pr, *pod;
  int e = 0, has = 0;
  TRY(ju_object(&r, o, "resource", pi, 0, err));
  if (r) {
    ju_path(p, sizeof p, pi, "resource");
    TRY(ju_enum(&e, NULL, r, "name", p, resources, 1, err));
    g->resource = (ap_resource_name)e;
    TRY(ju_enum(&e, &has, r, "relativeTo", p, relatives, 0, err));
    if (has) g->relative_to = (ap_relative_to)e;
  }
  TRY(ju_object(&pr, o, "prometheus", pi, 0, err));
  if (pr) {
    ju_path(p, sizeof p, pi, "prometheus");
    TRY(ju_string(g->prom_address, sizeof g->prom_address, NULL, pr, "address", p, 1, 8, 2048, err));
    const char *a = g->prom_address;
    int ok = strncmp(a, "http://", 7) == 0 ? a[7] != '\0' : strncmp(a, "https://", 8) == 0 ? a[8] != '\0' : 0;
    for (const char *c = a; ok && *c; c++)
      if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '\f' || *c == '\v') ok = 0;
    if (!ok)
      return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, p, "address"),
                           "Invalid value: \"%s\": %s in body should match '^https?://[^\\s]+$'", a, pf);
    TRY(ju_string(g->prom_query, sizeof g->prom_query, NULL, pr, "query", p, 1, 1, 4096, err));
  }
  TRY(ju_object(&pod, o, "pod", pi, 0, err));
  if (pod) {
    ju_path(p, sizeof p, pi, "pod");
    int64_t port = 0;
    TRY(ju_int(&port, NULL, pod, "port", p, 1, 1, 65535, err));
    g->pod_port = (int32_t)port;
    TRY(ju_string(g->pod_path, sizeof g->pod_path, &has, pod, "path", p, 0, 1, 1024, err));
    if (has) {
      int ok = g->pod_path[0] == '/';
      for (const char *c = g->pod_path; ok && *c; c++)
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '\f' || *c == '\v') ok = 0;
      if (!ok)
        return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, p, "path"),
                             "Invalid value: \"%s\": %s in body should match '^/[^\\s]*$'", g->pod_path, pf);
    }
    TRY(ju_enum(&e, &has, pod, "format", p, formats, 0, err));
    if (has) g->pod_format = (ap_pod_format)e;
    TRY(ju_string(g->pod_metric, sizeof g->pod_metric, &has, pod, "metric", p, 0, 1, 256, err));
    if (has) {
      const char *m = g->pod_metric;
      int ok = (m[0] >= 'a' && m[0] <= 'z') || (m[0] >= 'A' && m[0] <= 'Z') || m[0] == '_' || m[0] == ':';
      for (const char *c = m + 1; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
             *c == ':';
      if (!ok)
        return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, p, "metric"),
                             "Invalid value: \"%s\": %s in body should match '^[a-zA-Z_:][a-zA-Z0-9_:]*$'", m,
                             pf);
    }
    if (g->pod_format == AP_POD_FORMAT_PROMETHEUS && !has)
      return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, p, "metric"),
                           "required when format is Prometheus");
  }
  int has_target = 0;
  TRY(ju_number(&g->target, &has_target, o, "target", pi, 0, 0.0, 1, INFINITY, err));
  TRY(ju_number(&g->weight, NULL, o, "weight", pi, 0, 0.0, 1, 1.0, err));
  /* CEL rules, in the CRD's order */
  int nsrc = has_key(o, "resource") + has_key(o, "prometheus") + has_key(o, "pod");
  if (nsrc != 1)
    return mbcas_err_set(err, MBCAS_EINVAL, pi, "exactly one of resource, prometheus or pod must be set");
  g->source = r ? AP_SOURCE_RESOURCE : pr ? AP_SOURCE_PROMETHEUS : AP_SOURCE_POD;
  if (!has_target) {
    if (!(pod && g->pod_format == AP_POD_FORMAT_DEMAND))
      return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, pi, "target"),
                           "required unless the source is pod with format Demand");
    g->target = 1.0;
  }
  return MBCAS_OK;
}

mbcas_rc ap_spec_from_json(ap_spec *s, const cJSON *sj, mbcas_err *err) {
  const char *P = "spec";
  ap_spec_defaults(s);
  if (!sj || !cJSON_IsObject(sj))
    return mbcas_err_set(err, MBCAS_EINVAL, P,
                         sj ? "Invalid value: spec in body must be of type object" : "Required value");
  const cJSON *sigs;
  TRY(ju_array(&sigs, sj, "signals", P, 1, 1, AP_SIGNALS_MAX, err));
  for (int i = 0; i < cJSON_GetArraySize(sigs); i++) {
    char pi[JU_PATH_MAX];
    ju_path_idx(pi, sizeof pi, "spec.signals", i);
    TRY(parse_signal(&s->signals[i], cJSON_GetArrayItem(sigs, i), pi, err));
    for (int j = 0; j < i; j++)
      if (strcmp(s->signals[j].name, s->signals[i].name) == 0)
        return mbcas_err_set(err, MBCAS_EINVAL, pi,
                             "Duplicate value: map[string]interface {}{\"name\":\"%s\"}", s->signals[i].name);
    s->n_signals = i + 1;
  }
  int e = 0, has = 0;
  TRY(ju_enum(&e, &has, sj, "combine", P, combines, 0, err));
  if (has) s->combine = (ap_combine)e;
  const cJSON *sm;
  TRY(ju_object(&sm, sj, "smoothing", P, 0, err));
  if (sm) TRY(ju_duration(&s->half_life_ms, NULL, sm, "halfLife", "spec.smoothing", 0, err));
  TRY(ju_duration(&s->stale_after_ms, NULL, sj, "staleAfter", P, 0, err));
  if (s->stale_after_ms < 1000 || s->stale_after_ms > 3600000)
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.staleAfter", "must be between 1s and 1h");
  TRY(ju_number(&s->fallback_demand, NULL, sj, "fallbackDemand", P, 0, 0.0, 0, 1.0, err));
  const cJSON *f;
  int has_lead = 0;
  TRY(ju_object(&f, sj, "forecast", P, 0, err));
  if (f) {
    const char *FP = "spec.forecast";
    int b = 0;
    TRY(ju_bool(&b, &has, f, "enabled", FP, 0, err));
    if (has) s->forecast_enabled = b;
    TRY(ju_enum(&e, &has, f, "method", FP, methods, 0, err));
    if (has) s->forecast_method = (ap_forecast_method)e;
    TRY(ju_duration(&s->forecast_horizon_ms, NULL, f, "horizon", FP, 0, err));
    if (s->forecast_horizon_ms < 1000)
      return mbcas_err_set(err, MBCAS_EINVAL, "spec.forecast.horizon", "must be at least 1s");
    TRY(ju_duration(&s->forecast_lead_ms, &has_lead, f, "leadTime", FP, 0, err));
    if (has_lead && s->forecast_lead_ms < 1000)
      return mbcas_err_set(err, MBCAS_EINVAL, "spec.forecast.leadTime", "must be at least 1s");
    TRY(ju_number(&s->forecast_error_band, NULL, f, "errorBand", FP, 0, 0.0, 0, 5.0, err));
    TRY(ju_duration(&s->forecast_season_ms, NULL, f, "seasonPeriod", FP, 0, err));
    if (s->forecast_season_ms < 60000 || s->forecast_season_ms > 168LL * 3600 * 1000)
      return mbcas_err_set(err, MBCAS_EINVAL, "spec.forecast.seasonPeriod", "must be between 1m and 168h");
  }
  if (!(s->forecast_horizon_ms < s->forecast_season_ms))
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.forecast.horizon", "must be shorter than seasonPeriod");
  if (!has_lead && s->forecast_lead_ms > s->forecast_horizon_ms)
    s->forecast_lead_ms = s->forecast_horizon_ms; /* the default, 1m, never exceeds the horizon */
  if (s->forecast_lead_ms > s->forecast_horizon_ms)
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.forecast.leadTime", "must not be longer than horizon");
  if (s->combine == AP_COMBINE_WEIGHTED_SUM) {
    double sum = 0;
    for (int i = 0; i < s->n_signals; i++)
      sum += s->signals[i].weight;
    if (!(sum >= 0.999 && sum <= 1.001))
      return mbcas_err_set(err, MBCAS_EINVAL, "spec.signals",
                           "weights must add up to 1 when combine is WeightedSum");
  }
  return MBCAS_OK;
}

static mbcas_rc status_parse(ap_status *st, const cJSON *j, mbcas_err *err) {
  const char *P = "status";
  TRY(ju_int(&st->observed_generation, NULL, j, "observedGeneration", P, 0, 0, INT64_MAX, err));
  TRY(ju_time(&st->last_evaluation_time, NULL, j, "lastEvaluationTime", P, 0, err));
  int64_t v = 0;
  TRY(ju_int(&v, NULL, j, "healthySignals", P, 0, 0, INT32_MAX, err));
  int64_t count = 0; /* derived from signals[] on output; checked, not stored */
  TRY(ju_int(&count, NULL, j, "signalCount", P, 0, 0, INT32_MAX, err));
  st->healthy_signals = (int32_t)v;
  const cJSON *a;
  TRY(ju_array(&a, j, "signals", P, 0, 0, AP_SIGNALS_MAX, err));
  for (int i = 0; a && i < cJSON_GetArraySize(a); i++) {
    const cJSON *o = cJSON_GetArrayItem(a, i);
    ap_signal_status *ss = &st->signals[i];
    char pi[JU_PATH_MAX], pf[JU_PATH_MAX], b[40];
    ju_path_idx(pi, sizeof pi, "status.signals", i);
    if (!cJSON_IsObject(o))
      return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
    TRY(ju_string(ss->name, sizeof ss->name, NULL, o, "name", pi, 1, 0, 63, err));
    int h = 0, bv = 0;
    TRY(ju_bool(&bv, NULL, o, "healthy", pi, 0, err));
    ss->healthy = bv;
    TRY(ju_string(b, sizeof b, &h, o, "lastValue", pi, 0, 0, 32, err));
    if (h) {
      char *end = NULL;
      ss->last_value = strtod(b, &end);
      if (end == b || *end || !isfinite(ss->last_value))
        return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, pi, "lastValue"),
                             "Invalid value: \"%s\": must be a decimal number", b);
      ss->has_last_value = true;
    }
    TRY(ju_string(ss->last_error, sizeof ss->last_error, NULL, o, "lastError", pi, 0, 0, 1024, err));
    TRY(ju_time(&ss->last_time, NULL, o, "lastTime", pi, 0, err));
    st->n_signals = i + 1;
  }
  return cond_list_from_json(&st->conditions, cJSON_GetObjectItemCaseSensitive(j, "conditions"),
                             "status.conditions", err);
}

mbcas_rc ap_status_from_json(ap_status *st, const cJSON *j, mbcas_err *err) {
  memset(st, 0, sizeof *st);
  if (!j || cJSON_IsNull(j)) return MBCAS_OK;
  if (!cJSON_IsObject(j))
    return mbcas_err_set(err, MBCAS_EINVAL, "status", "Invalid value: status in body must be of type object");
  mbcas_rc rc = status_parse(st, j, err);
  if (rc != MBCAS_OK) ap_status_clear(st);
  return rc;
}

cJSON *ap_status_to_json(const ap_status *st) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON *conds = cond_list_to_json(&st->conditions);
  if (!conds) goto fail;
  cJSON_AddItemToObject(o, "conditions", conds);
  cJSON_AddNumberToObject(o, "observedGeneration", (double)st->observed_generation);
  ju_add_time(o, "lastEvaluationTime", st->last_evaluation_time);
  cJSON_AddNumberToObject(o, "signalCount", st->n_signals); /* printer column "Signals" */
  cJSON_AddNumberToObject(o, "healthySignals", st->healthy_signals);
  cJSON *a = cJSON_AddArrayToObject(o, "signals");
  if (!a) goto fail;
  for (int i = 0; i < st->n_signals && i < AP_SIGNALS_MAX; i++) {
    const ap_signal_status *ss = &st->signals[i];
    cJSON *e = cJSON_CreateObject();
    if (!e) goto fail;
    cJSON_AddItemToArray(a, e);
    cJSON_AddStringToObject(e, "name", ss->name);
    cJSON_AddBoolToObject(e, "healthy", ss->healthy);
    if (ss->has_last_value) {
      char b[40];
      snprintf(b, sizeof b, "%.6g", ss->last_value);
      cJSON_AddStringToObject(e, "lastValue", b);
    }
    ju_add_str(e, "lastError", ss->last_error);
    ju_add_time(e, "lastTime", ss->last_time);
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

void ap_status_clear(ap_status *st) {
  if (!st) return;
  cond_list_clear(&st->conditions);
  memset(st, 0, sizeof *st);
}

mbcas_rc ap_parse(agentpolicy **out, const cJSON *obj, mbcas_err *err) {
  *out = NULL;
  if (!cJSON_IsObject(obj)) return mbcas_err_set(err, MBCAS_EINVAL, "", "object expected");
  agentpolicy *ap = calloc(1, sizeof *ap);
  if (!ap) return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  mbcas_rc rc;
  const cJSON *spec;
  if ((rc = meta_parse(&ap->meta, obj, 1, err))) goto fail;
  if ((rc = ju_object(&spec, obj, "spec", "", 1, err))) goto fail;
  if ((rc = ap_spec_from_json(&ap->spec, spec, err))) goto fail;
  if ((rc = ap_status_from_json(&ap->status, cJSON_GetObjectItemCaseSensitive(obj, "status"), err)))
    goto fail;
  *out = ap;
  return MBCAS_OK;
fail:
  ap_free(ap);
  return rc;
}

mbcas_rc ap_parse_str(agentpolicy **out, const char *json, mbcas_err *err) {
  *out = NULL;
  cJSON *j = json ? cJSON_Parse(json) : NULL;
  if (!j) return mbcas_err_set(err, MBCAS_EINVAL, "", "malformed JSON");
  mbcas_rc rc = ap_parse(out, j, err);
  cJSON_Delete(j);
  return rc;
}

void ap_free(agentpolicy *ap) {
  if (!ap) return;
  ap_status_clear(&ap->status);
  free(ap);
}
