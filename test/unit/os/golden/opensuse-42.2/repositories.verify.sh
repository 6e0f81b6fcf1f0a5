#!/bin/sh
# toa-lab: verify repositories for openSUSE Leap 42.2
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

mirror=http://ftp5.gwdg.de/pub/opensuse/discontinued
grep -l -F "baseurl=$mirror/" /etc/zypp/repos.d/*.repo >/dev/null 2>&1 || die 1 "no repository in /etc/zypp/repos.d names $mirror"
