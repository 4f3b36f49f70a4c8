#!/usr/bin/python3
"""Cross-checks of the deployment files against each other and against the daemon.

Run with Debian's python (it has python3-yaml): /usr/bin/python3 tests/deploy/test_manifests.py
(scripts/check-manifests does). Only the standard library, PyYAML and kubectl are used.

The Kubernetes objects are the ones `kubectl kustomize deploy/kubernetes` renders (Kubernetes'
own tooling, as `kubectl apply -k` would send them), not the source files: a resource missing
from the kustomization, or a transformation that changes a field, is seen here. KUBECTL names
the kubectl to use (default: the one on PATH; Debian's kubernetes-client).

What belongs together:
  deploy/kubernetes/*        the sidecar, its ConfigMap (config.yaml + desired.yaml), the token
                             Secret (template), the PodMonitor, the kustomization
  deploy/Dockerfile          the image the sidecar runs
  systemd/*.service          the unit, and cmake/Packaging.cmake that installs its config
  deploy/prometheus/*        the alert rules and the example scrape configuration
"""

import ipaddress
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
SIDECAR = "origin-reconciler"
METRICS_PORT_NAME = "metrics"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
NONROOT_UID = 65532
DEFAULT_CONFIG = "/etc/origin-reconciler/config.yaml"  # the daemon's default --config
BINARY = "/usr/bin/origin-reconciler"

# The daemon's configuration schema (unknown keys are errors there, so they are errors here).
CONFIG_SCHEMA = {
    "cloudflare": {
        "api_base": str,
        "api_flavor": ("cache-v1", "origin-v2"),
        "token_file": str,
        "request_timeout": str,
        "requests_per_second": (int, float),
        "budget_headroom": (int, float),
        "page_size": int,
        "max_response_bytes": int,
    },
    "reconcile": {
        "desired_state": str,
        "interval": str,
        "batch_size": int,
        "concurrency": int,
        "dry_run": bool,
        "max_delete_fraction": (int, float),
        "policy": ("prune", "sync"),
        "max_update_fraction": (int, float),
        "retry": {"max_attempts": int, "initial_backoff": str, "max_backoff": str},
        "settle_period": str,
        "hold_confirm_period": str,
    },
    "listen": str,
    "log": {"level": ("trace", "debug", "info", "warn", "error"), "format": ("text", "json")},
    "leader_election": {
        "enabled": bool,
        "namespace": str,
        "lease_name": str,
        "identity": str,
        "lease_duration": str,
        "renew_deadline": str,
        "retry_period": str,
        "api_server": str,
        "token_file": str,
        "ca_file": str,
    },
    "metrics": {"zone_series": ("all", "failing", "none")},
    "state_directory": str,
    "events": {"enabled": bool},
}
DURATION = re.compile(r"^\d+(\.\d+)?(ms|s|m|h)$")
ZONE_ID = re.compile(r"^[0-9a-f]{32}$")
VENDORS = {"aws", "azure", "gcp", "oci"}

