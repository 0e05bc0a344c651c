// Owns encoding snapshot events into data frames of at most a given number of bytes, in one buffer reused by every
// connection. Must never choose which symbols to snapshot or send anything: the connection does both.
import type { LastValueCache } from '../../cache/last-value-cache.js'
import { JSON_EVENT_MAX_BYTES, JSON_FRAME_CLOSE, JSON_FRAME_OPEN, JSON_FRAME_SEP } from '../../codec/json-codec.js'
import { MSGPACK_EVENT_MAX_BYTES, MSGPACK_FRAME_MAX_EVENTS, writeMsgpackFrameHeader } from '../../codec/msgpack-codec.js'
import { FORMAT_JSON, writeSnapshot } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import type { SymbolTable } from '../../model/symbols.js'
import { THROTTLED_EVENTS_MAX, recordBaseline, writeThrottled } from './throttled-events.js'
import { SNAPSHOT_FRAME_MAX_BYTES } from './writer.js'
import type { HeldSymbol } from './writer.js'

/** The msgpack frame header is always array16 (3 bytes), patched in by end(). */
const MSGPACK_HEADER_BYTES = 3

export class SnapshotFrames {
  private readonly buf = Buffer.allocUnsafe(SNAPSHOT_FRAME_MAX_BYTES)
  private format: WireFormat = FORMAT_JSON
  private off = 0
  private count = 0
  /** the last offset at which one more event (separator, event, closing bracket) still fits */
  private room = 0

  constructor(private readonly lvc: LastValueCache, private readonly symbols: SymbolTable) {}

  /** Starts a frame of at most `maxBytes` (≤ SNAPSHOT_FRAME_MAX_BYTES) bytes. */
  begin(format: WireFormat, maxBytes: number): void {
    const json = format === FORMAT_JSON
    this.format = format; this.count = 0
    this.off = json ? 1 : MSGPACK_HEADER_BYTES
    // room for a throttled symbol's events (≤ THROTTLED_EVENTS_MAX, each smaller than a snapshot) and the bracket
    this.room = Math.min(maxBytes, SNAPSHOT_FRAME_MAX_BYTES) - THROTTLED_EVENTS_MAX * (json ? JSON_EVENT_MAX_BYTES + 1 : MSGPACK_EVENT_MAX_BYTES) - 1
    if (json) this.buf[0] = JSON_FRAME_OPEN
  }

  /** False once another snapshot might not fit: end() this frame first. A frame always takes at least one. */
  hasRoom(): boolean { return this.count === 0 || (this.off <= this.room && this.count < MSGPACK_FRAME_MAX_EVENTS) }

  get events(): number { return this.count }

  /**
   * Symbol `id`'s snapshot. `h`: the connection holds it outside its topics, and the snapshot is its throttle's new baseline;
   * returns the trades the snap summarises (h's undelivered trades), to be signalled before the frame.
   */
  add(id: number, h?: HeldSymbol): number {
    if (this.format === FORMAT_JSON && this.count > 0) this.buf[this.off++] = JSON_FRAME_SEP
    this.off = writeSnapshot(this.format, this.lvc, this.symbols, id, this.buf, this.off)
    this.count++
    if (h === undefined) return 0
    recordBaseline(this.lvc, h, this.lvc.seq[id])
    return h.trades
  }

  /**
   * A due throttled symbol: its update(s) since h's baseline, or a snap (throttled-events.ts); may add none (nothing
   * with a sequence changed). Returns the trades of the window not delivered as a trade event.
   */
  addHeld(h: HeldSymbol): number {
    const w = writeThrottled(this.format, this.lvc, this.symbols, h, this.buf, this.off, this.count === 0)
    this.off = w.off; this.count += w.events
    return w.tradesSkipped
  }

  /** The throttle of `h` starts from what the client holds now (every update of it so far, or a snapshot to come). */
  baseline(h: HeldSymbol): void { recordBaseline(this.lvc, h, h.dirty ? -1 : this.lvc.seq[h.id]) }

  /** The frame's bytes: a view into the shared buffer, valid until the next begin() (uWS copies on send). */
  end(): Buffer {
    if (this.format === FORMAT_JSON) this.buf[this.off++] = JSON_FRAME_CLOSE
    else writeMsgpackFrameHeader(this.buf, 0, this.count)
    return this.buf.subarray(0, this.off)
  }
}
