/* scalingmarket.c - the ScalingMarket reconciler: one clearing of one market.
 *
 * Order within a clearing: prepare the ServiceBudgets (servicebudget.c), sense demand
 * into their status (agentpolicy.c), build the market input from those status fields
 * and the pods, clear every node (operator/market/market.h), decide replicas
 * (horizontal.h), write every ServiceBudget's decision (outcome Pending) and the
 * market's status, and only then actuate (servicebudget.c -> actuation.c).
 * rec_market_input_from_status() is the replay half: it rebuilds the same market input
 * from status alone. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "market.h"
#include "proactive.h"
#include "quantity.h"
#include "reasoning.h"
#include "signals.h"
#include "scalingmarket_rec.h"

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rec_market_guardrails(guardrails_config *g, const sm_spec *spec) {
  guardrails_config_default(g);
  g->max_step_m = spec->guardrails.has_max_step_cpu ? spec->guardrails.max_step_cpu_milli : 0;
  g->max_step_frac = (double)spec->guardrails.max_step_percent / 100.0;
  g->cooldown_s = (double)spec->guardrails.cooldown_ms / 1000.0;
  if (spec->guardrails.dead_band_is_percent) {
    g->dead_band_frac = spec->guardrails.dead_band_percent / 100.0;
    g->dead_band_m = 0;
  } else {
    g->dead_band_m = spec->guardrails.dead_band_milli;
    g->dead_band_frac = 0;
  }
  /* No usage protection: every input of a clearing must be visible in status (replay). */
  g->usage_headroom = -1;
}

int64_t rec_node_allocatable(const cJSON *node) {
  const char *q = ru_str(node, "status.allocatable.cpu");
  if (!q) q = ru_str(node, "status.capacity.cpu");
  int64_t m = 0;
  if (!q || quantity_parse_milli(&m, q, NULL, NULL) != MBCAS_OK) return 0;
  return m;
}

