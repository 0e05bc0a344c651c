// The NATS cluster helper itself: three real nodes form a JetStream cluster with a meta leader, a replicated
// stream survives a node's death, and stop() frees everything.
import { connect } from 'nats'
import { afterEach, describe, expect, it } from 'vitest'
import { natsAvailable, startNatsCluster } from './nats-cluster.js'
import type { NatsCluster } from './nats-cluster.js'

let cluster: NatsCluster | null = null
afterEach(async () => { await cluster?.stop(); cluster = null })

describe('startNatsCluster', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('starts three JetStream nodes with routes; an R3 stream keeps working with one node killed', async () => {
    cluster = await startNatsCluster()
    const nc = await connect({ servers: cluster.urls.split(',') })
    const jsm = await nc.jetstreamManager()
    await jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3 })
    const js = nc.jetstream()
    await js.publish('t.a', new Uint8Array([1]))
    await cluster.nodes[2].kill()
    expect(cluster.nodes[2].running).toBe(false)
    const ack = await js.publish('t.a', new Uint8Array([2]), { timeout: 10_000 })
    expect(ack.seq).toBe(2)
    expect((await jsm.streams.info('T')).state.messages).toBe(2)
    await nc.close()
  }, 60_000)
})
