#!/usr/bin/env bash
# Why OpenMP waits passively: the README's first command alone and beside one busy single-threaded
# process, for each OpenMP wait policy (an empty OMP_WAIT_POLICY = libgomp's default spin-then-sleep;
# the package only sets PASSIVE when the variable is unset), in one run:
#   bench/experiments/omp_policy.sh > bench/results/cpu-omp-policy.txt
set -eu
PY=${PY:-.venv/bin/python}
lscpu | grep "Model name"
run() {  # env assignments... -> seconds
  local start end
  start=$(date +%s.%N)
  env "$@" "$PY" -m patchdm_core generate --size 1024x512 --seed 1 -o /tmp/omp_policy.png > /tmp/omp_policy.log 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
for cfg in "OMP_WAIT_POLICY=PASSIVE" "OMP_WAIT_POLICY=" "OMP_WAIT_POLICY=ACTIVE" "OMP_WAIT_POLICY= GOMP_SPINCOUNT=30000"; do
  # shellcheck disable=SC2086  # cfg is a list of assignments
  alone=$(run $cfg)
  python3 -c "while True: pass" & busy=$!
  sleep 1
  # shellcheck disable=SC2086
  beside=$(run $cfg)
  kill $busy
  printf '%-40s alone %6.1f s  beside a busy process %6.1f s  ratio %.2f\n' "$cfg" "$alone" "$beside" \
      "$(echo "$beside / $alone" | bc -l)"
done
