/* scalingmarket.c - ScalingMarket parse/validate/default/serialize; see scalingmarket.h. */
#include "scalingmarket.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "jsonutil.h"
#include "quantity.h"

#define TRY(x)                                                                                               \
  do {                                                                                                       \
    mbcas_rc rc_ = (x);                                                                                      \
    if (rc_ != MBCAS_OK) return rc_;                                                                         \
  } while (0)

static const char *const modes[] = {"Enforce", "Recommend", "Paused", NULL};
static const char *const policies[] = {"Limits", "Requests", "Both", NULL};
static const char *const mechanisms[] = {"ProportionalShare", NULL};
static const char *const operators[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

const char *sm_mode_str(sm_mode m) { return (m >= 0 && m <= SM_MODE_PAUSED) ? modes[m] : "Enforce"; }
const char *sm_resize_policy_str(sm_resize_policy p) {
  return (p >= 0 && p <= SM_RESIZE_BOTH) ? policies[p] : "Limits";
}

void sm_spec_defaults(sm_spec *s) {
  memset(s, 0, sizeof *s);
  s->clearing_interval_ms = 15000;
  s->mechanism = SM_MECH_PROPORTIONAL_SHARE;
  s->reserve_milli = 0;
  s->mode = SM_MODE_ENFORCE;
  s->resize_policy = SM_RESIZE_LIMITS;
  s->guardrails.max_step_percent = 50;
  s->guardrails.cooldown_ms = 30000;
  s->guardrails.dead_band_is_percent = true;
  s->guardrails.dead_band_percent = 5.0;
  s->guardrails.memory_increase_only = true;
  s->horizontal.enabled = false;
  s->horizontal.scale_out_demand = 0.85;
  s->horizontal.scale_out_window_ms = 60000;
  s->horizontal.scale_in_demand = 0.3;
  s->horizontal.scale_in_window_ms = 300000;
  s->horizontal.cooldown_ms = 120000;
}

static mbcas_rc parse_selector(label_selector *sel, const cJSON *parent, const char *key, const char *path,
                               mbcas_err *err) {
  char p[JU_PATH_MAX], pe[JU_PATH_MAX], pi[JU_PATH_MAX], pv[JU_PATH_MAX];
  const cJSON *o;
  memset(sel, 0, sizeof *sel);
  TRY(ju_object(&o, parent, key, path, 0, err));
  if (!o) return MBCAS_OK;
  sel->present = true;
  ju_path(p, sizeof p, path, key);
  const cJSON *ml;
  TRY(ju_object(&ml, o, "matchLabels", p, 0, err));
  if (ml) {
    ju_path(pe, sizeof pe, p, "matchLabels");
    const cJSON *it;
    cJSON_ArrayForEach(it, ml) {
      if (!it->string) return mbcas_err_set(err, MBCAS_EINVAL, pe, "Invalid value: member without a key");
      ju_path(pi, sizeof pi, pe, it->string);
      if (sel->n_labels >= SM_SELECTOR_LABELS_MAX)
        return mbcas_err_set(err, MBCAS_EINVAL, pe, "Too many: must have at most %d labels",
                             SM_SELECTOR_LABELS_MAX);
      if (!cJSON_IsString(it))
        return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type string", pi);
      if (strlen(it->string) == 0 || strlen(it->string) >= SM_LABEL_KEY_MAX)
        return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: bad label key");
      if (strlen(it->valuestring) > 63)
        return mbcas_err_set(err, MBCAS_EINVAL, pi, "Too long: may not be more than 63 bytes");
      snprintf(sel->label_keys[sel->n_labels], SM_LABEL_KEY_MAX, "%s", it->string);
      snprintf(sel->label_values[sel->n_labels], SM_LABEL_VALUE_MAX, "%s", it->valuestring);
      sel->n_labels++;
    }
  }
  const cJSON *me;
  TRY(ju_array(&me, o, "matchExpressions", p, 0, 0, SM_SELECTOR_EXPR_MAX, err));
  ju_path(pe, sizeof pe, p, "matchExpressions");
  for (int i = 0; me && i < cJSON_GetArraySize(me); i++) {
    const cJSON *e = cJSON_GetArrayItem(me, i);
    sel_requirement *r = &sel->exprs[i];
    ju_path_idx(pi, sizeof pi, pe, i);
    if (!cJSON_IsObject(e))
      return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
    TRY(ju_string(r->key, sizeof r->key, NULL, e, "key", pi, 1, 1, 317, err));
    int op = 0;
    TRY(ju_enum(&op, NULL, e, "operator", pi, operators, 1, err));
    r->op = (sel_operator)op;
    const cJSON *vals;
    TRY(ju_array(&vals, e, "values", pi, 0, 0, SM_SELECTOR_VALUES_MAX, err));
    ju_path(pv, sizeof pv, pi, "values");
    for (int j = 0; vals && j < cJSON_GetArraySize(vals); j++) {
      const cJSON *v = cJSON_GetArrayItem(vals, j);
      char pj[JU_PATH_MAX];
      ju_path_idx(pj, sizeof pj, pv, j);
      if (!cJSON_IsString(v))
        return mbcas_err_set(err, MBCAS_EINVAL, pj, "Invalid value: %s in body must be of type string", pj);
      if (strlen(v->valuestring) > 63)
        return mbcas_err_set(err, MBCAS_EINVAL, pj, "Too long: may not be more than 63 bytes");
      snprintf(r->values[j], SM_LABEL_VALUE_MAX, "%s", v->valuestring);
      r->n_values = j + 1;
    }
    bool needs = r->op == SEL_IN || r->op == SEL_NOT_IN;
    if (needs != (r->n_values > 0))
      return mbcas_err_set(err, MBCAS_EINVAL, pv,
                           "values must be non-empty for In and NotIn and empty for Exists and DoesNotExist");
    sel->n_exprs = i + 1;
  }
  return MBCAS_OK;
}

static const char *label_get(const cJSON *labels, const char *key) {
  const cJSON *v = labels ? cJSON_GetObjectItemCaseSensitive(labels, key) : NULL;
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool sel_matches(const label_selector *s, const cJSON *labels) {
  if (!s || !s->present) return true;
  for (int i = 0; i < s->n_labels; i++) {
    const char *v = label_get(labels, s->label_keys[i]);
    if (!v || strcmp(v, s->label_values[i]) != 0) return false;
  }
  for (int i = 0; i < s->n_exprs; i++) {
    const sel_requirement *r = &s->exprs[i];
    const char *v = label_get(labels, r->key);
    bool in = false;
    for (int j = 0; v && j < r->n_values; j++)
      if (strcmp(v, r->values[j]) == 0) in = true;
    switch (r->op) {
    case SEL_IN:
      if (!in) return false;
      break;
    case SEL_NOT_IN:
      if (in) return false;
      break;
    case SEL_EXISTS:
      if (!v) return false;
      break;
    case SEL_DOES_NOT_EXIST:
      if (v) return false;
      break;
    }
  }
  return true;
}

static mbcas_rc parse_dead_band(sm_guardrails *g, const cJSON *gj, const char *path, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, "deadBand");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(gj, "deadBand");
  if (!v || cJSON_IsNull(v)) return MBCAS_OK;
  if (cJSON_IsString(v)) {
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (n > 64) return mbcas_err_set(err, MBCAS_EINVAL, p, "Too long: may not be more than 64 bytes");
    if (n > 0 && s[n - 1] == '%') {
      /* ^[0-9]+(\.[0-9]+)?%$ */
      size_t i = 0, d1 = 0, d2 = 0;
      while (i < n - 1 && s[i] >= '0' && s[i] <= '9') {
        i++;
        d1++;
      }
      if (i < n - 1 && s[i] == '.') {
        i++;
        while (i < n - 1 && s[i] >= '0' && s[i] <= '9') {
          i++;
          d2++;
        }
        if (d2 == 0) d1 = 0;
      }
      if (d1 == 0 || i != n - 1)
        return mbcas_err_set(err, MBCAS_EINVAL, p,
                             "Invalid value: \"%s\": must be a CPU quantity (25m) or a percentage (5%%)", s);
      g->dead_band_is_percent = true;
      g->dead_band_percent = strtod(s, NULL);
      return MBCAS_OK;
    }
  }
  TRY(ju_quantity_milli(&g->dead_band_milli, NULL, gj, "deadBand", path, 0, err));
  g->dead_band_is_percent = false;
  g->dead_band_percent = 0;
  return MBCAS_OK;
}

mbcas_rc sm_spec_from_json(sm_spec *s, const cJSON *sj, mbcas_err *err) {
  const char *P = "spec";
  char p[JU_PATH_MAX];
  sm_spec_defaults(s);
  if (!sj) return MBCAS_OK;
  if (!cJSON_IsObject(sj))
    return mbcas_err_set(err, MBCAS_EINVAL, P, "Invalid value: spec in body must be of type object");
  TRY(parse_selector(&s->node_selector, sj, "nodeSelector", P, err));
  TRY(parse_selector(&s->namespace_selector, sj, "namespaceSelector", P, err));
  int has = 0;
  TRY(ju_duration(&s->clearing_interval_ms, &has, sj, "clearingInterval", P, 0, err));
  if (s->clearing_interval_ms < 1000 || s->clearing_interval_ms > 3600000)
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.clearingInterval", "must be between 1s and 1h");
  int e = 0;
  TRY(ju_enum(&e, &has, sj, "mechanism", P, mechanisms, 0, err));
  if (has) s->mechanism = (sm_mechanism)e;
  TRY(ju_quantity_milli(&s->reserve_milli, NULL, sj, "reserve", P, 0, err));
  TRY(ju_enum(&e, &has, sj, "mode", P, modes, 0, err));
  if (has) s->mode = (sm_mode)e;
  TRY(ju_enum(&e, &has, sj, "resizePolicy", P, policies, 0, err));
  if (has) s->resize_policy = (sm_resize_policy)e;

  const cJSON *g;
  TRY(ju_object(&g, sj, "guardrails", P, 0, err));
  if (g) {
    ju_path(p, sizeof p, P, "guardrails");
    sm_guardrails *gr = &s->guardrails;
    int hs = 0;
    TRY(ju_quantity_milli(&gr->max_step_cpu_milli, &hs, g, "maxStepCPU", p, 0, err));
    gr->has_max_step_cpu = hs;
    int64_t v = gr->max_step_percent;
    TRY(ju_int(&v, NULL, g, "maxStepPercent", p, 0, 1, 1000, err));
    gr->max_step_percent = (int32_t)v;
    TRY(ju_duration(&gr->cooldown_ms, NULL, g, "cooldown", p, 0, err));
    TRY(parse_dead_band(gr, g, p, err));
    int b = gr->memory_increase_only;
    TRY(ju_bool(&b, NULL, g, "memoryIncreaseOnly", p, 0, err));
    gr->memory_increase_only = b;
  }
  const cJSON *h;
  TRY(ju_object(&h, sj, "horizontal", P, 0, err));
  if (h) {
    ju_path(p, sizeof p, P, "horizontal");
    sm_horizontal *hz = &s->horizontal;
    int b = hz->enabled;
    TRY(ju_bool(&b, NULL, h, "enabled", p, 0, err));
    hz->enabled = b;
    TRY(ju_number(&hz->scale_out_demand, NULL, h, "scaleOutDemand", p, 0, 0.0, 1, 1.0, err));
    TRY(ju_duration(&hz->scale_out_window_ms, NULL, h, "scaleOutWindow", p, 0, err));
    TRY(ju_number(&hz->scale_in_demand, NULL, h, "scaleInDemand", p, 0, 0.0, 0, 1.0, err));
    TRY(ju_duration(&hz->scale_in_window_ms, NULL, h, "scaleInWindow", p, 0, err));
    int64_t mr = 0;
    TRY(ju_int(&mr, NULL, h, "maxReplicasTotal", p, 0, 1, 100000, err));
    hz->max_replicas_total = (int32_t)mr;
    TRY(ju_duration(&hz->cooldown_ms, NULL, h, "cooldown", p, 0, err));
  }
  if (!(s->horizontal.scale_in_demand < s->horizontal.scale_out_demand))
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.horizontal.scaleInDemand",
                         "must be lower than scaleOutDemand");

  const cJSON *caps;
  TRY(ju_array(&caps, sj, "namespaceBudgetCaps", P, 0, 0, SM_NS_CAPS_MAX, err));
  for (int i = 0; caps && i < cJSON_GetArraySize(caps); i++) {
    const cJSON *c = cJSON_GetArrayItem(caps, i);
    char pi[JU_PATH_MAX], pf[JU_PATH_MAX];
    ju_path_idx(pi, sizeof pi, "spec.namespaceBudgetCaps", i);
    if (!cJSON_IsObject(c))
      return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
    sm_ns_cap *nc = &s->ns_caps[i];
    TRY(ju_string(nc->namespace_, sizeof nc->namespace_, NULL, c, "namespace", pi, 1, 1, 63, err));
    if (!ju_is_dns_label(nc->namespace_))
      return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, pi, "namespace"),
                           "Invalid value: \"%s\": %s in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
                           nc->namespace_, pf);
    TRY(ju_quantity_milli(&nc->max_budget_milli, NULL, c, "maxBudget", pi, 1, err));
    if (nc->max_budget_milli <= 0)
      return mbcas_err_set(err, MBCAS_EINVAL, ju_path(pf, sizeof pf, pi, "maxBudget"),
                           "must be greater than 0");
    for (int j = 0; j < i; j++)
      if (strcmp(s->ns_caps[j].namespace_, nc->namespace_) == 0)
        return mbcas_err_set(err, MBCAS_EINVAL, pi,
                             "Duplicate value: map[string]interface {}{\"namespace\":\"%s\"}",
                             nc->namespace_);
    s->n_ns_caps = i + 1;
  }
  return MBCAS_OK;
}

