/* test_discovery.c - discovery.h through the REST transport seam. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "discovery.h"

static int calls;
static int with_resize = 1;

static mbcas_rc fake(void *ud, const kube_http_req *rq, kube_http_resp *resp) {
  calls++;
  const char *body = NULL;
  if (!strcmp(rq->path, "/api/v1"))
    body = with_resize
               ? "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
                 "{\"name\":\"pods\",\"singularName\":\"pod\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"list\",\"watch\",\"patch\"],\"shortNames\":[\"po\"]},"
                 "{\"name\":\"pods/resize\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"patch\",\"update\"]},"
                 "{\"name\":\"pods/status\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\"]},"
                 "{\"name\":\"nodes\",\"singularName\":\"node\",\"namespaced\":false,\"kind\":\"Node\",\"verbs\":[\"list\"]}]}"
               : "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
                 "{\"name\":\"pods\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\"]}]}";
  else if (!strcmp(rq->path, "/apis"))
    body = "{\"kind\":\"APIGroupList\",\"groups\":[{\"name\":\"apps\",\"versions\":[{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}],"
           "\"preferredVersion\":{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}},"
           "{\"name\":\"mbcas.io\",\"versions\":[{\"version\":\"v1alpha1\"}]}]}";
  else if (!strcmp(rq->path, "/apis/apps/v1"))
    body = "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":\"deployments\",\"singularName\":\"deployment\","
           "\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],\"shortNames\":[\"deploy\"]},"
           "{\"name\":\"deployments/scale\",\"namespaced\":true,\"kind\":\"Scale\",\"group\":\"autoscaling\",\"verbs\":[\"get\",\"patch\",\"update\"]}]}";
  else if (!strcmp(rq->path, "/apis/mbcas.io/v1alpha1"))
    body = "not json";
  resp->code = body ? 200 : 404;
  if (!body) body = "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}";
  resp->body = strdup(body);
  resp->len = strlen(body);
  return MBCAS_OK;
}

static kube_config *cfg;
static kube_client *cl;

static int setup(void **state) {
  const char *kc = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n";
  if (kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL)) return -1;
  kube_client_opts o = {.qps = -1, .max_retries = -1};
  if (kube_client_new(&cl, cfg, &o, NULL)) return -1;
  kube_client_set_transport(cl, fake, NULL);
  return 0;
}
static int teardown(void **state) {
  kube_client_free(cl);
  kube_config_free(cfg);
  return 0;
}

static void test_resolve_core(void **state) {
  kube_discovery *d = NULL;
  assert_int_equal(kube_discovery_new(&d, cl), MBCAS_OK);
  kube_resource_info ri;
  calls = 0;
  assert_int_equal(kube_discovery_resolve(d, &ri, "", NULL, "pods", NULL), MBCAS_OK);
  assert_string_equal(ri.resource, "pods");
  assert_string_equal(ri.kind, "Pod");
  assert_string_equal(ri.version, "v1");
  assert_int_equal(ri.namespaced, 1);
  assert_int_equal(ri.verbs, KUBE_VERB_GET | KUBE_VERB_LIST | KUBE_VERB_WATCH | KUBE_VERB_PATCH);
  assert_int_equal(kube_discovery_resolve(d, &ri, NULL, "v1", "Pod", NULL), MBCAS_OK);
  assert_string_equal(ri.resource, "pods");
  assert_int_equal(kube_discovery_resolve(d, &ri, NULL, "v1", "po", NULL), MBCAS_OK);
  assert_int_equal(kube_discovery_resolve(d, &ri, NULL, "v1", "pod", NULL), MBCAS_OK);
  assert_int_equal(kube_discovery_resolve(d, &ri, NULL, "v1", "node", NULL), MBCAS_OK);
  assert_int_equal(ri.namespaced, 0);
  assert_int_equal(calls, 1); /* cached */
  mbcas_err e;
  assert_int_equal(kube_discovery_resolve(d, &ri, NULL, "v1", "widgets", &e), MBCAS_ENOTFOUND);
  assert_int_equal(kube_discovery_resolve(d, &ri, NULL, "v1", "", &e), MBCAS_EINVAL);
  kube_ref ref;
  kube_discovery_ref(&ri, &ref, "ns", "n1");
  assert_null(ref.ns); /* nodes are cluster-scoped */
  assert_string_equal(ref.name, "n1");
  kube_discovery_free(d);
  kube_discovery_free(NULL);
}

static void test_subresources(void **state) {
  kube_discovery *d = NULL;
  assert_int_equal(kube_discovery_new(&d, cl), MBCAS_OK);
  kube_resource_info ri;
  with_resize = 1;
  assert_int_equal(kube_discovery_subresource(d, &ri, NULL, NULL, "pods", "resize", NULL), MBCAS_OK);
  assert_string_equal(ri.resource, "pods");
  assert_string_equal(ri.subresource, "resize");
  assert_true(ri.verbs & KUBE_VERB_PATCH);
  kube_ref ref;
  kube_discovery_ref(&ri, &ref, "default", "web-1");
  char *p = kube_ref_path(&ref, NULL);
  assert_string_equal(p, "/api/v1/namespaces/default/pods/web-1/resize");
  free(p);
  assert_int_equal(kube_discovery_subresource(d, &ri, "apps", NULL, "Deployment", "scale", NULL), MBCAS_OK);
  assert_string_equal(ri.resource, "deployments");
  assert_string_equal(ri.subresource, "scale");
  assert_string_equal(ri.group, "apps");
  assert_int_equal(kube_discovery_subresource(d, &ri, "apps", NULL, "deployments", "status", NULL), MBCAS_EUNSUPPORTED);
  /* an older server without pods/resize */
  with_resize = 0;
  kube_discovery_invalidate(d);
  mbcas_err e;
  assert_int_equal(kube_discovery_subresource(d, &ri, NULL, NULL, "pods", "resize", &e), MBCAS_EUNSUPPORTED);
  assert_string_equal(e.field, "subresource");
  with_resize = 1;
  assert_int_equal(kube_discovery_subresource(d, &ri, NULL, NULL, "pods", NULL, &e), MBCAS_EINVAL);
  kube_discovery_free(d);
}

static void test_groups(void **state) {
  kube_discovery *d = NULL;
  assert_int_equal(kube_discovery_new(&d, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_discovery_new(&d, cl), MBCAS_OK);
  char v[32];
  assert_int_equal(kube_discovery_preferred(d, "apps", v, sizeof v, NULL), MBCAS_OK);
  assert_string_equal(v, "v1");
  assert_int_equal(kube_discovery_preferred(d, "", v, sizeof v, NULL), MBCAS_OK);
  assert_string_equal(v, "v1");
  assert_int_equal(kube_discovery_preferred(d, "mbcas.io", v, sizeof v, NULL), MBCAS_OK);
  assert_string_equal(v, "v1alpha1");
  assert_int_equal(kube_discovery_preferred(d, "nope.io", v, sizeof v, NULL), MBCAS_ENOTFOUND);
  kube_resource_info ri;
  assert_int_equal(kube_discovery_resolve(d, &ri, "mbcas.io", NULL, "scalingmarkets", NULL), MBCAS_EINVAL);
  assert_int_equal(kube_discovery_resolve(d, &ri, "apps", "v2", "deployments", NULL), MBCAS_ENOTFOUND);
  kube_discovery_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolve_core),
      cmocka_unit_test(test_subresources),
      cmocka_unit_test(test_groups),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
