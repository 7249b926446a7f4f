/* servicebudget.c - ServiceBudget parse/validate/default/serialize; see servicebudget.h. */
#include "servicebudget.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "quantity.h"

#define TRY(x)                                                                                               \
  do {                                                                                                       \
    mbcas_rc rc_ = (x);                                                                                      \
    if (rc_ != MBCAS_OK) return rc_;                                                                         \
  } while (0)

static const char *const outcomes[] = {"",           "Pending",  "Applied",     "Unchanged", "Deferred",
                                       "Infeasible", "Conflict", "Recommended", NULL};
/* for ju_enum: without the empty NONE entry */
static const char *const outcome_values[] = {"Pending",    "Applied",  "Unchanged",   "Deferred",
                                             "Infeasible", "Conflict", "Recommended", NULL};

const char *sb_outcome_str(sb_outcome o) {
  return (o >= SB_OUTCOME_NONE && o <= SB_OUTCOME_RECOMMENDED) ? outcomes[o] : "";
}

sb_outcome sb_outcome_parse(const char *s) {
  for (int i = 1; s && outcomes[i]; i++)
    if (strcmp(outcomes[i], s) == 0) return (sb_outcome)i;
  return SB_OUTCOME_NONE;
}

void sb_spec_defaults(sb_spec *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->target_api_version, sizeof s->target_api_version, "apps/v1");
  snprintf(s->target_kind, sizeof s->target_kind, "Deployment");
  s->cpu_min_milli = 100;
  s->replicas_min = 1;
}

static mbcas_rc check_subdomain(const char *v, const char *path, const char *key, mbcas_err *err) {
  char p[JU_PATH_MAX];
  if (ju_is_dns_subdomain(v)) return MBCAS_OK;
  ju_path(p, sizeof p, path, key);
  return mbcas_err_set(err, MBCAS_EINVAL, p,
                       "Invalid value: \"%s\": %s in body should match "
                       "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'",
                       v, p);
}

static mbcas_rc ref_name(char *dst, size_t cap, bool *present, const cJSON *sj, const char *key, int required,
                         mbcas_err *err) {
  const cJSON *o;
  char p[JU_PATH_MAX];
  TRY(ju_object(&o, sj, key, "spec", required, err));
  if (present) *present = o != NULL;
  if (!o) return MBCAS_OK;
  ju_path(p, sizeof p, "spec", key);
  TRY(ju_string(dst, cap, NULL, o, "name", p, 1, 1, 253, err));
  return check_subdomain(dst, p, "name", err);
}

