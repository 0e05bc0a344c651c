// Owns the WebSocket fan-out's assembly: the uWS app and its handlers, the connections, the timers that step their
// writers, shutdown. Must never publish per socket or end a socket inside a uWS publish (measured: segfault): it defers.
//
// The parts, one way (writer decides → connection acts → hub knows topics):
//   ws/writer.ts       pure ladder, throttle and snapshot pacing: step(state, input, nowMs) → decision
//   ws/connection*.ts  one socket: control protocol, snapshots, held symbols, acting on the writer's decisions
//   ws/hub.ts          who wants which symbol: topic members, counts, detached holders; the dispatcher's FrameSink
//   ws/frame-batch.ts  one drain's frames merged per connection: one frame and one send each
//   http/routes.ts, http/app-host.ts   HTTP routes; listening or serving as a worker's child app
import * as uWS from 'uWebSockets.js'
import { AuditLog } from '../auth/audit-log.js'
import { Authenticator } from '../auth/authenticator.js'
import { httpAuthorizer } from '../auth/http-auth.js'
import { WsAuth } from '../auth/ws-auth.js'
import type { LastValueCache } from '../cache/last-value-cache.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { CLOSE_GOING_AWAY, CLOSE_SLOW_CONSUMER } from '../errors.js'
import { addChildApp, childAppDescriptor, closeListening, listenApp, removeChildApp } from '../http/app-host.js'
import { ConnectionGate, REFUSAL_STATUS } from '../http/connection-limits.js'
import { guardedRoutes, PipelineGuard } from '../http/pipeline-guard.js'
import { registerRoutes } from '../http/routes.js'
import { secureHeaders } from '../http/security-headers.js'
import type { SymbolTable } from '../model/symbols.js'
import { ControlRequest } from '../subscriptions/protocol.js'
import { RequestResult } from '../subscriptions/registry.js'
import type { SubscriptionRegistry } from '../subscriptions/registry.js'
import type { FrameSink } from './dispatcher.js'
import { Connection } from './ws/connection.js'
import { ControlPacer } from './ws/control-pacer.js'
import type { ConnectionHost, ConnectionLimits, HostedConnection } from './ws/connection-host.js'
import { Hub } from './ws/hub.js'
import { SnapshotFrames } from './ws/snapshot-frames.js'
import { ThrottleGroups } from './ws/throttle-groups.js'
import type { RingReplay } from '../resume/ring-replay.js'
import { upgradeFormat } from './ws/upgrade.js'
import { THROTTLE_TICK_MS, snapshotFrameBytes } from './ws/writer.js'
import type { WsStats } from './ws-stats.js'

export { THROTTLE_TICK_MS } from './ws/writer.js'
export { WS_DEFAULTS } from './ws/server-options.js'
export type { WsLog, WsServerOptions } from './ws/server-options.js'
import { NO_AUTH, WS_DEFAULTS } from './ws/server-options.js'
import type { WsLog, WsServerOptions } from './ws/server-options.js'

/**
 * uWS copies userData's own properties onto its socket object, where even one property costs a 40-byte property array
 * per connection (heap snapshot of 2,000 idle connections, issue 12). The socket gets none: a Map from socket to
 * Connection (the set of open connections the scan walks anyway) finds it, and the Connection made at the upgrade
 * reaches open through `opening` (uWS calls open inside res.upgrade, synchronously).
 */
type UserData = Record<string, never>
const NO_USER_DATA: UserData = Object.freeze({})
type Ws = uWS.WebSocket<UserData>

/** How often each connection's writer looks at its buffered bytes (ladder steps 2 and 3, paced snapshots). */
export const SLOW_SCAN_MS = 50

