#!/bin/bash
# toa-lab: UCloud UserData (cloud-init) for Debian 13 (trixie), as the guide builds it
touch /etc/network/interfaces.d/lo-cloud-init
echo -e "auto lo:1\niface lo:1 inet static\naddress 192.0.2.100\nnetmask 255.255.255.255\n\nauto lo:2\niface lo:2 inet static\naddress 192.0.2.101\nnetmask 255.255.255.255" > /etc/network/interfaces.d/lo-cloud-init
/etc/init.d/networking restart
