#!/bin/sh
# toa-lab: the last touches on a Debian full-OS image, run by mmdebstrap's
# customize hook as `customize.sh ROOTFS IMAGE_NAME` after every package is
# installed and images/debian-base/rootfs/ was copied in.
set -eu
root=$1
name=$2

echo "$name" > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" > "$root/etc/hosts"

# No key of any kind in the image: host keys are made per clone at first boot,
# the harness's key comes per run through fw_cfg.
rm -f "$root"/etc/ssh/ssh_host_*
rm -rf "$root/root/.ssh"
# Each clone gets its own machine-id at first boot.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

chroot "$root" systemctl enable toa-lab-authorized-keys.service
chroot "$root" systemctl enable ssh.service networking.service
# Boot-time speedups measured in LAB-NOTES: nothing runs that the lab does not need.
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer dpkg-db-backup.timer man-db.timer
# ifupdown owns the NICs (and network-online.target, through ifupdown-wait-online).
# netplan, used by the Ubuntu rows' VIP method, enables systemd-networkd for lo only;
# networkd's wait-online then waits for a link it will never manage, stalling every
# unit that wants network-online.target (nginx) for its 2-minute timeout.
chroot "$root" systemctl mask systemd-networkd-wait-online.service
# The backend step starts nginx itself (on its own port, with its own access log).
chroot "$root" systemctl disable nginx.service
# Root logs in with a key only; a locked password is fine.
chroot "$root" passwd -l root >/dev/null

# The packages' .debs were copied out for the next build already.
rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
rm -rf "$root"/var/lib/apt/lists/*_Packages "$root"/var/lib/apt/lists/*_InRelease
