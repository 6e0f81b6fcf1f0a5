import { STANDARD_TOA_LAYOUT, toaLayoutCarries, toaLayoutLength, type ToaLayout, type ToaLayoutCarries } from '../codec/toa-option.ts';
import type { ToaPlacement } from './toa-policy.ts';

/**
 * What a real vendor's balancer puts on the wire, as data: the option's kind, its length, its
 * field layout and the segments that carry it. `toa-lab run --balancer NAME` picks one; the
 * `balancer-profiles` scenario sends every one and reports which the module under test reads.
 *
 * Sources are public and named per profile. Where a vendor's field order is not published
 * beyond the kind and length, the layout below says "assumed" and why that order was chosen;
 * the length byte, which is what a module first tests, is always the vendor's.
 */
export interface BalancerProfile {
  /** Registry name: `--balancer NAME`. */
  name: string;
  vendor: string;
  kind: number;
  /** The option's length byte (kind and length included); equal to the layout's length by construction (checked). */
  length: number;
  layout: ToaLayout;
  placement: readonly ToaPlacement[];
  /** One line for reports: what the option holds. */
  summary: string;
}

/** Where the guides' modules read TOA, and where a lost ACK moves it (harness/net/balancer/toa-policy.ts). */
const HANDSHAKE: readonly ToaPlacement[] = ['ack', 'first-data'];
/** The VIP of the lab's service, as a VPC balancer would name it (a documentation address). */
const LAB_VIP = { address: '192.0.2.100', port: 80 };
const LAB_VIP_V6 = '2001:db8::100';
/** A VPC id as a 32-bit number: any value; this one is recognisable in a capture. */
const LAB_VPC_ID = 0x00c0ffee;

const v4 = STANDARD_TOA_LAYOUT[4];
const v6 = STANDARD_TOA_LAYOUT[6];

const profile = (p: Omit<BalancerProfile, 'length' | 'placement'> & { placement?: readonly ToaPlacement[] }): BalancerProfile => ({
  ...p,
  length: toaLayoutLength(p.layout),
  placement: p.placement ?? HANDSHAKE,
});

export const BALANCER_PROFILE_LIST: readonly BalancerProfile[] = [
  // Huawei ELB's guide (shared/seeds/huawei-elb-configuring-the-toa-module.txt) and its public
  // module Huawei/TCP_option_address (TCPOPT_TOA 254, TCPOLEN_TOA 8); the Alibaba LVS TOA patch
  // ("TOA: Tcp Option Address for IPv4/IPv6", taobao); DPVS. The DESIGN.md default.
  profile({ name: 'lvs-v4', vendor: 'LVS / Huawei ELB / DPVS', kind: 254, layout: v4, summary: 'kind 254, length 8: client port, IPv4' }),
  // The same sources' IPv6 form: port and a 16-byte address, length 20 (DESIGN.md).
  profile({ name: 'lvs-v6', vendor: 'LVS / Huawei ELB / DPVS', kind: 254, layout: v6, summary: 'kind 254, length 20: client port, IPv6' }),
  // Huawei's public eBPF TOA header (TCPOPT_TOA_V6 253, TCPOLEN_TOA_V6 20): the IPv6 form under its own
  // kind — which is UCloud's IPv4 kind (ucloud-v4-253): a module reading 253 must go by length.
  profile({ name: 'huawei-v6', vendor: 'Huawei ELB (IPv6)', kind: 253, layout: v6, summary: 'kind 253, length 20: client port, IPv6' }),
  // UCloud CLB (DESIGN.md "TOA on the wire"; issue 12 §1): kind 200, also the kind of the old
  // LVS 2.6.32 tree the Huawei guide edits to 254. UCloud's module also accepts 253 and 254 with
  // the same layout; 254/8 is lvs-v4 byte for byte.
  profile({ name: 'ucloud-v4', vendor: 'UCloud CLB', kind: 200, layout: v4, summary: 'kind 200, length 8: client port, IPv4' }),
  profile({ name: 'ucloud-v4-253', vendor: 'UCloud CLB', kind: 253, layout: v4, summary: 'kind 253, length 8: client port, IPv4 (collides with huawei-v6 by kind)' }),
  // TencentOS's TOA (issue 12 §1): 200/8 as UCloud, plus two VPC options that name no client.
  profile({ name: 'tencent-v4', vendor: 'Tencent CLB (TencentOS)', kind: 200, layout: v4, summary: 'kind 200, length 8: client port, IPv4' }),
  profile({
    name: 'tencent-vpc-id',
    vendor: 'Tencent CLB (TencentOS)',
    kind: 201,
    layout: [{ field: 'vpc-id', value: LAB_VPC_ID }],
    summary: 'kind 201, length 6: VPC id (no client)',
  }),
  profile({
    name: 'tencent-vip-vport',
    vendor: 'Tencent CLB (TencentOS)',
    kind: 202,
    // Assumed port-then-address, the order of every TOA form above.
    layout: [{ field: 'vip-port', port: LAB_VIP.port }, { field: 'vip-ipv4', address: LAB_VIP.address }],
    summary: 'kind 202, length 8: VIP port, VIP (no client: a module taking it as one reports the VIP)',
  }),
  // Alibaba Cloud SLB's vtoa (issue 12 §1: 250/8, 252/20, 249/40, 253/20). 250/8 is the TOA layout
  // under another kind.
  profile({ name: 'alibaba-vtoa-v4', vendor: 'Alibaba SLB (vtoa)', kind: 250, layout: v4, summary: 'kind 250, length 8: client port, IPv4' }),
  profile({
    name: 'alibaba-vtoa-vpc',
    vendor: 'Alibaba SLB (vtoa)',
    kind: 252,
    // Assumed: the client (port, IPv4) first as in TOA, then the VPC id and the VIP with its port,
    // and 2 bytes of padding to the published length 20.
    layout: [
      { field: 'client-port' },
      { field: 'client-ipv4' },
      { field: 'vpc-id', value: LAB_VPC_ID },
      { field: 'vip-ipv4', address: LAB_VIP.address },
      { field: 'vip-port', port: LAB_VIP.port },
      { field: 'reserved', length: 2 },
    ],
    summary: 'kind 252, length 20: client port, IPv4, VPC id, VIP, VIP port',
  }),
  profile({
    name: 'alibaba-vtoa-vpc-v6',
    vendor: 'Alibaba SLB (vtoa)',
    kind: 249,
    // Assumed: client port, IPv6, VPC id, VIPv6 — exactly the published length 40, the whole
    // options area, so nothing else fits in that segment.
    layout: [{ field: 'client-port' }, { field: 'client-ipv6' }, { field: 'vpc-id', value: LAB_VPC_ID }, { field: 'vip-ipv6', address: LAB_VIP_V6 }],
    summary: 'kind 249, length 40: client port, IPv6, VPC id, VIP (IPv6)',
  }),
  profile({ name: 'alibaba-vtoa-v6', vendor: 'Alibaba SLB (vtoa)', kind: 253, layout: v6, summary: 'kind 253, length 20: client port, IPv6 (as huawei-v6)' }),
  // Alibaba CDN's TOA (issue 12 §1): a version byte and the address, no port. Kind 28 is IANA's
  // User Timeout option (RFC 5482), which Linux does not parse, so the kernel steps over it.
  profile({
    name: 'alibaba-cdn-v4',
    vendor: 'Alibaba CDN',
    kind: 28,
    layout: [{ field: 'version', value: 1 }, { field: 'client-ipv4' }],
    summary: 'kind 28, length 7: version, IPv4 (no port)',
  }),
  profile({
    name: 'alibaba-cdn-v6',
    vendor: 'Alibaba CDN',
    kind: 28,
    layout: [{ field: 'version', value: 1 }, { field: 'client-ipv6' }],
    summary: 'kind 28, length 19: version, IPv6 (no port)',
  }),
];

