/* scalingmarket_rec.h - the ScalingMarket reconciler's pure pieces (scalingmarket.c):
 * spec -> guardrails, node capacity, demand lookup in status, namespace-capped budgets,
 * and the replay of a clearing from status alone.
 *
 * Key choice: the clearing reads every input from places kubectl shows - demand from
 * ServiceBudget status.podDemands, current CPU as status.allocations[].previous, node
 * capacity as ScalingMarket status.nodes[].capacity - so rec_market_replay() rebuilds
 * the same input and gets the same allocations. (Cooldown timing is the one input not in
 * status: a replay ignores it.)
 * Owns: nothing. Thread safety: pure functions. */
#ifndef MBCAS_REC_SCALINGMARKET_REC_H
#define MBCAS_REC_SCALINGMARKET_REC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "guardrails.h"
#include "result.h"
#include "scalingmarket.h"
#include "servicebudget.h"

/* Guardrails of a market spec (usage protection off: usage is not in status). */
void rec_market_guardrails(guardrails_config *g, const sm_spec *spec);
/* A Node's allocatable CPU in millicores (capacity when allocatable is absent; 0 if none). */
int64_t rec_node_allocatable(const cJSON *node);
/* A pod's demand as recorded in status.podDemands, else the service's status.demand, else 0. */
double rec_pod_demand(const sb_status *st, const char *pod);
/* Service budgets (budget units) after the market's namespace caps; out has n entries. */
mbcas_rc rec_market_budgets(double *out, const sm_spec *spec, const servicebudget *const *sbs,
                            size_t n);

/* Replay the clearing recorded in status. sm: the market with its status (nodes and
 * capacities); sbs: its ServiceBudgets with status. For each ServiceBudget in order, for
 * each of its status.allocations in order, out_desired gets the recomputed allocation
 * (out_cap entries available; *n_out = how many written). Cooldown is ignored.
 * MBCAS_EINVAL when an allocation names a node missing from status.nodes. */
mbcas_rc rec_market_replay(int64_t *out_desired, size_t out_cap, size_t *n_out,
                           const scalingmarket *sm, const servicebudget *const *sbs, size_t n_sb,
                           mbcas_err *err);

#endif
