// The whole deployment on one machine: 2 hot-hot ingest nodes on one simulator feed → a real three-node JetStream
// cluster → 2 edges. Losing an ingest node, a NATS node or an edge loses no event and repeats none on any client.
import { connect } from 'nats'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { breaks, caughtUp, edgeNode, feedEnded, ingestNode, nOf, record } from '../../test-support/bus-rig.js'
import { simulator, stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster, TEST_JSM } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'
import { TickcastClient } from '../client/tickcast-client.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('ingest → NATS cluster → edges, losing one of each', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('an ingest node, a NATS node and an edge die mid-stream: no gap, no duplicate; the ingest node resumes from the stream; clients fail over with recovered: true', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 800, 51, 8)
    const a = await ingestNode(running, sim.port, cluster.urls, 'HOT', 'sim-51')
    const b = await ingestNode(running, sim.port, cluster.urls, 'HOT', 'sim-51')
    const e1 = await edgeNode(running, cluster.urls, 'HOT', 'sim-51', 'edge-1'), e2 = await edgeNode(running, cluster.urls, 'HOT', 'sim-51', 'edge-2')
    const r1 = await record(running, e1.url), r2 = await record(running, e2.url)

    // a client of edge 1 that knows edge 2 too
    const c = new TickcastClient({ url: [e1.url, e2.url], WebSocket, reconnect: { minMs: 20, maxMs: 100 }, pingIntervalMs: 0 })
    running.push({ stop: async () => c.close() })
    const last = new Map<string, number>(), clientBreaks: string[] = []
    let snapshots = 0, updates = 0
    c.on('snapshot', (s) => { snapshots++; last.set(s.symbol, s.n) })
    const onUpdate = (u: { symbol: string; n: number }): void => {
      const prev = last.get(u.symbol)
      if (prev === undefined || u.n !== prev + 1) clientBreaks.push(`${u.symbol}: ${prev} → ${u.n}`)
      last.set(u.symbol, u.n); updates++
    }
    c.on('quote', onUpdate); c.on('trade', onUpdate); c.on('status', onUpdate)
    await waitFor(() => b.symbols.size === 8, 10_000, 'the directory')
    c.subscribe(b.symbols.name.slice(0, 4))
    c.connect()
    await waitFor(() => snapshots === 4 && updates >= 20, 15_000, 'snapshots and 20 updates on edge 1')
    expect(c.url.startsWith(e1.url)).toBe(true)
    expect(c.node).toBe('edge-1') // the ack names the node (the live page shows it)

    // ingest node a goes away (in-process: stopped, its in-flight publishes settle or time out); b carries on alone
    await a.stop()
    const bAlone = b.bus!.stats.acked
    await waitFor(() => b.bus!.stats.acked > bAlone + 300, 15_000, 'b publishing alone')
    // a comes back mid-session: it replays the feed from its start (n is derived from it), skips what the stream holds,
    // and from there publishes the same events as b under the same ids (duplicates), so its n continue b's exactly
    const a2 = await ingestNode(running, sim.port, cluster.urls, 'HOT', 'sim-51')
    expect(a2.bus!.stats.resumeSymbols).toBe(8)
    await waitFor(() => a2.bus!.stats.resumeSkipped > 0 && a2.bus!.stats.duplicates > 100, 20_000, 'the restarted node past the stream, de-duplicated against b')

    // the NATS node leading the stream dies (replicas 3: the other two keep a quorum and elect a leader; publishes in
    // flight fail and are sent again, clients of that node reconnect to the others)
    const nc = await connect({ servers: cluster.urls.split(',') })
    const leader = (await (await nc.jetstreamManager(TEST_JSM)).streams.info('HOT')).cluster?.leader ?? ''
    await nc.close()
    expect(leader).toMatch(/^n[012]$/)
    await cluster.nodes[Number(leader.slice(1))].kill()
    const e2Seen = e2.source!.stats.consumed
    await waitFor(() => e2.source!.stats.consumed > e2Seen + 300, 20_000, 'edge 2 consuming after the NATS node died')

    // edge 1 dies: the client moves to edge 2 and resumes from its ring
    const before = updates
    await e1.stop()
    await waitFor(() => c.url.startsWith(e2.url) && c.state === 'open' && updates >= before + 40, 20_000, 'updates from edge 2')
    await sim.stop(0)
    await waitFor(() => feedEnded(b) && caughtUp(b, e2) && caughtUp(b, a2), 20_000, 'edge 2 and the restarted ingest node caught up with b')

    const lastOf = (sym: string): number => { const ev = r2.bySymbol.get(sym) ?? []; return ev.length > 0 ? nOf(ev[ev.length - 1]) : -1 }
    await waitFor(() => b.symbols.name.every((sym) => lastOf(sym) === b.lvc.seq[b.symbols.idOf(sym)]), 10_000, 'edge 2\'s client received b\'s last n')
    for (const sym of b.symbols.name) expect(a2.lvc.seq[a2.symbols.idOf(sym)], sym).toBe(b.lvc.seq[b.symbols.idOf(sym)])
    // no gap and no duplicate on either edge's clients, edge 2's reaching b's last n; both edges sent the same events
    expect(breaks(r1)).toEqual([])
    expect(breaks(r2)).toEqual([])
    expect(r2.bySymbol.size).toBe(8)
    for (const [sym, events] of r2.bySymbol) {
      const mine = r1.bySymbol.get(sym) ?? []
      expect(mine.length, sym).toBeGreaterThan(0)
      const from = Math.max(nOf(events[0]), nOf(mine[0])), to = nOf(mine[mine.length - 1])
      expect(mine.filter((x) => nOf(x) >= from), sym).toEqual(events.filter((x) => nOf(x) >= from && nOf(x) <= to))
    }
    expect(clientBreaks).toEqual([])
    expect(c.stats.recovered).toBe(4)
    expect(c.stats.unrecovered).toBe(0)
    expect(snapshots).toBe(4) // resumed from edge 2's ring, no new snapshot
    expect(c.node).toBe('edge-2')
  }, 90_000)
})
