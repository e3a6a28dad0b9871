"""What an RCA report holds: every failed or stuck release and failing workload of a time window,
grouped by namespace and release, each with its diagnoses and its timeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Any

import neo4j

from faces.api.queries import timeline
from kg_builder.times import parse_time
from kgrca.config import Config
from kgrca.contracts import Diagnosis
from rca.clusters import of_cluster, release_key
from rca.runner import Detector

UNDIAGNOSED = """
MATCH (rel:Release)-[:HAS_REVISION]->(rev:Revision)
WHERE rev.version = rel.latest_version
  AND (rev.status = 'failed' OR rev.status STARTS WITH 'pending-')
  AND rev.last_deployed >= $since AND rev.last_deployed <= $until
RETURN rel.key AS key, rel.namespace AS namespace, rel.name AS name, rev.version AS version,
       rev.status AS status, rev.description AS description, rev.last_deployed AS at
"""


@dataclasses.dataclass
class Entry:
    """One release (or one workload outside any release) and what went wrong with it."""

    namespace: str
    title: str
    release_key: str | None
    status: str | None
    diagnoses: list[Diagnosis]
    timeline: list[dict[str, Any]]
    note: str = ""


@dataclasses.dataclass
class Report:
    since: dt.datetime
    until: dt.datetime
    generated_at: dt.datetime
    entries: list[Entry]
    errors: list[tuple[str, str]]

    def by_namespace(self) -> dict[str, list[Entry]]:
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            grouped[entry.namespace].append(entry)
        return dict(sorted(grouped.items()))


def _latest_time(diagnosis: Diagnosis) -> dt.datetime | None:
    times = [parse_time(item.get("at")) for item in diagnosis.event_chain + diagnosis.evidence]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def collect(driver: neo4j.Driver, cfg: Config, since: dt.datetime, until: dt.datetime,
            cluster: str | None = None) -> Report:
    """The report of the window; of one cluster's releases and objects when ``cluster`` is given."""
    run = Detector(driver, cfg).run(now=until)
    in_window = [d for d in of_cluster(run.diagnoses, cluster)
                 if (t := _latest_time(d)) is None or since <= t <= until]
    entries: dict[str, Entry] = {}
    for diagnosis in in_window:
        if diagnosis.release:
            key = release_key(diagnosis.release.get("cluster"), diagnosis.release["namespace"],
                              diagnosis.release["name"])  # the graph's key: two clusters' prod/api stay apart
            entry = entries.get(key) or Entry(diagnosis.release["namespace"], f"release {key}", key,
                                              diagnosis.release.get("status"), [], [])
        else:
            subject = diagnosis.subject
            key = (f"{subject.get('cluster') or ''}:{subject.get('kind')}/{subject.get('namespace')}/"
                   f"{subject.get('name')}")
            entry = entries.get(key) or Entry(subject.get("namespace") or "(cluster)",
                                              f"{subject.get('kind')} {subject.get('name')}", None, None, [],
                                              list(diagnosis.event_chain))
        entry.diagnoses.append(diagnosis)
        entries[key] = entry
    with driver.session(database=cfg.neo4j_database, default_access_mode=neo4j.READ_ACCESS) as session:
        for row in session.run(UNDIAGNOSED, since=since, until=until):
            if row["key"] not in entries and (cluster is None or row["key"] == release_key(
                    cluster, row["namespace"], row["key"].rpartition("/")[2])):
                entries[row["key"]] = Entry(row["namespace"], f"release {row['key']}", row["key"], row["status"],
                                            [], [], note=f"revision {row['version']} is {row['status']} and no "
                                                         f"pattern explains it: {row['description'] or ''}")
    for entry in entries.values():
        if entry.release_key:
            entry.timeline = timeline(driver, cfg.neo4j_database, entry.release_key, since=since - (until - since),
                                      until=until)
    ordered = sorted(entries.values(), key=lambda e: (e.namespace, e.title))
    return Report(since, until, dt.datetime.now(dt.UTC), ordered, run.errors)
