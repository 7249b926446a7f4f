/* meta.c - ObjectMeta fields and RFC 3339 times; see meta.h. */
#include "meta.h"

#include <stdio.h>
#include <string.h>

#include "jsonutil.h"

mbcas_rc meta_parse(api_meta *out, const cJSON *obj, int namespaced, mbcas_err *err) {
  memset(out, 0, sizeof *out);
  const cJSON *md;
  mbcas_rc rc = ju_object(&md, obj, "metadata", "", 1, err);
  if (rc) return rc;
  if ((rc = ju_string(out->name, sizeof out->name, NULL, md, "name", "metadata", 1, 1, 253, err))) return rc;
  if (!ju_is_dns_subdomain(out->name))
    return mbcas_err_set(err, MBCAS_EINVAL, "metadata.name",
                         "Invalid value: \"%s\": a lowercase RFC 1123 subdomain must consist of lower case "
                         "alphanumeric characters, '-' or '.'",
                         out->name);
  if (namespaced) {
    if ((rc = ju_string(out->namespace_, sizeof out->namespace_, NULL, md, "namespace", "metadata", 1, 1, 63,
                        err)))
      return rc;
  }
  if ((rc = ju_string(out->uid, sizeof out->uid, NULL, md, "uid", "metadata", 0, 0, 63, err))) return rc;
  if ((rc = ju_string(out->resource_version, sizeof out->resource_version, NULL, md, "resourceVersion",
                      "metadata", 0, 0, 63, err)))
    return rc;
  if ((rc = ju_int(&out->generation, NULL, md, "generation", "metadata", 0, 0, INT64_MAX, err))) return rc;
  return MBCAS_OK;
}

const char *api_time_format(time_t t, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    buf[0] = '\0';
    return buf;
  }
  /* Four year digits, zero-padded, as Go's time.RFC3339 layout writes them
   * (strftime's %Y would write year 696 as "696"). */
  snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

static int days_from_civil(int y, unsigned m, unsigned d) { /* Howard Hinnant's algorithm */
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int)doe - 719468;
}

mbcas_rc api_time_parse(time_t *out, const char *s, const char *field, mbcas_err *err) {
  static const char shape[] = "dddd-dd-ddTdd:dd:dd"; /* d: a digit; sscanf alone would take " 1" */
  int Y, M, D, h, m, sec, n = 0;
  if (!s) goto bad;
  for (int i = 0; i < 19; i++) { /* stops at the terminator, which matches nothing */
    char c = s[i];
    if (shape[i] == 'd' ? (c < '0' || c > '9') : (c != shape[i] && !(shape[i] == 'T' && c == 't'))) goto bad;
  }
  if (sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19) goto bad;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) goto bad;
  const char *p = s + n;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9') goto bad;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  long off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om, k = 0;
    if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5) goto bad;
    off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    goto bad;
  }
  if (*p) goto bad;
  long long days = days_from_civil(Y, (unsigned)M, (unsigned)D);
  long long t = days * 86400LL + h * 3600LL + m * 60LL + sec - off;
  /* metav1.Time writes t.UTC() with a 4-digit year, so only UTC years 0000..9999
   * read back ("9999-12-31T23:59:59-01:00" is year 10000 in UTC). */
  if (t < API_TIME_MIN || t > API_TIME_MAX)
    return mbcas_err_set(err, MBCAS_EINVAL, field ? field : "",
                         "Invalid value: \"%s\": the year in UTC must be within 0000..9999", s);
  *out = (time_t)t;
  return MBCAS_OK;
bad:
  return mbcas_err_set(err, MBCAS_EINVAL, field ? field : "",
                       "Invalid value: \"%s\": must be an RFC 3339 date-time", s ? s : "");
}
