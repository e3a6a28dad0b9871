#!/usr/bin/env bash
# Make `kgrca trace` runnable on this machine: tracefs, BCC, kernel headers, BCC importable.
#
# Idempotent: every step checks first and does nothing when it is already done, so running it
# twice is cheap. Needs root (apt-get, mount, /lib/modules): without it, it uses `sudo -n` when that
# works and otherwise skips with one line (so does a kernel without tracefs, or not Linux). Steps:
#   1. tracefs mounted at /sys/kernel/tracing (BCC attaches tracepoints through it);
#   2. Debian's python3-bpfcc and bpfcc-tools (BCC, its libbcc and clang/LLVM inside);
#   3. kernel headers: when /lib/modules/$(uname -r)/build is missing (a kernel that is not
#      Debian's, like this VM's 6.18), Debian's newest linux-headers-6.1.*-amd64 (+ its -common) is
#      installed and linked as .../build and .../source. BCC needs *some* headers to compile its C;
#      kgrca's program reads only tracepoint arguments and BPF helpers, never kernel structs, so
#      6.1 headers are safe on a newer kernel;
#   4. the `bcc` module that Debian installs for /usr/bin/python3 made importable from the
#      project's Python (pyenv or a venv) through one .pth file that exposes only `bcc`.
#
# Environment: PYTHON (default: python3 on PATH) is the interpreter that runs kgrca.
set -euo pipefail

log() { echo "30-ebpf: $*" >&2; }
die() { echo "30-ebpf: $*" >&2; exit 1; }

# Where eBPF cannot be set up at all, say so and let the rest of the setup go on: kgrca then runs
# Kubernetes-only (bpf.availability() tells why).
if [ "$(uname -s)" != Linux ]; then
    log "skipped: eBPF needs Linux (this is $(uname -s)); kgrca will run Kubernetes-only"
    exit 0
fi
PYTHON=$(command -v "${PYTHON:-python3}") || die "no ${PYTHON:-python3} on PATH"
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n PYTHON="$PYTHON" bash "$0" "$@"
    fi
    log "skipped: needs root (apt-get, mount, /lib/modules); run 'sudo $0' to trace helm with eBPF"
    exit 0
fi
if ! grep -qw tracefs /proc/filesystems; then
    log "skipped: this kernel has no tracefs; kgrca will run Kubernetes-only"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
}
apt_install() {  # install only the packages not installed yet
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    apt_update_once
    log "apt-get install ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. tracefs ----------------------------------------------------------------------------------
TRACEFS=/sys/kernel/tracing
if [ ! -e "$TRACEFS/events" ]; then
    log "mounting tracefs at $TRACEFS"
    mount -t tracefs nodev "$TRACEFS"
fi
[ -e "$TRACEFS/events/sched/sched_process_exec" ] || die "no sched:sched_process_exec tracepoint in $TRACEFS"

# 2. BCC -------------------------------------------------------------------------------------
apt_install python3-bpfcc bpfcc-tools

# 3. kernel headers ------------------------------------------------------------------------------
KREL=$(uname -r)
MODDIR=/lib/modules/$KREL
if [ ! -e "$MODDIR/build/include/linux/kconfig.h" ] && [ ! -e /sys/kernel/kheaders.tar.xz ]; then
    # Newest Debian 6.1 header package for amd64 (not -cloud/-rt): linux-headers-6.1.0-N-amd64.
    pkg=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    if [ -z "$pkg" ]; then
        apt_update_once
        pkg=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    fi
    [ -n "$pkg" ] || die "no linux-headers-6.1.*-amd64 package in apt's lists; check /etc/apt/sources.list"
    common=${pkg%-amd64}-common
    apt_install "$pkg" "$common"
    hdr=/usr/src/$pkg
    [ -e "$hdr/include/generated/autoconf.h" ] || die "$pkg did not install $hdr"
    mkdir -p "$MODDIR"
    # The same layout as Debian's own /lib/modules/<6.1 release>/: build is the arch tree,
    # source the common tree it includes.
    for pair in "build:$hdr" "source:/usr/src/$common"; do
        link=${pair%%:*} target=${pair#*:}
        if [ "$(readlink "$MODDIR/$link" 2>/dev/null)" != "$target" ]; then
            log "linking $MODDIR/$link -> $target"
            ln -sfn "$target" "$MODDIR/$link"
        fi
    done
fi

# 4. bcc importable from the project's Python --------------------------------------------------
BCC_DIR=$(/usr/bin/python3 -c 'import bcc, os; print(os.path.dirname(os.path.dirname(bcc.__file__)))') \
    || die "Debian's python3-bpfcc is installed but /usr/bin/python3 cannot import bcc"
SITE=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ "$SITE" != "$BCC_DIR" ]; then
    # A directory holding only a link to `bcc`, so the rest of Debian's dist-packages (built for
    # Debian's Python and pinned to Debian's versions) never shadows the project's packages.
    SHIM=/usr/local/lib/kgrca-bcc
    mkdir -p "$SHIM"
    [ "$(readlink "$SHIM/bcc" 2>/dev/null)" = "$BCC_DIR/bcc" ] || ln -sfn "$BCC_DIR/bcc" "$SHIM/bcc"
    PTH=$SITE/kgrca-bcc.pth
    if [ "$(cat "$PTH" 2>/dev/null)" != "$SHIM" ]; then
        log "writing $PTH"
        echo "$SHIM" > "$PTH"
    fi
fi
"$PYTHON" -c 'import bcc' || die "$PYTHON still cannot import bcc (looked in $BCC_DIR)"
log "ready: tracefs at $TRACEFS, BCC importable from $PYTHON, headers at $MODDIR/build"
