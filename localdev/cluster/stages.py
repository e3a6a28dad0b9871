"""kwok Stages: what a kubelet would do to the pods and nodes of the local cluster, failures included.

kwok runs no containers. It moves each pod through the Stages below, patching its status and creating the
Events a kubelet would post (with the image, container and pod names filled in). A scenario picks a
failure through a pod annotation, which a chart sets in its pod template::

    kgrca.io/fault: image-pull | crashloop | oomkilled | not-ready | exit-1 | missing-configmap

and any image on the reserved ``registry.invalid`` host (RFC 2606: it can never resolve) fails to pull,
annotation or not. A pod with neither starts, becomes Ready and, when a Job owns it, completes with exit 0.

Everything else stays real: the scheduler places pods (or reports them unschedulable), the controllers
run Deployments, ReplicaSets and Jobs (a pod that fails counts against a Job's ``backoffLimit``), and helm
talks to the real API server. Crash loops stop after a few restarts so a recording stays small.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FAULT_ANNOTATION = "kgrca.io/fault"
FAULTS = ("image-pull", "crashloop", "oomkilled", "not-ready", "exit-1", "missing-configmap")
UNPULLABLE_REGISTRY = "registry.invalid/"
# How many times a crash-looping container is restarted before it is left in CrashLoopBackOff.
MAX_RESTARTS = 4
NODE_LEASE_SECONDS = 40
# The namespace whose pods kwok gives logs (container_logs below): tests write the files, kwok serves them.
LOGS_NAMESPACE = "kgrca-logs"

# --- selectors -------------------------------------------------------------------------------------

_ANNOTATIONS = "has(self.metadata.annotations)"
_UNPULLABLE = f'self.spec.containers.exists(c, c.image.startsWith("{UNPULLABLE_REGISTRY}"))'


def _cel(expression: str) -> dict[str, Any]:
    return {"cel": {"expression": expression}}


def _jq(key: str, operator: str, *values: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        rule["values"] = list(values)
    return rule


def _fault(name: str) -> dict[str, Any]:
    """The pod asks for fault ``name`` (image-pull also when an image is on registry.invalid)."""
    asked = (f'{_ANNOTATIONS} && "{FAULT_ANNOTATION}" in self.metadata.annotations && '
             f'self.metadata.annotations["{FAULT_ANNOTATION}"] == "{name}"')
    if name == "image-pull":
        return _cel(f"({asked}) || {_UNPULLABLE}")
    return _cel(f"({asked}) && !{_UNPULLABLE}")


_HEALTHY = _cel(f'!({_ANNOTATIONS} && "{FAULT_ANNOTATION}" in self.metadata.annotations) && !{_UNPULLABLE}')
_ALIVE = _jq(".metadata.deletionTimestamp", "DoesNotExist")
_PENDING = _jq(".status.phase", "In", "Pending")
_RUNNING = _jq(".status.phase", "In", "Running")
_HAS_IP = _jq(".status.podIP", "Exists")
_CREATING = _jq(".status.containerStatuses.[0].state.waiting.reason", "In", "ContainerCreating")


def _waiting(reason: str) -> dict[str, Any]:
    return _jq(".status.containerStatuses.[0].state.waiting.reason", "In", reason)


# --- templates -----------------------------------------------------------------------------------

_FIRST = "(index .spec.containers 0)"
# A kubelet names a pod's events "<pod>.<hex nanoseconds>"; fields as `kubectl get events` shows them.
_EVENT = """\
{{{{ $now := Now }}}}
apiVersion: v1
kind: Event
metadata:
  name: {{{{ printf "%s.%x" .metadata.name (now).UnixNano | Quote }}}}
  namespace: {{{{ .metadata.namespace | Quote }}}}
involvedObject:
  apiVersion: v1
  kind: Pod
  name: {{{{ .metadata.name | Quote }}}}
  namespace: {{{{ .metadata.namespace | Quote }}}}
  uid: {{{{ .metadata.uid | Quote }}}}
  fieldPath: {{{{ printf "spec.containers{{%s}}" {first}.name | Quote }}}}
