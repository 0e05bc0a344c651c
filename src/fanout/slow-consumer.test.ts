import type net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { KIND_QUOTE, KIND_TRADE } from '../ring/ring-buffer.js'
import type { WsServerOptions } from './ws-server.js'
import { connectRig, startWsRig, until } from '../../test-support/ws-rig.js'
import type { RigClient } from '../../test-support/ws-rig.js'

const NAMES = ['AAPL', 'AMZN', 'MSFT', 'NVDA', 'TSLA']
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f() })

const start = (opts: WsServerOptions) => startWsRig(NAMES, cleanup, opts)
type Client = RigClient
const connect = (port: number): Promise<Client> => connectRig(port, cleanup)
async function subscribe(c: Client, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  const before = c.control.length
  c.ws.send(JSON.stringify({ op: 'subscribe', id: 'r', ...msg }))
  await until(() => c.control.slice(before).some((m) => m.type === 'subscribed'), 'ack')
  return c.control.slice(before).find((m) => m.type === 'subscribed')!
}
const sock = (c: Client): net.Socket => (c.ws as unknown as { _socket: net.Socket })._socket

/** Latest event per symbol as the client sees it (update or snap), and its trade events per symbol. */
function view(c: Client): { last: Map<string, Record<string, unknown>>; trades: Map<string, number>; skipped: Map<string, number> } {
  const last = new Map<string, Record<string, unknown>>(), trades = new Map<string, number>(), skipped = new Map<string, number>()
  for (const e of c.events) { last.set(e.s as string, e); if (e.e === 't') trades.set(e.s as string, (trades.get(e.s as string) ?? 0) + 1) }
  for (const m of c.control) if (m.type === 'trades_skipped') skipped.set(m.symbol as string, (skipped.get(m.symbol as string) ?? 0) + (m.count as number))
  return { last, trades, skipped }
}

