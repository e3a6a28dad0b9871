"""Helm's error classifier (kg_builder/helm_errors.py, cypher/helm_errors.yaml) on the real corpus.

tests/helm_errors/corpus.jsonl holds messages users saw in public issue threads, each labelled with its family
and the thread it came from. The classifier must name at least 95% of them right, say "unclassified" rather than
guess, and every fact it pulls out must be words of the message itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg_builder import helm_errors
from kg_builder.helm_errors import UNCLASSIFIED, classify, render

CORPUS = Path(__file__).parent / "helm_errors" / "corpus.jsonl"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
FAMILIES = {family.id: family for family in helm_errors.families()}


def test_the_corpus_is_real_and_labelled():
    assert len(ROWS) >= 150
    for row in ROWS:
        assert row["source"].startswith("http"), row
        assert row["family"] in FAMILIES, row["family"]
        assert row["shape"] == FAMILIES[row["family"]].shape, row


def test_at_least_95_percent_of_real_messages_are_named_right():
    results = [(row, classify(row["message"])) for row in ROWS]
    wrong = [(row["family"], found.family, row["message"][:160]) for row, found in results
             if found.family != row["family"]]
    assert (len(ROWS) - len(wrong)) / len(ROWS) >= 0.95, wrong


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_names_a_real_message(family):
    mine = [row for row in ROWS if row["family"] == family]
    assert mine, f"no real message of {family} in the corpus"
    assert any(classify(row["message"]).family == family for row in mine)


def test_facts_are_words_of_the_message():
    for row in ROWS:
        found = classify(row["message"])
        flat = " ".join(row["message"].split())
        for name, value in found.facts.items():
            if name in ("removed_in", "replacement"):  # from the table of removed APIs, not the message
                continue
            assert value.removesuffix(" [...]") in flat, (name, value, row["message"][:200])


def test_a_fact_missing_from_the_message_is_said_to_be_missing():
    assert render("cannot change {field} of {kind}", {"kind": "Job"}) == \
        "cannot change <field not in helm's message> of Job"
    assert render("the hook[[ {name}]] failed[[: {reason}]]", {"reason": "BackoffLimitExceeded"}) == \
        "the hook failed: BackoffLimitExceeded"


def test_what_helm_writes_on_success_is_no_error():
    for description in ("Install complete", "Upgrade complete", "Rollback to 3", "Preparing upgrade",
                        "Initial install underway", "Uninstallation complete", ""):
        assert not helm_errors.is_error_text(description)
    assert helm_errors.is_error_text('Upgrade "api" failed: timed out waiting for the condition')


def test_unknown_words_are_unclassified_and_quoted_verbatim():
    found = classify("Upgrade \"api\" failed: the flux capacitor is out of plutonium")
    assert found.family == UNCLASSIFIED and not found.classified and found.shape is None
    assert "the flux capacitor is out of plutonium" in found.summary


def test_a_removed_builtin_api_is_told_from_a_missing_crd():
    removed = classify('no matches for kind "Ingress" in version "extensions/v1beta1"')
    assert (removed.family, removed.facts["removed_in"], removed.facts["replacement"]) == \
        ("removed_api", "1.22", "networking.k8s.io/v1")
    not_served = classify('no matches for kind "Widget" in version "apps/v9"')
    assert not_served.family == "removed_api" and "removed_in" not in not_served.facts
    crd = classify('no matches for kind "ServiceMonitor" in version "monitoring.coreos.com/v1"')
    assert crd.family == "missing_crd" and crd.shape == "crd_mismatch"


def test_several_rejected_objects_are_all_named_and_the_fix_is_rendered():
    text = ('Upgrade "api" failed: cannot patch "api-migrate" with kind Job: Job.batch "api-migrate" is invalid: '
            'spec.template: Invalid value: core.PodTemplateSpec{}: field is immutable && cannot patch "api" with '
            'kind Deployment: Deployment.apps "api" is invalid: spec.selector: Invalid value: '
            'v1.LabelSelector{}: field is immutable')
    found = classify(text, release="api", namespace="prod")
    assert found.family == "immutable_field" and found.shape == "resource_conflict"
    assert found.objects == ("Job/api-migrate", "Deployment/api")
    assert found.facts["field"] == "spec.template"
    assert "kubectl -n prod delete job api-migrate" in found.fix


def test_the_table_is_checked_when_loaded(tmp_path, monkeypatch):
    broken = tmp_path / "helm_errors.yaml"
    broken.write_text("families:\n  - {id: x, shape: nonsense, cause: c, match: ['a'], summary: s, fix: [f], "
                      "confidence: 0.5}\n")
    monkeypatch.setattr(helm_errors, "TABLE", broken)
    helm_errors.table.cache_clear()
    try:
        with pytest.raises(helm_errors.TableError, match="family x: shape must be one of"):
            helm_errors.table()
    finally:
        helm_errors.table.cache_clear()