type: {type}
reason: {reason}
message: {{{{ {message} | Quote }}}}
source:
  component: kubelet
  host: {{{{ .spec.nodeName | Quote }}}}
firstTimestamp: {{{{ $now | Quote }}}}
lastTimestamp: {{{{ $now | Quote }}}}
count: 1
"""


def _event(kind: str, reason: str, message: str) -> dict[str, Any]:
    """A step creating a kubelet Event; ``message`` is a Go template pipeline over the pod."""
    return {"apply": {"template": _EVENT.format(type=kind, reason=reason, message=message, first=_FIRST)}}


_PULLED = _event("Normal", "Pulled",
                 f'printf "Container image \\"%s\\" already present on machine" {_FIRST}.image')
_CREATED = _event("Normal", "Created", f'printf "Created container: %s" {_FIRST}.name')
_STARTED = _event("Normal", "Started", f'printf "Started container %s" {_FIRST}.name')

_CONDITIONS = """\
conditions:
- type: Initialized
  status: "True"
  lastTransitionTime: {{{{ $now | Quote }}}}
- type: Ready
  status: "{ready}"
  lastTransitionTime: {{{{ $now | Quote }}}}{not_ready}
- type: ContainersReady
  status: "{ready}"
  lastTransitionTime: {{{{ $now | Quote }}}}{not_ready}
"""
_NOT_READY = """
  reason: ContainersNotReady
  message: {{ printf "containers with unready status: [%s]" (join " " $names) | Quote }}"""


def _conditions(ready: bool) -> str:
    names = '{{ $names := list }}{{ range .spec.containers }}{{ $names = append $names .name }}{{ end }}'
    text = _CONDITIONS.format(ready="True" if ready else "False", not_ready="" if ready else _NOT_READY)
    return names + "\n" + text


def _containers(state: str, ready: bool = False, started: bool = False, restarts: str = "0",
                last_state: str = "") -> str:
    """containerStatuses with every container in ``state`` (a YAML fragment indented for `state:`)."""
    return f"""\
