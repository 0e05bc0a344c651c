// Owns the native quote stream the ingest benchmarks share: a symbol directory and skewed quotes, SoupBinTCP-framed.
// Must never be used by the server: it builds benchmark input only (allocates freely, once per run).
import { writeQuote, writeSymbolDirectory } from '../feeds/native-encoder.js'
import { writeSequencedHeader } from '../src/feed/soupbin.js'

/** bytes of one framed native quote: 3-byte SoupBinTCP header + 48-byte QUOTE */
export const FRAMED_QUOTE_BYTES = 51

/** `symbols` directory entries, then `quotes` quotes over them (low ids busier), each a Sequenced Data packet. */
export function buildStream(quotes: number, symbols: number): { directory: Buffer; quotes: Buffer } {
  const dir = Buffer.alloc(symbols * 43)
  let o = 0
  for (let s = 1; s <= symbols; s++) { o += writeSequencedHeader(dir, o, 40); o += writeSymbolDirectory(dir, o, s, 1.7e15, 0, `SYM${s}`, -4, 0, 100, 1) }
  const q = Buffer.alloc(quotes * FRAMED_QUOTE_BYTES)
  let p = 0, x = 12345
  for (let k = 0; k < quotes; k++) {
    x = (x * 1103515245 + 12345) >>> 0 // skewed symbol choice: low ids busier
    const sym = 1 + Math.floor(((x / 4294967296) ** 3) * symbols)
    const mid = 1000000 + (x & 0xffff)
    p += writeSequencedHeader(q, p, 48)
    p += writeQuote(q, p, sym, 1.7e15 + k, 0, 0, mid - 100, 100 + (x & 0xff), mid + 100, 200)
  }
  return { directory: dir.subarray(0, o), quotes: q.subarray(0, p) }
}
