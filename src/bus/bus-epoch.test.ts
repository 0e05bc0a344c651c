// A stream that outlives a feed session: the next session's events (another --stream-epoch, n from 1 again) are
// refused by an edge of the old epoch, counted and reported (/readyz 503, BUS_EPOCH_MISMATCH), never mixed in.
import { afterEach, describe, expect, it } from 'vitest'
import { breaks, caughtUp, edgeNode, ingestNode, record } from '../../test-support/bus-rig.js'
import { simulator, stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('an edge and a new feed session on the same stream', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('refuses the other epoch\'s events, says so on /readyz, and sends its clients no repeat', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const day1 = await simulator(running, 400, 71, 4)
    const ingest1 = await ingestNode(running, day1.port, cluster.urls, 'EPOCH', 'day1')
    const edge = await edgeNode(running, cluster.urls, 'EPOCH', 'day1')
    const rec = await record(running, edge.url)
    await waitFor(() => caughtUp(ingest1, edge) && [...rec.bySymbol.values()].some((e) => e.length > 20), 15_000, 'the edge following day 1')
    expect((await fetch(`http://127.0.0.1:${edge.port}/readyz`)).status).toBe(200)
    await ingest1.stop()
    await day1.stop(0)

    // the next session: a new feed (n from 1 again) published under a new epoch onto the same stream
    const day2 = await simulator(running, 400, 71, 4)
    await ingestNode(running, day2.port, cluster.urls, 'EPOCH', 'day2')
    await waitFor(() => edge.source!.stats.foreignEpoch > 0, 15_000, 'the edge meeting day 2\'s events')
    const r = await fetch(`http://127.0.0.1:${edge.port}/readyz`)
    expect(r.status).toBe(503)
    expect(await r.text()).toMatch(/BUS_EPOCH_MISMATCH/)
    await new Promise((res) => setTimeout(res, 500))
    expect(breaks(rec).filter((b) => { const [from, to] = b.split(': ')[1].split(' → ').map(Number); return to <= from })).toEqual([])
  }, 90_000)
})
