// Owns resuming a client from the per-symbol sequence it last held (`since`): finding its missed events in this
// consumer's ring and encoding them in ring order. Must never wait or write to the ring: one bounded synchronous scan.
import type { LastValueCache } from '../cache/last-value-cache.js'
import { JSON_EVENT_MAX_BYTES, JSON_FRAME_CLOSE, JSON_FRAME_OPEN, JSON_FRAME_SEP } from '../codec/json-codec.js'
import { MSGPACK_EVENT_MAX_BYTES, writeMsgpackFrameHeader } from '../codec/msgpack-codec.js'
import { FORMAT_JSON, writeEvent, writeMarker } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import type { SymbolTable } from '../model/symbols.js'
import { KIND_FRESH, KIND_STALE, LAST_DATA_KIND } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'

/** Frames of replayed events are at most this big (as the dispatcher's). */
const FRAME_BYTES = 64 * 1024
/**
 * Slots one resume may scan backwards from the consumer's position: the replay window. It bounds the work of one
 * control message (≈ 1 ms per million slots); a client further behind gets a snapshot (recovered: false).
 */
export const DEFAULT_REPLAY_WINDOW = 1 << 20
/** Events one resume may replay in all; above it a snapshot is cheaper for everybody. */
export const DEFAULT_REPLAY_MAX_EVENTS = 100_000

export class ReplayStats {
  /** symbols resumed from the ring (recovered: true) */
  recovered = 0
  /** symbols a resume could not recover (snapshot instead) */
  unrecovered = 0
  /** events replayed from the ring */
  events = 0
}

/** What the caller sends the frames through (the connection). */
export type FrameOut = (frame: Uint8Array, isBinary: boolean) => void

export class RingReplay {
  readonly stats = new ReplayStats()
  /** scratch by symbol id: the first sequence wanted (0 = not asked), then the ring position to start at (-1 = none) */
  private readonly want: Float64Array
  private readonly start: Float64Array
  /** scratch by symbol id: the symbol's latest sequence found so far scanning back (-1 = none yet) */
  private readonly top: Float64Array
  private readonly frame = Buffer.allocUnsafe(FRAME_BYTES)

  constructor(
    private readonly ring: TickRing,
    private readonly lvc: LastValueCache,
    private readonly symbols: SymbolTable,
    /** the last ring sequence the consumer (dispatcher) applied: the cache and the topics are exactly there */
    private readonly position: () => number,
    /** the stream these sequences belong to: a client's `since` from another epoch is never resumed here */
    readonly epoch: string,
    private readonly window = DEFAULT_REPLAY_WINDOW,
    private readonly maxEvents = DEFAULT_REPLAY_MAX_EVENTS,
  ) {
    this.want = new Float64Array(symbols.capacity)
    this.start = new Float64Array(symbols.capacity).fill(-1)
    this.top = new Float64Array(symbols.capacity).fill(-1)
  }

  /**
   * Decides, for each (id, since) pair, whether this consumer's ring still holds every event after `since` up to its
   * position, or the consumer has not reached `since` yet (by at most maxEvents); fills `recovered` in the same
   * order. Must be followed by write() with the same ids before anything else runs (the dispatcher must not move
   * between the two).
   */
  plan(ids: readonly number[], since: readonly number[], recovered: boolean[]): void {
    const r = this.ring, lvc = this.lvc, want = this.want, start = this.start, top = this.top
    recovered.length = 0
    let pending = 0
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k], s = since[k], n = lvc.seq[id]
      start[id] = -1; want[id] = 0
      if (lvc.lapped[id] !== 0 || !Number.isInteger(s) || s < 0) continue // we lost some (only a snapshot is whole), or not a sequence
      // s === n: missed nothing. s > n: this node is behind the client (another node of the stream got further, a
      // failover lands on a node a few ms behind): nothing to replay, and its next events up to s are duplicates the
      // client drops (n <= last). A snapshot instead would take the client's state back in time.
      if (s >= n) { if (s - n <= this.maxEvents) start[id] = this.position() + 1; continue }
      want[id] = s + 1; top[id] = -1; pending++
    }
    const pos = this.position(), oldest = Math.max(0, r.cursor - r.capacity + 1, pos - this.window + 1)
    let total = 0
    for (let seq = pos; seq >= oldest && pending > 0; seq--) {
      const i = seq & r.mask, id = r.symbolId[i]
      if (id >= want.length || want[id] === 0 || r.kind[i] > LAST_DATA_KIND) continue
      const n = r.symbolSeq[i]
      // a conflation took the cache past the symbol's last event in the ring up to here: the ring cannot bridge it
      if (top[id] < 0) { top[id] = n; if (n !== lvc.seq[id]) { want[id] = 0; pending--; continue } }
      if (n > want[id]) { total++; continue }
      if (n === want[id]) { start[id] = seq; total++ } // else a jump over since + 1: not in this ring
      want[id] = 0; pending--
    }
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]
      if (want[id] !== 0) { want[id] = 0; start[id] = -1 } // ran out of window
      recovered.push(start[id] >= 0 && total <= this.maxEvents)
    }
    for (let k = 0; k < ids.length; k++) if (!recovered[k]) start[ids[k]] = -1
  }

  /** Writes the planned symbols' events (start..position, ring order) as data frames; returns the events written. */
  write(format: WireFormat, ids: readonly number[], out: FrameOut): number {
    const r = this.ring, start = this.start, pos = this.position(), json = format === FORMAT_JSON, buf = this.frame
    let from = pos + 1
    for (const id of ids) if (start[id] >= 0 && start[id] < from) from = start[id]
    const room = FRAME_BYTES - (json ? JSON_EVENT_MAX_BYTES : MSGPACK_EVENT_MAX_BYTES) - 4
    let off = 0, count = 0, written = 0
    for (let seq = from; seq <= pos; seq++) {
      const i = seq & r.mask, id = r.symbolId[i]
      if (id >= start.length || start[id] < 0 || seq < start[id]) continue
      const kind = r.kind[i]
      if (kind > LAST_DATA_KIND && kind !== KIND_STALE && kind !== KIND_FRESH) continue
      if (off > room) { out(this.end(format, off, count), !json); off = 0; count = 0 }
      off = this.next(buf, off, count++, json)
      off = kind <= LAST_DATA_KIND ? writeEvent(format, r, i, this.symbols, buf, off)
        : writeMarker(format, this.symbols, id, r.symbolSeq[i], kind === KIND_FRESH ? 0 : r.code[i], r.exchTimeUs[i], buf, off)
      written++
    }
    if (count > 0) out(this.end(format, off, count), !json)
    for (const id of ids) start[id] = -1
    this.stats.events += written
    return written
  }

  private next(buf: Buffer, off: number, count: number, json: boolean): number {
    if (count === 0) { if (!json) return 3; buf[0] = JSON_FRAME_OPEN; return 1 }
    if (json) buf[off++] = JSON_FRAME_SEP
    return off
  }

  private end(format: WireFormat, off: number, count: number): Uint8Array {
    const buf = this.frame
    if (format === FORMAT_JSON) buf[off++] = JSON_FRAME_CLOSE
    else writeMsgpackFrameHeader(buf, 0, count)
    return buf.subarray(0, off)
  }
}
