#!/usr/bin/env bash
# tests/integration/run.sh MQTTSPEC [MQTTSPEC_ASAN] — runs every tests/integration/*.sh
# (sorted) with the binaries as arguments, except: itself; net.sh, which
# `make check-integration` runs first on its own line; and brokers.sh, the by-hand smoke
# test of the multi-broker kit; and mutants.sh, the long broken-broker check (`make mutants`).
# Fails if any script fails.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failed=()
for t in "$here"/*.sh; do
    case $(basename "$t") in run.sh | net.sh | brokers.sh | mutants.sh) continue ;; esac
    echo "== integration: $(basename "$t")"
    bash "$t" "$@" || failed+=("$(basename "$t")")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "integration: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "integration: all passed"
