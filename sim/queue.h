/* queue.h - the per-pod queueing model of mbcas-sim.
 *
 * A pod with CPU allocation c cores serving requests that cost s core-seconds each is an
 * M/M/1 processor-sharing server with service rate mu = c / s requests/s (the sojourn
 * time of M/M/1-PS and M/M/1-FCFS have the same mean 1/(mu - lambda); the tail used here
 * is the FCFS exponential one). In a step of dt seconds with arrival rate lambda:
 *  - lambda < rho_max * mu: steady state; any backlog drains at (mu - lambda).
 *  - otherwise the excess (lambda - mu) * dt joins a fluid backlog and the pod is
 *    saturated (CPU-throttled); the exponential tail uses rho_max. The backlog never
 *    holds more than QUEUE_TIMEOUT_S of work (the rest times out and is dropped).
 * The sojourn time is then  w + Exp(r)  with w = mean backlog / mu, r = mu - lambda
 * (at least mu * (1 - rho_max)), so mean = w + 1/r and quantile q = w - ln(1-q)/r.
 * Several pods behind a round-robin balancer give a mixture; queue_mix_quantile solves
 * it by bisection.
 *
 * Owns: nothing. Thread safety: pure functions over caller-owned state. */
#ifndef MBCAS_SIM_QUEUE_H
#define MBCAS_SIM_QUEUE_H

#include <stddef.h>

#define QUEUE_RHO_MAX 0.99
#define QUEUE_LAT_MAX 60.0 /* seconds: latency reported for a pod with no capacity */
#define QUEUE_TIMEOUT_S 10.0 /* requests queued longer than this time out: the backlog is
                                capped at QUEUE_TIMEOUT_S x mu (clients give up) */

/* Closed forms (for tests and the oracle): M/M/1 mean sojourn time 1/(mu - lambda) and
 * its q-quantile -ln(1-q)/(mu - lambda); INFINITY when lambda >= mu or mu <= 0. */
double queue_mm1_mean(double lambda, double mu);
double queue_mm1_quantile(double lambda, double mu, double q);

typedef struct queue_pod {
  double backlog; /* requests waiting beyond the steady state */
  double dropped; /* requests timed out so far */
} queue_pod;

typedef struct queue_out {
  double offset_s;  /* w: wait behind the backlog */
  double rate;      /* r: exponential tail rate, 1/s */
  double mean_s;    /* w + 1/r */
  double busy;      /* CPU used / allocated, [0,1] */
  double served;    /* requests/s completed (arrivals + backlog drained) */
  int saturated;    /* 1: demand >= rho_max * capacity (throttled) */
} queue_out;

/* Advance one pod by dt seconds at arrival rate lambda (req/s) and service rate mu. */
void queue_step(queue_out *out, queue_pod *q, double lambda, double mu, double dt);

/* q-quantile of the mixture sum_i w_i * (offset_i + Exp(rate_i)), weights w_i >= 0
 * (normalised here). Returns 0 when the total weight is 0; QUEUE_LAT_MAX at most. */
double queue_mix_quantile(const double *w, const double *offset, const double *rate,
                          size_t n, double q);

#endif
