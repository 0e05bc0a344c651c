// Owns the MQTT side of the fan-out: per-symbol retained quotes (conflated per batch) and stale/fresh state, live
// trades, node status.
// Must never queue while disconnected or backed up: stale quotes are never replayed, the LVC is republished instead.
import { connect } from 'mqtt'
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { LastValueCache } from '../cache/last-value-cache.js'
import { JSON_EVENT_MAX_BYTES } from '../codec/json-codec.js'
import { MSGPACK_EVENT_MAX_BYTES } from '../codec/msgpack-codec.js'
import { FORMAT_JSON, FORMAT_MSGPACK, writeEvent, writeLastQuote, writeMarker } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { bootError } from '../errors.js'
import type { SymbolTable } from '../model/symbols.js'
import { KIND_QUOTE } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { MqttStats, publishOptions, redactUrl } from './mqtt-stats.js'
import type { MqttPublisherOptions } from './mqtt-stats.js'
import { DEFAULT_TOPIC_PREFIX, isValidNodeId, isValidTopicPrefix, statusTopicFor, TopicCache } from './mqtt-topics.js'

const SLAB_BYTES = 64 * 1024
/** what a dirty symbol still has to publish (retained): its latest quote, its stale/fresh state */
const DIRTY_QUOTE = 1, DIRTY_STATE = 2
const DRAIN_POLL_MS = 2
const ONLINE = Buffer.from('online')
const OFFLINE = Buffer.from('offline')

/** The parts of the socket the publisher reads; mqtt.js types its stream as a union of Duplex flavours. */
interface SocketSide {
  readonly writableLength: number
  readonly writableNeedDrain: boolean
  once(event: 'drain', fn: () => void): unknown
  removeListener(event: 'drain', fn: () => void): unknown
}

export class MqttPublisher {
  readonly stats = new MqttStats()
  readonly statusTopic: string
  private readonly topics: TopicCache
  private readonly format: WireFormat
  private readonly maxBufferedBytes: number
  private readonly maxEventBytes: number
  // One options object per kind, reused for every publish (mqtt.js copies it; we never rebuild it).
  private readonly quoteOpts: IClientPublishOptions
  private readonly tradeOpts: IClientPublishOptions
  /** retained, no expiry: a symbol's state is true until the next state says otherwise */
  private readonly stateOpts: IClientPublishOptions
  private readonly statusOpts: IClientPublishOptions = { qos: 1, retain: true }
  private readonly clientOpts: IClientOptions
  private readonly url: string
  private readonly connectTimeoutMs: number
  private readonly stopTimeoutMs: number
  private client: MqttClient | null = null
  private sock: SocketSide | null = null
  private live = false
  private everConnected = false
  private stopping = false
  private outageLogged = false
  private lastError = ''
  // Dirty retained values: DIRTY_* bits per symbol id plus the list of flagged ids (each id at most once).
  private readonly dirty: Uint8Array
  /** 1 once this run published the symbol's state: a retained stale marker an earlier run left must not linger */
  private readonly stateSent: Uint8Array
  private readonly dirtyIds: Uint32Array
  private dirtyCount = 0
  /** a flush stopped at maxBufferedBytes and dirty quotes wait for the socket to drain */
  private backedUp = false
  // Payloads are written into a slab and handed to the socket as views. A slab is never rewritten
  // (mqtt-packet corks the socket until nextTick and keeps references), so a full one is replaced.
  private slab = Buffer.allocUnsafe(SLAB_BYTES)
  private slabOff = 0
  private drainWaitOn: SocketSide | null = null
  private drainTimer: NodeJS.Timeout | null = null
  private startPromise: Promise<void> | null = null
  private stopPromise: Promise<void> | null = null
  private settleStart: ((err: Error | null) => void) | null = null
  /** receive time (performance.now ms) of the first event offered since the last flush; NaN when none */
  private batchOldestRecvMs = Number.NaN

