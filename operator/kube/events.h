/* events.h - an event recorder: core/v1 Events against an involved object, with
 * repeats aggregated instead of flooding the API server.
 *
 * The first time an (object, type, reason, message) tuple is recorded, an Event
 * named "<object>.<hex nanoseconds>" is created with count 1. Each repeat
 * PATCHes that Event (merge patch: count+1, lastTimestamp now), as client-go's
 * event correlator does; when the Event has expired on the server (404), a new
 * one is created. The tuples live in a bounded LRU cache (default 4096): the
 * least recently used is forgotten first, and its next repeat starts a new Event.
 * Messages are cut to 1024 bytes. Like client-go's spam filter, each involved
 * object has a token bucket (burst 25, one more every 5 minutes) that every
 * record, repeat or not, must pass; records over it are dropped
 * (MBCAS_ETOOMANY) so a flapping object cannot flood the API server.
 *
 * In async mode record() copies the event into a bounded queue and returns at
 * once; one thread writes them in order (a full queue drops, like client-go).
 *
 * Owns: the cache, the queue, its thread and copies of every string. Borrows:
 * the kube_client (or the sink given for tests). Thread safety: every function
 * may be called from any thread; writing is serialized (one request at a time,
 * under the lock), so two threads reporting the same tuple make one Event with
 * count 2; the counters (created, patched, dropped, cache_len) never wait for a
 * write in flight. With a write guard on the client (rest.h), a follower's
 * Events are refused (MBCAS_ENOTLEADER, logged at debug level). */
#ifndef MBCAS_KUBE_EVENTS_H
#define MBCAS_KUBE_EVENTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "rest.h"
#include "result.h"

#define KUBE_EVENT_MESSAGE_MAX 1024

typedef struct kube_events kube_events;

/* The involved object. kind and name are required; ns NULL or "" means
 * cluster-scoped (the Event then goes to namespace "default"). */
typedef struct kube_object_ref {
  const char *api_version; /* "mbcas.io/v1alpha1" */
  const char *kind;        /* "ServiceBudget" */
  const char *ns;
  const char *name;
  const char *uid;
  const char *resource_version;
} kube_object_ref;

/* Where Events go. create posts a whole core/v1 Event into ns; patch sends a
 * merge patch to an existing Event (MBCAS_ENOTFOUND when it is gone). */
typedef struct kube_event_sink {
  mbcas_rc (*create)(void *ud, const char *ns, const cJSON *event);
  mbcas_rc (*patch)(void *ud, const char *ns, const char *name, const char *merge_patch);
} kube_event_sink;

typedef struct kube_events_opts {
  kube_client *client;         /* used unless sink is set */
  const kube_event_sink *sink; /* tests */
  void *sink_ud;
  const char *component;       /* source.component; NULL: "mbcas-operator" */
  const char *host;            /* source.host / reportingInstance; NULL: hostname */
  size_t cache_size;           /* 0: 4096 */
  int spam_burst;              /* per-object bucket size; 0: 25 */
  double spam_qps;             /* per-object refill; 0: 1/300; < 0: no spam filter */
  double (*clock)(void *ud);   /* monotonic seconds for the filter; NULL: kube_now() */
  void *clock_ud;
  int async;                   /* 1: record() only queues; a thread writes (client-go's
                                  broadcaster); reconcilers never wait on the API */
  size_t queue_size;           /* async backlog bound; 0: 1000 (then drop: ETOOMANY) */
} kube_events_opts;

mbcas_rc kube_events_new(kube_events **out, const kube_events_opts *opts);
void kube_events_free(kube_events *r);

/* Record an Event. type is "Normal" or "Warning"; reason is CamelCase
 * ("MarketCleared"). Returns the result of the API call (async mode: MBCAS_OK
 * once queued), MBCAS_EINVAL for bad arguments, MBCAS_ETOOMANY when the spam
 * filter or a full async queue dropped it. Failures are also logged: callers
 * usually ignore the code. */
mbcas_rc kube_events_record(kube_events *r, const kube_object_ref *obj, const char *type,
                            const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Async mode: wait until everything queued so far has been written (tests,
 * shutdown). No-op in sync mode. */
void kube_events_flush(kube_events *r);

/* Tuples cached now, and totals since creation (creates, patches). */
size_t kube_events_cache_len(kube_events *r);
unsigned long kube_events_created(kube_events *r);
unsigned long kube_events_patched(kube_events *r);
/* Records dropped by the spam filter or a full async queue. */
unsigned long kube_events_dropped(kube_events *r);

/* metav1.Time now: "2026-11-23T19:00:00Z". Returns buf. */
const char *kube_time_rfc3339(char *buf, size_t len);

#endif
