/* test_crds_structural.c - every CRD in crds/ is structural (a type at every level,
 * int-or-string the only exception), every property is described, names/scope/
 * subresources/printer columns are as docs/crd-reference.md says, and every printer
 * column's jsonPath resolves in the schema. Reads the files with libyaml (yamljson.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "yamljson.h"

static char src_dir[1024];

static cJSON *load_crd(const char *file) {
  char path[1200], eb[256];
  snprintf(path, sizeof path, "%s/crds/%s", src_dir, file);
  cJSON *docs = yamljson_load_file(path, eb, sizeof eb);
  if (!docs) fail_msg("%s: %s", path, eb);
  assert_int_equal(cJSON_GetArraySize(docs), 1);
  cJSON *crd = cJSON_DetachItemFromArray(docs, 0);
  cJSON_Delete(docs);
  return crd;
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int problems;

/* Walk a schema node; path like ".spec.cpu.min". */
static void walk(const cJSON *s, const char *path, int need_desc) {
  if (!cJSON_IsObject(s)) {
    printf("%s: schema is not an object\n", path);
    problems++;
    return;
  }
  const char *type = str(s, "type");
  const cJSON *ios = cJSON_GetObjectItemCaseSensitive(s, "x-kubernetes-int-or-string");
  const cJSON *pres = cJSON_GetObjectItemCaseSensitive(s, "x-kubernetes-preserve-unknown-fields");
  if (!type && !cJSON_IsTrue(ios) && !cJSON_IsTrue(pres)) {
    printf("%s: no type\n", path);
    problems++;
  }
  if (cJSON_IsTrue(ios)) {
    /* structural rule: anyOf may only list the two types, no nested properties */
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
    if (!cJSON_IsArray(any) || cJSON_GetArraySize(any) != 2 || type) {
      printf("%s: int-or-string must be anyOf [integer, string] without type\n", path);
      problems++;
    }
  } else if (cJSON_GetObjectItemCaseSensitive(s, "anyOf") || cJSON_GetObjectItemCaseSensitive(s, "oneOf")) {
    printf("%s: anyOf/oneOf outside int-or-string is not structural here\n", path);
    problems++;
  }
  if (need_desc && !str(s, "description")) {
    printf("%s: no description\n", path);
    problems++;
  }
  const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "default");
  if (def && type) {
    int ok = (!strcmp(type, "string") && cJSON_IsString(def)) ||
             ((!strcmp(type, "integer") || !strcmp(type, "number")) && cJSON_IsNumber(def)) ||
             (!strcmp(type, "boolean") && cJSON_IsBool(def)) ||
             (!strcmp(type, "object") && cJSON_IsObject(def)) ||
             (!strcmp(type, "array") && cJSON_IsArray(def));
    if (!ok) {
      printf("%s: default does not match type %s\n", path, type);
      problems++;
    }
  }
  const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
  if (props) {
    if (type && strcmp(type, "object")) {
      printf("%s: properties on a non-object\n", path);
      problems++;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
      char sub[512];
      snprintf(sub, sizeof sub, "%s.%s", path, p->string);
      int desc = strcmp(p->string, "metadata") != 0;
      walk(p, sub, desc);
    }
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    const cJSON *r;
    cJSON_ArrayForEach(r, req) {
      if (!cJSON_GetObjectItemCaseSensitive(props, r->valuestring)) {
        printf("%s: required %s is not a property\n", path, r->valuestring);
        problems++;
      }
    }
  }
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
  if (type && !strcmp(type, "array")) {
    if (!items) {
      printf("%s: array without items\n", path);
      problems++;
    } else {
      char sub[512];
      snprintf(sub, sizeof sub, "%s[*]", path);
      walk(items, sub, 0);
    }
    /* list-map keys must be required or defaulted in the item schema */
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(s, "x-kubernetes-list-type");
    if (cJSON_IsString(lt) && !strcmp(lt->valuestring, "map")) {
      const cJSON *keys = cJSON_GetObjectItemCaseSensitive(s, "x-kubernetes-list-map-keys"), *k;
      const cJSON *ireq = items ? cJSON_GetObjectItemCaseSensitive(items, "required") : NULL;
      cJSON_ArrayForEach(k, keys) {
        int found = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, ireq) if (!strcmp(r->valuestring, k->valuestring)) found = 1;
        if (!found) {
          printf("%s: list-map key %s not required\n", path, k->valuestring);
          problems++;
        }
      }
    }
  }
  const cJSON *ap = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
  if (cJSON_IsObject(ap)) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s{*}", path);
    walk(ap, sub, 0);
  }
  const cJSON *rules = cJSON_GetObjectItemCaseSensitive(s, "x-kubernetes-validations"), *r;
  cJSON_ArrayForEach(r, rules) {
    if (!str(r, "rule") || !str(r, "message")) {
      printf("%s: CEL rule without rule or message\n", path);
      problems++;
    }
    /* the API server refuses a fieldPath that does not name a field of this schema */
    const char *fp = str(r, "fieldPath");
    if (fp) {
      const cJSON *props2 = cJSON_GetObjectItemCaseSensitive(s, "properties");
      if (fp[0] != '.' || strchr(fp + 1, '.') || !cJSON_GetObjectItemCaseSensitive(props2, fp + 1)) {
        printf("%s: CEL fieldPath %s does not name a direct field\n", path, fp);
        problems++;
      }
    }
  }
}

/* Resolve ".spec.marketRef.name" or ".status.conditions[?(@.type==\"Ready\")].status"
 * or ".spec.signals[*].name" in the schema. */
