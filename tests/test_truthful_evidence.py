"""Every fact a diagnosis states comes from the input: no name, quote or number is made up.

Each golden scenario (tests/scenarios/) is replayed into a real Neo4j and diagnosed, as
tests/test_scenarios.py does; then every diagnosis (each root and each consequence it folds in) is held
against *what the input holds*:

* the input's words: every JSON string and number of every input line, recursively (watch events,
  process records, webhook deliveries, their ``observed_at``), plus the decoded release JSON inside each
  Helm release Secret or ConfigMap (kg_builder.helm_release.decode_storage: the manifest, hooks, info,
  chart), plus the scenario's ``now``;
* the input's *atoms*: those strings cut into tokens at every character a Kubernetes name cannot hold
  (``[^A-Za-z0-9._-]``), and once more at ``.`` and ``_`` as well, so that ``api-7d4b9c-x2x9z`` is one
  atom whether it came as a value, inside an event message or inside a YAML manifest;
* the input's container names: ``name`` of every entry of ``containers``, ``initContainers``,
  ``ephemeralContainers``, ``containerStatuses``, ``initContainerStatuses``, wherever they occur.

The rules, each reported with the scenario, the diagnosis (pattern and subject) and the string at fault:

quote
    Every double-quoted string (``"..."``) in the summary and details occurs, as it is, in the input's
    words (one string or across them: the check is a substring of the joined text).
name
    The subject's name and namespace, and every evidence item's ``name``, are made of atoms of the input.
    A name is split at whitespace and ``/`` (``ns/name``, ``Kind/ns/name``, ``prod/api v3``), a part
    ``v<digits>`` is a revision number (the digits must be an atom), and a part with ``:`` (an operation id
    such as ``flux:<uid>:<attempt>``) is split at ``:`` too. The pattern's own kind words (``Pod``,
    ``Revision``) are atoms of any input that has such an object.
container
    Every ``container <name>`` a summary, details, evidence text or timeline entry speaks of is a
    container the input declares: a made-up default such as ``main`` is caught where no container has
    that name.
exit code
    Every exit code stated (``exit code N``, ``exit N``) is a number of the input, not a guessed 137.
attribution
    What follows a pattern's hand-over to a witness (``The kubelet:``, ``The scheduler:``, ``Helm said:``,
    ``it said:``, ``Kubernetes stopped it:``, ``Termination message of <pod>:``, a node's ``Ready Unknown:``),
    up to the end of its first sentence (at most 60 characters), is in the input: a kubelet message made up
    is caught.
helm duration
    Every Go duration helm prints (``5m0s``, ``10m0s``) stated in a summary or details is in the input:
    helm's default ``--timeout`` is no observation. A default may be named only as such: within the 40
    characters before it the text says ``documented default`` (and then says why it applied).
null
    No text says ``null`` or ``None`` where the input does not (a word the input itself says, in a quoted
    message, passes when the 12 characters on one side of it occur in the input beside it).
dangling
    No text leaves a label without its value: a ``:`` followed by nothing, by the end of a sentence
    (``The kubelet: .``) or a closing bracket; no empty quotes ``""``.

A pattern's own sentences ("the pod is not ready", "restarted 5 times") are not facts of the input and
are not checked; the names, quotes, exit codes and durations inside them are.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from kg_builder.helm_release import decode_storage, is_release_storage
from kgrca.contracts import Diagnosis, KgrcaError
from tests.scenarios import suite

FOLDERS = suite.discover()
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers", "containerStatuses",
                   "initContainerStatuses", "ephemeralContainerStatuses")
_ATOM_SPLIT = re.compile(r"[^A-Za-z0-9._-]+")
_FINE_SPLIT = re.compile(r"[^A-Za-z0-9-]+")
_QUOTED = re.compile(r'"([^"\n]*)"')
_CONTAINER = re.compile(r"\b[Cc]ontainer ([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXIT = re.compile(r"\bexit(?:ed with)?(?: code)? (-?\d+)")
_GO_DURATION = re.compile(r"(?<![\w.])(\d+h)?\d+m\d+s\b|(?<![\w.])\d+h\d+m\b")
_NULL = re.compile(r"\b(?:null|None(?! of\b))\b")
_DANGLING = re.compile(r":[ \t]*(?:\Z|[.;,](?=\s|\Z)|[)\]])")
_REVISION = re.compile(r"^v(\d+)$")
# Where a pattern hands the word to someone else: what follows must be that someone's words.
_ATTRIBUTION = re.compile(r"(?:The kubelet|The scheduler|[Hh]elm said|[Ii]t said|Kubernetes stopped it|"
                          r"The API server said|Termination message of \S+(?: \(container [^)]+\))?|"
                          r"Ready (?:Unknown|False)): *")
_WORDS_END = re.compile(r"\.\s|;\s|\n|\.?\Z")


@dataclasses.dataclass
class Input:
    """What a scenario's input holds, in the three forms the rules look things up in."""

    text: str                 # every string and number, one a line
    atoms: set[str]
    containers: set[str]

    def says(self, fragment: str) -> bool:
        return fragment in self.text


