import { afterEach, describe, expect, it } from 'vitest'
import { DECODE_OK } from '../../src/errors.js'
import { NativeDecoder, QUOTE_FLAG_SNAPSHOT, STATUS_TRADING } from '../../src/feed/decoders/native.js'
import { FeedStats } from '../../src/feed/feed-stats.js'
import { takeSnapshot } from '../../src/feed/glimpse-client.js'
import { SESSION_END } from '../../src/feed/session-sink.js'
import type { SessionSink } from '../../src/feed/session-sink.js'
import { SoupClient } from '../../src/feed/soup-client.js'
import type { TickSink } from '../../src/normalize/tick-sink.js'
import { startSimulator } from './simulator.js'
import type { RunningSimulator } from './simulator.js'

/** What a client holds after applying the stream: names, statuses and the last quote per locate. */
class Market implements TickSink {
  names = new Map<number, string>()
  statuses = new Map<number, number>()
  quotes = new Map<number, string>()
  snapshotQuotes = 0
  defineSymbol(l: number, name: string) { this.names.set(l, name); return DECODE_OK }
  locateOf() { return -1 }
  quote(l: number, _us: number, bp: number, bs: number, ap: number, as: number, flags: number) {
    if ((flags & QUOTE_FLAG_SNAPSHOT) !== 0) this.snapshotQuotes++
    this.quotes.set(l, `${bp}x${bs} / ${ap}x${as}`); return DECODE_OK
  }
  trade() { return DECODE_OK }
  status(l: number, _us: number, code: number) { this.statuses.set(l, code); return DECODE_OK }
}

/** A session sink decoding into `m` and keeping the live sequence numbers it was handed. */
function sinkOf(m: Market, stats: FeedStats): SessionSink & { seqs: number[] } {
  const dec = new NativeDecoder(m, stats), seqs: number[] = []
  return { seqs, beginBatch() {}, endBatch() {}, message(buf, off, len, seq) { seqs.push(seq); dec.decode(buf, off, len) } }
}

/** Reads the live session from `startSeq` until End of Session; resolves with what it holds. */
function readLive(sim: RunningSimulator, startSeq: number, m: Market, stats: FeedStats): { sink: ReturnType<typeof sinkOf>; ended: Promise<void>; client: SoupClient } {
  const sink = sinkOf(m, stats)
  let ended!: () => void
  const done = new Promise<void>((r) => { ended = r })
  const client = new SoupClient({ name: 'sim-test', host: '127.0.0.1', port: sim.port, username: '', password: '', startSeq }, sink, stats,
    (ev) => { if (ev.kind === SESSION_END) ended() })
  client.start()
  return { sink, ended: done, client }
}

let sim: RunningSimulator | null = null
afterEach(async () => { await sim?.stop(); sim = null })

describe('simulator snapshot endpoint (GLIMPSE-style, native messages)', () => {
  it('a client joining late takes a snapshot over a real socket, resumes live at its sequence, and ends holding what a client from sequence 1 holds', async () => {
    sim = await startSimulator({ port: 0, glimpsePort: 0, symbols: 40, rate: 20_000, seed: 9 })
    expect(sim.glimpsePort).toBeGreaterThan(0)
    const fromStart = new Market(), startStats = new FeedStats('from-start')
    const a = readLive(sim, 1, fromStart, startStats)
    await new Promise((r) => setTimeout(r, 300)) // the market moves before the late client arrives

    const late = new Market(), lateStats = new FeedStats('late')
    const snapSink = sinkOf(late, lateStats)
    const snap = await takeSnapshot({ host: '127.0.0.1', port: sim.glimpsePort!, username: '', password: '' }, snapSink)
    expect(snap.nextSeq).toBeGreaterThan(3 * 40 + 1) // past the opening: the market has moved since
    // Start of Messages, then per symbol: directory, status, last quote (flagged snapshot)
    expect(snap.messages).toBe(1 + 3 * 40)
    expect(late.names.size).toBe(40)
    expect(late.quotes.size).toBe(40)
    expect(late.snapshotQuotes).toBe(40)
    expect(lateStats.decodeErrors.every((n) => n === 0)).toBe(true)

    const b = readLive(sim, snap.nextSeq, late, lateStats)
    await new Promise((r) => setTimeout(r, 200))
    await sim.stop(2000) // End of Session reaches both clients
    await Promise.all([a.ended, b.ended])
    await Promise.all([a.client.stop(), b.client.stop()])

    // No loss, no duplicate: live delivery to the late client starts exactly at the snapshot's sequence, contiguous.
    expect(b.sink.seqs[0]).toBe(snap.nextSeq)
    for (let k = 1; k < b.sink.seqs.length; k++) expect(b.sink.seqs[k]).toBe(b.sink.seqs[k - 1] + 1)
    expect(b.sink.seqs.at(-1)).toBe(a.sink.seqs.at(-1))
    expect(lateStats.duplicates).toBe(0)
    // The late client's market equals the one read from the start: names, statuses, every last quote.
    expect(late.names).toEqual(fromStart.names)
    expect(late.statuses).toEqual(fromStart.statuses)
    expect(late.quotes).toEqual(fromStart.quotes)
    expect([...fromStart.statuses.values()].some((c) => c === STATUS_TRADING)).toBe(true)
    expect(startStats.decodeErrors.every((n) => n === 0) && lateStats.decodeErrors.every((n) => n === 0)).toBe(true)
  })

  it('serves no snapshot endpoint unless asked', async () => {
    sim = await startSimulator({ port: 0, symbols: 5, rate: 1000, seed: 1 })
    expect(sim.glimpsePort).toBeNull()
  })
})
