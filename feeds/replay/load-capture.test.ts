import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadCapture, loadCaptureFile } from './load-capture.js'

const sample = (p: string): string => new URL('../samples/' + p, import.meta.url).pathname
const expected = (p: string): Record<string, unknown> => JSON.parse(readFileSync(sample('expected/' + p), 'utf8')) as Record<string, unknown>

describe('loadCapture', () => {
  it('reads the gzipped IEX TOPS sample (a classic pcap despite its name): every message once, in order, with capture times', () => {
    const c = loadCaptureFile(sample('iex-tops16/TOPS16.pcapng.gz'))
    expect([c.format, c.protocol, c.count, c.truncated]).toEqual(['pcap', 'tops', expected('TOPS16.expected.json').messages, false])
    expect(c.buf[c.off[0]]).toBe(0x53) // System Event first (expected first10[0])
    for (let i = 1; i < c.count; i++) if (!(c.tsUs[i] >= c.tsUs[i - 1])) throw new Error(`time goes back at ${i}`)
    expect(new Date(c.tsUs[0] / 1000).toISOString().slice(0, 10)).toBe('2017-07-10')
  })

  it('reads Nasdaq BinaryFILE as ITCH with ITCH timestamps, and MoldUDP64 pcaps as ITCH', () => {
    const bin = readFileSync(sample('itch50/bekele-first1000.itch'))
    const c = loadCapture(bin)
    expect([c.format, c.protocol, c.count]).toEqual(['binaryfile', 'itch', 1000])
    expect(c.off[0]).toBe(2)
    expect(c.tsUs[0]).toBe(Math.floor((bin.readUInt16BE(2 + 5) * 2 ** 32 + bin.readUInt32BE(2 + 7)) / 1000))
    const m = loadCaptureFile(sample('itch50/omi-v5.0-moldudp64/OrderReplaceMessage.pcap'))
    expect([m.format, m.protocol, m.count]).toEqual(['pcap', 'itch', 1])
    expect(String.fromCharCode(m.buf[m.off[0]])).toBe('U')
  })

  it('drops repeated venue sequence numbers (a datagram captured twice) and reports a cut file', () => {
    const pcap = readFileSync(sample('itch50/omi-v5.0-moldudp64/OrderReplaceMessage.pcap'))
    const rec = pcap.subarray(24), twice = Buffer.concat([pcap, rec])
    const c = loadCapture(twice)
    expect([c.count, c.duplicates]).toEqual([1, 1])
    const cut = loadCapture(twice.subarray(0, twice.length - 3))
    expect([cut.count, cut.truncated]).toEqual([1, true])
    expect(() => loadCapture(Buffer.from([0, 5, 1]))).toThrow(/capture/)
  })
})
