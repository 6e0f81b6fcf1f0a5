#!/bin/sh
# toa-lab: build toa.ko for CentOS 7.2
# Rendered by harness/os; run as root. Exit codes: 1 failure,
# 3 no kernel development package, 4 precondition not met.
set -eu
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH

die() {
  code=$1
  shift
  echo "toa-lab: $*" >&2
  exit "$code"
}

src=/root/toa
[ -d "$src" ] || die 4 "TOA source not found in $src: push it there first"
if [ -f "$src/Makefile" ]; then
  build_dir=$src
elif [ -f "$src/src/Makefile" ]; then
  build_dir=$src/src
else
  die 4 "no Makefile in $src or $src/src"
fi
log="$src/toa-lab-build.log"
if ! make -C "$build_dir" >"$log" 2>&1; then
  cat "$log" >&2
  if grep -q 'not supported by the compiler' "$log"; then
    die 1 "make failed: gcc is older than this kernel's configuration needs (the guide: upgrade gcc)"
  fi
  die 1 "make -C $build_dir failed (output above, log in $log)"
fi
cat "$log"
[ -f "$build_dir/toa.ko" ] || die 1 "make succeeded but generated no toa.ko in $build_dir"
# Every later step (load, autoload) names one path, like the guide's /root/toa/toa.ko.
[ "$build_dir" = "$src" ] || cp "$build_dir/toa.ko" /root/toa/toa.ko
release=$(uname -r)
vermagic=$(modinfo -F vermagic /root/toa/toa.ko)
case "$vermagic" in
  "$release "*) ;;
  *) die 1 "/root/toa/toa.ko was built for ${vermagic%% *}, not for the running kernel $release" ;;
esac
echo "toa-lab: built /root/toa/toa.ko for $release"
