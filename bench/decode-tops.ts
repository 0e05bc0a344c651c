// Owns the TOPS decode benchmark: the real 57,674-message IEX sample, decoded in a loop through a counting sink.
// Must never measure capture parsing: messages are extracted once, then only TopsDecoder.decode is timed.
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { IexTpReader } from '../feeds/capture/iex-tp.js'
import { TransportDemux } from '../feeds/capture/net-frame.js'
import { readCapture } from '../feeds/capture/pcap.js'
import { TopsDecoder } from '../src/feed/decoders/tops.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import type { TickSink } from '../src/normalize/tick-sink.js'

// from the working directory (the repository root, as npm runs it): the file sits beside the sources, not in dist
const pcap = gunzipSync(readFileSync('feeds/samples/iex-tops16/TOPS16.pcapng.gz'))
const offs: number[] = [], lens: number[] = []
readCapture(pcap, new TransportDemux(new IexTpReader({ message(_b, o, l) { offs.push(o); lens.push(l) } })))
let names = 0, ticks = 0
const sink: TickSink = { defineSymbol: () => 0, locateOf: () => names++, quote: () => { ticks++; return 0 }, trade: () => { ticks++; return 0 }, status: () => { ticks++; return 0 } }
const dec = new TopsDecoder(sink, new FeedStats('bench'))
for (let l = 0; l < 8; l++) {
  const t0 = performance.now(), rounds = 20
  for (let r = 0; r < rounds; r++) for (let i = 0; i < offs.length; i++) dec.decode(pcap, offs[i], lens[i])
  const ms = performance.now() - t0, n = offs.length * rounds
  console.log(`tops: ${n} msgs in ${ms.toFixed(0)} ms = ${Math.round(n / ms * 1000).toLocaleString('en-US')} msg/s (ticks ${ticks})`)
}
