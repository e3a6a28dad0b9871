"""`kgrca schema diagnosis|openapi`: the published documents, generated from the models and the routes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kgrca.config import Config, load_config
from kgrca.diagnosis import Diagnosis

DOCS = Path(__file__).resolve().parents[2] / "docs"
# What each document is generated into under docs/ (tests/test_diagnosis_model.py checks they are current).
FILES = {"diagnosis": DOCS / "diagnosis.schema.json", "openapi": DOCS / "openapi.json"}

EXAMPLES = """\
examples:
  kgrca schema diagnosis                 the JSON Schema of one diagnosis (kgrca diagnose --json gives a list)
  kgrca schema openapi                   the REST API's OpenAPI 3.1 document, as GET /api/v1/openapi.json
  kgrca schema diagnosis --write         rewrite docs/diagnosis.schema.json (and openapi: docs/openapi.json)

Validate kgrca's output with any JSON Schema validator, e.g.
  kgrca diagnose --all --json | python -c 'import json, sys, jsonschema; s = json.load(open(sys.argv[1]));
    [jsonschema.validate(d, s) for d in json.load(sys.stdin)]' docs/diagnosis.schema.json
"""


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("schema", help=summary, description=summary, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("document", choices=sorted(FILES), help="which document")
    parser.add_argument("--write", action="store_true", help=f"write it to its file under {DOCS.name}/")
    parser.set_defaults(func=run)


def document(name: str, cfg: Config | None = None) -> dict[str, Any]:
    """The document ``name`` (one of FILES) as a dict."""
    if name == "diagnosis":
        return Diagnosis.json_schema()
    from faces.api.app import close_app, create_app  # Flask and the receivers only for this one
    from faces.api.openapi import document as openapi

    app = create_app(cfg if cfg is not None else load_config(environ={}))
    close_app(app)  # only its routes are read; nothing connects
    return openapi(app)


def text(name: str, cfg: Config | None = None) -> str:
    """The document as its file holds it: indented JSON, keys in the models' order, one newline at the end."""
    return json.dumps(document(name, cfg), indent=2, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace, cfg: Config) -> int:
    out = text(args.document, cfg)
    if args.write:
        FILES[args.document].write_text(out, encoding="utf-8")
        print(f"wrote {FILES[args.document]}")
    else:
        sys.stdout.write(out)
    return 0
