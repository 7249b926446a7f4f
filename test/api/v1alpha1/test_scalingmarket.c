/* test_scalingmarket.c - scalingmarket.h: defaults, validation with field paths,
 * selectors, status round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scalingmarket.h"

static scalingmarket *parse_spec(const char *spec, mbcas_err *err, mbcas_rc *rc) {
  char buf[4096];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ScalingMarket\","
           "\"metadata\":{\"name\":\"m\",\"generation\":2},\"spec\":%s}",
           spec);
  scalingmarket *sm = NULL;
  mbcas_err_clear(err);
  *rc = sm_parse_str(&sm, buf, err);
  return sm;
}

static void test_defaults(void **st) {
  (void)st;
  mbcas_err err;
  mbcas_rc rc;
  scalingmarket *sm = parse_spec("{}", &err, &rc);
  assert_int_equal(rc, MBCAS_OK);
  assert_string_equal(sm->meta.name, "m");
  assert_int_equal(sm->meta.generation, 2);
  const sm_spec *s = &sm->spec;
  assert_false(s->node_selector.present);
  assert_int_equal(s->clearing_interval_ms, 15000);
  assert_int_equal(s->mechanism, SM_MECH_PROPORTIONAL_SHARE);
  assert_int_equal(s->reserve_milli, 0);
  assert_int_equal(s->mode, SM_MODE_ENFORCE);
  assert_int_equal(s->resize_policy, SM_RESIZE_LIMITS);
  assert_false(s->guardrails.has_max_step_cpu);
  assert_int_equal(s->guardrails.max_step_percent, 50);
  assert_int_equal(s->guardrails.cooldown_ms, 30000);
  assert_true(s->guardrails.dead_band_is_percent);
  assert_true(s->guardrails.dead_band_percent == 5.0);
  assert_true(s->guardrails.memory_increase_only);
  assert_false(s->horizontal.enabled);
  assert_true(s->horizontal.scale_out_demand == 0.85);
  assert_true(s->horizontal.scale_in_demand == 0.3);
  assert_int_equal(s->horizontal.scale_out_window_ms, 60000);
  assert_int_equal(s->horizontal.scale_in_window_ms, 300000);
  assert_int_equal(s->horizontal.cooldown_ms, 120000);
  assert_int_equal(s->horizontal.max_replicas_total, 0);
  assert_int_equal(sm->status.n_nodes, 0);
  sm_free(sm);
  sm_free(NULL);
  sm_spec sd;
  sm_spec_defaults(&sd);
  assert_int_equal(sd.clearing_interval_ms, 15000);
  assert_string_equal(sm_mode_str(SM_MODE_RECOMMEND), "Recommend");
  assert_string_equal(sm_resize_policy_str(SM_RESIZE_BOTH), "Both");
}

static void test_full_spec(void **st) {
  (void)st;
  mbcas_err err;
  mbcas_rc rc;
  scalingmarket *sm = parse_spec(
      "{\"nodeSelector\":{\"matchLabels\":{\"pool\":\"general\"},\"matchExpressions\":[{\"key\":\"gpu\","
      "\"operator\":\"DoesNotExist\"},{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},"
      "\"clearingInterval\":\"30s\",\"reserve\":\"500m\",\"mode\":\"Recommend\",\"resizePolicy\":\"Both\","
      "\"guardrails\":{\"maxStepCPU\":1,\"maxStepPercent\":20,\"cooldown\":\"1m\",\"deadBand\":\"25m\","
      "\"memoryIncreaseOnly\":false},\"horizontal\":{\"enabled\":true,\"scaleOutDemand\":0.9,"
      "\"scaleInDemand\":0.2,\"maxReplicasTotal\":50,\"cooldown\":\"5m\"},"
      "\"namespaceBudgetCaps\":[{\"namespace\":\"shop\",\"maxBudget\":\"1.5k\"},{\"namespace\":\"b\","
      "\"maxBudget\":10}]}",
      &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  const sm_spec *s = &sm->spec;
  assert_int_equal(s->clearing_interval_ms, 30000);
  assert_int_equal(s->reserve_milli, 500);
  assert_int_equal(s->mode, SM_MODE_RECOMMEND);
  assert_int_equal(s->resize_policy, SM_RESIZE_BOTH);
  assert_true(s->guardrails.has_max_step_cpu);
  assert_int_equal(s->guardrails.max_step_cpu_milli, 1000);
  assert_int_equal(s->guardrails.max_step_percent, 20);
  assert_false(s->guardrails.dead_band_is_percent);
  assert_int_equal(s->guardrails.dead_band_milli, 25);
  assert_false(s->guardrails.memory_increase_only);
  assert_true(s->horizontal.enabled);
  assert_int_equal(s->horizontal.max_replicas_total, 50);
  assert_int_equal(s->n_ns_caps, 2);
  assert_int_equal(s->ns_caps[0].max_budget_milli, 1500000);
  assert_int_equal(s->ns_caps[1].max_budget_milli, 10000);
  /* selector */
  cJSON *l1 = cJSON_Parse("{\"pool\":\"general\",\"zone\":\"a\"}");
  cJSON *l2 = cJSON_Parse("{\"pool\":\"general\",\"zone\":\"c\"}");
  cJSON *l3 = cJSON_Parse("{\"pool\":\"general\",\"zone\":\"a\",\"gpu\":\"1\"}");
  cJSON *l4 = cJSON_Parse("{\"zone\":\"a\"}");
  assert_true(sel_matches(&s->node_selector, l1));
  assert_false(sel_matches(&s->node_selector, l2));
  assert_false(sel_matches(&s->node_selector, l3));
  assert_false(sel_matches(&s->node_selector, l4));
  assert_false(sel_matches(&s->node_selector, NULL));
  assert_true(sel_matches(&s->namespace_selector, NULL)); /* absent: everything */
  label_selector notin = {.present = true, .n_exprs = 1};
  snprintf(notin.exprs[0].key, sizeof notin.exprs[0].key, "zone");
  notin.exprs[0].op = SEL_NOT_IN;
  notin.exprs[0].n_values = 1;
  snprintf(notin.exprs[0].values[0], sizeof notin.exprs[0].values[0], "a");
  assert_false(sel_matches(&notin, l1));
  assert_true(sel_matches(&notin, l2));
  assert_true(sel_matches(&notin, NULL));
  notin.exprs[0].op = SEL_EXISTS;
  assert_true(sel_matches(&notin, l1));
  assert_false(sel_matches(&notin, NULL));
  cJSON_Delete(l1);
  cJSON_Delete(l2);
  cJSON_Delete(l3);
  cJSON_Delete(l4);
  sm_free(sm);
}

