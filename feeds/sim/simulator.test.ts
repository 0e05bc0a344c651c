import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { DECODE_OK } from '../../src/errors.js'
import { NativeDecoder } from '../../src/feed/decoders/native.js'
import { FeedStats } from '../../src/feed/feed-stats.js'
import type { TickSink } from '../../src/normalize/tick-sink.js'
import { SymbolTable } from '../../src/model/symbols.js'
import { SharedSymbols } from '../../src/model/shared-symbols.js'
import { Normalizer, SymbolSequences } from '../../src/normalize/normalizer.js'
import { KIND_QUOTE, TickRing } from '../../src/ring/ring-buffer.js'
import { startSimulator } from './simulator.js'
import type { RunningSimulator } from './simulator.js'

/** Login Request by hand (PROTOCOL.md §1): len 47 BE, 'L', user a6, password a10, session a10 (blank), seq n20. */
function loginRequest(seq: number): Buffer {
  return Buffer.from('\x00\x2fL' + ' '.repeat(6) + ' '.repeat(10) + ' '.repeat(10) + String(seq).padStart(20, ' '), 'latin1')
}

class Counting implements TickSink {
  symbols = new Set<number>(); quotes = 0; trades = 0
  defineSymbol(l: number) { this.symbols.add(l); return DECODE_OK }
  locateOf() { return -1 }
  quote() { this.quotes++; return DECODE_OK }
  trade() { this.trades++; return DECODE_OK }
  status() { return DECODE_OK }
}

interface Session { types: string[]; acceptedSeq: number; payloads: Buffer[]; closed: boolean }

/** Raw TCP client: logs in, splits SoupBinTCP packets, keeps each 'S' payload; resolves when `until` holds. */
function readSession(port: number, seq: number, until: (s: Session) => boolean, timeoutMs = 5000): Promise<Session> {
  const s: Session = { types: [], acceptedSeq: -1, payloads: [], closed: false }
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(loginRequest(seq)))
    let carry = Buffer.alloc(0)
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`timeout: ${s.types.length} packets`)) }, timeoutMs)
    const done = () => { clearTimeout(timer); sock.destroy(); resolve(s) }
    sock.on('data', (chunk: Buffer) => {
      carry = Buffer.concat([carry, chunk]) // test code: simplicity over speed
      let p = 0
      while (carry.length - p >= 2 && carry.length - p >= 2 + carry.readUInt16BE(p)) {
        const len = carry.readUInt16BE(p), type = String.fromCharCode(carry[p + 2])
        s.types.push(type)
        if (type === 'A') s.acceptedSeq = Number(carry.toString('latin1', p + 13, p + 33).trim())
        if (type === 'S') s.payloads.push(Buffer.from(carry.subarray(p + 3, p + 2 + len)))
        p += 2 + len
        if (until(s)) { done(); return }
      }
      carry = carry.subarray(p)
    })
    sock.on('close', () => { s.closed = true; if (until(s)) done() })
    sock.on('error', () => {})
  })
}

let sim: RunningSimulator | null = null
afterEach(async () => { await sim?.stop(); sim = null })

