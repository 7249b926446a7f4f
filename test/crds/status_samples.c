/* status_samples.c - prints {"ScalingMarket": status, "ServiceBudget": status,
 * "AgentPolicy": status} as written by the api/v1alpha1 serializers, with every field
 * set and every bounded list full, so test_crds_schema.py can check that what the
 * operator writes is accepted by the CRDs' status schemas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentpolicy.h"
#include "scalingmarket.h"
#include "servicebudget.h"

static void conds(cond_list *l) {
  cond_set(l, "Ready", COND_TRUE, "Cleared", "market cleared", 7, 1795000000, NULL);
  cond_set(l, "Contended", COND_FALSE, "Room", "", 7, 1795000000, NULL);
  cond_set(l, "Invalid", COND_UNKNOWN, "NotChecked", "x", 7, 1795000000, NULL);
}

int main(void) {
  sm_status *sm = calloc(1, sizeof *sm);
  sb_status *sb = calloc(1, sizeof *sb);
  ap_status *ap = calloc(1, sizeof *ap);
  if (!sm || !sb || !ap) return 1;
  conds(&sm->conditions);
  sm->observed_generation = 7;
  sm->last_clearing_time = 1795000015;
  sm->last_clearing_duration_us = 987654321;
  memset(sm->last_decision_id, 'a', 64);
  sm->node_count = 500;
  sm->participants = 12000;
  sm->contended_nodes = 17;
  snprintf(sm->fairness, sizeof sm->fairness, "0.9731");
  sm->n_nodes = SM_STATUS_NODES_MAX;
  for (int i = 0; i < SM_STATUS_NODES_MAX; i++) {
    snprintf(sm->nodes[i].name, sizeof sm->nodes[i].name, "node-%03d.zone-a.example.internal", i);
    sm->nodes[i].capacity_milli = 63500 + i;
    sm->nodes[i].allocated_milli = 63500;
    snprintf(sm->nodes[i].price, sizeof sm->nodes[i].price, "0.0125");
    sm->nodes[i].contended = i % 2;
    sm->nodes[i].participants = 40;
  }
  sm->nodes_omitted = 400;

  conds(&sb->conditions);
  sb->observed_generation = 7;
  sb->has_demand = true;
  sb->demand = 0.6231;
  sb->demand_time = 1795000014;
  sb->n_pod_demands = SB_POD_DEMANDS_MAX;
  for (int i = 0; i < SB_POD_DEMANDS_MAX; i++) {
    snprintf(sb->pod_demands[i].pod, sizeof sb->pod_demands[i].pod, "backend-7d9f8c6b5-%05d", i);
    sb->pod_demands[i].has_demand = true;
    sb->pod_demands[i].demand = i / 100.0;
  }
  sb->has_bid = sb->has_budget_share = sb->has_allocation_share = sb->has_cpu = true;
  sb->bid = 0.000123456789;
  sb->budget_share = 1.0 / 3.0;
  sb->allocation_share = 0.5;
  sb->cpu_milli = 123456789;
  sb->n_allocations = SB_ALLOCATIONS_MAX;
  for (int i = 0; i < SB_ALLOCATIONS_MAX; i++) {
    sb_allocation *a = &sb->allocations[i];
    snprintf(a->pod, sizeof a->pod, "backend-7d9f8c6b5-%05d", i);
    snprintf(a->node, sizeof a->node, "node-%03d", i);
    a->has_cpu = a->has_previous = true;
    a->cpu_milli = 1500 + i;
    a->previous_milli = 1000;
    a->outcome = (sb_outcome)(1 + i % 7);
  }
  sb->has_current_replicas = sb->has_desired_replicas = true;
  sb->current_replicas = 100;
  sb->desired_replicas = 101;
  sb->has_last_decision = true;
  memset(sb->last_decision.id, 'f', 64);
  sb->last_decision.time = 1795000015;
  memset(sb->last_decision.reason, 'r', SB_REASON_MAX - 1);
  sb->last_decision.outcome = SB_OUTCOME_PENDING;
  for (int i = 0; i < SB_HISTORY_MAX + 2; i++) {
    sb_decision d = sb->last_decision;
    d.has_cpu = d.has_replicas = true;
    d.cpu_milli = 2500;
    d.replicas = 3;
    d.outcome = SB_OUTCOME_APPLIED;
    sb_history_push(sb, &d);
  }

  conds(&ap->conditions);
  ap->observed_generation = 7;
  ap->last_evaluation_time = 1795000030;
  ap->healthy_signals = 7;
  ap->n_signals = AP_SIGNALS_MAX;
  for (int i = 0; i < AP_SIGNALS_MAX; i++) {
    snprintf(ap->signals[i].name, sizeof ap->signals[i].name, "signal-%d", i);
    ap->signals[i].healthy = i > 0;
    ap->signals[i].has_last_value = true;
    ap->signals[i].last_value = i == 0 ? -1.5e-300 : 123456.789 * i;
    if (i == 0) memset(ap->signals[i].last_error, 'e', AP_ERROR_MAX - 1);
    ap->signals[i].last_time = 1795000029;
  }

  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "ScalingMarket", sm_status_to_json(sm));
  cJSON_AddItemToObject(o, "ServiceBudget", sb_status_to_json(sb));
  cJSON_AddItemToObject(o, "AgentPolicy", ap_status_to_json(ap));
  char *txt = cJSON_Print(o);
  puts(txt);
  free(txt);
  cJSON_Delete(o);
  sm_status_clear(sm);
  sb_status_clear(sb);
  ap_status_clear(ap);
  free(sm);
  free(sb);
  free(ap);
  return 0;
}
