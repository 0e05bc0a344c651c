// Owns the in-process fan-out both cost benches drive (fanout-cost.ts, load-cost.ts): tickcast's WsServer and Dispatcher
// over a hand-written ring, and a writer of busiest-first turns, the same sequence every run. Must never decide when
// turns run, when the dispatcher drains, or what is measured: each bench does.
import { loadUniverse } from '../../feeds/sim/universe.js'
import { LastValueCache } from '../../src/cache/last-value-cache.js'
import { FORMAT_JSON } from '../../src/codec/tick-codec.js'
import { Dispatcher } from '../../src/fanout/dispatcher.js'
import { WsServer } from '../../src/fanout/ws-server.js'
import { WsStats } from '../../src/fanout/ws-stats.js'
import { SharedSymbols } from '../../src/model/shared-symbols.js'
import { SymbolTable } from '../../src/model/symbols.js'
import { SymbolSequences } from '../../src/normalize/symbol-sequences.js'
import { KIND_QUOTE, KIND_TRADE, TickRing } from '../../src/ring/ring-buffer.js'

const silent = { info() {}, warn() {} }

export interface FanoutRig {
  readonly names: string[]
  readonly ring: TickRing
  readonly stats: WsStats
  readonly server: WsServer
  readonly dispatcher: Dispatcher
  readonly port: number
  /**
   * Writes one turn of `events` events into the ring (not committed, not drained) and returns the deliveries they make
   * to the current JSON subscribers. `clockPerEvent`: each event's own timestamp, else one clock read for the turn.
   */
  writeTurn(events: number, clockPerEvent: boolean): number
}

/** `frameIntervalMs`: the server's --ws-frame-interval-ms (0: one merged frame per drain, the default) */
export async function startFanoutRig(symbolCount: number, frameIntervalMs = 0): Promise<FanoutRig> {
  const names = loadUniverse().slice(0, symbolCount).map((r) => r.symbol)
  const cap = 1 << Math.ceil(Math.log2(symbolCount + 1))
  const symbols = new SymbolTable(new SharedSymbols(cap))
  for (const n of names) symbols.learnUpTo(symbols.shared.add(n, -2, 0))
  const lvc = new LastValueCache(cap), ring = new TickRing(1 << 16), stats = new WsStats()
  const server = new WsServer({ closeGraceMs: 20, frameIntervalMs }, symbols, lvc, stats, silent)
  const dispatcher = new Dispatcher(ring, lvc, symbols, new SymbolSequences(cap), server, null)
  const port = await server.listen('127.0.0.1', 0)

  // busiest first, as the simulator's universe: symbol k gets weight 1/(k+1) (LCG, the same sequence every run)
  const cum = new Float64Array(symbolCount)
  for (let k = 0, s = 0; k < symbolCount; k++) { s += 1 / (k + 1); cum[k] = s }
  const total = cum[symbolCount - 1], seqs = new Float64Array(cap), counts = server.registry.counts
  let x = 12345, px = 10000
  function writeTurn(events: number, clockPerEvent: boolean): number {
    // one clock read per turn, as a simulator batch: per event, the global `performance` getter cost ~12 instructions per
    // delivered update of this process that the fan-out never spends
    let nowMs = performance.now(), nowUs = Math.floor((performance.timeOrigin + nowMs) * 1000), delivered = 0
    for (let e = 0; e < events; e++) {
      if (clockPerEvent) { nowMs = performance.now(); nowUs = Math.floor((performance.timeOrigin + nowMs) * 1000) }
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0
      const u = (x / 2 ** 32) * total
      let lo = 0, hi = symbolCount - 1
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] < u) lo = mid + 1; else hi = mid }
      const id = lo, i = ring.nextSlot(), kind = (x & 15) === 0 ? KIND_TRADE : KIND_QUOTE
      ring.kind[i] = kind; ring.symbolId[i] = id; ring.symbolSeq[i] = ++seqs[id]; ring.code[i] = 0x42
      ring.exchTimeUs[i] = nowUs; ring.recvTimeMs[i] = nowMs
      px = px >= 20000 ? 10000 : px + 1
      ring.bidPrice[i] = px; ring.bidSize[i] = 100; ring.askPrice[i] = px + 1; ring.askSize[i] = 200
      ring.tradePrice[i] = px; ring.tradeSize[i] = 5; ring.tradeId[i] = seqs[id]
      ring.advance()
      delivered += counts[(id << 1) | FORMAT_JSON]
    }
    return delivered
  }
  return { names, ring, stats, server, dispatcher, port, writeTurn }
}
