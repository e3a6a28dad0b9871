#!/usr/bin/env bash
# Make `kgrca cluster up` runnable: the Debian packages it needs, then the cluster's binaries.
#
# Idempotent: installed packages are skipped, and binaries already cached under
# ${KGRCA_CACHE_DIR:-~/.cache/kgrca}/k8s are not rebuilt, so running it twice is cheap. Steps:
#   1. Debian's openssl (the cluster's certificates), ca-certificates (HTTPS to the Go module proxy),
#      coreutils' nice and iproute2's ss (named in the port-in-use message);
#   2. Go must already be there (/usr/local/go/bin/go or on PATH, 1.26 or newer): it is not installed here;
#   3. `kgrca cluster build`: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
#      kwok and helm from the Go module proxy. Cold, on 2 cores, this takes most of an hour; set
#      KGRCA_SKIP_CLUSTER_BUILD=1 to leave it to the first `kgrca cluster up`.
#
# Environment: PYTHON (default: python3 on PATH) is the interpreter that runs kgrca.
set -euo pipefail

log() { echo "40-cluster: $*" >&2; }
die() { echo "40-cluster: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "the local cluster runs on Linux only (this is $(uname -s))"
PYTHON="${PYTHON:-python3}"

export DEBIAN_FRONTEND=noninteractive
apt_install() {  # install only the packages not installed yet
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "needs root to apt-get install ${missing[*]}; run it with sudo"
    log "apt-get install ${missing[*]}"
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install openssl ca-certificates coreutils iproute2

if ! command -v go >/dev/null 2>&1; then
    [ -x /usr/local/go/bin/go ] || die "Go is not installed (no go on PATH, no /usr/local/go/bin/go); install Go 1.26+"
    export PATH="/usr/local/go/bin:$PATH"
fi
log "$(go version)"

if [ "${KGRCA_SKIP_CLUSTER_BUILD:-0}" = 1 ]; then
    log "KGRCA_SKIP_CLUSTER_BUILD=1: binaries will be built by the first 'kgrca cluster up'"
    exit 0
fi
start=$(date +%s)
"$PYTHON" -m faces.cli cluster build >/dev/null
log "cluster binaries ready ($(( $(date +%s) - start ))s)"
