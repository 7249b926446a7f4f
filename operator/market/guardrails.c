/* guardrails.c - per-pod step, cooldown, dead band and usage protection, then a node
 * stage that restores "sum <= capacity" (see guardrails.h for the order of the rules).
 *
 * Every node-stage reduction is "take T millicores from pods that can give g_i": each
 * gives floor(T * g_i / G), and the few millicores left are taken one each from pods in
 * (key, index) order. No floating point decides who gives the remainder. */
#include "guardrails.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void guardrails_config_default(guardrails_config *cfg) {
  if (!cfg) return;
  cfg->max_step_m = 500;
  cfg->max_step_frac = 0.5;
  cfg->min_step_m = 50;
  cfg->cooldown_s = 30;
  cfg->dead_band_m = 10;
  cfg->dead_band_frac = 0.02;
  cfg->usage_headroom = 0.2;
}

int64_t guardrails_step_limit(const guardrails_config *cfg, int64_t current_m) {
  if (!cfg) return 0;
  int64_t lim = 0;
  if (cfg->max_step_frac > 0 && isfinite(cfg->max_step_frac)) {
    double r = floor(cfg->max_step_frac * (double)(current_m > 0 ? current_m : 0));
    int64_t rel = r > 9e15 ? INT64_C(9000000000000000) : (int64_t)r;
    if (rel < cfg->min_step_m) rel = cfg->min_step_m;
    if (rel < 1) rel = 1;
    lim = rel;
  }
  if (cfg->max_step_m > 0 && (lim == 0 || cfg->max_step_m < lim)) lim = cfg->max_step_m;
  return lim;
}

/* Per-pod rules. *hard gets the result without usage protection. */
static void pod_rules(guardrails_decision *out, int64_t *hard, const guardrails_config *cfg,
                      const guardrails_pod *pod, double now) {
  memset(out, 0, sizeof *out); /* padding too: byte-identical output */
  int64_t cur = pod->current_m, tgt = pod->target_m;
  int64_t d = tgt;
  uint32_t fl = 0;
  int64_t step = guardrails_step_limit(cfg, cur);
  if (cfg && tgt != cur) {
    double band_f = cfg->dead_band_frac > 0 ? cfg->dead_band_frac * (double)cur : 0;
    int64_t band = cfg->dead_band_m > 0 ? cfg->dead_band_m : 0;
    if ((double)band < band_f) band = (int64_t)ceil(band_f);
    int64_t diff = tgt > cur ? tgt - cur : cur - tgt;
    if (cfg->cooldown_s > 0 && pod->last_change_at >= 0 &&
        now - pod->last_change_at < cfg->cooldown_s) {
      d = cur;
      fl |= GUARDRAILS_COOLDOWN;
    } else if (diff < band) {
      d = cur;
      fl |= GUARDRAILS_DEAD_BAND;
    } else if (step > 0 && diff > step) {
      d = tgt > cur ? cur + step : cur - step;
      fl |= GUARDRAILS_STEP_LIMITED;
    }
  }
  int64_t lo = pod->floor_m < tgt ? pod->floor_m : tgt;
  int64_t hi = pod->cap_m > tgt ? pod->cap_m : tgt;
  int64_t h = d;
  if (h < lo) h = lo;
  if (h > hi) h = hi;
  if (cfg && cfg->usage_headroom >= 0 && pod->usage_m >= 0 && d < cur) {
    double pr = ceil((double)pod->usage_m * (1 + cfg->usage_headroom));
    int64_t prot = pr > (double)cur ? cur : (int64_t)pr;
    if (d < prot) {
      d = prot;
      fl |= GUARDRAILS_USAGE_PROTECTED;
    }
  }
  if (d < lo) {
    d = lo;
    fl |= GUARDRAILS_BOUNDS;
  }
  if (d > hi) {
    d = hi;
    fl |= GUARDRAILS_BOUNDS;
  }
  if (!(fl & GUARDRAILS_USAGE_PROTECTED) || d == h) fl &= ~(uint32_t)GUARDRAILS_USAGE_PROTECTED;
  out->desired_m = d;
  out->step_limit_m = step;
  out->flags = fl;
  *hard = h;
}

void guardrails_apply_pod(guardrails_decision *out, const guardrails_config *cfg,
                          const guardrails_pod *pod, double now) {
  int64_t hard;
  if (!out || !pod) return;
  pod_rules(out, &hard, cfg, pod, now);
  if (out->desired_m != pod->current_m) out->flags |= GUARDRAILS_CHANGED;
}

typedef struct give {
  uint64_t key;
  uint32_t idx;
} give;

