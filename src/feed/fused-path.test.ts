// The fused path for runs of native quotes and trades (normalize/quote-run.ts, taken through SessionSink.take) against the layered
// path (framer → session → decoder → normalizer): the same bytes, cut at random, must leave the same ring, the same
// per-symbol sequences and latest values, and the same session counters and error counts.
import { describe, expect, it } from 'vitest'
import { writeQuote, writeSymbolDirectory, writeTrade } from '../../feeds/native-encoder.js'
import { FeedGenerator, PRICE_EXPONENT, SIZE_EXPONENT } from '../../feeds/sim/generator.js'
import { loadUniverse } from '../../feeds/sim/universe.js'
import { LatestValues } from '../cache/latest-values.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { Normalizer, SymbolSequences } from '../normalize/normalizer.js'
import { KIND_QUOTE, KIND_STALE, KIND_TRADE, TickRing } from '../ring/ring-buffer.js'
import { NativeDecoder } from './decoders/native.js'
import { FeedIngest } from './feed-ingest.js'
import { FeedStats } from './feed-stats.js'
import type { SessionSink } from './session-sink.js'
import { SoupClient } from './soup-client.js'
import { PKT_DEBUG, PKT_SERVER_HEARTBEAT, writeEmpty, writeHeader, writeLoginAccepted, writeSequencedHeader } from './soupbin.js'

const T0 = 1_732_619_000_000_000

/**
 * A SoupBinTCP stream: Login Accepted at `acceptedSeq`, then generated native messages (directory, quotes, trades,
 * status) with, now and then, what the fused path must leave to the general one: quotes that fail a check, of a locate
 * never defined, of a symbol redefined with another exponent (rescaled), heartbeats and debug packets.
 */
function stream(count: number, seed: number, acceptedSeq: number): { bytes: Buffer; messages: number; names: readonly string[] } {
  const gen = new FeedGenerator({ universe: loadUniverse(), symbols: 60, seed, startTimeUs: T0 })
  const out = Buffer.alloc(count * 80 + 4096)
  let o = writeLoginAccepted(out, 0, 'FUSED', acceptedSeq), messages = 0, x = seed
  const rnd = (): number => { x = (x * 1103515245 + 12345) >>> 0; return x / 4294967296 }
  const q = Buffer.alloc(64)
  const sequenced = (buf: Buffer, off: number, len: number): void => {
    o += writeSequencedHeader(out, o, len); buf.copy(out, o, off, off + len); o += len; messages++
  }
  gen.emit(count, (buf, off, len) => {
    sequenced(buf, off, len)
    const r = rnd()
    if (r < 0.004) { o += writeEmpty(out, o, PKT_SERVER_HEARTBEAT); return }
    if (r < 0.006) { o += writeHeader(out, o, PKT_DEBUG, 5); out.write('debug', o, 'latin1'); o += 5; return }
    if (r < 0.010) { sequenced(q, 0, writeQuote(q, 0, 9000, T0, 0, 0, 100, 1, 200, 1)); return } // never defined
    if (r < 0.012) { sequenced(q, 0, writeQuote(q, 0, 0, T0, 0, 0, 100, 1, 200, 1)); return } // locate 0
    if (r < 0.014) { sequenced(q, 0, writeQuote(q, 0, 3, T0, 0, 0, 100, 0, 200, 1)); return } // a price on an empty side
    if (r < 0.016) { sequenced(q, 0, writeQuote(q, 0, 3, T0, 0, 0, 2 ** 53, 1, 200, 1)); return } // a price over 2^53 - 1
    if (r < 0.018) { sequenced(q, 0, writeQuote(q, 0, 4, 2 ** 52, 0, 0, 100, 1, 200, 1)); return } // a time past the bound
    if (r < 0.019) { q.fill(0x51, 0, 1); sequenced(q, 0, 47); return } // a quote one byte short
    if (r < 0.020) { sequenced(q, 0, writeTrade(q, 0, 3, T0, 0, 0x42, 100, 0, 1)); return } // a trade of size 0
    if (r < 0.021) { sequenced(q, 0, writeTrade(q, 0, 3, T0, 0, 0x41, 100, 1, 1)); return } // a side that is none of B, S, space
    if (r < 0.022) { sequenced(q, 0, writeTrade(q, 0, 4, T0, 0, 0x20, 100, 1, 2 ** 53)); return } // a trade id over 2^53 - 1
    if (r < 0.023) { sequenced(q, 0, writeTrade(q, 0, 9000, T0, 0, 0x53, 100, 1, 1)); return } // a trade of a locate never defined
    if (r < 0.024) { sequenced(q, 0, writeTrade(q, 0, 3, T0, 0, 0x53, -(2 ** 53), 1, 1)); return } // a price of -2^53
    if (r < 0.025) { q.fill(0x54, 0, 1); sequenced(q, 0, 39); return } // a trade one byte short
    if (r < 0.0255) { // the symbol of locate 5 again, with another exponent: its quotes are rescaled from here on
      const d = Buffer.alloc(40); writeSymbolDirectory(d, 0, 5, T0, 0, gen.names[4], -2, 0, 100, 1); sequenced(d, 0, 40)
    }
  })
  return { bytes: out.subarray(0, o), messages, names: gen.names }
}

