#!/usr/bin/env bash
# Java (17 or later) and Maven for kgrca's local servers: `kgrca servers up` fetches the Neo4j and
# Kafka jars with Maven and runs them on this Java. Installs with apt-get only what is missing.
#
# Idempotent: with a java of version 17+ and mvn on PATH it does nothing. Needs root (or sudo) for
# apt-get. Java: Debian's openjdk-17-jre-headless where the release has it (bookworm), else
# default-jre-headless (trixie and later carry Java 21, which Neo4j 5.26 and Kafka 4 also run on).
set -euo pipefail

log() { echo "20-java: $*" >&2; }
die() { echo "20-java: $*" >&2; exit 1; }

java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local major
    major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n1)
    [ -n "$major" ] && [ "$major" -ge 17 ]
}

need=()
java_ok || need+=(java)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ ${#need[@]} -eq 0 ]; then
    log "java $(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1) and $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g') present"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "missing ${need[*]} and no apt-get here: install Java 17+ and Maven"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${need[*]}: run this as root (apt-get install)"
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
if [ -z "$(candidate maven)" ] || [ "$(candidate maven)" = "(none)" ]; then
    log "apt-get update"
    $sudo apt-get update -qq >/dev/null
fi

packages=()
for want in "${need[@]}"; do
    case "$want" in
        java)
            jre=openjdk-17-jre-headless
            c=$(candidate "$jre")
            if [ -z "$c" ] || [ "$c" = "(none)" ]; then jre=default-jre-headless; fi
            packages+=("$jre") ;;
        maven) packages+=(maven) ;;
    esac
done

log "apt-get install ${packages[*]}"
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
java_ok || die "java is still missing or older than 17 after installing ${packages[*]}"
command -v mvn >/dev/null 2>&1 || die "mvn is still missing after installing maven"
log "done: $(java -version 2>&1 | head -n1)"
