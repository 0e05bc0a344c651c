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
import {
  ControlRequest, OP_PING, OP_SUBSCRIBE, ackReply, errorReply, gapReply, parseControl, pongReply,
} from '../subscriptions/protocol.js'
import { RequestResult, Subscriber, SubscriptionRegistry } from '../subscriptions/registry.js'
import type { CloseReason, ControlErrorCode, WsStats } from './ws-stats.js'

export interface WsServerOptions {
  path?: string
  maxSymbolsPerConnection?: number
  maxPatternsPerConnection?: number
  maxControlMessagesPerSec?: number
  /** token-bucket size; a client that sends this many more while limited is closed with 4005 */
  controlBurst?: number
  maxPayloadLengthBytes?: number
  maxBackpressureBytes?: number
  idleTimeoutSec?: number
  /** exact Origin values allowed; null/absent = any origin (a missing Origin header is always allowed) */
  allowedOrigins?: readonly string[] | null
  /** how long close() lets close handshakes finish before it cuts every remaining socket */
  closeGraceMs?: number
  ready?: () => ReadyState
  metrics?: () => Promise<MetricsBody>
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
  /** uWS rounds to its 4 s timer granularity; automatic pings keep healthy peers alive */
  idleTimeoutSec: 60,
  closeGraceMs: 200,
})

export interface WsLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** Per-connection state; uWS copies userData's own properties, so the session rides as `{ s }`. */
class Session extends Subscriber {
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
type Ws = uWS.WebSocket<UserData>

/** every connection subscribes to this topic: gap notices go out as one publish */
const SYS_TOPIC = Buffer.from('sys', 'latin1')
const SEND_DROPPED = 2

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
  private readonly cfg: Required<Omit<WsServerOptions, 'ready' | 'metrics' | 'extraRoutes' | 'allowedOrigins'>>
  private readonly allowedOrigins: ReadonlySet<string> | null
  private readonly sessions = new Set<Session>()
  private readonly req = new ControlRequest()
  private readonly result = new RequestResult()
  private snapBuf = Buffer.allocUnsafe(64 * 1024)
  private listenSocket: uWS.us_listen_socket | null = null
  private closing: Promise<void> | null = null
  private readonly slowQueue: Session[] = []
  private slowScheduled = false
  private readonly ratePerMs: number

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
    }
    this.allowedOrigins = opts.allowedOrigins ? new Set(opts.allowedOrigins) : null
    this.ratePerMs = this.cfg.maxControlMessagesPerSec / 1000
    this.registry = new SubscriptionRegistry(symbols, this.cfg, stats)
    this.closeSlow = this.closeSlow.bind(this)
    this.app = uWS.App()
    this.app.ws<UserData>(this.cfg.path, {
      maxPayloadLength: this.cfg.maxPayloadLengthBytes,
      maxBackpressure: this.cfg.maxBackpressureBytes,
      // false on purpose: with true, uWS shuts the socket itself (1006, no reason we can count) and a deferred
      // end() then throws on the closed socket (measured). We end it ourselves with 4001 one tick later.
      closeOnBackpressureLimit: false,
      idleTimeout: this.cfg.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: this.onUpgrade.bind(this),
      open: this.onOpen.bind(this),
      message: this.onMessage.bind(this),
      dropped: this.onDropped.bind(this),
      close: this.onClose.bind(this),
    })
    registerRoutes(this.app, {
      symbols, lvc, ready: opts.ready, metrics: opts.metrics, extraRoutes: opts.extraRoutes,
      isClosing: () => this.closing !== null,
    })
  }

  /** Hot path: is anyone subscribed to symbol `id` in `format`? One typed-array read. */
  wants(id: number, format: WireFormat): boolean { return this.registry.counts[(id << 1) | format] !== 0 }

  /** Hot path: one uWS publish of a whole data frame to the symbol's topic in that format (topic bytes prebuilt). */
  publish(id: number, format: WireFormat, frame: Uint8Array): void {
    this.app.publish(this.registry.topics[(id << 1) | format], frame, format === FORMAT_MSGPACK, false)
  }

  /** Tells every client (JSON text, both formats) that the server lost `lost` updates: resubscribe for snapshots. */
  broadcastGap(lost: number): void { this.app.publish(SYS_TOPIC, gapReply(lost, Date.now()), false, false) }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (ls) => {
        if (!ls) { reject(bootError('WS_LISTEN', `cannot listen on ${host}:${port}`)); return }
        this.listenSocket = ls
        const actual = uWS.us_socket_local_port(ls as unknown as uWS.us_socket)
        this.log.info({ host, port: actual }, 'websocket server listening')
        resolve(actual)
      })
    })
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
    ws.subscribe(SYS_TOPIC)
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
    this.sendText(s, ackReply(req.op === OP_SUBSCRIBE ? 'subscribed' : 'unsubscribed', req.id, out.symbols, out.patterns))
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
    if (ws.send(data, isBinary, false) === SEND_DROPPED) this.markSlow(s)
  }

  /** uWS dropped a message for this socket (over maxBackpressure). Ending it here would crash: defer. */
  private onDropped(ws: Ws): void {
    this.stats.backpressureDrops++
    this.markSlow(ws.getUserData().s)
  }

  private markSlow(s: Session): void {
    if (s.slow) return
    s.slow = true
    this.slowQueue.push(s)
    if (!this.slowScheduled) { this.slowScheduled = true; setImmediate(this.closeSlow) }
  }

  private closeSlow(): void {
    this.slowScheduled = false
    for (const s of this.slowQueue) this.endSession(s, 'slow_consumer', CLOSE_SLOW_CONSUMER, 'slow consumer')
    this.slowQueue.length = 0
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
    this.registry.release(s)
  }
}