double rec_pod_demand(const sb_status *st, const char *pod) {
  int lo = 0, hi = st->n_pod_demands - 1;
  while (lo <= hi) { /* pod_demands is sorted by pod name (agentpolicy.c) */
    int mid = (lo + hi) / 2;
    int c = strcmp(st->pod_demands[mid].pod, pod);
    if (c == 0) return st->pod_demands[mid].has_demand ? st->pod_demands[mid].demand : st->demand;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  for (int i = 0; i < st->n_pod_demands; i++) /* unsorted status written by someone else */
    if (strcmp(st->pod_demands[i].pod, pod) == 0 && st->pod_demands[i].has_demand)
      return st->pod_demands[i].demand;
  return st->has_demand ? st->demand : 0;
}

/* Capped service budgets (budget units) for services [0..n) given their namespaces and
 * budgets (millis). */
static mbcas_rc market_budgets(double *out, const sm_spec *spec, const char *const *svc_ns,
                               const int64_t *budget_milli, size_t n) {
  bid_service *bs = calloc(n ? n : 1, sizeof *bs);
  double *caps = calloc(n ? n : 1, sizeof *caps);
  if (!bs || !caps) { free(bs); free(caps); return MBCAS_ENOMEM; }
  size_t n_ns = 0;
  const char **nss = calloc(n ? n : 1, sizeof *nss);
  if (!nss) { free(bs); free(caps); return MBCAS_ENOMEM; }
  for (size_t i = 0; i < n; i++) {
    const char *ns = svc_ns[i];
    size_t k;
    for (k = 0; k < n_ns && strcmp(nss[k], ns) != 0; k++) {}
    if (k == n_ns) {
      nss[n_ns] = ns;
      caps[n_ns] = 0;
      for (int j = 0; j < spec->n_ns_caps; j++)
        if (strcmp(spec->ns_caps[j].namespace_, ns) == 0)
          caps[n_ns] = (double)spec->ns_caps[j].max_budget_milli / 1000.0;
      n_ns++;
    }
    bs[i].ns = (uint32_t)k;
    bs[i].budget = (double)budget_milli[i] / 1000.0;
    bs[i].pods = 1;
  }
  mbcas_rc rc = bid_service_budgets(out, bs, n, caps, n_ns ? n_ns : 1, NULL);
  free(bs);
  free(caps);
  free(nss);
  return rc;
}

mbcas_rc rec_market_budgets(double *out, const sm_spec *spec, const servicebudget *const *sbs,
                            size_t n) {
  const char **nss = calloc(n ? n : 1, sizeof *nss);
  int64_t *b = calloc(n ? n : 1, sizeof *b);
  mbcas_rc rc = MBCAS_ENOMEM;
  if (nss && b) {
    for (size_t i = 0; i < n; i++) {
      nss[i] = sbs[i]->meta.namespace_;
      b[i] = sbs[i]->spec.budget_milli;
    }
    rc = market_budgets(out, spec, nss, b, n);
  }
  free(nss);
  free(b);
  return rc;
}

static void sm_report_invalid(rec_ctx *c, const cJSON *obj, const char *msg, double now) {
  sm_status st;
  memset(&st, 0, sizeof st);
  if (sm_status_from_json(&st, ru_get(obj, "status"), NULL) != MBCAS_OK) sm_status_clear(&st);
  int64_t gen = (int64_t)ru_num(obj, "metadata.generation", 0);
  bool ch = false, any = st.observed_generation != gen;
  cond_set(&st.conditions, "Invalid", COND_TRUE, "InvalidSpec", msg, gen, (time_t)now, &ch);
  any |= ch;
  cond_set(&st.conditions, "Ready", COND_FALSE, "InvalidSpec", msg, gen, (time_t)now, &ch);
  any |= ch;
  st.observed_generation = gen;
  const char *name = ru_str(obj, "metadata.name");
  rec_market_state *ms = ru_map_get(c->markets, name ? name : "");
  if (ms && ms->invalid_gen != gen + 1) {
    rec_event(c, obj, "Warning", "Invalid", "%s", msg);
    ms->invalid_gen = gen + 1;
  }
  if (any) {
    char path[600];
    rec_status_path(path, sizeof path, SM_RESOURCE, NULL, name);
    rec_patch_status(c, path, sm_status_to_json(&st));
  }
  sm_status_clear(&st);
}

/* Order of pointers (qsort/bsearch over the participants' records). */
/* Burst sizing (ServiceBudget spec.cpu.base): a pod's need is its demand on its current
 * allocation at this utilization, falling no faster than this half-life; see
 * market_need_burst_step. Both are fixed so that a clearing is replayable from status. */
#define BURST_UTIL 0.75
#define BURST_HALF_LIFE_S 60.0

static double burst_decay(const sm_spec *spec) {
  double interval = (double)spec->clearing_interval_ms / 1000.0;
  return exp2(-(interval > 0 ? interval : 15.0) / BURST_HALF_LIFE_S);
}

/* Proactive mode (the service's AgentPolicy spec.forecast): keep the service's forecast
 * in step with the policy, feed it the service's CPU demand load_m (sum over its
 * participants of demand x current allocation) and fill the horizontal inputs against
 * plan_m (sum of the sizes its pods are planned on): the upper forecast over leadTime
 * scales out as soon as it would put the pods above scaleOutDemand, the one over horizon
 * floors scale-in (docs/mechanism.md §6, §9; proactive.h). */
static void svc_forecast(rec_svc *svc, rec_svc_state *ss, double load_m, double plan_m,
                         double interval_s, double now, horizontal_config *hc,
                         horizontal_observation *ob) {
  if (!rec_proactive_same(ss->fc, &svc->forecast, interval_s)) {
    rec_proactive_free(ss->fc);
    ss->fc = NULL;
    mbcas_err err;
    mbcas_err_clear(&err);
    if (rec_proactive_new(&ss->fc, &svc->forecast, interval_s, &err) != MBCAS_OK)
      LOG_WARN("forecast off", "servicebudget=%s error=\"%s\"", svc->key, err.msg);
  }
  if (!ss->fc || svc->n_pods == 0 || ob->replicas <= 0) return;
  rec_proactive_observe(ss->fc, now, load_m);
  hc->forecast_target_demand = hc->scale_out_demand;
  rec_forecast_out fo;
  rec_proactive_outputs(ss->fc, (double)ob->replicas * plan_m / (double)svc->n_pods,
                        hc->forecast_target_demand, &fo);
  ob->forecast_demand = fo.forecast_demand;
  ob->forecast_hold_demand = fo.hold_demand;
}

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;
  return x < y ? -1 : x > y;
}

/* Index of a market node by name (nodes: the map built in rec_market_run), or -1. */
static size_t node_index(ru_map *nodes, const char *name) {
  const size_t *i = name ? ru_map_get(nodes, name) : NULL;
  return i ? *i : (size_t)-1;
}

