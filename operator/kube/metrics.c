/* metrics.c - Prometheus metric registry and text exposition. See metrics.h.
 *
 * Sections: types, buffer helpers, registration, updates, rendering. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- types ---- */

const double KUBE_METRICS_DEFAULT_BUCKETS[11] = {.005, .01, .025, .05, .1, .25,
                                                 .5, 1, 2.5, 5, 10};

/* One series in one allocation: header, then (histograms) the observation count
 * and per-bucket counts, then the label values packed as "v1\0v2\0...". Series
 * are chained twice: in a hash table keyed on the label values (set/get/delete
 * in O(1)), and in a doubly linked list in creation order (rendering). */
typedef struct series {
  struct series *hnext;       /* hash chain */
  struct series *prev, *next; /* creation order */
  uint32_t hash;              /* of the label values */
  uint32_t seen;              /* family epoch at the last update (sweeps) */
  double value;               /* counter/gauge value; histogram sum */
  uint64_t h[];               /* histogram: count, nbuckets counts; then labels */
} series;

struct kube_metric {
  kube_metrics *reg;
  kube_metric_type type;
  char *name, *help;
  size_t nlabels;
  char *labels[KUBE_METRICS_MAX_LABELS];
  size_t nbuckets;
  double bounds[KUBE_METRICS_MAX_BUCKETS];
  series *head, *tail;
  size_t nseries;
  size_t max_series;          /* KUBE_METRICS_MAX_SERIES unless set */
  series **tab;               /* hash buckets, tabsz a power of two (0: none yet) */
  size_t tabsz;
  uint32_t epoch;             /* advanced by kube_metric_mark */
  struct kube_metric *next;
};

typedef struct collector {
  kube_metrics_collector fn;
  void *ud;
  struct collector *next;
} collector;

struct kube_metrics {
  pthread_mutex_t mu;         /* families and series */
  pthread_mutex_t collect_mu; /* the collector list and their calls */
  kube_metric *families;
  size_t nfamilies;
  collector *collectors;
};

static kube_metrics *g_default;
static pthread_mutex_t g_default_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- buffer helpers ---- */

typedef struct buf {
  char *p;
  size_t len, cap;
  int oom;
} buf;

