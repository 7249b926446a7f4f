#!/usr/bin/python3
"""make_seeds.py - (re)writes the hand-made seed corpus of test/fuzz/corpus/.

Realistic inputs (the config/samples objects, a kind-style kubeconfig, watch
streams as the API server sends them) plus tricky ones: events split across
lines of the stream, huge numbers, deep nesting, invalid UTF-8, truncated
YAML/JSON. Files that fuzzing found interesting are added to the corpus
folders by hand (named found-*), this script never deletes them.
Run: /usr/bin/python3 test/fuzz/make_seeds.py  (Debian's python3 + python3-yaml)."""
import json
import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def samples(kind):
    out = []
    for fn in sorted(os.listdir(os.path.join(ROOT, "config", "samples"))):
        if not fn.endswith(".yaml"):
            continue
        with open(os.path.join(ROOT, "config", "samples", fn)) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == kind:
                    out.append(doc)
    return out


def j(o):
    return json.dumps(o, separators=(",", ":"))


# ---------------- quantity / duration ----------------
quantities = ["250m", "1.5", "2Gi", "1e3", "0", "100Mi", "-1", "+5k", "0.1", "1E", "1Ei", "9223372036854775807",
              "999999999999999999", "1000000000000000000000", "0.0000000001", "1e-1000", "1e1000", "1e1001", "1.5Ki",
              "0.5Mi", "12345678901234567890123456789", "5e", "1i", ".5", "1..2", "--1", "1 ", "", "\xff\xfe",
              "8Ei", "7.99Ei", "1n", "1u", "1000000P", "0.000000001m", "123456789012345678m", "1e+18", "1E-9",
              "0e1000", "0Ki", "-0.0001n"]
for i, q in enumerate(quantities):
    put("quantity", "seed-%02d" % i, q.encode("utf-8", "surrogateescape") if q != "\xff\xfe" else b"\xff\xfe")
durations = ["15s", "2m30s", "1.5h", "250ms", "0", "1h0m1s", "100000h", "100001h", "0.0001ms", "1.999999999s",
             "99999999999999999999h", "5", "s", "1.s", ".5s", "-1s", "1us", "1m1m1m", "0s", "1h1h", "30m0.5s",
             "9223372036854775807ms", "1.5.5s", "", "1\xc3\x28s"]
for i, d in enumerate(durations):
    put("duration", "seed-%02d" % i, d.encode("latin-1"))

# ---------------- Status bodies (byte 0: HTTP code index, see status_fuzz.c) ----------------
status_bodies = [
    (6, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": "pods \"web-0\" not found", "reason": "NotFound",
         "details": {"name": "web-0", "kind": "pods"}, "code": 404}),
    (6 | 0x30, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "Operation cannot be fulfilled "
                "on servicebudgets.mbcas.io \"frontend\": the object has been modified; please apply your changes "
                "to the latest version and try again", "reason": "Conflict",
                "details": {"name": "frontend", "group": "mbcas.io", "kind": "servicebudgets"}, "code": 409}),
    (0, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
         "message": "too old resource version: 1 (2)", "reason": "Expired", "code": 410}),
    (9, {"kind": "Status", "status": "Failure", "message": "Too many requests", "reason": "TooManyRequests",
         "details": {"retryAfterSeconds": 3}, "code": 429}),
    (0, {"kind": "Status", "code": 1e300, "details": {"retryAfterSeconds": -5, "name": "x" * 600}}),
    (0, {"kind": "Status", "code": -410, "reason": "R" * 100, "message": "m" * 2000}),
    (10, {"kind": "NotStatus", "message": "a"}),
]
for i, (b0, body) in enumerate(status_bodies):
    put("status", "seed-%02d" % i, bytes([b0]) + j(body).encode())
put("status", "seed-html", b"\x0b<html><body>502 Bad Gateway</body></html>")
put("status", "seed-invalid-utf8", b"\x00{\"kind\":\"Status\",\"message\":\"\xff\xfe\xc3\x28\",\"reason\":\"\xe2\x82\"}")
put("status", "seed-truncated", b"\x07{\"kind\":\"Status\",\"reason\":\"Gone\",\"message\":\"abc")
put("status", "seed-deep", b"\x00" + b"[" * 2000 + b"]" * 2000)
put("status", "seed-nul", b"\x05{\"kind\":\"Status\",\x00\"reason\":\"x\"}")
put("status", "seed-empty", b"\x03")

# ---------------- ndjson (byte 0: max line/drain mode, byte 1: chunk seed) ----------------
ev = [j({"type": "ADDED", "object": {"kind": "Pod", "metadata": {"name": "web-%d" % k, "resourceVersion": str(100 + k)}}})
      for k in range(4)]
