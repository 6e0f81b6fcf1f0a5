#!/bin/sh
# toa-lab: repositories for SUSE Linux Enterprise Server 11 SP3: the mirror http://mirror.example/repo
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
backup_once() {
  mkdir -p /var/lib/toa-lab/repositories
  [ -e "/var/lib/toa-lab/repositories/$(basename "$1")" ] || cp -p "$1" "/var/lib/toa-lab/repositories/"
}

for repo in /etc/zypp/repos.d/*.repo; do
  [ -f "$repo" ] || continue
  grep -q '^baseurl=https*://' "$repo" || continue
  backup_once "$repo"
  # Lines already on the mirror stay as they are: a second run changes nothing.
  sed -i -e '\|^baseurl='"$mirror"'/|!s|^baseurl=https*://[^/]*/|baseurl='"$mirror"'/|' "$repo"
  echo "toa-lab: $repo now names $mirror"
done
grep -l -F "baseurl=$mirror/" /etc/zypp/repos.d/*.repo >/dev/null 2>&1 ||
  die 4 "no repository in /etc/zypp/repos.d has a baseurl=http(s)://… to point at $mirror"
