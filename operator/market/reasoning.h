/* reasoning.h - why a decision was made: a structured record and one human line.
 *
 * A reasoning_record gathers the numbers of one pod's CPU decision (bid, price, bounds,
 * cleared and guarded allocation, flags); reasoning_format writes one line such as
 *   bid 0.24 = budget share 0.30 x demand 0.80; node n1 price 310m per bid unit;
 *   744m capped at max 600m; step limited to +200m from 400m
 * (one line, shown wrapped here). reasoning_format_horizontal does the same for a
 * replica decision. Numbers are printed with fixed precision by snprintf in the "C"
 * locale the operator runs in, so the same record always gives the same bytes.
 *
 * Owns: nothing. Does not touch: I/O, Kubernetes. Thread safety: pure functions. */
#ifndef MBCAS_MARKET_REASONING_H
#define MBCAS_MARKET_REASONING_H

#include <stddef.h>
#include <stdint.h>

#include "horizontal.h"

typedef struct reasoning_record {
  double budget_share;     /* the pod's share of its service's budget */
  double demand;           /* smoothed demand used, [0,1] */
  double bid;              /* effective bid */
  double price;            /* node clearing price, millicores per bid unit */
  double exact_m;          /* clearing_alloc.exact_m (the line also prints price x bid) */
  int64_t cleared_m;       /* clearing_alloc.alloc_m */
  int64_t floor_m, cap_m;  /* bounds given to clearing */
  uint32_t clearing_flags; /* clearing_alloc.flags */
  uint32_t node_flags;     /* clearing_result.flags */
  double floor_scale;      /* clearing_result.floor_scale */
  int64_t current_m;       /* allocation before this cycle */
  int64_t desired_m;       /* after guardrails (== cleared_m when no guardrails) */
  int64_t step_limit_m;    /* guardrails_decision.step_limit_m */
  uint32_t guard_flags;    /* guardrails_decision.flags; 0 when no guardrails */
  int64_t need_cap_m;      /* additive: the demand-justified cap used in clearing when it
                              was below cap_m (market_participant.need_m); 0: none */
} reasoning_record;

/* Write the human line for r into buf (always NUL-terminated when len > 0). node may be
 * NULL ("node" is printed then). Returns the length the full line needs, like snprintf;
 * 256 bytes are always enough for node names up to 63 bytes. */
size_t reasoning_format(char *buf, size_t len, const reasoning_record *r, const char *node);

/* The human line for a replica decision, e.g.
 *   scale-out 3 -> 5: 3/3 pods at cap, demand 0.92 >= 0.80 for 60s; proportional 5
 * Same buffer contract as reasoning_format. */
size_t reasoning_format_horizontal(char *buf, size_t len, const horizontal_decision *d,
                                   const horizontal_observation *obs,
                                   const horizontal_config *cfg);

#endif
