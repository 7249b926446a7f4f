/* quantity.c - Kubernetes quantities as exact decimals; see quantity.h. */
#include "quantity.h"

#include <stdio.h>
#include <string.h>

#define MAX_DIGITS 18
#define MAX_EXP 1000

typedef __int128 i128;

static int64_t pow10_i64(int n) { /* n in [0, 18] */
  int64_t p = 1;
  while (n-- > 0)
    p *= 10;
  return p;
}

static i128 pow10_i128(int n) { /* n in [0, 38] */
  i128 p = 1;
  while (n-- > 0)
    p *= 10;
  return p;
}

static i128 abs128(i128 v) { return v < 0 ? -v : v; }

static int ndigits128(i128 m) { /* decimal digits of |m| (1 for 0) */
  int n = 1;
  m = abs128(m);
  while (m >= 10) {
    m /= 10;
    n++;
  }
  return n;
}

static int ndigits(int64_t m) { return ndigits128(m); }

static void normalize(quantity *q) {
  if (q->mant == 0) {
    q->exp = 0;
    return;
  }
  while (q->mant % 10 == 0) {
    q->mant /= 10;
    q->exp++;
  }
}

/* m x 10^e without trailing zeros in m (0 -> e = 0). */
static void normalize128(i128 *m, int *e) {
  if (*m == 0) {
    *e = 0;
    return;
  }
  while (*m % 10 == 0) {
    *m /= 10;
    (*e)++;
  }
}

/* Round m x 10^e up (away from zero) to at most 9 decimal places, as ParseQuantity
 * does (inf.RoundUp at scale 9). */
static void round_to_nano128(i128 *m, int *e) {
  if (*e >= -9) return;
  int drop = -9 - *e;
  if (drop > 38) { /* |m| < 2^127 < 10^39: |value| < 1e-9, becomes +-1n */
    *m = *m > 0 ? 1 : -1;
  } else {
    i128 d = pow10_i128(drop);
    i128 r = *m % d;
    *m /= d;
    if (r > 0)
      (*m)++;
    else if (r < 0)
      (*m)--;
  }
  *e = -9;
  normalize128(m, e);
}

