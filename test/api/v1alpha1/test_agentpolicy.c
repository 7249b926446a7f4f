/* test_agentpolicy.c - agentpolicy.h: defaults, signal sources, CEL-equivalent rules
 * with field paths, built-in policy, status round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentpolicy.h"

#define CPU "{\"name\":\"cpu\",\"resource\":{\"name\":\"cpu\"},\"target\":0.8}"

static agentpolicy *parse_spec(const char *spec, mbcas_err *err, mbcas_rc *rc) {
  char buf[8192];
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"mbcas.io/v1alpha1\",\"kind\":\"AgentPolicy\","
           "\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":%s}",
           spec);
  agentpolicy *ap = NULL;
  mbcas_err_clear(err);
  *rc = ap_parse_str(&ap, buf, err);
  return ap;
}

static void test_defaults(void **st) {
  (void)st;
  mbcas_err err;
  mbcas_rc rc;
  agentpolicy *ap = parse_spec("{\"signals\":[" CPU "]}", &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  const ap_spec *s = &ap->spec;
  assert_int_equal(s->n_signals, 1);
  assert_int_equal(s->signals[0].source, AP_SOURCE_RESOURCE);
  assert_int_equal(s->signals[0].resource, AP_RESOURCE_CPU);
  assert_int_equal(s->signals[0].relative_to, AP_RELATIVE_REQUEST);
  assert_true(s->signals[0].target == 0.8);
  assert_true(s->signals[0].weight == 1.0);
  assert_int_equal(s->combine, AP_COMBINE_MAX);
  assert_int_equal(s->half_life_ms, 60000);
  assert_int_equal(s->stale_after_ms, 120000);
  assert_true(s->fallback_demand == 0.5);
  assert_false(s->forecast_enabled);
  assert_int_equal(s->forecast_method, AP_FORECAST_HOLT_WINTERS);
  assert_int_equal(s->forecast_horizon_ms, 300000);
  assert_int_equal(s->forecast_season_ms, 86400000);
  assert_int_equal(s->forecast_lead_ms, 60000);
  assert_true(s->forecast_error_band == 0.5);
  ap_free(ap);
  /* regression: a horizon under the leadTime default (valid before leadTime existed)
   * stays valid; the lead defaults to the horizon then */
  ap = parse_spec("{\"signals\":[" CPU "],\"forecast\":{\"horizon\":\"30s\"}}", &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  assert_int_equal(ap->spec.forecast_horizon_ms, 30000);
  assert_int_equal(ap->spec.forecast_lead_ms, 30000);
  ap_free(ap);
  ap_free(NULL);
  ap_spec b;
  ap_spec_builtin(&b);
  assert_int_equal(b.n_signals, 1);
  assert_string_equal(b.signals[0].name, "cpu");
  assert_true(b.signals[0].target == 0.8);
  ap_spec_defaults(&b);
  assert_int_equal(b.n_signals, 0);
  assert_string_equal(ap_combine_str(AP_COMBINE_WEIGHTED_SUM), "WeightedSum");
}

