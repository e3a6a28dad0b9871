#!/usr/bin/env bash
# Headless Chromium, to check that HTML reports render (tests open them and take a screenshot).
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "50-reports: chromium missing; as root: apt-get install chromium (report rendering tests need it)" >&2
  exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
