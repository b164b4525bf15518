#!/bin/sh
# lint.sh - the determinism rules of DESIGN.md, checked by grep: no wall clock, no global
# randomness in the kernel or the algorithms (the command line, which draws progress bars,
# and the history checker's time limit are the allowed exceptions), and no printing of
# pointers into traces.
set -u
top="${DSIM_SRCDIR:-$(dirname "$0")/..}"
cd "$top" || exit 2
pattern='\b(rand|random|srand|time|clock_gettime|gettimeofday|g_get_real_time|g_get_monotonic_time|g_random_[a-z_]+|g_rand_[a-z_]+)\s*\('
# string literals and comments are removed before matching
bad=$(for f in sim/*.c sim/*.h algorithms/*.c algorithms/*/*.c algorithms/*/*.h; do
        [ -f "$f" ] || continue
        case "$f" in
          # the command line draws progress bars; the history checker's --time-limit is
          # wall time by definition; neither reaches a run
          sim/cli.c|sim/cli_*.c|sim/lincheck*.c) continue ;;
        esac
        sed -e 's/"[^"]*"//g' -e 's|/\*.*\*/||g'  -e 's|/\*.*$||' -e 's|^\s*\*.*||' "$f" | grep -nE "$pattern" | sed "s|^|$f:|"
      done)
ptr=$(grep -nE '%p' sim/*.c algorithms/*/*.c reports/*.c 2>/dev/null)
status=0
if [ -n "$bad" ]; then
  echo "forbidden wall-clock or global-randomness calls (use dsim_now / dsim_rand):"
  echo "$bad"
  status=1
fi
if [ -n "$ptr" ]; then
  echo "pointers printed (addresses differ between runs):"
  echo "$ptr"
  status=1
fi
if [ $status -eq 0 ]; then
  echo "lint: 1 passed, 0 failed"
fi
exit $status
