#!/bin/sh
# toa-lab: repositories for CentOS 8: the archive http://vault.centos.org/8.5.2111
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

mirror=http://vault.centos.org/8.5.2111
backup_once() {
  mkdir -p /var/lib/toa-lab/repositories
  [ -e "/var/lib/toa-lab/repositories/$(basename "$1")" ] || cp -p "$1" "/var/lib/toa-lab/repositories/"
}

for repo in /etc/yum.repos.d/*.repo; do
  [ -f "$repo" ] || continue
  grep -q '^#*baseurl=https*://[^/]*/[^/]*/[$]releasever/' "$repo" || continue
  backup_once "$repo"
  sed -i -e 's|^mirrorlist=|#mirrorlist=|' -e 's|^metalink=|#metalink=|' \
    -e 's|^#*baseurl=https*://[^/]*/[^/]*/[$]releasever/|baseurl='"$mirror"'/|' "$repo"
  echo "toa-lab: $repo now names $mirror"
done
grep -l -F "baseurl=$mirror/" /etc/yum.repos.d/*.repo >/dev/null 2>&1 ||
  die 4 "no repository in /etc/yum.repos.d has a baseurl of the form <scheme>://<host>/<dir>/\$releasever/ to point at $mirror"
