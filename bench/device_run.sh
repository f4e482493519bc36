#!/usr/bin/env bash
# The prepared run for a lent GPU (one call, under the device's 600 s limit: ~20 s of bench-train, $MINUTES
# of training, ~100 s of benchmark, ~90 s of GPU checks). bench-train first (windows/s, TFLOP/s), then an A/B
# of the training objective on the shrunk wallpaper set, both arms starting from the shipped weights
# ($INIT; INIT= starts from scratch) for $MINUTES/2 each: "paper" (2x2 windows on the grid) and "seam"
# ($SEAM: 3x3 windows at pixel offsets with min-SNR weights); then the GPU benchmark and checks. The paper
# arm also keeps an EMA of decay $EMA_EXTRA beside the config's 0.999.
# What is worth keeping is copied into $OUT every 2 minutes while the arms train (so a call cut short still
# returns it) and once more at the end, 8 files at most: weights-paper.safetensors,
# weights-paper-ema$EMA_EXTRA.safetensors, weights-seam.safetensors (score each with `eval` on the CPU),
# the paper arm's training state (3 shards + state.json: `train --resume` continues it), and the logs and
# bench-train's JSON in small.tar.gz.
#   carry: data/wallpapers-1024 (scripts/shrink_dataset.py); or DATA=data/wallpapers-1024-v2 (the grown
#   103-picture set, 11.5 MiB; 687 CPU steps on it did not beat v1.3: weights/README.md, "After v1.3")
set -u
OUT=${OUT:-/tmp/patchdm-out}
PY=${PY:-python3}
MINUTES=${MINUTES:-5}
CONFIG=${CONFIG:-demo}
DATA=${DATA:-data/wallpapers-1024}
BATCH=${BATCH:-256}
INIT=${INIT-weights/patchdm-demo.safetensors}
SEAM=${SEAM:---window 3 --offsets pixel --min-snr-gamma 5}
EMA_EXTRA=${EMA_EXTRA:-0.9995}
SNAP_EVERY=${SNAP_EVERY:-120}  # seconds between copies into $OUT
HALF=$($PY -c "print($MINUTES / 2)")
RUN=runs/gpu
mkdir -p "$OUT" "$RUN"

put() {  # copy $1 to $OUT/$2 so that $OUT never holds half a file
  cp "$1" "$OUT/.partial" && mv "$OUT/.partial" "$OUT/$2"
}
snapshot() {  # what the arms have saved so far (train writes its files atomically)
  local arm f
  for arm in paper seam; do
    for f in "$RUN-$arm"/weights*.safetensors; do
      [ -f "$f" ] && put "$f" "weights-$arm${f##*/weights}"  # weights-ema0.9995.st -> weights-paper-ema0.9995.st
    done
  done
  for f in "$RUN-paper"/state/*; do [ -f "$f" ] && put "$f" "${f##*/}"; done
}
logs() {
  tar czf "$OUT/small.tar.gz" "$RUN"-*/log.jsonl "$RUN"-*/config.json "$RUN"-seam/state/state.json "$RUN"/*.json \
      "$RUN"/*.log "$RUN/bench" 2>/dev/null
}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; $PY -c "import sys, torch; print(sys.version.split()[0], torch.__version__)"; } > "$RUN/machine.log" 2>&1
cat "$RUN/machine.log"
timeout 60 $PY -m patchdm_core bench-train --device cuda --config "$CONFIG" --batch-size "$BATCH" --seconds 20 \
    --out "$RUN/bench-train.json" > "$RUN/bench-train.log" 2>&1
echo "bench-train exit $?"; tail -1 "$RUN/bench-train.log"
(while sleep "$SNAP_EVERY"; do snapshot; done) &
SNAP=$!
for arm in paper seam; do
  opts="--ema-extra $EMA_EXTRA"; [ "$arm" = seam ] && opts="$SEAM"
  # shellcheck disable=SC2086  # $opts is a list of flags
  $PY -m patchdm_core train --data "$DATA" --config "$CONFIG" --out "$RUN-$arm" --minutes "$HALF" --steps 10000000 \
      ${INIT:+--init "$INIT"} --batch-size "$BATCH" --sample-every 10000000 --save-every 500 --log-every 200 $opts \
      > "$RUN/train-$arm.log" 2>&1
  echo "train $arm exit $?"; tail -2 "$RUN/train-$arm.log"
done
kill "$SNAP" 2>/dev/null; wait "$SNAP" 2>/dev/null
snapshot
logs
timeout 100 $PY -m patchdm_core bench --device cuda --config paper --modes feature,naive,sliding:16 --max-size 8192x4096 \
    --sliding-max-size 2048x1024 --chunks 256,1024,4096 --gpu-report --out "$RUN/bench" > "$RUN/bench.log" 2>&1
echo "bench exit $?"; tail -12 "$RUN/bench.log"
timeout 90 $PY bench/gpu_checks.py > "$RUN/gpu_checks.log" 2>&1; echo "gpu checks exit $?"; cat "$RUN/gpu_checks.log"
logs
ls -la "$OUT"
