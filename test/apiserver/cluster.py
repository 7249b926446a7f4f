"""Simulated cluster of the API-server emulator (a small kwok).

What it does, driven only by store events (never by polling the whole store):
  * Deployment controller: one ReplicaSet per pod-template hash (labels pod-template-hash),
    older ReplicaSets scaled to 0; Deployment status (replicas, updated/ready/available/
    unavailableReplicas, observedGeneration, Available/Progressing conditions).
  * ReplicaSet and StatefulSet controllers create/delete Pods (ownerReferences with
    controller=true; StatefulSet pods NAME-0..N-1, OrderedReady or Parallel) and write status.
  * Scheduler: binds Pending pods (schedulerName default-scheduler, no spec.nodeName) to a Ready
    Node that fits cpu/memory requests and pod count, honours nodeSelector and NoSchedule/
    NoExecute taints; least-allocated among a sample of feasible nodes (all nodes in small
    clusters). No fit -> PodScheduled=False reason Unschedulable with the real message shape;
    retried when capacity frees.
  * Kubelet: Running + Ready after startupDelay; containerStatuses with resources,
    allocatedResources; in-place resize as in 1.33: a changed spec.containers[].resources is
    accepted (allocatedResources updated at once, PodResizeInProgress until resources are
    actuated after resizeDelay), or PodResizePending reason Infeasible (more than the node's
    allocatable) or Deferred (does not fit beside the other pods now; retried when room frees).
  * Nodes from the scenario with capacity/allocatable and Ready condition.
  * Usage model (cluster_model.py): metrics.k8s.io PodMetrics/NodeMetrics, per-pod /metrics and
    /demand through the pods proxy, and one Prometheus exposition of every pod.

Interface used by apiserver.py / server.py:
  Cluster(store, scenario_dict, options)   options: dict; its keys that name settings override the
                                           scenario's ``settings``; also "clock" (a monotonic
                                           seconds callable, for tests).
  start() / stop();  step(now=None) one synchronous tick (tests drive it by hand);
  handle_metrics(method, path, query) -> (status, body_obj)
  handle_proxy(ns, name, port, path, query) -> (status, content_type, body_bytes)
  handle_prom_scrape() -> (status, content_type, body_bytes)
  set_load(ns, name, load_spec, kind="Deployment")   change a workload's load at run time.
Scenario sections handled here: nodes, workloads, settings (format: docs/testing.md, "Simulated
cluster"). Workloads created through the API take their load from the annotations
mbcas.io/sim-load (JSON load spec), mbcas.io/sim-cpu-per-request, mbcas.io/sim-per-pod-capacity.

Settings (scenario ``settings``; durations in simulated seconds, numbers or "500ms"/"2s"/"1m"):
  simulate (true)        false: nodes are still created, but no controller/scheduler/kubelet runs
  timeScale (1.0)        simulated seconds per wall second
  tickInterval (0.2)     wall seconds between ticks
  startupDelay (2s), resizeDelay (1s)
  warmStart (true)       scenario workloads start with their pods already bound and Ready
  cpuPerRequest (0.01), maxQueue (10000), nodeOverheadCpu (0), maxCreatesPerTick (2000),
  scoreNodes (16)        feasible nodes compared per scheduling decision
  events (true)          write core/v1 Events (Scheduled, FailedScheduling, SuccessfulCreate,
                         SuccessfulDelete, ScalingReplicaSet, Started); never for warm-start pods
  eventTTL (1h), maxEvents (20000)  the cluster's own Events are deleted after eventTTL
                         (simulated time) or, oldest first, beyond maxEvents
  podAdmission (true)    false: controller-made pods skip the admission mutations (token volume,
                         default tolerations): smaller objects for 100k-pod scenarios
Thread safety: all state is guarded by self.mu; store callbacks only append to a deque.
Lock order: self.mu before store.lock, never the reverse.
"""

import collections
import contextlib
import hashlib
import heapq
import json
import math
import random
import re
import threading
import time
import traceback

import admission
import cluster_model
from cluster_model import Load, QueueState
from k8sselectors import matches_fields, matches_labels, parse_field_selector, \
    parse_label_selector
from store import ApiError, now_rfc3339

POD = ("", "pods")
NODE = ("", "nodes")
NS = ("", "namespaces")
DEPLOY = ("apps", "deployments")
RS = ("apps", "replicasets")
STS = ("apps", "statefulsets")
WATCHED = {POD, NODE, DEPLOY, RS, STS}

DEFAULTS = {
    "simulate": True,
    "timeScale": 1.0,
    "tickInterval": 0.2,
    "startupDelay": 2.0,
    "resizeDelay": 1.0,
    "warmStart": True,
    "cpuPerRequest": 0.01,
    "maxQueue": 10000.0,
    "nodeOverheadCpu": 0.0,
    "maxCreatesPerTick": 2000,
    "scoreNodes": 16,
    "podAdmission": True,
    "events": True,
    "eventTTL": 3600.0,
    "maxEvents": 20000,
}
DURATION_KEYS = ("tickInterval", "startupDelay", "resizeDelay", "eventTTL")
NODE_KEYS = {"name", "prefix", "count", "cpu", "memory", "pods", "labels", "taints",
             "allocatable"}
WORKLOAD_KEYS = {"kind", "namespace", "name", "replicas", "labels", "annotations", "containers",
                 "nodeSelector", "tolerations", "cpuPerRequest", "serviceTime", "perPodCapacity",
                 "memoryUsage", "load", "serviceName", "podManagementPolicy"}
LOAD_ANN = "mbcas.io/sim-load"
CPR_ANN = "mbcas.io/sim-cpu-per-request"
CAP_ANN = "mbcas.io/sim-per-pod-capacity"
SAFE = "bcdfghjklmnpqrstvwxz2456789"
METRICS_API = "metrics.k8s.io/v1beta1"


def check_scenario(sc):
    """Reject typos early: ValueError naming the entry and the unknown key."""
    def check(what, d, allowed):
        if not isinstance(d, dict):
            raise ValueError("scenario %s: expected a mapping" % what)
        bad = sorted(set(d) - allowed)
        if bad:
            raise ValueError("scenario %s: unknown key %r (allowed: %s)"
                             % (what, bad[0], ", ".join(sorted(allowed))))
    check("settings", sc.get("settings") or {}, set(DEFAULTS))
    for i, n in enumerate(sc.get("nodes") or []):
        check("nodes[%d]" % i, n, NODE_KEYS)
        if "name" not in n and "count" not in n:
            raise ValueError("scenario nodes[%d]: needs name, or count (and prefix)" % i)
    for i, w in enumerate(sc.get("workloads") or []):
        check("workloads[%d]" % i, w, WORKLOAD_KEYS)
        if not w.get("name"):
            raise ValueError("scenario workloads[%d]: name is required" % i)
        if w.get("kind", "Deployment") not in ("Deployment", "StatefulSet"):
            raise ValueError("scenario workloads[%d]: kind must be Deployment or StatefulSet"
                             % i)