static int give_cmp(const void *x, const void *y) {
  const give *a = x, *b = y;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/* Take up to t from the pods, pod i giving at most g[i]; returns what was taken. */
static int64_t take(guardrails_decision *out, const guardrails_pod *pods, size_t n,
                    const int64_t *g, int64_t t, uint32_t flag, give *scratch) {
  int64_t G = 0;
  for (size_t i = 0; i < n; i++) G += g[i] > 0 ? g[i] : 0;
  if (G <= 0 || t <= 0) return 0;
  if (t >= G) {
    for (size_t i = 0; i < n; i++)
      if (g[i] > 0) {
        out[i].desired_m -= g[i];
        out[i].flags |= flag;
      }
    return G;
  }
  int64_t taken = 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (g[i] <= 0) continue;
    int64_t q = (int64_t)((long double)t * g[i] / G);
    if (q > 0) {
      out[i].desired_m -= q;
      out[i].flags |= flag;
      taken += q;
    }
    if (q < g[i]) scratch[m++] = (give){pods[i].key, (uint32_t)i};
  }
  if (taken < t) {
    qsort(scratch, m, sizeof *scratch, give_cmp);
    for (size_t j = 0; j < m && taken < t; j++) {
      out[scratch[j].idx].desired_m -= 1;
      out[scratch[j].idx].flags |= flag;
      taken++;
    }
  }
  return taken;
}

mbcas_rc guardrails_apply_node(guardrails_decision *out, const guardrails_config *cfg,
                               const guardrails_pod *pods, size_t n, int64_t capacity_m,
                               double now, mbcas_err *err) {
  if (n > 0 && (!out || !pods))
    return mbcas_err_set(err, MBCAS_EINVAL, "pods", "NULL with n > 0");
  int64_t sum_t = 0;
  for (size_t i = 0; i < n; i++) {
    char f[48];
    const char *bad = NULL;
    if (pods[i].current_m < 0 || pods[i].current_m > (INT64_C(1) << 40)) bad = "current_m";
    else if (pods[i].target_m < 0 || pods[i].target_m > (INT64_C(1) << 40)) bad = "target_m";
    else if (pods[i].floor_m < 0) bad = "floor_m";
    else if (pods[i].cap_m < pods[i].floor_m || pods[i].cap_m > (INT64_C(1) << 40)) bad = "cap_m";
    if (bad) {
      snprintf(f, sizeof f, "pods[%zu].%s", i, bad);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "out of range");
    }
    sum_t += pods[i].target_m;
  }
  if (n == 0) return MBCAS_OK;
  unsigned char *mem = malloc(n * (2 * sizeof(int64_t) + sizeof(give)));
  if (!mem) return mbcas_err_set(err, MBCAS_ENOMEM, "", "guardrails scratch");
  int64_t *hard = (int64_t *)mem;
  int64_t *g = hard + n;
  give *scratch = (give *)(g + n);
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    pod_rules(&out[i], &hard[i], cfg, &pods[i], now);
    sum += out[i].desired_m;
  }
  if (sum_t > capacity_m) { /* targets do not fit: nothing to protect, follow them */
    for (size_t i = 0; i < n; i++) {
      if (out[i].desired_m != pods[i].target_m) out[i].flags |= GUARDRAILS_FORCED;
      out[i].desired_m = pods[i].target_m;
    }
  } else if (sum > capacity_m) {
    int64_t excess = sum - capacity_m;
    /* 1. relax usage protection */
    for (size_t i = 0; i < n; i++) g[i] = out[i].desired_m - hard[i];
    excess -= take(out, pods, n, g, excess, GUARDRAILS_USAGE_RELAXED, scratch);
    /* 2. trim increases toward current (never below the bounds' lower end) */
    if (excess > 0) {
      for (size_t i = 0; i < n; i++) {
        int64_t lo = pods[i].floor_m < pods[i].target_m ? pods[i].floor_m : pods[i].target_m;
        int64_t keep = pods[i].current_m > lo ? pods[i].current_m : lo;
        g[i] = out[i].desired_m > keep ? out[i].desired_m - keep : 0;
      }
      excess -= take(out, pods, n, g, excess, GUARDRAILS_TRIMMED, scratch);
    }
    /* 3. force held-back decreases toward target */
    if (excess > 0) {
      for (size_t i = 0; i < n; i++)
        g[i] = out[i].desired_m > pods[i].target_m ? out[i].desired_m - pods[i].target_m : 0;
      excess -= take(out, pods, n, g, excess, GUARDRAILS_FORCED, scratch);
    }
  }
  for (size_t i = 0; i < n; i++)
    if (out[i].desired_m != pods[i].current_m) out[i].flags |= GUARDRAILS_CHANGED;
  free(mem);
  return MBCAS_OK;
}

int64_t guardrails_memory(int64_t current_bytes, int64_t desired_bytes, int increase_only) {
  if (increase_only && desired_bytes < current_bytes) return current_bytes;
  return desired_bytes;
}
