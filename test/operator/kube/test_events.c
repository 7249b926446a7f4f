/* test_events.c - the event recorder against a fake sink: the Event body,
 * aggregation by PATCH, expiry (404) recreation, LRU bound, argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"

typedef struct fake_sink {
  int creates, patches;
  char last_ns[64], last_name[320], last_patch[256];
  cJSON *last_event; /* copy of the last created Event */
  mbcas_rc patch_rc, create_rc;
} fake_sink;

static mbcas_rc f_create(void *ud, const char *ns, const cJSON *ev) {
  fake_sink *f = ud;
  f->creates++;
  snprintf(f->last_ns, sizeof(f->last_ns), "%s", ns);
  cJSON_Delete(f->last_event);
  f->last_event = cJSON_Duplicate(ev, 1);
  return f->create_rc;
}
static mbcas_rc f_patch(void *ud, const char *ns, const char *name, const char *patch) {
  fake_sink *f = ud;
  f->patches++;
  snprintf(f->last_ns, sizeof(f->last_ns), "%s", ns);
  snprintf(f->last_name, sizeof(f->last_name), "%s", name);
  snprintf(f->last_patch, sizeof(f->last_patch), "%s", patch);
  return f->patch_rc;
}
static const kube_event_sink sink = {f_create, f_patch};

