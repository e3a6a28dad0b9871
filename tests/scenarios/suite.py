"""The golden scenario suite: load a folder, replay its input into a wiped graph, diagnose, compare.

One module so the pytest runner (tests/test_scenarios.py) and the accuracy benchmark
(bench/detection_accuracy.py) judge a scenario the same way. The folder format is in
tests/scenarios/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import neo4j
import yaml

from ingest.files import FileSource
from kg_builder.schema import apply_schema
from kg_builder.times import parse_time
from kg_builder.writer import Neo4jWriter
from kgrca.config import Config
from kgrca.contracts import Diagnosis, Observation
from rca.runner import DetectionRun, Detector

SCENARIO_ROOT = Path(__file__).resolve().parent
INPUT_FILE = "objects.jsonl"
EXPECTED_FILE = "expected.yaml"
NONE = "none"
KEYS = {"description", "expected", "now", "config", "recording", "release", "subject", "evidence", "resolution",
        "consequences", "absent", "roots", "min_confidence", "max_confidence", "tags", "shape"}


class ScenarioError(Exception):
    """A scenario folder that is malformed: names the folder and what is expected."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str
    expected: str                 # pattern id of the top diagnosis, or "none"
    now: dt.datetime | None
    config: dict[str, Any]
    inputs: tuple[Path, ...]
    release: str | None
    subject: str | None
    evidence: tuple[str, ...]
    resolution: tuple[str, ...]
    consequences: tuple[str, ...]
    absent: tuple[str, ...]
    roots: int | None
    min_confidence: float | None
    max_confidence: float | None
    tags: tuple[str, ...]
    shape: str | None = None       # the Helm shape the top diagnosis must carry ("none": it must carry none)

    @property
    def near_miss(self) -> bool:
        return self.expected == NONE


def discover(root: Path = SCENARIO_ROOT) -> list[Path]:
    """Every folder below ``root`` that holds an expected.yaml, sorted by name."""
    return sorted(p.parent for p in root.glob(f"*/{EXPECTED_FILE}"))


