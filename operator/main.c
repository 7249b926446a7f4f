/* main.c - mbcas-operator: parse flags, wire the client runtime to the reconcilers, run
 * the loop until SIGINT/SIGTERM. No logic of its own (see reconcilers/reconciler.h).
 *
 *   mbcas-operator [--kubeconfig=PATH] [--namespace=NS] [--leader-elect]
 *                  [--leader-election-namespace=NS] [--leader-election-id=NAME]
 *                  [--metrics-bind-address=:8080|0] [--health-probe-bind-address=:8081]
 *                  [--log-level=debug|info|warn|error] [--clearing-interval=15s]
 *                  [--kube-api-qps=200] [--kube-api-burst=400] [--status-writers=8]
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "discovery.h"
#include "duration.h"
#include "httpserver.h"
#include "leader.h"
#include "log.h"
#include "metrics.h"
#include "observer_kube.h"
#include "recapi_kube.h"
#include "reconciler.h"
#include "rest.h"
#include "source.h"

typedef struct flags {
  const char *kubeconfig, *ns, *le_ns, *le_id, *metrics_addr, *health_addr, *log_level,
      *interval;
  int leader_elect;
  double qps;
  int burst, writers;
} flags;

static atomic_int g_stop;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static atomic_int g_wake;

static void on_signal(int sig) {
  (void)sig;
  atomic_store(&g_stop, 1);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: mbcas-operator [flags]\n"
          "  --kubeconfig=PATH                 kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
          "  --namespace=NS                    watch only this namespace (default: all)\n"
          "  --leader-elect                    use a Lease so only one replica acts\n"
          "  --leader-election-namespace=NS    namespace of the Lease (default: $POD_NAMESPACE)\n"
          "  --leader-election-id=NAME         name of the Lease (default: mbcas-leader)\n"
          "  --metrics-bind-address=ADDR       /metrics address (default :8080; 0 disables)\n"
          "  --health-probe-bind-address=ADDR  /healthz and /readyz address (default :8081; 0 disables)\n"
          "  --log-level=LEVEL                 debug, info, warn, error (default info)\n"
          "  --clearing-interval=DURATION      override every market's spec.clearingInterval\n"
          "  --kube-api-qps=N                  client-side rate limit, requests/s (default 200)\n"
          "  --kube-api-burst=N                burst of that limit (default 400)\n"
          "  --status-writers=N                status writes in flight at once, 1-32 (default 8)\n");
}

static int parse_flags(flags *f, int argc, char **argv) {
  static const struct option opts[] = {
      {"kubeconfig", required_argument, 0, 'k'},
      {"namespace", required_argument, 0, 'n'},
      {"leader-elect", optional_argument, 0, 'l'},
      {"leader-election-namespace", required_argument, 0, 'L'},
      {"leader-election-id", required_argument, 0, 'i'},
      {"metrics-bind-address", required_argument, 0, 'm'},
      {"health-probe-bind-address", required_argument, 0, 'p'},
      {"log-level", required_argument, 0, 'v'},
      {"clearing-interval", required_argument, 0, 'c'},
      {"kube-api-qps", required_argument, 0, 'Q'},
      {"kube-api-burst", required_argument, 0, 'B'},
      {"status-writers", required_argument, 0, 'W'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  memset(f, 0, sizeof *f);
  f->le_id = "mbcas-leader";
  f->metrics_addr = ":8080";
  f->health_addr = ":8081";
  f->log_level = "info";
  f->qps = 200;
  f->burst = 400;
  f->writers = 8;
  int c;
  char *end;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'k': f->kubeconfig = optarg; break;
    case 'n': f->ns = optarg; break;
    case 'l': f->leader_elect = !optarg || strcmp(optarg, "false") != 0; break;
    case 'L': f->le_ns = optarg; break;
    case 'i': f->le_id = optarg; break;
    case 'm': f->metrics_addr = optarg; break;
    case 'p': f->health_addr = optarg; break;
    case 'v': f->log_level = optarg; break;
    case 'c': f->interval = optarg; break;
    case 'Q':
      f->qps = strtod(optarg, &end);
      if (end == optarg || *end || !(f->qps > 0) || f->qps > 100000) {
        fprintf(stderr, "mbcas-operator: --kube-api-qps: invalid value %s\n", optarg);
        return -1;
      }
      break;
    case 'B':
    case 'W': {
      long v = strtol(optarg, &end, 10);
      long max = c == 'B' ? 100000 : 32;
      if (end == optarg || *end || v < 1 || v > max) {
        fprintf(stderr, "mbcas-operator: --%s: invalid value %s (1-%ld)\n",
                c == 'B' ? "kube-api-burst" : "status-writers", optarg, max);
        return -1;
      }
      if (c == 'B') f->burst = (int)v;
      else f->writers = (int)v;
      break;
    }
    case 'h': usage(stdout); exit(0);
    default:
      fprintf(stderr, "mbcas-operator: unknown or incomplete flag %s\n", argv[optind - 1]);
      usage(stderr);
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "mbcas-operator: unexpected argument %s\n", argv[optind]);
    return -1;
  }
  return 0;
}

static void on_change(void *ud, rec_src_kind kind) {
  rec_ctx *rc = ud;
  if (kind == REC_SRC_HPAS || kind == REC_SRC_VPAS || kind == REC_SRC_POLICIES)
    rec_request_cycle(rc);
  pthread_mutex_lock(&g_mu);
  atomic_store(&g_wake, 1);
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
}

static void wait_for(double secs) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + secs;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  pthread_mutex_lock(&g_mu);
  while (!atomic_load(&g_wake) && !atomic_load(&g_stop))
    if (pthread_cond_timedwait(&g_cv, &g_mu, &ts) == ETIMEDOUT) break;
  atomic_store(&g_wake, 0);
  pthread_mutex_unlock(&g_mu);
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static mbcas_rc check_ok(void *ud, char *why, size_t len) {
  (void)ud; (void)why; (void)len;
  return MBCAS_OK;
}

static mbcas_rc check_synced(void *ud, char *why, size_t len) {
  if (rec_source_synced(ud)) return MBCAS_OK;
  snprintf(why, len, "informer caches not synced");
  return MBCAS_EUNAVAILABLE;
}

static mbcas_rc check_leader(void *ud, char *why, size_t len) {
  if (kube_leader_state_known(ud)) return MBCAS_OK;
  snprintf(why, len, "leader state unknown");
  return MBCAS_EUNAVAILABLE;
}

/* Lease namespace: flag, then $POD_NAMESPACE, then the in-cluster namespace file, then the
 * kubeconfig context's namespace. */
