// Owns one tickcast WebSocket session for browsers and Node: connect/reconnect, subscriptions, sequence checks, state.
// Must never depend on Node or a package (browsers load it as-is) nor expose an update out of sequence to callers.
import { decodeMsgpack } from './msgpack-decode.js'
import { coveredByPattern, nodeUrl, sinceFor } from './resume-plan.js'
import {
  applyBook, applyQuote, applySnapshot, applyStale, applyStatus, applyTrade, bookOf, conflatedBefore, newSymbolState, quoteOf, staleOf, statusOf, tradeOf,
} from './symbol-state.js'
import type { SymbolState, WireEvent } from './symbol-state.js'
import type { ClientEvents, ConnectionState, TickcastClientOptions, WebSocketLike } from './client-types.js'
import { FINAL_CLOSE_CODES, sendAuth } from './client-auth.js'
import type { GetToken } from './client-auth.js'
import { Pings } from './pings.js'

// the public API stays importable from this one module (the /client.js entry re-exports it)
export type { BookEvent, QuoteEvent, StaleEvent, StatusEvent, SymbolState, TradeEvent } from './symbol-state.js'
export type { ClientError, ClientEvents, ConnectionState, GapEvent, TickcastClientOptions } from './client-types.js'
export { scaledToNumber, scaledToString } from './decimal.js'

const OPEN_CODE_NORMAL = 1000
const ignore = (): void => undefined
/** entries per subscribe request: the server's limit is maxSymbols + maxPatterns per connection (1010 by default) */
const MAX_ENTRIES_PER_REQUEST = 500

type Handler<K extends keyof ClientEvents> = (ev: ClientEvents[K]) => void
type HandlerSets = { [K in keyof ClientEvents]: Set<Handler<K>> }

export class TickcastClient {
  /** ms of the last ping round trip; NaN until the first pong */
  latencyMs = NaN
  /** recovered / unrecovered: symbols a reconnect resumed from the node's ring / got a snapshot for instead */
  readonly stats = { framesIn: 0, eventsIn: 0, duplicates: 0, gaps: 0, reconnects: 0, recovered: 0, unrecovered: 0 }
  /** the current (or last) connection's URL, the stream epoch its acks named (resume is valid within it), its node's name */
  url = ''; epoch = ''; node = ''

  private readonly opts: Required<Omit<TickcastClientOptions, 'token' | 'getToken' | 'WebSocket' | 'reconnect' | 'maxHz'>>
  private readonly maxHz: number | undefined
  /** null = the server needs no credential; else asked for a token at each (re)connect and each auth_expiring */
  private readonly getToken: GetToken | null
  private readonly Ws: new (url: string) => object
  private readonly minMs: number
  private readonly maxMs: number
  private readonly handlers: HandlerSets = {
    quote: new Set(), trade: new Set(), status: new Set(), snapshot: new Set(), stale: new Set(), book: new Set(), gap: new Set(), state: new Set(), error: new Set(), latency: new Set(),
  }
  /** every symbol or pattern the caller wants, resubscribed after each reconnect */
  private readonly wanted = new Set<string>()
  private readonly states = new Map<string, SymbolState>()
  /** symbols whose updates are ignored until their snapshot arrives */
  private readonly awaiting = new Set<string>()
  private readonly pings = new Pings()
  private ws: WebSocketLike | null = null
  private st: ConnectionState = 'idle'
  private attempt = 0; private nextId = 0
  private tries = 0 // connections tried: picks the next node of a url list
  private retryTimer: ReturnType<typeof setTimeout> | null = null