mbcas_rc rec_market_run(rec_ctx *c, const rec_snapshot *snap, const cJSON *sm_obj, double now,
                        rec_cycle_stats *stc) {
  double t0 = mono_s();
  scalingmarket *sm = NULL;
  mbcas_err err;
  mbcas_err_clear(&err);
  if (sm_parse(&sm, sm_obj, &err) != MBCAS_OK) {
    char msg[600];
    sm_report_invalid(c, sm_obj, mbcas_err_format(&err, msg, sizeof msg), now);
    if (stc) stc->invalid++;
    return MBCAS_EINVAL;
  }
  const char *mname = sm->meta.name;
  int64_t gen = sm->meta.generation;
  time_t tnow = (time_t)now;
  sm_status *mst = &sm->status;
  char spath[600];
  rec_status_path(spath, sizeof spath, SM_RESOURCE, NULL, mname);
  bool ch = false;
  if (cond_remove(&mst->conditions, "Invalid")) ch = true;
  if (sm->spec.mode == SM_MODE_PAUSED) {
    bool c1 = false;
    cond_set(&mst->conditions, "Ready", COND_FALSE, "Paused",
             "mode Paused: the market does not clear; status keeps the last decision", gen, tnow, &c1);
    if (c1 || ch || mst->observed_generation != gen) {
      mst->observed_generation = gen;
      rec_patch_status(c, spath, sm_status_to_json(mst));
    }
    sm_free(sm);
    return MBCAS_OK;
  }

  /* Nodes of this market. */
  size_t n_mn = 0;
  const cJSON **mnodes = calloc(snap->n_nodes ? snap->n_nodes : 1, sizeof *mnodes);
  ru_map *nidx = ru_map_new(sizeof(size_t)); /* market node name -> index in mnodes */
  rec_svc *svcs = NULL;
  size_t n_svcs = 0;
  market_node *nodes = NULL;
  market_participant *parts = NULL;
  market_output out;
  memset(&out, 0, sizeof out);
  rec_metrics *mindex = NULL;
  const kube_pod **partset = NULL; /* participants, sorted by address (snapshot records) */
  const char **okns = NULL;
  int64_t *okbudget = NULL;
  size_t *okidx = NULL;
  double *capped = NULL;
  size_t *order = NULL;
  mbcas_rc rc = MBCAS_OK;
  if (!mnodes || !nidx) { rc = MBCAS_ENOMEM; goto done; }
  for (size_t i = 0; i < snap->n_nodes; i++) {
    const char *nn = ru_str(snap->nodes[i], "metadata.name");
    if (!nn || !sel_matches(&sm->spec.node_selector, ru_get(snap->nodes[i], "metadata.labels")))
      continue;
    int created = 0;
    size_t *ix = ru_map_upsert(nidx, nn, &created);
    if (!ix) { rc = MBCAS_ENOMEM; goto done; }
    if (created) *ix = n_mn; /* names are unique; the first one counts */
    mnodes[n_mn++] = snap->nodes[i];
  }

  /* ServiceBudgets of this market. */
  svcs = calloc(snap->n_budgets ? snap->n_budgets : 1, sizeof *svcs);
  if (!svcs) { rc = MBCAS_ENOMEM; goto done; }
  /* Every pod's metrics, projected item by item as the list streams in: the list is
   * never held parsed whole. */
  if ((mindex = rec_metrics_new()) &&
      sig_each_pod_metrics(&c->api, NULL, rec_metrics_add, mindex) != MBCAS_OK) {
    rec_metrics_free(mindex);
    mindex = NULL;
  }
  for (size_t i = 0; i < snap->n_budgets; i++) {
    const char *m = ru_str(snap->budgets[i], "spec.marketRef.name");
    if (!m || strcmp(m, mname) != 0) continue;
    if (rec_stopping(c)) goto done;
    rec_svc *svc = &svcs[n_svcs++];
    svc->obj = snap->budgets[i];
    rec_budget_prepare(c, snap, sm, nidx, svc, now);
    if (svc->state == SVC_OK) {
      rec_policy_evaluate(c, snap, svc, mindex, now);
      /* Only one parsed ServiceBudget at a time: the others wait as text. */
      if (rec_svc_park(svc) != MBCAS_OK) {
        rc = MBCAS_ENOMEM;
        goto done;
      }
    } else if (svc->state == SVC_RESUME) {
      rec_budget_resume(c, snap, sm, svc, now, stc);
    } else {
      if (svc->state == SVC_INVALID && stc) stc->invalid++;
      rec_budget_report_state(c, svc, now);
    }
    if (svc->state != SVC_OK) { /* done with it */
      sb_free(svc->sb);
      svc->sb = NULL;
    }
  }
  rec_metrics_free(mindex);
  mindex = NULL;

  /* Market input, from the ServiceBudgets' status (demand) and the pods (current CPU). */
  size_t n_ok = 0, n_parts = 0;
  okns = calloc(n_svcs ? n_svcs : 1, sizeof *okns);
  okbudget = calloc(n_svcs ? n_svcs : 1, sizeof *okbudget);
  okidx = calloc(n_svcs ? n_svcs : 1, sizeof *okidx);
  capped = calloc(n_svcs ? n_svcs : 1, sizeof *capped);
  if (!okns || !okbudget || !okidx || !capped) { rc = MBCAS_ENOMEM; goto done; }
  for (size_t i = 0; i < n_svcs; i++)
    if (svcs[i].state == SVC_OK) {
      okns[n_ok] = svcs[i].ns;
      okbudget[n_ok] = svcs[i].spec.budget_milli;
      okidx[n_ok++] = i;
      n_parts += svcs[i].n_pods;
    }
  if ((rc = market_budgets(capped, &sm->spec, okns, okbudget, n_ok)) != MBCAS_OK) goto done;
  nodes = calloc(n_mn ? n_mn : 1, sizeof *nodes);
  parts = calloc(n_parts ? n_parts : 1, sizeof *parts);
  out.nodes = calloc(n_mn ? n_mn : 1, sizeof *out.nodes);
  out.allocs = calloc(n_parts ? n_parts : 1, sizeof *out.allocs);
  if (!nodes || !parts || !out.nodes || !out.allocs) { rc = MBCAS_ENOMEM; goto done; }
  act_policy pol = (act_policy)sm->spec.resize_policy;
  partset = malloc((n_parts ? n_parts : 1) * sizeof *partset);
  if (!partset) { rc = MBCAS_ENOMEM; goto done; }
  {
    size_t np = 0;
    for (size_t k = 0; k < n_ok; k++) {
      rec_svc *svc = &svcs[okidx[k]];
      for (size_t j = 0; j < svc->n_pods; j++) partset[np++] = svc->pods[j];
    }
    qsort(partset, np, sizeof *partset, cmp_ptr);
  }
  for (size_t i = 0; i < n_mn; i++) {
    nodes[i].allocatable_m = rec_node_allocatable(mnodes[i]);
    nodes[i].reserve_m = sm->spec.reserve_milli;
  }
  /* Everything on a market node that does not take part keeps what it requested. */
  for (size_t i = 0; i < snap->n_pods; i++) {
    const kube_pod *pod = snap->pods[i];
    const char *node = pod->node;
    if (!node || !*node || ru_kpod_terminating(pod)) continue;
    size_t ni = node_index(nidx, node);
    if (ni == (size_t)-1) continue;
    if (bsearch(&pod, partset, n_parts, sizeof *partset, cmp_ptr)) continue;
    nodes[ni].non_participant_m += act_pod_cpu_requests(pod);
  }
  size_t p = 0;
  double decay = burst_decay(&sm->spec); /* spec interval: replayable from status */
  for (size_t k = 0; k < n_ok; k++) {
    rec_svc *svc = &svcs[okidx[k]];
    const sb_spec *sp = &svc->spec;
    svc->capped_budget = capped[k];
    svc->first_part = p;
    const char *container = sp->container[0] ? sp->container : NULL;
    for (size_t j = 0; j < svc->n_pods; j++, p++) {
      const kube_pod *pod = svc->pods[j];
      char pk[API_NS_MAX + API_NAME_MAX + 2];
      ru_kpod_key(pod, pk, sizeof pk);
      market_participant *mp = &parts[p];
      mp->node = (uint32_t)node_index(nidx, pod->node);
      const market_node *mn = &nodes[mp->node];
      mp->key = market_key(pk);
      mp->budget_share = bid_pod_share(capped[k], (uint32_t)svc->n_pods);
      mp->demand = svc->pod_demand[j];
      mp->floor_m = sp->cpu_min_milli;
      /* No cap: the node's market capacity (shown in status.nodes[].capacity). */
      mp->cap_m = sp->has_cpu_max ? sp->cpu_max_milli
                                  : clearing_capacity(mn->allocatable_m, mn->reserve_m, mn->non_participant_m);
      if (mp->cap_m < mp->floor_m) mp->cap_m = mp->floor_m;
      int64_t cur = 0;
      if (act_container_cpu(&cur, pod, container, pol) != MBCAS_OK) cur = 0;
      mp->current_m = cur;
      mp->usage_m = -1;
      if (sp->has_cpu_base)
        mp->need_m = market_need_burst_step(cur, mp->demand, BURST_UTIL, sp->cpu_base_milli, decay);
      rec_pod_state *ps = ru_map_get(c->pods, pk);
      mp->last_change_at = ps && ps->last_change_at > 0 ? ps->last_change_at : -1;
    }
  }
  guardrails_config gc;
  rec_market_guardrails(&gc, &sm->spec);
  market_input in = {nodes, n_mn, parts, n_parts, {c->opt.min_demand_factor}, &gc, now};
  if ((rc = market_clear(&out, &in, &err)) != MBCAS_OK) {
    char msg[600];
    mbcas_err_format(&err, msg, sizeof msg);
    cond_set(&mst->conditions, "Ready", COND_FALSE, "ClearingFailed", msg, gen, tnow, NULL);
    rec_event(c, sm_obj, "Warning", "ClearingFailed", "%s", msg);
    rec_patch_status(c, spath, sm_status_to_json(mst));
    goto done;
  }

  /* Replicas. */
  double interval = rec_clearing_interval(c, sm->spec.clearing_interval_ms);
  int32_t market_replicas = 0;
  for (size_t k = 0; k < n_ok; k++) market_replicas += svcs[okidx[k]].spec_replicas;
  uint64_t id = out.decision_id;
  for (size_t k = 0; k < n_ok; k++) {
    rec_svc *svc = &svcs[okidx[k]];
    const sb_spec *sp = &svc->spec;
    svc->desired_replicas = svc->spec_replicas;
    if (!sp->has_replicas || !sm->spec.horizontal.enabled) continue;
    rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
    if (!ss) continue;
    if (!ss->hs_init) {
      horizontal_state_init(&ss->hs);
      ss->hs_init = 1;
    }
    horizontal_config hc;
    horizontal_config_default(&hc);
    hc.min_replicas = sp->replicas_min;
    hc.max_replicas = sp->has_replicas_max ? sp->replicas_max : 10000;
    hc.scale_out_demand = sm->spec.horizontal.scale_out_demand;
    hc.scale_in_demand = sm->spec.horizontal.scale_in_demand;
    if (hc.target_demand <= hc.scale_in_demand || hc.target_demand > hc.scale_out_demand)
      hc.target_demand = (hc.scale_in_demand + hc.scale_out_demand) / 2;
    hc.scale_out_window_s = (double)sm->spec.horizontal.scale_out_window_ms / 1000.0;
    hc.scale_in_window_s = (double)sm->spec.horizontal.scale_in_window_ms / 1000.0;
    hc.cooldown_s = (double)sm->spec.horizontal.cooldown_ms / 1000.0;
    horizontal_observation ob;
    memset(&ob, 0, sizeof ob);
    ob.replicas = svc->spec_replicas;
    ob.pods = (int32_t)svc->n_pods;
    /* Replicas are planned on each pod's cap, or with burst sizing on the base: a pod at
     * that size counts as at cap. load_m / plan_m is horizontal_service_demand's
     * Σ current x demand / Σ size, the demand against the planned sizes. */
    double load_m = 0, plan_m = 0;
    for (size_t j = 0; j < svc->n_pods; j++) {
      const market_participant *mp = &parts[svc->first_part + j];
      int64_t plan = sp->has_cpu_base ? sp->cpu_base_milli : mp->cap_m;
      if (horizontal_pod_at_cap(&hc, out.allocs[svc->first_part + j].guarded.desired_m, plan))
        ob.pods_at_cap++;
      double d = svc->pod_demand ? svc->pod_demand[j] : 0;
      if (d > 0) load_m += (d < 1 ? d : 1) * (double)mp->current_m; /* NaN counts as 0 */
      plan_m += (double)plan;
    }
    ob.demand = svc->has_demand ? svc->demand : 0;
    if (sp->has_cpu_base && plan_m > 0) ob.demand = load_m / plan_m < 1 ? load_m / plan_m : 1;
    ob.market_replicas = market_replicas;
    ob.market_ceiling = sm->spec.horizontal.max_replicas_total;
    svc_forecast(svc, ss, load_m, plan_m, interval, now, &hc, &ob);
    horizontal_decision hd;
    if (horizontal_decide(&hd, &ss->hs, &hc, &ob, now, NULL) == MBCAS_OK) {
      svc->desired_replicas = hd.desired;
      if (hd.desired != svc->spec_replicas) {
        reasoning_format_horizontal(svc->horizontal_line, sizeof svc->horizontal_line, &hd, &ob, &hc);
        market_replicas += hd.desired - svc->spec_replicas;
        if (sm->spec.mode == SM_MODE_ENFORCE) ss->hs.last_scale_at = now;
      }
    }
    id = market_fnv1a(id, &svc->desired_replicas, sizeof svc->desired_replicas);
  }
  char idhex[17];
  market_id_hex(idhex, id);

  /* Decisions into ServiceBudget status, before any actuation. Services whose spec
   * changed go first: their owners are waiting to see the change observed. */
  int wrote_pending = 0;
  order = calloc(n_ok ? n_ok : 1, sizeof *order);
  if (!order) { rc = MBCAS_ENOMEM; goto done; }
  {
    size_t n_first = 0, n_last = n_ok;
    for (size_t k = 0; k < n_ok; k++) {
      const rec_svc *svc = &svcs[okidx[k]];
      const rec_svc_state *ss = ru_map_get(c->svcs, svc->key);
      int changed = svc->generation != svc->observed_generation &&
                    !(ss && ss->seen_gen >= svc->generation);
      if (changed) order[n_first++] = k;
      else order[--n_last] = k;
    }
    /* keep the unchanged ones in input order */
    for (size_t a = n_first, b = n_ok ? n_ok - 1 : 0; a < b; a++, b--) {
      size_t t = order[a];
      order[a] = order[b];
      order[b] = t;
    }
  }
  for (size_t oi = 0; oi < n_ok; oi++) {
    size_t k = order[oi];
    rec_svc *svc = &svcs[okidx[k]];
    if (rec_stopping(c)) goto done;
    if (rec_svc_unpark(svc) != MBCAS_OK) {
      svc->state = SVC_NOT_READY; /* no decision recorded: nothing to actuate */
      if (stc) stc->errors++;
      continue;
    }
    sb_status *st = &svc->sb->status;
    int64_t sgen = svc->sb->meta.generation;
    int64_t sum = 0, maxdiff = -1;
    double bid = 0;
    size_t why = (size_t)-1;
    int changes = 0;
    st->n_allocations = 0;
    for (size_t j = 0; j < svc->n_pods; j++) {
      size_t pi = svc->first_part + j;
      const market_alloc *a = &out.allocs[pi];
      int64_t d = a->guarded.desired_m, cur = parts[pi].current_m;
      sum += d;
      bid += a->bid;
      int64_t diff = d > cur ? d - cur : cur - d;
      if (d != cur) changes++;
      if (diff > maxdiff) { maxdiff = diff; why = pi; }
      if (st->n_allocations < SB_ALLOCATIONS_MAX) {
        sb_allocation *al = &st->allocations[st->n_allocations++];
        memset(al, 0, sizeof *al);
        snprintf(al->pod, sizeof al->pod, "%s", svc->pods[j]->name);
        snprintf(al->node, sizeof al->node, "%s", svc->pods[j]->node);
        al->has_cpu = true;
        al->cpu_milli = d;
        al->has_previous = true;
        al->previous_milli = cur;
        al->outcome = d == cur ? SB_OUTCOME_UNCHANGED : SB_OUTCOME_PENDING;
      }
    }
    int scale = sm->spec.horizontal.enabled && svc->sb->spec.has_replicas &&
                svc->desired_replicas != svc->spec_replicas;
    double total_budget = 0;
    for (size_t q = 0; q < n_ok; q++) total_budget += capped[q];
    st->has_bid = true;
    st->bid = bid;
    st->has_budget_share = true;
    st->budget_share = total_budget > 0 ? capped[k] / total_budget : 0;
    st->has_allocation_share = true;
    st->allocation_share = out.desired_m > 0 ? (double)sum / (double)out.desired_m : 0;
    st->has_cpu = true;
    st->cpu_milli = sum;
    st->has_current_replicas = true;
    st->current_replicas = svc->status_replicas;
    st->has_desired_replicas = true;
    st->desired_replicas = svc->desired_replicas;
    sb_decision dec;
    memset(&dec, 0, sizeof dec);
    snprintf(dec.id, sizeof dec.id, "%s", idhex);
    dec.time = tnow;
    char line[600] = "";
    if (why != (size_t)-1) {
      reasoning_format(line, sizeof line, &out.allocs[why].why,
                       svc->pods[why - svc->first_part]->node);
      if (svc->n_pods > 1) {
        size_t l = strlen(line);
        snprintf(line + l, sizeof line - l, " (%s, largest change of %zu pods)",
                 svc->pods[why - svc->first_part]->name, svc->n_pods);
      }
    } else {
      snprintf(line, sizeof line, "no participating pods (%d not ready, %d on other nodes, %d without the container)",
               svc->skipped_not_ready, svc->skipped_other_node, svc->skipped_no_container);
    }
    if (svc->horizontal_line[0])
      snprintf(dec.reason, sizeof dec.reason, "%.500s; %.500s", line, svc->horizontal_line);
    else
      snprintf(dec.reason, sizeof dec.reason, "%s", line);
    dec.outcome = (changes || scale) ? SB_OUTCOME_PENDING : SB_OUTCOME_UNCHANGED;
    st->has_last_decision = true;
    st->last_decision = dec;
    if (changes || scale) {
      dec.has_cpu = true;
      dec.cpu_milli = sum;
      dec.has_replicas = true;
      dec.replicas = svc->desired_replicas;
      sb_history_push(st, &dec);
    }
    char msg[400];
    snprintf(msg, sizeof msg, "%zu pod(s) in market %.253s%s", svc->n_pods, mname,
             (svc->skipped_not_ready || svc->skipped_no_container) ? "; some pods skipped (not ready or no container)" : "");
    cond_remove(&st->conditions, SB_COND_INVALID);
    cond_set(&st->conditions, SB_COND_CONFLICT, COND_FALSE, "NoConflict",
             "no HorizontalPodAutoscaler or VerticalPodAutoscaler controls the target", sgen, tnow, NULL);
    cond_set(&st->conditions, SB_COND_READY, COND_TRUE, "Participating", msg, sgen, tnow, NULL);
    st->observed_generation = sgen;
    rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
    if (ss) { ss->conflict_reported = 0; ss->invalid_gen = 0; }
    rec_budget_submit_status(c, svc); /* several in flight (writer.c), in this order */
    if (rec_svc_park(svc) != MBCAS_OK) { rc = MBCAS_ENOMEM; goto done; }
  }
  rec_writer_flush(c->writer);
  for (size_t oi = 0; oi < n_ok; oi++) {
    rec_svc *svc = &svcs[okidx[order[oi]]];
    if (!svc->write_pending) continue; /* stopped before it was queued */
    if (rec_budget_status_written(c, svc) != MBCAS_OK) {
      svc->state = SVC_NOT_READY; /* status first: no actuation without a recorded decision */
      if (stc) stc->errors++;
    } else {
      if (stc) stc->budgets_written++;
      if (svc->outcome == SB_OUTCOME_PENDING) wrote_pending = 1;
    }
  }

  /* The market's own status. */
  double secs = mono_s() - t0;
  {
    int contended = 0, floors = 0;
    mst->n_nodes = 0;
    mst->nodes_omitted = 0;
    for (size_t i = 0; i < n_mn; i++) {
      const market_node_summary *ns = &out.nodes[i];
      if (ns->flags & CLEARING_CONTENDED) contended++;
      if (ns->flags & CLEARING_FLOORS_EXCEED) floors++;
      if (mst->n_nodes >= SM_STATUS_NODES_MAX) { mst->nodes_omitted++; continue; }
      sm_node_status *o = &mst->nodes[mst->n_nodes++];
      memset(o, 0, sizeof *o);
      snprintf(o->name, sizeof o->name, "%s", ru_str(mnodes[i], "metadata.name"));
      o->capacity_milli = ns->capacity_m;
      o->allocated_milli = ns->desired_m;
      snprintf(o->price, sizeof o->price, "%.4g", ns->price);
      o->contended = (ns->flags & CLEARING_CONTENDED) != 0;
      o->participants = (int32_t)ns->participants;
      if (c->obs.node_price) c->obs.node_price(c->obs.ud, mname, o->name, ns->price);
    }
    mst->node_count = (int32_t)n_mn;
    mst->participants = (int32_t)n_parts;
    mst->contended_nodes = contended;
    snprintf(mst->fairness, sizeof mst->fairness, "%.3f", out.jain);
    mst->last_clearing_time = tnow;
    mst->last_clearing_duration_us = (int64_t)(secs * 1e6);
    snprintf(mst->last_decision_id, sizeof mst->last_decision_id, "%s", idhex);
    char m[256];
    snprintf(m, sizeof m, "cleared %zu node(s), %zu participant(s), decision %s", n_mn, n_parts, idhex);
    cond_set(&mst->conditions, "Ready", COND_TRUE, "Cleared", m, gen, tnow, NULL);
    snprintf(m, sizeof m, "%d of %zu node(s) had more demand than capacity", contended, n_mn);
    cond_set(&mst->conditions, "Contended", contended ? COND_TRUE : COND_FALSE,
             contended ? "DemandExceedsCapacity" : "CapacitySuffices", m, gen, tnow, NULL);
    snprintf(m, sizeof m, "%d node(s) where CPU floors alone exceed capacity (floors scaled down)", floors);
    cond_set(&mst->conditions, "FloorsExceeded", floors ? COND_TRUE : COND_FALSE,
             floors ? "FloorsScaledDown" : "FloorsFit", m, gen, tnow, NULL);
    if (!c->opt.pods_resize_supported)
      cond_set(&mst->conditions, "ResizeUnsupported", COND_TRUE, "PodsResizeNotServed",
               "the API server does not serve pods/resize (Kubernetes < 1.33?): CPU decisions are not actuated",
               gen, tnow, NULL);
    else
      cond_remove(&mst->conditions, "ResizeUnsupported");
    mst->observed_generation = gen;
    if (rec_patch_status(c, spath, sm_status_to_json(mst)) != MBCAS_OK && stc) stc->errors++;
  }
  if (wrote_pending) rec_crash_point();

  /* Only now: actuate; the outcomes' status writes go out while the next one actuates. */
  for (size_t k = 0; k < n_ok; k++) {
    rec_svc *svc = &svcs[okidx[k]];
    if (rec_stopping(c)) break; /* what stays Pending is resumed after the restart */
    if (svc->state != SVC_OK) continue;
    if (svc->outcome != SB_OUTCOME_PENDING) continue;
    if (rec_svc_unpark(svc) != MBCAS_OK) { /* stays Pending: completed by a later cycle */
      if (stc) stc->errors++;
      continue;
    }
    rec_budget_actuate(c, snap, sm, svc, now, stc);
    rec_svc_done(svc); /* its status write is queued; later steps read kept fields */
  }
  rec_writer_flush(c->writer);
  for (size_t k = 0; k < n_ok; k++) rec_budget_actuate_done(c, &svcs[okidx[k]], stc);
  /* Metrics. */
  for (size_t k = 0; k < n_ok; k++) {
    rec_svc *svc = &svcs[okidx[k]];
    if (c->obs.budget)
      c->obs.budget(c->obs.ud, svc->ns, svc->name, svc->demand, svc->bid, svc->budget_share,
                    svc->allocation_share);
    for (size_t j = 0; c->obs.pod_allocated && j < svc->n_pods; j++)
      c->obs.pod_allocated(c->obs.ud, mname, svc->pods[j]->node,
                           svc->ns, svc->pods[j]->name,
                           svc->name, out.allocs[svc->first_part + j].guarded.desired_m);
  }
  if (c->obs.clearing) c->obs.clearing(c->obs.ud, mname, secs);
  {
    char q[64];
    LOG_INFO("market cleared", "market=%s nodes=%zu participants=%zu decision=%s seconds=%s", mname,
             n_mn, n_parts, idhex, (snprintf(q, sizeof q, "%.6f", secs), q));
  }
done:
  rec_writer_flush(c->writer); /* queued writes point into svcs */
  for (size_t i = 0; i < n_svcs; i++) rec_svc_clear(&svcs[i]);
  free(svcs);
  free(mnodes);
  ru_map_free(nidx);
  free(nodes);
  free(parts);
  free(out.nodes);
  free(out.allocs);
  free(okns);
  free(okbudget);
  free(okidx);
  free(capped);
  free(order);
  rec_metrics_free(mindex);
  free(partset);
  sm_free(sm);
  return rc;
}

