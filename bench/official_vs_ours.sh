#!/usr/bin/env bash
# The paper configuration's sampler step at 1024x512, official code vs this project, alternating in one run.
#   bench/official_vs_ours.sh PATH_OF_YOUR_OFFICIAL_CHECKOUT [rounds] [size]
# Both unguided, random weights, fp32 (the official code's fp16 autocast is CUDA-only; ours is pinned to
# fp32 with --precision so that a bf16 CPU compares like with like).
set -eu
OFFICIAL=${1:?path of a checkout of github.com/mlpc-ucsd/Patch-DM}
N=${2:-2}
SIZE=${3:-1024x512}
PY=${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=PASSIVE
lscpu | grep "Model name"
for i in $(seq "$N"); do
  $PY bench/official_step.py --official "$OFFICIAL" --size "$SIZE" --steps 2 2>/dev/null | tail -1
  $PY -m patchdm_core bench --config paper --modes feature:fixed --sizes "$SIZE" --chunks "" --precision fp32 \
    --out /tmp/official_vs_ours 2>/dev/null | grep "s/step"
done
