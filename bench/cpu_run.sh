#!/usr/bin/env bash
# The CPU measurements behind README, the model card and bench/results, in one run on an idle
# machine (about an hour on 2 cores). Each step logs to $LOG/<name>.log.
#   bench/cpu_run.sh [eval|bench|edit|app ...]   (default: all of them)
set -u
PY=${PY:-.venv/bin/python}
WEIGHTS=${WEIGHTS:-weights/patchdm-demo.safetensors}
HELDOUT=${HELDOUT:-data/wallpapers/heldout}
LOG=${LOG:-bench/logs}
export OMP_WAIT_POLICY=PASSIVE
mkdir -p "$LOG"
step() { echo "== $1 $(date +%T)"; }

for job in "${@:-eval bench edit app}"; do for j in $job; do case $j in
eval)
  step eval
  $PY -m patchdm_core eval --weights "$WEIGHTS" --data "$HELDOUT" --n 3 --sizes 1024x512 \
      --modes feature,feature-alt,pixel,naive,sliding --out eval/1024x512 --save-images > "$LOG/eval-1024.log" 2>&1
  $PY -m patchdm_core eval --weights "$WEIGHTS" --data "$HELDOUT" --n 1 --sizes 2048x1024 \
      --modes feature,feature-alt,pixel,naive --out eval/2048x1024 --save-images > "$LOG/eval-2048.log" 2>&1
  ;;
bench)
  step bench
  $PY -m patchdm_core bench --config demo --max-size 8192x4096 > "$LOG/bench-demo.log" 2>&1
  $PY -m patchdm_core bench --config paper --modes feature --sizes 1024x512,2048x1024,4096x2048 --chunks "" \
      > "$LOG/bench-paper.log" 2>&1
  /usr/bin/time -v $PY -m patchdm_core generate --weights "$WEIGHTS" --size 1024x512 --seed 1 -o /tmp/patchdm-a.png \
      > "$LOG/generate-1024.log" 2>&1
  ;;
edit)
  step edit
  $PY bench/edit_cost.py --weights "$WEIGHTS" --out bench/results/cpu-editing > "$LOG/edit.log" 2>&1
  ;;
app)
  step app
  $PY scripts/app_screenshots.py --weights "$WEIGHTS" --out docs --threads 2 > "$LOG/app.log" 2>&1
  ;;
esac; done; done
step done
