/* duration.c - Go-style durations in milliseconds; see duration.h. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

#define DURATION_MAX_MS (100000LL * 3600 * 1000)

mbcas_rc duration_parse(int64_t *out_ms, const char *s, const char *field, mbcas_err *err) {
  if (!field) field = "";
  if (!s || !*s) return mbcas_err_set(err, MBCAS_EINVAL, field, "must not be empty");
  if (strcmp(s, "0") == 0) {
    if (out_ms) *out_ms = 0;
    return MBCAS_OK;
  }
  const char *p = s;
  __int128 total_us = 0; /* microseconds, to truncate once at the end; wide: no overflow */
  while (*p) {
    int64_t ip = 0, fp = 0, fscale = 1;
    int nd = 0;
    while (*p >= '0' && *p <= '9') {
      ip = ip * 10 + (*p++ - '0');
      nd++;
      if (ip > DURATION_MAX_MS) goto range;
    }
    if (nd == 0) goto bad;
    if (*p == '.') {
      p++;
      int nf = 0;
      while (*p >= '0' && *p <= '9') {
        if (fscale < 1000000000LL) {
          fp = fp * 10 + (*p - '0');
          fscale *= 10;
        }
        p++;
        nf++;
      }
      if (nf == 0) goto bad;
    }
    int64_t unit_us;
    if (strncmp(p, "ms", 2) == 0) {
      unit_us = 1000;
      p += 2;
    } else if (*p == 's') {
      unit_us = 1000000;
      p++;
    } else if (*p == 'm') {
      unit_us = 60LL * 1000000;
      p++;
    } else if (*p == 'h') {
      unit_us = 3600LL * 1000000;
      p++;
    } else {
      goto bad;
    }
    total_us += (__int128)ip * unit_us + (__int128)fp * unit_us / fscale;
    if (total_us / 1000 > DURATION_MAX_MS) goto range;
  }
  if (out_ms) *out_ms = (int64_t)(total_us / 1000);
  return MBCAS_OK;
bad:
  return mbcas_err_set(err, MBCAS_EINVAL, field,
                       "invalid duration \"%s\": want a sequence like 15s, 2m30s, 1.5h, 250ms", s);
range:
  return mbcas_err_set(err, MBCAS_EINVAL, field, "duration \"%s\" out of range (at most 100000h)", s);
}

const char *duration_format(int64_t ms, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  if (ms <= 0) {
    snprintf(buf, len, "0s");
    return buf;
  }
  if (ms < 1000) {
    snprintf(buf, len, "%lldms", (long long)ms);
    return buf;
  }
  long long h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
  char sec[24] = "";
  if (s || frac) {
    if (frac) {
      char f[8];
      snprintf(f, sizeof f, "%03lld", frac);
      for (int i = 2; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
      snprintf(sec, sizeof sec, "%lld.%ss", s, f);
    } else {
      snprintf(sec, sizeof sec, "%llds", s);
    }
  }
  char hs[24] = "", msb[24] = "";
  if (h) snprintf(hs, sizeof hs, "%lldh", h);
  if (m || (h && sec[0])) snprintf(msb, sizeof msb, "%lldm", m);
  snprintf(buf, len, "%s%s%s", hs, msb, sec);
  return buf;
}
