#!/usr/bin/env bash
# Runs GoogleTest binaries and closes with one line "tests: N passed, N failed".
set -u
passed=0
failed=0
status=0
for binary in "$@"; do
  log=$(mktemp)
  "$binary" --gtest_color=no 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$log" | tail -n 1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) tests\?, listed below:.*/\1/p' "$log" | tail -n 1)
  rm -f "$log"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    status=1
    # A crash leaves no summary line: count the binary as one failure.
    [ -z "$f" ] && failed=$((failed + 1))
  fi
done
echo "tests: $passed passed, $failed failed"
exit $status
