/* agentpolicy.c - the AgentPolicy reconciler and the demand stage: sense each pod's
 * signals (signals.c), combine and smooth them (operator/market/demand.h), and write the
 * result into ServiceBudget status, where the market stage reads it. Per-signal health
 * goes into AgentPolicy status. See reconciler.h. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "quantity.h"
#include "signals.h"

const cJSON *rec_find_policy(const rec_snapshot *snap, const char *ns, const char *name) {
  for (size_t i = 0; i < snap->n_policies; i++) {
    const char *pns = ru_str(snap->policies[i], "metadata.namespace");
    const char *pn = ru_str(snap->policies[i], "metadata.name");
    if (pns && pn && strcmp(pns, ns) == 0 && strcmp(pn, name) == 0) return snap->policies[i];
  }
  return NULL;
}

/* Value and time of one signal for one pod. */
typedef struct sig_val {
  int valid;
  double value;
  char error[160];
} sig_val;

static void record_health(rec_policy_state *ps, const ap_spec *spec, int i, const sig_val *v,
                          double now) {
  if (!ps) return;
  ap_signal_status *s = &ps->sig[i];
  if (ps->n <= i) ps->n = i + 1;
  snprintf(s->name, sizeof s->name, "%s", spec->signals[i].name);
  if (v->valid) {
    s->healthy = true;
    s->has_last_value = true;
    s->last_value = v->value;
    s->last_time = (time_t)now;
    s->last_error[0] = 0;
  } else if (!s->healthy) { /* healthy for any pod this cycle wins */
    snprintf(s->last_error, sizeof s->last_error, "%s", v->error);
  }
}

static int64_t usage_qty(const cJSON *usage, const char *res, int milli) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, res);
  quantity q;
  int64_t x;
  if (!cJSON_IsString(v) || quantity_parse(&q, v->valuestring, NULL, NULL) != MBCAS_OK) return -1;
  if ((milli ? quantity_milli(&x, &q) : quantity_value(&x, &q)) != MBCAS_OK) return -1;
  return x;
}

rec_metrics *rec_metrics_new(void) {
  rec_metrics *m = calloc(1, sizeof *m);
  if (!m || !(m->idx = ru_map_new(sizeof(rec_metrics_span)))) {
    free(m);
    return NULL;
  }
  return m;
}

int rec_metrics_add(void *ud, const cJSON *it) {
  rec_metrics *m = ud;
  char k[API_NS_MAX + API_NAME_MAX + 2];
  rec_metrics_span *sp = ru_map_upsert(m->idx, rec_obj_key(it, k, sizeof k), NULL);
  if (!sp) return 1;
  sp->first = m->n;
  sp->n = 0;
  const cJSON *ct;
  cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(it, "containers")) {
    if (m->n == m->cap) {
      size_t nc = m->cap ? m->cap * 2 : 256;
      rec_cusage *nu = realloc(m->c, nc * sizeof *nu);
      if (!nu) return 1;
      m->c = nu;
      m->cap = nc;
    }
    rec_cusage *u = &m->c[m->n++];
    const char *n = ru_str(ct, "name");
    snprintf(u->name, sizeof u->name, "%s", n ? n : "");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(ct, "usage");
    u->cpu_m = usage_qty(usage, "cpu", 1);
    u->mem_b = usage_qty(usage, "memory", 0);
    sp->n++;
  }
  return 0;
}

rec_metrics *rec_metrics_index(const cJSON *list) {
  rec_metrics *m = rec_metrics_new();
  if (!m) return NULL;
  rec_list_each(list, rec_metrics_add, m);
  return m;
}

void rec_metrics_free(rec_metrics *m) {
  if (!m) return;
  ru_map_free(m->idx);
  free(m->c);
  free(m);
}

mbcas_rc rec_metrics_usage(const rec_metrics *m, const char *ns, const char *pod,
                           const char *container, int cpu, int64_t *out) {
  if (!m || !pod) return MBCAS_ENOTFOUND;
  char k[API_NS_MAX + API_NAME_MAX + 2];
  if (ns && *ns) snprintf(k, sizeof k, "%s/%s", ns, pod);
  else snprintf(k, sizeof k, "%s", pod);
  const rec_metrics_span *sp = ru_map_get(m->idx, k);
  if (!sp) return MBCAS_ENOTFOUND;
  int64_t sum = 0;
  int found = 0;
  for (size_t i = sp->first; i < sp->first + sp->n; i++) {
    const rec_cusage *u = &m->c[i];
    if (container && *container && strcmp(u->name, container) != 0) continue;
    int64_t v = cpu ? u->cpu_m : u->mem_b;
    if (v < 0) continue;
    sum += v;
    found = 1;
  }
  if (!found) return MBCAS_ENOTFOUND;
  *out = sum;
  return MBCAS_OK;
}