/* "1.234ms" <-> microseconds */
static const char *fmt_us(int64_t us, char *buf, size_t len) {
  snprintf(buf, len, "%lld.%03lldms", (long long)(us / 1000), (long long)(us % 1000));
  return buf;
}

static mbcas_rc parse_us(int64_t *out, const char *s, const char *field, mbcas_err *err) {
  char *end = NULL;
  double v = strtod(s, &end);
  double mul;
  if (end == s || v < 0 || !isfinite(v)) goto bad;
  if (strcmp(end, "us") == 0 || strcmp(end, "\xc2\xb5s") == 0)
    mul = 1;
  else if (strcmp(end, "ms") == 0)
    mul = 1e3;
  else if (strcmp(end, "s") == 0)
    mul = 1e6;
  else
    goto bad;
  *out = (int64_t)llround(v * mul);
  return MBCAS_OK;
bad:
  return mbcas_err_set(err, MBCAS_EINVAL, field, "Invalid value: \"%s\": want a duration like 1.234ms", s);
}

void sm_status_clear(sm_status *st) {
  if (!st) return;
  cond_list_clear(&st->conditions);
  memset(st, 0, sizeof *st);
}

mbcas_rc sm_status_from_json(sm_status *st, const cJSON *j, mbcas_err *err) {
  memset(st, 0, sizeof *st);
  if (!j || cJSON_IsNull(j)) return MBCAS_OK;
  const char *P = "status";
  if (!cJSON_IsObject(j))
    return mbcas_err_set(err, MBCAS_EINVAL, P, "Invalid value: status in body must be of type object");
  mbcas_rc rc;
  int64_t v;
  char buf[40];
  int has = 0;
  if ((rc = ju_int(&st->observed_generation, NULL, j, "observedGeneration", P, 0, 0, INT64_MAX, err)))
    goto fail;
  if ((rc = ju_time(&st->last_clearing_time, NULL, j, "lastClearingTime", P, 0, err))) goto fail;
  if ((rc = ju_string(buf, sizeof buf, &has, j, "lastClearingDuration", P, 0, 0, 32, err))) goto fail;
  if (has && (rc = parse_us(&st->last_clearing_duration_us, buf, "status.lastClearingDuration", err)))
    goto fail;
  if ((rc = ju_string(st->last_decision_id, sizeof st->last_decision_id, NULL, j, "lastDecisionID", P, 0, 0,
                      64, err)))
    goto fail;
  v = 0;
  if ((rc = ju_int(&v, NULL, j, "nodeCount", P, 0, 0, INT32_MAX, err))) goto fail;
  st->node_count = (int32_t)v;
  v = 0;
  if ((rc = ju_int(&v, NULL, j, "participants", P, 0, 0, INT32_MAX, err))) goto fail;
  st->participants = (int32_t)v;
  v = 0;
  if ((rc = ju_int(&v, NULL, j, "contendedNodes", P, 0, 0, INT32_MAX, err))) goto fail;
  st->contended_nodes = (int32_t)v;
  v = 0;
  if ((rc = ju_int(&v, NULL, j, "nodesOmitted", P, 0, 0, INT32_MAX, err))) goto fail;
  st->nodes_omitted = (int32_t)v;
  if ((rc = ju_string(st->fairness, sizeof st->fairness, NULL, j, "fairness", P, 0, 0, 16, err))) goto fail;
  const cJSON *nodes;
  if ((rc = ju_array(&nodes, j, "nodes", P, 0, 0, SM_STATUS_NODES_MAX, err))) goto fail;
  for (int i = 0; nodes && i < cJSON_GetArraySize(nodes); i++) {
    const cJSON *n = cJSON_GetArrayItem(nodes, i);
    sm_node_status *ns = &st->nodes[i];
    char pi[JU_PATH_MAX];
    ju_path_idx(pi, sizeof pi, "status.nodes", i);
    if (!cJSON_IsObject(n)) {
      rc = mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
      goto fail;
    }
    if ((rc = ju_string(ns->name, sizeof ns->name, NULL, n, "name", pi, 1, 0, 253, err))) goto fail;
    if ((rc = ju_quantity_milli(&ns->capacity_milli, NULL, n, "capacity", pi, 0, err))) goto fail;
    if ((rc = ju_quantity_milli(&ns->allocated_milli, NULL, n, "allocated", pi, 0, err))) goto fail;
    if ((rc = ju_string(ns->price, sizeof ns->price, NULL, n, "price", pi, 0, 0, 32, err))) goto fail;
    int b = 0;
    if ((rc = ju_bool(&b, NULL, n, "contended", pi, 0, err))) goto fail;
    ns->contended = b;
    v = 0;
    if ((rc = ju_int(&v, NULL, n, "participants", pi, 0, 0, INT32_MAX, err))) goto fail;
    ns->participants = (int32_t)v;
    st->n_nodes = i + 1;
  }
  if ((rc = cond_list_from_json(&st->conditions, cJSON_GetObjectItemCaseSensitive(j, "conditions"),
                                "status.conditions", err)))
    goto fail;
  return MBCAS_OK;
fail:
  sm_status_clear(st);
  return rc;
}

