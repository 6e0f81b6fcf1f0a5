import { hex } from './arbitraries.ts';

/**
 * Frames a real Linux kernel put on the lab wire (Debian 6.1.0-56, the micro-VM's eth0,
 * 52:54:00:00:02:0a, 2001:db8::10), captured with the harness's frame tap on 2026-11-23 while
 * the harness's host (52:54:00:00:02:02, 2001:db8::2) talked to it. Known-good by construction:
 * the kernel computed every checksum and chose every field.
 */
export const KERNEL = {
  mac: '52:54:00:00:02:0a',
  ipv6: '2001:db8::10',
  /** The host these frames were sent to. */
  peerMac: '52:54:00:00:02:02',
  peerIpv6: '2001:db8::2',
} as const;

/** Solicited Neighbor Advertisement answering our NS for 2001:db8::10 (S and O set, target MAC option). */
export const KERNEL_NEIGHBOR_ADVERTISEMENT = hex(`
  525400000202 52540000020a 86dd
  60000000 0020 3a ff 20010db8000000000000000000000010 20010db8000000000000000000000002
  88 00 37f8 60000000 20010db8000000000000000000000010 02 01 52540000020a`);

/** SYN-ACK from [2001:db8::10]:81 to [2001:db8::2]:56835: flow label 0x67e9b, MSS 1440 (MTU 1500 − 60). */
export const KERNEL_IPV6_SYN_ACK = hex(`
  525400000202 52540000020a 86dd
  60067e9b 001c 06 40 20010db8000000000000000000000010 20010db8000000000000000000000002
  0051 de03 ca4c8b71 785b2566 70 12 fd20 59a4 0000 020405a0 01030306`);

/**
 * DAD probe for 2001:db8::2 — our address — when the guest was told to take it: source ::,
 * to the solicited-node group ff02::1:ff00:2 at 33:33:ff:00:00:02, with a Nonce option
 * (RFC 7527 enhanced DAD) and no source link-layer option.
 */
export const KERNEL_DAD_PROBE_FOR_OURS = hex(`
  3333ff000002 52540000020a 86dd
  60000000 0020 3a ff 00000000000000000000000000000000 ff0200000000000000000001ff000002
  87 00 6c8a 00000000 20010db8000000000000000000000002 0e 01 b92c0b800dab`);

/** DAD probe for the guest's own link-local address (33:33:ff:00:02:0a): not our business. */
export const KERNEL_DAD_PROBE_FOR_ITSELF = hex(`
  3333ff00020a 52540000020a 86dd
  60000000 0020 3a ff 00000000000000000000000000000000 ff0200000000000000000001ff00020a
  87 00 64b6 00000000 fe80000000000000505400fffe00020a 0e 01 90b9ce9256b3`);

/** MLDv2 report (hop-by-hop header first) to 33:33:00:00:00:16: noise a host must ignore. */
export const KERNEL_MLD_REPORT = hex(`
  333300000016 52540000020a 86dd
  60000000 0038 00 01 fe80000000000000505400fffe00020a ff020000000000000000000000000016
  3a00050200000100 8f00 1b77 0000 0002 04000000 ff0200000000000000000001ff000010 04000000 ff0200000000000000000001ff00020a`);

/** UDP echo from 192.0.2.10:5300 to 192.0.2.2:40000, payload "vector" (toa-backend --udp). */
export const KERNEL_UDP_IPV4 = hex(`
  525400000202 52540000020a 0800
  4500 0022 3ed2 4000 40 11 77ec c000020a c0000202
  14b4 9c40 000e 8184 766563746f72`);

/** The same over IPv6: [2001:db8::10]:5300 to [2001:db8::2]:40000. */
export const KERNEL_UDP_IPV6 = hex(`
  525400000202 52540000020a 86dd
  600138c8 000e 11 40 20010db8000000000000000000000010 20010db8000000000000000000000002
  14b4 9c40 000e aa0d 766563746f72`);
