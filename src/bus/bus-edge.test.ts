// An edge node reading a real three-node JetStream cluster: its clients get exactly the ingest node's per-symbol
// stream (same n, same values), it names the same stream epoch, and /readyz reflects the bus.
import { afterEach, describe, expect, it } from 'vitest'
import { caughtUp, edgeNode, feedEnded, record } from '../../test-support/bus-rig.js'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('edge nodes read the bus', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('clients of an edge get the ingest node\'s per-symbol streams, n unchanged', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 1000, 31, 5)
    const ingest = await tickcast(running, sim.port, {}, ['--bus', cluster.urls, '--bus-stream', 'E1', '--stream-epoch', 'sim-31'])
    const e = await edgeNode(running, cluster.urls, 'E1', 'sim-31')
    const direct = await record(running, ingest.url), viaBus = await record(running, e.url)
    expect(await viaBus.epoch).toBe(await direct.epoch) // one stream: a client may resume on either
    await new Promise((r) => setTimeout(r, 1500))
    await sim.stop(0)
    await waitFor(() => feedEnded(ingest) && caughtUp(ingest, e), 10_000, 'the edge caught up')
    await new Promise((r) => setTimeout(r, 200))
    expect(direct.bySymbol.size).toBe(5)
    for (const [sym, events] of direct.bySymbol) {
      const mine = viaBus.bySymbol.get(sym) ?? []
      // either client may have subscribed first (the edge also lags the ingest node): compare from the first n both have
      const nOf = (x: string): number => JSON.parse(x).n as number
      expect(mine.length, sym).toBeGreaterThan(0)
      const from = Math.max(nOf(events[0]), nOf(mine[0]))
      const common = events.filter((x) => nOf(x) >= from)
      expect(common.length, sym).toBeGreaterThan(0)
      expect(mine.filter((x) => nOf(x) >= from), sym).toEqual(common)
    }
    const r = await fetch(`http://127.0.0.1:${e.port}/readyz`)
    expect(r.status).toBe(200)
  }, 60_000)

  it.skipIf(!natsAvailable() && !process.env.CI)('the whole bus stops for 5 s: the edge marks its symbols stale, then catches up with nothing lost', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 500, 32, 4)
    const ingest = await tickcast(running, sim.port, {}, ['--bus', cluster.urls, '--bus-stream', 'E2', '--stream-epoch', 'sim-31'])
    const e = await edgeNode(running, cluster.urls, 'E2', 'sim-31')
    const viaBus = await record(running, e.url)
    const marks = viaBus.marks
    await new Promise((r) => setTimeout(r, 700))
    for (const n of cluster.nodes) await n.kill()
    await waitFor(() => marks.some((m) => m.endsWith(':stale')), 5000, 'stale markers on the edge')
    expect((await fetch(`http://127.0.0.1:${e.port}/readyz`)).status).toBe(503)
    await new Promise((r) => setTimeout(r, 5000))
    await Promise.all(cluster.nodes.map((n) => n.start()))
    await cluster.metaLeader()
    await new Promise((r) => setTimeout(r, 1000))
    await sim.stop(0)
    await waitFor(() => feedEnded(ingest) && caughtUp(ingest, e), 40_000, 'the edge caught up after the outage')
    await new Promise((r) => setTimeout(r, 200))
    for (const [sym, events] of viaBus.bySymbol) {
      const ns = events.map((x) => JSON.parse(x).n as number)
      ns.forEach((n, k) => { if (k > 0) expect(n, `${sym} #${k}`).toBe(ns[k - 1] + 1) }) // no gap, no duplicate
      expect(ns[ns.length - 1], sym).toBe(ingest.lvc.seq[ingest.symbols.idOf(sym)])
    }
    expect(marks.some((m) => m.endsWith(':fresh'))).toBe(true)
  }, 120_000)
})
