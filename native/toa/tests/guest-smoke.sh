#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest-side smoke test of toa.ko, no network and no harness needed: a TUN
# device plays the balancer side (toa-tun-probe), toa-backend is the server.
# Works as /init of a busybox initramfs (then it mounts /proc etc. and powers
# off at the end) or as a plain root script in a guest.
#
# Needs in PATH: toa-backend, toa-tun-probe, busybox (ip, insmod, rmmod, grep).
# Env: TOA_KO (default /toa.ko), TUN_KO (default: modprobe tun, then
# /lib/modules/tun.ko).  Prints "SMOKE PASS" or "SMOKE FAIL (n)" at the end.
#
# Addresses: guest 192.0.2.10 / 2001:db8::10 on toa0; balancers 192.0.2.1,
# 2001:db8::1 (trusted), 192.0.2.77 and 2001:db8:ffff::1 (untrusted).

if [ $$ = 1 ]; then
	mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
fi
TOA_KO=${TOA_KO:-/toa.ko}
ip link set lo up
modprobe tun 2>/dev/null || insmod "${TUN_KO:-/lib/modules/tun.ko}" 2>/dev/null
mkdir -p /dev/net; [ -e /dev/net/tun ] || mknod /dev/net/tun c 10 200
LOG=/tmp/toa-smoke-access.log
rm -f $LOG
fails=0
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   - $d"; else echo "FAIL - $d"; fails=$((fails+1)); fi
}

echo "=== insmod"
insmod "$TOA_KO" toa_kinds=254,200 trusted_sources=192.0.2.0/28,2001:db8::/64
dmesg | grep TOA
check "dmesg shows TOA: toa loaded" sh -c 'dmesg | grep -q "TOA: toa loaded"'

toa-tun-probe create toa0
echo 0 > /proc/sys/net/ipv6/conf/toa0/accept_dad
ip link set toa0 up
ip addr add 192.0.2.10/24 dev toa0
ip -6 addr add 2001:db8::10/64 dev toa0
ip -6 route add 2001:db8:ffff::/48 dev toa0
toa-backend --port 80 --family 4 --log $LOG &
toa-backend --port 81 --family dual --log $LOG &
toa-backend --port 82 --family 4 --deferred --log $LOG &
sleep 1

echo "=== loopback, no TOA"
wget -q -O /dev/null http://127.0.0.1/ && echo "wget ok"

P="toa-tun-probe conn --dev toa0"
n=0
t() { # t EXPECTED_PEER probe-args...
	want=$1; shift
	n=$((n+1)); sp=$((41000+n))
	want=$(echo "$want" | sed "s/SPORT/$sp/")
	$P "$@" --sport $sp >/dev/null 2>/tmp/probe.err || { echo "probe failed: $(cat /tmp/probe.err)"; }
	sleep 0.2
	check "T$n $* -> peer=$want" grep -q "peer=$want accept=$want " $LOG
}
V4="--src 192.0.2.1 --dst 192.0.2.10"
V6="--src 2001:db8::1 --dst 2001:db8::10"
t 198.51.100.7:40001       $V4 --dport 80 --toa 198.51.100.7:40001 --where ack
t 203.0.113.9:5555         $V4 --dport 80 --toa 203.0.113.9:5555 --where data
t 192.0.2.1:SPORT          $V4 --dport 80 --toa 198.51.100.8:1 --where syn
t 192.0.2.1:SPORT          $V4 --dport 80 --toa 198.51.100.9:2 --where ack --kind 253
t 198.51.100.10:3          $V4 --dport 80 --toa 198.51.100.10:3 --where ack --kind 200
t 192.0.2.77:SPORT         --src 192.0.2.77 --dst 192.0.2.10 --dport 80 --toa 198.51.100.11:4 --where ack
t 192.0.2.1:SPORT          $V4 --dport 80 --raw fe09000c6464640a00 --where ack
t 100.100.100.12:5         $V4 --dport 80 --raw 0101fe0800056464640c --where ack
t 192.0.2.1:SPORT          $V4 --dport 80 --raw fe01fe0800066464640d --where ack
t 192.0.2.1:SPORT          $V4 --dport 80 --toa [2001:db8::7]:7 --where ack
t '\[::ffff:198.51.100.7\]:8'   $V4 --dport 81 --toa 198.51.100.7:8 --where ack
t '\[2001:db8:1::7\]:9'         $V6 --dport 81 --toa [2001:db8:1::7]:9 --where ack
t '\[::ffff:198.51.100.12\]:10' $V6 --dport 81 --toa 198.51.100.12:10 --where data
t '\[2001:db8:ffff::1\]:SPORT'  --src 2001:db8:ffff::1 --dst 2001:db8::10 --dport 81 --toa [2001:db8:1::8]:11 --where ack
t 198.51.100.13:12         $V4 --dport 82 --toa 198.51.100.13:12 --where data
t 192.0.2.1:SPORT          $V4 --dport 82 --toa 198.51.100.14:13 --where ack

echo "=== stats"
cat /proc/net/toa_stats
for c in "syn_recv_sock_toa 9" "toa_untrusted_source 2" "toa_kind_ignored 1" "toa_malformed 2" \
	 "toa_af_unsupported 1" "getname_toa_mismatch 0" "entries 0" "probe_missed 0"; do
	set -- $c
	check "toa_stats $1 = $2" sh -c "grep -Eq '^$1 +$2\$' /proc/net/toa_stats"
done

echo "=== rmmod with a TOA connection open; getpeername after unload"
$P $V4 --dport 80 --toa 198.51.100.99:99 --where ack --sport 49999 --hold 4000 --path /peer \
	> /tmp/held.out 2>&1 &
W=$!
sleep 2
check "one entry while the connection is open" sh -c "grep -Eq '^entries +1\$' /proc/net/toa_stats"
rmmod toa && echo "rmmod ok"
wait $W
echo "held connection: exit=$? getpeername-after-unload=$(cat /tmp/held.out)"
check "accept-time peer was the TOA client" grep -q "peer=198.51.100.99:99 accept=198.51.100.99:99 " $LOG
check "after unload getpeername is the real peer" grep -qx "192.0.2.1:49999" /tmp/held.out
check "dmesg shows TOA: toa unloaded" sh -c 'dmesg | grep -q "TOA: toa unloaded"'
check "no oops/BUG/WARNING in dmesg" sh -c '! dmesg | grep -Eq "Oops|BUG|WARNING|Call Trace|general protection"'

echo "=== access log"; cat $LOG
echo "=== dmesg TOA"; dmesg | grep -E "TOA|Oops|BUG|WARNING|Call Trace"
if [ $fails = 0 ]; then echo "SMOKE PASS"; else echo "SMOKE FAIL ($fails)"; fi
if [ $$ = 1 ]; then poweroff -f; fi