export const BALANCER_PROFILES: ReadonlyMap<string, BalancerProfile> = new Map(BALANCER_PROFILE_LIST.map((p) => [p.name, p]));

/** The profile `--balancer` picks by default: what DESIGN.md calls TOA. */
export const DEFAULT_BALANCER_PROFILE = BALANCER_PROFILES.get('lvs-v4')!;

export class UnknownBalancerProfileError extends Error {
  override readonly name = 'UnknownBalancerProfileError';
  constructor(readonly requested: string) {
    super(`unknown balancer profile '${requested}'; known: ${[...BALANCER_PROFILES.keys()].join(', ')}`);
  }
}

export function balancerProfile(name: string): BalancerProfile {
  const found = BALANCER_PROFILES.get(name);
  if (!found) throw new UnknownBalancerProfileError(name);
  return found;
}

/**
 * `--toa-kind N` as a profile: the standard IPv4 TOA under kind N (what the flag has always
 * meant), so the rest of the lab sees one shape whichever flag chose it.
 */
export function profileForKind(kind: number): BalancerProfile {
  const named = BALANCER_PROFILE_LIST.find((p) => p.kind === kind && isStandardIpv4Profile(p));
  return named ?? profile({ name: `kind-${kind}`, vendor: '--toa-kind', kind, layout: v4, summary: `kind ${kind}, length 8: client port, IPv4` });
}

/** What a reader can learn from a profile's option. */
export function profileCarries(p: BalancerProfile): ToaLayoutCarries {
  return toaLayoutCarries(p.layout);
}

/**
 * The family of the connection that carries a profile: IPv6 when the option holds an IPv6
 * address (client or VIP) — an IPv6 balancer speaks IPv6 to its backends — else IPv4.
 */
export function profileConnectionFamily(p: BalancerProfile): 4 | 6 {
  return p.layout.some((f) => f.field === 'client-ipv6' || f.field === 'vip-ipv6') ? 6 : 4;
}

/**
 * True when the profile is the standard IPv4 TOA (port, address; length 8) under some kind: the
 * shape every other data-path scenario builds its checks on (an exact address and port).
 */
export function isStandardIpv4Profile(p: BalancerProfile): boolean {
  return p.layout.length === v4.length && p.layout.every((f, i) => f.field === v4[i]!.field);
}

/**
 * Every kind any profile uses, without repeats: first those that carry the standard IPv4 TOA
 * (254, 200, 253, 250 — a module might well take any of them for TOA), then the others.
 */
export const FIELD_TOA_KINDS: readonly number[] = [
  ...new Set([...BALANCER_PROFILE_LIST.filter(isStandardIpv4Profile), ...BALANCER_PROFILE_LIST].map((p) => p.kind)),
];

/**
 * A kind the module was not told to accept: the first field kind outside `accepted` (so a
 * module that accepts 200, 253 and 254 by design is probed with 250, a kind it really does not
 * claim), else the highest kind outside it. `undefined` only if every kind 2–255 is claimed.
 */
export function kindOutside(accepted: readonly number[]): number | undefined {
  const field = FIELD_TOA_KINDS.find((kind) => !accepted.includes(kind));
  if (field !== undefined) return field;
  for (let kind = 255; kind >= 2; kind--) if (!accepted.includes(kind)) return kind;
  return undefined;
}
