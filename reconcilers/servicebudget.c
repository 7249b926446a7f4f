/* servicebudget.c - the ServiceBudget reconciler: validate, resolve the target through its
 * scale subresource, detect an HPA/VPA on the same target (Conflict: nothing is written to
 * that target), find the participating pods, and actuate a decision recorded in status.
 * See reconciler.h for how it fits in a cycle. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "quantity.h"
#include "scalingmarket_rec.h"

static mbcas_rc sb_parse_with_status(servicebudget **out, const cJSON *obj, cJSON *status,
                                     mbcas_err *err);
static void keep_fields(rec_svc *svc);

void rec_svc_clear(rec_svc *svc) {
  if (!svc) return;
  sb_free(svc->sb);
  free(svc->pods);
  free(svc->parked);
  free(svc->pod_demand);
  memset(svc, 0, sizeof *svc);
}

mbcas_rc rec_svc_park(rec_svc *svc) {
  if (!svc->sb) return MBCAS_OK;
  const servicebudget *sb = svc->sb;
  const sb_status *st = &sb->status;
  cJSON *j = sb_status_to_json(st);
  char *text = j ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  double *pd = NULL;
  if (svc->n_pods && !(pd = malloc(svc->n_pods * sizeof *pd))) {
    free(text);
    return MBCAS_ENOMEM;
  }
  if (!text) {
    free(pd);
    return MBCAS_ENOMEM;
  }
  for (size_t j2 = 0; j2 < svc->n_pods; j2++) pd[j2] = rec_pod_demand(st, svc->pods[j2]->name);
  free(svc->pod_demand);
  svc->pod_demand = pd;
  free(svc->parked);
  svc->parked = text;
  keep_fields(svc);
  return MBCAS_OK;
}

void rec_svc_done(rec_svc *svc) {
  if (!svc->sb) return;
  keep_fields(svc);
  free(svc->parked);
  svc->parked = NULL;
}

/* Copy what the later stages read out of svc->sb, then free it. */
static void keep_fields(rec_svc *svc) {
  const servicebudget *sb = svc->sb;
  const sb_status *st = &sb->status;
  svc->spec = sb->spec;
  snprintf(svc->ns, sizeof svc->ns, "%s", sb->meta.namespace_);
  snprintf(svc->name, sizeof svc->name, "%s", sb->meta.name);
  svc->generation = sb->meta.generation;
  svc->observed_generation = st->observed_generation;
  svc->has_demand = st->has_demand;
  svc->demand = st->demand;
  svc->bid = st->bid;
  svc->budget_share = st->budget_share;
  svc->allocation_share = st->allocation_share;
  svc->outcome = st->has_last_decision ? st->last_decision.outcome : SB_OUTCOME_NONE;
  sb_free(svc->sb);
  svc->sb = NULL;
}

mbcas_rc rec_svc_unpark(rec_svc *svc) {
  if (svc->sb) return MBCAS_OK;
  if (!svc->parked) return MBCAS_EINVAL;
  servicebudget *sb = NULL;
  cJSON *j = cJSON_Parse(svc->parked);
  if (!j) return MBCAS_ENOMEM;
  /* meta and spec from the snapshot object, status from the text: each parsed once */
  mbcas_rc rc = sb_parse_with_status(&sb, svc->obj, j, NULL);
  if (rc != MBCAS_OK) return rc;
  svc->sb = sb;
  free(svc->parked);
  svc->parked = NULL;
  return MBCAS_OK;
}

