"""RBAC authorizer over the Role/ClusterRole/RoleBinding/ClusterRoleBinding objects in the store.

Users in group system:masters bypass. Non-resource URLs for discovery, OpenAPI and health are
open to authenticated users (system:discovery / system:public-info-viewer defaults)."""

from store import ApiError

RBAC = "rbac.authorization.k8s.io"
DISCOVERY_PATHS = ("/api", "/apis", "/openapi", "/version", "/healthz", "/livez", "/readyz")
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")


class User:
    def __init__(self, name, groups, sa=None):
        self.name = name
        self.groups = list(groups)
        self.sa = sa  # (namespace, name) for service accounts

    @property
    def admin(self):
        return "system:masters" in self.groups


def _match(values, want):
    return "*" in values or want in values


def _rule_allows(rule, verb, group, resource, sub, name):
    if not _match(rule.get("verbs") or [], verb):
        return False
    if not _match(rule.get("apiGroups") or [], group):
        return False
    res = rule.get("resources") or []
    full = resource + ("/" + sub if sub else "")
    ok = "*" in res or full in res or (sub and ("*/" + sub) in res) or \
        (not sub and resource in res) or (sub and (resource + "/*") in res)
    if not ok:
        return False
    names = rule.get("resourceNames") or []
    if names and name not in names:
        return False
    return True


def _nonresource_allows(rule, verb, path):
    if not _match(rule.get("verbs") or [], verb):
        return False
    for u in rule.get("nonResourceURLs") or []:
        if u == "*" or u == path or (u.endswith("*") and path.startswith(u[:-1])):
            return True
    return False


def _subject_matches(subj, user, binding_ns):
    kind = subj.get("kind")
    if kind == "User":
        return subj.get("name") == user.name
    if kind == "Group":
        return subj.get("name") in user.groups
    if kind == "ServiceAccount" and user.sa:
        return (subj.get("namespace") or binding_ns, subj.get("name")) == user.sa
    return False


class Authorizer:
    def __init__(self, store):
        self.store = store

    def _rules(self, ref, ns):
        if ref.get("kind") == "ClusterRole":
            r = self.store.get_ref((RBAC, "clusterroles"), "", ref.get("name"))
        else:
            r = self.store.get_ref((RBAC, "roles"), ns, ref.get("name"))
        return (r or {}).get("rules") or []

    def _all_rules(self, user, ns):
        rules = []
        for b in self.store.list_refs((RBAC, "clusterrolebindings")):
            if any(_subject_matches(s, user, "") for s in b.get("subjects") or []):
                rules.extend(self._rules(b.get("roleRef") or {}, ""))
        if ns:
            for b in self.store.list_refs((RBAC, "rolebindings"), ns):
                if any(_subject_matches(s, user, ns) for s in b.get("subjects") or []):
                    rules.extend(self._rules(b.get("roleRef") or {}, ns))
        return rules

    def allowed(self, user, verb, group, resource, sub, ns, name):
        if user.admin:
            return True
        with self.store.lock:
            for rule in self._all_rules(user, ns):
                if _rule_allows(rule, verb, group, resource, sub, name):
                    return True
        return False

    def allowed_path(self, user, verb, path):
        if user.admin:
            return True
        if path.startswith(PUBLIC_PATHS):
            return True
        if "system:authenticated" in user.groups and path.startswith(DISCOVERY_PATHS):
            return True
        with self.store.lock:
            for rule in self._all_rules(user, ""):
                if _nonresource_allows(rule, verb, path):
                    return True
        return False

    def check(self, user, verb, group, resource, sub, ns, name):
        if self.allowed(user, verb, group, resource, sub, ns, name):
            return
        full = resource + ("/" + sub if sub else "")
        qual = resource if not group else "%s.%s" % (resource, group)
        head = '%s "%s"' % (qual, name) if name else qual
        where = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
        msg = '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
            head, user.name, verb, full, group, where)
        details = {}
        if name:
            details["name"] = name
        if group:
            details["group"] = group
        details["kind"] = resource
        raise ApiError(403, "Forbidden", msg, details)

    def check_path(self, user, verb, path):
        if self.allowed_path(user, verb, path):
            return
        raise ApiError(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s"'
                       % (user.name, verb, path), {})
