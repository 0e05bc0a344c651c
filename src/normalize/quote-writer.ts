// Owns the per-quote write of a ring (slot, per-symbol sequence, latest values) as one closure per ring and sequences.
// Must never be called but by the ring's normalizers (its only writer), nor allocate per quote.
import type { LatestValues } from '../cache/latest-values.js'
import { KIND_QUOTE } from '../ring/ring-buffer.js'
import type { TickRing } from '../ring/ring-buffer.js'
import type { SymbolSequences } from './symbol-sequences.js'

const QUOTE = KIND_QUOTE

/** Writes one quote into the ring's next slot and makes it visible on this thread (not committed). */
export type QuoteWriter = (id: number, exchTimeUs: number, recvTimeMs: number, bp: number, bs: number, ap: number, as: number, flags: number) => void

const writers = new WeakMap<TickRing, { seqs: SymbolSequences; write: QuoteWriter }>()

/**
 * Why a closure, made once per ring: V8 compiles a function created once with its captured constants as constants, so
 * `r.kind` and the other columns (and the latest-value arrays) fold to fixed arrays with known lengths, where a method
 * on a normalizer re-loads and re-checks every column per quote. A server has one ring: every feed's normalizer shares
 * the one closure (made again only for a new ring, e.g. in tests, where it is merely as fast as a method).
 */
export function quoteWriter(ring: TickRing, seqs: SymbolSequences): QuoteWriter {
  const known = writers.get(ring)
  if (known !== undefined && known.seqs === seqs) return known.write
  const write = makeWriter(ring, seqs)
  writers.set(ring, { seqs, write })
  return write
}

function makeWriter(r: TickRing, seqs: SymbolSequences): QuoteWriter {
  const next = seqs.next, lastRingSeq = seqs.lastRingSeq
  // seqs.latest is set once at start (ingest thread) but may come after this closure: the captured one is checked.
  let latest: LatestValues | null = seqs.latest
  const slow = (): LatestValues | null => (latest = seqs.latest)
  return (id, exchTimeUs, recvTimeMs, bp, bs, ap, as, flags) => {
    const seq = r.cursor + 1, i = seq & r.mask, n = ++next[id]
    r.kind[i] = QUOTE; r.code[i] = flags; r.symbolId[i] = id
    r.symbolSeq[i] = n; lastRingSeq[id] = seq
    r.exchTimeUs[i] = exchTimeUs; r.recvTimeMs[i] = recvTimeMs
    r.bidPrice[i] = bp; r.bidSize[i] = bs; r.askPrice[i] = ap; r.askSize[i] = as
    const lv = seqs.latest === latest ? latest : slow()
    if (lv !== null) lv.quote(id, n, exchTimeUs, flags, bp, bs, ap, as) // ingest thread: the same fields, one cache line
    r.cursor = seq // = advance()
  }
}
