#!/bin/sh
# toa-lab: verify repositories for CentOS 7.2
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

mirror=http://mirror.example/repo
grep -l -F "baseurl=$mirror/" /etc/yum.repos.d/*.repo >/dev/null 2>&1 || die 1 "no repository in /etc/yum.repos.d names $mirror"
