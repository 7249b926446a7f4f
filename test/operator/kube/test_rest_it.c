/* test_rest_it.c - the REST client, config and discovery against the API-server
 * emulator: token and client-certificate auth, untrusted CA, CRUD, conflicts,
 * pagination, retries on 429/503, token-file rotation, discovery of pods/resize. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver_fixture.h"
#include "discovery.h"
#include "rest.h"

static apiserver_fixture FX;

typedef struct hookrec {
  int n;
  int codes[64];
} hookrec;

static void hook(void *ud, const char *verb, int code, double secs) {
  hookrec *h = ud;
  if (h->n < 64) h->codes[h->n] = code;
  h->n++;
}

static int group_setup(void **state) {
  if (fixture_available() != 0) {
    fprintf(stderr, "emulator missing\n");
    return -1;
  }
  return fixture_start(&FX, NULL, NULL, NULL);
}
static int group_teardown(void **state) {
  fixture_stop(&FX);
  return 0;
}

static kube_client *client_for(kube_config **cfg, const char *context, hookrec *h) {
  mbcas_err e;
  assert_int_equal(kube_config_load_files(cfg, FX.kubeconfig, context, &e), MBCAS_OK);
  kube_client_opts o = {.qps = 200, .burst = 100, .retry_initial_s = 0.01, .retry_max_s = 2,
                        .hook = h ? hook : NULL, .hook_ud = h};
  kube_client *c = NULL;
  assert_int_equal(kube_client_new(&c, *cfg, &o, &e), MBCAS_OK);
  return c;
}

static const kube_ref NS_DEFAULT = {NULL, "v1", "namespaces", NULL, "default", NULL};

static void test_token_auth(void **state) {
  kube_config *cfg;
  kube_client *c = client_for(&cfg, NULL, NULL);
  cJSON *o = NULL;
  mbcas_err e;
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, NULL, &e), MBCAS_OK);
  assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "Namespace");
  cJSON_Delete(o);
  /* connection reuse: many requests over the pooled handles */
  for (int i = 0; i < 20; i++) {
    assert_int_equal(kube_get(c, &o, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
    cJSON_Delete(o);
  }
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_client_cert_auth(void **state) {
  kube_config *cfg;
  kube_client *c = client_for(&cfg, "cert", NULL);
  assert_null(cfg->token);
  cJSON *o = NULL;
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  kube_client_free(c);
  kube_config_free(cfg);
  /* the same through files instead of -data */
  char kc[2048];
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', certificate-authority: '%s'}\n"
           "users:\n- name: u\n  user: {client-certificate: '%s', client-key: '%s'}\n",
           FX.server, FX.ca_crt, FX.client_crt, FX.client_key);
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_no_credentials_is_401(void **state) {
  char kc[2048];
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', certificate-authority: '%s'}\n",
           FX.server, FX.ca_crt);
  kube_config *cfg;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c;
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  cJSON *o = NULL;
  kube_status st;
  int rc = kube_get(c, &o, &NS_DEFAULT, &st, NULL);
  assert_true(rc == MBCAS_EUNAUTHORIZED || rc == MBCAS_EFORBIDDEN);
  assert_true(st.code == 401 || st.code == 403);
  kube_client_free(c);
  kube_config_free(cfg);
}

static mbcas_rc get_with_tls_name(const char *tls_name) {
  char kc[2048];
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', certificate-authority: '%s', tls-server-name: '%s'}\n"
           "users:\n- name: u\n  user: {token: '%s'}\n",
           FX.server, FX.ca_crt, tls_name, FX.admin_token);
  kube_config *cfg;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c;
  kube_client_opts o = {.max_retries = -1};
  assert_int_equal(kube_client_new(&c, cfg, &o, NULL), MBCAS_OK);
  cJSON *obj = NULL;
  mbcas_rc rc = kube_get(c, &obj, &NS_DEFAULT, NULL, NULL);
  cJSON_Delete(obj);
  kube_client_free(c);
  kube_config_free(cfg);
  return rc;
}

static void test_tls_server_name(void **state) {
  /* the serving certificate names 127.0.0.1 and localhost: connecting to
   * 127.0.0.1 while verifying "localhost" works, another name does not */
  assert_int_equal(get_with_tls_name("localhost"), MBCAS_OK);
  assert_int_equal(get_with_tls_name("kubernetes.default.svc"), MBCAS_ETLS);
}

