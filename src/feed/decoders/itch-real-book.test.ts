// The real ITCH sample (both omi folders) through the decoder and its book, against a top of book computed here
// from the independently decoded reference (expected/itch50.expected.json), in exchange-time order.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CaptureStats } from '../../../feeds/capture/capture-types.js'
import { MoldUdp64Reader } from '../../../feeds/capture/moldudp64.js'
import { TransportDemux } from '../../../feeds/capture/net-frame.js'
import { readCapture } from '../../../feeds/capture/pcap.js'
import { DECODE_OK } from '../../errors.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import { FeedStats } from '../feed-stats.js'
import { topsOf } from '../../../test-support/itch-sample.js'
import type { RefOrder } from '../../../test-support/itch-sample.js'
import { ItchDecoder } from './itch.js'

const SAMPLES = new URL('../../../feeds/samples/', import.meta.url)
const expected = JSON.parse(readFileSync(new URL('expected/itch50.expected.json', SAMPLES), 'utf8')) as Record<string, { messages: Ref[] }>
type Ref = Record<string, unknown> & { type: string; locate: number; ts_ns_since_midnight: number }
type Top = [number, number, number, number] // bid price, bid size, ask price, ask size (0 = empty side)

/** Every message of every omi capture: its bytes (from the pcap) paired with its reference decode. */
function messages(): Array<{ bytes: Buffer; ref: Ref }> {
  const out: Array<{ bytes: Buffer; ref: Ref }> = []
  for (const file of Object.keys(expected).filter((f) => f.includes('/omi-'))) {
    const refs = expected[file].messages, stats = new CaptureStats()
    let k = 0
    const mold = new MoldUdp64Reader({ message(buf, off, len) { out.push({ bytes: Buffer.from(buf.subarray(off, off + len)), ref: refs[k++] }) } }, stats)
    const demux = new TransportDemux({ payload(buf, off, len) { mold.packet(buf, off, len) } }, stats)
    readCapture(readFileSync(new URL(file, SAMPLES)), demux, stats)
    expect(k, file).toBe(refs.length)
  }
  // both folders hold six identical messages: a feed would see each once
  const seen = new Set<string>()
  return out.filter((m) => { const key = m.bytes.toString('hex'); if (seen.has(key)) return false; seen.add(key); return true })
    .sort((a, b) => a.ref.ts_ns_since_midnight - b.ref.ts_ns_since_midnight)
}

/** A plain Map book over the reference fields; orders placed before the capture are unknown, as to a live book joining mid-day. */
function referenceTops(msgs: Array<{ ref: Ref }>): Map<number, Top> {
  const orders = new Map<number, RefOrder>()
  const add = (ref: number, locate: number, buy: boolean, price: number, shares: number): void => { orders.set(ref, { locate, buy, price, shares }) }
  const reduce = (ref: number, shares: number): void => {
    const o = orders.get(ref)
    if (!o) return
    o.shares -= shares
    if (o.shares <= 0) orders.delete(ref)
  }
  for (const { ref: m } of msgs) {
    const r = m.ref as number
    switch (m.type) {
      case 'A': case 'F': add(r, m.locate, m.side === 'B', m.price_raw as number, m.shares as number); break
      case 'E': case 'C': case 'X': reduce(r, m.shares as number); break
      case 'D': orders.delete(r); break
      case 'U': {
        const o = orders.get(m.old_ref as number)
        if (!o) break
        orders.delete(m.old_ref as number)
        add(m.new_ref as number, o.locate, o.buy, m.price_raw as number, m.shares as number)
      }
    }
  }
  return topsOf(orders)
}

describe('ITCH book on the real sample', () => {
  it('ends with the top of book of every symbol that the reference decode gives', () => {
    const msgs = messages()
    expect(msgs.length).toBe(72) // 78 messages, six of them in both folders
    const last = new Map<number, Top>()
    const sink: TickSink = {
      defineSymbol: () => DECODE_OK, locateOf: () => -1, trade: () => DECODE_OK, status: () => DECODE_OK,
      quote: (locate, _t, bp, bs, ap, as) => { last.set(locate, [bp, bs, ap, as]); return DECODE_OK },
    }
    const dec = new ItchDecoder(sink, new FeedStats('itch'), { sessionDate: '2023-08-22' })
    for (const m of msgs) dec.decode(m.bytes, 0, m.bytes.length)
    const reference = referenceTops(msgs)
    expect(reference.size).toBeGreaterThanOrEqual(8)
    // a symbol whose book emptied again ends with an empty quote: compare only symbols with orders left
    const final = new Map([...last].filter(([, t]) => t[1] > 0 || t[3] > 0))
    expect(final).toEqual(reference)
  })
})
