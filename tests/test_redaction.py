"""Secrets never reach the graph: helm and kubectl command lines, and helm's words, redacted by rule.

Each row is a command line of the shapes people type and CI jobs run (helm's and kubectl's documented
flags; the chart keys are popular charts' own: bitnami postgresql `auth.postgresPassword`, grafana
`adminPassword`, ...). ``secret`` must be gone from the argv and from the parsed flags; ``kept`` must
still be there, so redaction does not blind a diagnosis.
"""

from __future__ import annotations

import json
import shlex

import pytest

from kgrca.commandline import REDACTED, parse_command, redact_argv
from kgrca.redaction import redact_text

S = "hunter2-s3cr3t"  # the secret every row hides somewhere

COMMAND_LINES = [
    # helm --set family
    ("helm", f"helm upgrade db bitnami/postgresql -n data --set auth.postgresPassword={S}", ["db", "data"]),
    ("helm", f"helm install graf grafana/grafana --set adminPassword={S},persistence.enabled=true",
     ["persistence.enabled=true"]),
    ("helm", f"helm upgrade --install api ./chart --set-string db.pwd={S}", ["api", "./chart"]),
    ("helm", f"helm upgrade api ./chart --set=redis.auth.password={S}", ["api"]),
    ("helm", f"helm upgrade api ./chart --set image.tag=1.2.3 --set secrets.apiKey={S}", ["image.tag=1.2.3"]),
    ("helm", f"helm upgrade api ./chart --set-literal sentry.dsn=https://abc:{S}@sentry.io/1", ["api"]),
    ("helm", f"helm install kc bitnami/keycloak --set auth.adminPassword={S} --set auth.adminUser=admin",
     ["auth.adminUser=admin"]),
    ("helm", f"helm upgrade app ./c --set env.AWS_SECRET_ACCESS_KEY={S}", ["app"]),
    ("helm", f"helm upgrade app ./c --set oauth.clientSecret={S}", ["app"]),
    ("helm", f"helm upgrade app ./c --set github.token={S}", ["app"]),
    ("helm", f"helm upgrade app ./c --set slack.webhookUrl=https://hooks.slack.com/services/{S}", ["app"]),
    ("helm", f"helm upgrade app ./c --set db.connectionString=Server=x;Password={S}", ["app"]),
    # --set-json
    ("helm", "helm upgrade app ./c --set-json " + shlex.quote(f'db={{"host":"pg","password":"{S}"}}'), ["host", "pg"]),
    ("helm", "helm upgrade app ./c --set-json " + shlex.quote(f'auth={{"user":"ci-bot","token":"{S}"}}'), ["ci-bot"]),
    ("helm", "helm upgrade app ./c --set-json " + shlex.quote(f'credentials=["{S}"]'), ["app"]),
    ("helm", "helm upgrade app ./c --set-json=" + shlex.quote(f'cfg={{"nested":{{"apiKey":"{S}"}}}}'), ["cfg="]),
    # helm's own secret flags
    ("helm", f"helm registry login registry.example.com -u ci -p {S}", ["registry.example.com", "ci"]),
    ("helm", f"helm registry login registry.example.com --username ci --password {S}", ["ci"]),
    ("helm", f"helm registry login registry.example.com --username ci --password={S}", ["ci"]),
    ("helm", f"helm repo add private https://charts.example.com --username bot --password {S}", ["private"]),
    ("helm", f"helm repo add private https://bot:{S}@charts.example.com/stable", ["charts.example.com"]),
    ("helm", f"helm pull oci://bot:{S}@registry.example.com/charts/api --version 1.0.0", ["1.0.0"]),
    ("helm", f"helm upgrade api ./chart --kube-token {S} -n prod", ["prod"]),
    ("helm", f"helm upgrade api ./chart --kube-token={S}", ["api"]),
    ("helm", f"helm install api https://bot:{S}@charts.example.com/api-1.0.0.tgz", ["api"]),
    # kubectl
    ("kubectl", f"kubectl create secret generic db -n prod --from-literal=password={S}", ["db", "password="]),
    ("kubectl", f"kubectl create secret generic db --from-literal=user=admin --from-literal password={S}",
     ["user="]),
    ("kubectl", f"kubectl create secret docker-registry regcred --docker-server=ghcr.io --docker-username=bot "
                f"--docker-password={S}", ["regcred", "ghcr.io"]),
    ("kubectl", "kubectl patch secret db -n prod -p " + shlex.quote(f'{{"stringData":{{"password":"{S}"}}}}'),
     ["db", "prod"]),
    ("kubectl", "kubectl patch secret db --type merge --patch " +
     shlex.quote(f'{{"data":{{"token":"{S}"}}}}'), ["merge"]),
    ("kubectl", "kubectl patch deploy api -p " +
     shlex.quote(f'{{"spec":{{"template":{{"spec":{{"containers":[{{"name":"api","env":[{{"name":"X",'
                 f'"value":"1"}}],"args":["--api-key={S}"]}}]}}}}}}}}'), ["containers", "--api-key="]),
    ("kubectl", f"kubectl --token {S} get pods -A", ["get", "pods"]),
    ("kubectl", f"kubectl --token={S} apply -f deploy.yaml", ["deploy.yaml"]),
    ("kubectl", f"kubectl get pods --server https://admin:{S}@10.0.0.1:6443", ["get"]),
    ("kubectl", f"kubectl --username admin --password {S} get nodes", ["nodes"]),
    ("kubectl", f"kubectl run curl --image curlimages/curl -- curl -H 'Authorization: Bearer {S}' https://api",
     ["curlimages/curl"]),
]


