#!/bin/bash
# toa-lab: UCloud UserData (cloud-init) for CentOS 8, as the guide builds it
yum install network-scripts -y
touch /etc/sysconfig/network-scripts/ifcfg-lo:1
echo -e "DEVICE=lo:1\nIPADDR=192.0.2.100\nNETMASK=255.255.255.255" > /etc/sysconfig/network-scripts/ifcfg-lo:1
ifup lo:1
touch /etc/sysconfig/network-scripts/ifcfg-lo:2
echo -e "DEVICE=lo:2\nIPADDR=192.0.2.101\nNETMASK=255.255.255.255" > /etc/sysconfig/network-scripts/ifcfg-lo:2
ifup lo:2