cJSON *sm_status_to_json(const sm_status *st) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  char b[64];
  cJSON *conds = cond_list_to_json(&st->conditions);
  if (!conds) goto fail;
  cJSON_AddItemToObject(o, "conditions", conds);
  cJSON_AddNumberToObject(o, "observedGeneration", (double)st->observed_generation);
  ju_add_time(o, "lastClearingTime", st->last_clearing_time);
  if (st->last_clearing_time || st->last_clearing_duration_us)
    cJSON_AddStringToObject(o, "lastClearingDuration", fmt_us(st->last_clearing_duration_us, b, sizeof b));
  ju_add_str(o, "lastDecisionID", st->last_decision_id);
  cJSON_AddNumberToObject(o, "nodeCount", st->node_count);
  cJSON_AddNumberToObject(o, "participants", st->participants);
  cJSON_AddNumberToObject(o, "contendedNodes", st->contended_nodes);
  ju_add_str(o, "fairness", st->fairness);
  cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
  if (!nodes) goto fail;
  for (int i = 0; i < st->n_nodes && i < SM_STATUS_NODES_MAX; i++) {
    const sm_node_status *ns = &st->nodes[i];
    cJSON *n = cJSON_CreateObject();
    if (!n) goto fail;
    cJSON_AddItemToArray(nodes, n);
    cJSON_AddStringToObject(n, "name", ns->name);
    cJSON_AddStringToObject(n, "capacity", quantity_format_milli(ns->capacity_milli, b, sizeof b));
    cJSON_AddStringToObject(n, "allocated", quantity_format_milli(ns->allocated_milli, b, sizeof b));
    ju_add_str(n, "price", ns->price);
    cJSON_AddBoolToObject(n, "contended", ns->contended);
    cJSON_AddNumberToObject(n, "participants", ns->participants);
  }
  if (st->nodes_omitted) cJSON_AddNumberToObject(o, "nodesOmitted", st->nodes_omitted);
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

