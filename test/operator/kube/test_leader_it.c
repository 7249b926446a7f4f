/* test_leader_it.c - leader election against the API-server emulator: two
 * clients (as two replicas would) on one Lease; hand-over after the leader
 * dies; immediate hand-over after a release; the process-wide write guard.
 * Waits poll with generous liveness bounds; nothing asserts on elapsed time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apiserver_fixture.h"
#include "leader.h"
#include "log.h"

static apiserver_fixture fx;
static kube_config *cfg;
static kube_client *ca, *cb;

static int setup(void **state) {
  (void)state;
  if (fixture_available() != 0) return -1;
  if (fixture_start(&fx, NULL, NULL, NULL) != 0) return -1;
  mbcas_err err;
  if (kube_config_load_files(&cfg, fx.kubeconfig, NULL, &err) != MBCAS_OK) return -1;
  if (kube_client_new(&ca, cfg, NULL, &err) != MBCAS_OK) return -1;
  if (kube_client_new(&cb, cfg, NULL, &err) != MBCAS_OK) return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  kube_client_free(ca);
  kube_client_free(cb);
  kube_config_free(cfg);
  fixture_stop(&fx);
  return 0;
}

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Poll cond up to ~limit_s (a liveness bound so a bug cannot hang CI). */
#define WAIT_FOR(cond, limit_s)                                                               \
  do {                                                                                        \
    int _i = 0;                                                                               \
    while (!(cond) && _i++ < (limit_s) * 100) msleep(10);                                     \
    assert_true(cond);                                                                        \
  } while (0)

typedef struct counts {
  int started, stopped;
} counts;
static void on_start(void *ud) { __atomic_fetch_add(&((counts *)ud)->started, 1, __ATOMIC_SEQ_CST); }
static void on_stop(void *ud) { __atomic_fetch_add(&((counts *)ud)->stopped, 1, __ATOMIC_SEQ_CST); }

static kube_leader *elector(kube_client *c, const char *id, int release, int process_wide,
                            counts *n) {
  kube_leader_opts o = {.client = c, .ns = "default", .name = "mbcas-it", .identity = id,
                        .lease_duration = 4, .renew_deadline = 3, .retry_period = 0.3,
                        .release_on_cancel = release, .process_wide = process_wide,
                        .cb = {.started_leading = on_start, .stopped_leading = on_stop, .ud = n}};
  kube_leader *l = NULL;
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_OK);
  return l;
}

static void test_handover(void **state) {
  (void)state;
  kube_leader_reset_process_state();
  counts na = {0}, nb = {0}, nc = {0};
  kube_leader *a = elector(ca, "replica-a", 0, 1, &na);
  assert_false(kube_leader_is_leader());
  assert_int_equal(kube_leader_start(a), MBCAS_OK);
  WAIT_FOR(kube_leader_leading(a), 20);
  assert_true(kube_leader_is_leader());
  assert_int_equal(kube_leader_write_guard(NULL), MBCAS_OK);

  kube_lease_record rec;
  assert_int_equal(kube_lease_get(ca, "default", "mbcas-it", &rec), MBCAS_OK);
  assert_string_equal(rec.holder, "replica-a");
  assert_int_equal(rec.lease_duration_seconds, 4);
  assert_true(rec.resource_version[0] != '\0');
  assert_true(rec.renew_time[0] != '\0');

  /* b follows while a renews */
  kube_leader *b = elector(cb, "replica-b", 1, 0, &nb);
  assert_int_equal(kube_leader_start(b), MBCAS_OK);
  WAIT_FOR(kube_leader_state_known(b), 20);
  char h[64];
  assert_string_equal(kube_leader_holder(b, h, sizeof(h)), "replica-a");
  /* across several of a's renewals, b never leads */
  char rv0[64];
  snprintf(rv0, sizeof(rv0), "%s", rec.resource_version);
  for (int i = 0; i < 3; i++) {
    WAIT_FOR(kube_lease_get(ca, "default", "mbcas-it", &rec) == MBCAS_OK &&
                 strcmp(rec.resource_version, rv0) != 0,
             20);
    snprintf(rv0, sizeof(rv0), "%s", rec.resource_version);
    assert_string_equal(rec.holder, "replica-a");
    assert_false(kube_leader_leading(b));
  }
  assert_int_equal(nb.started, 0);

  /* a dies without releasing (crash): writes stop at once, b takes over later */
  kube_leader_stop(a);
  assert_false(kube_leader_is_leader());
  assert_int_equal(kube_leader_write_guard(NULL), MBCAS_ENOTLEADER);
  WAIT_FOR(kube_leader_leading(b), 30);
  assert_int_equal(kube_lease_get(cb, "default", "mbcas-it", &rec), MBCAS_OK);
  assert_string_equal(rec.holder, "replica-b");
  assert_int_equal(rec.lease_transitions, 1);
  assert_int_equal(na.started, 1);
  assert_int_equal(na.stopped, 1);
  assert_int_equal(nb.started, 1);
  kube_leader_free(a);
  assert_false(kube_leader_is_leader()); /* the process-wide elector is gone */

  /* b releases on stop; c acquires without waiting out the lease */
  kube_leader_stop(b);
  assert_int_equal(nb.stopped, 1);
  assert_int_equal(kube_lease_get(cb, "default", "mbcas-it", &rec), MBCAS_OK);
  assert_string_equal(rec.holder, "");
  kube_leader *c = elector(ca, "replica-c", 1, 0, &nc);
  assert_int_equal(kube_leader_try(c), MBCAS_OK);
  assert_true(kube_leader_leading(c));
  assert_int_equal(kube_lease_get(ca, "default", "mbcas-it", &rec), MBCAS_OK);
  assert_string_equal(rec.holder, "replica-c");
  assert_int_equal(rec.lease_transitions, 2);
  kube_leader_free(c);
  kube_leader_free(b);
  kube_leader_reset_process_state();
}