@pytest.mark.parametrize("tool,line,kept", COMMAND_LINES, ids=[line[:60] for _, line, _ in COMMAND_LINES])
def test_secrets_on_command_lines_are_redacted(tool, line, kept):
    argv = shlex.split(line)
    shown = redact_argv(tool, argv)
    stored = json.dumps({"argv": shown, **parse_command(tool, argv)})
    assert S not in stored, f"{line}: the secret survived: {stored}"
    assert REDACTED in " ".join(shown), f"{line}: nothing was marked redacted: {shown}"
    for word in kept:
        assert word in stored, f"{line}: redaction also removed {word!r}: {stored}"


def test_the_table_has_thirty_real_shapes_or_more():
    assert len(COMMAND_LINES) >= 30


def test_plain_command_lines_are_left_alone():
    argv = ["helm", "upgrade", "api", "./chart", "-n", "prod", "--set", "image.tag=1.2.3,replicas=3",
            "-f", "values-prod.yaml", "--timeout", "5m0s", "--wait"]
    assert redact_argv("helm", argv) == argv
    parsed = parse_command("helm", argv)
    assert parsed["set_values"] == ["image.tag=1.2.3,replicas=3"] and parsed["values_files"] == ["values-prod.yaml"]


@pytest.mark.parametrize("text,kept", [
    # helm 3 printed the repository URL as given, credentials and all (helm/helm#8432 shows the shape)
    (f'Error: looks like "https://bot:{S}@charts.example.com" is not a valid chart repository or cannot be '
     'reached: failed to fetch https://charts.example.com/index.yaml : 401 Unauthorized', "not a valid chart"),
    (f'Error: UPGRADE FAILED: cannot patch "db" with kind Secret: Secret "db" is invalid: data[password]: '
     f'Invalid value: "{S}": a valid config key must consist of alphanumeric characters', 'Secret "db"'),
    (f"Get \"https://api\": x509: certificate signed by unknown authority (Authorization: Bearer {S})", "x509"),
])
def test_secrets_in_helms_words_are_redacted(text, kept):
    shown = redact_text(text)
    assert S not in shown and REDACTED in shown
    assert kept in shown


def test_a_revision_description_is_redacted_when_read():
    from kg_builder import helm_release
    from tests import factories as f

    release = f.release_json("api", "prod", 2, "failed",
                             description=f'Upgrade "api" failed: looks like "https://bot:{S}@charts.example.com" '
                                         'is not a valid chart repository')
    read = helm_release.read_release(f.release_secret(release))
    assert S not in read.description and "not a valid chart repository" in read.description