def parse_duration(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip()
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", s)
    if not m:
        raise ValueError("bad duration %r" % v)
    n = float(m.group(1))
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


_QMEMO = {}


def q_milli(v):
    """cpu quantity -> millicores (int)."""
    if v is None:
        return 0
    k = ("m", v)
    r = _QMEMO.get(k)
    if r is None:
        r = int(math.ceil(admission.parse_quantity(v) * 1000))
        if len(_QMEMO) < 100000:
            _QMEMO[k] = r
    return r


def q_bytes(v):
    if v is None:
        return 0
    k = ("b", v)
    r = _QMEMO.get(k)
    if r is None:
        r = int(math.ceil(admission.parse_quantity(v)))
        if len(_QMEMO) < 100000:
            _QMEMO[k] = r
    return r


def fmt_cpu_m(m):
    return "%dm" % m if m % 1000 else "%d" % (m // 1000)


def safe_hash(data, n=10):
    h = hashlib.sha256(data.encode()).digest()
    return "".join(SAFE[b % len(SAFE)] for b in h[:n])


def rand_suffix(n=5):
    return "".join(random.choice(SAFE) for _ in range(n))


def cond(ctype, status, reason=None, message=None, ts=None):
    c = {"type": ctype, "status": status, "lastProbeTime": None,
         "lastTransitionTime": ts or now_rfc3339()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def set_cond(conds, new):
    """Replace/insert condition new (keeping lastTransitionTime when the status is unchanged).
    Returns True when something changed."""
    for i, c in enumerate(conds):
        if c.get("type") == new["type"]:
            if c.get("status") == new["status"]:
                new["lastTransitionTime"] = c.get("lastTransitionTime", new["lastTransitionTime"])
                if "lastUpdateTime" in c and "lastUpdateTime" in new and \
                        c.get("reason") == new.get("reason") and \
                        c.get("message") == new.get("message"):
                    new["lastUpdateTime"] = c["lastUpdateTime"]
            if c == new:
                return False
            conds[i] = new
            return True
    conds.append(new)
    return True


def drop_cond(conds, ctype):
    n = len(conds)
    conds[:] = [c for c in conds if c.get("type") != ctype]
    return len(conds) != n


def controller_ref(obj):
    for r in obj.get("metadata", {}).get("ownerReferences") or []:
        if r.get("controller"):
            return r
    return None


class NodeState:
    __slots__ = ("name", "cpu", "mem", "maxpods", "labels", "taints", "ready", "unschedulable",
                 "pods", "alloc_cpu", "alloc_mem", "sched_cpu", "sched_mem", "index",
                 "ip_next", "deferred", "ip")

    def __init__(self, name, index):
        self.name = name
        self.index = index
        self.pods = set()
        self.alloc_cpu = self.alloc_mem = self.sched_cpu = self.sched_mem = 0
        self.ip_next = 1
        self.deferred = set()
        self.cpu = self.mem = 0
        self.maxpods = 110
        self.labels = {}
        self.taints = []
        self.ready = True
        self.unschedulable = False

    def load_obj(self, obj):
        st = obj.get("status") or {}
        alloc = st.get("allocatable") or st.get("capacity") or {}
        self.cpu = q_milli(alloc.get("cpu", 0))
        self.mem = q_bytes(alloc.get("memory", 0))
        self.maxpods = int(alloc.get("pods", 110))
        self.labels = obj.get("metadata", {}).get("labels") or {}
        spec = obj.get("spec") or {}
        self.taints = spec.get("taints") or []
        self.unschedulable = bool(spec.get("unschedulable"))
        ready = True
        for c in st.get("conditions") or []:
            if c.get("type") == "Ready":
                ready = c.get("status") == "True"
        self.ready = ready
        self.ip = None
        for a in st.get("addresses") or []:
            if a.get("type") == "InternalIP":
                self.ip = a.get("address")


class PodState:
    __slots__ = ("key", "born", "uid", "labels", "node", "phase", "ready", "deleting", "owner", "wl",
                 "cnames", "spec_cpu", "spec_mem", "spec_lim", "alloc_cpu", "alloc_mem",
                 "act_lim", "act_cpu", "running", "resize", "contrib", "qs", "sched_name",
                 "node_selector", "tolerations", "unsched_msg", "start_due", "spec_res",
                 "alloc_res", "act_res", "cweights")

    def __init__(self, key, born):
        self.key = key
        self.born = born
        self.wl = None
        self.owner = None
        self.node = None
        self.contrib = None
        self.qs = None
        self.start_due = False
        self.unsched_msg = None
        self.ready = False


def container_resources(c):
    res = c.get("resources") or {}
    return ((res.get("requests") or {}), (res.get("limits") or {}))


class Workload:
    __slots__ = ("key", "load", "cpr", "cap", "mem", "ready", "pods", "ann", "adv_t")

    def __init__(self, key):
        self.key = key
        self.load = Load(None)
        self.cpr = None
        self.cap = None
        self.mem = None
        self.ready = set()
        self.pods = set()
        self.ann = None
        self.adv_t = None


class Cluster:
    def __init__(self, store, scenario=None, options=None):
        self.store = store
        self.scenario = scenario or {}
        check_scenario(self.scenario)
        options = dict(options or {})
        self.clock = options.pop("clock", None) or time.monotonic
        self.cfg = dict(DEFAULTS)
        self.cfg.update((self.scenario.get("settings") or {}))
        self.cfg.update({k: v for k, v in options.items() if k in DEFAULTS})
        for k in DURATION_KEYS:
            self.cfg[k] = parse_duration(self.cfg[k])
        self.cfg["timeScale"] = float(self.cfg["timeScale"])
        self.scenario_path = self.scenario.get("_path")
        self.mu = threading.RLock()
        self.events = collections.deque()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = None
        self.t0 = None
        self.frozen = None
        self.qos_memo = {}
        self.my_events = collections.deque()
        self.nodes = {}          # name -> NodeState
        self.node_order = []     # names in creation order (scheduler scan order)
        self.node_rr = 0
        self.pods = {}           # (ns, name) -> PodState
        self.rs_pods = collections.defaultdict(set)    # (ns, rs) -> {pod names}
        self.sts_pods = collections.defaultdict(set)   # (ns, sts) -> {pod names}
        self.deploy_rs = collections.defaultdict(set)  # (ns, deploy) -> {rs names}
        self.rs_owner = {}       # (ns, rs) -> deployment name
        self.workloads = {}      # (kind, ns, name) -> Workload
        self.dirty = {DEPLOY: set(), RS: set(), STS: set()}
        self.sched_q = collections.deque()
        self.sched_set = set()
        self.unsched = set()
        self.capacity_freed = False
        self.timers = []
        self.seq = 0
        self.resize_check = set()
        self.warm = False
        self.created_this_tick = 0
        self.node_seq = 0
        self.errors = 0
        self.enabled = bool(self.cfg["simulate"])
        if self.enabled:
            store.subscribe(self._on_event)

    # ================================================================ lifecycle
    def now(self):
        """Simulated seconds since start(); constant within one tick/request (self.frozen)."""
        if self.frozen is not None:
            return self.frozen
        if self.t0 is None:
            return 0.0
        return (self.clock() - self.t0) * self.cfg["timeScale"]

    @contextlib.contextmanager
    def _instant(self):
        """Hold the simulated time still for one request (caller holds self.mu)."""
        prev = self._freeze()
        try:
            yield
        finally:
            self.frozen = prev

    def _freeze(self, t=None):
        prev = self.frozen
        self.frozen = None
        self.frozen = self.now() if t is None else t
        return prev

    def start(self, threads=True):
        """Create the scenario's nodes and workloads, then run the simulation thread."""
        self.t0 = self.clock()
        with self.mu:
            self.frozen = 0.0
            try:
                self._create_nodes()
                if self.enabled:
                    # objects that existed before we subscribed
                    with self.store.lock:
                        for key in WATCHED:
                            for o in self.store.list_refs(key):
                                self.events.append(("ADDED", key, o))
                    self._drain()
                    self.warm = bool(self.cfg["warmStart"])
                    self._create_workloads()
                    self._drain()
                    self._tick(self.now(), unlimited=True)
            finally:
                self.warm = False
                self.frozen = None
        if self.enabled and threads:
            self.thread = threading.Thread(target=self._run, name="cluster-sim", daemon=True)
            self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(10)
            self.thread = None

    def step(self, now=None):
        """One synchronous tick (for tests; the thread calls the same code)."""
        with self.mu:
            self._tick(self.now() if now is None else now)

    def _run(self):
        interval = max(0.01, float(self.cfg["tickInterval"]))
        while not self.stopping.is_set():
            self.wake.wait(interval)
            self.wake.clear()
            if self.stopping.is_set():
                break
            try:
                with self.mu:
                    self._tick(self.now())
            except Exception:  # keep simulating; the failure is visible in the log
                self.errors += 1
                traceback.print_exc()

    def _on_event(self, etype, key, obj):
        if key in WATCHED:
            self.events.append((etype, key, obj))

    # ================================================================ scenario
    def _create_nodes(self):
        for spec in self.scenario.get("nodes") or []:
            count = spec.get("count")
            if count is None:
                names = [spec["name"]]
            else:
                prefix = spec.get("prefix") or spec.get("name") or "node"
                width = max(1, len(str(int(count) - 1)))
                names = ["%s-%0*d" % (prefix, width, i) for i in range(int(count))]
            for name in names:
                obj = self._node_object(name, spec)
                try:
                    self.store.create(NODE, obj)
                except ApiError as e:
                    if e.code != 409:
                        raise
        self._drain()

    def _node_object(self, name, spec):
        cap = {"cpu": str(spec.get("cpu", "4")), "memory": str(spec.get("memory", "16Gi")),
               "pods": str(spec.get("pods", 110)), "ephemeral-storage": "100Gi",
               "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
        alloc = dict(cap)
        alloc.update({k: str(v) for k, v in (spec.get("allocatable") or {}).items()})
        idx = self.node_seq
        self.node_seq += 1
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
                  "kubernetes.io/os": "linux", "type": "kwok"}
        labels.update(spec.get("labels") or {})
        ts = now_rfc3339()
        conds = []
        for t, r, m in (("MemoryPressure", "KubeletHasSufficientMemory",
                         "kubelet has sufficient memory available"),
                        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        ("PIDPressure", "KubeletHasSufficientPID",
                         "kubelet has sufficient PID available")):
            c = cond(t, "False", r, m, ts)
            c["lastHeartbeatTime"] = ts
            del c["lastProbeTime"]
            conds.append(c)
        c = cond("Ready", "True", "KubeletReady", "kubelet is posting ready status", ts)
        c["lastHeartbeatTime"] = ts
        del c["lastProbeTime"]
        conds.append(c)
        ip = "10.0.%d.%d" % (idx // 250, idx % 250 + 1)
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels,
                             "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                             "kwok.x-k8s.io/node": "fake"}},
                "spec": {"podCIDR": self._pod_cidr(idx), "podCIDRs": [self._pod_cidr(idx)]},
                "status": {"capacity": cap, "allocatable": alloc, "conditions": conds,
                           "addresses": [{"type": "InternalIP", "address": ip},
                                         {"type": "Hostname", "address": name}],
                           "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                           "nodeInfo": {"architecture": "amd64", "bootID": "",
                                        "containerRuntimeVersion": "kwok-v0.6.0",
                                        "kernelVersion": "", "kubeProxyVersion": "",
                                        "kubeletVersion": "v1.33.0", "machineID": "",
                                        "operatingSystem": "linux", "osImage": "",
                                        "systemUUID": ""},
                           "phase": "Running"}}
        if spec.get("taints"):
            node["spec"]["taints"] = spec["taints"]
        return node

    @staticmethod
    def _pod_cidr(idx):
        return "10.%d.%d.0/24" % (64 + (idx >> 8) % 190, idx & 255)

    def _create_workloads(self):
        for w in self.scenario.get("workloads") or []:
            kind = w.get("kind", "Deployment")
            ns = w.get("namespace", "default")
            name = w["name"]
            if self.store.get_ref(NS, "", ns) is None:
                nso = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                admission.default_namespace(nso)
                try:
                    self.store.create(NS, nso)
                except ApiError:
                    pass
            wl = self._workload((kind, ns, name))
            wl.load = Load(w.get("load"), self.scenario_path)
            if "cpuPerRequest" in w or "serviceTime" in w:
                wl.cpr = float(w.get("cpuPerRequest", w.get("serviceTime")))
            if "perPodCapacity" in w:
                wl.cap = float(w["perPodCapacity"])
            if "memoryUsage" in w:
                wl.mem = q_bytes(w["memoryUsage"])
            labels = dict(w.get("labels") or {"app": name})
            containers = []
            for c in w.get("containers") or [{"name": name}]:
                c = dict(c)
                c.setdefault("name", name)
                c.setdefault("image", "registry.k8s.io/pause:3.10")
                containers.append(c)
            tpl = {"metadata": {"labels": labels}, "spec": {"containers": containers}}
            if w.get("nodeSelector"):
                tpl["spec"]["nodeSelector"] = w["nodeSelector"]
            if w.get("tolerations"):
                tpl["spec"]["tolerations"] = w["tolerations"]
            spec = {"replicas": int(w.get("replicas", 1)),
                    "selector": {"matchLabels": dict(labels)}, "template": tpl}
            md = {"name": name, "namespace": ns, "labels": dict(labels)}
            if w.get("annotations"):
                md["annotations"] = dict(w["annotations"])
            if kind == "StatefulSet":
                spec["serviceName"] = w.get("serviceName", name)
                if w.get("podManagementPolicy"):
                    spec["podManagementPolicy"] = w["podManagementPolicy"]
                obj = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": md,
                       "spec": spec}
                admission.default_statefulset(obj)
                key = STS
            elif kind == "Deployment":
                obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": md, "spec": spec}
                admission.default_deployment(obj)
                key = DEPLOY
            else:
                raise ValueError("workload %s/%s: kind must be Deployment or StatefulSet" % (ns, name))
            try:
                self.store.create(key, obj)
            except ApiError as e:
                if e.code != 409:
                    raise

    def _workload(self, wkey):
        wl = self.workloads.get(wkey)
        if wl is None:
            wl = self.workloads[wkey] = Workload(wkey)
        return wl

    def set_load(self, ns, name, load_spec, kind="Deployment"):
        with self.mu, self._instant():
            self._drain()
            wl = self._workload((kind, ns, name))
            t = self.now()
            self._advance_workload(wl, t)
            wl.load = Load(load_spec, self.scenario_path)

    def _apply_annotations(self, kind, obj):
        md = obj.get("metadata", {})
        ann = md.get("annotations") or {}
        wl = self._workload((kind, md.get("namespace", ""), md["name"]))
        sig = (ann.get(LOAD_ANN), ann.get(CPR_ANN), ann.get(CAP_ANN))
        if sig == wl.ann:
            return
        wl.ann = sig
        t = self.now()
        self._advance_workload(wl, t)
        try:
            if sig[0] is not None:
                wl.load = Load(json.loads(sig[0]), self.scenario_path)
            if sig[1] is not None:
                wl.cpr = float(sig[1])
            if sig[2] is not None:
                wl.cap = float(sig[2])
        except (ValueError, cluster_model.LoadError) as e:
            print("cluster: %s %s/%s: bad simulation annotation: %s"
                  % (kind, md.get("namespace"), md.get("name"), e), flush=True)

    # ================================================================ event intake
    def _drain(self):
        ev = self.events
        while ev:
            etype, key, obj = ev.popleft()
            try:
                if key == POD:
                    self._pod_event(etype, obj)
                elif key == NODE:
                    self._node_event(etype, obj)
                elif key == RS:
                    self._rs_event(etype, obj)
                elif key == DEPLOY:
                    md = obj["metadata"]
                    self.dirty[DEPLOY].add((md.get("namespace", ""), md["name"]))
                    if etype != "DELETED":
                        self._apply_annotations("Deployment", obj)
                elif key == STS:
                    md = obj["metadata"]
                    self.dirty[STS].add((md.get("namespace", ""), md["name"]))
                    if etype != "DELETED":
                        self._apply_annotations("StatefulSet", obj)
            except Exception:
                self.errors += 1
                traceback.print_exc()

    def _node_event(self, etype, obj):
        name = obj["metadata"]["name"]
        if etype == "DELETED":
            ns_ = self.nodes.pop(name, None)
            if ns_ is not None:
                self.node_order.remove(name)
            return
        n = self.nodes.get(name)
        if n is None:
            n = self.nodes[name] = NodeState(name, len(self.node_order))
            self.node_order.append(name)
            self.capacity_freed = True
            st = obj.get("status") or {}
            if not st.get("conditions") and not st.get("allocatable") and not st.get("capacity"):
                # a bare Node created through the API: act as its kubelet
                self._write(NODE, "", name, self._fill_bare_node)
        old = (n.cpu, n.mem, n.ready, n.unschedulable)
        n.load_obj(obj)
        if (n.cpu, n.mem, n.ready, n.unschedulable) != old:
            self.capacity_freed = True
            self.resize_check.update(n.deferred)

    def _fill_bare_node(self, obj):
        name = obj["metadata"]["name"]
        tmpl = self._node_object(name, {})
        obj.setdefault("metadata", {}).setdefault("labels", {}).update(
            {k: v for k, v in tmpl["metadata"]["labels"].items()
             if k not in obj["metadata"]["labels"]})
        obj.setdefault("spec", {}).setdefault("podCIDR", tmpl["spec"]["podCIDR"])
        obj["status"] = tmpl["status"]
        return True

    def _rs_event(self, etype, obj):
        md = obj["metadata"]
        ns, name = md.get("namespace", ""), md["name"]
        ref = controller_ref(obj)
        key = (ns, name)
        old_owner = self.rs_owner.get(key)
        if etype == "DELETED":
            self.rs_owner.pop(key, None)
            if old_owner:
                self.deploy_rs[(ns, old_owner)].discard(name)
                self.dirty[DEPLOY].add((ns, old_owner))
            return
        owner = ref.get("name") if ref and ref.get("kind") == "Deployment" else None
        if owner != old_owner:
            if old_owner:
                self.deploy_rs[(ns, old_owner)].discard(name)
                self.dirty[DEPLOY].add((ns, old_owner))
            if owner:
                self.rs_owner[key] = owner
            else:
                self.rs_owner.pop(key, None)
        if owner:
            self.deploy_rs[(ns, owner)].add(name)
            self.dirty[DEPLOY].add((ns, owner))
        self.dirty[RS].add(key)

    def _pod_workload(self, ns, owner):
        if owner is None:
            return None
        kind, oname = owner
        if kind == "ReplicaSet":
            d = self.rs_owner.get((ns, oname))
            return ("Deployment", ns, d) if d else ("ReplicaSet", ns, oname)
        if kind == "StatefulSet":
            return ("StatefulSet", ns, oname)
        return None

    def _pod_event(self, etype, obj):
        md = obj["metadata"]
        ns, name = md.get("namespace", ""), md["name"]
        key = (ns, name)
        p = self.pods.get(key)
        t = self.now()
        if etype == "DELETED":
            if p is None:
                return
            self._set_ready(p, False, t)
            self._set_contrib(p, None)
            self._owner_index(p, None)
            if p.wl is not None:
                wl = self.workloads.get(p.wl)
                if wl is not None:
                    wl.pods.discard(key)
            del self.pods[key]
            self.sched_set.discard(key)
            self.unsched.discard(key)
            self.resize_check.discard(key)
            return
        if p is None:
            self.seq += 1
            p = self.pods[key] = PodState(key, self.seq)
            p.qs = QueueState(t)
        before = (p.ready, getattr(p, "running", None), getattr(p, "deleting", None), p.node)
        p.uid = md.get("uid")
        p.labels = md.get("labels") or {}
        p.deleting = bool(md.get("deletionTimestamp"))
        ref = controller_ref(obj)
        owner = (ref.get("kind"), ref.get("name")) if ref else None
        self._owner_index(p, owner)
        wkey = self._pod_workload(ns, owner)
        if p.wl != wkey:
            if p.wl is not None and p.wl in self.workloads:
                self.workloads[p.wl].pods.discard(key)
                self._set_ready(p, False, t)
            p.wl = wkey
            if wkey is not None:
                self._workload(wkey).pods.add(key)
        spec = obj.get("spec") or {}
        st = obj.get("status") or {}
        p.sched_name = spec.get("schedulerName", "default-scheduler")
        p.node_selector = spec.get("nodeSelector") or {}
        p.tolerations = spec.get("tolerations") or []
        p.phase = st.get("phase", "Pending")
        ready = False
        for c in st.get("conditions") or []:
            if c.get("type") == "Ready":
                ready = c.get("status") == "True"
        p.running = p.phase == "Running"
        # resources: desired (spec), allocated (status.allocatedResources), actuated (status.resources)
        cs_by = {c.get("name"): c for c in st.get("containerStatuses") or []}
        p.cnames = []
        p.spec_res = []
        p.alloc_res = []
        p.act_res = []
        sc = sm = ac = am = 0
        lim_total = 0
        lim_all = True
        act_cpu = 0
        for c in spec.get("containers") or []:
            req, lim = container_resources(c)
            cn = c.get("name")
            p.cnames.append(cn)
            rc, rm = q_milli(req.get("cpu")), q_bytes(req.get("memory"))
            lc = q_milli(lim.get("cpu")) if "cpu" in lim else None
            lm = q_bytes(lim.get("memory")) if "memory" in lim else None
            p.spec_res.append((rc, rm, lc, lm))
            cst = cs_by.get(cn)
            if cst is not None and "allocatedResources" in cst:
                a = cst["allocatedResources"]
                arc, arm = q_milli(a.get("cpu")), q_bytes(a.get("memory"))
            else:
                arc, arm = rc, rm
            p.alloc_res.append((arc, arm))
            if cst is not None and "resources" in cst:
                r2, l2 = container_resources(cst)
                act = (q_milli(r2.get("cpu")), q_bytes(r2.get("memory")),
                       q_milli(l2.get("cpu")) if "cpu" in l2 else None,
                       q_bytes(l2.get("memory")) if "memory" in l2 else None)
            else:
                act = (rc, rm, lc, lm)
            p.act_res.append(act)
            sc += rc
            sm += rm
            ac += arc
            am += arm
            act_cpu += act[0]
            if act[2] is None:
                lim_all = False
            else:
                lim_total += act[2]
        p.spec_cpu, p.spec_mem, p.alloc_cpu, p.alloc_mem = sc, sm, ac, am
        p.act_lim = lim_total if lim_all and p.cnames else None
        p.act_cpu = act_cpu
        p.cweights = [max(a[2] or a[0] or 1, 1) for a in p.act_res]
        p.resize = None
        for c in st.get("conditions") or []:
            if c.get("type") == "PodResizePending" and c.get("status") == "True":
                p.resize = c.get("reason")
            elif c.get("type") == "PodResizeInProgress" and c.get("status") == "True":
                p.resize = p.resize or "InProgress"
        node = spec.get("nodeName")
        if node and p.phase not in ("Succeeded", "Failed"):
            self._set_contrib(p, node)
        else:
            self._set_contrib(p, None)
        self._set_ready(p, ready and not p.deleting, t)
        if (p.ready, p.running, p.deleting, p.node) != before:
            self._mark_owner(p)
        if p.deleting:
            return
        if not node:
            if p.sched_name == "default-scheduler" and p.phase == "Pending" and \
                    key not in self.sched_set and key not in self.unsched:
                self.sched_set.add(key)
                self.sched_q.append(key)
        elif p.phase == "Pending" and not p.start_due:
            p.start_due = True
            self._timer(t + self.cfg["startupDelay"], "start", key)
        elif p.running:
            if self._wants_resize(p):
                self.resize_check.add(key)

    def _owner_index(self, p, owner):
        old = p.owner
        if old == owner:
            return
        ns, name = p.key
        if old is not None:
            idx = self.rs_pods if old[0] == "ReplicaSet" else \
                self.sts_pods if old[0] == "StatefulSet" else None
            if idx is not None:
                idx[(ns, old[1])].discard(name)
                self.dirty[RS if old[0] == "ReplicaSet" else STS].add((ns, old[1]))
        p.owner = owner
        if owner is not None:
            idx = self.rs_pods if owner[0] == "ReplicaSet" else \
                self.sts_pods if owner[0] == "StatefulSet" else None
            if idx is not None:
                idx[(ns, owner[1])].add(name)
        self._mark_owner(p)

    def _mark_owner(self, p):
        if p.owner is None:
            return
        kind, name = p.owner
        if kind == "ReplicaSet":
            self.dirty[RS].add((p.key[0], name))
        elif kind == "StatefulSet":
            self.dirty[STS].add((p.key[0], name))

    def _set_contrib(self, p, node):
        """Account pod p on node (or nowhere when node is None)."""
        new = None
        if node is not None:
            new = (node, p.alloc_cpu, p.alloc_mem, max(p.spec_cpu, p.alloc_cpu),
                   max(p.spec_mem, p.alloc_mem))
        old = p.contrib
        if old == new:
            p.node = node
            return
        if old is not None:
            n = self.nodes.get(old[0])
            if n is not None:
                n.pods.discard(p.key)
                n.alloc_cpu -= old[1]
                n.alloc_mem -= old[2]
                n.sched_cpu -= old[3]
                n.sched_mem -= old[4]
                n.deferred.discard(p.key)
                if new is None or new[0] != old[0] or any(new[i] < old[i] for i in (1, 2, 3, 4)):
                    self.capacity_freed = True
                    self.resize_check.update(n.deferred)
        if new is not None:
            n = self.nodes.get(new[0])
            if n is not None:
                n.pods.add(p.key)
                n.alloc_cpu += new[1]
                n.alloc_mem += new[2]
                n.sched_cpu += new[3]
                n.sched_mem += new[4]
        p.contrib = new
        p.node = node

    def _set_ready(self, p, ready, t):
        if p.ready == ready:
            return
        wl = self.workloads.get(p.wl) if p.wl is not None else None
        if wl is not None:
            self._advance_workload(wl, t)
            if ready:
                wl.ready.add(p.key)
            else:
                wl.ready.discard(p.key)
        p.ready = ready
        if p.qs is not None:
            p.qs.t = max(p.qs.t, t)
            if not ready:
                p.qs.q = 0.0

    def _timer(self, due, kind, key):
        self.seq += 1
        heapq.heappush(self.timers, (due, self.seq, kind, key))

    # ================================================================ writes
    def _write(self, key, ns, name, fn):
        """Read-modify-write under the store lock; fn(obj) -> truthy to commit.
        Returns the written object, None when nothing was written."""
        with self.store.lock:
            o = self.store.get(key, ns, name)
            if o is None:
                return None
            if not fn(o):
                return None
            o["metadata"].pop("resourceVersion", None)
            res = self.store.update(key, o, subresource="all")
        self._drain()
        return res

    # ================================================================ events
    def _event(self, obj, kind, etype, reason, message, component):
        if not self.cfg["events"] or self.warm:
            return
        md = obj["metadata"]
        ns = md.get("namespace") or "default"
        ts = now_rfc3339()
        self.seq += 1
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "%s.%x%06x" % (md["name"], int(time.time() * 1e6) & 0xffffffffff,
                                                   self.seq & 0xffffff),
                           "namespace": ns},
              "involvedObject": {"kind": kind, "namespace": ns, "name": md["name"],
                                 "uid": md.get("uid", ""),
                                 "apiVersion": "v1" if kind == "Pod" else "apps/v1",
                                 "resourceVersion": md.get("resourceVersion", "")},
              "reason": reason, "message": message, "source": {"component": component},
              "firstTimestamp": ts, "lastTimestamp": ts, "count": 1, "type": etype,
              "eventTime": None, "reportingComponent": component, "reportingInstance": ""}
        if component == "kubelet" and obj.get("spec", {}).get("nodeName"):
            ev["source"]["host"] = obj["spec"]["nodeName"]
            ev["reportingInstance"] = obj["spec"]["nodeName"]
        try:
            self.store.create(("", "events"), ev)
        except ApiError:
            return
        self.my_events.append((self.now(), ns, ev["metadata"]["name"]))
        self._expire_events(self.now())

    def _expire_events(self, t):
        ttl = float(self.cfg["eventTTL"])
        cap = int(self.cfg["maxEvents"])
        q = self.my_events
        while q and (len(q) > cap or q[0][0] + ttl <= t):
            _, ns, name = q.popleft()
            try:
                self.store.delete(("", "events"), ns, name)
            except ApiError:
                pass

    # ================================================================ tick
    def _tick(self, t, unlimited=False):
        prev = self._freeze(t)
        try:
            self._tick_frozen(t, unlimited)
        finally:
            self.frozen = prev

    def _tick_frozen(self, t, unlimited):
        self._drain()
        if self.my_events:
            self._expire_events(t)
        self.created_this_tick = 0
        limit = None if unlimited else int(self.cfg["maxCreatesPerTick"])
        for _ in range(4):  # let controllers, scheduler and kubelet settle a little per tick
            self._reconcile_dirty(limit)
            self._schedule(t, limit)
            self._fire_timers(t)
            self._check_resizes(t)
            self._drain()
            if not (self.dirty[DEPLOY] or self.dirty[RS] or self.dirty[STS] or self.sched_q):
                break

    def _reconcile_dirty(self, limit):
        for kind in (DEPLOY, STS, RS):
            pending = self.dirty[kind]
            self.dirty[kind] = set()
            left = set()
            for key in sorted(pending):
                if limit is not None and self.created_this_tick >= limit:
                    left.add(key)
                    continue
                try:
                    if kind == DEPLOY:
                        self._reconcile_deployment(*key)
                    elif kind == RS:
                        if not self._reconcile_rs(*key, limit=limit):
                            left.add(key)
                    else:
                        if not self._reconcile_sts(*key, limit=limit):
                            left.add(key)
                except ApiError as e:
                    if e.code != 404:
                        print("cluster: reconcile %s %s: %s" % (kind[1], key, e.message),
                              flush=True)
                    if e.code == 409:
                        left.add(key)
            self.dirty[kind] |= left

    # ---------------------------------------------------------------- Deployment
    @staticmethod
    def _template_hash(tpl):
        t = json.loads(json.dumps(tpl))
        (t.get("metadata") or {}).pop("creationTimestamp", None)
        return safe_hash(json.dumps(t, sort_keys=True))

    def _reconcile_deployment(self, ns, name):
        d = self.store.get_ref(DEPLOY, ns, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        desired = int(spec.get("replicas", 1))
        tpl = spec.get("template") or {}
        h = self._template_hash(tpl)
        rs_name = "%s-%s" % (name, h)
        owned = sorted(self.deploy_rs.get((ns, name), ()))
        revisions = []
        for r in owned:
            o = self.store.get_ref(RS, ns, r)
            if o is not None:
                revisions.append(int((o["metadata"].get("annotations") or {})
                                     .get("deployment.kubernetes.io/revision", "0") or 0))
        if rs_name not in owned and self.store.get_ref(RS, ns, rs_name) is None:
            labels = dict((tpl.get("metadata") or {}).get("labels") or {})
            labels["pod-template-hash"] = h
            sel = json.loads(json.dumps(spec.get("selector") or {}))
            sel.setdefault("matchLabels", {})["pod-template-hash"] = h
            rtpl = json.loads(json.dumps(tpl))
            rtpl.setdefault("metadata", {})["labels"] = dict(labels)
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": rs_name, "namespace": ns, "labels": labels,
                               "annotations": {
                                   "deployment.kubernetes.io/desired-replicas": str(desired),
                                   "deployment.kubernetes.io/max-replicas": str(desired + 1),
                                   "deployment.kubernetes.io/revision":
                                       str(max(revisions + [0]) + 1)},
                               "ownerReferences": [self._oref(d, "Deployment")]},
                  "spec": {"replicas": desired, "selector": sel, "template": rtpl,
                           "minReadySeconds": spec.get("minReadySeconds", 0)}}
            rs = self.store.create(RS, rs)
            self._event(d, "Deployment", "Normal", "ScalingReplicaSet",
                        "Scaled up replica set %s from 0 to %d" % (rs_name, desired),
                        "deployment-controller")
            self._drain()
            owned = sorted(self.deploy_rs.get((ns, name), ()))
        for r in owned:
            want = desired if r == rs_name else 0
            o = self.store.get_ref(RS, ns, r)
            if o is None:
                continue
            ann = (o["metadata"].get("annotations") or {})
            if o["spec"].get("replicas") != want and o["spec"].get("replicas") is not None:
                self._event(d, "Deployment", "Normal", "ScalingReplicaSet",
                            "Scaled %s replica set %s from %d to %d"
                            % ("up" if want > o["spec"]["replicas"] else "down", r,
                               o["spec"]["replicas"], want), "deployment-controller")
            if o["spec"].get("replicas") != want or (
                    want and ann.get("deployment.kubernetes.io/desired-replicas") != str(desired)):
                def fn(obj, want=want):
                    obj["spec"]["replicas"] = want
                    a = obj["metadata"].setdefault("annotations", {})
                    if want:
                        a["deployment.kubernetes.io/desired-replicas"] = str(desired)
                        a["deployment.kubernetes.io/max-replicas"] = str(desired + 1)
                    return True
                self._write(RS, ns, r, fn)
        # status
        reps = upd = ready = 0
        for r in owned:
            names = self.rs_pods.get((ns, r), ())
            for pn in names:
                p = self.pods.get((ns, pn))
                if p is None or p.deleting:
                    continue
                reps += 1
                if r == rs_name:
                    upd += 1
                if p.ready:
                    ready += 1
        self._write(DEPLOY, ns, name,
                    lambda o: self._deploy_status(o, desired, reps, upd, ready, rs_name))

    def _deploy_status(self, o, desired, reps, upd, ready, rs_name):
        st = o.setdefault("status", {})
        old = json.dumps(st, sort_keys=True)
        st["observedGeneration"] = o["metadata"].get("generation", 1)
        for k, v in (("replicas", reps), ("updatedReplicas", upd), ("readyReplicas", ready),
                     ("availableReplicas", ready), ("unavailableReplicas", max(0, desired - ready))):
            if v:
                st[k] = v
            else:
                st.pop(k, None)
        conds = st.setdefault("conditions", [])
        ts = now_rfc3339()
        max_unavail = self._max_unavailable(o, desired)
        if ready >= desired - max_unavail:
            c = cond("Available", "True", "MinimumReplicasAvailable",
                     "Deployment has minimum availability.", ts)
        else:
            c = cond("Available", "False", "MinimumReplicasUnavailable",
                     "Deployment does not have minimum availability.", ts)
        c["lastUpdateTime"] = ts
        del c["lastProbeTime"]
        set_cond(conds, c)
        done = upd == desired and ready == desired and reps == desired
        if done:
            c = cond("Progressing", "True", "NewReplicaSetAvailable",
                     'ReplicaSet "%s" has successfully progressed.' % rs_name, ts)
        else:
            c = cond("Progressing", "True", "ReplicaSetUpdated",
                     'ReplicaSet "%s" is progressing.' % rs_name, ts)
        c["lastUpdateTime"] = ts
        del c["lastProbeTime"]
        set_cond(conds, c)
        conds.sort(key=lambda x: {"Available": 0, "Progressing": 1}.get(x.get("type"), 2))
        return json.dumps(st, sort_keys=True) != old

    @staticmethod
    def _max_unavailable(o, desired):
        ru = ((o.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
        v = ru.get("maxUnavailable", "25%")
        if isinstance(v, str) and v.endswith("%"):
            return int(math.floor(desired * float(v[:-1]) / 100.0))
        try:
            return int(v)
        except (TypeError, ValueError):
            return 0

    @staticmethod
    def _oref(owner, kind):
        return {"apiVersion": "apps/v1", "kind": kind, "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"], "controller": True,
                "blockOwnerDeletion": True}

    # ---------------------------------------------------------------- ReplicaSet
    def _reconcile_rs(self, ns, name, limit=None):
        rs = self.store.get_ref(RS, ns, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return True
        desired = int((rs.get("spec") or {}).get("replicas", 1))
        names = self.rs_pods.get((ns, name), set())
        alive = [self.pods[(ns, n)] for n in names
                 if (ns, n) in self.pods and not self.pods[(ns, n)].deleting]
        complete = True
        if len(alive) < desired:
            tpl = rs["spec"].get("template") or {}
            for _ in range(desired - len(alive)):
                if limit is not None and self.created_this_tick >= limit:
                    complete = False
                    break
                pod_name = "%s-%s" % (name, rand_suffix())
                while (ns, pod_name) in self.pods:
                    pod_name = "%s-%s" % (name, rand_suffix())
                self._create_pod(ns, pod_name, tpl, self._oref(rs, "ReplicaSet"),
                                 generate_name=name + "-")
                self._event(rs, "ReplicaSet", "Normal", "SuccessfulCreate",
                            "Created pod: %s" % pod_name, "replicaset-controller")
        elif len(alive) > desired:
            # like the ReplicaSet controller: unscheduled, then pending, then not ready, newest
            alive.sort(key=lambda p: (p.node is not None, p.running, p.ready,
                                      -self._created_order(p)))
            for p in alive[:len(alive) - desired]:
                self._delete_pod(p)
                self._event(rs, "ReplicaSet", "Normal", "SuccessfulDelete",
                            "Deleted pod: %s" % p.key[1], "replicaset-controller")
        self._drain()
        alive = [self.pods[(ns, n)] for n in self.rs_pods.get((ns, name), ())
                 if (ns, n) in self.pods and not self.pods[(ns, n)].deleting]
        reps = len(alive)
        ready = sum(1 for p in alive if p.ready)
        labelled = reps

        def fn(o):
            st = o.setdefault("status", {})
            old = json.dumps(st, sort_keys=True)
            st["replicas"] = reps
            st["observedGeneration"] = o["metadata"].get("generation", 1)
            for k, v in (("fullyLabeledReplicas", labelled), ("readyReplicas", ready),
                         ("availableReplicas", ready)):
                if v:
                    st[k] = v
                else:
                    st.pop(k, None)
            return json.dumps(st, sort_keys=True) != old
        self._write(RS, ns, name, fn)
        owner = self.rs_owner.get((ns, name))
        if owner:
            self.dirty[DEPLOY].add((ns, owner))
        return complete

    def _created_order(self, p):
        return p.born

    def _delete_pod(self, p):
        try:
            self.store.delete(POD, p.key[0], p.key[1])
        except ApiError as e:
            if e.code != 404:
                raise

    # ---------------------------------------------------------------- StatefulSet
    def _reconcile_sts(self, ns, name, limit=None):
        s = self.store.get_ref(STS, ns, name)
        if s is None or s["metadata"].get("deletionTimestamp"):
            return True
        spec = s.get("spec") or {}
        desired = int(spec.get("replicas", 1))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        tpl = spec.get("template") or {}
        rev = "%s-%s" % (name, safe_hash(json.dumps(tpl, sort_keys=True)))
        names = self.sts_pods.get((ns, name), set())
        by_ord = {}
        for n in names:
            m = re.fullmatch(re.escape(name) + r"-(\d+)", n)
            p = self.pods.get((ns, n))
            if m and p is not None and not p.deleting:
                by_ord[int(m.group(1))] = p
        complete = True
        for i in range(desired):
            if i in by_ord:
                if not parallel and not by_ord[i].ready and not self.warm:
                    break
                continue
            if limit is not None and self.created_this_tick >= limit:
                complete = False
                break
            t2 = json.loads(json.dumps(tpl))
            lb = t2.setdefault("metadata", {}).setdefault("labels", {})
            lb["controller-revision-hash"] = rev
            lb["statefulset.kubernetes.io/pod-name"] = "%s-%d" % (name, i)
            lb["apps.kubernetes.io/pod-index"] = str(i)
            self._create_pod(ns, "%s-%d" % (name, i), t2, self._oref(s, "StatefulSet"))
            self._event(s, "StatefulSet", "Normal", "SuccessfulCreate",
                        "create Pod %s-%d in StatefulSet %s successful" % (name, i, name),
                        "statefulset-controller")
            self._drain()
            if not parallel and not self.warm:
                break
        extra = sorted((i for i in by_ord if i >= desired), reverse=True)
        if extra:
            for i in (extra if parallel else extra[:1]):
                self._delete_pod(by_ord[i])
                self._event(s, "StatefulSet", "Normal", "SuccessfulDelete",
                            "delete Pod %s-%d in StatefulSet %s successful" % (name, i, name),
                            "statefulset-controller")
        self._drain()
        alive = [self.pods[(ns, n)] for n in self.sts_pods.get((ns, name), ())
                 if (ns, n) in self.pods and not self.pods[(ns, n)].deleting]
        reps = len(alive)
        ready = sum(1 for p in alive if p.ready)

        def fn(o):
            st = o.setdefault("status", {})
            old = json.dumps(st, sort_keys=True)
            st.update({"replicas": reps, "observedGeneration": o["metadata"].get("generation", 1),
                       "currentReplicas": reps, "updatedReplicas": reps,
                       "currentRevision": rev, "updateRevision": rev, "collisionCount": 0,
                       "availableReplicas": ready})
            if ready:
                st["readyReplicas"] = ready
            else:
                st.pop("readyReplicas", None)
            return json.dumps(st, sort_keys=True) != old
        self._write(STS, ns, name, fn)
        if extra and not parallel and len(extra) > 1:
            self.dirty[STS].add((ns, name))
        return complete

    # ---------------------------------------------------------------- pods
    def _create_pod(self, ns, name, tpl, oref, generate_name=None):
        tmd = tpl.get("metadata") or {}
        md = {"name": name, "namespace": ns, "labels": dict(tmd.get("labels") or {}),
              "ownerReferences": [oref]}
        if generate_name:
            md["generateName"] = generate_name
        if tmd.get("annotations"):
            md["annotations"] = dict(tmd["annotations"])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": md,
               "spec": json.loads(json.dumps(tpl.get("spec") or {}))}
        admission.default_pod(pod)
        if self.cfg["podAdmission"]:
            admission.admit_pod(pod)
        else:  # lean pods for very large scenarios: no injected volume/tolerations
            pod["spec"].setdefault("serviceAccountName", "default")
            pod["spec"].setdefault("priority", 0)
            pod["status"] = {"phase": "Pending", "qosClass": self._qos(pod["spec"])}
        if self.warm:
            node = self._pick_node(self._pod_req(pod), pod["spec"])
            if node is not None:
                n = self.nodes[node]
                pod["spec"]["nodeName"] = node
                ts = now_rfc3339()
                pod["status"] = {"phase": "Pending", "qosClass": pod["status"]["qosClass"],
                                 "conditions": [cond("PodScheduled", "True", ts=ts)]}
                self._make_running(pod, n, ts)
        self.store.create(POD, pod)
        self.created_this_tick += 1
        self._drain()

    def _qos(self, spec):
        k = json.dumps([c.get("resources") for c in spec.get("containers") or []] +
                       [c.get("resources") for c in spec.get("initContainers") or []],
                       sort_keys=True)
        q = self.qos_memo.get(k)
        if q is None:
            q = self.qos_memo[k] = admission.qos_class(spec)
        return q

    @staticmethod
    def _pod_req(pod):
        cpu = mem = 0
        for c in (pod.get("spec") or {}).get("containers") or []:
            req, _ = container_resources(c)
            cpu += q_milli(req.get("cpu"))
            mem += q_bytes(req.get("memory"))
        return cpu, mem

    # ================================================================ scheduler
    @staticmethod
    def _tolerates(tols, taint):
        for t in tols:
            if t.get("effect") and t.get("effect") != taint.get("effect"):
                continue
            op = t.get("operator", "Equal")
            if op == "Exists":
                if not t.get("key") or t.get("key") == taint.get("key"):
                    return True
            elif t.get("key") == taint.get("key") and \
                    t.get("value", "") == taint.get("value", ""):
                return True
        return False

    def _fit(self, n, req, spec):
        """-> None when pod fits node n, else the reason string."""
        if not n.ready:
            return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
        if n.unschedulable:
            return "node(s) were unschedulable"
        sel = spec.get("nodeSelector") or {}
        for k, v in sel.items():
            if n.labels.get(k) != v:
                return "node(s) didn't match Pod's node affinity/selector"
        tols = spec.get("tolerations") or []
        for taint in n.taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and \
                    not self._tolerates(tols, taint):
                return "node(s) had untolerated taint {%s: %s}" % (taint.get("key"),
                                                                   taint.get("value", ""))
        if len(n.pods) + 1 > n.maxpods:
            return "Too many pods"
        if n.sched_cpu + req[0] > n.cpu:
            return "Insufficient cpu"
        if n.sched_mem + req[1] > n.mem:
            return "Insufficient memory"
        return None

    def _pick_node(self, req, spec, reasons=None):
        order = self.node_order
        total = len(order)
        if not total:
            return None
        sample = total if total <= 100 else max(1, int(self.cfg["scoreNodes"]))
        best = None
        best_score = None
        found = 0
        start = self.node_rr % total
        for i in range(total):
            name = order[(start + i) % total]
            n = self.nodes[name]
            why = self._fit(n, req, spec)
            if why is not None:
                if reasons is not None:
                    reasons[why] += 1
                continue
            score = ((n.sched_cpu + req[0]) / n.cpu if n.cpu else 1.0) + \
                ((n.sched_mem + req[1]) / n.mem if n.mem else 1.0)
            if best is None or score < best_score - 1e-12:
                best, best_score = name, score
            found += 1
            if found >= sample:
                self.node_rr = (start + i + 1) % total
                break
        else:
            self.node_rr = (start + 1) % total
        return best

    def _pod_spec_for_sched(self, p):
        return {"nodeSelector": p.node_selector, "tolerations": p.tolerations}

    def _schedule(self, t, limit):
        if self.capacity_freed and self.unsched:
            for k in sorted(self.unsched):
                if k not in self.sched_set:
                    self.sched_set.add(k)
                    self.sched_q.append(k)
            self.unsched.clear()
        self.capacity_freed = False
        budget = len(self.sched_q) if limit is None else max(limit, 1)
        failed = {}  # pod shape -> reasons, for shapes that found no node in this pass
        while self.sched_q and budget > 0:
            budget -= 1
            key = self.sched_q.popleft()
            self.sched_set.discard(key)
            p = self.pods.get(key)
            if p is None or p.deleting or p.node is not None or p.phase != "Pending":
                continue
            req = (p.spec_cpu, p.spec_mem)
            spec = self._pod_spec_for_sched(p)
            shape = (req, json.dumps(spec, sort_keys=True))
            if shape in failed:
                self.unsched.add(key)
                self._mark_unschedulable(p, failed[shape])
                continue
            reasons = collections.Counter()
            node = self._pick_node(req, spec, reasons)
            if node is None:
                failed[shape] = reasons
                self.unsched.add(key)
                self._mark_unschedulable(p, reasons)
                continue
            n = self.nodes[node]
            self._bind(p, n)

    def _bind(self, p, n):
        ts = now_rfc3339()

        def fn(o):
            if o["spec"].get("nodeName"):
                return False
            o["spec"]["nodeName"] = n.name
            st = o.setdefault("status", {})
            conds = st.setdefault("conditions", [])
            set_cond(conds, cond("PodScheduled", "True", ts=ts))
            return True
        o = self._write(POD, p.key[0], p.key[1], fn)
        if o is not None:
            self._event(o, "Pod", "Normal", "Scheduled", "Successfully assigned %s/%s to %s"
                        % (p.key[0], p.key[1], n.name), "default-scheduler")

    def _mark_unschedulable(self, p, reasons):
        total = len(self.node_order)
        parts = ", ".join("%d %s" % (c, r) for r, c in sorted(reasons.items()))
        if reasons and all(r.startswith("Insufficient") or r == "Too many pods"
                           for r in reasons):
            pre = "%d No preemption victims found for incoming pod." % total
        else:
            pre = "%d Preemption is not helpful for scheduling." % total
        if total:
            msg = "0/%d nodes are available: %s. preemption: 0/%d nodes are available: %s" % (
                total, parts, total, pre)
        else:
            msg = "no nodes available to schedule pods"
        if p.unsched_msg == msg:
            return
        p.unsched_msg = msg

        def fn(o):
            if o["spec"].get("nodeName"):
                return False
            conds = o.setdefault("status", {}).setdefault("conditions", [])
            return set_cond(conds, cond("PodScheduled", "False", "Unschedulable", msg))
        o = self._write(POD, p.key[0], p.key[1], fn)
        if o is not None:
            self._event(o, "Pod", "Warning", "FailedScheduling", msg, "default-scheduler")

    # ================================================================ kubelet
    def _fire_timers(self, t):
        while self.timers and self.timers[0][0] <= t:
            _, _, kind, key = heapq.heappop(self.timers)
            p = self.pods.get(key)
            if p is None or p.deleting:
                continue
            if kind == "start":
                p.start_due = False
                if p.node is None or p.phase != "Pending":
                    continue
                n = self.nodes.get(p.node)
                if n is None:
                    continue
                o = self._write(POD, key[0], key[1],
                                lambda o, n=n: self._make_running(o, n))
                if o is not None:
                    for c in o["spec"].get("containers") or []:
                        self._event(o, "Pod", "Normal", "Started", "Started container %s"
                                    % c.get("name"), "kubelet")
            elif kind == "resize":
                self._write(POD, key[0], key[1], self._actuate_resize)

    def _make_running(self, o, n, ts=None):
        ts = ts or now_rfc3339()
        if o["spec"].get("nodeName") != n.name:
            return False
        st = o.setdefault("status", {})
        ip = self._pod_ip(n)
        st["phase"] = "Running"
        st["hostIP"] = self._node_ip(n)
        st["hostIPs"] = [{"ip": st["hostIP"]}]
        st["podIP"] = ip
        st["podIPs"] = [{"ip": ip}]
        st["startTime"] = ts
        if "qosClass" not in st:
            st["qosClass"] = admission.qos_class(o["spec"])
        conds = st.setdefault("conditions", [])
        for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                      "PodScheduled"):
            set_cond(conds, cond(ctype, "True", ts=ts))
        order = {"PodReadyToStartContainers": 0, "Initialized": 1, "Ready": 2,
                 "ContainersReady": 3, "PodScheduled": 4}
        conds.sort(key=lambda c: order.get(c.get("type"), 9))
        css = []
        for c in o["spec"].get("containers") or []:
            req, lim = container_resources(c)
            res = {}
            if req:
                res["requests"] = dict(req)
            if lim:
                res["limits"] = dict(lim)
            alloc = {k: v for k, v in req.items() if k in ("cpu", "memory")}
            image = c.get("image", "")
            cs = {"name": c.get("name"), "state": {"running": {"startedAt": ts}},
                  "lastState": {}, "ready": True, "restartCount": 0, "image": image,
                  "imageID": image.split(":")[0] + "@sha256:" +
                  hashlib.sha256(image.encode()).hexdigest(),
                  "containerID": "containerd://" +
                  hashlib.sha256((o["metadata"]["name"] + c.get("name", "")).encode()).hexdigest(),
                  "started": True}
            if alloc:
                cs["allocatedResources"] = alloc
            if res:
                cs["resources"] = res
            css.append(cs)
        st["containerStatuses"] = css
        return True

    def _node_ip(self, n):
        if n.ip:
            return n.ip
        return "10.0.%d.%d" % (n.index // 250, n.index % 250 + 1)

    def _pod_ip(self, n):
        i = n.ip_next
        n.ip_next = n.ip_next % 253 + 1
        cidr = self._pod_cidr(n.index)
        return cidr.rsplit(".", 1)[0] + ".%d" % (i + 1)

    # ---------------------------------------------------------------- resize
    def _wants_resize(self, p):
        """desired differs from allocated, or allocated not yet actuated."""
        for (rc, rm, lc, lm), (ac, am), act in zip(p.spec_res, p.alloc_res, p.act_res):
            if (rc, rm) != (ac, am) or (rc, rm, lc, lm) != act:
                return True
        return p.resize is not None

    def _check_resizes(self, t):
        if not self.resize_check:
            return
        keys = sorted(self.resize_check)
        self.resize_check = set()
        for key in keys:
            p = self.pods.get(key)
            if p is None or p.deleting or not p.running or p.node is None:
                continue
            n = self.nodes.get(p.node)
            if n is None:
                continue
            self._evaluate_resize(p, n, t)

    def _evaluate_resize(self, p, n, t):
        alloc_changed = any((rc, rm) != (ac, am) for (rc, rm, _, _), (ac, am)
                            in zip(p.spec_res, p.alloc_res))
        act_changed = any((rc, rm, lc, lm) != act for (rc, rm, lc, lm), act
                          in zip(p.spec_res, p.act_res))
        ts = now_rfc3339()
        if not alloc_changed:
            n.deferred.discard(p.key)
            if act_changed:
                if p.resize in ("Infeasible", "Deferred") or p.resize is None:
                    # allocated already (e.g. after a pending state): actuate now
                    self._write(POD, p.key[0], p.key[1], lambda o: self._accept_resize(o, ts))
                    self._timer(t + self.cfg["resizeDelay"], "resize", p.key)
                return
            if p.resize is not None:
                self._write(POD, p.key[0], p.key[1], self._clear_resize_conds)
            return
        # Infeasible: more than the node's allocatable at all
        for what, want, cap in (("cpu", p.spec_cpu, n.cpu), ("memory", p.spec_mem, n.mem)):
            if want > cap:
                n.deferred.discard(p.key)
                msg = "Node didn't have enough capacity: %s, requested: %d, capacity: %d" % (
                    what, want, cap)
                self._write(POD, p.key[0], p.key[1],
                            lambda o, m=msg: self._pending(o, "Infeasible", m, ts))
                return
        for what, want, used, cap in (("cpu", p.spec_cpu, n.alloc_cpu - p.alloc_cpu, n.cpu),
                                      ("memory", p.spec_mem, n.alloc_mem - p.alloc_mem, n.mem)):
            if want + used > cap:
                n.deferred.add(p.key)
                msg = ("Node didn't have enough resource: %s, requested: %d, used: %d, "
                       "capacity: %d" % (what, want, used, cap))
                self._write(POD, p.key[0], p.key[1],
                            lambda o, m=msg: self._pending(o, "Deferred", m, ts))
                return
        n.deferred.discard(p.key)
        wl = self.workloads.get(p.wl) if p.wl is not None else None
        if wl is not None:
            self._advance_pod(p, wl, t)
        self._write(POD, p.key[0], p.key[1], lambda o: self._accept_resize(o, ts))
        self._timer(t + self.cfg["resizeDelay"], "resize", p.key)

    @staticmethod
    def _pending(o, reason, msg, ts):
        conds = o.setdefault("status", {}).setdefault("conditions", [])
        ch = drop_cond(conds, "PodResizeInProgress")
        return set_cond(conds, cond("PodResizePending", "True", reason, msg, ts)) or ch

    @staticmethod
    def _clear_resize_conds(o):
        conds = o.setdefault("status", {}).setdefault("conditions", [])
        a = drop_cond(conds, "PodResizePending")
        b = drop_cond(conds, "PodResizeInProgress")
        return a or b

    @staticmethod
    def _accept_resize(o, ts):
        st = o.setdefault("status", {})
        by = {c.get("name"): c for c in o["spec"].get("containers") or []}
        for cs in st.get("containerStatuses") or []:
            c = by.get(cs.get("name"))
            if c is None:
                continue
            req, _ = container_resources(c)
            alloc = {k: v for k, v in req.items() if k in ("cpu", "memory")}
            if alloc:
                cs["allocatedResources"] = alloc
            else:
                cs.pop("allocatedResources", None)
        conds = st.setdefault("conditions", [])
        drop_cond(conds, "PodResizePending")
        set_cond(conds, cond("PodResizeInProgress", "True", ts=ts))
        return True

    def _actuate_resize(self, o):
        st = o.setdefault("status", {})
        by = {c.get("name"): c for c in o["spec"].get("containers") or []}
        ts = now_rfc3339()
        for cs in st.get("containerStatuses") or []:
            c = by.get(cs.get("name"))
            if c is None:
                continue
            req, lim = container_resources(c)
            alloc = cs.get("allocatedResources") or {}
            # a newer resize that is not allocated yet is evaluated on its own
            pending = {k: v for k, v in req.items() if k in ("cpu", "memory")} != alloc
            # actuate what is allocated (requests) and the limits that came with it
            old = cs.get("resources") or {}
            res = {}
            reqs = dict(alloc)
            if reqs:
                res["requests"] = reqs
            if lim and not pending:
                res["limits"] = dict(lim)
            elif old.get("limits"):
                res["limits"] = old["limits"]
            cs["resources"] = res
            changed = {r for r in ("cpu", "memory")
                       for part in ("requests", "limits")
                       if (old.get(part) or {}).get(r) != (res.get(part) or {}).get(r)}
            restart = {rp.get("resourceName") for rp in c.get("resizePolicy") or []
                       if rp.get("restartPolicy") == "RestartContainer"}
            if changed & restart:
                # the kubelet restarts the container to apply this resource
                started = ((cs.get("state") or {}).get("running") or {}).get("startedAt", ts)
                cs["lastState"] = {"terminated": {"exitCode": 0, "reason": "Completed",
                                                  "startedAt": started, "finishedAt": ts,
                                                  "containerID": cs.get("containerID", "")}}
                cs["state"] = {"running": {"startedAt": ts}}
                cs["restartCount"] = cs.get("restartCount", 0) + 1
        conds = st.setdefault("conditions", [])
        drop_cond(conds, "PodResizeInProgress")
        key = (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        p = self.pods.get(key)
        wl = self.workloads.get(p.wl) if p is not None and p.wl is not None else None
        if p is not None and wl is not None:
            self._advance_pod(p, wl, self.now())
        return True

    # ================================================================ usage model
    def _cpr(self, wl):
        return wl.cpr if wl is not None and wl.cpr is not None else float(self.cfg["cpuPerRequest"])

    def _alloc_cores(self, p):
        if p.act_lim is not None and p.act_lim > 0:
            return p.act_lim / 1000.0
        n = self.nodes.get(p.node) if p.node else None
        if n is not None and n.cpu > 0:
            return n.cpu / 1000.0
        return max(p.act_cpu, 1) / 1000.0

    def _rates(self, p, wl):
        a = self._alloc_cores(p)
        cpr = self._cpr(wl)
        mu = a / cpr if cpr > 0 else float("inf")
        if wl is not None and wl.cap is not None:
            mu = min(mu, wl.cap)
        return a, cpr, mu

    def _share(self, wl, t):
        nready = len(wl.ready)
        if not nready:
            return 0.0
        v = wl.load(t)
        if wl.load.unit == "cores":
            cpr = self._cpr(wl)
            v = v / cpr if cpr > 0 else 0.0
        return max(0.0, v) / nready

    def _advance_pod(self, p, wl, t):
        if p.qs is None or not p.ready:
            if p.qs is not None:
                p.qs.t = max(p.qs.t, t)
            return
        _, _, mu = self._rates(p, wl)
        const = self._share(wl, t) if wl.load.kind == "constant" else None
        cluster_model.advance(p.qs, t, lambda tt: self._share(wl, tt), mu,
                              max(self.cfg["tickInterval"] * self.cfg["timeScale"], 0.05),
                              float(self.cfg["maxQueue"]), const)

    def _advance_workload(self, wl, t):
        if wl.adv_t is not None and t <= wl.adv_t:
            return  # every ready pod is already integrated up to t
        wl.adv_t = t
        for key in list(wl.ready):
            p = self.pods.get(key)
            if p is not None:
                self._advance_pod(p, wl, t)

    def pod_figures(self, p, t):
        """Current simulated figures of pod p (caller holds self.mu)."""
        wl = self.workloads.get(p.wl) if p.wl is not None else None
        a, cpr, mu = self._rates(p, wl)
        if wl is None or not p.ready:
            f = cluster_model.pod_figures(0.0, mu, 0.0, cpr, a)
        else:
            self._advance_pod(p, wl, t)
            f = cluster_model.pod_figures(self._share(wl, t), mu, p.qs.q, cpr, a)
        f["alloc"] = a
        f["served"] = p.qs.served if p.qs is not None else 0.0
        f["dropped"] = p.qs.dropped if p.qs is not None else 0.0
        if wl is not None and wl.mem is not None:
            mem = wl.mem
        elif p.alloc_mem:
            mem = p.alloc_mem // 2
        else:
            mem = 32 * 2**20
        f["memory"] = mem if p.running else 0
        if not p.running:
            f["cpu"] = 0.0
        return f

    # ================================================================ metrics.k8s.io
    def handle_metrics(self, method, path, query):
        if method not in ("GET", "HEAD"):
            return 405, self._status(405, "MethodNotAllowed",
                                     "the server does not allow this method on the requested "
                                     "resource")
        parts = [x for x in path.split("/") if x]
        # apis metrics.k8s.io v1beta1 [namespaces NS] (pods|nodes) [NAME]
        rest = parts[3:]
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns = rest[1]
            rest = rest[2:]
        if not rest or rest[0] not in ("pods", "nodes") or len(rest) > 2 or \
                (rest[0] == "nodes" and ns is not None):
            return 404, self._status(404, "NotFound",
                                     "the server could not find the requested resource")
        res = rest[0]
        name = rest[1] if len(rest) == 2 else None
        try:
            sel = parse_label_selector(query.get("labelSelector", "") or "")
            fsel = parse_field_selector(query.get("fieldSelector", "") or "")
            for (path, _, _) in fsel:
                if path not in ("metadata.name", "metadata.namespace"):
                    raise ApiError(400, "BadRequest", "field label not supported: %s" % path)
        except ApiError as e:
            return e.code, e.status()

        def fmatch(ns_, name_):
            return not fsel or matches_fields(fsel, {"metadata": {"name": name_,
                                                                  "namespace": ns_}})
        with self.mu, self._instant():
            self._drain()
            t = self.now()
            ts = now_rfc3339()
            if res == "pods":
                if name is not None:
                    p = self.pods.get((ns or "", name))
                    if p is None or not p.running:
                        return 404, self._status(404, "NotFound", 'podmetrics.metrics.k8s.io '
                                                 '"%s/%s" not found' % (ns or "", name),
                                                 {"name": name, "group": "metrics.k8s.io",
                                                  "kind": "pods"})
                    return 200, self._pod_metrics(p, t, ts)
                items = []
                for key in sorted(self.pods):
                    if ns is not None and key[0] != ns:
                        continue
                    p = self.pods[key]
                    if not p.running or (sel and not matches_labels(sel, {"metadata": {
                            "labels": p.labels}})) or not fmatch(key[0], key[1]):
                        continue
                    items.append(self._pod_metrics(p, t, ts))
                return 200, {"kind": "PodMetricsList", "apiVersion": METRICS_API,
                             "metadata": {}, "items": items}
            if name is not None:
                n = self.nodes.get(name)
                if n is None:
                    return 404, self._status(404, "NotFound", 'nodemetrics.metrics.k8s.io "%s" '
                                             'not found' % name,
                                             {"name": name, "group": "metrics.k8s.io",
                                              "kind": "nodes"})
                return 200, self._node_metrics(n, t, ts)
            items = [self._node_metrics(self.nodes[nm], t, ts) for nm in sorted(self.nodes)
                     if (not sel or matches_labels(sel, {"metadata": {
                         "labels": self.nodes[nm].labels}})) and fmatch("", nm)]
            return 200, {"kind": "NodeMetricsList", "apiVersion": METRICS_API,
                         "metadata": {}, "items": items}

    @staticmethod
    def _status(code, reason, msg, details=None):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": msg, "reason": reason}
        if details is not None:
            st["details"] = details
        st["code"] = code
        return st

    def _pod_metrics(self, p, t, ts):
        f = self.pod_figures(p, t)
        total_w = float(sum(p.cweights)) or 1.0
        containers = []
        for cn, w in zip(p.cnames, p.cweights):
            containers.append({"name": cn, "usage": {
                "cpu": "%dn" % int(round(f["cpu"] * 1e9 * w / total_w)),
                "memory": "%dKi" % int(f["memory"] * w / total_w // 1024)}})
        return {"kind": "PodMetrics", "apiVersion": METRICS_API,
                "metadata": {"name": p.key[1], "namespace": p.key[0], "creationTimestamp": ts,
                             "labels": dict(p.labels)},
                "timestamp": ts, "window": "15s", "containers": containers}

    def _node_usage(self, n, t):
        cpu = float(self.cfg["nodeOverheadCpu"])
        mem = 0
        for key in n.pods:
            p = self.pods.get(key)
            if p is None:
                continue
            f = self.pod_figures(p, t)
            cpu += f["cpu"]
            mem += f["memory"]
        return cpu, mem

    def _node_metrics(self, n, t, ts):
        cpu, mem = self._node_usage(n, t)
        return {"kind": "NodeMetrics", "apiVersion": METRICS_API,
                "metadata": {"name": n.name, "creationTimestamp": ts, "labels": dict(n.labels)},
                "timestamp": ts, "window": "20s",
                "usage": {"cpu": "%dn" % int(round(cpu * 1e9)), "memory": "%dKi" % (mem // 1024)}}

    # ================================================================ pod proxy
    POD_METRICS = (
        ("requests_per_second", "gauge", "Requests per second arriving at this pod.", "rate"),
        ("latency_seconds", "gauge", "Mean response time (M/M/1 model plus backlog).",
         "latency"),
        ("queue_length", "gauge", "Requests in the pod (waiting and in service).", "queue"),
        ("cpu_usage_cores", "gauge", "CPU used, in cores.", "cpu"),
        ("cpu_allocation_cores", "gauge", "CPU the pod may use (its limit, else the node's "
         "allocatable), in cores.", "alloc"),
        ("demand", "gauge", "Demand intensity in [0,1] (utilisation of the allocation).",
         "demand"),
        ("requests_served_total", "counter", "Requests served.", "served"),
        ("requests_dropped_total", "counter", "Requests dropped because the queue was full.",
         "dropped"),
    )

    @staticmethod
    def _fmt(v):
        if v == float("inf"):
            return "+Inf"
        return repr(float(round(v, 9)))

    def handle_proxy(self, ns, name, port, path, query):
        path = "/" + (path or "").lstrip("/")
        with self.mu, self._instant():
            self._drain()
            p = self.pods.get((ns, name))
            if p is None:
                body = json.dumps(self._status(404, "NotFound", 'pods "%s" not found' % name,
                                               {"name": name, "kind": "pods"})).encode()
                return 404, "application/json", body
            if not p.running:
                body = json.dumps(self._status(503, "ServiceUnavailable",
                                               'error trying to reach service: pod %s is not '
                                               'running' % name)).encode()
                return 503, "application/json", body
            f = self.pod_figures(p, self.now())
        if path in ("/metrics", "/metrics/"):
            lines = []
            for mname, mtype, help_, k in self.POD_METRICS:
                full = "mbcas_sim_pod_" + mname
                lines.append("# HELP %s %s" % (full, help_))
                lines.append("# TYPE %s %s" % (full, mtype))
                lines.append("%s %s" % (full, self._fmt(f[k])))
            return 200, "text/plain; version=0.0.4; charset=utf-8", \
                ("\n".join(lines) + "\n").encode()
        if path in ("/demand", "/demand/"):
            return 200, "application/json", json.dumps({
                "demand": round(f["demand"], 6), "requestsPerSecond": round(f["rate"], 6),
                "latencySeconds": round(f["latency"], 6) if f["latency"] != float("inf") else None,
                "queueLength": round(f["queue"], 6), "cpuUsageCores": round(f["cpu"], 6)}).encode()
        if path in ("/healthz", "/readyz", "/"):
            return 200, "text/plain; charset=utf-8", b"ok"
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"

    def handle_prom_scrape(self):
        out = []
        with self.mu, self._instant():
            self._drain()
            t = self.now()
            rows = []
            for key in sorted(self.pods):
                p = self.pods[key]
                if not p.running:
                    continue
                wl = p.wl[2] if p.wl is not None else ""
                rows.append((key, wl, self.pod_figures(p, t)))
            wls = []
            for wkey in sorted(self.workloads):
                wl = self.workloads[wkey]
                v = wl.load(t)
                if wl.load.unit == "cores":
                    cpr = self._cpr(wl)
                    v = v / cpr if cpr > 0 else 0.0
                wls.append((wkey, v, len(wl.ready), len(wl.pods)))
        for mname, mtype, help_, k in self.POD_METRICS:
            full = "mbcas_sim_pod_" + mname
            out.append("# HELP %s %s" % (full, help_))
            out.append("# TYPE %s %s" % (full, mtype))
            for (ns, name), wl, f in rows:
                out.append('%s{namespace="%s",pod="%s",workload="%s"} %s'
                           % (full, ns, name, wl, self._fmt(f[k])))
        for mname, help_, idx in (("load_requests_per_second",
                                   "Offered load of the workload, requests per second.", 1),
                                  ("ready_pods", "Ready pods of the workload.", 2),
                                  ("pods", "Pods of the workload.", 3)):
            full = "mbcas_sim_workload_" + mname
            out.append("# HELP %s %s" % (full, help_))
            out.append("# TYPE %s gauge" % full)
            for row in wls:
                (kind, ns, name) = row[0]
                out.append('%s{namespace="%s",workload="%s",kind="%s"} %s'
                           % (full, ns, name, kind, self._fmt(row[idx])))
        return 200, "text/plain; version=0.0.4; charset=utf-8", ("\n".join(out) + "\n").encode()
