// Owns the uWS app: WebSocket upgrade checks, control messages, snapshots, per-topic publish, slow-consumer closes.
// Must never loop over sockets per tick or end a socket inside a uWS publish (measured: segfault): it defers.
import * as uWS from 'uWebSockets.js'
import type { LastValueCache } from '../cache/last-value-cache.js'
import { FORMAT_JSON, FORMAT_MSGPACK, FORMAT_NAMES, writeSnapshot } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { JSON_EVENT_MAX_BYTES, JSON_FRAME_CLOSE, JSON_FRAME_OPEN, JSON_FRAME_SEP } from '../codec/json-codec.js'
import { MSGPACK_FRAME_MAX_EVENTS, writeMsgpackFrameHeader } from '../codec/msgpack-codec.js'
import { CLOSE_GOING_AWAY, CLOSE_RATE_LIMITED, CLOSE_SLOW_CONSUMER, ERR_RATE_LIMITED, bootError } from '../errors.js'
import type { SymbolTable } from '../model/symbols.js'
import { registerRoutes } from '../http/routes.js'
import type { MetricsBody, ReadyState } from '../http/routes.js'
import type { HttpStats } from '../metrics/http-stats.js'
import {
  ControlRequest, OP_PING, OP_SUBSCRIBE, ackReply, errorReply, gapReply, parseControl, pongReply,
} from '../subscriptions/protocol.js'
import { RequestResult, Subscriber, SubscriptionRegistry } from '../subscriptions/registry.js'
import { slowReply, tradesSkippedReply } from '../subscriptions/protocol.js'
import { DetachedIndex } from './conflation.js'
import type { PendingOwner, PendingSymbol } from './conflation.js'
import type { CloseReason, ControlErrorCode, WsStats } from './ws-stats.js'

export interface WsServerOptions {
  path?: string
  maxSymbolsPerConnection?: number
  maxPatternsPerConnection?: number
  maxControlMessagesPerSec?: number
  /** token-bucket size; a client that sends this many more while limited is closed with 4005 */
  controlBurst?: number
  maxPayloadLengthBytes?: number
  /** soft limit: over it a connection is conflated (uWS maxBackpressure) */
  maxBackpressureBytes?: number
  /** hard limit (uWS maxBackpressure): a connection over it is closed 4001 at once; default 4 × the soft limit */
  slowHardLimitBytes?: number
  /** a connection still conflating after this long (its buffer never drained to half the soft limit) is closed 4001 */
  slowGraceMs?: number
  idleTimeoutSec?: number
  /** exact Origin values allowed; null/absent = any origin (a missing Origin header is always allowed) */
  allowedOrigins?: readonly string[] | null
  /** how long close() lets close handshakes finish before it cuts every remaining socket */
  closeGraceMs?: number
  ready?: () => ReadyState
  metrics?: () => Promise<MetricsBody>
  /** HTTP request counters (tickcast_http_requests_total) */
  http?: HttpStats
  extraRoutes?: (app: uWS.TemplatedApp) => void
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
})

export interface WsLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** Per-connection state; uWS copies userData's own properties, so the session rides as `{ s }`. */
class Session extends Subscriber implements PendingOwner {
  // Conflation state exists only once a connection has been slow or throttled (made on first use).
  private pendingMap: Map<number, PendingSymbol> | null = null
  private dirty: number[] | null = null
  get pending(): Map<number, PendingSymbol> { return this.pendingMap ??= new Map() }
  get dirtyList(): number[] { return this.dirty ??= [] }
  /** STATE_NORMAL or STATE_CONFLATING */
  state = STATE_NORMAL
  conflatingSinceMs = 0
  /** the `conflating` announcement was dropped behind the full buffer: send it before the catch-up */
  announcePending = false
  throttled = 0
  /** over the hard limit: closing */
  hardLimited = false
  tokens: number
  lastRefillMs: number
  /** set just before this server ends the socket, so the close handler counts the right reason */
  closeReason: CloseReason | null = null
  slow = false
  constructor(format: WireFormat, burst: number, nowMs: number) {
    super(format)
    this.tokens = burst; this.lastRefillMs = nowMs
  }
}
interface UserData { s: Session }
/** In the uws-pack binary but missing from its typings (DESIGN.md, known traps): a native app pointer as a double. */
interface ChildApp {
  getDescriptor(): number
  addChildAppDescriptor(d: number): void
  removeChildAppDescriptor(d: number): void
}
type Ws = uWS.WebSocket<UserData>

