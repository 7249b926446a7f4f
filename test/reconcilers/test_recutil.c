/* test_recutil.c - JSON paths, pod state, selector strings, the state map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recapi.h"
#include "recutil.h"

static void test_paths(void **s) {
  (void)s;
  cJSON *o = cJSON_Parse("{\"a\":{\"b\":{\"c\":\"x\",\"n\":3}}}");
  assert_string_equal(ru_str(o, "a.b.c"), "x");
  assert_null(ru_str(o, "a.b.n"));
  assert_null(ru_str(o, "a.z.c"));
  assert_non_null(ru_get(o, "a.b"));
  assert_true(ru_num(o, "a.b.n", 0) == 3);
  assert_true(ru_num(o, "a.b.c", -1) == -1);
  assert_null(ru_get(NULL, "a"));
  cJSON_Delete(o);
}

static void test_pod_state(void **s) {
  (void)s;
  cJSON *p = cJSON_Parse("{\"metadata\":{},\"status\":{\"phase\":\"Running\",\"conditions\":["
                         "{\"type\":\"Ready\",\"status\":\"True\"}]}}");
  assert_true(ru_pod_ready(p));
  assert_false(ru_pod_terminating(p));
  cJSON_AddStringToObject(cJSON_GetObjectItem(p, "metadata"), "deletionTimestamp", "2026-01-01T00:00:00Z");
  assert_true(ru_pod_terminating(p));
  cJSON_Delete(p);
  p = cJSON_Parse("{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
  assert_false(ru_pod_ready(p));
  cJSON_Delete(p);
  p = cJSON_Parse("{\"status\":{\"phase\":\"Pending\"}}");
  assert_false(ru_pod_ready(p));
  cJSON_Delete(p);
  p = cJSON_Parse("{\"status\":{\"phase\":\"Succeeded\"}}");
  assert_true(ru_pod_terminating(p));
  cJSON_Delete(p);
}

/* The same over compact pod records (what the snapshot's pods are). */
static void test_kpod(void **s) {
  (void)s;
  cJSON *j = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\",\"labels\":{\"app\":\"web\","
                         "\"env\":\"prod\"}},\"status\":{\"phase\":\"Running\",\"conditions\":["
                         "{\"type\":\"Ready\",\"status\":\"True\"}]}}");
  kube_pod *p = kube_pod_slim(j);
  assert_non_null(p);
  assert_true(ru_kpod_ready(p));
  assert_false(ru_kpod_terminating(p));
  char k[64];
  assert_string_equal(ru_kpod_key(p, k, sizeof k), "shop/p");
  int m = 0;
  assert_int_equal(ru_selector_match_kpod(&m, "app=web,env in (prod,qa),!canary", p), MBCAS_OK);
  assert_true(m);
  assert_int_equal(ru_selector_match_kpod(&m, "app=db", p), MBCAS_OK);
  assert_false(m);
  assert_int_equal(ru_selector_match_kpod(&m, "env in prod", p), MBCAS_EINVAL);
  cJSON *sel = cJSON_Parse("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                           "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"qa\"]}]}");
  assert_true(ru_label_selector_match_kpod(sel, p));
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(sel, "matchLabels"), "app", cJSON_CreateString("db"));
  assert_false(ru_label_selector_match_kpod(sel, p));
  cJSON_Delete(sel);
  sel = cJSON_Parse("{}");
  assert_false(ru_label_selector_match_kpod(sel, p)); /* empty selects nothing */
  cJSON_Delete(sel);
  free(p);
  /* terminating: deletionTimestamp, or a finished phase; not ready unless Running */
  cJSON_AddStringToObject(cJSON_GetObjectItem(j, "metadata"), "deletionTimestamp", "2026-01-01T00:00:00Z");
  p = kube_pod_slim(j);
  assert_true(ru_kpod_terminating(p));
  free(p);
  cJSON_Delete(j);
  j = cJSON_Parse("{\"metadata\":{\"name\":\"q\"},\"status\":{\"phase\":\"Succeeded\",\"conditions\":["
                  "{\"type\":\"Ready\",\"status\":\"True\"}]}}");
  p = kube_pod_slim(j);
  assert_true(ru_kpod_terminating(p));
  assert_false(ru_kpod_ready(p));
  assert_string_equal(ru_kpod_key(p, k, sizeof k), "q");
  free(p);
  cJSON_Delete(j);
}

