/* bid.h - from budgets and demand to one effective bid per pod.
 *
 * A service's budget (ServiceBudget spec.budget, a weight) is first bounded by its
 * namespace's cap from the ScalingMarket: if the services of one namespace ask for more
 * than the cap in total, all of them are scaled down by the same factor, so creating
 * more ServiceBudgets gains a tenant nothing. The (capped) service budget is then split
 * equally across the service's pods, so adding replicas adds no spending power.
 * A pod's effective bid = its budget share x f(demand), f(d) = m + (1 - m) * d with m
 * the minimum demand factor (default 0: a pod with no demand bids nothing and gets its
 * floor, plus capacity nobody else wants).
 *
 * Owns: nothing. Does not touch: I/O, Kubernetes. Thread safety: pure functions. */
#ifndef MBCAS_MARKET_BID_H
#define MBCAS_MARKET_BID_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef struct bid_config {
  double min_demand_factor; /* m in [0,1]: f(0) = m, f(1) = 1 */
} bid_config;

/* One service (ServiceBudget) as the budget split sees it. */
typedef struct bid_service {
  uint32_t ns;    /* index into the namespace caps array */
  double budget;  /* >= 0, finite */
  uint32_t pods;  /* pods of the service taking part; 0 allowed (no pod bids) */
} bid_service;

/* f(d) = m + (1 - m) * clamp(d, 0, 1), m = clamp(cfg->min_demand_factor, 0, 1);
 * cfg NULL means m = 0. Non-decreasing in d. NaN demand counts as 0. */
double bid_demand_factor(const bid_config *cfg, double demand);

/* Effective budgets after namespace caps: for each namespace k with cap K_k > 0 and
 * total T_k = sum of its services' budgets, every service of k gets
 * budget * min(1, K_k / T_k). A cap <= 0 or infinite means "no cap". ns_caps may be NULL
 * (no caps, n_ns ignored). out has n_svc entries, caller-owned.
 * Errors (MBCAS_EINVAL, err filled with field "services[i].budget" / ".ns"): negative
 * or non-finite budget, ns index >= n_ns when ns_caps is given. On error out is untouched. */
mbcas_rc bid_service_budgets(double *out, const bid_service *svc, size_t n_svc,
                             const double *ns_caps, size_t n_ns, mbcas_err *err);

/* A pod's share of its service's (capped) budget: budget / pods; 0 when pods == 0. */
double bid_pod_share(double service_budget, uint32_t pods);

/* Effective bid = pod_share x f(demand); 0 for negative or non-finite pod_share. */
double bid_effective(const bid_config *cfg, double pod_share, double demand);

#endif
