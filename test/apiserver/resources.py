"""Resource type registry of the API-server emulator.

A ResourceType describes one served resource: its store key ``(group, resource)``,
version(s), kind, scope, short names, subresources and the few per-type semantic
switches the store needs (does a write bump ``metadata.generation``? may a PUT omit
``metadata.resourceVersion``? does the type have a status subresource?).

Built-in types are listed in ``builtin_types()``; custom resources get a ResourceType
built from their CustomResourceDefinition by ``from_crd()``.
"""

STD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CRD_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]


class ResourceType:
    def __init__(self, group, version, resource, kind, namespaced=True, singular=None,
                 short_names=None, categories=None, verbs=None, subresources=None,
                 generation=False, unconditional_update=True, status_subresource=False,
                 scale=None, crd=None, versions=None, list_kind=None):
        self.group = group
        self.version = version            # preferred / storage version
        self.versions = versions or [version]
        self.resource = resource
        self.kind = kind
        self.list_kind = list_kind or (kind + "List")
        self.namespaced = namespaced
        self.singular = singular if singular is not None else kind.lower()
        self.short_names = short_names or []
        self.categories = categories or []
        self.verbs = verbs or list(STD_VERBS)
        # subresource name -> dict(kind=..., group=..., version=..., verbs=[...])
        self.subresources = subresources or {}
        self.generation = generation
        self.unconditional_update = unconditional_update
        self.status_subresource = status_subresource
        # scale: dict(spec=".spec.replicas", status=".status.replicas", selector=".status.selector"|None)
        self.scale = scale
        self.crd = crd                    # the CRD object (dict) for custom resources
        self.builtin = crd is None

    @property
    def key(self):
        return (self.group, self.resource)

    @property
    def api_version(self):
        return self.version if not self.group else "%s/%s" % (self.group, self.version)

    def qualified(self):
        """'widgets.example.test' or 'pods' (as used in error messages)."""
        return self.resource if not self.group else "%s.%s" % (self.resource, self.group)

    def __repr__(self):
        return "ResourceType(%s/%s %s)" % (self.group, self.version, self.resource)


def _sub(kind, verbs, group=None, version=None):
    d = {"kind": kind, "verbs": verbs}
    if group is not None:
        d["group"] = group
        d["version"] = version
    return d


STATUS_VERBS = ["get", "patch", "update"]
SCALE_SUB = _sub("Scale", ["get", "patch", "update"], "autoscaling", "v1")


def builtin_types():
    T = ResourceType
    return [
        T("", "v1", "namespaces", "Namespace", namespaced=False, short_names=["ns"],
          verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
          subresources={"status": _sub("Namespace", STATUS_VERBS),
                        "finalize": _sub("Namespace", ["update"])}, status_subresource=True),
        T("", "v1", "nodes", "Node", namespaced=False, short_names=["no"],
          subresources={"status": _sub("Node", STATUS_VERBS),
                        "proxy": _sub("NodeProxyOptions", ["create", "delete", "get", "patch", "update"])},
          status_subresource=True),
        T("", "v1", "pods", "Pod", short_names=["po"], categories=["all"], generation=True,
          subresources={"status": _sub("Pod", STATUS_VERBS),
                        "resize": _sub("Pod", STATUS_VERBS),
                        "binding": _sub("Binding", ["create"]),
                        "eviction": _sub("Eviction", ["create"], "policy", "v1"),
                        "log": _sub("Pod", ["get"]),
                        "proxy": _sub("PodProxyOptions", ["create", "delete", "get", "patch", "update"])},
          status_subresource=True),
        T("", "v1", "events", "Event", short_names=["ev"]),
        T("", "v1", "configmaps", "ConfigMap", short_names=["cm"]),
        T("", "v1", "secrets", "Secret"),
        T("", "v1", "serviceaccounts", "ServiceAccount", short_names=["sa"],
          subresources={"token": _sub("TokenRequest", ["create"], "authentication.k8s.io", "v1")}),
        T("", "v1", "services", "Service", short_names=["svc"], categories=["all"],
          subresources={"status": _sub("Service", STATUS_VERBS)}, status_subresource=True),
        T("", "v1", "endpoints", "Endpoints", short_names=["ep"]),
        T("apps", "v1", "deployments", "Deployment", short_names=["deploy"], categories=["all"],
          generation=True, status_subresource=True,
          subresources={"scale": SCALE_SUB, "status": _sub("Deployment", STATUS_VERBS)},
          scale={"spec": ".spec.replicas", "status": ".status.replicas", "selector": "builtin"}),
        T("apps", "v1", "replicasets", "ReplicaSet", short_names=["rs"], categories=["all"],
          generation=True, status_subresource=True,
          subresources={"scale": SCALE_SUB, "status": _sub("ReplicaSet", STATUS_VERBS)},
          scale={"spec": ".spec.replicas", "status": ".status.replicas", "selector": "builtin"}),
        T("apps", "v1", "statefulsets", "StatefulSet", short_names=["sts"], categories=["all"],
          generation=True, status_subresource=True,
          subresources={"scale": SCALE_SUB, "status": _sub("StatefulSet", STATUS_VERBS)},
          scale={"spec": ".spec.replicas", "status": ".status.replicas", "selector": "builtin"}),
        T("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
          short_names=["hpa"], categories=["all"], generation=False, status_subresource=True,
          versions=["v2", "v1"],
          subresources={"status": _sub("HorizontalPodAutoscaler", STATUS_VERBS)}),
        T("coordination.k8s.io", "v1", "leases", "Lease"),
        T("events.k8s.io", "v1", "events", "Event", short_names=["ev"]),
        T("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
        T("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
          namespaced=False),
        T("rbac.authorization.k8s.io", "v1", "roles", "Role"),
        T("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
        T("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
          namespaced=False, verbs=["create"]),
        T("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview",
          namespaced=False, verbs=["create"]),
        T("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview",
          namespaced=False, verbs=["create"]),
        T("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          namespaced=False, short_names=["crd", "crds"], categories=["api-extensions"],
          generation=True, status_subresource=True,
          subresources={"status": _sub("CustomResourceDefinition", STATUS_VERBS)}),
    ]


def from_crd(crd):
    """Build the ResourceTypes (one per served version share one key) of a CRD object."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    served = [v for v in spec.get("versions", []) if v.get("served", True)]
    if not served:
        return None
    storage = next((v for v in served if v.get("storage")), served[0])
    subs = storage.get("subresources") or {}
    subresources = {}
    scale = None
    if "status" in subs:
        subresources["status"] = _sub(names.get("kind"), STATUS_VERBS)
    if "scale" in subs:
        sc = subs["scale"] or {}
        subresources["scale"] = dict(SCALE_SUB)
        scale = {"spec": sc.get("specReplicasPath", ".spec.replicas"),
                 "status": sc.get("statusReplicasPath", ".status.replicas"),
                 "selector": sc.get("labelSelectorPath")}
    rt = ResourceType(spec.get("group"), storage["name"], names.get("plural"), names.get("kind"),
                      namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                      singular=names.get("singular") or names.get("kind", "").lower(),
                      short_names=names.get("shortNames"), categories=names.get("categories"),
                      verbs=list(CRD_VERBS), subresources=subresources, generation=True,
                      unconditional_update=False, status_subresource="status" in subs,
                      scale=scale, crd=crd, versions=[v["name"] for v in served],
                      list_kind=names.get("listKind"))
    return rt


def crd_version(crd, version):
    for v in crd.get("spec", {}).get("versions", []):
        if v.get("name") == version:
            return v
    return None