static void test_selector(void **s) {
  (void)s;
  cJSON *l = cJSON_Parse("{\"app\":\"web\",\"tier\":\"front\",\"env\":\"prod\"}");
  int m;
  assert_int_equal(ru_selector_match(&m, "app=web", l), MBCAS_OK);
  assert_true(m);
  assert_int_equal(ru_selector_match(&m, "app=web,tier==front", l), MBCAS_OK);
  assert_true(m);
  assert_int_equal(ru_selector_match(&m, "app=web,tier!=front", l), MBCAS_OK);
  assert_false(m);
  assert_int_equal(ru_selector_match(&m, "app=db", l), MBCAS_OK);
  assert_false(m);
  assert_int_equal(ru_selector_match(&m, "env in (prod, staging)", l), MBCAS_OK);
  assert_true(m);
  assert_int_equal(ru_selector_match(&m, "env notin (prod)", l), MBCAS_OK);
  assert_false(m);
  assert_int_equal(ru_selector_match(&m, "app,!canary", l), MBCAS_OK);
  assert_true(m);
  assert_int_equal(ru_selector_match(&m, "!app", l), MBCAS_OK);
  assert_false(m);
  assert_int_equal(ru_selector_match(&m, "missing!=x", l), MBCAS_OK);
  assert_true(m);
  assert_int_equal(ru_selector_match(&m, "", l), MBCAS_OK);
  assert_false(m); /* empty selector selects nothing */
  assert_int_equal(ru_selector_match(&m, NULL, l), MBCAS_OK);
  assert_false(m);
  assert_int_equal(ru_selector_match(&m, "env in prod", l), MBCAS_EINVAL);
  assert_int_equal(ru_selector_match(&m, "env in (prod", l), MBCAS_EINVAL);
  assert_int_equal(ru_selector_match(&m, "=x", l), MBCAS_EINVAL);
  cJSON *ls = cJSON_Parse("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                          "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"qa\"]},"
                          "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},"
                          "{\"key\":\"tier\",\"operator\":\"Exists\"},"
                          "{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"b\"]}]}");
  assert_true(ru_label_selector_match(ls, l));
  cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(ls, "matchExpressions"), 0), "operator",
                            cJSON_CreateString("NotIn"));
  assert_false(ru_label_selector_match(ls, l));
  cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(ls, "matchExpressions"), 0), "operator",
                            cJSON_CreateString("Bogus"));
  assert_false(ru_label_selector_match(ls, l));
  cJSON_Delete(ls);
  ls = cJSON_Parse("{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Exists\"},"
                   "{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}");
  assert_false(ru_label_selector_match(ls, l));
  cJSON_Delete(ls);
  ls = cJSON_Parse("{}");
  assert_false(ru_label_selector_match(ls, l)); /* empty selects nothing */
  assert_false(ru_label_selector_match(NULL, l));
  cJSON_Delete(ls);
  cJSON *ml = cJSON_Parse("{\"app\":\"web\"}");
  assert_true(ru_labels_match(ml, l));
  cJSON_ReplaceItemInObject(ml, "app", cJSON_CreateString("db"));
  assert_false(ru_labels_match(ml, l));
  assert_true(ru_labels_match(NULL, l));
  cJSON_Delete(ml);
  cJSON_Delete(l);
}

