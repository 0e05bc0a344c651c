// The client library in Node against the real server: snapshot + updates, gap healing, reconnect after a restart.
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { sleep, waitFor } from '../../test-support/wait-for.js'
import { TickcastClient } from './tickcast-client.js'
import type { GapEvent, SymbolState } from './tickcast-client.js'
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

  it('detects a dropped frame as a sequence gap and heals it with a fresh snapshot', async () => {
    const sim = await simulator(running, 3000)
    const t = await tickcast(running, sim.port)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const syms = t.symbols.name.slice(0, 3)
    const c = client(t.url, 'msgpack')
    const rec = sequenceRecorder(c)
    const gaps: GapEvent[] = []
    c.on('gap', (g) => gaps.push(g))
    c.subscribe(syms); c.connect()
    await waitFor(() => rec.snapshots.size === 3 && rec.updates >= 20, 5000, 'snapshots and updates')
    c.debug.dropDataFrames = 1 // as if the network lost one frame of one symbol
    await waitFor(() => gaps.length > 0, 5000, 'a gap event')
    const g = gaps[0]
    expect(g.reason).toBe('sequence')
    expect(syms).toContain(g.symbol)
    expect(g.received).toBeGreaterThan(g.expected)
    expect(g.lost).toBe(g.received - g.expected)
    const sym = g.symbol as string
    await waitFor(() => (rec.snapshots.get(sym) ?? 0) >= 2, 3000, 'the healing snapshot')
    // updates delivered to callers never skip: the only break is the healing snapshot, not an update
    expect(rec.breaks).toEqual([])
    await sim.stop(0)
    await expectConverged(c, t.port, syms)
  })

  it('ignores duplicates and reports server errors and the server gap notice', async () => {
    const sim = await simulator(running, 500)
    const t = await tickcast(running, sim.port)
    await waitFor(() => t.symbols.size === 30, 5000, 'the directory')
    const c = client(t.url, 'json')
    const errors: string[] = [], gaps: GapEvent[] = []
    c.on('error', (e) => errors.push(`${e.code}:${e.symbol}`))
    c.on('gap', (g) => gaps.push(g))
    const rec = sequenceRecorder(c)
    c.subscribe([t.symbols.name[0], 'ZZZZ9']); c.connect()
    await waitFor(() => errors.length > 0 && rec.snapshots.size === 1, 3000, 'the error and the snapshot')
    expect(errors).toEqual(['UNKNOWN_SYMBOL:ZZZZ9'])
    expect(c.subscriptions()).toEqual([t.symbols.name[0]]) // not retried after every reconnect
    t.ws.broadcastGap(7) // what the server sends when the fan-out was lapped
    await waitFor(() => gaps.length === 1 && (rec.snapshots.get(t.symbols.name[0]) ?? 0) === 2, 3000, 'resync after the server gap')
    expect(gaps[0]).toMatchObject({ reason: 'server', lost: 7, symbol: null })
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
