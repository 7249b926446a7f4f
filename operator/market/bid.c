/* bid.c - budgets, namespace caps and effective bids (see bid.h).
 *
 * Namespace totals are summed in input order (long double) so the same input always
 * gives the same bits; no sorting or hashing is involved. */
#include "bid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double clamp01(double v) {
  if (!(v > 0)) return 0; /* also NaN */
  return v > 1 ? 1 : v;
}

double bid_demand_factor(const bid_config *cfg, double demand) {
  double m = cfg ? clamp01(cfg->min_demand_factor) : 0;
  return m + (1 - m) * clamp01(demand);
}

mbcas_rc bid_service_budgets(double *out, const bid_service *svc, size_t n_svc,
                             const double *ns_caps, size_t n_ns, mbcas_err *err) {
  if (n_svc > 0 && (!out || !svc))
    return mbcas_err_set(err, MBCAS_EINVAL, "services", "NULL with n > 0");
  for (size_t i = 0; i < n_svc; i++) {
    char f[64];
    if (!(svc[i].budget >= 0) || !isfinite(svc[i].budget)) {
      snprintf(f, sizeof f, "services[%zu].budget", i);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "must be finite and >= 0");
    }
    if (ns_caps && svc[i].ns >= n_ns) {
      snprintf(f, sizeof f, "services[%zu].ns", i);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "namespace index %u out of range (%zu)",
                           svc[i].ns, n_ns);
    }
  }
  if (!ns_caps || n_ns == 0) {
    for (size_t i = 0; i < n_svc; i++) out[i] = svc[i].budget;
    return MBCAS_OK;
  }
  long double *tot = calloc(n_ns, sizeof *tot);
  if (!tot) return mbcas_err_set(err, MBCAS_ENOMEM, "", "namespace totals");
  for (size_t i = 0; i < n_svc; i++) tot[svc[i].ns] += svc[i].budget;
  for (size_t i = 0; i < n_svc; i++) {
    double cap = ns_caps[svc[i].ns];
    long double t = tot[svc[i].ns];
    if (cap > 0 && isfinite(cap) && t > cap)
      out[i] = (double)((long double)svc[i].budget * cap / t);
    else
      out[i] = svc[i].budget;
  }
  free(tot);
  return MBCAS_OK;
}

double bid_pod_share(double service_budget, uint32_t pods) {
  if (pods == 0 || !(service_budget > 0) || !isfinite(service_budget)) return 0;
  return service_budget / pods;
}

double bid_effective(const bid_config *cfg, double pod_share, double demand) {
  if (!(pod_share > 0) || !isfinite(pod_share)) return 0;
  return pod_share * bid_demand_factor(cfg, demand);
}