  constructor(options: TickcastClientOptions) {
    this.opts = { url: options.url, format: options.format ?? 'json', pingIntervalMs: options.pingIntervalMs ?? 5000 }
    this.maxHz = options.maxHz
    const token = options.token
    this.getToken = options.getToken ?? (token ? () => token : null)
    const Ws = options.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => object }).WebSocket
    if (!Ws) throw new Error('no WebSocket implementation: pass options.WebSocket (in Node: the ws package)')
    this.Ws = Ws
    this.minMs = options.reconnect?.minMs ?? 250
    this.maxMs = Math.max(this.minMs, options.reconnect?.maxMs ?? 10_000)
    this.onOpen = this.onOpen.bind(this); this.onClose = this.onClose.bind(this)
    this.onMessage = this.onMessage.bind(this); this.onError = this.onError.bind(this)
  }

  get state(): ConnectionState { return this.st }

  /** Subscribes `handler` to `type`; returns a function that removes it. */
  on<K extends keyof ClientEvents>(type: K, handler: Handler<K>): () => void {
    const set = this.handlers[type] as Set<Handler<K>>
    set.add(handler)
    return () => { set.delete(handler) }
  }

  /** The latest state of `symbol` (a live object, updated in place), or undefined when not subscribed. */
  get(symbol: string): SymbolState | undefined { return this.states.get(symbol) }

  /** Symbols (and patterns) currently wanted. */
  subscriptions(): string[] { return Array.from(this.wanted) }

  connect(): void {
    if (this.st === 'connecting' || this.st === 'open') return
    this.clearRetry()
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting')
    const spec = typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url
    const base = this.url = nodeUrl(spec, this.tries++)
    const url = base + (base.includes('?') ? '&' : '?') + 'format=' + this.opts.format
    let ws: WebSocketLike
    try {
      ws = new this.Ws(url) as WebSocketLike
    } catch (e) {
      this.emit('error', { code: 'SOCKET', message: String(e), symbol: null })
      this.scheduleReconnect()
      return
    }
    ws.binaryType = 'arraybuffer'
    ws.onopen = this.onOpen; ws.onclose = this.onClose; ws.onerror = this.onError; ws.onmessage = this.onMessage
    this.ws = ws
  }

  /** Closes for good: no reconnect until connect() is called again. */
  close(): void {
    this.clearRetry(); this.pings.stop()
    const ws = this.ws
    this.ws = null
    // keep an error handler: closing a socket still connecting fails it with an error event (ws throws if unheard)
    if (ws) { ws.onclose = null; ws.onmessage = null; ws.onopen = null; ws.onerror = ignore; ws.close(OPEN_CODE_NORMAL, 'client close') }
    this.attempt = 0
    this.setState('closed')
  }

  subscribe(symbols: readonly string[]): void {
    const fresh: string[] = []
    for (const s of symbols) {
      if (this.wanted.has(s)) continue
      this.wanted.add(s); fresh.push(s)
      if (!s.endsWith('*')) { this.states.set(s, newSymbolState(s)); this.awaiting.add(s) }
    }
    if (fresh.length > 0) this.request('subscribe', fresh)
  }

  unsubscribe(symbols: readonly string[]): void {
    const gone: string[] = []
    for (const s of symbols) {
      if (!this.wanted.delete(s)) continue
      gone.push(s); this.states.delete(s); this.awaiting.delete(s)
    }
    if (gone.length > 0) this.request('unsubscribe', gone)
  }

  /** One ping round trip in ms; rejects when the connection is not open. Also emitted as 'latency'. */
  ping(): Promise<number> {
    const ws = this.ws
    if (!ws || this.st !== 'open') return Promise.reject(new Error('not connected'))
    return this.pings.ping((text) => ws.send(text))
  }

  /** `resume`: after a reconnect, ask to resume every symbol we hold a sequence of (since) instead of a snapshot. */
  private request(op: 'subscribe' | 'unsubscribe', entries: readonly string[], resume = false): void {
    const ws = this.ws
    if (!ws || this.st !== 'open') return // sent by onOpen's resubscribe
    for (let i = 0; i < entries.length; i += MAX_ENTRIES_PER_REQUEST) {
      const symbols = entries.slice(i, i + MAX_ENTRIES_PER_REQUEST), since = resume ? sinceFor(symbols, this.states, this.wanted) : undefined
      if (since) for (const s in since) this.awaiting.delete(s) // the replay (or a snapshot) comes before any update
      const maxHz = op === 'subscribe' ? this.maxHz : undefined
      ws.send(JSON.stringify({ op, symbols, since, epoch: since ? this.epoch : undefined, maxHz, id: op[0] + (this.nextId++) }))
    }
  }

  /**
   * Re-requests snapshots with a plain subscribe: the server snapshots every symbol a subscribe names, held or not
   * (an unsubscribe first would get no snapshot for a symbol one of our patterns still covers).
   */
  private resync(symbols: readonly string[]): void {
    for (const s of symbols) if (!s.endsWith('*')) this.awaiting.add(s)
    this.request('subscribe', symbols)
  }

  /** With a credential, the session is open once the server says `authenticated` (nothing else may go first). */
  private onOpen(): void { if (this.getToken) this.authenticate(); else this.ready() }

  private authenticate(): void {
    const ws = this.ws
    if (ws) sendAuth(ws, this.getToken!, () => this.ws === ws, (message) => this.emit('error', { code: 'AUTH', message, symbol: null }))
  }

  private ready(): void {
    this.attempt = 0
    this.setState('open')
    // a new connection has no subscriptions: every symbol resumes from its last n (since) or gets a fresh snapshot
    for (const s of this.states.keys()) this.awaiting.add(s)
    this.request('subscribe', Array.from(this.wanted), true)
    this.pings.start(this.opts.pingIntervalMs, () => { this.ping().catch(() => undefined) })
  }

  private onClose(ev: { code: number; reason: string }): void {
    this.ws = null
    this.pings.stop(true)
    if (this.st === 'closed') return
    const final = FINAL_CLOSE_CODES.includes(ev.code) // 4402 (token expired) reconnects with a fresh token
    this.emit('error', { code: final ? 'AUTH' : 'SOCKET', message: 'connection closed (' + ev.code + (ev.reason ? ' ' + ev.reason : '') + ')', symbol: null })
    if (final) this.setState('closed'); else this.scheduleReconnect()
  }

  private onError(): void { /* onclose follows every error event and carries the code: handled there */ }
  private scheduleReconnect(): void {
    this.setState('reconnecting')
    // capped exponential backoff with jitter, so a restarted server is not hit by every client at once
    const cap = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 20))
    const delay = cap / 2 + Math.random() * (cap / 2)
    this.attempt++
    this.stats.reconnects++
    this.clearRetry()
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect() }, delay)
  }

  private clearRetry(): void { if (this.retryTimer !== null) { clearTimeout(this.retryTimer); this.retryTimer = null } }

  private onMessage(ev: { data: unknown }): void {
    const data = ev.data
    if (typeof data === 'string') {
      let msg: unknown
      try { msg = JSON.parse(data) } catch { this.emit('error', { code: 'DECODE', message: 'text frame is not JSON', symbol: null }); return }
      if (Array.isArray(msg)) this.onDataFrame(msg, false)
      else if (typeof msg === 'object' && msg !== null) this.onControl(msg as Record<string, unknown>)
      return
    }
    let frame: unknown
    try {
      frame = decodeMsgpack(data instanceof Uint8Array ? data : data as ArrayBuffer)
    } catch (e) {
      this.emit('error', { code: 'DECODE', message: String(e), symbol: null }); return
    }
    if (Array.isArray(frame)) this.onDataFrame(frame, true)
  }

  private onControl(m: Record<string, unknown>): void {
    if (m.type === 'authenticated') { if (this.st !== 'open') this.ready() } else if (m.type === 'auth_expiring') this.authenticate()
    else if (m.type === 'pong') {
      const ms = this.pings.pong(m.id)
      if (!Number.isNaN(ms)) { this.latencyMs = ms; this.emit('latency', ms) }
    } else if (m.type === 'subscribed') {
      if (typeof m.epoch === 'string') this.epoch = m.epoch; if (typeof m.node === 'string') this.node = m.node
      for (const ok of Object.values(m.recovered ?? {})) if (ok === true) this.stats.recovered++; else this.stats.unrecovered++
    } else if (m.type === 'error') {
      const symbol = typeof m.symbol === 'string' ? m.symbol : null
      // an unknown or malformed symbol would fail again after every reconnect: stop asking for it
      if (symbol !== null && (m.code === 'UNKNOWN_SYMBOL' || m.code === 'BAD_SYMBOL')) {
        this.wanted.delete(symbol); this.states.delete(symbol); this.awaiting.delete(symbol)
      }
      this.emit('error', { code: String(m.code), message: String(m.message ?? ''), symbol })
    }
  }

  private onDataFrame(events: unknown[], msgpack: boolean): void {
    this.stats.framesIn++
    for (let i = 0; i < events.length; i++) {
      const ev = events[i] as WireEvent
      this.stats.eventsIn++
      const sym = ev.s as string
      const kind = ev.e
      if (kind === 'snap') {
        const s = this.states.get(sym)
        if (!s) continue // unsubscribed meanwhile
        applySnapshot(s, ev, msgpack)
        this.awaiting.delete(sym)
        this.emit('snapshot', s)
        continue
      }
      let s = this.states.get(sym)
      if (!s) {
        if (!coveredByPattern(this.wanted, sym)) continue // in flight after an unsubscribe
        s = newSymbolState(sym); this.states.set(sym, s) // a pattern's new symbol: its first update is the baseline
      }
      if (this.awaiting.has(sym)) continue
      const n = ev.n as number
      if (kind === 'stale' || kind === 'fresh') {
        // Markers carry the symbol's sequence without taking one; a stale marker may move it on (the server says
        // which updates it lost), a fresh one never does.
        if (s.n >= 0 && (n < s.n || (kind === 'fresh' && n !== s.n))) { this.sequenceGap(s, sym, n); if (this.awaiting.has(sym)) continue }
        const st = staleOf(ev); applyStale(s, st); this.emit('stale', st)
        continue
      }
      if (kind === 'book') { const b = bookOf(ev); applyBook(s, b); this.emit('book', b); continue } // takes no sequence
      if (s.n >= 0 && n <= s.n) { this.stats.duplicates++; continue }
      if (s.n >= 0 && n > s.n + 1 + conflatedBefore(ev)) { // a throttle's `c` explains its jump: not a loss
        this.sequenceGap(s, sym, n)
        if (this.awaiting.has(sym)) continue
      }
      if (kind === 'q') { const q = quoteOf(ev, msgpack); applyQuote(s, q); this.emit('quote', q) }
      else if (kind === 't') { const t = tradeOf(ev, msgpack); applyTrade(s, t); this.emit('trade', t) }
      else if (kind === 'st') { const st = statusOf(ev); applyStatus(s, st); this.emit('status', st) }
    }
  }

  private sequenceGap(s: SymbolState, sym: string, n: number): void {
    this.stats.gaps++
    this.emit('gap', { reason: 'sequence', symbol: sym, expected: s.n + 1, received: n, lost: n - s.n - 1 })
    if (this.wanted.has(sym)) this.resync([sym])
    else s.n = n - 1 // pattern-only symbol: no snapshot to ask for, accept this update as the new baseline
  }

  private setState(s: ConnectionState): void {
    if (this.st === s) return
    this.st = s
    this.emit('state', s)
  }

  private emit<K extends keyof ClientEvents>(type: K, ev: ClientEvents[K]): void {
    for (const h of this.handlers[type] as Set<Handler<K>>) {
      // a throwing handler must not leave the client half-way through a frame: rethrow it on its own turn
      try { h(ev) } catch (e) { setTimeout(() => { throw e }, 0) }
    }
  }
}
