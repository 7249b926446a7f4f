/* vpa.c - decaying exponential histogram, VPA style; see vpa.h. */
#include "vpa.h"

#include <math.h>
#include <string.h>

void vpa_hist_init(vpa_hist *h, double half_life_s) {
  memset(h, 0, sizeof *h);
  h->half_life_s = half_life_s > 0 ? half_life_s : 86400.0;
}

int vpa_bucket(double v) {
  if (!(v > VPA_FIRST_M)) return 0;
  int i = (int)floor(log(v / VPA_FIRST_M) / log(VPA_RATIO));
  if (i < 0) i = 0;
  if (i >= VPA_BUCKETS) i = VPA_BUCKETS - 1;
  return i;
}

double vpa_bucket_end(int i) { return VPA_FIRST_M * pow(VPA_RATIO, (double)(i + 1)); }

void vpa_hist_add(vpa_hist *h, double v, double t) {
  if (!isfinite(v) || v < 0) return;
  if (!h->has_ref) {
    h->ref_t = t;
    h->first_t = t;
    h->has_ref = 1;
  }
  double e = (t - h->ref_t) / h->half_life_s;
  if (e > 40.0) { /* move the reference forward: rescale every weight */
    double f = pow(2.0, -e);
    h->total = 0;
    for (int i = 0; i < VPA_BUCKETS; i++) {
      h->w[i] *= f;
      h->total += h->w[i];
    }
    h->ref_t = t;
    e = 0.0;
  }
  double w = pow(2.0, e);
  h->w[vpa_bucket(v)] += w;
  h->total += w;
}

double vpa_hist_percentile(const vpa_hist *h, double p) {
  if (!(h->total > 0)) return 0.0;
  double want = p * h->total, acc = 0.0;
  for (int i = 0; i < VPA_BUCKETS; i++) {
    acc += h->w[i];
    if (acc >= want && h->w[i] > 0) return vpa_bucket_end(i);
  }
  return vpa_bucket_end(VPA_BUCKETS - 1);
}

int64_t vpa_target(const vpa_hist *h, double p, double margin, int64_t min_m) {
  double v = ceil(vpa_hist_percentile(h, p) * (1.0 + margin));
  int64_t r = (int64_t)v;
  return r < min_m ? min_m : r;
}

void vpa_recommend(vpa_rec *out, const vpa_hist *h, double now, double margin, int64_t min_m) {
  double days = h->has_ref ? (now - h->first_t) / 86400.0 : 0.0;
  if (days < 1e-6) days = 1e-6;
  out->target_m = vpa_target(h, 0.9, margin, min_m);
  double lo = vpa_hist_percentile(h, 0.5) * (1.0 + margin) * pow(1.0 + 0.001 / days, -2.0);
  double hi = vpa_hist_percentile(h, 0.95) * (1.0 + margin) * (1.0 + 1.0 / days);
  out->lower_m = lo < (double)min_m ? min_m : (int64_t)ceil(lo);
  out->upper_m = hi < (double)min_m ? min_m : (hi > 1e12 ? (int64_t)1e12 : (int64_t)ceil(hi));
}
