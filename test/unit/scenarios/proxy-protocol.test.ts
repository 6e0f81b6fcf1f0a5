import { afterEach, describe, expect, it } from 'vitest';
import { isIP } from 'node:net';
import type { Check } from '../../../harness/core/scenario.ts';
import { parseProxyBackendLog } from '../../../harness/checks/proxy-backend-log.ts';
import type { DataPathLab, LabBalancerOptions } from '../../../harness/lab/data-path-lab.ts';
import type { ProxyBackend, ProxyProtocolBackends } from '../../../harness/guest/proxy-backends.ts';
import { FullNatBalancer } from '../../../harness/net/balancer/fullnat.ts';
import { NetworkHost } from '../../../harness/net/stack/network-host.ts';
import type { TcpSocket } from '../../../harness/net/stack/tcp-socket.ts';
import { createMemoryWirePair } from '../../../harness/net/wire/memory-wire.ts';
import { proxyProtocolV1, proxyProtocolV2 } from '../../../scenarios/proxy-protocol.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';
import { FAST_ARP, FAST_TIMERS, SERVER_IP, SERVER_MAC } from '../net/helpers/lab-pair.ts';

/**
 * The scenarios' verdicts against a stand-in backend on the userspace stack, which reads the
 * PROXY header with its own small decoder (written here from the spec, independent of the
 * harness's encoder) and logs in the real backends' format. A correct backend passes; one that
 * believes every source, or that serves a broken header, fails the check about it.
 */
interface Behaviour {
  /** Believe the header whoever sent it (HAProxy's accept-proxy without a source rule). */
  trustEveryone?: boolean;
  /** Serve a request behind a header it cannot parse, taking whatever address a v1 line names (HAProxy 2.6 with `198.51.100.300`). */
  misreadBroken?: boolean;
}

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

type Header =
  | { kind: 'proxy'; address: string; port: number; authority?: string; uniqueId?: string }
  | { kind: 'local' }
  | { kind: 'broken'; reason: string; claimed?: string }
  | { kind: 'incomplete' };

function decodeHeader(bytes: Buffer): { header: Header; used: number } {
  if (bytes.subarray(0, Math.min(12, bytes.length)).equals(V2_SIGNATURE.subarray(0, Math.min(12, bytes.length)))) {
    if (bytes.length < 16) return { header: { kind: 'incomplete' }, used: 0 };
    const length = bytes.readUInt16BE(14);
    if (bytes.length < 16 + length) return { header: { kind: 'incomplete' }, used: 0 };
    const used = 16 + length;
    if (bytes[12]! >> 4 !== 2) return { header: { kind: 'broken', reason: 'version' }, used };
    if ((bytes[12]! & 0xf) === 0) return { header: { kind: 'local' }, used };
    const block = bytes.subarray(16, used);
    const family = bytes[13]! >> 4;
    const size = family === 1 ? 4 : family === 2 ? 16 : 0;
    if (!size || block.length < 2 * size + 4) return { header: { kind: 'broken', reason: 'short address block' }, used };
    const raw = block.subarray(0, size);
    const address = size === 4 ? [...raw].join('.') : (raw.toString('hex').match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16)).join(':'));
    const header: Header = { kind: 'proxy', address, port: block.readUInt16BE(2 * size) };
    for (let at = 2 * size + 4; at + 3 <= block.length; ) {
      const type = block[at]!;
      const value = block.subarray(at + 3, at + 3 + block.readUInt16BE(at + 1));
      if (type === 0x02) header.authority = value.toString();
      if (type === 0x05) header.uniqueId = value.toString('hex');
      at += 3 + value.length;
    }
    return { header, used };
  }
  const end = bytes.indexOf('\r\n');
  if (end < 0) return { header: bytes.length > 107 ? { kind: 'broken', reason: 'no CRLF' } : { kind: 'incomplete' }, used: 0 };
  const line = bytes.subarray(0, end).toString('latin1');
  const used = end + 2;
  if (line === 'PROXY UNKNOWN') return { header: { kind: 'local' }, used };
  const match = /^PROXY TCP([46]) (\S+) (\S+) (\d+) (\d+)$/.exec(line);
  if (!match || isIP(match[2]!) !== Number(match[1]) || isIP(match[3]!) !== Number(match[1])) {
    const claimed = /^PROXY \S+ (\S+) /.exec(line)?.[1];
    return { header: { kind: 'broken', reason: line, ...(claimed && { claimed }) }, used };
  }
  return { header: { kind: 'proxy', address: match[2]!, port: Number(match[4]) }, used };
}

class StandInBackend {
  log = '';
  constructor(
    host: NetworkHost,
    readonly port: number,
    private readonly behaviour: Behaviour,
  ) {
    host.listen({ port }, (socket) => this.serve(socket));
  }