mbcas_rc rec_market_replay(int64_t *out_desired, size_t out_cap, size_t *n_out,
                           const scalingmarket *sm, const servicebudget *const *sbs, size_t n_sb,
                           mbcas_err *err) {
  size_t n_parts = 0, n_nodes = (size_t)sm->status.n_nodes;
  *n_out = 0;
  for (size_t i = 0; i < n_sb; i++) n_parts += (size_t)sbs[i]->status.n_allocations;
  if (n_parts > out_cap) return mbcas_err_set(err, MBCAS_EINVAL, "", "output too small");
  double *capped = calloc(n_sb ? n_sb : 1, sizeof *capped);
  market_node *nodes = calloc(n_nodes ? n_nodes : 1, sizeof *nodes);
  market_participant *parts = calloc(n_parts ? n_parts : 1, sizeof *parts);
  market_output out;
  memset(&out, 0, sizeof out);
  out.nodes = calloc(n_nodes ? n_nodes : 1, sizeof *out.nodes);
  out.allocs = calloc(n_parts ? n_parts : 1, sizeof *out.allocs);
  mbcas_rc rc;
  if (!capped || !nodes || !parts || !out.nodes || !out.allocs) { rc = MBCAS_ENOMEM; goto done; }
  if ((rc = rec_market_budgets(capped, &sm->spec, sbs, n_sb)) != MBCAS_OK) goto done;
  for (size_t i = 0; i < n_nodes; i++) nodes[i].allocatable_m = sm->status.nodes[i].capacity_milli;
  size_t p = 0;
  for (size_t i = 0; i < n_sb; i++) {
    const sb_status *st = &sbs[i]->status;
    const sb_spec *sp = &sbs[i]->spec;
    for (int j = 0; j < st->n_allocations; j++, p++) {
      const sb_allocation *a = &st->allocations[j];
      size_t ni;
      for (ni = 0; ni < n_nodes && strcmp(sm->status.nodes[ni].name, a->node) != 0; ni++) {}
      if (ni == n_nodes) {
        rc = mbcas_err_set(err, MBCAS_EINVAL, "status.allocations.node", "node %s not in market status", a->node);
        goto done;
      }
      char pk[API_NS_MAX + API_NAME_MAX + 2];
      snprintf(pk, sizeof pk, "%s/%s", sbs[i]->meta.namespace_, a->pod);
      market_participant *mp = &parts[p];
      mp->node = (uint32_t)ni;
      mp->key = market_key(pk);
      mp->budget_share = bid_pod_share(capped[i], (uint32_t)st->n_allocations);
      mp->demand = rec_pod_demand(st, a->pod);
      mp->floor_m = sp->cpu_min_milli;
      mp->cap_m = sp->has_cpu_max ? sp->cpu_max_milli : nodes[ni].allocatable_m;
      if (mp->cap_m < mp->floor_m) mp->cap_m = mp->floor_m;
      mp->current_m = a->has_previous ? a->previous_milli : 0;
      mp->usage_m = -1;
      if (sp->has_cpu_base)
        mp->need_m = market_need_burst_step(mp->current_m, mp->demand, BURST_UTIL,
                                            sp->cpu_base_milli, burst_decay(&sm->spec));
      mp->last_change_at = -1;
    }
  }
  guardrails_config gc;
  rec_market_guardrails(&gc, &sm->spec);
  gc.cooldown_s = 0;
  market_input in = {nodes, n_nodes, parts, n_parts, {0}, &gc, 0};
  if ((rc = market_clear(&out, &in, err)) != MBCAS_OK) goto done;
  for (size_t i = 0; i < n_parts; i++) out_desired[i] = out.allocs[i].guarded.desired_m;
  *n_out = n_parts;
done:
  free(capped);
  free(nodes);
  free(parts);
  free(out.nodes);
  free(out.allocs);
  return rc;
}