static void test_service_account_token(void **state) {
  /* the token the emulator minted for default/default authenticates (RBAC may
   * still forbid the read: 403, never 401) */
  char tokpath[400], kc[2048];
  fixture_sa_token_path(&FX, "default", "default", tokpath, sizeof tokpath);
  assert_int_equal(access(tokpath, R_OK), 0);
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', certificate-authority: '%s'}\n"
           "users:\n- name: u\n  user: {tokenFile: '%s'}\n",
           FX.server, FX.ca_crt, tokpath);
  kube_config *cfg;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c;
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  cJSON *o = NULL;
  kube_status st;
  int rc = kube_get(c, &o, &NS_DEFAULT, &st, NULL);
  assert_true(rc == MBCAS_OK || rc == MBCAS_EFORBIDDEN);
  cJSON_Delete(o);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_untrusted_ca(void **state) {
  /* the client certificate is not a CA: verification must fail, not retry */
  char kc[2048];
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', certificate-authority: '%s'}\n"
           "users:\n- name: u\n  user: {token: '%s'}\n",
           FX.server, FX.client_crt, FX.admin_token);
  kube_config *cfg;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  hookrec h = {0};
  kube_client_opts o = {.hook = hook, .hook_ud = &h};
  kube_client *c;
  assert_int_equal(kube_client_new(&c, cfg, &o, NULL), MBCAS_OK);
  cJSON *obj = NULL;
  mbcas_err e;
  assert_int_equal(kube_get(c, &obj, &NS_DEFAULT, NULL, &e), MBCAS_ETLS);
  assert_int_equal(h.n, 1);
  kube_client_free(c);
  kube_config_free(cfg);
  /* insecure-skip-tls-verify accepts it */
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', insecure-skip-tls-verify: true}\n"
           "users:\n- name: u\n  user: {token: '%s'}\n",
           FX.server, FX.admin_token);
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_get(c, &obj, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(obj);
  kube_client_free(c);
  kube_config_free(cfg);
}

static cJSON *configmap(const char *name, const char *val) {
  char b[512];
  snprintf(b, sizeof b, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
                        "\"labels\":{\"suite\":\"rest-it\"}},\"data\":{\"k\":\"%s\"}}", name, val);
  return cJSON_Parse(b);
}

