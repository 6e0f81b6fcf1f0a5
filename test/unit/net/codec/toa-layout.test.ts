import { describe, expect, it } from 'vitest';
import { decodeToaLayout, decodeToaOption, encodeToaLayout, encodeToaOption, STANDARD_TOA_LAYOUT, toaLayoutLength } from '../../../../harness/net/codec/toa-option.ts';
import {
  BALANCER_PROFILE_LIST,
  BALANCER_PROFILES,
  balancerProfile,
  FIELD_TOA_KINDS,
  isStandardIpv4Profile,
  kindOutside,
  profileCarries,
  profileConnectionFamily,
  profileForKind,
  UnknownBalancerProfileError,
} from '../../../../harness/net/balancer/balancer-profiles.ts';
import { toaSegmentOptions } from '../../../../harness/net/balancer/toa-policy.ts';
import { serializeTcpOptions } from '../../../../harness/net/codec/tcp-options.ts';

const V4 = { address: '198.51.100.7', port: 40001 };
const V6 = { address: '2001:db8:1::7', port: 40001 };

describe('TOA layouts (vendor wire formats)', () => {
  it('the standard layouts encode exactly what encodeToaOption does', () => {
    expect(encodeToaLayout(254, STANDARD_TOA_LAYOUT[4], V4)).toEqual(encodeToaOption({ ...V4, kind: 254 }));
    expect(encodeToaLayout(253, STANDARD_TOA_LAYOUT[6], V6)).toEqual(encodeToaOption({ ...V6, kind: 253 }));
  });

  it('Alibaba CDN 28/7: version byte then IPv4, no port', () => {
    const bytes = encodeToaLayout(28, balancerProfile('alibaba-cdn-v4').layout, V4);
    expect([...bytes]).toEqual([28, 7, 1, 198, 51, 100, 7]);
    expect(decodeToaLayout(balancerProfile('alibaba-cdn-v4').layout, bytes)).toEqual({ address: '198.51.100.7' });
  });

  it('TencentOS VPC forms name no client: 201/6 a VPC id, 202/8 the VIP and its port', () => {
    expect([...encodeToaLayout(201, balancerProfile('tencent-vpc-id').layout, V4)]).toEqual([201, 6, 0x00, 0xc0, 0xff, 0xee]);
    expect([...encodeToaLayout(202, balancerProfile('tencent-vip-vport').layout, V4)]).toEqual([202, 8, 0, 80, 192, 0, 2, 100]);
    expect(profileCarries(balancerProfile('tencent-vip-vport'))).toEqual({ clientAddress: undefined, clientPort: false });
  });

  it('refuses a client of the wrong family and an option too long for the options area', () => {
    expect(() => encodeToaLayout(254, STANDARD_TOA_LAYOUT[6], V4)).toThrow(/IPv6 field needs an IPv6 address/);
    expect(() => encodeToaLayout(254, [{ field: 'reserved', length: 39 }], V4)).toThrow(/cannot fit the 40-byte options area/);
  });
});

describe('balancer profiles (registry)', () => {
  it('each profile is its published kind/length, and its layout makes exactly that length', () => {
    const shapes = BALANCER_PROFILE_LIST.map((p) => `${p.name} ${p.kind}/${p.length}`);
    expect(shapes).toEqual([
      'lvs-v4 254/8',
      'lvs-v6 254/20',
      'huawei-v6 253/20',
      'ucloud-v4 200/8',
      'ucloud-v4-253 253/8',
      'tencent-v4 200/8',
      'tencent-vpc-id 201/6',
      'tencent-vip-vport 202/8',
      'alibaba-vtoa-v4 250/8',
      'alibaba-vtoa-vpc 252/20',
      'alibaba-vtoa-vpc-v6 249/40',
      'alibaba-vtoa-v6 253/20',
      'alibaba-cdn-v4 28/7',
      'alibaba-cdn-v6 28/19',
    ]);
    for (const p of BALANCER_PROFILE_LIST) {
      const client = profileCarries(p).clientAddress === 6 ? V6 : V4;
      const bytes = encodeToaLayout(p.kind, p.layout, client);
      expect(bytes.length, p.name).toBe(p.length);
      expect(toaLayoutLength(p.layout), p.name).toBe(p.length);
      expect(bytes[1], p.name).toBe(p.length);
    }
    expect(BALANCER_PROFILES.size).toBe(BALANCER_PROFILE_LIST.length); // names are unique
  });

  it('Huawei 253/20 and UCloud 253/8 share a kind: only the length tells them apart', () => {
    const huawei = encodeToaLayout(253, balancerProfile('huawei-v6').layout, V6);
    const ucloud = encodeToaLayout(253, balancerProfile('ucloud-v4-253').layout, V4);
    expect([huawei[0], huawei[1], ucloud[0], ucloud[1]]).toEqual([253, 20, 253, 8]);
    expect(decodeToaOption(huawei)).toMatchObject({ family: 6, address: V6.address, port: V6.port });
    expect(decodeToaOption(ucloud)).toMatchObject({ family: 4, address: V4.address, port: V4.port });
  });

  it('IPv6 forms go over IPv6 connections; the others over IPv4', () => {
    const six = BALANCER_PROFILE_LIST.filter((p) => profileConnectionFamily(p) === 6).map((p) => p.name);
    expect(six).toEqual(['lvs-v6', 'huawei-v6', 'alibaba-vtoa-vpc-v6', 'alibaba-vtoa-v6', 'alibaba-cdn-v6']);
  });

  it('an unknown name is a typed error listing the known ones; --toa-kind N is the standard IPv4 TOA under N', () => {
    expect(() => balancerProfile('f5')).toThrow(UnknownBalancerProfileError);
    expect(() => balancerProfile('f5')).toThrow(/known: lvs-v4, lvs-v6/);
    expect(profileForKind(200).name).toBe('ucloud-v4');
    expect(profileForKind(99)).toMatchObject({ name: 'kind-99', kind: 99, length: 8 });
    expect(isStandardIpv4Profile(profileForKind(99))).toBe(true);
    expect(isStandardIpv4Profile(balancerProfile('alibaba-cdn-v4'))).toBe(false);
  });

  it('a kind outside the declared ones: a TOA-carrying field kind first, never a declared one', () => {
    expect(FIELD_TOA_KINDS.slice(0, 4)).toEqual([254, 200, 253, 250]);
    expect(kindOutside([254])).toBe(200);
    expect(kindOutside([200])).toBe(254);
    expect(kindOutside([200, 253, 254])).toBe(250);
    expect(kindOutside(FIELD_TOA_KINDS)).toBe(255);
  });

  it('the balancer puts a profile\'s bytes in the segments its placement names', () => {
    const profile = balancerProfile('alibaba-cdn-v4');
    const hook = toaSegmentOptions({ kind: profile.kind, layout: profile.layout, placement: profile.placement, client: V4 });
    const ack = hook.extraOptions!({ role: 'handshake-ack', carriesFirstData: false, retransmission: false, sequenceNumber: 1, ownOptionsLength: 0 });
    expect([...serializeTcpOptions(ack!)]).toEqual([28, 7, 1, 198, 51, 100, 7, 0]);
    expect(hook.extraOptions!({ role: 'syn', carriesFirstData: false, retransmission: false, sequenceNumber: 0, ownOptionsLength: 8 })).toBeUndefined();
  });
});
