/* test_leader.c - leader election against an in-memory Lease with a fake clock:
 * acquire, renew, hand-over after expiry, renew deadline, conflicts, release,
 * the process-wide write guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leader.h"
#include "log.h"

/* ---- in-memory Lease ---- */
typedef struct fake_lease {
  int exists;
  kube_lease_record rec;
  long rv;
  int fail; /* every call fails with MBCAS_EUNAVAILABLE */
  int gets, creates, updates;
} fake_lease;

static mbcas_rc f_get(void *ud, kube_lease_record *out) {
  fake_lease *f = ud;
  f->gets++;
  if (f->fail) return MBCAS_EUNAVAILABLE;
  if (!f->exists) return MBCAS_ENOTFOUND;
  *out = f->rec;
  return MBCAS_OK;
}
static mbcas_rc f_create(void *ud, const kube_lease_record *rec, kube_lease_record *out) {
  fake_lease *f = ud;
  f->creates++;
  if (f->fail) return MBCAS_EUNAVAILABLE;
  if (f->exists) return MBCAS_ECONFLICT;
  f->exists = 1;
  f->rec = *rec;
  snprintf(f->rec.resource_version, sizeof(f->rec.resource_version), "%ld", ++f->rv);
  if (out) *out = f->rec;
  return MBCAS_OK;
}
static mbcas_rc f_update(void *ud, const kube_lease_record *rec, kube_lease_record *out) {
  fake_lease *f = ud;
  __atomic_fetch_add(&f->updates, 1, __ATOMIC_SEQ_CST);
  if (f->fail) return MBCAS_EUNAVAILABLE;
  if (!f->exists) return MBCAS_ENOTFOUND;
  if (strcmp(rec->resource_version, f->rec.resource_version) != 0) return MBCAS_ECONFLICT;
  f->rec = *rec;
  snprintf(f->rec.resource_version, sizeof(f->rec.resource_version), "%ld", ++f->rv);
  if (out) *out = f->rec;
  return MBCAS_OK;
}
static const kube_lease_ops fops = {f_get, f_create, f_update};

static double fake_now;
static double fake_clock(void *ud) {
  (void)ud;
  return fake_now;
}

typedef struct events {
  int started, stopped, new_leader;
  char last_leader[256];
} events;
static void on_start(void *ud) { ((events *)ud)->started++; }
static void on_stop(void *ud) { ((events *)ud)->stopped++; }
static void on_new(void *ud, const char *id) {
  events *e = ud;
  e->new_leader++;
  snprintf(e->last_leader, sizeof(e->last_leader), "%s", id);
}

static kube_leader *make(fake_lease *f, const char *id, events *ev, kube_metrics *m,
                         int process_wide) {
  kube_leader_opts o = {.ops = &fops, .ops_ud = f, .ns = "mbcas-system", .name = "mbcas-leader",
                        .identity = id, .clock = fake_clock, .metrics = m,
                        .process_wide = process_wide, .release_on_cancel = 1,
                        .cb = {on_start, on_stop, on_new, ev}};
  kube_leader *l = NULL;
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_OK);
  return l;
}