static int has_metrics(const rec_metrics *m, const kube_pod *pod) {
  char k[API_NS_MAX + API_NAME_MAX + 2];
  return m && ru_map_get(m->idx, ru_kpod_key(pod, k, sizeof k)) != NULL;
}

static void resource_signal(sig_val *out, const ap_signal *g, const kube_pod *pod,
                            const char *container, const rec_metrics *metrics) {
  const char *pname = pod->name;
  if (!has_metrics(metrics, pod)) {
    snprintf(out->error, sizeof out->error, "no metrics.k8s.io sample for pod %s", pname);
    return;
  }
  const kube_pod_container *ct = act_find_container(pod, container);
  const char *cname = ct ? ct->name : NULL;
  int64_t usage;
  int is_cpu = g->resource == AP_RESOURCE_CPU;
  const char *res = is_cpu ? "cpu" : "memory";
  mbcas_rc rc = rec_metrics_usage(metrics, pod->ns, pod->name, cname, is_cpu, &usage);
  if (rc != MBCAS_OK) {
    snprintf(out->error, sizeof out->error, "no %s usage for container %s", res, cname ? cname : "?");
    return;
  }
  /* Reference: the container's request or limit of that resource (a request falls back
   * to the limit, as the API server defaults it). */
  int64_t ref = -1;
  if (ct) {
    int64_t req = is_cpu ? ct->cpu_request_m : ct->mem_request;
    int64_t lim = is_cpu ? ct->cpu_limit_m : ct->mem_limit;
    if (g->relative_to == AP_RELATIVE_LIMIT) ref = lim;
    else ref = req != KUBE_QTY_UNSET ? req : lim;
    if (ref == KUBE_QTY_UNSET) ref = -1;
  }
  if (ref <= 0) {
    snprintf(out->error, sizeof out->error, "container %s has no %s %s", cname ? cname : "?", res,
             g->relative_to == AP_RELATIVE_LIMIT ? "limit" : "request");
    return;
  }
  out->valid = 1;
  out->value = (double)usage / (double)ref;
}

static void pod_signal(sig_val *out, rec_ctx *c, const ap_signal *g, const kube_pod *pod) {
  char path[1400];
  sig_pod_proxy_path(path, sizeof path, pod->ns, pod->name, g->pod_port, g->pod_path);
  char *body = NULL;
  size_t len = 0;
  mbcas_rc rc = c->api.get_raw ? c->api.get_raw(c->api.ctx, path, &body, &len) : MBCAS_EUNSUPPORTED;
  if (rc != MBCAS_OK) {
    snprintf(out->error, sizeof out->error, "GET %.100s: %.40s", path, mbcas_strerror(rc));
    free(body);
    return;
  }
  double v;
  rc = g->pod_format == AP_POD_FORMAT_DEMAND ? sig_parse_demand(&v, body)
                                              : sig_parse_prom_text(&v, body, g->pod_metric);
  free(body);
  if (rc != MBCAS_OK) {
    snprintf(out->error, sizeof out->error, "%.100s: %.40s",
             g->pod_format == AP_POD_FORMAT_DEMAND ? "body is not a number in [0,1]" : g->pod_metric,
             rc == MBCAS_ENOTFOUND ? "metric not found" : "cannot parse");
    return;
  }
  out->valid = 1;
  out->value = v;
}

static int cmp_pod_demand(const void *a, const void *b) {
  return strcmp(((const sb_pod_demand *)a)->pod, ((const sb_pod_demand *)b)->pod);
}

