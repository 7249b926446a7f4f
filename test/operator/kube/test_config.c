/* test_config.c - config.h: kubeconfig parsing and merging, in-cluster, credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char tmpdir[256];

static int rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w) {
  (void)sb; (void)f; (void)w;
  return remove(p);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mbcas-cfg-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  nftw(tmpdir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static const char *path_in(const char *name) {
  static char buf[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
  return buf[i];
}

static void write_file(const char *path, const char *text, int mode) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  chmod(path, (mode_t)mode);
}

/* "-----BEGIN CERTIFICATE-----\nabc\n" base64 */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmFiYwo="

static const char *KC =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: main\n"
    "clusters:\n"
    "- name: c1\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: " CA_B64 "\n"
    "    tls-server-name: kubernetes.default\n"
    "    proxy-url: http://127.0.0.1:3128\n"
    "- name: c2\n"
    "  cluster:\n"
    "    server: https://10.0.0.2\n"
    "    certificate-authority: ca.pem\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: u1\n"
    "  user:\n"
    "    token: tok-1\n"
    "- name: u2\n"
    "  user:\n"
    "    client-certificate: certs/c.crt\n"
    "    client-key: /abs/c.key\n"
    "    client-certificate-data: " CA_B64 "\n"
    "    client-key-data: " CA_B64 "\n"
    "contexts:\n"
    "- name: main\n"
    "  context: {cluster: c1, user: u1, namespace: team-a}\n"
    "- name: other\n"
    "  context: {cluster: c2, user: u2}\n";

static void test_parse_current_context(void **state) {
  (void)state;
  kube_config *c = NULL;
  mbcas_err e;
  assert_int_equal(kube_config_parse(&c, KC, strlen(KC), "/base", NULL, &e), MBCAS_OK);
  assert_string_equal(c->server, "https://10.0.0.1:6443");
  assert_string_equal(c->context, "main");
  assert_string_equal(c->ns, "team-a");
  assert_non_null(c->ca_data);
  assert_int_equal(c->ca_data_len, 32);
  assert_memory_equal(c->ca_data, "-----BEGIN CERTIFICATE-----\nabc\n", 32);
  assert_string_equal(c->tls_server_name, "kubernetes.default");
  assert_string_equal(c->proxy_url, "http://127.0.0.1:3128");
  assert_int_equal(c->insecure_skip_tls_verify, 0);
  assert_string_equal(c->token, "tok-1");
  kube_credentials cr;
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_string_equal(cr.token, "tok-1");
  assert_null(cr.client_cert_pem);
  kube_credentials_clear(&cr);
  assert_null(cr.token);
  kube_config_free(c);
}

static void test_parse_named_context(void **state) {
  (void)state;
  kube_config *c = NULL;
  assert_int_equal(kube_config_parse(&c, KC, strlen(KC), "/base", "other", NULL), MBCAS_OK);
  assert_string_equal(c->server, "https://10.0.0.2");
  assert_string_equal(c->ns, "default");
  assert_string_equal(c->ca_file, "/base/ca.pem");
  assert_int_equal(c->insecure_skip_tls_verify, 1);
  assert_string_equal(c->client_cert_file, "/base/certs/c.crt");
  assert_string_equal(c->client_key_file, "/abs/c.key");
  assert_int_equal(c->client_cert_data_len, 32);
  assert_null(c->token);
  kube_credentials cr;
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_null(cr.token);
  assert_int_equal(cr.client_cert_pem_len, 32);
  assert_int_equal(cr.client_key_pem_len, 32);
  kube_credentials_clear(&cr);
  kube_config_free(c);
}

static void test_parse_errors(void **state) {
  (void)state;
  kube_config *c = NULL;
  mbcas_err e;
  assert_int_equal(kube_config_parse(&c, KC, strlen(KC), NULL, "nope", &e), MBCAS_EINVAL);
  assert_null(c);
  assert_string_equal(e.field, "contexts");
  const char *bad = "clusters: [\n";
  assert_int_equal(kube_config_parse(&c, bad, strlen(bad), NULL, NULL, &e), MBCAS_EINVAL);
  const char *scalar = "just text\n";
  assert_int_equal(kube_config_parse(&c, scalar, strlen(scalar), NULL, NULL, &e), MBCAS_EINVAL);
  const char *nocur = "contexts: []\n";
  assert_int_equal(kube_config_parse(&c, nocur, strlen(nocur), NULL, NULL, &e), MBCAS_EINVAL);
  const char *noserver = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                         "clusters:\n- name: c\n  cluster: {}\nusers:\n- name: u\n  user: {}\n";
  assert_int_equal(kube_config_parse(&c, noserver, strlen(noserver), NULL, NULL, &e), MBCAS_EINVAL);
  const char *nouser = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: zz}\n"
                       "clusters:\n- name: c\n  cluster: {server: https://a}\n";
  assert_int_equal(kube_config_parse(&c, nouser, strlen(nouser), NULL, NULL, &e), MBCAS_EINVAL);
  const char *badb64 = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                       "clusters:\n- name: c\n  cluster: {server: https://a, certificate-authority-data: '!!'}\n";
  assert_int_equal(kube_config_parse(&c, badb64, strlen(badb64), NULL, NULL, &e), MBCAS_EINVAL);
  assert_null(c);
}

