#!/usr/bin/env bash
# The README's first command, timed for an older checkout and this one, alternating, in one run:
#   git worktree add /tmp/old <commit>; SIZE=2048x1024 bench/old_vs_new.sh /tmp/old [repeats] [more checkouts...]
# Each checkout uses its own weights file and its own defaults. Prints wall seconds per run, and each
# run's kernel time and page faults (glibc's unmapped-and-refaulted activations show there).
set -eu
OLD=${1:?path of the old checkout}
N=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
PY=$(pwd)/${PY:-.venv/bin/python}
export OMP_WAIT_POLICY=PASSIVE
lscpu | grep "Model name"; echo "generate --size ${SIZE:-1024x512} --seed 1"
TIME=(/usr/bin/time -f "%S s kernel, %R page faults" -o /tmp/old_vs_new.time)
[ -x /usr/bin/time ] || { TIME=(); echo "(no /usr/bin/time: kernel time and page faults not shown)" > /tmp/old_vs_new.time; }
for i in $(seq "$N"); do
  for tree in "$OLD" "$@" "$(pwd)"; do
    start=$(date +%s.%N)
    (cd "$tree" && "${TIME[@]}" "$PY" -m patchdm_core generate --size "${SIZE:-1024x512}" --seed 1 -o /tmp/old_vs_new.png > /tmp/old_vs_new.log 2>&1)
    end=$(date +%s.%N)
    params=$("$PY" -c "from PIL import Image; print(Image.open('/tmp/old_vs_new.png').info['parameters'][:60])")
    printf '%-40s run %d: %6.1f s  %s  (%s)\n' "$tree" "$i" "$(echo "$end - $start" | bc)" "$(cat /tmp/old_vs_new.time)" "$params"
  done
done
