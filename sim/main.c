/* main.c - mbcas-sim command line: flags, trace loading, runs, summary. Wiring only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sim.h"
#include "trace.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: mbcas-sim --trace FILE.csv | --trace-name NAME  [options]\n"
          "  --trace FILE          CSV: t_seconds,<load columns...> (header row)\n"
          "  --trace-name NAME     NAME.csv in $MBCAS_SHARED_DIR/traces (or --shared-dir)\n"
          "  --column NAME|sum     load column (default: sum of all load columns)\n"
          "  --peak RPS            scale so the peak quantile is RPS frontend requests/s (600)\n"
          "  --peak-quantile Q     quantile that is scaled to --peak (1 = max; default 1)\n"
          "  --start-days D, --days D   window of the trace (default: all)\n"
          "  --fill-zeros          treat zero rows as data gaps (hold the last value)\n"
          "  --policy P|all        static, hpa, vpa, mbcas, mbcas-proactive, oracle (all)\n"
          "  --label TEXT          trace label in the summary table\n"
          "  --csv-dir DIR         write DIR/<label>-<policy>.csv per-step rows\n"
          "  --csv-every N         one CSV row every N steps (1)\n"
          "  --no-header           omit the markdown table header\n"
          "  --step S --startup S --scrape-lag S --resize-delay S --slo-ms MS\n"
          "  --nodes N --node-cpu M --pod-cpu M --floor M --min-replicas N --max-replicas N\n"
          "  --target-util U       HPA/static utilization target (0.7)\n"
          "  --agent-lag S         age of the agent signals (latency, request rate) at clearing (0)\n"
          "  MBCAS settings (defaults in sim_config_default):\n"
          "    --target-demand D --scale-out-demand D --scale-in-demand D   (0.8, 0.95, 0.6)\n"
          "    --scale-in-window S   (180)   --scale-in-mode sliding|continuous\n"
          "    --demand-half-life S  (0)     --no-latency-signal\n"
          "    --need-util U (0.75; 0: no need caps, pods keep their cap) --need-headroom M\n"
          "    --need-hold S (60, half-life of the held need) --burst-cap M (1500; in-place\n"
          "                  growth above --pod-cpu; <= pod-cpu: none)\n"
          "  Proactive: --forecast METHOD (holt-winters|holt|naive) --forecast-bins N (288)\n"
          "    --forecast-z Z (0.5, upper forecast = forecast + Z x error band)\n"
          "    --forecast-util U (0.85, utilization the forecast is sized at; 0: target-demand)\n"
          "    --forecast-lead S (0: start-up + one step) --horizon S (900, scale-in hold)\n"
          "    --forecast-band-min N (40 resolved predictions before scale-in)\n"
          "    --forecast-alpha A (0.025, band EWMA weight)\n"
          "  --timing              print wall time per run to stderr\n");
}

int main(int argc, char **argv) {
  sim_config c;
  sim_config_default(&c);
  trace_opts to;
  trace_opts_default(&to);
  to.peak = 600.0;
  const char *path = NULL, *name = NULL, *shared = getenv("MBCAS_SHARED_DIR"), *column = NULL;
  const char *label = NULL, *csv_dir = NULL;
  int policy = -2, header = 1, timing = 0;
  size_t csv_every = 1;
  double start_days = 0, days = 0;
  enum { O_TRACE = 256, O_NAME, O_SHARED, O_COLUMN, O_PEAK, O_PEAKQ, O_START, O_DAYS, O_FILL,
         O_POLICY, O_LABEL, O_CSVDIR, O_CSVEVERY, O_NOHEADER, O_STEP, O_STARTUP, O_LAG, O_RESIZE,
         O_SLO, O_NODES, O_NODECPU, O_PODCPU, O_FLOOR, O_MINR, O_MAXR, O_UTIL, O_HORIZON,
         O_FORECAST, O_TIMING, O_HELP, O_SIN, O_SOUT, O_TDEM, O_NOLAT, O_HALF, O_NEEDU,
         O_NEEDH, O_NEEDHOLD, O_FBINS, O_INMODE, O_ALAG, O_LZ, O_LU, O_LA, O_INWIN, O_BURST, O_LEAD, O_BANDMIN };
  static const struct option opts[] = {
      {"trace", 1, 0, O_TRACE},          {"trace-name", 1, 0, O_NAME},
      {"shared-dir", 1, 0, O_SHARED},    {"column", 1, 0, O_COLUMN},
      {"peak", 1, 0, O_PEAK},            {"peak-quantile", 1, 0, O_PEAKQ},
      {"start-days", 1, 0, O_START},     {"days", 1, 0, O_DAYS},
      {"fill-zeros", 0, 0, O_FILL},      {"policy", 1, 0, O_POLICY},
      {"label", 1, 0, O_LABEL},          {"csv-dir", 1, 0, O_CSVDIR},
      {"csv-every", 1, 0, O_CSVEVERY},   {"no-header", 0, 0, O_NOHEADER},
      {"step", 1, 0, O_STEP},            {"startup", 1, 0, O_STARTUP},
      {"scrape-lag", 1, 0, O_LAG},       {"resize-delay", 1, 0, O_RESIZE},
      {"slo-ms", 1, 0, O_SLO},           {"nodes", 1, 0, O_NODES},
      {"node-cpu", 1, 0, O_NODECPU},     {"pod-cpu", 1, 0, O_PODCPU},
      {"floor", 1, 0, O_FLOOR},          {"min-replicas", 1, 0, O_MINR},
      {"max-replicas", 1, 0, O_MAXR},    {"target-util", 1, 0, O_UTIL},
      {"horizon", 1, 0, O_HORIZON},      {"forecast", 1, 0, O_FORECAST},
      {"timing", 0, 0, O_TIMING},        {"help", 0, 0, O_HELP},
      {"scale-in-demand", 1, 0, O_SIN},  {"scale-out-demand", 1, 0, O_SOUT},
      {"target-demand", 1, 0, O_TDEM},   {"no-latency-signal", 0, 0, O_NOLAT},
      {"demand-half-life", 1, 0, O_HALF},
      {"need-util", 1, 0, O_NEEDU},      {"need-headroom", 1, 0, O_NEEDH},
      {"need-hold", 1, 0, O_NEEDHOLD},  {"forecast-bins", 1, 0, O_FBINS},
      {"scale-in-mode", 1, 0, O_INMODE}, {"agent-lag", 1, 0, O_ALAG},
      {"forecast-z", 1, 0, O_LZ}, {"forecast-util", 1, 0, O_LU}, {"forecast-alpha", 1, 0, O_LA},
      {"scale-in-window", 1, 0, O_INWIN}, {"burst-cap", 1, 0, O_BURST},
      {"forecast-lead", 1, 0, O_LEAD}, {"forecast-band-min", 1, 0, O_BANDMIN},
      {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (o) {
    case O_TRACE: path = optarg; break;
    case O_NAME: name = optarg; break;
    case O_SHARED: shared = optarg; break;
    case O_COLUMN: column = optarg; break;
    case O_PEAK: to.peak = atof(optarg); break;
    case O_PEAKQ: to.peak_quantile = atof(optarg); break;
    case O_START: start_days = atof(optarg); break;
    case O_DAYS: days = atof(optarg); break;
    case O_FILL: to.fill_zeros = 1; break;
    case O_POLICY:
      if (strcmp(optarg, "all") == 0)
        policy = -2;
      else if ((policy = sim_policy_parse(optarg)) < 0) {
        fprintf(stderr, "mbcas-sim: unknown policy %s\n", optarg);
        return 2;
      }
      break;
    case O_LABEL: label = optarg; break;
    case O_CSVDIR: csv_dir = optarg; break;
    case O_CSVEVERY: csv_every = (size_t)atol(optarg); break;
    case O_NOHEADER: header = 0; break;
    case O_STEP: c.step_s = atof(optarg); break;
    case O_STARTUP: c.startup_s = atof(optarg); break;
    case O_LAG: c.scrape_lag_s = atof(optarg); break;
    case O_RESIZE: c.resize_delay_s = atof(optarg); break;
    case O_SLO: c.slo_s = atof(optarg) / 1000.0; break;
    case O_NODES: c.n_nodes = atoi(optarg); break;
    case O_NODECPU: c.node_cpu_m = atol(optarg); break;
    case O_PODCPU: c.pod_cpu_m = atol(optarg); break;
    case O_FLOOR: c.floor_m = atol(optarg); break;
    case O_MINR: c.min_replicas = atoi(optarg); break;
    case O_MAXR: c.max_replicas = atoi(optarg); break;
    case O_UTIL: c.target_util = atof(optarg); break;
    case O_HORIZON: c.forecast_horizon_s = atof(optarg); break;
    case O_FORECAST: {
      int fm = forecast_parse_method(optarg);
      if (fm < 0) {
        fprintf(stderr, "mbcas-sim: unknown forecast method %s\n", optarg);
        return 2;
      }
      c.forecast.method = (forecast_method)fm;
      break;
    }
    case O_TIMING: timing = 1; break;
    case O_SIN: c.horiz.scale_in_demand = atof(optarg); break;
    case O_SOUT: c.horiz.scale_out_demand = atof(optarg); break;
    case O_TDEM: c.horiz.target_demand = atof(optarg); break;
    case O_NOLAT: c.latency_signal = 0; break;
    case O_HALF: c.demand.half_life_s = atof(optarg); break;
    case O_NEEDU: c.need_util = atof(optarg); break;
    case O_NEEDH: c.need_headroom_m = atol(optarg); break;
    case O_NEEDHOLD: c.need_hold_s = atof(optarg); break;
    case O_FBINS: c.forecast.bins = (size_t)atol(optarg); break;
    case O_LZ: c.forecast_z = atof(optarg); break;
    case O_LU: c.horiz.forecast_target_demand = atof(optarg); break;
    case O_LA: c.forecast_band_alpha = atof(optarg); break;
    case O_BANDMIN: c.forecast_band_min = (size_t)atol(optarg); break;
    case O_LEAD: c.forecast_lead_s = atof(optarg); break;
    case O_BURST: c.burst_cap_m = atol(optarg); break;
    case O_INWIN: c.horiz.scale_in_window_s = atof(optarg); break;
    case O_ALAG: c.agent_lag_s = atof(optarg); break;
    case O_INMODE: c.horiz.in_sliding = strcmp(optarg, "sliding") == 0; break;
    case O_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  char buf[4096];
  if (!path && name) {
    if (!shared) {
      fprintf(stderr, "mbcas-sim: --trace-name needs MBCAS_SHARED_DIR or --shared-dir\n");
      return 2;
    }
    int w = snprintf(buf, sizeof buf, "%s/traces/%s.csv", shared, name);
    if (w < 0 || (size_t)w >= sizeof buf) {
      fprintf(stderr, "mbcas-sim: trace path too long\n");
      return 2;
    }
    path = buf;
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  if (!label) label = name ? name : path;
  mbcas_err e;
  mbcas_err_clear(&e);
  trace *tr = NULL;
  mbcas_rc rc = trace_load(&tr, path, &e);
  char msg[600];
  if (rc != MBCAS_OK) {
    fprintf(stderr, "mbcas-sim: %s\n", mbcas_err_format(&e, msg, sizeof msg));
    return 1;
  }
  if (column && strcmp(column, "sum") != 0) {
    to.column = trace_column(tr, column);
    if (to.column < 0) to.column = atoi(column) - 1;
    if (to.column < 0) {
      fprintf(stderr, "mbcas-sim: no column %s\n", column);
      trace_free(tr);
      return 2;
    }
  }
  to.step_s = c.step_s;
  to.start_s = start_days * 86400.0;
  to.span_s = days * 86400.0;
  double *load = NULL;
  size_t n = 0;
  rc = trace_series(&load, &n, tr, &to, &e);
  trace_free(tr);
  if (rc != MBCAS_OK) {
    fprintf(stderr, "mbcas-sim: %s\n", mbcas_err_format(&e, msg, sizeof msg));
    return 1;
  }
  if (header) sim_scores_md_header(stdout);
  sim_scores oracle;
  double oracle_ch = 0;
  int first = policy == -2 ? 0 : policy, last = policy == -2 ? SIM_NPOLICIES - 1 : policy;
  /* the oracle's core-hours first, for the ratio column */
  if (sim_run(&oracle, &c, SIM_ORACLE, load, n, NULL, 1, &e) == MBCAS_OK) oracle_ch = oracle.core_hours;
  int status = 0;
  for (int p = first; p <= last; p++) {
    FILE *csv = NULL;
    if (csv_dir) {
      char cp[4096];
      int w = snprintf(cp, sizeof cp, "%s/%s-%s.csv", csv_dir, label, sim_policy_name((sim_policy)p));
      if (w < 0 || (size_t)w >= sizeof cp) {
        fprintf(stderr, "mbcas-sim: --csv-dir path too long\n");
        status = 1;
        break;
      }
      csv = fopen(cp, "w");
      if (!csv) {
        fprintf(stderr, "mbcas-sim: cannot write %s\n", cp);
        status = 1;
        break;
      }
    }
    sim_scores s;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = sim_run(&s, &c, (sim_policy)p, load, n, csv, csv_every, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (csv) fclose(csv);
    if (rc != MBCAS_OK) {
      fprintf(stderr, "mbcas-sim: %s: %s\n", sim_policy_name((sim_policy)p),
              mbcas_err_format(&e, msg, sizeof msg));
      status = 1;
      continue;
    }
    if (timing)
      fprintf(stderr, "timing policy=%s steps=%zu sim_hours=%.1f wall_s=%.3f\n",
              sim_policy_name((sim_policy)p), n, s.hours,
              (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    sim_scores_md_row(stdout, label, (sim_policy)p, &s, oracle_ch);
  }
  free(load);
  return status;
}
