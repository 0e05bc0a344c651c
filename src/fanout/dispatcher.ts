// Owns draining the ring: learns new symbols, applies each event to the last-value cache, decides what each symbol's
// subscribers are told about its completeness, encodes once per wire format and hands frames out.
// Must never write to the ring or call back into ingest; it runs between I/O callbacks, never inside one.
import type { LastValueCache } from '../cache/last-value-cache.js'
import { Conflater } from './conflation.js'
import { DispatchStats } from './dispatch-sinks.js'
import { DrainPacer } from './drain-pacer.js'
import type { Conflation, EventSink, FrameSink } from './dispatch-sinks.js'
import { JSON_EVENT_MAX_BYTES, JSON_FRAME_CLOSE, JSON_FRAME_OPEN, JSON_FRAME_SEP } from '../codec/json-codec.js'
import { MSGPACK_EVENT_MAX_BYTES, writeMsgpackFrameHeader } from '../codec/msgpack-codec.js'
import { FORMAT_JSON, FORMAT_MSGPACK, writeBookMarker, writeEvent, writeMarker } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { STALE_LAPPED } from '../model/staleness.js'
import type { SymbolTable } from '../model/symbols.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import { KIND_BOOK, KIND_QUOTE, KIND_SYMBOL, KIND_TRADE, LAST_DATA_KIND } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'

export { DispatchStats } from './dispatch-sinks.js'
export type { Conflation, EventSink, FrameSink } from './dispatch-sinks.js'

/** Largest frame we build; a busier symbol is split into several frames of this size. */
const FRAME_BYTES = 64 * 1024
/** Bounds the work of one drain so a burst cannot starve the event loop (≈ 5 ms of encoding). */
const MAX_EVENTS_PER_DRAIN = 32768
const NONE = -1
/** head of a symbol whose last events a lap took: its chain is one stale (lapped) marker */
const MARKER_ONLY = -2
// Per-slot notes, written when a slot is applied and read when it is encoded (the cache has moved on by then):
/** low bits: the STALE_* reason a marker says (0 = fresh) */
const NOTE_REASON = 0x07
/** a stale (lapped) marker precedes the slot: this reader lost the symbol's events just before it */
const NOTE_LAPPED_BEFORE = 0x10
/** after the slot, a marker says the symbol's new state (NOTE_REASON); on a marker slot: the slot itself is it */
const NOTE_STATE_AFTER = 0x20
/** a KIND_BOOK slot that changed the symbol's book state: a book event says it (code = the slot's PARTIAL_* reason) */
const NOTE_BOOK = 0x40

export class Dispatcher {
  readonly stats = new DispatchStats()
  /** last ring sequence this consumer has processed */
  private readSeq = -1
  /** per-batch chain of ring slots per symbol: head/tail by symbol id, next by slot */
  private readonly head: Int32Array
  private readonly tail: Int32Array
  private readonly next: Int32Array
  private readonly note: Uint8Array
  private readonly dirty: Int32Array
  private dirtyCount = 0
  private frameTrades = 0
  private batchTimeUs = 0
  private readonly detachable: boolean
  private readonly frame = Buffer.allocUnsafe(FRAME_BYTES)
  /** when the next drain runs: next turn, or paced (--dispatch-interval-ms) */
  readonly pacer = new DrainPacer(() => this.drain())
  private readonly conflater: Conflater | null
  private readonly learnBound = (id: number): void => this.learn(id)
  private readonly markLappedBound = (id: number): void => this.markLapped(id)

  constructor(
    private readonly ring: TickRing,
    private readonly lvc: LastValueCache,
    private readonly symbols: SymbolTable,
    /** the writer's per-symbol counters (shared memory): name exactly the symbols a lap cost */
    private readonly seqs: SymbolSequences,
    private readonly ws: FrameSink,
    private readonly events: EventSink | null,
    /** called once per lap with the number of events lost (for the log; clients learn it per symbol in-band) */
    private readonly onLapped: (lost: number, symbols: number) => void = () => {},
    conflation: Conflation | null = null,
  ) {
    this.conflater = conflation !== null ? new Conflater(conflation.latest, lvc, symbols, seqs, ws, events, this.stats) : null
    this.head = new Int32Array(symbols.capacity).fill(NONE)
    this.tail = new Int32Array(symbols.capacity)
    this.next = new Int32Array(ring.capacity)
    this.note = new Uint8Array(ring.capacity)
    this.dirty = new Int32Array(symbols.capacity)
    this.readSeq = ring.cursor
    this.detachable = typeof ws.detachedWants === 'function' && typeof ws.markDetached === 'function'
    ring.wake = () => this.schedule()
  }

  schedule(): void { this.pacer.wake(this.ring.cursor - this.readSeq) }

  stop(): void { this.pacer.stop() }

  /** The last ring sequence applied: the cache and everything published are exactly there (resume reads up to it). */
  get position(): number { return this.readSeq }

