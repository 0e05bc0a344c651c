// Owns verifying JWTs through jose: HS256 with a secret file, RS256/ES256/EdDSA with a JWKS file or URL (cached, rotated).
// Must never hand-roll crypto, log a token, or accept an algorithm its key source was not configured for.
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose'
import type { JWTPayload, JWTVerifyGetKey } from 'jose'
import { readFileSync } from 'node:fs'
import { BootError } from '../errors.js'
import type { AuthResult, Grant } from './principal.js'
import { capField, stringList } from './principal.js'
import { WatchedFile } from './watched-file.js'
import type { ReloadLog } from './watched-file.js'

export interface JwtOptions {
  /** HS256 shared secret, read from this file (trailing newline trimmed); at least 32 bytes */
  secretFile: string
  /** JWKS (RS256, ES256, EdDSA public keys) from a file, reloaded when it changes */
  jwksFile: string
  /** JWKS from a URL, fetched by jose and cached; an unknown `kid` refetches it (rotation) at most once per cooldown */
  jwksUrl: string
  issuer: string
  audience: string
  /** bounded clock skew for exp / nbf / iat */
  clockSkewSec: number
  /** how long an unknown `kid` waits before another JWKS fetch (jose cooldownDuration); default 1 s: at most one fetch a second, whatever kids clients invent */
  jwksCooldownMs?: number
}

const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA']
const MIN_SECRET_BYTES = 32

/**
 * Claims read (documented in README, Security): `sub` (principal id, required), `exp`, `nbf`, `iss`, `aud`,
 * `symbols` (patterns), `roles`, `maxHz`, `maxSymbols`, `maxConnections`.
 */
export class JwtVerifier {
  private readonly getKey: JWTVerifyGetKey
  private readonly jwksFile: WatchedFile<JWTVerifyGetKey> | null = null
  readonly algorithms: string[]

  constructor(private readonly o: JwtOptions, log: ReloadLog) {
    let secret: Uint8Array | null = null
    if (o.secretFile) {
      let text: string
      try { text = readFileSync(o.secretFile, 'utf8').replace(/\r?\n$/, '') } catch (e) { throw new BootError('AUTH_FILE', `JWT secret file ${o.secretFile}: ${(e as Error).message}`) }
      secret = new TextEncoder().encode(text)
      if (secret.length < MIN_SECRET_BYTES) throw new BootError('AUTH_FILE', `JWT secret file ${o.secretFile}: at least ${MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)`)
    }
    let jwks: JWTVerifyGetKey | null = null
    if (o.jwksFile) {
      const f = this.jwksFile = new WatchedFile(o.jwksFile, 'JWKS file', (t) => createLocalJWKSet(JSON.parse(t)), log)
      jwks = (h, t) => f.current(h, t)
    } else if (o.jwksUrl) {
      jwks = createRemoteJWKSet(new URL(o.jwksUrl), { cooldownDuration: o.jwksCooldownMs ?? 1000, cacheMaxAge: 600_000, timeoutDuration: 5000 })
    }
    this.algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? ASYMMETRIC : [])]
    const s = secret, j = jwks
    this.getKey = (h, t) => (h.alg === 'HS256' && s !== null ? s : j!(h, t))
  }

  start(): void { this.jwksFile?.start() }
  stop(): void { this.jwksFile?.stop() }

  async verify(token: string): Promise<AuthResult> {
    let payload: JWTPayload
    try {
      payload = (await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms, issuer: this.o.issuer || undefined, audience: this.o.audience || undefined,
        clockTolerance: this.o.clockSkewSec, requiredClaims: ['sub'],
      })).payload
    } catch (e) {
      return { ok: false, reason: failureReason((e as { code?: string }).code) }
    }
    const p = payload as Record<string, unknown>
    const grant: Grant = {
      id: String(payload.sub).slice(0, 128), kind: 'jwt', symbols: stringList(p.symbols), roles: stringList(p.roles),
      maxHz: capField(p.maxHz), maxSymbols: capField(p.maxSymbols), maxConnections: capField(p.maxConnections),
      expMs: typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity, keyHash: '',
    }
    return { ok: true, grant }
  }
}

function failureReason(code: string | undefined): 'expired' | 'claims' | 'invalid' | 'malformed' | 'unknown_key' | 'unavailable' {
  switch (code) {
    case 'ERR_JWT_EXPIRED': return 'expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': return 'claims'
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': case 'ERR_JOSE_ALG_NOT_ALLOWED': case 'ERR_JOSE_NOT_SUPPORTED': return 'invalid'
    case 'ERR_JWKS_NO_MATCHING_KEY': case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS': return 'unknown_key'
    case 'ERR_JWKS_TIMEOUT': case 'ERR_JWKS_INVALID': return 'unavailable'
    case 'ERR_JWS_INVALID': case 'ERR_JWT_INVALID': return 'malformed'
    default: return code === undefined ? 'unavailable' : 'invalid'
  }
}
