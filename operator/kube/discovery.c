/* discovery.c - lazy API discovery. See discovery.h. */
#include "discovery.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct gv_entry {
  struct gv_entry *next;
  char gv[192]; /* "group/version" or "v1" */
  cJSON *list;  /* APIResourceList */
} gv_entry;

struct kube_discovery {
  kube_client *c;
  pthread_mutex_t mu;
  cJSON *groups; /* APIGroupList from /apis */
  gv_entry *gvs;
};

mbcas_rc kube_discovery_new(kube_discovery **out, kube_client *c) {
  *out = NULL;
  if (!c) return MBCAS_EINVAL;
  kube_discovery *d = calloc(1, sizeof *d);
  if (!d) return MBCAS_ENOMEM;
  d->c = c;
  pthread_mutex_init(&d->mu, NULL);
  *out = d;
  return MBCAS_OK;
}

static void clear_locked(kube_discovery *d) {
  cJSON_Delete(d->groups);
  d->groups = NULL;
  while (d->gvs) {
    gv_entry *n = d->gvs->next;
    cJSON_Delete(d->gvs->list);
    free(d->gvs);
    d->gvs = n;
  }
}

void kube_discovery_invalidate(kube_discovery *d) {
  pthread_mutex_lock(&d->mu);
  clear_locked(d);
  pthread_mutex_unlock(&d->mu);
}

void kube_discovery_free(kube_discovery *d) {
  if (!d) return;
  clear_locked(d);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

static mbcas_rc get_json(kube_discovery *d, const char *path, cJSON **out, mbcas_err *err) {
  kube_response *r = NULL;
  mbcas_rc rc = kube_request(d->c, &r, "GET", path, NULL, NULL, 0, NULL, err);
  if (rc) {
    kube_response_free(r);
    return rc;
  }
  *out = cJSON_ParseWithLength(r->body, r->len);
  kube_response_free(r);
  if (!*out) return mbcas_err_set(err, MBCAS_EINVAL, path, "discovery response is not JSON");
  return MBCAS_OK;
}

static const char *jstr(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static mbcas_rc preferred_locked(kube_discovery *d, const char *group, char *buf, size_t len,
                                 mbcas_err *err) {
  if (!group || !*group) {
    snprintf(buf, len, "v1");
    return MBCAS_OK;
  }
  if (!d->groups) {
    mbcas_rc rc = get_json(d, "/apis", &d->groups, err);
    if (rc) return rc;
  }
  const cJSON *g;
  cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(d->groups, "groups")) {
    const char *n = jstr(g, "name");
    if (!n || strcmp(n, group)) continue;
    const char *v = jstr(cJSON_GetObjectItemCaseSensitive(g, "preferredVersion"), "version");
    if (!v) {
      const cJSON *v0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(g, "versions"), 0);
      v = jstr(v0, "version");
    }
    if (!v) break;
    snprintf(buf, len, "%s", v);
    return MBCAS_OK;
  }
  return mbcas_err_set(err, MBCAS_ENOTFOUND, "group", "API group %s is not served", group);
}

static mbcas_rc gv_locked(kube_discovery *d, const char *group, const char *version, cJSON **list,
                          mbcas_err *err) {
  char gv[192];
  if (group && *group)
    snprintf(gv, sizeof gv, "%s/%s", group, version);
  else
    snprintf(gv, sizeof gv, "%s", version);
  for (gv_entry *e = d->gvs; e; e = e->next)
    if (!strcmp(e->gv, gv)) {
      *list = e->list;
      return MBCAS_OK;
    }
  char path[256];
  snprintf(path, sizeof path, "%s/%s", group && *group ? "/apis" : "/api", gv);
  cJSON *j = NULL;
  mbcas_rc rc = get_json(d, path, &j, err);
  if (rc == MBCAS_ENOTFOUND)
    return mbcas_err_set(err, rc, "version", "%s is not served", gv);
  if (rc) return rc;
  gv_entry *e = calloc(1, sizeof *e);
  if (!e) {
    cJSON_Delete(j);
    return MBCAS_ENOMEM;
  }
  snprintf(e->gv, sizeof e->gv, "%s", gv);
  e->list = j;
  e->next = d->gvs;
  d->gvs = e;
  *list = j;
  return MBCAS_OK;
}

static unsigned verbs_of(const cJSON *r) {
  static const char *const names[] = {"get", "list", "watch", "create", "update", "patch", "delete",
                                      "deletecollection"};
  unsigned v = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r, "verbs")) {
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
      if (cJSON_IsString(x) && !strcmp(x->valuestring, names[i])) v |= 1u << i;
  }
  return v;
}

