#!/usr/bin/env bash
# Test-harness only: build local stand-ins for the official base images on a machine that reaches
# Debian's archive and PyPI but no container registry (see docs/docker.md, "Offline engines").
#
#   segwise-offline/debian:bookworm           debootstrap --variant=minbase, docker import
#   segwise-offline/python:3.11-slim-bookworm Debian's python3.11 + venv (for the project image)
#   segwise-offline/postgres:15               Debian's PostgreSQL 15 behind an entrypoint that
#                                             honours what the compose file uses of postgres:16
#   segwise-offline/redis:7                   Debian's redis-server (celery profile)
#
# The Python stand-in trusts this machine's CA bundle for pip (PIP_CERT). That trick belongs here
# only: the project's Dockerfile never carries it. Images are rebuilt only when this folder changes
# (label segwise.offline.hash) or with --force. Prints `NAME=image` lines for the caller.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
prefix="${SEGWISE_OFFLINE_PREFIX:-segwise-offline}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { echo "build-base-images: $*" >&2; }

for tool in docker debootstrap tar; do
    command -v "$tool" >/dev/null || { log "needs $tool on PATH"; exit 2; }
done
[[ "$(id -u)" == 0 ]] || { log "debootstrap needs root"; exit 2; }

hash="$(cat "$here"/*.sh "$here"/*.Dockerfile | sha256sum | cut -c1-16)"

current() { # image is present and built from this version of the folder
    [[ $force == 0 ]] &&
        [[ "$(docker image inspect -f '{{ index .Config.Labels "segwise.offline.hash" }}' "$1" \
            2>/dev/null)" == "$hash" ]]
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

debian="$prefix/debian:$suite"
if ! current "$debian"; then
    log "debootstrap $suite from $mirror (about 30 s)"
    rootfs="$work/rootfs"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    # Same apt settings as the host (its archive may be a dated snapshot); slim like the official.
    cp /etc/apt/apt.conf.d/99artifact-registry "$rootfs/etc/apt/apt.conf.d/" 2>/dev/null || true
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$rootfs/etc/apt/apt.conf.d/99offline-slim"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import \
        --change "LABEL segwise.offline.hash=$hash" --change 'CMD ["bash"]' - "$debian" >/dev/null
fi
echo "DEBIAN_IMAGE=$debian"

build() { # NAME IMAGE DOCKERFILE [extra context files...]
    local name="$1" image="$2" dockerfile="$3"
    shift 3
    if current "$image"; then
        echo "$name=$image"
        return
    fi
    log "building $image"
    local ctx="$work/ctx-$name"
    mkdir -p "$ctx"
    cp "$here/$dockerfile" "$ctx/Dockerfile"
    for extra in "$@"; do cp "$extra" "$ctx/"; done
    docker build -q --build-arg "DEBIAN_IMAGE=$debian" --label "segwise.offline.hash=$hash" \
        -t "$image" "$ctx" >/dev/null
    echo "$name=$image"
}

build PYTHON_IMAGE "$prefix/python:3.11-slim-bookworm" python.Dockerfile \
    /etc/ssl/certs/ca-certificates.crt
build POSTGRES_IMAGE "$prefix/postgres:15" postgres.Dockerfile "$here/postgres-entrypoint.sh"
build REDIS_IMAGE "$prefix/redis:7" redis.Dockerfile
