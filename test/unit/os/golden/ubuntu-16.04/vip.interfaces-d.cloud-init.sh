#!/bin/bash
# toa-lab: UCloud UserData (cloud-init) for Ubuntu 16.04.3, as the guide builds it
sudo touch /etc/network/interfaces.d/lo-cloud-init.cfg
# shellcheck disable=SC2024 # the guide's line; UserData runs as root, so sudo changes nothing
sudo echo -e "auto lo:1\niface lo:1 inet static\naddress 192.0.2.100\nnetmask 255.255.255.255\n\nauto lo:2\niface lo:2 inet static\naddress 192.0.2.101\nnetmask 255.255.255.255" > /etc/network/interfaces.d/lo-cloud-init.cfg
sudo /etc/init.d/networking restart
