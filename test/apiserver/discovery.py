"""Discovery documents: /version, /api, /apis, /apis/G, /apis/G/V, aggregated v2."""

import base64
import hashlib

AGG_CT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

GROUP_ORDER = ["apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
               "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
               "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
               "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io",
               "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io",
               "flowcontrol.apiserver.k8s.io"]

VERSION_INFO = {"major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
                "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
                "gitVersion": "v1.33.13", "gitCommit": "mbcas-apiserver-emulator",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "python3", "compiler": "gc", "platform": "linux/amd64"}

# metrics.k8s.io (served by the cluster module when it is on)
METRICS_RESOURCES = [("nodes", "NodeMetrics", False), ("pods", "PodMetrics", True)]


def storage_version_hash(group, version, kind):
    s = "%s/%s/%s" % (group, version, kind)
    return base64.b64encode(hashlib.sha256(s.encode()).digest()[:8]).decode()


class Discovery:
    def __init__(self, store, metrics=False, port=0):
        self.store = store
        self.metrics = metrics
        self.port = port

    # ------------------------------------------------------------ helpers
    def _types(self):
        return self.store.types()

    def _by_group(self):
        """group -> ordered list of versions -> list of rts (builtin sorted, CRDs in order)."""
        groups = {}
        for rt in self._types():
            for v in rt.versions:
                groups.setdefault(rt.group, {}).setdefault(v, []).append(rt)
        return groups

    def group_names(self):
        g = self._by_group()
        names = [n for n in GROUP_ORDER if n in g]
        crd_groups = []
        for rt in self._types():
            if rt.crd is not None and rt.group not in names and rt.group not in crd_groups:
                crd_groups.append(rt.group)
        names += crd_groups
        if self.metrics:
            names.append("metrics.k8s.io")
        return names

    def versions_of(self, group):
        if group == "metrics.k8s.io":
            return ["v1beta1"] if self.metrics else []
        vs = []
        for rt in self._types():
            if rt.group == group:
                for v in rt.versions:
                    if v not in vs:
                        vs.append(v)
        return vs

    def rts_in(self, group, version):
        out = [rt for rt in self._types() if rt.group == group and version in rt.versions]
        builtin = sorted([r for r in out if r.crd is None], key=lambda r: r.resource)
        crds = [r for r in out if r.crd is not None]
        return builtin + crds

    # ------------------------------------------------------------ documents
    def version(self):
        return dict(VERSION_INFO)

    def api_versions(self):
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "127.0.0.1:%d" % self.port}]}

    def api_group(self, group):
        vs = self.versions_of(group)
        if not vs:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group,
                "versions": [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in vs],
                "preferredVersion": {"groupVersion": "%s/%s" % (group, vs[0]), "version": vs[0]}}

    def group_list(self):
        groups = []
        for g in self.group_names():
            d = self.api_group(g)
            d.pop("kind")
            d.pop("apiVersion")
            groups.append(d)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list(self, group, version):
        if group == "metrics.k8s.io":
            if not self.metrics or version != "v1beta1":
                return None
            res = [{"name": n, "singularName": "", "namespaced": ns, "kind": k,
                    "verbs": ["get", "list"]} for (n, k, ns) in METRICS_RESOURCES]
            return {"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": "metrics.k8s.io/v1beta1", "resources": res}
        rts = self.rts_in(group, version)
        if not rts:
            return None
        res = []
        for rt in rts:
            entry = {"name": rt.resource, "singularName": rt.singular,
                     "namespaced": rt.namespaced, "kind": rt.kind, "verbs": list(rt.verbs)}
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            if rt.categories:
                entry["categories"] = list(rt.categories)
            entry["storageVersionHash"] = storage_version_hash(rt.group, rt.version, rt.kind)
            res.append(entry)
            subs = list(rt.subresources.items())
            if rt.crd is None:
                subs.sort()
            for name, sub in subs:
                e = {"name": "%s/%s" % (rt.resource, name), "singularName": "",
                     "namespaced": rt.namespaced}
                if "group" in sub:
                    e["group"] = sub["group"]
                    e["version"] = sub["version"]
                e["kind"] = sub["kind"]
                e["verbs"] = list(sub["verbs"])
                res.append(e)
        doc = {"kind": "APIResourceList"}
        if group:
            doc["apiVersion"] = "v1"
        doc["groupVersion"] = "%s/%s" % (group, version) if group else version
        doc["resources"] = res
        return doc

    def _agg_resources(self, group, version):
        out = []
        if group == "metrics.k8s.io":
            for (n, k, ns) in METRICS_RESOURCES:
                out.append({"resource": n, "responseKind": {"group": "", "version": "",
                                                             "kind": k},
                            "scope": "Namespaced" if ns else "Cluster",
                            "singularResource": n[:-1], "verbs": ["get", "list"]})
            return out
        rts = sorted(self.rts_in(group, version), key=lambda r: r.resource)
        for rt in rts:
            rk = {"group": "", "version": "", "kind": rt.kind} if rt.crd is None else \
                {"group": rt.group, "version": version, "kind": rt.kind}
            e = {"resource": rt.resource, "responseKind": rk,
                 "scope": "Namespaced" if rt.namespaced else "Cluster",
                 "singularResource": rt.singular, "verbs": list(rt.verbs)}
            if rt.short_names:
                e["shortNames"] = list(rt.short_names)
            if rt.categories:
                e["categories"] = list(rt.categories)
            subs = list(rt.subresources.items())
            if rt.crd is None:
                subs.sort()
            if subs:
                e["subresources"] = []
                for name, sub in subs:
                    if "group" in sub:
                        srk = {"group": sub["group"], "version": sub["version"],
                               "kind": sub["kind"]}
                    elif rt.crd is None:
                        srk = {"group": "", "version": "", "kind": sub["kind"]}
                    else:
                        srk = {"group": rt.group, "version": version, "kind": sub["kind"]}
                    e["subresources"].append({"subresource": name, "responseKind": srk,
                                              "verbs": list(sub["verbs"])})
            out.append(e)
        return out

    def aggregated(self, core):
        items = []
        if core:
            items.append({"metadata": {"creationTimestamp": None},
                          "versions": [{"version": "v1",
                                        "resources": self._agg_resources("", "v1"),
                                        "freshness": "Current"}]})
        else:
            for g in self.group_names():
                items.append({"metadata": {"name": g, "creationTimestamp": None},
                              "versions": [{"version": v,
                                            "resources": self._agg_resources(g, v),
                                            "freshness": "Current"}
                                           for v in self.versions_of(g)]})
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {}, "items": items}
