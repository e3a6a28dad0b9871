"""Writes the Helm golden scenarios: objects.jsonl and expected.yaml of every folder listed here.

    python tests/scenarios/generate_helm.py            rewrite them
    python tests/scenarios/generate_helm.py --check    exit 1 when one on disk differs (CI)

Each scenario is a function returning its Story (the input lines, in delivery order) and what must
come out. Times are fixed, so the output is the same on every run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import factories as f  # noqa: E402
from tests.scenarios import suite  # noqa: E402
from tests.scenarios.builders_helm import (  # noqa: E402
    APP,
    NS,
    T0,
    Obj,
    Story,
    app_pod,
    at,
    config_map,
    crd,
    custom,
    deployment,
    event,
    healthy_app,
    hook,
    hook_job,
    job_pod,
    pvc,
    revision,
    service_obj,
    terminated,
)

Expected = dict[str, Any]
SCENARIOS = suite.Registry()
scenario = SCENARIOS


def history(st: Story, upto: int = 6, *, name: str = "api") -> None:
    """Revisions upto-1 (superseded) and upto (deployed) of a healthy release, and its workloads."""
    revision(st, upto - 1, "superseded", name=name, when=at(T0, -86400 * 2), chart_version="1.2.2")
    revision(st, upto, "deployed", name=name, when=at(T0, -86400), chart_version="1.2.2")
    healthy_app(st, name=name, release=name, when=at(T0, -86400))


UPGRADE_HOOK_FAILED = 'Upgrade "api" failed: pre-upgrade hooks failed: 1 error occurred:\n\t* '


# --- hook_image_pull ------------------------------------------------------------------------------


@scenario
def hook_image_pull() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), active=1, image="registry.example/migrate:2.0.1")
    pod = job_pod(job, "k2x7p", created=at(T0, 3), phase="Pending", state={"waiting": {
        "reason": "ImagePullBackOff", "message": 'Back-off pulling image "registry.example/migrate:2.0.1"'}})
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "timed out waiting for the condition",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 301))],
             when=T0, pending_first=True, ended=at(T0, 301))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 40))
    st.add(event(pod, "Failed", 'Failed to pull image "registry.example/migrate:2.0.1": rpc error: code = '
                 'Unknown desc = Error response from daemon: manifest for registry.example/migrate:2.0.1 not '
                 'found: manifest unknown: manifest unknown', at(T0, 30), count=4, first=at(T0, 5)), at(T0, 30))
    st.add(event(pod, "BackOff", 'Back-off pulling image "registry.example/migrate:2.0.1"', at(T0, 290),
                 type_="Normal", count=19, first=at(T0, 8)), at(T0, 290))
    return st, {"description": "pre-upgrade hook image tag does not exist; helm timed out waiting for it",
                "expected": "hook_image_pull", "now": at(T0, 600), "release": "prod/api",
                "subject": "Pod/prod/api-migrate-k2x7p",
                "evidence": ["api-migrate-k2x7p", "registry.example/migrate:2.0.1", "manifest unknown"],
                "resolution": ["kubectl -n prod describe pod api-migrate-k2x7p", "helm rollback api 6 -n prod"],
                "consequences": ["hook_deadline"]}


@scenario
def hook_image_pull_rate_limit() -> tuple[Story, Expected]:
    st = Story()
    job = hook_job("web-init", event="pre-install", created=at(T0, 2), active=1, image="docker.io/library/centos")
    pod = job_pod(job, "p4q9w", created=at(T0, 3), phase="Pending", state={"waiting": {
        "reason": "ErrImagePull", "message": "rpc error: code = Unknown desc = failed to pull and unpack image"}})
    revision(st, 1, "pending-install", name="web", objects=(("apps/v1", "Deployment", "web"),),
             hooks=[hook("web-init", "pre-install", phase="Running", started=at(T0, 1))], when=T0)
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 20))
    st.add(event(pod, "Failed", 'Failed to pull image "centos": rpc error: code = Unknown desc = failed to pull '
                 'and unpack image "docker.io/library/centos:latest": failed to copy: httpReaderSeeker: failed '
                 'open: unexpected status code https://registry-1.docker.io/v2/library/centos/manifests/sha256:'
                 'dbbacecc49b088458781c16f3775f2a2ec7521079034a7ba499c8b0bb7f86875: 429 Too Many Requests - '
                 'Server message: toomanyrequests: You have reached your pull rate limit. You may increase the '
                 'limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit', at(T0, 20),
                 count=3, first=at(T0, 5)), at(T0, 20))
    return st, {"description": "first install: pre-install hook pod hits Docker Hub's pull rate limit while helm "
                               "still waits",
                "expected": "hook_image_pull", "now": at(T0, 120), "release": "prod/web",
                "evidence": ["web-init-p4q9w", "rate limit"], "absent": ["stuck_release"],
                "resolution": ["kubectl -n prod describe pod web-init-p4q9w"]}


@scenario
def hook_image_pull_unauthorized() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-notify", event="post-upgrade", created=at(T0, 40), active=1,
                   image="registry.example/private/notify:3")
    pod = job_pod(job, "m8d2c", created=at(T0, 41), phase="Pending", state={"waiting": {
        "reason": "ImagePullBackOff", "message": 'Back-off pulling image "registry.example/private/notify:3"'}})
    revision(st, 7, "failed",
             description='Upgrade "api" failed: post-upgrade hooks failed: 1 error occurred:\n\t* timed out '
                         'waiting for the condition',
             hooks=[hook("api-notify", "post-upgrade", phase="Failed", started=at(T0, 40), completed=at(T0, 340))],
             when=T0, pending_first=True, ended=at(T0, 340))
    st.add(job, at(T0, 40))
    st.add(pod, at(T0, 60))
    st.add(event(pod, "Failed", 'Failed to pull image "registry.example/private/notify:3": rpc error: code = '
                 'Unknown desc = Error response from daemon: pull access denied for registry.example/private/'
                 "notify, repository does not exist or may require 'docker login'", at(T0, 55), count=5,
                 first=at(T0, 45)), at(T0, 55))
    return st, {"description": "post-upgrade hook image needs registry credentials",
                "expected": "hook_image_pull", "now": at(T0, 900), "release": "prod/api",
                "evidence": ["api-notify-m8d2c", "pull access denied", "post-upgrade"],
                "consequences": ["hook_deadline"]}


# --- hook_deadline --------------------------------------------------------------------------------


@scenario
def hook_deadline_active_deadline() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), failed=1, failed_reason="DeadlineExceeded",
                   failed_message="Job was active longer than specified deadline", deadline=120)
    pod = job_pod(job, "r5t8v", created=at(T0, 3), phase="Failed",
                  state=terminated(143, at(T0, 5), at(T0, 122), reason="Error"))
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "job api-migrate failed: DeadlineExceeded",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 123))],
             when=T0, pending_first=True, ended=at(T0, 123))
    st.add(job, at(T0, 122))
    st.add(pod, at(T0, 122))
    st.add(event(job, "DeadlineExceeded", "Job was active longer than specified deadline", at(T0, 122),
                 component="job-controller"), at(T0, 122))
    return st, {"description": "pre-upgrade migration ran past the Job's activeDeadlineSeconds (120s)",
                "expected": "hook_deadline", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-migrate", "DeadlineExceeded", "120"],
                "resolution": ["kubectl -n prod logs job/api-migrate"], "absent": ["hook_script_failed"]}


@scenario
def hook_deadline_helm_timeout() -> tuple[Story, Expected]:
    st = Story()
    job = hook_job("shop-seed", event="pre-install", created=at(T0, 2), active=1)
    pod = job_pod(job, "b7n3m", created=at(T0, 3), phase="Running",
                  state={"running": {"startedAt": at(T0, 6)}})
    revision(st, 1, "failed", name="shop", objects=(("apps/v1", "Deployment", "shop"),),
             description="failed pre-install: 1 error occurred:\n\t* timed out waiting for the condition",
             hooks=[hook("shop-seed", "pre-install", phase="Failed", started=at(T0, 1), completed=at(T0, 301))],
             when=T0, pending_first=True, ended=at(T0, 301))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 6))
    return st, {"description": "pre-install seed job still running when helm's 5m --timeout ran out",
                "expected": "hook_deadline", "now": at(T0, 900), "release": "prod/shop",
                "evidence": ["shop-seed", "timed out waiting for the condition", "still running"],
                "resolution": ["--timeout"], "absent": ["wait_timeout"]}


@scenario
def hook_deadline_helm4() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), active=1)
    pod = job_pod(job, "h2j4k", created=at(T0, 3), phase="Running", state={"running": {"startedAt": at(T0, 5)}})
    revision(st, 7, "failed",
             description='Upgrade "api" failed: pre-upgrade hooks failed: resource Job/prod/api-migrate not ready. '
                         'status: InProgress, message: Job in progress. success: 0, active: 1, failed: 0\n'
                         'context deadline exceeded',
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 601))],
             when=T0, pending_first=True, ended=at(T0, 601))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 5))
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "-f", "values-prod.yaml", "--timeout", "10m"],
            at(T0, -1), ended=at(T0, 602), status="failed", exit_code=1,
            stderr='Error: UPGRADE FAILED: pre-upgrade hooks failed: resource Job/prod/api-migrate not ready. '
                   'status: InProgress, message: Job in progress. success: 0, active: 1, failed: 0\n'
                   'context deadline exceeded\n')
    return st, {"description": "Helm 4 wording: the pre-upgrade Job was still in progress at --timeout 10m",
                "expected": "hook_deadline", "now": at(T0, 900), "release": "prod/api",
                "evidence": ["api-migrate", "InProgress"], "tags": ["helm4", "ebpf"]}


# --- hook_script_failed ---------------------------------------------------------------------------


@scenario
def hook_script_failed() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), failed=2, failed_reason="BackoffLimitExceeded",
                   failed_message="Job has reached the specified backoff limit")
    first = job_pod(job, "a1b2c", created=at(T0, 3), phase="Failed", state=terminated(
        1, at(T0, 5), at(T0, 21), 'psql: ERROR:  relation "users" already exists\nmigration 0042 failed'))
    second = job_pod(job, "d3e4f", created=at(T0, 25), phase="Failed", state=terminated(
        1, at(T0, 27), at(T0, 44), 'psql: ERROR:  relation "users" already exists\nmigration 0042 failed'))
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "job api-migrate failed: BackoffLimitExceeded",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 46))],
             when=T0, pending_first=True, ended=at(T0, 46))
    st.add(job, at(T0, 45))
    st.add(first, at(T0, 21))
    st.add(second, at(T0, 44))
    st.add(event(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit", at(T0, 45),
                 component="job-controller"), at(T0, 45))
    return st, {"description": "pre-upgrade migration exits 1 twice (helm >= 3.14 wording, job name given)",
                "expected": "hook_script_failed", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-migrate", "exit code 1", "migration 0042 failed", "api-migrate-d3e4f"],
                "resolution": ["kubectl -n prod logs api-migrate-d3e4f", "helm rollback api 6 -n prod"]}


@scenario
def hook_script_failed_multierror() -> tuple[Story, Expected]:
    st = Story()
    history(st, 12)
    job = hook_job("api-post", event="post-upgrade", created=at(T0, 60), failed=1,
                   failed_reason="BackoffLimitExceeded", failed_message="Job has reached the specified backoff limit",
                   backoff_limit=0)
    pod = job_pod(job, "q7w8e", created=at(T0, 61), phase="Failed",
                  state=terminated(2, at(T0, 63), at(T0, 70)))
    revision(st, 13, "failed",
             description='Upgrade "api" failed: post-upgrade hooks failed: 1 error occurred:\n\t* job failed: '
                         'BackoffLimitExceeded',
             hooks=[hook("api-post", "post-upgrade", phase="Failed", started=at(T0, 60), completed=at(T0, 72))],
             when=T0, pending_first=True, ended=at(T0, 72))
    st.add(job, at(T0, 71))
    st.add(pod, at(T0, 70))
    return st, {"description": "post-upgrade hook exits 2 with no termination message (helm 3.12 wording)",
                "expected": "hook_script_failed", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-post", "exit code 2", "post-upgrade"],
                "resolution": ["helm rollback api 12 -n prod"]}


@scenario
def hook_script_failed_helm4() -> tuple[Story, Expected]:
    st = Story()
    job = hook_job("lab-hooks-pre-install", event="pre-install", created=at(T0, 2), failed=1,
                   failed_reason="BackoffLimitExceeded", failed_message="Job has reached the specified backoff limit",
                   backoff_limit=0)
    pod = job_pod(job, "z9x8c", created=at(T0, 3), phase="Failed",
                  state=terminated(3, at(T0, 4), at(T0, 9), "panic: unrecognized command: pre-install"))
    revision(st, 1, "failed", name="lab", objects=(("apps/v1", "Deployment", "lab"),),
             description="failed pre-install: resource Job/prod/lab-hooks-pre-install not ready. status: Failed, "
                         "message: Job Failed. failed: 1/1",
             hooks=[hook("lab-hooks-pre-install", "pre-install", phase="Failed", started=at(T0, 1),
                         completed=at(T0, 10))], when=T0, pending_first=True, ended=at(T0, 10))
    st.add(job, at(T0, 10))
    st.add(pod, at(T0, 9))
    return st, {"description": "Helm 4 wording: pre-install Job Failed 1/1, container panicked with exit 3",
                "expected": "hook_script_failed", "now": at(T0, 600), "release": "prod/lab",
                "evidence": ["lab-hooks-pre-install", "exit code 3", "panic: unrecognized command"],
                "resolution": ["helm uninstall lab -n prod"], "tags": ["helm4"]}


# --- hook_unschedulable ---------------------------------------------------------------------------


@scenario
def hook_unschedulable() -> tuple[Story, Expected]:
    st = Story()
    job = hook_job("db-init", event="pre-install", created=at(T0, 2), active=1)
    message = ("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No "
               "preemption victims found for incoming pod.")
    pod = job_pod(job, "s6d7f", created=at(T0, 3), phase="Pending", node=None, unschedulable=message)
    revision(st, 1, "failed", name="db", objects=(("apps/v1", "StatefulSet", "db"),),
             description="failed pre-install: 1 error occurred:\n\t* timed out waiting for the condition",
             hooks=[hook("db-init", "pre-install", phase="Failed", started=at(T0, 1), completed=at(T0, 301))],
             when=T0, pending_first=True, ended=at(T0, 301))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 3))
    st.add(event(pod, "FailedScheduling", message, at(T0, 290), count=12, first=at(T0, 3),
                 component="default-scheduler"), at(T0, 290))
    return st, {"description": "pre-install hook pod asks for more memory than any node has",
                "expected": "hook_unschedulable", "now": at(T0, 600), "release": "prod/db",
                "evidence": ["db-init-s6d7f", "Insufficient memory"], "consequences": ["hook_deadline"],
                "resolution": ["kubectl -n prod describe pod db-init-s6d7f"]}


@scenario
def hook_unschedulable_taint() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), active=1)
    message = ("0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}. preemption: 0/3 "
               "nodes are available: 3 Preemption is not helpful for scheduling.")
    pod = job_pod(job, "t1y2u", created=at(T0, 3), phase="Pending", node=None, unschedulable=message)
    revision(st, 7, "pending-upgrade",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Running", started=at(T0, 1))], when=T0)
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 3))
    st.add(event(pod, "FailedScheduling", message, at(T0, 100), count=4, first=at(T0, 3),
                 component="default-scheduler"), at(T0, 100))
    return st, {"description": "pre-upgrade hook cannot tolerate the nodes' taint; helm is still waiting",
                "expected": "hook_unschedulable", "now": at(T0, 150), "release": "prod/api",
                "evidence": ["api-migrate-t1y2u", "untolerated taint"], "absent": ["stuck_release"]}


@scenario
def hook_unschedulable_unbound_pvc() -> tuple[Story, Expected]:
    st = Story()
    job = hook_job("gvm-setup", event="pre-install", created=at(T0, 2), active=1)
    message = ("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes "
               "are available: 1 Preemption is not helpful for scheduling.")
    pod = job_pod(job, "g5h6j", created=at(T0, 3), phase="Pending", node=None, unschedulable=message)
    revision(st, 1, "failed", name="gvm", objects=(("apps/v1", "Deployment", "gvm"),
                                                    ("v1", "PersistentVolumeClaim", "gvm-data")),
             description="failed pre-install: timed out waiting for the condition",
             hooks=[hook("gvm-setup", "pre-install", phase="Failed", started=at(T0, 1), completed=at(T0, 301))],
             when=T0, pending_first=True, ended=at(T0, 301))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 3))
    st.add(event(pod, "FailedScheduling", message, at(T0, 280), count=9, first=at(T0, 3),
                 component="default-scheduler"), at(T0, 280))
    return st, {"description": "pre-install hook needs a PVC that only the main install creates",
                "expected": "hook_unschedulable", "now": at(T0, 600), "release": "prod/gvm",
                "evidence": ["gvm-setup-g5h6j", "unbound immediate PersistentVolumeClaims"],
                "consequences": ["hook_deadline"]}


# --- hook_network_policy --------------------------------------------------------------------------


@scenario
def hook_network_policy() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), failed=2, failed_reason="BackoffLimitExceeded",
                   failed_message="Job has reached the specified backoff limit")
    message = ('failed to connect to `host=postgres.data.svc user=api database=api`: dial error (dial tcp '
               '10.96.0.15:5432: i/o timeout)')
    first = job_pod(job, "n1m2k", created=at(T0, 3), phase="Failed",
                    state=terminated(1, at(T0, 4), at(T0, 35), message))
    second = job_pod(job, "n3m4k", created=at(T0, 36), phase="Failed",
                     state=terminated(1, at(T0, 37), at(T0, 68), message))
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "job api-migrate failed: BackoffLimitExceeded",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 70))],
             when=T0, pending_first=True, ended=at(T0, 70))
    st.add(job, at(T0, 69))
    st.add(first, at(T0, 35))
    st.add(second, at(T0, 68))
    return st, {"description": "migration cannot reach postgres: i/o timeout (packets dropped)",
                "expected": "hook_network_policy", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-migrate", "10.96.0.15:5432", "i/o timeout", "NetworkPolicies are not watched"],
                "consequences": ["hook_script_failed"], "max_confidence": 0.7,
                "resolution": ["kubectl -n prod get networkpolicy", "10.96.0.15 5432"]}


@scenario
def hook_network_policy_refused() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-seed", event="post-upgrade", created=at(T0, 30), failed=1,
                   failed_reason="BackoffLimitExceeded", failed_message="Job has reached the specified backoff limit",
                   backoff_limit=0)
    message = 'Post "http://search.data.svc:9200/_bulk": dial tcp 10.96.33.4:9200: connect: connection refused'
    pod = job_pod(job, "v5c6x", created=at(T0, 31), phase="Failed",
                  state=terminated(1, at(T0, 32), at(T0, 33), message))
    revision(st, 7, "failed",
             description='Upgrade "api" failed: post-upgrade hooks failed: 1 error occurred:\n\t* job api-seed '
                         'failed: BackoffLimitExceeded',
             hooks=[hook("api-seed", "post-upgrade", phase="Failed", started=at(T0, 30), completed=at(T0, 34))],
             when=T0, pending_first=True, ended=at(T0, 34))
    st.add(job, at(T0, 34))
    st.add(pod, at(T0, 33))
    return st, {"description": "post-upgrade seed hook: connection refused by the search service",
                "expected": "hook_network_policy", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-seed-v5c6x", "connection refused", "10.96.33.4:9200"],
                "consequences": ["hook_script_failed"], "max_confidence": 0.6}


@scenario
def hook_network_policy_timeout() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), active=1, failed=0, backoff_limit=6)
    message = "dial tcp 10.96.0.15:5432: connect: connection timed out"
    pod = job_pod(job, "w9e8r", created=at(T0, 3), phase="Running", restarts=3,
                  state={"running": {"startedAt": at(T0, 250)}},
                  last_state=terminated(1, at(T0, 120), at(T0, 247), message))
    pod["spec"]["restartPolicy"] = "OnFailure"
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "timed out waiting for the condition",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 301))],
             when=T0, pending_first=True, ended=at(T0, 301))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 250))
    return st, {"description": "migration retries a timed-out connection until helm's --timeout ends it",
                "expected": "hook_network_policy", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-migrate-w9e8r", "connection timed out", "10.96.0.15:5432"],
                "consequences": ["hook_deadline"]}


def migrate_cannot_connect(st: Story, message: str) -> None:
    job = hook_job("api-migrate", created=at(T0, 2), failed=2, failed_reason="BackoffLimitExceeded",
                   failed_message="Job has reached the specified backoff limit")
    first = job_pod(job, "t1t1t", created=at(T0, 3), phase="Failed", state=terminated(1, at(T0, 4), at(T0, 9), message))
    second = job_pod(job, "t2t2t", created=at(T0, 12), phase="Failed",
                     state=terminated(1, at(T0, 13), at(T0, 18), message))
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "job api-migrate failed: BackoffLimitExceeded",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Failed", started=at(T0, 1), completed=at(T0, 20))],
             when=T0, pending_first=True, ended=at(T0, 20))
    st.add(job, at(T0, 19))
    st.add(first, at(T0, 9))
    st.add(second, at(T0, 18))


@scenario
def hook_script_failed_target_down() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    st.add(service_obj("postgres", "data", release=None, cluster_ip="10.96.0.15"), at(T0, -86400))
    st.add(f.pod("postgres-0", "data", labels={"app": "postgres"}, ready=False, waiting="CrashLoopBackOff",
                 image="postgres:16", restarts=7, created=at(T0, -600),
                 last_terminated={"exitCode": 1, "reason": "Error", "startedAt": at(T0, -60),
                                  "finishedAt": at(T0, -58)}), at(T0, -50))
    migrate_cannot_connect(st, 'failed to connect to `host=postgres.data.svc user=api database=api`: dial error '
                               '(dial tcp 10.96.0.15:5432: connect: connection refused)')
    return st, {"description": "the hook cannot connect because the database itself is down (its only pod "
                               "crash-loops): the crash loop comes first, hook_script_failed tells the release's "
                               "side, and no NetworkPolicy is suspected",
                "expected": "crashloop", "now": at(T0, 600), "subject": "Pod/data/postgres-0",
                "absent": ["hook_network_policy"], "roots": 2}


@scenario
def hook_network_policy_target_up() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    st.add(service_obj("postgres", "data", release=None, cluster_ip="10.96.0.15"), at(T0, -86400))
    st.add(f.pod("postgres-0", "data", labels={"app": "postgres"}, ready=True, image="postgres:16",
                 created=at(T0, -86400)), at(T0, -86400))
    migrate_cannot_connect(st, 'failed to connect to `host=postgres.data.svc user=api database=api`: dial error '
                               '(dial tcp 10.96.0.15:5432: i/o timeout)')
    return st, {"description": "the hook's connection to a database that is up (1 ready pod) times out",
                "expected": "hook_network_policy", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["data/postgres", "1 ready pod"], "min_confidence": 0.7,
                "resolution": ["kubectl -n data get networkpolicy"], "consequences": ["hook_script_failed"]}


# --- stuck_release --------------------------------------------------------------------------------


@scenario
def stuck_release_pending_upgrade() -> tuple[Story, Expected]:
    st = Story()
    history(st, 16)
    revision(st, 17, "pending-upgrade", when=T0)
    return st, {"description": "pending-upgrade for an hour, no helm process known (no eBPF)",
                "expected": "stuck_release", "now": at(T0, 3600), "release": "prod/api",
                "config": {"stuck_release_timeout": 600},
                "evidence": ["pending-upgrade", "sh.helm.release.v1.api.v17"],
                "resolution": ["helm rollback api 16 -n prod",
                               "kubectl -n prod delete secret sh.helm.release.v1.api.v17"]}


@scenario
def stuck_release_sigkill() -> tuple[Story, Expected]:
    st = Story()
    history(st, 16)
    revision(st, 17, "pending-upgrade", when=at(T0, 1))
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "-f", "values-prod.yaml", "--wait"], T0,
            ended=at(T0, 95), status="killed", signal="SIGKILL")
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "-f", "values-prod.yaml", "--wait"], at(T0, 200),
            ended=at(T0, 202), status="failed", exit_code=1,
            stderr="Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n")
    return st, {"description": "helm upgrade SIGKILLed by the CI runner; the retry finds the release locked",
                "expected": "stuck_release", "now": at(T0, 240), "release": "prod/api",
                "config": {"stuck_release_timeout": 600},
                "evidence": ["SIGKILL", "another operation (install/upgrade/rollback) is in progress"],
                "resolution": ["helm rollback api 16 -n prod"], "min_confidence": 0.9, "tags": ["ebpf"]}


@scenario
def stuck_release_pending_install() -> tuple[Story, Expected]:
    st = Story()
    revision(st, 1, "pending-install", name="cache", objects=(("apps/v1", "Deployment", "cache"),), when=T0)
    return st, {"description": "first install left pending-install: only uninstall clears it",
                "expected": "stuck_release", "now": at(T0, 7200), "release": "prod/cache",
                "evidence": ["pending-install"], "resolution": ["helm uninstall cache -n prod"]}


@scenario
def stuck_release_pending_rollback() -> tuple[Story, Expected]:
    st = Story()
    revision(st, 38, "superseded", name="dpn", when=at(T0, -86400 * 3), chart_version="1.0.9")
    revision(st, 39, "deployed", name="dpn", when=at(T0, -86400 * 2), chart_version="1.1.0")
    revision(st, 40, "pending-rollback", name="dpn", description="Rollback to 39", when=T0, chart_version="1.1.0")
    healthy_app(st, name="dpn", release="dpn", when=at(T0, -86400 * 2))
    return st, {"description": "a rollback left pending-rollback ('Rollback to 39')",
                "expected": "stuck_release", "now": at(T0, 1800), "release": "prod/dpn",
                "evidence": ["pending-rollback", "Rollback to 39"],
                "resolution": ["kubectl -n prod delete secret sh.helm.release.v1.dpn.v40"]}


@scenario
def near_miss_pending_upgrade_helm_running() -> tuple[Story, Expected]:
    st = Story()
    history(st, 16)
    revision(st, 17, "pending-upgrade", when=at(T0, 1))
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "--wait", "--timeout", "30m"], T0,
            status="running", exit_code=None)
    return st, {"description": "pending-upgrade for 20 minutes, but helm (--timeout 30m) is still running",
                "expected": "none", "now": at(T0, 1200), "config": {"stuck_release_timeout": 600},
                "tags": ["ebpf"]}


@scenario
def near_miss_pending_upgrade_young() -> tuple[Story, Expected]:
    st = Story()
    history(st, 16)
    revision(st, 17, "pending-upgrade", when=T0)
    return st, {"description": "pending-upgrade for two minutes: helm is presumably still at work",
                "expected": "none", "now": at(T0, 120), "config": {"stuck_release_timeout": 600}}


# --- template_error -------------------------------------------------------------------------------


@scenario
def template_error_nil_pointer() -> tuple[Story, Expected]:
    st = Story()
    st.helm(["helm", "install", "billing", "./charts/billing", "-n", "prod", "-f", "values.yaml", "-f",
             "values-prod.yaml"], T0, ended=at(T0, 2), status="failed", exit_code=1,
            files_read=["/home/ci/deploy/charts/billing/Chart.yaml", "/home/ci/deploy/values.yaml",
                        "/home/ci/deploy/values-prod.yaml"],
            stderr='Error: INSTALLATION FAILED: template: billing/templates/serviceaccount.yaml:1:14: executing '
                   '"billing/templates/serviceaccount.yaml" at <.Values.serviceAccount.create>: nil pointer '
                   'evaluating interface {}.create\n')
    return st, {"description": "install fails rendering: values lack serviceAccount (no revision stored)",
                "expected": "template_error", "now": at(T0, 60), "release": "prod/billing",
                "evidence": ["billing/templates/serviceaccount.yaml", "line 1", ".Values.serviceAccount.create",
                             "values-prod.yaml"],
                "resolution": ["helm template billing ./charts/billing -n prod -f /home/ci/deploy/values.yaml"],
                "tags": ["ebpf"]}


@scenario
def template_error_yaml_parse() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 7, "failed", when=T0,
             description='Upgrade "api" failed: YAML parse error on api/templates/deployment.yaml: error '
                         'converting YAML to JSON: yaml: line 39: mapping values are not allowed in this context')
    return st, {"description": "failed revision whose description is a YAML parse error of the rendered output",
                "expected": "template_error", "now": at(T0, 300), "release": "prod/api",
                "evidence": ["api/templates/deployment.yaml", "line 39", "mapping values are not allowed"],
                "resolution": ["helm template api"]}


@scenario
def template_error_function_not_defined() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "-f", "values-prod.yaml"], T0, ended=at(T0, 1),
            status="failed", exit_code=1,
            stderr='Error: UPGRADE FAILED: parse error at (api/templates/_helpers.tpl:18): function "break" not '
                   'defined\n')
    return st, {"description": "the chart uses `break`, unknown to this old helm binary",
                "expected": "template_error", "now": at(T0, 60), "release": "prod/api",
                "evidence": ["api/templates/_helpers.tpl", "line 18", "break"], "tags": ["ebpf"]}


@scenario
def template_error_helm4() -> tuple[Story, Expected]:
    st = Story()
    st.helm(["helm", "install", "gateway", "./gateway-helm", "-n", "prod"], T0, ended=at(T0, 1), status="failed",
            exit_code=1,
            stderr='Error: gateway-helm/templates/namespaced-infra-manager-rbac.yaml:2:13\n  executing '
                   '"gateway-helm/templates/namespaced-infra-manager-rbac.yaml" at '
                   '<.Values.config.envoyGateway.provider.kubernetes>:\n    nil pointer evaluating interface '
                   '{}.envoyGateway\n')
    return st, {"description": "Helm 4's multi-line nil-pointer message",
                "expected": "template_error", "now": at(T0, 60), "release": "prod/gateway",
                "evidence": ["gateway-helm/templates/namespaced-infra-manager-rbac.yaml", "line 2",
                             ".Values.config.envoyGateway.provider.kubernetes"], "tags": ["helm4", "ebpf"]}


@scenario
def near_miss_template_fixed() -> tuple[Story, Expected]:
    st = Story()
    st.helm(["helm", "install", "billing", "./charts/billing", "-n", "prod"], T0, ended=at(T0, 2),
            status="failed", exit_code=1,
            stderr='Error: INSTALLATION FAILED: template: billing/templates/serviceaccount.yaml:1:14: executing '
                   '"billing/templates/serviceaccount.yaml" at <.Values.serviceAccount.create>: nil pointer '
                   'evaluating interface {}.create\n')
    st.helm(["helm", "install", "billing", "./charts/billing", "-n", "prod", "--set", "serviceAccount.create=true"],
            at(T0, 120), ended=at(T0, 125))
    revision(st, 1, "deployed", name="billing", objects=(("apps/v1", "Deployment", "billing"),), when=at(T0, 121))
    healthy_app(st, name="billing", release="billing", when=at(T0, 122), service=False, config=False)
    return st, {"description": "a template error fixed by the next install, which succeeded",
                "expected": "none", "now": at(T0, 900), "tags": ["ebpf"]}


# --- resource_conflict ----------------------------------------------------------------------------


@scenario
def resource_conflict_unowned() -> tuple[Story, Expected]:
    st = Story()
    st.add(service_obj("mailu-front-ext", release=None, cluster_ip="10.96.40.2"), at(T0, -3600))
    st.helm(["helm", "install", "mailu", "mailu/mailu", "-n", "prod", "-f", "mailu-values.yaml"], T0,
            ended=at(T0, 3), status="failed", exit_code=1,
            stderr='Error: INSTALLATION FAILED: Unable to continue with install: Service "mailu-front-ext" in '
                   'namespace "prod" exists and cannot be imported into the current release: invalid ownership '
                   'metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to '
                   '"Helm"; annotation validation error: missing key "meta.helm.sh/release-name": must be set to '
                   '"mailu"; annotation validation error: missing key "meta.helm.sh/release-namespace": must be '
                   'set to "prod"\n')
    return st, {"description": "install meets a Service created by hand (no Helm ownership)",
                "expected": "resource_conflict", "now": at(T0, 60), "release": "prod/mailu",
                "evidence": ["Service prod/mailu-front-ext", "not managed by Helm"],
                "resolution": ["kubectl -n prod annotate service mailu-front-ext meta.helm.sh/release-name=mailu",
                               "kubectl -n prod delete service mailu-front-ext"], "tags": ["ebpf"]}


@scenario
def resource_conflict_other_release() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 3, "deployed", name="billing", objects=(("v1", "ConfigMap", "shared-config"),),
             when=at(T0, -86400 * 5))
    st.add(config_map("shared-config", release="billing"), at(T0, -86400 * 5))
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod"], T0, ended=at(T0, 2), status="failed", exit_code=1,
            stderr='Error: UPGRADE FAILED: rendered manifests contain a new resource that already exists. Unable '
                   'to continue with update: ConfigMap "shared-config" in namespace "prod" exists and cannot be '
                   'imported into the current release: invalid ownership metadata; annotation validation error: '
                   'key "meta.helm.sh/release-name" must equal "api": current value is "billing"\n')
    return st, {"description": "upgrade adds a ConfigMap that release billing already owns",
                "expected": "resource_conflict", "now": at(T0, 60), "release": "prod/api",
                "evidence": ["ConfigMap prod/shared-config", "billing"],
                "resolution": ["helm -n prod status billing"], "tags": ["ebpf"]}


@scenario
def resource_conflict_crd_pre313() -> tuple[Story, Expected]:
    st = Story()
    st.add(crd("dynakubes", "dynatrace.com", "DynaKube", ["v1beta1"]), at(T0, -86400))
    st.helm(["helm", "install", "dynatrace-operator", "dynatrace/dynatrace-operator", "-n", "dynatrace"], T0,
            ended=at(T0, 4), status="failed", exit_code=1,
            stderr='Error: rendered manifests contain a resource that already exists. Unable to continue with '
                   'install: CustomResourceDefinition "dynakubes.dynatrace.com" in namespace "" exists and cannot '
                   'be imported into the current release: invalid ownership metadata; label validation error: '
                   'missing key "app.kubernetes.io/managed-by": must be set to "Helm"; annotation validation error: '
                   'missing key "meta.helm.sh/release-name": must be set to "dynatrace-operator"; annotation '
                   'validation error: missing key "meta.helm.sh/release-namespace": must be set to "dynatrace"\n')
    return st, {"description": "pre-3.13 wording; a cluster-scoped CRD installed earlier by kubectl",
                "expected": "resource_conflict", "now": at(T0, 60), "release": "dynatrace/dynatrace-operator",
                "evidence": ["CustomResourceDefinition dynakubes.dynatrace.com"],
                "resolution": ["kubectl annotate customresourcedefinition dynakubes.dynatrace.com"], "tags": ["ebpf"]}


@scenario
def resource_conflict_immutable_selector() -> tuple[Story, Expected]:
    st = Story()
    history(st, 4, name="version-checker")
    revision(st, 5, "failed", name="version-checker", when=T0, pending_first=True, ended=at(T0, 3),
             objects=(("apps/v1", "Deployment", "version-checker"), ("v1", "Service", "version-checker")),
             description='Upgrade "version-checker" failed: cannot patch "version-checker" with kind Deployment: '
                         'Deployment.apps "version-checker" is invalid: spec.selector: Invalid value: '
                         'v1.LabelSelector{MatchLabels:map[string]string{"app.kubernetes.io/instance":'
                         '"version-checker", "app.kubernetes.io/managed-by":"Helm", "app.kubernetes.io/name":'
                         '"version-checker", "app.kubernetes.io/version":"v0.3.2", "helm.sh/chart":'
                         '"version-checker-v0.3.2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is '
                         'immutable')
    return st, {"description": "chart put its version into spec.selector; the selector is immutable",
                "expected": "resource_conflict_immutable", "now": at(T0, 600), "release": "prod/version-checker",
                "evidence": ["Deployment prod/version-checker", "spec.selector"],
                "resolution": ["kubectl -n prod delete deployment version-checker"]}


JOB_TEMPLATE_IMMUTABLE = ('Upgrade "api" failed: cannot patch "api-reindex" with kind Job: Job.batch "api-reindex" is '
                          'invalid: spec.template: Invalid value: core.PodTemplateSpec{ObjectMeta:v1.ObjectMeta{'
                          'Name:"", Labels:map[string]string{"job-name":"api-reindex"}}}: field is immutable')


@scenario
def resource_conflict_immutable_job() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    objects = (("apps/v1", "Deployment", "api"), ("batch/v1", "Job", "api-reindex"))
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 2), objects=objects,
             description=JOB_TEMPLATE_IMMUTABLE)
    return st, {"description": "a plain (non-hook) Job's pod template changed; Job templates are immutable",
                "expected": "resource_conflict_immutable", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["Job prod/api-reindex", "spec.template"],
                "resolution": ["kubectl -n prod delete job api-reindex"]}


@scenario
def resource_conflict_immutable_cluster_ip() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 2),
             description='Upgrade "api" failed: cannot patch "api" with kind Service: Service "api" is invalid: '
                         'spec.clusterIP: Invalid value: "10.96.100.100": field is immutable && cannot patch "api" '
                         'with kind Deployment: Deployment.apps "api" is invalid: spec.selector: Invalid value: '
                         'v1.LabelSelector{MatchLabels:map[string]string{"app":"api-v2"}, MatchExpressions:'
                         '[]v1.LabelSelectorRequirement(nil)}: field is immutable')
    return st, {"description": "two immutable fields at once (Service clusterIP and a selector), joined by &&",
                "expected": "resource_conflict_immutable", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["Service prod/api", "spec.clusterIP", "Deployment prod/api", "10.96.12.7"]}


# --- partial_deployment ---------------------------------------------------------------------------


@scenario
def partial_deployment_webhook() -> tuple[Story, Expected]:
    st = Story()
    st.add(crd("boshdeployments", "quarks.cloudfoundry.org", "BOSHDeployment", ["v1alpha1"]), at(T0, -3600))
    objects = (("apps/v1", "Deployment", "kubecf"), ("v1", "Service", "kubecf"),
               ("quarks.cloudfoundry.org/v1alpha1", "BOSHDeployment", "kubecf"))
    revision(st, 1, "failed", name="kubecf", objects=objects, when=T0, pending_first=True, ended=at(T0, 35),
             description='Release "kubecf" failed: Internal error occurred: failed calling webhook '
                         '"validate-boshdeployment.quarks.cloudfoundry.org": Post https://cf-operator-webhook.kubecf.'
                         'svc:443/validate-boshdeployment?timeout=30s: dial tcp 10.107.0.151:443: connect: '
                         'connection refused')
    healthy_app(st, name="kubecf", release="kubecf", when=at(T0, 2), config=False)
    # the webhook's refusal is the cause helm's words name; the half-applied release is its consequence
    return st, {"description": "a webhook refused the chart's custom resource; the rest of the install runs",
                "expected": "helm_error", "shape": "resource_conflict", "now": at(T0, 600), "release": "prod/kubecf",
                "evidence": ["validate-boshdeployment.quarks.cloudfoundry.org", "connect: connection refused"],
                "resolution": ["kubectl -n kubecf get svc,endpoints cf-operator-webhook"],
                "consequences": ["partial_deployment"]}


@scenario
def partial_deployment_deleted_secret() -> tuple[Story, Expected]:
    st = Story()
    objects = (("apps/v1", "Deployment", "api"), ("v1", "Service", "api"), ("v1", "ConfigMap", "api-config"),
               ("v1", "Secret", "api-tls"))
    revision(st, 5, "superseded", when=at(T0, -86400 * 2), objects=objects)
    revision(st, 6, "deployed", when=at(T0, -86400), objects=objects)
    healthy_app(st, when=at(T0, -86400))
    tls = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
           "metadata": f.meta("api-tls", NS, annotations=f.helm_managed("api"), created=at(T0, -86400)),
           "data": {"tls.crt": "", "tls.key": ""}}
    st.add(tls, at(T0, -86400))
    st.add(tls, at(T0, 0), "DELETED")
    return st, {"description": "someone deleted the release's TLS Secret by hand; the rest is healthy",
                "expected": "partial_deployment", "now": at(T0, 900), "release": "prod/api",
                "evidence": ["Secret/prod/api-tls", "missing"]}


@scenario
def partial_deployment_job_failed() -> tuple[Story, Expected]:
    st = Story()
    objects = (("apps/v1", "Deployment", "api"), ("v1", "Service", "api"), ("batch/v1", "Job", "api-reindex"))
    revision(st, 3, "deployed", when=T0, objects=objects, description="Upgrade complete")
    healthy_app(st, when=T0, config=False)
    job = hook_job("api-reindex", created=at(T0, 3), failed=1, failed_reason="BackoffLimitExceeded",
                   failed_message="Job has reached the specified backoff limit", backoff_limit=0)
    del job["metadata"]["annotations"]
    job["metadata"]["annotations"] = f.helm_managed("api")
    st.add(job, at(T0, 40))
    st.add(job_pod(job, "k1l2m", created=at(T0, 4), phase="Failed",
                   state=terminated(1, at(T0, 5), at(T0, 38), "index mapping conflict")), at(T0, 38))
    # the Job's own failure is the cause (job_failed names its pod and exit): the release's partial deployment is
    # its consequence, and the diagnosis takes that shape
    return st, {"description": "deployed without --wait: the chart's Job failed while the Deployment runs",
                "expected": "job_failed", "shape": "partial_deployment", "consequences": ["partial_deployment"],
                "now": at(T0, 900), "release": "prod/api",
                "evidence": ["api-reindex", "BackoffLimitExceeded", "index mapping conflict"]}


# --- wait_timeout ---------------------------------------------------------------------------------


def wait_story(description: str, pods: Callable[[Story, Obj], None], *, ready: int = 0,
               name: str = "api") -> Story:
    st = Story()
    history(st)
    revision(st, 7, "failed", description=description, when=T0, pending_first=True, ended=at(T0, 301),
             chart_version="1.3.0")
    deploy = deployment(name, replicas=2, ready=ready, created=at(T0, -86400))
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example/api:1.3.0"
    rs = f.replicaset(deploy, suffix="5f6g7h")
    rs["spec"]["template"] = deploy["spec"]["template"]
    st.add(deploy, at(T0, 300), "MODIFIED")
    st.add(rs, at(T0, 2))
    pods(st, rs)
    return st


@scenario
def wait_timeout_slow_start() -> tuple[Story, Expected]:
    def pods(st: Story, rs: Obj) -> None:
        for suffix in ("aa111", "bb222"):
            st.add(app_pod(rs, suffix, created=at(T0, 3), ready=False), at(T0, 10))

    st = wait_story('Upgrade "api" failed: timed out waiting for the condition', pods)
    return st, {"description": "pods run but never turn ready before --timeout; no probe failure recorded",
                "expected": "wait_timeout", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-5f6g7h-aa111", "not ready", "timed out waiting for the condition"],
                "resolution": ["kubectl -n prod describe pod api-5f6g7h-aa111", "helm rollback api 6 -n prod"]}


@scenario
def wait_timeout_pending_pvc() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    objects = APP + (("v1", "PersistentVolumeClaim", "api-data"),)
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 301), objects=objects,
             description='Upgrade "api" failed: resource PersistentVolumeClaim/prod/api-data not ready. status: '
                         'InProgress, message: PVC is not Bound. phase: Pending\ncontext deadline exceeded')
    claim = pvc("api-data", created=at(T0, 2))
    st.add(claim, at(T0, 2))
    st.add(event(claim, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found', at(T0, 280),
                 count=20, first=at(T0, 2), component="persistentvolume-controller"), at(T0, 280))
    # the claim that never binds is the cause (pvc_pending quotes the provisioner); helm's --wait is its consequence
    return st, {"description": "Helm 4: a new PVC never binds (its StorageClass does not exist)",
                "expected": "pvc_pending", "shape": "wait_timeout", "consequences": ["wait_timeout"],
                "now": at(T0, 600), "release": "prod/api",
                "evidence": ["prod/api-data", 'storageclass.storage.k8s.io "fast-ssd" not found'], "tags": ["helm4"]}


@scenario
def wait_timeout_rate_limiter() -> tuple[Story, Expected]:
    def pods(st: Story, rs: Obj) -> None:
        for suffix in ("cc333", "dd444"):
            pod = app_pod(rs, suffix, created=at(T0, 3), ready=False, phase="Pending", waiting="ContainerCreating")
            st.add(pod, at(T0, 10))

    st = wait_story('Upgrade "api" failed: client rate limiter Wait returned an error: rate: Wait(n=1) would '
                    'exceed context deadline', pods)
    return st, {"description": "--wait ends with client-go's rate limiter wording; pods still being created",
                "expected": "wait_timeout", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-5f6g7h-cc333", "ContainerCreating"]}


@scenario
def wait_timeout_crashloop() -> tuple[Story, Expected]:
    def pods(st: Story, rs: Obj) -> None:
        for suffix in ("ee555", "ff666"):
            pod = app_pod(rs, suffix, created=at(T0, 3), ready=False, waiting="CrashLoopBackOff",
                          waiting_message="back-off 2m40s restarting failed container=main pod=api-5f6g7h-" + suffix,
                          restarts=5, last_terminated={"exitCode": 1, "reason": "Error", "startedAt": at(T0, 200),
                                                       "finishedAt": at(T0, 201)})
            st.add(pod, at(T0, 250))

    st = wait_story('Upgrade "api" failed: context deadline exceeded', pods)
    return st, {"description": "--wait timed out because the new pods crash-loop (helm >= 3.12 wording): the "
                               "crash loop is the root cause, the timeout its consequence",
                "expected": "crashloop", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["api-5f6g7h-ee555"], "consequences": ["wait_timeout", "partial_deployment"]}


# --- crd_mismatch ---------------------------------------------------------------------------------


@scenario
def crd_mismatch_missing_crd() -> tuple[Story, Expected]:
    st = Story()
    st.helm(["helm", "install", "kubeml", "./kubeml", "-n", "prod"], T0, ended=at(T0, 2), status="failed",
            exit_code=1,
            stderr='Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: resource '
                   'mapping not found for name: "torch" namespace: "default" from "": no matches for kind '
                   '"Environment" in version "fission.io/v1"\nensure CRDs are installed first\n')
    return st, {"description": "install of a chart whose custom resource's CRD is not installed",
                "expected": "crd_mismatch", "now": at(T0, 60), "release": "prod/kubeml",
                "evidence": ["Environment", "fission.io/v1", "no CustomResourceDefinition"], "tags": ["ebpf"]}


@scenario
def crd_mismatch_version_not_served() -> tuple[Story, Expected]:
    st = Story()
    st.add(crd("certificates", "cert-manager.io", "Certificate", ["v1"]), at(T0, -86400))
    objects = APP + (("cert-manager.io/v1alpha2", "Certificate", "api-tls"),)
    revision(st, 5, "superseded", when=at(T0, -86400 * 40), objects=objects)
    revision(st, 6, "deployed", when=at(T0, -86400 * 30), objects=objects)
    healthy_app(st, when=at(T0, -86400 * 30))
    return st, {"description": "the deployed revision's Certificate uses v1alpha2; the CRD now serves only v1",
                "expected": "crd_mismatch", "now": at(T0, 60), "release": "prod/api",
                "evidence": ["Certificate", "cert-manager.io/v1alpha2", "v1"]}


@scenario
def crd_mismatch_declared_no_crd() -> tuple[Story, Expected]:
    st = Story()
    objects = APP + (("monitoring.coreos.com/v1", "ServiceMonitor", "api"),)
    revision(st, 6, "deployed", when=at(T0, -86400), objects=objects)
    healthy_app(st, when=at(T0, -86400))
    return st, {"description": "the release declares a ServiceMonitor but no monitoring.coreos.com CRD exists",
                "expected": "crd_mismatch", "now": at(T0, 60), "release": "prod/api",
                "evidence": ["ServiceMonitor", "monitoring.coreos.com"]}


@scenario
def crd_mismatch_removed_api() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    st.helm(["helm", "upgrade", "cluster-autoscaler", "autoscaler/cluster-autoscaler", "-n", "kube-system"], T0,
            ended=at(T0, 2), status="failed", exit_code=1,
            stderr='Error: UPGRADE FAILED: unable to build kubernetes objects from current release manifest: '
                   'resource mapping not found for name: "cluster-autoscaler-aws-cluster-autoscaler" namespace: "" '
                   'from "": no matches for kind "PodDisruptionBudget" in version "policy/v1beta1"\nensure CRDs '
                   'are installed first\n')
    return st, {"description": "the stored manifest uses policy/v1beta1, removed from this cluster's API",
                "expected": "crd_mismatch", "now": at(T0, 60), "release": "kube-system/cluster-autoscaler",
                "evidence": ["PodDisruptionBudget", "policy/v1beta1", "current release manifest"],
                "resolution": ["helm mapkubeapis cluster-autoscaler -n kube-system"], "tags": ["ebpf"]}


# --- healthy releases and near-misses -------------------------------------------------------------


@scenario
def near_miss_healthy_upgrade() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), succeeded=1)
    pod = job_pod(job, "o1p2q", created=at(T0, 3), phase="Succeeded",
                  state=terminated(0, at(T0, 5), at(T0, 20), reason="Completed"))
    revision(st, 6, "superseded", when=at(T0, -86400), chart_version="1.2.2")
    revision(st, 7, "deployed", hooks=[hook("api-migrate", "pre-upgrade", phase="Succeeded", started=at(T0, 1),
                                            completed=at(T0, 21))], when=T0, pending_first=True, ended=at(T0, 60))
    st.add(job, at(T0, 21))
    st.add(pod, at(T0, 20))
    healthy_app(st, when=at(T0, 40))
    return st, {"description": "an upgrade whose hook and pods all succeeded", "expected": "none",
                "now": at(T0, 900)}


@scenario
def near_miss_hook_retried_ok() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), failed=1, succeeded=1, backoff_limit=3)
    first = job_pod(job, "f1a1l", created=at(T0, 3), phase="Failed",
                    state=terminated(1, at(T0, 5), at(T0, 9), "could not obtain lock; retry"))
    second = job_pod(job, "o2k2k", created=at(T0, 12), phase="Succeeded",
                     state=terminated(0, at(T0, 13), at(T0, 30), reason="Completed"))
    revision(st, 6, "superseded", when=at(T0, -86400), chart_version="1.2.2")
    revision(st, 7, "deployed", hooks=[hook("api-migrate", "pre-upgrade", phase="Succeeded", started=at(T0, 1),
                                            completed=at(T0, 31))], when=T0, pending_first=True, ended=at(T0, 70))
    st.add(job, at(T0, 31))
    st.add(first, at(T0, 9))
    st.add(second, at(T0, 30))
    healthy_app(st, when=at(T0, 50))
    return st, {"description": "a hook pod failed once, the retry succeeded, the upgrade completed",
                "expected": "none", "now": at(T0, 900)}


@scenario
def near_miss_healthy_rollback() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 7, "failed", description=UPGRADE_HOOK_FAILED + "job api-migrate failed: BackoffLimitExceeded",
             when=at(T0, -3600))
    revision(st, 6, "superseded", when=at(T0, -86400), chart_version="1.2.2")
    revision(st, 8, "deployed", description="Rollback to 6", when=T0, pending_first=True, ended=at(T0, 20),
             chart_version="1.2.2")
    return st, {"description": "a failed upgrade, then a successful rollback: healthy now", "expected": "none",
                "now": at(T0, 900)}


@scenario
def near_miss_healthy_install_with_crd() -> tuple[Story, Expected]:
    st = Story()
    st.add(crd("servicemonitors", "monitoring.coreos.com", "ServiceMonitor", ["v1"]), at(T0, -86400))
    objects = APP + (("monitoring.coreos.com/v1", "ServiceMonitor", "api"),)
    revision(st, 1, "deployed", objects=objects, when=T0, pending_first=True, ended=at(T0, 30))
    healthy_app(st, when=at(T0, 20))
    st.add(custom("monitoring.coreos.com/v1", "ServiceMonitor", "api", created=at(T0, 5)), at(T0, 5))
    return st, {"description": "a first install with a custom resource whose CRD serves its version",
                "expected": "none", "now": at(T0, 900)}


# --- helm's words classified (kg_builder/helm_errors.py); operations an automatic rollback undid ------------

# helm/helm#2149, harbor-helm#30: the API server forbids changing a StatefulSet's spec beyond a few fields
STS_FORBIDDEN = ('Upgrade "api" failed: cannot patch "api-db" with kind StatefulSet: StatefulSet.apps "api-db" is '
                 "invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
                 "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                 "'minReadySeconds' are forbidden")
# helm/helm#7992: a revision's description that no family knows
ETCD_TIMEOUT = 'Release "api" failed: etcdserver: request timed out'


@scenario
def helm_error_statefulset_forbidden() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    objects = APP + (("apps/v1", "StatefulSet", "api-db"),)
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 2), objects=objects,
             description=STS_FORBIDDEN)
    return st, {"description": "an upgrade changes a StatefulSet field the API server forbids updating "
                               "(helm/helm#2149)",
                "expected": "helm_error", "shape": "resource_conflict", "now": at(T0, 600), "release": "prod/api",
                "subject": "StatefulSet/prod/api-db",
                "evidence": ["StatefulSet api-db", "updates to statefulset spec for fields other than"],
                "resolution": ["kubectl -n prod delete statefulset api-db --cascade=orphan"], "roots": 1}


@scenario
def helm_error_rbac_forbidden() -> tuple[Story, Expected]:
    st = Story()
    # terraform-provider-helm#392: helm's identity may not create Deployments in the target namespace
    revision(st, 1, "failed", when=T0, pending_first=True, ended=at(T0, 1),
             description='Release "api" failed: deployments.apps is forbidden: User "client" cannot create resource '
                         '"deployments" in API group "apps" in the namespace "prod"')
    return st, {"description": "a first install refused by RBAC: helm's user may not create Deployments",
                "expected": "helm_error", "shape": "resource_conflict", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["client may not create deployments in namespace prod"],
                "resolution": ["kubectl auth can-i create deployments -n prod --as client"]}


@scenario
def helm_unclassified_failed_revision() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 8), description=ETCD_TIMEOUT)
    return st, {"description": "a failed revision whose words no family knows is still diagnosed, verbatim "
                               "(helm/helm#7992)",
                "expected": "helm_unclassified", "shape": "none", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["etcdserver: request timed out", "(unclassified)"], "max_confidence": 0.3}


@scenario
def atomic_rollback_immutable_job() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    objects = (("apps/v1", "Deployment", "api"), ("batch/v1", "Job", "api-reindex"))
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 2), objects=objects,
             description=JOB_TEMPLATE_IMMUTABLE)
    revision(st, 6, "superseded", when=at(T0, -86400))
    revision(st, 8, "deployed", description="Rollback to 6", when=at(T0, 3), pending_first=True, ended=at(T0, 6))
    return st, {"description": "helm upgrade --atomic: the upgrade to 7 failed on an immutable Job template and "
                               "was rolled back to 6 (now revision 8)",
                "expected": "resource_conflict_immutable", "shape": "resource_conflict", "now": at(T0, 600),
                "release": "prod/api",
                "evidence": ["the upgrade to revision 7 failed and was rolled back to 6 (now revision 8)",
                             "spec.template"],
                "resolution": ["kubectl -n prod delete job api-reindex"]}


@scenario
def near_miss_user_rollback_soon_after() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "-f", "values-prod.yaml"], T0, ended=at(T0, 3),
            status="failed", exit_code=1, stderr="Error: UPGRADE FAILED: " + JOB_TEMPLATE_IMMUTABLE)
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 2), description=JOB_TEMPLATE_IMMUTABLE)
    revision(st, 6, "superseded", when=at(T0, -86400))
    # the user's own `helm rollback`, two minutes later, in a process of its own: the release is healthy again
    st.helm(["helm", "rollback", "api", "6", "-n", "prod"], at(T0, 120), ended=at(T0, 125))
    revision(st, 8, "deployed", description="Rollback to 6", when=at(T0, 121), pending_first=True, ended=at(T0, 124))
    return st, {"description": "a failed upgrade the user rolled back with a helm rollback of their own: healthy",
                "expected": "none", "now": at(T0, 600)}


@scenario
def atomic_rollback_same_process_late() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    # helm upgrade --atomic --timeout 45m: the wait gave up after 45 minutes, then the same process rolled back
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "--atomic", "--timeout", "45m"], T0,
            ended=at(T0, 2710), status="failed", exit_code=1,
            stderr='Error: UPGRADE FAILED: release api failed, and has been rolled back due to atomic being set: '
                   'context deadline exceeded')
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 2700),
             description='Upgrade "api" failed: context deadline exceeded')
    revision(st, 6, "superseded", when=at(T0, -86400))
    revision(st, 8, "deployed", description="Rollback to 6", when=at(T0, 2702), pending_first=True,
             ended=at(T0, 2708))
    return st, {"description": "helm upgrade --atomic --timeout 45m: the same helm process rolled back after 45 "
                               "minutes, still an automatic rollback",
                "expected": "helm_error", "shape": "wait_timeout", "now": at(T0, 3000), "release": "prod/api",
                "evidence": ["the upgrade to revision 7 failed and was rolled back to 6 (now revision 8)"]}


@scenario
def atomic_rollback_unclassified() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 7, "failed", when=T0, pending_first=True, ended=at(T0, 8), description=ETCD_TIMEOUT)
    revision(st, 6, "superseded", when=at(T0, -86400))
    revision(st, 8, "deployed", description="Rollback to 6", when=at(T0, 9), pending_first=True, ended=at(T0, 12))
    return st, {"description": "an atomic upgrade failed with words no family knows and was rolled back: still a "
                               "diagnosis",
                "expected": "helm_unclassified", "now": at(T0, 600), "release": "prod/api",
                "evidence": ["the upgrade to revision 7 failed and was rolled back to 6 (now revision 8)",
                             "etcdserver: request timed out"]}


@scenario
def quota_exceeded_release_short() -> tuple[Story, Expected]:
    st = Story()
    revision(st, 5, "superseded", when=at(T0, -86400 * 2), chart_version="1.2.2")
    revision(st, 6, "deployed", when=at(T0, -3600), pending_first=True, ended=at(T0, -3590))
    st.add(service_obj("api"), at(T0, -3500))
    st.add(config_map("api-config"), at(T0, -3500))
    deploy = f.deployment("api", NS, release="api", replicas=4, ready=3, created=at(T0, -86400))
    rs = f.replicaset(deploy)
    st.add(deploy, at(T0, -3500))
    st.add(rs, at(T0, -3500))
    for index in range(3):
        st.add(f.pod(f"api-7d4b9c-q{index}", NS, owner_obj=rs, labels={"app": "api"}, created=at(T0, -3550)),
               at(T0, -3500))
    # ../shared/reference/failure-messages.jsonl: the API server's quota refusal, as the ReplicaSet's event
    st.add(event(rs, "FailedCreate", 'Error creating: pods "api-7d4b9c-mrnq5" is forbidden: exceeded quota: '
                 "resource-quota, requested: limits.cpu=3, used: limits.cpu=21500m, limited: limits.cpu=24",
                 at(T0, -60), count=17, first=at(T0, -3500), component="replicaset-controller"), at(T0, -60))
    return st, {"description": "the release is deployed but its Deployment stays short: the namespace quota is "
                               "exhausted; one diagnosis names both",
                "expected": "quota_exceeded", "shape": "partial_deployment", "now": at(T0, 600),
                "release": "prod/api", "consequences": ["partial_deployment"],
                "evidence": ["prod/api is deployed but not all of it runs", "resource-quota", "limits.cpu=3"]}


# helm's pkg/action/uninstall.go: the record an uninstall leaves while its pre-delete hooks run
DELETION_IN_PROGRESS = "Deletion in progress (or silently failed)"


@scenario
def uninstall_stuck_pre_delete_hook() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 6, "uninstalling", description=DELETION_IN_PROGRESS, when=at(T0, -86400), deleted=T0,
             chart_version="1.2.2",
             hooks=[hook("api-cleanup", "pre-delete", phase="Failed", started=at(T0, 1), completed=at(T0, 40))])
    return st, {"description": "helm uninstall stopped at a failed pre-delete hook: the release stays uninstalling",
                "expected": "uninstall_stuck", "shape": "stuck_release", "now": at(T0, 1800), "release": "prod/api",
                "evidence": ["uninstalling", "api-cleanup", "Failed"],
                "resolution": ["helm uninstall api -n prod --no-hooks"]}


@scenario
def near_miss_uninstall_in_progress() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 6, "uninstalling", description=DELETION_IN_PROGRESS, when=at(T0, -86400), deleted=T0,
             chart_version="1.2.2", hooks=[hook("api-cleanup", "pre-delete", phase="Running", started=at(T0, 1))])
    return st, {"description": "an uninstall whose pre-delete hook has run for a minute: still at work",
                "expected": "none", "now": at(T0, 60)}


# --- competing causes: one root, the rest its consequences ------------------------------------------


@scenario
def wait_timeout_image_pull() -> tuple[Story, Expected]:
    def pods(st: Story, rs: Obj) -> None:
        for suffix in ("gg777", "hh888"):
            pod = app_pod(rs, suffix, created=at(T0, 3), ready=False, phase="Pending", waiting="ImagePullBackOff",
                          waiting_message='Back-off pulling image "registry.example/api:1.3.0"')
            st.add(pod, at(T0, 30))
            st.add(event(pod, "Failed", 'Failed to pull image "registry.example/api:1.3.0": rpc error: code = '
                         'Unknown desc = Error response from daemon: manifest for registry.example/api:1.3.0 not '
                         'found: manifest unknown: manifest unknown', at(T0, 25), count=3, first=at(T0, 5)),
                   at(T0, 25))

    st = wait_story('Upgrade "api" failed: resource Deployment/prod/api not ready. status: InProgress, message: '
                    'Available: 0/2\ncontext deadline exceeded', pods)
    return st, {"description": "Helm 4 --wait timeout whose cause is the new image tag: the pull failure is the "
                               "root, the timeout its consequence",
                "expected": "image_pull_backoff", "shape": "wait_timeout", "now": at(T0, 600), "release": "prod/api",
                "consequences": ["wait_timeout"], "tags": ["helm4", "ranking"],
                "evidence": ["upgrade of prod/api timed out waiting: "]}


@scenario
def hook_unschedulable_helm_killed() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), active=1)
    message = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption " \
              "victims found for incoming pod."
    pod = job_pod(job, "u7i8o", created=at(T0, 3), phase="Pending", node=None, unschedulable=message)
    revision(st, 7, "pending-upgrade",
             hooks=[hook("api-migrate", "pre-upgrade", phase="Running", started=at(T0, 1))], when=at(T0, 1))
    st.add(job, at(T0, 2))
    st.add(pod, at(T0, 3))
    st.add(event(pod, "FailedScheduling", message, at(T0, 170), count=6, first=at(T0, 3),
                 component="default-scheduler"), at(T0, 170))
    st.helm(["helm", "upgrade", "api", "./chart", "-n", "prod", "--wait", "--timeout", "10m"], T0,
            ended=at(T0, 180), status="killed", signal="SIGTERM")
    return st, {"description": "the CI job was cancelled while helm waited on an unschedulable hook: the hook is "
                               "the root cause, the stuck release its consequence",
                "expected": "hook_unschedulable", "now": at(T0, 900), "release": "prod/api",
                "evidence": ["Insufficient cpu"], "consequences": ["stuck_release"], "roots": 1,
                "tags": ["ebpf", "ranking"]}


@scenario
def near_miss_stuck_then_rolled_back() -> tuple[Story, Expected]:
    st = Story()
    history(st, 16)
    revision(st, 17, "pending-upgrade", when=at(T0, -7200))
    revision(st, 16, "superseded", when=at(T0, -86400), chart_version="1.2.2")
    revision(st, 18, "deployed", description="Rollback to 16", when=T0, pending_first=True, ended=at(T0, 10))
    return st, {"description": "a stuck pending-upgrade already cleared by `helm rollback`", "expected": "none",
                "now": at(T0, 900)}


@scenario
def near_miss_helm_template_locally() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    st.helm(["helm", "template", "api", "./chart", "-f", "values-dev.yaml"], T0, ended=at(T0, 1), status="failed",
            exit_code=1,
            stderr='Error: template: api/templates/deployment.yaml:30:30: executing "api/templates/deployment.yaml" '
                   'at <.Values.image.tag>: nil pointer evaluating interface {}.tag\n')
    return st, {"description": "a developer's local `helm template` failing is not a release problem",
                "expected": "none", "now": at(T0, 60), "tags": ["ebpf"]}


@scenario
def near_miss_rollout_in_progress() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    revision(st, 6, "superseded", when=at(T0, -86400), chart_version="1.2.2")
    revision(st, 7, "deployed", when=T0, pending_first=True, ended=at(T0, 3))
    deploy = deployment("api", replicas=2, ready=1, created=at(T0, -86400))
    st.add(deploy, at(T0, 30), "MODIFIED")
    rs = f.replicaset(deploy, suffix="5f6g7h")
    st.add(rs, at(T0, 4))
    st.add(app_pod(rs, "ii999", created=at(T0, 5), ready=False), at(T0, 20))
    return st, {"description": "an upgrade without --wait, 60s ago: one new pod is still starting",
                "expected": "none", "now": at(T0, 60)}


@scenario
def near_miss_hook_connection_retried_ok() -> tuple[Story, Expected]:
    st = Story()
    history(st)
    job = hook_job("api-migrate", created=at(T0, 2), failed=1, succeeded=1, backoff_limit=3)
    first = job_pod(job, "c1c1c", created=at(T0, 3), phase="Failed", state=terminated(
        1, at(T0, 4), at(T0, 14), "dial tcp 10.96.0.15:5432: connect: connection refused"))
    second = job_pod(job, "c2c2c", created=at(T0, 16), phase="Succeeded",
                     state=terminated(0, at(T0, 17), at(T0, 40), reason="Completed"))
    revision(st, 6, "superseded", when=at(T0, -86400), chart_version="1.2.2")
    revision(st, 7, "deployed", hooks=[hook("api-migrate", "pre-upgrade", phase="Succeeded", started=at(T0, 1),
                                            completed=at(T0, 41))], when=T0, pending_first=True, ended=at(T0, 80))
    st.add(job, at(T0, 41))
    st.add(first, at(T0, 14))
    st.add(second, at(T0, 40))
    healthy_app(st, when=at(T0, 60))
    return st, {"description": "the hook's first pod could not reach the database yet; the retry succeeded",
                "expected": "none", "now": at(T0, 900)}


@scenario
def near_miss_conflict_adopted() -> tuple[Story, Expected]:
    st = Story()
    svc = service_obj("mailu-front-ext", release=None, cluster_ip="10.96.40.2")
    st.add(svc, at(T0, -3600))
    st.helm(["helm", "install", "mailu", "mailu/mailu", "-n", "prod"], T0, ended=at(T0, 3), status="failed",
            exit_code=1,
            stderr='Error: INSTALLATION FAILED: Unable to continue with install: Service "mailu-front-ext" in '
                   'namespace "prod" exists and cannot be imported into the current release: invalid ownership '
                   'metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to '
                   '"Helm"\n')
    st.helm(["helm", "install", "mailu", "mailu/mailu", "-n", "prod"], at(T0, 300), ended=at(T0, 330))
    revision(st, 1, "deployed", name="mailu", objects=(("v1", "Service", "mailu-front-ext"),), when=at(T0, 301))
    st.add(service_obj("mailu-front-ext", release="mailu", cluster_ip="10.96.40.2"), at(T0, 310), "MODIFIED")
    return st, {"description": "an ownership conflict the user fixed by adopting the Service; the retry worked",
                "expected": "none", "now": at(T0, 900), "tags": ["ebpf"]}


# --- real recordings (tests/e2e/recordings: a real API server, kwok and helm) ------------------------
# The recordings hold the watch events. A recording made with eBPF (record_scenarios.py traces the scenario's helm
# runs: <recording>.processes.jsonl) brings the real helm process records of its run, copied here as they are.
# The older recordings were made where eBPF could not run: their helm process records (which the tracer would
# have written) are rebuilt from the commands the recorder ran and their real output, kept in
# <recording>.meta.json, with approximate times. Only that is built.

RECORDINGS = Path(__file__).resolve().parents[1] / "e2e" / "recordings"


def recorded(name: str, expected: Expected, now_after: float = 600) -> tuple[Story, Expected]:
    import json

    meta = json.loads((RECORDINGS / f"{name}.meta.json").read_text(encoding="utf-8"))
    traced = RECORDINGS / f"{name}.processes.jsonl"
    if traced.exists():
        helm = meta.get("helm_version", "v3")
        lines = [json.loads(line) for line in traced.read_text(encoding="utf-8").splitlines() if line.strip()]
        return lines, {"description": meta["description"] + f" (real recording, helm {helm}, with the eBPF process "
                                                            "records of the same run)",
                       "recording": f"../../e2e/recordings/{name}.jsonl", "now": at(meta["recorded_at"], now_after),
                       **expected, "tags": ["recording", "ebpf", *expected.get("tags", [])]}
    st = Story()
    helm_runs = [c for c in meta.get("commands", []) if c.get("argv", [""])[0] == "helm"]
    end = at(meta["recorded_at"], -2)
    timed = []
    for command in reversed(helm_runs):
        start = at(end, -float(command.get("seconds") or 1))
        timed.append((command, start, end))
        end = at(start, -1)
    for command, start, end in reversed(timed):
        code = command.get("exit")
        status = "succeeded" if code == 0 else ("killed" if code is not None and code < 0 else "failed")
        st.helm(list(command["argv"]), start, ended=end, status=status,
                exit_code=None if status == "killed" else code, signal="SIGKILL" if code == -9 else None,
                stderr=(command.get("output") or "") + "\n" if status != "succeeded" else "")
    helm = meta.get("helm_version", "v3")
    return st, {"description": meta["description"] + f" (real recording, helm {helm}; helm process records "
                                                     "rebuilt from its commands)",
                "recording": f"../../e2e/recordings/{name}.jsonl", "now": at(meta["recorded_at"], now_after),
                **expected, "tags": ["recording", *expected.get("tags", [])]}


def _rec(name: str, folder: str, expected: Expected, now_after: float = 600) -> None:
    if (RECORDINGS / f"{name}.jsonl").exists():
        SCENARIOS[folder] = lambda: recorded(name, expected, now_after)


_rec("conflict_already_exists", "rec_resource_conflict", {
    "expected": "resource_conflict", "release": "e2e-conflict-already-exists/inventory",
    "evidence": ["ConfigMap e2e-conflict-already-exists/inventory-config"]})
# Helm 4 (server-side apply) words the refusal "server-side apply failed for object NS/reviews apps/v1,
# Kind=Deployment: ... field is immutable", Helm 3 `cannot patch "reviews" with kind Deployment: ...`: both read
_rec("conflict_immutable_field", "rec_resource_conflict_immutable", {
    "expected": "resource_conflict_immutable", "release": "e2e-conflict-immutable-field/reviews",
    "shape": "resource_conflict", "evidence": ["spec.selector", "Deployment e2e-conflict-immutable-field/reviews"]})
_rec("crd_missing", "rec_crd_mismatch", {
    "expected": "crd_mismatch", "release": "e2e-crd-missing/metrics", "evidence": ["ServiceMonitor"]})
_rec("healthy_install", "rec_near_miss_healthy_install", {"expected": "none"})
_rec("healthy_rollback", "rec_near_miss_healthy_rollback", {"expected": "none"})
_rec("healthy_upgrade", "rec_near_miss_healthy_upgrade", {"expected": "none"})
_rec("hook_image_pull", "rec_hook_image_pull", {
    "expected": "hook_image_pull", "release": "e2e-hook-image-pull/orders"})
_rec("hook_script_fails", "rec_hook_script_failed", {
    "expected": "hook_script_failed", "release": "e2e-hook-script-fails/billing"})
# the API server's rejection of the Job is the cause; the worker that was created is its consequence
_rec("partial_deployment", "rec_partial_deployment", {
    "expected": "helm_error", "release": "e2e-partial-deployment/shipping", "shape": "template_error",
    "consequences": ["partial_deployment"], "evidence": ["restartPolicy"]})
# recorded with eBPF: the real process records say which run wrote the pending revision, the upgrade killed by
# SIGKILL (not the install that ended a second before it; the rebuilt records could not tell them apart)
_rec("stuck_pending_upgrade", "rec_stuck_release", {
    "expected": "stuck_release", "release": "e2e-stuck-pending-upgrade/search",
    "evidence": ["pending-upgrade", "another operation", "helm upgrade (pid", "was killed by SIGKILL"]},
     now_after=3600)
_rec("template_error", "rec_template_error", {
    "expected": "template_error", "release": "e2e-template-error/profile",
    "evidence": ["app/templates/deployment.yaml", "line 20", "image.tag is required"]})
# the readiness probe fails: the pod pattern is the root cause, helm's --wait timeout its consequence
_rec("wait_timeout", "rec_wait_timeout", {
    "expected": "probe_failing", "release": "e2e-wait-timeout/recommendations", "consequences": ["wait_timeout"]})
# issue #16 item 6: one real recording per failure family (Helm 4)
# --rollback-on-failure (Helm 4's --atomic): the summary must tell that revision 2 was rolled back. Helm 4 names
# only the Deployment ("not ready. status: InProgress, message: Pending termination: 1"), and the rollback deleted
# the ImagePullBackOff pod, which no pod pattern reads once deleted: helm's classified words (wait_timeout) speak.
_rec("atomic_rollback", "rec_atomic_rollback", {
    "expected": "helm_error", "shape": "wait_timeout", "release": "e2e-atomic-rollback/ledger",
    "evidence": ["the upgrade to revision 2 failed and was rolled back to 1 (now revision 3)",
                 "Deployment ledger InProgress"]})
_rec("statefulset_forbidden", "rec_helm_error_statefulset_forbidden", {
    "expected": "helm_error", "shape": "resource_conflict", "release": "e2e-statefulset-forbidden/warehouse",
    "evidence": ["StatefulSet warehouse-db", "updates to statefulset spec for fields other than"]})
# Helm 4 says "server-side apply failed for object <ns>/pricing-seed batch/v1, Kind=Job: ... spec.template: ...:
# field is immutable"
_rec("job_template_change", "rec_resource_conflict_immutable_job", {
    "expected": "resource_conflict_immutable", "release": "e2e-job-template-change/pricing",
    "evidence": ["Job e2e-job-template-change/pricing-seed", "spec.template"]})
_rec("removed_api", "rec_crd_mismatch_removed_api", {
    "expected": "crd_mismatch", "release": "e2e-removed-api/fleet",
    "evidence": ["PodDisruptionBudget", "policy/v1beta1", "no longer served"]})
_rec("owned_by_other_release", "rec_resource_conflict_other_release", {
    "expected": "resource_conflict", "release": "e2e-owned-by-other-release/checkout",
    "evidence": ["ConfigMap e2e-owned-by-other-release/shared-settings", "billing"]})
# guard's uninstall finished (its release Secret was deleted): it must not be reported as a stuck uninstall
_rec("stale_webhook", "rec_webhook_unavailable", {
    "expected": "webhook_unavailable", "release": "e2e-stale-webhook/storefront", "absent": ["uninstall_stuck"],
    "subject": "ValidatingWebhookConfiguration//e2e-stale-webhook-guard",
    "evidence": ["configmaps.guard.e2e-stale-webhook.example.com", "e2e-stale-webhook/guard", "was deleted at",
                 'service "guard" not found']})
# The recordings above are Helm 4's; the Helm 3 entry of the matrix (tests/e2e/recordings/<x>.helm3.jsonl,
# recorded with `record_scenarios.py --helm 3`) is replayed the same way.
_rec("conflict_already_exists.helm3", "rec_helm3_resource_conflict", {
    "expected": "resource_conflict", "release": "e2e-conflict-already-exists/inventory",
    "evidence": ["ConfigMap e2e-conflict-already-exists/inventory-config"], "tags": ["helm3"]})
_rec("conflict_immutable_field.helm3", "rec_helm3_resource_conflict_immutable", {
    "expected": "resource_conflict_immutable", "release": "e2e-conflict-immutable-field/reviews",
    "evidence": ["spec.selector", "Deployment e2e-conflict-immutable-field/reviews"], "tags": ["helm3"]})
_rec("healthy_install.helm3", "rec_helm3_near_miss_healthy_install", {"expected": "none", "tags": ["helm3"]})
_rec("healthy_upgrade.helm3", "rec_helm3_near_miss_healthy_upgrade", {"expected": "none", "tags": ["helm3"]})
_rec("hook_image_pull.helm3", "rec_helm3_hook_image_pull", {
    "expected": "hook_image_pull", "release": "e2e-hook-image-pull/orders", "tags": ["helm3"]})
_rec("template_error.helm3", "rec_helm3_template_error", {
    "expected": "template_error", "release": "e2e-template-error/profile",
    "evidence": ["app/templates/deployment.yaml", "line 20", "image.tag is required"], "tags": ["helm3"]})


# --- writing --------------------------------------------------------------------------------------




def main(argv: list[str] | None = None) -> int:
    return suite.generate(SCENARIOS, "tests/scenarios/generate_helm.py", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
