"""Fault injection.

A fault is a JSON object (or `key=value,key=value` on the command line) with:
  status: HTTP code to answer instead of serving (429, 500, 503, ...); retryAfter: seconds
          (429/503 get a Retry-After header); count: how many requests it hits (default: all)
  latencyMs: delay added before serving each matching request
  conflictFraction: fraction (0..1) of matching writes (PUT/PATCH/POST... on existing names)
          answered with 409 Conflict
  dropWatches: true -> close every open watch now; with count N also close the next N watches
          right after they start (their initial events are sent first)
  expireResourceVersions: true -> forget the watch history now (every older resourceVersion
          gets 410 Expired on watch); with "every": S seconds, repeats
  path: only requests whose path contains this substring (or matches it as a regex when
        it starts with ^); verb: only this HTTP method (GET/POST/PUT/PATCH/DELETE) or
        Kubernetes verb (get/list/watch/create/update/patch/delete/deletecollection)
Runtime: POST /_emulator/faults (admin token) with one fault object or a list; GET lists the
active faults; DELETE clears them all.
"""

import json
import random
import re
import threading
import time

from store import ApiError

KNOWN = {"status", "retryAfter", "count", "latencyMs", "conflictFraction", "dropWatches",
         "expireResourceVersions", "path", "verb", "every", "message"}


def parse_spec(spec):
    spec = spec.strip()
    if spec.startswith("{") or spec.startswith("["):
        return json.loads(spec)
    out = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        k, _, v = part.partition("=")
        k, v = k.strip(), v.strip()
        if v.lower() in ("true", "false"):
            out[k] = v.lower() == "true"
        else:
            try:
                out[k] = int(v)
            except ValueError:
                try:
                    out[k] = float(v)
                except ValueError:
                    out[k] = v
    return out


class Faults:
    def __init__(self, store, rng=None):
        self.store = store
        self.lock = threading.Lock()
        self.rules = []
        self.rng = rng or random.Random(1)
        self.drop_new_watches = 0
        self.watch_epoch = 0
        self._expiry_thread = None

    def add(self, fault):
        faults = fault if isinstance(fault, list) else [fault]
        for f in faults:
            if not isinstance(f, dict):
                raise ApiError(400, "BadRequest", "a fault must be a JSON object")
            unknown = set(f) - KNOWN
            if unknown:
                raise ApiError(400, "BadRequest", "unknown fault field(s): %s"
                               % ", ".join(sorted(unknown)))
            f = dict(f)
            if f.get("dropWatches"):
                with self.lock:
                    self.watch_epoch += 1
                    self.drop_new_watches += int(f.get("count", 0) or 0)
                self.store.close_all_watchers()
                f.pop("dropWatches")
                f.pop("count", None)
            if f.get("expireResourceVersions"):
                self.store.compact()
                if f.get("every"):
                    self._start_expiry(float(f["every"]))
                f.pop("expireResourceVersions")
                f.pop("every", None)
            if any(k in f for k in ("status", "latencyMs", "conflictFraction")):
                with self.lock:
                    self.rules.append(f)

    def _start_expiry(self, every):
        def loop():
            while self._expiry_every:
                time.sleep(self._expiry_every)
                if self._expiry_every:
                    self.store.compact()
        self._expiry_every = every
        if self._expiry_thread is None:
            self._expiry_thread = threading.Thread(target=loop, daemon=True)
            self._expiry_thread.start()

    def clear(self):
        with self.lock:
            self.rules = []
            self.drop_new_watches = 0
        self._expiry_every = 0

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    @staticmethod
    def _matches(rule, method, verb, path):
        p = rule.get("path")
        if p:
            if p.startswith("^"):
                if not re.search(p, path):
                    return False
            elif p not in path:
                return False
        v = rule.get("verb")
        if v and v not in (method, verb):
            return False
        return True

    def before(self, method, verb, path, write_target=None):
        """Called for every API request; sleeps or raises ApiError as configured."""
        delay = 0
        err = None
        with self.lock:
            for rule in list(self.rules):
                if not self._matches(rule, method, verb, path):
                    continue
                if rule.get("latencyMs"):
                    delay += rule["latencyMs"] / 1000.0
                if "status" in rule and err is None:
                    err = self._error(rule)
                    if "count" in rule:
                        rule["count"] -= 1
                        if rule["count"] <= 0:
                            self.rules.remove(rule)
                            continue
                if rule.get("conflictFraction") and write_target and err is None:
                    if self.rng.random() < rule["conflictFraction"]:
                        key, name = write_target
                        from store import conflict
                        err = conflict(key, name)
        if delay:
            time.sleep(delay)
        if err is not None:
            raise err

    @staticmethod
    def _error(rule):
        code = int(rule["status"])
        headers = {}
        details = None
        if rule.get("retryAfter") is not None:
            headers["Retry-After"] = str(int(rule["retryAfter"]))
            details = {"retryAfterSeconds": int(rule["retryAfter"])}
        if code == 429:
            e = ApiError(429, "TooManyRequests", rule.get("message") or
                         "Too many requests, please try again later.", details, headers)
        elif code == 503:
            e = ApiError(503, "ServiceUnavailable", rule.get("message") or
                         "the server is currently unable to handle the request", details, headers)
        elif code == 500:
            e = ApiError(500, "InternalError", rule.get("message") or
                         "Internal error occurred: injected fault", details, headers)
        elif code == 504:
            e = ApiError(504, "Timeout", rule.get("message") or
                         "the server was unable to return a response in the time allotted",
                         details, headers)
        else:
            e = ApiError(code, "InternalError" if code >= 500 else "BadRequest",
                         rule.get("message") or "injected fault", details, headers)
        return e

    def take_watch_drop(self):
        with self.lock:
            if self.drop_new_watches > 0:
                self.drop_new_watches -= 1
                return True
            return False
