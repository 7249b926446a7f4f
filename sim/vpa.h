/* vpa.h - a VPA-like CPU recommender: P90 of a decaying usage histogram plus 15 %.
 *
 * Like the VPA recommender: exponential buckets (first 10m, each 5 % wider), every usage
 * sample weighted 2^((t - ref)/half_life) so that older samples fade (half-life 24 h by
 * default), the target is the weighted P90 bucket's upper edge times (1 + margin),
 * at least min_m. Bounds as in the VPA recommender: lower = P50, upper = P95 (each with
 * the margin), widened while little history exists: with c = days of history,
 * upper x (1 + 1/c), lower x (1 + 0.001/c)^-2. Like the VPA updater, the simulator
 * applies the target (in place, no eviction) only when the current allocation is
 * outside [lower, upper].
 *
 * Owns: nothing (fixed-size struct). Thread safety: pure over caller state. */
#ifndef MBCAS_SIM_VPA_H
#define MBCAS_SIM_VPA_H

#include <stdint.h>

#define VPA_BUCKETS 200
#define VPA_FIRST_M 10.0
#define VPA_RATIO 1.05

typedef struct vpa_hist {
  double w[VPA_BUCKETS];
  double total;
  double ref_t;      /* time of weight 1 */
  double half_life_s;
  double first_t;    /* time of the first sample */
  int has_ref;
} vpa_hist;

typedef struct vpa_rec {
  int64_t target_m, lower_m, upper_m;
} vpa_rec;

void vpa_hist_init(vpa_hist *h, double half_life_s);
/* Bucket index of a value in millicores (values below the first bucket go to 0). */
int vpa_bucket(double value_m);
/* Upper edge of bucket i in millicores. */
double vpa_bucket_end(int i);
/* Add one usage sample (millicores) taken at time t. */
void vpa_hist_add(vpa_hist *h, double value_m, double t);
/* Weighted percentile p in [0,1] (upper edge of the bucket); 0 when empty. */
double vpa_hist_percentile(const vpa_hist *h, double p);
/* Target = percentile(p) x (1 + margin), at least min_m, rounded up to whole millicores. */
int64_t vpa_target(const vpa_hist *h, double p, double margin, int64_t min_m);

/* Target and bounds at time now (see above); all at least min_m. */
void vpa_recommend(vpa_rec *out, const vpa_hist *h, double now, double margin, int64_t min_m);

#endif