interface Outcome { taken: number; ring: number[][]; cursor: number; generation: number; next: number[]; lastRingSeq: number[]; latest: number[]; stats: unknown }

/** Drives a real SoupClient's chunk handler with `bytes` cut into the given chunk sizes; `fused` false hides take(). */
function run(bytes: Buffer, cuts: number[], fused: boolean, opts: { startSeq: number; gapAfterChunk: number }, names: readonly string[] = []): Outcome {
  const ring = new TickRing(1 << 16), shared = new SharedSymbols(256), seqs = new SymbolSequences(256)
  seqs.latest = new LatestValues(256)
  const stats = new FeedStats('t'), normalizer = new Normalizer(ring, shared, seqs)
  const ingest = new FeedIngest(new NativeDecoder(normalizer, stats), normalizer)
  expect(ingest.take).toBeDefined()
  let taken = 0 // messages the fused path took (so the comparison cannot pass with the fused path unused)
  const counting: SessionSink = { beginBatch: (ms) => ingest.beginBatch(ms), message: (b, off, len, seq) => ingest.message(b, off, len, seq),
    endBatch: () => ingest.endBatch(), take: (b, off, end, max) => { const to = ingest.take!(b, off, end, max); taken += ingest.taken; return to }, get taken() { return ingest.taken } }
  const sink: SessionSink = fused ? counting
    : { beginBatch: (ms) => ingest.beginBatch(ms), message: (b, off, len, seq) => ingest.message(b, off, len, seq), endBatch: () => ingest.endBatch() }
  // A replay overlap: this line was here before and its directory was learnt then (the stream's copy is skipped).
  if (opts.startSeq > 1) for (let k = 0; k < names.length; k++) normalizer.defineSymbol(k + 1, names[k], PRICE_EXPONENT, SIZE_EXPONENT)
  const client = new SoupClient({ name: 't', host: '127.0.0.1', port: 1, username: '', password: '', startSeq: opts.startSeq }, sink, stats)
  // No socket: the session is put where a login request leaves it (as bench/decode-ingest-path.ts does).
  const c = client as unknown as { state: number; requestedSeq: number; onData(chunk: Buffer): void }
  c.state = 2; c.requestedSeq = opts.startSeq
  const read = Buffer.alloc(cuts.reduce((a, b) => Math.max(a, b), 0)) // one reused read buffer, as the session's
  let o = 0, k = 0
  for (const n of cuts) {
    const len = Math.min(n, bytes.length - o)
    if (len <= 0) break
    bytes.copy(read, 0, o, o + len); o += len
    c.onData(read.subarray(0, len))
    if (++k === opts.gapAfterChunk) normalizer.feedGap() // a feed gap: markers due, the fused path steps aside until fresh
  }
  expect(o).toBe(bytes.length)
  const rows: number[][] = []
  for (let s = 0; s <= ring.cursor; s++) {
    const i = s & ring.mask
    const clock = ring.kind[i] >= KIND_STALE ? -1 : ring.exchTimeUs[i] // stale/fresh/book markers carry a clock read: not comparable
    rows.push([ring.kind[i], ring.code[i], ring.symbolId[i], ring.symbolSeq[i], clock, ring.bidPrice[i], ring.bidSize[i],
      ring.askPrice[i], ring.askSize[i], ring.tradePrice[i], ring.tradeSize[i], ring.tradeId[i]])
  }
  // every counter but the receive clock (performance.now() per chunk: not comparable)
  const counters = Object.fromEntries(Object.entries(stats).filter(([k]) => k !== 'lastReceiveMs' && k !== 'lines'))
  return { taken, ring: rows, cursor: ring.cursor, generation: ring.shared[0], next: [...seqs.next], lastRingSeq: [...seqs.lastRingSeq],
    latest: [...seqs.latest.f], stats: { ...counters, nextExpected: client.nextExpectedSeq, decodeErrors: [...stats.decodeErrors], unattributable: [...stats.unattributable] } }
}