mbcas_rc sb_spec_from_json(sb_spec *s, const cJSON *sj, mbcas_err *err) {
  const char *P = "spec";
  char p[JU_PATH_MAX];
  sb_spec_defaults(s);
  if (!sj || !cJSON_IsObject(sj))
    return mbcas_err_set(err, MBCAS_EINVAL, P,
                         sj ? "Invalid value: spec in body must be of type object" : "Required value");
  TRY(ref_name(s->market_ref, sizeof s->market_ref, NULL, sj, "marketRef", 1, err));

  const cJSON *t;
  TRY(ju_object(&t, sj, "targetRef", P, 1, err));
  ju_path(p, sizeof p, P, "targetRef");
  TRY(ju_string(s->target_api_version, sizeof s->target_api_version, NULL, t, "apiVersion", p, 0, 1, 253,
                err));
  TRY(ju_string(s->target_kind, sizeof s->target_kind, NULL, t, "kind", p, 0, 1, 63, err));
  {
    const char *k = s->target_kind;
    int ok = k[0] >= 'A' && k[0] <= 'Z';
    for (size_t i = 1; ok && k[i]; i++)
      ok = (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9');
    if (!ok)
      return mbcas_err_set(
          err, MBCAS_EINVAL, "spec.targetRef.kind",
          "Invalid value: \"%s\": spec.targetRef.kind in body should match '^[A-Z][A-Za-z0-9]*$'", k);
  }
  TRY(ju_string(s->target_name, sizeof s->target_name, NULL, t, "name", p, 1, 1, 253, err));
  TRY(check_subdomain(s->target_name, p, "name", err));

  TRY(ref_name(s->agent_policy_ref, sizeof s->agent_policy_ref, &s->has_agent_policy_ref, sj,
               "agentPolicyRef", 0, err));

  TRY(ju_quantity_milli(&s->budget_milli, NULL, sj, "budget", P, 1, err));
  if (s->budget_milli <= 0) return mbcas_err_set(err, MBCAS_EINVAL, "spec.budget", "must be greater than 0");

  int has = 0;
  TRY(ju_string(s->container, sizeof s->container, &has, sj, "container", P, 0, 1, 63, err));
  if (has && !ju_is_dns_label(s->container))
    return mbcas_err_set(
        err, MBCAS_EINVAL, "spec.container",
        "Invalid value: \"%s\": spec.container in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
        s->container);

  const cJSON *cpu;
  TRY(ju_object(&cpu, sj, "cpu", P, 0, err));
  if (cpu) {
    int hm = 0;
    TRY(ju_quantity_milli(&s->cpu_min_milli, NULL, cpu, "min", "spec.cpu", 0, err));
    TRY(ju_quantity_milli(&s->cpu_max_milli, &hm, cpu, "max", "spec.cpu", 0, err));
    s->has_cpu_max = hm;
    TRY(ju_quantity_milli(&s->cpu_base_milli, &hm, cpu, "base", "spec.cpu", 0, err));
    s->has_cpu_base = hm;
  }
  if (s->has_cpu_max && s->cpu_min_milli > s->cpu_max_milli)
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.cpu.min", "must not exceed spec.cpu.max");
  if (s->has_cpu_base && (!s->has_cpu_max || s->cpu_base_milli < s->cpu_min_milli ||
                          s->cpu_base_milli > s->cpu_max_milli))
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.cpu.base",
                         "needs spec.cpu.max and must lie between spec.cpu.min and spec.cpu.max");

  const cJSON *r;
  TRY(ju_object(&r, sj, "replicas", P, 0, err));
  if (r) {
    s->has_replicas = true;
    int64_t v = 1;
    int hm = 0;
    TRY(ju_int(&v, NULL, r, "min", "spec.replicas", 0, 1, 10000, err));
    s->replicas_min = (int32_t)v;
    TRY(ju_int(&v, &hm, r, "max", "spec.replicas", 0, 1, 10000, err));
    if (hm) {
      s->has_replicas_max = true;
      s->replicas_max = (int32_t)v;
    }
    if (s->has_replicas_max && s->replicas_min > s->replicas_max)
      return mbcas_err_set(err, MBCAS_EINVAL, "spec.replicas.min", "must not exceed spec.replicas.max");
  }
  return MBCAS_OK;
}

/* decimals written as strings: "0.62" */
static mbcas_rc dec_field(double *dst, bool *has, const cJSON *j, const char *key, const char *path,
                          size_t max_len, mbcas_err *err) {
  char b[40], p[JU_PATH_MAX];
  int h = 0;
  TRY(ju_string(b, sizeof b, &h, j, key, path, 0, 0, max_len, err));
  if (!h) return MBCAS_OK;
  char *end = NULL;
  double v = strtod(b, &end);
  if (end == b || *end || !isfinite(v))
    return mbcas_err_set(err, MBCAS_EINVAL, ju_path(p, sizeof p, path, key),
                         "Invalid value: \"%s\": must be a decimal number", b);
  *dst = v;
  *has = true;
  return MBCAS_OK;
}

