// Owns what the fan-out publishes to MQTT: per-symbol retained quotes (conflated per batch), stale/fresh state and
// trading status, live trades (QoS 0 or 1, optionally retained); the session itself is mqtt-connection.ts.
// Must never queue while disconnected or backed up: stale quotes are never replayed, the LVC is republished instead.
import type { IClientPublishOptions, IConnackPacket } from 'mqtt'
import type { Logger } from 'pino'
import type { LastValueCache } from '../cache/last-value-cache.js'
import { JSON_EVENT_MAX_BYTES } from '../codec/json-codec.js'
import { MSGPACK_EVENT_MAX_BYTES } from '../codec/msgpack-codec.js'
import { FORMAT_JSON, FORMAT_MSGPACK, writeEvent, writeLastQuote, writeLastStatus, writeLastTrade, writeMarker } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { bootError } from '../errors.js'
import type { SymbolTable } from '../model/symbols.js'
import { KIND_QUOTE, KIND_TRADE } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import { InflightWindow } from './mqtt-inflight.js'
import { PublishOptions } from './mqtt-publish-options.js'
import { MqttConnection } from './mqtt-connection.js'
import type { SocketSide } from './mqtt-connection.js'
import { MqttStats } from './mqtt-stats.js'
import type { MqttPublisherOptions } from './mqtt-stats.js'
import { DEFAULT_TOPIC_PREFIX, isValidNodeId, isValidTopicPrefix, statusTopicFor, TopicCache } from './mqtt-topics.js'

const SLAB_BYTES = 64 * 1024
/**
 * What a dirty symbol still has to publish (retained): its latest quote, its stale/fresh state, its trading status,
 * and (with retainLastTrade) its last trade when the live publish of it was dropped or skipped.
 */
const DIRTY_QUOTE = 1, DIRTY_STATE = 2, DIRTY_TRADING = 4, DIRTY_TRADE = 8
const DRAIN_POLL_MS = 2

export class MqttPublisher {
  readonly stats = new MqttStats()
  readonly statusTopic: string
  private readonly topics: TopicCache
  private readonly format: WireFormat
  private readonly maxBufferedBytes: number
  private readonly maxEventBytes: number
  /** per kind: QoS, retain, MQTT 5 properties; stamped with the event's n and t per publish */
  private readonly opts: PublishOptions
  /** QoS 1 trades awaiting PUBACK, bounded by the broker's Receive Maximum */
  private readonly window = new InflightWindow()
  private readonly tradesQos: 0 | 1
  private readonly retainLastTrade: boolean
  /** the broker session: `live` and the socket's backlog gate every write */
  readonly connection: MqttConnection
  // Dirty retained values: DIRTY_* bits per symbol id plus the list of flagged ids (each id at most once).
  private readonly dirty: Uint8Array
  /** 1 once this run published the symbol's state: a retained stale marker an earlier run left must not linger */
  private readonly stateSent: Uint8Array
  /** n of the last trade this run published per symbol: a reconnect republishes the retained last trade only if newer */
  private readonly tradeSent: Float64Array
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
  /** receive time (performance.now ms) of the first event offered since the last flush; NaN when none */
  private batchOldestRecvMs = Number.NaN

  constructor(opts: MqttPublisherOptions, private readonly symbols: SymbolTable, private readonly lvc: LastValueCache, log: Logger) {
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
    this.tradeSent = new Float64Array(symbols.capacity)
    const v5 = (opts.protocolVersion ?? 5) === 5
    this.tradesQos = opts.tradesQos ?? 0
    this.retainLastTrade = opts.retainLastTrade ?? false
    this.opts = new PublishOptions({ format: this.format, v5, quoteExpirySec: opts.quoteExpirySec ?? 60, tradesQos: this.tradesQos, retainLastTrade: this.retainLastTrade })
    this.connection = new MqttConnection(opts, this.statusTopic, this.stats, log, { up: this.onUp, down: this.onDown })
    this.stats.readBacklogBytes = this.readBacklogBytes
    this.stats.readInflight = this.readInflight
  }

