#!/bin/bash -eu
# Builds the fuzz harnesses the OSS-Fuzz / ClusterFuzzLite way.
#
# Inputs (set by the OSS-Fuzz / ClusterFuzzLite builder; defaults for a local
# run): CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, OUT, WORK.
# Outputs in $OUT, for every harness fuzz/fuzz_<target>.c but the no-op one:
#   <target>                  the fuzzer
#   <target>_seed_corpus.zip  corpus/<target>/ plus the seeds fuzz/gen_corpus.py makes
#   <target>.dict             corpus/mqtt.dict
# Local check (no Docker needed):
#   CC=clang CXX=clang++ CFLAGS="-O1 -g -fsanitize=address,undefined,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=build/oss-fuzz/out bash fuzz/build.sh

set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang}
CXX=${CXX:-clang++}
CFLAGS=${CFLAGS:--O1 -g -fsanitize=address,undefined,fuzzer-no-link}
CXXFLAGS=${CXXFLAGS:-$CFLAGS}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}
OUT=${OUT:-$ROOT/build/oss-fuzz/out}
WORK=${WORK:-$ROOT/build/oss-fuzz/work}
# Targets that link the whole library (conformance/ uses cJSON; net/ OpenSSL and wslay).
FULL_TARGETS=" scenario broker_reply "
FULL_LIBS="-lcjson -lwslay -lssl -lcrypto -lpthread -lm"
STD="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$ROOT -I$WORK"

mkdir -p "$OUT" "$WORK/obj"
cd "$ROOT"

# compile SRC... : sets OBJS to the object files
compile() {
    local src obj
    OBJS=()
    for src in "$@"; do
        obj=$WORK/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o
        # shellcheck disable=SC2086
        $CC $STD $CFLAGS -c "$src" -o "$obj"
        OBJS+=("$obj")
    done
}

compile codec/*.c
CODEC_OBJS=("${OBJS[@]}")
FULL_OBJS=()
need_full=0
for t in $FULL_TARGETS; do [ -f "fuzz/fuzz_$t.c" ] && need_full=1; done
if [ "$need_full" = 1 ]; then
    # Generated sources (embedded scenarios, statement catalogue) come from the Makefile.
    gen=$(make -s --no-print-directory BUILD="$WORK/mk" fuzz-gen-src | tail -n 1)
    # shellcheck disable=SC2086
    compile $(ls net/*.c conformance/*.c 2>/dev/null) $gen
    FULL_OBJS=("${OBJS[@]}")
fi

SEEDS=$WORK/seeds
rm -rf "$SEEDS"
if command -v python3 >/dev/null; then
    python3 fuzz/gen_corpus.py --out "$SEEDS" >/dev/null
fi

zip_dir() { # zip_dir OUT.zip DIR... : the files of DIRs, flat, one per name (names are hashes)
    local zipf=$1 files=() f
    local -A seen=()
    shift
    rm -f "$zipf"
    for d in "$@"; do
        [ -d "$d" ] || continue
        while IFS= read -r -d '' f; do
            [ -n "${seen[${f##*/}]:-}" ] && continue
            seen[${f##*/}]=1
            files+=("$f")
        done < <(find "$d" -maxdepth 1 -type f ! -name '.*' -print0)
    done
    [ ${#files[@]} -gt 0 ] || return 0
    if command -v zip >/dev/null; then
        printf '%s\n' "${files[@]}" | zip -q -j -@ "$zipf"
    else
        python3 -m zipfile -c "$zipf" "${files[@]}"
    fi
}

built=0
for src in fuzz/fuzz_*.c; do
    t=${src#fuzz/fuzz_}
    t=${t%.c}
    [ "$t" = noop ] && continue # local exec/s ceiling only
    objs=("${CODEC_OBJS[@]}")
    libs=""
    if [[ $FULL_TARGETS == *" $t "* ]]; then
        objs=("${FULL_OBJS[@]}" "${CODEC_OBJS[@]}")
        libs=$FULL_LIBS
    fi
    compile "$src"
    # shellcheck disable=SC2086
    $CXX $CXXFLAGS "${OBJS[@]}" "${objs[@]}" $LIB_FUZZING_ENGINE $libs -o "$OUT/$t"
    cp corpus/mqtt.dict "$OUT/$t.dict"
    zip_dir "$OUT/${t}_seed_corpus.zip" "corpus/$t" "$SEEDS/$t"
    built=$((built + 1))
done
echo "build.sh: $built fuzzers in $OUT"
