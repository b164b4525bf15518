#!/bin/sh
# browser.sh - the HTML report of a shipped scenario in a real browser (headless Chromium):
# the rendered DOM must have one space-time lane per node and one arrow per message sent in
# the diagram's window (counted independently, from events.jsonl), every picture the page
# shows must be in the folder, and the page must log nothing to the console (no script
# errors). Skipped, with automake's status 77, when Chromium is not installed
# (apt-get install chromium). Prints "N passed, N failed".
set -u
DSIM="${DSIM:?set DSIM to the dsim binary}"
top="${DSIM_SRCDIR:?set DSIM_SRCDIR}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "SKIP: chromium not installed (apt-get install chromium)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }

# A scenario with loss, a partition, a crash and a restart inside the default window (0..2s).
scenario=scenarios/broadcast/partition-heal.xml
window_to=2000000000
out="$work/run"
cd "$top"
"$DSIM" run "$scenario" --out "$out" --events --quiet
status=$?
[ "$status" -le 1 ] && ok "dsim run wrote the report" || { ko "dsim run wrote the report (exit $status)"; exit 1; }

nodes=$(sed -n 's/^  "nodes": \([0-9]*\),$/\1/p' "$out/summary.json")
# Messages of the window: every copy sent at 0 <= t <= 2 s (send lines), and every message
# dropped as it was sent (a drop line at the sender, at the send time).
expected=$(awk -v to="$window_to" '
  function num(key,   m) { if (match($0, "\"" key "\":[0-9]+")) return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) + 0; return -1 }
  function str(key,   m) { if (match($0, "\"" key "\":\"[^\"]*\"")) return substr($0, RSTART + length(key) + 4, RLENGTH - length(key) - 5); return "" }
  /"kind":"send"/ { if (num("sent") <= to) n++ }
  /"kind":"drop"/ { if (num("t") == num("sent") && str("node") == str("from") && num("sent") <= to) n++ }
  END { print n + 0 }' "$out/events.jsonl")

profile=$(mktemp -d "$work/profile-XXXXXX")
timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --dump-dom "file://$out/index.html" >"$work/dom.html" 2>"$work/chromium.log"
status=$?
[ "$status" -eq 0 ] && [ -s "$work/dom.html" ] && ok "chromium rendered the page" \
  || { ko "chromium rendered the page (exit $status)"; cat "$work/chromium.log"; }

lanes=$(grep -o '<g class="lane"' "$work/dom.html" | wc -l)
arrows=$(grep -o '<line class="msg[" ]' "$work/dom.html" | wc -l)
dropped=$(grep -o '<line class="msg dropped"' "$work/dom.html" | wc -l)
[ "$lanes" -eq "$nodes" ] && ok "one lane per node ($lanes)" || ko "one lane per node: $lanes lanes, $nodes nodes"
[ "$arrows" -eq "$expected" ] && ok "one arrow per message of the window ($arrows)" \
  || ko "one arrow per message of the window: $arrows arrows, $expected messages in events.jsonl"
[ "$dropped" -gt 0 ] && ok "dropped messages are drawn ($dropped)" || ko "dropped messages are drawn"
grep -q '<title>' "$work/dom.html" && ok "arrows carry a title to hover" || ko "arrows carry a title to hover"

missing=""
for src in $(grep -o '<img src="[^"]*"' "$work/dom.html" | sed 's/<img src="//; s/"$//'); do
  [ -s "$out/$src" ] || missing="$missing $src"
done
[ -z "$missing" ] && ok "every picture of the page is in the folder" || ko "pictures missing:$missing"

console=$(grep -E 'CONSOLE|Uncaught' "$work/chromium.log")
[ -z "$console" ] && ok "no console errors" || { ko "no console errors"; echo "$console"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
