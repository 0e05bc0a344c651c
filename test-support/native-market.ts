// Owns the reference reader tests compare tickcast against on the native feed: a SoupBinTCP client of the simulator
// (from sequence 1) that keeps, per symbol, its name, trading status and last quote as the stream says them.
// Must never share code with the pipeline under test beyond the wire decoder: it keeps plain Maps, no ring, no cache.
import { DECODE_OK } from '../src/errors.js'
import { NativeDecoder } from '../src/feed/decoders/native.js'
import { FeedStats } from '../src/feed/feed-stats.js'
import { SESSION_END } from '../src/feed/session-sink.js'
import { SoupClient } from '../src/feed/soup-client.js'
import type { TickSink } from '../src/normalize/tick-sink.js'

/** Names, statuses and the last quote ([bid, bidSize, ask, askSize] mantissas) per symbol name. */
export class NativeMarket implements TickSink {
  readonly names = new Map<number, string>()
  readonly statuses = new Map<string, number>()
  readonly quotes = new Map<string, number[]>()
  defineSymbol(l: number, name: string) { this.names.set(l, name); return DECODE_OK }
  locateOf() { return -1 }
  quote(l: number, _us: number, bp: number, bs: number, ap: number, as: number) { this.quotes.set(this.names.get(l)!, [bp, bs, ap, as]); return DECODE_OK }
  trade() { return DECODE_OK }
  status(l: number, _us: number, code: number) { this.statuses.set(this.names.get(l)!, code); return DECODE_OK }
}

export interface NativeReader { market: NativeMarket; stats: FeedStats; readonly ended: boolean; stop(): Promise<void> }

/** Reads the native session at 127.0.0.1:`port` from sequence 1 until End of Session (or stop()). */
export function readNativeFeed(port: number): NativeReader {
  const market = new NativeMarket(), stats = new FeedStats('reference'), dec = new NativeDecoder(market, stats)
  let ended = false
  const client = new SoupClient({ name: 'reference', host: '127.0.0.1', port, username: '', password: '', startSeq: 1 },
    { beginBatch() {}, endBatch() {}, message(buf, off, len) { dec.decode(buf, off, len) } }, stats,
    (ev) => { if (ev.kind === SESSION_END) ended = true })
  client.start()
  return { market, stats, get ended() { return ended }, stop: () => client.stop() }
}