containerStatuses:
{{{{ range $index, $c := .spec.containers }}}}
{{{{ $old := dict }}}}{{{{ with $.status.containerStatuses }}}}{{{{ if lt $index (len .) }}}}
{{{{ $old = index . $index }}}}{{{{ end }}}}{{{{ end }}}}
- name: {{{{ $c.name | Quote }}}}
  image: {{{{ $c.image | Quote }}}}
  imageID: ""
  ready: {str(ready).lower()}
  started: {str(started).lower()}
  restartCount: {restarts}
  state:
{state}
{last_state}
{{{{ end }}}}
"""


def _status(*parts: str, phase: str) -> str:
    return "{{ $now := Now }}\n" + "\n".join(parts) + f"\nphase: {phase}\n"


def _patch(template: str) -> dict[str, Any]:
    return {"patch": {"subresource": "status", "root": "status", "template": template}}


def _stage(name: str, selector: list[dict[str, Any]], steps: list[dict[str, Any]], delay_ms: int = 500,
           kind: str = "Pod") -> dict[str, Any]:
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": name},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": kind},
            "selector": {"matchExpressions": selector},
            "delay": {"durationMilliseconds": delay_ms},
            "steps": steps,
        },
    }


_RUNNING_STATE = "    running:\n      startedAt: {{ $now | Quote }}"
# When the container now ending had started (a kubelet reports both times).
_STARTED_AT = '{{ dig "state" "running" "startedAt" $now $old | Quote }}'


def _ended(code: int, reason: str) -> str:
    """A terminated state, indented for ``state:``."""
    return (f"    terminated:\n      exitCode: {code}\n      reason: {reason}\n"
            f"      startedAt: {_STARTED_AT}\n      finishedAt: {{{{ $now | Quote }}}}")
_OLD_RESTARTS = "(int (default 0 $old.restartCount))"


def _terminated(reason: str, code: int) -> str:
    return f"""\
  lastState:
    terminated:
      exitCode: {code}
      reason: {reason}
      startedAt: {_STARTED_AT}
      finishedAt: {{{{ $now | Quote }}}}"""


def pod_stages() -> list[dict[str, Any]]:
    """Every pod Stage: the healthy lifecycle first, then one short chain per fault."""
    create = _status(
        "hostIP: {{ NodeIPWith .spec.nodeName | Quote }}",
        "podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid \"\" ) "
        "( or .metadata.name \"\" ) ( or .metadata.namespace \"\" ) | Quote }}",
        "startTime: {{ $now | Quote }}",
        _conditions(ready=False),
        _containers("    waiting:\n      reason: ContainerCreating"),
        phase="Pending")
    stages = [
        _stage("pod-create", [_ALIVE, _jq(".spec.nodeName", "Exists"),
                              _jq(".status.podIP", "DoesNotExist")], [_patch(create)]),
        _stage("pod-ready", [_ALIVE, _PENDING, _HAS_IP, _CREATING, _HEALTHY],
               [_PULLED, _CREATED, _STARTED, _patch(running_ready_template())], delay_ms=1000),
        _stage("pod-complete", [_ALIVE, _RUNNING, _HEALTHY,
                                _jq(".metadata.ownerReferences.[].kind", "In", "Job")],
               [_patch(_status(_conditions(ready=False), _containers(_ended(0, "Completed")),
                               phase="Succeeded"))], delay_ms=1500),
        _stage("pod-delete", [_jq(".metadata.deletionTimestamp", "Exists")], [{"delete": True}]),
    ]
    stages += _image_pull_stages()
    stages += _crash_stages("crashloop", "Error", 1)
    stages += _crash_stages("oomkilled", "OOMKilled", 137)
    stages += [
        # Readiness probe keeps failing: running, never Ready, Unhealthy warnings as the kubelet posts.
        _stage("fault-not-ready", [_ALIVE, _PENDING, _HAS_IP, _CREATING, _fault("not-ready")],
               [_PULLED, _CREATED, _STARTED,
                _event("Warning", "Unhealthy",
                       '"Readiness probe failed: HTTP probe failed with statuscode: 503"'),
                _patch(_status(_conditions(ready=False),
                               _containers(_RUNNING_STATE, ready=False, started=True), phase="Running"))],
               delay_ms=1000),
        # The process exits 1: with restartPolicy Never the pod fails and its Job counts a failure.
        _stage("fault-exit-1-start", [_ALIVE, _PENDING, _HAS_IP, _CREATING, _fault("exit-1")],
               [_PULLED, _CREATED, _STARTED,
                _patch(_status(_conditions(ready=True), _containers(_RUNNING_STATE, ready=True, started=True),
                               phase="Running"))], delay_ms=1000),
        _stage("fault-exit-1-fail", [_ALIVE, _RUNNING, _fault("exit-1")],
               [_patch(_status(_conditions(ready=False), _containers(_ended(1, "Error")),
                               phase="Failed"))], delay_ms=1500),
        # A ConfigMap the container's environment refers to does not exist.
        _stage("fault-missing-configmap", [_ALIVE, _PENDING, _HAS_IP, _CREATING, _fault("missing-configmap")],
               [_event("Warning", "Failed", 'printf "Error: configmap \\"%s\\" not found" '
                                            '(include "configmap" .)'),
                _patch(_status(_conditions(ready=False), _containers(
                    "    waiting:\n      reason: CreateContainerConfigError\n"
                    "      message: {{ printf \"configmap \\\"%s\\\" not found\" (include \"configmap\" $) "
                    "| Quote }}"), phase="Pending"))], delay_ms=1000),
    ]
    return [_with_configmap_name(stage) for stage in stages]


def _with_configmap_name(stage: dict[str, Any]) -> dict[str, Any]:
    """Expand ``include "configmap" X``: the first ConfigMap the pod's containers or volumes name."""
    finder = ('{{ $cm := "" }}{{ range .spec.containers }}{{ range .envFrom }}{{ with .configMapRef }}'
              '{{ if not $cm }}{{ $cm = .name }}{{ end }}{{ end }}{{ end }}{{ range .env }}{{ with .valueFrom }}'
              '{{ with .configMapKeyRef }}{{ if not $cm }}{{ $cm = .name }}{{ end }}{{ end }}{{ end }}{{ end }}'
              '{{ end }}{{ range .spec.volumes }}{{ with .configMap }}{{ if not $cm }}{{ $cm = .name }}{{ end }}'
              '{{ end }}{{ end }}')
    for step in stage["spec"]["steps"]:
        for key in ("patch", "apply"):
            body = step.get(key)
            if body and "include \"configmap\"" in body["template"]:
                text = body["template"].replace('(include "configmap" .)', "$cm")
                text = text.replace('(include "configmap" $)', "$cm")
                body["template"] = finder + "\n" + text
    return stage