static void test_sources(void **st) {
  (void)st;
  mbcas_err err;
  mbcas_rc rc;
  agentpolicy *ap = parse_spec(
      "{\"combine\":\"WeightedSum\",\"signals\":["
      "{\"name\":\"mem\",\"resource\":{\"name\":\"memory\",\"relativeTo\":\"Limit\"},\"target\":0.9,"
      "\"weight\":0.2},"
      "{\"name\":\"lat\",\"prometheus\":{\"address\":\"https://"
      "prom:9090\",\"query\":\"sum(x)\"},\"target\":0.25,\"weight\":0.5},"
      "{\"name\":\"agent\",\"pod\":{\"port\":9000},\"weight\":0.2},"
      "{\"name\":\"q\",\"pod\":{\"port\":9100,\"path\":\"/"
      "metrics\",\"format\":\"Prometheus\",\"metric\":\"queue_depth\"},"
      "\"target\":100,\"weight\":0.1}],"
      "\"smoothing\":{\"halfLife\":\"0\"},\"staleAfter\":\"30s\",\"fallbackDemand\":0,"
      "\"forecast\":{\"enabled\":true,\"method\":\"None\",\"horizon\":\"10m\",\"seasonPeriod\":\"1h\","
      "\"leadTime\":\"90s\",\"errorBand\":1.5}}",
      &err, &rc);
  if (rc) fail_msg("%s: %s", err.field, err.msg);
  const ap_spec *s = &ap->spec;
  assert_int_equal(s->n_signals, 4);
  assert_int_equal(s->signals[0].resource, AP_RESOURCE_MEMORY);
  assert_int_equal(s->signals[0].relative_to, AP_RELATIVE_LIMIT);
  assert_int_equal(s->signals[1].source, AP_SOURCE_PROMETHEUS);
  assert_string_equal(s->signals[1].prom_address, "https://prom:9090");
  assert_string_equal(s->signals[1].prom_query, "sum(x)");
  assert_int_equal(s->signals[2].source, AP_SOURCE_POD);
  assert_int_equal(s->signals[2].pod_port, 9000);
  assert_string_equal(s->signals[2].pod_path, "/demand");
  assert_int_equal(s->signals[2].pod_format, AP_POD_FORMAT_DEMAND);
  assert_true(s->signals[2].target == 1.0); /* Demand format: target 1 */
  assert_int_equal(s->signals[3].pod_format, AP_POD_FORMAT_PROMETHEUS);
  assert_string_equal(s->signals[3].pod_metric, "queue_depth");
  assert_string_equal(s->signals[3].pod_path, "/metrics");
  assert_int_equal(s->combine, AP_COMBINE_WEIGHTED_SUM);
  assert_int_equal(s->half_life_ms, 0);
  assert_int_equal(s->stale_after_ms, 30000);
  assert_true(s->fallback_demand == 0.0);
  assert_true(s->forecast_enabled);
  assert_int_equal(s->forecast_method, AP_FORECAST_NONE);
  assert_int_equal(s->forecast_horizon_ms, 600000);
  assert_int_equal(s->forecast_season_ms, 3600000);
  assert_int_equal(s->forecast_lead_ms, 90000);
  assert_true(s->forecast_error_band == 1.5);
  ap_free(ap);
}