# The metrics the daemon exports (names are part of its interface).
METRICS = {
    "origin_reconciler_build_info": "gauge",
    "origin_reconciler_reconcile_runs_total": "counter",
    "origin_reconciler_reconcile_duration_seconds": "histogram",
    "origin_reconciler_last_success_timestamp_seconds": "gauge",
    "origin_reconciler_last_attempt_timestamp_seconds": "gauge",
    "origin_reconciler_mappings": "gauge",
    "origin_reconciler_pruned_total": "counter",
    "origin_reconciler_prune_failures_total": "counter",
    "origin_reconciler_api_requests_total": "counter",
    "origin_reconciler_api_request_duration_seconds": "histogram",
    "origin_reconciler_api_retries_total": "counter",
    "origin_reconciler_safety_blocks_total": "counter",
    "origin_reconciler_desired_state_valid": "gauge",
    "origin_reconciler_desired_state_held": "gauge",
    "origin_reconciler_api_budget_window_requests": "gauge",
    "origin_reconciler_api_budget_window_limit": "gauge",
    "origin_reconciler_upserted_total": "counter",
    "origin_reconciler_upsert_failures_total": "counter",
    "origin_reconciler_unsupported_region_origins": "gauge",
    "origin_reconciler_leader": "gauge",
    "origin_reconciler_leader_transitions_total": "counter",
    "origin_reconciler_api_budget_remaining": "gauge",
    "origin_reconciler_zones": "gauge",
    "origin_reconciler_fleet_reconcile_runs_total": "counter",
    "origin_reconciler_fleet_mappings": "gauge",
    "origin_reconciler_fleet_pruned_total": "counter",
    "origin_reconciler_fleet_prune_failures_total": "counter",
    "origin_reconciler_fleet_safety_blocks_total": "counter",
    "origin_reconciler_oldest_success_timestamp_seconds": "gauge",
    "origin_reconciler_leader_duplicate_identity": "gauge",
    "origin_reconciler_zone_info": "gauge",
    "origin_reconciler_zone_suspended": "gauge",
    "origin_reconciler_zone_suspended_until_timestamp_seconds": "gauge",
    "origin_reconciler_events_sent_total": "counter",
    "origin_reconciler_events_dropped_total": "counter",
}
# What the daemon's Lease and Event clients send (daemon/src/kube/), as RBAC verbs.
LEASE_CLIENT = ROOT / "daemon" / "src" / "kube" / "lease_client.cpp"
EVENT_CLIENT = ROOT / "daemon" / "src" / "kube" / "event_client.cpp"
HTTP_VERB = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
             "DELETE": "delete"}
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_all_yaml(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    m = re.search(r"project\(\s*origin-reconciler\s+VERSION\s+([0-9][0-9.]*)", text)
    if not m:
        raise AssertionError("CMakeLists.txt: no project(origin-reconciler VERSION x.y.z)")
    return m.group(1)


def parse_listen(value):
    """'host:port' or '[v6]:port' -> (host, port)."""
    m = re.match(r"^\[([^\]]+)\]:(\d+)$", value) or re.match(r"^([^:\[\]]+):(\d+)$", value)
    if not m:
        raise AssertionError(f"listen {value!r} is not host:port or [v6]:port")
    return m.group(1), int(m.group(2))


def flag_value(args, flag):
    """The value of --flag VALUE or --flag=VALUE in an argument list, or None."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1:]
    return None


def unit_directives(path):
    """systemd unit -> {section: {key: [values...]}} (no continuation lines are used)."""
    sections, current = {}, None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def cmake_etc_installs(path):
    """Absolute /etc paths that cmake/Packaging.cmake installs (install(FILES ... DESTINATION))."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"#[^\n]*", "", text)
    installed = set()
    for body in re.findall(r"install\s*\((.*?)\)\s*(?=\n|$)", text, flags=re.S):
        words = shlex.split(body)
        if not words or words[0] != "FILES" or "DESTINATION" not in words:
            continue
        dest = words[words.index("DESTINATION") + 1]
        if not dest.startswith("/etc/"):
            continue
        files = words[1:words.index("DESTINATION")]
        for f in files:
            installed.add(posixpath.join(dest, posixpath.basename(f)))
    return installed


def cmake_conffiles(path):
    text = path.read_text(encoding="utf-8")
    m = re.search(r"set\(\s*ORC_DEB_CONFFILES(.*?)\)", text, flags=re.S)
    if not m:
        raise AssertionError("cmake/Packaging.cmake: no set(ORC_DEB_CONFFILES ...)")
    return set(m.group(1).split())


def kustomize_build(directory):
    """The objects `kubectl kustomize DIRECTORY` renders."""
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl:
        raise AssertionError("kubectl is not installed (scripts/install-deps --all installs "
                             "Debian's kubernetes-client)")
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


class Manifests(unittest.TestCase):
    """Renders the kustomization once; the tests below only look."""

    @classmethod
    def setUpClass(cls):
        cls.kustomization = load_yaml(K8S / "kustomization.yaml")
        cls.resources = kustomize_build(K8S)
        cls.deployment = cls.only("Deployment")
        cls.pod = cls.deployment["spec"]["template"]
        cls.pod_spec = cls.pod["spec"]
        cls.podmonitor = cls.only("PodMonitor")
        cls.secret_example = load_yaml(K8S / "secret.example.yaml")
        cls.version = project_version()

    @classmethod
    def only(cls, kind):
        found = [r for r in cls.resources if r.get("kind") == kind]
        if len(found) != 1:
            raise AssertionError(f"expected one {kind} in the kustomization, found {len(found)}")
        return found[0]

    # --- helpers ----------------------------------------------------------------------------------

    def sidecar(self):
        for c in self.pod_spec.get("initContainers", []):
            if c.get("name") == SIDECAR:
                return c
        self.fail(f"no initContainers entry named {SIDECAR!r}")

    def config_arg(self):
        path = flag_value(self.sidecar().get("args", []), "--config")
        self.assertIsNotNone(path, "the sidecar has no --config argument")
        self.assertTrue(posixpath.isabs(path), f"--config {path} is not absolute")
        return path

    def metrics_port(self):
        ports = [p for p in self.sidecar().get("ports", []) if p.get("name") == METRICS_PORT_NAME]
        self.assertEqual(len(ports), 1,
                         f"the sidecar needs exactly one port named {METRICS_PORT_NAME}")
        return ports[0]["containerPort"]

    def volume(self, predicate, what):
        found = [v for v in self.pod_spec.get("volumes", []) if predicate(v)]
        self.assertEqual(len(found), 1, f"expected one {what} volume, found {len(found)}")
        return found[0]

    def config_volume(self):
        return self.volume(lambda v: "configMap" in v, "configMap")

    def secret_volume(self):
        return self.volume(lambda v: "secret" in v, "secret")

    def mount_of(self, volume_name):
        mounts = [m for m in self.sidecar().get("volumeMounts", []) if m["name"] == volume_name]
        self.assertEqual(len(mounts), 1, f"the sidecar must mount volume {volume_name!r} once")
        return mounts[0]

    def configmap(self):
        name = self.config_volume()["configMap"]["name"]
        found = [r for r in self.resources
                 if r.get("kind") == "ConfigMap" and r["metadata"]["name"] == name]
        self.assertEqual(len(found), 1, f"the kustomization has no ConfigMap {name!r}")
        return found[0]

    def config_yaml(self):
        key = posixpath.basename(self.config_arg())
        data = self.configmap().get("data", {})
        self.assertIn(key, data, f"the ConfigMap has no key {key!r} (the --config file)")
        parsed = yaml.safe_load(data[key])
        self.assertIsInstance(parsed, dict, f"ConfigMap key {key} is not a YAML map")
        return parsed

    def desired_state_name(self):
        return self.config_yaml().get("reconcile", {}).get("desired_state", "desired.yaml")

    # --- the sidecar ------------------------------------------------------------------------------

    def test_sidecar_is_a_native_sidecar(self):
        self.assertEqual(self.sidecar().get("restartPolicy"), "Always",
                         "a native sidecar is an init container with restartPolicy: Always")
        names = [c.get("name") for c in self.pod_spec.get("containers", [])]
        self.assertNotIn(SIDECAR, names, "the reconciler must not also be a regular container")
        self.assertTrue(names, "the example pod needs an application container")

    def test_sidecar_image_matches_project_version(self):
        self.assertEqual(self.sidecar().get("image"), f"origin-reconciler:{self.version}")

    def test_sidecar_args(self):
        self.assertEqual(self.sidecar().get("args"), ["--config", self.config_arg()])
        self.assertNotIn("command", self.sidecar(), "the image's ENTRYPOINT runs the daemon")

    def test_metrics_port_matches_listen(self):
        host, port = parse_listen(self.config_yaml().get("listen", "127.0.0.1:9464"))
        self.assertEqual(self.metrics_port(), port,
                         "the metrics containerPort must be the port config.yaml listens on")
        self.assertIn(host, ("0.0.0.0", "::"),
                      "in a pod the daemon must listen on all interfaces for probes and scrapes")

    def test_probes_use_healthz_on_metrics_port(self):
        sidecar = self.sidecar()
        for probe in ("startupProbe", "livenessProbe"):
            self.assertIn(probe, sidecar, f"the sidecar needs a {probe}")
        port_names = {p.get("name") for p in sidecar.get("ports", [])}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe not in sidecar:
                continue
            get = sidecar[probe].get("httpGet")
            self.assertIsNotNone(get, f"{probe} must be an httpGet probe")
            self.assertEqual(get.get("path"), HEALTH_PATH, f"{probe} path")
            self.assertEqual(get.get("port"), METRICS_PORT_NAME,
                             f"{probe} must refer to the port by its name {METRICS_PORT_NAME!r}")
            self.assertIn(get.get("port"), port_names, f"{probe} port is not a sidecar port")

    def test_security_context(self):
        sc = self.sidecar().get("securityContext", {})
        self.assertIs(sc.get("runAsNonRoot"), True)
        self.assertEqual(sc.get("runAsUser"), NONROOT_UID)
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertIn("ALL", sc.get("capabilities", {}).get("drop", []))
        self.assertFalse(sc.get("capabilities", {}).get("add"), "no capabilities may be added")
        self.assertNotEqual(sc.get("privileged"), True)
        self.assertEqual(sc.get("seccompProfile", {}).get("type"), "RuntimeDefault")

    def test_resources(self):
        res = self.sidecar().get("resources", {})
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory"):
                self.assertIn(what, res.get(kind, {}), f"the sidecar needs resources.{kind}.{what}")

    # --- configuration and desired state ----------------------------------------------------------

    def test_configmap_mounted_as_the_config_directory(self):
        vol = self.config_volume()
        mount = self.mount_of(vol["name"])
        self.assertEqual(mount["mountPath"], posixpath.dirname(self.config_arg()),
                         "the ConfigMap must be mounted at the directory of --config")
        self.assertNotIn("subPath", mount, "subPath mounts never receive ConfigMap updates")
        self.assertNotIn("subPathExpr", mount, "subPath mounts never receive ConfigMap updates")
        self.assertIs(mount.get("readOnly"), True)

    def test_configmap_has_config_and_desired_state(self):
        data = self.configmap().get("data", {})
        config_name = posixpath.basename(self.config_arg())
        desired = self.desired_state_name()
        if posixpath.isabs(desired):
            self.assertEqual(posixpath.dirname(desired), posixpath.dirname(self.config_arg()),
                             "an absolute desired_state must be inside the ConfigMap mount")
            desired = posixpath.basename(desired)
        self.assertNotIn("/", desired, "desired_state must name a file of the ConfigMap")
        self.assertIn(config_name, data)
        self.assertIn(desired, data, f"the ConfigMap has no key {desired!r} (desired_state)")
        items = self.config_volume()["configMap"].get("items")
        if items is not None:
            paths = {i["path"] for i in items}
            self.assertTrue({config_name, desired} <= paths,
                            "the configMap volume's items leave out a file the daemon reads")

    def test_config_yaml_follows_the_daemon_schema(self):
        def walk(value, schema, where):
            if isinstance(schema, dict):
                self.assertIsInstance(value, dict, f"{where} must be a map")
                for key, sub in value.items():
                    self.assertIn(key, schema, f"unknown key {where}.{key} (the daemon rejects it)")
                    walk(sub, schema[key], f"{where}.{key}")
            elif isinstance(schema, tuple) and all(isinstance(s, str) for s in schema):
                self.assertIn(value, schema, f"{where}")
            else:
                self.assertIsInstance(value, schema, f"{where}")
                self.assertFalse(isinstance(value, bool) and schema is not bool, f"{where}")

        config = self.config_yaml()
        walk(config, CONFIG_SCHEMA, "config")
        for section, key in (("cloudflare", "request_timeout"), ("reconcile", "interval")):
            if key in config.get(section, {}):
                self.assertRegex(config[section][key], DURATION, f"{section}.{key}")
        for key in ("initial_backoff", "max_backoff"):
            value = config.get("reconcile", {}).get("retry", {}).get(key)
            if value is not None:
                self.assertRegex(value, DURATION, f"reconcile.retry.{key}")
        self.assertEqual(config.get("log", {}).get("format"), "json",
                         "in Kubernetes the daemon should log JSON")

    def test_desired_state_is_valid(self):
        desired = yaml.safe_load(self.configmap()["data"][posixpath.basename(
            self.desired_state_name())])
        self.assertIsInstance(desired, dict)
        self.assertEqual(set(desired), {"zones"})
        self.assertTrue(desired["zones"], "the example desired state should have a zone")
        for i, zone in enumerate(desired["zones"]):
            where = f"zones[{i}]"
            self.assertTrue(set(zone) <= {"zone_id", "origins", "manage_cidrs"}, where)
            self.assertRegex(str(zone.get("zone_id")), ZONE_ID, f"{where}.zone_id")
            for j, origin in enumerate(zone.get("origins", [])):
                if isinstance(origin, dict):
                    self.assertTrue(set(origin) <= {"ip", "vendor", "region"}, f"{where}[{j}]")
                    if "vendor" in origin:
                        self.assertIn(origin["vendor"], VENDORS, f"{where}.origins[{j}].vendor")
                    origin = origin["ip"]
                ipaddress.ip_address(origin)
            cidrs = zone.get("manage_cidrs")
            if cidrs is not None:
                self.assertTrue(cidrs, f"{where}.manage_cidrs must not be empty")
                for cidr in cidrs:
                    ipaddress.ip_network(cidr, strict=True)

    # --- token ------------------------------------------------------------------------------------

    def test_secret_mounted_where_token_file_points(self):
        token_file = self.config_yaml().get("cloudflare", {}).get("token_file")
        self.assertIsNotNone(token_file, "config.yaml must set cloudflare.token_file")
        self.assertTrue(posixpath.isabs(token_file), "token_file should be absolute")
        vol = self.secret_volume()
        mount = self.mount_of(vol["name"])
        self.assertEqual(mount["mountPath"].rstrip("/"), posixpath.dirname(token_file),
                         "the Secret must be mounted at the directory of cloudflare.token_file")
        self.assertNotIn("subPath", mount)
        self.assertIs(mount.get("readOnly"), True)

        secret = self.secret_example
        self.assertEqual(vol["secret"]["secretName"], secret["metadata"]["name"],
                         "the volume must use the Secret that secret.example.yaml describes")
        keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
        name = posixpath.basename(token_file)
        items = vol["secret"].get("items")
        if items is None:
            self.assertIn(name, keys, f"the Secret needs a key {name!r} (the token file's name)")
        else:
            matching = [i for i in items if i["path"] == name]
            self.assertEqual(len(matching), 1, f"no secret item is mounted as {name!r}")
            self.assertIn(matching[0]["key"], keys, "the mounted secret key is not in the Secret")

    def test_state_directory_is_a_writable_volume_of_the_pod(self):
        # The daemon keeps the API user's budget there across restarts of the sidecar; the
        # root file system is read-only, so it must be a volume, and one the sidecar may write.
        state = self.config_yaml().get("state_directory")
        self.assertIsNotNone(state, "config.yaml must set state_directory")
        self.assertTrue(posixpath.isabs(state), "state_directory should be absolute")
        vol = self.volume(lambda v: "emptyDir" in v, "emptyDir")
        mount = self.mount_of(vol["name"])
        self.assertEqual(mount["mountPath"].rstrip("/"), state.rstrip("/"))
        self.assertNotIn("subPath", mount)
        self.assertIsNot(mount.get("readOnly"), True, "the state directory must be writable")

    def test_secret_example_is_only_a_template(self):
        resources = self.kustomization.get("resources", [])
        self.assertNotIn("secret.example.yaml", resources)
        self.assertFalse([r for r in self.resources if r.get("kind") == "Secret"],
                         "the kustomization must not ship a Secret")
        self.assertIn("not listed in kustomization.yaml",
                      (K8S / "secret.example.yaml").read_text(encoding="utf-8").lower(),
                      "secret.example.yaml must say that it is a template")

    # --- monitoring -------------------------------------------------------------------------------

    def test_podmonitor_selects_the_pod(self):
        selector = self.podmonitor["spec"]["selector"]
        labels = self.pod["metadata"]["labels"]
        match = selector.get("matchLabels", {})
        self.assertTrue(match or selector.get("matchExpressions"), "empty PodMonitor selector")
        for key, value in match.items():
            self.assertEqual(labels.get(key), value, f"pod label {key} does not match the selector")
        for expr in selector.get("matchExpressions", []):
            op, key = expr["operator"], expr["key"]
            if op == "In":
                self.assertIn(labels.get(key), expr["values"])
            elif op == "NotIn":
                self.assertNotIn(labels.get(key), expr["values"])
            elif op == "Exists":
                self.assertIn(key, labels)
            elif op == "DoesNotExist":
                self.assertNotIn(key, labels)

    def test_podmonitor_endpoint(self):
        endpoints = self.podmonitor["spec"]["podMetricsEndpoints"]
        port_names = {p.get("name") for p in self.sidecar().get("ports", [])}
        self.assertTrue(endpoints)
        for ep in endpoints:
            self.assertEqual(ep.get("port"), METRICS_PORT_NAME)
            self.assertIn(ep.get("port"), port_names, "the PodMonitor port is not a sidecar port")
            self.assertEqual(ep.get("path", METRICS_PATH), METRICS_PATH)

    def test_prometheus_annotations(self):
        ann = self.pod["metadata"].get("annotations", {})
        self.assertEqual(ann.get("prometheus.io/scrape"), "true")
        self.assertEqual(ann.get("prometheus.io/port"), str(self.metrics_port()))
        self.assertEqual(ann.get("prometheus.io/path"), METRICS_PATH)

    # --- kustomization and labels -----------------------------------------------------------------

    def test_kustomization_resources_exist(self):
        resources = self.kustomization.get("resources", [])
        self.assertTrue(resources)
        for name in resources:
            path = K8S / name
            self.assertTrue(path.is_file(), f"kustomization resource {name} does not exist")
            for doc in load_all_yaml(path):
                self.assertTrue(doc.get("apiVersion") and doc.get("kind"), name)
                self.assertTrue(doc.get("metadata", {}).get("name"), name)

    def test_rendered_objects(self):
        kinds = sorted(r.get("kind") for r in self.resources)
        self.assertEqual(kinds, ["ConfigMap", "Deployment", "PodMonitor", "Role", "RoleBinding",
                                 "ServiceAccount"],
                         "kubectl kustomize must render the ConfigMap, the Deployment, the "
                         "PodMonitor and the RBAC objects, and nothing else (no Secret)")
        # The fixed names the pod and the operators' commands rely on (no generator suffix).
        for r in self.resources:
            self.assertEqual(r["metadata"]["name"], "origin-reconciler", r["kind"])
        self.assertEqual(self.config_volume()["configMap"]["name"], "origin-reconciler")

    def test_rendered_sidecar_fields(self):
        """The fields the daemon depends on, as the API server would receive them."""
        sidecar = self.sidecar()
        self.assertEqual(sidecar["ports"], [{"name": "metrics", "containerPort": 9464,
                                             "protocol": "TCP"}])
        for probe in ("startupProbe", "livenessProbe"):
            self.assertEqual(sidecar[probe]["httpGet"], {"path": "/healthz", "port": "metrics"})
        mounts = {m["name"]: m for m in sidecar["volumeMounts"]}
        self.assertEqual(mounts["config"], {"name": "config", "readOnly": True,
                                            "mountPath": "/etc/origin-reconciler"})
        self.assertEqual(mounts["token"], {"name": "token", "readOnly": True,
                                           "mountPath": "/var/run/secrets/origin-reconciler"})
        token = self.secret_volume()["secret"]
        self.assertEqual(token["defaultMode"], 0o440, "the token is read through fsGroup")
        self.assertEqual(self.pod_spec["securityContext"]["fsGroup"], NONROOT_UID)
        self.assertEqual(self.config_yaml()["cloudflare"]["token_file"],
                         "/var/run/secrets/origin-reconciler/token")
        self.assertEqual(self.config_yaml()["listen"], "0.0.0.0:9464")
        ann = self.pod["metadata"]["annotations"]
        self.assertEqual((ann["prometheus.io/port"], ann["prometheus.io/path"]),
                         ("9464", "/metrics"))

    # --- leader election ------------------------------------------------------------------------

    def lease_name(self):
        return self.config_yaml().get("leader_election", {}).get("lease_name", "origin-reconciler")

    def test_replicas_elect_a_leader(self):
        self.assertEqual(self.deployment["spec"]["replicas"], 3)
        self.assertEqual(self.deployment["spec"]["strategy"]["type"], "RollingUpdate")
        le = self.config_yaml().get("leader_election", {})
        self.assertIs(le.get("enabled"), True, "replicas without leader election all prune")
        for key in ("namespace", "identity", "api_server", "token_file", "ca_file"):
            self.assertNotIn(key, le, f"leader_election.{key}: the pod's own value is the one")
        env = {e["name"]: e for e in self.sidecar().get("env", [])}
        self.assertEqual(env["POD_NAME"]["valueFrom"], {"fieldRef": {"fieldPath": "metadata.name"}})

    def test_events_are_recorded_on_the_pod(self):
        # On (with leader election by default; written out here), about this Pod: its name and
        # uid from the downward API (kubectl describe pod matches Events on the uid), its
        # namespace from the service account's namespace file, which the projected volume holds.
        self.assertIs(self.config_yaml().get("events", {}).get("enabled", True), True)
        self.assertIs(self.config_yaml().get("leader_election", {}).get("enabled"), True)
        env = {e["name"]: e for e in self.sidecar().get("env", [])}
        self.assertEqual(env["POD_NAME"]["valueFrom"], {"fieldRef": {"fieldPath": "metadata.name"}})
        self.assertEqual(env["POD_UID"]["valueFrom"], {"fieldRef": {"fieldPath": "metadata.uid"}})
        if "POD_NAMESPACE" in env:
            self.assertEqual(env["POD_NAMESPACE"]["valueFrom"],
                             {"fieldRef": {"fieldPath": "metadata.namespace"}})
        volume = self.volume(lambda v: "projected" in v, "projected")
        self.assertIn({"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}},
                      [i for s in volume["projected"]["sources"]
                       for i in s.get("downwardAPI", {}).get("items", [])])
        self.assertEqual(self.mount_of(volume["name"])["mountPath"], SA_DIR)

    def test_rbac_grants_exactly_what_the_daemon_uses(self):
        methods = set(re.findall(r'send\("([A-Z]+)"', LEASE_CLIENT.read_text(encoding="utf-8")))
        self.assertEqual(methods, {"GET", "POST", "PUT"}, "the Lease client's requests changed")
        used = {("coordination.k8s.io", "leases"): {HTTP_VERB[m] for m in methods}}
        methods = set(re.findall(r'send\("([A-Z]+)"', EVENT_CLIENT.read_text(encoding="utf-8")))
        self.assertEqual(methods, {"POST", "PATCH"}, "the Event client's requests changed")
        used[("", "events")] = {HTTP_VERB[m] for m in methods}
        self.assertEqual(used[("", "events")], {"create", "patch"})
        role = self.only("Role")
        granted = {}
        for rule in role["rules"]:
            self.assertEqual(len(rule["apiGroups"]), 1, rule)
            self.assertEqual(len(rule["resources"]), 1, rule)
            target = (rule["apiGroups"][0], rule["resources"][0])
            self.assertIn(target, used, f"a rule for something the daemon never touches: {rule}")
            self.assertNotIn("*", rule["verbs"], rule)
            names = rule.get("resourceNames")
            for verb in rule["verbs"]:
                if target[1] == "events" or verb == "create":
                    # Kubernetes authorizes a create before the object has a name, and each
                    # Event's name is made when it is first recorded.
                    self.assertIsNone(names, f"resourceNames cannot restrict {verb} on {target}")
                else:
                    self.assertEqual(names, [self.lease_name()], f"{verb} on one Lease only")
                granted.setdefault(target, set()).add(verb)
        self.assertEqual(granted, used)
        binding = self.only("RoleBinding")
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io",
                                              "kind": "Role", "name": role["metadata"]["name"]})
        account = self.only("ServiceAccount")
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount",
                                                "name": account["metadata"]["name"]}])
        self.assertEqual(self.pod_spec["serviceAccountName"], account["metadata"]["name"])

    def test_only_the_sidecar_gets_a_service_account_token(self):
        self.assertIs(self.pod_spec.get("automountServiceAccountToken"), False)
        self.assertIs(self.only("ServiceAccount").get("automountServiceAccountToken"), False)
        volume = self.volume(lambda v: "projected" in v, "projected")
        sources = volume["projected"]["sources"]
        self.assertEqual(sources[0]["serviceAccountToken"]["path"], "token")
        self.assertEqual(sources[1]["configMap"], {"name": "kube-root-ca.crt",
                                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]})
        self.assertEqual(sources[2]["downwardAPI"]["items"][0],
                         {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}})
        self.assertEqual(self.mount_of(volume["name"])["mountPath"], SA_DIR)
        for c in self.pod_spec.get("containers", []):
            self.assertNotIn(volume["name"], [m["name"] for m in c.get("volumeMounts", [])],
                             c["name"])

    def test_labels_are_consistent(self):
        expected = {"app.kubernetes.io/name": "origin-reconciler",
                    "app.kubernetes.io/instance": "origin-reconciler"}
        for r in self.resources + [self.secret_example]:
            labels = r.get("metadata", {}).get("labels", {})
            for key, value in expected.items():
                self.assertEqual(labels.get(key), value, f"{r['kind']} label {key}")
            if "app.kubernetes.io/version" in labels:
                self.assertEqual(labels["app.kubernetes.io/version"], self.version)
        template = self.pod["metadata"]["labels"]
        for key, value in expected.items():
            self.assertEqual(template.get(key), value, f"pod template label {key}")
        for key, value in self.deployment["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(template.get(key), value, "the Deployment selector must match")

    # --- image ------------------------------------------------------------------------------------

    def test_dockerfile_agrees(self):
        text = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
        final = text.split("\nFROM ")[-1]  # the runtime stage
        self.assertRegex(final, rf"(?m)^USER {NONROOT_UID}(:{NONROOT_UID})?\s*$",
                         "the image must run as the uid the pod's runAsUser names")
        self.assertRegex(final, rf"(?m)^EXPOSE {self.metrics_port()}\b")
        entry = re.search(r"(?m)^ENTRYPOINT\s+(\[.*\])\s*$", final)
        self.assertIsNotNone(entry)
        self.assertEqual(yaml.safe_load(entry.group(1)), [BINARY])
        cmd = re.search(r"(?m)^CMD\s+(\[.*\])\s*$", final)
        self.assertIsNotNone(cmd)
        self.assertEqual(yaml.safe_load(cmd.group(1)), ["--config", self.config_arg()])

    # --- systemd and the package ------------------------------------------------------------------

    def test_systemd_execstart_config_is_the_packaged_config(self):
        unit = unit_directives(ROOT / "systemd" / "origin-reconciler.service")
        exec_start = shlex.split(unit["Service"]["ExecStart"][-1])
        self.assertEqual(exec_start[0], BINARY)
        config = flag_value(exec_start, "--config")
        self.assertEqual(config, DEFAULT_CONFIG)
        packaged = cmake_etc_installs(ROOT / "cmake" / "Packaging.cmake")
        self.assertIn(config, packaged, "ExecStart's --config is not a file the package installs")
        self.assertEqual(cmake_conffiles(ROOT / "cmake" / "Packaging.cmake"), packaged,
                         "every packaged /etc file must be a conffile, and only those")
        self.assertEqual(config, self.config_arg(),
                         "systemd and Kubernetes should use the same --config path")

    def test_systemd_unit_essentials(self):
        service = unit_directives(ROOT / "systemd" / "origin-reconciler.service")["Service"]
        self.assertEqual(service.get("Type"), ["notify"])
        self.assertEqual(service.get("NotifyAccess"), ["main"])
        self.assertTrue(any(v.startswith("cloudflare-api-token:")
                            for v in service.get("LoadCredential", [])),
                        "the daemon reads the credential named cloudflare-api-token")
        self.assertTrue(service.get("WatchdogSec"))

    # --- Prometheus -------------------------------------------------------------------------------

    def test_alert_rules_use_exported_metrics(self):
        rules = load_yaml(ROOT / "deploy" / "prometheus" / "alerts.yaml")
        names = set()
        for group in rules["groups"]:
            for rule in group["rules"]:
                names |= set(re.findall(r"\borigin_reconciler_[a-z_]+", rule["expr"]))
        self.assertTrue(names)
        for name in names:
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            self.assertTrue(name in METRICS or METRICS.get(base) == "histogram",
                            f"alerts.yaml uses {name}, which the daemon does not export")

    def test_prometheus_example_scrapes_the_default_listen_port(self):
        config = load_yaml(ROOT / "deploy" / "prometheus" / "prometheus.example.yaml")
        targets = [t for job in config["scrape_configs"]
                   for sc in job.get("static_configs", []) for t in sc["targets"]]
        self.assertTrue(targets)
        default = ROOT / "config" / "config.yaml"
        listen = "127.0.0.1:9464"
        if default.is_file():
            listen = (load_yaml(default) or {}).get("listen", listen)
        host, port = parse_listen(listen)
        self.assertIn(f"{'127.0.0.1' if host in ('0.0.0.0', 'localhost') else host}:{port}",
                      targets)
        self.assertIn("alerts.yaml", config.get("rule_files", []))


if __name__ == "__main__":
    unittest.main(verbosity=2)
