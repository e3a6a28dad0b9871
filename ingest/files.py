"""Observations from files: what a user can hand kgrca with no cluster access.

Accepted, by content rather than by name:
* ``kubectl get ... -o json`` output: one object, or a List (``items`` of objects; a typed list such
  as ``PodList`` from ``--raw`` lends its kind to items that lack one);
* ``kubectl get ... -o yaml``, one or several ``---`` documents;
* JSON lines, each a watch event ``{"type": "ADDED|MODIFIED|DELETED", "object": {...}}`` (an optional
  ``observed_at`` is honoured), an observation as ``kgrca trace --sink stdout`` prints it, or an object;
* a captured CI log or terminal output (GitHub Actions, GitLab, plain text; ingest/ci_logs.py): a text that is
  neither JSON nor YAML objects and holds a helm command or one of helm's ``Error:`` lines (a GitHub Actions or
  GitLab log is known by its framing at once); each helm run in it becomes a witnessed helm run;
* with ``logs=(namespace, pod, container)`` (``kgrca ingest --logs NS/POD[/CONTAINER]``): every file is that
  container's ``kubectl logs`` output, whatever it holds (ingest/container_logs.py), its last lines one observation;
* a folder: every ``*.json``, ``*.jsonl``, ``*.ndjson``, ``*.yaml``, ``*.yml``, ``*.log`` below it, sorted.

Bad input is reported as ``file:line: what was expected`` and the rest of the file still loads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ingest import ci_logs, container_logs, json_stream
from kg_builder.times import parse_time
from kgrca import yamlio
from kgrca.contracts import K8S_ACTIONS, Observation, PermanentError, check_cluster, utc_now

SUFFIXES = {".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".log"}
HEAD_BYTES = 65536  # how much of a file decides JSON lines or one document
STREAM_BYTES = 32 << 20  # a JSON document larger than this is read item by item (ingest/json_stream.py)
LINES_LOOKED_AT = 8
TOO_DEEP = "JSON nested deeper than it can be read (no Kubernetes object is); refused"
WATCH_TYPES = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"}


@dataclasses.dataclass
class InputProblem:
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


class FileSource:
    """Reads paths lazily; ``problems`` fills as it goes and says what was skipped and why."""

    def __init__(self, paths: list[str | Path], release: tuple[str, str] | None = None,
                 logs: tuple[str, str, str | None] | None = None):
        """``release`` (namespace, name) is the release the helm runs of CI logs among the paths deployed
        (``kgrca ingest --release``); JSON and YAML input ignore it. ``logs`` (namespace, pod, container or None)
        reads every path as that container's log (``kgrca ingest --logs``)."""
        self.paths = [Path(p) for p in paths]
        self.release = release
        self.logs = logs
        self.problems: list[InputProblem] = []
        self.files_read = 0
        self.bytes_read = 0  # of the files read so far and of the current one (a progress bar's position)

    def files(self) -> Iterator[Path]:
        for path in self.paths:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
                if not found:
                    self.problems.append(InputProblem(str(path), "folder holds no .json, .jsonl, .yaml or .log files"))
                yield from found
            elif path.is_file():
                yield path
            else:
                self.problems.append(InputProblem(str(path), "no such file or folder"))

    def total_bytes(self) -> int:
        """The size of every file ``observations()`` reads, for a progress bar's total (what cannot be found is
        reported once, by ``observations()``)."""
        known = len(self.problems)
        total = 0
        for path in self.files():
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        del self.problems[known:]
        return total

    def observations(self) -> Iterator[Observation]:
        for path in self.files():
            self.files_read += 1
            done = self.bytes_read
            try:
                yield from self._read(path)
            except OSError as exc:
                self.problems.append(InputProblem(str(path), f"cannot read: {exc.strerror or exc}"))
            except UnicodeDecodeError:
                self.problems.append(InputProblem(str(path), "not a text file (expected JSON, YAML or a CI log)"))
            with contextlib.suppress(OSError):
                self.bytes_read = done + path.stat().st_size

    def _read(self, path: Path) -> Iterator[Observation]:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES).decode("utf-8", errors="replace")
        first = head.lstrip()[:1]
        if not first:
            self.problems.append(InputProblem(str(path), "empty file"))
        elif self.logs is not None:
            yield from self._read_container_log(path)
        elif first not in "{[" and ci_logs.is_framed_log(head):
            yield from self._read_log(path)
        elif first in "{[" and self._looks_like_lines(path, head):
            yield from self._read_lines(path)
        elif first in "{[":
            yield from self._read_json_document(path)
        else:
            yield from self._read_yaml(path)

    @staticmethod
    def _looks_like_lines(path: Path, head: str) -> bool:
        """JSON lines, whatever the file is called: among its first lines, two or more start a JSON object at
        column 0 and one of them parses alone (a broken first line still lets the others show the format).
        A pretty-printed document opens one object at column 0 and indents the rest."""
        if path.suffix.lower() in {".jsonl", ".ndjson"}:
            return True
        lines = [line for line in head.split("\n")[:-1] if line.strip()][:LINES_LOOKED_AT]
        starts = [line for line in lines if line.startswith("{")]
        return len(starts) >= 2 and any(_parses_as_object(line) for line in starts)

    def _read_lines(self, path: Path) -> Iterator[Observation]:
        with path.open("rb") as handle:  # decoded line by line: a bad byte costs its line, named, not the file
            for number, raw in enumerate(handle, 1):
                self.bytes_read += len(raw)
                origin = f"{path}:{number}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.problems.append(InputProblem(origin, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                                                              f"column {exc.start + 1})"))
                    continue
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    self.problems.append(InputProblem(origin, f"not valid JSON ({_json_reason(exc)})"))
                    continue
                except RecursionError:
                    self.problems.append(InputProblem(origin, TOO_DEEP))
                    continue
                yield from self._from_record(data, origin)

    def _read_json_document(self, path: Path) -> Iterator[Observation]:
        if path.stat().st_size > STREAM_BYTES:
            yield from self._stream_json_document(path)
            return
        text = self._text(path)
        if text is None:
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.problems.append(InputProblem(f"{path}:{exc.lineno}", f"not valid JSON ({_json_reason(exc)})"))
            return
        except RecursionError:
            self.problems.append(InputProblem(str(path), TOO_DEEP))
            return
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items):
            yield from self._from_record(item, f"{path}" + (f"[{index}]" if isinstance(data, list) else ""))

    def _stream_json_document(self, path: Path) -> Iterator[Observation]:
        """A document too large to hold whole (a big cluster's kubectl List), read item by item: memory stays
        that of one item and one batch. Items that carry their kind go at once; the others wait for the List's
        kind, which kubectl writes after the items. A top-level ``items`` array is read as a List's."""
        waiting: list[tuple[int, Any]] = []
        try:
            with path.open(encoding="utf-8") as handle:
                for where, index, value in json_stream.values(handle):
                    if where == "array":
                        yield from self._from_record(value, f"{path}[{index}]")
                    elif where == "items" and isinstance(value, dict) and "kind" in value:
                        yield from self._list_item(value, f"{path} items[{index}]")
                    elif where == "items":
                        waiting.append((index, value))
                    elif "items" not in value:  # one large object
                        yield from self._from_record(value, str(path))
                    else:
                        kind = value.get("kind")
                        item_kind = kind[: -len("List")] if isinstance(kind, str) and kind.endswith("List") \
                            and kind != "List" else None
                        for number, item in waiting:
                            if isinstance(item, dict) and item_kind:
                                item = {"kind": item_kind, "apiVersion": value.get("apiVersion"), **item}
                            yield from self._list_item(item, f"{path} items[{number}]")
        except json_stream.StreamError as exc:
            self.problems.append(InputProblem(f"{path}:{exc.line}", f"not valid JSON ({exc.reason})"))
        except RecursionError:
            self.problems.append(InputProblem(str(path), TOO_DEEP))

    def _list_item(self, item: Any, origin: str) -> Iterator[Observation]:
        if not isinstance(item, dict) or "kind" not in item:
            self.problems.append(InputProblem(origin, "not an object" if not isinstance(item, dict) else
                                              "has no kind, and its List's kind names none"))
            return
        try:
            yield _object(item, "SNAPSHOT", origin)
        except PermanentError as exc:
            self.problems.append(InputProblem(origin, str(exc)))

    def _read_yaml(self, path: Path) -> Iterator[Observation]:
        text = self._text(path)
        if text is None:
            return
        try:
            documents = list(yamlio.safe_load_all(text))
        except RecursionError:
            self.problems.append(InputProblem(str(path), "YAML nested deeper than it can be read; refused"))
            return
        except yaml.YAMLError as exc:
            if _text_log(text):
                yield from self._read_log(path, text)
                return
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            self.problems.append(InputProblem(where, f"not valid JSON or YAML ({getattr(exc, 'problem', exc)})"))
            return
        except ValueError as exc:  # PyYAML reads an unquoted impossible date (2026-13-45) and fails on it
            self.problems.append(InputProblem(str(path), f"YAML holds a value that cannot be read: {exc}"))
            return
        if not all(_is_record(d) for d in documents if d is not None) and _text_log(text):
            yield from self._read_log(path, text)
            return
        for index, document in enumerate(d for d in documents if d is not None):
            yield from self._from_record(document, f"{path}#doc{index + 1}")

    def _read_log(self, path: Path, text: str | None = None) -> Iterator[Observation]:
        text = self._text(path) if text is None else text
        if text is None:
            return
        observations, problems = ci_logs.read(path, text, self.release)
        self.problems.extend(InputProblem(origin, reason) for origin, reason in problems)
        yield from observations

    def _read_container_log(self, path: Path) -> Iterator[Observation]:
        text = self._text(path)
        if text is None:
            return
        observations, problems = container_logs.read_file(path, text, self.logs)
        self.problems.extend(InputProblem(origin, reason) for origin, reason in problems)
        yield from observations

    def _text(self, path: Path) -> str | None:
        """The whole file as text, or None with the line of the first byte that is not UTF-8 named."""
        raw = path.read_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            self.problems.append(InputProblem(f"{path}:{line}", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                                                                 f"column {column})"))
            return None

    def _from_record(self, data: Any, origin: str) -> Iterator[Observation]:
        try:
            yield from record_observations(data, origin)
        except PermanentError as exc:
            self.problems.append(InputProblem(origin, str(exc)))


