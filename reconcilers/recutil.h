/* recutil.h - small helpers shared by the reconcilers: JSON path getters, pod state,
 * label-selector strings (the scale subresource's status.selector), and a string-keyed
 * hash map for the reconcilers' in-memory state (per pod, per service).
 *
 * Key choice: the map stores fixed-size values inline (one malloc per entry, keyed by
 * "namespace/name"), open addressing with linear probing, grown at 50% load; entries can
 * be swept (ru_map_sweep) so state of deleted pods does not accumulate.
 * Owns: the map's keys and values. Thread safety: none (one reconciler thread). */
#ifndef MBCAS_REC_RECUTIL_H
#define MBCAS_REC_RECUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cache.h"
#include "result.h"

/* String at a dotted path ("metadata.name"), or NULL. */
const char *ru_str(const cJSON *o, const char *path);
/* Child at a dotted path, or NULL. */
const cJSON *ru_get(const cJSON *o, const char *path);
/* Number at a dotted path, or dflt. */
double ru_num(const cJSON *o, const char *path, double dflt);

/* Pod is Running with condition Ready=True. */
int ru_pod_ready(const cJSON *pod);
/* Pod has metadata.deletionTimestamp, or phase Succeeded/Failed. */
int ru_pod_terminating(const cJSON *pod);

/* The same for a compact pod record (the informer cache's kube_pod). */
int ru_kpod_ready(const kube_pod *pod);
int ru_kpod_terminating(const kube_pod *pod);
/* "namespace/name" of a pod record into buf. */
const char *ru_kpod_key(const kube_pod *pod, char *buf, size_t len);

/* Whether labels (JSON object) satisfy a selector string as printed by the scale
 * subresource: "a=b,c!=d,e in (x,y),f notin (z),g,!h". An empty selector matches
 * nothing (a scale target without a selector owns no pods). MBCAS_EINVAL when the
 * selector does not parse (*match = 0 then). */
mbcas_rc ru_selector_match(int *match, const char *selector, const cJSON *labels);
/* Whether labels satisfy a metav1.LabelSelector object (matchLabels and matchExpressions
 * In, NotIn, Exists, DoesNotExist). NULL or empty selector matches nothing (as for a
 * workload's pods). Unknown operators match nothing. */
int ru_label_selector_match(const cJSON *selector, const cJSON *labels);
/* ru_selector_match and ru_label_selector_match over a pod record's labels. */
mbcas_rc ru_selector_match_kpod(int *match, const char *selector, const kube_pod *pod);
int ru_label_selector_match_kpod(const cJSON *selector, const kube_pod *pod);
/* Whether labels contain every key/value of match_labels (a JSON object). */
int ru_labels_match(const cJSON *match_labels, const cJSON *labels);

typedef struct ru_map ru_map;
/* A map of values of value_size bytes each. */
ru_map *ru_map_new(size_t value_size);
void ru_map_free(ru_map *m);
/* free_value(val) is called for every value the map drops (remove, sweep, free), before
 * the value itself is freed, to release what it owns. NULL (default): nothing. */
void ru_map_set_free(ru_map *m, void (*free_value)(void *val));
/* Value of key, or NULL. */
void *ru_map_get(ru_map *m, const char *key);
/* Value of key, created zero-filled when absent (*created = 1 then; may be NULL).
 * NULL on ENOMEM. The pointer stays valid until the map grows or the key is removed:
 * do not hold it across another ru_map_upsert. */
void *ru_map_upsert(ru_map *m, const char *key, int *created);
int ru_map_remove(ru_map *m, const char *key);
size_t ru_map_len(const ru_map *m);
/* Mark-and-sweep: ru_map_touch marks key as seen; ru_map_sweep removes every entry not
 * touched since the previous sweep and clears the marks. Returns the number removed. */
void ru_map_touch(ru_map *m, const char *key);
size_t ru_map_sweep(ru_map *m);

#endif
