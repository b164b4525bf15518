#!/bin/sh
# bugs.sh - the regression corpus of known bugs (make check-bugs): every known-bug variant
# of Paxos, Raft, the service client and zero trust, explored over the same seeds as its
# correct variant, must be caught (some seed fails the named check), and the correct variant
# must never fail a safety check (an invariant or linearizability) on those seeds. Prints
# "N passed, N failed".
set -u
DSIM="${DSIM:?set DSIM to the dsim binary}"
top="${DSIM_SRCDIR:?set DSIM_SRCDIR}"
SEEDS="${SEEDS:-1..60}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
pass=0
fail=0

# scenario | parameter | bug | the check that must catch it
cat > "$work/corpus" <<'LIST'
scenarios/raft/loss-churn.xml r.bug no-log-up-to-date-check leader-completeness
scenarios/raft/figure8.xml r.bug commit-previous-term leader-completeness
scenarios/raft/crash-after-vote.xml r.bug forget-vote election-safety
scenarios/raft/loss-churn.xml r.bug truncate-on-append state-machine-safety
scenarios/raft/partitioned-leader.xml r.bug ack-before-commit linearizable
scenarios/paxos/acceptor-crash.xml p.bug forget-promise promise-monotonic
scenarios/paxos/majority-partition.xml p.bug ignore-promised-values agreement
scenarios/paxos/dueling-proposers.xml p.bug accept-lower-ballot agreement
scenarios/paxos/multi-leader-isolated.xml m.bug apply-before-chosen state-machine-safety
scenarios/service/breaker.xml c.bug ignore-breaker breaker-respected
scenarios/trust/mtls.xml s.bug authorize-by-address no-unauthorized-served
LIST

# the safety checks of a run: invariants of the protocols and linearizability
safety='election-safety|leader-append-only|log-matching|leader-completeness|state-machine-safety|linearizable|agreement|validity|promise-monotonic|slot-agreement|breaker-respected|bulkhead-respected|limiter-conforms|no-unauthorized-served|global-limit-conforms'

i=0
while read -r scenario param bug check; do
  i=$((i + 1))
  group=${param%%.*}
  "$DSIM" explore "$scenario" --seeds "$SEEDS" --param "$param=$bug" --out "$work/bug$i" --quiet
  caught=$(awk -F'\t' -v c="$check" '!/^#/ && index($5, c) { n++ } END { print n + 0 }' "$work/bug$i/explore.tsv")
  if [ "$caught" -gt 0 ]; then
    pass=$((pass + 1)); echo "PASS: $bug caught by $check on $caught of seeds $SEEDS ($scenario)"
    # the first seed that caught it shrinks to a reproducer that fails on its own
    seed=$(awk -F'\t' -v c="$check" '!/^#/ && index($5, c) { print $1; exit }' "$work/bug$i/explore.tsv")
    "$DSIM" shrink "$scenario" --seed "$seed" --param "$param=$bug" --out "$work/repro$i.xml" > "$work/shrink$i.txt" 2>&1
    st=$?
    "$DSIM" run "$work/repro$i.xml" --out "$work/reprorun$i" --quiet
    rst=$?
    if [ $st -eq 1 ] && [ $rst -eq 1 ]; then
      pass=$((pass + 1)); echo "PASS: $bug seed $seed shrinks to a reproducer that fails ($(grep -E '^  faults' "$work/shrink$i.txt" | tr -s ' '))"
    else
      fail=$((fail + 1)); echo "FAIL: $bug seed $seed: shrink exit $st, reproducer exit $rst"
      cat "$work/shrink$i.txt"
    fi
  else
    fail=$((fail + 1)); echo "FAIL: $bug never caught by $check over seeds $SEEDS ($scenario)"
  fi
  "$DSIM" explore "$scenario" --seeds "$SEEDS" --param "$param=none" --out "$work/ok$i" --quiet
  unsafe=$(awk -F'\t' -v re="$safety" '!/^#/ && $5 ~ re { n++ } END { print n + 0 }' "$work/ok$i/explore.tsv")
  if [ "$unsafe" -eq 0 ]; then
    pass=$((pass + 1)); echo "PASS: $group with bug=none keeps every safety check on seeds $SEEDS ($scenario)"
  else
    fail=$((fail + 1)); echo "FAIL: $group with bug=none fails a safety check on $unsafe seeds ($scenario)"
    grep -v '^#' "$work/ok$i/explore.tsv" | awk -F'\t' -v re="$safety" '$5 ~ re' | head -3
  fi
done < "$work/corpus"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
