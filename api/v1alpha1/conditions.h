/* conditions.h - status conditions as the Kubernetes API conventions define them.
 *
 * A cond_list is the status.conditions array: at most COND_MAX entries keyed by type.
 * cond_set() is the one way to change a condition: lastTransitionTime moves only when
 * the status changes (True/False/Unknown), while reason, message and
 * observedGeneration are updated in place; it reports whether anything changed so a
 * reconciler can skip a needless status write. Short fields are fixed buffers;
 * the message is heap-allocated (schema allows 32768 bytes).
 * Owns: each condition's message (cond_list_clear frees them).
 * Thread safety: none; a list belongs to one object. */
#ifndef MBCAS_API_CONDITIONS_H
#define MBCAS_API_CONDITIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "result.h"

#define COND_MAX 16
#define COND_TYPE_MAX 317
#define COND_REASON_MAX 1025
#define COND_MESSAGE_MAX 32768

typedef enum { COND_UNKNOWN = 0, COND_TRUE = 1, COND_FALSE = 2 } cond_status;

typedef struct cond {
  char type[COND_TYPE_MAX];
  cond_status status;
  char reason[COND_REASON_MAX];
  char *message; /* never NULL in a list entry ("" at least) */
  int64_t observed_generation;
  time_t last_transition_time;
} cond;

typedef struct cond_list {
  cond items[COND_MAX];
  int n;
} cond_list;

/* "True", "False", "Unknown". */
const char *cond_status_str(cond_status s);

/* Set (add or update) condition type. reason must match the API's pattern
 * (CamelCase: ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$), message may be NULL.
 * now is used as lastTransitionTime when the condition is new or its status changed.
 * *changed (may be NULL) = whether any field changed. MBCAS_EINVAL for a bad
 * type/reason or a full list, MBCAS_ENOMEM. */
mbcas_rc cond_set(cond_list *l, const char *type, cond_status status, const char *reason, const char *message,
                  int64_t observed_generation, time_t now, bool *changed);

/* The condition of that type, or NULL (borrowed). */
const cond *cond_find(const cond_list *l, const char *type);
/* Whether type is present with status True. */
bool cond_is_true(const cond_list *l, const char *type);
/* Remove type; returns whether it was there. */
bool cond_remove(cond_list *l, const char *type);

/* Free the messages and empty the list (l itself is the caller's). Accepts NULL. */
void cond_list_clear(cond_list *l);
/* Deep copy src into dst (dst is cleared first). */
mbcas_rc cond_list_copy(cond_list *dst, const cond_list *src);

/* status.conditions as a JSON array (NULL on ENOMEM). */
cJSON *cond_list_to_json(const cond_list *l);
/* Parse a JSON array (NULL or JSON null -> empty list) with the schema's rules;
 * errors name path[i].field. On error out is left empty. */
mbcas_rc cond_list_from_json(cond_list *out, const cJSON *arr, const char *path, mbcas_err *err);

#endif
