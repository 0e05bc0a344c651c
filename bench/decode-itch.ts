// Owns the ITCH-with-book decode benchmark: synthetic order flow (seeded) through ItchDecoder + OrderBook.
// Must never touch the network: it measures decode + book + a counting sink only (messages/s printed per loop).
import { readFileSync } from 'node:fs'
import { decodeBinaryFile } from '../src/capture/binary-file.js'
import { ItchDecoder } from '../src/feed/decoders/itch.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import type { TickSink } from '../src/normalize/tick-sink.js'

const counts = { q: 0, t: 0, s: 0 }
const sink: TickSink = {
  defineSymbol: () => 0, locateOf: () => 0,
  quote: () => { counts.q++; return 0 }, trade: () => { counts.t++; return 0 }, status: () => { counts.s++; return 0 },
}

/** BinaryFILE of `n` ITCH messages: adds, executes, cancels, deletes, replaces over 2,000 symbols. */
export function syntheticOrderFlow(n: number, seed = 1): Buffer {
  let x = seed
  const rand = (m: number) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % m }
  const out = Buffer.alloc(n * 42), live: number[] = []
  let o = 0, ref = 1
  const hdr = (t: string, len: number, locate: number) => {
    out.writeUInt16BE(len, o); out.write(t, o + 2, 'latin1'); out.writeUInt16BE(locate, o + 3); out.writeUInt16BE(0, o + 5)
    out.writeUInt16BE(8, o + 7); out.writeUInt32BE(o, o + 9); return o + 2
  }
  for (let i = 0; i < n; i++) {
    const k = live.length < 1000 ? 0 : rand(10)
    if (k < 4) {
      const loc = 1 + rand(2000), m = hdr(rand(10) === 0 ? 'F' : 'A', 36, loc)
      out.writeUInt32BE(0, m + 11); out.writeUInt32BE(ref, m + 15); out.write(rand(2) ? 'B' : 'S', m + 19, 'latin1')
      out.writeUInt32BE(100 * (1 + rand(5)), m + 20); out.write('SYM     ', m + 24, 'latin1'); out.writeUInt32BE(100_000 + rand(50) * 100, m + 32)
      if (out[m] === 0x46) { out.writeUInt16BE(40, m - 2); out.write('MPID', m + 36, 'latin1'); o += 42 } else o += 38
      live.push(ref++)
    } else {
      const j = rand(live.length), r = live[j], t = k < 6 ? 'E' : k < 7 ? 'X' : k < 9 ? 'D' : 'U'
      const len = t === 'E' ? 31 : t === 'X' ? 23 : t === 'D' ? 19 : 35, m = hdr(t, len, 0)
      out.writeUInt32BE(0, m + 11); out.writeUInt32BE(r, m + 15)
      if (t === 'E') { out.writeUInt32BE(100, m + 19); out.writeUInt32BE(0, m + 23); out.writeUInt32BE(i, m + 27) }
      if (t === 'X') out.writeUInt32BE(50, m + 19)
      if (t === 'U') { out.writeUInt32BE(0, m + 19); out.writeUInt32BE(ref, m + 23); out.writeUInt32BE(200, m + 27); out.writeUInt32BE(100_000 + rand(50) * 100, m + 31); live[j] = ref++ }
      else if (t === 'D') { live[j] = live[live.length - 1]; live.pop() }
      o += 2 + len
    }
  }
  return out.subarray(0, o)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flow = syntheticOrderFlow(2_000_000), loops = 5
  const dir = readFileSync(new URL('../feeds/samples/itch50/bekele-first1000.itch', import.meta.url))
  for (let l = 0; l < loops; l++) {
    const dec = new ItchDecoder(sink, new FeedStats('bench'), { sessionDate: '2023-08-22', expectedOrders: 1 << 20 })
    const t0 = performance.now(), n = decodeBinaryFile(dir, dec) + decodeBinaryFile(flow, dec), ms = performance.now() - t0
    console.log(`itch+book: ${n} msgs in ${ms.toFixed(0)} ms = ${Math.round(n / ms * 1000).toLocaleString('en-US')} msg/s (live ${dec.book.liveOrders}, ${dec.book.bytesPerLiveOrder().toFixed(1)} B/order, quotes ${counts.q})`)
  }
}