describe('startSimulator', () => {
  it('serves a SoupBinTCP session: login at seq 1 gets the whole directory, then live quotes', async () => {
    sim = await startSimulator({ port: 0, symbols: 50, rate: 20_000, seed: 1 })
    const sink = new Counting(), stats = new FeedStats('smoke'), dec = new NativeDecoder(sink, stats)
    let decoded = 0
    const s = await readSession(sim.port, 1, (x) => {
      for (; decoded < x.payloads.length; decoded++) dec.decode(x.payloads[decoded], 0, x.payloads[decoded].length)
      return sink.symbols.size === 50 && sink.quotes > 50 + 200
    })
    expect(s.types[0]).toBe('A')
    expect(s.acceptedSeq).toBe(1)
    expect(s.payloads[0][0]).toBe(0x53) // System Event first
    expect(dec.systemEvent).toBe(0x4f)
    expect(Array.from(stats.decodeErrors)).toEqual(new Array(8).fill(0))
    expect(sink.trades).toBeGreaterThan(0)
  })

  it('feeds the real normalizer: every symbol resolves, every quote lands in the ring with bid < ask', async () => {
    sim = await startSimulator({ port: 0, symbols: 30, rate: 20_000, seed: 4 })
    const s = await readSession(sim.port, 1, (x) => x.payloads.length >= 3000)
    const ring = new TickRing(4096), shared = new SharedSymbols(64), stats = new FeedStats('e2e')
    const norm = new Normalizer(ring, shared, new SymbolSequences(64)), dec = new NativeDecoder(norm, stats)
    const symbols = new SymbolTable(shared)
    norm.beginBatch(0)
    for (const p of s.payloads.slice(0, 3000)) dec.decode(p, 0, p.length)
    norm.endBatch()
    expect(Array.from(stats.decodeErrors)).toEqual(new Array(8).fill(0))
    symbols.learnUpTo(shared.size - 1)
    expect(symbols.name).toEqual(sim.generator.names)
    expect(Array.from(symbols.priceExponent.subarray(0, 30))).toEqual(new Array(30).fill(-4))
    let quotes = 0
    for (let seq = Math.max(0, ring.cursor - ring.capacity + 1); seq <= ring.cursor; seq++) {
      const i = seq & ring.mask
      if (ring.kind[i] !== KIND_QUOTE) continue
      quotes++
      expect(ring.askPrice[i]).toBeGreaterThan(ring.bidPrice[i])
      expect(Number.isInteger(ring.bidPrice[i])).toBe(true)
    }
    expect(quotes).toBeGreaterThan(2000)
  })

  it('replays from any requested sequence: a second login at 1001 sees the same bytes from message 1001', async () => {
    sim = await startSimulator({ port: 0, symbols: 20, rate: 20_000, seed: 2 })
    const first = await readSession(sim.port, 1, (x) => x.payloads.length >= 2000)
    const second = await readSession(sim.port, 1001, (x) => x.payloads.length >= 1000)
    expect(second.acceptedSeq).toBe(1001)
    expect(Buffer.concat(second.payloads.slice(0, 1000))).toEqual(Buffer.concat(first.payloads.slice(1000, 2000)))
  })

  it('ends the session after durationSec with System Event C, then End of Session', async () => {
    sim = await startSimulator({ port: 0, symbols: 5, rate: 2000, durationSec: 0.2 })
    const s = await readSession(sim.port, 1, (x) => x.types.at(-1) === 'Z' || x.closed)
    await sim.ended
    expect(s.types.at(-1)).toBe('Z')
    const last = s.payloads.at(-1)!
    expect([last[0], last[1]]).toEqual([0x53, 0x43])
  })

  it('paces appends at the configured rate', async () => {
    sim = await startSimulator({ port: 0, symbols: 10, rate: 5000 })
    const base = sim.server.nextSeq
    await new Promise((r) => setTimeout(r, 400))
    const n = sim.server.nextSeq - base
    expect(n).toBeGreaterThan(1000) // 2000 expected; generous bounds for a loaded CI machine
    expect(n).toBeLessThan(3000)
  })

  it('setRate() re-paces from now on: a stepped, open-loop offered load', async () => {
    sim = await startSimulator({ port: 0, symbols: 10, rate: 1000 })
    sim.setRate(10_000)
    const base = sim.server.nextSeq
    await new Promise((r) => setTimeout(r, 400))
    const fast = sim.server.nextSeq - base
    sim.setRate(500)
    const base2 = sim.server.nextSeq
    await new Promise((r) => setTimeout(r, 400))
    const slow = sim.server.nextSeq - base2
    expect(fast).toBeGreaterThan(2000) // 4000 expected; generous bounds for a loaded CI machine
    expect(slow).toBeLessThan(400) // 200 expected
  })

  it('stop() is idempotent and frees the port', async () => {
    const s = await startSimulator({ port: 0, symbols: 5, rate: 0 })
    await new Promise((r) => setTimeout(r, 50))
    expect(s.server.nextSeq).toBeGreaterThan(8192) // rate 0: flat out, batch after batch
    await Promise.all([s.stop(), s.stop()])
    await expect(new Promise((resolve, reject) => {
      const c = net.connect(s.port, '127.0.0.1', () => { c.destroy(); resolve('connected') })
      c.on('error', reject)
    })).rejects.toThrow(/ECONNREFUSED/)
  })
})
