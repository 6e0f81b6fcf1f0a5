/**
 * How a userspace TCP connection failed. Codes mirror the errno names node's own sockets use,
 * so code handling both (the balancer relays node sockets to ours) reads the same.
 */
export type TcpErrorCode =
  | 'ECONNREFUSED' // RST in answer to our SYN
  | 'ECONNRESET' // RST on an established connection
  | 'ETIMEDOUT' // retransmissions exhausted
  | 'EHOSTUNREACH' // no ARP answer for the peer
  | 'ENETDOWN' // the wire closed under us
  | 'EINVAL'; // a segment could not be built (e.g. options too long)

export class TcpConnectionError extends Error {
  override readonly name = 'TcpConnectionError';

  constructor(
    readonly code: TcpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