static int matches(const cJSON *r, const char *name) {
  const char *n = jstr(r, "name");
  if (!n) return 0;
  if (!strcmp(n, name)) return 1;
  if (strchr(n, '/')) return 0; /* subresources only by exact name */
  const char *s = jstr(r, "singularName");
  if (s && *s && !strcmp(s, name)) return 1;
  const char *k = jstr(r, "kind");
  if (k && !strcasecmp(k, name)) return 1;
  const cJSON *sn;
  cJSON_ArrayForEach(sn, cJSON_GetObjectItemCaseSensitive(r, "shortNames"))
  if (cJSON_IsString(sn) && !strcmp(sn->valuestring, name)) return 1;
  return 0;
}

static void fill(kube_resource_info *out, const char *group, const char *version, const cJSON *r) {
  memset(out, 0, sizeof *out);
  snprintf(out->group, sizeof out->group, "%s", group ? group : "");
  snprintf(out->version, sizeof out->version, "%s", version);
  const char *n = jstr(r, "name");
  const char *slash = strchr(n, '/');
  if (slash) {
    snprintf(out->resource, sizeof out->resource, "%.*s", (int)(slash - n), n);
    snprintf(out->subresource, sizeof out->subresource, "%s", slash + 1);
  } else {
    snprintf(out->resource, sizeof out->resource, "%s", n);
  }
  snprintf(out->kind, sizeof out->kind, "%s", jstr(r, "kind") ? jstr(r, "kind") : "");
  out->namespaced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "namespaced"));
  out->verbs = verbs_of(r);
}

static mbcas_rc resolve_locked(kube_discovery *d, kube_resource_info *out, const char *group,
                               const char *version, const char *name, mbcas_err *err) {
  char ver[32];
  if (!version || !*version) {
    mbcas_rc rc = preferred_locked(d, group, ver, sizeof ver, err);
    if (rc) return rc;
    version = ver;
  }
  cJSON *list = NULL;
  mbcas_rc rc = gv_locked(d, group, version, &list, err);
  if (rc) return rc;
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(list, "resources")) {
    if (matches(r, name)) {
      fill(out, group, version, r);
      return MBCAS_OK;
    }
  }
  return mbcas_err_set(err, MBCAS_ENOTFOUND, "resource", "%s is not served in %s/%s", name,
                       group && *group ? group : "core", version);
}

mbcas_rc kube_discovery_resolve(kube_discovery *d, kube_resource_info *out, const char *group,
                                const char *version, const char *name, mbcas_err *err) {
  if (!name || !*name) return MBCAS_EINVAL;
  pthread_mutex_lock(&d->mu);
  mbcas_rc rc = resolve_locked(d, out, group, version, name, err);
  pthread_mutex_unlock(&d->mu);
  return rc;
}

mbcas_rc kube_discovery_subresource(kube_discovery *d, kube_resource_info *out, const char *group,
                                    const char *version, const char *resource, const char *sub,
                                    mbcas_err *err) {
  if (!resource || !sub) return MBCAS_EINVAL;
  pthread_mutex_lock(&d->mu);
  kube_resource_info base;
  mbcas_rc rc = resolve_locked(d, &base, group, version, resource, err);
  if (rc == MBCAS_OK) {
    char full[160];
    snprintf(full, sizeof full, "%s/%s", base.resource, sub);
    rc = resolve_locked(d, out, group, base.version, full, NULL);
    if (rc == MBCAS_ENOTFOUND)
      rc = mbcas_err_set(err, MBCAS_EUNSUPPORTED, "subresource", "%s is not served", full);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

mbcas_rc kube_discovery_preferred(kube_discovery *d, const char *group, char *buf, size_t len,
                                  mbcas_err *err) {
  pthread_mutex_lock(&d->mu);
  mbcas_rc rc = preferred_locked(d, group, buf, len, err);
  pthread_mutex_unlock(&d->mu);
  return rc;
}

void kube_discovery_ref(const kube_resource_info *info, kube_ref *ref, const char *ns, const char *name) {
  memset(ref, 0, sizeof *ref);
  ref->group = info->group;
  ref->version = info->version;
  ref->resource = info->resource;
  ref->ns = info->namespaced ? ns : NULL;
  ref->name = name;
  if (info->subresource[0]) ref->subresource = info->subresource;
}
