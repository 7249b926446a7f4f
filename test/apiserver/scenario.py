"""Scenario files (YAML or JSON).

Top-level keys handled here:
  namespaces:      [name | Namespace object, ...]
  serviceAccounts: ["ns/name" | {namespace, name}, ...]   (tokens land in DIR/tokens/)
  objects:         [any Kubernetes object: CRDs first is not required, they are applied
                    in order but CRDs are created before the rest]
  faults:          [fault object, ...]   (see faults.py)
Keys nodes, workloads, settings belong to the simulated cluster (cluster.py).
"""

import json
import os


def load(path):
    if path is None:
        return {}
    with open(path) as f:
        text = f.read()
    if path.endswith(".json"):
        data = json.loads(text)
    else:
        try:
            import yaml
        except ImportError:  # pragma: no cover - python3-yaml is a project dependency
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("%s: a scenario must be a mapping" % path)
    data.setdefault("_path", os.path.abspath(path))
    return data


def namespaces(sc):
    out = []
    for n in sc.get("namespaces") or []:
        if isinstance(n, str):
            out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})
        else:
            out.append(n)
    return out


def service_accounts(sc):
    out = []
    for s in sc.get("serviceAccounts") or []:
        if isinstance(s, str):
            ns, _, name = s.rpartition("/")
            ns = ns or "default"
        else:
            ns, name = s.get("namespace", "default"), s["name"]
        out.append({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": name, "namespace": ns}})
    return out


def objects(sc):
    objs = list(sc.get("objects") or [])
    crds = [o for o in objs if o.get("kind") == "CustomResourceDefinition"]
    rest = [o for o in objs if o.get("kind") != "CustomResourceDefinition"]
    return crds, rest