static void test_acquire_renew_handover(void **state) {
  (void)state;
  kube_leader_reset_process_state();
  fake_now = 1000;
  fake_lease f = {0};
  events ea = {0}, eb = {0};
  kube_metrics *m;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_leader *a = make(&f, "a", &ea, m, 0), *b = make(&f, "b", &eb, NULL, 0);
  assert_int_equal(kube_leader_state_known(a), 0);
  char why[64] = "";
  assert_int_equal(kube_leader_ready_check(a, why, sizeof(why)), MBCAS_EUNAVAILABLE);
  assert_true(why[0] != '\0');

  /* a creates the Lease and leads */
  assert_int_equal(kube_leader_try(a), MBCAS_OK);
  assert_int_equal(f.creates, 1);
  assert_true(kube_leader_leading(a));
  assert_int_equal(ea.started, 1);
  assert_string_equal(f.rec.holder, "a");
  assert_int_equal(f.rec.lease_duration_seconds, 15);
  assert_int_equal(f.rec.lease_transitions, 0);
  assert_true(kube_metric_value(kube_metrics_find(m, "leader_election_master_status"),
                                (const char *const[]){"mbcas-leader"}) == 1);

  /* b sees it held and waits */
  assert_int_equal(kube_leader_try(b), MBCAS_ENOTLEADER);
  assert_false(kube_leader_leading(b));
  assert_true(kube_leader_state_known(b));
  assert_int_equal(kube_leader_ready_check(b, why, sizeof(why)), MBCAS_OK);
  assert_int_equal(eb.new_leader, 1);
  assert_string_equal(eb.last_leader, "a");
  char h[64];
  assert_string_equal(kube_leader_holder(b, h, sizeof(h)), "a");

  /* a renews every 2 s; b keeps seeing fresh renewals and never takes over */
  for (int i = 0; i < 20; i++) {
    fake_now += 2;
    assert_int_equal(kube_leader_try(a), MBCAS_OK);
    assert_int_equal(kube_leader_try(b), MBCAS_ENOTLEADER);
  }
  assert_int_equal(ea.started, 1);
  assert_int_equal(f.rec.lease_transitions, 0);

  /* a dies (stops renewing). Until 15 s after b last saw a change, b waits. */
  double last_change = fake_now;
  fake_now = last_change + 14.9;
  assert_int_equal(kube_leader_try(b), MBCAS_ENOTLEADER);
  /* a's own view: past its renew deadline it no longer leads, even without a try */
  assert_false(kube_leader_leading(a));
  fake_now = last_change + 15.1;
  assert_int_equal(kube_leader_try(b), MBCAS_OK);
  assert_true(kube_leader_leading(b));
  assert_int_equal(eb.started, 1);
  assert_string_equal(f.rec.holder, "b");
  assert_int_equal(f.rec.lease_transitions, 1);

  /* a comes back: sees b, drops leadership formally and does not write */
  int updates = f.updates;
  assert_int_equal(kube_leader_try(a), MBCAS_ENOTLEADER);
  assert_int_equal(f.updates, updates);
  assert_int_equal(ea.stopped, 1);
  assert_int_equal(ea.new_leader, 2);
  assert_string_equal(ea.last_leader, "b");
  assert_true(kube_metric_value(kube_metrics_find(m, "leader_election_master_status"),
                                (const char *const[]){"mbcas-leader"}) == 0);

  /* b stops with release_on_cancel: holder cleared, a may take it at once */
  kube_leader_stop(b);
  assert_int_equal(eb.stopped, 1);
  assert_string_equal(f.rec.holder, "");
  assert_int_equal(f.rec.lease_duration_seconds, 1);
  assert_int_equal(kube_leader_try(a), MBCAS_OK);
  assert_true(kube_leader_leading(a));
  assert_int_equal(f.rec.lease_transitions, 2);
  assert_int_equal(ea.started, 2);

  kube_leader_free(a);
  assert_int_equal(ea.stopped, 2);
  kube_leader_free(b);
  kube_metrics_free(m);
}

static void test_renew_deadline(void **state) {
  (void)state;
  kube_leader_reset_process_state();
  fake_now = 50;
  fake_lease f = {0};
  events e = {0};
  kube_leader *l = make(&f, "me", &e, NULL, 1);
  assert_false(kube_leader_is_leader()); /* process-wide elector exists, not leading */
  assert_int_equal(kube_leader_write_guard(NULL), MBCAS_ENOTLEADER);
  assert_int_equal(kube_leader_write_allowed("", "pods"), MBCAS_ENOTLEADER);
  assert_int_equal(kube_leader_write_allowed(NULL, NULL), MBCAS_ENOTLEADER);
  assert_int_equal(kube_leader_write_allowed("coordination.k8s.io", "leases"), MBCAS_OK);
  assert_int_equal(kube_leader_try(l), MBCAS_OK);
  assert_true(kube_leader_is_leader());
  assert_int_equal(kube_leader_write_allowed("", "pods"), MBCAS_OK);
  assert_int_equal(kube_leader_write_guard(NULL), MBCAS_OK);

  /* the API server becomes unreachable */
  f.fail = 1;
  fake_now += 2;
  assert_int_equal(kube_leader_try(l), MBCAS_EUNAVAILABLE);
  assert_true(kube_leader_is_leader()); /* still inside the 10 s deadline */
  fake_now += 7.9;
  assert_int_equal(kube_leader_try(l), MBCAS_EUNAVAILABLE);
  assert_true(kube_leader_is_leader());
  assert_int_equal(e.stopped, 0);
  /* writes stop at the deadline even before the elector runs again */
  fake_now = 50 + 10;
  assert_false(kube_leader_is_leader());
  assert_int_equal(kube_leader_write_guard(NULL), MBCAS_ENOTLEADER);
  assert_int_equal(e.stopped, 0);
  assert_int_equal(kube_leader_try(l), MBCAS_EUNAVAILABLE);
  assert_int_equal(e.stopped, 1); /* and the callback follows */

  /* the lease is still ours on the server: recovering re-acquires */
  f.fail = 0;
  fake_now += 1;
  assert_int_equal(kube_leader_try(l), MBCAS_OK);
  assert_true(kube_leader_is_leader());
  assert_int_equal(e.started, 2);
  assert_int_equal(f.rec.lease_transitions, 0); /* same holder: no transition */

  kube_leader_free(l);
  assert_false(kube_leader_is_leader()); /* freed elector leaves a follower */
  kube_leader_reset_process_state();
  assert_true(kube_leader_is_leader()); /* no election configured: writes allowed */
}

