#!/bin/sh
# quickstart.sh - install what is missing, build, then run the demo or the test suite.
#
#   ./quickstart.sh          build and run the demo scenario; prints the verdict table
#   ./quickstart.sh test     build and run the whole suite (make check), then again under
#                            AddressSanitizer + UndefinedBehaviorSanitizer in build-san/
#   ./quickstart.sh build    only install and build
set -eu

cd "$(dirname "$0")"
mode="${1:-demo}"
case "$mode" in
  demo|test|build) ;;
  *) echo "usage: ./quickstart.sh [demo|test|build]" >&2; exit 2 ;;
esac

# ---- Debian packages --------------------------------------------------------
packages="build-essential autoconf automake libtool pkg-config libglib2.0-dev libxml2-dev libcunit1-dev gnuplot-nox parallel"
# the browser test of the HTML report (tests/reports/browser.sh) runs headless Chromium
if [ "$mode" = test ]; then packages="$packages chromium"; fi
missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "quickstart: missing packages:$missing; install them with your package manager" >&2
    exit 2
  fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "quickstart: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "quickstart: installing$missing (sudo)"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  else
    echo "quickstart: these Debian packages are missing:$missing" >&2
    echo "install them with:  sudo apt-get install$missing" >&2
    exit 2
  fi
fi

# ---- build --------------------------------------------------------------------
jobs="$(nproc 2>/dev/null || echo 2)"
stale=no
if [ ! -x configure ]; then
  stale=yes
else
  for f in configure.ac Makefile.am; do
    if [ "$f" -nt configure ]; then stale=yes; fi
  done
fi
if [ "$stale" = yes ]; then
  echo "quickstart: autoreconf"
  autoreconf -fi
fi
if [ -f config.status ]; then
  echo "quickstart: this source tree was configured in place; run 'make distclean' first" >&2
  exit 2
fi
# Two out-of-tree builds: build/ (plain) and build-san/ (sanitizers).
configure_in() { # dir, extra configure options
  dir="$1"; shift
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/config.status" ]; then
    (cd "$dir" && ../configure --quiet "$@")
  fi
}
configure_in build
make -C build -j"$jobs"
ln -sf build/dsim dsim

case "$mode" in
  build)
    echo "quickstart: built ./dsim (build/dsim)"
    ;;
  demo)
    demo=scenarios/raft/leader-crash.xml
    echo "quickstart: ./dsim run $demo --force"
    status=0
    ./dsim run "$demo" --force || status=$?
    echo
    echo "Next: ./dsim list, ./dsim run scenarios/pingpong/lossy.xml --events, docs/cli.md"
    exit "$status"
    ;;
  test)
    make -C build -j"$jobs" check || { cat build/test-suite.log; exit 1; }
    # the same suite again with AddressSanitizer and UndefinedBehaviorSanitizer
    configure_in build-san --enable-sanitizers
    make -C build-san -j"$jobs" check || { cat build-san/test-suite.log; exit 1; }
    echo "quickstart: all tests passed (plain and sanitizer builds)"
    ;;
esac
