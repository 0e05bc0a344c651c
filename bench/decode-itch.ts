// Owns the ITCH-with-book decode benchmark: synthetic order flow (seeded) through ItchDecoder + OrderBook.
// Must never touch the network: it measures decode + book + a counting sink only (messages/s printed per loop).
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeBinaryFile } from '../feeds/capture/binary-file.js'
import { ItchDecoder } from '../src/feed/decoders/itch.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import type { TickSink } from '../src/normalize/tick-sink.js'

const counts = { q: 0, t: 0, s: 0 }
const sink: TickSink = {
  defineSymbol: () => 0, locateOf: () => 0,
  quote: () => { counts.q++; return 0 }, trade: () => { counts.t++; return 0 }, status: () => { counts.s++; return 0 },
}

const SYMBOLS = 2000, TICK = 100, TARGET_LIVE = 300_000, RECENT = 2048

/**
 * BinaryFILE of `n` ITCH messages shaped like a TotalView day (rough shares of a real one): ~45 % adds
 * (A, 1 in 10 F), ~36 % deletes, ~9 % replaces, ~6 % executes (E, some C), ~3 % partial cancels (X),
 * ~1 % hidden prints (P). Activity per symbol is skewed (a few symbols carry most messages). Each symbol
 * has a drifting mid; bids rest below it and asks above, at a distance that is mostly 0-3 ticks from the
 * touch and occasionally 10-200 ticks deep, so books hold both a busy top and a long thin tail. Orders
 * that are cancelled, executed or replaced are mostly recent ones (3 in 4 from the newest ~2k live
 * orders), as on a real feed where most orders live for milliseconds; the rest are picked uniformly.
 * Order refs come from 4 interleaved sequences that each step by 4 (one per ref % 4, far apart), as in
 * the omi sample captures (…800, …812, …828 / …286, …474): consecutive refs are not consecutive numbers.
 * The generator tracks every order's side, price and shares so no message refers to a dead order.
 */
