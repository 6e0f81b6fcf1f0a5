/**
 * TCP Fast Open (RFC 7413) settings of one connection or listener. The TCP engine knows the
 * handshake; who keeps cookies, and which mode a connection uses, is its caller's business
 * (the balancer keeps one cookie per backend, as Linux's tcp_metrics cache keeps one per
 * destination).
 */

/**
 * The active side, in Linux's three client behaviours:
 * - `cookie` given: the SYN carries the cookie and the first data (Linux with a cached cookie);
 * - `withoutCookie`: the SYN carries the data and no option at all (`net.ipv4.tcp_fastopen`
 *   0x4, TFO_CLIENT_NO_COOKIE), for a server with TFO_SERVER_COOKIE_NOT_REQD (0x200);
 * - neither: the SYN carries an empty option (a cookie request) and no data; the data follows
 *   the handshake (Linux without a cached cookie).
 * In every mode the SYN waits for the first write (or the close), as Linux's `sendto(...,
 * MSG_FASTOPEN)` / TCP_FASTOPEN_CONNECT do, so it can carry what the application sends first.
 */
export interface TcpFastOpenConnect {
  cookie?: Uint8Array;
  withoutCookie?: boolean;
  /** Called with the cookie a SYN-ACK carries (any mode): keep it for the next connection. */
  onCookie?(cookie: Uint8Array): void;
}

/**
 * The passive side (Linux's server, `net.ipv4.tcp_fastopen` 0x2): a SYN with a valid cookie
 * (or, with `cookieRequired: false`, any SYN with data or a Fast Open option — 0x200,
 * TFO_SERVER_COOKIE_NOT_REQD) creates the connection at once: its data is delivered and
 * acknowledged by the SYN-ACK, the listener gets the socket before the handshake completes, and
 * the socket may send before the peer's ACK arrives (RFC 7413 §4.2.2). A cookie request, or a
 * cookie that is not valid, is answered with a valid cookie in the SYN-ACK and an ordinary
 * handshake (the SYN's data is not acknowledged; the peer sends it again).
 */
export interface TcpFastOpenServer {
  /** The cookie this server gives `remoteAddress` (Linux: a MAC of the addresses under a server key). */
  cookieFor(remoteAddress: string): Uint8Array;
  /** Default true. */
  cookieRequired?: boolean;
}

export function sameCookie(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