static void test_errors(void **st) {
  (void)st;
  static const struct {
    const char *spec, *field;
  } cases[] = {
      {"{\"mode\":\"Fast\"}", "spec.mode"},
      {"{\"mode\":3}", "spec.mode"},
      {"{\"mechanism\":\"Auction\"}", "spec.mechanism"},
      {"{\"resizePolicy\":\"limits\"}", "spec.resizePolicy"},
      {"{\"clearingInterval\":\"15\"}", "spec.clearingInterval"},
      {"{\"clearingInterval\":\"500ms\"}", "spec.clearingInterval"},
      {"{\"clearingInterval\":\"2h\"}", "spec.clearingInterval"},
      {"{\"reserve\":\"-1\"}", "spec.reserve"},
      {"{\"reserve\":-1}", "spec.reserve"},
      {"{\"reserve\":1.5}", "spec.reserve"},
      {"{\"reserve\":\"1 core\"}", "spec.reserve"},
      {"{\"guardrails\":[]}", "spec.guardrails"},
      {"{\"guardrails\":{\"maxStepPercent\":0}}", "spec.guardrails.maxStepPercent"},
      {"{\"guardrails\":{\"maxStepPercent\":1001}}", "spec.guardrails.maxStepPercent"},
      {"{\"guardrails\":{\"maxStepCPU\":\"x\"}}", "spec.guardrails.maxStepCPU"},
      {"{\"guardrails\":{\"deadBand\":\"5 %\"}}", "spec.guardrails.deadBand"},
      {"{\"guardrails\":{\"deadBand\":\".5%\"}}", "spec.guardrails.deadBand"},
      {"{\"guardrails\":{\"cooldown\":\"soon\"}}", "spec.guardrails.cooldown"},
      {"{\"guardrails\":{\"memoryIncreaseOnly\":\"yes\"}}", "spec.guardrails.memoryIncreaseOnly"},
      {"{\"horizontal\":{\"scaleOutDemand\":0}}", "spec.horizontal.scaleOutDemand"},
      {"{\"horizontal\":{\"scaleOutDemand\":1.2}}", "spec.horizontal.scaleOutDemand"},
      {"{\"horizontal\":{\"scaleInDemand\":0.9}}", "spec.horizontal.scaleInDemand"},
      {"{\"horizontal\":{\"maxReplicasTotal\":0}}", "spec.horizontal.maxReplicasTotal"},
      {"{\"horizontal\":{\"maxReplicasTotal\":2.5}}", "spec.horizontal.maxReplicasTotal"},
      {"{\"nodeSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}}",
       "spec.nodeSelector.matchExpressions[0].values"},
      {"{\"nodeSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}"
       "}",
       "spec.nodeSelector.matchExpressions[0].values"},
      {"{\"nodeSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Has\"}]}}",
       "spec.nodeSelector.matchExpressions[0].operator"},
      {"{\"namespaceSelector\":{\"matchExpressions\":[{\"operator\":\"Exists\"}]}}",
       "spec.namespaceSelector.matchExpressions[0].key"},
      {"{\"namespaceSelector\":{\"matchLabels\":{\"a\":1}}}", "spec.namespaceSelector.matchLabels.a"},
      {"{\"namespaceBudgetCaps\":[{\"namespace\":\"shop\"}]}", "spec.namespaceBudgetCaps[0].maxBudget"},
      {"{\"namespaceBudgetCaps\":[{\"namespace\":\"shop\",\"maxBudget\":0}]}",
       "spec.namespaceBudgetCaps[0].maxBudget"},
      {"{\"namespaceBudgetCaps\":[{\"namespace\":\"Shop\",\"maxBudget\":1}]}",
       "spec.namespaceBudgetCaps[0].namespace"},
      {"{\"namespaceBudgetCaps\":[{\"namespace\":\"a\",\"maxBudget\":1},{\"namespace\":\"a\",\"maxBudget\":2}"
       "]}",
       "spec.namespaceBudgetCaps[1]"},
      {"[]", "spec"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mbcas_err err;
    mbcas_rc rc;
    scalingmarket *sm = parse_spec(cases[i].spec, &err, &rc);
    assert_null(sm);
    if (rc != MBCAS_EINVAL || strcmp(err.field, cases[i].field))
      fail_msg("%s: rc %d field '%s' (%s), want %s", cases[i].spec, rc, err.field, err.msg, cases[i].field);
  }
  scalingmarket *sm = NULL;
  mbcas_err err;
  assert_int_equal(sm_parse_str(&sm, "{not json", &err), MBCAS_EINVAL);
  assert_int_equal(sm_parse_str(&sm, "{\"metadata\":{\"name\":\"m\"}}", &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "spec");
  assert_int_equal(sm_parse_str(&sm, "{\"spec\":{}}", &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "metadata");
  sm_spec sp;
  assert_int_equal(sm_spec_from_json(&sp, NULL, &err), MBCAS_OK);
  assert_int_equal(sp.clearing_interval_ms, 15000);
}

static void fill_status(sm_status *st) {
  memset(st, 0, sizeof *st);
  assert_int_equal(
      cond_set(&st->conditions, "Ready", COND_TRUE, "Cleared", "3 nodes, 12 pods", 4, 1795000000, NULL),
      MBCAS_OK);
  assert_int_equal(
      cond_set(&st->conditions, "Contended", COND_TRUE, "DemandAboveCapacity", "1 node", 4, 1795000000, NULL),
      MBCAS_OK);
  st->observed_generation = 4;
  st->last_clearing_time = 1795000015;
  st->last_clearing_duration_us = 1234;
  snprintf(st->last_decision_id, sizeof st->last_decision_id, "d-5f2a9c");
  st->node_count = 3;
  st->participants = 12;
  st->contended_nodes = 1;
  snprintf(st->fairness, sizeof st->fairness, "0.973");
  st->n_nodes = 2;
  snprintf(st->nodes[0].name, sizeof st->nodes[0].name, "node-a");
  st->nodes[0].capacity_milli = 3800;
  st->nodes[0].allocated_milli = 3800;
  snprintf(st->nodes[0].price, sizeof st->nodes[0].price, "0.0125");
  st->nodes[0].contended = true;
  st->nodes[0].participants = 7;
  snprintf(st->nodes[1].name, sizeof st->nodes[1].name, "node-b");
  st->nodes[1].capacity_milli = 4000;
  st->nodes[1].allocated_milli = 2500;
  st->nodes[1].participants = 5;
  st->nodes_omitted = 1;
}

static void test_status_round_trip(void **st) {
  (void)st;
  sm_status a, b;
  fill_status(&a);
  cJSON *ja = sm_status_to_json(&a);
  assert_non_null(ja);
  char *ta = cJSON_PrintUnformatted(ja);
  assert_non_null(strstr(ta, "\"lastClearingDuration\":\"1.234ms\""));
  assert_non_null(strstr(ta, "\"capacity\":\"3800m\""));
  assert_non_null(strstr(ta, "\"capacity\":\"4\""));
  mbcas_err err;
  if (sm_status_from_json(&b, ja, &err)) fail_msg("%s: %s", err.field, err.msg);
  cJSON *jb = sm_status_to_json(&b);
  char *tb = cJSON_PrintUnformatted(jb);
  assert_string_equal(ta, tb);
  assert_int_equal(b.last_clearing_duration_us, 1234);
  assert_int_equal(b.nodes[1].allocated_milli, 2500);
  assert_true(b.nodes[0].contended);
  assert_int_equal(b.nodes_omitted, 1);
  /* whole object with status */
  cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"m\"},\"spec\":{}}");
  cJSON_AddItemToObject(obj, "status", jb);
  scalingmarket *sm = NULL;
  assert_int_equal(sm_parse(&sm, obj, &err), MBCAS_OK);
  assert_int_equal(sm->status.participants, 12);
  assert_true(cond_is_true(&sm->status.conditions, "Contended"));
  sm_free(sm);
  cJSON_Delete(obj);
  cJSON_Delete(ja);
  free(ta);
  free(tb);
  sm_status_clear(&a);
  sm_status_clear(&b);
  /* bad status fields name their path; nothing leaks */
  static const struct {
    const char *j, *f;
  } bad[] = {
      {"{\"nodes\":[{\"name\":\"a\",\"capacity\":\"lots\"}]}", "status.nodes[0].capacity"},
      {"{\"lastClearingDuration\":\"fast\"}", "status.lastClearingDuration"},
      {"{\"lastClearingTime\":\"now\"}", "status.lastClearingTime"},
      {"{\"participants\":-1}", "status.participants"},
      {"{\"conditions\":[{\"type\":\"Ready\"}],\"participants\":1}", "status.conditions[0].status"},
      {"[]", "status"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON *j = cJSON_Parse(bad[i].j);
    mbcas_err_clear(&err);
    assert_int_equal(sm_status_from_json(&b, j, &err), MBCAS_EINVAL);
    if (strcmp(err.field, bad[i].f)) fail_msg("%s: %s", bad[i].j, err.field);
    cJSON_Delete(j);
  }
  assert_int_equal(sm_status_from_json(&b, NULL, NULL), MBCAS_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_defaults), cmocka_unit_test(test_full_spec),
                                     cmocka_unit_test(test_errors), cmocka_unit_test(test_status_round_trip)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
