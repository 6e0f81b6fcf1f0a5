#!/bin/bash
# toa-lab: UCloud UserData (cloud-init) for Debian 11 (bullseye), as the guide builds it
touch /etc/netplan/lo-cloud-init.yaml
echo -e "network:\n  version: 2\n  ethernets:\n    lo:\n      addresses:\n        - 192.0.2.100/32\n        - 192.0.2.101/32" > /etc/netplan/lo-cloud-init.yaml
netplan apply