def _is_record(document: Any) -> bool:
    """A YAML document that can be an object, a List, a watch event or an observation (a line of a log such as
    ``Error: timed out waiting for the condition`` also parses as YAML, as a one-key mapping)."""
    return isinstance(document, dict) and bool({"kind", "apiVersion", "metadata", "type", "schema"} & set(document))


def _text_log(text: str) -> bool:
    """A captured CI log or terminal output rather than broken YAML: it shows a helm command or helm's Error: line,
    and no Kubernetes object's apiVersion and kind at the start of a line."""
    manifest = re.search(r"^apiVersion:", text, re.MULTILINE) and re.search(r"^kind:", text, re.MULTILINE)
    return not manifest and ci_logs.looks_like_log(text)


def _parses_as_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def _json_reason(exc: json.JSONDecodeError) -> str:
    # some of json's messages end in "at" ("Invalid control character at"): the column follows once
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"


def record_observations(data: Any, origin: str) -> Iterator[Observation]:
    """The observations one JSON record stands for; PermanentError says what was expected."""
    if not isinstance(data, dict):
        raise PermanentError(f"expected a JSON object, got {type(data).__name__}")
    if "schema" in data and "payload" in data:
        yield Observation.from_json({**data, "origin": origin})
        return
    if "type" in data and "object" in data:
        yield from _watch_event(data, origin)
        return
    kind = data.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list):
        item_kind = kind[: -len("List")] if kind != "List" else None
        for index, item in enumerate(data["items"]):
            if not isinstance(item, dict):
                raise PermanentError(f"items[{index}] is not an object")
            if item_kind and "kind" not in item:
                item = {"kind": item_kind, "apiVersion": data.get("apiVersion"), **item}
            yield _object(item, "SNAPSHOT", f"{origin} items[{index}]")
        return
    if kind and "metadata" in data:
        yield _object(data, "SNAPSHOT", origin)
        return
    raise PermanentError("expected a Kubernetes object (kind, metadata), a List, a watch event "
                         "{\"type\", \"object\"} or a kgrca observation")


