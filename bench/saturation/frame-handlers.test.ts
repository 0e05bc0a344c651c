// Checks the load generator's readers on hand-made bytes: a NATS stream cut at every byte still yields every event
// once, in sequence, with its age; the integer latency counts give the histogram recordValue per update would give.
import * as hdr from 'hdr-histogram-js'
import { describe, expect, it } from 'vitest'
import { NatsFrames } from './frame-handlers.js'
import { LatencyCounts, latencyHistogram } from './latency-counts.js'
import { ConnSeq, SymbolIndex, UpdateStats } from './update-stats.js'

const T0 = 1_732_619_000_000_000
const quote = (s: string, n: number, t: number): string => `{"e":"q","s":"${s}","n":${n},"bp":189.12,"bs":100,"ap":189.13,"as":200,"t":${t}}`

describe('NatsFrames', () => {
  it('reads every event once, in sequence, whichever byte a WebSocket frame ends on', () => {
    const names = ['AAPL', 'MSFT', 'BRK.B']
    let stream = 'INFO {"server_id":"x"}\r\nPING\r\n'
    const n = [0, 0, 0]
    for (let k = 0; k < 12; k++) {
      const id = k % 3
      const evs = [quote(names[id], ++n[id], T0 + k), ...(k % 4 === 0 ? [quote(names[id], ++n[id], T0 + k)] : [])]
      const body = k % 2 === 0 ? `[${evs.join(',')}]` : evs.join(',') // batched arrays and bare events alike
      stream += `MSG md.${names[id]} ${id + 1} ${Buffer.byteLength(body)}\r\n${body}\r\n`
    }
    const bytes = Buffer.from(stream, 'latin1'), total = n.reduce((a, b) => a + b, 0)
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const st = new UpdateStats(new SymbolIndex(names))
      const pongs: string[] = []
      const h = new NatsFrames(new ConnSeq(st, Int32Array.from([0, 1, 2])), (s) => pongs.push(s))
      for (let off = 0; off < bytes.length; off += cut) {
        const frame = Buffer.concat([Buffer.from('xx'), bytes.subarray(off, Math.min(bytes.length, off + cut))]) // payload not at 0
        h.onFrame(frame, 2, frame.length, 1, T0 + 5000)
      }
      expect({ cut, updates: st.updates, gaps: st.gaps, dups: st.dups, messages: st.messages, pongs: pongs.length }).toEqual({ cut, updates: total, gaps: 0, dups: 0, messages: 12, pongs: 1 })
      const h2 = st.latency.histogram()
      expect(h2.totalCount).toBe(total)
      expect(h2.maxValue).toBeLessThanOrEqual(5000)
      expect(h2.minNonZeroValue).toBeGreaterThanOrEqual(4989)
    }
  })
})

describe('LatencyCounts', () => {
  it('builds the histogram that recordValue per update builds, from 1 µs to the clamp', () => {
    const counts = new LatencyCounts(), direct = latencyHistogram()
    let x = 99
    for (let k = 0; k < 200_000; k++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0
      const v = Math.floor(2 ** ((x / 2 ** 32) * 26)) // log-uniform over 1 µs .. 67 s
      counts.record(v)
      direct.recordValue(Math.min(Math.max(v, 1), 59_000_000))
    }
    const built = counts.histogram()
    expect(built.totalCount).toBe(direct.totalCount)
    for (const p of [1, 10, 50, 90, 99, 99.9, 99.99, 100]) expect(built.getValueAtPercentile(p), `p${p}`).toBe(direct.getValueAtPercentile(p))
    expect(hdr.encodeIntoCompressedBase64(built)).toBe(hdr.encodeIntoCompressedBase64(direct))
  })
})