export class WsServer implements FrameSink {
  readonly app: uWS.TemplatedApp
  private readonly hub: Hub
  private readonly host: ConnectionHost
  readonly auth: WsAuth
  /** bounds pipelined HTTP requests per address per turn (tickcast_http_pipelining_refused_total) */
  readonly pipeline: PipelineGuard
  private readonly allowedOrigins: ReadonlySet<string> | null
  private readonly closeGraceMs: number
  private readonly connections = new Map<Ws, Connection>()
  /** the Connection res.upgrade is opening (uWS calls open before upgrade returns); null otherwise */
  private opening: Connection | null = null
  private readonly gate: ConnectionGate
  private readonly throttled = new Set<HostedConnection>()
  private readonly closeQueue: HostedConnection[] = []
  private closeScheduled = false
  private listenSocket: uWS.us_listen_socket | null = null
  private closing: Promise<void> | null = null
  private scanTimer: NodeJS.Timeout | null = null
  private throttleTimer: NodeJS.Timeout | null = null
  /** the last client address seen: consecutive upgrades from one address (a NAT, a proxy) share one string */
  private lastIp = ''

  constructor(opts: WsServerOptions, symbols: SymbolTable, lvc: LastValueCache, readonly stats: WsStats, private readonly log: WsLog) {
    const soft = opts.maxBackpressureBytes ?? WS_DEFAULTS.maxBackpressureBytes
    const registryLimits = {
      maxSymbolsPerConnection: opts.maxSymbolsPerConnection ?? WS_DEFAULTS.maxSymbolsPerConnection,
      maxPatternsPerConnection: opts.maxPatternsPerConnection ?? WS_DEFAULTS.maxPatternsPerConnection,
    }
    const limits: ConnectionLimits = {
      softBytes: soft,
      hardBytes: opts.slowHardLimitBytes ?? 4 * soft,
      graceMs: opts.slowGraceMs ?? WS_DEFAULTS.slowGraceMs,
      maxControlMessagesPerSec: opts.maxControlMessagesPerSec ?? WS_DEFAULTS.maxControlMessagesPerSec,
      controlBurst: opts.controlBurst ?? WS_DEFAULTS.controlBurst,
      maxEntriesPerRequest: registryLimits.maxSymbolsPerConnection + registryLimits.maxPatternsPerConnection,
    }
    this.closeGraceMs = opts.closeGraceMs ?? WS_DEFAULTS.closeGraceMs
    this.gate = new ConnectionGate(opts.admission ?? { maxConnections: Number.MAX_SAFE_INTEGER, maxPerIp: 0, upgradesPerIpPerSec: 0 })
    this.allowedOrigins = opts.allowedOrigins ? new Set(opts.allowedOrigins) : null
    this.scan = this.scan.bind(this)
    this.flushThrottled = this.flushThrottled.bind(this)
    this.closeQueued = this.closeQueued.bind(this)
    const tls = opts.tls
    this.app = tls ? uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile, passphrase: tls.passphrase || undefined }) : uWS.App()
    const authn = new Authenticator({ ...NO_AUTH, ...opts.auth }, stats, { info: (o, m) => log.info(o, m), error: (o, m) => log.warn(o, m) })
    this.auth = new WsAuth(authn, new AuditLog(log))
    this.hub = new Hub(symbols, registryLimits, stats, snapshotFrameBytes(limits), opts.frameIntervalMs ?? WS_DEFAULTS.frameIntervalMs)
    if (!this.hub.batch.wasm) log.warn({ code: 'ws_frames_without_wasm' }, 'no WebAssembly memory (address space capped?): frames are composed with copyWithin, ~2x the time a copy (README, Limits)')
    const frames = new SnapshotFrames(lvc, symbols), hub = this.hub
    const groups = new ThrottleGroups({
      app: this.app, frames, symbols, stats, maxFrameBytes: snapshotFrameBytes(limits),
      watch: (h, id) => hub.watch(h, id), unwatch: (h, id) => hub.unwatch(h, id), throttling: (g, on) => this.throttling(g, on),
    })
    this.host = {
      hub: this.hub, lvc, symbols, stats, log, limits, frames, auth: this.auth, groups, node: opts.node,
      req: new ControlRequest(), result: new RequestResult(), replay: null, pacer: new ControlPacer(),
      closeLater: (c) => this.closeLater(c),
      throttling: (c, on) => this.throttling(c, on),
    }
    this.app.ws<UserData>(opts.path ?? WS_DEFAULTS.path, {
      maxPayloadLength: opts.maxPayloadLengthBytes ?? WS_DEFAULTS.maxPayloadLengthBytes,
      maxBackpressure: limits.hardBytes,
      // false on purpose: with true, uWS shuts the socket itself (1006, no reason we can count) and a deferred
      // end() then throws on the closed socket (measured). We end it ourselves with 4001 one tick later.
      closeOnBackpressureLimit: false,
      idleTimeout: opts.idleTimeoutSec ?? WS_DEFAULTS.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: this.onUpgrade.bind(this),
      open: this.onOpen.bind(this),
      message: this.onMessage.bind(this),
      dropped: this.onDropped.bind(this),
      drain: this.onDrain.bind(this),
      close: this.onClose.bind(this),
    })
    this.pipeline = new PipelineGuard(opts.http ?? { pipeliningRefused: 0 })
    registerRoutes(guardedRoutes(this.app, this.pipeline), {
      symbols, lvc, ready: opts.ready, extraRoutes: opts.extraRoutes, http: opts.http, auth: httpAuthorizer(authn, this.auth.audit),
      onDenied: (ip, principal, symbol) => { authn.denied(1); this.auth.audit.denied(ip, principal, [symbol], 'rest') },
      isClosing: () => this.closing !== null,
    })
  }

  /** The subscription registry behind the hub (tests and diagnostics). */
  get registry(): SubscriptionRegistry { return this.hub.registry }

  // FrameSink: the dispatcher's side, straight to the hub (one typed-array read; frames merged per connection).
  wants(id: number, format: WireFormat): boolean { return this.hub.wants(id, format) }
  publish(id: number, format: WireFormat, frame: Uint8Array, trades = 0): void { this.hub.publish(id, format, frame, trades) }
  endBatch(): void { this.hub.endBatch() }
  tradesSkipped(id: number, format: WireFormat, count: number): void { this.hub.tradesSkipped(id, format, count) }
  detachedWants(id: number): boolean { return this.hub.detachedWants(id) }
  markDetached(id: number, trades: number): void { this.hub.markDetached(id, trades) }
  symbolAdded(id: number): void { this.hub.symbolAdded(id) }

  /** Lets clients resume (`since`) from `replay`: the ring and position of the dispatcher feeding this server. */
  enableResume(replay: RingReplay): void { this.host.replay = replay }

  async listen(host: string, port: number): Promise<number> {
    this.auth.authn.checkExposure(host)
    const l = await listenApp(this.app, host, port)
    this.listenSocket = l.socket
    this.startScan()
    this.log.info({ host, port: l.port }, 'websocket server listening')
    return l.port
  }

  /**
   * Fan-out worker: instead of listening, this app takes connections the main thread's app accepts and hands over
   * (uWS child apps, round-robin). Returns the descriptor the parent passes to addChild.
   */
  serveAsChild(): number {
    this.startScan()
    return childAppDescriptor(this.app)
  }

  /** Parent side: from now on, connections this app accepts go to the child apps in turn (none stay here). */
  addChild(descriptor: number): void { addChildApp(this.app, descriptor) }

  /** Parent side, before the child's thread closes its app: new connections must not be handed to it any more. */
  removeChild(descriptor: number): void { removeChildApp(this.app, descriptor) }

  /**
   * Ends every WebSocket with `code` (1001), closes the listen socket, lets close handshakes finish for
   * closeGraceMs, then cuts whatever is left (HTTP keep-alive). Idempotent. Note: this uWS build sets no
   * SO_REUSEADDR, so the server-side TIME_WAIT of served connections blocks re-binding the port for ~60 s.
   */
  close(code = CLOSE_GOING_AWAY, reason = 'shutdown'): Promise<void> {
    if (this.closing) return this.closing
    this.closing = (async () => {
      const n = this.connections.size
      this.hub.stop()
      for (const c of Array.from(this.connections.values())) c.end('shutdown', code, reason)
      if (this.listenSocket) { closeListening(this.listenSocket); this.listenSocket = null }
      if (this.scanTimer) { clearInterval(this.scanTimer); this.scanTimer = null }
      if (this.throttleTimer) { clearInterval(this.throttleTimer); this.throttleTimer = null }
      this.auth.stop()
      await new Promise((r) => setTimeout(r, this.closeGraceMs))
      this.app.close()
      this.log.info({ connections: n }, 'websocket server closed')
    })()
    return this.closing
  }

  private startScan(): void {
    if (this.scanTimer !== null) return
    this.auth.start()
    this.scanTimer = setInterval(this.scan, SLOW_SCAN_MS)
    this.scanTimer.unref()
  }

  /**
   * Every SLOW_SCAN_MS, outside any publish: each writer steps with its socket's buffered bytes (one native call per
   * connection per scan; 10k connections: 200k calls/s, ~1 % of a core), and owed snapshots go out if they may.
   */
  private scan(): void {
    const now = performance.now()
    for (const c of this.connections.values()) c.scan(now)
  }

  /** Every THROTTLE_TICK_MS while any connection has throttled symbols: each sends what is due. */
  private flushThrottled(): void {
    const now = performance.now()
    for (const c of this.throttled) c.flushThrottled(now)
    if (this.throttled.size === 0 && this.throttleTimer !== null) { clearInterval(this.throttleTimer); this.throttleTimer = null }
  }

  private throttling(c: HostedConnection, on: boolean): void {
    if (!on) { this.throttled.delete(c); return }
    this.throttled.add(c)
    if (this.throttleTimer === null && this.closing === null) {
      this.throttleTimer = setInterval(this.flushThrottled, THROTTLE_TICK_MS)
      this.throttleTimer.unref()
    }
  }

  /** A writer decided to close: maybe inside a uWS publish or drop callback, where ending would crash. Next turn. */
  private closeLater(c: HostedConnection): void {
    this.closeQueue.push(c)
    if (!this.closeScheduled) { this.closeScheduled = true; setImmediate(this.closeQueued) }
  }

  private closeQueued(): void {
    this.closeScheduled = false
    for (const c of this.closeQueue) c.end('slow_consumer', CLOSE_SLOW_CONSUMER, 'slow consumer')
    this.closeQueue.length = 0
  }

  private onUpgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    let ip = Buffer.from(res.getRemoteAddressAsText()).toString()
    if (ip === this.lastIp) ip = this.lastIp; else this.lastIp = ip
    const refused = this.gate.admit(ip, performance.now())
    if (refused !== null) { this.stats.upgradesRejected[refused]++; secureHeaders(res.writeStatus(REFUSAL_STATUS[refused])).writeHeader('Retry-After', '1').end(refused); return }
    const format = upgradeFormat(res, req, this.allowedOrigins, this.stats)
    if (format === -1) return
    // read before ws-auth may wait for a JWT check: uWS invalidates req when this handler returns
    const key = req.getHeader('sec-websocket-key'), protocol = req.getHeader('sec-websocket-protocol'), ext = req.getHeader('sec-websocket-extensions')
    this.auth.upgrade(res, req, (session) => {
      this.opening = new Connection(format, this.host, performance.now(), session)
      try { res.upgrade<UserData>(NO_USER_DATA, key, protocol, ext, context) } finally { this.opening = null }
    }, ip)
  }

  private onOpen(ws: Ws): void {
    const c = this.opening
    if (c === null) { ws.end(1011, 'not opened by an upgrade'); return } // never: open runs inside res.upgrade
    this.opening = null
    c.open(ws)
    this.gate.opened(c.session.ip)
    this.connections.set(ws, c)
    this.stats.connections++; this.stats.connectionsTotal++
    this.auth.opened(c)
  }

  private onMessage(ws: Ws, data: ArrayBuffer, isBinary: boolean): void { this.connections.get(ws)?.onMessage(data, isBinary, performance.now()) }

  private onDrain(ws: Ws): void { this.connections.get(ws)?.drain(performance.now()) }

  private onDropped(ws: Ws): void {
    this.stats.backpressureDrops++
    this.connections.get(ws)?.dropped()
  }

  private onClose(ws: Ws, code: number, message: ArrayBuffer): void {
    const c = this.connections.get(ws)
    if (c === undefined) return
    c.closed(code, Buffer.from(message).toString('latin1'))
    this.gate.closed(c.session.ip)
    this.connections.delete(ws)
  }
}
