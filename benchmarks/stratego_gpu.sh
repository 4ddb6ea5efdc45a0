#!/usr/bin/env bash
# Classic Stratego throughput on an accelerator, in one short script: the
# compiled self-play learner step (`arena train`'s rollout + R-NaD update) at
# accelerator-sized batches, then the engine alone under random play.
#
#   bash benchmarks/stratego_gpu.sh [OUT_DIR]
#
# Each measurement has its own time limit (STEP_LIMIT_S, default 150 s), so
# one that stalls or runs out of memory does not take the rest with it. The
# JSON of each lands in OUT_DIR (default /tmp/stratego_gpu) as it finishes.
set -u
out=${1:-/tmp/stratego_gpu}
limit=${STEP_LIMIT_S:-150}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"

# A classic game holds 2,080 decisions of 3,600 actions, so the learner's
# memory grows quickly with the batch; let XLA take most of the device.
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.92}

learner() {  # learner NAME OPTIONS
  echo "== learner step: $2"
  timeout "$limit" python3 "$here/stratego_learner.py" \
    --config stratego_classic_rnad --calls 3 --option "$2" \
    --json "$out/learner_$1.json" 2>&1 | grep -v "^ " || true
}

# The bundled config (batch 8, 16 channels, one block), larger batches and a
# wider, deeper network; the engine alone; the largest batch last, in case
# it does not fit. Results on an H200: benchmarks/stratego_gpu_results.md.
learner b8 "agent.batch_size=8"
learner b64 "agent.batch_size=64"
learner b128 "agent.batch_size=128"
learner b64_wide "agent.batch_size=64 agent.network.channels=64 agent.network.num_blocks=2 agent.network.stem_kernel=3"
echo "== engine: random legal play"
timeout "$limit" python3 "$here/stratego_speed.py" --variant classic \
  --batch-sizes 512,4096,32768,131072 --plies 20000000 \
  2>&1 | tee "$out/engine.txt"
learner b256 "agent.batch_size=256"