def _watch_event(data: dict[str, Any], origin: str) -> Iterator[Observation]:
    kind = data["type"]
    if kind not in WATCH_TYPES:
        raise PermanentError(f"watch event type {kind!r} is not one of ADDED, MODIFIED, DELETED")
    if kind in {"BOOKMARK", "ERROR"}:
        return
    obj = data["object"]
    if not isinstance(obj, dict) or "kind" not in obj or "metadata" not in obj:
        raise PermanentError("watch event 'object' must be a Kubernetes object with kind and metadata")
    yield _object(obj, kind, origin, data.get("observed_at"), data.get("cluster") or "")


def _object(obj: dict[str, Any], action: str, origin: str, observed_at: str | None = None,
            cluster: str = "") -> Observation:
    assert action in K8S_ACTIONS
    if not isinstance(obj.get("metadata"), dict):
        raise PermanentError(f"{obj.get('kind')} has no metadata object")
    return Observation("k8s", action, obj, observed_at or object_time(obj) or utc_now(), origin,
                       check_cluster(cluster, PermanentError))


def object_time(obj: dict[str, Any]) -> str | None:
    """The latest time an object carries, so a dump replays with the same times it was taken at."""
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    candidates = [
        (obj.get("metadata") or {}).get("creationTimestamp"),
        obj.get("lastTimestamp"), obj.get("eventTime"), (obj.get("series") or {}).get("lastObservedTime"),
        status.get("startTime"), status.get("completionTime"),
    ]
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict):
            candidates.append(condition.get("lastTransitionTime"))
    for container in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        for state in ((container.get("state") or {}) | {}).values():
            if isinstance(state, dict):
                candidates.extend([state.get("startedAt"), state.get("finishedAt")])
    parsed = [(t, s) for s in candidates if (t := parse_time(s)) is not None]
    return max(parsed)[1] if parsed else None