def _pull_error(image: str) -> str:
    """The container runtime's pull error for ``image`` (a template expression), as a kubelet reports it."""
    reason = (f'(ternary (printf "dial tcp: lookup %s: no such host" (first (splitList "/" {image}))) '
              f'(printf "%s: not found" {image}) (hasPrefix "{UNPULLABLE_REGISTRY}" {image}))')
    return (f'(printf "rpc error: code = NotFound desc = failed to pull and unpack image \\"%s\\": '
            f'failed to resolve reference \\"%s\\": %s" {image} {image} {reason})')


def _image_pull_stages() -> list[dict[str, Any]]:
    image = f"{_FIRST}.image"  # events name the pod's first container, as most kubelet events do
    waiting = "    waiting:\n      reason: {reason}\n      message: {{{{ {message} | Quote }}}}"
    err_pull = _status(_conditions(ready=False), _containers(
        waiting.format(reason="ErrImagePull", message=_pull_error("$c.image"))), phase="Pending")
    backoff = _status(_conditions(ready=False), _containers(
        waiting.format(reason="ImagePullBackOff",
                       message=f'(printf "Back-off pulling image \\"%s\\": ErrImagePull: %s" $c.image '
                               f'{_pull_error("$c.image")})')),
        phase="Pending")
    return [
        _stage("fault-image-pull", [_ALIVE, _PENDING, _HAS_IP, _CREATING, _fault("image-pull")],
               [_event("Normal", "Pulling", f'printf "Pulling image \\"%s\\"" {image}'),
                _event("Warning", "Failed", f'printf "Failed to pull image \\"%s\\": %s" {image} '
                                            f'{_pull_error(image)}'),
                _event("Warning", "Failed", '"Error: ErrImagePull"'),
                _patch(err_pull)], delay_ms=1000),
        _stage("fault-image-pull-backoff", [_ALIVE, _PENDING, _waiting("ErrImagePull"), _fault("image-pull")],
               [_event("Normal", "BackOff", f'printf "Back-off pulling image \\"%s\\"" {image}'),
                _event("Warning", "Failed", '"Error: ImagePullBackOff"'),
                _patch(backoff)], delay_ms=2000),
    ]


