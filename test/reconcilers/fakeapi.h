/* fakeapi.h - an in-memory rec_api for the reconcilers' unit tests.
 *
 * Objects live at their API paths. GET returns a copy; PATCH .../status merges the
 * status into the object; PATCH .../resize applies the container resources to the pod;
 * PATCH .../scale sets spec.replicas; POST .../events and PATCH .../events/NAME are
 * recorded; get_items splits a stored list with sig_items, 7 bytes at a time. Every call is logged (method, path, body) in order, and errors can be
 * injected per path substring. Owns: its objects and log. Thread safety: calls through the
 * rec_api hold one lock (status writers may call from several threads); the fake_*
 * functions are for the test's thread while no call is in flight. */
#ifndef MBCAS_TEST_FAKEAPI_H
#define MBCAS_TEST_FAKEAPI_H

#include <cjson/cJSON.h>

#include "recapi.h"

#define FAKE_MAX_CALLS 4096
#define FAKE_MAX_OBJS 512

typedef struct fake_call {
  char method[8];
  char path[600];
  char *body;
} fake_call;

typedef struct fake_api {
  int n_objs;
  char *paths[FAKE_MAX_OBJS];
  cJSON *objs[FAKE_MAX_OBJS];
  int n_calls;
  fake_call calls[FAKE_MAX_CALLS];
  /* injected failures: the next `count` calls whose path contains `match` return rc */
  char fail_match[128];
  char fail_method[8];
  int fail_count;
  mbcas_rc fail_rc;
  /* raw bodies for get_raw (pods/proxy) */
  char *raw_path, *raw_body;
  /* set before fake_api_fill: no get_items (callers fall back to get) */
  int no_get_items;
} fake_api;

fake_api *fake_new(void);
void fake_free(fake_api *f);
void fake_api_fill(fake_api *f, rec_api *api);
/* Store obj (taken over) at path. */
void fake_put_obj(fake_api *f, const char *path, cJSON *obj);
/* Parse JSON text into an object at path. */
void fake_put_json(fake_api *f, const char *path, const char *json);
/* Borrowed object at path, or NULL. */
cJSON *fake_obj(fake_api *f, const char *path);
void fake_fail(fake_api *f, const char *method, const char *match, int count, mbcas_rc rc);
/* Number of calls with method whose path contains match (NULL: any). */
int fake_count(const fake_api *f, const char *method, const char *match);
/* Index of the first call with method and path containing match, or -1. */
int fake_first(const fake_api *f, const char *method, const char *match);
void fake_clear_calls(fake_api *f);

#endif