static void test_errors(void **st) {
  (void)st;
  static const struct {
    const char *spec, *field;
  } cases[] = {
      {"{}", "spec.signals"},
      {"{\"signals\":[]}", "spec.signals"},
      {"{\"signals\":[" CPU "," CPU "]}", "spec.signals[1]"},
      {"{\"signals\":[" CPU ",{},{},{},{},{},{},{},{}]}", "spec.signals"},
      {"{\"signals\":[{\"resource\":{\"name\":\"cpu\"},\"target\":1}]}", "spec.signals[0].name"},
      {"{\"signals\":[{\"name\":\"CPU\",\"resource\":{\"name\":\"cpu\"},\"target\":1}]}",
       "spec.signals[0].name"},
      {"{\"signals\":[{\"name\":\"a\",\"target\":1}]}", "spec.signals[0]"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"cpu\"},\"pod\":{\"port\":1},\"target\":1}]}",
       "spec.signals[0]"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"gpu\"},\"target\":1}]}",
       "spec.signals[0].resource.name"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"cpu\",\"relativeTo\":\"Usage\"},\"target\":1}]"
       "}",
       "spec.signals[0].resource.relativeTo"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"cpu\"}}]}", "spec.signals[0].target"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"cpu\"},\"target\":0}]}",
       "spec.signals[0].target"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"cpu\"},\"target\":1,\"weight\":0}]}",
       "spec.signals[0].weight"},
      {"{\"signals\":[{\"name\":\"a\",\"resource\":{\"name\":\"cpu\"},\"target\":1,\"weight\":1.5}]}",
       "spec.signals[0].weight"},
      {"{\"signals\":[{\"name\":\"a\",\"prometheus\":{\"query\":\"up\"},\"target\":1}]}",
       "spec.signals[0].prometheus.address"},
      {"{\"signals\":[{\"name\":\"a\",\"prometheus\":{\"address\":\"prom:9090\",\"query\":\"up\"},\"target\":"
       "1}]}",
       "spec.signals[0].prometheus.address"},
      {"{\"signals\":[{\"name\":\"a\",\"prometheus\":{\"address\":\"http://p "
       "q\",\"query\":\"up\"},\"target\":1}]}",
       "spec.signals[0].prometheus.address"},
      {"{\"signals\":[{\"name\":\"a\",\"prometheus\":{\"address\":\"http://"
       "prom\",\"query\":\"\"},\"target\":1}]}",
       "spec.signals[0].prometheus.query"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{}}]}", "spec.signals[0].pod.port"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{\"port\":70000}}]}", "spec.signals[0].pod.port"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{\"port\":80,\"path\":\"demand\"}}]}",
       "spec.signals[0].pod.path"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{\"port\":80,\"format\":\"Json\"}}]}",
       "spec.signals[0].pod.format"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{\"port\":80,\"format\":\"Prometheus\"},\"target\":1}]}",
       "spec.signals[0].pod.metric"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{\"port\":80,\"format\":\"Prometheus\",\"metric\":\"9x\"},"
       "\"target\":1}]}",
       "spec.signals[0].pod.metric"},
      {"{\"signals\":[{\"name\":\"a\",\"pod\":{\"port\":80,\"format\":\"Prometheus\",\"metric\":\"x\"}}]}",
       "spec.signals[0].target"},
      {"{\"signals\":[" CPU "],\"combine\":\"Sum\"}", "spec.combine"},
      {"{\"signals\":[" CPU "],\"combine\":\"WeightedSum\",\"staleAfter\":\"1m\"}",
       "spec.signals"}, /* 1 ok */
      {"{\"signals\":[" CPU
       ",{\"name\":\"b\",\"resource\":{\"name\":\"memory\"},\"target\":1}],\"combine\":\"WeightedSum\"}",
       "spec.signals"},
      {"{\"signals\":[" CPU "],\"smoothing\":{\"halfLife\":\"1 minute\"}}", "spec.smoothing.halfLife"},
      {"{\"signals\":[" CPU "],\"staleAfter\":\"0\"}", "spec.staleAfter"},
      {"{\"signals\":[" CPU "],\"staleAfter\":\"2h\"}", "spec.staleAfter"},
      {"{\"signals\":[" CPU "],\"fallbackDemand\":1.01}", "spec.fallbackDemand"},
      {"{\"signals\":[" CPU "],\"fallbackDemand\":-0.1}", "spec.fallbackDemand"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"method\":\"ARIMA\"}}", "spec.forecast.method"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"enabled\":1}}", "spec.forecast.enabled"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"horizon\":\"25h\"}}", "spec.forecast.horizon"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"horizon\":\"500ms\"}}", "spec.forecast.horizon"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"seasonPeriod\":\"30s\"}}", "spec.forecast.seasonPeriod"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"leadTime\":\"0\"}}", "spec.forecast.leadTime"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"leadTime\":\"6m\"}}", "spec.forecast.leadTime"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"errorBand\":5.5}}", "spec.forecast.errorBand"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"errorBand\":-1}}", "spec.forecast.errorBand"},
      {"{\"signals\":[" CPU "],\"forecast\":{\"seasonPeriod\":\"169h\"}}", "spec.forecast.seasonPeriod"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mbcas_err err;
    mbcas_rc rc;
    agentpolicy *ap = parse_spec(cases[i].spec, &err, &rc);
    if (i == 26) { /* one signal of weight 1 with WeightedSum is valid */
      assert_int_equal(rc, MBCAS_OK);
      ap_free(ap);
      continue;
    }
    assert_null(ap);
    if (rc != MBCAS_EINVAL || strcmp(err.field, cases[i].field))
      fail_msg("#%zu %s: rc %d field '%s' (%s), want %s", i, cases[i].spec, rc, err.field, err.msg,
               cases[i].field);
  }
  agentpolicy *ap = NULL;
  mbcas_err err;
  assert_int_equal(ap_parse_str(&ap, "[", &err), MBCAS_EINVAL);
  ap_spec s;
  assert_int_equal(ap_spec_from_json(&s, NULL, &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "spec");
}

static void test_status_round_trip(void **st) {
  (void)st;
  ap_status a, b;
  memset(&a, 0, sizeof a);
  assert_int_equal(cond_set(&a.conditions, AP_COND_READY, COND_FALSE, "SignalsStale", "latency: timeout", 1,
                            1795000000, NULL),
                   MBCAS_OK);
  a.observed_generation = 1;
  a.last_evaluation_time = 1795000030;
  a.healthy_signals = 1;
  a.n_signals = 2;
  snprintf(a.signals[0].name, sizeof a.signals[0].name, "cpu");
  a.signals[0].healthy = true;
  a.signals[0].has_last_value = true;
  a.signals[0].last_value = 0.73;
  a.signals[0].last_time = 1795000029;
  snprintf(a.signals[1].name, sizeof a.signals[1].name, "latency");
  snprintf(a.signals[1].last_error, sizeof a.signals[1].last_error, "query timed out after 2s");
  cJSON *ja = ap_status_to_json(&a);
  char *ta = cJSON_PrintUnformatted(ja);
  assert_non_null(strstr(ta, "\"lastValue\":\"0.73\""));
  assert_non_null(strstr(ta, "\"signalCount\":2"));
  mbcas_err err;
  if (ap_status_from_json(&b, ja, &err)) fail_msg("%s: %s", err.field, err.msg);
  cJSON *jb = ap_status_to_json(&b);
  char *tb = cJSON_PrintUnformatted(jb);
  assert_string_equal(ta, tb);
  assert_false(b.signals[1].healthy);
  assert_false(b.signals[1].has_last_value);
  assert_string_equal(b.signals[1].last_error, "query timed out after 2s");
  free(ta);
  free(tb);
  cJSON_Delete(ja);
  cJSON_Delete(jb);
  ap_status_clear(&a);
  ap_status_clear(&b);
  static const struct {
    const char *j, *f;
  } bad[] = {
      {"{\"signals\":[{\"name\":\"a\",\"lastValue\":\"n/a\"}]}", "status.signals[0].lastValue"},
      {"{\"signals\":[{\"healthy\":true}]}", "status.signals[0].name"},
      {"{\"lastEvaluationTime\":5}", "status.lastEvaluationTime"},
      {"{\"healthySignals\":\"2\"}", "status.healthySignals"},
      {"1", "status"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON *j = cJSON_Parse(bad[i].j);
    mbcas_err_clear(&err);
    assert_int_equal(ap_status_from_json(&b, j, &err), MBCAS_EINVAL);
    if (strcmp(err.field, bad[i].f)) fail_msg("%s: %s", bad[i].j, err.field);
    cJSON_Delete(j);
  }
  /* whole object with status */
  agentpolicy *ap = NULL;
  assert_int_equal(
      ap_parse_str(&ap,
                   "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},\"spec\":{\"signals\":[" CPU
                   "]},\"status\":{\"healthySignals\":1,\"conditions\":[{\"type\":\"Ready\",\"status\":"
                   "\"True\",\"reason\":\"Fresh\",\"message\":\"\",\"lastTransitionTime\":"
                   "\"2026-01-01T00:00:00Z\"}]}}",
                   &err),
      MBCAS_OK);
  assert_true(cond_is_true(&ap->status.conditions, "Ready"));
  ap_free(ap);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_defaults), cmocka_unit_test(test_sources),
                                     cmocka_unit_test(test_errors), cmocka_unit_test(test_status_round_trip)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
