"""One large JSON document read a value at a time: the items of a big cluster's kubectl List without the List.

``json.loads`` of a 100,000-pod ``kubectl get -o json`` (about half a gigabyte) holds the text and every object at
once, several gigabytes. Here only the top level is walked by hand; each item (or each element of a top-level
array) is decoded alone by the json module's own decoder from a buffer of about a megabyte, and dropped once the
caller has it. An item larger than the buffer grows it, up to MAX_VALUE_CHARS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

READ_CHARS = 1 << 20
MAX_VALUE_CHARS = 256 << 20  # one item this large is not a Kubernetes object (etcd refuses over 1.5 MB)
_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"
_NUMBER = "-0123456789"
_NUMBER_END = re.compile(r"[^-+.eE0-9]")


class StreamError(ValueError):
    """The document is not valid JSON at ``line``; what came before it was read."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def values(handle: TextIO, read_chars: int = READ_CHARS) -> Iterator[tuple[str, int, Any]]:
    """``("array", index, value)`` for each element of a top-level array; for a top-level object,
    ``("items", index, value)`` for each element of its ``items`` array as it is read, then once
    ``("rest", 0, the object with its items read and left out, as an empty list)``. Raises StreamError where
    the JSON is broken, RecursionError where it is nested too deep to decode."""
    reader = _Reader(handle, read_chars)
    first = reader.peek()
    if first == "[":
        reader.take()
        for index, value in enumerate(reader.array()):
            yield "array", index, value
    elif first == "{":
        reader.take()
        rest: dict[str, Any] = {}
        while (char := reader.peek()) != "}":
            if rest:
                reader.expect(",")
                char = reader.peek()
            if char != '"':
                raise reader.error("expected a property name in double quotes")
            key = reader.value()
            reader.expect(":")
            if key == "items" and reader.peek() == "[":
                reader.take()
                for index, value in enumerate(reader.array()):
                    yield "items", index, value
                rest["items"] = []  # read above: the rest says only that there were items
            else:
                rest[key] = reader.value()
        reader.take()
        yield "rest", 0, rest
    else:
        raise reader.error("expected a JSON object or array")
    if reader.peek():
        raise reader.error("extra data after the document")


class _Reader:
    def __init__(self, handle: TextIO, read_chars: int):
        self.handle = handle
        self.read_chars = read_chars
        self.buffer = ""
        self.pos = 0
        self.line = 1  # of buffer[0]
        self.eof = False

    def _fill(self) -> bool:
        """Drop what was read, append the next part of the file; False at its end."""
        if self.eof:
            return False
        data = self.handle.read(self.read_chars)
        self.line += self.buffer.count("\n", 0, self.pos)
        self.buffer = self.buffer[self.pos:] + data
        self.pos = 0
        self.eof = not data
        return bool(data)

    def peek(self) -> str:
        """The next character that is not white space, not taken; "" at the end of the file."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def take(self) -> None:
        self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected '{char}'")
        self.take()

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # cut off by the end of the buffer, or broken: read more until the value decodes or cannot grow
                error = StreamError(self.line + self.buffer.count("\n", 0, exc.pos), exc.msg.removesuffix(" at"))
                if len(self.buffer) - self.pos > MAX_VALUE_CHARS or not self._fill():
                    raise error from None
                continue
            if self.buffer[self.pos] in _NUMBER and not self.eof and not _NUMBER_END.search(self.buffer, end):
                self._fill()  # a number at the buffer's end ("-1." of "-1.5") may go on in the next part
                continue
            self.pos = end
            return value

    def array(self) -> Iterator[Any]:
        if self.peek() == "]":
            self.take()
            return
        while True:
            yield self.value()
            char = self.peek()
            if char == "]":
                self.take()
                return
            if char != ",":
                raise self.error("expected ',' or ']'")
            self.take()

    def error(self, reason: str) -> StreamError:
        return StreamError(self.line + self.buffer.count("\n", 0, self.pos), reason)
