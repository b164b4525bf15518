#!/bin/sh
# corpus.sh - `dsim check-history` against every verdict of two peers' corpora: Porcupine's
# (102 Jepsen etcd logs, 6 key-value logs) and Knossos' (121 EDN histories, 123 rows). Each
# row of their expected.tsv (file, model, true|false) must give exit status 0 (true) or 1
# (false); "unknown" (the per-file time limit) or an error is a failure like a wrong verdict.
# Prints one line per disagreement, the counts, the total time and the slowest file.
#
# The corpora live outside the source tree (their licences are not ours): set DSIM_CORPORA
# to the folder holding porcupine/ and knossos/; by default ../shared/corpora beside the
# source tree is used when it exists. Without them the test is skipped (exit 77).
# DSIM_CORPUS_LIMIT sets the per-file time limit (default 60s).
set -u
DSIM="${DSIM:?set DSIM to the dsim binary}"
top="${DSIM_SRCDIR:-$(dirname "$0")/../..}"
corpora="${DSIM_CORPORA:-}"
if [ -z "$corpora" ]; then
  for c in "$top/../shared/corpora" "$top/shared/corpora"; do
    if [ -f "$c/porcupine/expected.tsv" ] && [ -f "$c/knossos/expected.tsv" ]; then corpora="$c"; break; fi
  done
fi
if [ -z "$corpora" ] || [ ! -f "$corpora/porcupine/expected.tsv" ]; then
  echo "SKIP: corpora not found (set DSIM_CORPORA to the folder holding porcupine/ and knossos/)"
  exit 77
fi
limit="${DSIM_CORPUS_LIMIT:-60s}"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

pass=0
fail=0
slowest_ms=0
slowest=""
started=$(now_ms)
tab=$(printf '\t')
for corpus in porcupine knossos; do
  dir="$corpora/$corpus"
  n=0
  ok=0
  {
    read -r header
    while IFS="$tab" read -r file model expected; do
      [ -n "$file" ] || continue
      n=$((n + 1))
      t0=$(now_ms)
      "$DSIM" check-history "$dir/$file" --model "$model" --time-limit "$limit" --quiet </dev/null
      status=$?
      ms=$(( $(now_ms) - t0 ))
      case $status in
        0) got=true ;;
        1) got=false ;;
        3) got="unknown (time limit $limit)" ;;
        *) got="error (exit $status)" ;;
      esac
      if [ "$got" = "$expected" ]; then
        ok=$((ok + 1))
      else
        echo "FAIL: $corpus/$file --model $model: expected $expected, got $got"
        "$DSIM" check-history "$dir/$file" --model "$model" --time-limit "$limit" </dev/null 2>&1 | head -20
      fi
      if [ "$ms" -gt "$slowest_ms" ]; then slowest_ms=$ms; slowest="$corpus/$file ($model)"; fi
    done
  } < "$dir/expected.tsv"
  echo "$corpus: $ok of $n verdicts agree"
  pass=$((pass + ok))
  fail=$((fail + n - ok))
done
total=$(( $(now_ms) - started ))
echo "total $total ms; slowest $slowest: $slowest_ms ms (each time includes starting dsim)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
