/* yamljson.h - test helper: read a YAML file (one or more documents) into cJSON with
 * libyaml, resolving plain scalars the YAML 1.1 way kubectl and PyYAML do (null, bool,
 * decimal int, float with a dot; anything else, and every quoted scalar, is a string).
 * Anchors and aliases are not supported (none of our files use them).
 * Owns: the returned array (cJSON_Delete). Thread safety: none needed. */
#ifndef MBCAS_TEST_YAMLJSON_H
#define MBCAS_TEST_YAMLJSON_H

#include <cjson/cJSON.h>

/* All documents of path as a JSON array (empty documents skipped); NULL on error,
 * with a message in errbuf. */
cJSON *yamljson_load_file(const char *path, char *errbuf, unsigned long errlen);

#endif