static const struct {
  const char *s;
  int exp10;
  int pow2;
} suffixes[] = {
    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"", 0, 0},    {"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

mbcas_rc quantity_parse(quantity *out, const char *s, const char *field, mbcas_err *err) {
  if (!field) field = "";
  if (!s || !*s) return mbcas_err_set(err, MBCAS_EINVAL, field, "must not be empty");
  const char *p = s;
  int neg = 0;
  if (*p == '+' || *p == '-') neg = (*p++ == '-');
  char digits[64];
  int nd = 0, frac = 0, seen_digit = 0, seen_point = 0, overflow_digits = 0;
  for (;; p++) {
    if (*p >= '0' && *p <= '9') {
      seen_digit = 1;
      if (seen_point) frac++;
      if (nd == 0 && *p == '0') continue; /* leading zero */
      if (nd < (int)sizeof(digits))
        digits[nd++] = *p;
      else
        overflow_digits = 1;
    } else if (*p == '.' && !seen_point) {
      seen_point = 1;
    } else {
      break;
    }
  }
  if (!seen_digit)
    return mbcas_err_set(err, MBCAS_EINVAL, field,
                         "quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': \"%s\"",
                         s);
  if (overflow_digits) return mbcas_err_set(err, MBCAS_EINVAL, field, "too many digits: \"%s\"", s);
  /* strip trailing zeros */
  int exp = -frac;
  while (nd > 0 && digits[nd - 1] == '0') {
    nd--;
    exp++;
  }
  if (nd > MAX_DIGITS)
    return mbcas_err_set(err, MBCAS_EINVAL, field, "more than %d significant digits: \"%s\"", MAX_DIGITS, s);
  int64_t mant = 0;
  for (int i = 0; i < nd; i++)
    mant = mant * 10 + (digits[i] - '0');
  if (nd == 0) exp = 0;

  quantity q = {.mant = neg ? -mant : mant, .exp = exp, .format = QUANTITY_DECIMAL_SI};
  const char *suf = p;
  int pow2 = 0, found = 0;
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    if (strcmp(suf, suffixes[i].s) == 0) {
      q.exp += suffixes[i].exp10;
      pow2 = suffixes[i].pow2;
      q.format = pow2 ? QUANTITY_BINARY_SI : QUANTITY_DECIMAL_SI;
      found = 1;
      break;
    }
  }
  if (!found && (suf[0] == 'e' || suf[0] == 'E') && suf[1] != '\0') {
    const char *e = suf + 1;
    int eneg = 0;
    if (*e == '+' || *e == '-') eneg = (*e++ == '-');
    if (!*e) goto bad_suffix;
    long ev = 0;
    for (; *e; e++) {
      if (*e < '0' || *e > '9') goto bad_suffix;
      ev = ev * 10 + (*e - '0');
      if (ev > MAX_EXP) return mbcas_err_set(err, MBCAS_EINVAL, field, "exponent out of range: \"%s\"", s);
    }
    q.exp += (int32_t)(eneg ? -ev : ev);
    q.format = QUANTITY_DECIMAL_EXPONENT;
    found = 1;
  }
  if (!found) goto bad_suffix;
  /* value = m x 10^e, exactly; |m| < 10^18 x 2^60 < 2^120 */
  i128 m = (i128)q.mant * ((i128)1 << pow2);
  int e = m == 0 ? 0 : q.exp;
  normalize128(&m, &e);
  round_to_nano128(&m, &e);
  if (pow2) {
    /* Kubernetes caps a BinarySI value at 2^63-1 ("8Ei" parses as 2^63-1); capping
     * would silently change the value, so refuse it instead. */
    if (e > 18 || (e >= 0 && abs128(m) > INT64_MAX / pow10_i64(e)) ||
        (e < 0 && abs128(m) > (i128)INT64_MAX * pow10_i64(-e)))
      return mbcas_err_set(err, MBCAS_EINVAL, field,
                           "value out of range: \"%s\": binary quantities above 2^63-1 are not supported", s);
  }
  /* The canonical text must read back: at most 18 significant digits, except for a
   * BinarySI integer that is written with a binary suffix ("7Ei" = 8070450532247928832).
   * x * 2^k can need more ("0.1Ei" = 115292150460684697.6). */
  if (ndigits128(m) > MAX_DIGITS &&
      !(pow2 && e == 0 && abs128(m) <= INT64_MAX && (int64_t)(m % 1024) == 0))
    return mbcas_err_set(err, MBCAS_EINVAL, field,
                         "more than %d significant digits after binary scaling: \"%s\"", MAX_DIGITS, s);
  if (e > MAX_EXP) return mbcas_err_set(err, MBCAS_EINVAL, field, "value out of range: \"%s\"", s);
  q.mant = (int64_t)m;
  q.exp = e;
  if (out) *out = q;
  return MBCAS_OK;
bad_suffix:
  return mbcas_err_set(err, MBCAS_EINVAL, field, "unable to parse quantity's suffix: \"%s\"", s);
}

/* ceil(mant * 10^shift), into int64 */
static mbcas_rc scaled(int64_t *out, const quantity *q, int shift) {
  int e = q->exp + shift;
  if (q->mant == 0) {
    *out = 0;
    return MBCAS_OK;
  }
  if (e >= 0) {
    if (e > 18) return MBCAS_EINVAL;
    i128 v = (i128)q->mant * pow10_i64(e);
    if (v > INT64_MAX || v < -INT64_MAX) return MBCAS_EINVAL;
    *out = (int64_t)v;
    return MBCAS_OK;
  }
  if (-e > 18) {
    *out = q->mant > 0 ? 1 : 0;
    return MBCAS_OK;
  }
  int64_t d = pow10_i64(-e);
  int64_t v = q->mant / d;
  if (q->mant % d > 0) v++; /* ceil */
  *out = v;
  return MBCAS_OK;
}

mbcas_rc quantity_milli(int64_t *out, const quantity *q) { return scaled(out, q, 3); }
mbcas_rc quantity_value(int64_t *out, const quantity *q) { return scaled(out, q, 0); }

int quantity_sign(const quantity *q) { return q->mant > 0 ? 1 : q->mant < 0 ? -1 : 0; }

