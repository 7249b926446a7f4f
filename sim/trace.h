/* trace.h - load a workload trace (CSV) and turn it into a request rate per simulation step.
 *
 * Input: a CSV with a header row, column 1 `t_seconds` (seconds since the first row, one
 * fixed interval per row) and one or more numeric load columns (requests per row, or
 * any relative load such as CPU %). trace_series resamples one column (or the sum of all)
 * onto the simulation step: rows finer than the step are averaged over it, coarser rows
 * are held (piecewise constant), so the total load is preserved. Then it scales the
 * series so that a chosen quantile (1.0 = the maximum) equals the requested peak rate.
 * Zero runs marked as data gaps can be filled with the last non-zero value.
 *
 * Owns: the trace it allocates (trace_free). Does not touch: the market, clocks.
 * Thread safety: none needed (no global state). */
#ifndef MBCAS_SIM_TRACE_H
#define MBCAS_SIM_TRACE_H

#include <stddef.h>

#include "result.h"

typedef struct trace {
  size_t rows, cols;    /* cols = load columns (t_seconds excluded) */
  double interval_s;    /* row width, from the first two rows (1 for a single row) */
  double *v;            /* rows x cols, row-major */
  char **names;         /* cols column names */
} trace;

/* Read path. Errors: MBCAS_EIO (cannot open; err field = path), MBCAS_EINVAL (no header,
 * non-numeric cell, ragged row, fewer than 2 columns, t_seconds not increasing;
 * err field "line N"), MBCAS_ENOMEM. *out untouched on error. */
mbcas_rc trace_load(trace **out, const char *path, mbcas_err *err);
void trace_free(trace *t);

/* Index of a column by name, or -1. */
int trace_column(const trace *t, const char *name);

typedef struct trace_opts {
  int column;          /* load column index (0-based), or -1 for the sum of all columns */
  double step_s;       /* simulation step, > 0 */
  double start_s;      /* skip this much of the trace */
  double span_s;       /* length to keep; <= 0: to the end */
  double peak;         /* scale so that the quantile below equals this; <= 0: no scaling */
  double peak_quantile;/* in (0,1]; 1 = maximum */
  int fill_zeros;      /* 1: a zero value is replaced by the last non-zero one (data gaps) */
} trace_opts;

void trace_opts_default(trace_opts *o); /* column -1, step 15, all, peak 0, q 1, no fill */

/* The resampled, scaled series: *out (malloc'd, caller frees with free) with *n steps.
 * Errors: MBCAS_EINVAL for a bad option (field "column", "stepS", "peakQuantile") or an
 * empty result; MBCAS_ENOMEM. */
mbcas_rc trace_series(double **out, size_t *n, const trace *t, const trace_opts *o,
                      mbcas_err *err);

/* The q-quantile (0..1, linear between order statistics) of v[0..n); 0 when n == 0. */
double trace_quantile(const double *v, size_t n, double q);

#endif
