import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBinaryFile } from '../../../feeds/capture/binary-file.js'
import { CaptureStats } from '../../../feeds/capture/capture-types.js'
import { IexTpReader } from '../../../feeds/capture/iex-tp.js'
import { MoldUdp64Reader } from '../../../feeds/capture/moldudp64.js'
import { TransportDemux } from '../../../feeds/capture/net-frame.js'
import { readCapture } from '../../../feeds/capture/pcap.js'
import { DECODE_OK } from '../../errors.js'
import type { TickSink } from '../../normalize/tick-sink.js'
import { FeedStats } from '../feed-stats.js'
import { decodeItchMessage, ItchDecoder } from './itch.js'
import { decodeTopsMessage, TopsDecoder, TopsMessage } from './tops.js'

const SAMPLES = new URL('../../../feeds/samples/', import.meta.url)
const sink: TickSink = { defineSymbol: () => DECODE_OK, locateOf: () => 1, quote: () => DECODE_OK, trade: () => DECODE_OK, status: () => DECODE_OK }

/** Real captured messages: every ITCH message of the omi pcaps + the BinaryFILE, and 3,000 TOPS messages. */
const itchMsgs: Buffer[] = [], topsMsgs: Buffer[] = [], pcaps: Buffer[] = []
const keep = (into: Buffer[]) => ({ message(b: Buffer, o: number, l: number) { into.push(Buffer.from(b.subarray(o, o + l))) } })
for (const dir of ['omi-20230822-moldudp64', 'omi-v5.0-moldudp64']) {
  const exp = JSON.parse(readFileSync(new URL('expected/itch50.expected.json', SAMPLES), 'utf8'))
  for (const f of Object.keys(exp).filter((k) => k.includes(dir))) {
    const file = readFileSync(new URL(f, SAMPLES)); pcaps.push(file)
    const mold = new MoldUdp64Reader(keep(itchMsgs)); readCapture(file, new TransportDemux(mold))
  }
}
readBinaryFile(readFileSync(new URL('itch50/bekele-first1000.itch', SAMPLES)).subarray(0, 4000), keep(itchMsgs))
const tops = gunzipSync(readFileSync(new URL('iex-tops16/TOPS16.pcapng.gz', SAMPLES)))
{ const r = new IexTpReader(keep(topsMsgs)); readCapture(tops, new TransportDemux(r)) }
topsMsgs.splice(0, 28_000); topsMsgs.length = 3_000 // keep a slice rich in quotes and trades
const topsPcapHead = tops.subarray(0, 20_000)

/** A mutation: flip bits, cut, extend, or rewrite the length the decoder is given. */
const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 4 }),
  cut: fc.nat({ max: 60 }), grow: fc.nat({ max: 8 }), lenDelta: fc.integer({ min: -4, max: 4 }), pick: fc.nat(),
})
function mutate(src: Buffer, m: { flips: [number, number][]; cut: number; grow: number }): Buffer {
  const b = Buffer.alloc(Math.max(0, src.length - m.cut) + m.grow); src.copy(b, 0, 0, Math.min(src.length, b.length))
  for (const [i, bit] of m.flips) if (b.length > 0) b[i % b.length] ^= 1 << bit
  return b
}

describe('decoders never throw on damaged real messages (seeded fast-check)', () => {
  it('ITCH: decodeItchMessage and ItchDecoder return a status for 5,000 mutations; bad ones are counted', () => {
    const feed = new FeedStats('fuzz'), dec = new ItchDecoder(sink, feed, { sessionDate: '2023-08-22' })
    let bad = 0
    fc.assert(fc.property(mutation, (m) => {
      const b = mutate(itchMsgs[m.pick % itchMsgs.length], m), len = Math.max(0, b.length + m.lenDelta)
      const st = dec.decode(b, 0, len)
      decodeItchMessage(b, 0, len, {})
      if (st !== DECODE_OK) bad++
    }), { seed: 42, numRuns: 5_000 })
    expect(bad).toBeGreaterThan(100)
    expect(feed.decodeErrors.reduce((a, x) => a + x, 0)).toBe(bad)
  })

  it('TOPS: decodeTopsMessage and TopsDecoder return a status for 5,000 mutations; bad ones are counted', () => {
    const feed = new FeedStats('fuzz'), dec = new TopsDecoder(sink, feed), out = new TopsMessage()
    let bad = 0
    fc.assert(fc.property(mutation, (m) => {
      const b = mutate(topsMsgs[m.pick % topsMsgs.length], m), len = Math.max(0, b.length + m.lenDelta)
      if (dec.decode(b, 0, len) !== DECODE_OK) bad++
      decodeTopsMessage(b, 0, len, out)
    }), { seed: 7, numRuns: 5_000 })
    expect(bad).toBeGreaterThan(100)
    expect(feed.decodeErrors.reduce((a, x) => a + x, 0)).toBe(bad)
  })

  it('capture readers: damaged pcaps (bit flips in headers, cuts) never throw', () => {
    const dec = new ItchDecoder(sink, new FeedStats('f'), { sessionDate: '2023-08-22' }), tdec = new TopsDecoder(sink, new FeedStats('t'))
    fc.assert(fc.property(mutation, fc.boolean(), (m, useTops) => {
      const src = useTops ? topsPcapHead : pcaps[m.pick % pcaps.length]
      const b = mutate(src, { ...m, cut: m.cut * (useTops ? 97 : 3) })
      const st = new CaptureStats()
      const next = useTops ? new IexTpReader({ message: (x, o, l) => { tdec.decode(x, o, l) } }, st) : new MoldUdp64Reader({ message: (x, o, l) => { dec.decode(x, o, l) } }, st)
      readCapture(b, new TransportDemux(next, st), st)
      readBinaryFile(b, { message: (x, o, l) => { dec.decode(x, o, l) } }, st)
    }), { seed: 3, numRuns: 1_000 })
  })
})
