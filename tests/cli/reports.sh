#!/usr/bin/env bash
# CLI tests of the report commands with the real binary: `mqttspec render` (every report
# format from a report.json), `mqttspec compare` (the matrix), `mqttspec coverage` (the
# built-in scenarios against the statement catalogue).
# Validates junit.xml with xmllint, report.json against docs/report-schema.json, and that
# the HTML pages reference nothing outside themselves.
# usage: tests/cli/reports.sh BINARY...   (run from the repository root)
set -uo pipefail

fails=0
checks=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok()   { checks=$((checks + 1)); }
bad()  { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect_rc() { # expect_rc WANT DESCRIPTION -- command...
    local want=$1 what=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want"; cat "$tmp/err" >&2; fi
}
has() { # has FILE TEXT DESCRIPTION
    if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1"; fi
}

# Every tag and attribute of an HTML page: nothing may load from outside the page.
html_self_contained() {
    python3 - "$1" <<'PY'
import sys
from html.parser import HTMLParser
LOADERS = {"script", "link", "img", "iframe", "object", "embed", "source", "video", "audio",
           "frame", "base", "meta"}
class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.errors, self.in_style, self.tags = [], False, 0
    def handle_starttag(self, tag, attrs):
        self.tags += 1
        if tag in LOADERS and not (tag == "meta" and all(k in ("charset", "name", "content") for k, _ in attrs)):
            self.errors.append("<%s> element" % tag)
        for k, v in attrs:
            if k in ("src", "href", "action", "srcset", "data", "poster", "formaction") and v and not v.startswith("#"):
                self.errors.append("%s=%r on <%s>" % (k, v, tag))
            if k == "style" and v and ("url(" in v or "@import" in v):
                self.errors.append("external style on <%s>" % tag)
        self.in_style = tag == "style"
    def handle_endtag(self, tag):
        self.in_style = False
    def handle_data(self, data):
        if self.in_style and ("url(" in data or "@import" in data):
            self.errors.append("url()/@import in <style>")
p = Page()
p.feed(open(sys.argv[1], encoding="utf-8").read())
if p.tags < 10 or p.errors:
    print("\n".join(p.errors) or "no HTML in %s" % sys.argv[1], file=sys.stderr)
    sys.exit(1)
PY
}

schema_valid() { # schema_valid REPORT.json
    python3 - "$1" <<'PY'
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(77)
schema = json.load(open("docs/report-schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[1]))))
for e in errors:
    print("%s: %s" % ("/".join(map(str, e.path)), e.message), file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

check_binary() {
    local bin=$1 fx=tests/fixtures out
    # -- render: every format from each fixture
    for f in report-mosquitto report-rabbitmq report-hostile; do
        out=$tmp/render-$f
        expect_rc 0 "render $f" -- "$bin" render "$fx/$f.json" --out "$out" --format all
        for file in report.json junit.xml report.md report.html; do
            [ -s "$out/$file" ] && ok || bad "render $f: no $file"
        done
        if xmllint --noout "$out/junit.xml" 2>"$tmp/xmlerr"; then ok; else bad "junit.xml of $f is not well-formed XML"; cat "$tmp/xmlerr" >&2; fi
        if html_self_contained "$out/report.html"; then ok; else bad "report.html of $f loads something external"; fi
        schema_valid "$out/report.json"
        case $? in
            0) ok ;;
            77) echo "note: python3 jsonschema missing (scripts/deps.sh installs python3-jsonschema): schema not checked" >&2 ;;
            *) bad "report.json of $f does not match docs/report-schema.json" ;;
        esac
        # written again from its own output: the same report
        if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
            "$fx/$f.json" "$out/report.json" || [ "$f" = report-hostile ]; then ok; else bad "render $f changed report.json"; fi
    done
    out=$tmp/render-report-hostile
    has "$out/junit.xml" 'failures="1"' "hostile junit"
    has "$out/junit.xml" '\x01\x08\x0b\x0c\x1f\x7f\xc2\x85\xef\xbf\xbe\xef\xbf\xbf' "hostile junit control bytes"
    has "$out/report.html" '&lt;script&gt;alert(1)&lt;/script&gt;' "hostile html escaped"
    if grep -q '<script' "$out/report.html"; then bad "hostile html has a <script>"; else ok; fi
    if LC_ALL=C grep -qP '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]' "$out/junit.xml" "$out/report.html" "$out/report.md"; then
        bad "a control byte reached a human/CI report"; else ok; fi
    has "$out/report.md" '``````' "hostile md fence longer than the reason's backticks"

    # -- compare
    out=$tmp/cmp
    expect_rc 0 "compare" -- "$bin" compare "$fx/report-mosquitto.json" "$fx/report-rabbitmq.json" --out "$out"
    has "$out/matrix.md" '| connect.bad-level | 3.1.1 | MQTT-3.1.2-2 | PASS | **FAIL**[^1] | - |' "matrix.md row"
    has "$out/matrix.md" '### mosquitto 2.0.11' "matrix.md breaks"
    has "$out/matrix.html" 'href="#note-1"' "matrix.html link"
    if html_self_contained "$out/matrix.html"; then ok; else bad "matrix.html loads something external"; fi
    # the make matrix layout: BROKER/TRANSPORT/report.json; links to the run's reports, and to
    # BROKER/DEVIATIONS.md where that exists
    rm -rf "$tmp/lay"
    mkdir -p "$tmp/lay/mosq-1/tcp" "$tmp/lay/rmq-1/tcp"
    cp "$fx/report-mosquitto.json" "$tmp/lay/mosq-1/tcp/report.json"
    cp "$fx/report-rabbitmq.json" "$tmp/lay/rmq-1/tcp/report.json"
    echo "# triage" >"$tmp/lay/rmq-1/DEVIATIONS.md"
    abs=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    expect_rc 0 "compare (matrix layout)" -- sh -c "cd '$tmp/lay' && '$abs' compare --out . mosq-1/tcp/report.json rmq-1/tcp/report.json"
    has "$tmp/lay/matrix.md" '[report.md](mosq-1/tcp/report.md), [report.html](mosq-1/tcp/report.html) |' "matrix.md run links"
    has "$tmp/lay/matrix.md" '[report.html](rmq-1/tcp/report.html), [DEVIATIONS.md](rmq-1/DEVIATIONS.md) |' "matrix.md triage link"
    if grep -q 'mosq-1/DEVIATIONS.md' "$tmp/lay/matrix.md"; then bad "matrix.md links a DEVIATIONS.md that does not exist"; else ok; fi
    has "$tmp/lay/matrix.html" '<a href="rmq-1/DEVIATIONS.md">DEVIATIONS.md</a>' "matrix.html triage link"
    # the triage of make matrix: scripts/deviations.py writes DEVIATIONS.md where none was
    # written by hand; a FAIL no cause explains is listed as not triaged
    rm "$tmp/lay/rmq-1/DEVIATIONS.md"
    echo "# by hand" >"$tmp/lay/mosq-1/DEVIATIONS.md"
    expect_rc 0 "deviations.py" -- python3 scripts/deviations.py "$tmp/lay"
    has "$tmp/lay/rmq-1/DEVIATIONS.md" "written by scripts/deviations.py" "deviations.py marker"
    has "$tmp/lay/rmq-1/DEVIATIONS.md" "- connect.bad-level [3.1.1] tcp:" "deviations.py lists an unexplained FAIL"
    has "$tmp/err" "rmq-1: 3 verdicts no cause explains" "deviations.py counts the unexplained"
    if [ "$(cat "$tmp/lay/mosq-1/DEVIATIONS.md")" = "# by hand" ]; then ok; else bad "deviations.py overwrote a hand-written file"; fi
    expect_rc 0 "compare --format md" -- "$bin" compare "$fx/report-mosquitto.json" --out "$tmp/cmp-md" --format md
    [ -f "$tmp/cmp-md/matrix.md" ] && [ ! -e "$tmp/cmp-md/matrix.html" ] && ok || bad "compare --format md wrote the wrong files"
    expect_rc 2 "compare without reports" -- "$bin" compare --out "$tmp/x"
    expect_rc 2 "compare --format json" -- "$bin" compare "$fx/report-mosquitto.json" --format json --out "$tmp/x"
    expect_rc 2 "compare on a missing file" -- "$bin" compare "$tmp/none.json" --out "$tmp/x"
    has "$tmp/err" "$tmp/none.json: No such file or directory" "compare missing file message"
    sed 's/"FAIL": 2/"FAIL": 3/' "$fx/report-rabbitmq.json" > "$tmp/wrong-summary.json"
    expect_rc 2 "compare on a report whose summary lies" -- "$bin" compare "$tmp/wrong-summary.json" --out "$tmp/x"
    has "$tmp/err" "wrong-summary.json: summary.FAIL: 3, but 2 cases have that verdict" "compare summary message"
    printf '{"format": "mqttspec-report/1",\n  "tool_version": 1' > "$tmp/truncated.json"
    expect_rc 2 "compare on truncated JSON" -- "$bin" compare "$tmp/truncated.json" --out "$tmp/x"
    has "$tmp/err" "truncated.json: line 2, column" "compare truncated message"
    expect_rc 0 "compare --help" -- "$bin" compare --help
    has "$tmp/out" "usage: mqttspec compare" "compare --help text"
    # -- coverage
    expect_rc 0 "coverage" -- "$bin" coverage
    if grep -Eq '^  server-observable \(yes \+ partly\): [0-9]+ of 131 covered$' "$tmp/out"; then ok; else bad "coverage totals line"; fi
    has "$tmp/out" "MQTT-3.1.2-3    yes     connect.reserved-flag" "coverage row of a covered statement"
    has "$tmp/out" "MQTT-2.3.1-2    no      - (not observable by a client)" "coverage row of a client obligation"
    expect_rc 0 "coverage --json" -- "$bin" coverage --json
    if python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t, st = d["totals"], d["statements"]
assert len(st) == 141 and (t["yes"]["total"], t["partly"]["total"], t["no"]["total"]) == (84, 47, 10)
for o in ("yes", "partly", "no"):
    assert t[o]["covered"] == sum(1 for s in st if s["observable"] == o and s["scenarios"]), o
assert t["observable"]["covered"] == t["yes"]["covered"] + t["partly"]["covered"]
assert len(d["uncovered"]) == 131 - t["observable"]["covered"]
assert all(not s["scenarios"] and s["observable"] != "no" for s in d["uncovered"])
PY
    then ok; else bad "coverage --json totals do not add up"; fi
    mkdir -p "$tmp/sc" "$tmp/typo"
    cat > "$tmp/sc/own.json" <<'JSON'
{"id": "zz.own", "title": "cites an own id", "area": "zz",
 "statements": ["MQTT-3.1.2-3", "MQS-own-id"], "protocols": ["3.1.1"],
 "level": "MUST", "clients": ["a"], "steps": [{"op": "connect", "client": "a"}]}
JSON
    cat > "$tmp/typo/typo.json" <<'JSON'
{"id": "zz.typo", "title": "cites a typo", "area": "zz",
 "statements": ["MQTT-3.1.2-3", "MQTT-3.1.2-99", "MQS-own-id"], "protocols": ["3.1.1"],
 "level": "MUST", "clients": ["a"], "steps": [{"op": "connect", "client": "a"}]}
JSON
    expect_rc 0 "coverage with an own statement id" -- "$bin" coverage --scenario-dir "$tmp/sc"
    has "$tmp/out" "MQS-own-id      own     zz.own" "coverage lists own ids"
    has "$tmp/out" "MQTT-3.1.2-3    yes     connect.reserved-flag, zz.own" "coverage adds the file's scenario"
    expect_rc 2 "coverage with an unknown statement id" -- "$bin" coverage --scenario-dir "$tmp/typo"
    has "$tmp/err" 'typo.json: statements[1]: unknown statement id "MQTT-3.1.2-99"' "the loader names the typo"
    expect_rc 0 "coverage of one file" -- "$bin" coverage --no-builtin --scenario "$tmp/sc/own.json"
    has "$tmp/out" "coverage by 1 scenario" "coverage counts one scenario"
    expect_rc 2 "coverage with a stray argument" -- "$bin" coverage extra
    expect_rc 2 "coverage of a missing directory" -- "$bin" coverage --scenario-dir "$tmp/none"
    expect_rc 0 "coverage --help" -- "$bin" coverage --help
    expect_rc 2 "render of two files" -- "$bin" render "$fx/report-mosquitto.json" "$fx/report-rabbitmq.json"
    expect_rc 2 "render --format pdf" -- "$bin" render "$fx/report-mosquitto.json" --format pdf --out "$tmp/x"
}

for bin in "$@"; do
    check_binary "$bin"
done
echo "reports.sh: $checks checks, $fails failed"
[ "$checks" -gt 0 ] && [ "$fails" -eq 0 ]