void rec_policy_evaluate(rec_ctx *c, const rec_snapshot *snap, rec_svc *svc,
                         const rec_metrics *metrics, double now) {
  (void)snap;
  ap_spec *spec = calloc(1, sizeof *spec);
  sig_val *svcval = calloc(AP_SIGNALS_MAX, sizeof *svcval);
  if (!spec || !svcval) { free(spec); free(svcval); return; }
  rec_policy_state *ps = NULL;
  if (svc->policy_obj) {
    agentpolicy *ap = NULL;
    if (ap_parse(&ap, svc->policy_obj, NULL) == MBCAS_OK) {
      *spec = ap->spec;
      char k[API_NS_MAX + API_NAME_MAX + 2];
      ps = ru_map_upsert(c->policies, rec_obj_key(svc->policy_obj, k, sizeof k), NULL);
      if (ps && ps->evaluated_at != now) { /* first service using it this cycle */
        memset(ps->sig, 0, sizeof ps->sig);
        ps->n = spec->n_signals;
        ps->evaluated_at = now;
      }
    } else {
      ap_spec_defaults(spec); /* no signals: fallback demand; the policy reports Invalid */
    }
    ap_free(ap);
  } else {
    ap_spec_builtin(spec);
  }
  rec_forecast_settings_of(&svc->forecast, spec);
  demand_config cfg;
  demand_config_default(&cfg);
  cfg.combine = spec->combine == AP_COMBINE_WEIGHTED_SUM ? DEMAND_COMBINE_WEIGHTED_SUM : DEMAND_COMBINE_MAX;
  cfg.half_life_s = (double)spec->half_life_ms / 1000.0;
  cfg.stale_after_s = (double)spec->stale_after_ms / 1000.0;
  cfg.fallback = spec->fallback_demand;

  const char *ns = svc->sb->meta.namespace_;
  const char *container = svc->sb->spec.container[0] ? svc->sb->spec.container : NULL;
  /* Service-level signals: one Prometheus query per signal per cycle. */
  for (int i = 0; i < spec->n_signals; i++) {
    const ap_signal *g = &spec->signals[i];
    if (g->source != AP_SOURCE_PROMETHEUS) continue;
    char *q = sig_expand_query(g->prom_query, ns, svc->sb->spec.target_name);
    mbcas_err err;
    mbcas_err_clear(&err);
    if (q && sig_prom_query(&svcval[i].value, g->prom_address, q, c->opt.prom_timeout_ms, &err) == MBCAS_OK)
      svcval[i].valid = 1;
    else
      snprintf(svcval[i].error, sizeof svcval[i].error, "%.150s", q ? err.msg : "out of memory");
    free(q);
    record_health(ps, spec, i, &svcval[i], now);
  }
  sb_status *st = &svc->sb->status;
  /* Status demands of the last cycle seed a fresh operator (resume from status). */
  sb_pod_demand *prev = NULL;
  int n_prev = st->n_pod_demands;
  if (n_prev > 0) {
    prev = malloc((size_t)n_prev * sizeof *prev);
    if (prev) memcpy(prev, st->pod_demands, (size_t)n_prev * sizeof *prev);
  }
  double sum = 0;
  int n_pd = 0;
  for (size_t p = 0; p < svc->n_pods; p++) {
    const kube_pod *pod = svc->pods[p];
    const char *pname = pod->name;
    demand_signal sig[AP_SIGNALS_MAX];
    memset(sig, 0, sizeof sig);
    for (int i = 0; i < spec->n_signals; i++) {
      const ap_signal *g = &spec->signals[i];
      sig_val v;
      memset(&v, 0, sizeof v);
      if (g->source == AP_SOURCE_PROMETHEUS) v = svcval[i];
      else if (g->source == AP_SOURCE_RESOURCE) resource_signal(&v, g, pod, container, metrics);
      else pod_signal(&v, c, g, pod);
      if (g->source != AP_SOURCE_PROMETHEUS) record_health(ps, spec, i, &v, now);
      sig[i].valid = v.valid;
      sig[i].value = v.value;
      sig[i].target = g->target > 0 ? g->target : 1.0;
      sig[i].weight = g->weight;
      sig[i].observed_at = now;
    }
    demand_usage usage = {0, 0, 0};
    int64_t u, alloc;
    const kube_pod_container *ct = act_find_container(pod, container);
    if (rec_metrics_usage(metrics, pod->ns, pod->name, ct ? ct->name : NULL, 1, &u) == MBCAS_OK) {
      if (c->obs.pod_usage) c->obs.pod_usage(c->obs.ud, ns, pname, u);
      if (act_container_cpu(&alloc, pod, container, ACT_POLICY_LIMITS) == MBCAS_OK && alloc > 0) {
        usage.usage_m = u;
        usage.alloc_m = alloc;
        usage.valid = 1;
      }
    }
    char pk[API_NS_MAX + API_NAME_MAX + 2];
    snprintf(pk, sizeof pk, "%s/%s", ns, pname);
    rec_pod_state *pst = ru_map_upsert(c->pods, pk, NULL);
    demand_result res;
    if (!pst) continue;
    if (!pst->ds.initialized) {
      for (int k = 0; prev && k < n_prev; k++)
        if (prev[k].has_demand && strcmp(prev[k].pod, pname) == 0) {
          pst->ds.smoothed = prev[k].demand;
          pst->ds.initialized = 1;
          pst->ds.last_at = st->demand_time ? (double)st->demand_time : now;
        }
    }
    if (demand_update(&res, &pst->ds, &cfg, sig, (size_t)spec->n_signals, &usage, now) != MBCAS_OK)
      res.smoothed = cfg.fallback;
    sum += res.smoothed;
    if (n_pd < SB_POD_DEMANDS_MAX) {
      sb_pod_demand *d = &st->pod_demands[n_pd++];
      memset(d, 0, sizeof *d);
      snprintf(d->pod, sizeof d->pod, "%s", pname);
      d->has_demand = true;
      /* Status keeps 4 decimals; the market stage reads the rounded value. */
      d->demand = round(res.smoothed * 10000.0) / 10000.0;
    }
  }
  free(prev);
  st->n_pod_demands = n_pd;
  qsort(st->pod_demands, (size_t)n_pd, sizeof st->pod_demands[0], cmp_pod_demand);
  if (svc->n_pods > 0) {
    st->has_demand = true;
    st->demand = round(sum / (double)svc->n_pods * 10000.0) / 10000.0;
  } else if (!st->has_demand) {
    st->has_demand = true;
    st->demand = cfg.fallback;
  }
  st->demand_time = (time_t)now;
  free(spec);
  free(svcval);
}

