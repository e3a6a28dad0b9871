#!/usr/bin/env bash
# Runs the whole test suite against real servers the project starts itself: lint, unit and graph tests,
# detection scenarios, Kafka, eBPF (as root), and the end-to-end suite on the local cluster.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
python=${PYTHON:-python3}

echo "== ruff"
ruff check . || exit 1

echo "== import-linter (the layers' one-way flow: pyproject.toml [tool.importlinter])"
lint-imports || exit 1

echo "== local servers"
kgrca servers up || exit 1

echo "== pytest"
"$python" -m pytest -p no:cacheprovider "$@"
status=$?
# pytest's 5 means no test ran: a suite that ran nothing has proven nothing.
[ "$status" = 5 ] && { echo "test.sh: pytest collected no tests" >&2; exit 1; }
exit "$status"
