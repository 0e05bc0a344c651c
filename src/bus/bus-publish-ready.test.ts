// An ingest node's /readyz says whether it can publish to the bus: 503 with the reason while the bus is unreachable or
// its publishes go unacknowledged (the stream lost its quorum), ready again once the stream acknowledges them.
import { afterEach, describe, expect, it } from 'vitest'
import { ingestNode } from '../../test-support/bus-rig.js'
import { simulator, stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

async function readyz(port: number): Promise<{ status: number; reason: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/readyz`)
  const body = await r.json() as { reason?: string }
  return { status: r.status, reason: body.reason ?? '' }
}

describe('an ingest node\'s /readyz follows its bus publisher', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('503 with the reason while the bus is down or has no quorum, 200 once publishes are acknowledged again', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 300, 71, 4)
    const ingest = await ingestNode(running, sim.port, cluster.urls, 'READY', 'sim-71')
    await waitFor(() => ingest.bus!.stats.acked > 100, 15_000, 'publishing')
    // readiness() is what /readyz answers (polled here without HTTP); each state is then checked on /readyz itself
    const ready = (): boolean => ingest.readiness().ready
    await waitFor(ready, 5000, 'ready while publishing')
    expect(await readyz(ingest.port)).toEqual({ status: 200, reason: '' })

    // the whole bus stops: nothing to publish to
    for (const n of cluster.nodes) await n.kill()
    await waitFor(() => !ready(), 5000, 'not ready without the bus')
    expect(await readyz(ingest.port)).toEqual({ status: 503, reason: 'bus unreachable' })
    await Promise.all(cluster.nodes.map((n) => n.start()))
    await cluster.metaLeader()
    const acked = ingest.bus!.stats.acked
    await waitFor(ready, 30_000, 'ready once the bus is back')
    expect((await readyz(ingest.port)).status).toBe(200)
    expect(ingest.bus!.stats.acked).toBeGreaterThan(acked) // ready because it published again, not because it reconnected

    // two of three nodes gone: the connection survives (or moves to the survivor), the replicas-3 stream cannot store
    await cluster.nodes[1].kill(); await cluster.nodes[2].kill()
    const reasons = new Set<string>()
    const failing = 'bus publishes failing (acks timing out or refused)'
    await waitFor(() => {
      const r = ingest.readiness()
      if (!r.ready) reasons.add(r.reason ?? '')
      return reasons.has(failing)
    }, 20_000, 'not ready while publishes go unacknowledged')
    const r = await readyz(ingest.port) // the connection may also be moving to the survivor just now
    expect(r.status).toBe(503)
    expect([failing, 'bus unreachable']).toContain(r.reason)
    await Promise.all([cluster.nodes[1].start(), cluster.nodes[2].start()])
    await cluster.metaLeader()
    await waitFor(ready, 30_000, 'ready once the stream has its quorum back')
    expect((await readyz(ingest.port)).status).toBe(200)
    expect(ingest.bus!.stats.failures).toBeGreaterThan(0)
  }, 120_000)
})
