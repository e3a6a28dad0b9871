"""Graph facts for workloads of any owner: CronJobs, HPAs, PodDisruptionBudgets, container specs (docs/graph-model.md).

Registered by kg_builder/k8s_objects.py: ``PROPS[(group, kind)]`` returns properties merged into the object's,
``ROWS[(group, kind)]`` yields extra (Statement, row) pairs; the core group is "".

Every property is copied from a field of the object; a field the object does not have gives no property
(None removes it), so a pattern can tell "not set" from any value. Quantities stay the strings the API
server returns ("500m", "128Mi"). The container lists (``container_names``, ``cpu_requests``, ...) are
parallel: index i is the i-th container of ``spec.containers`` (init containers are not in them).
"""

from __future__ import annotations

from typing import Any

from kg_builder.times import parse_time

Obj = dict[str, Any]


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _status(obj: Obj) -> Obj:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _condition(status: Obj, kind: str) -> Obj:
    return next((c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type") == kind), {})


def _quantity(container: Obj, section: str, resource: str) -> str:
    """One container's request or limit as given, "" when not set (so the lists stay parallel)."""
    value = (((container.get("resources") or {}).get(section)) or {}).get(resource)
    return "" if value is None else str(value)


def _probe_text(container: Obj, which: str) -> str | None:
    """A probe as one line of its own fields: `readiness httpGet :8080/healthz period=10s failure=3`."""
    probe = container.get(which + "Probe")
    if not isinstance(probe, dict):
        return None
    how = ""
    if isinstance(probe.get("httpGet"), dict):
        http = probe["httpGet"]
        how = f"httpGet :{http.get('port')}{http.get('path') or ''}"
    elif isinstance(probe.get("tcpSocket"), dict):
        how = f"tcpSocket :{probe['tcpSocket'].get('port')}"
    elif isinstance(probe.get("grpc"), dict):
        how = f"grpc :{probe['grpc'].get('port')}"
    elif isinstance(probe.get("exec"), dict):
        how = "exec " + " ".join(str(a) for a in probe["exec"].get("command") or [])
    fields = [f"{name}={probe[key]}" for key, name in (
        ("initialDelaySeconds", "delay"), ("periodSeconds", "period"), ("timeoutSeconds", "timeout"),
        ("failureThreshold", "failure")) if probe.get(key) is not None]
    return " ".join([f"{container.get('name')} {which}", how, *fields]).strip()


def _handler_text(handler: Obj) -> str:
    """A lifecycle hook's handler as its own fields say: `exec sh -c ...`, `httpGet :8080/quit`, `sleep 5s`."""
    if isinstance(handler.get("exec"), dict):
        return "exec " + " ".join(str(a) for a in handler["exec"].get("command") or [])
    if isinstance(handler.get("httpGet"), dict):
        http = handler["httpGet"]
        scheme = f"{http['scheme']} " if http.get("scheme") and http.get("scheme") != "HTTP" else ""
        return f"httpGet {scheme}{http.get('host') or ''}:{http.get('port')}{http.get('path') or ''}"
    if isinstance(handler.get("tcpSocket"), dict):
        return f"tcpSocket :{handler['tcpSocket'].get('port')}"
    if isinstance(handler.get("sleep"), dict):
        return f"sleep {handler['sleep'].get('seconds')}s"
    return "no handler given"


def _lifecycle_hooks(containers: list[Obj]) -> list[str]:
    """One line per container hook: `<container> postStart exec /bin/sh -c ...` (what the kubelet runs)."""
    hooks = []
    for container in containers:
        lifecycle = container.get("lifecycle")
        for which in ("postStart", "preStop"):
            handler = lifecycle.get(which) if isinstance(lifecycle, dict) else None
            if isinstance(handler, dict):
                hooks.append(f"{container.get('name')} {which} {_handler_text(handler)}")
    return hooks


def pod_spec_props(spec: Obj) -> Obj:
    """The container facts of a pod spec (a Pod's, or a controller's pod template): what was asked, not guessed."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    probes = [text for c in containers for which in ("liveness", "readiness", "startup")
              if (text := _probe_text(c, which))]
    ports = [f"{c.get('name')}:{p.get('containerPort')}/{p.get('protocol') or 'TCP'}"
             for c in containers for p in c.get("ports") or [] if isinstance(p, dict)]
    return {
        "service_account": spec.get("serviceAccountName") or spec.get("serviceAccount"),
        "container_names": [str(c.get("name")) for c in containers] or None,
        "cpu_requests": [_quantity(c, "requests", "cpu") for c in containers] or None,
        "memory_requests": [_quantity(c, "requests", "memory") for c in containers] or None,
        "cpu_limits": [_quantity(c, "limits", "cpu") for c in containers] or None,
        "probes": probes or None,
        "container_ports": ports or None,
        "lifecycle_hooks": _lifecycle_hooks(containers) or None,
    }


def _terminated_nonzero(status: Obj) -> list[str]:
    """Containers (init ones too) whose current state is terminated with a non-zero exit code."""
    names = []
    for field in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(field) or []:
            terminated = ((container.get("state") or {}).get("terminated")) if isinstance(container, dict) else None
            if isinstance(terminated, dict) and terminated.get("exitCode") not in (None, 0):
                names.append(str(container.get("name")))
    return names


def pod_props(obj: Obj) -> Obj:
    spec = _spec(obj)
    props = pod_spec_props(spec)
    stopped = _terminated_nonzero(_status(obj))
    # only a container the kubelet will not restart stays terminated: restartPolicy Never, or OnFailure once
    # the pod itself failed; set true or removed, indexed so pod_exited_nonzero seeks the few such pods
    final = spec.get("restartPolicy") == "Never" or (spec.get("restartPolicy") == "OnFailure"
                                                      and _status(obj).get("phase") == "Failed")
    props["exited_nonzero"] = True if stopped and final else None
    props["exited_containers"] = stopped or None
    # spec.schedulingGates: the scheduler leaves the pod alone until every gate is removed; indexed so
    # pod_scheduling_gated seeks the few gated pods (true or removed)
    gates = [str(g.get("name")) for g in spec.get("schedulingGates") or [] if isinstance(g, dict)]
    props["scheduling_gates"] = gates or None
    props["scheduling_gated"] = True if gates else None
    return props


def job_props(obj: Obj) -> Obj:
    spec = _spec(obj)
    status = _status(obj)
    failed = _condition(status, "Failed")
    template = ((spec.get("template") or {}).get("spec")) or {}
    return {
        "failed_at": parse_time(failed.get("lastTransitionTime")) if failed.get("status") == "True" else None,
        "restart_policy": template.get("restartPolicy"),
        "suspend": spec.get("suspend"),
        "ready_pods": status.get("ready"),
        "service_account": template.get("serviceAccountName") or template.get("serviceAccount"),
    }


def workload_props(obj: Obj) -> Obj:
    """ReplicaSet, StatefulSet and DaemonSet counters k8s_objects does not keep, and their template's facts."""
    status = _status(obj)
    spec = _spec(obj)
    props = pod_spec_props(((spec.get("template") or {}).get("spec")) or {})
    props.update({
        "status_replicas": status.get("replicas"),
        "current_replicas": status.get("currentReplicas"),
        "current_revision": status.get("currentRevision"),
        "update_revision": status.get("updateRevision"),
        "current_scheduled": status.get("currentNumberScheduled"),
        "misscheduled": status.get("numberMisscheduled"),
        "pod_management_policy": spec.get("podManagementPolicy"),
        "short_of_pods": _short_of_pods(obj),
    })
    return props


def _short_of_pods(obj: Obj) -> bool | None:
    """True while the controller runs fewer ready pods than it asks for, else None (the property is removed).

    A Deployment, ReplicaSet or StatefulSet against ``spec.replicas`` (1 when unset, the API's default); a
    DaemonSet against ``desiredNumberScheduled``, or with a daemon pod on a node that should not run one
    (``numberMisscheduled``). Indexed, so workload_unavailable seeks the few such controllers."""
    spec = _spec(obj)
    status = _status(obj)
    if obj.get("kind") == "DaemonSet":
        desired = status.get("desiredNumberScheduled") or 0
        short = ((status.get("numberReady") or 0) < desired or (status.get("currentNumberScheduled") or 0) < desired
                 or (status.get("numberMisscheduled") or 0) > 0)
    else:
        wanted = spec.get("replicas")
        short = (status.get("readyReplicas") or 0) < (1 if wanted is None else wanted)
    return True if short else None


def cronjob_props(obj: Obj) -> Obj:
    spec = _spec(obj)
    status = _status(obj)
    return {
        "schedule": spec.get("schedule"),
        "time_zone": spec.get("timeZone"),
        "suspend": spec.get("suspend"),
        "concurrency_policy": spec.get("concurrencyPolicy"),
        "starting_deadline_seconds": spec.get("startingDeadlineSeconds"),
        "active_jobs": len(status.get("active") or []),
        "last_schedule_time": parse_time(status.get("lastScheduleTime")),
        "last_successful_time": parse_time(status.get("lastSuccessfulTime")),
    }


def _condition_flat(prefix: str, condition: Obj) -> Obj:
    """A condition's status, reason, message and lastTransitionTime as ``<prefix>_status`` ... ``<prefix>_since``
    (a property holds no map); a condition the object does not report gives none of them."""
    if not condition:
        return {}
    return {f"{prefix}_status": condition.get("status"), f"{prefix}_reason": condition.get("reason"),
            f"{prefix}_message": condition.get("message") or None,
            f"{prefix}_since": parse_time(condition.get("lastTransitionTime"))}


def _metric_text(metric: Obj, target_side: bool) -> str | None:
    """One metric as its fields say: `cpu resource utilization 80%`, `pods packets-per-second average 1k`.

    ``target_side`` reads the spec's target, else the status' current value; a field not set is left out."""
    kind = metric.get("type")
    body = metric.get({"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                       "Object": "object", "External": "external"}.get(str(kind), ""), None)
    if not isinstance(body, dict):
        return None
    name = body.get("name") or (body.get("metric") or {}).get("name")
    value = body.get("target" if target_side else "current") or {}
    parts = [str(name), str(kind).lower()]
    if body.get("container"):
        parts.append(f"container {body['container']}")
    if value.get("averageUtilization") is not None:
        parts.append(f"utilization {value['averageUtilization']}%")
    if value.get("averageValue") is not None:
        parts.append(f"average {value['averageValue']}")
    if value.get("value") is not None:
        parts.append(f"value {value['value']}")
    return " ".join(parts)


def hpa_props(obj: Obj) -> Obj:
    spec = _spec(obj)
    status = _status(obj)
    target = spec.get("scaleTargetRef") or {}
    props = {
        "target_kind": target.get("kind"), "target_name": target.get("name"),
        "min_replicas": spec.get("minReplicas"), "max_replicas": spec.get("maxReplicas"),
        "current_replicas": status.get("currentReplicas"), "desired_replicas": status.get("desiredReplicas"),
        "metric_targets": [t for m in spec.get("metrics") or [] if isinstance(m, dict)
                           if (t := _metric_text(m, True))] or None,
        "current_metrics": [t for m in status.get("currentMetrics") or [] if isinstance(m, dict)
                            if (t := _metric_text(m, False))] or None,
    }
    for kind, prefix in (("AbleToScale", "able_to_scale"), ("ScalingActive", "scaling_active"),
                         ("ScalingLimited", "scaling_limited")):
        props.update(_condition_flat(prefix, _condition(status, kind)))
    return props


def pdb_props(obj: Obj) -> Obj:
    spec = _spec(obj)
    status = _status(obj)
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return {
        "min_available": None if spec.get("minAvailable") is None else str(spec["minAvailable"]),
        "max_unavailable": None if spec.get("maxUnavailable") is None else str(spec["maxUnavailable"]),
        "selector_pairs": sorted(f"{k}={v}" for k, v in selector.items()) or None,
        "disruptions_allowed": status.get("disruptionsAllowed"),
        "current_healthy": status.get("currentHealthy"),
        "desired_healthy": status.get("desiredHealthy"),
        "expected_pods": status.get("expectedPods"),
        # matchExpressions are not copied: a pattern that lists the covered pods by selector_pairs says so
        "selector_has_expressions": True if (spec.get("selector") or {}).get("matchExpressions") else None,
        **_condition_flat("disruption_allowed", _condition(status, "DisruptionAllowed")),
    }


PROPS: dict[tuple[str, str], Any] = {
    ("", "Pod"): pod_props,
    ("batch", "Job"): job_props,
    ("apps", "ReplicaSet"): workload_props,
    ("apps", "StatefulSet"): workload_props,
    ("apps", "DaemonSet"): workload_props,
    ("apps", "Deployment"): workload_props,
    ("batch", "CronJob"): cronjob_props,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa_props,
    ("policy", "PodDisruptionBudget"): pdb_props,
}
ROWS: dict[tuple[str, str], Any] = {}