  constructor(opts: MqttPublisherOptions, private readonly symbols: SymbolTable, private readonly lvc: LastValueCache, private readonly log: Logger) {
    const prefix = opts.topicPrefix ?? DEFAULT_TOPIC_PREFIX
    if (!isValidTopicPrefix(prefix)) throw bootError('MQTT_CONFIG', `invalid MQTT topic prefix ${JSON.stringify(prefix)}`)
    if (!isValidNodeId(opts.nodeId)) throw bootError('MQTT_CONFIG', `invalid MQTT node id ${JSON.stringify(opts.nodeId)}`)
    this.statusTopic = statusTopicFor(prefix, opts.nodeId) as string
    this.topics = new TopicCache(prefix, symbols)
    this.format = opts.format ?? FORMAT_MSGPACK
    this.maxEventBytes = this.format === FORMAT_JSON ? JSON_EVENT_MAX_BYTES : MSGPACK_EVENT_MAX_BYTES
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024
    this.dirty = new Uint8Array(symbols.capacity)
    this.dirtyIds = new Uint32Array(symbols.capacity)
    this.stateSent = new Uint8Array(symbols.capacity)
    const v5 = (opts.protocolVersion ?? 5) === 5
    ;({ quote: this.quoteOpts, trade: this.tradeOpts, state: this.stateOpts } = publishOptions(this.format, v5, opts.quoteExpirySec ?? 60))
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 2000
    this.url = opts.url
    this.clientOpts = {
      protocolVersion: v5 ? 5 : 4,
      clientId: opts.clientId ?? `tickcast-${opts.nodeId}`,
      username: opts.username,
      password: opts.password,
      clean: true,
      keepalive: opts.keepaliveSec ?? 15,
      reconnectPeriod: opts.reconnectPeriodMs ?? 500,
      connectTimeout: this.connectTimeoutMs,
      // Critical: the default (true) queued 10,000 stale quotes during an outage and replayed them.
      queueQoSZero: false,
      will: { topic: this.statusTopic, payload: OFFLINE, qos: 1, retain: true },
      ...opts.tls, // mqtts:// / wss://: CA, client certificate and key, server name (src/auth/from-config.ts)
    }
    this.stats.readBacklogBytes = this.readBacklogBytes
  }

