/* leader.h - leader election on a coordination.k8s.io/v1 Lease (client-go's
 * leaderelection, same defaults: 15 s lease, 10 s renew deadline, 2 s retry).
 *
 * A thread tries to acquire the Lease every retry period (jittered); the Lease
 * is free when it has no holder or its holder has not renewed it for
 * leaseDurationSeconds as seen on OUR clock since we last saw it change
 * (clocks of different machines are never compared). Once leading it renews
 * every retry period; a renewal that has not succeeded within the renew
 * deadline since the last success ends leadership. Key design choice: losing
 * the lease stops every write at once, without waiting for the thread: the
 * leader state is "renewed recently", checked against the clock on every call
 * of kube_leader_is_leader() / kube_leader_write_guard(), so a renewal stuck in
 * a slow request cannot keep a stale leader writing. The renew deadline is
 * shorter than the lease, so we stop before anyone else may start.
 *
 * Owns: its thread, a copy of the identity and names. Borrows: the kube_client
 * (must outlive the elector). Thread safety: is_leader and write_guard may be
 * called from any thread; callbacks run on the elector thread. */
#ifndef MBCAS_KUBE_LEADER_H
#define MBCAS_KUBE_LEADER_H

#include "metrics.h"
#include "queue.h"
#include "rest.h"
#include "result.h"

typedef struct kube_leader kube_leader;

/* The fields of a Lease the election uses. Times are RFC 3339 with
 * microseconds ("2026-11-23T19:00:00.000000Z"), as the API stores MicroTime. */
typedef struct kube_lease_record {
  char holder[256];           /* spec.holderIdentity; "" when released */
  int lease_duration_seconds; /* spec.leaseDurationSeconds */
  char acquire_time[40];      /* spec.acquireTime */
  char renew_time[40];        /* spec.renewTime */
  int lease_transitions;      /* spec.leaseTransitions */
  char resource_version[64];  /* metadata.resourceVersion (for update) */
} kube_lease_record;

/* How the elector reads and writes its Lease. The default goes through a
 * kube_client; tests may pass their own. get returns MBCAS_ENOTFOUND when the
 * Lease does not exist; update must fail with MBCAS_ECONFLICT when
 * rec->resource_version is stale. create/update fill *out (may be NULL) with
 * the stored record. */
typedef struct kube_lease_ops {
  mbcas_rc (*get)(void *ud, kube_lease_record *out);
  mbcas_rc (*create)(void *ud, const kube_lease_record *rec, kube_lease_record *out);
  mbcas_rc (*update)(void *ud, const kube_lease_record *rec, kube_lease_record *out);
} kube_lease_ops;

typedef struct kube_leader_callbacks {
  void (*started_leading)(void *ud);   /* may be NULL */
  void (*stopped_leading)(void *ud);   /* may be NULL */
  void (*new_leader)(void *ud, const char *identity); /* holder changed; may be NULL */
  void *ud;
} kube_leader_callbacks;

typedef struct kube_leader_opts {
  kube_client *client;        /* used unless ops is set */
  const kube_lease_ops *ops;  /* NULL: Lease through client */
  void *ops_ud;
  const char *ns;             /* Lease namespace; required */
  const char *name;           /* Lease name; required */
  const char *identity;       /* NULL: hostname + "_" + random suffix */
  double lease_duration;      /* seconds; 0: 15 */
  double renew_deadline;      /* 0: 10 (must be < lease_duration) */
  double retry_period;        /* 0: 2 (must be < renew_deadline) */
  int release_on_cancel;      /* on stop, give the Lease up (holder "") */
  int reacquire;              /* after losing the lease, try to lead again
                                 (default 0: stay a follower, like client-go
                                 where the process exits) */
  kube_leader_callbacks cb;
  kube_clock_fn clock;        /* NULL: kube_now(); tests inject one */
  void *clock_ud;
  kube_metrics *metrics;      /* leader_election_master_status gauge; may be NULL */
  int process_wide;           /* 1: this elector drives kube_leader_is_leader() */
} kube_leader_opts;

/* Validate and copy the options. MBCAS_EINVAL on bad durations or names. */
mbcas_rc kube_leader_new(kube_leader **out, const kube_leader_opts *opts);
/* Start the election thread. */
mbcas_rc kube_leader_start(kube_leader *l);
/* Stop the thread; while leading this calls stopped_leading, and releases the
 * Lease when release_on_cancel. Idempotent. */
void kube_leader_stop(kube_leader *l);
/* Stop and free; accepts NULL. */
void kube_leader_free(kube_leader *l);

/* One acquire-or-renew attempt on the calling thread (the thread's step; for
 * tests with an injected clock, without start). Updates the leader state and
 * runs callbacks. Returns MBCAS_OK when this elector holds the Lease now. */
mbcas_rc kube_leader_try(kube_leader *l);

/* This elector leads and renewed within the renew deadline. */
int kube_leader_leading(kube_leader *l);
/* A leader state is known: we lead, or we have seen the Lease at least once
 * (someone else leads). For /readyz. */
int kube_leader_state_known(kube_leader *l);
/* Identity of the last holder observed ("" when none). Copies into buf. */
const char *kube_leader_holder(kube_leader *l, char *buf, size_t len);
const char *kube_leader_identity(kube_leader *l);

/* A /readyz check (kube_http_check signature, ud = the kube_leader): MBCAS_OK
 * once the leader state is known, MBCAS_EUNAVAILABLE before. */
mbcas_rc kube_leader_ready_check(void *ud, char *why, size_t why_len);

/* Process-wide state, driven by the elector created with process_wide = 1:
 * 1 when no such elector was ever created (leader election disabled), else
 * whether it leads right now. Once an elector existed, its loss or its free
 * leaves the process a follower. */
int kube_leader_is_leader(void);
/* Write hook for rest.c and reconcilers: MBCAS_OK when writes are allowed,
 * MBCAS_ENOTLEADER otherwise. ud is ignored (fits a hook signature). */
mbcas_rc kube_leader_write_guard(void *ud);
/* The guard for a write to group/resource, for rest.c to call before POST, PUT,
 * PATCH and DELETE: writes to coordination.k8s.io leases (the election itself)
 * always pass; everything else as kube_leader_write_guard(). */
mbcas_rc kube_leader_write_allowed(const char *group, const char *resource);
/* kube_leader_write_allowed() as a rest.h write guard (ud ignored): non-zero
 * when allowed. Install once on the operator's client:
 *   kube_client_set_write_guard(client, kube_leader_rest_guard, NULL); */
int kube_leader_rest_guard(void *ud, const kube_ref *ref, const char *verb);
/* Forget the process-wide elector (tests only). */
void kube_leader_reset_process_state(void);

/* Lease operations through a kube_client (what the default uses). */
mbcas_rc kube_lease_get(kube_client *c, const char *ns, const char *name,
                        kube_lease_record *out);
mbcas_rc kube_lease_create(kube_client *c, const char *ns, const char *name,
                           const kube_lease_record *rec, kube_lease_record *out);
mbcas_rc kube_lease_update(kube_client *c, const char *ns, const char *name,
                           const kube_lease_record *rec, kube_lease_record *out);

/* Current UTC wall-clock time as RFC 3339 with microseconds. Returns buf. */
const char *kube_time_rfc3339_micro(char *buf, size_t len);

#endif
