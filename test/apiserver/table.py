"""meta.k8s.io/v1 Table output (what `kubectl get` asks for)."""

import calendar
import time

from validation import get_path

NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, "
             "although some resources may allow a client to request the generation of an "
             "appropriate name automatically. Name is primarily intended for creation "
             "idempotence and configuration definition. Cannot be updated. More info: "
             "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_DESC = ("CreationTimestamp is a timestamp representing the server time when this object was "
            "created. It is not guaranteed to be set in happens-before order across separate "
            "operations. Clients may not set this value. It is represented in RFC3339 form and "
            "is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
            "https://git.k8s.io/community/contributors/devel/sig-architecture/"
            "api-conventions.md#metadata")


def col(name, typ="string", desc="", fmt="", priority=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


def human_duration(seconds):
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = m // 60
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (h // 24, h % 24) if h % 24 else "%dd" % (h // 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        return "%dy%dd" % (h // (24 * 365), (h // 24) % 365)
    return "%dy" % (h // (24 * 365))


def age(ts):
    if not ts:
        return "<unknown>"
    try:
        t = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return "<unknown>"
    return human_duration(time.time() - t)


def _none(v):
    return v if v not in (None, "") else "<none>"


# ---------------------------------------------------------------- built-in printers
def _pod_row(p):
    spec, st = p.get("spec") or {}, p.get("status") or {}
    cs = st.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in cs if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in cs)
    reason = st.get("reason") or st.get("phase") or ""
    for c in cs:
        w = (c.get("state") or {}).get("waiting")
        if w and w.get("reason"):
            reason = w["reason"]
    if p.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    return [p["metadata"]["name"], "%d/%d" % (ready, total), reason, str(restarts),
            age(p["metadata"].get("creationTimestamp")), _none(st.get("podIP")),
            _none(spec.get("nodeName")), _none(st.get("nominatedNodeName")),
            "<none>" if not gates else "0/%d" % len(gates)]


POD_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
            col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
            col("Status", desc="The aggregate status of the containers in this pod."),
            col("Restarts", desc="The number of times the containers in this pod have been "
                "restarted and when the last container in this pod has restarted."),
            col("Age", desc=AGE_DESC),
            col("IP", desc="podIP address allocated to the pod. Routable at least within the "
                "cluster. Empty if not yet allocated.", priority=1),
            col("Node", desc="NodeName indicates in which node this pod is scheduled. If empty, "
                "this pod is a candidate for scheduling by the scheduler defined in "
                "schedulerName. Once this field is set, the kubelet for this node becomes "
                "responsible for the lifecycle of this pod. This field should not be used to "
                "express a desire for the pod to be scheduled on a specific node. "
                "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/"
                "#nodename", priority=1),
            col("Nominated Node", desc="nominatedNodeName is set only when this pod preempts "
                "other pods on the node, but it cannot be scheduled right away as preemption "
                "victims receive their graceful termination periods. This field does not "
                "guarantee that the pod will be scheduled on this node. Scheduler may decide to "
                "place the pod elsewhere if other nodes become available sooner. Scheduler may "
                "also decide to give the resources on this node to a higher priority pod that "
                "is created after preemption. As a result, this field may be different than "
                "PodSpec.nodeName when the pod is scheduled.", priority=1),
            col("Readiness Gates", desc="If specified, all readiness gates will be evaluated "
                "for pod readiness. A pod is ready when all its containers are ready AND all "
                "conditions specified in the readiness gates have status equal to \"True\" "
                "More info: https://git.k8s.io/enhancements/keps/sig-network/"
                "580-pod-readiness-gates", priority=1)]


def _node_row(n):
    conds = (n.get("status") or {}).get("conditions") or []
    ready = next((c for c in conds if c.get("type") == "Ready"), None)
    status = "Unknown"
    if ready is not None:
        status = "Ready" if ready.get("status") == "True" else "NotReady"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = n["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels
                   if k.startswith("node-role.kubernetes.io/") and "/" in k)
    info = (n.get("status") or {}).get("nodeInfo") or {}
    return [n["metadata"]["name"], status, ",".join(roles) or "<none>",
            age(n["metadata"].get("creationTimestamp")), info.get("kubeletVersion", "")]


NODE_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
             col("Status", desc="The status of the node"),
             col("Roles", desc="The roles of the node"),
             col("Age", desc=AGE_DESC),
             col("Version", desc="Kubelet Version reported by the node.")]


def _workload_row(d):
    spec, st = d.get("spec") or {}, d.get("status") or {}
    return [d["metadata"]["name"], "%d/%d" % (st.get("readyReplicas", 0), spec.get("replicas", 0)),
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0),
            age(d["metadata"].get("creationTimestamp"))]


DEPLOY_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
               col("Ready", desc="Number of the pod with ready state"),
               col("Up-to-date", "string", "Total number of non-terminated pods targeted by this "
                   "deployment that have the desired template spec."),
               col("Available", "string", "Total number of available pods (ready for at least "
                   "minReadySeconds) targeted by this deployment."),
               col("Age", desc=AGE_DESC)]


