"""A delivery's body: read within ``webhook_max_bytes`` with or without a length, then decoded within bounds.

Every way a body can fail is one ``PermanentError`` naming it (answered 400), never a Python error:
not JSON, nested deeper than any webhook payload is (``json`` would recurse until ``RecursionError``), a
number Python will not read (over 4300 digits), a string that is not text (a lone UTF-16 surrogate, which
the Neo4j driver cannot encode).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from kgrca.contracts import PermanentError

# GitHub's payloads nest about 6 levels, Argo CD's notification about 8, a Jira description in Atlassian
# Document Format about 10 (a table in a list in a panel). 64 leaves room for any real one.
MAX_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def read(request: Request, limit: int) -> bytes:
    """The body, or 413 (``RequestEntityTooLarge``) when it is over ``limit`` bytes.

    A body with a Content-Length over the limit is refused before it is read (Flask's
    ``MAX_CONTENT_LENGTH``). A chunked body has no length: werkzeug then cuts the stream at the limit
    without a word, and the cut body fails its signature (a 401 that hides the real cause), so it is read
    from the server's own stream, one byte past the limit.
    """
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=True)
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text, counted without parsing it (strings removed first,
    so brackets in text do not count). Exact for valid JSON; for invalid JSON it is at least as deep as the
    parser would go before it stops."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(_STEP[b] for b in brackets), default=0)


def decode(body: bytes, what: str) -> Any:
    """The JSON value of ``body``; ``PermanentError`` saying why it cannot be one."""
    if not body.strip():
        raise PermanentError(f"empty body: expected the {what} JSON payload")
    nested = depth(body)
    if nested > MAX_DEPTH:
        raise PermanentError(f"the JSON nests {nested} levels deep; no {what} payload nests more than "
                             f"{MAX_DEPTH}: refused unread")
    try:
        value = json.loads(body)
    except UnicodeDecodeError as exc:
        raise PermanentError(f"body is not UTF-8 (byte {exc.start}): send the {what} payload as "
                             "application/json") from None
    except ValueError as exc:  # JSONDecodeError, and the digit limit of int()
        raise PermanentError(f"body is not valid JSON ({exc}): send the {what} payload as application/json") \
            from None
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise PermanentError(f"a string in the body holds a lone UTF-16 surrogate ({exc.object[exc.start]!r}), "
                             "which is not text") from None
    return value
