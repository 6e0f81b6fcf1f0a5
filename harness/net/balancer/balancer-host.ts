import { NetworkHost } from '../stack/network-host.ts';
import type { ArpTuning } from '../stack/neighbor-resolver.ts';
import type { TcpTuning } from '../stack/tcp-tuning.ts';
import type { FrameTap } from '../wire/frame-tap.ts';
import type { Wire } from '../wire/wire.ts';

export const DEFAULT_BALANCER_MAC = '52:54:00:00:02:02';

/**
 * How a balancer gets onto the lab segment: with a host of its own on a wire (closed with the
 * balancer), or through a host someone else owns and shares with other simulated parts (left
 * open on close).
 */
export type BalancerAttachment =
  | {
      /** Attach to this wire with a host of the balancer's own (closed with the balancer). */
      wire: Wire;
      host?: never;
      mac?: string;
      arp?: Partial<ArpTuning>;
      tap?: FrameTap;
    }
  | {
      /** Use an existing host (shared with other simulated parts; left open on close). */
      host: NetworkHost;
      wire?: never;
    };

export interface AttachedHost {
  host: NetworkHost;
  ownsHost: boolean;
  /** TCP tuning to pass per connection: a host of our own already has it built in. */
  perConnectionTcp: Partial<TcpTuning> | undefined;
}

/**
 * The host a balancer sends from. `addresses` must be on it: an own host is created with them;
 * a shared host must already have them (taking addresses on behind its owner's back would
 * surprise whoever configured it).
 */
export function attachBalancerHost(
  attachment: BalancerAttachment,
  addresses: readonly string[],
  tcp: Partial<TcpTuning> | undefined,
): AttachedHost {
  if (attachment.host) {
    const host = attachment.host;
    const missing = addresses.filter((address) => !host.hasAddress(address));
    if (missing.length > 0) {
      throw new Error(
        `balancer address ${missing.join(', ')} is not on the given host (${host.addresses.join(', ')}); ` +
          `add it first with host.addAddress()`,
      );
    }
    return { host, ownsHost: false, perConnectionTcp: tcp };
  }
  const host = new NetworkHost({
    wire: attachment.wire,
    mac: attachment.mac ?? DEFAULT_BALANCER_MAC,
    addresses,
    ...(tcp && { tcp }),
    ...(attachment.arp && { arp: attachment.arp }),
    ...(attachment.tap && { tap: attachment.tap }),
  });
  return { host, ownsHost: true, perConnectionTcp: undefined };
}