static int resolves(const cJSON *schema, const char *jp) {
  if (!strcmp(jp, ".metadata.creationTimestamp")) return 1;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", jp);
  const cJSON *s = schema;
  char *save = NULL;
  for (char *seg = strtok_r(buf + 1, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
    char *br = strchr(seg, '[');
    int is_list = br != NULL;
    if (br) {
      *br = '\0';
      /* skip a filter's inner dots: "[?(@.type==...)]" was split by strtok; rejoin */
      if (!strchr(br + 1, ']')) {
        char *rest = strtok_r(NULL, ".", &save); /* type=="Ready")] */
        if (!rest || !strchr(rest, ']')) return 0;
      }
    }
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    s = cJSON_GetObjectItemCaseSensitive(props, seg);
    if (!s) return 0;
    if (is_list) {
      s = cJSON_GetObjectItemCaseSensitive(s, "items");
      if (!s) return 0;
    }
  }
  return 1;
}

static void check_crd(const char *file, const char *kind, const char *plural, const char *scope,
                      const char *shortname, int n_columns_min) {
  cJSON *crd = load_crd(file);
  assert_string_equal(str(crd, "apiVersion"), "apiextensions.k8s.io/v1");
  assert_string_equal(str(crd, "kind"), "CustomResourceDefinition");
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
  assert_string_equal(str(spec, "group"), "mbcas.io");
  assert_string_equal(str(spec, "scope"), scope);
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(spec, "names");
  assert_string_equal(str(names, "kind"), kind);
  assert_string_equal(str(names, "plural"), plural);
  char mdname[128];
  snprintf(mdname, sizeof mdname, "%s.mbcas.io", plural);
  assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(crd, "metadata"), "name"), mdname);
  assert_string_equal(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(names, "shortNames"), 0)->valuestring, shortname);
  assert_string_equal(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(names, "categories"), 0)->valuestring, "mbcas");
  const cJSON *versions = cJSON_GetObjectItemCaseSensitive(spec, "versions");
  assert_int_equal(cJSON_GetArraySize(versions), 1);
  const cJSON *v = cJSON_GetArrayItem(versions, 0);
  assert_string_equal(str(v, "name"), "v1alpha1");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "served")));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "storage")));
  const cJSON *sub = cJSON_GetObjectItemCaseSensitive(v, "subresources");
  assert_non_null(cJSON_GetObjectItemCaseSensitive(sub, "status"));
  const cJSON *schema =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "schema"), "openAPIV3Schema");
  assert_non_null(schema);
  problems = 0;
  walk(schema, kind, 1);
  const cJSON *cols = cJSON_GetObjectItemCaseSensitive(v, "additionalPrinterColumns"), *c;
  assert_true(cJSON_GetArraySize(cols) >= n_columns_min);
  cJSON_ArrayForEach(c, cols) {
    const char *jp = str(c, "jsonPath");
    if (!jp || !resolves(schema, jp)) {
      printf("%s: printer column %s: jsonPath %s does not resolve\n", kind, str(c, "name"), jp ? jp : "-");
      problems++;
    }
  }
  cJSON_Delete(crd);
  assert_int_equal(problems, 0);
}

static void test_scalingmarket(void **st) {
  (void)st;
  check_crd("mbcas.io_scalingmarkets.yaml", "ScalingMarket", "scalingmarkets", "Cluster", "sm", 6);
}
static void test_servicebudget(void **st) {
  (void)st;
  check_crd("mbcas.io_servicebudgets.yaml", "ServiceBudget", "servicebudgets", "Namespaced", "sb", 8);
}
static void test_agentpolicy(void **st) {
  (void)st;
  check_crd("mbcas.io_agentpolicies.yaml", "AgentPolicy", "agentpolicies", "Namespaced", "ap", 3);
}

/* The walker itself must catch a missing type (guards against a test that passes vacuously). */
static void test_walker_catches_missing_type(void **st) {
  (void)st;
  cJSON *s =
      cJSON_Parse("{\"type\":\"object\",\"description\":\"d\",\"properties\":{\"a\":{\"description\":\"x\"},"
                  "\"b\":{\"type\":\"string\"}}}");
  problems = 0;
  walk(s, "X", 1);
  assert_int_equal(problems, 2); /* a: no type; b: no description */
  cJSON_Delete(s);
}

static void test_yamljson_scalars(void **st) {
  (void)st;
  char path[] = "/tmp/mbcas-yamljson-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("# c\n---\na: 1\nb: \"1\"\nc: 1.5\nd: 1e3\ne: true\nf: ~\ng: 5%\nh: [x, 2]\n---\n---\nz: 0\n", f);
  fclose(f);
  char eb[128];
  cJSON *docs = yamljson_load_file(path, eb, sizeof eb);
  unlink(path);
  assert_non_null(docs);
  assert_int_equal(cJSON_GetArraySize(docs), 2);
  const cJSON *d = cJSON_GetArrayItem(docs, 0);
  assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d, "a")));
  assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "b")));
  assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d, "c")));
  assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "d"))); /* YAML 1.1: no dot, not a float */
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "e")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "f")));
  assert_string_equal(cJSON_GetObjectItem(d, "g")->valuestring, "5%");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "h")), 2);
  cJSON_Delete(docs);
  assert_null(yamljson_load_file("/nonexistent/x.yaml", eb, sizeof eb));
}

int main(void) {
  const char *s = getenv("MBCAS_SOURCE_DIR");
  snprintf(src_dir, sizeof src_dir, "%s", s ? s : ".");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walker_catches_missing_type),
      cmocka_unit_test(test_yamljson_scalars),
      cmocka_unit_test(test_scalingmarket),
      cmocka_unit_test(test_servicebudget),
      cmocka_unit_test(test_agentpolicy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
