/* yamljson.c - YAML to cJSON for tests; see yamljson.h. */
#include "yamljson.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

static int matches(const char *re, const char *s) {
  regex_t r;
  if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0) return 0;
  int ok = regexec(&r, s, 0, NULL, 0) == 0;
  regfree(&r);
  return ok;
}

static cJSON *scalar(const yaml_event_t *ev) {
  const char *v = (const char *)ev->data.scalar.value;
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return cJSON_CreateString(v);
  if (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL"))
    return cJSON_CreateNull();
  if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE")) return cJSON_CreateTrue();
  if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE")) return cJSON_CreateFalse();
  if (matches("^[-+]?(0|[1-9][0-9]*)$", v) ||
      matches("^[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+][0-9]+)?$", v))
    return cJSON_CreateNumber(strtod(v, NULL));
  return cJSON_CreateString(v);
}

/* Parse one node whose first event is ev (already taken); returns the value. */
static cJSON *node(yaml_parser_t *p, yaml_event_t *ev, char *eb, unsigned long el);

static cJSON *next_node(yaml_parser_t *p, char *eb, unsigned long el, int *end) {
  yaml_event_t ev;
  if (!yaml_parser_parse(p, &ev)) {
    snprintf(eb, el, "line %lu: %s", (unsigned long)p->problem_mark.line + 1,
             p->problem ? p->problem : "error");
    return NULL;
  }
  if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT ||
      ev.type == YAML_DOCUMENT_END_EVENT) {
    *end = 1;
    yaml_event_delete(&ev);
    return NULL;
  }
  cJSON *v = node(p, &ev, eb, el);
  yaml_event_delete(&ev);
  return v;
}

static cJSON *node(yaml_parser_t *p, yaml_event_t *ev, char *eb, unsigned long el) {
  switch (ev->type) {
  case YAML_SCALAR_EVENT: return scalar(ev);
  case YAML_SEQUENCE_START_EVENT: {
    cJSON *a = cJSON_CreateArray();
    for (;;) {
      int end = 0;
      cJSON *v = next_node(p, eb, el, &end);
      if (end) return a;
      if (!v) {
        cJSON_Delete(a);
        return NULL;
      }
      cJSON_AddItemToArray(a, v);
    }
  }
  case YAML_MAPPING_START_EVENT: {
    cJSON *o = cJSON_CreateObject();
    for (;;) {
      int end = 0;
      cJSON *k = next_node(p, eb, el, &end);
      if (end) return o;
      if (!k || !cJSON_IsString(k)) {
        if (k && !*eb) snprintf(eb, el, "non-string mapping key");
        cJSON_Delete(k);
        cJSON_Delete(o);
        return NULL;
      }
      cJSON *v = next_node(p, eb, el, &end);
      if (!v) {
        if (end && !*eb) snprintf(eb, el, "mapping without value");
        cJSON_Delete(k);
        cJSON_Delete(o);
        return NULL;
      }
      cJSON_AddItemToObject(o, k->valuestring, v);
      cJSON_Delete(k);
    }
  }
  default: snprintf(eb, el, "unsupported YAML event %d (anchors/aliases?)", ev->type); return NULL;
  }
}

cJSON *yamljson_load_file(const char *path, char *eb, unsigned long el) {
  if (el) eb[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(eb, el, "cannot open %s", path);
    return NULL;
  }
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  cJSON *docs = cJSON_CreateArray();
  int done = 0;
  while (!done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      snprintf(eb, el, "%s: line %lu: %s", path, (unsigned long)p.problem_mark.line + 1,
               p.problem ? p.problem : "error");
      cJSON_Delete(docs);
      docs = NULL;
      break;
    }
    if (ev.type == YAML_STREAM_END_EVENT) {
      done = 1;
    } else if (ev.type == YAML_DOCUMENT_START_EVENT) {
      int end = 0;
      cJSON *v = next_node(&p, eb, el, &end);
      if (!v && !end) {
        yaml_event_delete(&ev);
        cJSON_Delete(docs);
        docs = NULL;
        break;
      }
      if (v && !cJSON_IsNull(v))
        cJSON_AddItemToArray(docs, v);
      else
        cJSON_Delete(v);
      if (!end) { /* consume DOCUMENT_END */
        yaml_event_t de;
        if (yaml_parser_parse(&p, &de)) yaml_event_delete(&de);
      }
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  fclose(f);
  return docs;
}
