// The client library in Node against the real server: snapshot + updates, gap healing, reconnect after a restart.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { TickcastClient } from './tickcast-client.js'
import type { GapEvent, SymbolState } from './tickcast-client.js'
import { startFakeServer } from '../../test-support/fake-tickcast.js'
import { startTcpProxy } from '../../test-support/tcp-proxy.js'
import { restSnapshot, simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

function client(url: string | (() => string), format: 'json' | 'msgpack'): TickcastClient {
  const c = new TickcastClient({ url, format, WebSocket, reconnect: { minMs: 50, maxMs: 400 }, pingIntervalMs: 0 })
  running.push({ stop: async () => c.close() })
  return c
}

/** Every field of the client's state equals the server's REST snapshot of the same sequence number. */
async function expectConverged(c: TickcastClient, port: number, symbols: readonly string[]): Promise<void> {
  for (const sym of symbols) {
    const ref = await restSnapshot(port, sym)
    await waitFor(() => c.get(sym)!.n === ref.n, 3000, `${sym} at n=${ref.n} (client at ${c.get(sym)?.n})`)
    const s = c.get(sym) as SymbolState
    expect({ n: s.n, bp: s.bid, bs: s.bidSize, ap: s.ask, as: s.askSize, p: s.last, q: s.lastSize, st: s.status },
      sym).toEqual({ n: ref.n, bp: ref.bp, bs: ref.bs, ap: ref.ap, as: ref.as, p: ref.p, q: ref.q, st: ref.st })
  }
}

/** Records, per symbol, that the first update after each snapshot is snapshot n + 1 and each next one +1. */
function sequenceRecorder(c: TickcastClient): { snapshots: Map<string, number>; updates: number; breaks: string[] } {
  const rec = { snapshots: new Map<string, number>(), updates: 0, breaks: [] as string[] }
  const last = new Map<string, number>()
  c.on('snapshot', (s) => { rec.snapshots.set(s.symbol, (rec.snapshots.get(s.symbol) ?? 0) + 1); last.set(s.symbol, s.n) })
  const onUpdate = (u: { symbol: string; n: number }): void => {
    const prev = last.get(u.symbol)
    if (prev === undefined || u.n !== prev + 1) rec.breaks.push(`${u.symbol}: ${prev} → ${u.n}`)
    last.set(u.symbol, u.n); rec.updates++
  }
  c.on('quote', onUpdate); c.on('trade', onUpdate); c.on('status', onUpdate)
  return rec
}

describe('TickcastClient against a real tickcast', () => {
  it.each(['json', 'msgpack'] as const)('%s: a snapshot per symbol, then contiguous updates; state equals the REST snapshot', async (format) => {
    const sim = await simulator(running, 2000)
    const t = await tickcast(running, sim.port)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const syms = t.symbols.name.slice(0, 4)
    const c = client(t.url, format)
    const rec = sequenceRecorder(c)
    const states: string[] = []
    c.on('state', (s) => states.push(s))
    c.subscribe(syms)
    c.connect()
    await waitFor(() => rec.snapshots.size === 4 && rec.updates >= 40, 5000, 'snapshots and 40 updates')
    expect(rec.breaks).toEqual([])
    expect(states).toEqual(['connecting', 'open'])
    const ms = await c.ping()
    expect(ms).toBeGreaterThan(0); expect(ms).toBeLessThan(1000)
    await sim.stop(0) // the market freezes: the client must land exactly on the server's last values
    await expectConverged(c, t.port, syms)
    expect(c.stats.gaps).toBe(0)
  })

  it('maxHz: the server throttles each symbol, the client takes its coalesced updates without a gap and converges', async () => {
    const sim = await simulator(running, 4000)
    const t = await tickcast(running, sim.port)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const syms = t.symbols.name.slice(0, 2) // the busiest: hundreds of updates/s each at full rate
    const c = new TickcastClient({ url: t.url, format: 'json', WebSocket, reconnect: { minMs: 50, maxMs: 400 }, pingIntervalMs: 0, maxHz: 4 })
    running.push({ stop: async () => c.close() })
    let updates = 0
    c.on('quote', () => { updates++ }); c.on('trade', () => { updates++ }); c.on('snapshot', () => { updates++ })
    c.subscribe(syms); c.connect()
    await waitFor(() => syms.every((s) => (c.get(s)?.n ?? -1) >= 0), 5000, 'both baselines')
    const n0 = syms.map((s) => c.get(s)!.n), u0 = updates, t0 = Date.now()
    await sleep(2000)
    const seconds = (Date.now() - t0) / 1000
    const moved = syms.reduce((sum, s, i) => sum + c.get(s)!.n - n0[i], 0)
    // the feed moved each symbol on by far more than it delivered: at most 4/s each (+1 for a window edge)
    expect(moved).toBeGreaterThan(4 * (4 + 1) * seconds)
    // a delivery is the update its window held, or the latest quote and trade (each with `c`): ≤ 2 events
    expect(updates - u0).toBeLessThanOrEqual(Math.ceil(2 * 2 * (4 + 1) * seconds))
    expect(updates - u0).toBeGreaterThan(0)
    expect(c.stats.gaps).toBe(0) // the server's coalesced steps are not losses
    await sim.stop(0)
    await expectConverged(c, t.port, syms)
  })

  it('marks its symbols stale when the feed goes down and fresh when it is back, as the server says in-band', async () => {
    const sim = await simulator(running, 2000)
    const feedLine = await startTcpProxy(sim.port) // the network between the exchange and tickcast
    running.push({ stop: () => feedLine.close() })
    const t = await tickcast(running, feedLine.port, {}, ['--feed-stale-after-ms', '300'])
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const syms = t.symbols.name.slice(0, 3)
    const c = client(t.url, 'json')
    const rec = sequenceRecorder(c)
    const marks: string[] = []
    c.on('stale', (e) => marks.push(`${e.symbol}:${e.reason}`))
    c.subscribe(syms); c.connect()
    await waitFor(() => rec.snapshots.size === 3 && rec.updates >= 20, 5000, 'snapshots and updates')
    expect(syms.map((sym) => c.get(sym)!.stale)).toEqual([null, null, null])
    const before = rec.updates
    feedLine.hold() // the feed stays connected but nothing arrives, not even heartbeats: silent past --feed-stale-after-ms
    await waitFor(() => syms.every((sym) => c.get(sym)!.stale === 'feed_down'), 5000, 'stale (feed_down) on every symbol')
    expect((await restSnapshot(t.port, syms[0])).stale).toBe('feed_down')
    feedLine.release()
    await waitFor(() => syms.every((sym) => c.get(sym)!.stale === null) && rec.updates > before + 10, 5000, 'fresh again, with updates')
    expect(marks.filter((m) => m.endsWith(':feed_down')).sort()).toEqual(syms.map((sym) => `${sym}:feed_down`).sort())
    expect(marks.filter((m) => m.endsWith(':null')).sort()).toEqual(syms.map((sym) => `${sym}:null`).sort())
    expect(rec.breaks).toEqual([]) // markers take no sequence number: updates stay contiguous
    expect(c.stats.gaps).toBe(0)
    expect((await restSnapshot(t.port, syms[0])).stale).toBeNull()
  })

  it('ignores duplicates and reports server errors', async () => {
    const sim = await simulator(running, 500)
    const t = await tickcast(running, sim.port)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const c = client(t.url, 'json')
    const errors: string[] = []
    c.on('error', (e) => errors.push(`${e.code}:${e.symbol}`))
    const rec = sequenceRecorder(c)
    c.subscribe([t.symbols.name[0], 'ZZZZ9']); c.connect()
    await waitFor(() => errors.length > 0 && rec.snapshots.size === 1, 3000, 'the error and the snapshot')
    expect(errors).toEqual(['UNKNOWN_SYMBOL:ZZZZ9'])
    expect(c.subscriptions()).toEqual([t.symbols.name[0]]) // not retried after every reconnect
    const before = c.stats.duplicates
    // replay the last update through the client's message path: it must be counted and ignored
    const s = c.get(t.symbols.name[0])!, n = s.n, bid = s.bid
    const onMessage = (c as unknown as { onMessage(ev: { data: unknown }): void }).onMessage
    onMessage({ data: JSON.stringify([{ e: 'q', s: s.symbol, n, bp: 1, bs: 1, ap: 2, as: 1, t: 0 }]) })
    expect(c.stats.duplicates).toBe(before + 1)
    expect(c.get(s.symbol)!.bid).toBe(bid)
  })

  it('reconnects and resubscribes by itself when the server behind its address restarts', async () => {
    const sim1 = await simulator(running, 1000, 7)
    const t1 = await tickcast(running, sim1.port)
    await waitFor(() => t1.symbols.size === 30, 5000, 'the directory')
    // uWS cannot re-bind a port it served WebSockets on for ~60 s: the fixed address is a proxy in front
    const proxy = await startTcpProxy(t1.port)
    running.push({ stop: () => proxy.close() })
    const syms = t1.symbols.name.slice(0, 3)
    const c = client(`ws://127.0.0.1:${proxy.port}/v1/stream`, 'json')
    const rec = sequenceRecorder(c)
    const states: string[] = []
    c.on('state', (s) => states.push(s))
    c.subscribe(syms); c.connect()
    await waitFor(() => rec.snapshots.size === 3 && rec.updates > 10, 5000, 'first session')
    await t1.stop(); await sim1.stop(0)
    await waitFor(() => c.state === 'reconnecting', 3000, 'the client noticing')
    await sleep(200) // a few refused attempts while nothing listens behind the proxy
    const sim2 = await simulator(running, 1000, 99)
    const t2 = await tickcast(running, sim2.port)
    proxy.retarget(t2.port)
    await waitFor(() => c.state === 'open' && syms.every((s) => rec.snapshots.get(s) === 2), 5000, 'resubscribed with fresh snapshots')
    const updatesAfter = rec.updates
    await waitFor(() => rec.updates > updatesAfter + 10, 5000, 'updates from the new server')
    expect(states[0]).toBe('connecting')
    expect(states.slice(-2)).toEqual(['reconnecting', 'open'])
    expect(c.stats.reconnects).toBeGreaterThanOrEqual(1)
    await sim2.stop(0)
    await expectConverged(c, t2.port, syms) // the new server's values (a different seed), not stale ones
  })
})

describe('TickcastClient sequence checks (a scripted server: frames lost on the way, which the real one never does)', () => {
  it('detects an unexplained jump, resyncs that symbol with a plain subscribe, and accepts a jump a stale marker explains', async () => {
    const fake = await startFakeServer()
    running.push({ stop: () => fake.close() })
    const c = client(fake.url, 'json')
    const rec = sequenceRecorder(c)
    const gaps: GapEvent[] = [], marks: string[] = []
    c.on('gap', (g) => gaps.push(g))
    c.on('stale', (e) => marks.push(`${e.n}:${e.reason}`))
    c.subscribe(['AAPL', 'A*']); c.connect()
    const sub = await fake.nextRequest()
    expect(sub).toMatchObject({ op: 'subscribe', symbols: ['AAPL', 'A*'] })
    const q = (n: number) => ({ e: 'q', s: 'AAPL', n, bp: 1, bs: 1, ap: 2, as: 1, t: 0 })
    fake.send([{ e: 'snap', s: 'AAPL', n: 5, bp: 1, bs: 1, ap: 2, as: 1, qt: 0, p: null, q: null, tt: null, st: 'T', stale: null }])
    fake.send([q(6), q(9)]) // 7 and 8 went missing on the way, and nothing said so
    const resync = await fake.nextRequest()
    expect(resync).toMatchObject({ op: 'subscribe', symbols: ['AAPL'] }) // no unsubscribe: the A* pattern still covers it
    expect(gaps).toEqual([{ reason: 'sequence', symbol: 'AAPL', expected: 7, received: 9, lost: 2 }])
    fake.send([q(10)]) // in flight before the new snapshot: ignored
    fake.send([{ e: 'snap', s: 'AAPL', n: 10, bp: 3, bs: 1, ap: 4, as: 1, qt: 0, p: null, q: null, tt: null, st: 'T', stale: null }])
    fake.send([{ e: 'stale', s: 'AAPL', n: 14, reason: 'lapped', t: 0 }, q(15), { e: 'fresh', s: 'AAPL', n: 15, t: 0 }, q(16)])
    await waitFor(() => c.get('AAPL')!.n === 16, 3000, 'AAPL at 16')
    expect(marks).toEqual(['14:lapped', '15:null'])
    expect(gaps).toHaveLength(1) // the jump 10 → 15 was explained by the stale marker
    expect(rec.breaks).toEqual(['AAPL: 10 → 15']) // what the caller sees: the marker said why
    expect(c.get('AAPL')).toMatchObject({ n: 16, bid: 1, stale: null })
    fake.send([{ ...q(19), c: 2 }]) // a throttle conflated 17 and 18 away and says so: no loss
    fake.send([{ ...q(22), c: 1 }]) // c explains 21, not 20: a loss
    const again = await fake.nextRequest()
    expect(again).toMatchObject({ op: 'subscribe', symbols: ['AAPL'] })
    expect(gaps).toEqual([gaps[0], { reason: 'sequence', symbol: 'AAPL', expected: 20, received: 22, lost: 2 }])
  })
})