int quantity_cmp(const quantity *a, const quantity *b) {
  int sa = quantity_sign(a), sb = quantity_sign(b);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  /* same sign, both non-zero: compare magnitudes */
  int ma = ndigits(a->mant) + a->exp, mb = ndigits(b->mant) + b->exp;
  int r;
  if (ma != mb) {
    r = ma < mb ? -1 : 1;
  } else {
    i128 x = a->mant < 0 ? -(i128)a->mant : a->mant;
    i128 y = b->mant < 0 ? -(i128)b->mant : b->mant;
    int e = a->exp < b->exp ? a->exp : b->exp;
    for (int i = e; i < a->exp; i++)
      x *= 10; /* differences are < 19 digits: fits */
    for (int i = e; i < b->exp; i++)
      y *= 10;
    r = x < y ? -1 : x > y ? 1 : 0;
  }
  return sa > 0 ? r : -r;
}

quantity quantity_from_milli(int64_t milli) {
  quantity q = {.mant = milli, .exp = -3, .format = QUANTITY_DECIMAL_SI};
  normalize(&q);
  return q;
}

quantity quantity_from_bytes(int64_t n) {
  quantity q = {.mant = n, .exp = 0, .format = QUANTITY_BINARY_SI};
  normalize(&q);
  return q;
}

static const char *dec_suffix(int e) {
  switch (e) {
  case -9: return "n";
  case -6: return "u";
  case -3: return "m";
  case 0: return "";
  case 3: return "k";
  case 6: return "M";
  case 9: return "G";
  case 12: return "T";
  case 15: return "P";
  case 18: return "E";
  default: return NULL;
  }
}

static const char *bin_suffix(int e) {
  static const char *s[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  return (e >= 0 && e <= 6) ? s[e] : NULL;
}

static void put_i128(char *buf, size_t len, i128 v, const char *suffix) {
  char tmp[64];
  int n = 0, neg = v < 0;
  if (neg) v = -v;
  do {
    tmp[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v > 0 && n < 60);
  char out[96];
  int o = 0;
  if (neg) out[o++] = '-';
  while (n > 0)
    out[o++] = tmp[--n];
  out[o] = '\0';
  snprintf(buf, len, "%s%s", out, suffix);
}

const char *quantity_format(const quantity *q, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  if (q->mant == 0) {
    snprintf(buf, len, "0");
    return buf;
  }
  quantity_fmt fmt = q->format;
  if (fmt == QUANTITY_BINARY_SI) {
    int64_t v;
    int small = (q->exp <= 3) && ((i128)q->mant * pow10_i64(q->exp < 0 ? 0 : q->exp) > -1024) &&
                ((i128)q->mant * pow10_i64(q->exp < 0 ? 0 : q->exp) < 1024);
    if (small || q->exp < 0 || scaled(&v, q, 0) != MBCAS_OK) {
      fmt = QUANTITY_DECIMAL_SI;
    } else {
      int e2 = 0;
      while (v % 1024 == 0 && e2 < 6) {
        v /= 1024;
        e2++;
      }
      put_i128(buf, len, v, bin_suffix(e2));
      return buf;
    }
  }
  /* decimal: exponent down to a multiple of 3 */
  i128 m = q->mant;
  int e = q->exp;
  int r = ((e % 3) + 3) % 3;
  for (int i = 0; i < r; i++)
    m *= 10;
  e -= r;
  /* DecimalSI has no suffix beyond E (10^18): like Quantity.String() since
   * kubernetes/kubernetes#140459, fall back to the exponent form ("1e21"), which
   * reads back as DecimalExponent and prints the same text. */
  const char *suf = fmt == QUANTITY_DECIMAL_SI ? dec_suffix(e) : NULL;
  if (suf) {
    put_i128(buf, len, m, suf);
  } else if (e == 0) {
    put_i128(buf, len, m, "");
  } else {
    char es[16];
    snprintf(es, sizeof es, "e%d", e);
    put_i128(buf, len, m, es);
  }
  return buf;
}

mbcas_rc quantity_parse_milli(int64_t *out, const char *s, const char *field, mbcas_err *err) {
  quantity q;
  mbcas_rc rc = quantity_parse(&q, s, field, err);
  if (rc != MBCAS_OK) return rc;
  int64_t v;
  if (quantity_milli(&v, &q) != MBCAS_OK)
    return mbcas_err_set(err, MBCAS_EINVAL, field ? field : "", "value out of range: \"%s\"", s);
  if (out) *out = v;
  return MBCAS_OK;
}

const char *quantity_format_milli(int64_t milli, char *buf, size_t len) {
  quantity q = quantity_from_milli(milli);
  return quantity_format(&q, buf, len);
}