static void test_crud_and_conflict(void **state) {
  kube_config *cfg;
  kube_client *c = client_for(&cfg, NULL, NULL);
  kube_ref coll = {"", "v1", "configmaps", "default", NULL, NULL};
  kube_ref one = {"", "v1", "configmaps", "default", "crud-1", NULL};
  cJSON *obj = configmap("crud-1", "a"), *out = NULL;
  kube_status st;
  assert_int_equal(kube_create(c, &out, &coll, obj, NULL, &st, NULL), MBCAS_OK);
  const char *rv = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "metadata"), "resourceVersion")->valuestring;
  char rv1[64];
  snprintf(rv1, sizeof rv1, "%s", rv);
  cJSON_Delete(out);
  assert_int_equal(kube_create(c, NULL, &coll, obj, NULL, &st, NULL), MBCAS_ECONFLICT);
  assert_string_equal(st.reason, "AlreadyExists");
  cJSON_Delete(obj);
  assert_int_equal(kube_patch(c, &out, &one, KUBE_PATCH_MERGE, "{\"data\":{\"k\":\"b\"}}", NULL, &st, NULL), MBCAS_OK);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "data"), "k")->valuestring, "b");
  cJSON_Delete(out);
  assert_int_equal(kube_patch(c, NULL, &one, KUBE_PATCH_JSON, "[{\"op\":\"add\",\"path\":\"/data/j\",\"value\":\"x\"}]", NULL, &st, NULL), MBCAS_OK);
  assert_int_equal(kube_patch(c, NULL, &one, KUBE_PATCH_STRATEGIC, "{\"data\":{\"s\":\"y\"}}", NULL, &st, NULL), MBCAS_OK);
  /* update with the stale resourceVersion: 409, not retried */
  obj = configmap("crud-1", "c");
  cJSON_AddStringToObject(cJSON_GetObjectItem(obj, "metadata"), "resourceVersion", rv1);
  assert_int_equal(kube_update(c, NULL, &one, obj, NULL, &st, NULL), MBCAS_ECONFLICT);
  assert_int_equal(st.code, 409);
  assert_string_equal(st.reason, "Conflict");
  cJSON_Delete(obj);
  assert_int_equal(kube_get(c, &out, &one, NULL, NULL), MBCAS_OK);
  cJSON *data = cJSON_GetObjectItem(out, "data");
  assert_string_equal(cJSON_GetObjectItem(data, "j")->valuestring, "x");
  assert_string_equal(cJSON_GetObjectItem(data, "s")->valuestring, "y");
  cJSON_ReplaceItemInObject(data, "k", cJSON_CreateString("d"));
  cJSON *upd = NULL;
  assert_int_equal(kube_update(c, &upd, &one, out, NULL, NULL, NULL), MBCAS_OK);
  cJSON_Delete(upd);
  cJSON_Delete(out);
  kube_write_opts wo = {.field_manager = "mbcas-it", .force = 1};
  assert_int_equal(kube_patch(c, NULL, &one, KUBE_PATCH_APPLY,
                              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"crud-1\"},\"data\":{\"k\":\"applied\"}}",
                              &wo, &st, NULL), MBCAS_OK);
  assert_int_equal(kube_delete(c, NULL, &one, NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_get(c, &out, &one, &st, NULL), MBCAS_ENOTFOUND);
  assert_string_equal(st.reason, "NotFound");
  assert_int_equal(kube_delete(c, NULL, &one, NULL, &st, NULL), MBCAS_ENOTFOUND);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_pagination(void **state) {
  kube_config *cfg;
  hookrec h = {0};
  kube_client *c = client_for(&cfg, NULL, &h);
  kube_ref coll = {"", "v1", "configmaps", "default", NULL, NULL};
  for (int i = 0; i < 23; i++) {
    char name[32];
    snprintf(name, sizeof name, "page-%02d", i);
    cJSON *obj = configmap(name, "v");
    cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "labels"), "paged", "yes");
    assert_int_equal(kube_create(c, NULL, &coll, obj, NULL, NULL, NULL), MBCAS_OK);
    cJSON_Delete(obj);
  }
  h.n = 0;
  kube_list_opts lo = {.limit = 5, .label_selector = "paged=yes"};
  cJSON *all = NULL;
  assert_int_equal(kube_list_all(c, &all, &coll, &lo, NULL, NULL), MBCAS_OK);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(all, "items")), 23);
  cJSON_Delete(all);
  assert_int_equal(h.n, 5); /* 5 + 5 + 5 + 5 + 3 */
  cJSON *page = NULL;
  assert_int_equal(kube_list(c, &page, &coll, &lo, NULL, NULL), MBCAS_OK);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 5);
  assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(page, "metadata"), "continue"));
  cJSON_Delete(page);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_retry_429_503(void **state) {
  kube_config *cfg;
  hookrec h = {0};
  kube_client *c = client_for(&cfg, NULL, &h);
  assert_int_equal(fixture_fault(&FX, "{\"status\":429,\"retryAfter\":1,\"count\":1,\"path\":\"/namespaces/default\",\"verb\":\"get\"}"), 0);
  cJSON *o = NULL;
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_int_equal(h.n, 2);
  assert_int_equal(h.codes[0], 429);
  assert_int_equal(h.codes[1], 200);
  h.n = 0;
  assert_int_equal(fixture_fault(&FX, "{\"status\":503,\"count\":2,\"path\":\"/namespaces/default\",\"verb\":\"get\"}"), 0);
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_int_equal(h.n, 3);
  assert_int_equal(h.codes[0], 503);
  assert_int_equal(h.codes[1], 503);
  assert_int_equal(h.codes[2], 200);
  /* a persistent 503 gives up after max_retries */
  h.n = 0;
  assert_int_equal(fixture_fault(&FX, "{\"status\":503,\"path\":\"/namespaces/default\",\"verb\":\"get\"}"), 0);
  kube_status st;
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, &st, NULL), MBCAS_EUNAVAILABLE);
  assert_int_equal(h.n, 6);
  assert_string_equal(st.reason, "ServiceUnavailable");
  assert_int_equal(fixture_fault_clear(&FX), 0);
  /* no retry on 400-class faults */
  h.n = 0;
  assert_int_equal(fixture_fault(&FX, "{\"status\":400,\"count\":1,\"path\":\"/namespaces/default\",\"verb\":\"get\"}"), 0);
  assert_int_equal(kube_get(c, &o, &NS_DEFAULT, &st, NULL), MBCAS_EINVAL);
  assert_int_equal(h.n, 1);
  assert_int_equal(fixture_fault_clear(&FX), 0);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void write_text(const char *path, const char *text) {
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  rename(tmp, path);
}