/** every connection subscribes to this topic: gap notices go out as one publish */
const SEND_DROPPED = 2
const STATE_NORMAL = 0, STATE_CONFLATING = 1
/** throttled symbols are flushed on this timer; it bounds maxHz (≤ 100) and maxAgeMs (≥ 10) */
export const THROTTLE_TICK_MS = 10
/** how often buffered amounts are compared with the soft limit */
export const SLOW_SCAN_MS = 50

// uWS reports its own closes only as reason strings (reliability.md §B): map them to a bounded set.
function classifyClose(code: number, message: string): CloseReason {
  if (code === 1000 || code === 1001 || code === 1005) return 'normal'
  if (message.includes('too big')) return 'too_big'
  if (message.includes('inactivity') || message.includes('timed out')) return 'idle'
  if (message.includes('invalid') || message.includes('Invalid')) return 'protocol'
  return 'abnormal'
}

export class WsServer {
  readonly app: uWS.TemplatedApp
  readonly registry: SubscriptionRegistry
  private readonly cfg: Required<Omit<WsServerOptions, 'ready' | 'metrics' | 'extraRoutes' | 'allowedOrigins' | 'http'>>
  private readonly allowedOrigins: ReadonlySet<string> | null
  private readonly sessions = new Set<Session>()
  private readonly req = new ControlRequest()
  private readonly result = new RequestResult()
  private snapBuf = Buffer.allocUnsafe(64 * 1024)
  private listenSocket: uWS.us_listen_socket | null = null
  private closing: Promise<void> | null = null
  private readonly ratePerMs: number
  /** per symbol: connections holding it outside uWS (conflating, throttled); the dispatcher reads `count` */
  readonly detached: DetachedIndex
  private readonly conflating = new Set<Session>()
  private readonly throttledSessions = new Set<Session>()
  private readonly hardQueue: Session[] = []
  private hardScheduled = false
  private scanTimer: NodeJS.Timeout | null = null
  private slowTimer: NodeJS.Timeout | null = null
  private throttleTimer: NodeJS.Timeout | null = null
  private readonly idBuf: number[] = []

  constructor(opts: WsServerOptions, private readonly symbols: SymbolTable, private readonly lvc: LastValueCache,
    readonly stats: WsStats, private readonly log: WsLog) {
    this.cfg = {
      path: opts.path ?? WS_DEFAULTS.path,
      maxSymbolsPerConnection: opts.maxSymbolsPerConnection ?? WS_DEFAULTS.maxSymbolsPerConnection,
      maxPatternsPerConnection: opts.maxPatternsPerConnection ?? WS_DEFAULTS.maxPatternsPerConnection,
      maxControlMessagesPerSec: opts.maxControlMessagesPerSec ?? WS_DEFAULTS.maxControlMessagesPerSec,
      controlBurst: opts.controlBurst ?? WS_DEFAULTS.controlBurst,
      maxPayloadLengthBytes: opts.maxPayloadLengthBytes ?? WS_DEFAULTS.maxPayloadLengthBytes,
      maxBackpressureBytes: opts.maxBackpressureBytes ?? WS_DEFAULTS.maxBackpressureBytes,
      idleTimeoutSec: opts.idleTimeoutSec ?? WS_DEFAULTS.idleTimeoutSec,
      closeGraceMs: opts.closeGraceMs ?? WS_DEFAULTS.closeGraceMs,
      slowGraceMs: opts.slowGraceMs ?? WS_DEFAULTS.slowGraceMs,
      slowHardLimitBytes: opts.slowHardLimitBytes ?? 4 * (opts.maxBackpressureBytes ?? WS_DEFAULTS.maxBackpressureBytes),
    }
    this.detached = new DetachedIndex(symbols.capacity)
    this.closeHard = this.closeHard.bind(this)
    this.scanSlow = this.scanSlow.bind(this)
    this.checkSlow = this.checkSlow.bind(this)
    this.flushThrottled = this.flushThrottled.bind(this)
    this.allowedOrigins = opts.allowedOrigins ? new Set(opts.allowedOrigins) : null
    this.ratePerMs = this.cfg.maxControlMessagesPerSec / 1000
    this.registry = new SubscriptionRegistry(symbols, this.cfg, stats)
    this.app = uWS.App()
    this.app.ws<UserData>(this.cfg.path, {
      maxPayloadLength: this.cfg.maxPayloadLengthBytes,
      maxBackpressure: this.cfg.slowHardLimitBytes,
      // false on purpose: with true, uWS shuts the socket itself (1006, no reason we can count) and a deferred
      // end() then throws on the closed socket (measured). We end it ourselves with 4001 one tick later.
      closeOnBackpressureLimit: false,
      idleTimeout: this.cfg.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: this.onUpgrade.bind(this),
      open: this.onOpen.bind(this),
      message: this.onMessage.bind(this),
      dropped: this.onDropped.bind(this),
      drain: this.onDrain.bind(this),
      close: this.onClose.bind(this),
    })
    registerRoutes(this.app, {
      symbols, lvc, ready: opts.ready, metrics: opts.metrics, extraRoutes: opts.extraRoutes, http: opts.http,
      isClosing: () => this.closing !== null,
    })
  }

