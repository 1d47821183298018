#!/usr/bin/env bash
# The main job on the built-in example: capture the TF/Keras environment, run the seeded Keras
# training and keep its outputs as the baseline, show the snapshot, then replay it (rebuild the
# environment, run the training in it, compare the outputs) and print the verdict. The example is
# a subfolder of this repository, as a user's project often is.
#
# The replay takes --engine auto: in a container when a Docker engine answers and has the base
# image, else in a venv on this host (the local engine), and says which and why. Where no registry
# is reachable (this project's machines), the image builds on the local Debian base that
# scripts/setup-docker.sh makes (only when an engine already answers: this script starts none),
# with apt's Python, and both engines install from the local package index in /opt/pypi served on
# loopback. Elsewhere set SNAPSHOT_EXAMPLE_REGISTRY=1 to build on the official image the snapshot
# asks for, from PyPI (or PIP_INDEX_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
# An engine that answers gets the test base image; a machine without one replays locally.
engine=0
if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
  engine=1
  bash scripts/setup-docker.sh
fi
python=$(node test/setup/prepare-envs.js | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tf))')
out=${SNAPSHOT_EXAMPLE_OUT:-.cache/example}  # relative to the repository root
rm -rf "$out"
mkdir -p "$out"

build=()
if [ "${SNAPSHOT_EXAMPLE_REGISTRY:-0}" != 1 ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "${SNAPSHOT_EXAMPLE_INDEX:-/opt/pypi}" >/dev/null 2>&1 &
  index_pid=$!
  trap 'kill "$index_pid" 2>/dev/null || true' EXIT
  build=(--pip-index-url "http://127.0.0.1:$port/simple/")
  if [ "$engine" = 1 ]; then
    build+=(--base-image "${SNAPSHOT_TEST_BASE_IMAGE:-snapshot-test/debian:bookworm}" --python-from apt
      --build-arg "PIP_INDEX_URL=http://127.0.0.1:$port/simple/" --build-network host)
  fi
elif [ -n "${PIP_INDEX_URL:-}" ]; then
  build=(--build-arg "PIP_INDEX_URL=$PIP_INDEX_URL" --pip-index-url "$PIP_INDEX_URL")
fi

cd examples/keras-tiny
# Seeded, and oneDNN off, so a second machine with another CPU can give the same bits.
PYTHONHASHSEED=0 TF_ENABLE_ONEDNN_OPTS=0 node ../../bin/run.js capture --python "$python" --data data \
  --run "python train.py --out ../../$out/outputs" --outputs "../../$out/outputs" \
  --output "../../$out/snapshot.yaml"
node ../../bin/run.js show "../../$out/snapshot.yaml"
cd ../..
# The replay: the environment is rebuilt from the snapshot (an image, or a cached venv), the code at
# the captured commit with its patch runs in it, and its outputs are judged against the baseline.
node bin/run.js replay "$out/snapshot.yaml" "${build[@]}"
