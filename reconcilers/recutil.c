/* recutil.c - see recutil.h. */
#include "recutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recapi.h"

const cJSON *ru_get(const cJSON *o, const char *path) {
  char key[128];
  const char *p = path;
  while (o && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof key) return NULL;
    memcpy(key, p, n);
    key[n] = 0;
    o = cJSON_GetObjectItemCaseSensitive(o, key);
    p += n + (dot ? 1 : 0);
  }
  return o;
}

const char *ru_str(const cJSON *o, const char *path) {
  const cJSON *v = ru_get(o, path);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

double ru_num(const cJSON *o, const char *path, double dflt) {
  const cJSON *v = ru_get(o, path);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int ru_pod_ready(const cJSON *pod) {
  const char *phase = ru_str(pod, "status.phase");
  if (!phase || strcmp(phase, "Running") != 0) return 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, ru_get(pod, "status.conditions")) {
    const char *t = ru_str(c, "type"), *s = ru_str(c, "status");
    if (t && s && strcmp(t, "Ready") == 0) return strcmp(s, "True") == 0;
  }
  return 0;
}

int ru_pod_terminating(const cJSON *pod) {
  if (ru_get(pod, "metadata.deletionTimestamp") &&
      !cJSON_IsNull(ru_get(pod, "metadata.deletionTimestamp")))
    return 1;
  const char *phase = ru_str(pod, "status.phase");
  return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

int ru_kpod_ready(const kube_pod *pod) {
  return pod->phase && strcmp(pod->phase, "Running") == 0 && pod->ready;
}

int ru_kpod_terminating(const kube_pod *pod) {
  if (pod->deletion_timestamp) return 1;
  return pod->phase && (strcmp(pod->phase, "Succeeded") == 0 || strcmp(pod->phase, "Failed") == 0);
}

const char *ru_kpod_key(const kube_pod *pod, char *buf, size_t len) {
  if (pod->ns && *pod->ns) snprintf(buf, len, "%s/%s", pod->ns, pod->name ? pod->name : "");
  else snprintf(buf, len, "%s", pod->name ? pod->name : "");
  return buf;
}

/* Labels to match: a JSON object or a pod record's. */
typedef struct labels_src {
  const cJSON *json;
  const kube_pod *pod;
} labels_src;

static const char *label_value(const labels_src *l, const char *key) {
  if (l->pod) return kube_pod_label(l->pod, key);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(l->json, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int labels_match(const cJSON *match_labels, const labels_src *l) {
  const cJSON *kv;
  cJSON_ArrayForEach(kv, match_labels) {
    const char *v = label_value(l, kv->string);
    if (!cJSON_IsString(kv) || !v || strcmp(v, kv->valuestring) != 0) return 0;
  }
  return 1;
}

int ru_labels_match(const cJSON *match_labels, const cJSON *labels) {
  labels_src l = {labels, NULL};
  return labels_match(match_labels, &l);
}

static int label_selector_match(const cJSON *sel, const labels_src *l) {
  const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
  const cJSON *me = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
  if (cJSON_GetArraySize(ml) == 0 && cJSON_GetArraySize(me) == 0) return 0;
  if (!labels_match(ml, l)) return 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, me) {
    const char *key = ru_str(e, "key"), *op = ru_str(e, "operator");
    if (!key || !op) return 0;
    const char *have = label_value(l, key);
    int in = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "values"))
      if (have && cJSON_IsString(x) && strcmp(x->valuestring, have) == 0) in = 1;
    if (strcmp(op, "In") == 0) { if (!in) return 0; }
    else if (strcmp(op, "NotIn") == 0) { if (in) return 0; }
    else if (strcmp(op, "Exists") == 0) { if (!have) return 0; }
    else if (strcmp(op, "DoesNotExist") == 0) { if (have) return 0; }
    else return 0;
  }
  return 1;
}

int ru_label_selector_match(const cJSON *sel, const cJSON *labels) {
  labels_src l = {labels, NULL};
  return label_selector_match(sel, &l);
}

int ru_label_selector_match_kpod(const cJSON *sel, const kube_pod *pod) {
  labels_src l = {NULL, pod};
  return label_selector_match(sel, &l);
}

/* --- selector strings --------------------------------------------------------- */

static void skip_ws(const char **p) {
  while (**p == ' ' || **p == '\t') (*p)++;
}

static size_t read_token(const char **p, char *buf, size_t cap) {
  size_t n = 0;
  while (**p && !strchr(" \t,=!()", **p)) {
    if (n + 1 < cap) buf[n++] = **p;
    (*p)++;
  }
  buf[n] = 0;
  return n;
}

static mbcas_rc selector_match(int *match, const char *selector, const labels_src *labels) {
  *match = 0;
  if (!selector) return MBCAS_OK;
  const char *p = selector;
  skip_ws(&p);
  if (!*p) return MBCAS_OK;
  int all = 1;
  char key[320], val[320];
  while (*p) {
    skip_ws(&p);
    int neg = 0;
    if (*p == '!') { neg = 1; p++; skip_ws(&p); }
    if (!read_token(&p, key, sizeof key)) return MBCAS_EINVAL;
    skip_ws(&p);
    const char *have = label_value(labels, key);
    int ok;
    if (neg) {
      ok = have == NULL;
    } else if (*p == '=' || (*p == '!' && p[1] == '=')) {
      int ne = *p == '!';
      p += (*p == '!' || p[1] == '=') ? 2 : 1;
      skip_ws(&p);
      read_token(&p, val, sizeof val);
      ok = ne ? (!have || strcmp(have, val) != 0) : (have && strcmp(have, val) == 0);
    } else if (strncmp(p, "in", 2) == 0 || strncmp(p, "notin", 5) == 0) {
      int notin = p[0] == 'n';
      p += notin ? 5 : 2;
      skip_ws(&p);
      if (*p != '(') return MBCAS_EINVAL;
      p++;
      int found = 0;
      for (;;) {
        skip_ws(&p);
        read_token(&p, val, sizeof val);
        if (have && strcmp(have, val) == 0) found = 1;
        skip_ws(&p);
        if (*p == ',') { p++; continue; }
        if (*p == ')') { p++; break; }
        return MBCAS_EINVAL;
      }
      ok = notin ? !found : found;
    } else {
      ok = have != NULL; /* existence */
    }
    if (!ok) all = 0;
    skip_ws(&p);
    if (*p == ',') { p++; continue; }
    if (*p) return MBCAS_EINVAL;
  }
  *match = all;
  return MBCAS_OK;
}

mbcas_rc ru_selector_match(int *match, const char *selector, const cJSON *labels) {
  labels_src l = {labels, NULL};
  return selector_match(match, selector, &l);
}

mbcas_rc ru_selector_match_kpod(int *match, const char *selector, const kube_pod *pod) {
  labels_src l = {NULL, pod};
  return selector_match(match, selector, &l);
}

/* --- map ------------------------------------------------------------------------ */

typedef struct ru_entry {
  char *key;
  unsigned char seen;
  unsigned char tomb;
  void *val;
} ru_entry;

struct ru_map {
  size_t vsize, cap, len, used; /* used: live + tombstones */
  ru_entry *e;
  void (*free_value)(void *val); /* what a value owns; NULL: nothing */
};

/* Free an entry's key and value (and what the value owns); leaves a tombstone. */
static void drop(ru_map *m, ru_entry *e) {
  if (m->free_value) m->free_value(e->val);
  free(e->key);
  free(e->val);
  e->key = NULL;
  e->val = NULL;
  e->tomb = 1;
  m->len--;
}

void ru_map_set_free(ru_map *m, void (*free_value)(void *val)) {
  if (m) m->free_value = free_value;
}

static uint64_t hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

ru_map *ru_map_new(size_t value_size) {
  ru_map *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->vsize = value_size;
  m->cap = 16;
  m->e = calloc(m->cap, sizeof *m->e);
  if (!m->e) { free(m); return NULL; }
  return m;
}

void ru_map_free(ru_map *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++)
    if (m->e[i].key) drop(m, &m->e[i]);
  free(m->e);
  free(m);
}

