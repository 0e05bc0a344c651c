// Throttle groups on a real WsServer + Dispatcher: `*` clients at one rate share one throttle and one uWS topic, each
// still gets at most maxHz per symbol, converges to the latest value with every trade delivered or signalled; a
// member that unsubscribes or narrows keeps its throttle on its own; the last one out releases the group.
import { afterEach, describe, expect, it } from 'vitest'
import { KIND_QUOTE, KIND_TRADE } from '../../ring/ring-buffer.js'
import { connectRig, startWsRig, until } from '../../../test-support/ws-rig.js'
import type { RigClient } from '../../../test-support/ws-rig.js'
import type { ThrottleGroups } from './throttle-groups.js'

const NAMES = ['AAPL', 'AMZN', 'MSFT', 'NVDA', 'TSLA']
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f() })
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function start() {
  const rig = await startWsRig(NAMES, cleanup)
  return { ...rig, groups: (rig.server as unknown as { host: { groups: ThrottleGroups } }).host.groups }
}

type Client = RigClient
const connect = (port: number): Promise<Client> => connectRig(port, cleanup)
async function send(c: Client, msg: Record<string, unknown>, type: string): Promise<Record<string, unknown>> {
  const before = c.control.length
  c.ws.send(JSON.stringify(msg))
  await until(() => c.control.slice(before).some((m) => m.type === type), type)
  return c.control.slice(before).find((m) => m.type === type)!
}

/** Emits `rounds` rounds of one event per symbol (every 4th a trade), draining each round, `gapMs` apart. */
async function stream(t: Awaited<ReturnType<typeof start>>, rounds: number, gapMs: number, ids = NAMES.map((_n, k) => k)): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (const id of ids) t.emit(id, (r + id) % 4 === 0 ? KIND_TRADE : KIND_QUOTE)
    t.dispatcher.drain()
    await sleep(gapMs)
  }
}

/** Data frames per symbol: a throttle's delivery of a symbol (its update, or the latest of each kind) is one frame. */
function deliveries(c: Client): Map<string, number> {
  const per = new Map<string, number>()
  c.ws.on('message', (data: Buffer) => {
    const v = JSON.parse(data.toString()) as unknown
    if (Array.isArray(v)) for (const s of new Set(v.map((e: Record<string, unknown>) => e.s as string))) per.set(s, (per.get(s) ?? 0) + 1)
  })
  return per
}

/** Per symbol: events only go up in n, the last one is the latest, and trades are delivered or signalled exactly. */
function converged(t: Awaited<ReturnType<typeof start>>, c: Client, names = NAMES): boolean {
  return names.every((n) => {
    const id = NAMES.indexOf(n), mine = c.events.filter((e) => e.s === n)
    return mine.length > 0 && mine[mine.length - 1].n === t.lvc.seq[id]
  })
}
function tradesAccounted(t: Awaited<ReturnType<typeof start>>, c: Client, n: string): number {
  const delivered = c.events.filter((e) => e.s === n && e.e === 't').length
  const skipped = c.control.filter((m) => m.type === 'trades_skipped' && m.symbol === n).reduce((a, m) => a + (m.count as number), 0)
  return delivered + skipped - t.trades[NAMES.indexOf(n)]
}

