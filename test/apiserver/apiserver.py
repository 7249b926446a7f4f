#!/usr/bin/python3
"""MBCAS Kubernetes API-server emulator (test/apiserver).

Usage: apiserver.py [--port N] [--dir DIR] [--scenario FILE] [--no-cluster] [--fault SPEC]...
                    [--history N] [--bookmark-interval S]

Writes into DIR: ca.crt, admin.token, client.crt, client.key, kubeconfig, port and, last, ready.
ServiceAccount tokens appear as DIR/tokens/NAMESPACE.NAME.token. See docs/testing.md.
"""

import argparse
import base64
import os
import secrets
import shutil
import signal
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import certs  # noqa: E402
import faults as faultsmod  # noqa: E402
import scenario as scenariomod  # noqa: E402
from server import App, Request, make_server  # noqa: E402
from store import ApiError, Store  # noqa: E402

DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]


def _write(path, data, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def kubeconfig(port, ca_pem, token, client_crt, client_key):
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return """apiVersion: v1
kind: Config
clusters:
- name: mbcas-emulator
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority-data: %s
users:
- name: mbcas-admin
  user:
    token: %s
- name: mbcas-admin-cert
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: mbcas-emulator
  context:
    cluster: mbcas-emulator
    user: mbcas-admin
    namespace: default
- name: cert
  context:
    cluster: mbcas-emulator
    user: mbcas-admin-cert
    namespace: default
current-context: mbcas-emulator
""" % (port, b64(ca_pem), token, b64(client_crt), b64(client_key))


class Emulator:
    """The whole emulator in one object (also used in-process by tests)."""

    def __init__(self, state_dir, port=0, scenario=None, cluster_on=True, faults=(),
                 history=10000, bookmark_interval=60.0, quiet=False):
        self.dir = os.path.abspath(state_dir)
        os.makedirs(self.dir, exist_ok=True)
        for f in ("ready", "port"):
            try:
                os.unlink(os.path.join(self.dir, f))
            except OSError:
                pass
        shutil.rmtree(os.path.join(self.dir, "tokens"), ignore_errors=True)
        self.quiet = quiet
        self.scenario = scenario if isinstance(scenario, dict) else scenariomod.load(scenario)
        self.store = Store(history=history)
        self.cluster = None
        self.app = App(self.store, self.dir, bookmark_interval=bookmark_interval)
        self.admin_token = "admin-" + secrets.token_hex(24)
        self.app.set_admin_token(self.admin_token)
        pki = os.path.join(self.dir, "pki")
        certs.generate(pki)
        for f in ("ca.crt", "client.crt", "client.key"):
            shutil.copy(os.path.join(pki, f), os.path.join(self.dir, f))
        os.chmod(os.path.join(self.dir, "client.key"), 0o600)
        _write(os.path.join(self.dir, "admin.token"), self.admin_token, 0o600)
        self.port = port
        self.cluster_on = cluster_on
        self.faults = list(faults)
        self.srv = None
        self.thread = None

    # ------------------------------------------------------------------ objects
    def resolve(self, obj):
        api = obj.get("apiVersion", "")
        group, _, version = api.rpartition("/")
        for rt in self.store.types():
            if rt.group == group and rt.kind == obj.get("kind") and version in rt.versions:
                return rt, version
        raise ValueError("no resource for %s %s" % (api, obj.get("kind")))

    def request(self, method, path, body=None, ctype="application/json", query=None):
        headers = {"Authorization": "Bearer " + self.admin_token, "Content-Type": ctype,
                   "User-Agent": "mbcas-scenario/1"}
        req = Request(method, path, query or {}, headers, b"")
        if body is not None:
            req.obj = body
            req.body = b"{}"
        return self.app.handle(req)

    def create(self, obj):
        rt, version = self.resolve(obj)
        base = "/api/%s" % version if not rt.group else "/apis/%s/%s" % (rt.group, version)
        if rt.namespaced:
            ns = obj.get("metadata", {}).get("namespace") or "default"
            base += "/namespaces/" + urllib.parse.quote(ns)
        resp = self.request("POST", base + "/" + rt.resource, obj)
        if resp.status >= 300:
            raise ApiError(resp.status, resp.body.get("reason", ""), resp.body.get("message", ""))
        return resp.body

    def load_scenario(self):
        sc = self.scenario
        for ns in DEFAULT_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": {"name": "cluster-admin"},
                     "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                               {"nonResourceURLs": ["*"], "verbs": ["*"]}]})
        # like the real bootstrap policy: every authenticated user may review itself
        self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": {"name": "system:basic-user"},
                     "rules": [{"apiGroups": ["authorization.k8s.io"],
                                "resources": ["selfsubjectaccessreviews",
                                              "selfsubjectrulesreviews"], "verbs": ["create"]},
                               {"apiGroups": ["authentication.k8s.io"],
                                "resources": ["selfsubjectreviews"], "verbs": ["create"]}]})
        self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                     "metadata": {"name": "system:basic-user"},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                 "name": "system:basic-user"},
                     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                   "name": "system:authenticated"}]})
        self.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                     "metadata": {"name": "cluster-admin"},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                 "name": "cluster-admin"},
                     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                   "name": "system:masters"}]})
        for ns in scenariomod.namespaces(sc):
            if ns["metadata"]["name"] not in DEFAULT_NAMESPACES:
                self.create(ns)
        for sa in scenariomod.service_accounts(sc):
            try:
                self.create(sa)
            except ApiError as e:
                if e.code != 409:
                    raise
        crds, rest = scenariomod.objects(sc)
        for o in crds:
            self.create(o)
        for o in rest:
            self.create(o)
        for f in sc.get("faults") or []:
            self.app.faults.add(f)
        for f in self.faults:
            self.app.faults.add(faultsmod.parse_spec(f) if isinstance(f, str) else f)

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        self.srv = make_server(self.app, self.port,
                               os.path.join(self.dir, "pki", "server.crt"),
                               os.path.join(self.dir, "pki", "server.key"),
                               os.path.join(self.dir, "pki", "ca.crt"))
        self.port = self.app.port
        if self.cluster_on:
            try:
                import cluster
            except ImportError as e:
                print("apiserver: simulated cluster unavailable (%s); running without it" % e,
                      file=sys.stderr, flush=True)
                cluster = None
            if cluster is not None:
                opts = {"dir": self.dir, "port": self.port}
                self.cluster = cluster.Cluster(self.store, self.scenario, opts)
                self.app.cluster = self.cluster
                self.app.discovery.metrics = True
        self.load_scenario()
        if self.cluster is not None:
            self.cluster.start()
        with open(os.path.join(self.dir, "pki", "ca.crt"), "rb") as f:
            ca = f.read()
        with open(os.path.join(self.dir, "client.crt"), "rb") as f:
            ccrt = f.read()
        with open(os.path.join(self.dir, "client.key"), "rb") as f:
            ckey = f.read()
        _write(os.path.join(self.dir, "kubeconfig"),
               kubeconfig(self.port, ca, self.admin_token, ccrt, ckey), 0o600)
        _write(os.path.join(self.dir, "port"), "%d\n" % self.port)
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()
        _write(os.path.join(self.dir, "ready"), "%d\n" % self.port)
        return self

    def stop(self):
        try:
            os.unlink(os.path.join(self.dir, "ready"))
        except OSError:
            pass
        self.app.stopping.set()
        self.store.close_all_watchers()
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()
        if self.cluster is not None:
            self.cluster.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description="MBCAS Kubernetes API-server emulator")
    ap.add_argument("--port", type=int, default=0, help="listen port (0 = pick a free one)")
    ap.add_argument("--dir", default=".run/apiserver", help="state directory")
    ap.add_argument("--scenario", help="scenario file (YAML or JSON)")
    ap.add_argument("--no-cluster", action="store_true", help="disable the simulated cluster")
    ap.add_argument("--fault", action="append", default=[], help="fault spec (JSON or k=v,...)")
    ap.add_argument("--history", type=int, default=10000, help="watch event history size")
    ap.add_argument("--bookmark-interval", type=float, default=60.0,
                    help="seconds between periodic watch bookmarks")
    a = ap.parse_args(argv)
    emu = Emulator(a.dir, a.port, a.scenario, not a.no_cluster, a.fault, a.history,
                   a.bookmark_interval)
    done = threading.Event()

    def on_signal(_sig, _frm):
        done.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emu.start()
    print("apiserver: listening on https://127.0.0.1:%d (state in %s)" % (emu.port, emu.dir),
          flush=True)
    while not done.wait(1.0):
        pass
    emu.stop()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip tearing down a possibly huge heap object by object


if __name__ == "__main__":
    sys.exit(main())
