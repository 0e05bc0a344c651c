// Owns draining the ring: applies each event to the last-value cache, encodes it once per wire format, hands frames out.
// Must never write to the ring or call back into ingest; it runs between I/O callbacks, never inside one.
import type { LastValueCache } from '../cache/last-value-cache.js'
import { JSON_EVENT_MAX_BYTES, JSON_FRAME_CLOSE, JSON_FRAME_OPEN, JSON_FRAME_SEP } from '../codec/json-codec.js'
import { MSGPACK_EVENT_MAX_BYTES, writeMsgpackFrameHeader } from '../codec/msgpack-codec.js'
import { FORMAT_JSON, FORMAT_MSGPACK, writeEvent } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { LATENCY_BUCKETS_SEC, PlainHistogram } from '../metrics/histogram.js'
import type { SymbolTable } from '../model/symbols.js'
import { KIND_TRADE } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'

/** WebSocket side: per-symbol topics per format. */
export interface FrameSink {
  wants(id: number, format: WireFormat): boolean
  /** `trades` = trade events in the frame, so a connection that misses it (slow consumer) can be told the count */
  publish(id: number, format: WireFormat, frame: Uint8Array, trades: number): void
  /** connections holding the symbol outside the topic publish (conflating, throttled); optional for bench sinks */
  detachedWants?(id: number): boolean
  markDetached?(id: number, trades: number): void
}

/** MQTT side: sees every event after the cache has applied it, then one flush per batch (conflation point). */
export interface EventSink {
  offer(r: TickRing, i: number): void
  flush(): void
}

export class DispatchStats {
  batches = 0
  events = 0
  /** events overwritten before this consumer read them */
  lapped = 0
  laps = 0
  frames = 0
  frameBytes = 0
  /** receive → published (WebSocket frames handed to uWS), seconds; one observation per batch (its oldest event) */
  readonly ageAtPublishSec = new PlainHistogram(LATENCY_BUCKETS_SEC)
}

/** Largest frame we build; a busier symbol is split into several frames of this size. */
const FRAME_BYTES = 64 * 1024
/** Bounds the work of one drain so a burst cannot starve the event loop (≈ 5 ms of encoding). */
const MAX_EVENTS_PER_DRAIN = 32768
const NONE = -1

export class Dispatcher {
  readonly stats = new DispatchStats()
  /** last ring sequence this consumer has processed */
  private readSeq = -1
  private scheduled = false
  private stopped = false
  /** per-batch chain of ring slots per symbol: head/tail by symbol id, next by slot */
  private readonly head: Int32Array
  private readonly tail: Int32Array
  private readonly next: Int32Array
  private readonly dirty: Int32Array
  private dirtyCount = 0
  private frameTrades = 0
  private readonly detachable: boolean
  private readonly frame = Buffer.allocUnsafe(FRAME_BYTES)
  private readonly drainBound = (): void => this.drain()

  constructor(
    private readonly ring: TickRing,
    private readonly lvc: LastValueCache,
    private readonly symbols: SymbolTable,
    private readonly ws: FrameSink,
    private readonly events: EventSink | null,
    /** called once per lap with the number of events lost (clients are told their data has a gap) */
    private readonly onLapped: (lost: number) => void = () => {},
  ) {
    this.head = new Int32Array(symbols.capacity).fill(NONE)
    this.tail = new Int32Array(symbols.capacity)
    this.next = new Int32Array(ring.capacity)
    this.dirty = new Int32Array(symbols.capacity)
    this.readSeq = ring.cursor
    this.detachable = typeof ws.detachedWants === 'function' && typeof ws.markDetached === 'function'
    ring.wake = () => this.schedule()
  }

