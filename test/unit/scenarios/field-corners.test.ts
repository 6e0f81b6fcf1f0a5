import { describe, expect, it } from 'vitest';
import { CASES, FORGED_CLIENT, honoured } from '../../../scenarios/forged-and-balancer-toa.ts';
import { FILLS } from '../../../scenarios/options-area-full.ts';
import { SCENARIOS } from '../../../scenarios/index.ts';
import { insertToa } from '../../../harness/net/balancer/toa-room.ts';
import { findToaOption, toaTcpOption } from '../../../harness/net/codec/toa-option.ts';
import { parseTcpOptions, serializeTcpOptions, tcpOptionsLength } from '../../../harness/net/codec/tcp-options.ts';
import { FAKE_BALANCER, FAKE_CLIENT, fakeConnection } from '../../helpers/traffic-connection.ts';

const client = FAKE_CLIENT;
const balancer = FAKE_BALANCER;
const forged = { ip: FORGED_CLIENT.address, port: FORGED_CLIENT.port };
const connection = fakeConnection;

describe('forged-and-balancer-toa', () => {
  it("names whose address a line shows: the balancer's TOA, the forged one, neither, one each, or something else", () => {
    expect(honoured(connection(client))).toBe('balancer-toa');
    expect(honoured(connection(forged))).toBe('forged-toa');
    expect(honoured(connection(balancer))).toBe('neither (the balancer)');
    expect(honoured(connection({ ip: '203.0.113.250', port: 1 }))).toBe('other');
    expect(honoured(connection(client, balancer))).toBe('mixed'); // getpeername rewritten, accept not
    expect(honoured(connection(client, { ip: '192.0.2.99', port: 1 }))).toBe('other');
    expect(honoured(connection(undefined))).toBe('no line');
  });

  it('tries both orders a balancer can write them in, and the same client twice', () => {
    expect(CASES.map((c) => [c.position, c.forged])).toEqual([
      ['front', true],
      ['after-client-options', true],
      ['after-client-options', false],
    ]);
    // What a first-wins reader would take in each forged case: the order is what makes them differ.
    const injected = { address: client.ip, port: client.port };
    const taken = CASES.filter((c) => c.forged).map((c) => {
      const { options } = insertToa({
        toa: toaTcpOption(injected),
        kind: 254,
        clientOptions: [toaTcpOption(FORGED_CLIENT)],
        ownOptionsLength: 0,
        position: c.position,
        whenFull: 'skip',
        syn: false,
      });
      return findToaOption(parseTcpOptions(serializeTcpOptions(options)))?.address;
    });
    expect(taken).toEqual([client.ip, FORGED_CLIENT.address]);
  });
});

describe('options-area-full', () => {
  it('every fill takes the whole 40-byte area, so TOA has no room; the forged one carries a well-formed TOA', () => {
    for (const fill of FILLS) {
      expect(tcpOptionsLength(fill.options(254)), fill.label).toBe(40);
      const result = insertToa({ toa: toaTcpOption({ address: client.ip, port: client.port }), kind: 254, clientOptions: fill.options(254), ownOptionsLength: 0, position: 'front', whenFull: 'skip', syn: false });
      expect(result.toa, fill.label).toBe('skipped-no-room');
    }
    expect(findToaOption(FILLS[1]!.options(254))?.address).toBe(FORGED_CLIENT.address);
    expect(findToaOption(FILLS[1]!.options(200), 200)?.address).toBe(FORGED_CLIENT.address);
  });
});

describe('registry', () => {
  it('has the three field corners, after the scenarios they build on', () => {
    const ids = SCENARIOS.map((s) => s.id);
    for (const id of ['forged-and-balancer-toa', 'options-area-full', 'netns-backend']) expect(ids).toContain(id);
    expect(ids.indexOf('spoofed-toa')).toBeLessThan(ids.indexOf('forged-and-balancer-toa'));
    expect(ids.indexOf('fullnat-toa-v4')).toBeLessThan(ids.indexOf('netns-backend'));
  });
});