def _sts_row(s):
    spec, st = s.get("spec") or {}, s.get("status") or {}
    return [s["metadata"]["name"], "%d/%d" % (st.get("readyReplicas", 0), spec.get("replicas", 0)),
            age(s["metadata"].get("creationTimestamp"))]


STS_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
            col("Ready", desc="Number of the pod with ready state"), col("Age", desc=AGE_DESC)]


def _rs_row(r):
    spec, st = r.get("spec") or {}, r.get("status") or {}
    return [r["metadata"]["name"], spec.get("replicas", 0), st.get("replicas", 0),
            st.get("readyReplicas", 0), age(r["metadata"].get("creationTimestamp"))]


RS_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
           col("Desired", "integer", "Number of desired pods"),
           col("Current", "integer", "Number of actual replicas"),
           col("Ready", "integer", "Number of ready replicas"), col("Age", desc=AGE_DESC)]


def _ns_row(n):
    return [n["metadata"]["name"], (n.get("status") or {}).get("phase", ""),
            age(n["metadata"].get("creationTimestamp"))]


NS_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
           col("Status", desc="The status of the namespace"), col("Age", desc=AGE_DESC)]


def _event_row(e):
    io = e.get("involvedObject") or {}
    last = e.get("lastTimestamp") or e.get("eventTime") or \
        e["metadata"].get("creationTimestamp")
    return [age(last), e.get("type", ""), e.get("reason", ""),
            "%s/%s" % ((io.get("kind") or "").lower(), io.get("name", "")),
            e.get("message", "")]


EVENT_COLS = [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")]


def _cm_row(c):
    return [c["metadata"]["name"], len(c.get("data") or {}) + len(c.get("binaryData") or {}),
            age(c["metadata"].get("creationTimestamp"))]


CM_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
           col("Data", "string", "Number of data items"), col("Age", desc=AGE_DESC)]


def _default_row(o):
    return [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]


DEFAULT_COLS = [col("Name", desc=NAME_DESC, fmt="name"),
                col("Created At", "date", AGE_DESC)]

PRINTERS = {
    ("", "pods"): (POD_COLS, _pod_row),
    ("", "nodes"): (NODE_COLS, _node_row),
    ("", "namespaces"): (NS_COLS, _ns_row),
    ("", "events"): (EVENT_COLS, _event_row),
    ("", "configmaps"): (CM_COLS, _cm_row),
    ("apps", "deployments"): (DEPLOY_COLS, _workload_row),
    ("apps", "statefulsets"): (STS_COLS, _sts_row),
    ("apps", "replicasets"): (RS_COLS, _rs_row),
}


# ---------------------------------------------------------------- custom resources
def crd_columns(rt, version):
    cols = None
    for v in rt.crd.get("spec", {}).get("versions", []):
        if v.get("name") == version:
            cols = v.get("additionalPrinterColumns")
    return cols


def _cr_printer(rt, version):
    cols = crd_columns(rt, version)
    if not cols:
        defs = [col("Name", desc=NAME_DESC, fmt="name"), col("Age", "date", AGE_DESC)]
        return defs, lambda o: [o["metadata"]["name"], age(o["metadata"].get("creationTimestamp"))]
    defs = [col("Name", desc=NAME_DESC, fmt="name")]
    for c in cols:
        defs.append(col(c["name"], c.get("type", "string"),
                        c.get("description") or "Custom resource definition column (in "
                        "JSONPath format): %s" % c.get("jsonPath", ""), c.get("format", ""),
                        c.get("priority", 0)))

    def row(o):
        cells = [o["metadata"]["name"]]
        for c in cols:
            found, v = get_path(o, c.get("jsonPath", ""))
            if not found:
                cells.append(None)
            elif c.get("type") == "date" and isinstance(v, str):
                cells.append(age(v))
            elif isinstance(v, (dict, list)):
                import json
                cells.append(json.dumps(v, separators=(",", ":")))
            else:
                cells.append(v)
        return cells
    return defs, row


def printer_for(rt, version):
    if rt.crd is not None:
        return _cr_printer(rt, version)
    return PRINTERS.get(rt.key, (DEFAULT_COLS, _default_row))


def partial(o):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": o.get("metadata", {})}


def table(rt, version, objs, rv, cont=None, remaining=None, include_object="Metadata",
          with_columns=True):
    defs, row = printer_for(rt, version)
    rows = []
    for o in objs:
        r = {"cells": row(o)}
        if include_object == "Object":
            r["object"] = o
        elif include_object != "None":
            r["object"] = partial(o)
        rows.append(r)
    md = {"resourceVersion": str(rv)}
    if cont:
        md["continue"] = cont
    if remaining:
        md["remainingItemCount"] = remaining
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md,
            "columnDefinitions": defs if with_columns else None, "rows": rows}