  private serve(socket: TcpSocket): void {
    socket.on('error', () => {});
    let bytes = Buffer.alloc(0);
    let header: Header | undefined;
    const refuse = (reason: string): void => {
      this.log += `toa-lab-proxy-error backend=haproxy remote=${socket.remoteAddress} remote_port=${socket.remotePort} error="${reason}"\n`;
      socket.destroy();
    };
    socket.on('end', () => {
      if (header === undefined) refuse('connection closed in the header');
    });
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (header === undefined) {
        const decoded = decodeHeader(bytes);
        if (decoded.header.kind === 'incomplete') return;
        header = decoded.header;
        bytes = bytes.subarray(decoded.used);
        if (header.kind === 'broken' && !this.behaviour.misreadBroken) return refuse(`bad header: ${header.reason}`);
      }
      const end = bytes.indexOf('\r\n\r\n');
      if (end < 0) return;
      const uri = bytes.toString('latin1').split(' ')[1] ?? '-';
      const believed = header.kind === 'proxy' && (this.behaviour.trustEveryone || socket.remoteAddress === '192.0.2.2');
      const [remote, port] =
        believed && header.kind === 'proxy'
          ? [header.address, header.port]
          : header.kind === 'broken' && header.claimed
            ? [header.claimed, 1]
            : [socket.remoteAddress, socket.remotePort];
      const tlvs = header.kind === 'proxy' ? `authority=${header.authority ?? '-'} unique_id=${header.uniqueId ?? '-'}` : 'authority=- unique_id=-';
      this.log += `toa-lab-proxy backend=haproxy remote=${remote} remote_port=${port} status=200 uri=${uri} ${tlvs}\n`;
      socket.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  }

  asProxyBackend(): ProxyBackend {
    return {
      kind: 'haproxy',
      label: `stand-in :${this.port}`,
      port: this.port,
      clearLogs: async () => void (this.log = ''),
      readLog: async () => ({ ...parseProxyBackendLog(this.log), raw: this.log }),
    };
  }
}

interface StandInLab {
  lab: DataPathLab;
  close(): void;
}

function standInLab(behaviour: Behaviour): StandInLab {
  const [balancerWire, backendWire] = createMemoryWirePair();
  const host = new NetworkHost({ wire: balancerWire, mac: '52:54:00:00:02:02', addresses: ['192.0.2.2', '192.0.2.66'], tcp: FAST_TIMERS, arp: FAST_ARP });
  const guest = new NetworkHost({ wire: backendWire, mac: SERVER_MAC, addresses: [SERVER_IP], tcp: FAST_TIMERS, arp: FAST_ARP });
  const backend = new StandInBackend(guest, 8082, behaviour);
  const proxyBackends = { available: ['haproxy'], start: async () => [backend.asProxyBackend()] } as unknown as ProxyProtocolBackends;
  const lab = {
    proxyBackends,
    startBalancer: (options: LabBalancerOptions) =>
      FullNatBalancer.start({
        host,
        backend: { address: SERVER_IP, port: options.backendPort ?? 80 },
        toa: options.toa,
        tcp: FAST_TIMERS,
        ...(options.address && { address: options.address }),
        ...(options.chooseClient && { chooseClient: options.chooseClient }),
        ...(options.proxyProtocol && { proxyProtocol: options.proxyProtocol }),
      }),
  } as unknown as DataPathLab;
  return {
    lab,
    close: () => {
      host.close();
      guest.close();
    },
  };
}

const failed = (checks: readonly Check[]): string[] => checks.filter((c) => !c.passed && !c.informational).map((c) => c.name);

describe('proxy-protocol scenarios against a stand-in backend', () => {
  let current: StandInLab | undefined;
  afterEach(() => current?.close());

  it('a backend that reads the header right, trusts only the balancer and refuses broken headers passes v1 and v2', async () => {
    current = standInLab({});
    for (const scenario of [proxyProtocolV1, proxyProtocolV2]) {
      const checks = await scenario.run(current.lab);
      expect(failed(checks), scenario.id).toEqual([]);
      expect(checks.filter((c) => !c.informational).length).toBeGreaterThanOrEqual(6);
    }
  });

  it('a backend that believes every source fails the spoofing check, and only it', async () => {
    current = standInLab({ trustEveryone: true });
    const checks = await proxyProtocolV2.run(current.lab);
    expect(failed(checks)).toEqual(['stand-in :8082, v2: a header from 192.0.2.66 (not 192.0.2.2/32) is not believed']);
    expect(checks.find((c) => c.name.includes('not believed'))!.observed).toMatch(/^SPOOF BELIEVED: 2 line/);
  });

  it('a backend that serves broken headers with the address they name fails those, and reports them served', async () => {
    current = standInLab({ misreadBroken: true });
    const checks = await proxyProtocolV1.run(current.lab);
    expect(failed(checks)).toEqual([
      "stand-in :8082, v1: broken header 'bad-protocol': never logged with an address from it",
      "stand-in :8082, v1: broken header 'bad-address': never logged with an address from it",
    ]);
    expect(checks.find((c) => c.name.endsWith("'bad-address': never logged with an address from it"))!.observed).toBe(
      'LOGGED AS 198.51.100.300, an address from a header that must be rejected',
    );
    const served = checks.find((c) => c.name.endsWith('broken headers are refused rather than served'))!;
    expect(served).toMatchObject({ informational: true, passed: false, observed: 'served: bad-protocol, bad-address' });
  });

  it('say plainly they do not apply where the guest has no nginx or HAProxy (a micro-VM)', () => {
    const microVm = {} as DataPathLab;
    expect(proxyProtocolV1.notApplicable!(microVm)).toMatch(/^not applicable: needs nginx or HAProxy/);
    expect(proxyProtocolV2.mechanism).toBe('proxy-v2');
    expect(SCENARIOS.filter((s) => s.mechanism === 'proxy-v1' || s.mechanism === 'proxy-v2').map((s) => s.id)).toEqual(['proxy-protocol-v1', 'proxy-protocol-v2']);
  });
});