static const char *fmt_fixed4(double v, char *b, size_t len) {
  snprintf(b, len, "%.4f", v);
  char *dot = strchr(b, '.');
  if (dot) {
    char *e = b + strlen(b) - 1;
    while (e > dot && *e == '0')
      *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  if (strcmp(b, "-0") == 0) snprintf(b, len, "0");
  return b;
}

static mbcas_rc qty_field(int64_t *dst, bool *has, const cJSON *j, const char *key, const char *path,
                          mbcas_err *err) {
  int h = 0;
  TRY(ju_quantity_milli(dst, &h, j, key, path, 0, err));
  *has = h;
  return MBCAS_OK;
}

static mbcas_rc outcome_field(sb_outcome *dst, const cJSON *j, const char *key, const char *path,
                              mbcas_err *err) {
  int e = 0, h = 0;
  TRY(ju_enum(&e, &h, j, key, path, outcome_values, 0, err));
  *dst = h ? (sb_outcome)(e + 1) : SB_OUTCOME_NONE;
  return MBCAS_OK;
}

static mbcas_rc decision_from_json(sb_decision *d, const cJSON *o, const char *p, int history,
                                   mbcas_err *err) {
  memset(d, 0, sizeof *d);
  if (!cJSON_IsObject(o))
    return mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: %s in body must be of type object", p);
  TRY(ju_string(d->id, sizeof d->id, NULL, o, "id", p, 0, 0, 64, err));
  TRY(ju_time(&d->time, NULL, o, "time", p, 0, err));
  TRY(ju_string(d->reason, sizeof d->reason, NULL, o, "reason", p, 0, 0, 1024, err));
  TRY(outcome_field(&d->outcome, o, "outcome", p, err));
  if (history) {
    TRY(qty_field(&d->cpu_milli, &d->has_cpu, o, "cpu", p, err));
    int64_t v = 0;
    int h = 0;
    TRY(ju_int(&v, &h, o, "replicas", p, 0, 0, INT32_MAX, err));
    d->has_replicas = h;
    d->replicas = (int32_t)v;
  }
  return MBCAS_OK;
}

static mbcas_rc status_parse(sb_status *st, const cJSON *j, mbcas_err *err) {
  const char *P = "status";
  char pi[JU_PATH_MAX];
  TRY(ju_int(&st->observed_generation, NULL, j, "observedGeneration", P, 0, 0, INT64_MAX, err));
  TRY(dec_field(&st->demand, &st->has_demand, j, "demand", P, 16, err));
  TRY(ju_time(&st->demand_time, NULL, j, "demandTime", P, 0, err));
  const cJSON *a;
  TRY(ju_array(&a, j, "podDemands", P, 0, 0, SB_POD_DEMANDS_MAX, err));
  for (int i = 0; a && i < cJSON_GetArraySize(a); i++) {
    const cJSON *o = cJSON_GetArrayItem(a, i);
    sb_pod_demand *pd = &st->pod_demands[i];
    ju_path_idx(pi, sizeof pi, "status.podDemands", i);
    if (!cJSON_IsObject(o))
      return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
    TRY(ju_string(pd->pod, sizeof pd->pod, NULL, o, "pod", pi, 1, 0, 253, err));
    TRY(dec_field(&pd->demand, &pd->has_demand, o, "demand", pi, 16, err));
    st->n_pod_demands = i + 1;
  }
  TRY(dec_field(&st->bid, &st->has_bid, j, "bid", P, 32, err));
  TRY(dec_field(&st->budget_share, &st->has_budget_share, j, "budgetShare", P, 16, err));
  TRY(dec_field(&st->allocation_share, &st->has_allocation_share, j, "allocationShare", P, 16, err));
  TRY(qty_field(&st->cpu_milli, &st->has_cpu, j, "cpu", P, err));
  TRY(ju_array(&a, j, "allocations", P, 0, 0, SB_ALLOCATIONS_MAX, err));
  for (int i = 0; a && i < cJSON_GetArraySize(a); i++) {
    const cJSON *o = cJSON_GetArrayItem(a, i);
    sb_allocation *al = &st->allocations[i];
    ju_path_idx(pi, sizeof pi, "status.allocations", i);
    if (!cJSON_IsObject(o))
      return mbcas_err_set(err, MBCAS_EINVAL, pi, "Invalid value: %s in body must be of type object", pi);
    TRY(ju_string(al->pod, sizeof al->pod, NULL, o, "pod", pi, 1, 0, 253, err));
    TRY(ju_string(al->node, sizeof al->node, NULL, o, "node", pi, 0, 0, 253, err));
    TRY(qty_field(&al->cpu_milli, &al->has_cpu, o, "cpu", pi, err));
    TRY(qty_field(&al->previous_milli, &al->has_previous, o, "previous", pi, err));
    TRY(outcome_field(&al->outcome, o, "outcome", pi, err));
    st->n_allocations = i + 1;
  }
  int64_t v = 0;
  int h = 0;
  TRY(ju_int(&v, &h, j, "currentReplicas", P, 0, 0, INT32_MAX, err));
  st->has_current_replicas = h;
  st->current_replicas = (int32_t)v;
  v = 0;
  TRY(ju_int(&v, &h, j, "desiredReplicas", P, 0, 0, INT32_MAX, err));
  st->has_desired_replicas = h;
  st->desired_replicas = (int32_t)v;
  const cJSON *ld;
  TRY(ju_object(&ld, j, "lastDecision", P, 0, err));
  if (ld) {
    TRY(decision_from_json(&st->last_decision, ld, "status.lastDecision", 0, err));
    st->has_last_decision = true;
  }
  TRY(ju_array(&a, j, "history", P, 0, 0, SB_HISTORY_MAX, err));
  for (int i = 0; a && i < cJSON_GetArraySize(a); i++) {
    ju_path_idx(pi, sizeof pi, "status.history", i);
    TRY(decision_from_json(&st->history[i], cJSON_GetArrayItem(a, i), pi, 1, err));
    st->n_history = i + 1;
  }
  return cond_list_from_json(&st->conditions, cJSON_GetObjectItemCaseSensitive(j, "conditions"),
                             "status.conditions", err);
}

mbcas_rc sb_status_from_json(sb_status *st, const cJSON *j, mbcas_err *err) {
  memset(st, 0, sizeof *st);
  if (!j || cJSON_IsNull(j)) return MBCAS_OK;
  if (!cJSON_IsObject(j))
    return mbcas_err_set(err, MBCAS_EINVAL, "status", "Invalid value: status in body must be of type object");
  mbcas_rc rc = status_parse(st, j, err);
  if (rc != MBCAS_OK) sb_status_clear(st);
  return rc;
}

static void add_decision(cJSON *o, const sb_decision *d, int history) {
  char b[QUANTITY_STR_MAX];
  ju_add_str(o, "id", d->id);
  ju_add_time(o, "time", d->time);
  if (history && d->has_cpu)
    cJSON_AddStringToObject(o, "cpu", quantity_format_milli(d->cpu_milli, b, sizeof b));
  if (history && d->has_replicas) cJSON_AddNumberToObject(o, "replicas", d->replicas);
  ju_add_str(o, "outcome", sb_outcome_str(d->outcome));
  ju_add_str(o, "reason", d->reason);
}

cJSON *sb_status_to_json(const sb_status *st) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  char b[64];
  cJSON *conds = cond_list_to_json(&st->conditions);
  if (!conds) goto fail;
  cJSON_AddItemToObject(o, "conditions", conds);
  cJSON_AddNumberToObject(o, "observedGeneration", (double)st->observed_generation);
  if (st->has_demand) cJSON_AddStringToObject(o, "demand", fmt_fixed4(st->demand, b, sizeof b));
  ju_add_time(o, "demandTime", st->demand_time);
  if (st->n_pod_demands > 0) {
    cJSON *a = cJSON_AddArrayToObject(o, "podDemands");
    if (!a) goto fail;
    for (int i = 0; i < st->n_pod_demands && i < SB_POD_DEMANDS_MAX; i++) {
      cJSON *e = cJSON_CreateObject();
      if (!e) goto fail;
      cJSON_AddItemToArray(a, e);
      cJSON_AddStringToObject(e, "pod", st->pod_demands[i].pod);
      if (st->pod_demands[i].has_demand)
        cJSON_AddStringToObject(e, "demand", fmt_fixed4(st->pod_demands[i].demand, b, sizeof b));
    }
  }
  if (st->has_bid) {
    snprintf(b, sizeof b, "%.6g", st->bid);
    cJSON_AddStringToObject(o, "bid", b);
  }
  if (st->has_budget_share)
    cJSON_AddStringToObject(o, "budgetShare", fmt_fixed4(st->budget_share, b, sizeof b));
  if (st->has_allocation_share)
    cJSON_AddStringToObject(o, "allocationShare", fmt_fixed4(st->allocation_share, b, sizeof b));
  if (st->has_cpu) cJSON_AddStringToObject(o, "cpu", quantity_format_milli(st->cpu_milli, b, sizeof b));
  if (st->n_allocations > 0) {
    cJSON *a = cJSON_AddArrayToObject(o, "allocations");
    if (!a) goto fail;
    for (int i = 0; i < st->n_allocations && i < SB_ALLOCATIONS_MAX; i++) {
      const sb_allocation *al = &st->allocations[i];
      cJSON *e = cJSON_CreateObject();
      if (!e) goto fail;
      cJSON_AddItemToArray(a, e);
      cJSON_AddStringToObject(e, "pod", al->pod);
      ju_add_str(e, "node", al->node);
      if (al->has_cpu) cJSON_AddStringToObject(e, "cpu", quantity_format_milli(al->cpu_milli, b, sizeof b));
      if (al->has_previous)
        cJSON_AddStringToObject(e, "previous", quantity_format_milli(al->previous_milli, b, sizeof b));
      ju_add_str(e, "outcome", sb_outcome_str(al->outcome));
    }
  }
  if (st->has_current_replicas) cJSON_AddNumberToObject(o, "currentReplicas", st->current_replicas);
  if (st->has_desired_replicas) cJSON_AddNumberToObject(o, "desiredReplicas", st->desired_replicas);
  if (st->has_last_decision) {
    cJSON *d = cJSON_AddObjectToObject(o, "lastDecision");
    if (!d) goto fail;
    add_decision(d, &st->last_decision, 0);
  }
  if (st->n_history > 0) {
    cJSON *a = cJSON_AddArrayToObject(o, "history");
    if (!a) goto fail;
    for (int i = 0; i < st->n_history && i < SB_HISTORY_MAX; i++) {
      cJSON *e = cJSON_CreateObject();
      if (!e) goto fail;
      cJSON_AddItemToArray(a, e);
      add_decision(e, &st->history[i], 1);
    }
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

void sb_history_push(sb_status *st, const sb_decision *d) {
  int n = st->n_history < SB_HISTORY_MAX ? st->n_history : SB_HISTORY_MAX - 1;
  memmove(&st->history[1], &st->history[0], (size_t)n * sizeof st->history[0]);
  st->history[0] = *d;
  st->n_history = n + 1;
}

void sb_status_clear(sb_status *st) {
  if (!st) return;
  cond_list_clear(&st->conditions);
  memset(st, 0, sizeof *st);
}

mbcas_rc sb_parse(servicebudget **out, const cJSON *obj, mbcas_err *err) {
  *out = NULL;
  if (!cJSON_IsObject(obj)) return mbcas_err_set(err, MBCAS_EINVAL, "", "object expected");
  servicebudget *sb = calloc(1, sizeof *sb);
  if (!sb) return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  mbcas_rc rc;
  const cJSON *spec;
  if ((rc = meta_parse(&sb->meta, obj, 1, err))) goto fail;
  if ((rc = ju_object(&spec, obj, "spec", "", 1, err))) goto fail;
  if ((rc = sb_spec_from_json(&sb->spec, spec, err))) goto fail;
  if ((rc = sb_status_from_json(&sb->status, cJSON_GetObjectItemCaseSensitive(obj, "status"), err)))
    goto fail;
  *out = sb;
  return MBCAS_OK;
fail:
  sb_free(sb);
  return rc;
}

mbcas_rc sb_parse_str(servicebudget **out, const char *json, mbcas_err *err) {
  *out = NULL;
  cJSON *j = json ? cJSON_Parse(json) : NULL;
  if (!j) return mbcas_err_set(err, MBCAS_EINVAL, "", "malformed JSON");
  mbcas_rc rc = sb_parse(out, j, err);
  cJSON_Delete(j);
  return rc;
}

void sb_free(servicebudget *sb) {
  if (!sb) return;
  sb_status_clear(&sb->status);
  free(sb);
}
