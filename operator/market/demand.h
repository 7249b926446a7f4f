/* demand.h - a pod's demand intensity in [0,1], from raw signals to a smoothed value.
 *
 * Pipeline, one call per evaluation (demand_update):
 *   signals -> pressures (value/target clamped to [0,1]) -> combined (max or weighted sum)
 *   -> honesty limit (a claim above what observed CPU usage supports decays toward it)
 *   -> EWMA with a half-life, correct for irregular time steps.
 * Signals older than the staleness limit are ignored; with no fresh signal the fallback
 * demand is the sample. The caller keeps a small demand_state per pod (or per service)
 * and may store its fields in CR status. Times are seconds on any monotonic-ish clock
 * the caller chooses (Unix time is fine); only differences matter.
 *
 * Owns: nothing. Does not touch: I/O, Kubernetes, clocks (now is an argument).
 * Thread safety: pure functions over caller-owned memory; no global state. */
#ifndef MBCAS_MARKET_DEMAND_H
#define MBCAS_MARKET_DEMAND_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* How fresh signal pressures are combined. */
typedef enum {
  DEMAND_COMBINE_MAX = 0,         /* the largest pressure */
  DEMAND_COMBINE_WEIGHTED_SUM = 1 /* sum(w_i * p_i) / sum(w_i); plain mean if all w_i == 0 */
} demand_combine_mode;

/* One sampled signal. value and target in the signal's own unit. */
typedef struct demand_signal {
  double value;       /* observed value; NaN or negative counts as pressure 0 */
  double target;      /* value at which pressure reaches 1; <= 0 or NaN: pressure 0 */
  double weight;      /* >= 0; used by DEMAND_COMBINE_WEIGHTED_SUM only */
  double observed_at; /* seconds; when the value was sampled */
  int valid;          /* 0: the signal is missing (scrape failed); it is ignored */
} demand_signal;

/* Observed CPU usage of the pod, the trusted input of the honesty rule. */
typedef struct demand_usage {
  int64_t usage_m; /* observed CPU usage, millicores */
  int64_t alloc_m; /* the pod's current CPU allocation (limit), millicores; > 0 */
  int valid;       /* 0: no usage known; the honesty rule is skipped */
} demand_usage;

typedef struct demand_config {
  demand_combine_mode combine;
  double half_life_s;  /* EWMA half-life; <= 0: no smoothing (smoothed = sample) */
  double stale_after_s;/* a signal with now - observed_at > this is ignored; <= 0: never stale */
  double fallback;     /* sample used when no signal is fresh; clamped to [0,1] */
  /* Honesty rule (see demand_supported and docs/mechanism.md): */
  double honesty_headroom;    /* h >= 0, e.g. 0.25; < 0 disables the rule */
  double honesty_half_life_s; /* how fast an unsupported excess decays; <= 0: cut at once */
} demand_config;

/* Defaults: MAX, half-life 60 s, stale after 120 s, fallback 0.5, headroom 0.25,
 * honesty half-life 60 s. */
void demand_config_default(demand_config *cfg);

/* Per-pod state the caller keeps between evaluations. Zero-initialised = fresh.
 * All fields are plain numbers so they can live in CR status. */
typedef struct demand_state {
  double smoothed;      /* last smoothed demand, [0,1] */
  double last_at;       /* time of the last update */
  double excess_since;  /* start of the current unsupported claim; valid if excess_active */
  int initialized;      /* 0 until the first update; the first sample is taken as is */
  int excess_active;    /* 1 while the raw claim stays above the supported level */
} demand_state;

/* What one evaluation saw and did (for status and reasoning). */
typedef struct demand_result {
  double raw;        /* combined pressure of fresh signals, or the fallback */
  double supported;  /* demand supported by usage (1 when the rule is off or usage unknown) */
  double honest;     /* raw after the honesty limit: the sample fed to the EWMA */
  double smoothed;   /* new smoothed demand, [0,1]; also stored in the state */
  int n_fresh;       /* signals that were valid and fresh */
  int used_fallback; /* 1 when n_fresh == 0 */
  int limited;       /* 1 when honest < raw (the claim was limited) */
} demand_result;

/* value/target clamped to [0,1]; 0 for NaN, target <= 0, or value <= 0. */
double demand_pressure(double value, double target);

/* Combine the valid, fresh signals (now - observed_at <= stale_after_s when > 0; a
 * signal from the future counts as fresh). Writes the combined pressure to *out and
 * returns the number of signals used; when it returns 0, *out is left unchanged.
 * sig may be NULL when n == 0. */
int demand_combine(double *out, const demand_signal *sig, size_t n, demand_combine_mode mode,
                   double now, double stale_after_s);

/* One EWMA step for an irregular interval: alpha = 1 - 2^(-dt/half_life);
 * returns prev + alpha * (sample - prev). dt <= 0 returns prev; half_life <= 0 returns
 * sample. Result clamped to [0,1]. */
double demand_ewma(double prev, double sample, double dt_s, double half_life_s);

/* Demand level that observed usage supports: min(1, (usage/alloc) * (1 + headroom)).
 * A pod using its whole allocation is throttled and may want more, so usage/alloc >= 1
 * supports any claim (1). Returns 1 when usage is invalid, alloc <= 0 or headroom < 0. */
double demand_supported(const demand_usage *usage, double headroom);

/* Full pipeline for one evaluation at time now; updates *st and fills *out (out may be
 * NULL). The honesty limit: while raw > supported, the excess is allowed to last but
 * decays with the honesty half-life from the moment it started:
 *   honest = supported + (raw - supported) * 2^(-(now - excess_since)/honesty_half_life)
 * and as soon as raw <= supported the claim is taken as is and the clock resets.
 * Returns MBCAS_EINVAL (and leaves *st unchanged) when st or cfg is NULL, or sig is
 * NULL with n > 0. */
mbcas_rc demand_update(demand_result *out, demand_state *st, const demand_config *cfg,
                       const demand_signal *sig, size_t n, const demand_usage *usage,
                       double now);

#endif