  /** Hot path: is anyone subscribed to symbol `id` in `format`? One typed-array read. */
  wants(id: number, format: WireFormat): boolean { return this.registry.counts[(id << 1) | format] !== 0 }

  /** Hot path: one uWS publish of a whole data frame to the symbol's topic in that format (topic bytes prebuilt). */
  publish(id: number, format: WireFormat, frame: Uint8Array, _trades = 0): void {
    this.app.publish(this.registry.topics[(id << 1) | format], frame, format === FORMAT_MSGPACK, false)
  }

  /** Hot path: does any connection hold symbol `id` outside uWS (conflating or throttled)? One typed-array read. */
  detachedWants(id: number): boolean { return this.detached.count[id] !== 0 }

  /** Symbol `id` changed in this batch with `trades` trades: mark it dirty for those connections. */
  markDetached(id: number, trades: number): void { this.detached.mark(id, trades, performance.now()) }

  /** Tells every client (JSON text, both formats) that the server lost `lost` updates: resubscribe for snapshots. */
  /**
   * Tells every connection of a gap. Rare (a lapped fan-out or a feed gap), so it walks the sessions instead of
   * keeping every socket subscribed to a broadcast topic, which cost memory on each idle connection.
   */
  broadcastGap(lost: number): void {
    const text = gapReply(lost, Date.now())
    for (const s of this.sessions) this.sendText(s, text)
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (ls) => {
        if (!ls) { reject(bootError('WS_LISTEN', `cannot listen on ${host}:${port}`)); return }
        this.listenSocket = ls
        this.startScan()
        const actual = uWS.us_socket_local_port(ls as unknown as uWS.us_socket)
        this.log.info({ host, port: actual }, 'websocket server listening')
        resolve(actual)
      })
    })
  }

  /**
   * Fan-out worker: instead of listening, this app takes connections the main thread's app accepts and hands over
   * (uWS child apps, round-robin). Returns the descriptor the parent passes to addChildAppDescriptor.
   */
  serveAsChild(): number {
    this.startScan()
    return (this.app as unknown as ChildApp).getDescriptor()
  }

  /** Parent side: from now on, connections this app accepts go to the child apps in turn (none stay here). */
  addChild(descriptor: number): void { (this.app as unknown as ChildApp).addChildAppDescriptor(descriptor) }

  /** Parent side, before the child's thread closes its app: new connections must not be handed to it any more. */
  removeChild(descriptor: number): void { (this.app as unknown as ChildApp).removeChildAppDescriptor(descriptor) }

  private startScan(): void {
    if (this.scanTimer !== null) return
    this.scanTimer = setInterval(this.scanSlow, SLOW_SCAN_MS)
    this.scanTimer.unref()
  }

  /**
   * Ends every WebSocket with `code` (1001), closes the listen socket, lets close handshakes finish for
   * closeGraceMs, then cuts whatever is left (HTTP keep-alive). Idempotent. Note: this uWS build sets no
   * SO_REUSEADDR, so the server-side TIME_WAIT of served connections blocks re-binding the port for ~60 s.
   */
  close(code = CLOSE_GOING_AWAY, reason = 'shutdown'): Promise<void> {
    if (this.closing) return this.closing
    this.closing = (async () => {
      const n = this.sessions.size
      for (const s of Array.from(this.sessions)) this.endSession(s, 'shutdown', code, reason)
      if (this.listenSocket) { uWS.us_listen_socket_close(this.listenSocket); this.listenSocket = null }
      if (this.slowTimer) { clearInterval(this.slowTimer); this.slowTimer = null }
      if (this.scanTimer) { clearInterval(this.scanTimer); this.scanTimer = null }
      if (this.throttleTimer) { clearInterval(this.throttleTimer); this.throttleTimer = null }
      await new Promise((r) => setTimeout(r, this.cfg.closeGraceMs))
      this.app.close()
      this.log.info({ connections: n }, 'websocket server closed')
    })()
    return this.closing
  }

  private onUpgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    if (req.getHeader('sec-websocket-version') !== '13') {
      this.stats.upgradesRejected.version++
      res.writeStatus('426 Upgrade Required').writeHeader('Sec-WebSocket-Version', '13').end('WebSocket version 13 required')
      return
    }
    const f = req.getQuery('format')
    const format: WireFormat | -1 = f === undefined || f === 'json' ? FORMAT_JSON : f === 'msgpack' ? FORMAT_MSGPACK : -1
    if (format === -1) {
      this.stats.upgradesRejected.format++
      res.writeStatus('400 Bad Request').writeHeader('Content-Type', 'application/json')
        .end(JSON.stringify({ error: 'BAD_FORMAT', message: `format must be one of ${FORMAT_NAMES.join(', ')}` }))
      return
    }
    const origin = req.getHeader('origin')
    if (this.allowedOrigins && origin !== '' && (origin === 'null' || !this.allowedOrigins.has(origin))) {
      this.stats.upgradesRejected.origin++
      res.writeStatus('403 Forbidden').end('origin not allowed')
      return
    }
    const data: UserData = { s: new Session(format, this.cfg.controlBurst, performance.now()) }
    res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), context)
  }

  private onOpen(ws: Ws): void {
    const s = ws.getUserData().s
    s.ws = ws
    this.sessions.add(s)
    this.stats.connections++; this.stats.connectionsTotal++
  }

  private onMessage(ws: Ws, data: ArrayBuffer, isBinary: boolean): void {
    const s = ws.getUserData().s, cfg = this.cfg
    this.stats.controlMessages++
    // token bucket; the debt may go negative so a client that keeps pushing while limited gets closed
    const now = performance.now()
    s.tokens = Math.min(cfg.controlBurst, s.tokens + (now - s.lastRefillMs) * this.ratePerMs) - 1
    s.lastRefillMs = now
    if (s.tokens < 0) {
      if (s.tokens <= -cfg.controlBurst) {
        this.log.warn({ format: FORMAT_NAMES[s.format] }, 'client closed: control messages over the rate limit')
        this.endSession(s, 'rate_limited', CLOSE_RATE_LIMITED, 'rate limited')
        return
      }
      this.sendError(s, ERR_RATE_LIMITED, `at most ${cfg.maxControlMessagesPerSec} control messages per second`, undefined, undefined)
      return
    }
    const req = this.req
    if (!parseControl(data, isBinary, cfg.maxSymbolsPerConnection + cfg.maxPatternsPerConnection, req)) {
      this.sendError(s, req.errorCode, req.errorMessage, req.id, undefined)
      return
    }
    if (req.op === OP_PING) { this.sendText(s, pongReply(req.id, Date.now())); return }
    const out = this.result
    out.reset()
    if (req.op === OP_SUBSCRIBE) this.registry.subscribe(s, req.symbols, out)
    else this.registry.unsubscribe(s, req.symbols, out)
    for (let i = 0; i < out.errorCodes.length; i++) this.sendError(s, out.errorCodes[i], out.errorMessages[i], req.id, out.errorSymbols[i])
    if (req.op !== OP_SUBSCRIBE) this.forgetUnsubscribed(s)
    let hz = 0, age = 0
    // Throttling applies to the symbols this request newly subscribes; with none, the ack reports none (a
    // symbol already held keeps its rate, so claiming the new one would be false).
    if (req.op === OP_SUBSCRIBE && (req.maxHz > 0 || req.maxAgeMs > 0) && out.added.length > 0) {
      hz = req.maxHz > 0 ? Math.min(req.maxHz, 1000 / THROTTLE_TICK_MS) : 0
      age = req.maxAgeMs > 0 ? Math.max(req.maxAgeMs, THROTTLE_TICK_MS) : 0
      if (hz > 0 && age > 0) age = Math.max(age, Math.ceil(1000 / hz) + THROTTLE_TICK_MS)
      this.throttle(s, out.added, hz, age)
    }
    this.sendText(s, ackReply(req.op === OP_SUBSCRIBE ? 'subscribed' : 'unsubscribed', req.id, out.symbols, out.patterns, hz, age))
    // Same handler as ws.subscribe: the dispatcher runs between event-loop callbacks and alone updates the LVC,
    // so snapshot n is followed by update n + 1 on this socket.
    if (req.op === OP_SUBSCRIBE && req.snapshot && out.added.length > 0) this.sendSnapshots(s, out.added)
  }

  private sendSnapshots(s: Session, ids: readonly number[]): void {
    const json = s.format === FORMAT_JSON
    for (let start = 0; start < ids.length; start += MSGPACK_FRAME_MAX_EVENTS) {
      const end = Math.min(ids.length, start + MSGPACK_FRAME_MAX_EVENTS)
      const need = (end - start) * JSON_EVENT_MAX_BYTES + 8
      if (this.snapBuf.length < need) this.snapBuf = Buffer.allocUnsafe(need)
      const b = this.snapBuf
      let off = json ? 1 : writeMsgpackFrameHeader(b, 0, end - start)
      if (json) b[0] = JSON_FRAME_OPEN
      for (let k = start; k < end; k++) {
        if (json && k > start) b[off++] = JSON_FRAME_SEP
        off = writeSnapshot(s.format, this.lvc, this.symbols, ids[k], b, off)
      }
      if (json) b[off++] = JSON_FRAME_CLOSE
      this.send(s, b.subarray(0, off), !json)
    }
  }

  private sendError(s: Session, code: string, message: string, id: string | number | undefined, symbol: string | undefined): void {
    const counts = this.stats.controlErrors
    if (code in counts) counts[code as ControlErrorCode]++
    this.sendText(s, errorReply(code, message, id, symbol))
  }

  private sendText(s: Session, text: string): void { this.send(s, text, false) }

  private send(s: Session, data: string | Uint8Array, isBinary: boolean): void {
    const ws = s.ws as Ws | null
    if (ws === null) return
    this.stats.framesOut++
    this.stats.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length
    if (ws.send(data, isBinary, false) === SEND_DROPPED) this.markHard(s)
  }

  /**
   * Over the hard limit (uWS maxBackpressure) uWS drops frames, and after the first `dropped` it skips the rest of
   * that flush silently (measured: trades lost without a callback), so exact accounting ends here: the ladder's
   * last step closes the connection. Ending it inside this callback would crash: defer.
   */
  private onDropped(ws: Ws): void {
    this.stats.backpressureDrops++
    this.markHard(ws.getUserData().s)
  }

  private markHard(s: Session): void {
    if (s.hardLimited) return
    s.hardLimited = true
    this.hardQueue.push(s)
    if (!this.hardScheduled) { this.hardScheduled = true; setImmediate(this.closeHard) }
  }

  private closeHard(): void {
    this.hardScheduled = false
    for (const s of this.hardQueue) this.endSession(s, 'slow_consumer', CLOSE_SLOW_CONSUMER, 'slow consumer')
    this.hardQueue.length = 0
  }

  /**
   * Every SLOW_SCAN_MS, outside any publish: a connection whose buffer passed the soft limit is detached from
   * its topics at once, so every frame before it is in its buffer and every update after it is marked dirty.
   * Cost: one native getBufferedAmount per connection per scan (10k connections: 200k calls/s, ~1 % of a core).
   */
  private scanSlow(): void {
    const soft = this.cfg.maxBackpressureBytes
    for (const s of this.sessions) {
      const ws = s.ws as Ws | null
      if (ws === null || s.state !== STATE_NORMAL || s.hardLimited) continue
      if (ws.getBufferedAmount() > soft) { this.enterConflation(s); this.detachAll(s) }
    }
  }

  /** Ladder step 2: stop sending this connection frames; only "changed since" is kept per symbol. */
  private enterConflation(s: Session): void {
    if (s.state === STATE_CONFLATING || s.ws === null) return
    s.state = STATE_CONFLATING
    s.conflatingSinceMs = performance.now()
    this.conflating.add(s)
    this.stats.slowConflating++; this.stats.slowConflateEntered++
    if (this.slowTimer === null) {
      this.slowTimer = setInterval(this.checkSlow, Math.max(10, Math.min(1000, this.cfg.slowGraceMs / 4)))
      this.slowTimer.unref()
    }
  }

  /** Outside any publish: takes every topic of a conflating connection out of uWS and announces the step. */
  private detachAll(s: Session): void {
    const ws = s.ws as Ws | null
    if (ws === null || s.state !== STATE_CONFLATING) return
    for (const id of s.topics) if (this.registry.detach(s, id)) this.detached.add(s, id, false)
    const msg = slowReply('conflating', Date.now(), { bufferedBytes: ws.getBufferedAmount() })
    this.stats.framesOut++
    s.announcePending = ws.send(msg, false, false) === SEND_DROPPED
  }

  /** uWS wrote some of the socket's buffer: a conflating connection under half the soft limit catches up. */
  private onDrain(ws: Ws): void {
    const s = ws.getUserData().s
    if (s.state !== STATE_CONFLATING || ws.getBufferedAmount() > this.cfg.maxBackpressureBytes / 2) return
    if (s.announcePending) { s.announcePending = false; this.sendText(s, slowReply('conflating', Date.now(), { bufferedBytes: ws.getBufferedAmount() })) }
    const ids = this.idBuf
    ids.length = 0
    let trades = 0
    for (const id of s.dirtyList) {
      const p = s.pending.get(id)
      if (p === undefined || !p.dirty || p.throttled) continue
      if (p.trades > 0) { trades += p.trades; this.sendText(s, tradesSkippedReply(this.symbols.name[id], p.trades)) }
      ids.push(id)
    }
    // snapshots, then back into uWS in the same callback: the dispatcher cannot run in between, so snap n is
    // followed by update n + 1
    if (ids.length > 0) this.sendSnapshots(s, ids)
    let n = 0
    for (const [id, p] of s.pending) {
      if (p.throttled) continue
      this.detached.remove(s, id)
      this.registry.attach(s, id)
      n++
    }
    this.compactDirty(s)
    s.state = STATE_NORMAL
    this.conflating.delete(s)
    this.stats.slowConflating--; this.stats.slowRecovered++
    this.stats.tradesSkipped += trades; this.stats.slowCatchupSnapshots += ids.length
    this.sendText(s, slowReply('normal', Date.now(), { symbols: n, snapshots: ids.length, tradesSkipped: trades }))
  }

  /** Keeps only throttled dirty entries in the dirty list. */
  private compactDirty(s: Session): void {
    let k = 0
    for (const id of s.dirtyList) { const p = s.pending.get(id); if (p !== undefined && p.dirty) s.dirtyList[k++] = id }
    s.dirtyList.length = k
  }

  /** Ladder step 3: a connection that stayed conflating past slowGraceMs never drained: close it with 4001. */
  private checkSlow(): void {
    const now = performance.now()
    for (const s of this.conflating) {
      if (now - s.conflatingSinceMs > this.cfg.slowGraceMs) {
        this.log.warn({ format: FORMAT_NAMES[s.format], conflatedMs: Math.round(now - s.conflatingSinceMs) }, 'slow consumer closed')
        this.endSession(s, 'slow_consumer', CLOSE_SLOW_CONSUMER, 'slow consumer')
      }
    }
    if (this.conflating.size === 0 && this.slowTimer !== null) { clearInterval(this.slowTimer); this.slowTimer = null }
  }

  /** maxHz / maxAgeMs: these symbols leave uWS for good; flushThrottled sends their latest state on its timer. */
  private throttle(s: Session, ids: readonly number[], hz: number, ageMs: number): void {
    for (const id of ids) {
      if (!this.registry.detach(s, id) && !s.pending.has(id)) continue
      const p = this.detached.add(s, id, true)
      if (!p.throttled) continue // a conflation entry (cannot happen on a fresh add); left to the catch-up
      p.minIntervalMs = hz > 0 ? 1000 / hz : 0; p.maxAgeMs = ageMs
      p.lastSentMs = performance.now() // the subscribe snapshot counts as the first value
      s.throttled++; this.stats.throttledSubscriptions++
    }
    if (s.throttled > 0) this.throttledSessions.add(s)
    if (this.throttleTimer === null && this.throttledSessions.size > 0) {
      this.throttleTimer = setInterval(this.flushThrottled, THROTTLE_TICK_MS)
      this.throttleTimer.unref()
    }
  }

  /** Every THROTTLE_TICK_MS: per throttled connection, one frame with the due symbols' snap events. */
  private flushThrottled(): void {
    const now = performance.now(), ids = this.idBuf
    for (const s of this.throttledSessions) {
      if (s.dirtyList.length === 0 || s.state === STATE_CONFLATING) continue
      ids.length = 0
      for (const id of s.dirtyList) {
        const p = s.pending.get(id)
        if (p === undefined || !p.dirty || !p.throttled) continue
        const due = p.minIntervalMs > 0 ? Math.max(p.lastSentMs + p.minIntervalMs, p.firstDirtyMs) : p.firstDirtyMs + p.maxAgeMs - THROTTLE_TICK_MS
        if (now + 1 < due) continue
        if (p.trades > 0) { this.stats.tradesSkipped += p.trades; this.sendText(s, tradesSkippedReply(this.symbols.name[id], p.trades)) }
        p.dirty = false; p.trades = 0; p.lastSentMs = now
        ids.push(id)
      }
      if (ids.length === 0) continue
      this.stats.throttledUpdates += ids.length
      this.sendSnapshots(s, ids)
      this.compactDirty(s)
    }
    if (this.throttledSessions.size === 0 && this.throttleTimer !== null) { clearInterval(this.throttleTimer); this.throttleTimer = null }
  }

  /** After an unsubscribe: symbols no longer held leave the detached index. */
  private forgetUnsubscribed(s: Session): void {
    for (const [id, p] of s.pending) {
      if (s.topics.has(id)) continue
      if (p.throttled) { s.throttled--; this.stats.throttledSubscriptions-- }
      this.detached.remove(s, id)
    }
    this.compactDirty(s)
    if (s.throttled === 0) this.throttledSessions.delete(s)
  }

  private endSession(s: Session, reason: CloseReason, code: number, message: string): void {
    const ws = s.ws as Ws | null
    if (ws === null) return
    s.closeReason = reason
    ws.end(code, message) // calls onClose synchronously
  }

  private onClose(ws: Ws, code: number, message: ArrayBuffer): void {
    const s = ws.getUserData().s
    const reason = s.closeReason ?? classifyClose(code, Buffer.from(message).toString('latin1'))
    this.stats.closes[reason]++
    this.stats.connections--
    this.sessions.delete(s)
    if (s.state === STATE_CONFLATING) { this.conflating.delete(s); this.stats.slowConflating-- }
    if (this.throttledSessions.delete(s)) this.stats.throttledSubscriptions -= s.throttled
    this.detached.removeAll(s)
    this.registry.release(s)
  }
}
