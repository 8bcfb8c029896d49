#!/usr/bin/env bash
# Make this machine ready for btb's docker runtime and its tests: Docker Engine installed and
# running, and the local engine images built (no registry is reachable here, so nothing is pulled).
# Idempotent and cached: a second run only checks and exits in a few seconds.
#
#   bash scripts/docker.sh            # install/start/build as needed
#   bash scripts/docker.sh --check    # only report; exit 1 when something is missing
#
# Steps:
#   1. docker.io + debootstrap from apt when dockerd is missing (root + apt-get only)
#   2. dockerd started in the background when no engine answers (no systemd here; a running
#      engine, ours or the system's, is reused); log in $BTB_DOCKERD_LOG
#   3. local/debian:bookworm imported from a debootstrap minbase rootfs when missing
#   4. btb-local/<engine> images built from docker/local/<engine>/ (scripts/docker_images.py:
#      rebuilt only when the build context's hash, stored as an image label, changed)
# Then `export BTB_IMAGES=docker/local/images.yml` makes btb use the local images.
#
# Environment:
#   BTB_DOCKERD_LOG   dockerd's log file (default /var/log/btb-dockerd.log)
#   BTB_DEBIAN_MIRROR Debian mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERD_LOG="${BTB_DOCKERD_LOG:-/var/log/btb-dockerd.log}"
MIRROR="${BTB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE="local/debian:bookworm"
CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

log() { printf '[docker] %s\n' "$*"; }
die() {
    printf '[docker] ERROR: %s\n' "$*" >&2
    exit 1
}
# `docker version` exits non-zero when the CLI cannot reach an engine: only its status is used.
engine_up() { docker version >/dev/null 2>&1; }
can_install() { [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; }

# ------------------------------------------------------------------ 1. packages
missing=()
command -v dockerd >/dev/null 2>&1 || engine_up || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $CHECK_ONLY == 1 ]]; then
        die "missing: ${missing[*]}"
    fi
    can_install || die "missing ${missing[*]}; install them as root: apt-get install ${missing[*]}"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null
fi
command -v docker >/dev/null 2>&1 || die "no docker CLI on PATH (Debian package docker.io)"

# ------------------------------------------------------------------ 2. engine
if engine_up; then
    log "engine: running (server $(docker version --format '{{.Server.Version}}'))"
else
    [[ $CHECK_ONLY == 1 ]] && die "no Docker Engine answers (DOCKER_HOST=${DOCKER_HOST:-default})"
    [[ "$(id -u)" == "0" ]] || die "no Docker Engine answers to this user (DOCKER_HOST=\
${DOCKER_HOST:-default}): if dockerd runs, add the user to the docker group; else start it as \
root (sudo bash scripts/docker.sh)"
    if pgrep -x dockerd >/dev/null; then
        # a dockerd that does not answer yet (starting) or on another socket: never start a
        # second one next to it, wait for it instead
        log "engine: a dockerd process exists; waiting for it"
    else
        log "engine: starting dockerd (log $DOCKERD_LOG)"
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        # setsid: the daemon outlives this script and the CI step that ran it
        setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 60); do
        engine_up && break
        sleep 1
    done
    engine_up || die "dockerd did not answer within 60 s; see $DOCKERD_LOG:
$(tail -n 15 "$DOCKERD_LOG" 2>/dev/null)"
    log "engine: up (server $(docker version --format '{{.Server.Version}}'))"
fi

# ------------------------------------------------------------------ 3. base image
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image: $BASE_IMAGE present"
else
    [[ $CHECK_ONLY == 1 ]] && die "base image $BASE_IMAGE missing"
    [[ "$(id -u)" == "0" ]] || die "base image $BASE_IMAGE missing; debootstrap needs root"
    # not under /tmp/btb-*: test runs clean those up while this builds
    rootfs="$(mktemp -d "${TMPDIR:-/var/tmp}/debootstrap-bookworm.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    log "base image: debootstrap --variant=minbase bookworm ($MIRROR)"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
        die "debootstrap failed; log $rootfs.log:
$(tail -n 15 "$rootfs.log")"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
    trap - EXIT
    log "base image: $BASE_IMAGE imported"
fi

# ------------------------------------------------------------------ 4. engine images
PY="$REPO_ROOT/.venv/bin/python"
[[ -x "$PY" ]] || bash "$REPO_ROOT/scripts/setup.sh"
args=()
[[ $CHECK_ONLY == 1 ]] && args+=(--check)
"$PY" "$REPO_ROOT/scripts/docker_images.py" "${args[@]}"
log "ready: export BTB_IMAGES=$REPO_ROOT/docker/local/images.yml"