put("ndjson", "seed-events", b"\x00\x01" + ("\n".join(ev) + "\n").encode())
put("ndjson", "seed-crlf-empty", b"\x00\x07" + ("\r\n\r\n".join(ev) + "\r\n\n\n").encode())
put("ndjson", "seed-unfinished", b"\x10\x03" + ("\n".join(ev)).encode())
put("ndjson", "seed-small-max", b"\x04\x05" + b"short\n" + b"x" * 64 + b"\n" + b"y" * 65 + b"\nafter\n")
put("ndjson", "seed-max1-cr", b"\x01\x09" + b"a\r\nb\n\r\n\rc\n")
put("ndjson", "seed-max2-cr-split", b"\x02\x02" + b"ab\r\ncd\r\n")
put("ndjson", "seed-long-tail", b"\x05\x11" + b"ok\n" + b"z" * 700)
put("ndjson", "seed-binary", b"\x18\x00" + bytes(range(256)) + b"\n\xff\xfe\x00\n")
put("ndjson", "seed-newlines", b"\x08\x20" + b"\n" * 300)

# ---------------- watch (byte 0 flags, see watch_fuzz.c) ----------------
def evs(*events):
    return ("\n".join(j(e) for e in events) + "\n").encode()

pod = lambda n, rv: {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": n, "namespace": "shop", "resourceVersion": rv,
                                                                     "labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "250m"}}}]}}
stream = evs({"type": "ADDED", "object": pod("web-0", "101")},
             {"type": "MODIFIED", "object": pod("web-0", "102")},
             {"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "150"}}},
             {"type": "DELETED", "object": pod("web-0", "151")})
put("watch", "seed-events", b"\x10" + stream)
put("watch", "seed-gone", b"\x20" + evs({"type": "ADDED", "object": pod("a", "5")},
                                       {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                                    "message": "too old resource version: 5 (200)",
                                                                    "reason": "Expired", "code": 410}}) + stream)
put("watch", "seed-error-500", b"\x30" + evs({"type": "ERROR", "object": {"kind": "Status", "code": 500, "reason": "InternalError"}}) + stream)
put("watch", "seed-malformed", b"\x40" + b"{\"type\":\"ADDED\",\"object\":[]}\n{not json}\n{\"type\":7}\n" + stream)
put("watch", "seed-split-truncated", b"\x50" + stream + b"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"na")
put("watch", "seed-small-max", b"\x61" + stream)  # max line 128: pods are longer
put("watch", "seed-unknown-type", b"\x70" + evs({"type": "WHATEVER", "object": {}}, {"type": "ADDED", "object": {"metadata": {"resourceVersion": "9" * 300}}}))
page = j({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "77", "continue": "tok1"},
          "items": [pod("p-%d" % k, str(70 + k)) for k in range(3)]})
put("watch", "seed-fuzzed-page", b"\x8c" + page.encode() + b"\n" + stream)
put("watch", "seed-bad-page", b"\x94" + b"{\"kind\":\"PodList\",\"metadata\":{},\"items\":7}\n" + stream)
put("watch", "seed-html-page", b"\xa4" + b"<html>oops</html>\n" + stream)
put("watch", "seed-crlf", b"\xb0" + stream.replace(b"\n", b"\r\n"))

# ---------------- kubeconfig ----------------
kc = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    server: https://127.0.0.1:6443/
  name: kind-mbcas
- cluster:
    certificate-authority: ca.crt
    server: https://10.0.0.1
    tls-server-name: kubernetes.default
    proxy-url: http://proxy:3128
  name: other
contexts:
- context:
    cluster: kind-mbcas
    user: kind-mbcas
    namespace: shop
  name: kind-mbcas
- context:
    cluster: other
    user: exec-user
  name: other
- context:
    cluster: other
    user: file-user
  name: tokenfile
current-context: kind-mbcas
preferences: {}
users:
- name: kind-mbcas
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURJVENDQWdtZ0F3SUJBZ0lJCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFcEFJQkFBS0NBUUVBCi0tLS0tRU5EIFJTQSBQUklWQVRFIEtFWS0tLS0tCg==
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/get-token
      args: ["--cluster", "other"]
      env:
      - name: AWS_PROFILE
        value: dev
      - name: EMPTY
      provideClusterInfo: true
- name: file-user
  user:
    tokenFile: ./token
    username: admin
    password: secret
"""
put("kubeconfig", "seed-kind", kc)
put("kubeconfig", "seed-ctx-other", "#ctx:other\n" + kc)
put("kubeconfig", "seed-ctx-tokenfile", "#ctx:tokenfile\n" + kc)
put("kubeconfig", "seed-ctx-missing", "#ctx:nope\n" + kc)
put("kubeconfig", "seed-truncated", kc[: len(kc) // 2])
put("kubeconfig", "seed-truncated-2", kc[: 2 * len(kc) // 3 + 7])
put("kubeconfig", "seed-flow", j({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                                  "clusters": [{"name": "k", "cluster": {"server": "http://127.0.0.1:8080",
                                                                         "insecure-skip-tls-verify": "true"}}],
                                  "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                                  "users": [{"name": "u", "user": {"token": "abc.def"}}]}))
put("kubeconfig", "seed-no-user", "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: 'https://h:1///'}\n")
put("kubeconfig", "seed-bad-b64", "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: s, certificate-authority-data: '!!!'}\n")
put("kubeconfig", "seed-anchors", "base: &b {server: 'https://a'}\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\nclusters:\n- name: k\n  cluster: *b\n- name: k2\n  cluster: *b\n")
put("kubeconfig", "seed-deep", "current-context: c\na: " + "[" * 60 + "]" * 60 + "\n")
put("kubeconfig", "seed-not-mapping", "- a\n- b\n")
put("kubeconfig", "seed-invalid-utf8", b"current-context: \xff\xfe\nclusters: []\n")
put("kubeconfig", "seed-tags", "!!map\ncurrent-context: !!str c\nclusters: !!seq [ {name: k, cluster: {server: !!binary aGk=}} ]\ncontexts: [{name: c, context: {cluster: k, user: ~}}]\n")
put("kubeconfig", "seed-multidoc", "current-context: a\n---\ncurrent-context: b\n")
put("kubeconfig", "seed-empty", "")

# ---------------- CRDs ----------------
cond = {"type": "Ready", "status": "True", "observedGeneration": 3, "lastTransitionTime": "2026-11-23T18:59:12Z",
        "reason": "Cleared", "message": "market cleared"}
sb_status = {"conditions": [cond], "observedGeneration": 3, "demand": "0.8125", "demandTime": "2026-11-23T18:59:10Z",
             "podDemands": [{"pod": "frontend-7d9-abc", "demand": "0.9"}], "bid": "243.75", "budgetShare": "0.3",
             "allocationShare": "0.2812", "cpu": "1500m",
             "allocations": [{"pod": "frontend-7d9-abc", "node": "worker-1", "cpu": "750m", "previous": "500m", "outcome": "Applied"}],
             "currentReplicas": 2, "desiredReplicas": 3,
             "lastDecision": {"id": "c-000042", "time": "2026-11-23T18:59:12Z", "reason": "demand 0.81 above 0.8", "outcome": "Applied"},
             "history": [{"id": "c-000042", "time": "2026-11-23T18:59:12Z", "cpu": "1500m", "replicas": 3, "outcome": "Applied", "reason": "r"}]}
sm_status = {"conditions": [cond], "observedGeneration": 1, "lastClearingTime": "2026-11-23T18:59:12Z",
             "lastClearingDuration": "3.2ms", "lastDecisionID": "c-000042", "nodeCount": 2, "participants": 3,
             "contendedNodes": 1, "fairness": "0.973",
             "nodes": [{"name": "worker-1", "capacity": "4", "allocated": "3500m", "price": "1.25", "contended": True, "participants": 3}],
             "nodesOmitted": 0}
ap_status = {"conditions": [cond], "observedGeneration": 2, "lastEvaluationTime": "2026-11-23T18:59:12Z",
             "signalCount": 2, "healthySignals": 1,
             "signals": [{"name": "cpu", "healthy": True, "lastValue": "0.62", "lastTime": "2026-11-23T18:59:12Z"},
                         {"name": "p99-latency", "healthy": False, "lastError": "prometheus: connection refused"}]}
for target, kind, st in (("servicebudget", "ServiceBudget", sb_status), ("scalingmarket", "ScalingMarket", sm_status),
                         ("agentpolicy", "AgentPolicy", ap_status)):
    objs = samples(kind)
    for i, o in enumerate(objs):
        o.setdefault("metadata", {}).update({"uid": "0b6f6b7e-1c1a-4f5e-9a57-%012d" % i, "generation": 3,
                                             "resourceVersion": "1234", "creationTimestamp": "2026-11-23T18:00:00Z"})
        put(target, "seed-sample-%d" % i, j(o))
        o2 = dict(o)
        o2["status"] = st
        put(target, "seed-status-%d" % i, json.dumps(o2, indent=1))
    o = objs[0]
    put(target, "seed-truncated", j(dict(o, status=st))[:300])
    put(target, "seed-status-only", j({"status": st}))
    put(target, "seed-empty-object", "{}")
    put(target, "seed-huge-numbers", j(o).replace('"generation":3', '"generation":1e308').replace(
        '"1234"', '"99999999999999999999999999"'))
    put(target, "seed-deep", '{"apiVersion":"mbcas.io/v1alpha1","kind":"%s","metadata":{"name":"x"},"spec":' % kind
        + '{"a":' * 900 + "1" + "}" * 900 + "}")
    bad = dict(o)
    bad["metadata"] = dict(o["metadata"], name="\udcff\udcfe")
    put(target, "seed-invalid-utf8", json.dumps(bad, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    put(target, "seed-wrong-types", j({"apiVersion": 1, "kind": [], "metadata": "x", "spec": [], "status": 5}))
    bigst = json.loads(j(st))
    for k, v in list(bigst.items()):
        if isinstance(v, list) and v:
            bigst[k] = v * 101
    put(target, "seed-status-over-max", j(dict(o, status=bigst)))
put("servicebudget", "seed-budget-huge", j(dict(samples("ServiceBudget")[0], spec=dict(samples("ServiceBudget")[0]["spec"], budget=1e30))))
put("servicebudget", "seed-cpu-quantities", j(dict(samples("ServiceBudget")[0], spec=dict(samples("ServiceBudget")[0]["spec"], cpu={"min": "1e-1000", "max": "8Ei"}))))
print("seeds written to", CORPUS)