function randomCuts(total: number, seed: number, max: number): number[] {
  const cuts: number[] = []
  let x = seed, sum = 0
  while (sum < total) { x = (x * 1103515245 + 12345) >>> 0; const n = 1 + (x % max); cuts.push(n); sum += n }
  return cuts
}

describe('fused quote path', () => {
  it('leaves the same ring, sequences, latest values and counters as the layered path, wherever TCP cuts the stream', () => {
    const { bytes, messages } = stream(20_000, 7, 1)
    for (const [seed, max] of [[1, 7], [2, 64], [3, 600], [4, 5000], [5, 262144]]) {
      const cuts = randomCuts(bytes.length, seed, max)
      const general = run(bytes, cuts, false, { startSeq: 1, gapAfterChunk: -1 }), fused = run(bytes, cuts, true, { startSeq: 1, gapAfterChunk: -1 })
      expect(general.ring.length).toBeGreaterThan(19_000) // every message made an event but the refused ones
      expect((general.stats as { messages: number }).messages).toBe(messages)
      expect((general.stats as { decodeErrors: number[] }).decodeErrors.reduce((a, b) => a + b, 0)).toBeGreaterThan(100)
      if (max >= 600) expect(fused.taken).toBeGreaterThan(0.5 * general.ring.length) // (chunks under 51 bytes hold no whole quote)
      // it took trades too: more messages than there are quotes (the generator's streams are 8 % trades)
      const quotes = general.ring.filter((row) => row[0] === KIND_QUOTE).length, trades = general.ring.filter((row) => row[0] === KIND_TRADE).length
      expect(trades).toBeGreaterThan(1000)
      if (max >= 5000) expect(fused.taken).toBeGreaterThan(quotes)
      expect({ ...fused, taken: 0 }, `cuts up to ${max} bytes`).toEqual(general)
    }
  })

  it('agrees across a replay overlap (duplicates skipped) and a feed gap (stale markers, then fresh)', () => {
    const { bytes, names } = stream(20_000, 11, 1)
    const cuts = randomCuts(bytes.length, 9, 3000), opts = { startSeq: 5000, gapAfterChunk: 60 }
    const general = run(bytes, cuts, false, opts, names), fused = run(bytes, cuts, true, opts, names)
    expect((general.stats as { duplicates: number }).duplicates).toBe(4999)
    expect(general.ring.some((row) => row[0] === KIND_STALE)).toBe(true) // the gap's markers were written
    expect(fused.taken).toBeGreaterThan(0.5 * general.ring.length)
    expect({ ...fused, taken: 0 }).toEqual(general)
  })
})
