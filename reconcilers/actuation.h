/* actuation.h - changing the cluster: in-place pod resize and replica scaling.
 *
 * A resize is a strategic-merge patch to the pod's `resize` subresource, keyed by
 * container name, writing the CPU limit, request or both (the market's resizePolicy).
 * It is absolute (idempotent: applying the same decision twice changes nothing), is
 * retried on 409, and is refused up front when it would change the pod's QoS class
 * or put the limit under the request. What the kubelet did is read back from the
 * pod's PodResizePending (reasons Deferred, Infeasible) and PodResizeInProgress
 * conditions. Replicas change only through the target's `scale` subresource.
 * Pods are the client runtime's compact records (kube_pod, operator/kube/cache.h), as the
 * informer cache keeps them; an API answer is read as JSON (act_pod_resize_state).
 * Owns: nothing (pods are borrowed, bodies returned are the caller's).
 * Must not touch: anything but pods/resize and scale subresources.
 * Thread safety: pure functions, or through rec_api. */
#ifndef MBCAS_REC_ACTUATION_H
#define MBCAS_REC_ACTUATION_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "cache.h"
#include "recapi.h"
#include "result.h"

typedef enum { ACT_POLICY_LIMITS = 0, ACT_POLICY_REQUESTS = 1, ACT_POLICY_BOTH = 2 } act_policy;

/* Outcome of one actuation, as written back to status (CRD enum) and counted in metrics. */
typedef enum {
  ACT_PENDING = 0,
  ACT_APPLIED,
  ACT_UNCHANGED,
  ACT_DEFERRED,
  ACT_INFEASIBLE,
  ACT_CONFLICT,
  ACT_RECOMMENDED,
  ACT_FAILED
} act_outcome;

/* "Applied", "Deferred", ... (status enum; ACT_FAILED -> "Failed"). Never NULL. */
const char *act_outcome_name(act_outcome o);
/* Inverse of act_outcome_name; unknown text -> ACT_PENDING. */
act_outcome act_outcome_parse(const char *s);
/* Metric label: "applied", "deferred", "infeasible", "conflict", "failed" (others "applied"). */
const char *act_outcome_metric(act_outcome o);

/* Parse "Limits" | "Requests" | "Both" (NULL/unknown -> Limits). */
act_policy act_policy_parse(const char *s);

/* State of an in-place resize, read back from the pod's conditions (or status.resize). */
typedef enum {
  ACT_RESIZE_NONE = 0,      /* nothing pending */
  ACT_RESIZE_IN_PROGRESS,   /* PodResizeInProgress True */
  ACT_RESIZE_DEFERRED,      /* PodResizePending reason Deferred */
  ACT_RESIZE_INFEASIBLE     /* PodResizePending reason Infeasible */
} act_resize_state;
act_resize_state act_pod_resize_state(const cJSON *pod);
/* The same, from a compact pod record. */
act_resize_state act_kpod_resize_state(const kube_pod *pod);

/* The container named `container` in the pod's spec.containers (NULL or "": the first). */
const kube_pod_container *act_find_container(const kube_pod *pod, const char *container);

/* CPU millicores of the container for the policy (Limits/Both: limit, falling back to
 * request; Requests: request). MBCAS_ENOTFOUND when neither is set. */
mbcas_rc act_container_cpu(int64_t *out, const kube_pod *pod, const char *container, act_policy p);
/* CPU request of every container of the pod, summed (non-participants' share of a node). */
int64_t act_pod_cpu_requests(const kube_pod *pod);

/* 1 when writing milli with policy p keeps the pod's QoS class and keeps limit >= request;
 * else 0 with a short reason in why[len]. */
int act_resize_allowed(const kube_pod *pod, const char *container, act_policy p, int64_t milli,
                       char *why, size_t len);

/* Body of the strategic-merge patch for pods/resize (caller frees). */
char *act_resize_body(const char *container, act_policy p, int64_t milli);

/* Resize the container of pod to milli (pod: the cached object, for the checks and names).
 * Returns the outcome: APPLIED when the API server accepted the patch (and the read-back
 * shows no Infeasible/Deferred), UNCHANGED when already there, DEFERRED while a resize
 * is pending or in progress, INFEASIBLE when refused (QoS, 422, Infeasible), FAILED on
 * other errors (after retrying 409 up to 3 times). msg gets a short explanation. */
act_outcome act_resize(const rec_api *api, const kube_pod *pod, const char *container, act_policy p,
                       int64_t milli, char *msg, size_t msglen);

/* Lower-case plural resource of a workload kind ("Deployment" -> "deployments"). */
const char *act_kind_resource(const char *kind, char *buf, size_t len);
/* ".../apis/apps/v1/namespaces/NS/deployments/NAME/scale" into buf. apiVersion may be
 * "v1" (core) or "group/version". */
const char *act_scale_path(char *buf, size_t len, const char *api_version, const char *kind,
                           const char *ns, const char *name);
/* PATCH the scale subresource to replicas (merge patch). APPLIED, UNCHANGED (already),
 * CONFLICT (409 after retries), FAILED. */
act_outcome act_scale(const rec_api *api, const char *scale_path, int32_t current,
                      int32_t replicas, char *msg, size_t msglen);

#endif
