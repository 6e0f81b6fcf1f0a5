import type { BalancerToaSettings, FullNatBalancer, SimulatedClient } from '../net/index.ts';
import type { SshGuestShell } from '../remote/ssh-guest-shell.ts';
import type { LabWireHost } from './lab-wire-host.ts';

/**
 * What the guides' steps and the traffic checks need from a full-OS lab,
 * whatever booted it (the QEMU provider, Vagrant): a shell in the guest and a
 * FULLNAT balancer in front of one of its ports.
 */
export interface GuestLab {
  /** SSH: the steps also push files and folders. */
  readonly guest: SshGuestShell;
  /** The harness's side of the lab wire (its host, frame tap, balancers). */
  readonly wire: LabWireHost;
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer>;
}

/** A lab that can also reboot its guest (the persistence steps). */
export interface RebootableGuestLab extends GuestLab {
  reboot(): Promise<{ bootIdBefore: string; bootIdAfter: string; durationMs: number }>;
}

export interface GuestBalancerOptions {
  port: number;
  toa: BalancerToaSettings | false;
  chooseClient?: (connectionIndex: number) => SimulatedClient;
}

/** A FULLNAT balancer on 127.0.0.1 relaying to the guest's `port` over the lab wire; close it when done. */
export function startGuestBalancer(wire: LabWireHost, options: GuestBalancerOptions): Promise<FullNatBalancer> {
  return wire.startBalancer(options, options.port);
}
