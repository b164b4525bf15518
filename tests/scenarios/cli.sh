#!/bin/sh
# cli.sh - the command line end to end: validate every example, run one, exit statuses, the
# report folder (never overwritten without --force), events.jsonl, and bad input leaving
# nothing behind. Prints "N passed, N failed".
set -u
DSIM="${DSIM:?set DSIM to the dsim binary}"
top="${DSIM_SRCDIR:?set DSIM_SRCDIR}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }
expect_status() { # want, description, command...
  want=$1; what=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"; got=$?
  if [ "$got" -eq "$want" ]; then ok "$what"; else ko "$what (exit $got, wanted $want)"; cat "$work/out" "$work/err"; fi
}

cd "$top"
expect_status 0 "every example scenario validates" "$DSIM" validate scenarios/*/*.xml
expect_status 0 "--version" "$DSIM" --version
grep -q '^dsim [0-9]' "$work/out" && ok "--version prints the version" || ko "--version prints the version"
expect_status 0 "list" "$DSIM" list
grep -q 'no-duplicate-delivery' "$work/out" && ok "list shows invariants" || ko "list shows invariants"
grep -q 'retransmit' "$work/out" && ok "list shows parameters" || ko "list shows parameters"
expect_status 0 "help run" "$DSIM" help run
grep -q -- '--max-events' "$work/out" && ok "help run lists options" || ko "help run lists options"
expect_status 2 "no command is a usage error" "$DSIM"
expect_status 2 "unknown command is a usage error" "$DSIM" frobnicate
expect_status 2 "unknown option is a usage error" "$DSIM" run --frob scenarios/pingpong/basic.xml

out="$work/run1"
expect_status 0 "a passing scenario exits 0" "$DSIM" run scenarios/broadcast/flood.xml --out "$out" --events
[ -f "$out/summary.json" ] && ok "summary.json written" || ko "summary.json written"
[ -s "$out/events.jsonl" ] && ok "events.jsonl written" || ko "events.jsonl written"
grep -q '"kind":"deliver"' "$out/events.jsonl" && ok "events.jsonl has deliveries" || ko "events.jsonl has deliveries"
ls -a "$work" | grep -q 'tmp-' && ko "no temporary folder left behind" || ok "no temporary folder left behind"
grep -q 'PASS' "$work/out" && ok "the verdict table is printed" || ko "the verdict table is printed"
expect_status 2 "an existing report folder is not overwritten" "$DSIM" run scenarios/broadcast/flood.xml --out "$out"
grep -q 'already exists' "$work/err" && ok "it says why" || ko "it says why"
expect_status 0 "--force replaces it" "$DSIM" run scenarios/broadcast/flood.xml --out "$out" --force
[ ! -f "$out/events.jsonl" ] && ok "the replaced folder is the new run's" || ko "the replaced folder is the new run's"

h1=$(grep trace_hash "$work/run1/summary.json")
"$DSIM" run scenarios/broadcast/flood.xml --out "$work/run2" --quiet
h2=$(grep trace_hash "$work/run2/summary.json")
[ "$h1" = "$h2" ] && ok "the same seed gives the same trace hash" || ko "the same seed gives the same trace hash"
"$DSIM" run scenarios/broadcast/flood.xml --out "$work/run3" --quiet --seed 99
h3=$(grep trace_hash "$work/run3/summary.json")
[ "$h1" != "$h3" ] && ok "--seed changes the run" || ko "--seed changes the run"
grep -q '"seed": 99' "$work/run3/summary.json" && ok "--seed is recorded" || ko "--seed is recorded"
expect_status 0 "--quiet prints nothing" "$DSIM" run scenarios/broadcast/flood.xml --out "$work/run4" --quiet
[ ! -s "$work/out" ] && ok "--quiet output is empty" || ko "--quiet output is empty"

expect_status 1 "a failing check exits 1" "$DSIM" run scenarios/broadcast/no-retransmit.xml --out "$work/fail"
grep -q 'FAIL' "$work/out" && ok "the failure is in the table" || ko "the failure is in the table"
# stopped after 10 events, the game is unfinished and its expectation fails: exit 1
expect_status 1 "--max-events stops early" "$DSIM" run scenarios/pingpong/lossy.xml --out "$work/short" --max-events 10 --quiet
grep -q '"events": 10,' "$work/short/summary.json" && ok "exactly 10 events ran" || ko "exactly 10 events ran"
grep -q '"stopped_early": true' "$work/short/summary.json" && ok "the summary says it stopped early" || ko "the summary says it stopped early"

# bad input: exit 2, one FILE:LINE: line, nothing written
cd "$work"
printf '<scenario name="x" seed="1" duration="5x"><group id="a" protocol="pingpong" count="2"/></scenario>\n' > bad.xml
expect_status 2 "a bad scenario exits 2" "$DSIM" run bad.xml
grep -q '^bad.xml:1: ' "$work/err" && ok "the message starts with FILE:LINE:" || ko "the message starts with FILE:LINE:"
[ "$(wc -l < "$work/err")" -eq 1 ] && ok "the message is one line" || ko "the message is one line"
[ ! -e "$work/out" ] || [ ! -d out ] && ok "no output folder was created" || ko "no output folder was created"
expect_status 2 "validate reports a bad file" "$DSIM" validate bad.xml
expect_status 2 "a missing file exits 2" "$DSIM" run does-not-exist.xml

printf '<scenario name="noseed" duration="1s"><group id="a" protocol="pingpong" count="2"/></scenario>\n' > noseed.xml
expect_status 0 "a scenario without a seed runs" "$DSIM" run noseed.xml --out "$work/noseed" --quiet
grep -q '"seed": 1,' "$work/noseed/summary.json" && ok "with seed 1" || ko "with seed 1"

# a protocol's own check of its parameters (its validate op) applies to --param and <sweep> too
expect_status 2 "--param is validated by the protocol" "$DSIM" run "$top/scenarios/broadcast/flood.xml" --param b.origin=99 --out "$work/badparam"
grep -q 'b.origin=99: b.origin: origin 99 names no member of group b' "$work/err" && ok "it names the parameter" || ko "it names the parameter"
[ ! -e "$work/badparam" ] && ok "nothing written for a bad --param" || ko "nothing written for a bad --param"
cat > "$work/badsweep.xml" <<'XML'
<scenario name="badsweep" seed="1" duration="1s">
  <group id="b" protocol="broadcast" count="4"/>
  <sweep seeds="1..2"><vary param="b.origin" values="1, 9"/></sweep>
</scenario>
XML
expect_status 2 "a <sweep> value is validated by the protocol" "$DSIM" validate "$work/badsweep.xml"
grep -q 'badsweep.xml:3: .*b.origin=9: origin 9 names no member' "$work/err" && ok "at the vary's line" || ko "at the vary's line"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
