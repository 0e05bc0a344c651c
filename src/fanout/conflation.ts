// Owns a lapped reader's recovery by conflation: the writer's latest value of every symbol it moved past this reader
// goes into the reader's cache, and each wanted topic is told (trades_skipped when trades were skipped, then a snap).
// Must never read the ring (what the reader lost is gone) nor wait for the writer: a symbol it cannot read falls back.
import type { LastValueCache } from '../cache/last-value-cache.js'
import type { LatestValues } from '../cache/latest-values.js'
import { JSON_EVENT_MAX_BYTES, JSON_FRAME_CLOSE, JSON_FRAME_OPEN } from '../codec/json-codec.js'
import { writeMsgpackFrameHeader } from '../codec/msgpack-codec.js'
import { FORMAT_JSON, FORMAT_MSGPACK, writeSnapshot } from '../codec/tick-codec.js'
import type { WireFormat } from '../codec/tick-codec.js'
import type { SymbolTable } from '../model/symbols.js'
import type { SymbolSequences } from '../normalize/symbol-sequences.js'
import type { DispatchStats, EventSink, FrameSink } from './dispatch-sinks.js'

const BOTH_FORMATS: readonly WireFormat[] = [FORMAT_JSON, FORMAT_MSGPACK]
/** msgpack frames start with an array16 header, patched in at the end */
const MSGPACK_HEADER_BYTES = 3

export class Conflater {
  /** one snap per frame: its own small buffer (a snapshot event is at most JSON_EVENT_MAX_BYTES) */
  private readonly frame = Buffer.allocUnsafe(JSON_EVENT_MAX_BYTES + 8)

  constructor(
    private readonly latest: LatestValues,
    private readonly lvc: LastValueCache,
    private readonly symbols: SymbolTable,
    private readonly seqs: SymbolSequences,
    private readonly ws: FrameSink,
    private readonly events: EventSink | null,
    private readonly stats: DispatchStats,
  ) {}

  /**
   * Every symbol whose latest sequence is past this reader's: the cache takes the latest value (the staleness and book
   * state the feed last declared too), MQTT republishes it, its topics get the snap. Ring events the snap covers are
   * skipped when they come (the dispatcher drops a data event at or below the cache's sequence). `learn(id)`: the
   * reader learns symbols up to `id`; `fallback(id)`: the writer kept it too busy to read. Returns the symbols named.
   */
  run(learn: (id: number) => void, fallback: (id: number) => void): number {
    const lv = this.latest, lvc = this.lvc, seqs = this.seqs
    let named = 0
    for (let id = 0; id < lv.capacity; id++) {
      if (lv.seqOf(id) <= lvc.seq[id]) continue // nothing new (0: never seen)
      if (id >= this.symbols.size) learn(id)
      named++
      const tradesBefore = lvc.trades[id]
      if (!lv.readInto(id, lvc)) { fallback(id); continue }
      const skipped = Math.max(0, lvc.trades[id] - tradesBefore)
      lvc.lapped[id] = 0
      lvc.upstreamStale[id] = seqs.upstreamStale[id]
      lvc.book[id] = seqs.book[id]
      this.stats.conflations++; this.stats.conflatedTrades += skipped
      if (this.events !== null) this.events.stateChanged(id, true)
      this.publish(id, skipped)
    }
    return named
  }

  /** The symbol's latest value, one frame per wanted format after its trades_skipped notice; detached holders marked. */
  private publish(id: number, skipped: number): void {
    const ws = this.ws, buf = this.frame
    for (const format of BOTH_FORMATS) {
      if (!ws.wants(id, format)) continue
      if (skipped > 0 && ws.tradesSkipped !== undefined) ws.tradesSkipped(id, format, skipped)
      const json = format === FORMAT_JSON
      if (json) buf[0] = JSON_FRAME_OPEN
      let off = writeSnapshot(format, this.lvc, this.symbols, id, buf, json ? 1 : MSGPACK_HEADER_BYTES)
      if (json) buf[off++] = JSON_FRAME_CLOSE
      else writeMsgpackFrameHeader(buf, 0, 1)
      ws.publish(id, format, buf.subarray(0, off), 0)
      this.stats.frames++; this.stats.frameBytes += off
    }
    if (ws.detachedWants !== undefined && ws.markDetached !== undefined && ws.detachedWants(id)) ws.markDetached(id, skipped)
  }
}
