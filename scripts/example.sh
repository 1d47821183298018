#!/usr/bin/env bash
# The main job on the built-in example: capture the TF/Keras environment, run the seeded Keras
# training, keep its outputs as the baseline, show the snapshot, write its Dockerfile, and judge a
# second run against the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
python=$(node test/setup/prepare-envs.js | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tf))')
out=.cache/example
rm -rf "$out/outputs"
mkdir -p "$out"
cd examples/keras-tiny
node ../../bin/run.js capture --python "$python" --data data \
  --run "python train.py --out ../../$out/outputs" --outputs "../../$out/outputs" \
  --output "../../$out/snapshot.yaml" --force
node ../../bin/run.js show "../../$out/snapshot.yaml"
# The pinned build context for that snapshot, and a second run of the training judged against
# the baseline (the same machine, so it must come out identical).
node ../../bin/run.js dockerfile "../../$out/snapshot.yaml" --force
rm -rf "../../$out/rerun"
"$python" train.py --out "../../$out/rerun" > /dev/null 2>&1
node ../../bin/run.js compare "../../$out/snapshot.yaml" "../../$out/rerun"
