/* queue.c - M/M/1 pods with a fluid backlog; see queue.h. */
#include "queue.h"

#include <math.h>

double queue_mm1_mean(double lambda, double mu) {
  if (!(mu > 0) || lambda >= mu) return INFINITY;
  if (lambda < 0) lambda = 0;
  return 1.0 / (mu - lambda);
}

double queue_mm1_quantile(double lambda, double mu, double q) {
  if (!(mu > 0) || lambda >= mu || !(q >= 0 && q < 1)) return INFINITY;
  if (lambda < 0) lambda = 0;
  return -log(1.0 - q) / (mu - lambda);
}

void queue_step(queue_out *out, queue_pod *q, double lambda, double mu, double dt) {
  if (lambda < 0 || !isfinite(lambda)) lambda = 0;
  if (!(dt > 0)) dt = 0;
  if (!(mu > 0)) {
    q->dropped += lambda * dt + q->backlog; /* nothing can be served */
    q->backlog = 0.0;
    out->offset_s = QUEUE_LAT_MAX;
    out->rate = 1.0;
    out->mean_s = QUEUE_LAT_MAX;
    out->busy = 0.0;
    out->served = 0.0;
    out->saturated = 1;
    return;
  }
  double b0 = q->backlog, b1, served;
  int sat = lambda >= QUEUE_RHO_MAX * mu;
  if (lambda >= mu) {
    b1 = b0 + (lambda - mu) * dt;
    served = mu;
  } else {
    double drain = (mu - lambda) * dt;
    b1 = b0 > drain ? b0 - drain : 0.0;
    served = lambda + (b0 - b1) / (dt > 0 ? dt : 1.0);
    if (b1 > 0) sat = 1;
  }
  if (b1 > QUEUE_TIMEOUT_S * mu) {
    q->dropped += b1 - QUEUE_TIMEOUT_S * mu;
    b1 = QUEUE_TIMEOUT_S * mu;
  }
  q->backlog = b1;
  double r = mu - lambda;
  if (r < mu * (1.0 - QUEUE_RHO_MAX)) r = mu * (1.0 - QUEUE_RHO_MAX);
  double w = 0.5 * (b0 + b1) / mu;
  if (w > QUEUE_LAT_MAX) w = QUEUE_LAT_MAX;
  out->offset_s = w;
  out->rate = r;
  out->mean_s = w + 1.0 / r;
  out->busy = served / mu > 1.0 ? 1.0 : served / mu;
  out->served = served;
  out->saturated = sat;
}

/* P(T > x) of the mixture */
static double tail(const double *w, const double *off, const double *rate, size_t n,
                   double tw, double x) {
  double p = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (w[i] <= 0) continue;
    double e = x <= off[i] ? 1.0 : exp(-rate[i] * (x - off[i]));
    p += w[i] / tw * e;
  }
  return p;
}

double queue_mix_quantile(const double *w, const double *offset, const double *rate,
                          size_t n, double q) {
  double tw = 0.0, hi = 0.0;
  for (size_t i = 0; i < n; i++)
    if (w[i] > 0) {
      tw += w[i];
      double x = offset[i] - log(1.0 - q) / (rate[i] > 0 ? rate[i] : 1e-9);
      if (x > hi) hi = x;
    }
  if (tw <= 0) return 0.0;
  if (hi > QUEUE_LAT_MAX) hi = QUEUE_LAT_MAX;
  double lo = 0.0, target = 1.0 - q;
  if (tail(w, offset, rate, n, tw, hi) > target) return hi;
  for (int it = 0; it < 40; it++) {
    double mid = 0.5 * (lo + hi);
    if (tail(w, offset, rate, n, tw, mid) > target)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}
