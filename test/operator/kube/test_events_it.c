/* test_events_it.c - the event recorder against the API-server emulator: repeats
 * aggregate into one Event whose count and lastTimestamp the server stores;
 * a deleted (expired) Event is recreated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver_fixture.h"
#include "events.h"
#include "log.h"

static apiserver_fixture fx;
static kube_config *cfg;
static kube_client *cl;

static int setup(void **state) {
  (void)state;
  if (fixture_start(&fx, NULL, NULL, NULL) != 0) return -1;
  mbcas_err err;
  if (kube_config_load_files(&cfg, fx.kubeconfig, NULL, &err) != MBCAS_OK) return -1;
  if (kube_client_new(&cl, cfg, NULL, &err) != MBCAS_OK) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  kube_client_free(cl);
  kube_config_free(cfg);
  fixture_stop(&fx);
  return 0;
}

/* Events in ns about object name with this reason. */
static cJSON *find_events(const char *ns, const char *name, const char *reason, int *n) {
  kube_ref ref = {.group = "", .version = "v1", .resource = "events", .ns = ns};
  cJSON *list = NULL;
  assert_int_equal(kube_list(cl, &list, &ref, NULL, NULL, NULL), MBCAS_OK);
  cJSON *found = cJSON_CreateArray();
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(list, "items")) {
    const cJSON *io = cJSON_GetObjectItem(it, "involvedObject");
    const char *nm = cJSON_GetStringValue(cJSON_GetObjectItem(io, "name"));
    const char *rs = cJSON_GetStringValue(cJSON_GetObjectItem(it, "reason"));
    if (nm && rs && strcmp(nm, name) == 0 && strcmp(rs, reason) == 0)
      cJSON_AddItemToArray(found, cJSON_Duplicate(it, 1));
  }
  cJSON_Delete(list);
  *n = cJSON_GetArraySize(found);
  return found;
}

static void test_aggregated_on_server(void **state) {
  (void)state;
  kube_events_opts o = {.client = cl, .component = "mbcas-operator", .host = "it-host"};
  kube_events *r;
  assert_int_equal(kube_events_new(&r, &o), MBCAS_OK);
  kube_object_ref obj = {.api_version = "mbcas.io/v1alpha1", .kind = "ServiceBudget",
                         .ns = "default", .name = "checkout", .uid = "uid-1"};
  for (int i = 0; i < 5; i++)
    assert_int_equal(kube_events_record(r, &obj, "Warning", "InvalidSpec", "cpu.min > cpu.max"),
                     MBCAS_OK);
  int n;
  cJSON *evs = find_events("default", "checkout", "InvalidSpec", &n);
  assert_int_equal(n, 1);
  cJSON *ev = cJSON_GetArrayItem(evs, 0);
  assert_int_equal(cJSON_GetObjectItem(ev, "count")->valueint, 5);
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "type")), "Warning");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "message")),
                      "cpu.min > cpu.max");
  assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "lastTimestamp")));
  assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "firstTimestamp")));
  const cJSON *src = cJSON_GetObjectItem(ev, "source");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(src, "component")),
                      "mbcas-operator");
  char evname[320];
  snprintf(evname, sizeof(evname), "%s",
           cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "metadata"), "name")));
  cJSON_Delete(evs);
  assert_int_equal(kube_events_created(r), 1);
  assert_int_equal(kube_events_patched(r), 4);

  /* a different message is another Event */
  assert_int_equal(kube_events_record(r, &obj, "Warning", "InvalidSpec", "cpu.max missing"),
                   MBCAS_OK);
  evs = find_events("default", "checkout", "InvalidSpec", &n);
  assert_int_equal(n, 2);
  cJSON_Delete(evs);

  /* the server drops the first Event (TTL): the next repeat recreates it */
  char path[512];
  snprintf(path, sizeof(path), "/api/v1/namespaces/default/events/%s", evname);
  int code = fixture_http(&fx, "DELETE", path, NULL);
  assert_true(code >= 200 && code < 300);
  assert_int_equal(kube_events_record(r, &obj, "Warning", "InvalidSpec", "cpu.min > cpu.max"),
                   MBCAS_OK);
  evs = find_events("default", "checkout", "InvalidSpec", &n);
  assert_int_equal(n, 2);
  const cJSON *it;
  int saw_new = 0;
  cJSON_ArrayForEach(it, evs) {
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(it, "message"));
    if (strcmp(msg, "cpu.min > cpu.max") == 0) {
      saw_new = 1;
      assert_int_equal(cJSON_GetObjectItem(it, "count")->valueint, 1);
    }
  }
  assert_true(saw_new);
  cJSON_Delete(evs);
  kube_events_free(r);
}

int main(void) {
  mbcas_log_set_level(MBCAS_LOG_WARN);
  if (fixture_available() != 0) {
    fprintf(stderr, "emulator not found: skipping\n");
    return 0;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregated_on_server),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