def _crash_stages(fault: str, reason: str, code: int) -> list[dict[str, Any]]:
    """Start, die with ``reason``/``code``, back off, restart ... until MAX_RESTARTS, then stay backed off."""
    crashed = _status(_conditions(ready=False), _containers(
        "    waiting:\n      reason: CrashLoopBackOff\n      message: {{ printf \"back-off %ds restarting failed "
        "container=%s pod=%s_%s(%s)\" (mul 10 (add 1 (int (default 0 $old.restartCount)))) $c.name "
        "$.metadata.name $.metadata.namespace $.metadata.uid | Quote }}",
        restarts=f"{{{{ add 1 {_OLD_RESTARTS} }}}}", last_state=_terminated(reason, code)), phase="Running")
    restarted = _status(_conditions(ready=True), _containers(
        _RUNNING_STATE, ready=True, started=True, restarts=f"{{{{ {_OLD_RESTARTS} }}}}",
        last_state="  lastState:{{ with $old.lastState }}{{ YAML . 2 }}{{ end }}"),
        phase="Running")
    running = _jq(".status.containerStatuses.[0].state.running", "Exists")
    return [
        _stage(f"fault-{fault}-start", [_ALIVE, _PENDING, _HAS_IP, _CREATING, _fault(fault)],
               [_PULLED, _CREATED, _STARTED, _patch(running_ready_template())], delay_ms=1000),
        _stage(f"fault-{fault}-crash", [_ALIVE, _RUNNING, running, _fault(fault)],
               [_event("Warning", "BackOff", 'printf "Back-off restarting failed container %s in pod %s_%s(%s)" '
                                             f'{_FIRST}.name .metadata.name .metadata.namespace .metadata.uid'),
                _patch(crashed)], delay_ms=1500),
        _stage(f"fault-{fault}-restart",
               [_ALIVE, _RUNNING, _waiting("CrashLoopBackOff"), _fault(fault),
                # jq, not CEL: kwok's CEL types do not resolve ContainerStatus fields.
                _jq(f"(.status.containerStatuses[0].restartCount // 0) < {MAX_RESTARTS}", "In", "true")],
               [_PULLED, _CREATED, _STARTED, _patch(restarted)], delay_ms=3000),
    ]


def running_ready_template() -> str:
    return _status(_conditions(ready=True), _containers(_RUNNING_STATE, ready=True, started=True),
                   phase="Running")


def node_stages() -> list[dict[str, Any]]:
    """Nodes become Ready at once; kwok renews their Leases, and status is re-posted every 5 minutes."""
    conditions = """\
conditions:
{{ range NodeConditions }}
- type: {{ .type | Quote }}
  status: {{ .status | Quote }}
  reason: {{ .reason | Quote }}
  message: {{ .message | Quote }}
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ (or $.metadata.creationTimestamp $now) | Quote }}
{{ end }}
"""
    initialize = ("{{ $now := Now }}\n" + conditions + """\
addresses:
- type: InternalIP
  address: {{ NodeIP | Quote }}
{{ with NodePort }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ . }}
{{ end }}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  osImage: kwok
  kernelVersion: {{ printf "kwok-v%s" Version | Quote }}
  containerRuntimeVersion: {{ printf "kwok-v%s" Version | Quote }}
  kubeletVersion: {{ printf "kwok-v%s" Version | Quote }}
  kubeProxyVersion: {{ printf "kwok-v%s" Version | Quote }}
  machineID: ""
  bootID: ""
  systemUUID: ""
phase: Running
""")
    ready = _jq('.status.conditions.[] | select( .type == "Ready" ) | .status', "In", "True")
    not_ready = _jq('.status.conditions.[] | select( .type == "Ready" ) | .status', "NotIn", "True")
    return [
        _stage("node-initialize", [not_ready], [_patch(initialize)], delay_ms=0, kind="Node"),
        _stage("node-heartbeat", [ready], [_patch("{{ $now := Now }}\n" + conditions)], delay_ms=300_000,
               kind="Node"),
    ]


def container_logs(directory: Path) -> dict[str, Any]:
    """kwok's ClusterLogs: the pods of ``LOGS_NAMESPACE`` get ``directory``'s files as their containers' logs, served
    through the API server (``kubectl logs``, ``--previous``) by kwok's kubelet endpoint. Other namespaces have no
    logs (kwok answers "no logs found"), as a cluster whose kubelet lost them would."""
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "container-logs"},
            "spec": {"selector": {"matchNamespaces": [LOGS_NAMESPACE]},
                     "logs": [{"logsFile": str(directory / "current.log"),
                               "previousLogsFile": str(directory / "previous.log")}]}}


def write_kwok_config(path: Path, logs: Path | None = None) -> bool:
    """Write kwok's configuration file (the Stages above, one YAML document each, and the ClusterLogs of ``logs``
    where given); True if it changed."""
    documents = node_stages() + pod_stages() + ([container_logs(logs)] if logs is not None else [])
    text = yaml.safe_dump_all(documents, sort_keys=False, width=1000)
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True