/* Two electors racing for a fresh Lease: exactly one wins. */
static void test_race_for_new_lease(void **state) {
  (void)state;
  counts n1 = {0}, n2 = {0};
  kube_leader_opts o = {.client = ca, .ns = "default", .name = "mbcas-race", .identity = "r1",
                        .cb = {.started_leading = on_start, .ud = &n1}};
  kube_leader *l1, *l2;
  assert_int_equal(kube_leader_new(&l1, &o), MBCAS_OK);
  o.client = cb;
  o.identity = "r2";
  o.cb.ud = &n2;
  assert_int_equal(kube_leader_new(&l2, &o), MBCAS_OK);
  assert_int_equal(kube_leader_start(l1), MBCAS_OK);
  assert_int_equal(kube_leader_start(l2), MBCAS_OK);
  WAIT_FOR(kube_leader_leading(l1) || kube_leader_leading(l2), 20);
  WAIT_FOR(kube_leader_state_known(l1) && kube_leader_state_known(l2), 20);
  msleep(300);
  assert_int_equal(kube_leader_leading(l1) + kube_leader_leading(l2), 1);
  assert_int_equal(__atomic_load_n(&n1.started, __ATOMIC_SEQ_CST) +
                       __atomic_load_n(&n2.started, __ATOMIC_SEQ_CST),
                   1);
  kube_leader_free(l1);
  kube_leader_free(l2);
}

/* ---- two processes ----
 * The test binary re-executes itself as "--elect-child KUBECONFIG IDENTITY":
 * that process campaigns for Lease mbcas-proc and exits 0 once it leads
 * (without releasing), 3 if it did not within 60 s. */
static int child_main(const char *kubeconfig, const char *identity) {
  kube_config *c = NULL;
  kube_client *cl = NULL;
  if (kube_config_load_files(&c, kubeconfig, NULL, NULL) != MBCAS_OK ||
      kube_client_new(&cl, c, NULL, NULL) != MBCAS_OK)
    return 2;
  kube_leader_opts o = {.client = cl, .ns = "default", .name = "mbcas-proc", .identity = identity,
                        .lease_duration = 4, .renew_deadline = 3, .retry_period = 0.3};
  kube_leader *l;
  if (kube_leader_new(&l, &o) != MBCAS_OK || kube_leader_start(l) != MBCAS_OK) return 2;
  int rc = 3;
  for (int i = 0; i < 6000; i++) {
    if (kube_leader_leading(l)) {
      rc = 0;
      break;
    }
    msleep(10);
  }
  kube_leader_free(l);
  kube_client_free(cl);
  kube_config_free(c);
  return rc;
}

extern char **environ;

