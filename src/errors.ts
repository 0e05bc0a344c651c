// Owns every stable code tickcast reports: boot errors, decode statuses, control-message errors, close codes.
// Must never hold behaviour, nor list a code nothing emits: codes here are a published contract (asyncapi.json
// lists exactly these), so renumbering one is a breaking change and a retired number is never reused.

// Decode statuses: the hot path returns these and counts them; it never throws per message.
// 1 is retired (it was DECODE_NEED_MORE, never returned: the framer reassembles split frames before decoding).
export const DECODE_OK = 0
export const DECODE_BAD_LENGTH = 2
export const DECODE_UNKNOWN_TYPE = 3
export const DECODE_BAD_VALUE = 4
export const DECODE_UNKNOWN_SYMBOL = 5
export type DecodeStatus = number

// WebSocket close codes (4000-4999 is the application range of RFC 6455 §7.4.2). 4002-4004 are retired: they
// were declared (bad control, too many topics, shutdown) but never sent; shutdown is 1001.
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_SLOW_CONSUMER = 4001
export const CLOSE_RATE_LIMITED = 4005
// Authentication (issue 10), numbered after the HTTP statuses they mirror. 4401: no valid credential (bad token, no
// op:auth within the deadline, another message before it): do not reconnect with the same token. 4402: the token
// expired without an in-band refresh: reconnect with a fresh one. 4403: the principal was revoked or is over its
// connection cap: do not reconnect.
export const CLOSE_UNAUTHENTICATED = 4401
export const CLOSE_TOKEN_EXPIRED = 4402
export const CLOSE_FORBIDDEN = 4403

// Control-message error codes sent in `{"type":"error","code":...}`; the connection stays open.
export const ERR_MALFORMED = 'MALFORMED'
export const ERR_UNKNOWN_OP = 'UNKNOWN_OP'
export const ERR_UNKNOWN_SYMBOL = 'UNKNOWN_SYMBOL'
export const ERR_BAD_SYMBOL = 'BAD_SYMBOL'
export const ERR_TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS'
export const ERR_RATE_LIMITED = 'RATE_LIMITED'
export const ERR_TOO_LARGE = 'TOO_LARGE'
/**
 * The principal may not receive this symbol (its entitlements, src/auth/entitlements.ts): sent per denied subscribe
 * entry, and per symbol taken away when entitlements shrink on a live connection. REST answers 403 with it.
 */
export const ERR_NOT_ENTITLED = 'NOT_ENTITLED'
/** An in-band op:auth refresh was refused; the connection keeps its current token until that expires. */
export const ERR_UNAUTHORIZED = 'UNAUTHORIZED'

/** A problem found at boot (config, listen, capacity): the process reports it and exits non-zero. */
export class BootError extends Error {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`)
    this.name = 'BootError'
  }
}

export function bootError(code: string, detail: unknown): BootError {
  return new BootError(code, String(detail))
}