static const char *jstr(const cJSON *o, const char *path) {
  char buf[128];
  snprintf(buf, sizeof(buf), "%s", path);
  const cJSON *cur = o;
  for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
    cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
  return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static const kube_object_ref sb = {.api_version = "mbcas.io/v1alpha1", .kind = "ServiceBudget",
                                   .ns = "shop", .name = "checkout", .uid = "u-1",
                                   .resource_version = "42"};

static kube_events *make(fake_sink *f, size_t cache) {
  kube_events_opts o = {.sink = &sink, .sink_ud = f, .host = "node-1", .cache_size = cache,
                        .spam_qps = -1};
  kube_events *r;
  assert_int_equal(kube_events_new(&r, &o), MBCAS_OK);
  return r;
}

static void test_create_body(void **state) {
  (void)state;
  fake_sink f = {0};
  kube_events *r = make(&f, 0);
  assert_int_equal(kube_events_record(r, &sb, "Warning", "InvalidSpec", "cpu.min %d > max %d", 4,
                                      2),
                   MBCAS_OK);
  assert_int_equal(f.creates, 1);
  cJSON *e = f.last_event;
  assert_string_equal(f.last_ns, "shop");
  assert_string_equal(jstr(e, "apiVersion"), "v1");
  assert_string_equal(jstr(e, "kind"), "Event");
  assert_string_equal(jstr(e, "metadata.namespace"), "shop");
  assert_true(strncmp(jstr(e, "metadata.name"), "checkout.", 9) == 0);
  assert_string_equal(jstr(e, "involvedObject.kind"), "ServiceBudget");
  assert_string_equal(jstr(e, "involvedObject.apiVersion"), "mbcas.io/v1alpha1");
  assert_string_equal(jstr(e, "involvedObject.namespace"), "shop");
  assert_string_equal(jstr(e, "involvedObject.name"), "checkout");
  assert_string_equal(jstr(e, "involvedObject.uid"), "u-1");
  assert_string_equal(jstr(e, "involvedObject.resourceVersion"), "42");
  assert_string_equal(jstr(e, "reason"), "InvalidSpec");
  assert_string_equal(jstr(e, "message"), "cpu.min 4 > max 2");
  assert_string_equal(jstr(e, "type"), "Warning");
  assert_string_equal(jstr(e, "source.component"), "mbcas-operator");
  assert_string_equal(jstr(e, "source.host"), "node-1");
  assert_string_equal(jstr(e, "reportingComponent"), "mbcas-operator");
  assert_string_equal(jstr(e, "reportingInstance"), "node-1");
  assert_int_equal(strlen(jstr(e, "firstTimestamp")), 20);
  assert_string_equal(jstr(e, "firstTimestamp"), jstr(e, "lastTimestamp"));
  assert_int_equal(cJSON_GetObjectItem(e, "count")->valueint, 1);
  cJSON_Delete(f.last_event);
  kube_events_free(r);
}

static void test_aggregation(void **state) {
  (void)state;
  fake_sink f = {0};
  kube_events *r = make(&f, 0);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Scaled", "replicas 3"), MBCAS_OK);
  char first[320];
  snprintf(first, sizeof(first), "%s", jstr(f.last_event, "metadata.name"));
  for (int i = 2; i <= 5; i++) {
    assert_int_equal(kube_events_record(r, &sb, "Normal", "Scaled", "replicas 3"), MBCAS_OK);
    assert_string_equal(f.last_name, first);
    char want[64];
    snprintf(want, sizeof(want), "{\"count\":%d,\"lastTimestamp\":\"", i);
    assert_true(strncmp(f.last_patch, want, strlen(want)) == 0);
  }
  assert_int_equal(f.creates, 1);
  assert_int_equal(f.patches, 4);
  /* different message, reason, type or object: a new Event each */
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Scaled", "replicas 4"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Cleared", "replicas 3"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Warning", "Scaled", "replicas 3"), MBCAS_OK);
  kube_object_ref other = sb;
  other.name = "cart";
  assert_int_equal(kube_events_record(r, &other, "Normal", "Scaled", "replicas 3"), MBCAS_OK);
  assert_int_equal(f.creates, 5);
  assert_int_equal(kube_events_cache_len(r), 5);
  assert_int_equal(kube_events_created(r), 5);
  assert_int_equal(kube_events_patched(r), 4);
  cJSON_Delete(f.last_event);
  kube_events_free(r);
}

static void test_expired_event_recreated(void **state) {
  (void)state;
  fake_sink f = {0};
  kube_events *r = make(&f, 0);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "X", "m"), MBCAS_OK);
  char first[320];
  snprintf(first, sizeof(first), "%s", jstr(f.last_event, "metadata.name"));
  f.patch_rc = MBCAS_ENOTFOUND;
  assert_int_equal(kube_events_record(r, &sb, "Normal", "X", "m"), MBCAS_OK);
  assert_int_equal(f.patches, 1);
  assert_int_equal(f.creates, 2);
  assert_string_not_equal(jstr(f.last_event, "metadata.name"), first);
  assert_int_equal(cJSON_GetObjectItem(f.last_event, "count")->valueint, 1);
  /* other patch failures are returned and keep the entry */
  f.patch_rc = MBCAS_EUNAVAILABLE;
  assert_int_equal(kube_events_record(r, &sb, "Normal", "X", "m"), MBCAS_EUNAVAILABLE);
  assert_int_equal(kube_events_cache_len(r), 1);
  f.patch_rc = MBCAS_OK;
  assert_int_equal(kube_events_record(r, &sb, "Normal", "X", "m"), MBCAS_OK);
  assert_true(strncmp(f.last_patch, "{\"count\":2,", 11) == 0);
  /* a failed create caches nothing */
  f.create_rc = MBCAS_EFORBIDDEN;
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Y", "m"), MBCAS_EFORBIDDEN);
  assert_int_equal(kube_events_cache_len(r), 1);
  cJSON_Delete(f.last_event);
  kube_events_free(r);
}

static void test_lru_bound(void **state) {
  (void)state;
  fake_sink f = {0};
  kube_events *r = make(&f, 3);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "a"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "b"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "c"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "a"), MBCAS_OK); /* a is recent */
  assert_int_equal(f.patches, 1);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "d"), MBCAS_OK); /* evicts b */
  assert_int_equal(kube_events_cache_len(r), 3);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "a"), MBCAS_OK);
  assert_int_equal(f.patches, 2);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "b"), MBCAS_OK); /* new Event */
  assert_int_equal(f.creates, 5);
  assert_int_equal(kube_events_cache_len(r), 3);
  /* many distinct tuples never exceed the bound */
  for (int i = 0; i < 100; i++)
    assert_int_equal(kube_events_record(r, &sb, "Normal", "R", "n%d", i), MBCAS_OK);
  assert_int_equal(kube_events_cache_len(r), 3);
  cJSON_Delete(f.last_event);
  kube_events_free(r);
}