static void test_token_file_rotation(void **state) {
  char tok[400], kc[2048];
  snprintf(tok, sizeof tok, "%s/rotating.token", FX.dir);
  write_text(tok, FX.admin_token);
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: '%s', certificate-authority: '%s'}\n"
           "users:\n- name: u\n  user: {tokenFile: '%s'}\n",
           FX.server, FX.ca_crt, tok);
  kube_config *cfg;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c;
  kube_client_opts o = {.max_retries = -1};
  assert_int_equal(kube_client_new(&c, cfg, &o, NULL), MBCAS_OK);
  cJSON *obj = NULL;
  assert_int_equal(kube_get(c, &obj, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(obj);
  write_text(tok, "revoked-token");
  assert_int_equal(kube_get(c, &obj, &NS_DEFAULT, NULL, NULL), MBCAS_EUNAUTHORIZED);
  write_text(tok, FX.admin_token);
  assert_int_equal(kube_get(c, &obj, &NS_DEFAULT, NULL, NULL), MBCAS_OK);
  cJSON_Delete(obj);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_discovery(void **state) {
  kube_config *cfg;
  kube_client *c = client_for(&cfg, NULL, NULL);
  kube_discovery *d;
  assert_int_equal(kube_discovery_new(&d, c), MBCAS_OK);
  kube_resource_info ri;
  mbcas_err e;
  assert_int_equal(kube_discovery_resolve(d, &ri, "", NULL, "Pod", &e), MBCAS_OK);
  assert_string_equal(ri.resource, "pods");
  assert_int_equal(ri.namespaced, 1);
  assert_int_equal(kube_discovery_subresource(d, &ri, "", "v1", "pods", "resize", &e), MBCAS_OK);
  assert_int_equal(kube_discovery_subresource(d, &ri, "apps", NULL, "deployments", "scale", &e), MBCAS_OK);
  assert_int_equal(kube_discovery_resolve(d, &ri, "coordination.k8s.io", NULL, "leases", &e), MBCAS_OK);
  assert_int_equal(kube_discovery_resolve(d, &ri, "", "v1", "nodes", &e), MBCAS_OK);
  assert_int_equal(ri.namespaced, 0);
  kube_discovery_free(d);
  kube_client_free(c);
  kube_config_free(cfg);
}

static void test_stream_errors(void **state) {
  kube_config *cfg;
  kube_client *c = client_for(&cfg, NULL, NULL);
  kube_stream *s = NULL;
  kube_status st;
  /* a watch from an unknown resource: 404 decoded from the stream open */
  assert_int_equal(kube_stream_open(c, &s, "/api/v1/namespaces/default/widgets?watch=1", &st, NULL), MBCAS_ENOTFOUND);
  assert_null(s);
  assert_int_equal(st.code, 404);
  /* a short watch ends cleanly */
  assert_int_equal(kube_stream_open(c, &s, "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1", &st, NULL), MBCAS_OK);
  char buf[65536];
  size_t n = 0, total = 0;
  mbcas_rc rc;
  int loops = 0;
  while ((rc = kube_stream_read(s, buf, sizeof buf, &n, 200)) == MBCAS_ETIMEOUT || (rc == MBCAS_OK && n > 0)) {
    total += n;
    n = 0;
    assert_true(++loops < 500);
  }
  assert_int_equal(rc, MBCAS_OK); /* n == 0: clean end */
  assert_true(total > 0);          /* the initial ADDED events */
  kube_stream_close(s);
  kube_stream_close(NULL);
  kube_client_free(c);
  kube_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_auth),         cmocka_unit_test(test_client_cert_auth),
      cmocka_unit_test(test_no_credentials_is_401), cmocka_unit_test(test_untrusted_ca),
      cmocka_unit_test(test_service_account_token), cmocka_unit_test(test_tls_server_name),
      cmocka_unit_test(test_crud_and_conflict),  cmocka_unit_test(test_pagination),
      cmocka_unit_test(test_retry_429_503),      cmocka_unit_test(test_token_file_rotation),
      cmocka_unit_test(test_discovery),          cmocka_unit_test(test_stream_errors),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
