// An edge away from the bus longer than the stream keeps history: what expired is gone, and its clients are told
// (stale feed_gap before the jump in n, fresh after) instead of receiving a silent jump.
import { connect } from 'nats'
import { afterEach, describe, expect, it } from 'vitest'
import { breaks, caughtUp, edgeNode, record } from '../../test-support/bus-rig.js'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('an edge that comes back after the history it missed expired', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('tells its clients of the gap per symbol (stale feed_gap, then fresh) and ends equal to the ingest node', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 400, 61, 4)
    // one second of history (the de-duplication window may not exceed it)
    const ingest = await tickcast(running, sim.port, {}, ['--bus', cluster.urls, '--bus-stream', 'GAP', '--stream-epoch', 'sim-61',
      '--bus-max-age-sec', '1', '--bus-duplicate-window-sec', '1'])
    // the edge knows one NATS node only, not the stream's leader: losing that node cuts the edge off, not the stream
    const nc = await connect({ servers: cluster.urls.split(',') })
    const leader = (await (await nc.jetstreamManager()).streams.info('GAP')).cluster?.leader ?? ''
    await nc.close()
    const away = cluster.nodes[(Number(leader.slice(1)) + 1) % 3]
    const edge = await edgeNode(running, away.url, 'GAP', 'sim-61')
    const rec = await record(running, edge.url)
    await waitFor(() => caughtUp(ingest, edge) && [...rec.bySymbol.values()].some((e) => e.length > 20), 15_000, 'the edge following the stream')
    expect(breaks(rec)).toEqual([])

    await away.kill()
    await waitFor(() => !edge.source!.stats.connected, 5000, 'the edge cut off')
    await new Promise((r) => setTimeout(r, 4000)) // the stream goes on; what it held when the edge left expires
    await away.start()
    await waitFor(() => edge.source!.stats.gaps > 0 && caughtUp(ingest, edge), 30_000, 'the edge back, past a gap')
    await new Promise((r) => setTimeout(r, 300))

    // every jump a client saw was announced for that symbol at the n before it, as a feed gap
    const jumps = breaks(rec)
    expect(jumps.length).toBeGreaterThan(0)
    for (const jump of jumps) {
      const [sym, from] = [jump.split(':')[0], jump.split(': ')[1].split(' → ')[0]]
      expect(Number(from), jump).toBeLessThan(Number(jump.split(' → ')[1]) - 1) // a gap, never a repeat
      expect(rec.staleReasons, jump).toContain(`${sym}:feed_gap:${from}`)
    }
    expect(edge.source!.stats.gaps).toBeGreaterThanOrEqual(jumps.length)
    expect(rec.marks.filter((m) => m.endsWith(':fresh')).length).toBeGreaterThan(0)
  }, 90_000)
})