static void set_state(rec_svc *svc, svc_state st, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_state(rec_svc *svc, svc_state st, const char *reason, const char *fmt, ...) {
  va_list ap;
  svc->state = st;
  snprintf(svc->reason, sizeof svc->reason, "%s", reason);
  va_start(ap, fmt);
  vsnprintf(svc->message, sizeof svc->message, fmt, ap);
  va_end(ap);
}

void rec_budget_compact(cJSON *obj) {
  cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
  if (!cJSON_IsObject(st) || cJSON_GetObjectItemCaseSensitive(obj, REC_STATUS_TEXT)) return;
  char *text = cJSON_PrintUnformatted(st);
  cJSON *raw = text ? cJSON_CreateRaw(text) : NULL;
  cJSON *small = cJSON_CreateObject();
  free(text);
  if (!raw || !small) {
    cJSON_Delete(raw);
    cJSON_Delete(small);
    return;
  }
  const cJSON *og = cJSON_GetObjectItemCaseSensitive(st, "observedGeneration");
  if (cJSON_IsNumber(og)) cJSON_AddNumberToObject(small, "observedGeneration", og->valuedouble);
  cJSON_ReplaceItemInObjectCaseSensitive(obj, "status", small);
  cJSON_AddItemToObject(obj, REC_STATUS_TEXT, raw);
}

const cJSON *rec_budget_status(const cJSON *obj, cJSON **owned) {
  *owned = NULL;
  const cJSON *raw = cJSON_GetObjectItemCaseSensitive(obj, REC_STATUS_TEXT);
  if (cJSON_IsRaw(raw) && raw->valuestring) return *owned = cJSON_Parse(raw->valuestring);
  return cJSON_GetObjectItemCaseSensitive(obj, "status");
}

/* sb_parse of obj with its status replaced by status (taken over; NULL: none): obj's other
 * members are borrowed (references), nothing of obj is changed or copied. */
static mbcas_rc sb_parse_with_status(servicebudget **out, const cJSON *obj, cJSON *status,
                                     mbcas_err *err) {
  cJSON *tmp = cJSON_CreateObject();
  if (!tmp) {
    cJSON_Delete(status);
    *out = NULL;
    return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  }
  cJSON *it;
  cJSON_ArrayForEach(it, obj) {
    if (!it->string || strcmp(it->string, "status") == 0 || strcmp(it->string, REC_STATUS_TEXT) == 0)
      continue;
    cJSON_AddItemReferenceToObject(tmp, it->string, it);
  }
  if (status) cJSON_AddItemToObject(tmp, "status", status);
  mbcas_rc rc = sb_parse(out, tmp, err);
  cJSON_Delete(tmp); /* references only: obj is untouched */
  return rc;
}

mbcas_rc rec_sb_parse(servicebudget **out, const cJSON *obj, mbcas_err *err) {
  cJSON *st = NULL;
  rec_budget_status(obj, &st);
  if (!st) return sb_parse(out, obj, err);
  return sb_parse_with_status(out, obj, st, err);
}

/* A servicebudget with meta and status only, for objects whose spec does not parse. */
static servicebudget *status_only(const cJSON *obj) {
  servicebudget *sb = calloc(1, sizeof *sb);
  if (!sb) return NULL;
  meta_parse(&sb->meta, obj, 1, NULL);
  cJSON *owned = NULL;
  if (sb_status_from_json(&sb->status, rec_budget_status(obj, &owned), NULL) != MBCAS_OK)
    sb_status_clear(&sb->status);
  cJSON_Delete(owned);
  return sb;
}

/* Group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""). */
static void group_of(const char *api_version, char *buf, size_t len) {
  const char *slash = api_version ? strchr(api_version, '/') : NULL;
  if (!slash) { buf[0] = 0; return; }
  snprintf(buf, len, "%.*s", (int)(slash - api_version), api_version);
}

static int same_target(const cJSON *ref, const char *api_version, const char *kind,
                       const char *name) {
  const char *k = ru_str(ref, "kind"), *n = ru_str(ref, "name"), *av = ru_str(ref, "apiVersion");
  if (!k || !n || strcmp(k, kind) != 0 || strcmp(n, name) != 0) return 0;
  if (!av) return 1;
  char g1[256], g2[256];
  group_of(av, g1, sizeof g1);
  group_of(api_version, g2, sizeof g2);
  return strcmp(g1, g2) == 0;
}

const cJSON *rec_budget_find_controller(const rec_snapshot *snap, const char *ns,
                                        const char *api_version, const char *kind,
                                        const char *name, const char **what) {
  for (size_t i = 0; i < snap->n_hpas; i++) {
    const cJSON *h = snap->hpas[i];
    const char *hns = ru_str(h, "metadata.namespace");
    if (!hns || strcmp(hns, ns) != 0) continue;
    if (same_target(ru_get(h, "spec.scaleTargetRef"), api_version, kind, name)) {
      if (what) *what = "HorizontalPodAutoscaler";
      return h;
    }
  }
  for (size_t i = 0; i < snap->n_vpas; i++) {
    const cJSON *v = snap->vpas[i];
    const char *vns = ru_str(v, "metadata.namespace");
    if (!vns || strcmp(vns, ns) != 0) continue;
    const char *mode = ru_str(v, "spec.updatePolicy.updateMode"); /* absent: Auto */
    if (mode && strcmp(mode, "Off") == 0) continue;
    if (same_target(ru_get(v, "spec.targetRef"), api_version, kind, name)) {
      if (what) *what = "VerticalPodAutoscaler";
      return v;
    }
  }
  return NULL;
}

/* The cached Deployment or StatefulSet (apps group) the spec targets, or NULL. */
static const cJSON *find_workload(const rec_snapshot *snap, const sb_spec *sp, const char *ns) {
  if (strcmp(sp->target_kind, "Deployment") != 0 && strcmp(sp->target_kind, "StatefulSet") != 0)
    return NULL;
  if (strncmp(sp->target_api_version, "apps/", 5) != 0) return NULL;
  for (size_t i = 0; i < snap->n_workloads; i++) {
    const cJSON *w = snap->workloads[i];
    const char *k = ru_str(w, "kind"), *n = ru_str(w, "metadata.name");
    const char *wns = ru_str(w, "metadata.namespace");
    /* items of a List carry no kind: tell them apart by their fields */
    int is_sts = ru_get(w, "spec.serviceName") != NULL || ru_get(w, "spec.volumeClaimTemplates") != NULL;
    if (!k) k = is_sts ? "StatefulSet" : "Deployment";
    if (n && wns && strcmp(n, sp->target_name) == 0 && strcmp(wns, ns) == 0 &&
        strcmp(k, sp->target_kind) == 0)
      return w;
  }
  return NULL;
}

static int namespace_allowed(const rec_snapshot *snap, const scalingmarket *sm, const char *ns) {
  if (!sm->spec.namespace_selector.present || snap->n_namespaces < 0) return 1;
  for (long i = 0; i < snap->n_namespaces; i++) {
    const char *n = ru_str(snap->namespaces[i], "metadata.name");
    if (n && strcmp(n, ns) == 0)
      return sel_matches(&sm->spec.namespace_selector, ru_get(snap->namespaces[i], "metadata.labels"));
  }
  return 0;
}

static int add_pod(rec_svc *svc, const kube_pod *pod) {
  if (svc->n_pods == svc->cap_pods) {
    size_t nc = svc->cap_pods ? svc->cap_pods * 2 : 8;
    const kube_pod **np = realloc(svc->pods, nc * sizeof *np);
    if (!np) return -1;
    svc->pods = np;
    svc->cap_pods = nc;
  }
  svc->pods[svc->n_pods++] = pod;
  return 0;
}

void rec_budget_prepare(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                        ru_map *market_nodes, rec_svc *svc,
                        double now) {
  (void)now;
  mbcas_err err;
  mbcas_err_clear(&err);
  rec_obj_key(svc->obj, svc->key, sizeof svc->key);
  if (rec_sb_parse(&svc->sb, svc->obj, &err) != MBCAS_OK) {
    char buf[600];
    svc->sb = status_only(svc->obj);
    set_state(svc, SVC_INVALID, "InvalidSpec", "%s", mbcas_err_format(&err, buf, sizeof buf));
    return;
  }
  const sb_spec *sp = &svc->sb->spec;
  const char *ns = svc->sb->meta.namespace_;
  if (sp->has_agent_policy_ref) {
    svc->policy_obj = rec_find_policy(snap, ns, sp->agent_policy_ref);
    if (!svc->policy_obj) {
      set_state(svc, SVC_INVALID, "AgentPolicyNotFound", "spec.agentPolicyRef.name: AgentPolicy %s/%s not found",
                ns, sp->agent_policy_ref);
      return;
    }
  }
  if (!namespace_allowed(snap, sm, ns)) {
    set_state(svc, SVC_NOT_READY, "NamespaceNotAllowed",
              "namespace %s does not match the namespaceSelector of ScalingMarket %s", ns,
              sm->meta.name);
    return;
  }
  /* Single writer: an HPA or VPA on the same target wins; we write nothing to it. */
  const char *what = NULL;
  const cJSON *ctl = rec_budget_find_controller(snap, ns, sp->target_api_version, sp->target_kind,
                                                sp->target_name, &what);
  if (ctl) {
    set_state(svc, SVC_CONFLICT, what[0] == 'H' ? "HorizontalPodAutoscaler" : "VerticalPodAutoscaler",
              "%s %s also controls %s %s: MBCAS writes nothing to this target", what,
              ru_str(ctl, "metadata.name") ? ru_str(ctl, "metadata.name") : "?", sp->target_kind,
              sp->target_name);
    return;
  }
  /* Resolve the target: a cached Deployment/StatefulSet, else its scale subresource. */
  act_scale_path(svc->scale_path, sizeof svc->scale_path, sp->target_api_version, sp->target_kind,
                 ns, sp->target_name);
  const cJSON *wl = find_workload(snap, sp, ns);
  const cJSON *wsel = NULL;
  if (wl) {
    svc->spec_replicas = (int32_t)ru_num(wl, "spec.replicas", 1);
    svc->status_replicas = (int32_t)ru_num(wl, "status.replicas", 0);
    wsel = ru_get(wl, "spec.selector");
    svc->selector[0] = 0;
    if (!wsel) {
      set_state(svc, SVC_NOT_READY, "TargetHasNoSelector", "%s %s has no selector", sp->target_kind,
                sp->target_name);
      return;
    }
    goto pods;
  }
  cJSON *scale = NULL;
  mbcas_rc rc = c->api.get(c->api.ctx, svc->scale_path, &scale);
  if (rc == MBCAS_ENOTFOUND) {
    set_state(svc, SVC_NOT_READY, "TargetNotFound", "%s %s/%s (or its scale subresource) not found",
              sp->target_kind, ns, sp->target_name);
    return;
  }
  if (rc != MBCAS_OK) {
    set_state(svc, SVC_NOT_READY, "TargetUnavailable", "reading %s: %s", svc->scale_path,
              mbcas_strerror(rc));
    cJSON_Delete(scale);
    return;
  }
  svc->spec_replicas = (int32_t)ru_num(scale, "spec.replicas", 0);
  svc->status_replicas = (int32_t)ru_num(scale, "status.replicas", svc->spec_replicas);
  const char *sel = ru_str(scale, "status.selector");
  snprintf(svc->selector, sizeof svc->selector, "%s", sel ? sel : "");
  cJSON_Delete(scale);
  if (!svc->selector[0]) {
    set_state(svc, SVC_NOT_READY, "TargetHasNoSelector", "the scale subresource of %s %s has no selector",
              sp->target_kind, sp->target_name);
    return;
  }
pods:
  /* Participants: Ready, not terminating, target container present, on a market node. */
  for (size_t i = 0; i < snap->n_pods; i++) {
    const kube_pod *pod = snap->pods[i];
    if (!pod->ns || strcmp(pod->ns, ns) != 0) continue;
    int match = 0;
    if (wsel) {
      match = ru_label_selector_match_kpod(wsel, pod);
    } else if (ru_selector_match_kpod(&match, svc->selector, pod) != MBCAS_OK) {
      set_state(svc, SVC_NOT_READY, "TargetSelectorInvalid", "cannot parse selector %s", svc->selector);
      return;
    }
    if (!match) continue;
    const char *node = pod->node;
    if (ru_kpod_terminating(pod)) continue;
    if (!node || !*node || !ru_map_get(market_nodes, node)) {
      svc->skipped_other_node++;
      continue;
    }
    if (!ru_kpod_ready(pod)) { svc->skipped_not_ready++; continue; }
    if (!act_find_container(pod, sp->container[0] ? sp->container : NULL)) {
      svc->skipped_no_container++;
      continue;
    }
    if (add_pod(svc, pod) != 0) {
      set_state(svc, SVC_NOT_READY, "OutOfMemory", "out of memory");
      return;
    }
  }
  const rec_svc_state *ss = ru_map_get(c->svcs, svc->key);
  if (svc->sb->status.has_last_decision &&
      svc->sb->status.last_decision.outcome == SB_OUTCOME_PENDING &&
      !(ss && strcmp(ss->done_id, svc->sb->status.last_decision.id) == 0)) {
    /* Pending, and not a decision this process already completed (the cache can show
     * our own intermediate write for a moment): finish it before anything new. */
    set_state(svc, SVC_RESUME, "Resumed", "completing decision %s recorded before a restart",
              svc->sb->status.last_decision.id);
    return;
  }
  svc->state = SVC_OK;
}

mbcas_rc rec_budget_write_status(rec_ctx *c, const rec_svc *svc) {
  char path[600];
  rec_status_path(path, sizeof path, SB_RESOURCE, svc->sb->meta.namespace_, svc->sb->meta.name);
  mbcas_rc rc = rec_patch_status(c, path, sb_status_to_json(&svc->sb->status));
  if (rc == MBCAS_OK) {
    rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
    if (ss && svc->sb->status.observed_generation > ss->seen_gen)
      ss->seen_gen = svc->sb->status.observed_generation;
  }
  return rc;
}

void rec_budget_submit_status(rec_ctx *c, rec_svc *svc) {
  char path[600];
  const sb_status *st = &svc->sb->status;
  rec_status_path(path, sizeof path, SB_RESOURCE, svc->sb->meta.namespace_, svc->sb->meta.name);
  svc->write_pending = 1;
  svc->written_gen = st->observed_generation;
  snprintf(svc->written_id, sizeof svc->written_id, "%s",
           st->has_last_decision ? st->last_decision.id : "");
  rec_writer_patch_status(c->writer, &c->api, path, sb_status_to_json(&svc->sb->status),
                          &svc->write_rc);
}

mbcas_rc rec_budget_status_written(rec_ctx *c, rec_svc *svc) {
  if (!svc->write_pending) return MBCAS_ERR;
  svc->write_pending = 0;
  if (svc->write_rc == MBCAS_OK) {
    rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
    if (ss && svc->written_gen > ss->seen_gen) ss->seen_gen = svc->written_gen;
  }
  return svc->write_rc;
}

void rec_budget_report_state(rec_ctx *c, rec_svc *svc, double now) {
  if (!svc->sb) return;
  sb_status *st = &svc->sb->status;
  int64_t gen = svc->sb->meta.generation;
  time_t t = (time_t)now;
  bool ch = false, any = st->observed_generation != gen;
  rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
  switch (svc->state) {
  case SVC_INVALID:
    cond_set(&st->conditions, SB_COND_INVALID, COND_TRUE, svc->reason, svc->message, gen, t, &ch);
    any |= ch;
    cond_set(&st->conditions, SB_COND_READY, COND_FALSE, svc->reason, svc->message, gen, t, &ch);
    any |= ch;
    if (ss && ss->invalid_gen != gen + 1) {
      rec_event(c, svc->obj, "Warning", "Invalid", "%s", svc->message);
      ss->invalid_gen = gen + 1;
    }
    break;
  case SVC_CONFLICT:
    any |= cond_remove(&st->conditions, SB_COND_INVALID);
    cond_set(&st->conditions, SB_COND_CONFLICT, COND_TRUE, svc->reason, svc->message, gen, t, &ch);
    any |= ch;
    cond_set(&st->conditions, SB_COND_READY, COND_FALSE, "Conflict", svc->message, gen, t, &ch);
    any |= ch;
    if (ss && !ss->conflict_reported) {
      rec_event(c, svc->obj, "Warning", "Conflict", "%s", svc->message);
      ss->conflict_reported = 1;
    }
    break;
  case SVC_NOT_READY:
    any |= cond_remove(&st->conditions, SB_COND_INVALID);
    any |= cond_remove(&st->conditions, SB_COND_CONFLICT);
    cond_set(&st->conditions, SB_COND_READY, COND_FALSE, svc->reason, svc->message, gen, t, &ch);
    any |= ch;
    if (ss && ch) rec_event(c, svc->obj, "Warning", svc->reason, "%s", svc->message);
    break;
  default:
    return;
  }
  if (svc->state != SVC_CONFLICT && ss) ss->conflict_reported = 0;
  st->observed_generation = gen;
  if (any) rec_budget_write_status(c, svc);
}

void rec_budget_orphans(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *stc) {
  for (size_t i = 0; i < snap->n_budgets; i++) {
    const cJSON *obj = snap->budgets[i];
    const char *m = ru_str(obj, "spec.marketRef.name");
    int found = 0;
    for (size_t j = 0; m && j < snap->n_markets && !found; j++) {
      const char *n = ru_str(snap->markets[j], "metadata.name");
      found = n && strcmp(n, m) == 0;
    }
    if (found) continue;
    rec_svc svc;
    memset(&svc, 0, sizeof svc);
    svc.obj = obj;
    rec_obj_key(obj, svc.key, sizeof svc.key);
    mbcas_err err;
    mbcas_err_clear(&err);
    if (rec_sb_parse(&svc.sb, obj, &err) != MBCAS_OK) {
      char buf[600];
      svc.sb = status_only(obj);
      set_state(&svc, SVC_INVALID, "InvalidSpec", "%s", mbcas_err_format(&err, buf, sizeof buf));
    } else {
      set_state(&svc, SVC_INVALID, "MarketNotFound",
                "spec.marketRef.name: ScalingMarket %s not found", m ? m : "");
    }
    if (stc) stc->invalid++;
    rec_budget_report_state(c, &svc, now);
    rec_svc_clear(&svc);
  }
}

static const kube_pod *find_pod(const rec_snapshot *snap, const rec_svc *svc, const char *name) {
  for (size_t i = 0; i < svc->n_pods; i++)
    if (strcmp(svc->pods[i]->name, name) == 0) return svc->pods[i];
  const char *ns = svc->sb->meta.namespace_;
  for (size_t i = 0; i < snap->n_pods; i++) {
    const kube_pod *p = snap->pods[i];
    if (p->ns && p->name && strcmp(p->ns, ns) == 0 && strcmp(p->name, name) == 0) return p;
  }
  return NULL;
}

static sb_outcome to_sb(act_outcome o) {
  switch (o) {
  case ACT_APPLIED: return SB_OUTCOME_APPLIED;
  case ACT_UNCHANGED: return SB_OUTCOME_UNCHANGED;
  case ACT_INFEASIBLE: return SB_OUTCOME_INFEASIBLE;
  case ACT_RECOMMENDED: return SB_OUTCOME_RECOMMENDED;
  case ACT_PENDING: return SB_OUTCOME_PENDING;
  default: return SB_OUTCOME_DEFERRED; /* deferred, a 409 that persisted, failed: retried */
  }
}

/* Worst first: Infeasible > Deferred > Applied > Unchanged. */
static sb_outcome worse(sb_outcome a, sb_outcome b) {
  static const int rank[] = {0, 5, 2, 1, 4, 6, 3, 2};
  return rank[b] > rank[a] ? b : a;
}

/* Actuate what svc's status records as Pending (allocations, then replicas), write the
 * outcome back. mode/policy from the market. Used after a fresh decision and on resume. */
void rec_budget_actuate(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                        rec_svc *svc, double now, rec_cycle_stats *stc) {
  sb_status *st = &svc->sb->status;
  act_policy pol = (act_policy)sm->spec.resize_policy;
  int enforce = sm->spec.mode == SM_MODE_ENFORCE;
  int can_resize = enforce && c->opt.pods_resize_supported;
  const char *container = svc->sb->spec.container[0] ? svc->sb->spec.container : NULL;
  sb_outcome total = SB_OUTCOME_UNCHANGED;
  char applied[600] = "", problem[600] = "";
  int n_applied = 0, n_problem = 0;
  const char *problem_reason = NULL;
  for (int i = 0; i < st->n_allocations; i++) {
    sb_allocation *a = &st->allocations[i];
    if (a->outcome != SB_OUTCOME_PENDING || !a->has_cpu) continue;
    if (!enforce) { a->outcome = SB_OUTCOME_RECOMMENDED; total = worse(total, a->outcome); continue; }
    if (!can_resize) { a->outcome = SB_OUTCOME_DEFERRED; total = worse(total, a->outcome); continue; }
    const kube_pod *pod = find_pod(snap, svc, a->pod);
    act_outcome o;
    char msg[256];
    if (!pod) {
      o = ACT_DEFERRED;
      snprintf(msg, sizeof msg, "pod not found");
    } else {
      o = act_resize(&c->api, pod, container, pol, a->cpu_milli, msg, sizeof msg);
      if (stc) stc->resizes++;
      int64_t step = a->has_previous ? a->cpu_milli - a->previous_milli : 0;
      if (c->obs.resize && o != ACT_UNCHANGED) c->obs.resize(c->obs.ud, o, step < 0 ? -step : step);
    }
    a->outcome = to_sb(o);
    total = worse(total, a->outcome);
    char pk[API_NS_MAX + API_NAME_MAX + 2];
    snprintf(pk, sizeof pk, "%s/%s", svc->sb->meta.namespace_, a->pod);
    if (o == ACT_APPLIED) {
      rec_pod_state *ps = ru_map_upsert(c->pods, pk, NULL);
      if (ps) ps->last_change_at = now;
      if (n_applied++ < 5) {
        size_t l = strlen(applied);
        char q1[QUANTITY_STR_MAX], q2[QUANTITY_STR_MAX];
        snprintf(applied + l, sizeof applied - l, "%s%s %s->%s", l ? ", " : "", a->pod,
                 a->has_previous ? quantity_format_milli(a->previous_milli, q1, sizeof q1) : "?",
                 quantity_format_milli(a->cpu_milli, q2, sizeof q2));
      }
    } else if (o != ACT_UNCHANGED) {
      if (n_problem++ < 3) {
        size_t l = strlen(problem);
        snprintf(problem + l, sizeof problem - l, "%s%s: %s", l ? "; " : "", a->pod, msg);
      }
      if (!problem_reason || o == ACT_INFEASIBLE)
        problem_reason = o == ACT_INFEASIBLE ? "ResizeInfeasible" : "ResizeDeferred";
    }
  }
  /* Replicas, through the scale subresource only. */
  if (st->has_desired_replicas && svc->scale_path[0] && st->desired_replicas != svc->spec_replicas &&
      svc->sb->spec.has_replicas) {
    if (!enforce) {
      total = worse(total, SB_OUTCOME_RECOMMENDED);
    } else {
      char msg[256];
      act_outcome o = act_scale(&c->api, svc->scale_path, svc->spec_replicas, st->desired_replicas,
                                msg, sizeof msg);
      if (stc) stc->scales++;
      if (c->obs.scale) c->obs.scale(c->obs.ud, o);
      svc->scale_outcome = o;
      total = worse(total, to_sb(o));
      if (o == ACT_APPLIED) {
        rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
        (void)ss;
        rec_event(c, svc->obj, "Normal", "Scaled", "%s %s: %s", svc->sb->spec.target_kind,
                  svc->sb->spec.target_name, svc->horizontal_line[0] ? svc->horizontal_line : msg);
      } else if (o != ACT_UNCHANGED) {
        rec_event(c, svc->obj, "Warning", "ScaleFailed", "%s %s: %s", svc->sb->spec.target_kind,
                  svc->sb->spec.target_name, msg);
      }
    }
  }
  if (n_applied)
    rec_event(c, svc->obj, "Normal", "Resized", "resized %d pod(s): %s%s", n_applied, applied,
              n_applied > 5 ? ", ..." : "");
  if (n_problem)
    rec_event(c, svc->obj, "Warning", problem_reason, "%d resize(s) not applied: %s%s", n_problem,
              problem, n_problem > 3 ? "; ..." : "");
  /* Outcome back into status. */
  if (st->has_last_decision && st->last_decision.outcome == SB_OUTCOME_PENDING) {
    st->last_decision.outcome = total;
    if (st->n_history > 0 && strcmp(st->history[0].id, st->last_decision.id) == 0)
      st->history[0].outcome = total;
  }
  int64_t gen = svc->sb->meta.generation;
  time_t t = (time_t)now;
  if (!enforce) {
    cond_set(&st->conditions, SB_COND_ACTUATED, COND_FALSE, "Recommend",
             sm->spec.mode == SM_MODE_PAUSED ? "the market is Paused" : "the market is in Recommend mode: decisions are not applied",
             gen, t, NULL);
  } else if (!c->opt.pods_resize_supported) {
    cond_set(&st->conditions, SB_COND_ACTUATED, COND_FALSE, "ResizeUnsupported",
             "the API server does not serve pods/resize: CPU is not actuated", gen, t, NULL);
  } else if (total == SB_OUTCOME_INFEASIBLE || total == SB_OUTCOME_DEFERRED) {
    cond_set(&st->conditions, SB_COND_ACTUATED, COND_FALSE, sb_outcome_str(total),
             problem[0] ? problem : "some changes were not applied", gen, t, NULL);
  } else {
    char m[700];
    snprintf(m, sizeof m, "decision %s %s", st->has_last_decision ? st->last_decision.id : "",
             n_applied ? "applied" : "needed no change");
    cond_set(&st->conditions, SB_COND_ACTUATED, COND_TRUE, n_applied ? "Applied" : "Unchanged", m,
             gen, t, NULL);
  }
  rec_budget_submit_status(c, svc);
}

void rec_budget_actuate_done(rec_ctx *c, rec_svc *svc, rec_cycle_stats *stc) {
  if (!svc->write_pending) return;
  if (rec_budget_status_written(c, svc) != MBCAS_OK) {
    if (stc) stc->errors++;
    return;
  }
  if (stc) stc->budgets_written++;
  rec_svc_state *ss = ru_map_upsert(c->svcs, svc->key, NULL);
  if (ss && svc->written_id[0]) snprintf(ss->done_id, sizeof ss->done_id, "%s", svc->written_id);
}

void rec_budget_resume(rec_ctx *c, const rec_snapshot *snap, const scalingmarket *sm,
                       rec_svc *svc, double now, rec_cycle_stats *stc) {
  sb_status *st = &svc->sb->status;
  LOG_INFO("resuming decision", "servicebudget=%s id=%s", svc->key, st->last_decision.id);
  /* Cooldown continues from the decision's time, as if we had never stopped. */
  for (int i = 0; i < st->n_allocations; i++) {
    char pk[API_NS_MAX + API_NAME_MAX + 2];
    snprintf(pk, sizeof pk, "%s/%s", svc->sb->meta.namespace_, st->allocations[i].pod);
    rec_pod_state *ps = ru_map_upsert(c->pods, pk, NULL);
    if (ps && st->last_decision.time) ps->last_change_at = (double)st->last_decision.time;
  }
  svc->sb->status.observed_generation = svc->sb->meta.generation;
  rec_budget_actuate(c, snap, sm, svc, now, stc);
  rec_writer_flush(c->writer);
  rec_budget_actuate_done(c, svc, stc);
  if (stc) stc->resumed++;
}