static void lease_namespace(char *buf, size_t len, const flags *f, const kube_config *cfg) {
  const char *env = getenv("POD_NAMESPACE");
  if (f->le_ns && *f->le_ns) { snprintf(buf, len, "%s", f->le_ns); return; }
  if (env && *env) { snprintf(buf, len, "%s", env); return; }
  FILE *fp = fopen("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "r");
  if (fp) {
    if (fgets(buf, (int)len, fp)) {
      buf[strcspn(buf, "\r\n")] = 0;
      fclose(fp);
      if (*buf) return;
    } else {
      fclose(fp);
    }
  }
  snprintf(buf, len, "%s", cfg->ns && *cfg->ns ? cfg->ns : "default");
}

int main(int argc, char **argv) {
  flags f;
  if (parse_flags(&f, argc, argv) != 0) return 2;
  /* A dozen threads, one heap: per-thread malloc arenas would multiply the resident size. */
  mallopt(M_ARENA_MAX, 2);
  int lvl = mbcas_log_parse_level(f.log_level);
  if (lvl < 0) {
    fprintf(stderr, "mbcas-operator: --log-level: unknown level %s\n", f.log_level);
    return 2;
  }
  mbcas_log_set_level((mbcas_log_level)lvl);
  rec_options ro;
  rec_options_default(&ro);
  ro.stop = &g_stop;
  if (f.interval) {
    int64_t ms;
    mbcas_err e;
    if (duration_parse(&ms, f.interval, "--clearing-interval", &e) != MBCAS_OK || ms < 100) {
      fprintf(stderr, "mbcas-operator: --clearing-interval: invalid duration %s\n", f.interval);
      return 2;
    }
    ro.clearing_interval_ms = ms;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  int rcode = 1;
  mbcas_err err;
  mbcas_err_clear(&err);
  kube_config *cfg = NULL;
  kube_client *kc = NULL;
  kube_discovery *disc = NULL;
  kube_http *mhttp = NULL, *hhttp = NULL;
  rec_kobs *kobs = NULL;
  rec_ctx *ctx = NULL;
  rec_source *src = NULL;
  kube_leader *leader = NULL;
  char buf[600];
  if (kube_config_load(&cfg, f.kubeconfig, NULL, &err) != MBCAS_OK) {
    LOG_ERROR("cannot load kubeconfig", "err=\"%s\"", mbcas_err_format(&err, buf, sizeof buf));
    goto out;
  }
  /* Status writes go out several at once (rec_options.status_writers), each on its own
   * curl handle: keep that many connections alive, plus the watches' and a few more. */
  kube_client_opts co;
  memset(&co, 0, sizeof co);
  co.qps = f.qps;
  co.burst = f.burst;
  co.pool_size = f.writers + 8;
  ro.status_writers = f.writers;
  if (kube_client_new(&kc, cfg, &co, &err) != MBCAS_OK) {
    LOG_ERROR("cannot create client", "err=\"%s\"", mbcas_err_format(&err, buf, sizeof buf));
    goto out;
  }
  /* Every write but the Lease's own is refused once leadership is lost, even one already
   * queued in the status writer pool (rest.h; allows everything until an elector exists). */
  kube_client_set_write_guard(kc, kube_leader_rest_guard, NULL);
  rec_api api;
  rec_api_kube(&api, kc);

  kube_metrics *reg = kube_metrics_default();
  int same = strcmp(f.metrics_addr, f.health_addr) == 0;
  if (strcmp(f.metrics_addr, "0") != 0) {
    if (kube_http_start(&mhttp, f.metrics_addr, reg, &err) != MBCAS_OK) {
      LOG_ERROR("cannot serve metrics", "addr=%s err=\"%s\"", f.metrics_addr,
                mbcas_err_format(&err, buf, sizeof buf));
      goto out;
    }
    LOG_INFO("serving metrics", "addr=%s port=%d", f.metrics_addr, kube_http_port(mhttp));
  }
  if (strcmp(f.health_addr, "0") != 0 && !same) {
    if (kube_http_start(&hhttp, f.health_addr, reg, &err) != MBCAS_OK) {
      LOG_ERROR("cannot serve health probes", "addr=%s err=\"%s\"", f.health_addr,
                mbcas_err_format(&err, buf, sizeof buf));
      goto out;
    }
    LOG_INFO("serving health probes", "addr=%s port=%d", f.health_addr, kube_http_port(hhttp));
  }

  /* Discovery: is pods/resize served? */
  if (kube_discovery_new(&disc, kc) == MBCAS_OK) {
    kube_resource_info ri;
    mbcas_rc drc = kube_discovery_subresource(disc, &ri, "", "v1", "pods", "resize", NULL);
    ro.pods_resize_supported = drc == MBCAS_OK || (drc != MBCAS_EUNSUPPORTED && drc != MBCAS_ENOTFOUND);
    if (drc == MBCAS_EUNSUPPORTED)
      LOG_WARN("pods/resize not served", "%s", "effect=\"CPU decisions are recorded, not actuated\"");
  }

  if (rec_kobs_new(&kobs, reg, &api, "mbcas-operator", getenv("HOSTNAME")) != MBCAS_OK) goto out;
  rec_observer obs;
  rec_kobs_observer(kobs, &obs);
  if (rec_ctx_new(&ctx, &api, &obs, &ro) != MBCAS_OK) goto out;
  if (rec_source_new(&src, kc, f.ns, on_change, ctx) != MBCAS_OK) goto out;
  kube_http *probe = hhttp ? hhttp : mhttp;
  if (probe) {
    kube_http_add_healthz(probe, "ping", check_ok, NULL);
    kube_http_add_readyz(probe, "informers", check_synced, src);
  }

  if (rec_source_start(src) != MBCAS_OK) goto out;
  if (f.leader_elect) {
    /* Only the Lease holder reconciles; losing the Lease ends the process (like
     * controller-runtime), so a restarted replica starts clean from status. */
    char lns[128];
    lease_namespace(lns, sizeof lns, &f, cfg);
    kube_leader_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.client = kc;
    lo.ns = lns;
    lo.name = f.le_id;
    lo.release_on_cancel = 1;
    lo.metrics = reg;
    lo.process_wide = 1;
    if (kube_leader_new(&leader, &lo) != MBCAS_OK || kube_leader_start(leader) != MBCAS_OK) {
      LOG_ERROR("cannot start leader election", "namespace=%s lease=%s", lns, f.le_id);
      goto out;
    }
    if (probe) kube_http_add_readyz(probe, "leader", check_leader, leader);
    LOG_INFO("waiting for leadership", "namespace=%s lease=%s identity=%s", lns, f.le_id,
             kube_leader_identity(leader));
    while (!atomic_load(&g_stop) && !kube_leader_leading(leader)) wait_for(0.2);
    if (!atomic_load(&g_stop)) LOG_INFO("became leader", "lease=%s", f.le_id);
  }
  LOG_INFO("waiting for caches", "namespace=%s", f.ns ? f.ns : "(all)");
  while (!atomic_load(&g_stop) && !rec_source_synced(src)) wait_for(0.1);
  LOG_INFO("operator started", "resize_supported=%d", ro.pods_resize_supported);
  while (!atomic_load(&g_stop)) {
    if (leader && !kube_leader_leading(leader)) {
      LOG_ERROR("leadership lost", "lease=%s", f.le_id);
      rcode = 1;
      goto out;
    }
    rec_snapshot snap;
    rec_cycle_stats st;
    double next = 1;
    rec_source_snapshot(src, &snap);
    rec_cycle(ctx, &snap, wall_now(), &st, &next);
    rec_source_release(src, &snap);
    if (st.markets_cleared) malloc_trim(0); /* hand a clearing's scratch back to the system */
    if (st.markets_cleared || st.invalid || st.errors)
      LOG_DEBUG("cycle", "markets=%d budgets=%d resizes=%d scales=%d invalid=%d resumed=%d errors=%d",
                st.markets_cleared, st.budgets_written, st.resizes, st.scales, st.invalid, st.resumed,
                st.errors);
    if (next > 1) next = 1; /* re-check at least every second: cheap, and catches changes */
    wait_for(next);
  }
  LOG_INFO("stopping", "%s", "reason=signal");
  rcode = 0;
out:
  kube_leader_free(leader); /* releases the Lease when leading */
  rec_source_free(src);
  rec_ctx_free(ctx);
  rec_kobs_free(kobs);
  kube_http_stop(hhttp);
  kube_http_stop(mhttp);
  kube_discovery_free(disc);
  kube_client_free(kc);
  kube_config_free(cfg);
  kube_metrics_default_free();
  curl_global_cleanup();
  return rcode;
}
