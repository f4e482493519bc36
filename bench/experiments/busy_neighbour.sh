#!/usr/bin/env bash
# The README's first command alone and beside one busy single-threaded process, for an older checkout and
# this one, in one run (issue: threads that behave on a shared machine):
#   git worktree add /tmp/old <commit>; bench/experiments/busy_neighbour.sh /tmp/old
# Prints wall seconds per run and the busy/alone ratio of each checkout.
set -eu
OLD=${1:?path of the old checkout}
PY=$(pwd)/${PY:-.venv/bin/python}
lscpu | grep "Model name"
run() {  # tree -> seconds
  local start end
  start=$(date +%s.%N)
  (cd "$1" && env -u OMP_WAIT_POLICY "$PY" -m patchdm_core generate --size 1024x512 --seed 1 -o /tmp/busy_neighbour.png \
      > /tmp/busy_neighbour.log 2>&1)
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
for tree in "$OLD" "$(pwd)"; do
  alone=$(run "$tree")
  python3 -c "while True: pass" & busy=$!
  sleep 1
  beside=$(run "$tree")
  kill $busy
  printf '%-30s alone %6.1f s  beside a busy process %6.1f s  ratio %.2f\n' "$tree" "$alone" "$beside" \
      "$(echo "$beside / $alone" | bc -l)"
done
