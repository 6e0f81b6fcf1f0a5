import type { TcpFastOpenConnect } from '../stack/fast-open.ts';

/**
 * How the balancer uses TCP Fast Open (RFC 7413) towards the backend, as Linux's client does
 * with `net.ipv4.tcp_fastopen`:
 * - `cookie` (0x1, TFO_CLIENT_ENABLE): the first connection to a backend asks for a cookie (an
 *   empty option in a data-less SYN; the request follows the handshake); every later one puts
 *   the cookie and the client's first bytes in its SYN;
 * - `no-cookie` (0x1 | 0x4, TFO_CLIENT_NO_COOKIE): the client's first bytes in every SYN, no
 *   option, for a backend with TFO_SERVER_COOKIE_NOT_REQD (0x200).
 * `cookies` keeps the cookies across balancers (a scenario starts a fresh balancer per round,
 * Linux keeps them per destination in tcp_metrics).
 */
export interface BalancerFastOpen {
  mode: 'cookie' | 'no-cookie';
  cookies?: FastOpenCookieJar;
}

/** What one backend connection's SYN carried. */
export type FastOpenSyn = 'cookie-request' | 'cookie' | 'no-cookie';

/** Cookies per backend address (Linux keys its cache by destination address). */
export class FastOpenCookieJar {
  private readonly cookies = new Map<string, Uint8Array>();

  get(address: string): Uint8Array | undefined {
    return this.cookies.get(address);
  }

  set(address: string, cookie: Uint8Array): void {
    this.cookies.set(address, Uint8Array.from(cookie));
  }

  get size(): number {
    return this.cookies.size;
  }
}

/** The stack's settings for the next connection to `address`, and what its SYN will carry. */
export function fastOpenConnect(settings: BalancerFastOpen, jar: FastOpenCookieJar, address: string): { connect: TcpFastOpenConnect; syn: FastOpenSyn } {
  const onCookie = (cookie: Uint8Array): void => jar.set(address, cookie);
  if (settings.mode === 'no-cookie') return { connect: { withoutCookie: true, onCookie }, syn: 'no-cookie' };
  const cookie = jar.get(address);
  return cookie ? { connect: { cookie, onCookie }, syn: 'cookie' } : { connect: { onCookie }, syn: 'cookie-request' };
}
