// Owns every setting: one table of options (flag, env var, default, unit, meaning), parsed once into a frozen Config.
// Must never be read after boot or from anywhere but here: it is the only reader of process.env.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { redactUrl } from './redact.js'
import { feedPasswordEnv, parseFeed } from './feed-config.js'
import type { FeedConfig } from './feed-config.js'
import { MAX_FEEDS } from './model/shared-symbols.js'

export type { FeedConfig, FeedEndpoint } from './feed-config.js'
export { feedPasswordEnv, parseFeed } from './feed-config.js'

type Kind = 'string' | 'int' | 'bytes' | 'bool' | 'list' | 'feeds' | 'enum'
interface Option {
  key: string; flag: string; env: string; kind: Kind; def: string; help: string
  min?: number; max?: number; values?: readonly string[]
}

/** The whole configuration surface. README's configuration table is generated from this list (`--help --markdown`). */
export const OPTIONS: readonly Option[] = [
  { key: 'host', flag: 'host', env: 'TICKCAST_HOST', kind: 'string', def: '127.0.0.1', help: 'address the WebSocket/HTTP server listens on' },
  { key: 'port', flag: 'port', env: 'TICKCAST_PORT', kind: 'int', def: '8080', min: 0, max: 65535, help: 'WebSocket/HTTP port (0 = any free port)' },
  { key: 'metricsHost', flag: 'metrics-host', env: 'TICKCAST_METRICS_HOST', kind: 'string', def: '127.0.0.1', help: 'address of the Prometheus /metrics listener (a port of its own, never the client port)' },
  { key: 'metricsPort', flag: 'metrics-port', env: 'TICKCAST_METRICS_PORT', kind: 'int', def: '-1', min: -1, max: 65535, help: '/metrics port; -1 = --port + 1 (any free port when --port is 0); 0 = any free port; never --port itself' },
  { key: 'feeds', flag: 'feed', env: 'TICKCAST_FEEDS', kind: 'feeds', def: '', help: 'feed as name=protocol:tcp://[user:pass@]host:port[,tcp://host:port for an A/B pair][?session=S&seq=N&record=FILE&date=YYYY-MM-DD&symbols=AAPL,Z*&quota=N&glimpse=tcp://host:port&password-file=FILE]; protocol native, itch or tops; the password may instead come from TICKCAST_FEED_<NAME>_PASSWORD; repeatable (env: space-separated); none = embedded simulator' },
  { key: 'simSymbols', flag: 'sim-symbols', env: 'TICKCAST_SIM_SYMBOLS', kind: 'int', def: '500', min: 1, max: 100000, help: 'embedded simulator: symbols from feeds/symbols/us-equities.csv' },
  { key: 'simRate', flag: 'sim-rate', env: 'TICKCAST_SIM_RATE', kind: 'int', def: '20000', min: 0, max: 100000000, help: 'embedded simulator: messages per second (0 = as fast as possible)' },
  { key: 'simSeed', flag: 'sim-seed', env: 'TICKCAST_SIM_SEED', kind: 'int', def: '1', min: 0, max: 2 ** 31, help: 'embedded simulator: random seed' },
  { key: 'mqttUrl', flag: 'mqtt-url', env: 'TICKCAST_MQTT_URL', kind: 'string', def: '', help: "MQTT broker URL; empty = embedded broker on loopback; 'none' = no MQTT" },
  { key: 'mqttPrefix', flag: 'mqtt-prefix', env: 'TICKCAST_MQTT_PREFIX', kind: 'string', def: 'md/v1', help: 'topic prefix: {prefix}/quotes/{SYMBOL}, {prefix}/trades/{SYMBOL}, {prefix}/trading/{SYMBOL}, {prefix}/state/{SYMBOL}, {prefix}/status/{nodeId}' },
  { key: 'mqttFormat', flag: 'mqtt-format', env: 'TICKCAST_MQTT_FORMAT', kind: 'enum', values: ['msgpack', 'json'], def: 'msgpack', help: 'MQTT payload encoding' },
  { key: 'mqttProtocolVersion', flag: 'mqtt-protocol', env: 'TICKCAST_MQTT_PROTOCOL', kind: 'int', def: '5', min: 4, max: 5, help: 'MQTT protocol version (5, or 4 = 3.1.1; the embedded broker always uses 4)' },
  { key: 'mqttQuoteExpirySec', flag: 'mqtt-quote-expiry-sec', env: 'TICKCAST_MQTT_QUOTE_EXPIRY_SEC', kind: 'int', def: '60', min: 0, max: 86400, help: 'MQTT 5 message expiry of retained quotes (0 = never)' },
  { key: 'mqttTradesQos', flag: 'mqtt-trades-qos', env: 'TICKCAST_MQTT_TRADES_QOS', kind: 'int', def: '0', min: 0, max: 1, help: "QoS of trades and live status events: 1 = at least once, at most the broker's Receive Maximum unacknowledged (excess dropped and counted)" },
  { key: 'mqttRetainLastTrade', flag: 'mqtt-retain-last-trade', env: 'TICKCAST_MQTT_RETAIN_LAST_TRADE', kind: 'bool', def: 'false', help: 'retain trades on {prefix}/trades/{SYMBOL}: a late subscriber gets the last trade at once' },
  { key: 'mqttNodeId', flag: 'mqtt-node-id', env: 'TICKCAST_NODE_ID', kind: 'string', def: '', help: 'node id in the status topic; the MQTT client id adds the pid and a random suffix, so instances never take over each other (default: tickcast-<hostname>)' },
  { key: 'mqttEmbeddedPort', flag: 'mqtt-embedded-port', env: 'TICKCAST_MQTT_EMBEDDED_PORT', kind: 'int', def: '0', min: 0, max: 65535, help: 'port of the embedded MQTT broker (loopback; used when --mqtt-url is empty); 0 = any free port' },
  { key: 'mqttUsername', flag: 'mqtt-username', env: 'TICKCAST_MQTT_USERNAME', kind: 'string', def: '', help: 'MQTT username' },
  { key: 'mqttPassword', flag: 'mqtt-password', env: 'TICKCAST_MQTT_PASSWORD', kind: 'string', def: '', help: 'MQTT password' },
  { key: 'ringCapacity', flag: 'ring-capacity', env: 'TICKCAST_RING_CAPACITY', kind: 'int', def: '1048576', min: 1024, max: 2 ** 26, help: 'ring slots (power of two); about 110 bytes each' },
  { key: 'maxSymbols', flag: 'max-symbols', env: 'TICKCAST_MAX_SYMBOLS', kind: 'int', def: '65536', min: 16, max: 1048576, help: 'symbol universe capacity across all feeds' },
  { key: 'ingestThread', flag: 'ingest-thread', env: 'TICKCAST_INGEST_THREAD', kind: 'enum', values: ['auto', 'on', 'off'], def: 'auto', help: 'feeds, decoding and the ring writer on their own thread, so a busy fan-out never holds a feed back (README, Overload); auto = on when running from dist/ on x86-64, without --source or --bus, ring ≥ 16384' },
  { key: 'workers', flag: 'workers', env: 'TICKCAST_WORKERS', kind: 'int', def: '0', min: 0, max: 16, help: 'fan-out worker threads; 0 = fan out on the main thread' },
  { key: 'dispatchIntervalMs', flag: 'dispatch-interval-ms', env: 'TICKCAST_DISPATCH_INTERVAL_MS', kind: 'int', def: '0', min: 0, max: 1000, help: 'fan-out drains the ring at most this often (0 = as soon as events arrive): fewer, fuller frames and sends cut CPU per delivered update (README, Benchmarks: fanout-cost) for up to this much added latency; MQTT conflates per drain' },
  { key: 'dispatchMaxBusyPct', flag: 'dispatch-max-busy-pct', env: 'TICKCAST_DISPATCH_MAX_BUSY_PCT', kind: 'int', def: '100', min: 1, max: 100, help: 'fan-out drains keep their thread busy at most this share of the time: after a drain of d ms the next starts no sooner than d × 100 / this after it began (100 = no bound); with many subscribers, fewer and fuller sends for up to (100 / this − 1) drains of added latency (README, Benchmarks: CPU per delivered update)' },
  { key: 'wsMaxSymbols', flag: 'ws-max-symbols', env: 'TICKCAST_WS_MAX_SYMBOLS', kind: 'int', def: '1000', min: 1, max: 1000000, help: 'explicit symbols one connection may subscribe to' },
  { key: 'wsMaxPatterns', flag: 'ws-max-patterns', env: 'TICKCAST_WS_MAX_PATTERNS', kind: 'int', def: '10', min: 0, max: 1000, help: 'patterns (A*, *) one connection may subscribe to' },
  { key: 'wsMaxControlPerSec', flag: 'ws-max-control-per-sec', env: 'TICKCAST_WS_MAX_CONTROL_PER_SEC', kind: 'int', def: '50', min: 1, max: 100000, help: 'control messages per second per connection before RATE_LIMITED' },
  { key: 'wsMaxPayloadBytes', flag: 'ws-max-payload-bytes', env: 'TICKCAST_WS_MAX_PAYLOAD_BYTES', kind: 'bytes', def: '4096', min: 256, max: 1048576, help: 'largest control message accepted; bigger frames close the connection (1009)' },
  { key: 'wsMaxBackpressureBytes', flag: 'ws-max-backpressure-bytes', env: 'TICKCAST_WS_MAX_BACKPRESSURE_BYTES', kind: 'bytes', def: '1048576', min: 16384, max: 1073741824, help: 'soft limit: bytes queued for one connection before it is conflated (latest value per symbol until it drains)' },
  { key: 'wsFrameIntervalMs', flag: 'ws-frame-interval-ms', env: 'TICKCAST_WS_FRAME_INTERVAL_MS', kind: 'int', def: '0', min: 0, max: 1000, help: 'each WebSocket connection gets at most one merged data frame per this many ms, on a phase of its own (0 = one per fan-out drain): each frame is one send, so CPU per delivered update falls as frames fill, for up to this much added latency; the first update after a pause of one interval goes at once (README, Benchmarks: CPU per delivered update)' },
  { key: 'wsSlowGraceMs', flag: 'ws-slow-grace-ms', env: 'TICKCAST_WS_SLOW_GRACE_MS', kind: 'int', def: '10000', min: 100, max: 600000, help: 'a connection still conflating after this long (its buffer never drained to half the soft limit) is closed 4001' },
  { key: 'wsSlowHardLimitBytes', flag: 'ws-slow-hard-limit-bytes', env: 'TICKCAST_WS_SLOW_HARD_LIMIT_BYTES', kind: 'bytes', def: '4194304', min: 16384, max: 1073741824, help: 'bytes queued for one connection before it is closed at once (4001); must exceed --ws-max-backpressure-bytes' },
  { key: 'wsIdleTimeoutSec', flag: 'ws-idle-timeout-sec', env: 'TICKCAST_WS_IDLE_TIMEOUT_SEC', kind: 'int', def: '60', min: 8, max: 960, help: 'close connections silent this long (pings are sent automatically)' },
  { key: 'maxConnections', flag: 'max-connections', env: 'TICKCAST_MAX_CONNECTIONS', kind: 'int', def: '50000', min: 1, max: 1000000, help: 'open WebSocket connections (per thread with --workers); lowered to the descriptor limit minus 128; over it upgrades get 503' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', env: 'TICKCAST_MAX_CONNECTIONS_PER_IP', kind: 'int', def: '1000', min: 0, max: 1000000, help: 'open WebSocket connections from one address (0 = no cap); over it upgrades get 429' },
  { key: 'upgradesPerIpPerSec', flag: 'upgrades-per-ip-per-sec', env: 'TICKCAST_UPGRADES_PER_IP_PER_SEC', kind: 'int', def: '100', min: 0, max: 1000000, help: 'sustained WebSocket upgrades per second from one address, bursts up to --max-connections-per-ip (0 = unlimited); over it 429' },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'TICKCAST_ALLOWED_ORIGINS', kind: 'list', def: '', help: 'comma-separated Origin allow-list for WebSocket upgrades; empty = any' },
  { key: 'feedHeartbeatMs', flag: 'feed-heartbeat-ms', env: 'TICKCAST_FEED_HEARTBEAT_MS', kind: 'int', def: '1000', min: 50, max: 60000, help: 'SoupBinTCP client heartbeat interval' },
  { key: 'feedDeadAfterMs', flag: 'feed-dead-after-ms', env: 'TICKCAST_FEED_DEAD_AFTER_MS', kind: 'int', def: '15000', min: 100, max: 600000, help: 'silence after which a feed line is declared dead and reconnected' },
  { key: 'feedStaleAfterMs', flag: 'feed-stale-after-ms', env: 'TICKCAST_FEED_STALE_AFTER_MS', kind: 'int', def: '5000', min: 100, max: 600000, help: '/readyz fails when a feed has received nothing for this long' },
  { key: 'authJwtSecretFile', flag: 'auth-jwt-secret-file', env: 'TICKCAST_AUTH_JWT_SECRET_FILE', kind: 'string', def: '', help: 'file holding the HS256 JWT secret (≥ 32 bytes); enables authentication' },
  { key: 'authJwksFile', flag: 'auth-jwks-file', env: 'TICKCAST_AUTH_JWKS_FILE', kind: 'string', def: '', help: 'JWKS file of RS256/ES256/EdDSA public keys (reloaded when it changes); enables authentication' },
  { key: 'authJwksUrl', flag: 'auth-jwks-url', env: 'TICKCAST_AUTH_JWKS_URL', kind: 'string', def: '', help: 'JWKS URL (fetched, cached 10 min, refetched for an unknown kid at most once a second); enables authentication' },
  { key: 'authJwtIssuer', flag: 'auth-jwt-issuer', env: 'TICKCAST_AUTH_JWT_ISSUER', kind: 'string', def: '', help: 'required JWT iss; empty = not checked' },
  { key: 'authJwtAudience', flag: 'auth-jwt-audience', env: 'TICKCAST_AUTH_JWT_AUDIENCE', kind: 'string', def: '', help: 'required JWT aud; empty = not checked' },
  { key: 'authClockSkewSec', flag: 'auth-clock-skew-sec', env: 'TICKCAST_AUTH_CLOCK_SKEW_SEC', kind: 'int', def: '30', min: 0, max: 300, help: 'clock skew tolerated on JWT exp/nbf' },
  { key: 'authApiKeysFile', flag: 'auth-api-keys-file', env: 'TICKCAST_AUTH_API_KEYS_FILE', kind: 'string', def: '', help: 'API keys file (SHA-256 hashes → principal, entitlements; reloaded live); enables authentication' },
  { key: 'authRolesFile', flag: 'auth-roles-file', env: 'TICKCAST_AUTH_ROLES_FILE', kind: 'string', def: '', help: 'roles file: role → symbol patterns, maxHz, maxSymbols, maxConnections (reloaded live)' },
  { key: 'allowAnonymous', flag: 'allow-anonymous', env: 'TICKCAST_ALLOW_ANONYMOUS', kind: 'bool', def: 'false', help: 'accept clients without a credential on a non-loopback address (with auth on: role "anonymous")' },
  { key: 'authQueryToken', flag: 'auth-query-token', env: 'TICKCAST_AUTH_QUERY_TOKEN', kind: 'bool', def: 'false', help: 'also accept ?token= on the upgrade and REST (URLs reach proxy logs: off by default)' },
  { key: 'authDeadlineMs', flag: 'auth-deadline-ms', env: 'TICKCAST_AUTH_DEADLINE_MS', kind: 'int', def: '5000', min: 100, max: 60000, help: 'a connection without a credential on the upgrade must send op:auth within this long (else 4401)' },
  { key: 'authExpiryWarnSec', flag: 'auth-expiry-warn-sec', env: 'TICKCAST_AUTH_EXPIRY_WARN_SEC', kind: 'int', def: '60', min: 1, max: 3600, help: 'auth_expiring is sent this long before a token expires' },
  { key: 'tlsCertFile', flag: 'tls-cert-file', env: 'TICKCAST_TLS_CERT_FILE', kind: 'string', def: '', help: 'PEM certificate chain: serve https:// and wss:// (TLS ≥ 1.2)' },
  { key: 'tlsKeyFile', flag: 'tls-key-file', env: 'TICKCAST_TLS_KEY_FILE', kind: 'string', def: '', help: 'PEM private key of --tls-cert-file' },
  { key: 'tlsPassphraseFile', flag: 'tls-passphrase-file', env: 'TICKCAST_TLS_PASSPHRASE_FILE', kind: 'string', def: '', help: 'file holding the passphrase of --tls-key-file' },
  { key: 'mqttCaFile', flag: 'mqtt-ca-file', env: 'TICKCAST_MQTT_CA_FILE', kind: 'string', def: '', help: 'PEM CA the MQTT broker certificate must chain to (mqtts://)' },
  { key: 'mqttCertFile', flag: 'mqtt-cert-file', env: 'TICKCAST_MQTT_CERT_FILE', kind: 'string', def: '', help: 'PEM client certificate for the MQTT broker' },
  { key: 'mqttKeyFile', flag: 'mqtt-key-file', env: 'TICKCAST_MQTT_KEY_FILE', kind: 'string', def: '', help: 'PEM private key of --mqtt-cert-file' },
  { key: 'mqttServername', flag: 'mqtt-servername', env: 'TICKCAST_MQTT_SERVERNAME', kind: 'string', def: '', help: 'TLS server name (SNI and certificate check) for the MQTT broker; empty = the URL host' },
  { key: 'bus', flag: 'bus', env: 'TICKCAST_BUS', kind: 'list', def: '', help: 'ingest node: publish every normalized event to this NATS JetStream cluster (nats://h1:4222,nats://h2:4222,...); empty = no bus' },
  { key: 'source', flag: 'source', env: 'TICKCAST_SOURCE', kind: 'list', def: '', help: 'edge node: read events from this NATS JetStream cluster (stream --bus-stream) instead of a feed; upstream n is kept' },
  { key: 'busStream', flag: 'bus-stream', env: 'TICKCAST_BUS_STREAM', kind: 'string', def: 'tickcast', help: 'JetStream stream name (created when missing; an existing one must match the --bus-* settings: BUS_STREAM_MISMATCH)' },
  { key: 'busSubjectPrefix', flag: 'bus-subject-prefix', env: 'TICKCAST_BUS_SUBJECT_PREFIX', kind: 'string', def: 'md.v1', help: 'bus subjects: {prefix}.{q|t|st|stale|fresh|sym}.{SYMBOL}' },
  { key: 'busReplicas', flag: 'bus-replicas', env: 'TICKCAST_BUS_REPLICAS', kind: 'int', def: '3', min: 1, max: 5, help: 'stream replicas (3 survives the loss of one NATS node)' },
  { key: 'busMaxAgeSec', flag: 'bus-max-age-sec', env: 'TICKCAST_BUS_MAX_AGE_SEC', kind: 'int', def: '3600', min: 1, max: 604800, help: 'stream history kept (how long an edge may be away and resume without a gap)' },
  { key: 'busMaxMsgsPerSubject', flag: 'bus-max-msgs-per-subject', env: 'TICKCAST_BUS_MAX_MSGS_PER_SUBJECT', kind: 'int', def: '-1', min: -1, max: 1000000000, help: 'stream history per subject (-1 = bounded by --bus-max-age-sec only)' },
  { key: 'busDuplicateWindowSec', flag: 'bus-duplicate-window-sec', env: 'TICKCAST_BUS_DUPLICATE_WINDOW_SEC', kind: 'int', def: '120', min: 1, max: 3600, help: 'message-id de-duplication window (hot-hot ingest nodes publish the same ids)' },
  { key: 'nodeName', flag: 'node-name', env: 'TICKCAST_NODE_NAME', kind: 'string', def: '', help: 'this node\'s name in subscribe acks (`node`) and on the live page, so a client behind a load balancer sees which node serves it (default: <hostname>:<port>)' },
  { key: 'streamEpoch', flag: 'stream-epoch', env: 'TICKCAST_STREAM_EPOCH', kind: 'string', def: '', help: 'names the event stream this node serves: clients resume (since) only on nodes of the same epoch; nodes reading the same feed session share one (default: unique per process)' },
  { key: 'logLevel', flag: 'log-level', env: 'TICKCAST_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], def: 'info', help: 'log level (pino)' },
  { key: 'shutdownDeadlineMs', flag: 'shutdown-deadline-ms', env: 'TICKCAST_SHUTDOWN_DEADLINE_MS', kind: 'int', def: '2000', min: 100, max: 60000, help: 'after SIGTERM, exit 1 if shutdown takes longer' },
  { key: 'drainMs', flag: 'drain-ms', env: 'TICKCAST_DRAIN_MS', kind: 'int', def: '0', min: 0, max: 600000, help: 'after SIGTERM, answer /readyz 503 (draining) this long while serving everything, then close clients (1001) and exit; set it above your load balancer\'s readiness interval × failure threshold' },
]

export interface Config {
  host: string; port: number; metricsHost: string; metricsPort: number; feeds: readonly FeedConfig[]
  simSymbols: number; simRate: number; simSeed: number
  mqttUrl: string; mqttPrefix: string; mqttFormat: 'msgpack' | 'json'; mqttProtocolVersion: 4 | 5
  mqttQuoteExpirySec: number; mqttTradesQos: 0 | 1; mqttRetainLastTrade: boolean; mqttNodeId: string; mqttEmbeddedPort: number; mqttUsername: string; mqttPassword: string
  ringCapacity: number; maxSymbols: number; workers: number; ingestThread: 'auto' | 'on' | 'off'; dispatchIntervalMs: number; dispatchMaxBusyPct: number
  wsMaxSymbols: number; wsMaxPatterns: number; wsMaxControlPerSec: number; wsMaxPayloadBytes: number
  wsMaxBackpressureBytes: number; wsSlowGraceMs: number; wsFrameIntervalMs: number; wsSlowHardLimitBytes: number; wsIdleTimeoutSec: number; allowedOrigins: readonly string[]
  maxConnections: number; maxConnectionsPerIp: number; upgradesPerIpPerSec: number
  feedHeartbeatMs: number; feedDeadAfterMs: number; feedStaleAfterMs: number
  logLevel: string; shutdownDeadlineMs: number; drainMs: number
  authJwtSecretFile: string; authJwksFile: string; authJwksUrl: string; authJwtIssuer: string; authJwtAudience: string; authClockSkewSec: number
  authApiKeysFile: string; authRolesFile: string; allowAnonymous: boolean; authQueryToken: boolean; authDeadlineMs: number; authExpiryWarnSec: number
  tlsCertFile: string; tlsKeyFile: string; tlsPassphraseFile: string
  mqttCaFile: string; mqttCertFile: string; mqttKeyFile: string; mqttServername: string
  streamEpoch: string
  nodeName: string
  bus: readonly string[]; source: readonly string[]; busStream: string; busSubjectPrefix: string; busReplicas: number; busMaxAgeSec: number
  busMaxMsgsPerSubject: number; busDuplicateWindowSec: number
}

/** Every problem found, reported at once; `usage` marks command-line mistakes (exit 2) vs bad values (exit 1). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[], readonly usage: boolean) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

export type CliResult = { kind: 'run'; config: Config } | { kind: 'help'; text: string } | { kind: 'version' }

function parseValue(o: Option, raw: string, problems: string[]): unknown {
  const where = `--${o.flag} / ${o.env}`
  switch (o.kind) {
    case 'string': return raw
    case 'list': return raw.split(',').map((s) => s.trim()).filter(Boolean)
    case 'enum':
      if (!o.values!.includes(raw)) problems.push(`${where}: "${raw}" is not one of ${o.values!.join(', ')}`)
      return raw
    case 'bool': return raw === 'true' || raw === '1'
    case 'feeds': return raw.split(/\s+/).filter(Boolean).map((s) => parseFeed(s, problems)).filter((f) => f !== null)
    case 'int': case 'bytes': {
      const v = o.kind === 'bytes' ? parseBytes(raw) : Number(raw)
      if (!Number.isInteger(v) || v < (o.min ?? -Infinity) || v > (o.max ?? Infinity)) {
        problems.push(`${where}: "${raw}" must be an integer in ${o.min}..${o.max}${o.kind === 'bytes' ? ' (suffixes KiB, MiB allowed)' : ''}`)
      }
      return v
    }
  }
}

function parseBytes(raw: string): number {
  const m = /^(\d+)\s*(KiB|MiB|GiB)?$/.exec(raw.trim())
  if (!m) return Number.NaN
  return Number(m[1]) * (m[2] === 'GiB' ? 2 ** 30 : m[2] === 'MiB' ? 2 ** 20 : m[2] === 'KiB' ? 1024 : 1)
}

/**
 * Pure: flags > env > config file (--config / TICKCAST_CONFIG, JSON keyed by flag name) > defaults.
 * Throws ConfigError listing every problem at once.
 */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliResult {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' }, version: { type: 'boolean' }, markdown: { type: 'boolean' }, config: { type: 'string' },
  }
  for (const o of OPTIONS) parseOptions[o.flag] = { type: o.kind === 'bool' ? 'boolean' : 'string', multiple: o.kind === 'feeds' }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options: parseOptions, strict: true, allowPositionals: false })
  } catch (e) {
    throw new ConfigError([(e as Error).message], true)
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>
  if (flags.help) return { kind: 'help', text: flags.markdown ? markdownTable() : usage() }
  if (flags.version) return { kind: 'version' }

  const problems: string[] = []
  let file: Record<string, unknown> = {}
  const configPath = (flags.config as string | undefined) ?? env.TICKCAST_CONFIG
  if (configPath) {
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>
      for (const k of Object.keys(file)) if (!OPTIONS.some((o) => o.flag === k)) problems.push(`${configPath}: unknown key "${k}"`)
    } catch (e) { problems.push(`--config ${configPath}: ${(e as Error).message}`) }
  }
  const out: Record<string, unknown> = {}
  for (const o of OPTIONS) {
    const flag = flags[o.flag]
    let raw: string
    if (o.kind === 'feeds' && Array.isArray(flag) && flag.length > 0) raw = flag.join(' ')
    else if (typeof flag === 'string') raw = flag
    else if (flag === true) raw = 'true'
    else if (env[o.env] !== undefined) raw = env[o.env]!
    else if (file[o.flag] !== undefined) raw = Array.isArray(file[o.flag]) ? (file[o.flag] as unknown[]).join(o.kind === 'feeds' ? ' ' : ',') : String(file[o.flag])
    else raw = o.def
    out[o.key] = parseValue(o, raw, problems)
  }
  const c = out as unknown as Config
  if ((c.ringCapacity & (c.ringCapacity - 1)) !== 0) problems.push(`--ring-capacity / TICKCAST_RING_CAPACITY: ${c.ringCapacity} must be a power of two`)
  // Workers copy from the shared ring while the writer may be up to MAX_UNCOMMITTED_EVENTS (4,096) ahead of what
  // it shared; below 16,384 slots that margin eats most of the copy window and tears would be missed.
  if (c.workers > 0 && c.ringCapacity < 16384) problems.push(`--ring-capacity: ${c.ringCapacity} is too small for --workers (at least 16384)`)
  if (c.wsSlowHardLimitBytes <= c.wsMaxBackpressureBytes) problems.push(`--ws-slow-hard-limit-bytes: ${c.wsSlowHardLimitBytes} must exceed --ws-max-backpressure-bytes (${c.wsMaxBackpressureBytes})`)
  const names = new Set<string>()
  for (const f of c.feeds) { if (names.has(f.name)) problems.push(`--feed: duplicate feed name "${f.name}"`); names.add(f.name) }
  // a symbol's owning feed is one byte per symbol (SharedSymbols.owner): feeds are numbered 1..255
  if (c.feeds.length > MAX_FEEDS) problems.push(`--feed: at most ${MAX_FEEDS} feeds, got ${c.feeds.length}`)
  c.feeds = c.feeds.map((f) => {
    const fromEnv = env[feedPasswordEnv(f.name)]
    if (fromEnv === undefined) return f
    if (fromEnv.length > 10) problems.push(`${feedPasswordEnv(f.name)}: SoupBinTCP password ≤ 10 characters`)
    return { ...f, password: fromEnv }
  })
  if (c.mqttUrl && c.mqttUrl !== 'none' && !/^(mqtts?|wss?|tcp):\/\//.test(c.mqttUrl)) problems.push(`--mqtt-url / TICKCAST_MQTT_URL: "${redactUrl(c.mqttUrl)}" must start with mqtt://, mqtts://, ws:// or wss://`)
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(c.mqttPrefix)) problems.push(`--mqtt-prefix / TICKCAST_MQTT_PREFIX: "${c.mqttPrefix}" must be topic levels of [A-Za-z0-9_-] (no wildcards)`)
  for (const origin of c.allowedOrigins) {
    if (origin === 'null' || !/^https?:\/\/[^/]+$/.test(origin)) problems.push(`--allowed-origins: "${origin}" must be scheme://host[:port]`)
  }
  // /metrics has a listener of its own (loopback by default): a scrape flood never shares the clients' accept loop
  if (c.metricsPort === -1) c.metricsPort = c.port === 0 ? 0 : c.port + 1
  if (c.metricsPort > 65535 && c.port <= 65535) problems.push(`--metrics-port: --port ${c.port} + 1 is not a port; give --metrics-port`)
  else if (c.metricsPort !== 0 && c.metricsPort === c.port) problems.push(`--metrics-port: ${c.metricsPort} is the client port (--port); /metrics needs a port of its own`)
  if (Boolean(c.tlsCertFile) !== Boolean(c.tlsKeyFile)) problems.push('--tls-cert-file and --tls-key-file go together')
  if (Boolean(c.mqttCertFile) !== Boolean(c.mqttKeyFile)) problems.push('--mqtt-cert-file and --mqtt-key-file go together')
  if (c.authJwksFile && c.authJwksUrl) problems.push('--auth-jwks-file and --auth-jwks-url: give one')
  if (c.authJwksUrl && !/^https?:\/\//.test(c.authJwksUrl)) problems.push(`--auth-jwks-url: "${c.authJwksUrl}" must be an http(s) URL`)
  if (!c.nodeName) c.nodeName = `${hostname()}:${c.port}`
  if (!c.mqttNodeId) c.mqttNodeId = `tickcast-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}`
  else if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.mqttNodeId)) problems.push(`--mqtt-node-id: "${c.mqttNodeId}" must be 1-64 of [A-Za-z0-9_-]`)
  if (problems.length > 0) throw new ConfigError(problems, false)
  return { kind: 'run', config: Object.freeze(c) }
}

export function usage(): string {
  const rows = OPTIONS.map((o) => `  --${o.flag.padEnd(28)} ${o.help}\n  ${' '.repeat(30)} env ${o.env}, default ${o.def === '' ? '(empty)' : o.def}`)
  return ['Usage: tickcast [options]', '', '  --help                         this text (--help --markdown: as a Markdown table)',
    '  --version                      print the version', '  --config FILE                  JSON file keyed by flag name (env TICKCAST_CONFIG)', ...rows, ''].join('\n')
}

/** The README's configuration table (README.md must contain exactly this; a test checks it). */
export function markdownTable(): string {
  const rows = OPTIONS.map((o) => `| \`--${o.flag}\` | \`${o.env}\` | ${o.def === '' ? '(empty)' : `\`${o.def}\``} | ${o.help.replace(/\|/g, '\\|')} |`)
  return ['| flag | env var | default | meaning |', '|---|---|---|---|', ...rows, ''].join('\n')
}