static void test_args_and_cluster_scope(void **state) {
  (void)state;
  fake_sink f = {0};
  kube_events *r = make(&f, 0);
  kube_object_ref node = {.api_version = "v1", .kind = "Node", .name = "n1"};
  assert_int_equal(kube_events_record(r, &node, "Normal", "Seen", "ok"), MBCAS_OK);
  assert_string_equal(f.last_ns, "default");
  assert_null(jstr(f.last_event, "involvedObject.namespace"));
  assert_int_equal(kube_events_record(r, &node, "Info", "Seen", "ok"), MBCAS_EINVAL);
  assert_int_equal(kube_events_record(r, &node, "Normal", "", "ok"), MBCAS_EINVAL);
  assert_int_equal(kube_events_record(r, NULL, "Normal", "R", "ok"), MBCAS_EINVAL);
  kube_object_ref noname = {.kind = "Node"};
  assert_int_equal(kube_events_record(r, &noname, "Normal", "R", "ok"), MBCAS_EINVAL);
  /* long messages are cut */
  char big[3000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(kube_events_record(r, &node, "Normal", "Big", "%s", big), MBCAS_OK);
  assert_int_equal(strlen(jstr(f.last_event, "message")), KUBE_EVENT_MESSAGE_MAX);
  cJSON_Delete(f.last_event);
  kube_events_free(r);
  kube_events_free(NULL);
  kube_events *x;
  assert_int_equal(kube_events_new(&x, NULL), MBCAS_EINVAL);
  kube_events_opts o = {0};
  assert_int_equal(kube_events_new(&x, &o), MBCAS_EINVAL);
  char t[32];
  assert_int_equal(strlen(kube_time_rfc3339(t, sizeof(t))), 20);
}

static kube_events *shared;
static void *hammer(void *arg) {
  (void)arg;
  for (int i = 0; i < 200; i++) kube_events_record(shared, &sb, "Normal", "Same", "same");
  return NULL;
}

static void test_threads_one_event(void **state) {
  (void)state;
  fake_sink f = {0};
  shared = make(&f, 0);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_int_equal(f.creates, 1);
  assert_int_equal(f.patches, 799);
  assert_true(strncmp(f.last_patch, "{\"count\":800,", 13) == 0);
  cJSON_Delete(f.last_event);
  kube_events_free(shared);
}

static double fake_now;
static double fake_clock(void *ud) {
  (void)ud;
  return fake_now;
}

static void test_spam_filter(void **state) {
  (void)state;
  fake_sink f = {0};
  fake_now = 100;
  kube_events_opts o = {.sink = &sink, .sink_ud = &f, .host = "h", .clock = fake_clock};
  kube_events *r;
  assert_int_equal(kube_events_new(&r, &o), MBCAS_OK); /* defaults: burst 25, 1 per 300 s */
  for (int i = 0; i < 25; i++)
    assert_int_equal(kube_events_record(r, &sb, "Normal", "Flap", "n=%d", i), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Flap", "n=%d", 25), MBCAS_ETOOMANY);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Flap", "n=0"), MBCAS_ETOOMANY);
  assert_int_equal(kube_events_dropped(r), 2);
  assert_int_equal(f.creates, 25);
  /* another object has its own bucket */
  kube_object_ref other = sb;
  other.name = "cart";
  assert_int_equal(kube_events_record(r, &other, "Normal", "Flap", "x"), MBCAS_OK);
  /* one token back after 300 s */
  fake_now += 299;
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Flap", "n=0"), MBCAS_ETOOMANY);
  fake_now += 2; /* comfortably past one refill, whatever the float rounding */
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Flap", "n=0"), MBCAS_OK);
  assert_int_equal(f.patches, 1);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "Flap", "n=0"), MBCAS_ETOOMANY);
  cJSON_Delete(f.last_event);
  kube_events_free(r);
}