static void test_map(void **s) {
  (void)s;
  ru_map *m = ru_map_new(sizeof(int));
  assert_non_null(m);
  int created = 0;
  for (int i = 0; i < 1000; i++) {
    char k[32];
    snprintf(k, sizeof k, "ns/pod-%d", i);
    int *v = ru_map_upsert(m, k, &created);
    assert_non_null(v);
    assert_true(created);
    *v = i;
  }
  assert_int_equal(ru_map_len(m), 1000);
  int *v = ru_map_upsert(m, "ns/pod-7", &created);
  assert_false(created);
  assert_int_equal(*v, 7);
  assert_int_equal(*(int *)ru_map_get(m, "ns/pod-999"), 999);
  assert_null(ru_map_get(m, "nope"));
  assert_true(ru_map_remove(m, "ns/pod-7"));
  assert_false(ru_map_remove(m, "ns/pod-7"));
  assert_null(ru_map_get(m, "ns/pod-7"));
  assert_int_equal(ru_map_len(m), 999);
  /* first sweep clears the creation marks; touched entries survive the next */
  assert_int_equal(ru_map_sweep(m), 0);
  ru_map_touch(m, "ns/pod-1");
  ru_map_touch(m, "ns/pod-2");
  ru_map_touch(m, "absent");
  assert_int_equal(ru_map_sweep(m), 997);
  assert_int_equal(ru_map_len(m), 2);
  assert_non_null(ru_map_get(m, "ns/pod-1"));
  /* tombstones are reused and do not break lookups */
  for (int i = 0; i < 100; i++) {
    char k[32];
    snprintf(k, sizeof k, "x-%d", i);
    assert_non_null(ru_map_upsert(m, k, NULL));
    assert_true(ru_map_remove(m, k));
  }
  assert_int_equal(ru_map_len(m), 2);
  assert_non_null(ru_map_get(m, "ns/pod-2"));
  ru_map_free(m);
  ru_map_free(NULL);
}

/* A value that owns memory: the map's free_value releases it on remove, sweep and free
 * (LeakSanitizer/valgrind would report the buffers otherwise). */
typedef struct owning { char *buf; } owning;
static int freed;
static void free_owning(void *v) {
  free(((owning *)v)->buf);
  freed++;
}

static void test_map_free_value(void **s) {
  (void)s;
  ru_map *m = ru_map_new(sizeof(owning));
  assert_non_null(m);
  ru_map_set_free(m, free_owning);
  freed = 0;
  for (int i = 0; i < 10; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    owning *o = ru_map_upsert(m, k, NULL);
    assert_non_null(o);
    o->buf = malloc(64);
    assert_non_null(o->buf);
  }
  assert_true(ru_map_remove(m, "k0"));
  assert_int_equal(freed, 1);
  assert_int_equal(ru_map_sweep(m), 0); /* clears the creation marks */
  ru_map_touch(m, "k1");
  assert_int_equal(ru_map_sweep(m), 8);
  assert_int_equal(freed, 9);
  ru_map_free(m);
  assert_int_equal(freed, 10);
  ru_map_set_free(NULL, free_owning);
}

static int count_to_2(void *ud, const cJSON *item) {
  (void)item;
  return ++*(int *)ud >= 2;
}

static void test_list_each(void **s) {
  (void)s;
  cJSON *l = cJSON_Parse("{\"items\":[{},{},{}]}");
  int n = 0;
  rec_list_each(l, count_to_2, &n);
  assert_int_equal(n, 2); /* stopped by fn */
  n = 0;
  rec_list_each(NULL, count_to_2, &n);
  rec_list_each(l, NULL, &n);
  assert_int_equal(n, 0);
  cJSON_Delete(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paths), cmocka_unit_test(test_pod_state), cmocka_unit_test(test_kpod),
      cmocka_unit_test(test_selector), cmocka_unit_test(test_map),
      cmocka_unit_test(test_map_free_value), cmocka_unit_test(test_list_each),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
