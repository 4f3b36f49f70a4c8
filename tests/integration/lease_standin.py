"""A stand-in for the Kubernetes API server's coordination.k8s.io/v1 Lease endpoints and its
core/v1 events endpoints.

Runs in the test process (a thread), over HTTPS on 127.0.0.1 only, with a certificate signed by
a certificate authority made at test time with the `openssl` command. It is strict where the
real API server is:

- bearer tokens: a request without one of the accepted tokens is 401 (tokens map to names, so
  the request log says which client sent what; `rotate` replaces one client's token);
- GET / POST / PUT of .../namespaces/NS/leases[/NAME] (LIST too); 404 for a missing Lease;
  POST of an existing one is 409 AlreadyExists;
- metadata.resourceVersion optimistic concurrency: a PUT with a stale version is 409 Conflict;
  a PUT without one is 422 (Leases do not allow unconditional updates); a PUT of a missing
  Lease without a version creates it, with one is 404;
- validation: kind/apiVersion, name and namespace against the URL, JSON types, MicroTime with
  exactly six fractional digits (Go's RFC3339Micro), leaseDurationSeconds > 0,
  leaseTransitions >= 0, Content-Type application/json; unknown fields are accepted with a
  Warning header (the API server's default field validation) and counted in the log.

Events (`/api/v1/namespaces/NS/events[/NAME]`), as the API server validates a core/v1 Event:

- GET (one, or the list), POST, PATCH; no PUT or DELETE (the daemon is granted create and
  patch only);
- POST: Content-Type application/json, kind Event, apiVersion v1, metadata.name a DNS-1123
  subdomain, no resourceVersion, the namespace of the URL (metadata.namespace and
  involvedObject.namespace must match it: "does not match event.namespace"), involvedObject
  with kind and name, type Normal or Warning, a reason (at most 128 characters), a message of
  at most 1024 bytes, count >= 1, firstTimestamp and lastTimestamp as RFC 3339 seconds; an
  existing name is 409 AlreadyExists;
- PATCH: application/strategic-merge-patch+json or application/merge-patch+json (anything
  else 415), an unknown name 404 NotFound; the patch is merged (null removes a key) and the
  result validated like a POST; involvedObject, reason, type and source may not change (422).

Fault injection (`set_faults`): per client or for all, `drop` (close the connection without an
answer: the API server unreachable), `latency_ms` (slow answers), `status` (e.g. 500); a rule
applies to Lease requests only unless its "resource" says "events" (or "*": both).
The request log (`requests()`) holds one entry per request with wall and monotonic times,
written once the request is answered (or dropped); it lists Lease requests unless asked for
`resource="events"` (or None: all). Each request's arrival is logged apart (`received()`,
entries marked "event": "received"), before any fault holds it, so a test can wait for a
request that is held; `handshake_failures()` counts connections refused by TLS.
"""

import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import uuid

from harness import LoopbackServer, QuietHandler

GROUP = "coordination.k8s.io"
API_VERSION = "coordination.k8s.io/v1"
PATH = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?$")
EVENTS_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/events(?:/([^/]+))?$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
EVENT_TYPES = ("Normal", "Warning")
PATCH_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json")
IMMUTABLE_EVENT_FIELDS = ("involvedObject", "reason", "type", "source")
MICRO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SPEC_FIELDS = {"holderIdentity": str, "leaseDurationSeconds": int, "acquireTime": str,
               "renewTime": str, "leaseTransitions": int, "strategy": str, "preferredHolder": str}


