/* test_crds_examples.c - config/samples/ parse with api/v1alpha1, and every file in
 * test/crds/invalid/ is rejected naming the field of its "# expect-field:" line. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentpolicy.h"
#include "scalingmarket.h"
#include "servicebudget.h"
#include "yamljson.h"

static char src_dir[1024];

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted *.yaml names in dir; returns count, names in out (free each and the array). */
static int list_yaml(const char *dir, char ***out) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  char **names = NULL;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) {
      names = realloc(names, (size_t)(n + 1) * sizeof *names);
      names[n++] = strdup(e->d_name);
    }
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static const char *kind_of(const cJSON *o) {
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
  return cJSON_IsString(k) ? k->valuestring : "";
}

/* Parse one object of our group with the right parser. Returns rc; *known = 0 if not ours. */
static mbcas_rc parse_any(const cJSON *o, mbcas_err *err, int *known) {
  const char *k = kind_of(o);
  *known = 1;
  mbcas_rc rc;
  if (!strcmp(k, "ScalingMarket")) {
    scalingmarket *x = NULL;
    rc = sm_parse(&x, o, err);
    sm_free(x);
  } else if (!strcmp(k, "ServiceBudget")) {
    servicebudget *x = NULL;
    rc = sb_parse(&x, o, err);
    sb_free(x);
  } else if (!strcmp(k, "AgentPolicy")) {
    agentpolicy *x = NULL;
    rc = ap_parse(&x, o, err);
    ap_free(x);
  } else {
    *known = 0;
    rc = MBCAS_OK;
  }
  return rc;
}

static void test_samples_parse(void **st) {
  (void)st;
  char dir[1200];
  snprintf(dir, sizeof dir, "%s/config/samples", src_dir);
  char **names;
  int n = list_yaml(dir, &names);
  int objects = 0, kinds[3] = {0, 0, 0};
  for (int i = 0; i < n; i++) {
    char path[1400], eb[256];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    cJSON *docs = yamljson_load_file(path, eb, sizeof eb);
    if (!docs) fail_msg("%s: %s", path, eb);
    const cJSON *o;
    cJSON_ArrayForEach(o, docs) {
      mbcas_err err;
      mbcas_err_clear(&err);
      int known;
      mbcas_rc rc = parse_any(o, &err, &known);
      if (rc != MBCAS_OK) {
        char b[600];
        fail_msg("%s: %s: %s", names[i], kind_of(o), mbcas_err_format(&err, b, sizeof b));
      }
      if (known) {
        objects++;
        const char *k = kind_of(o);
        kinds[!strcmp(k, "ScalingMarket") ? 0 : !strcmp(k, "ServiceBudget") ? 1 : 2]++;
      }
    }
    cJSON_Delete(docs);
    free(names[i]);
  }
  free(names);
  assert_int_equal(kinds[0], 1); /* one market */
  assert_int_equal(kinds[1], 3); /* frontend, backend, database */
  assert_int_equal(kinds[2], 3); /* cpu, latency, queue depth */
  assert_int_equal(objects, 7);
}

/* The samples mean what the reference says: spot-check parsed values. */
static void test_samples_values(void **st) {
  (void)st;
  char path[1200], eb[256];
  snprintf(path, sizeof path, "%s/config/samples/mbcas_v1alpha1_servicebudgets.yaml", src_dir);
  cJSON *docs = yamljson_load_file(path, eb, sizeof eb);
  assert_non_null(docs);
  servicebudget *db = NULL;
  mbcas_err err;
  assert_int_equal(sb_parse(&db, cJSON_GetArrayItem(docs, 2), &err), MBCAS_OK);
  assert_string_equal(db->meta.name, "database");
  assert_string_equal(db->meta.namespace_, "shop");
  assert_int_equal(db->spec.budget_milli, 200000);
  assert_int_equal(db->spec.cpu_min_milli, 500);
  assert_int_equal(db->spec.cpu_max_milli, 2000);
  assert_false(db->spec.has_replicas);
  assert_string_equal(db->spec.target_kind, "Deployment");
  sb_free(db);
  cJSON_Delete(docs);

  snprintf(path, sizeof path, "%s/config/samples/mbcas_v1alpha1_scalingmarket.yaml", src_dir);
  docs = yamljson_load_file(path, eb, sizeof eb);
  scalingmarket *sm = NULL;
  assert_int_equal(sm_parse(&sm, cJSON_GetArrayItem(docs, 0), &err), MBCAS_OK);
  assert_int_equal(sm->spec.reserve_milli, 200);
  assert_int_equal(sm->spec.guardrails.max_step_cpu_milli, 1000);
  assert_true(sm->spec.guardrails.dead_band_is_percent);
  assert_int_equal(sm->spec.n_ns_caps, 1);
  assert_int_equal(sm->spec.ns_caps[0].max_budget_milli, 1000000);
  /* the selector matches a plain worker and not a control-plane node */
  cJSON *worker = cJSON_Parse("{\"kubernetes.io/os\":\"linux\"}");
  cJSON *cp = cJSON_Parse("{\"node-role.kubernetes.io/control-plane\":\"\"}");
  assert_true(sel_matches(&sm->spec.node_selector, worker));
  assert_false(sel_matches(&sm->spec.node_selector, cp));
  cJSON_Delete(worker);
  cJSON_Delete(cp);
  sm_free(sm);
  cJSON_Delete(docs);

  snprintf(path, sizeof path, "%s/config/samples/mbcas_v1alpha1_agentpolicies.yaml", src_dir);
  docs = yamljson_load_file(path, eb, sizeof eb);
  agentpolicy *ap = NULL;
  assert_int_equal(ap_parse(&ap, cJSON_GetArrayItem(docs, 1), &err), MBCAS_OK);
  assert_string_equal(ap->meta.name, "backend-queue");
  assert_int_equal(ap->spec.combine, AP_COMBINE_WEIGHTED_SUM);
  assert_int_equal(ap->spec.signals[0].source, AP_SOURCE_PROMETHEUS);
  assert_int_equal(ap->spec.signals[1].relative_to, AP_RELATIVE_REQUEST);
  ap_free(ap);
  cJSON_Delete(docs);
}

