/* actuation.c - pods/resize and scale; see actuation.h. */
#include "actuation.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "quantity.h"

#define ACT_RETRIES 3

static const char *const outcome_names[] = {"Pending",    "Applied",  "Unchanged",
                                            "Deferred",   "Infeasible", "Conflict",
                                            "Recommended", "Failed"};

const char *act_outcome_name(act_outcome o) {
  if ((int)o < 0 || (size_t)o >= sizeof outcome_names / sizeof outcome_names[0]) return "Pending";
  return outcome_names[o];
}

act_outcome act_outcome_parse(const char *s) {
  if (!s) return ACT_PENDING;
  for (size_t i = 0; i < sizeof outcome_names / sizeof outcome_names[0]; i++)
    if (strcmp(s, outcome_names[i]) == 0) return (act_outcome)i;
  return ACT_PENDING;
}

const char *act_outcome_metric(act_outcome o) {
  switch (o) {
  case ACT_DEFERRED: return "deferred";
  case ACT_INFEASIBLE: return "infeasible";
  case ACT_CONFLICT: return "conflict";
  case ACT_FAILED: return "failed";
  default: return "applied";
  }
}

act_policy act_policy_parse(const char *s) {
  if (s && strcmp(s, "Requests") == 0) return ACT_POLICY_REQUESTS;
  if (s && strcmp(s, "Both") == 0) return ACT_POLICY_BOTH;
  return ACT_POLICY_LIMITS;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

act_resize_state act_pod_resize_state(const cJSON *pod) {
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(pod, "status");
  const cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
  const cJSON *c;
  act_resize_state st = ACT_RESIZE_NONE;
  cJSON_ArrayForEach(c, conds) {
    const char *type = jstr(c, "type"), *s = jstr(c, "status"), *reason = jstr(c, "reason");
    if (!type || !s || strcmp(s, "True") != 0) continue;
    if (strcmp(type, "PodResizePending") == 0) {
      if (reason && strcmp(reason, "Infeasible") == 0) return ACT_RESIZE_INFEASIBLE;
      st = ACT_RESIZE_DEFERRED;
    } else if (strcmp(type, "PodResizeInProgress") == 0 && st == ACT_RESIZE_NONE) {
      st = ACT_RESIZE_IN_PROGRESS;
    }
  }
  if (st != ACT_RESIZE_NONE) return st;
  /* Before 1.33: status.resize = Proposed | InProgress | Deferred | Infeasible. */
  const char *legacy = jstr(status, "resize");
  if (legacy) {
    if (strcmp(legacy, "Infeasible") == 0) return ACT_RESIZE_INFEASIBLE;
    if (strcmp(legacy, "Deferred") == 0) return ACT_RESIZE_DEFERRED;
    if (strcmp(legacy, "InProgress") == 0 || strcmp(legacy, "Proposed") == 0)
      return ACT_RESIZE_IN_PROGRESS;
  }
  return ACT_RESIZE_NONE;
}

act_resize_state act_kpod_resize_state(const kube_pod *pod) {
  /* kube_pod_slim: resize_pending/_in_progress from the PodResize* conditions (reason of
   * the pending one), else from the pre-1.33 status.resize text. */
  const char *r = pod->resize_reason ? pod->resize_reason : "";
  if (pod->resize_pending) {
    if (strcmp(r, "Infeasible") == 0) return ACT_RESIZE_INFEASIBLE;
    if (strcmp(r, "Proposed") == 0) return ACT_RESIZE_IN_PROGRESS; /* status.resize */
    return ACT_RESIZE_DEFERRED;
  }
  if (pod->resize_in_progress) return ACT_RESIZE_IN_PROGRESS;
  return ACT_RESIZE_NONE;
}

const kube_pod_container *act_find_container(const kube_pod *pod, const char *container) {
  for (int i = 0; i < pod->ncontainers; i++) {
    const kube_pod_container *c = &pod->containers[i];
    if (!container || !*container) return c;
    if (c->name && strcmp(c->name, container) == 0) return c;
  }
  return NULL;
}

/* A quantity of the record, -1 when absent. */
static int64_t qv(int64_t v) { return v == KUBE_QTY_UNSET ? -1 : v; }

mbcas_rc act_container_cpu(int64_t *out, const kube_pod *pod, const char *container, act_policy p) {
  const kube_pod_container *c = act_find_container(pod, container);
  if (!c) return MBCAS_ENOTFOUND;
  int64_t lim = qv(c->cpu_limit_m), req = qv(c->cpu_request_m);
  int64_t v = p == ACT_POLICY_REQUESTS ? req : (lim >= 0 ? lim : req);
  if (v < 0) return MBCAS_ENOTFOUND;
  *out = v;
  return MBCAS_OK;
}

int64_t act_pod_cpu_requests(const kube_pod *pod) {
  int64_t sum = 0;
  for (int i = 0; i < pod->ncontainers; i++) {
    const kube_pod_container *c = &pod->containers[i];
    int64_t r = qv(c->cpu_request_m);
    if (r < 0) r = qv(c->cpu_limit_m); /* request defaults to limit */
    if (r > 0) sum += r;
  }
  return sum;
}

/* QoS class of the pod with container `target` given new cpu request/limit (-2: keep). */
typedef enum { QOS_BESTEFFORT, QOS_BURSTABLE, QOS_GUARANTEED } qos;
static qos pod_qos(const kube_pod *pod, const kube_pod_container *target, int64_t new_req,
                   int64_t new_lim) {
  int any = 0, guaranteed = 1;
  for (int k = 0; k < pod->ncontainers; k++) {
    const kube_pod_container *c = &pod->containers[k];
    for (int i = 0; i < 2; i++) {
      int64_t lim = qv(i == 0 ? c->cpu_limit_m : c->mem_limit);
      int64_t req = qv(i == 0 ? c->cpu_request_m : c->mem_request);
      if (req < 0) req = lim; /* defaulted by the API server */
      if (c == target && i == 0) {
        if (new_req != -2) req = new_req;
        if (new_lim != -2) lim = new_lim;
      }
      if (req > 0 || lim > 0) any = 1;
      if (lim < 0 || req != lim) guaranteed = 0;
    }
  }
  if (!any) return QOS_BESTEFFORT;
  return guaranteed ? QOS_GUARANTEED : QOS_BURSTABLE;
}

int act_resize_allowed(const kube_pod *pod, const char *container, act_policy p, int64_t milli,
                       char *why, size_t len) {
  const kube_pod_container *c = act_find_container(pod, container);
  if (why && len) why[0] = 0;
  if (!c) {
    if (why) snprintf(why, len, "container %s not found", container ? container : "(first)");
    return 0;
  }
  if (milli <= 0) {
    if (why) snprintf(why, len, "allocation must be positive");
    return 0;
  }
  int64_t lim = qv(c->cpu_limit_m), req = qv(c->cpu_request_m);
  if (req < 0) req = lim;
  int64_t nreq = -2, nlim = -2;
  if (p == ACT_POLICY_LIMITS) nlim = milli;
  else if (p == ACT_POLICY_REQUESTS) nreq = milli;
  else nreq = nlim = milli;
  int64_t freq = nreq == -2 ? req : nreq, flim = nlim == -2 ? lim : nlim;
  if (flim >= 0 && freq > flim) {
    if (why) snprintf(why, len, "cpu limit %lldm would be below the request %lldm",
                      (long long)flim, (long long)freq);
    return 0;
  }
  if (pod_qos(pod, c, -2, -2) != pod_qos(pod, c, nreq, nlim)) {
    if (why) snprintf(why, len, "resize would change the pod's QoS class");
    return 0;
  }
  return 1;
}

char *act_resize_body(const char *container, act_policy p, int64_t milli) {
  char q[QUANTITY_STR_MAX];
  quantity_format_milli(milli, q, sizeof q);
  cJSON *root = cJSON_CreateObject();
  cJSON *spec = cJSON_AddObjectToObject(root, "spec");
  cJSON *cs = cJSON_AddArrayToObject(spec, "containers");
  cJSON *c = cJSON_CreateObject();
  cJSON_AddItemToArray(cs, c);
  cJSON_AddStringToObject(c, "name", container);
  cJSON *res = cJSON_AddObjectToObject(c, "resources");
  if (p != ACT_POLICY_REQUESTS) cJSON_AddStringToObject(cJSON_AddObjectToObject(res, "limits"), "cpu", q);
  if (p != ACT_POLICY_LIMITS) cJSON_AddStringToObject(cJSON_AddObjectToObject(res, "requests"), "cpu", q);
  char *s = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return s;
}

act_outcome act_resize(const rec_api *api, const kube_pod *pod, const char *container, act_policy p,
                       int64_t milli, char *msg, size_t msglen) {
  char why[160];
  if (msg && msglen) msg[0] = 0;
  const kube_pod_container *c = act_find_container(pod, container);
  const char *cname = c ? c->name : NULL;
  const char *ns = pod->ns, *name = pod->name;
  if (!c || !cname || !*cname || !ns || !*ns || !name) {
    if (msg) snprintf(msg, msglen, "container not found");
    return ACT_INFEASIBLE;
  }
  int64_t cur;
  if (act_container_cpu(&cur, pod, cname, p) != MBCAS_OK) cur = -1;
  if (cur == milli) {
    int64_t req = -1;
    if (p != ACT_POLICY_BOTH || (act_container_cpu(&req, pod, cname, ACT_POLICY_REQUESTS) ==
                                     MBCAS_OK && req == milli)) {
      if (msg) snprintf(msg, msglen, "already at %lldm", (long long)milli);
      return ACT_UNCHANGED;
    }
  }
  act_resize_state st = act_kpod_resize_state(pod);
  if (st == ACT_RESIZE_IN_PROGRESS || st == ACT_RESIZE_DEFERRED) {
    if (msg) snprintf(msg, msglen, "a resize is %s on the node",
                      st == ACT_RESIZE_DEFERRED ? "deferred" : "in progress");
    return ACT_DEFERRED;
  }
  if (!act_resize_allowed(pod, cname, p, milli, why, sizeof why)) {
    if (msg) snprintf(msg, msglen, "%s", why);
    return ACT_INFEASIBLE;
  }
  char path[512];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/resize", ns, name);
  char *body = act_resize_body(cname, p, milli);
  if (!body) return ACT_FAILED;
  mbcas_rc rc = MBCAS_ERR;
  cJSON *out = NULL;
  for (int i = 0; i < ACT_RETRIES; i++) {
    cJSON_Delete(out);
    out = NULL;
    rc = api->patch(api->ctx, path, REC_PATCH_STRATEGIC, body, &out);
    if (rc != MBCAS_ECONFLICT) break;
  }
  free(body);
  act_outcome o;
  if (rc == MBCAS_OK) {
    act_resize_state after = out ? act_pod_resize_state(out) : ACT_RESIZE_NONE;
    if (after == ACT_RESIZE_INFEASIBLE) {
      o = ACT_INFEASIBLE;
      if (msg) snprintf(msg, msglen, "the kubelet reports the resize Infeasible");
    } else if (after == ACT_RESIZE_DEFERRED) {
      o = ACT_DEFERRED;
      if (msg) snprintf(msg, msglen, "the kubelet deferred the resize");
    } else {
      o = ACT_APPLIED;
      if (msg) snprintf(msg, msglen, "cpu %lldm -> %lldm", (long long)(cur), (long long)milli);
    }
  } else if (rc == MBCAS_EINVAL || rc == MBCAS_EFORBIDDEN) {
    o = ACT_INFEASIBLE;
    if (msg) snprintf(msg, msglen, "the API server refused the resize: %s", mbcas_strerror(rc));
  } else if (rc == MBCAS_ENOTFOUND) {
    o = ACT_FAILED;
    if (msg) snprintf(msg, msglen, "pod or pods/resize not found");
  } else {
    o = rc == MBCAS_ECONFLICT ? ACT_CONFLICT : ACT_FAILED;
    if (msg) snprintf(msg, msglen, "resize failed: %s", mbcas_strerror(rc));
  }
  cJSON_Delete(out);
  return o;
}

const char *act_kind_resource(const char *kind, char *buf, size_t len) {
  size_t n = 0;
  if (!len) return buf;
  for (const char *s = kind ? kind : ""; *s && n + 3 < len; s++) buf[n++] = (char)tolower((unsigned char)*s);
  buf[n] = 0;
  if (n == 0) return buf;
  /* English plural as Kubernetes' default RESTMapper guesses it. */
  if (buf[n - 1] == 's' || buf[n - 1] == 'x' || (n > 1 && buf[n - 2] == 'c' && buf[n - 1] == 'h')) {
    if (n + 2 < len) { buf[n++] = 'e'; buf[n++] = 's'; }
  } else if (buf[n - 1] == 'y' && n > 1 && !strchr("aeiou", buf[n - 2])) {
    buf[n - 1] = 'i';
    if (n + 2 < len) { buf[n++] = 'e'; buf[n++] = 's'; }
  } else {
    buf[n++] = 's';
  }
  buf[n] = 0;
  return buf;
}

const char *act_scale_path(char *buf, size_t len, const char *api_version, const char *kind,
                           const char *ns, const char *name) {
  char res[128];
  act_kind_resource(kind, res, sizeof res);
  if (!api_version || !*api_version) api_version = "apps/v1";
  if (strchr(api_version, '/'))
    snprintf(buf, len, "/apis/%s/namespaces/%s/%s/%s/scale", api_version, ns, res, name);
  else
    snprintf(buf, len, "/api/%s/namespaces/%s/%s/%s/scale", api_version, ns, res, name);
  return buf;
}

act_outcome act_scale(const rec_api *api, const char *scale_path, int32_t current,
                      int32_t replicas, char *msg, size_t msglen) {
  if (msg && msglen) msg[0] = 0;
  if (current == replicas) {
    if (msg) snprintf(msg, msglen, "already at %d replicas", (int)replicas);
    return ACT_UNCHANGED;
  }
  char body[96];
  snprintf(body, sizeof body, "{\"spec\":{\"replicas\":%d}}", (int)replicas);
  mbcas_rc rc = MBCAS_ERR;
  for (int i = 0; i < ACT_RETRIES; i++) {
    rc = api->patch(api->ctx, scale_path, REC_PATCH_MERGE, body, NULL);
    if (rc != MBCAS_ECONFLICT) break;
  }
  if (rc == MBCAS_OK) {
    if (msg) snprintf(msg, msglen, "replicas %d -> %d", (int)current, (int)replicas);
    return ACT_APPLIED;
  }
  if (msg) snprintf(msg, msglen, "scale failed: %s", mbcas_strerror(rc));
  if (rc == MBCAS_ECONFLICT) return ACT_CONFLICT;
  if (rc == MBCAS_EINVAL || rc == MBCAS_EFORBIDDEN) return ACT_INFEASIBLE;
  return ACT_FAILED;
}
