#!/bin/sh
# cli.sh - `dsim check-history` end to end on small histories written here: the three exit
# statuses of a verdict (0, 1, 3), bad input and usage (2, with FILE:LINE messages), and the
# explanation printed for a history that is not linearizable. Prints "N passed, N failed".
set -u
DSIM="${DSIM:?set DSIM to the dsim binary}"
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
expect_text() { # file, text, description
  if grep -qF -- "$2" "$1"; then ok "$3"; else ko "$3: no '$2' in:"; cat "$1"; fi
}

cd "$work"
# dsim's history.jsonl: a put, then a get that sees it (good) or misses it (bad).
cat > good.jsonl <<'H'
{"process":0,"type":"invoke","f":"put","key":"k1","value":"v1","time":1000}
{"process":0,"type":"ok","f":"put","key":"k1","value":"v1","time":2000}
{"process":1,"type":"invoke","f":"get","key":"k1","value":null,"time":3000}
{"process":1,"type":"ok","f":"get","key":"k1","value":"v1","time":4000}
{"process":2,"type":"invoke","f":"append","key":"k2","value":"x","time":5000}
{"process":2,"type":"info","f":"append","key":"k2","value":"x","time":6000}
H
sed 's/"value":"v1","time":4000/"value":"","time":4000/' good.jsonl > bad.jsonl
printf '{"process":0,"type":"invoke","f":"put","key":"k1","value":"v1","time":1000}\n{"process":0,"type":"ok","f":"put","key":"k1","value":1.5,"time":2000}\n' > broken.jsonl
# 14 concurrent writes, then a read of a value nobody wrote: the search takes ~10^5 steps.
{
  echo '['
  i=1; while [ $i -le 14 ]; do echo "{:process $i :type :invoke :f :write :value $i}"; i=$((i + 1)); done
  i=1; while [ $i -le 14 ]; do echo "{:process $i :type :ok :f :write :value $i}"; i=$((i + 1)); done
  echo '{:process 0 :type :invoke :f :read :value nil} {:process 0 :type :ok :f :read :value 99}]'
} > hard.edn

expect_status 0 "a linearizable history exits 0" "$DSIM" check-history good.jsonl --model kv
expect_text out "good.jsonl: linearizable under kv (3 operations over 2 keys" "the verdict line names the model"
expect_status 1 "a non-linearizable history exits 1" "$DSIM" check-history bad.jsonl --model kv
expect_text out 'bad.jsonl: NOT linearizable under kv' "the verdict line says NOT"
expect_text out 'key "k1" (2 of 3 operations) is not linearizable' "the failing key is named"
expect_text out 'process 1 get "k1" "" (lines 3-4, 3us..4us)' "the operation that cannot be ordered is shown"
expect_text out 'it read "", but the key holds "v1"' "and why it cannot"
expect_status 1 "--quiet still exits 1" "$DSIM" check-history bad.jsonl --model kv --quiet
[ -s "$work/out" ] && ko "--quiet prints nothing" || ok "--quiet prints nothing"
expect_status 1 "the hard history is not linearizable" "$DSIM" check-history hard.edn --model 'cas-register(init=0)'
expect_status 3 "a time limit reached exits 3" "$DSIM" check-history hard.edn --model 'cas-register(init=0)' --time-limit 1ns
expect_text out "unknown under cas-register(init=0): the time limit 1ns was reached" "unknown says why"
expect_status 2 "bad input exits 2" "$DSIM" check-history broken.jsonl --model kv
expect_text err "broken.jsonl:2: '1...': only integers are supported, not floating point" "bad input names FILE:LINE"
expect_status 2 "a missing file exits 2" "$DSIM" check-history nothing.jsonl --model kv
expect_status 2 "--model is required" "$DSIM" check-history good.jsonl
expect_text err "give --model, one of: register, kv, etcd-cas-register" "the models are listed"
expect_status 2 "an unknown model exits 2" "$DSIM" check-history good.jsonl --model cas-register
expect_status 2 "a model that does not fit the history exits 2" "$DSIM" check-history good.jsonl --model register
expect_text err "good.jsonl:1: model register has no operation 'put' (it has read, write, cas)" "and says why"
expect_status 2 "a bad time limit exits 2" "$DSIM" check-history good.jsonl --model kv --time-limit 10
expect_status 2 "two files exit 2" "$DSIM" check-history good.jsonl bad.jsonl --model kv
expect_status 0 "--help" "$DSIM" check-history --help
expect_text out "multi-register(x=0,y=0)" "--help lists the models"
expect_status 2 "no command is usage" "$DSIM"
expect_text err "check-history" "the usage lists check-history"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
