#!/usr/bin/env bash
# The CPU measurements behind README, the model card and bench/results, in one run on an idle
# machine (several hours on 2 cores). Each step logs to $LOG/<name>.log.
#   bench/cpu_run.sh [eval|bench|steer|edit|app ...]   (default: all of them; eval alone takes ~6 hours)
set -u
PY=${PY:-.venv/bin/python}
WEIGHTS=${WEIGHTS:-weights/patchdm-demo.safetensors}
HELDOUT=${HELDOUT:-data/wallpapers/heldout}
LOG=${LOG:-bench/logs}
export OMP_WAIT_POLICY=PASSIVE
mkdir -p "$LOG"
step() { echo "== $1 $(date +%T)"; }

for job in "${@:-eval bench steer edit app}"; do for j in $job; do case $j in
eval)
  # the sampler table of the model card: grid rule x eta x solver:steps at 1024x512 (n 4), then the default
  # setting against the ablation modes (same seeds and steps) and against DDIM 50, then 2048x1024 (n 2),
  # where DDIM runs at its best eta (0) only and DPM++ at eta 0 and 1
  ev() { $PY -m patchdm_core eval --weights "$WEIGHTS" --data "$HELDOUT" --save-images "$@"; }
  GRIDS="--modes feature --grids fixed,alternate,random"
  DEFAULT="--grids random --etas 0 --samplers dpmpp-2m:12"
  ev --n 4 --sizes 1024x512 $GRIDS --samplers ddim:25,dpmpp-2m:10,dpmpp-2m:15,dpmpp-2m:20 --etas 0,1 \
      --out eval/table-1024 > "$LOG/eval-table-1024.log" 2>&1
  ev --n 4 --sizes 1024x512 --modes feature,pixel,naive $DEFAULT --out eval/default-1024 > "$LOG/eval-default-1024.log" 2>&1
  ev --n 4 --sizes 1024x512 --modes feature --grids random --etas 0 --samplers ddim:50 --out eval/ddim50-1024 \
      > "$LOG/eval-ddim50-1024.log" 2>&1
  ev --n 2 --sizes 2048x1024 --modes feature,pixel,naive $DEFAULT --out eval/default-2048 > "$LOG/eval-default-2048.log" 2>&1
  ev --n 2 --sizes 2048x1024 --modes feature --grids random --etas 0 --samplers ddim:50 --out eval/ddim50-2048 \
      > "$LOG/eval-ddim50-2048.log" 2>&1
  ev --n 2 --sizes 2048x1024 $GRIDS --samplers dpmpp-2m:10,dpmpp-2m:15,dpmpp-2m:20 --etas 0,1 \
      --out eval/table-2048-dpm > "$LOG/eval-table-2048-dpm.log" 2>&1
  ev --n 2 --sizes 2048x1024 $GRIDS --samplers ddim:25 --etas 0 --out eval/table-2048-ddim > "$LOG/eval-table-2048-ddim.log" 2>&1
  ;;
bench)
  step bench
  # the price of moving the grid: one step per grid rule (3 calls each), same run
  $PY bench/grid_cost.py --config demo --size 2048x1024 --rounds 7 --out bench/results/cpu-grid-cost \
      > "$LOG/grid-cost.log" 2>&1
  $PY -m patchdm_core bench --config demo --max-size 8192x4096 > "$LOG/bench-demo.log" 2>&1
  $PY -m patchdm_core bench --config paper --modes feature --sizes 1024x512,2048x1024,4096x2048 --chunks "" \
      > "$LOG/bench-paper.log" 2>&1
  /usr/bin/time -v $PY -m patchdm_core generate --weights "$WEIGHTS" --size 1024x512 --seed 1 -o /tmp/patchdm-a.png \
      > "$LOG/generate-1024.log" 2>&1
  ;;
steer)
  step steer
  $PY bench/steering.py --weights "$WEIGHTS" --out bench/results/cpu-steering > "$LOG/steering.log" 2>&1
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
