#!/usr/bin/env bash
# Runs a Check test binary and fails unless its summary line reports > 0 checks
# and no failures or errors.
set -uo pipefail
bin=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+$' "$out" | tail -n 1)
if [ -z "$line" ]; then
    echo "run-unit: no Check summary line from $bin" >&2
    exit 1
fi
checks=$(sed -E 's/.*Checks: ([0-9]+),.*/\1/' <<<"$line")
if [ "$checks" -eq 0 ]; then
    echo "run-unit: $bin ran 0 checks" >&2
    exit 1
fi
exit "$rc"
