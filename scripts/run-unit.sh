#!/usr/bin/env bash
# Runs a Check test binary and fails unless its summary line reports > 0 checks
# and no failures or errors.
#
# Check's per-test timeouts (4 s unless a TCase sets its own) are hang guards, not speed
# checks. On a 2-core CI machine under load, an ASan build of a CPU-heavy test (e.g.
# expand's large_repeat, ~0.9 s alone) ran past 4 s and failed as "Test timeout
# expired". So every timeout is multiplied by 5 unless CK_TIMEOUT_MULTIPLIER is set:
# a real hang still fails, after 20 s instead of 4.
set -uo pipefail
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-5}
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
