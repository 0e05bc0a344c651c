// Owns the real ITCH 5.0 stream tests replay (the start-of-day directory sample, then every unique order-flow message
// of the omi samples in exchange-time order) and a plain Map book built from the reference decode, not from tickcast.
// Must never decode with tickcast's decoder: the reference fields come from feeds/samples/expected/itch50.expected.json.
import { readFileSync } from 'node:fs'
import { readBinaryFile } from '../feeds/capture/binary-file.js'
import { CaptureStats } from '../feeds/capture/capture-types.js'
import { MoldUdp64Reader } from '../feeds/capture/moldudp64.js'
import { TransportDemux } from '../feeds/capture/net-frame.js'
import { readCapture } from '../feeds/capture/pcap.js'

const SAMPLES = new URL('../feeds/samples/', import.meta.url)
export type RefRecord = Record<string, unknown> & { type: string; locate: number }
/** One message: its bytes and, for the omi part, its independent reference decode (null for the directory part). */
export interface SampleMessage { bytes: Buffer; ref: RefRecord | null }

/** bekele-first1000.itch (S, 993 R, H, Y), then the 72 unique omi messages sorted by exchange time: 1,072 real messages. */
export function realItchStream(): SampleMessage[] {
  const out: SampleMessage[] = []
  readBinaryFile(readFileSync(new URL('itch50/bekele-first1000.itch', SAMPLES)), {
    message(buf, off, len) { out.push({ bytes: Buffer.from(buf.subarray(off, off + len)), ref: null }) },
  })
  const expected = JSON.parse(readFileSync(new URL('expected/itch50.expected.json', SAMPLES), 'utf8')) as Record<string, { messages?: RefRecord[] }>
  const omi: Array<{ bytes: Buffer; ref: RefRecord }> = []
  for (const file of Object.keys(expected).filter((f) => f.includes('/omi-'))) {
    const refs = expected[file].messages ?? [], stats = new CaptureStats()
    let k = 0
    const mold = new MoldUdp64Reader({ message(buf, off, len) { omi.push({ bytes: Buffer.from(buf.subarray(off, off + len)), ref: refs[k++] }) } }, stats)
    readCapture(readFileSync(new URL(file, SAMPLES)), new TransportDemux({ payload(buf, off, len) { mold.packet(buf, off, len) } }, stats), stats)
  }
  const seen = new Set<string>() // both omi folders hold six identical messages: a feed carries each once
  const unique = omi.filter((m) => { const key = m.bytes.toString('hex'); if (seen.has(key)) return false; seen.add(key); return true })
  unique.sort((a, b) => (a.ref.ts_ns_since_midnight as number) - (b.ref.ts_ns_since_midnight as number))
  return [...out, ...unique]
}

/** The stream as a Nasdaq BinaryFILE ([u16 BE length][message]…), what the replayer reads. */
export function asBinaryFile(msgs: readonly SampleMessage[]): Buffer {
  return Buffer.concat(msgs.flatMap((m) => { const l = Buffer.alloc(2); l.writeUInt16BE(m.bytes.length); return [l, m.bytes] }))
}

export interface RefOrder { locate: number; buy: boolean; price: number; shares: number }

/** A plain Map book over the reference fields of messages [0, upTo): ref → live order. */
export function referenceBook(msgs: readonly SampleMessage[], upTo = msgs.length): Map<number, RefOrder> {
  const orders = new Map<number, RefOrder>()
  const reduce = (ref: number, shares: number): void => {
    const o = orders.get(ref)
    if (!o) return
    o.shares -= Math.min(shares, o.shares)
    if (o.shares === 0) orders.delete(ref)
  }
  for (const { ref: m } of msgs.slice(0, upTo)) {
    if (!m) continue
    const r = m.ref as number
    switch (m.type) {
      case 'A': case 'F': orders.set(r, { locate: m.locate, buy: m.side === 'B', price: m.price_raw as number, shares: m.shares as number }); break
      case 'E': case 'C': case 'X': reduce(r, m.shares as number); break
      case 'D': orders.delete(r); break
      case 'U': {
        const o = orders.get(m.old_ref as number)
        if (!o) break
        orders.delete(m.old_ref as number)
        if ((m.shares as number) > 0) orders.set(m.new_ref as number, { locate: o.locate, buy: o.buy, price: m.price_raw as number, shares: m.shares as number })
      }
    }
  }
  return orders
}

/** Top of book per locate with orders: [bid price, bid size, ask price, ask size] (0 = empty side). */
export function topsOf(orders: ReadonlyMap<number, RefOrder>): Map<number, [number, number, number, number]> {
  const tops = new Map<number, [number, number, number, number]>()
  for (const locate of new Set([...orders.values()].map((o) => o.locate))) {
    const side = (buy: boolean): [number, number] => {
      const mine = [...orders.values()].filter((o) => o.locate === locate && o.buy === buy)
      if (mine.length === 0) return [0, 0]
      const best = buy ? Math.max(...mine.map((o) => o.price)) : Math.min(...mine.map((o) => o.price))
      return [best, mine.filter((o) => o.price === best).reduce((s, o) => s + o.shares, 0)]
    }
    tops.set(locate, [...side(true), ...side(false)])
  }
  return tops
}
