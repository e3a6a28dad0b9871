#!/usr/bin/env bash
# The main job on the local servers: start Neo4j, load a real recorded helm failure (a pre-upgrade hook
# whose image cannot be pulled, recorded from a real API server and helm), and print what kgrca found.
set -euo pipefail
cd "$(dirname "$0")/.."
recording=${1:-tests/e2e/recordings/hook_image_pull.jsonl}

kgrca servers up neo4j
kgrca db init
echo "== loading $recording"
kgrca ingest --quiet "$recording"
kgrca db stats
echo "== diagnosis"
status=0
kgrca diagnose --all --now "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["recorded_at"])' \
  "${recording%.jsonl}.meta.json" 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)" || status=$?
# diagnose exits 3 when it found problems: that is the demo working.
[ "$status" = 0 ] || [ "$status" = 3 ]