void rec_policy_write_all(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *stc) {
  char k[API_NS_MAX + API_NAME_MAX + 2];
  for (size_t i = 0; i < snap->n_policies; i++) {
    const cJSON *obj = snap->policies[i];
    rec_obj_key(obj, k, sizeof k);
    ru_map_touch(c->policies, k);
    agentpolicy *ap = NULL;
    mbcas_err err;
    mbcas_err_clear(&err);
    mbcas_rc rc = ap_parse(&ap, obj, &err);
    ap_status stbuf, *st;
    int64_t gen = (int64_t)ru_num(obj, "metadata.generation", 0);
    time_t t = (time_t)now;
    bool ch = false, any = false;
    if (rc != MBCAS_OK) {
      st = &stbuf;
      memset(st, 0, sizeof *st);
      if (ap_status_from_json(st, ru_get(obj, "status"), NULL) != MBCAS_OK) ap_status_clear(st);
      char msg[600];
      mbcas_err_format(&err, msg, sizeof msg);
      cond_set(&st->conditions, AP_COND_INVALID, COND_TRUE, "InvalidSpec", msg, gen, t, &ch);
      any |= ch;
      cond_set(&st->conditions, AP_COND_READY, COND_FALSE, "InvalidSpec", msg, gen, t, &ch);
      any |= ch;
      any |= st->observed_generation != gen;
      st->observed_generation = gen;
      rec_policy_state *ps = ru_map_upsert(c->policies, k, NULL);
      if (ps && ps->invalid_gen != gen + 1) {
        rec_event(c, obj, "Warning", "Invalid", "%s", msg);
        ps->invalid_gen = gen + 1;
      }
      if (stc) stc->invalid++;
    } else {
      st = &ap->status;
      rec_policy_state *ps = ru_map_get(c->policies, k);
      int evaluated = ps && ps->evaluated_at > 0;
      any |= cond_remove(&st->conditions, AP_COND_INVALID);
      if (ps) ps->invalid_gen = 0;
      if (evaluated) {
        any = true;
        st->n_signals = ap->spec.n_signals;
        st->healthy_signals = 0;
        for (int s = 0; s < ap->spec.n_signals; s++) {
          st->signals[s] = ps->sig[s];
          snprintf(st->signals[s].name, sizeof st->signals[s].name, "%s", ap->spec.signals[s].name);
          if (ps->sig[s].healthy) st->healthy_signals++;
        }
        st->last_evaluation_time = (time_t)ps->evaluated_at;
        if (st->healthy_signals > 0)
          cond_set(&st->conditions, AP_COND_READY, COND_TRUE, "SignalsFresh",
                   "at least one signal is fresh", gen, t, NULL);
        else
          cond_set(&st->conditions, AP_COND_READY, COND_FALSE, "SignalsStale",
                   "no signal could be read: the fallback demand is in use", gen, t, NULL);
        ps->evaluated_at = 0;
      } else if (!cond_find(&st->conditions, AP_COND_READY)) {
        cond_set(&st->conditions, AP_COND_READY, COND_UNKNOWN, "NotEvaluated",
                 "no ServiceBudget of an active market uses this policy yet", gen, t, &ch);
        any |= ch;
      }
      any |= st->observed_generation != gen;
      st->observed_generation = gen;
    }
    if (any) {
      char path[600];
      rec_status_path(path, sizeof path, AP_RESOURCE, ru_str(obj, "metadata.namespace"),
                      ru_str(obj, "metadata.name"));
      if (rec_patch_status(c, path, ap_status_to_json(st)) != MBCAS_OK && stc) stc->errors++;
    }
    if (rc != MBCAS_OK) ap_status_clear(st);
    ap_free(ap);
  }
  ru_map_sweep(c->policies);
}