/* A sink that blocks creates until the test opens the gate. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open = 1, gate_waiting;
static mbcas_rc gated_create(void *ud, const char *ns, const cJSON *ev) {
  pthread_mutex_lock(&gate_mu);
  gate_waiting++;
  pthread_cond_broadcast(&gate_cv);
  while (!gate_open) pthread_cond_wait(&gate_cv, &gate_mu);
  gate_waiting--;
  pthread_mutex_unlock(&gate_mu);
  return f_create(ud, ns, ev);
}
static const kube_event_sink gated = {gated_create, f_patch};

static void test_async(void **state) {
  (void)state;
  fake_sink f = {0};
  kube_events_opts o = {.sink = &sink, .sink_ud = &f, .host = "h", .async = 1, .spam_qps = -1};
  kube_events *r;
  assert_int_equal(kube_events_new(&r, &o), MBCAS_OK);
  for (int i = 0; i < 5; i++)
    assert_int_equal(kube_events_record(r, &sb, "Normal", "Async", "same"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Bogus", "Async", "same"), MBCAS_EINVAL);
  kube_events_flush(r);
  assert_int_equal(f.creates, 1);
  assert_int_equal(f.patches, 4);
  assert_true(strncmp(f.last_patch, "{\"count\":5,", 11) == 0);
  /* free with a backlog: nothing leaks, nothing hangs */
  for (int i = 0; i < 50; i++) kube_events_record(r, &sb, "Normal", "Async", "m%d", i);
  kube_events_free(r); /* joins the writer: f is ours again */
  cJSON_Delete(f.last_event);
}

static void test_async_bound(void **state) {
  (void)state;
  fake_sink f = {0};
  gate_open = 0;
  kube_events_opts o = {.sink = &gated, .sink_ud = &f, .host = "h", .async = 1,
                        .queue_size = 2, .spam_qps = -1};
  kube_events *r;
  assert_int_equal(kube_events_new(&r, &o), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "B", "1"), MBCAS_OK);
  assert_int_equal(kube_events_record(r, &sb, "Normal", "B", "2"), MBCAS_OK);
  /* the one being written still counts: the third does not fit */
  assert_int_equal(kube_events_record(r, &sb, "Normal", "B", "3"), MBCAS_ETOOMANY);
  pthread_mutex_lock(&gate_mu);
  while (gate_waiting == 0) pthread_cond_wait(&gate_cv, &gate_mu); /* writer is blocked */
  pthread_mutex_unlock(&gate_mu);
  /* the getters answer while a write is in flight (they used to wait for the
   * recording lock, which the writer holds across the API call: a deadlock here) */
  assert_int_equal(kube_events_dropped(r), 1);
  assert_int_equal(kube_events_created(r), 0);
  assert_int_equal(kube_events_patched(r), 0);
  assert_int_equal(kube_events_cache_len(r), 0);
  pthread_mutex_lock(&gate_mu);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
  kube_events_flush(r);
  assert_int_equal(f.creates, 2);
  assert_string_equal(jstr(f.last_event, "message"), "2"); /* in order */
  cJSON_Delete(f.last_event);
  kube_events_free(r);
}

int main(void) {
  mbcas_log_set_level(MBCAS_LOG_OFF);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_body),
      cmocka_unit_test(test_aggregation),
      cmocka_unit_test(test_expired_event_recreated),
      cmocka_unit_test(test_lru_bound),
      cmocka_unit_test(test_args_and_cluster_scope),
      cmocka_unit_test(test_threads_one_event),
      cmocka_unit_test(test_spam_filter),
      cmocka_unit_test(test_async),
      cmocka_unit_test(test_async_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
