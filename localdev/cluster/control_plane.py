"""Run the local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.

Each piece is started detached, with a pid file and a log under ``<data>/cluster``, and is ready only when
its own health endpoint says so. ``up`` is idempotent: pieces already running and healthy are kept. The
cluster is ready when the API server's ``/readyz`` passes, every kwok node is Ready and a pod really goes
through the scheduler and kwok to Running.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from kgrca.config import Config
from kgrca.contracts import KgrcaError
from localdev.cluster import build, gitops_crds, processes
from localdev.cluster.kubeconfigs import write_kubeconfig
from localdev.cluster.layout import (
    APISERVER_PORT,
    CONTROLLER_MANAGER_PORT,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    HOST,
    KWOK_PORT,
    SCHEDULER_PORT,
    Layout,
)
from localdev.cluster.pki import CLIENTS, SERVICE_CIDR, ensure_pki
from localdev.cluster.stages import NODE_LEASE_SECONDS, write_kwok_config

NODE_ANNOTATION = "kwok.x-k8s.io/node"
NODES = ("kwok-node-0", "kwok-node-1")
# What each fake node offers the scheduler: small enough that a chart asking for more is unschedulable.
NODE_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"}
POD_CIDR = "10.244.0.0/16"  # only written into pod status by kwok; nothing ever connects to these addresses
SMOKE_NAMESPACE = "kgrca-smoke"

Say = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    binary: str
    port: int
    health_path: str
    scheme: str
    ready_timeout: float


COMPONENTS: tuple[Component, ...] = (
    Component("etcd", "etcd", ETCD_CLIENT_PORT, "/health", "http", 30),
    Component("kube-apiserver", "kube-apiserver", APISERVER_PORT, "/readyz", "https", 120),
    Component("kube-controller-manager", "kube-controller-manager", CONTROLLER_MANAGER_PORT, "/healthz",
              "https", 60),
    Component("kube-scheduler", "kube-scheduler", SCHEDULER_PORT, "/healthz", "https", 60),
    Component("kwok", "kwok", KWOK_PORT, "/healthz", "http", 30),
)


@dataclasses.dataclass
class ComponentStatus:
    name: str
    pid: int | None
    port: int
    healthy: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _argv(component: Component, binary: Path, layout: Layout) -> list[str]:
    pki = layout.pki
    if component.name == "etcd":
        client, peer = f"http://{HOST}:{ETCD_CLIENT_PORT}", f"http://{HOST}:{ETCD_PEER_PORT}"
        return [str(binary), "--name=kgrca", f"--data-dir={layout.etcd_data}",
                f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=kgrca={peer}", "--initial-cluster-state=new",
                # A throw-away test cluster: skipping fsync makes every write cheap on a shared disk.
                "--unsafe-no-fsync=true", "--quota-backend-bytes=2147483648",
                "--auto-compaction-mode=periodic", "--auto-compaction-retention=10m", "--log-level=warn"]
    if component.name == "kube-apiserver":
        return [str(binary), f"--etcd-servers=http://{HOST}:{ETCD_CLIENT_PORT}",
                f"--bind-address={HOST}", f"--secure-port={APISERVER_PORT}", f"--advertise-address={HOST}",
                f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC", "--allow-privileged=true",
                # The only address is loopback, which Endpoints may not hold: no endpoints for `kubernetes`.
                "--endpoint-reconciler-type=none",
                # ConfigMaps are watched straight from etcd: a watch from a compacted resourceVersion then answers
                # 410 Gone at once, as on a cluster that has run for days. With a watch cache whose buffer never
                # filled (a young cluster), the API server replays the current objects as ADDED instead, and the
                # watcher's 410 path (tests/test_watch.py) would depend on how much the cluster did before.
                "--watch-cache-sizes=configmaps#0",
                "--profiling=false", "--v=1"]
    kubeconfig = layout.component_kubeconfig(component.name.removeprefix("kube-"))
    if component.name == "kube-controller-manager":
        return [str(binary), f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}", f"--bind-address={HOST}",
                f"--secure-port={CONTROLLER_MANAGER_PORT}", "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}", f"--cert-dir={layout.run / 'kcm-certs'}",
                "--profiling=false", "--v=1"]
    if component.name == "kube-scheduler":
        return [str(binary), f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}", f"--bind-address={HOST}",
                f"--secure-port={SCHEDULER_PORT}", "--leader-elect=false",
                f"--cert-dir={layout.run / 'scheduler-certs'}", "--profiling=false", "--v=1"]
    if component.name == "kwok":
        return [str(binary), f"--kubeconfig={kubeconfig}", f"--config={layout.config / 'kwok.yaml'}",
                "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={NODE_ANNOTATION}=fake",
                f"--node-ip={HOST}", f"--cidr={POD_CIDR}", f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
                f"--server-address={HOST}:{KWOK_PORT}",
                # the node's kubelet endpoint: the API server reaches kwok there for `kubectl logs`
                f"--node-port={KWOK_PORT}"]
    raise AssertionError(component.name)


def _ssl_context(layout: Layout, component: Component) -> ssl.SSLContext:
    if component.name == "kube-apiserver":
        context = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
        context.load_cert_chain(str(layout.pki / "admin.crt"), str(layout.pki / "admin.key"))
        return context
    # The controller manager and scheduler serve a self-signed certificate made at start: only the
    # answer matters here, and it comes from a port that process holds.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def check_health(layout: Layout, component: Component) -> tuple[bool, str]:
    """Ask the component's health endpoint; (healthy, what it said)."""
    url = f"{component.scheme}://{HOST}:{component.port}{component.health_path}"
    context = _ssl_context(layout, component) if component.scheme == "https" else None
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            body = response.read(2000).decode(errors="replace").strip()
            if component.name == "etcd":
                return json.loads(body).get("health") == "true", body
            return response.status == 200 and body == "ok", body
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code} from {url}"
    except (OSError, ValueError) as exc:
        return False, f"{url}: {getattr(exc, 'reason', exc)}"


