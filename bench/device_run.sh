#!/usr/bin/env bash
# The prepared run for a lent GPU (one call, ~9 minutes): 20 s of bench-train (windows/s, TFLOP/s),
# then an A/B of the training objective on the shrunk wallpaper set, both arms starting from the shipped
# weights ($INIT; INIT= starts from scratch) for $MINUTES/2 each: "paper" (2x2 windows on the grid) and
# "seam" ($SEAM: 3x3 windows at pixel offsets with min-SNR weights); then the GPU benchmark. The paper
# arm also keeps an EMA of decay $EMA_EXTRA beside the config's 0.999. Everything worth keeping lands in
# $OUT (8 files at most): weights-paper.safetensors, weights-paper-ema$EMA_EXTRA.safetensors,
# weights-seam.safetensors (score each with `eval` on the CPU), the paper arm's training state (3 shards;
# its state.json is in small.tar.gz with the logs).
#   carry: data/wallpapers-1024 (scripts/shrink_dataset.py); or DATA=data/wallpapers-1024-v2 (the grown
#   103-picture set, 11.5 MiB; 687 CPU steps on it did not beat v1.3: weights/README.md, "After v1.3")
set -u
OUT=${OUT:-/tmp/patchdm-out}
PY=${PY:-python3}
MINUTES=${MINUTES:-6.5}
CONFIG=${CONFIG:-demo}
DATA=${DATA:-data/wallpapers-1024}
BATCH=${BATCH:-256}
INIT=${INIT-weights/patchdm-demo.safetensors}
SEAM=${SEAM:---window 3 --offsets pixel --min-snr-gamma 5}
EMA_EXTRA=${EMA_EXTRA:-0.9995}
HALF=$($PY -c "print($MINUTES / 2)")
RUN=runs/gpu
mkdir -p "$OUT" "$RUN"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; $PY -c "import sys, torch; print(sys.version.split()[0], torch.__version__)"; } > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"
timeout 60 $PY -m patchdm_core bench-train --device cuda --config "$CONFIG" --batch-size "$BATCH" --seconds 20 \
    --out "$OUT/bench-train.json" > "$OUT/bench-train.log" 2>&1
echo "bench-train exit $?"; tail -1 "$OUT/bench-train.log"
for arm in paper seam; do
  opts="--ema-extra $EMA_EXTRA"; [ "$arm" = seam ] && opts="$SEAM"
  # shellcheck disable=SC2086  # $opts is a list of flags
  $PY -m patchdm_core train --data "$DATA" --config "$CONFIG" --out "$RUN-$arm" --minutes "$HALF" --steps 10000000 \
      ${INIT:+--init "$INIT"} --batch-size "$BATCH" --sample-every 10000000 --save-every 1000 --log-every 200 $opts \
      > "$OUT/train-$arm.log" 2>&1
  echo "train $arm exit $?"; tail -2 "$OUT/train-$arm.log"
  cp "$RUN-$arm/weights.safetensors" "$OUT/weights-$arm.safetensors" 2>/dev/null
  for f in "$RUN-$arm"/weights-ema*.safetensors; do [ -f "$f" ] && cp "$f" "$OUT/weights-$arm-${f##*/weights-}"; done
done
cp "$RUN-paper"/state/*.safetensors "$OUT/" 2>/dev/null
timeout 150 $PY -m patchdm_core bench --device cuda --config paper --modes feature,naive,sliding:16 --max-size 8192x4096 \
    --sliding-max-size 2048x1024 --chunks 256,1024,4096 --gpu-report --out "$RUN/bench" > "$OUT/bench.log" 2>&1
echo "bench exit $?"; tail -12 "$OUT/bench.log"
timeout 120 $PY bench/gpu_checks.py > "$OUT/gpu_checks.log" 2>&1; echo "gpu checks exit $?"; cat "$OUT/gpu_checks.log"
tar czf "$OUT/small.tar.gz" "$RUN"-*/state/state.json "$RUN"-*/log.jsonl "$RUN"-*/config.json "$RUN/bench" \
    "$OUT"/train-*.log "$OUT/bench.log" "$OUT/gpu_checks.log" "$OUT/machine.txt" "$OUT/bench-train.log" 2>/dev/null
rm -f "$OUT"/train-*.log "$OUT/bench.log" "$OUT/gpu_checks.log" "$OUT/machine.txt" "$OUT/bench-train.log"
ls -la "$OUT"
