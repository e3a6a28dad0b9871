"""A pattern's words, rendered from the facts its query returned (Falco's ``output:`` with ``%field``).

A pattern whose header holds ``summary:`` (and ``details:``) templates returns a ``facts`` map instead of
building English in Cypher. The template language is small on purpose:

``{name}``
    The fact ``name``. A list is joined with ``", "``; a number or a time is written as the query gave it.
    A fact that is null, absent or an empty list renders as ``<name not observed>``: visible, never a guess.
``[[ text ]]``
    An optional part: rendered only when every fact it names is present, dropped otherwise.
``[[ text || other ]]``
    ``text`` when every fact it names is present, else ``other``: the sentence that says what is missing
    (``[[ since {since} || , since when is not recorded ]]``). Parts nest.

The spaces just inside ``[[``, ``||`` and ``]]`` are part of the text: write ``[[; since {since}]]``, not
``[[ ; since {since} ]]``, where no space is wanted.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from kgrca.contracts import KgrcaError

_TOKEN = re.compile(r"\[\[|\]\]|\|\||\{(\w+)\}")


class TemplateError(KgrcaError):
    """A template that cannot be parsed: says where."""


@dataclasses.dataclass(frozen=True)
class _Fact:
    name: str


@dataclasses.dataclass(frozen=True)
class _Choice:
    present: tuple[Any, ...]
    otherwise: tuple[Any, ...] | None


@dataclasses.dataclass(frozen=True)
class Template:
    """A parsed template; ``render(facts)`` gives the text, ``names`` every fact it reads."""

    source: str
    parts: tuple[Any, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(_names(self.parts))

    def render(self, facts: dict[str, Any]) -> str:
        return _render(self.parts, facts or {})


def parse(source: str) -> Template:
    parts, _, _ = _parse(source, 0, top=True)
    return Template(source, tuple(parts))


def _parse(source: str, position: int, top: bool) -> tuple[list[Any], int, str | None]:
    parts: list[Any] = []
    while position < len(source):
        match = _TOKEN.search(source, position)
        end = match.start() if match else len(source)
        if end > position:
            parts.append(source[position:end])
        if not match:
            return parts, len(source), None
        position = match.end()
        token = match.group(0)
        if match.group(1):
            parts.append(_Fact(match.group(1)))
        elif token == "[[":
            present, position, stop = _parse(source, position, top=False)
            otherwise = None
            if stop == "||":
                otherwise, position, stop = _parse(source, position, top=False)
            if stop != "]]":
                raise TemplateError(f"'[[' at {match.start()} is not closed with ']]' in: {source!r}")
            parts.append(_Choice(tuple(present), None if otherwise is None else tuple(otherwise)))
        elif top:
            raise TemplateError(f"'{token}' at {match.start()} outside '[[ ... ]]' in: {source!r}")
        else:
            return parts, position, token
    return parts, position, None


def _names(parts: tuple[Any, ...]) -> list[str]:
    names: list[str] = []
    for part in parts:
        if isinstance(part, _Fact):
            names.append(part.name)
        elif isinstance(part, _Choice):
            names.extend(_names(part.present))
            names.extend(_names(part.otherwise or ()))
    return names


def _direct_names(parts: tuple[Any, ...]) -> list[str]:
    """The facts an optional part depends on: its own placeholders, not those of the parts nested in it."""
    return [part.name for part in parts if isinstance(part, _Fact)]


def observed(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _render(parts: tuple[Any, ...], facts: dict[str, Any]) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, _Fact):
            value = facts.get(part.name)
            out.append(_text(value) if observed(value) else f"<{part.name} not observed>")
        elif all(observed(facts.get(name)) for name in _direct_names(part.present)):
            out.append(_render(part.present, facts))
        elif part.otherwise is not None:
            out.append(_render(part.otherwise, facts))
    return "".join(out)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value if observed(v))
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "iso_format"):  # neo4j.time.DateTime
        return value.iso_format()
    return str(value)