  /**
   * A fan-out worker's copier could not copy events up to `seq` (the shared ring lapped it): count them as lapped
   * here, where the lap would have been seen, and tell the symbols' subscribers.
   */
  skipTo(seq: number): void {
    if (seq <= this.readSeq) return
    if (this.conflater !== null) { this.conflate(this.readSeq + 1, seq); return }
    this.lap(this.readSeq + 1, seq)
    this.readSeq = seq
    this.publishDirty()
  }

  /** Drains what the ring holds (bounded per call); public so tests and benches can drive it synchronously. */
  drain(): void {
    this.pacer.started()
    const r = this.ring, lvc = this.lvc, events = this.events, symbols = this.symbols, note = this.note
    const end = r.cursor
    let seq = this.readSeq + 1
    this.batchTimeUs = Date.now() * 1000 // one clock read per batch: the time on markers this reader makes up
    if (this.conflater !== null && end - seq >= r.capacity) { this.conflate(seq, end); seq = end + 1 }
    else if (end - seq >= r.capacity) {
      const first = end - r.capacity + 1
      this.lap(seq, first - 1)
      seq = first
    }
    const last = Math.min(end, seq + MAX_EVENTS_PER_DRAIN - 1)
    if (last < seq) { this.publishDirty(); return }
    const first = seq, oldestRecvMs = r.recvTimeMs[seq & r.mask]
    let known = symbols.size
    for (; seq <= last; seq++) {
      const i = seq & r.mask, id = r.symbolId[i], kind = r.kind[i]
      if (id >= known) { this.learn(id); known = symbols.size } // its KIND_SYMBOL, or one a lapped reader never saw
      if (kind === KIND_SYMBOL) continue
      // Fast path: the symbol's next data event, nothing lost, nothing to say about its completeness.
      if (kind <= LAST_DATA_KIND && r.symbolSeq[i] === lvc.seq[id] + 1 && lvc.lapped[id] === 0) {
        lvc.apply(r, i)
        if (events !== null) events.offer(r, i)
        note[i] = 0
        this.chain(id, i)
        continue
      }
      if (this.noteState(i, id, kind)) this.chain(id, i)
    }
    this.stats.events += last - first + 1
    this.readSeq = last
    this.stats.batches++
    this.publishDirty()
    if (events !== null) events.flush()
    this.stats.ageAtPublishSec.observe((performance.now() - oldestRecvMs) / 1000)
    this.pacer.finished()
    if (r.cursor > this.readSeq) this.pacer.soon() // bounded: the rest is late already
  }

  /**
   * Events [from, end] are replaced by the latest value of every symbol that changed: the
   * cache takes the writer's latest values, each wanted topic gets `trades_skipped` (when trades were skipped) and a
   * `snap`, and the reader resumes after `end`. Its ring events up to the snap's `n` are skipped when they come.
   * A symbol the writer kept too busy to read falls back to a stale (lapped) marker.
   */
  private conflate(from: number, end: number): void {
    const lost = Math.max(0, end - from + 1)
    this.stats.lapped += lost; this.stats.laps++
    const named = this.conflater!.run(this.learnBound, this.markLappedBound)
    this.readSeq = Math.max(this.readSeq, end)
    this.publishDirty() // marker-only frames of symbols that fell back
    this.onLapped(lost, named)
  }

  /** Fallback of a conflation: the symbol is stale (lapped) until its next quote, told by a marker-only frame. */
  private markLapped(id: number): void {
    const lvc = this.lvc
    if (lvc.lapped[id] !== 0) return
    lvc.lapped[id] = 1; this.stats.lappedSymbols++
    lvc.upstreamStale[id] = this.seqs.upstreamStale[id]
    lvc.book[id] = this.seqs.book[id]
    this.events?.stateChanged(id)
    if (this.head[id] === NONE) { this.head[id] = MARKER_ONLY; this.dirty[this.dirtyCount++] = id }
  }

  /**
   * Slow path (markers, sequence jumps, a lapped symbol's next quote): applies slot `i` and notes what its symbol's
   * subscribers must be told before and after it. Returns false for a marker that changes nothing for clients.
   */
  private noteState(i: number, id: number, kind: number): boolean {
    const r = this.ring, lvc = this.lvc, events = this.events, data = kind <= LAST_DATA_KIND
    // A sequence jump means this reader lost events of the symbol (markers carry the current sequence, data +1).
    const n = r.symbolSeq[i], expected = data ? lvc.seq[id] + 1 : lvc.seq[id]
    if (n < expected) return false // behind a conflation's snapshot: it holds this event already

    let before = lvc.staleReason(id), flags = 0
    if (n > expected) {
      flags = NOTE_LAPPED_BEFORE; before = STALE_LAPPED
      if (lvc.lapped[id] === 0) { lvc.lapped[id] = 1; this.stats.lappedSymbols++ }
      lvc.upstreamStale[id] = this.seqs.upstreamStale[id] // the feed's markers may have been among the lost
      lvc.book[id] = this.seqs.book[id]
    }
    const bookBefore = lvc.book[id]
    lvc.apply(r, i)
    if (kind === KIND_BOOK && lvc.book[id] !== bookBefore) flags |= NOTE_BOOK
    if (kind === KIND_QUOTE && lvc.lapped[id] !== 0) lvc.lapped[id] = 0 // a whole top of book again
    const after = lvc.staleReason(id)
    if (after !== before) flags |= NOTE_STATE_AFTER | after
    if (flags !== 0 && events !== null) events.stateChanged(id)
    if (data) { if (events !== null) events.offer(r, i) } else if (flags === 0) return false
    this.note[i] = flags
    return true
  }

