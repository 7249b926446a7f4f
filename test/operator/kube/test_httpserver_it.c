/* test_httpserver_it.c - the wiring the operator uses, against the emulator:
 * a REST client reporting into the registry (kube_metrics_rest_hook), a leader
 * elector behind /readyz (kube_leader_ready_check), a controller whose queue and
 * reconcile metrics show on /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver_fixture.h"
#include "controller.h"
#include "httpserver.h"
#include "leader.h"
#include "log.h"

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  char **b = ud;
  size_t old = *b ? strlen(*b) : 0;
  char *nb = realloc(*b, old + sz * n + 1);
  if (!nb) return 0;
  memcpy(nb + old, p, sz * n);
  nb[old + sz * n] = '\0';
  *b = nb;
  return sz * n;
}

static long get(int port, const char *path, char **body) {
  *body = NULL;
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  long code = -1;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  if (!*body) *body = strdup("");
  return code;
}

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static kube_client *g_client;
/* Reconcile: read the Lease (a real GET), come back in a minute. */
static mbcas_rc reconcile(void *ctx, const char *key, uint64_t *after) {
  (void)ctx;
  (void)key;
  kube_lease_record rec;
  mbcas_rc rc = kube_lease_get(g_client, "default", "mbcas-http-it", &rec);
  if (rc != MBCAS_OK) return rc;
  *after = 60000;
  return MBCAS_OK;
}

static void test_operator_wiring(void **state) {
  (void)state;
  apiserver_fixture fx;
  assert_int_equal(fixture_start(&fx, NULL, NULL, NULL), 0);
  kube_config *cfg;
  assert_int_equal(kube_config_load_files(&cfg, fx.kubeconfig, NULL, NULL), MBCAS_OK);
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_client_opts co = {.hook = kube_metrics_rest_hook, .hook_ud = m};
  assert_int_equal(kube_client_new(&g_client, cfg, &co, NULL), MBCAS_OK);

  kube_http *srv;
  assert_int_equal(kube_http_start(&srv, "127.0.0.1:0", m, NULL), MBCAS_OK);
  int port = kube_http_port(srv);
  kube_leader_opts lo = {.client = g_client, .ns = "default", .name = "mbcas-http-it",
                         .identity = "me", .metrics = m};
  kube_leader *l;
  assert_int_equal(kube_leader_new(&l, &lo), MBCAS_OK);
  assert_int_equal(kube_http_add_readyz(srv, "leader-election", kube_leader_ready_check, l),
                   MBCAS_OK);
  char *body;
  assert_int_equal(get(port, "/readyz", &body), 500);
  assert_non_null(strstr(body, "[-]leader-election failed: leader election state not known yet"));
  free(body);

  assert_int_equal(kube_leader_start(l), MBCAS_OK);
  int i = 0;
  while (!kube_leader_leading(l) && i++ < 2000) msleep(10);
  assert_true(kube_leader_leading(l));
  assert_int_equal(get(port, "/readyz", &body), 200);
  free(body);

  kube_controller_opts cop = {.name = "lease-reader", .workers = 2, .reconcile = reconcile,
                              .metrics = m};
  kube_controller *c;
  assert_int_equal(kube_controller_new(&c, &cop), MBCAS_OK);
  assert_int_equal(kube_controller_start(c), MBCAS_OK);
  kube_queue_add(kube_controller_queue(c), "default/a");
  kube_queue_add(kube_controller_queue(c), "default/b");
  i = 0;
  while (kube_controller_count(c, KUBE_RESULT_REQUEUE_AFTER) < 2 && i++ < 2000) msleep(10);
  assert_int_equal(kube_controller_count(c, KUBE_RESULT_REQUEUE_AFTER), 2);

  assert_int_equal(get(port, "/metrics", &body), 200);
  assert_non_null(strstr(body, "# TYPE rest_client_requests_total counter\n"));
  assert_non_null(strstr(body, "rest_client_requests_total{code=\"200\",verb=\"GET\"}"));
  assert_non_null(strstr(body, "rest_client_request_duration_seconds_count{verb=\"GET\"}"));
  assert_non_null(strstr(body, "leader_election_master_status{name=\"mbcas-http-it\"} 1\n"));
  assert_non_null(strstr(
      body, "controller_runtime_reconcile_total{controller=\"lease-reader\",result=\"requeue_after\"} 2\n"));
  assert_non_null(strstr(body, "workqueue_adds_total{name=\"lease-reader\"} 2\n"));
  assert_non_null(strstr(body, "workqueue_depth{name=\"lease-reader\"} 0\n"));
  free(body);

  kube_controller_free(c);
  kube_leader_free(l);
  kube_http_stop(srv);
  kube_client_free(g_client);
  kube_metrics_free(m);
  kube_config_free(cfg);
  fixture_stop(&fx);
}

int main(void) {
  mbcas_log_set_level(MBCAS_LOG_WARN);
  if (fixture_available() != 0) {
    fprintf(stderr, "emulator not found: skipping\n");
    return 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_operator_wiring),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
