"""`kgrca trace`: not built yet."""

from __future__ import annotations

import argparse

from kgrca.config import Config
from kgrca.contracts import KgrcaError


def register(sub: argparse._SubParsersAction, summary: str) -> None:
    parser = sub.add_parser("trace", help=summary, description=summary)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    raise KgrcaError("'kgrca trace' is not built yet")