static void test_handover_between_processes(void **state) {
  (void)state;
  counts na = {0};
  kube_leader_opts o = {.client = ca, .ns = "default", .name = "mbcas-proc", .identity = "proc-a",
                        .lease_duration = 4, .renew_deadline = 3, .retry_period = 0.3,
                        .cb = {.started_leading = on_start, .stopped_leading = on_stop, .ud = &na}};
  kube_leader *a;
  assert_int_equal(kube_leader_new(&a, &o), MBCAS_OK);
  assert_int_equal(kube_leader_start(a), MBCAS_OK);
  WAIT_FOR(kube_leader_leading(a), 20);

  char self[1024];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  assert_true(n > 0);
  self[n] = '\0';
  char *argv[] = {self, "--elect-child", fx.kubeconfig, "proc-b", NULL};
  pid_t pid;
  assert_int_equal(posix_spawn(&pid, self, NULL, NULL, argv, environ), 0);

  /* while a renews, the child keeps following */
  kube_lease_record rec;
  char rv0[64] = "";
  for (int i = 0; i < 5; i++) {
    WAIT_FOR(kube_lease_get(ca, "default", "mbcas-proc", &rec) == MBCAS_OK &&
                 strcmp(rec.resource_version, rv0) != 0,
             20);
    snprintf(rv0, sizeof(rv0), "%s", rec.resource_version);
    assert_string_equal(rec.holder, "proc-a");
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* still campaigning */
  int transitions = rec.lease_transitions;

  /* a crashes (stops renewing, no release): the other process takes over */
  kube_leader_stop(a);
  pid_t w = 0;
  for (int i = 0; i < 9000 && w == 0; i++) {
    w = waitpid(pid, &status, WNOHANG);
    if (w == 0) msleep(10);
  }
  if (w == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("child never became leader");
  }
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(kube_lease_get(ca, "default", "mbcas-proc", &rec), MBCAS_OK);
  assert_string_equal(rec.holder, "proc-b");
  assert_int_equal(rec.lease_transitions, transitions + 1);
  assert_int_equal(na.started, 1);
  assert_int_equal(na.stopped, 1);
  kube_leader_free(a);
}

/* The operator's wiring: one client for everything, its writes gated by
 * kube_leader_rest_guard. The elector's own Lease writes go through the same
 * guarded client; other writes are refused (nothing reaches the server) until
 * it leads and again once it stopped. */
static void test_guarded_client(void **state) {
  (void)state;
  kube_leader_reset_process_state();
  mbcas_err err;
  kube_client *cg = NULL;
  assert_int_equal(kube_client_new(&cg, cfg, NULL, &err), MBCAS_OK);
  kube_client_set_write_guard(cg, kube_leader_rest_guard, NULL);
  counts n = {0};
  kube_leader_opts o = {.client = cg, .ns = "default", .name = "mbcas-guarded", .identity = "guarded",
                        .lease_duration = 4, .renew_deadline = 3, .retry_period = 0.3,
                        .process_wide = 1,
                        .cb = {.started_leading = on_start, .stopped_leading = on_stop, .ud = &n}};
  kube_leader *l = NULL;
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_OK);
  kube_ref cm = {NULL, "v1", "configmaps", "default", NULL, NULL};
  kube_ref cm1 = {NULL, "v1", "configmaps", "default", "guarded-cm", NULL};
  cJSON *obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                           "\"metadata\":{\"name\":\"guarded-cm\"},\"data\":{\"k\":\"v1\"}}");
  assert_non_null(obj);
  /* a follower: refused, nothing on the server */
  assert_int_equal(kube_create(cg, NULL, &cm, obj, NULL, NULL, NULL), MBCAS_ENOTLEADER);
  cJSON *got = NULL;
  assert_int_equal(kube_get(ca, &got, &cm1, NULL, NULL), MBCAS_ENOTFOUND);
  /* the elector acquires its Lease through the guarded client, then writes pass */
  assert_int_equal(kube_leader_start(l), MBCAS_OK);
  WAIT_FOR(kube_leader_leading(l), 20);
  assert_int_equal(kube_create(cg, NULL, &cm, obj, NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_get(ca, &got, &cm1, NULL, NULL), MBCAS_OK);
  cJSON_Delete(got);
  /* stopped (as after a lost lease): writes refused again, reads still work */
  kube_leader_stop(l);
  assert_int_equal(n.stopped, 1);
  assert_int_equal(kube_patch(cg, NULL, &cm1, KUBE_PATCH_MERGE, "{\"data\":{\"k\":\"v2\"}}", NULL, NULL, NULL),
                   MBCAS_ENOTLEADER);
  assert_int_equal(kube_get(cg, &got, &cm1, NULL, NULL), MBCAS_OK);
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(got, "data");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "k")), "v1");
  cJSON_Delete(got);
  /* the Lease itself can still be written (release, or a later re-election) */
  kube_lease_record rec;
  assert_int_equal(kube_lease_get(cg, "default", "mbcas-guarded", &rec), MBCAS_OK);
  assert_int_equal(kube_lease_update(cg, "default", "mbcas-guarded", &rec, NULL), MBCAS_OK);
  kube_leader_free(l);
  kube_leader_reset_process_state();
  assert_int_equal(kube_delete(cg, NULL, &cm1, NULL, NULL, NULL), MBCAS_OK);
  cJSON_Delete(obj);
  kube_client_free(cg);
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--elect-child") == 0) {
    mbcas_log_set_level(MBCAS_LOG_OFF);
    return child_main(argv[2], argv[3]);
  }
  mbcas_log_set_level(MBCAS_LOG_WARN);
  if (fixture_available() != 0) {
    fprintf(stderr, "emulator not found: skipping\n");
    return 0;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handover),
      cmocka_unit_test(test_race_for_new_lease),
      cmocka_unit_test(test_guarded_client),
      cmocka_unit_test(test_handover_between_processes),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