def _last_log_line(layout: Layout, name: str) -> str:
    try:
        lines = [line for line in layout.log_file(name).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "empty log"


def _prepare(cfg: Config, layout: Layout) -> dict[str, Path]:
    # helm is not needed to run the cluster: `cluster.helm_binary()` builds it when first asked for.
    binaries = build.ensure_built(cfg, tuple(dict.fromkeys([c.binary for c in COMPONENTS] + ["kubectl"])))
    for folder in (layout.root, layout.run, layout.logs, layout.config, layout.etcd_data):
        folder.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.chmod(0o700)
    ensure_pki(layout.pki)
    users = {client.stem: client.user for client in CLIENTS}
    write_kubeconfig(layout.kubeconfig, layout.pki, "admin", users["admin"])
    for stem in ("controller-manager", "scheduler", "kwok"):
        write_kubeconfig(layout.component_kubeconfig(stem), layout.pki, stem, users[stem])
    layout.container_logs.mkdir(parents=True, exist_ok=True)
    if write_kwok_config(layout.config / "kwok.yaml", layout.container_logs):
        # kwok reads its Stages once at start: a running kwok must be restarted to pick up new ones.
        processes.stop(layout.pid_file("kwok"), binaries["kwok"], "kwok")
    return binaries


def _start_component(layout: Layout, component: Component, binary: Path, say: Say) -> None:
    pid = processes.running_pid(layout.pid_file(component.name), binary)
    if pid is not None and check_health(layout, component)[0]:
        say(f"{component.name}: already running (pid {pid})")
        return
    if pid is None:
        if processes.port_in_use(HOST, component.port):
            raise KgrcaError(f"port {component.port} on {HOST} is taken by another program, so {component.name} "
                             f"cannot start: stop that program (`ss -ltnp 'sport = :{component.port}'` names it)")
        pid = processes.start(_argv(component, binary, layout), layout.pid_file(component.name),
                              layout.log_file(component.name))
        say(f"{component.name}: started (pid {pid}), waiting for {component.health_path} ...")
    began = time.monotonic()
    detail = ""
    while time.monotonic() - began < component.ready_timeout:
        if processes.exited_early(pid):
            layout.pid_file(component.name).unlink(missing_ok=True)
            raise KgrcaError(f"{component.name} exited at start: {_last_log_line(layout, component.name)} "
                             f"(log: {layout.log_file(component.name)})")
        healthy, detail = check_health(layout, component)
        if healthy:
            say(f"{component.name}: healthy after {time.monotonic() - began:.1f}s")
            return
        time.sleep(0.3)
    raise KgrcaError(f"{component.name} not healthy after {component.ready_timeout:.0f}s ({detail}); "
                     f"log: {layout.log_file(component.name)}")


def kubectl(cfg: Config, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
    """Run kubectl against the local cluster; its output, or KgrcaError with kubectl's own message."""
    layout = Layout.of(cfg)
    binary = build.binary_path(cfg, "kubectl")
    result = subprocess.run([str(binary), f"--kubeconfig={layout.kubeconfig}", *args], input=stdin,
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        message = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise KgrcaError(f"kubectl {' '.join(args[:3])} failed: {message}")
    return result.stdout


def _release_node_leases(cfg: Config, layout: Layout, binary: Path) -> None:
    """Before a new kwok starts, delete the node Leases an earlier kwok held.

    Each kwok process renews leases under its own identity and leaves a node alone while another holder's
    lease is unexpired, so a restarted kwok would otherwise sit idle for the lease duration.
    """
    if processes.running_pid(layout.pid_file("kwok"), binary) is not None:
        return
    kubectl(cfg, "delete", "lease", "-n", "kube-node-lease", "--ignore-not-found", *NODES)


def _node_manifest(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "node-role.kubernetes.io/worker": "", "type": "kwok"},
        },
        "spec": {},
        # A kubelet registers its node with capacity; the API server keeps status given at creation.
        "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
    }


def _wait(what: str, check: Callable[[], bool], timeout: float) -> float:
    began = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - began
        except KgrcaError:
            pass
        if time.monotonic() - began > timeout:
            raise KgrcaError(f"the local cluster is up but {what} did not happen within {timeout:.0f}s; "
                             "see `kgrca cluster status` and the logs it names")
        time.sleep(0.5)


def _ensure_nodes(cfg: Config, say: Say) -> None:
    existing = set(kubectl(cfg, "get", "nodes", "-o", "name").split())
    for name in NODES:
        if f"node/{name}" not in existing:
            kubectl(cfg, "create", "-f", "-", stdin=json.dumps(_node_manifest(name)))

    def all_ready() -> bool:
        nodes = json.loads(kubectl(cfg, "get", "nodes", "-o", "json"))["items"]
        ready = {n["metadata"]["name"] for n in nodes
                 if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))}
        return set(NODES) <= ready

    took = _wait(f"nodes {', '.join(NODES)} becoming Ready", all_ready, 60)
    say(f"nodes {', '.join(NODES)} Ready after {took:.1f}s")
    # Nodes made before kwok served logs lack the kubelet endpoint the API server proxies `kubectl logs` to (and a
    # Hostname address it would try first and cannot resolve): set them as the node Stage now does.
    for name in NODES:
        kubectl(cfg, "patch", "node", name, "--subresource=status", "--type=merge", "-p", json.dumps(
            {"status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": KWOK_PORT}},
                        "addresses": [{"type": "InternalIP", "address": HOST}]}}))


