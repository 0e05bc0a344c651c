// Owns what a verified credential grants: the principal's id and its raw grant (patterns, roles, caps, expiry).
// Must never hold a secret (token, key, hash) nor resolve roles: entitlements.ts turns a grant into rules.

/** What one credential grants, before roles are applied. Every field set (0 / [] = not given). */
export interface Grant {
  /** stable principal id (JWT `sub`, the keys file's `principal`): logged and audited, never a secret */
  readonly id: string
  /** 'jwt' | 'key' | 'anonymous' */
  readonly kind: PrincipalKind
  /** symbol patterns granted directly: `AAPL`, `MS*`, `*` */
  readonly symbols: readonly string[]
  /** role names looked up in the roles file */
  readonly roles: readonly string[]
  /** updates per second per symbol; 0 = no tier */
  readonly maxHz: number
  /** symbols one connection may hold (explicit and through patterns); 0 = the server's limit */
  readonly maxSymbols: number
  /** connections this principal may hold at once; 0 = unlimited */
  readonly maxConnections: number
  /** token expiry, ms since the Unix epoch; Infinity = none (API keys, anonymous) */
  readonly expMs: number
  /** for API keys: the hash the key matched (to notice revocation on reload); '' otherwise */
  readonly keyHash: string
}

export type PrincipalKind = 'jwt' | 'key' | 'anonymous'

export const ANONYMOUS: Grant = Object.freeze({
  id: 'anonymous', kind: 'anonymous', symbols: ['*'], roles: [], maxHz: 0, maxSymbols: 0, maxConnections: 0, expMs: Infinity, keyHash: '',
})

/** Auth failure reasons: a bounded set, so it is a metric label (tickcast_auth_failures_total{reason}). */
export const AUTH_FAILURE_REASONS = [
  'missing', 'malformed', 'invalid', 'expired', 'claims', 'unknown_key', 'revoked', 'deadline', 'rate_limited', 'connection_cap', 'unavailable',
] as const
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number]

export type AuthResult = { ok: true; grant: Grant } | { ok: false; reason: AuthFailureReason }

/** Reads a non-negative finite number field, else 0 (claims and file entries share this rule). */
export function capField(v: unknown): number { return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0 }

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0 && x.length <= 64) : []
}
