#!/bin/sh
# toa-lab: backend on Debian 8.2: python -m SimpleHTTPServer 80
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

# Package manager: apt.
pkg_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}
pkg_refresh() {
  timeout 300 apt-get -o Acquire::Retries=0 -q update
}
# Once per script, and not fatal: cached lists may still do.
pkg_refreshed=no
pkg_refresh_once() {
  [ "$pkg_refreshed" = yes ] && return 0
  pkg_refreshed=yes
  pkg_refresh || echo "toa-lab: refreshing the package lists failed; using the cached ones" >&2
}
pkg_available() {
  apt-cache show --no-all-versions "$1" >/dev/null
}
pkg_install() {
  DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get -o Acquire::Retries=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y -q install "$@"
}
command -v python >/dev/null 2>&1 || {
  if ! pkg_installed python; then
    pkg_refresh_once
    pkg_install python || die 1 "cannot install python (the backend runs 'python -m SimpleHTTPServer 80')"
  fi
}
listening() {
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" && $2 ~ /:0050$/ { found = 1 } END { exit !found }'
}
if listening; then
  die 4 "something already listens on TCP port 80"
fi
mkdir -p /var/log/toa-lab /srv/toa-lab-www
cd /srv/toa-lab-www
PYTHONUNBUFFERED=1 nohup python -m SimpleHTTPServer 80 >>/var/log/toa-lab/backend-access.log 2>&1 </dev/null &
pid=$!
echo "$pid" > /var/run/toa-lab-backend-80.pid
waited=0
until listening; do
  kill -0 "$pid" 2>/dev/null || {
    tail -n 20 /var/log/toa-lab/backend-access.log >&2
    die 1 "'python -m SimpleHTTPServer 80' exited (log above)"
  }
  [ "$waited" -lt 30 ] || die 1 "nothing listens on TCP port 80 after 30 s"
  sleep 1
  waited=$((waited + 1))
done
echo "toa-lab: 'python -m SimpleHTTPServer 80' (pid $pid) listens on port 80, log /var/log/toa-lab/backend-access.log"
