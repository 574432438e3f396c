#!/usr/bin/env bash
# all.sh — the broker kit for several brokers at once.
#   scripts/brokers/all.sh install [NAME...]
#   scripts/brokers/all.sh start DIR [NAME...]
#   scripts/brokers/all.sh stop DIR [NAME...]
#   scripts/brokers/all.sh list
# NAMEs default to every broker of the kit (`list` prints them). Broker NAME runs in
# DIR/NAME (its env is DIR/NAME/env). start starts them one after the other, never in
# parallel (the machine has 2 shared cores; RabbitMQ alone keeps them busy for 10-20 s),
# and skips, with a message, any broker that is not installed. stop stops every NAME
# that has a directory under DIR (RabbitMQ's epmd included).
# Exit status: the number of brokers that failed (install: could not be installed;
# start: installed but did not become ready, or skipped as not installed); 2 usage.
set -euo pipefail

KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BROKERS=(mosquitto aedes aedes-cli activemq ejabberd rabbitmq)

usage() {
    echo "usage: all.sh install [NAME...] | start DIR [NAME...] | stop DIR [NAME...] | list" >&2
    exit 2
}

# names NAME...: the arguments, or every broker; rejects unknown names.
names() {
    local n
    [[ $# -gt 0 ]] || set -- "${BROKERS[@]}"
    for n in "$@"; do
        [[ " ${BROKERS[*]} " == *" $n "* ]] || {
            echo "all.sh: unknown broker '$n' (known: ${BROKERS[*]})" >&2
            exit 2
        }
    done
    echo "$@"
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
dir=
if [[ $cmd == start || $cmd == stop ]]; then
    [[ $# -ge 1 ]] || usage
    dir=$1
    shift
fi
list=$(names "$@") || exit 2
failed=0
case $cmd in
list)
    echo "${BROKERS[*]}"
    ;;
install)
    for n in $list; do
        bash "$KIT/$n.sh" install || failed=$((failed + 1))
    done
    ;;
start)
    for n in $list; do
        if ! bash "$KIT/$n.sh" version >/dev/null 2>&1; then
            echo "all.sh: $n is not installed here; skipped (scripts/brokers/$n.sh install)" >&2
            failed=$((failed + 1))
            continue
        fi
        bash "$KIT/$n.sh" start "$dir/$n" || failed=$((failed + 1))
    done
    ;;
stop)
    for n in $list; do
        [[ -d $dir/$n ]] || continue
        bash "$KIT/$n.sh" stop "$dir/$n" || failed=$((failed + 1))
    done
    ;;
*) usage ;;
esac
exit "$failed"
