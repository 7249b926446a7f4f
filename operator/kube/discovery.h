/* discovery.h - what the API server serves: group/version/resource, scope, verbs,
 * subresources, so support for e.g. pods/resize is detected, not assumed.
 *
 * Lazily fetches /api, /apis and one APIResourceList per group-version the first
 * time it is asked about it, and keeps them until kube_discovery_invalidate()
 * (call it after a 404 on a resource that used to exist, or when a CRD appears).
 * Lookups accept the plural ("pods"), the singular, a short name or the Kind.
 *
 * Owns: the fetched lists. Borrows: the client (must outlive it). Thread safety:
 * all functions lock a mutex; results are copied out. */
#ifndef MBCAS_KUBE_DISCOVERY_H
#define MBCAS_KUBE_DISCOVERY_H

#include "rest.h"
#include "result.h"

enum {
  KUBE_VERB_GET = 1 << 0,
  KUBE_VERB_LIST = 1 << 1,
  KUBE_VERB_WATCH = 1 << 2,
  KUBE_VERB_CREATE = 1 << 3,
  KUBE_VERB_UPDATE = 1 << 4,
  KUBE_VERB_PATCH = 1 << 5,
  KUBE_VERB_DELETE = 1 << 6,
  KUBE_VERB_DELETECOLLECTION = 1 << 7
};

typedef struct kube_resource_info {
  char group[128];   /* "" for core */
  char version[32];
  char resource[96]; /* plural ("pods"), also for a subresource */
  char subresource[32]; /* "resize" when this describes pods/resize, else "" */
  char kind[64];
  int namespaced;
  unsigned verbs;    /* KUBE_VERB_* */
} kube_resource_info;

typedef struct kube_discovery kube_discovery;

mbcas_rc kube_discovery_new(kube_discovery **out, kube_client *c);
void kube_discovery_free(kube_discovery *d);
void kube_discovery_invalidate(kube_discovery *d);

/* Resolve a resource. version NULL means the group's preferred version.
 * name: plural, singular, short name or Kind (Kind compared case-insensitively).
 * MBCAS_ENOTFOUND when the server does not serve it. */
mbcas_rc kube_discovery_resolve(kube_discovery *d, kube_resource_info *out, const char *group,
                                const char *version, const char *name, mbcas_err *err);

/* Whether resource/sub exists ("pods", "resize"): MBCAS_OK if served,
 * MBCAS_EUNSUPPORTED if the resource exists without it, other codes on errors. */
mbcas_rc kube_discovery_subresource(kube_discovery *d, kube_resource_info *out, const char *group,
                                    const char *version, const char *resource, const char *sub,
                                    mbcas_err *err);

/* The group's preferred version into buf ("v1" for core). */
mbcas_rc kube_discovery_preferred(kube_discovery *d, const char *group, char *buf, size_t len,
                                  mbcas_err *err);

/* Fill a kube_ref for info (ns and name may be NULL; ns is dropped for
 * cluster-scoped resources). The ref points into info. */
void kube_discovery_ref(const kube_resource_info *info, kube_ref *ref, const char *ns, const char *name);

#endif
