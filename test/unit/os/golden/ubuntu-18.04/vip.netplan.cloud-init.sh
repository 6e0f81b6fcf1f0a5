#!/bin/bash
# toa-lab: UCloud UserData (cloud-init) for Ubuntu 18.04, as the guide builds it
sudo touch /etc/netplan/lo-cloud-init.yaml
# shellcheck disable=SC2024 # the guide's line; UserData runs as root, so sudo changes nothing
sudo echo -e "network:\n  version: 2\n  ethernets:\n    lo:\n      addresses:\n        - 192.0.2.100/32\n        - 192.0.2.101/32" > /etc/netplan/lo-cloud-init.yaml
sudo netplan apply
