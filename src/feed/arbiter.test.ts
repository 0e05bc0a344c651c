import { afterEach, describe, expect, it } from 'vitest'
import { randomInt, seededRandom } from '../../test-support/seeded-random.js'
import { waitFor } from '../../test-support/wait-for.js'
import { AbSession } from './ab-session.js'
import { Arbiter } from './arbiter.js'
import { FeedStats, LineStats } from './feed-stats.js'
import type { SessionEvent, SessionSink } from './session-sink.js'
import { SESSION_GAP } from './session-sink.js'
import { SoupServer } from '../../feeds/soup-server.js'

/** The payload of sequence s: its number and a length that varies with it, so a wrong copy is visible. */
function payload(seq: number): Buffer {
  const b = Buffer.alloc(4 + (seq % 37))
  b.writeUInt32BE(seq, 0)
  b.fill(seq & 0xff, 4)
  return b
}

/** Records what the arbiter hands downstream, checking batch nesting and payload integrity as it goes. */
class Collect implements SessionSink {
  readonly seqs: number[] = []
  batches = 0
  open = false
  errors: string[] = []
  beginBatch(): void { if (this.open) this.errors.push('nested beginBatch'); this.open = true; this.batches++ }
  message(buf: Buffer, off: number, len: number, seq: number): void {
    if (!this.open) this.errors.push(`message ${seq} outside a batch`)
    if (buf.readUInt32BE(off) !== seq || len !== 4 + (seq % 37)) this.errors.push(`payload of ${seq} corrupt`)
    this.seqs.push(seq)
  }
  endBatch(): void { if (!this.open) this.errors.push('endBatch without beginBatch'); this.open = false }
}

function makeArbiter(opts = {}) {
  const sink = new Collect(), stats = new FeedStats('t'), lines = [new LineStats('t', 'A'), new LineStats('t', 'B')]
  const gaps: [number, number][] = []
  const arb = new Arbiter(sink, stats, lines, (from, count) => gaps.push([from, count]), opts)
  arb.lineUp(0); arb.lineUp(1)
  return { sink, stats, lines, gaps, arb }
}

describe('Arbiter (driven directly)', () => {
  it('outputs every sequence at least one line had, and declares exactly the losses common to both lines', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = seededRandom(seed), N = 20_000
      // independent 1 % losses per line; the last message is on both lines so both end past every loss
      const lost = [new Set<number>(), new Set<number>()]
      for (let s = 1; s < N; s++) for (const l of [0, 1]) if (rnd() < 0.01) lost[l].add(s)
      const common = [...lost[0]].filter((s) => lost[1].has(s)).sort((a, b) => a - b)
      expect(lost[0].size).toBeGreaterThan(100) // the losses are real (1 % of 20,000 each)
      const { sink, stats, lines, gaps, arb } = makeArbiter()
      const streams = [0, 1].map((l) => { const a: number[] = []; for (let s = 1; s <= N; s++) if (!lost[l].has(s)) a.push(s); return a })
      const at = [0, 0]
      // Interleave chunks of random sizes so either line leads by up to a few hundred messages at times.
      for (let guard = 0; (at[0] < streams[0].length || at[1] < streams[1].length) && guard < 1e6; guard++) {
        const l = at[0] >= streams[0].length ? 1 : at[1] >= streams[1].length ? 0 : rnd() < 0.5 ? 0 : 1
        const n = randomInt(rnd, 1, 300), sinkLine = arb.lines[l]
        sinkLine.beginBatch(guard)
        for (let k = 0; k < n && at[l] < streams[l].length; k++) { const s = streams[l][at[l]++], p = payload(s); sinkLine.message(p, 0, p.length, s) }
        sinkLine.endBatch()
      }
      const expected: number[] = []
      for (let s = 1; s <= N; s++) if (!lost[0].has(s) || !lost[1].has(s)) expected.push(s)
      expect(sink.errors).toEqual([])
      expect(sink.seqs).toEqual(expected)
      const declared: number[] = []
      for (const [from, count] of gaps) for (let s = from; s < from + count; s++) declared.push(s)
      expect(declared).toEqual(common)
      expect(stats.missed).toBe(common.length)
      expect(stats.messages).toBe(expected.length)
      expect(lines[0].won + lines[1].won).toBe(expected.length)
      // every copy a line delivered either won or was counted as its duplicate
      expect(lines[0].won + lines[0].arbDuplicates).toBe(streams[0].length)
      expect(lines[1].won + lines[1].arbDuplicates).toBe(streams[1].length)
      expect(arb.stashed).toBe(0)
      expect(arb.nextSeq).toBe(N + 1)
    }
  })

  it('waits for the lagging line, then declares what it skipped only once it moves past', () => {
    const { sink, gaps, arb } = makeArbiter()
    const send = (l: number, seqs: number[]) => { arb.lines[l].beginBatch(0); for (const s of seqs) { const p = payload(s); arb.lines[l].message(p, 0, p.length, s) } arb.lines[l].endBatch() }
    send(0, [1, 2, 4, 5, 6]) // A lost 3
    expect(sink.seqs).toEqual([1, 2])
    expect(arb.stashed).toBe(3)
    send(1, [1, 2]) // B is behind: still waiting for its 3
    expect(gaps).toEqual([])
    send(1, [5]) // B lost 3 and 4: 3 is lost on both, 4 came from A
    expect(gaps).toEqual([[3, 1]])
    expect(sink.seqs).toEqual([1, 2, 4, 5, 6])
  })

  it('declares a gap at once when one line is down and the other skips, and flushes the stash when the laggard goes down', () => {
    const { sink, gaps, arb } = makeArbiter()
    const send = (l: number, seqs: number[]) => { arb.lines[l].beginBatch(0); for (const s of seqs) { const p = payload(s); arb.lines[l].message(p, 0, p.length, s) } arb.lines[l].endBatch() }
    send(0, [1, 2, 5, 6])
    expect(sink.seqs).toEqual([1, 2])
    arb.lineDown(1) // B was the hope for 3 and 4
    expect(gaps).toEqual([[3, 2]])
    expect(sink.seqs).toEqual([1, 2, 5, 6])
    send(0, [8])
    expect(gaps).toEqual([[3, 2], [7, 1]])
    expect(sink.errors).toEqual([])
  })

  it('stops waiting for a laggard after maxWaitMs or when the stash is full', () => {
    const { sink, gaps, arb } = makeArbiter({ maxWaitMs: 100, maxStashMessages: 16 })
    const line = arb.lines[0], send = (t: number, seqs: number[]) => { line.beginBatch(t); for (const s of seqs) { const p = payload(s); line.message(p, 0, p.length, s) } line.endBatch() }
    send(1000, [2, 3])
    arb.tick(1050)
    expect(sink.seqs).toEqual([])
    arb.tick(1101)
    expect(gaps).toEqual([[1, 1]])
    expect(sink.seqs).toEqual([2, 3])
    send(2000, Array.from({ length: 20 }, (_, i) => 5 + i)) // 4 missing, 20 ahead > 16 stash slots
    expect(gaps).toEqual([[1, 1], [4, 1]])
    // the 17th could not be stashed: 5..20 went out, 4 became a gap, and 21.. flow straight through
    expect(sink.seqs).toEqual([2, 3, ...Array.from({ length: 20 }, (_, i) => 5 + i)])
    expect(arb.forcedFlushes).toBe(2)
    expect(sink.errors).toEqual([])
  })
})

