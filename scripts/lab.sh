#!/usr/bin/env bash
# toa-lab's one entry point on a fresh Debian machine (as root):
#   scripts/lab.sh run [toa-lab run options]   conformance run on the default offline lab, with a report
#   scripts/lab.sh test                        typecheck + unit tests + real-kernel VM tests
# Both first install what they need: Debian packages (QEMU, busybox, kernel headers,
# compilers) and npm packages. Built artefacts (kernels, initramfs, chroots) are cached
# under ${TOA_LAB_CACHE:-~/.cache/toa-lab}, keyed by a hash of their recipe.
set -euo pipefail
cd "$(dirname "$0")/.."

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  run|test) ;;
  *) echo "usage: scripts/lab.sh run [options] | scripts/lab.sh test" >&2; exit 2 ;;
esac

scripts/install-deps.sh

case "$command" in
  run) exec node bin/toa-lab.js run "$@" ;;
  test) exec npm test ;;
esac