/* Fuzz findings (test/fuzz/corpus/kubeconfig/alias-bomb-489-bytes,
 * deep-nesting-enomem): alias expansion had no budget (489 bytes took 2 GB), and
 * deep nesting or a self-referencing alias came back as MBCAS_ENOMEM without a
 * message. All are MBCAS_EINVAL with a message now; ordinary anchors still work. */
static void test_yaml_limits(void **state) {
  (void)state;
  kube_config *c = (kube_config *)(uintptr_t)1;
  mbcas_err e;
  static const char base[] = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                             "clusters:\n- name: c\n  cluster: {server: 'https://a'}\n"
                             "users:\n- name: u\n  user: &cred {token: t1}\n- name: v\n  user: *cred\n";
  char text[4096];
  /* anchors and a few aliases are fine */
  snprintf(text, sizeof text, "%sextra: &l [a, b, c]\nmore: [*l, *l, *l]\n", base);
  assert_int_equal(kube_config_parse(&c, text, strlen(text), NULL, NULL, &e), MBCAS_OK);
  assert_string_equal(c->token, "t1");
  kube_config_free(c);
  /* 60 levels below the root are fine */
  int n = snprintf(text, sizeof text, "%sdeep: ", base);
  for (int i = 0; i < 60; i++) text[n++] = '[';
  for (int i = 0; i < 60; i++) text[n++] = ']';
  text[n++] = '\n';
  text[n] = '\0';
  c = (kube_config *)(uintptr_t)1;
  assert_int_equal(kube_config_parse(&c, text, strlen(text), NULL, NULL, &e), MBCAS_OK);
  kube_config_free(c);
  /* a billion-laughs document, 5 levels of 10 (111,110 nodes; the fuzz reproducer
   * has 8 levels): refused as excessive aliasing, like go-yaml does */
  n = snprintf(text, sizeof text, "%sa0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n", base);
  for (int l = 1; l <= 5; l++) {
    n += snprintf(text + n, sizeof text - (size_t)n, "a%d: &a%d [", l, l);
    for (int i = 0; i < 10; i++) n += snprintf(text + n, sizeof text - (size_t)n, "%s*a%d", i ? ", " : "", l - 1);
    n += snprintf(text + n, sizeof text - (size_t)n, "]\n");
  }
  c = (kube_config *)(uintptr_t)1;
  mbcas_err_clear(&e);
  assert_int_equal(kube_config_parse(&c, text, strlen(text), NULL, NULL, &e), MBCAS_EINVAL);
  assert_null(c);
  assert_int_equal(e.rc, MBCAS_EINVAL);
  assert_string_equal(e.field, "kubeconfig");
  assert_non_null(strstr(e.msg, "excessive aliasing"));
  /* 70 levels: MBCAS_EINVAL with a message, not MBCAS_ENOMEM */
  n = snprintf(text, sizeof text, "%sdeep: ", base);
  for (int i = 0; i < 70; i++) text[n++] = '[';
  for (int i = 0; i < 70; i++) text[n++] = ']';
  text[n++] = '\n';
  text[n] = '\0';
  c = (kube_config *)(uintptr_t)1;
  mbcas_err_clear(&e);
  assert_int_equal(kube_config_parse(&c, text, strlen(text), NULL, NULL, &e), MBCAS_EINVAL);
  assert_null(c);
  assert_non_null(strstr(e.msg, "nesting deeper than 64"));
  /* an alias inside its own anchor (libyaml loads it as a cycle) */
  snprintf(text, sizeof text, "%sloop: &s [a, *s]\n", base);
  c = (kube_config *)(uintptr_t)1;
  mbcas_err_clear(&e);
  assert_int_equal(kube_config_parse(&c, text, strlen(text), NULL, NULL, &e), MBCAS_EINVAL);
  assert_null(c);
  assert_true(e.msg[0] != '\0');
}

