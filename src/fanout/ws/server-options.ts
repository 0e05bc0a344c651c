// Owns the WebSocket server's options: their types, defaults, and the anonymous auth setting used when none is given.
// Must never hold behaviour: values and types only, read by ws-server.ts once at construction.
import type * as uWS from 'uWebSockets.js'
import { AUTH_DEFAULTS } from '../../auth/authenticator.js'
import type { AuthOptions } from '../../auth/authenticator.js'
import type { AdmissionLimits } from '../../http/connection-limits.js'
import type { ReadyState } from '../../http/routes.js'
import type { HttpStats } from '../../metrics/http-stats.js'

export interface WsServerOptions {
  path?: string
  maxSymbolsPerConnection?: number
  maxPatternsPerConnection?: number
  maxControlMessagesPerSec?: number
  /** token-bucket size; a client that sends this many more while limited is closed with 4005 */
  controlBurst?: number
  maxPayloadLengthBytes?: number
  /** soft limit: over it a connection is conflated */
  maxBackpressureBytes?: number
  /** hard limit (uWS maxBackpressure): a connection over it is closed 4001 at once; default 4 × the soft limit */
  slowHardLimitBytes?: number
  /** a connection still conflating after this long (its buffer never drained to half the soft limit) is closed 4001 */
  slowGraceMs?: number
  idleTimeoutSec?: number
  /** each connection gets at most one merged data frame per this many ms, on a phase of its own (0: one per drain) */
  frameIntervalMs?: number
  /** exact Origin values allowed; null/absent = any origin (a missing Origin header is always allowed) */
  allowedOrigins?: readonly string[] | null
  /** the stream epoch resume (`since`) is valid in (server.ts: --stream-epoch or unique per process) */
  streamEpoch?: string
  /** this node's name, sent in subscribe acks (`node`): which node a client is on behind a load balancer */
  node?: string
  /** how long close() lets close handshakes finish before it cuts every remaining socket */
  closeGraceMs?: number
  ready?: () => ReadyState
  /** HTTP request counters (tickcast_http_requests_total) */
  http?: HttpStats
  extraRoutes?: (app: uWS.TemplatedApp) => void
  /** authentication and entitlements (README, Security); absent = anonymous clients see every symbol (loopback only) */
  auth?: Partial<AuthOptions>
  /** TLS (uWS SSLApp): PEM files and the key's passphrase (read from its file by the caller) */
  tls?: { certFile: string; keyFile: string; passphrase: string } | null
  /** global / per-IP connection caps and per-IP upgrade rate; absent = unlimited */
  admission?: AdmissionLimits
}

/** anonymous: no credential source (WsAuth still enforces the loopback-only rule) */
export const NO_AUTH: AuthOptions = {
  ...AUTH_DEFAULTS, secretFile: '', jwksFile: '', jwksUrl: '', issuer: '', audience: '', apiKeysFile: '', rolesFile: '', allowAnonymous: false, queryToken: false,
}

export const WS_DEFAULTS = Object.freeze({
  path: '/v1/stream',
  maxSymbolsPerConnection: 1000,
  maxPatternsPerConnection: 10,
  maxControlMessagesPerSec: 50,
  controlBurst: 100,
  maxPayloadLengthBytes: 4 * 1024,
  maxBackpressureBytes: 1024 * 1024,
  slowGraceMs: 10_000,
  /** uWS rounds to its 4 s timer granularity; automatic pings keep healthy peers alive */
  idleTimeoutSec: 60,
  closeGraceMs: 200,
  frameIntervalMs: 0,
})

export interface WsLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}