def load(folder: Path) -> Scenario:
    try:
        data = yaml.safe_load((folder / EXPECTED_FILE).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{folder}/{EXPECTED_FILE}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "expected" not in data:
        raise ScenarioError(f"{folder}/{EXPECTED_FILE}: needs 'expected: <pattern id>' or 'expected: none'")
    unknown = set(data) - KEYS
    if unknown:
        raise ScenarioError(f"{folder}/{EXPECTED_FILE}: unknown keys {sorted(unknown)}; known: {sorted(KEYS)}")
    inputs = []
    if (folder / INPUT_FILE).exists():
        inputs.append(folder / INPUT_FILE)
    if data.get("recording"):
        recording = (folder / str(data["recording"])).resolve()
        if not recording.exists():
            raise ScenarioError(f"{folder}/{EXPECTED_FILE}: recording {data['recording']} does not exist")
        inputs.append(recording)
    if not inputs:
        raise ScenarioError(f"{folder}: no {INPUT_FILE} and no 'recording:' in {EXPECTED_FILE}")
    now = parse_time(str(data["now"])) if data.get("now") else None
    if data.get("now") and now is None:
        raise ScenarioError(f"{folder}/{EXPECTED_FILE}: now {data['now']!r} is not an RFC 3339 time")

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        return tuple(str(v) for v in (value if isinstance(value, list) else [value]))

    return Scenario(
        name=folder.name, path=folder, description=str(data.get("description") or ""),
        expected=str(data["expected"]), now=now, config=dict(data.get("config") or {}), inputs=tuple(inputs),
        release=data.get("release"), subject=data.get("subject"), evidence=strings("evidence"),
        resolution=strings("resolution"), consequences=strings("consequences"), absent=strings("absent"),
        roots=data.get("roots"), min_confidence=data.get("min_confidence"),
        max_confidence=data.get("max_confidence"), tags=strings("tags"),
        shape=str(data["shape"]) if "shape" in data else None)


def observations(scenario: Scenario) -> tuple[list[Observation], list[str]]:
    """The scenario's input, read the way `kgrca ingest` reads files; and what could not be read."""
    source = FileSource(list(scenario.inputs))
    read = list(source.observations())
    return read, [str(problem) for problem in source.problems]


def wipe(driver: neo4j.Driver, database: str | None = None) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def prepare(driver: neo4j.Driver, cfg: Config) -> None:
    """Constraints and indexes, once per run: a wipe keeps them."""
    apply_schema(driver, cfg.neo4j_database)


def replay(driver: neo4j.Driver, cfg: Config, scenario: Scenario) -> list[str]:
    """Wipe the graph and write the scenario's input (call ``prepare`` once before); returns every
    input problem and rejection."""
    wipe(driver, cfg.neo4j_database)
    read, problems = observations(scenario)
    stats = Neo4jWriter(driver, batch_size=cfg.batch_size, database=cfg.neo4j_database).write(read)
    return problems + [f"{origin}: {reason}" for origin, reason in stats.rejected]


def silent_failures(driver: neo4j.Driver, cfg: Config, run: DetectionRun) -> list[str]:
    """Releases whose history holds a failed operation no successful user-initiated one followed
    (kg_builder's Release.failed_version), or that a GitOps controller reports failing right now (a Flux
    HelmRelease not Ready, an Argo CD Application whose sync failed), and of which no diagnosis speaks: none
    may exist."""
    records = driver.execute_query("""
        MATCH (rel:Release) WHERE rel.failed_version IS NOT NULL RETURN rel.key AS key
        UNION
        MATCH (c:Object)-[:DEPLOYS]->(rel:Release)
        WHERE c.deleted_at IS NULL AND ((c:HelmRelease AND c.ready_status = 'False')
                                        OR (c:Application AND c.operation_phase IN ['Failed', 'Error']))
        RETURN rel.key AS key""", database_=cfg.neo4j_database).records
    told_about = {release_key(d) for d in run.diagnoses}
    return sorted(r["key"] for r in records if r["key"] not in told_about)


def diagnose(driver: neo4j.Driver, cfg: Config, scenario: Scenario) -> DetectionRun:
    """`kgrca diagnose --all` as of the scenario's ``now``, with its configuration overrides."""
    scenario_cfg = cfg.replace(**scenario.config) if scenario.config else cfg
    return Detector(driver, scenario_cfg).run(None, scenario.now)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif value is not None:
        yield str(value)


def told(diagnosis: Diagnosis) -> str:
    """Everything a user reads about a diagnosis except its commands, as one text to search."""
    parts = [diagnosis.summary, diagnosis.details, *_texts(diagnosis.evidence), *_texts(diagnosis.event_chain),
             *_texts(diagnosis.subject)]
    return "\n".join(parts)


def release_key(diagnosis: Diagnosis) -> str | None:
    if not diagnosis.release:
        return None
    if "key" in diagnosis.release:
        return diagnosis.release["key"]
    return f"{diagnosis.release.get('namespace')}/{diagnosis.release.get('name')}"


def subject_key(diagnosis: Diagnosis) -> str:
    s = diagnosis.subject or {}
    return f"{s.get('kind')}/{s.get('namespace') or ''}/{s.get('name')}"


def relevant(scenario: Scenario, run: DetectionRun) -> list[Diagnosis]:
    """The root diagnoses the scenario speaks about: those of its release when it names one."""
    if scenario.release and scenario.near_miss:
        return [d for d in run.diagnoses if release_key(d) == scenario.release]
    return list(run.diagnoses)


def top(scenario: Scenario, run: DetectionRun) -> Diagnosis | None:
    found = relevant(scenario, run)
    return found[0] if found else None


def mismatches(scenario: Scenario, run: DetectionRun) -> list[str]:
    """What differs from expected.yaml, one line each; empty when the scenario passes."""
    wrong = [f"pattern {p} failed: {e}" for p, e in run.errors]
    found = relevant(scenario, run)
    listing = ", ".join(f"{d.pattern}@{release_key(d) or subject_key(d)} {d.confidence:.2f}" for d in found)
    for pattern in scenario.absent:
        if any(d.pattern == pattern for d in run.diagnoses):
            wrong.append(f"{pattern} must not be reported, got: {listing}")
    if scenario.near_miss:
        if found:
            wrong.append(f"expected no diagnosis, got: {listing}")
        return wrong
    if not found:
        return wrong + [f"expected {scenario.expected}, got no diagnosis"]
    best = found[0]
    if best.pattern != scenario.expected:
        wrong.append(f"expected {scenario.expected} first, got: {listing}")
        return wrong
    if scenario.release and release_key(best) != scenario.release:
        wrong.append(f"expected release {scenario.release}, got {release_key(best)}")
    if scenario.subject and subject_key(best) != scenario.subject:
        wrong.append(f"expected subject {scenario.subject}, got {subject_key(best)}")
    text = told(best)
    for needle in scenario.evidence:
        if needle not in text:
            wrong.append(f"evidence lacks {needle!r}; the diagnosis says:\n{text}")
    commands = "\n".join(best.resolution)
    for needle in scenario.resolution:
        if needle not in commands:
            wrong.append(f"resolution lacks {needle!r}; it is:\n{commands}")
    folded = {c["pattern"] for c in best.consequences}
    for pattern in scenario.consequences:
        if pattern not in folded:
            wrong.append(f"{pattern} should be a consequence of {best.pattern}; consequences: {sorted(folded)}")
    if scenario.roots is not None and len(found) != scenario.roots:
        wrong.append(f"expected {scenario.roots} root diagnoses, got {len(found)}: {listing}")
    if scenario.min_confidence is not None and best.confidence < scenario.min_confidence:
        wrong.append(f"confidence {best.confidence:.2f} below {scenario.min_confidence}")
    if scenario.shape is not None and (best.shape or NONE) != scenario.shape:
        wrong.append(f"expected shape {scenario.shape}, got {best.shape or NONE}")
    if scenario.max_confidence is not None and best.confidence > scenario.max_confidence:
        wrong.append(f"confidence {best.confidence:.2f} above {scenario.max_confidence}")
    return wrong


# --- writing scenario input (used by the generator scripts, e.g. tests/scenarios/generate_helm.py) ------------


def watch_event(obj: dict[str, Any], observed_at: str, action: str = "ADDED") -> dict[str, Any]:
    """One input line in the form the recorder writes: ``{"type", "object", "observed_at"}``."""
    return {"type": action, "object": obj, "observed_at": observed_at}


def render_input(lines: list[dict[str, Any]]) -> str:
    import json

    return "".join(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in lines)


def write_input(folder: Path, lines: list[dict[str, Any]], check: bool = False) -> bool:
    """Write ``folder/objects.jsonl``; with ``check`` only compare. Returns True when it was (or would be) changed."""
    text = render_input(lines)
    path = folder / INPUT_FILE
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed and not check:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return changed


class Registry(dict):
    """A generator's scenarios by name; the registry itself is the decorator that adds one::

        SCENARIOS = suite.Registry()
        scenario = SCENARIOS

        @scenario
        def hook_image_pull() -> tuple[Story, Expected]: ...
    """

    def __call__(self, func: Callable[[], tuple[Any, dict[str, Any]]]) -> Callable[[], tuple[Any, dict[str, Any]]]:
        self[func.__name__] = func
        return func


def generate(scenarios: dict[str, Callable[[], tuple[Any, dict[str, Any]]]], generator: str, doc: str | None,
             argv: list[str] | None = None, recorded: dict[str, dict[str, Any]] | None = None) -> int:
    """The command line of a scenario generator (tests/scenarios/generate_*.py): write every folder it owns,
    or with ``--check`` only report the stale ones (exit 1). Each builder returns (its input: a story with
    ``lines``, or the lines; expected.yaml's content); ``recorded`` folders get only an expected.yaml (their
    input is a recording it points at)."""
    from tests import factories

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report scenarios whose files are stale")
    parser.add_argument("names", nargs="*", help="only these scenarios")
    args = parser.parse_args(argv)
    header = f"# Generated by {generator}; edit the scenario there, then run it.\n"

    def write_expected(folder: Path, expected: dict[str, Any]) -> bool:
        text = header + yaml.safe_dump(expected, sort_keys=False, allow_unicode=True, width=110)
        path = folder / EXPECTED_FILE
        if path.exists() and path.read_text(encoding="utf-8") == text:
            return False
        if not args.check:
            folder.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return True

    stale = [name for name, expected in (recorded or {}).items()
             if (not args.names or name in args.names) and write_expected(SCENARIO_ROOT / name, expected)]
    for name, build in scenarios.items():
        if args.names and name not in args.names:
            continue
        factories._counter = iter(range(1000, 10_000_000))  # the same resourceVersions whichever scenarios run
        story, expected = build()
        folder = SCENARIO_ROOT / name
        changed = write_input(folder, getattr(story, "lines", story), check=args.check)
        if write_expected(folder, expected) or changed:
            stale.append(name)
    verb = "stale" if args.check else "written"
    print(f"{len(scenarios) + len(recorded or {})} scenarios; {verb}: {', '.join(stale) or 'none'}")
    return 1 if args.check and stale else 0