static void test_merge_files(void **state) {
  (void)state;
  const char *a = "current-context: ctx-b\n"
                  "clusters:\n- name: c\n  cluster: {server: 'https://first'}\n"
                  "users:\n- name: u\n  user: {token: from-a}\n";
  const char *b = "current-context: ignored\n"
                  "clusters:\n- name: c\n  cluster: {server: 'https://second'}\n"
                  "- name: c3\n  cluster: {server: 'https://third'}\n"
                  "contexts:\n- name: ctx-b\n  context: {cluster: c, user: u}\n"
                  "- name: ctx-3\n  context: {cluster: c3, user: u}\n";
  write_file(path_in("a.yaml"), a, 0600);
  write_file(path_in("b.yaml"), b, 0600);
  char list[1200];
  snprintf(list, sizeof list, "%s:%s:%s", path_in("a.yaml"), path_in("missing.yaml"), path_in("b.yaml"));
  kube_config *c = NULL;
  mbcas_err e;
  assert_int_equal(kube_config_load_files(&c, list, NULL, &e), MBCAS_OK);
  assert_string_equal(c->context, "ctx-b");
  assert_string_equal(c->server, "https://first"); /* first file wins */
  assert_string_equal(c->token, "from-a");
  kube_config_free(c);
  assert_int_equal(kube_config_load_files(&c, list, "ctx-3", &e), MBCAS_OK);
  assert_string_equal(c->server, "https://third");
  kube_config_free(c);
  /* a single missing file is an error */
  assert_int_equal(kube_config_load_files(&c, path_in("missing.yaml"), NULL, &e), MBCAS_ENOTFOUND);
  assert_int_equal(kube_config_load_files(&c, "", NULL, &e), MBCAS_EINVAL);
}

static void test_load_precedence(void **state) {
  (void)state;
  write_file(path_in("k1"), KC, 0600);
  const char *k2 = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://from-env'}\n";
  write_file(path_in("k2"), k2, 0600);
  unsetenv("KUBERNETES_SERVICE_HOST");
  setenv("KUBECONFIG", path_in("k2"), 1);
  kube_config *c = NULL;
  assert_int_equal(kube_config_load(&c, path_in("k1"), NULL, NULL), MBCAS_OK);
  assert_string_equal(c->server, "https://10.0.0.1:6443");
  kube_config_free(c);
  assert_int_equal(kube_config_load(&c, NULL, NULL, NULL), MBCAS_OK);
  assert_string_equal(c->server, "https://from-env");
  kube_config_free(c);
  unsetenv("KUBECONFIG");
  setenv("HOME", tmpdir, 1);
  mkdir(path_in(".kube"), 0700);
  write_file(path_in(".kube/config"), k2, 0600);
  assert_int_equal(kube_config_load(&c, NULL, NULL, NULL), MBCAS_OK);
  assert_string_equal(c->server, "https://from-env");
  kube_config_free(c);
}

static void test_token_file_rotation(void **state) {
  (void)state;
  write_file(path_in("tok"), "first-token\n", 0600);
  char kc[1024];
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: 'https://a'}\n"
           "users:\n- name: u\n  user: {tokenFile: tok}\n");
  kube_config *c = NULL;
  assert_int_equal(kube_config_parse(&c, kc, strlen(kc), tmpdir, NULL, NULL), MBCAS_OK);
  assert_string_equal(c->token_file, path_in("tok"));
  kube_credentials cr;
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_string_equal(cr.token, "first-token");
  unsigned long g1 = cr.generation;
  kube_credentials_clear(&cr);
  /* rotate by rename, as kubelet does (new inode) */
  write_file(path_in("tok.new"), "second-token-longer\n", 0600);
  rename(path_in("tok.new"), path_in("tok"));
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_string_equal(cr.token, "second-token-longer");
  assert_true(cr.generation != g1);
  kube_credentials_clear(&cr);
  /* file vanishes: keep the last token */
  unlink(path_in("tok"));
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_string_equal(cr.token, "second-token-longer");
  kube_credentials_clear(&cr);
  kube_config_invalidate(c);
  kube_config_free(c);
  /* never readable: error */
  assert_int_equal(kube_config_parse(&c, kc, strlen(kc), tmpdir, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_EIO);
  kube_config_free(c);
}

static kube_config *exec_config(const char *script_body) {
  write_file(path_in("plugin.sh"), script_body, 0700);
  char kc[2048];
  snprintf(kc, sizeof kc,
           "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: 'https://a'}\n"
           "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
           "      command: ./plugin.sh\n      args: [\"%s\"]\n"
           "      env:\n      - {name: PLUGIN_GREETING, value: hello}\n",
           path_in("count"));
  kube_config *c = NULL;
  assert_int_equal(kube_config_parse(&c, kc, strlen(kc), tmpdir, NULL, NULL), MBCAS_OK);
  return c;
}

static int count_runs(void) {
  FILE *f = fopen(path_in("count"), "r");
  if (!f) return 0;
  int n = 0;
  char line[64];
  while (fgets(line, sizeof line, f)) n++;
  fclose(f);
  return n;
}

