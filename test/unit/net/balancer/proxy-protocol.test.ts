import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { once } from 'node:events';
import { FullNatBalancer, type FullNatConnectionRecord } from '../../../../harness/net/balancer/fullnat.ts';
import { checkProxySettings, proxyHeaderFor, type ProxyHeaderForm } from '../../../../harness/net/balancer/proxy-protocol-policy.ts';
import { PP2_TYPE } from '../../../../harness/net/codec/proxy-header.ts';
import { NetworkHost } from '../../../../harness/net/stack/network-host.ts';
import type { TcpSocket } from '../../../../harness/net/stack/tcp-socket.ts';
import { createMemoryWirePair } from '../../../../harness/net/wire/memory-wire.ts';
import { FAST_ARP, FAST_TIMERS, SERVER_IP, SERVER_MAC } from '../helpers/lab-pair.ts';

const CLIENT = { address: '198.51.100.7', port: 40001 };
const CLIENT6 = { address: '2001:db8:1::7', port: 40002 };
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('PROXY header forms', () => {
  it('valid: the spec header naming the client, to the VIP of its family at the backend port', () => {
    expect(text(proxyHeaderFor({ version: 1 }, CLIENT, 0, 8081).bytes)).toBe('PROXY TCP4 198.51.100.7 192.0.2.100 40001 8081\r\n');
    expect(text(proxyHeaderFor({ version: 1 }, CLIENT6, 0, 8081).bytes)).toBe('PROXY TCP6 2001:db8:1::7 2001:db8::100 40002 8081\r\n');
    const v2 = proxyHeaderFor({ version: 2, tlvs: (c, i) => [{ type: PP2_TYPE.UNIQUE_ID, value: Buffer.from(`${c.port}-${i}`) }] }, CLIENT, 3, 80);
    expect(v2.endAfterHeader).toBe(false);
    expect(text(v2.bytes.subarray(28 + 3))).toBe('40001-3');
  });

  it('local: PROXY UNKNOWN and the v2 LOCAL command', () => {
    expect(text(proxyHeaderFor({ version: 1, form: 'local' }, CLIENT, 0, 80).bytes)).toBe('PROXY UNKNOWN\r\n');
    expect(proxyHeaderFor({ version: 2, form: 'local' }, CLIENT, 0, 80).bytes[12]).toBe(0x20);
  });

  it('v1 broken forms: an unknown protocol, an octet over 255', () => {
    expect(text(proxyHeaderFor({ version: 1, form: 'bad-protocol' }, CLIENT, 0, 80).bytes)).toBe('PROXY TCP5 198.51.100.7 192.0.2.100 40001 80\r\n');
    expect(text(proxyHeaderFor({ version: 1, form: 'bad-address' }, CLIENT6, 0, 80).bytes)).toBe('PROXY TCP4 198.51.100.300 192.0.2.100 40002 80\r\n');
  });

  it('v2 broken forms: version nibble 3; INET announcing and carrying 8 address bytes', () => {
    const badVersion = proxyHeaderFor({ version: 2, form: 'bad-version' }, CLIENT, 0, 80).bytes;
    expect(badVersion[12]).toBe(0x31);
    const short = proxyHeaderFor({ version: 2, form: 'short-addresses' }, CLIENT6, 0, 80).bytes;
    expect(Buffer.from(short.subarray(12)).toString('hex')).toBe('21110008' + 'c6336401' + 'c0000264') // 198.51.100.1, 192.0.2.100: an IPv6 client's lie in IPv4 form;
  });

  it('truncated: the first half of the valid header, then the connection ends', () => {
    for (const version of [1, 2] as const) {
      const whole = proxyHeaderFor({ version }, CLIENT, 0, 80).bytes;
      const cut = proxyHeaderFor({ version, form: 'truncated' }, CLIENT, 0, 80);
      expect(cut.endAfterHeader).toBe(true);
      expect(text(cut.bytes)).toBe(text(whole.subarray(0, Math.floor(whole.length / 2))));
    }
  });

  it('refuses a form the version does not have, v1 TLVs and an unknown version', () => {
    expect(() => checkProxySettings({ version: 1, form: 'bad-version' })).toThrow(/v1 has no 'bad-version' form/);
    expect(() => checkProxySettings({ version: 2, form: 'bad-protocol' as ProxyHeaderForm })).toThrow(/v2 has no/);
    expect(() => checkProxySettings({ version: 1, tlvs: [] })).toThrow(/v1 has no TLVs/);
    expect(() => checkProxySettings({ version: 3 as 1 })).toThrow(/must be 1 or 2/);
  });
});

