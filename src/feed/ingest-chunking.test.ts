// The ingest path as the session drives it (framer → native decoder → normalizer → ring) must produce the
// same ticks wherever TCP cuts the byte stream.
import { describe, expect, it } from 'vitest'
import { FeedGenerator } from '../../feeds/sim/generator.js'
import { loadUniverse } from '../../feeds/sim/universe.js'
import { SharedSymbols } from '../model/shared-symbols.js'
import { Normalizer, SymbolSequences } from '../normalize/normalizer.js'
import { TickRing } from '../ring/ring-buffer.js'
import { NativeDecoder } from './decoders/native.js'
import { FeedIngest } from './feed-ingest.js'
import { FeedStats } from './feed-stats.js'
import { Framer } from './framer.js'
import { writeSequencedHeader } from './soupbin.js'

/** 3,000 generated messages as a SoupBinTCP byte stream of Sequenced Data packets. */
function stream(): Buffer {
  const gen = new FeedGenerator({ universe: loadUniverse(), symbols: 40, seed: 11, startTimeUs: 1_732_619_000_000_000 })
  const out = Buffer.alloc(3000 * 60)
  let o = 0
  gen.emit(3000, (buf, off, len) => { o += writeSequencedHeader(out, o, len); buf.copy(out, o, off, off + len); o += len })
  return out.subarray(0, o)
}

/** Feeds `bytes` in chunks of `cut` bytes and returns every ring event as a flat row of its fields. */
function ingest(bytes: Buffer, cut: number): number[][] {
  const ring = new TickRing(4096), stats = new FeedStats('t')
  const normalizer = new Normalizer(ring, new SharedSymbols(64), new SymbolSequences(64))
  const sink = new FeedIngest(new NativeDecoder(normalizer, stats), normalizer)
  let seq = 1
  const framer = new Framer((buf, off, len) => { if (buf[off] === 0x53) sink.message(buf, off + 1, len - 1, seq++) })
  for (let o = 0; o < bytes.length; o += cut) {
    sink.beginBatch(0)
    framer.push(bytes.subarray(o, Math.min(bytes.length, o + cut)))
    sink.endBatch()
  }
  expect(stats.decodeErrors.reduce((a, b) => a + b, 0)).toBe(0)
  const rows: number[][] = []
  for (let s = 0; s <= ring.cursor; s++) {
    const i = s & ring.mask
    rows.push([ring.kind[i], ring.symbolId[i], ring.symbolSeq[i], ring.exchTimeUs[i], ring.bidPrice[i], ring.bidSize[i], ring.askPrice[i], ring.askSize[i], ring.tradePrice[i], ring.tradeSize[i], ring.code[i]])
  }
  return rows
}

describe('ingest chunking invariance', () => {
  it('decodes identical ticks wherever the TCP stream is cut (every split size 1..64, and whole)', () => {
    const bytes = stream(), whole = ingest(bytes, bytes.length)
    expect(whole.length).toBeGreaterThan(2500)
    for (let cut = 1; cut <= 64; cut++) expect(ingest(bytes, cut), `cut every ${cut} bytes`).toEqual(whole)
  })
})