static void test_exec_plugin_cached(void **state) {
  (void)state;
  unlink(path_in("count"));
  kube_config *c = exec_config(
      "#!/bin/sh\necho run >> \"$1\"\n"
      "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 3;; esac\n"
      "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"'$PLUGIN_GREETING'-tok\",\"expirationTimestamp\":\"2999-01-01T00:00:00Z\"}}'\n");
  assert_string_equal(c->exec.command, path_in("plugin.sh"));
  kube_credentials cr;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
    assert_string_equal(cr.token, "hello-tok");
    kube_credentials_clear(&cr);
  }
  assert_int_equal(count_runs(), 1); /* cached until expiry */
  kube_config_invalidate(c);
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  kube_credentials_clear(&cr);
  assert_int_equal(count_runs(), 2);
  kube_config_free(c);
}

static void test_exec_plugin_expired_and_cert(void **state) {
  (void)state;
  unlink(path_in("count"));
  kube_config *c = exec_config(
      "#!/bin/sh\necho run >> \"$1\"\n"
      "echo '{\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"CERT\","
      "\"clientKeyData\":\"KEY\",\"expirationTimestamp\":\"2000-01-01T00:00:00+01:00\"}}'\n");
  kube_credentials cr;
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_null(cr.token);
  assert_string_equal(cr.client_cert_pem, "CERT");
  assert_string_equal(cr.client_key_pem, "KEY");
  kube_credentials_clear(&cr);
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  kube_credentials_clear(&cr);
  assert_int_equal(count_runs(), 2); /* already expired: run every time */
  kube_config_free(c);
}

static void test_exec_plugin_failures(void **state) {
  (void)state;
  kube_credentials cr;
  mbcas_err e;
  kube_config *c = exec_config("#!/bin/sh\nexit 4\n");
  assert_int_equal(kube_config_credentials(c, &cr, &e), MBCAS_ERR);
  kube_config_free(c);
  c = exec_config("#!/bin/sh\necho 'not json'\n");
  assert_int_equal(kube_config_credentials(c, &cr, &e), MBCAS_EINVAL);
  kube_config_free(c);
  c = exec_config("#!/bin/sh\necho '{\"kind\":\"ExecCredential\",\"status\":{}}'\n");
  assert_int_equal(kube_config_credentials(c, &cr, &e), MBCAS_EINVAL);
  kube_config_free(c);
}

static void test_in_cluster(void **state) {
  (void)state;
  mkdir(path_in("sa"), 0700);
  write_file(path_in("sa/token"), "sa-token\n", 0600);
  write_file(path_in("sa/ca.crt"), "CA\n", 0600);
  write_file(path_in("sa/namespace"), "mbcas-system\n", 0600);
  kube_config *c = NULL;
  mbcas_err e;
  unsetenv("KUBERNETES_SERVICE_HOST");
  assert_int_equal(kube_config_in_cluster(&c, path_in("sa"), &e), MBCAS_EINVAL);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  assert_int_equal(kube_config_in_cluster(&c, path_in("sa"), &e), MBCAS_OK);
  assert_string_equal(c->server, "https://10.96.0.1:443");
  assert_string_equal(c->ns, "mbcas-system");
  assert_string_equal(c->ca_file, path_in("sa/ca.crt"));
  kube_credentials cr;
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_string_equal(cr.token, "sa-token");
  kube_credentials_clear(&cr);
  write_file(path_in("sa/token"), "sa-token-rotated\n", 0600);
  assert_int_equal(kube_config_credentials(c, &cr, NULL), MBCAS_OK);
  assert_string_equal(cr.token, "sa-token-rotated");
  kube_credentials_clear(&cr);
  kube_config_free(c);
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  assert_int_equal(kube_config_in_cluster(&c, path_in("sa"), &e), MBCAS_OK);
  assert_string_equal(c->server, "https://[fd00::1]:443");
  kube_config_free(c);
  assert_int_equal(kube_config_in_cluster(&c, path_in("nosa"), &e), MBCAS_EIO);
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  kube_config_free(NULL);
  kube_credentials_clear(NULL);
  kube_config_invalidate(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_current_context), cmocka_unit_test(test_parse_named_context),
      cmocka_unit_test(test_parse_errors),          cmocka_unit_test(test_yaml_limits),
      cmocka_unit_test(test_merge_files),
      cmocka_unit_test(test_load_precedence),       cmocka_unit_test(test_token_file_rotation),
      cmocka_unit_test(test_exec_plugin_cached),    cmocka_unit_test(test_exec_plugin_expired_and_cert),
      cmocka_unit_test(test_exec_plugin_failures),  cmocka_unit_test(test_in_cluster),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
