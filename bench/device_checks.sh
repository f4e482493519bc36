#!/usr/bin/env bash
# The second call on a lent GPU (after bench/device_run.sh): the GPU checks and the sampling benchmark,
# each under its own timeout, ~4 minutes in all. Returns in $OUT: gpu_checks.log, the bench tables of the
# paper config eager and compiled (JSON + markdown: medians of interleaved rounds after a same-size
# warm-up, counted TFLOP/s and % of the card's peak in every row), bench-train-paper.json.
#   1. bench/gpu_checks.py: exact resume, CPU = GPU, compiled = eager (training and painting),
#      no host sync inside a step, offloaded canvas, flat peak memory                         ~150 s
#   2. bench --config paper at 1024x512 and 2048x1024, feature and naive, eager then compiled ~60 s
#   3. bench-train --config paper with the speed levers $LEVERS                              ~40 s
set -u
OUT=${OUT:-/tmp/patchdm-out}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
CONFIG=${CONFIG:-paper}
SIZES=${SIZES:-1024x512,2048x1024}
LEVERS=${LEVERS:-channels-last,autotune,compile}
BENCH_SECONDS=${BENCH_SECONDS:-15}
BATCH=${BATCH:-}  # bench-train's windows per step (default: the paper config's 32)
CHECKS=${CHECKS:-1}
COMPILES=${COMPILES:-none compile}  # the CPU dry run: none (inductor builds C++ for minutes there)
RUN=${RUN:-runs/gpu-checks}
mkdir -p "$OUT" "$RUN"

if [ "$CHECKS" = 1 ]; then
  timeout 240 $PY bench/gpu_checks.py > "$OUT/gpu_checks.log" 2>&1; echo "gpu checks exit $?"; tail -12 "$OUT/gpu_checks.log"
fi
for compile in $COMPILES; do
  timeout 150 $PY -m patchdm_core bench --device "$DEVICE" --config "$CONFIG" --sizes "$SIZES" --modes feature,naive \
      --chunks "" --repeats 3 --compile "$compile" --out "$RUN" > "$RUN/bench-$compile.log" 2>&1
  echo "bench $compile exit $?"; grep -E "^\| feature|^\| naive|feature / naive" "$RUN/bench-$compile.log"
done
for f in "$RUN"/*-"$CONFIG"*.json "$RUN"/*-"$CONFIG"*.md; do [ -f "$f" ] && cp "$f" "$OUT/"; done
timeout 150 $PY -m patchdm_core bench-train --device "$DEVICE" --config "$CONFIG" --seconds "$BENCH_SECONDS" \
    ${BATCH:+--batch-size "$BATCH"} --speed "$LEVERS" --out "$OUT/bench-train-$CONFIG.json" > "$RUN/bench-train.log" 2>&1
echo "bench-train $CONFIG exit $?"; tail -1 "$RUN/bench-train.log"
ls -la "$OUT"