  schedule(): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setImmediate(this.drainBound)
  }

  stop(): void { this.stopped = true }

  /**
   * A fan-out worker's copier could not copy events up to `seq` (the shared ring lapped it): count them as lapped
   * here, where the lap would have been seen, and tell clients of the gap.
   */
  skipTo(seq: number): void {
    if (seq <= this.readSeq) return
    const lost = seq - this.readSeq
    this.stats.lapped += lost; this.stats.laps++
    this.readSeq = seq
    this.onLapped(lost)
  }

  /** Drains what the ring holds (bounded per call); public so tests and benches can drive it synchronously. */
  drain(): void {
    this.scheduled = false
    const r = this.ring, lvc = this.lvc, events = this.events
    const end = r.cursor
    let seq = this.readSeq + 1
    if (end - seq >= r.capacity) {
      const lost = end - r.capacity + 1 - seq
      this.stats.lapped += lost; this.stats.laps++
      seq += lost
      this.onLapped(lost)
    }
    const last = Math.min(end, seq + MAX_EVENTS_PER_DRAIN - 1)
    if (last < seq) return
    const first = seq, oldestRecvMs = r.recvTimeMs[seq & r.mask]
    for (; seq <= last; seq++) {
      const i = seq & r.mask
      const id = lvc.apply(r, i)
      if (events !== null) events.offer(r, i)
      this.next[i] = NONE
      if (this.head[id] === NONE) { this.head[id] = i; this.dirty[this.dirtyCount++] = id } else this.next[this.tail[id]] = i
      this.tail[id] = i
    }
    this.stats.events += last - first + 1
    this.readSeq = last
    this.stats.batches++
    for (let k = 0; k < this.dirtyCount; k++) {
      const id = this.dirty[k]
      if (this.ws.wants(id, FORMAT_JSON)) this.publishChain(id, FORMAT_JSON)
      if (this.ws.wants(id, FORMAT_MSGPACK)) this.publishChain(id, FORMAT_MSGPACK)
      if (this.detachable && this.ws.detachedWants!(id)) this.ws.markDetached!(id, this.chainTrades(id))
      this.head[id] = NONE
    }
    this.dirtyCount = 0
    if (events !== null) events.flush()
    this.stats.ageAtPublishSec.observe((performance.now() - oldestRecvMs) / 1000)
    if (r.cursor > this.readSeq) this.schedule()
  }

  /** Trades in this batch's chain of symbol `id`: walked only when some connection holds it detached. */
  private chainTrades(id: number): number {
    let n = 0
    for (let i = this.head[id]; i !== NONE; i = this.next[i]) if (this.ring.kind[i] === KIND_TRADE) n++
    return n
  }

  /** Encodes this batch's events of one symbol into as few frames as fit FRAME_BYTES, and publishes them. */
  private publishChain(id: number, format: WireFormat): void {
    const buf = this.frame, r = this.ring, json = format === FORMAT_JSON
    const room = FRAME_BYTES - (json ? JSON_EVENT_MAX_BYTES : MSGPACK_EVENT_MAX_BYTES) - 4
    let off = 0, count = 0
    this.frameTrades = 0
    for (let i = this.head[id]; i !== NONE; i = this.next[i]) {
      if (off > room) { this.emit(id, format, off, count); off = 0; count = 0; this.frameTrades = 0 }
      if (r.kind[i] === KIND_TRADE) this.frameTrades++
      if (count === 0) off = json ? (buf[0] = JSON_FRAME_OPEN, 1) : 3
      else if (json) buf[off++] = JSON_FRAME_SEP
      off = writeEvent(format, r, i, this.symbols, buf, off)
      count++
    }
    if (count > 0) this.emit(id, format, off, count)
  }

  private emit(id: number, format: WireFormat, off: number, count: number): void {
    const buf = this.frame
    if (format === FORMAT_JSON) buf[off++] = JSON_FRAME_CLOSE
    else writeMsgpackFrameHeader(buf, 0, count)
    this.ws.publish(id, format, buf.subarray(0, off), this.frameTrades)
    this.stats.frames++; this.stats.frameBytes += off
  }
}