export function syntheticOrderFlow(n: number, seed = 1): Buffer {
  let x = seed
  const rand = (m: number): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % m }
  const out = Buffer.alloc(n * 42), live: number[] = []
  const streams = [34_103_800, 18_900_001, 23_508_286, 21_361_419] // next ref per stream (residues 0..3 mod 4)
  const cap = n + 1, oRef = new Float64Array(cap), oLoc = new Uint16Array(cap), oSide = new Uint8Array(cap), oPx = new Uint32Array(cap), oSh = new Uint32Array(cap)
  const mid = new Uint32Array(SYMBOLS + 1)
  for (let s = 1; s <= SYMBOLS; s++) mid[s] = (50 + rand(20_000)) * TICK // $0.50 .. $200 in Price(4)
  let o = 0, ref = 1, ns = 34_200_000_000_000 // 09:30 ET
  const hdr = (t: number, len: number, locate: number): number => {
    out.writeUInt16BE(len, o); out[o + 2] = t; out.writeUInt16BE(locate, o + 3); out.writeUInt16BE(0, o + 5)
    out.writeUInt16BE(Math.floor(ns / 2 ** 32), o + 7); out.writeUInt32BE(ns >>> 0, o + 9); return o + 2
  }
  const ref64 = (r: number, at: number): void => { out.writeUInt32BE(0, at); out.writeUInt32BE(r, at + 4) }
  const wire = (id: number): number => { const s = rand(4); oRef[id] = streams[s]; streams[s] += 4; return oRef[id] } // id = local order number
  const pricing = (loc: number, side: number): number => { // distance from the mid: mostly near, sometimes deep
    const d = rand(20) === 0 ? 10 + rand(190) : rand(4), m = mid[loc]
    return side === 0 ? Math.max(TICK, m - (1 + d) * TICK) : m + (1 + d) * TICK
  }
  const pick = (): number => live.length - 1 - (rand(4) !== 0 ? rand(Math.min(RECENT, live.length)) : rand(live.length))
  const drop = (j: number): void => { live[j] = live[live.length - 1]; live.pop() }
  for (let i = 0; i < n; i++) {
    ns += 1 + rand(20_000)
    const k = live.length < 1000 ? 0 : rand(100), addCut = live.length < TARGET_LIVE ? 47 : 43
    if (k < addCut) { // A or F
      const r = rand(1000) / 1000, loc = 1 + Math.floor(SYMBOLS * r * r * r), side = rand(2), f = rand(10) === 0
      if (rand(50) === 0) mid[loc] = Math.max(10 * TICK, mid[loc] + (rand(2) ? TICK : -TICK))
      const px = pricing(loc, side), sh = 100 * (1 + rand(5)), m = hdr(f ? 0x46 : 0x41, f ? 40 : 36, loc)
      ref64(wire(ref), m + 11); out[m + 19] = side === 0 ? 0x42 : 0x53; out.writeUInt32BE(sh, m + 20)
      out.write('SYM     ', m + 24, 'latin1'); out.writeUInt32BE(px, m + 32)
      if (f) out.write('MPID', m + 36, 'latin1')
      oLoc[ref] = loc; oSide[ref] = side; oPx[ref] = px; oSh[ref] = sh; live.push(ref++)
      o = m + (f ? 40 : 36)
    } else if (k < 99) {
      const j = pick(), r = live[j], left = oSh[r]
      if (k < addCut + 36) { const m = hdr(0x44, 19, oLoc[r]); ref64(oRef[r], m + 11); drop(j); o = m + 19 } // D
      else if (k < addCut + 45) { // U: same side, near the old price
        const m = hdr(0x55, 35, oLoc[r]), sh = 100 * (1 + rand(5))
        const px = rand(2) ? oPx[r] : pricing(oLoc[r], oSide[r])
        ref64(oRef[r], m + 11); ref64(wire(ref), m + 19); out.writeUInt32BE(sh, m + 27); out.writeUInt32BE(px, m + 31)
        oLoc[ref] = oLoc[r]; oSide[ref] = oSide[r]; oPx[ref] = px; oSh[ref] = sh; live[j] = ref++; o = m + 35
      } else if (k < addCut + 51) { // E or C (1 in 5): up to the whole order
        const c = rand(5) === 0, m = hdr(c ? 0x43 : 0x45, c ? 36 : 31, oLoc[r]), sh = Math.min(left, 100 * (1 + rand(3)))
        ref64(oRef[r], m + 11); out.writeUInt32BE(sh, m + 19); ref64(i + 1, m + 23)
        if (c) { out[m + 31] = 0x59; out.writeUInt32BE(oPx[r], m + 32) }
        oSh[r] = left - sh; if (left === sh) drop(j)
        o = m + (c ? 36 : 31)
      } else { // X: part of the order (all of it when it is one lot)
        const m = hdr(0x58, 23, oLoc[r]), sh = left > 100 ? 100 : left
        ref64(oRef[r], m + 11); out.writeUInt32BE(sh, m + 19); oSh[r] = left - sh; if (left === sh) drop(j); o = m + 23
      }
    } else { // P: a hidden order executed
      const loc = 1 + rand(SYMBOLS), m = hdr(0x50, 44, loc)
      ref64(0, m + 11); out[m + 19] = rand(2) ? 0x42 : 0x53; out.writeUInt32BE(100, m + 20)
      out.write('SYM     ', m + 24, 'latin1'); out.writeUInt32BE(mid[loc], m + 32); ref64(i + 1, m + 36); o = m + 44
    }
  }
  return out.subarray(0, o)
}

/** A repository file: from the working directory, else up from this file (it runs from bench/ or dist/bench/). */
function sample(rel: string): string {
  let d = process.cwd()
  if (!existsSync(path.join(d, rel))) d = path.dirname(fileURLToPath(import.meta.url))
  for (let k = 0; k < 4 && !existsSync(path.join(d, rel)); k++) d = path.dirname(d)
  return path.join(d, rel)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flow = syntheticOrderFlow(2_000_000), loops = 7, rates: number[] = []
  const dir = readFileSync(sample('feeds/samples/itch50/bekele-first1000.itch'))
  for (let l = 0; l < loops; l++) {
    const stats = new FeedStats('bench')
    const dec = new ItchDecoder(sink, stats, { sessionDate: '2023-08-22', expectedOrders: 1 << 20 })
    const t0 = performance.now(), n = decodeBinaryFile(dir, dec) + decodeBinaryFile(flow, dec), ms = performance.now() - t0
    if (dec.book.liveOrders === 0) console.log('empty book')
    const errors = stats.decodeErrors.reduce((a, b) => a + b, 0)
    rates.push(n / ms * 1000)
    console.log(`itch+book: ${n} msgs in ${ms.toFixed(0)} ms = ${Math.round(n / ms * 1000).toLocaleString('en-US')} msg/s (live ${dec.book.liveOrders}, levels ${dec.book.liveLevels}, ${dec.book.bytesPerLiveOrder().toFixed(1)} B/order, probe ${dec.book.meanProbeLength().toFixed(2)}, quotes ${counts.q}, decode errors ${errors})`)
  }
  rates.sort((a, b) => a - b)
  console.log(`median ${Math.round(rates[loops >> 1]).toLocaleString('en-US')} msg/s, best ${Math.round(rates[loops - 1]).toLocaleString('en-US')} msg/s`)
}