  /** Connects; resolves on the first CONNACK, rejects (and gives up) after connectTimeoutMs. */
  start(): Promise<void> {
    if (this.startPromise !== null) return this.startPromise
    if (this.stopping) return Promise.reject(bootError('MQTT_STOPPED', 'MQTT publisher already stopped'))
    this.startPromise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A publisher that never connected is dead: stop retrying so nothing lingers after a failed boot.
        this.stopping = true
        this.client?.end(true)
        this.settleStart?.(bootError('MQTT_CONNECT', `no CONNACK from ${redactUrl(this.url)} within ${this.connectTimeoutMs} ms${this.lastError === '' ? '' : ` (last error: ${this.lastError})`}`))
      }, this.connectTimeoutMs)
      this.settleStart = (err) => {
        this.settleStart = null
        clearTimeout(timer)
        if (err === null) resolve()
        else reject(err)
      }
    })
    const c = connect(this.url, this.clientOpts)
    this.client = c
    c.on('connect', this.onConnect)
    c.on('close', this.onClose)
    c.on('error', this.onError)
    return this.startPromise
  }

  /**
   * One ring slot, after the LVC applied it. Quotes only mark the symbol dirty (flush() publishes the
   * latest once); trades and status events are published at once, live only.
   */
  offer(r: TickRing, i: number): void {
    const id = r.symbolId[i]
    if (this.batchOldestRecvMs !== this.batchOldestRecvMs) this.batchOldestRecvMs = r.recvTimeMs[i] // NaN: first of the batch
    if (!this.topics.ready(id)) { this.stats.invalidTopics++; return }
    if (this.stateSent[id] === 0) this.markDirty(id, DIRTY_STATE)
    if (r.kind[i] === KIND_QUOTE) {
      if ((this.dirty[id] & DIRTY_QUOTE) === 0) this.markDirty(id, DIRTY_QUOTE)
      else if (this.backedUp) this.stats.conflated++ // the pending one is now stale and will never be sent
      if (!this.live) this.stats.skippedDisconnected++ // republished from the LVC on connect
      return
    }
    // Per-symbol trading status shares the trades topic: it is the symbol's live event stream, and
    // `e` ("t" | "st") tells them apart. Not retained, so it cannot overwrite the retained quote.
    if (!this.live) { this.stats.skippedDisconnected++; return }
    const sock = this.sock as SocketSide
    if (sock.writableLength > this.maxBufferedBytes) { this.stats.tradesDropped++; return }
    const off = this.reserve()
    const end = writeEvent(this.format, r, i, this.symbols, this.slab, off)
    this.send(this.topics.trade[id], off, end, this.tradeOpts)
  }

  /** The symbol's stale/fresh or book state changed (LVC staleReason / book): its retained state follows; `quote`: a conflation, its quote too. */
  stateChanged(id: number, quote = false): void {
    if (this.topics.ready(id)) this.markDirty(id, quote && this.lvc.hasQuote(id) ? DIRTY_QUOTE | DIRTY_STATE : DIRTY_STATE)
  }

  /** End of a dispatcher batch: at most one quote and one state publish per dirty symbol, latest values from the LVC. */
  flush(): void {
    if (this.dirtyCount > 0 && this.live) this.flushRetained()
    // One clock read per batch: quotes left dirty by a backed-up socket go out later and are not observed.
    if (this.live && this.batchOldestRecvMs === this.batchOldestRecvMs) this.stats.ageAtPublishSec.observe((performance.now() - this.batchOldestRecvMs) / 1000)
    this.batchOldestRecvMs = Number.NaN
  }

  /** Idempotent: publishes `offline` (retained) if connected, then disconnects; resolves by stopTimeoutMs. */
  stop(): Promise<void> {
    if (this.stopPromise !== null) return this.stopPromise
    this.stopping = true
    this.clearDrainWait()
    this.settleStart?.(bootError('MQTT_STOPPED', 'MQTT publisher stopped before it connected'))
    const c = this.client, wasLive = this.live && c !== null && c.connected
    this.live = false
    this.stats.connected = 0
    this.stopPromise = new Promise<void>((resolve) => {
      if (c === null) { resolve(); return }
      let done = false
      const finish = (): void => { if (!done) { done = true; clearTimeout(timer); resolve() } }
      const timer = setTimeout(() => { c.end(true); finish() }, this.stopTimeoutMs)
      // A clean DISCONNECT suppresses the will, so say `offline` ourselves first (QoS 1: wait for PUBACK).
      if (wasLive) c.publish(this.statusTopic, OFFLINE, this.statusOpts, () => { c.end(false, finish) })
      else c.end(true, finish)
    })
    return this.stopPromise
  }

  private readonly readBacklogBytes = (): number => (this.live && this.sock !== null ? this.sock.writableLength : 0)

  private readonly onConnect = (): void => {
    const c = this.client
    if (this.stopping || c === null) return
    const first = !this.everConnected
    this.everConnected = true
    if (!first) this.stats.reconnects++
    this.clearDrainWait()
    this.sock = c.stream as unknown as SocketSide
    this.live = true
    this.stats.connected = 1
    this.outageLogged = false
    this.log.info({ url: redactUrl(this.url), clientId: this.clientOpts.clientId, reconnects: this.stats.reconnects }, first ? 'mqtt connected' : 'mqtt reconnected')
    c.publish(this.statusTopic, ONLINE, this.statusOpts)
    // Converge every retained quote and state to the LVC (the broker may have lost them, or we skipped updates).
    const n = Math.min(this.symbols.size, this.dirty.length)
    for (let id = 0; id < n; id++) {
      if (this.lvc.seq[id] === 0 || !this.topics.ready(id)) continue
      this.markDirty(id, this.lvc.hasQuote(id) ? DIRTY_QUOTE | DIRTY_STATE : DIRTY_STATE)
    }
    this.flushRetained()
    this.settleStart?.(null)
  }

  private readonly onClose = (): void => {
    const wasLive = this.live
    this.live = false
    this.backedUp = false // nothing is waiting on this socket any more; the next connect republishes
    this.stats.connected = 0
    this.clearDrainWait()
    if (wasLive && !this.stopping) this.log.warn({ url: redactUrl(this.url) }, 'mqtt disconnected; dropping updates until reconnected')
  }

  private readonly onError = (err: Error): void => {
    this.lastError = err.message
    // Reconnect attempts fail every reconnectPeriod: one line per outage, not one per attempt.
    if (!this.outageLogged && !this.stopping) { this.outageLogged = true; this.log.warn({ err: err.message, url: redactUrl(this.url) }, 'mqtt error') }
  }

  private readonly onDrain = (): void => {
    this.drainWaitOn = null
    this.drainTimer = null
    if (this.live && this.dirtyCount > 0) this.flushRetained()
  }

  private markDirty(id: number, bits: number): void {
    if (this.dirty[id] === 0) this.dirtyIds[this.dirtyCount++] = id
    this.dirty[id] |= bits
  }

  private flushRetained(): void {
    const n = this.dirtyCount, ids = this.dirtyIds, sock = this.sock as SocketSide, max = this.maxBufferedBytes
    let k = 0
    for (; k < n; k++) {
      if (sock.writableLength > max) break
      const id = ids[k], bits = this.dirty[id]
      this.dirty[id] = 0
      if ((bits & DIRTY_QUOTE) !== 0 && this.lvc.hasQuote(id)) {
        const off = this.reserve()
        const end = writeLastQuote(this.format, this.lvc, this.symbols, id, this.slab, off)
        this.send(this.topics.quote[id], off, end, this.quoteOpts)
      }
      if ((bits & DIRTY_STATE) !== 0) {
        const off = this.reserve()
        const end = writeMarker(this.format, this.symbols, id, this.lvc.seq[id], this.lvc.staleReason(id), Date.now() * 1000, this.slab, off, this.lvc.book[id])
        this.send(this.topics.state[id], off, end, this.stateOpts)
        this.stateSent[id] = 1
      }
    }
    if (k === n) { this.dirtyCount = 0; this.backedUp = false; return }
    // Backed up: the rest stay dirty, so later offers conflate into them and one publish carries the latest.
    this.backedUp = true
    ids.copyWithin(0, k, n)
    this.dirtyCount = n - k
    this.waitForDrain(sock)
  }

  /** Offset in the current slab with room for one event; replaces a full slab (the old one is still referenced). */
  private reserve(): number {
    if (this.slabOff + this.maxEventBytes > SLAB_BYTES) { this.slab = Buffer.allocUnsafe(SLAB_BYTES); this.slabOff = 0 }
    return this.slabOff
  }

  private send(topic: string, off: number, end: number, opts: IClientPublishOptions): void {
    this.slabOff = end
    ;(this.client as MqttClient).publish(topic, this.slab.subarray(off, end), opts)
    this.stats.publishes++
    this.stats.bytes += end - off
  }

  private waitForDrain(sock: SocketSide): void {
    if (this.drainWaitOn !== null || this.drainTimer !== null) return
    // 'drain' only fires when a write crossed the stream's highWaterMark; below it, poll briefly.
    if (sock.writableNeedDrain) { this.drainWaitOn = sock; sock.once('drain', this.onDrain) }
    else this.drainTimer = setTimeout(this.onDrain, DRAIN_POLL_MS)
  }

  private clearDrainWait(): void {
    if (this.drainWaitOn !== null) { this.drainWaitOn.removeListener('drain', this.onDrain); this.drainWaitOn = null }
    if (this.drainTimer !== null) { clearTimeout(this.drainTimer); this.drainTimer = null }
  }
}