static void test_conflict(void **state) {
  (void)state;
  fake_now = 0;
  fake_lease f = {0};
  events ea = {0}, eb = {0};
  kube_leader *a = make(&f, "a", &ea, NULL, 0), *b = make(&f, "b", &eb, NULL, 0);
  /* both see an expired lease from a dead holder; only one update wins */
  f.exists = 1;
  snprintf(f.rec.holder, sizeof(f.rec.holder), "dead");
  f.rec.lease_duration_seconds = 15;
  snprintf(f.rec.resource_version, sizeof(f.rec.resource_version), "7");
  f.rv = 7;
  assert_int_equal(kube_leader_try(a), MBCAS_ENOTLEADER);
  assert_int_equal(kube_leader_try(b), MBCAS_ENOTLEADER);
  fake_now = 16;
  assert_int_equal(kube_leader_try(a), MBCAS_OK);
  /* b's stale view: a conflict on update would happen if it had read before a
   * wrote; emulate by bumping b's read to a stale rv through a direct update */
  kube_lease_record stale = f.rec;
  snprintf(stale.resource_version, sizeof(stale.resource_version), "7");
  assert_int_equal(f_update(&f, &stale, NULL), MBCAS_ECONFLICT);
  assert_int_equal(kube_leader_try(b), MBCAS_ENOTLEADER); /* a's write is fresh */
  assert_true(kube_leader_leading(a));
  assert_false(kube_leader_leading(b));
  assert_int_equal(f.rec.lease_transitions, 1);
  kube_leader_free(a);
  kube_leader_free(b);
}

static void test_options(void **state) {
  (void)state;
  kube_leader *l;
  fake_lease f = {0};
  kube_leader_opts o = {.ops = &fops, .ops_ud = &f, .ns = "ns", .name = "n"};
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_OK);
  assert_non_null(kube_leader_identity(l)); /* generated */
  assert_true(strlen(kube_leader_identity(l)) > 2);
  kube_leader_free(l);
  o.lease_duration = 5; /* not > renew deadline 10 */
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_EINVAL);
  o.lease_duration = 15;
  o.retry_period = 9; /* renew deadline must exceed 1.2 x retry */
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_EINVAL);
  o.retry_period = 0;
  o.ns = "";
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_EINVAL);
  o.ns = "ns";
  o.ops = NULL; /* and no client */
  assert_int_equal(kube_leader_new(&l, &o), MBCAS_EINVAL);
  assert_int_equal(kube_leader_new(&l, NULL), MBCAS_EINVAL);
  kube_leader_free(NULL);
  assert_int_equal(kube_leader_try(NULL), MBCAS_EINVAL);
  assert_false(kube_leader_leading(NULL));
  char t[40];
  kube_time_rfc3339_micro(t, sizeof(t));
  assert_int_equal(strlen(t), 27); /* 2026-11-23T19:00:00.000000Z */
  assert_int_equal(t[10], 'T');
  assert_int_equal(t[26], 'Z');
}

/* The thread: with the real clock and short periods, a starts, leads, and
 * stops; b then takes over after release. Polls, never asserts on time. */
static void test_thread(void **state) {
  (void)state;
  kube_leader_reset_process_state();
  fake_lease f = {0};
  events ea = {0};
  kube_leader_opts o = {.ops = &fops, .ops_ud = &f, .ns = "ns", .name = "n", .identity = "a",
                        .lease_duration = 1.5, .renew_deadline = 1, .retry_period = 0.05,
                        .release_on_cancel = 1, .cb = {on_start, on_stop, on_new, &ea}};
  kube_leader *a;
  assert_int_equal(kube_leader_new(&a, &o), MBCAS_OK);
  assert_int_equal(kube_leader_start(a), MBCAS_OK);
  assert_int_equal(kube_leader_start(a), MBCAS_EINVAL);
  while (!kube_leader_leading(a)) {
    const struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
  /* a few renewals happen */
  while (__atomic_load_n(&f.updates, __ATOMIC_SEQ_CST) < 3) {
    const struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
  kube_leader_stop(a);
  assert_int_equal(ea.started, 1);
  assert_int_equal(ea.stopped, 1);
  assert_string_equal(f.rec.holder, "");
  kube_leader_free(a);
}

int main(void) {
  mbcas_log_set_level(MBCAS_LOG_OFF);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acquire_renew_handover),
      cmocka_unit_test(test_renew_deadline),
      cmocka_unit_test(test_conflict),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_thread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