def _smoke_pod(cfg: Config, say: Say) -> None:
    """A pod must really be scheduled and reach Running through kwok before we call the cluster ready."""
    kubectl(cfg, "apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SMOKE_NAMESPACE}}))
    _wait("the default ServiceAccount appearing", lambda: bool(
        kubectl(cfg, "get", "serviceaccount", "default", "-n", SMOKE_NAMESPACE, "-o", "name").strip()), 60)
    name = f"smoke-{int(time.time())}"
    kubectl(cfg, "run", name, "-n", SMOKE_NAMESPACE, "--image=registry.k8s.io/pause:3.10", "--restart=Never")

    def running() -> bool:
        return kubectl(cfg, "get", "pod", name, "-n", SMOKE_NAMESPACE,
                       "-o", "jsonpath={.status.phase}").strip() == "Running"

    took = _wait(f"pod {SMOKE_NAMESPACE}/{name} reaching Running", running, 60)
    say(f"test pod {SMOKE_NAMESPACE}/{name} Running after {took:.1f}s")
    kubectl(cfg, "delete", "pod", name, "-n", SMOKE_NAMESPACE, "--wait=false")


def up(cfg: Config, say: Say) -> Path:
    """Build (cached), start every piece, check readiness honestly; return the admin kubeconfig path."""
    began = time.monotonic()
    layout = Layout.of(cfg)
    binaries = _prepare(cfg, layout)
    for component in COMPONENTS:
        if component.name == "kwok":
            _release_node_leases(cfg, layout, binaries["kwok"])
        _start_component(layout, component, binaries[component.binary], say)
    _ensure_nodes(cfg, say)
    # The GitOps controllers' CRDs (Flux, Argo CD), so their objects can be written and watched for real.
    gitops_crds.install(cfg, say)
    _smoke_pod(cfg, say)
    say(f"cluster ready in {time.monotonic() - began:.1f}s; kubeconfig: {layout.kubeconfig}")
    return layout.kubeconfig


def is_ready(cfg: Config) -> bool:
    """Every component running and healthy (cheap: no pod is started)."""
    return all(s.healthy for s in status(cfg))


def down(cfg: Config, say: Say, purge: bool = False) -> None:
    """Stop every piece (newest first) and remove pid files; with ``purge`` also delete all cluster data."""
    layout = Layout.of(cfg)
    for component in reversed(COMPONENTS):
        binary = build.binary_path(cfg, component.binary)
        if processes.stop(layout.pid_file(component.name), binary, component.name):
            say(f"{component.name}: stopped")
        else:
            say(f"{component.name}: not running")
    if purge and layout.root.exists():
        shutil.rmtree(layout.root)
        say(f"removed {layout.root}")


def status(cfg: Config) -> list[ComponentStatus]:
    layout = Layout.of(cfg)
    result = []
    for component in COMPONENTS:
        pid = processes.running_pid(layout.pid_file(component.name), build.binary_path(cfg, component.binary))
        if pid is None:
            result.append(ComponentStatus(component.name, None, component.port, False, "not running"))
            continue
        healthy, detail = check_health(layout, component)
        result.append(ComponentStatus(component.name, pid, component.port, healthy, detail))
    return result