/** A userspace backend that keeps every byte each connection sent, and answers once it has a request's end. */
class RawBackend {
  readonly host: NetworkHost;
  readonly received: Array<Promise<Buffer>> = [];
  constructor(wire: ConstructorParameters<typeof NetworkHost>[0]['wire']) {
    this.host = new NetworkHost({ wire, mac: SERVER_MAC, addresses: [SERVER_IP], tcp: FAST_TIMERS, arp: FAST_ARP });
    this.host.listen({ port: 80 }, (socket) => this.received.push(this.serve(socket)));
  }
  private serve(socket: TcpSocket): Promise<Buffer> {
    socket.on('error', () => {});
    const chunks: Buffer[] = [];
    return new Promise((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (/GET [^\r]*\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) socket.end('HTTP/1.0 200 OK\r\n\r\nok');
      });
      socket.on('end', () => {
        socket.end();
        resolve(Buffer.concat(chunks));
      });
    });
  }
}

function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on('error', reject);
    socket.end(request);
  });
}

describe('FULLNAT balancer in PROXY protocol mode', () => {
  let balancer: FullNatBalancer | undefined;
  let backend: RawBackend | undefined;
  afterEach(async () => {
    await balancer?.close();
    backend?.host.close();
  });

  async function start(proxyProtocol: Parameters<typeof FullNatBalancer.start>[0]['proxyProtocol']): Promise<FullNatBalancer> {
    const [balancerWire, backendWire] = createMemoryWirePair();
    backend = new RawBackend(backendWire);
    balancer = await FullNatBalancer.start({ wire: balancerWire, tcp: FAST_TIMERS, arp: FAST_ARP, toa: false, proxyProtocol, chooseClient: () => CLIENT });
    return balancer;
  }

  it("puts the header before the client's first byte, and records what it said", async () => {
    const lb = await start({ version: 1 });
    const closed = once(lb, 'connection-closed');
    expect(await exchange(lb.port, 'GET /?conn=0 HTTP/1.0\r\n\r\n')).toBe('HTTP/1.0 200 OK\r\n\r\nok');
    expect((await backend!.received[0]!).toString('latin1')).toBe('PROXY TCP4 198.51.100.7 192.0.2.100 40001 80\r\nGET /?conn=0 HTTP/1.0\r\n\r\n');
    const [record] = (await closed) as [FullNatConnectionRecord];
    expect(record.injectedClient).toBeUndefined(); // no TOA
    expect(record.proxyHeader).toEqual({ version: 1, form: 'valid', client: CLIENT, bytes: 46 });
  });

  it('truncated: the backend gets half a header and FIN, never the client bytes', async () => {
    const lb = await start({ version: 2, form: 'truncated' });
    const answer = await exchange(lb.port, 'GET /?conn=0 HTTP/1.0\r\n\r\n');
    expect(answer).toBe('');
    const got = await backend!.received[0]!;
    expect(got.length).toBe(14);
    expect(got.includes('GET')).toBe(false);
  });

  it('refuses to combine the header with holding the client bytes until FIN', async () => {
    const [balancerWire] = createMemoryWirePair();
    await expect(FullNatBalancer.start({ wire: balancerWire, toa: false, proxyProtocol: { version: 1 }, holdClientDataUntilFin: true })).rejects.toThrow(
      /cannot be combined/,
    );
  });
});
