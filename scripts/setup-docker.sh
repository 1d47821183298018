#!/usr/bin/env bash
# Makes a Docker engine answer on this machine and builds the local base image the Docker tests use.
# No registry is reachable here, so the base image is made with debootstrap and `docker import`,
# once per machine. Idempotent: an engine that answers and an image that exists are left alone.
set -euo pipefail

BASE_IMAGE="${SNAPSHOT_TEST_BASE_IMAGE:-snapshot-test/debian:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io debootstrap >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd" >&2
  as_root sh -c 'nohup dockerd >/var/log/snapshot-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not come up; see /var/log/snapshot-dockerd.log" >&2; tail -20 /var/log/snapshot-dockerd.log >&2 || true; exit 1; }
fi

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "building $BASE_IMAGE with debootstrap (once per machine)" >&2
  root=$(mktemp -d)
  trap 'as_root rm -rf "$root"' EXIT
  as_root debootstrap --variant=minbase bookworm "$root" "$MIRROR" >/dev/null
  as_root tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
fi
echo "docker engine $(docker version --format '{{.Server.Version}}'), base image $BASE_IMAGE"