describe('slow-consumer ladder', () => {
  it('conflates a stalled client, announces each step, and on resume converges with every trade delivered or signalled', async () => {
    const t = await start({ maxBackpressureBytes: 32 * 1024, slowHardLimitBytes: 64 * 1024 * 1024, slowGraceMs: 10_000 })
    const reader = await connect(t.port), stalled = await connect(t.port)
    for (const c of [reader, stalled]) await subscribe(c, { symbols: NAMES, snapshot: false })
    sock(stalled).pause()
    let conflatedRounds = 0 // the kernel's socket buffers absorb a lot first: pump until it stays conflated a while
    for (let round = 0; round < 5000 && conflatedRounds < 40; round++) {
      for (let k = 0; k < 50; k++) t.emit(k % NAMES.length, k % 7 === 3 ? KIND_TRADE : KIND_QUOTE)
      t.dispatcher.drain()
      await new Promise((r) => setTimeout(r, 1))
      if (t.stats.slowConflating === 1) conflatedRounds++
    }
    expect(t.stats.slowConflating).toBe(1)
    sock(stalled).resume()
    await until(() => stalled.control.some((m) => m.type === 'slow' && m.state === 'normal'), 'slow normal', 8000)
    for (let k = 0; k < 20; k++) t.emit(k % NAMES.length, k % 4 === 0 ? KIND_TRADE : KIND_QUOTE) // updates after the catch-up
    t.dispatcher.drain()
    const final = (c: Client): boolean => NAMES.every((n, id) => view(c).last.get(n)?.n === t.lvc.seq[id])
    await until(() => final(reader) && final(stalled), 'both clients reach the latest sequence of every symbol', 8000)

    const steps = stalled.control.filter((m) => m.type === 'slow').map((m) => m.state)
    expect(steps.length).toBeGreaterThanOrEqual(2) // conflating, normal[, conflating, normal...]: each step announced
    steps.forEach((st, k) => expect(st).toBe(k % 2 === 0 ? 'conflating' : 'normal'))
    expect(t.stats.slowRecovered).toBe(steps.length / 2)
    expect(t.stats.slowConflateEntered).toBe(steps.length / 2)
    expect(t.stats.slowConflating).toBe(0)
    const r = view(reader), s = view(stalled)
    let skippedTotal = 0
    for (const [id, n] of NAMES.entries()) {
      expect(r.trades.get(n), `reader ${n}`).toBe(t.trades[id]) // the reader got every trade one by one
      expect((s.trades.get(n) ?? 0) + (s.skipped.get(n) ?? 0), `stalled ${n} ${JSON.stringify(t.stats)}`).toBe(t.trades[id]) // delivered or signalled, exactly
      skippedTotal += s.skipped.get(n) ?? 0
      expect(s.last.get(n)!.bp).toBe(r.last.get(n)!.bp) // converged to the latest value
      // per symbol, sequences only go up, and any jump lands on a snap (the catch-up)
      const ns = stalled.events.filter((e) => e.s === n)
      for (let k = 1; k < ns.length; k++) {
        expect(ns[k].n as number).toBeGreaterThan(ns[k - 1].n as number)
        if ((ns[k].n as number) !== (ns[k - 1].n as number) + 1) expect(ns[k].e).toBe('snap')
      }
    }
    expect(skippedTotal).toBeGreaterThan(0)
    expect(t.stats.tradesSkipped).toBe(skippedTotal)
  })

  it('honours maxHz and maxAgeMs on a steady stream and reports the effective values', async () => {
    const t = await start({})
    const hz = await connect(t.port), age = await connect(t.port), clamp = await connect(t.port)
    expect(await subscribe(hz, { symbols: ['AAPL'], maxHz: 20 })).toMatchObject({ maxHz: 20 })
    expect(await subscribe(age, { symbols: ['AAPL'], maxAgeMs: 100 })).toMatchObject({ maxAgeMs: 100 })
    expect(await subscribe(clamp, { symbols: ['MSFT'], maxHz: 5000, maxAgeMs: 1 })).toMatchObject({ maxHz: 100, maxAgeMs: 20 })
    expect(t.stats.throttledSubscriptions).toBe(3)
    const recvAt: number[] = [], ages: number[] = []
    age.ws.on('message', (d: Buffer) => {
      const v = JSON.parse(d.toString())
      if (Array.isArray(v)) for (const e of v) ages.push((performance.timeOrigin + performance.now()) - (e.e === 'snap' ? e.qt : e.t) / 1000)
    })
    hz.ws.on('message', (d: Buffer) => { if (d[0] === 0x5b) recvAt.push(performance.now()) })
    const t0 = performance.now()
    let emitted = 0
    // ~1 quote per ms, a steady stream, for 1 s; on a loaded machine a 1 ms timer fires late, so run on (≤ 5 s) to 300 quotes
    while ((performance.now() - t0 < 1000 || emitted < 300) && performance.now() - t0 < 5000 && emitted < 5000) {
      t.emit(0, KIND_QUOTE); emitted++
      t.dispatcher.drain()
      await new Promise((r) => setTimeout(r, 1))
    }
    const secs = (performance.now() - t0) / 1000
    await new Promise((r) => setTimeout(r, 150))
    // a quote-only stream: each throttled delivery is one quote (with `c` when it conflated others)
    const hzUpdates = hz.events.filter((e) => e.e === 'q').length
    expect(hzUpdates / secs).toBeGreaterThan(12)
    expect(hzUpdates / secs).toBeLessThanOrEqual(21)
    for (let k = 1; k < recvAt.length; k++) expect(recvAt[k] - recvAt[k - 1]).toBeGreaterThan(1000 / 20 - 15)
    const ageUpdates = age.events.filter((e) => e.e === 'q').length
    expect(ageUpdates).toBeGreaterThan(4)
    expect(ageUpdates).toBeLessThan(emitted / 4) // coalesced, not every quote
    ages.sort((a, b) => a - b)
    expect(ages[Math.floor(ages.length * 0.9)]).toBeLessThan(100 + 40) // staleness budget, timer tolerance
    // both converge to the latest quote
    await until(() => hz.events.at(-1)?.n === t.lvc.seq[0] && age.events.at(-1)?.n === t.lvc.seq[0], 'latest value', 2000)
    expect(emitted).toBeGreaterThan(200)
  })
})