static ru_entry *find(const ru_map *m, const char *key) {
  size_t i = hash(key) & (m->cap - 1);
  for (size_t n = 0; n < m->cap; n++, i = (i + 1) & (m->cap - 1)) {
    ru_entry *e = &m->e[i];
    if (!e->key && !e->tomb) return NULL;
    if (e->key && strcmp(e->key, key) == 0) return e;
  }
  return NULL;
}

void *ru_map_get(ru_map *m, const char *key) {
  ru_entry *e = find(m, key);
  return e ? e->val : NULL;
}

static int grow(ru_map *m) {
  size_t ncap = m->len * 4 > m->cap ? m->cap * 2 : m->cap; /* rehash drops tombstones */
  ru_entry *ne = calloc(ncap, sizeof *ne);
  if (!ne) return -1;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->e[i].key) continue;
    size_t j = hash(m->e[i].key) & (ncap - 1);
    while (ne[j].key) j = (j + 1) & (ncap - 1);
    ne[j] = m->e[i];
  }
  free(m->e);
  m->e = ne;
  m->cap = ncap;
  m->used = m->len;
  return 0;
}

void *ru_map_upsert(ru_map *m, const char *key, int *created) {
  if (created) *created = 0;
  ru_entry *e = find(m, key);
  if (e) return e->val;
  if ((m->used + 1) * 2 > m->cap && grow(m) != 0) return NULL;
  size_t i = hash(key) & (m->cap - 1);
  while (m->e[i].key) i = (i + 1) & (m->cap - 1);
  char *k = strdup(key);
  void *v = calloc(1, m->vsize ? m->vsize : 1);
  if (!k || !v) { free(k); free(v); return NULL; }
  if (!m->e[i].tomb) m->used++;
  m->e[i].key = k;
  m->e[i].val = v;
  m->e[i].seen = 1;
  m->e[i].tomb = 0;
  m->len++;
  if (created) *created = 1;
  return v;
}

int ru_map_remove(ru_map *m, const char *key) {
  ru_entry *e = find(m, key);
  if (!e) return 0;
  drop(m, e);
  return 1;
}

size_t ru_map_len(const ru_map *m) { return m->len; }

void ru_map_touch(ru_map *m, const char *key) {
  ru_entry *e = find(m, key);
  if (e) e->seen = 1;
}

size_t ru_map_sweep(ru_map *m) {
  size_t removed = 0;
  for (size_t i = 0; i < m->cap; i++) {
    ru_entry *e = &m->e[i];
    if (!e->key) continue;
    if (!e->seen) {
      drop(m, e);
      removed++;
    } else {
      e->seen = 0;
    }
  }
  return removed;
}

void rec_list_each(const cJSON *list, rec_item_fn fn, void *ud) {
  const cJSON *it;
  if (!fn) return;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items"))
    if (fn(ud, it) != 0) break;
}
