/* trace.c - CSV traces to per-step request rates; see trace.h. */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void trace_free(trace *t) {
  if (!t) return;
  if (t->names)
    for (size_t i = 0; i < t->cols; i++) free(t->names[i]);
  free(t->names);
  free(t->v);
  free(t);
}

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
}

mbcas_rc trace_load(trace **out, const char *path, mbcas_err *err) {
  FILE *f = fopen(path, "r");
  if (!f) return mbcas_err_set(err, MBCAS_EIO, path, "cannot open: %s", strerror(errno));
  mbcas_rc rc = MBCAS_OK;
  trace *t = calloc(1, sizeof *t);
  double *times = NULL;
  char *line = NULL;
  size_t cap_line = 0, cap_rows = 0, lineno = 1;
  if (!t) {
    rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
    goto done;
  }
  if (getline(&line, &cap_line, f) < 0) {
    rc = mbcas_err_set(err, MBCAS_EINVAL, "line 1", "empty file: no header");
    goto done;
  }
  chomp(line);
  size_t ncol = 1;
  for (char *p = line; *p; p++) ncol += (*p == ',');
  if (ncol < 2) {
    rc = mbcas_err_set(err, MBCAS_EINVAL, "line 1", "need t_seconds and at least one load column");
    goto done;
  }
  t->cols = ncol - 1;
  t->names = calloc(t->cols, sizeof(char *));
  if (!t->names) {
    rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
    goto done;
  }
  {
    char *save = NULL, *tok = strtok_r(line, ",", &save);
    for (size_t c = 0; tok && c < ncol; c++, tok = strtok_r(NULL, ",", &save)) {
      if (c == 0) continue;
      t->names[c - 1] = strdup(tok);
      if (!t->names[c - 1]) {
        rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
        goto done;
      }
    }
  }
  while (getline(&line, &cap_line, f) >= 0) {
    lineno++;
    chomp(line);
    if (!*line) continue;
    if (t->rows == cap_rows) {
      size_t nc = cap_rows ? cap_rows * 2 : 1024;
      double *nv = realloc(t->v, nc * t->cols * sizeof(double));
      if (!nv) {
        rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
        goto done;
      }
      t->v = nv;
      double *nt = realloc(times, nc * sizeof(double));
      if (!nt) {
        rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
        goto done;
      }
      times = nt;
      cap_rows = nc;
    }
    char *p = line;
    for (size_t c = 0; c < ncol; c++) {
      char *end = NULL;
      errno = 0;
      double x = strtod(p, &end);
      if (end == p || errno || !isfinite(x) || (*end != ',' && *end != 0) ||
          (c + 1 < ncol && *end != ',') || (c + 1 == ncol && *end != 0)) {
        char fld[32];
        snprintf(fld, sizeof fld, "line %zu", lineno);
        rc = mbcas_err_set(err, MBCAS_EINVAL, fld, "column %zu: expected %zu numeric columns",
                           c + 1, ncol);
        goto done;
      }
      if (c == 0)
        times[t->rows] = x;
      else
        t->v[t->rows * t->cols + c - 1] = x;
      p = end + 1;
    }
    if (t->rows > 0 && times[t->rows] <= times[t->rows - 1]) {
      char fld[32];
      snprintf(fld, sizeof fld, "line %zu", lineno);
      rc = mbcas_err_set(err, MBCAS_EINVAL, fld, "t_seconds must increase");
      goto done;
    }
    t->rows++;
  }
  if (t->rows == 0) {
    rc = mbcas_err_set(err, MBCAS_EINVAL, "line 2", "no data rows");
    goto done;
  }
  t->interval_s = t->rows > 1 ? times[1] - times[0] : 1.0;
done:
  free(line);
  free(times);
  fclose(f);
  if (rc != MBCAS_OK) {
    trace_free(t);
    return rc;
  }
  *out = t;
  return MBCAS_OK;
}

int trace_column(const trace *t, const char *name) {
  if (!t || !name) return -1;
  for (size_t i = 0; i < t->cols; i++)
    if (t->names[i] && strcmp(t->names[i], name) == 0) return (int)i;
  return -1;
}

void trace_opts_default(trace_opts *o) {
  memset(o, 0, sizeof *o);
  o->column = -1;
  o->step_s = 15.0;
  o->peak_quantile = 1.0;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double trace_quantile(const double *v, size_t n, double q) {
  if (n == 0) return 0.0;
  double *c = malloc(n * sizeof *c);
  if (!c) return 0.0;
  memcpy(c, v, n * sizeof *c);
  qsort(c, n, sizeof *c, cmp_d);
  if (q <= 0) q = 0;
  if (q >= 1) q = 1;
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)floor(pos);
  size_t hi = lo + 1 < n ? lo + 1 : lo;
  double r = c[lo] + (pos - (double)lo) * (c[hi] - c[lo]);
  free(c);
  return r;
}

mbcas_rc trace_series(double **out, size_t *n, const trace *t, const trace_opts *o,
                      mbcas_err *err) {
  if (!t || !o || !out || !n) return mbcas_err_set(err, MBCAS_EINVAL, "", "missing argument");
  if (o->column < -1 || o->column >= (int)t->cols)
    return mbcas_err_set(err, MBCAS_EINVAL, "column", "no load column %d (trace has %zu)",
                         o->column, t->cols);
  if (!(o->step_s > 0)) return mbcas_err_set(err, MBCAS_EINVAL, "stepS", "must be > 0");
  if (!(o->peak_quantile > 0 && o->peak_quantile <= 1))
    return mbcas_err_set(err, MBCAS_EINVAL, "peakQuantile", "must be in (0,1]");
  double iv = t->interval_s, total = (double)t->rows * iv;
  double start = o->start_s > 0 ? o->start_s : 0.0;
  double end = o->span_s > 0 ? start + o->span_s : total;
  if (end > total) end = total;
  size_t steps = end > start ? (size_t)floor((end - start) / o->step_s) : 0;
  if (steps == 0) return mbcas_err_set(err, MBCAS_EINVAL, "spanS", "no whole step in the window");
  double *s = calloc(steps, sizeof *s);
  if (!s) return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  double last_nz = 0.0;
  int have_nz = 0;
  /* row value as a rate per row (whatever unit), with the zero fill applied */
  for (size_t k = 0; k < steps; k++) {
    double a = start + (double)k * o->step_s, b = a + o->step_s, acc = 0.0;
    size_t r0 = (size_t)floor(a / iv), r1 = (size_t)ceil(b / iv);
    if (r1 > t->rows) r1 = t->rows;
    for (size_t r = r0; r < r1; r++) {
      double lo = (double)r * iv, hi = lo + iv;
      double ov = (hi < b ? hi : b) - (lo > a ? lo : a);
      if (ov <= 0) continue;
      double x = 0.0;
      if (o->column >= 0)
        x = t->v[r * t->cols + (size_t)o->column];
      else
        for (size_t c = 0; c < t->cols; c++) x += t->v[r * t->cols + c];
      if (o->fill_zeros) {
        if (x == 0.0 && have_nz) x = last_nz;
        if (x != 0.0) {
          last_nz = x;
          have_nz = 1;
        }
      }
      acc += x * ov / iv; /* the part of the row's amount inside the step */
    }
    s[k] = acc / o->step_s; /* amount per second */
  }
  if (o->peak > 0) {
    double pk = trace_quantile(s, steps, o->peak_quantile);
    double f = pk > 0 ? o->peak / pk : 0.0;
    for (size_t k = 0; k < steps; k++) s[k] *= f;
  }
  *out = s;
  *n = steps;
  return MBCAS_OK;
}
