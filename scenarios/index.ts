import type { DataPathLab } from '../harness/lab/data-path-lab.ts';
import type { Scenario } from '../harness/core/scenario.ts';
import { balancerProfiles } from './balancer-profiles.ts';
import { bulkTransfer } from './bulk-transfer.ts';
import { deferAccept } from './defer-accept.ts';
import { dsrVip } from './dsr-vip.ts';
import { firstDataFin } from './first-data-fin.ts';
import { forgedAndBalancerToa } from './forged-and-balancer-toa.ts';
import { fullnatNoToa } from './fullnat-no-toa.ts';
import { fullnatToaV4 } from './fullnat-toa-v4.ts';
import { fullnatToaV6 } from './fullnat-toa-v6.ts';
import { load } from './load.ts';
import { malformedOptions } from './malformed-options.ts';
import { moduleLifecycle } from './module-lifecycle.ts';
import { netnsBackend } from './netns-backend.ts';
import { optionsAreaFull } from './options-area-full.ts';
import { proxyProtocolV1, proxyProtocolV2 } from './proxy-protocol.ts';
import { rmmodOpenConnections } from './rmmod-open-connections.ts';
import { rmmodUnderLoad } from './rmmod-under-load.ts';
import { spoofedToa } from './spoofed-toa.ts';
import { synCookies } from './syn-cookies.ts';
import { tcpFastOpen } from './tcp-fast-open.ts';
import { toaKindFilter } from './toa-kind-filter.ts';
import { udp } from './udp.ts';

/** Every data-path scenario (micro-VMs and whole OSes alike), in the order a run executes them. */
export const SCENARIOS: ReadonlyArray<Scenario<DataPathLab>> = [
  fullnatToaV4,
  fullnatNoToa,
  fullnatToaV6,
  dsrVip,
  toaKindFilter,
  bulkTransfer,
  firstDataFin,
  deferAccept,
  synCookies,
  tcpFastOpen,
  netnsBackend,
  malformedOptions,
  balancerProfiles,
  spoofedToa,
  forgedAndBalancerToa,
  optionsAreaFull,
  proxyProtocolV1,
  proxyProtocolV2,
  rmmodOpenConnections,
  rmmodUnderLoad,
  moduleLifecycle,
  udp,
  load,
];
