"""Built-in kinds: defaulting, admission mutations and the validation the emulator performs
(pod QoS, pods/resize rules, pod update immutability, CRD status)."""

import copy
import random
import string
from fractions import Fraction

from store import now_rfc3339
from validation import Cause, invalid_error

_SUFFIX = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
           "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def parse_quantity(q):
    """Kubernetes resource.Quantity string -> Fraction. Raises ValueError."""
    if isinstance(q, (int, float)):
        return Fraction(q)
    s = str(q).strip()
    for suf in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"):
        if s.endswith(suf):
            return Fraction(s[:-len(suf)]) * _SUFFIX[suf]
    if "e" in s.lower():
        return Fraction(float(s))
    return Fraction(s)


def _containers(spec):
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def qos_class(spec):
    requests, limits = {}, {}
    zero = True
    guaranteed = True
    for c in _containers(spec):
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        for r in ("cpu", "memory"):
            if r in req and parse_quantity(req[r]) != 0:
                zero = False
            if r in lim and parse_quantity(lim[r]) != 0:
                zero = False
        for r in ("cpu", "memory"):
            if r not in lim:
                guaranteed = False
            elif r in req and parse_quantity(req[r]) != parse_quantity(lim[r]):
                guaranteed = False
        requests.update(req)
        limits.update(lim)
    if zero:
        return "BestEffort"
    if guaranteed and spec.get("containers"):
        return "Guaranteed"
    return "Burstable"


def _default_container(c):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c:
        img = c.get("image", "")
        tag = img.rsplit("/", 1)[-1]
        c["imagePullPolicy"] = "Always" if (":" not in tag or tag.endswith(":latest")) \
            and "@" not in img else "IfNotPresent"
    res = c.get("resources")
    if isinstance(res, dict) and res.get("limits"):
        req = res.setdefault("requests", {})
        for k, v in res["limits"].items():
            req.setdefault(k, v)
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")


def default_pod_spec(spec):
    for c in _containers(spec):
        _default_container(c)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def default_pod(pod):
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)


def admit_pod(pod):
    """Admission plugins' mutations (not attributed in managedFields)."""
    spec = pod["spec"]
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    if spec.get("automountServiceAccountToken", True):
        suffix = "".join(random.choice(string.ascii_lowercase + "0123456789") for _ in range(5))
        vname = "kube-api-access-" + suffix
        vols = spec.setdefault("volumes", [])
        vols.append({"name": vname, "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt",
                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
            "defaultMode": 420}})
        for c in spec.get("containers") or []:
            c.setdefault("volumeMounts", []).append(
                {"name": vname, "readOnly": True,
                 "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    tol = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tol):
            tol.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                        "tolerationSeconds": 300})
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    st = pod.setdefault("status", {})
    st.setdefault("phase", "Pending")
    st["qosClass"] = qos_class(spec)


def default_deployment(d):
    spec = d.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    st = spec.setdefault("strategy", {})
    st.setdefault("type", "RollingUpdate")
    if st["type"] == "RollingUpdate":
        ru = st.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    tpl = spec.setdefault("template", {})
    tpl.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    default_pod_spec(tpl.setdefault("spec", {}))


def default_statefulset(s):
    spec = s.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    us = spec.setdefault("updateStrategy", {})
    us.setdefault("type", "RollingUpdate")
    if us["type"] == "RollingUpdate":
        us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy",
                    {"whenDeleted": "Retain", "whenScaled": "Retain"})
    tpl = spec.setdefault("template", {})
    tpl.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    default_pod_spec(tpl.setdefault("spec", {}))


def default_crd(crd):
    spec = crd.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("listKind", names["kind"] + "List")
    if names.get("kind") and not names.get("singular"):
        names["singular"] = names["kind"].lower()
    spec.setdefault("conversion", {"strategy": "None"})
    for v in spec.get("versions") or []:
        for col in v.get("additionalPrinterColumns") or []:
            pass
    st = crd.setdefault("status", {})
    st.setdefault("conditions", None)
    st.setdefault("acceptedNames", {"plural": "", "kind": ""})
    st.setdefault("storedVersions", [v["name"] for v in spec.get("versions") or []
                                     if v.get("storage")])