  private chain(id: number, i: number): void {
    this.next[i] = NONE
    const h = this.head[id]
    if (h === NONE) { this.head[id] = i; this.dirty[this.dirtyCount++] = id }
    else if (h === MARKER_ONLY) this.head[id] = i // (another thread's writer raced the lap) the jump's own marker says it
    else this.next[this.tail[id]] = i
    this.tail[id] = i
  }

  private learn(id: number): void {
    const first = this.symbols.learnUpTo(id)
    if (first >= 0) for (let k = first; k <= id; k++) this.ws.symbolAdded(k)
  }

  /**
   * Events [from, to] were overwritten before this reader got to them. A symbol that has an event after `to` learns
   * it from the sequence jump (drain); one whose last event was among the lost is named by the writer's lastRingSeq:
   * it gets a stale (lapped) marker now, after everything this reader delivered of it.
   */
  private lap(from: number, to: number): void {
    const lost = to - from + 1, last = this.seqs.lastRingSeq
    this.stats.lapped += lost; this.stats.laps++
    let named = 0
    for (let id = 0; id < this.symbols.size; id++) {
      const s = last[id]
      if (s < from || s > to) continue
      named++
      this.markLapped(id)
    }
    this.onLapped(lost, named)
  }

  /** Hands out this batch's frames: one chain per dirty symbol, per wanted format; detached holders are marked. */
  private publishDirty(): void {
    for (let k = 0; k < this.dirtyCount; k++) {
      const id = this.dirty[k]
      if (this.ws.wants(id, FORMAT_JSON)) this.publishChain(id, FORMAT_JSON)
      if (this.ws.wants(id, FORMAT_MSGPACK)) this.publishChain(id, FORMAT_MSGPACK)
      if (this.detachable && this.ws.detachedWants!(id)) this.ws.markDetached!(id, this.chainTrades(id))
      this.head[id] = NONE
    }
    this.dirtyCount = 0
    this.ws.endBatch?.()
  }

  /** Trades in this batch's chain of symbol `id`: walked only when some connection holds it detached. */
  private chainTrades(id: number): number {
    let n = 0
    for (let i = this.head[id]; i >= 0; i = this.next[i]) if (this.ring.kind[i] === KIND_TRADE) n++
    return n
  }

  /** Encodes this batch's events of one symbol into as few frames as fit FRAME_BYTES, and publishes them. */
  private publishChain(id: number, format: WireFormat): void {
    const buf = this.frame, r = this.ring, json = format === FORMAT_JSON, symbols = this.symbols
    const eventMax = json ? JSON_EVENT_MAX_BYTES : MSGPACK_EVENT_MAX_BYTES
    const room = FRAME_BYTES - 3 * eventMax - 4 // a slot writes at most three events (marker, event, marker)
    let off = 0, count = 0
    this.frameTrades = 0
    if (this.head[id] === MARKER_ONLY) { // lapped with no event of it left in the ring: the marker alone
      off = writeMarker(format, symbols, id, this.lvc.seq[id], STALE_LAPPED, this.batchTimeUs, buf, nextEvent(buf, off, count++, json))
    }
    for (let i = this.head[id]; i >= 0; i = this.next[i]) {
      if (off > room) { this.emit(id, format, off, count); off = 0; count = 0; this.frameTrades = 0 }
      const kind = r.kind[i], flags = this.note[i], n = r.symbolSeq[i], data = kind <= LAST_DATA_KIND
      if ((flags & NOTE_LAPPED_BEFORE) !== 0) {
        off = writeMarker(format, symbols, id, data ? n - 1 : n, STALE_LAPPED, this.batchTimeUs, buf, nextEvent(buf, off, count++, json))
      }
      if (data) {
        if (kind === KIND_TRADE) this.frameTrades++
        off = writeEvent(format, r, i, symbols, buf, nextEvent(buf, off, count++, json))
      }
      if ((flags & NOTE_BOOK) !== 0) {
        off = writeBookMarker(format, symbols, id, n, r.code[i], r.exchTimeUs[i], buf, nextEvent(buf, off, count++, json))
      }
      if ((flags & NOTE_STATE_AFTER) !== 0) {
        const t = data ? this.batchTimeUs : r.exchTimeUs[i] // a feed's marker keeps the time the feed said it
        off = writeMarker(format, symbols, id, n, flags & NOTE_REASON, t, buf, nextEvent(buf, off, count++, json))
      }
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

/** Where the next event of a frame starts: after the frame's opening (first event) or a JSON separator. */
function nextEvent(buf: Buffer, off: number, count: number, json: boolean): number {
  if (count === 0) { if (!json) return 3; buf[0] = JSON_FRAME_OPEN; return 1 }
  if (json) buf[off++] = JSON_FRAME_SEP
  return off
}