def make_ca(workdir, name="ca"):
    """A certificate authority and a server certificate for 127.0.0.1 signed by it.

    Returns (ca_file, cert_file, key_file)."""
    ca_key, ca_crt = os.path.join(workdir, name + ".key"), os.path.join(workdir, name + ".crt")
    key, csr, crt = (os.path.join(workdir, f"{name}-server.{ext}") for ext in ("key", "csr", "crt"))
    ext = os.path.join(workdir, name + "-server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", *ec, "-keyout", ca_key, "-out", ca_crt, "-days", "2",
        "-subj", f"/CN=lease stand-in test CA {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def status_body(code, reason, message, name=None, kind="leases"):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if name is not None:
        body["details"] = {"name": name, "group": GROUP if kind == "leases" else "",
                           "kind": kind}
    return body


class Reject(Exception):
    def __init__(self, code, reason, message, name=None, kind="leases"):
        super().__init__(message)
        self.body = status_body(code, reason, message, name, kind)
        self.code = code


def merge_patch(target, patch):
    """RFC 7386 (and, for the scalar fields an Event has, a strategic merge patch too)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class LeaseStandIn:
    def __init__(self, workdir, tokens, cert=None):
        """`tokens`: {client name: bearer token}. `cert`: (cert_file, key_file), else made."""
        self.workdir = workdir
        if cert is None:
            self.ca_file, cert_file, key_file = make_ca(workdir)
        else:
            self.ca_file, cert_file, key_file = cert
        self._mu = threading.Lock()
        self._tokens = dict(tokens)
        self._leases = {}
        self._events = {}
        self._rv = 1000
        self._log = []
        self._received = []
        self._handshake_failures = 0
        self._faults = []
        self._held = 0  # requests waiting out a latency fault now
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        standin = self

        class Handler(QuietHandler):
            def do_GET(self):
                standin._handle(self, "GET")

            def do_POST(self):
                standin._handle(self, "POST")

            def do_PUT(self):
                standin._handle(self, "PUT")

            def do_PATCH(self):
                standin._handle(self, "PATCH")

            def do_DELETE(self):
                standin._handle(self, "DELETE")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                conn, addr = self.socket.accept()
                try:
                    return context.wrap_socket(conn, server_side=True), addr
                except OSError:  # ssl.SSLError included: the client did not trust us
                    conn.close()
                    with standin._mu:
                        standin._handshake_failures += 1
                    raise

        self._server = LoopbackServer(Handler, Server)
        self.port = self._server.port
        self.url = f"https://127.0.0.1:{self.port}"

    # -- test-facing controls ------------------------------------------------------------------

    def stop(self):
        self._server.stop()

    def rotate(self, client, token):
        with self._mu:
            self._tokens[client] = token

    def set_faults(self, rules):
        """Rules, first match wins: {"client": name or absent (all), "method": optional,
        "resource": "leases" (the default), "events" or "*",
        "drop": bool, "latency_ms": int (before the request is served), "answer_delay_ms": int
        (after it is served, before the answer goes out), "status": int, "echo_token": bool
        (with "status": the error message quotes the request's Authorization header), "body":
        text answered as is with "code" (default 200) instead of serving, "times": n or -1
        (forever, the default)}."""
        with self._mu:
            self._faults = [dict(r, times=r.get("times", -1)) for r in rules]

    def requests(self, resource="leases"):
        """The log of requests to `resource` ("leases", "events"; None: every request)."""
        with self._mu:
            return [dict(e) for e in self._log if resource is None or e["resource"] == resource]

    def events(self, ns=None):
        """The Events stored (of namespace `ns`), oldest first."""
        with self._mu:
            out = [json.loads(json.dumps(o)) for (n, _), o in self._events.items()
                   if ns is None or n == ns]
        return sorted(out, key=lambda e: int(e["metadata"]["resourceVersion"]))

    def received(self, client=None, method=None, resource="leases"):
        """The arrivals of requests (from `client`, with `method`, to `resource` as requests()
        takes it), oldest first: logged before any fault holds or drops them, each
        {"event": "received", "time", "mono", "client", "method", "path", "resource",
        "fault"}."""
        with self._mu:
            return [dict(e) for e in self._received
                    if client in (None, e["client"]) and method in (None, e["method"])
                    and resource in (None, e["resource"])]

    def handshake_failures(self):
        """Connections closed at the TLS handshake (a client that does not trust our CA)."""
        with self._mu:
            return self._handshake_failures

    def lease(self, ns, name):
        with self._mu:
            obj = self._leases.get((ns, name))
            return json.loads(json.dumps(obj)) if obj else None

    def put_lease(self, ns, name, spec):
        """Writes a Lease directly (as another controller would)."""
        with self._mu:
            self._rv += 1
            self._leases[(ns, name)] = {
                "kind": "Lease", "apiVersion": API_VERSION,
                "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                             "resourceVersion": str(self._rv),
                             "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                "spec": spec}

    def held(self):
        """How many requests are waiting out a latency fault now (received, not yet served)."""
        with self._mu:
            return self._held

    def holder_history(self):
        """[(wall time answered, client, holder)] of every successful write, in order."""
        return [(e["time_done"], e["client"], e["holder"]) for e in self.requests()
                if e["method"] in ("POST", "PUT") and e["status"] in (200, 201)]

    # -- the API ---------------------------------------------------------------------------------

    def _fault_for(self, client, method, resource):
        with self._mu:
            for rule in self._faults:
                if rule.get("client") not in (None, client):
                    continue
                if rule.get("method") not in (None, method):
                    continue
                if rule.get("resource", "leases") not in ("*", resource):
                    continue
                if rule["times"] == 0:
                    continue
                if rule["times"] > 0:
                    rule["times"] -= 1
                return dict(rule)
        return None

    def _handle(self, req, method):
        arrived, arrived_mono = time.time(), time.monotonic()
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length > 0 else b""
        auth = req.headers.get("Authorization", "")
        with self._mu:
            client = next((c for c, t in self._tokens.items() if auth == "Bearer " + t), None)
        resource = "events" if EVENTS_PATH.match(req.path.split("?", 1)[0]) else "leases"
        entry = {"time": arrived, "mono": arrived_mono, "client": client, "method": method,
                 "path": req.path, "resource": resource, "status": None, "holder": None,
                 "rv_sent": None, "fault": None, "warnings": 0, "reason": None,
                 "event": None, "count": None, "content_type": req.headers.get("Content-Type")}
        fault = self._fault_for(client, method, resource) if client is not None else None
        if fault:
            entry["fault"] = "+".join(k for k in ("drop", "latency_ms", "answer_delay_ms", "status",
                                                  "body", "echo_token")
                                      if fault.get(k))
        with self._mu:
            self._received.append({"event": "received", **{k: entry[k] for k in (
                "time", "mono", "client", "method", "path", "resource", "fault")}})
        if fault:
            if fault.get("latency_ms"):
                with self._mu:
                    self._held += 1
                time.sleep(fault["latency_ms"] / 1000.0)
                with self._mu:
                    self._held -= 1
            if fault.get("drop"):
                entry["time_done"] = time.time()
                with self._mu:
                    self._log.append(entry)
                req.close_connection = True
                try:
                    req.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        warnings = []
        try:
            if client is None:
                raise Reject(401, "Unauthorized", "Unauthorized")
            if fault and fault.get("status") and fault.get("echo_token"):
                # A careless server (or proxy) quoting the request's credentials back.
                raise Reject(fault["status"], "InternalError",
                             f"Internal error occurred: request with {auth!r} failed")
            if fault and fault.get("status"):
                raise Reject(fault["status"], "InternalError",
                             "Internal error occurred: injected fault")
            if fault and fault.get("body") is not None:
                code, body = fault.get("code", 200), None
            elif resource == "events":
                code, body = self._serve_events(method, req.path, req.headers, raw, entry)
            else:
                code, body = self._serve(method, req.path, req.headers, raw, entry, warnings)
        except Reject as r:
            code, body = r.code, r.body
            entry["reason"] = r.body["reason"]
        if fault and fault.get("answer_delay_ms"):
            time.sleep(fault["answer_delay_ms"] / 1000.0)  # served already: the answer is late
        entry["status"] = code
        entry["warnings"] = len(warnings)
        if fault and fault.get("body") is not None and code == fault.get("code", 200):
            data = fault["body"].encode()  # exactly this text (Python's json cannot nest deep)
        else:
            data = json.dumps(body).encode()
        req.send_response(code)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        for w in warnings:
            req.send_header("Warning", f'299 - "{w}"')
        req.end_headers()
        req.wfile.write(data)
        entry["time_done"] = time.time()
        with self._mu:
            self._log.append(entry)

    def _serve(self, method, path, headers, raw, entry, warnings):
        if "?" in path:
            path = path.split("?", 1)[0]
        m = PATH.match(path)
        if not m:
            raise Reject(404, "NotFound", "the server could not find the requested resource")
        ns, name = m.group(1), m.group(2)
        if method == "GET":
            with self._mu:
                if name is None:
                    items = [json.loads(json.dumps(o)) for (n, _), o in sorted(self._leases.items())
                             if n == ns]
                    return 200, {"kind": "LeaseList", "apiVersion": API_VERSION,
                                 "metadata": {"resourceVersion": str(self._rv)}, "items": items}
                obj = self._leases.get((ns, name))
                if obj is None:
                    raise Reject(404, "NotFound", f'leases.{GROUP} "{name}" not found', name)
                return 200, json.loads(json.dumps(obj))
        if method not in ("POST", "PUT"):
            raise Reject(405, "MethodNotAllowed", f"the server does not allow this method")
        if method == "POST" and name is not None:
            raise Reject(405, "MethodNotAllowed", "the server does not allow this method")
        if method == "PUT" and name is None:
            raise Reject(405, "MethodNotAllowed", "the server does not allow this method")
        ctype = headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != "application/json":
            raise Reject(415, "UnsupportedMediaType",
                         f'the body of the request was in an unknown format - accepted media '
                         f'types include: application/json')
        try:
            obj = json.loads(raw)
        except ValueError as e:
            raise Reject(400, "BadRequest", f"error decoding the body: {e}")
        obj = self._validate(obj, ns, name, warnings)
        meta = obj["metadata"]
        entry["holder"] = obj.get("spec", {}).get("holderIdentity")
        rv = meta.get("resourceVersion")
        entry["rv_sent"] = rv
        with self._mu:
            key = (ns, meta["name"])
            current = self._leases.get(key)
            if method == "POST":
                if rv:
                    raise Reject(500, "InternalError",
                                 "resourceVersion should not be set on objects to be created")
                if current is not None:
                    raise Reject(409, "AlreadyExists",
                                 f'leases.{GROUP} "{meta["name"]}" already exists', meta["name"])
                return 201, self._store(key, obj, None)
            if current is None:
                if rv:
                    raise Reject(404, "NotFound", f'leases.{GROUP} "{name}" not found', name)
                return 201, self._store(key, obj, None)
            if not rv:
                raise Reject(422, "Invalid",
                             f'Lease.{GROUP} "{name}" is invalid: metadata.resourceVersion: '
                             f'Invalid value: 0x0: must be specified for an update', name)
            if not rv.isdigit():
                raise Reject(400, "BadRequest", f"invalid resource version: {rv}")
            if rv != current["metadata"]["resourceVersion"]:
                raise Reject(409, "Conflict",
                             f'Operation cannot be fulfilled on leases.{GROUP} "{name}": the '
                             f'object has been modified; please apply your changes to the latest '
                             f'version and try again', name)
            return 200, self._store(key, obj, current)

    def _stored_metadata(self, key, obj, current):
        """`obj`'s metadata as the API server stores a new version of it (the lock held): the
        namespace, the next resourceVersion, and the uid and creationTimestamp of `current`,
        the version it replaces (new ones when None)."""
        self._rv += 1
        meta = dict(obj["metadata"])
        meta["namespace"] = key[0]
        meta["resourceVersion"] = str(self._rv)
        if current is None:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        else:
            meta["uid"] = current["metadata"]["uid"]
            meta["creationTimestamp"] = current["metadata"]["creationTimestamp"]
        return meta

    def _store(self, key, obj, current):
        """Stores `obj` as the new version (the lock held) and returns a copy."""
        meta = self._stored_metadata(key, obj, current)
        stored = {"kind": "Lease", "apiVersion": API_VERSION, "metadata": meta,
                  "spec": obj.get("spec") or {}}
        self._leases[key] = stored
        return json.loads(json.dumps(stored))

    def _validate(self, obj, ns, url_name, warnings):
        if not isinstance(obj, dict):
            raise Reject(400, "BadRequest", "error decoding the body: not an object")
        if obj.get("kind", "Lease") != "Lease" or obj.get("apiVersion", API_VERSION) != API_VERSION:
            raise Reject(400, "BadRequest",
                         f"the API version in the data ({obj.get('apiVersion')}) does not match "
                         f"the expected API version ({API_VERSION})")
        for k in obj:
            if k not in ("kind", "apiVersion", "metadata", "spec"):
                warnings.append(f'unknown field "{k}"')
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise Reject(422, "Invalid", "Lease is invalid: metadata.name: Required value: name "
                                         "or generateName is required")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise Reject(422, "Invalid", "Lease is invalid: metadata.name: Required value")
        if url_name is not None and name != url_name:
            raise Reject(400, "BadRequest", f"the name of the object ({name}) does not match the "
                                            f"name on the URL ({url_name})")
        if len(name) > 253 or not DNS_SUBDOMAIN.match(name):
            raise Reject(422, "Invalid", f'Lease.{GROUP} "{name}" is invalid: metadata.name: '
                                         f"Invalid value: a lowercase RFC 1123 subdomain", name)
        if meta.get("namespace", ns) != ns:
            raise Reject(400, "BadRequest", "the namespace of the provided object does not match "
                                            "the namespace sent on the request")
        rv = meta.get("resourceVersion")
        if rv is not None and not isinstance(rv, str):
            raise Reject(400, "BadRequest", "error decoding the body: metadata.resourceVersion "
                                            "must be a string")
        spec = obj.get("spec", {})
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise Reject(400, "BadRequest", "error decoding the body: spec must be an object")
        for k, v in spec.items():
            want = SPEC_FIELDS.get(k)
            if want is None:
                warnings.append(f'unknown field "spec.{k}"')
                continue
            if v is None:
                continue
            if want is int and (isinstance(v, bool) or not isinstance(v, int)):
                raise Reject(400, "BadRequest", f"error decoding the body: spec.{k}: expected "
                                                f"an integer")
            if want is str and not isinstance(v, str):
                raise Reject(400, "BadRequest", f"error decoding the body: spec.{k}: expected "
                                                f"a string")
        for k in ("acquireTime", "renewTime"):
            v = spec.get(k)
            if v is not None and not MICRO_TIME.match(v):
                raise Reject(400, "BadRequest", f'error decoding the body: parsing time "{v}" as '
                                                f'"2006-01-02T15:04:05.000000Z07:00"')
        if spec.get("leaseDurationSeconds") is not None and spec["leaseDurationSeconds"] <= 0:
            raise Reject(422, "Invalid", f'Lease.{GROUP} "{name}" is invalid: '
                                         f"spec.leaseDurationSeconds: Invalid value: must be "
                                         f"greater than 0", name)
        if spec.get("leaseTransitions") is not None and spec["leaseTransitions"] < 0:
            raise Reject(422, "Invalid", f'Lease.{GROUP} "{name}" is invalid: '
                                         f"spec.leaseTransitions: Invalid value: must be greater "
                                         f"than or equal to 0", name)
        return obj

    # -- events ----------------------------------------------------------------------------------

    def _serve_events(self, method, path, headers, raw, entry):
        path = path.split("?", 1)[0]
        ns, name = EVENTS_PATH.match(path).groups()
        entry["event"] = name
        if method == "GET":
            with self._mu:
                if name is None:
                    items = [json.loads(json.dumps(o)) for (n, _), o in self._events.items()
                             if n == ns]
                    return 200, {"kind": "EventList", "apiVersion": "v1",
                                 "metadata": {"resourceVersion": str(self._rv)}, "items": items}
                obj = self._events.get((ns, name))
                if obj is None:
                    raise Reject(404, "NotFound", f'events "{name}" not found', name, "events")
                return 200, json.loads(json.dumps(obj))
        if method == "POST" and name is None:
            ctype = headers.get("Content-Type", "").split(";")[0].strip()
            if ctype != "application/json":
                raise Reject(415, "UnsupportedMediaType",
                             "the body of the request was in an unknown format - accepted media "
                             "types include: application/json")
            obj = self._decode(raw)
            self._validate_event(obj, ns)
            if obj["metadata"].get("resourceVersion"):
                raise Reject(500, "InternalError",
                             "resourceVersion should not be set on objects to be created")
            entry["event"] = obj["metadata"]["name"]
            entry["count"] = obj.get("count")
            with self._mu:
                key = (ns, obj["metadata"]["name"])
                if key in self._events:
                    raise Reject(409, "AlreadyExists", f'events "{key[1]}" already exists',
                                 key[1], "events")
                return 201, self._store_event(key, obj, None)
        if method == "PATCH" and name is not None:
            ctype = headers.get("Content-Type", "").split(";")[0].strip()
            if ctype not in PATCH_TYPES:
                raise Reject(415, "UnsupportedMediaType",
                             f"the body of the request was in an unknown format - accepted media "
                             f"types include: {', '.join(PATCH_TYPES)}, "
                             f"application/json-patch+json, application/apply-patch+yaml")
            patch = self._decode(raw)
            if not isinstance(patch, dict):
                raise Reject(400, "BadRequest", "error decoding the patch: not an object")
            entry["count"] = patch.get("count")
            with self._mu:
                current = self._events.get((ns, name))
                if current is None:
                    raise Reject(404, "NotFound", f'events "{name}" not found', name, "events")
                merged = merge_patch(json.loads(json.dumps(current)), patch)
            self._validate_event(merged, ns, url_name=name)
            for field in IMMUTABLE_EVENT_FIELDS:
                if merged.get(field) != current.get(field):
                    raise Reject(422, "Invalid", f'Event "{name}" is invalid: {field}: Invalid '
                                                 f"value: field is immutable", name, "events")
            with self._mu:
                if (ns, name) not in self._events:
                    raise Reject(404, "NotFound", f'events "{name}" not found', name, "events")
                return 200, self._store_event((ns, name), merged, current)
        raise Reject(405, "MethodNotAllowed", "the server does not allow this method on the "
                                              "requested resource")

    @staticmethod
    def _decode(raw):
        try:
            return json.loads(raw)
        except ValueError as e:
            raise Reject(400, "BadRequest", f"error decoding the body: {e}")

    def _store_event(self, key, obj, current):
        """Stores an Event (the lock held) and returns a copy."""
        meta = self._stored_metadata(key, obj, current)
        stored = dict(obj, kind="Event", apiVersion="v1", metadata=meta)
        self._events[key] = stored
        return json.loads(json.dumps(stored))

    def _validate_event(self, obj, ns, url_name=None):
        def invalid(what):
            name = obj.get("metadata", {}).get("name") if isinstance(obj, dict) else None
            raise Reject(422, "Invalid", f'Event "{name}" is invalid: {what}', name, "events")

        if not isinstance(obj, dict):
            raise Reject(400, "BadRequest", "error decoding the body: not an object")
        if obj.get("kind", "Event") != "Event" or obj.get("apiVersion", "v1") != "v1":
            raise Reject(400, "BadRequest",
                         f"the API version in the data ({obj.get('apiVersion')}) does not match "
                         f"the expected API version (v1)")
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
            invalid("metadata.name: Required value: name or generateName is required")
        name = meta["name"]
        if url_name is not None and name != url_name:
            raise Reject(400, "BadRequest", f"the name of the object ({name}) does not match the "
                                            f"name on the URL ({url_name})")
        if len(name) > 253 or not DNS_SUBDOMAIN.match(name):
            invalid(f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 subdomain")
        if meta.get("namespace", ns) != ns:
            raise Reject(400, "BadRequest", "the namespace of the provided object does not match "
                                            "the namespace sent on the request")
        involved = obj.get("involvedObject")
        if not isinstance(involved, dict):
            invalid("involvedObject: Required value")
        if involved.get("namespace") != ns:
            invalid(f"involvedObject.namespace: Invalid value: {involved.get('namespace')!r}: "
                    f"does not match event.namespace")
        for k in ("kind", "name"):
            if not isinstance(involved.get(k), str) or not involved[k]:
                invalid(f"involvedObject.{k}: Required value")
        if obj.get("type") not in EVENT_TYPES:
            invalid(f"type: Unsupported value: {obj.get('type')!r}: supported values: "
                    f"\"Normal\", \"Warning\"")
        reason = obj.get("reason")
        if not isinstance(reason, str) or not reason or len(reason) > 128:
            invalid("reason: Invalid value: must be 1 to 128 characters")
        message = obj.get("message", "")
        if not isinstance(message, str) or len(message.encode()) > 1024:
            invalid("message: Too long: may not be longer than 1024")
        count = obj.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            invalid(f"count: Invalid value: {count!r}: must be a whole number >= 1")
        for k in ("firstTimestamp", "lastTimestamp"):
            v = obj.get(k)
            if not isinstance(v, str) or not TIME.match(v):
                raise Reject(400, "BadRequest", f'error decoding the body: parsing time "{v}" as '
                                                f'"2006-01-02T15:04:05Z07:00"')