def _walk(value: Any, into: list[str], containers: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CONTAINER_LISTS and isinstance(item, list):
                containers.update(str(c["name"]) for c in item if isinstance(c, dict) and c.get("name"))
            _walk(item, into, containers)
    elif isinstance(value, list):
        for item in value:
            _walk(item, into, containers)
    elif isinstance(value, bool) or value is None:
        return
    else:
        into.append(str(value))


def read_input(scenario: suite.Scenario) -> Input:
    """Every string and number of the scenario's input, with the releases' own JSON decoded."""
    observed, problems = suite.observations(scenario)
    assert problems == [], f"{scenario.name}: input that does not load: {problems}"
    strings: list[str] = []
    containers: set[str] = set()
    for observation in observed:
        strings.append(observation.observed_at)
        _walk(observation.payload, strings, containers)
        if observation.kind == "k8s" and is_release_storage(observation.payload):
            try:
                _walk(decode_storage(observation.payload), strings, containers)
            except KgrcaError:
                pass  # a corrupt release is the writer's to reject; it then holds no words either
    if scenario.now is not None:
        strings.append(scenario.now.isoformat().replace("+00:00", "Z"))
    atoms: set[str] = set()
    for text in strings:
        atoms.update(_ATOM_SPLIT.split(text))
        atoms.update(_FINE_SPLIT.split(text))
    atoms.discard("")
    return Input("\n".join(strings), atoms, containers)


@dataclasses.dataclass(frozen=True)
class Told:
    """One diagnosis as the rules see it: where it is, and its texts."""

    where: str                # "crashloop about Deployment/prod/api" or "... consequence wait_timeout"
    prose: tuple[str, ...]    # summary and details: quotes and durations are checked here
    texts: tuple[str, ...]    # every sentence a user reads (prose, evidence texts, timeline)
    names: tuple[str, ...]    # subject name and namespace, evidence names


def told(diagnosis: Diagnosis) -> Iterator[Told]:
    subject = diagnosis.subject or {}
    where = f"{diagnosis.pattern} about {suite.subject_key(diagnosis)}"
    evidence_texts = [str(e.get("text") or "") for e in diagnosis.evidence]
    timeline = [str(e.get("what") or "") for e in diagnosis.event_chain]
    names = [str(subject[k]) for k in ("name", "namespace") if subject.get(k)]
    names += [str(e["name"]) for e in diagnosis.evidence if e.get("name")]
    prose = (diagnosis.summary or "", diagnosis.details or "")
    yield Told(where, prose, (*prose, *evidence_texts, *timeline), tuple(names))
    for consequence in diagnosis.consequences:
        summary = str(consequence.get("summary") or "")
        yield Told(f"{where}, its consequence {consequence.get('pattern')}", (summary,), (summary,), ())


def name_parts(name: str) -> Iterator[str]:
    for part in re.split(r"[\s/]+", name):
        revision = _REVISION.match(part)
        if revision:
            yield revision.group(1)
        elif ":" in part:
            yield from (p for p in part.split(":") if p)
        elif part:
            yield part


def _quoted_from_input(text: str, start: int, end: int, facts: Input, token: bool = True) -> bool:
    """Whether text[start:end] stands inside words quoted from the input: it and the 12 characters on one
    side of it, or the whole whitespace-delimited token around it, are in the input as they are."""
    around = re.search(r"\S*\Z", text[:start]).group(0) + re.match(r"\S*", text[start:]).group(0)
    return (facts.says(text[max(0, start - 12):end]) or facts.says(text[start:end + 12])
            or (token and facts.says(around.strip("\"'`,;()"))))


def violations(diagnosis: Told, facts: Input) -> Iterator[str]:
    """Each fact of ``diagnosis`` the input does not hold, as ``rule: what``."""
    for text in diagnosis.prose:
        for quoted in _QUOTED.findall(text):
            if quoted and not facts.says(quoted):
                yield f'quote: "{quoted}" is not in the input'
        for match in _GO_DURATION.finditer(text):
            if match.group(0) not in facts.atoms and "documented default" not in text[max(0, match.start() - 40):]:
                yield f"helm duration: {match.group(0)} is not in the input (in: {text!r})"
        for match in _ATTRIBUTION.finditer(text):
            rest = text[match.end():]
            said = rest[:_WORDS_END.search(rest).start()][:60]
            if said and not facts.says(said) and not facts.says(said.rstrip(").;, ")):  # the pattern's own ")"
                yield f"attribution: {match.group(0)!r} is followed by {said!r}, which the input does not say"
    for name in diagnosis.names:
        missing = [part for part in name_parts(name) if part not in facts.atoms]
        if missing:
            yield f"name: {name!r} has {missing} that the input does not hold"
    for text in diagnosis.texts:
        for match in _CONTAINER.finditer(text):
            container = match.group(1)
            if container not in facts.containers and not _quoted_from_input(text, *match.span(), facts, token=False):
                yield (f"container: {container!r} is no container of the input "
                       f"({sorted(facts.containers) or 'none declared'}; in: {text!r})")
        for code in _EXIT.findall(text):
            if code not in facts.atoms:
                yield f"exit code: {code} is not in the input (in: {text!r})"
        for match in _NULL.finditer(text):
            if not _quoted_from_input(text, *match.span(), facts):
                yield f"null: says {match.group(0)!r} (in: {text!r})"
        for match in _DANGLING.finditer(text):
            if not facts.says(text[max(0, match.start() - 12):match.end()].rstrip("\n")):
                yield f"dangling: a ':' with nothing after it (in: {text!r})"
        for match in re.finditer('""', text):
            if not _quoted_from_input(text, *match.span(), facts):
                yield f"dangling: empty quotes (in: {text!r})"


def untruths(scenario: suite.Scenario, diagnoses: list[Diagnosis]) -> list[str]:
    facts = read_input(scenario)
    found = []
    for diagnosis in diagnoses:
        for each in told(diagnosis):
            found.extend(f"{scenario.name}: {each.where}: {problem}" for problem in violations(each, facts))
    return found


# --- the rules themselves, on texts made to break them (no database needed) ----------------------------------

def _facts() -> Input:
    return Input('api-7d4b9c-x2x9z\nprod\nBack-off restarting failed container app in pod api\n1\n10m0s',
                 {"api-7d4b9c-x2x9z", "prod", "app", "1", "10m0s", "Pod", "api", "2"}, {"app", "sidecar"})


def _broken(summary: str = "", details: str = "", names: tuple[str, ...] = ()) -> list[str]:
    return list(violations(Told("x", (summary, details), (summary, details), names), _facts()))


def test_the_rules_catch_made_up_facts():
    assert _broken(details='The kubelet said "back-off restarting failed container"')[0].startswith("quote:")
    assert _broken(summary="container main of api-7d4b9c-x2x9z crashed")[0].startswith("container:")
    assert _broken(summary="it was OOMKilled (exit 137)")[0].startswith("exit code:")
    assert _broken(summary="helm gave up after its --timeout (5m0s unless set)")[0].startswith("helm duration:")
    assert _broken(names=("prod/api-made-up v3",))[0].startswith("name:")
    assert _broken(summary="no --timeout on its command line, so helm's documented default, 5m0s") == []
    assert _broken(details="The kubelet: .")[0].startswith("dangling:")
    assert _broken(details="The kubelet: ")[0].startswith("dangling:")
    assert _broken(details="image None")[0].startswith("null:")
    assert _broken(details="The kubelet: back-off restarting failed container.")[0].startswith("attribution:")


def test_the_rules_let_observed_facts_and_own_words_pass():
    assert _broken(summary="Container app of api-7d4b9c-x2x9z restarted 5 times: it exited with code 1",
                   details='The kubelet said "Back-off restarting failed container app in pod api"; '
                           "helm waited --timeout 10m0s at 10:00:00.",
                   names=("prod/api-7d4b9c-x2x9z", "Pod/prod/api v2")) == []


# --- every golden scenario ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema_applied(neo4j_config):
    from kgrca.graphdb import connect

    driver = connect(neo4j_config)
    try:
        suite.prepare(driver, neo4j_config)
    finally:
        driver.close()


@pytest.mark.neo4j
@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_fact_of_a_diagnosis_is_in_the_input(folder, schema_applied, neo4j_driver, neo4j_config):
    scenario = suite.load(folder)
    suite.replay(neo4j_driver, neo4j_config, scenario)
    run = suite.diagnose(neo4j_driver, neo4j_config, scenario)
    found = untruths(scenario, run.diagnoses)
    assert not found, f"{len(found)} fact(s) not in the input:\n" + "\n".join(found)


def test_generated_truth_scenarios_are_current():
    from tests.scenarios import generate_truth

    assert generate_truth.main(["--check"]) == 0, "run: python tests/scenarios/generate_truth.py"


if __name__ == "__main__":  # judge a dump of diagnoses (python tests/test_truthful_evidence.py DUMP.json)
    import sys

    dump = json.loads(open(sys.argv[1], encoding="utf-8").read())
    for name, items in dump.items():
        scenario = suite.load(suite.SCENARIO_ROOT / name)
        diagnoses = [Diagnosis.model_validate(d) for d in items]  # the JSON form reads back into the model
        for line in untruths(scenario, diagnoses):
            print(line)
