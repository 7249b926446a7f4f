/* observer_kube.h - the reconcilers' observer backed by the operator's metrics registry
 * (operator/kube/metrics.h) and by Kubernetes Events posted through a rec_api.
 *
 * Metric names are fixed (the Helm chart's dashboard reads them): mbcas_pod_allocated_cpu_millicores,
 * mbcas_pod_usage_cpu_millicores, mbcas_servicebudget_{demand,effective_bid,budget_share,
 * allocation_share}, mbcas_node_clearing_price, mbcas_resizes_total{result},
 * mbcas_scales_total{result}, mbcas_clearing_duration_seconds, mbcas_resize_step_millicores.
 * Events are aggregated like client-go's correlator: the same (object, reason) within
 * ten minutes patches the first Event's count, lastTimestamp and message instead of
 * creating another one.
 * Owns: the aggregation table. Borrows: registry and rec_api.
 * Thread safety: callbacks come from the reconciler thread only. */
#ifndef MBCAS_REC_OBSERVER_KUBE_H
#define MBCAS_REC_OBSERVER_KUBE_H

#include "metrics.h"
#include "reconciler.h"

typedef struct rec_kobs rec_kobs;

/* component: Event source ("mbcas-operator"); instance: reporting instance (host name). */
mbcas_rc rec_kobs_new(rec_kobs **out, kube_metrics *reg, const rec_api *api,
                      const char *component, const char *instance);
/* An observer whose callbacks go to k. */
void rec_kobs_observer(rec_kobs *k, rec_observer *obs);
/* Events created and patched so far (tests). */
void rec_kobs_counts(const rec_kobs *k, unsigned long *created, unsigned long *patched);
void rec_kobs_free(rec_kobs *k);

#endif