mbcas_rc sm_parse(scalingmarket **out, const cJSON *obj, mbcas_err *err) {
  *out = NULL;
  if (!cJSON_IsObject(obj)) return mbcas_err_set(err, MBCAS_EINVAL, "", "object expected");
  scalingmarket *sm = calloc(1, sizeof *sm);
  if (!sm) return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  mbcas_rc rc;
  if ((rc = meta_parse(&sm->meta, obj, 0, err))) goto fail;
  const cJSON *spec;
  if ((rc = ju_object(&spec, obj, "spec", "", 1, err))) goto fail;
  if ((rc = sm_spec_from_json(&sm->spec, spec, err))) goto fail;
  if ((rc = sm_status_from_json(&sm->status, cJSON_GetObjectItemCaseSensitive(obj, "status"), err)))
    goto fail;
  *out = sm;
  return MBCAS_OK;
fail:
  sm_free(sm);
  return rc;
}

mbcas_rc sm_parse_str(scalingmarket **out, const char *json, mbcas_err *err) {
  *out = NULL;
  cJSON *j = json ? cJSON_Parse(json) : NULL;
  if (!j) return mbcas_err_set(err, MBCAS_EINVAL, "", "malformed JSON");
  mbcas_rc rc = sm_parse(out, j, err);
  cJSON_Delete(j);
  return rc;
}

void sm_free(scalingmarket *sm) {
  if (!sm) return;
  sm_status_clear(&sm->status);
  free(sm);
}
