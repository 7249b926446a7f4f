/* test_conditions.c - conditions.h: lastTransitionTime moves only on status changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conditions.h"

static void test_set_transition_rules(void **st) {
  (void)st;
  cond_list l = {0};
  bool ch = false;
  assert_int_equal(cond_set(&l, "Ready", COND_FALSE, "Pending", "waiting", 1, 100, &ch), MBCAS_OK);
  assert_true(ch);
  const cond *c = cond_find(&l, "Ready");
  assert_non_null(c);
  assert_int_equal(c->last_transition_time, 100);
  /* same everything: nothing changes */
  assert_int_equal(cond_set(&l, "Ready", COND_FALSE, "Pending", "waiting", 1, 200, &ch), MBCAS_OK);
  assert_false(ch);
  assert_int_equal(c->last_transition_time, 100);
  /* new message and generation, same status: changed, time stays */
  assert_int_equal(cond_set(&l, "Ready", COND_FALSE, "StillPending", "still waiting", 2, 300, &ch), MBCAS_OK);
  assert_true(ch);
  assert_int_equal(c->last_transition_time, 100);
  assert_int_equal(c->observed_generation, 2);
  assert_string_equal(c->reason, "StillPending");
  assert_string_equal(c->message, "still waiting");
  /* status flips: time moves */
  assert_int_equal(cond_set(&l, "Ready", COND_TRUE, "Cleared", NULL, 2, 400, &ch), MBCAS_OK);
  assert_true(ch);
  assert_int_equal(c->last_transition_time, 400);
  assert_string_equal(c->message, "");
  assert_true(cond_is_true(&l, "Ready"));
  assert_false(cond_is_true(&l, "Conflict"));
  assert_null(cond_find(&l, "Conflict"));
  assert_int_equal(cond_set(&l, "Conflict", COND_UNKNOWN, "Checking", "x", 2, 500, NULL), MBCAS_OK);
  assert_int_equal(l.n, 2);
  assert_true(cond_remove(&l, "Ready"));
  assert_false(cond_remove(&l, "Ready"));
  assert_int_equal(l.n, 1);
  assert_string_equal(l.items[0].type, "Conflict");
  cond_list_clear(&l);
  assert_int_equal(l.n, 0);
  cond_list_clear(NULL);
}

static void test_set_rejects_bad_input(void **st) {
  (void)st;
  cond_list l = {0};
  assert_int_equal(cond_set(&l, "Ready", COND_TRUE, "has space", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(&l, "Ready", COND_TRUE, "", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(&l, "Ready", COND_TRUE, "9Lives", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(&l, "", COND_TRUE, "Ok", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(&l, "Bad Type", COND_TRUE, "Ok", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(&l, "Ready", (cond_status)7, "Ok", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(NULL, "Ready", COND_TRUE, "Ok", "", 0, 1, NULL), MBCAS_EINVAL);
  assert_int_equal(cond_set(&l, "mbcas.io/Healthy", COND_TRUE, "A_b,c:d", "", 0, 1, NULL), MBCAS_OK);
  for (int i = 1; i < COND_MAX; i++) {
    char t[16];
    snprintf(t, sizeof t, "T%d", i);
    assert_int_equal(cond_set(&l, t, COND_TRUE, "Ok", "", 0, 1, NULL), MBCAS_OK);
  }
  assert_int_equal(cond_set(&l, "OneTooMany", COND_TRUE, "Ok", "", 0, 1, NULL), MBCAS_EINVAL);
  cond_list_clear(&l);
}

static void test_json_round_trip(void **st) {
  (void)st;
  cond_list l = {0}, back = {0}, copy = {0};
  assert_int_equal(cond_set(&l, "Ready", COND_TRUE, "Cleared", "market cleared in 2ms", 3, 1795000000, NULL),
                   MBCAS_OK);
  assert_int_equal(cond_set(&l, "Contended", COND_FALSE, "Room", "", 3, 1795000100, NULL), MBCAS_OK);
  cJSON *j = cond_list_to_json(&l);
  char *txt = cJSON_PrintUnformatted(j);
  assert_non_null(strstr(txt, "\"lastTransitionTime\":\"2026-11-18T"));
  assert_int_equal(cond_list_from_json(&back, j, "status.conditions", NULL), MBCAS_OK);
  cJSON *j2 = cond_list_to_json(&back);
  char *txt2 = cJSON_PrintUnformatted(j2);
  assert_string_equal(txt, txt2);
  assert_int_equal(cond_list_copy(&copy, &back), MBCAS_OK);
  assert_int_equal(copy.n, 2);
  assert_string_equal(copy.items[0].message, "market cleared in 2ms");
  assert_ptr_not_equal(copy.items[0].message, back.items[0].message);
  free(txt);
  free(txt2);
  cJSON_Delete(j);
  cJSON_Delete(j2);
  cond_list_clear(&l);
  cond_list_clear(&back);
  cond_list_clear(&copy);
  /* NULL and null are an empty list */
  assert_int_equal(cond_list_from_json(&back, NULL, "c", NULL), MBCAS_OK);
  assert_int_equal(back.n, 0);
}

static void expect_bad(const char *json, const char *field) {
  cond_list l;
  mbcas_err err;
  mbcas_err_clear(&err);
  cJSON *j = cJSON_Parse(json);
  assert_non_null(j);
  assert_int_equal(cond_list_from_json(&l, j, "status.conditions", &err), MBCAS_EINVAL);
  if (strcmp(err.field, field)) fail_msg("%s: field %s, want %s (%s)", json, err.field, field, err.msg);
  assert_int_equal(l.n, 0);
  cJSON_Delete(j);
}

static void test_json_errors(void **st) {
  (void)st;
  const char *ok = "\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ok\",\"message\":\"m\","
                   "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"";
  char b[512];
  snprintf(b, sizeof b,
           "[{%s},{\"type\":\"X\",\"status\":\"Maybe\",\"reason\":\"Ok\",\"message\":\"\","
           "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]",
           ok);
  expect_bad(b, "status.conditions[1].status");
  snprintf(b, sizeof b, "[{%s},{%s}]", ok, ok);
  expect_bad(b, "status.conditions[1]");
  expect_bad("[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ok\",\"message\":\"m\"}]",
             "status.conditions[0].lastTransitionTime");
  expect_bad("[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"not ok\",\"message\":\"m\","
             "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]",
             "status.conditions[0].reason");
  expect_bad("{}", "status.conditions");
  expect_bad("[1]", "status.conditions[0]");
  assert_string_equal(cond_status_str(COND_TRUE), "True");
  assert_string_equal(cond_status_str(COND_FALSE), "False");
  assert_string_equal(cond_status_str(COND_UNKNOWN), "Unknown");
  assert_string_equal(cond_status_str((cond_status)9), "Unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_transition_rules), cmocka_unit_test(test_set_rejects_bad_input),
      cmocka_unit_test(test_json_round_trip), cmocka_unit_test(test_json_errors)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
