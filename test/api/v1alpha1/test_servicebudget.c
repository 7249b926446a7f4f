/* test_servicebudget.c - servicebudget.h: defaults, validation with field paths,
 * outcomes, history, status round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "servicebudget.h"

#define BASE "\"marketRef\":{\"name\":\"general-purpose\"},\"targetRef\":{\"name\":\"web\"}"

static servicebudget *parse_spec(const char *spec, mbcas_err *err, mbcas_rc *rc) {
  char buf[4096];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"ServiceBudget\","
           "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":%s}",
           spec);
  servicebudget *sb = NULL;
  mbcas_err_clear(err);
  *rc = sb_parse_str(&sb, buf, err);
  return sb;
}

static void test_defaults(void **st) {
  (void)st;
  mbcas_err err;
  mbcas_rc rc;
  servicebudget *sb = parse_spec("{" BASE ",\"budget\":100}", &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  const sb_spec *s = &sb->spec;
  assert_string_equal(s->market_ref, "general-purpose");
  assert_string_equal(s->target_api_version, "apps/v1");
  assert_string_equal(s->target_kind, "Deployment");
  assert_string_equal(s->target_name, "web");
  assert_false(s->has_agent_policy_ref);
  assert_int_equal(s->budget_milli, 100000);
  assert_string_equal(s->container, "");
  assert_int_equal(s->cpu_min_milli, 100);
  assert_false(s->has_cpu_max);
  assert_false(s->has_replicas);
  sb_free(sb);
  sb_free(NULL);
  sb_spec d;
  sb_spec_defaults(&d);
  assert_int_equal(d.replicas_min, 1);
}

static void test_full_spec(void **st) {
  (void)st;
  mbcas_err err;
  mbcas_rc rc;
  servicebudget *sb = parse_spec(
      "{\"marketRef\":{\"name\":\"m\"},\"targetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
      "\"name\":\"db\"},\"agentPolicyRef\":{\"name\":\"db-cpu\"},\"budget\":\"2.5\",\"container\":"
      "\"postgres\","
      "\"cpu\":{\"min\":\"250m\",\"max\":2,\"base\":\"1\"},\"replicas\":{\"min\":2,\"max\":5}}",
      &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  const sb_spec *s = &sb->spec;
  assert_string_equal(s->target_kind, "StatefulSet");
  assert_true(s->has_agent_policy_ref);
  assert_string_equal(s->agent_policy_ref, "db-cpu");
  assert_int_equal(s->budget_milli, 2500);
  assert_string_equal(s->container, "postgres");
  assert_int_equal(s->cpu_min_milli, 250);
  assert_int_equal(s->cpu_max_milli, 2000);
  assert_true(s->has_cpu_base);
  assert_int_equal(s->cpu_base_milli, 1000);
  assert_true(s->has_replicas && s->has_replicas_max);
  assert_int_equal(s->replicas_min, 2);
  assert_int_equal(s->replicas_max, 5);
  sb_free(sb);
  /* equal floor and cap is fine; replicas without max too */
  sb = parse_spec("{" BASE ",\"budget\":\"1k\",\"cpu\":{\"min\":\"1\",\"max\":\"1000m\"},\"replicas\":{}}",
                  &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  assert_int_equal(sb->spec.budget_milli, 1000000);
  assert_true(sb->spec.has_replicas);
  assert_false(sb->spec.has_replicas_max);
  assert_int_equal(sb->spec.replicas_min, 1);
  sb_free(sb);
}

