// Late join on real bytes: the shared ITCH samples with their Stock Directory removed and started in the middle, through
// the decoder, the normalizer and the ring into a last-value cache, against counts computed here from the reference decode.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CaptureStats } from '../../../feeds/capture/capture-types.js'
import { MoldUdp64Reader } from '../../../feeds/capture/moldudp64.js'
import { TransportDemux } from '../../../feeds/capture/net-frame.js'
import { readCapture } from '../../../feeds/capture/pcap.js'
import { LastValueCache } from '../../cache/last-value-cache.js'
import { writeSnapshot, FORMAT_JSON } from '../../codec/tick-codec.js'
import { PARTIAL_LATE_JOIN } from '../../model/book-state.js'
import { SharedSymbols } from '../../model/shared-symbols.js'
import { SymbolTable } from '../../model/symbols.js'
import { Normalizer, SymbolSequences } from '../../normalize/normalizer.js'
import { KIND_BOOK, KIND_QUOTE, KIND_STATUS, KIND_SYMBOL, TickRing } from '../../ring/ring-buffer.js'
import { FeedStats, UNKNOWN_ORDER_TYPES } from '../feed-stats.js'
import { ItchDecoder } from './itch.js'

const SAMPLES = new URL('../../../feeds/samples/', import.meta.url)
const expected = JSON.parse(readFileSync(new URL('expected/itch50.expected.json', SAMPLES), 'utf8')) as Record<string, Record<string, unknown>>
type Ref = Record<string, unknown> & { type: string; locate: number; ts_ns_since_midnight: number; file_offset?: number }
const STOCK_TYPES = new Set(['A', 'F', 'P', 'Q', 'H', 'Y', 'I', 'N', 'O', 'K', 'J', 'h', 'L'])
const VALID = /^[A-Za-z0-9][A-Za-z0-9._+=^-]{0,15}$/

/** The omi captures (one message per MoldUDP64 packet, mid-day, no directory) in exchange-time order, deduplicated. */
function omiMessages(): Array<{ bytes: Buffer; ref: Ref }> {
  const out: Array<{ bytes: Buffer; ref: Ref }> = []
  for (const file of Object.keys(expected).filter((f) => f.includes('/omi-'))) {
    const refs = expected[file].messages as Ref[], stats = new CaptureStats()
    let k = 0
    const mold = new MoldUdp64Reader({ message(buf, off, len) { out.push({ bytes: Buffer.from(buf.subarray(off, off + len)), ref: refs[k++] }) } }, stats)
    readCapture(readFileSync(new URL(file, SAMPLES)), new TransportDemux({ payload(buf, off, len) { mold.packet(buf, off, len) } }, stats), stats)
  }
  const seen = new Set<string>()
  return out.filter((m) => { const key = m.bytes.toString('hex'); if (seen.has(key)) return false; seen.add(key); return true })
    .sort((a, b) => a.ref.ts_ns_since_midnight - b.ref.ts_ns_since_midnight)
}

/** What a late joiner should learn, counted from the reference fields alone (a Map of the orders it saw added). */
function referenceCounts(refs: Ref[]) {
  const names = new Map<number, string>(), orders = new Set<number>(), unknown = new Map<string, number>()
  for (const m of refs) {
    if (STOCK_TYPES.has(m.type) && !names.has(m.locate) && VALID.test(m.stock as string)) names.set(m.locate, m.stock as string)
    switch (m.type) {
      case 'A': case 'F': orders.add(m.ref as number); break
      case 'U':
        if (orders.delete(m.old_ref as number)) orders.add(m.new_ref as number)
        else unknown.set('U', (unknown.get('U') ?? 0) + 1)
        break
      case 'E': case 'C': case 'X': case 'D':
        if (!orders.has(m.ref as number)) unknown.set(m.type, (unknown.get(m.type) ?? 0) + 1)
        else if (m.type === 'D') orders.delete(m.ref as number) // partial executions of a seen order: not in this sample
    }
  }
  return { names, unknown }
}

