// Owns every stable code tickcast reports: boot errors, decode statuses, control-message errors, close codes.
// Must never hold behaviour: codes here are a published contract, so renumbering one is a breaking change.

// Decode statuses: the hot path returns these and counts them; it never throws per message.
export const DECODE_OK = 0
export const DECODE_NEED_MORE = 1
export const DECODE_BAD_LENGTH = 2
export const DECODE_UNKNOWN_TYPE = 3
export const DECODE_BAD_VALUE = 4
export const DECODE_UNKNOWN_SYMBOL = 5
export type DecodeStatus = number

// WebSocket close codes (4000-4999 is the application range of RFC 6455 §7.4.2).
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_SLOW_CONSUMER = 4001
export const CLOSE_BAD_CONTROL = 4002
export const CLOSE_TOO_MANY_TOPICS = 4003
export const CLOSE_SHUTDOWN = 4004
export const CLOSE_RATE_LIMITED = 4005

// Control-message error codes sent in `{"type":"error","code":...}`; the connection stays open.
export const ERR_MALFORMED = 'MALFORMED'
export const ERR_UNKNOWN_OP = 'UNKNOWN_OP'
export const ERR_UNKNOWN_SYMBOL = 'UNKNOWN_SYMBOL'
export const ERR_BAD_SYMBOL = 'BAD_SYMBOL'
export const ERR_TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS'
export const ERR_RATE_LIMITED = 'RATE_LIMITED'
export const ERR_TOO_LARGE = 'TOO_LARGE'
export const ERR_NOT_ENTITLED = 'NOT_ENTITLED'

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