  /** Connects; resolves on the first CONNACK, rejects (and gives up) after connectTimeoutMs. */
  start(): Promise<void> { return this.connection.start() }

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
      if (!this.connection.live) this.stats.skippedDisconnected++ // republished from the LVC on connect
      return
    }
    // Per-symbol trading status goes live on the trades topic too: it is the symbol's live event stream, and
    // `e` ("t" | "st") tells them apart; never retained there. Its retained copy is the trading topic (from the LVC).
    const trade = r.kind[i] === KIND_TRADE
    if (!trade) this.markDirty(id, DIRTY_TRADING)
    if (!this.connection.live) { this.stats.skippedDisconnected++; return }
    const sock = this.connection.sock as SocketSide
    if (sock.writableLength > this.maxBufferedBytes || (this.tradesQos === 1 && !this.window.tryAcquire())) {
      this.stats.tradesDropped++
      // the retained last trade must not stay behind: the LVC's latest goes out once the socket or window frees up
      if (trade && this.retainLastTrade) this.markDirty(id, DIRTY_TRADE)
      return
    }
    const off = this.reserve()
    const end = writeEvent(this.format, r, i, this.symbols, this.slab, off)
    const n = r.symbolSeq[i]
    if (trade) this.tradeSent[id] = n
    this.send(this.topics.trade[id], off, end, this.opts.stamped(trade ? this.opts.trade : this.opts.statusEvent, n, r.exchTimeUs[i]), this.tradesQos === 1)
  }

  /** The symbol's stale/fresh or book state changed (LVC staleReason / book): its retained state follows; `quote`: a conflation, its quote too. */
  stateChanged(id: number, quote = false): void {
    if (this.topics.ready(id)) this.markDirty(id, quote && this.lvc.hasQuote(id) ? DIRTY_QUOTE | DIRTY_STATE : DIRTY_STATE)
  }

  /** End of a dispatcher batch: at most one quote and one state publish per dirty symbol, latest values from the LVC. */
  flush(): void {
    const live = this.connection.live
    if (this.dirtyCount > 0 && live) this.flushRetained()
    // One clock read per batch: quotes left dirty by a backed-up socket go out later and are not observed.
    if (live && this.batchOldestRecvMs === this.batchOldestRecvMs) this.stats.ageAtPublishSec.observe((performance.now() - this.batchOldestRecvMs) / 1000)
    this.batchOldestRecvMs = Number.NaN
  }

  /** Idempotent: publishes `offline` (retained) if connected, then disconnects; resolves by stopTimeoutMs. */
  stop(): Promise<void> {
    this.clearDrainWait()
    return this.connection.stop()
  }

  private readonly readBacklogBytes = (): number => {
    const c = this.connection
    return c.live && c.sock !== null ? c.sock.writableLength : 0
  }
  private readonly readInflight = (): number => this.window.count

  /** A (re)connect: the session is live and the node status says online. */
  private readonly onUp = (_first: boolean, connack: IConnackPacket): void => {
    this.clearDrainWait()
    this.window.setReceiveMaximum(connack.properties?.receiveMaximum)
    // Converge every retained quote and state to the LVC (the broker may have lost them, or we skipped updates).
    const n = Math.min(this.symbols.size, this.dirty.length)
    for (let id = 0; id < n; id++) {
      if (this.lvc.seq[id] === 0 || !this.topics.ready(id)) continue
      let bits = this.lvc.hasQuote(id) ? DIRTY_QUOTE | DIRTY_STATE : DIRTY_STATE
      if (this.lvc.statusSeq[id] > 0) bits |= DIRTY_TRADING
      if (this.retainLastTrade && this.lvc.tradeSeq[id] > this.tradeSent[id]) bits |= DIRTY_TRADE
      this.markDirty(id, bits)
    }
    this.flushRetained()
  }

  private readonly onDown = (): void => {
    this.backedUp = false // nothing is waiting on this socket any more; the next connect republishes
    this.clearDrainWait()
  }

  private readonly onDrain = (): void => {
    this.drainWaitOn = null
    this.drainTimer = null
    if (this.connection.live && this.dirtyCount > 0) this.flushRetained()
  }

  private markDirty(id: number, bits: number): void {
    if (this.dirty[id] === 0) this.dirtyIds[this.dirtyCount++] = id
    this.dirty[id] |= bits
  }

  private flushRetained(): void {
    const n = this.dirtyCount, ids = this.dirtyIds, sock = this.connection.sock as SocketSide, max = this.maxBufferedBytes
    let k = 0
    for (; k < n; k++) {
      if (sock.writableLength > max) break
      const id = ids[k], bits = this.dirty[id], lvc = this.lvc
      this.dirty[id] = 0
      if ((bits & DIRTY_QUOTE) !== 0 && lvc.hasQuote(id)) {
        const off = this.reserve()
        const end = writeLastQuote(this.format, lvc, this.symbols, id, this.slab, off)
        this.send(this.topics.quote[id], off, end, this.opts.stamped(this.opts.quote, lvc.quoteSeq[id], lvc.quoteTimeUs[id]), false)
      }
      if ((bits & DIRTY_STATE) !== 0) {
        const off = this.reserve(), nowUs = Date.now() * 1000
        const end = writeMarker(this.format, this.symbols, id, lvc.seq[id], lvc.staleReason(id), nowUs, this.slab, off, lvc.book[id], true)
        this.send(this.topics.state[id], off, end, this.opts.stamped(this.opts.state, lvc.seq[id], nowUs), false)
        this.stateSent[id] = 1
      }
      if ((bits & DIRTY_TRADING) !== 0 && lvc.statusSeq[id] > 0) {
        const off = this.reserve()
        const end = writeLastStatus(this.format, lvc, this.symbols, id, this.slab, off)
        this.send(this.topics.trading[id], off, end, this.opts.stamped(this.opts.trading, lvc.statusSeq[id], lvc.statusTimeUs[id]), false)
      }
      // the retained last trade, when its live publish was dropped or skipped (never a repeat of one already sent)
      if ((bits & DIRTY_TRADE) !== 0 && lvc.tradeSeq[id] > this.tradeSent[id]) {
        if (this.tradesQos === 1 && !this.window.tryAcquire()) { this.dirty[id] = DIRTY_TRADE; break } // stays listed at k
        const off = this.reserve()
        const end = writeLastTrade(this.format, lvc, this.symbols, id, this.slab, off)
        this.tradeSent[id] = lvc.tradeSeq[id]
        this.send(this.topics.trade[id], off, end, this.opts.stamped(this.opts.trade, lvc.tradeSeq[id], lvc.tradeTimeUs[id]), this.tradesQos === 1)
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

  /** `acked`: a QoS 1 publish that holds a slot of the window until mqtt.js reports it done (PUBACK or given up). */
  private send(topic: string, off: number, end: number, opts: IClientPublishOptions, acked: boolean): void {
    this.slabOff = end
    this.connection.publish(topic, this.slab.subarray(off, end), opts, acked ? this.window.release : undefined)
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
