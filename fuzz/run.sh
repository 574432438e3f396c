#!/usr/bin/env bash
# Runs one libFuzzer harness on its corpus with the MQTT dictionary.
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer flags ...]
#
# Reads corpus/TARGET/ (checked in) and BUILD/fuzz/seeds/TARGET/ (make
# fuzz-corpus); new inputs go to BUILD/fuzz/corpus-TARGET/, crash reproducers
# to BUILD/fuzz/artifacts/TARGET/. FORK=N or JOBS=N in the environment run
# libFuzzer's -fork=N or -jobs=N -workers=N. Exit status: libFuzzer's (0 = no
# finding); on a finding, prints how to reproduce it.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 TARGET SECONDS [libFuzzer flags]" >&2; exit 2; }
target=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
fdir=$root/${BUILD:-build}/fuzz
bin=$fdir/$target
[ -x "$bin" ] || { echo "fuzz-run: $bin not built (make fuzz)" >&2; exit 2; }

work=$fdir/corpus-$target
art=$fdir/artifacts/$target
logs=$fdir/logs/$target
mkdir -p "$work" "$art" "$logs"
seeds=()
for d in "$root/corpus/$target" "$fdir/seeds/$target"; do
    [ -d "$d" ] && seeds+=("$d")
done
par=()
[ -n "${FORK:-}" ] && par+=("-fork=$FORK")
[ -n "${JOBS:-}" ] && par+=("-jobs=$JOBS" "-workers=$JOBS")

before=$(ls "$art" | wc -l)
# -jobs writes fuzz-N.log into the current directory: keep those under build/.
cd "$logs"
echo "fuzz-run: $bin -max_total_time=$secs ${par[*]} $* (corpus: $work ${seeds[*]})"
"$bin" -dict="$root/corpus/mqtt.dict" -max_total_time="$secs" -timeout=10 \
    -artifact_prefix="$art/" -print_final_stats=1 "${par[@]}" "$@" "$work" "${seeds[@]}"
rc=$?
after=$(ls "$art" | wc -l)
if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    echo "fuzz-run: $target FAILED (exit $rc); reproducers in $art:" >&2
    ls -t "$art" | head -n 5 | sed "s|^|  $art/|" >&2
    echo "fuzz-run: reproduce with: make fuzz-replay-bins && $fdir/replay/$target FILE" >&2
    [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
