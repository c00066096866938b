#!/usr/bin/env bash
# Runs every libFuzzer harness in BIN_DIR for SECONDS each, starting from the seed corpus in
# tests/fuzz/corpus/NAME plus what earlier runs found (BIN_DIR/corpus/NAME). One line per
# harness with its executions; a crash or broken property leaves its input in
# BIN_DIR/artifacts/ and fails the run.
#
#   tests/fuzz/run.sh SECONDS BIN_DIR
set -u
seconds=${1:?usage: tests/fuzz/run.sh SECONDS BIN_DIR}
bin=${2:?usage: tests/fuzz/run.sh SECONDS BIN_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0
mkdir -p "$bin/artifacts"
for harness in "$bin"/*_fuzz; do
  name=$(basename "$harness" _fuzz)
  found="$bin/corpus/$name"
  log="$bin/$name.log"
  mkdir -p "$found"
  # New inputs go to the first directory; the seeds in the repository stay as they are.
  "$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$bin/artifacts/$name-" "$found" "$root/tests/fuzz/corpus/$name" \
    >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  inputs=$(find "$found" "$root/tests/fuzz/corpus/$name" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz $name: ${runs:-?} executions in $seconds s (${rate:-?}/s), corpus $inputs inputs: no crash"
  else
    status=1
    echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} executions; log: $log"
    grep -E "ERROR|property broken|SUMMARY|Test unit written" "$log" | head -n 10
  fi
done
exit $status
