#!/bin/sh
# toa-lab: backend on Rocky Linux 8.5: nginx on port 8080, access_log /var/log/toa-lab/nginx-access.log combined
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

# Package manager: dnf.
pkg_installed() {
  rpm -q "$1" >/dev/null 2>&1
}
pkg_refresh() {
  :
}
# Once per script, and not fatal: cached lists may still do.
pkg_refreshed=no
pkg_refresh_once() {
  [ "$pkg_refreshed" = yes ] && return 0
  pkg_refreshed=yes
  pkg_refresh || echo "toa-lab: refreshing the package lists failed; using the cached ones" >&2
}
pkg_available() {
  timeout 300 dnf -q -y list --available "$1" >/dev/null
}
pkg_install() {
  timeout 1800 dnf -y install "$@"
}
if ! pkg_installed nginx; then
  pkg_refresh_once
  pkg_install nginx || die 1 "cannot install nginx (the nginx backend)"
fi
listening() {
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" && $2 ~ /:1F90$/ { found = 1 } END { exit !found }'
}
mkdir -p /var/log/toa-lab
mkdir -p /etc/nginx/conf.d
cat > /etc/nginx/conf.d/toa-lab-backend.conf <<'TOA_LAB_EOF'
server {
    listen 8080 default_server;
    server_name _;
    access_log /var/log/toa-lab/nginx-access.log combined;
    location / {
        return 200 "toa-lab backend\n";
    }
}
TOA_LAB_EOF
chmod 0644 /etc/nginx/conf.d/toa-lab-backend.conf
rm -f /etc/nginx/sites-enabled/default
nginx -t || die 1 "nginx rejects its configuration"
systemctl restart nginx || die 1 "systemctl restart nginx failed"
waited=0
until listening; do
  [ "$waited" -lt 30 ] || die 1 "nothing listens on TCP port 8080 after 30 s"
  sleep 1
  waited=$((waited + 1))
done
echo "toa-lab: nginx listens on port 8080, log /var/log/toa-lab/nginx-access.log"
