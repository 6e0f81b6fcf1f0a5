import { setTimeout as sleep } from 'node:timers/promises';
import { normalizeIpAddress } from '../codec/address.ts';
import { ArpOperation, type ArpPacket } from '../codec/arp.ts';
import type { MacAddress } from '../codec/mac.ts';
import type { NetworkHost } from '../stack/network-host.ts';

/** One ARP packet naming the VIP as its sender, as seen on the wire. */
export interface VipArpSighting {
  operation: 'request' | 'reply';
  senderMac: MacAddress;
  senderIp: string;
  targetIp: string;
  /** Milliseconds after the probe started. */
  atMs: number;
}

export interface VipArpProbeResult {
  vip: string;
  /** Somebody answered "who has VIP": in DSR, a backend that would steal the VIP's traffic. */
  answered: boolean;
  /** Replies to our requests (the evidence for `answered`). */
  replies: VipArpSighting[];
  /**
   * Requests the guest sent with the VIP as sender address while we listened — what
   * arp_announce=2 prevents (the guest then announces its own eth0 address instead).
   */
  announcements: VipArpSighting[];
  requestsSent: number;
  listenedMs: number;
}

export interface VipArpProbeOptions {
  /** Requests sent, `intervalMs` apart (default 3: one lost frame must not make a false "silent"). */
  requests?: number;
  intervalMs?: number;
  /** How long to listen in all, from the first request (default 1500 ms: TCG guests can be slow). */
  listenMs?: number;
  /** Sender address of the requests (default the host's first IPv4 address). */
  fromAddress?: string;
}

/**
 * Does anything on the segment answer ARP for the VIP? In DSR the VIP lives on every backend's
 * loopback; if a backend answers ARP for it, the segment's router may send all VIP traffic
 * straight to that backend, around the balancer. arp_ignore=1 (answer only for addresses on
 * the receiving interface) and arp_announce=2 silence it. The scenario reports an answer as a
 * warning, with these sightings as evidence.
 *
 * Asks with broadcast who-has requests and collects, for a bounded time, every ARP packet whose
 * sender is the VIP. Note the host learns the VIP's MAC from any reply, as it learns from all
 * ARP; DSR never resolves the VIP, so that does not change where DSR frames go.
 */
export async function probeVipArp(host: NetworkHost, vip: string, options: VipArpProbeOptions = {}): Promise<VipArpProbeResult> {
  const address = normalizeIpAddress(vip);
  const requests = options.requests ?? 3;
  const intervalMs = options.intervalMs ?? 300;
  const listenMs = Math.max(options.listenMs ?? 1500, (requests - 1) * intervalMs);
  const started = Date.now();
  const replies: VipArpSighting[] = [];
  const announcements: VipArpSighting[] = [];
  const stop = host.observeArp((packet: ArpPacket) => {
    if (packet.senderIp !== address) return;
    const sighting: VipArpSighting = {
      operation: packet.operation === ArpOperation.reply ? 'reply' : 'request',
      senderMac: packet.senderMac,
      senderIp: packet.senderIp,
      targetIp: packet.targetIp,
      atMs: Date.now() - started,
    };
    if (packet.operation === ArpOperation.reply) replies.push(sighting);
    else if (packet.operation === ArpOperation.request) announcements.push(sighting);
  });
  let requestsSent = 0;
  try {
    for (let i = 0; i < requests; i++) {
      if (i > 0) await sleep(intervalMs);
      host.sendArpRequest(address, options.fromAddress);
      requestsSent++;
    }
    const remaining = listenMs - (Date.now() - started);
    if (remaining > 0) await sleep(remaining);
  } finally {
    stop();
  }
  return { vip: address, answered: replies.length > 0, replies, announcements, requestsSent, listenedMs: Date.now() - started };
}