static void test_errors(void **st) {
  (void)st;
  static const struct {
    const char *spec, *field;
  } cases[] = {
      {"{\"targetRef\":{\"name\":\"web\"},\"budget\":1}", "spec.marketRef"},
      {"{\"marketRef\":{},\"targetRef\":{\"name\":\"web\"},\"budget\":1}", "spec.marketRef.name"},
      {"{\"marketRef\":{\"name\":\"M\"},\"targetRef\":{\"name\":\"web\"},\"budget\":1}",
       "spec.marketRef.name"},
      {"{\"marketRef\":{\"name\":\"m\"},\"budget\":1}", "spec.targetRef"},
      {"{\"marketRef\":{\"name\":\"m\"},\"targetRef\":{},\"budget\":1}", "spec.targetRef.name"},
      {"{\"marketRef\":{\"name\":\"m\"},\"targetRef\":{\"name\":\"w\",\"kind\":\"deployment\"},\"budget\":1}",
       "spec.targetRef.kind"},
      {"{\"marketRef\":{\"name\":\"m\"},\"targetRef\":{\"name\":\"w\",\"apiVersion\":\"\"},\"budget\":1}",
       "spec.targetRef.apiVersion"},
      {"{" BASE "}", "spec.budget"},
      {"{" BASE ",\"budget\":0}", "spec.budget"},
      {"{" BASE ",\"budget\":\"0m\"}", "spec.budget"},
      {"{" BASE ",\"budget\":-5}", "spec.budget"},
      {"{" BASE ",\"budget\":\"lots\"}", "spec.budget"},
      {"{" BASE ",\"budget\":true}", "spec.budget"},
      {"{" BASE ",\"budget\":1,\"agentPolicyRef\":{}}", "spec.agentPolicyRef.name"},
      {"{" BASE ",\"budget\":1,\"container\":\"Main\"}", "spec.container"},
      {"{" BASE ",\"budget\":1,\"container\":\"\"}", "spec.container"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"min\":\"2\",\"max\":\"500m\"}}", "spec.cpu.min"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"max\":\"1\",\"base\":\"2\"}}", "spec.cpu.base"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"min\":\"500m\",\"max\":\"1\",\"base\":\"200m\"}}", "spec.cpu.base"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"base\":\"1\"}}", "spec.cpu.base"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"max\":\"1\",\"base\":\"x\"}}", "spec.cpu.base"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"max\":\"50m\"}}", "spec.cpu.min"}, /* default floor 100m > cap */
      {"{" BASE ",\"budget\":1,\"cpu\":{\"min\":\"x\"}}", "spec.cpu.min"},
      {"{" BASE ",\"budget\":1,\"cpu\":{\"max\":\"-1\"}}", "spec.cpu.max"},
      {"{" BASE ",\"budget\":1,\"replicas\":{\"min\":5,\"max\":3}}", "spec.replicas.min"},
      {"{" BASE ",\"budget\":1,\"replicas\":{\"min\":0}}", "spec.replicas.min"},
      {"{" BASE ",\"budget\":1,\"replicas\":{\"max\":10001}}", "spec.replicas.max"},
      {"{" BASE ",\"budget\":1,\"replicas\":{\"min\":\"2\"}}", "spec.replicas.min"},
      {"\"x\"", "spec"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mbcas_err err;
    mbcas_rc rc;
    servicebudget *sb = parse_spec(cases[i].spec, &err, &rc);
    assert_null(sb);
    if (rc != MBCAS_EINVAL || strcmp(err.field, cases[i].field))
      fail_msg("%s: rc %d field '%s' (%s), want %s", cases[i].spec, rc, err.field, err.msg, cases[i].field);
  }
  mbcas_err err;
  mbcas_rc rc;
  servicebudget *sb =
      parse_spec("{" BASE ",\"budget\":1,\"cpu\":{\"min\":\"2\",\"max\":\"500m\"}}", &err, &rc);
  char b[600];
  assert_string_equal(mbcas_err_format(&err, b, sizeof b), "spec.cpu.min: must not exceed spec.cpu.max");
  assert_null(sb);
  assert_int_equal(sb_parse_str(&sb, "nope", &err), MBCAS_EINVAL);
  assert_int_equal(sb_parse_str(&sb, "{\"metadata\":{\"name\":\"a\"},\"spec\":{}}", &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "metadata.namespace");
  sb_spec sp;
  assert_int_equal(sb_spec_from_json(&sp, NULL, &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "spec");
}

static void test_outcomes_and_history(void **st) {
  (void)st;
  assert_string_equal(sb_outcome_str(SB_OUTCOME_APPLIED), "Applied");
  assert_string_equal(sb_outcome_str(SB_OUTCOME_NONE), "");
  assert_string_equal(sb_outcome_str((sb_outcome)99), "");
  for (int o = SB_OUTCOME_PENDING; o <= SB_OUTCOME_RECOMMENDED; o++)
    assert_int_equal(sb_outcome_parse(sb_outcome_str((sb_outcome)o)), o);
  assert_int_equal(sb_outcome_parse("applied"), SB_OUTCOME_NONE);
  assert_int_equal(sb_outcome_parse(NULL), SB_OUTCOME_NONE);
  sb_status s;
  memset(&s, 0, sizeof s);
  for (int i = 0; i < SB_HISTORY_MAX + 3; i++) {
    sb_decision d = {.time = 1000 + i, .outcome = SB_OUTCOME_APPLIED};
    snprintf(d.id, sizeof d.id, "d%d", i);
    sb_history_push(&s, &d);
  }
  assert_int_equal(s.n_history, SB_HISTORY_MAX);
  assert_string_equal(s.history[0].id, "d12"); /* newest first */
  assert_string_equal(s.history[SB_HISTORY_MAX - 1].id, "d3");
}

static void fill(sb_status *s) {
  memset(s, 0, sizeof *s);
  assert_int_equal(cond_set(&s->conditions, SB_COND_READY, COND_TRUE, "Participating",
                            "in market general-purpose", 3, 1795000000, NULL),
                   MBCAS_OK);
  assert_int_equal(
      cond_set(&s->conditions, SB_COND_ACTUATED, COND_TRUE, "Resized", "2 pods resized", 3, 1795000015, NULL),
      MBCAS_OK);
  s->observed_generation = 3;
  s->has_demand = true;
  s->demand = 0.62;
  s->demand_time = 1795000014;
  s->n_pod_demands = 2;
  snprintf(s->pod_demands[0].pod, sizeof s->pod_demands[0].pod, "web-1");
  s->pod_demands[0].has_demand = true;
  s->pod_demands[0].demand = 0.7;
  snprintf(s->pod_demands[1].pod, sizeof s->pod_demands[1].pod, "web-2");
  s->pod_demands[1].has_demand = true;
  s->pod_demands[1].demand = 0.5412;
  s->has_bid = true;
  s->bid = 0.186;
  s->has_budget_share = true;
  s->budget_share = 0.3;
  s->has_allocation_share = true;
  s->allocation_share = 0.3125;
  s->has_cpu = true;
  s->cpu_milli = 2500;
  s->n_allocations = 2;
  sb_allocation *a = &s->allocations[0];
  snprintf(a->pod, sizeof a->pod, "web-1");
  snprintf(a->node, sizeof a->node, "node-a");
  a->has_cpu = a->has_previous = true;
  a->cpu_milli = 1500;
  a->previous_milli = 1000;
  a->outcome = SB_OUTCOME_APPLIED;
  a = &s->allocations[1];
  snprintf(a->pod, sizeof a->pod, "web-2");
  snprintf(a->node, sizeof a->node, "node-b");
  a->has_cpu = true;
  a->cpu_milli = 1000;
  a->outcome = SB_OUTCOME_DEFERRED;
  s->has_current_replicas = s->has_desired_replicas = true;
  s->current_replicas = 2;
  s->desired_replicas = 3;
  s->has_last_decision = true;
  snprintf(s->last_decision.id, sizeof s->last_decision.id, "d-5f2a9c");
  s->last_decision.time = 1795000015;
  snprintf(s->last_decision.reason, sizeof s->last_decision.reason,
           "node-a contended: demand 0.62 x share 0.30 -> 1500m (cap 2)");
  s->last_decision.outcome = SB_OUTCOME_APPLIED;
  sb_decision h = s->last_decision;
  h.has_cpu = true;
  h.cpu_milli = 2500;
  h.has_replicas = true;
  h.replicas = 3;
  sb_history_push(s, &h);
}

static void test_status_round_trip(void **st) {
  (void)st;
  sb_status a, b;
  fill(&a);
  cJSON *ja = sb_status_to_json(&a);
  char *ta = cJSON_PrintUnformatted(ja);
  assert_non_null(strstr(ta, "\"demand\":\"0.62\""));
  assert_non_null(strstr(ta, "\"cpu\":\"2500m\""));
  assert_non_null(strstr(ta, "\"bid\":\"0.186\""));
  assert_non_null(strstr(ta, "\"outcome\":\"Deferred\""));
  mbcas_err err;
  if (sb_status_from_json(&b, ja, &err)) fail_msg("%s: %s", err.field, err.msg);
  cJSON *jb = sb_status_to_json(&b);
  char *tb = cJSON_PrintUnformatted(jb);
  assert_string_equal(ta, tb);
  assert_true(b.demand == 0.62);
  assert_true(b.pod_demands[1].demand == 0.5412);
  assert_int_equal(b.allocations[0].previous_milli, 1000);
  assert_false(b.allocations[1].has_previous);
  assert_int_equal(b.history[0].replicas, 3);
  assert_int_equal(b.desired_replicas, 3);
  assert_string_equal(b.last_decision.reason, a.last_decision.reason);
  free(ta);
  free(tb);
  cJSON_Delete(ja);
  cJSON_Delete(jb);
  sb_status_clear(&a);
  sb_status_clear(&b);
  /* empty status serializes to the minimum and parses back */
  sb_status e;
  memset(&e, 0, sizeof e);
  cJSON *je = sb_status_to_json(&e);
  char *te = cJSON_PrintUnformatted(je);
  assert_string_equal(te, "{\"conditions\":[],\"observedGeneration\":0}");
  assert_int_equal(sb_status_from_json(&b, je, NULL), MBCAS_OK);
  free(te);
  cJSON_Delete(je);
  static const struct {
    const char *j, *f;
  } bad[] = {
      {"{\"demand\":\"high\"}", "status.demand"},
      {"{\"demand\":0.5}", "status.demand"},
      {"{\"allocations\":[{\"pod\":\"a\",\"outcome\":\"Done\"}]}", "status.allocations[0].outcome"},
      {"{\"allocations\":[{\"node\":\"n\"}]}", "status.allocations[0].pod"},
      {"{\"history\":[{\"cpu\":\"x\"}]}", "status.history[0].cpu"},
      {"{\"lastDecision\":{\"time\":\"t\"}}", "status.lastDecision.time"},
      {"{\"podDemands\":[{\"pod\":\"a\",\"demand\":\"?\"}]}", "status.podDemands[0].demand"},
      {"{\"currentReplicas\":-1}", "status.currentReplicas"},
      {"{\"conditions\":[{}],\"demand\":\"0.1\"}", "status.conditions[0].type"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON *j = cJSON_Parse(bad[i].j);
    mbcas_err_clear(&err);
    assert_int_equal(sb_status_from_json(&b, j, &err), MBCAS_EINVAL);
    if (strcmp(err.field, bad[i].f)) fail_msg("%s: %s", bad[i].j, err.field);
    cJSON_Delete(j);
  }
  /* a history longer than maxItems is refused */
  cJSON *j = cJSON_CreateObject();
  cJSON *h = cJSON_AddArrayToObject(j, "history");
  for (int i = 0; i < SB_HISTORY_MAX + 1; i++)
    cJSON_AddItemToArray(h, cJSON_CreateObject());
  assert_int_equal(sb_status_from_json(&b, j, &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "status.history");
  cJSON_Delete(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults), cmocka_unit_test(test_full_spec), cmocka_unit_test(test_errors),
      cmocka_unit_test(test_outcomes_and_history), cmocka_unit_test(test_status_round_trip)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
