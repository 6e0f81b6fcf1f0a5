#!/bin/sh
# toa-lab: repositories for Debian 10: the mirror http://mirror.example/repo
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
security=http://mirror.example/repo-security
backup_once() {
  mkdir -p /var/lib/toa-lab/repositories
  [ -e "/var/lib/toa-lab/repositories/$(basename "$1")" ] || cp -p "$1" "/var/lib/toa-lab/repositories/"
}

# One-line form: deb [options] URI SUITE COMPONENT...
rewrite_list() {
  awk -v main="$mirror" -v security="$security" '
    /^[ \t]*deb(-src)?[ \t]/ {
      i = 2
      if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
      $i = ($(i + 1) ~ /(-security|\/updates)$/) ? security : main
      changed++
    }
    { print }
    END { exit changed == 0 }' "$1" > "$1.toa-lab-new" || { rm -f "$1.toa-lab-new"; return 1; }
  cat "$1.toa-lab-new" > "$1"
  rm -f "$1.toa-lab-new"
}
# deb822 form: stanzas of Types/URIs/Suites/Components; URIs follows the stanza's first suite.
rewrite_sources() {
  awk -v main="$mirror" -v security="$security" '
    function flush(   j, s) {
      split(suites, s, " ")
      for (j = 1; j <= n; j++) {
        if (lines[j] ~ /^URIs:/) { lines[j] = "URIs: " ((s[1] ~ /(-security|\/updates)$/) ? security : main); changed++ }
        print lines[j]
      }
      n = 0
      suites = ""
    }
    /^[ \t]*$/ { flush(); print; next }
    { lines[++n] = $0 }
    /^Suites:/ { suites = substr($0, 8) }
    END { flush(); exit changed == 0 }' "$1" > "$1.toa-lab-new" || { rm -f "$1.toa-lab-new"; return 1; }
  cat "$1.toa-lab-new" > "$1"
  rm -f "$1.toa-lab-new"
}

rewritten=0
for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$list" ] || continue
  backup_once "$list"
  if rewrite_list "$list"; then rewritten=$((rewritten + 1)); echo "toa-lab: $list now names $mirror"; fi
done
for sources in /etc/apt/sources.list.d/*.sources; do
  [ -f "$sources" ] || continue
  backup_once "$sources"
  if rewrite_sources "$sources"; then rewritten=$((rewritten + 1)); echo "toa-lab: $sources now names $mirror"; fi
done
[ "$rewritten" -gt 0 ] || die 4 "no apt source entry in /etc/apt/sources.list or /etc/apt/sources.list.d to point at $mirror"
rm -f /etc/apt/apt.conf.d/90toa-lab-archive