describe('throttle groups', () => {
  it('gives `*` clients at one rate one shared throttle: maxHz per symbol each, latest value, trades accounted', async () => {
    const t = await start()
    const a = await connect(t.port), b = await connect(t.port), full = await connect(t.port)
    const frames = new Map([a, b].map((c) => [c, deliveries(c)]))
    for (const c of [a, b]) expect(await send(c, { op: 'subscribe', symbols: ['*'], maxHz: 10, id: 1 }, 'subscribed')).toMatchObject({ maxHz: 10 })
    await send(full, { op: 'subscribe', symbols: ['*'], id: 1 }, 'subscribed')
    expect(t.groups.size).toBe(1)
    expect(t.stats.throttledSubscriptions).toBe(2 * NAMES.length)
    const t0 = performance.now()
    await stream(t, 60, 5) // ~300 ms at ~200 events/s per symbol
    await until(() => converged(t, a) && converged(t, b) && converged(t, full), 'every client at the latest n')
    const seconds = (performance.now() - t0) / 1000
    for (const c of [a, b]) {
      for (const n of NAMES) {
        const mine = c.events.filter((e) => e.s === n)
        // n rises, and by at most 1 + c: every jump is the throttle's conflation, announced, never a loss
        for (let k = 1; k < mine.length; k++) {
          expect(mine[k].n as number).toBeGreaterThan(mine[k - 1].n as number)
          expect(mine[k].n as number, `${n} ${JSON.stringify(mine[k])}`).toBeLessThanOrEqual((mine[k - 1].n as number) + 1 + ((mine[k].c as number | undefined) ?? 0))
        }
        expect(mine.filter((e) => e.e === 'snap').length, n).toBe(1) // the subscribe snapshot; updates after it
        // the subscribe snapshot, then at most 10/s (+1: the group's first send may follow the snapshot closely)
        expect(frames.get(c)!.get(n), n).toBeLessThanOrEqual(2 + Math.ceil(seconds * 10) + 1)
        expect(tradesAccounted(t, c, n), n).toBe(0)
      }
    }
    expect(full.events.filter((e) => e.s === 'AAPL').length).toBeGreaterThan(50) // the unthrottled client got every one
  })

  it('a member that unsubscribes leaves and keeps its rate on its own; the last one out releases the group', async () => {
    const t = await start()
    const a = await connect(t.port), b = await connect(t.port)
    for (const c of [a, b]) await send(c, { op: 'subscribe', symbols: ['*'], maxHz: 20, id: 1 }, 'subscribed')
    expect(t.groups.size).toBe(1)
    await send(a, { op: 'unsubscribe', symbols: ['AAPL'], id: 2 }, 'unsubscribed') // `*` still covers it: nothing changes
    await send(a, { op: 'unsubscribe', symbols: ['*'], id: 3 }, 'unsubscribed')
    await send(a, { op: 'subscribe', symbols: ['MSFT', 'NVDA'], maxHz: 20, id: 4 }, 'subscribed')
    expect(t.groups.size).toBe(1) // b is still in it
    const before = a.events.length
    await stream(t, 40, 5)
    await until(() => converged(t, a, ['MSFT', 'NVDA']) && converged(t, b), 'both at the latest n')
    expect(a.events.slice(before).every((e) => e.s === 'MSFT' || e.s === 'NVDA')).toBe(true)
    expect(a.events.slice(before).filter((e) => e.s === 'MSFT').length).toBeLessThanOrEqual(2 + 20 * 0.4 + 8)
    b.ws.close()
    await until(() => t.groups.size === 0, 'the group released')
    for (let id = 0; id < NAMES.length; id++) expect(t.server.detachedWants(id)).toBe(id === 2 || id === 3) // only a's own throttle
    expect(t.stats.throttledSubscriptions).toBe(2)
  })

  it('does not group a connection that holds other symbols or patterns: it throttles on its own', async () => {
    const t = await start()
    const a = await connect(t.port)
    await send(a, { op: 'subscribe', symbols: ['AAPL'], id: 1 }, 'subscribed')
    await send(a, { op: 'subscribe', symbols: ['*'], maxHz: 10, id: 2 }, 'subscribed')
    expect(t.groups.size).toBe(0)
    await stream(t, 20, 5)
    await until(() => converged(t, a), 'latest n')
    expect(a.events.filter((e) => e.s === 'AAPL').length).toBeGreaterThanOrEqual(20) // held before, not throttled
    expect(a.events.filter((e) => e.s === 'MSFT').length).toBeLessThan(10)
  })
})
