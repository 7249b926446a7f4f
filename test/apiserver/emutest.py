"""Helpers for tests that drive the emulator: start it as a subprocess, talk HTTPS to it,
run kubectl 1.33 against it.

    with Emu(scenario=..., cluster=False) as emu:
        st, hdrs, body = emu.req("GET", "/api/v1/namespaces")
        out = emu.kubectl("get", "pods")
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("MBCAS_PYTHON") or "/usr/bin/python3"


def find_kubectl():
    k = os.environ.get("KUBECTL")
    if k and os.path.exists(k):
        return k
    base = shutil.which("kubectl")
    if base:
        cand = os.path.join(os.path.dirname(os.path.realpath(base)), "kubectl.1.33")
        if os.path.exists(cand):
            return cand
    return None


class Emu:
    def __init__(self, scenario=None, cluster=False, args=(), keep_dir=False):
        self.tmp = tempfile.mkdtemp(prefix="mbcas-emu-")
        self.dir = os.path.join(self.tmp, "state")
        self.scenario = scenario
        self.cluster = cluster
        self.args = list(args)
        self.keep = keep_dir
        self.proc = None
        self.kubectl_bin = find_kubectl()

    def start(self):
        cmd = [PYTHON, os.path.join(HERE, "apiserver.py"), "--dir", self.dir, "--port", "0"]
        if self.scenario is not None:
            path = self.scenario
            if isinstance(self.scenario, dict):
                path = os.path.join(self.tmp, "scenario.json")
                with open(path, "w") as f:
                    json.dump(self.scenario, f)
            cmd += ["--scenario", path]
        if not self.cluster:
            cmd.append("--no-cluster")
        cmd += self.args
        self.log = open(os.path.join(self.tmp, "apiserver.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        ready = os.path.join(self.dir, "ready")
        for _ in range(600):
            if os.path.exists(ready):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited: " + self.logtext())
            time.sleep(0.05)
        else:
            raise RuntimeError("emulator not ready: " + self.logtext())
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read())
        with open(os.path.join(self.dir, "admin.token")) as f:
            self.token = f.read().strip()
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))
        return self

    def logtext(self):
        try:
            with open(os.path.join(self.tmp, "apiserver.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ HTTP
    def conn(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                           timeout=timeout)

    def req(self, method, path, body=None, query=None, headers=None, token="admin",
            ctype="application/json", raw=False, timeout=30):
        """-> (status, headers(list of pairs), body) ; body parsed JSON unless raw."""
        h = {"User-Agent": "curl/8.5.0", "Accept": "*/*"}
        if token == "admin":
            h["Authorization"] = "Bearer " + self.token
        elif token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            h["Content-Type"] = ctype
        if headers:
            h.update(headers)
        url = urllib.parse.quote(path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        c = self.conn(timeout)
        try:
            c.request(method, url, body=data, headers=h)
            r = c.getresponse()
            data = r.read()
            hdrs = r.getheaders()
            status = r.status
        finally:
            c.close()
        if raw:
            return status, hdrs, data
        try:
            return status, hdrs, json.loads(data) if data else None
        except ValueError:
            return status, hdrs, data.decode(errors="replace")

    def watch_lines(self, path, query, token="admin", headers=None, timeout=30,
                    on_open=None):
        """Run a watch to completion; -> (status, headers, [events])."""
        h = {"User-Agent": "curl/8.5.0", "Accept": "*/*"}
        if token:
            h["Authorization"] = "Bearer " + (self.token if token == "admin" else token)
        if headers:
            h.update(headers)
        c = self.conn(timeout)
        try:
            c.request("GET", path + "?" + urllib.parse.urlencode(query), headers=h)
            r = c.getresponse()
            if on_open:
                on_open()
            events = []
            while True:
                line = r.readline()
                if not line:
                    break
                if line.strip():
                    events.append(json.loads(line))
            return r.status, r.getheaders(), events
        finally:
            c.close()

    def token_of(self, ns, name):
        p = os.path.join(self.dir, "tokens", "%s.%s.token" % (ns, name))
        for _ in range(100):
            if os.path.exists(p):
                with open(p) as f:
                    return f.read().strip()
            time.sleep(0.05)
        raise RuntimeError("no token for %s/%s" % (ns, name))

    # ------------------------------------------------------------------ kubectl
    def kubectl(self, *args, check=True, input=None, timeout=60, context=None, env=None):
        if self.kubectl_bin is None:
            raise RuntimeError("kubectl 1.33 not found (set KUBECTL)")
        cache = os.path.join(self.tmp, "kcache")
        cmd = [self.kubectl_bin, "--kubeconfig", os.path.join(self.dir, "kubeconfig"),
               "--cache-dir", cache]
        if context:
            cmd += ["--context", context]
        cmd += list(args)
        e = dict(os.environ)
        e.pop("KUBECONFIG", None)
        if env:
            e.update(env)
        p = subprocess.run(cmd, capture_output=True, text=True, input=input, timeout=timeout,
                           env=e)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s\n%s" % (" ".join(args),
                                                                      p.returncode, p.stdout,
                                                                      p.stderr))
        return p


def header(hdrs, name):
    vals = [v for (k, v) in hdrs if k.lower() == name.lower()]
    if not vals:
        return None
    return vals[0] if len(vals) == 1 else vals


def skip_without_kubectl():
    if find_kubectl() is None:
        print("SKIP: kubectl 1.33 not found")
        sys.exit(0)