static void buf_put(buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (b->len + n + 1 > cap) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* Escape for label values (\\ \" \n) or help text (\\ \n). */
static void buf_escaped(buf *b, const char *s, int quote) {
  if (!s) return;
  while (*s) {
    size_t n = strcspn(s, quote ? "\\\n\"" : "\\\n"); /* copy plain runs whole */
    buf_put(b, s, n);
    s += n;
    if (!*s) break;
    if (*s == '\\') buf_str(b, "\\\\");
    else if (*s == '\n') buf_str(b, "\\n");
    else buf_str(b, "\\\"");
    s++;
  }
}

const char *kube_metrics_format_value(double v, char *out, size_t len) {
  /* Go's strconv.FormatFloat(v, 'g', -1, 64): the fewest digits that read back
   * exactly; exponent form when the exponent is < -4 or >= 6 (was: C %g). */
  if (isnan(v)) snprintf(out, len, "NaN");
  else if (isinf(v)) snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
  else if (v == 0) snprintf(out, len, "0");
  else if (v > -1e6 && v < 1e6 && v == (double)(long)v) snprintf(out, len, "%ld", (long)v);
  else {
    char e[64];
    int p = 1;
    for (; p < 17; p++) {
      snprintf(e, sizeof(e), "%.*e", p - 1, v);
      if (strtod(e, NULL) == v) break;
    }
    snprintf(e, sizeof(e), "%.*e", p - 1, v);
    int exp = atoi(strchr(e, 'e') + 1);
    if (exp < -4 || exp >= 6) snprintf(out, len, "%s", e);
    else snprintf(out, len, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
  }
  return out;
}

/* ---- registration ---- */

mbcas_rc kube_metrics_new(kube_metrics **out) {
  *out = NULL;
  kube_metrics *r = calloc(1, sizeof(*r));
  if (!r) return MBCAS_ENOMEM;
  pthread_mutex_init(&r->mu, NULL);
  pthread_mutex_init(&r->collect_mu, NULL);
  *out = r;
  return MBCAS_OK;
}

/* Words of histogram counters in front of the labels. */
static size_t series_nh(const kube_metric *m) {
  return m->type == KUBE_HISTOGRAM ? 1 + m->nbuckets : 0;
}

static const char *series_lv(const kube_metric *m, const series *s) {
  return (const char *)(s->h + series_nh(m));
}

static void drop_all_series(kube_metric *m) {
  for (series *s = m->head, *n; s; s = n) {
    n = s->next;
    free(s);
  }
  free(m->tab);
  m->tab = NULL;
  m->tabsz = 0;
  m->head = m->tail = NULL;
  m->nseries = 0;
}

static void family_free(kube_metric *m) {
  if (!m) return;
  drop_all_series(m);
  for (size_t i = 0; i < m->nlabels; i++) free(m->labels[i]);
  free(m->name);
  free(m->help);
  free(m);
}

void kube_metrics_free(kube_metrics *r) {
  if (!r) return;
  for (kube_metric *m = r->families, *n; m; m = n) {
    n = m->next;
    family_free(m);
  }
  for (collector *c = r->collectors, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  pthread_mutex_destroy(&r->mu);
  pthread_mutex_destroy(&r->collect_mu);
  free(r);
}

kube_metrics *kube_metrics_default(void) {
  pthread_mutex_lock(&g_default_mu);
  if (!g_default) (void)kube_metrics_new(&g_default);
  kube_metrics *r = g_default;
  pthread_mutex_unlock(&g_default_mu);
  return r;
}

void kube_metrics_default_free(void) {
  pthread_mutex_lock(&g_default_mu);
  kube_metrics_free(g_default);
  g_default = NULL;
  pthread_mutex_unlock(&g_default_mu);
}

static int valid_name(const char *s, int allow_colon) {
  if (!s || !*s) return 0;
  for (const char *p = s; *p; p++) {
    int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
             (allow_colon && *p == ':') || (p != s && *p >= '0' && *p <= '9');
    if (!ok) return 0;
  }
  return 1;
}

static kube_metric *find_locked(kube_metrics *r, const char *name) {
  for (kube_metric *m = r->families; m; m = m->next)
    if (strcmp(m->name, name) == 0) return m;
  return NULL;
}

kube_metric *kube_metrics_find(kube_metrics *r, const char *name) {
  if (!r || !name) return NULL;
  pthread_mutex_lock(&r->mu);
  kube_metric *m = find_locked(r, name);
  pthread_mutex_unlock(&r->mu);
  return m;
}

/* Split "a,b" into m->labels. */
static mbcas_rc parse_labels(kube_metric *m, const char *labels) {
  if (!labels || !*labels) return MBCAS_OK;
  const char *p = labels;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (m->nlabels == KUBE_METRICS_MAX_LABELS || n == 0) return MBCAS_EINVAL;
    char *l = strndup(p, n);
    if (!l) return MBCAS_ENOMEM;
    m->labels[m->nlabels++] = l;
    if (!valid_name(l, 0) || strncmp(l, "__", 2) == 0 || strcmp(l, "le") == 0)
      return MBCAS_EINVAL;
    p += n;
    if (*p == ',') p++;
  }
  return MBCAS_OK;
}

static int same_shape(const kube_metric *a, const kube_metric *b) {
  if (a->type != b->type || a->nlabels != b->nlabels || a->nbuckets != b->nbuckets)
    return 0;
  for (size_t i = 0; i < a->nlabels; i++)
    if (strcmp(a->labels[i], b->labels[i]) != 0) return 0;
  for (size_t i = 0; i < a->nbuckets; i++)
    if (a->bounds[i] != b->bounds[i]) return 0;
  return 1;
}

static mbcas_rc reg(kube_metrics *r, kube_metric **out, kube_metric_type type,
                    const char *name, const char *help, const char *labels,
                    const double *buckets, size_t nbuckets) {
  if (out) *out = NULL;
  if (!r || !valid_name(name, 1)) return MBCAS_EINVAL;
  kube_metric *m = calloc(1, sizeof(*m));
  if (!m) return MBCAS_ENOMEM;
  m->reg = r;
  m->type = type;
  m->max_series = KUBE_METRICS_MAX_SERIES;
  mbcas_rc rc = parse_labels(m, labels);
  if (rc == MBCAS_OK && type == KUBE_HISTOGRAM) {
    if (!buckets) {
      buckets = KUBE_METRICS_DEFAULT_BUCKETS;
      nbuckets = sizeof(KUBE_METRICS_DEFAULT_BUCKETS) / sizeof(double);
    }
    if (nbuckets == 0 || nbuckets > KUBE_METRICS_MAX_BUCKETS) rc = MBCAS_EINVAL;
    for (size_t i = 0; rc == MBCAS_OK && i < nbuckets; i++) {
      if (isnan(buckets[i]) || isinf(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
        rc = MBCAS_EINVAL;
      else m->bounds[i] = buckets[i];
    }
    if (rc == MBCAS_OK) m->nbuckets = nbuckets;
  }
  if (rc == MBCAS_OK) {
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    if (!m->name || !m->help) rc = MBCAS_ENOMEM;
  }
  if (rc != MBCAS_OK) {
    family_free(m);
    return rc;
  }
  pthread_mutex_lock(&r->mu);
  kube_metric *old = find_locked(r, name);
  if (old) {
    rc = same_shape(old, m) ? MBCAS_OK : MBCAS_EINVAL;
    pthread_mutex_unlock(&r->mu);
    family_free(m);
    if (rc == MBCAS_OK && out) *out = old;
    return rc;
  }
  m->next = r->families;
  r->families = m;
  r->nfamilies++;
  pthread_mutex_unlock(&r->mu);
  if (out) *out = m;
  return MBCAS_OK;
}

mbcas_rc kube_metrics_counter(kube_metrics *r, kube_metric **out, const char *name,
                              const char *help, const char *labels) {
  return reg(r, out, KUBE_COUNTER, name, help, labels, NULL, 0);
}

mbcas_rc kube_metrics_gauge(kube_metrics *r, kube_metric **out, const char *name,
                            const char *help, const char *labels) {
  return reg(r, out, KUBE_GAUGE, name, help, labels, NULL, 0);
}

mbcas_rc kube_metrics_histogram(kube_metrics *r, kube_metric **out, const char *name,
                                const char *help, const char *labels,
                                const double *buckets, size_t nbuckets) {
  return reg(r, out, KUBE_HISTOGRAM, name, help, labels, buckets, nbuckets);
}

mbcas_rc kube_metrics_add_collector(kube_metrics *r, kube_metrics_collector fn, void *ud) {
  if (!r || !fn) return MBCAS_EINVAL;
  collector *c = calloc(1, sizeof(*c));
  if (!c) return MBCAS_ENOMEM;
  c->fn = fn;
  c->ud = ud;
  pthread_mutex_lock(&r->collect_mu);
  collector **pp = &r->collectors;
  while (*pp) pp = &(*pp)->next;
  *pp = c;
  pthread_mutex_unlock(&r->collect_mu);
  return MBCAS_OK;
}

void kube_metrics_remove_collector(kube_metrics *r, kube_metrics_collector fn, void *ud) {
  if (!r) return;
  pthread_mutex_lock(&r->collect_mu);
  for (collector **pp = &r->collectors; *pp; pp = &(*pp)->next) {
    if ((*pp)->fn == fn && (*pp)->ud == ud) {
      collector *c = *pp;
      *pp = c->next;
      free(c);
      break;
    }
  }
  pthread_mutex_unlock(&r->collect_mu);
}

/* ---- updates ---- */

static const char *lv_at(const char *const *lv, size_t i) {
  return lv && lv[i] ? lv[i] : "";
}

/* FNV-1a over the values, each followed by a 0xff byte (not in UTF-8 text; a
 * collision only costs a compare, equality is checked on the strings). */
static uint32_t lv_hash(const kube_metric *m, const char *const *lv) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < m->nlabels; i++) {
    for (const unsigned char *p = (const unsigned char *)lv_at(lv, i); *p; p++)
      h = (h ^ *p) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
  }
  return h;
}

static int lv_equal(const kube_metric *m, const series *s, const char *const *want) {
  const char *p = series_lv(m, s);
  for (size_t i = 0; i < m->nlabels; i++) {
    const char *w = lv_at(want, i);
    while (*p && *p == *w) p++, w++;
    if (*p != *w) return 0;
    p++;
  }
  return 1;
}

/* A NULL in pat matches any value (pat NULL: everything). */
static int lv_match(const kube_metric *m, const series *s, const char *const *pat) {
  const char *p = series_lv(m, s);
  for (size_t i = 0; i < m->nlabels; i++) {
    if (pat && pat[i] && strcmp(p, pat[i]) != 0) return 0;
    p += strlen(p) + 1;
  }
  return 1;
}

static series **slot(kube_metric *m, uint32_t hash) { return &m->tab[hash & (m->tabsz - 1)]; }

/* Double the table (or create it). On failure the old table stays: lookups keep
 * working, only the chains get longer. */
static void grow(kube_metric *m) {
  size_t nsz = m->tabsz ? m->tabsz * 2 : 16;
  series **nt = calloc(nsz, sizeof(*nt));
  if (!nt) return;
  for (series *s = m->head; s; s = s->next) {
    series **pp = &nt[s->hash & (nsz - 1)];
    s->hnext = *pp;
    *pp = s;
  }
  free(m->tab);
  m->tab = nt;
  m->tabsz = nsz;
}

static series *lookup(kube_metric *m, const char *const *lv, uint32_t hash) {
  if (!m->tabsz) return NULL;
  for (series *s = *slot(m, hash); s; s = s->hnext)
    if (s->hash == hash && lv_equal(m, s, lv)) return s;
  return NULL;
}

/* Find the series under the lock; create it when create is set. */
static series *get_series(kube_metric *m, const char *const *lv, uint32_t hash, int create,
                          mbcas_rc *rc) {
  *rc = MBCAS_OK;
  series *s = lookup(m, lv, hash);
  if (s || !create) return s;
  if (m->nseries >= m->max_series) {
    *rc = MBCAS_ETOOMANY;
    return NULL;
  }
  if (m->nseries >= m->tabsz) grow(m);
  if (!m->tabsz) {
    *rc = MBCAS_ENOMEM;
    return NULL;
  }
  size_t nh = series_nh(m), lvbytes = 0;
  for (size_t i = 0; i < m->nlabels; i++) lvbytes += strlen(lv_at(lv, i)) + 1;
  s = calloc(1, sizeof(*s) + nh * sizeof(uint64_t) + lvbytes);
  if (!s) {
    *rc = MBCAS_ENOMEM;
    return NULL;
  }
  char *p = (char *)(s->h + nh);
  for (size_t i = 0; i < m->nlabels; i++) {
    size_t n = strlen(lv_at(lv, i)) + 1;
    memcpy(p, lv_at(lv, i), n);
    p += n;
  }
  s->hash = hash;
  series **pp = slot(m, hash);
  s->hnext = *pp;
  *pp = s;
  s->prev = m->tail;
  if (m->tail) m->tail->next = s;
  else m->head = s;
  m->tail = s;
  m->nseries++;
  return s;
}

static void unlink_series(kube_metric *m, series *s) {
  series **pp = slot(m, s->hash);
  while (*pp != s) pp = &(*pp)->hnext;
  *pp = s->hnext;
  if (s->prev) s->prev->next = s->next;
  else m->head = s->next;
  if (s->next) s->next->prev = s->prev;
  else m->tail = s->prev;
  m->nseries--;
  free(s);
}

static mbcas_rc update(kube_metric *m, const char *const *lv, double v, int op) {
  /* op: 0 add, 1 set, 2 observe */
  if (!m) return MBCAS_EINVAL;
  if ((op == 2) != (m->type == KUBE_HISTOGRAM)) return MBCAS_EINVAL;
  if (op == 1 && m->type != KUBE_GAUGE) return MBCAS_EINVAL;
  if (op == 0 && m->type == KUBE_COUNTER && !(v >= 0)) return MBCAS_EINVAL;
  mbcas_rc rc;
  uint32_t hash = lv_hash(m, lv);
  pthread_mutex_lock(&m->reg->mu);
  series *s = get_series(m, lv, hash, 1, &rc);
  if (s) {
    s->seen = m->epoch;
    if (op == 0) s->value += v;
    else if (op == 1) s->value = v;
    else {
      for (size_t i = 0; i < m->nbuckets; i++) {
        if (v <= m->bounds[i]) {
          s->h[1 + i]++;
          break;
        }
      }
      s->value += v;
      s->h[0]++;
    }
  }
  pthread_mutex_unlock(&m->reg->mu);
  return rc;
}

mbcas_rc kube_metric_add(kube_metric *m, const char *const *lv, double v) {
  return update(m, lv, v, 0);
}
mbcas_rc kube_metric_inc(kube_metric *m, const char *const *lv) { return update(m, lv, 1, 0); }
mbcas_rc kube_metric_set(kube_metric *m, const char *const *lv, double v) {
  return update(m, lv, v, 1);
}
mbcas_rc kube_metric_observe(kube_metric *m, const char *const *lv, double v) {
  return update(m, lv, v, 2);
}

static double read_series(kube_metric *m, const char *const *lv, int want_sum) {
  if (!m) return 0;
  mbcas_rc rc;
  double v = 0;
  uint32_t hash = lv_hash(m, lv);
  pthread_mutex_lock(&m->reg->mu);
  series *s = get_series(m, lv, hash, 0, &rc);
  if (s) {
    if (m->type == KUBE_HISTOGRAM) v = want_sum ? s->value : (double)s->h[0];
    else v = want_sum ? 0 : s->value;
  }
  pthread_mutex_unlock(&m->reg->mu);
  return v;
}

double kube_metric_value(kube_metric *m, const char *const *lv) { return read_series(m, lv, 0); }
double kube_metric_sum(kube_metric *m, const char *const *lv) { return read_series(m, lv, 1); }

/* ---- deletion ---- */

mbcas_rc kube_metric_delete(kube_metric *m, const char *const *lv) {
  if (!m) return MBCAS_EINVAL;
  uint32_t hash = lv_hash(m, lv);
  pthread_mutex_lock(&m->reg->mu);
  series *s = lookup(m, lv, hash);
  if (s) unlink_series(m, s);
  pthread_mutex_unlock(&m->reg->mu);
  return s ? MBCAS_OK : MBCAS_ENOTFOUND;
}

/* The one walk behind delete_match and sweep; use_mark 0: every match goes. */
static size_t sweep(kube_metric *m, const char *const *pattern, int use_mark, uint32_t mark) {
  if (!m) return 0;
  size_t n = 0;
  pthread_mutex_lock(&m->reg->mu);
  for (series *s = m->head, *nx; s; s = nx) {
    nx = s->next;
    /* Updated since the mark: seen - mark in [0, 2^31), which survives epoch wrap. */
    if (use_mark && (int32_t)(s->seen - mark) >= 0) continue;
    if (!lv_match(m, s, pattern)) continue;
    unlink_series(m, s);
    n++;
  }
  pthread_mutex_unlock(&m->reg->mu);
  return n;
}

size_t kube_metric_delete_match(kube_metric *m, const char *const *pattern) {
  return sweep(m, pattern, 0, 0);
}

void kube_metric_reset(kube_metric *m) {
  if (!m) return;
  pthread_mutex_lock(&m->reg->mu);
  drop_all_series(m);
  pthread_mutex_unlock(&m->reg->mu);
}

uint32_t kube_metric_mark(kube_metric *m) {
  if (!m) return 0;
  pthread_mutex_lock(&m->reg->mu);
  uint32_t e = ++m->epoch;
  pthread_mutex_unlock(&m->reg->mu);
  return e;
}

size_t kube_metric_sweep(kube_metric *m, const char *const *pattern, uint32_t mark) {
  return sweep(m, pattern, 1, mark);
}

mbcas_rc kube_metric_set_limit(kube_metric *m, size_t max_series) {
  if (!m || max_series == 0) return MBCAS_EINVAL;
  pthread_mutex_lock(&m->reg->mu);
  m->max_series = max_series;
  pthread_mutex_unlock(&m->reg->mu);
  return MBCAS_OK;
}

size_t kube_metric_len(kube_metric *m) {
  if (!m) return 0;
  pthread_mutex_lock(&m->reg->mu);
  size_t n = m->nseries;
  pthread_mutex_unlock(&m->reg->mu);
  return n;
}

/* ---- rendering ---- */

/* name{l1="v1",l2="v2"[,le="x"]} value\n */
static void render_sample(buf *b, const kube_metric *m, const char *suffix, const char *lv,
                          const char *le, double v) {
  char num[64];
  buf_str(b, m->name);
  buf_str(b, suffix);
  if (m->nlabels || le) {
    buf_str(b, "{");
    for (size_t i = 0; i < m->nlabels; i++) {
      if (i) buf_str(b, ",");
      buf_str(b, m->labels[i]);
      buf_str(b, "=\"");
      buf_escaped(b, lv, 1);
      buf_str(b, "\"");
      lv += strlen(lv) + 1;
    }
    if (le) {
      if (m->nlabels) buf_str(b, ",");
      buf_str(b, "le=\"");
      buf_str(b, le);
      buf_str(b, "\"");
    }
    buf_str(b, "}");
  }
  buf_str(b, " ");
  buf_str(b, kube_metrics_format_value(v, num, sizeof(num)));
  buf_str(b, "\n");
}

static void render_family(buf *b, const kube_metric *m) {
  static const char *types[] = {"counter", "gauge", "histogram"};
  buf_str(b, "# HELP ");
  buf_str(b, m->name);
  buf_str(b, " ");
  buf_escaped(b, m->help, 0);
  buf_str(b, "\n# TYPE ");
  buf_str(b, m->name);
  buf_str(b, " ");
  buf_str(b, types[m->type]);
  buf_str(b, "\n");
  for (const series *s = m->head; s; s = s->next) {
    const char *lv = series_lv(m, s);
    if (m->type != KUBE_HISTOGRAM) {
      render_sample(b, m, "", lv, NULL, s->value);
      continue;
    }
    uint64_t cum = 0;
    char le[64];
    for (size_t i = 0; i < m->nbuckets; i++) {
      cum += s->h[1 + i];
      render_sample(b, m, "_bucket", lv,
                    kube_metrics_format_value(m->bounds[i], le, sizeof(le)), (double)cum);
    }
    render_sample(b, m, "_bucket", lv, "+Inf", (double)s->h[0]);
    render_sample(b, m, "_sum", lv, NULL, s->value);
    render_sample(b, m, "_count", lv, NULL, (double)s->h[0]);
  }
}

static int cmp_family(const void *a, const void *b) {
  const kube_metric *x = *(const kube_metric *const *)a, *y = *(const kube_metric *const *)b;
  return strcmp(x->name, y->name);
}

mbcas_rc kube_metrics_render(kube_metrics *r, char **out, size_t *len) {
  *out = NULL;
  if (len) *len = 0;
  if (!r) return MBCAS_EINVAL;
  /* Collectors first, under collect_mu only (they set gauges, which takes mu).
   * Removal also takes collect_mu, so once it returns the collector is never
   * called again and its ud may be freed. */
  pthread_mutex_lock(&r->collect_mu);
  for (collector *c = r->collectors; c; c = c->next) c->fn(c->ud);
  pthread_mutex_unlock(&r->collect_mu);
  buf b = {0};
  pthread_mutex_lock(&r->mu);
  kube_metric **sorted = r->nfamilies ? calloc(r->nfamilies, sizeof(*sorted)) : NULL;
  if (r->nfamilies && !sorted) {
    pthread_mutex_unlock(&r->mu);
    return MBCAS_ENOMEM;
  }
  size_t n = 0;
  for (kube_metric *m = r->families; m; m = m->next) sorted[n++] = m;
  if (n) qsort(sorted, n, sizeof(*sorted), cmp_family);
  buf_str(&b, "");
  for (size_t i = 0; i < n; i++) render_family(&b, sorted[i]);
  pthread_mutex_unlock(&r->mu);
  free(sorted);
  if (b.oom) {
    free(b.p);
    return MBCAS_ENOMEM;
  }
  *out = b.p;
  if (len) *len = b.len;
  return MBCAS_OK;
}

/* ---- REST request hook ---- */

void kube_metrics_rest_hook(void *ud, const char *verb, int code, double seconds) {
  kube_metrics *r = ud;
  if (!r) return;
  static const double b[] = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};
  kube_metric *total = NULL, *lat = NULL;
  if (kube_metrics_counter(r, &total, "rest_client_requests_total",
                           "Number of HTTP requests, partitioned by status code and verb.",
                           "code,verb") != MBCAS_OK ||
      kube_metrics_histogram(r, &lat, "rest_client_request_duration_seconds",
                             "Request latency in seconds. Broken down by verb.", "verb", b,
                             sizeof(b) / sizeof(b[0])) != MBCAS_OK)
    return;
  char c[16];
  if (code > 0) snprintf(c, sizeof(c), "%d", code);
  else snprintf(c, sizeof(c), "<error>");
  const char *v = verb ? verb : "";
  kube_metric_inc(total, (const char *const[]){c, v});
  kube_metric_observe(lat, (const char *const[]){v}, seconds);
}
