#!/bin/sh
# explore.sh - explore, replay, shrink, sweep and shard/merge from the command line:
# results independent of --jobs, a failing seed replays with the same trace hash, shrinking
# writes a reproducer that fails on its own, and shards run through GNU parallel merge into
# exactly the unsharded result. Prints "N passed, N failed".
set -u
DSIM="${DSIM:?set DSIM to the dsim binary}"
top="${DSIM_SRCDIR:?set DSIM_SRCDIR}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }
cd "$top"

bug=scenarios/broadcast/crash-forgets.xml
"$DSIM" explore $bug --seeds 1..24 --jobs 1 --out "$work/j1" --quiet; st1=$?
"$DSIM" explore $bug --seeds 1..24 --jobs 2 --out "$work/j2" --quiet; st2=$?
check "explore exits 1 when a seed fails" '[ $st1 -eq 1 ] && [ $st2 -eq 1 ]'
check "explore.tsv is the same with --jobs 1 and 2" 'cmp -s "$work/j1/explore.tsv" "$work/j2/explore.tsv"'
check "explore.json is the same with --jobs 1 and 2" 'cmp -s "$work/j1/explore.json" "$work/j2/explore.json"'
check "explore.tsv has a line per seed" '[ "$(grep -vc "^#" "$work/j1/explore.tsv")" -eq 24 ]'
"$DSIM" explore $bug --seeds 1..24 --out "$work/j1" > "$work/out" 2>&1; st=$?
check "an existing explore folder is not overwritten" '[ $st -eq 2 ]'
"$DSIM" explore $bug --seeds 1..24 --out "$work/table" > "$work/out" 2>&1
check "the table counts failures per check" 'grep -q "no-duplicate-delivery" "$work/out" && grep -q "seeds run 24" "$work/out"'

# replay of a failing seed: the same trace hash as in explore.tsv
seed=$(awk -F'\t' '$2 == "FAIL" { print $1; exit }' "$work/j1/explore.tsv")
hash=$(awk -F'\t' -v s="$seed" '$1 == s { print $3 }' "$work/j1/explore.tsv")
"$DSIM" replay $bug --seed "$seed" --out "$work/replay" --quiet; st=$?
check "replay of a failing seed exits 1" '[ $st -eq 1 ]'
check "replay gives the trace hash explore saw" 'grep -q "\"trace_hash\": \"$hash\"" "$work/replay/summary.json"'
check "replay writes the event log" '[ -s "$work/replay/events.jsonl" ]'

# random fault schedules: replayable too
"$DSIM" explore scenarios/broadcast/partition-heal.xml --seeds 1..6 --nemesis crash-restart,random-halves \
  --out "$work/nem" --quiet
h3=$(awk -F'\t' '$1 == 3 { print $3 }' "$work/nem/explore.tsv")
"$DSIM" replay scenarios/broadcast/partition-heal.xml --seed 3 --nemesis crash-restart,random-halves \
  --out "$work/nem3" --quiet
check "a seed with a random fault schedule replays exactly" 'grep -q "\"trace_hash\": \"$h3\"" "$work/nem3/summary.json"'
check "the random schedule's faults are in the event log" '[ "$(grep -c "\"kind\":\"fault\"" "$work/nem3/events.jsonl")" -gt 4 ]'
"$DSIM" explore scenarios/broadcast/partition-heal.xml --seeds 1..2 --nemesis frobnicate --out "$work/x" > "$work/out" 2>&1; st=$?
check "an unknown nemesis is bad input" '[ $st -eq 2 ] && [ ! -e "$work/x" ]'

# shrink: a reproducer that fails on its own
"$DSIM" shrink $bug --seed "$seed" --out "$work/repro.xml" > "$work/shrink.txt" 2>&1; st=$?
check "shrink exits 1 with a failing reproducer" '[ $st -eq 1 ]'
check "shrink says what it shrank" 'grep -q "faults" "$work/shrink.txt" && grep -q "fails the same check" "$work/shrink.txt"'
"$DSIM" run "$work/repro.xml" --out "$work/repro" --quiet; st=$?
check "the reproducer fails when run" '[ $st -eq 1 ]'
check "the reproducer validates" '"$DSIM" validate "$work/repro.xml" > /dev/null'

# shards through GNU parallel, then merge: the same as one run
if command -v parallel > /dev/null 2>&1; then
  parallel --will-cite "$DSIM" explore $bug --seeds 1..24 --shard {}/3 --out "$work/shard{}" --quiet ::: 1 2 3
  "$DSIM" merge "$work/shard1" "$work/shard2" "$work/shard3" --out "$work/merged" --quiet
  check "merged shards equal the unsharded exploration" 'cmp -s "$work/merged/explore.tsv" "$work/j1/explore.tsv"'
  "$DSIM" merge "$work/shard1" "$work/shard1" --out "$work/dup" > "$work/out" 2>&1; st=$?
  check "merging a shard twice is refused" '[ $st -eq 2 ]'
else
  echo "SKIP: GNU parallel not installed (apt-get install parallel)"
fi

# sweep: two variants on the same seeds
"$DSIM" sweep scenarios/broadcast/flood.xml --vary b.interval=5ms,40ms --seeds 1..3 --out "$work/sweep" > "$work/out" 2>&1; st=$?
check "sweep runs" '[ $st -eq 0 ]'
check "sweep writes a line per variant and figure" '[ "$(grep -c broadcast_latency_seconds "$work/sweep/variants.csv")" -eq 2 ]'
check "sweep writes a line per run and figure" '[ "$(grep -c broadcast_latency_seconds "$work/sweep/runs.csv")" -eq 6 ]'
"$DSIM" sweep scenarios/broadcast/flood.xml --vary b.nosuch=1 --out "$work/sw2" > "$work/out" 2>&1; st=$?
check "sweep refuses an unknown parameter" '[ $st -eq 2 ] && grep -q "no parameter nosuch" "$work/out"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