/* "# expect-field: X" from the file's comment header. */
static int expected_field(const char *path, char *field, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "# expect-field: ", 16)) {
      snprintf(field, len, "%s", line + 16);
      field[strcspn(field, "\r\n")] = '\0';
      found = 1;
      break;
    }
  }
  fclose(f);
  return found;
}

static void test_invalid_rejected(void **st) {
  (void)st;
  char dir[1200];
  snprintf(dir, sizeof dir, "%s/test/crds/invalid", src_dir);
  char **names;
  int n = list_yaml(dir, &names);
  assert_true(n >= 20);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    char path[1400], eb[256], want[512];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    assert_true(expected_field(path, want, sizeof want));
    cJSON *docs = yamljson_load_file(path, eb, sizeof eb);
    if (!docs) fail_msg("%s: %s", path, eb);
    assert_int_equal(cJSON_GetArraySize(docs), 1);
    mbcas_err err;
    mbcas_err_clear(&err);
    int known;
    mbcas_rc rc = parse_any(cJSON_GetArrayItem(docs, 0), &err, &known);
    assert_true(known);
    if (rc != MBCAS_EINVAL || strcmp(err.field, want) != 0) {
      char b[600];
      printf("%s: want field %s, got rc=%d %s\n", names[i], want, rc, mbcas_err_format(&err, b, sizeof b));
      bad++;
    }
    cJSON_Delete(docs);
    free(names[i]);
  }
  free(names);
  assert_int_equal(bad, 0);
}

/* Replace every value of every sample, one at a time, with values of other types:
 * the parser must answer OK or EINVAL naming a field, never crash or leak. */
static const char *const replacements[] = {"null",  "true",   "-1", "0",  "1e300", "\"\"",
                                           "\"x\"", "\"-1\"", "[]", "{}", "[{}]",  "2.5"};
static int mutations, rejected;

static void test_mutated_samples(void **st) {
  (void)st;
  char path[1200], eb[256];
  static const char *files[] = {"mbcas_v1alpha1_scalingmarket.yaml", "mbcas_v1alpha1_servicebudgets.yaml",
                                "mbcas_v1alpha1_agentpolicies.yaml"};
  mutations = rejected = 0;
  for (size_t f = 0; f < 3; f++) {
    snprintf(path, sizeof path, "%s/config/samples/%s", src_dir, files[f]);
    cJSON *docs = yamljson_load_file(path, eb, sizeof eb);
    assert_non_null(docs);
    cJSON *doc;
    cJSON_ArrayForEach(doc, docs) {
      char *text = cJSON_PrintUnformatted(doc);
      /* count the leaves by walking a scratch copy once per replacement */
      for (size_t r = 0; r < sizeof replacements / sizeof replacements[0]; r++) {
        for (int target = 0;; target++) {
          cJSON *o = cJSON_Parse(text);
          int seen = 0, done = 0;
          /* depth-first search for the target-th value */
          cJSON *stack[64];
          int sp = 0;
          stack[sp++] = o;
          while (sp > 0 && !done) {
            cJSON *n = stack[--sp];
            for (cJSON *c = n->child; c; c = c->next) {
              if (seen++ == target) {
                if (cJSON_IsObject(n))
                  cJSON_ReplaceItemInObjectCaseSensitive(n, c->string, cJSON_Parse(replacements[r]));
                else
                  cJSON_ReplaceItemViaPointer(n, c, cJSON_Parse(replacements[r]));
                done = 1;
                break;
              }
              if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && sp < 64) stack[sp++] = c;
            }
          }
          if (!done) {
            cJSON_Delete(o);
            break;
          }
          mutations++;
          mbcas_err err;
          mbcas_err_clear(&err);
          int known;
          mbcas_rc rc = parse_any(o, &err, &known);
          if (rc != MBCAS_OK) {
            assert_int_equal(rc, MBCAS_EINVAL);
            rejected++;
          }
          cJSON_Delete(o);
        }
      }
      free(text);
    }
    cJSON_Delete(docs);
  }
  printf("mutations: %d, rejected: %d\n", mutations, rejected);
  assert_true(mutations > 1000);
  assert_true(rejected > mutations / 3);
}

int main(void) {
  const char *s = getenv("MBCAS_SOURCE_DIR");
  snprintf(src_dir, sizeof src_dir, "%s", s ? s : ".");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_samples_parse),
      cmocka_unit_test(test_samples_values),
      cmocka_unit_test(test_invalid_rejected),
      cmocka_unit_test(test_mutated_samples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