function pipeline() {
  const ring = new TickRing(1 << 12), shared = new SharedSymbols(2048), seqs = new SymbolSequences(2048), stats = new FeedStats('nq')
  const norm = new Normalizer(ring, shared, seqs, { quotesAreFullState: false })
  const dec = new ItchDecoder(norm, stats, { sessionDate: '2023-08-22' })
  const feed = (b: Buffer): void => { norm.beginBatch(0); dec.decode(b, 0, b.length); norm.endBatch() }
  /** Applies the ring to a cache as the fan-out does; checks every quote comes after its symbol's partial marker. */
  const drain = () => {
    const lvc = new LastValueCache(2048), table = new SymbolTable(shared), quotes = new Map<string, number>()
    for (let s = 0; s <= ring.cursor; s++) {
      const i = s & ring.mask, id = ring.symbolId[i]
      if (ring.kind[i] === KIND_SYMBOL) { table.learnUpTo(id); continue }
      if (ring.kind[i] === KIND_QUOTE) {
        expect(lvc.book[id], `quote of ${shared.nameOf(id)} before its book state`).toBe(PARTIAL_LATE_JOIN)
        quotes.set(shared.nameOf(id), (quotes.get(shared.nameOf(id)) ?? 0) + 1)
      }
      lvc.apply(ring, i)
    }
    const buf = Buffer.alloc(1024)
    const snap = (name: string) => JSON.parse(buf.toString('latin1', 0, writeSnapshot(FORMAT_JSON, lvc, table, shared.idOf(name), buf, 0))) as Record<string, unknown>
    return { lvc, quotes, snap }
  }
  return { ring, shared, stats, dec, feed, drain }
}

describe('ITCH late join (real bytes, no directory)', () => {
  it('the omi sample from a message in the middle: symbols appear, quotes flow flagged partial, counters match the reference', () => {
    const all = omiMessages(), from = Math.floor(all.length / 3), msgs = all.slice(from)
    expect(msgs.length).toBeGreaterThan(40)
    const { shared, stats, dec, feed, drain } = pipeline()
    for (const m of msgs) feed(m.bytes)
    const ref = referenceCounts(msgs.map((m) => m.ref))
    expect(ref.names.size).toBeGreaterThanOrEqual(10)
    expect([...ref.unknown.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(5) // joined mid-day: most references are to older orders
    for (const [, name] of ref.names) expect(shared.idOf(name), name).toBeGreaterThanOrEqual(0)
    expect(shared.size).toBe(ref.names.size)
    expect(stats.lateJoins).toBe(ref.names.size)
    expect(UNKNOWN_ORDER_TYPES.map((t) => stats.unknownOrders[UNKNOWN_ORDER_TYPES.indexOf(t)])).toEqual(UNKNOWN_ORDER_TYPES.map((t) => ref.unknown.get(t) ?? 0))
    expect([...stats.unattributable]).toEqual([0, 0, 0])
    expect(stats.decodeErrors.reduce((a, b) => a + b, 0)).toBe(0)
    expect(dec.locates.partialCount()).toBe(ref.names.size)
    expect(stats.partialBooks).toBe(ref.names.size)
    const { quotes, snap } = drain()
    const adds = msgs.filter((m) => m.ref.type === 'A' || m.ref.type === 'F')
    expect(quotes.size).toBeGreaterThanOrEqual(new Set(adds.map((m) => m.ref.stock)).size)
    for (const name of quotes.keys()) expect(snap(name)).toMatchObject({ e: 'snap', s: name, book: 'partial', stale: null })
    const ivoo = adds.find((m) => m.ref.stock === 'IVOO')
    if (ivoo) expect(snap('IVOO')).toMatchObject({ bp: 87.39, bs: 1600 })
  })

  it('the start-of-day sample with its R messages removed, started at message 200: symbols learned from H and Y', () => {
    const file = readFileSync(new URL('itch50/bekele-first1000.itch', SAMPLES))
    const { shared, stats, ring, feed, drain } = pipeline()
    let offset = 0, index = 0, fed = 0
    const startOffset: number[] = []
    while (offset < file.length) {
      const len = file.readUInt16BE(offset), body = file.subarray(offset + 2, offset + 2 + len)
      startOffset.push(offset)
      if (index >= 200 && body[0] !== 0x52) { feed(Buffer.from(body)); fed++ }
      offset += 2 + len; index++
    }
    expect(index).toBe(1000)
    const actions = expected['itch50/bekele-first1000.itch'].trading_actions_and_regsho as Ref[]
    const after = actions.filter((a) => (a.file_offset as number) >= startOffset[200])
    const names = [...new Set(after.map((a) => a.stock as string))]
    expect(fed).toBe(after.length)
    expect(names).toEqual(['AA', 'AAAU'])
    expect(shared.size).toBe(names.length)
    for (const n of names) expect(shared.idOf(n)).toBeGreaterThanOrEqual(0)
    expect(stats.lateJoins).toBe(names.length)
    let statuses = 0, books = 0
    for (let s = 0; s <= ring.cursor; s++) { const k = ring.kind[s & ring.mask]; if (k === KIND_STATUS) statuses++; if (k === KIND_BOOK) books++ }
    expect([statuses, books]).toEqual([after.filter((a) => a.type === 'H').length, names.length])
    const { snap } = drain()
    for (const n of names) expect(snap(n)).toMatchObject({ st: 'T', book: 'partial' })
  })
})
