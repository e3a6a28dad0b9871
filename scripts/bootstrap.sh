#!/usr/bin/env bash
# Installs everything kgrca needs on a fresh Debian machine, idempotently: Python packages, then each
# scripts/setup/NN-*.sh in order (Java and Maven, eBPF, the local cluster's packages). Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

log() { printf '\033[1mbootstrap:\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  stamp=/var/lib/apt/periodic/kgrca-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null && mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap: Python 3.11 or newer is needed ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
if ! "$python" -c 'import kgrca, neo4j, confluent_kafka, kubernetes, flask, pytest, testcontainers' 2>/dev/null \
   || [ pyproject.toml -nt "$("$python" -c 'import kgrca,os;print(os.path.dirname(kgrca.__file__))' 2>/dev/null \
        || echo /nonexistent)" ]; then
  log "pip install -e .[test]"
  "$python" -m pip install -q --disable-pip-version-check -e ".[test]"
  touch "$("$python" -c 'import kgrca,os;print(os.path.dirname(kgrca.__file__))')"
fi

for step in scripts/setup/[0-9][0-9]-*.sh; do
  [ -e "$step" ] || continue
  log "$step"
  bash "$step"
done
log "done"