describe('AbSession over two real SoupBinTCP lines', () => {
  const servers: SoupServer[] = []
  let session: AbSession | null = null
  afterEach(async () => {
    await session?.stop(); session = null
    await Promise.all(servers.splice(0).map((s) => s.close()))
  })

  it('keeps the output complete and duplicate-free when line A dies mid-stream and never returns', async () => {
    const N = 20_000
    const a = new SoupServer({ sessionId: 'AB' }), b = new SoupServer({ sessionId: 'AB' })
    servers.push(a, b)
    const [pa, pb] = await Promise.all([a.listen(), b.listen()])
    const sink = new Collect(), stats = new FeedStats('ab'), events: SessionEvent[] = []
    const line = (port: number) => ({ name: 'ab', host: '127.0.0.1', port, username: '', password: '', backoffMinMs: 10, backoffMaxMs: 50 })
    session = new AbSession('ab', [line(pa), line(pb)], sink, stats, (ev) => events.push(ev))
    session.start()
    await waitFor(() => stats.lines[0].loggedIn === 1 && stats.lines[1].loggedIn === 1, 5000, 'both lines logged in')
    const feedBoth = async (from: number, to: number, servers: SoupServer[]) => {
      for (let s = from; s <= to; s++) { const p = payload(s); for (const srv of servers) srv.append(p, 0, p.length) }
      await new Promise((r) => setImmediate(r))
    }
    await feedBoth(1, 8000, [a, b])
    await waitFor(() => sink.seqs.length >= 5000, 5000, 'half the stream')
    await a.close() // line A dies (its client keeps retrying a closed port)
    await feedBoth(8001, N, [b])
    await waitFor(() => sink.seqs.length >= N, 5000, 'the whole stream via line B')
    expect(sink.errors).toEqual([])
    expect(sink.seqs.length).toBe(N)
    for (let i = 0; i < N; i++) if (sink.seqs[i] !== i + 1) throw new Error(`output[${i}] = ${sink.seqs[i]}`)
    expect(stats.gaps).toBe(0)
    expect(events.some((e) => e.kind === SESSION_GAP)).toBe(false)
    expect(stats.lines[0].connected).toBe(0)
    expect(stats.lines[1].won).toBeGreaterThan(N - 8000 - 1) // everything after A died came from B
    expect(stats.lines[0].won + stats.lines[1].won).toBe(N)
    expect(stats.loggedIn).toBe(1) // the feed is up while either line is
  })

  it('fills what the server of one line no longer has from the other line, with no feed gap', async () => {
    // Both servers already hold the session; A's keeps little history, so line A starts past seq 1.
    const a = new SoupServer({ sessionId: 'AB', recoveryBytes: 4096, blockBytes: 512 }), b = new SoupServer({ sessionId: 'AB' })
    servers.push(a, b)
    const N = 3000
    for (let s = 1; s <= N; s++) { const p = payload(s); a.append(p, 0, p.length); b.append(p, 0, p.length) }
    expect(a.oldestSeq).toBeGreaterThan(1000)
    const [pa, pb] = await Promise.all([a.listen(), b.listen()])
    const sink = new Collect(), stats = new FeedStats('ab'), events: SessionEvent[] = []
    const line = (port: number) => ({ name: 'ab', host: '127.0.0.1', port, username: '', password: '' })
    session = new AbSession('ab', [line(pa), line(pb)], sink, stats, (ev) => events.push(ev))
    session.start()
    await waitFor(() => sink.seqs.length >= N, 5000, 'whole stream')
    expect(sink.errors).toEqual([])
    expect(sink.seqs).toEqual(Array.from({ length: N }, (_, i) => i + 1))
    expect(stats.lines[0].gaps).toBe(1) // line A saw its own gap...
    expect(stats.lines[0].missed).toBe(a.oldestSeq - 1)
    expect(stats.gaps).toBe(0) // ...which line B filled
    expect(events.some((e) => e.kind === SESSION_GAP)).toBe(false)
  })
})