def established_status(crd):
    names = crd["spec"]["names"]
    t = now_rfc3339()
    return {"conditions": [
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": t,
         "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True", "lastTransitionTime": t,
         "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
        "acceptedNames": copy.deepcopy(names),
        "storedVersions": [v["name"] for v in crd["spec"].get("versions") or []
                           if v.get("storage")]}


def default_event(ev):
    ev.setdefault("eventTime", None)
    ev.setdefault("reportingComponent", "")
    ev.setdefault("reportingInstance", "")


def default_namespace(ns):
    ns.setdefault("spec", {"finalizers": ["kubernetes"]})
    ns.setdefault("status", {"phase": "Active"})
    ns.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = \
        ns["metadata"].get("name", "")


# ------------------------------------------------------------------ pods/resize
def apply_resize(old, patched):
    """Take only container resources (and resizePolicy) from patched into a copy of old."""
    new = copy.deepcopy(old)
    by_name = {c.get("name"): c for c in (patched.get("spec") or {}).get("containers") or []}
    for c in new["spec"].get("containers") or []:
        p = by_name.get(c.get("name"))
        if p is None:
            continue
        if "resources" in p:
            c["resources"] = copy.deepcopy(p["resources"])
            lim = c["resources"].get("limits") or {}
            if lim:
                req = c["resources"].setdefault("requests", {})
                for k, v in lim.items():
                    req.setdefault(k, v)
        if "resizePolicy" in p:
            c["resizePolicy"] = copy.deepcopy(p["resizePolicy"])
    return new


def validate_resize(old, new):
    name = old["metadata"]["name"]
    causes = []
    old_q = old.get("status", {}).get("qosClass") or qos_class(old["spec"])
    if qos_class(new["spec"]) != old_q:
        causes.append(Cause("FieldValueInvalid", 'Invalid value: "%s": Pod QOS Class may not '
                            'change as a result of resizing' % old_q, "spec"))
    olds = {c.get("name"): c for c in old["spec"].get("containers") or []}
    for i, c in enumerate(new["spec"].get("containers") or []):
        oc = olds.get(c.get("name")) or {}
        om = ((oc.get("resources") or {}).get("limits") or {}).get("memory")
        nm = ((c.get("resources") or {}).get("limits") or {}).get("memory")
        policy = "NotRequired"
        for rp in c.get("resizePolicy") or []:
            if rp.get("resourceName") == "memory":
                policy = rp.get("restartPolicy", "NotRequired")
        if om is not None and nm is not None and policy != "RestartContainer":
            try:
                if parse_quantity(nm) < parse_quantity(om):
                    causes.append(Cause("FieldValueForbidden",
                                        "Forbidden: memory limits cannot be decreased unless "
                                        "resizePolicy is RestartContainer",
                                        "spec.containers[%d].resources.limits[memory]" % i))
            except ValueError:
                pass
        if om is not None and nm is None:
            causes.append(Cause("FieldValueForbidden", "Forbidden: resource limits cannot be "
                                "removed", "spec.containers[%d].resources.limits[memory]" % i))
    if causes:
        raise invalid_error("Pod", "", name, causes)


POD_UPDATE_MSG = ("Forbidden: pod updates may not change fields other than "
                  "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                  "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                  "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                  "it was previously negative)")


def validate_pod_update(old, new):
    def strip(spec):
        s = copy.deepcopy(spec or {})
        for f in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds",
                  "schedulingGates"):
            s.pop(f, None)
        for c in _containers(s):
            c.pop("image", None)
        return s
    if strip(old.get("spec")) != strip(new.get("spec")):
        raise invalid_error("Pod", "", old["metadata"]["name"],
                            [Cause("FieldValueForbidden", POD_UPDATE_MSG, "spec")])
