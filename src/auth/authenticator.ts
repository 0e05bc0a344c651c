// Owns deciding who a credential belongs to and what it may see: JWT or API key → grant → entitlements, live reloads.
// Must never log or keep a presented credential, nor be consulted per delivered message.
import { BootError } from '../errors.js'
import { hashKey, parseKeysFile } from './api-keys.js'
import type { KeyTable } from './api-keys.js'
import { Entitlements, EVERYTHING, resolveEntitlements } from './entitlements.js'
import type { Role } from './entitlements.js'
import { FailureLimiter } from './failure-limiter.js'
import type { FailureLimits } from './failure-limiter.js'
import { JwtVerifier } from './jwt-verifier.js'
import type { JwtOptions } from './jwt-verifier.js'
import { ANONYMOUS } from './principal.js'
import type { AuthFailureReason, AuthResult, Grant } from './principal.js'
import { parseRolesFile } from './roles.js'
import { WatchedFile } from './watched-file.js'
import type { ReloadLog } from './watched-file.js'

export interface AuthOptions extends JwtOptions {
  apiKeysFile: string
  rolesFile: string
  /** accept clients without a credential even though a credential source is configured (or on a non-loopback host) */
  allowAnonymous: boolean
  /** accept `?token=` on the upgrade (never logged); off by default: URLs end up in proxy and browser logs */
  queryToken: boolean
  /** a connection without a credential on the upgrade must send op:auth within this long */
  authDeadlineMs: number
  /** the server sends auth_expiring this long before the token's exp */
  expiryWarnSec: number
  failureLimits?: FailureLimits
}

export const AUTH_DEFAULTS = Object.freeze({ authDeadlineMs: 5000, expiryWarnSec: 60, clockSkewSec: 30 })

/** The counters auth failures and denials land in (WsStats has them, so worker threads' counts are summed). */
export interface AuthCounts { authFailures: Record<AuthFailureReason, number>; entitlementDenials: number }

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
/** longest credential looked at: a bigger one is malformed without hashing or parsing it */
export const MAX_TOKEN_CHARS = 8192

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

export class Authenticator {
  /** true when some credential source is configured: clients must present one (unless allowAnonymous) */
  readonly enabled: boolean
  readonly limiter: FailureLimiter
  private readonly jwt: JwtVerifier | null
  private readonly keys: WatchedFile<KeyTable> | null
  private readonly roles: WatchedFile<ReadonlyMap<string, Role>> | null
  private readonly listeners: Array<() => void> = []
  private readonly live = new Map<string, number>()

  constructor(readonly o: AuthOptions, private readonly counts: AuthCounts, log: ReloadLog) {
    this.jwt = o.secretFile || o.jwksFile || o.jwksUrl ? new JwtVerifier(o, log) : null
    this.keys = o.apiKeysFile ? new WatchedFile(o.apiKeysFile, 'API keys file', parseKeysFile, log) : null
    this.roles = o.rolesFile ? new WatchedFile(o.rolesFile, 'roles file', parseRolesFile, log) : null
    this.enabled = this.jwt !== null || this.keys !== null
    if (this.roles !== null && !this.enabled) throw new BootError('AUTH_CONFIG', '--auth-roles-file needs a credential source (--auth-jwt-secret-file, --auth-jwks-file, --auth-jwks-url or --auth-api-keys-file)')
    this.limiter = new FailureLimiter(o.failureLimits)
    const changed = (): void => { for (const fn of this.listeners) fn() }
    this.keys?.onChange(changed); this.roles?.onChange(changed)
  }

  /** Refuses to serve a non-loopback address to anonymous clients unless told to (--allow-anonymous). */
  checkExposure(host: string): void {
    if (!this.enabled && !this.o.allowAnonymous && !isLoopback(host)) {
      throw new BootError('AUTH_REQUIRED', `listening on ${host} (not loopback) without authentication: configure --auth-jwt-secret-file, --auth-jwks-file, --auth-jwks-url or --auth-api-keys-file, or pass --allow-anonymous to serve every symbol to anyone`)
    }
  }

  /** A client without a credential: anonymous, or null when one is required. */
  anonymous(): Grant | null { return !this.enabled || this.o.allowAnonymous ? ANONYMOUS : null }

  start(): void { this.jwt?.start(); this.keys?.start(); this.roles?.start() }
  stop(): void { this.jwt?.stop(); this.keys?.stop(); this.roles?.stop() }

  /** Called after a keys or roles file reload (live connections re-check their entitlements). */
  onChange(fn: () => void): void { this.listeners.push(fn) }

  /** Verifies a presented credential: a JWT when it looks like one and JWTs are configured, else an API key. */
  async authenticate(token: string): Promise<AuthResult> {
    const r = await this.verify(token)
    if (!r.ok) this.fail(r.reason)
    return r
  }

  fail(reason: AuthFailureReason): void { this.counts.authFailures[reason]++ }

  denied(n: number): void { this.counts.entitlementDenials += n }

  private async verify(token: string): Promise<AuthResult> {
    if (token.length === 0) return { ok: false, reason: 'missing' }
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'malformed' }
    if (this.jwt !== null && JWT_SHAPE.test(token)) return this.jwt.verify(token)
    if (this.keys === null) return { ok: false, reason: this.jwt !== null ? 'malformed' : 'invalid' }
    const g = this.keys.current.get(hashKey(token))
    return g === undefined ? { ok: false, reason: 'unknown_key' } : { ok: true, grant: g }
  }

  /** The grant's entitlements now (roles file as loaded); null when the grant was revoked (its API key removed). */
  entitlementsOf(g: Grant): Entitlements | null {
    if (g.kind === 'anonymous') return this.enabled ? resolveEntitlements({ ...g, kind: 'key', symbols: [], roles: ['anonymous'] }, this.roles?.current ?? new Map()) : EVERYTHING
    if (g.kind === 'key' && this.keys !== null) {
      const now = this.keys.current.get(g.keyHash)
      if (now === undefined) return null
      g = now // a reload may have changed the key's own patterns or caps
    }
    return resolveEntitlements(g, this.roles?.current ?? new Map())
  }

  /** Counts a live connection of `g`; false when that would pass its connection cap. */
  acquire(g: Grant, ent: Entitlements): boolean {
    const n = this.live.get(g.id) ?? 0
    if (ent.maxConnections > 0 && n >= ent.maxConnections) return false
    this.live.set(g.id, n + 1)
    return true
  }

  release(g: Grant): void {
    const n = (this.live.get(g.id) ?? 1) - 1
    if (n <= 0) this.live.delete(g.id); else this.live.set(g.id, n)
  }
}

export { Entitlements }
