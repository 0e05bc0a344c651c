// The NATS cluster helper itself: three real nodes form a JetStream cluster with a meta leader, a replicated
// stream survives a node's death, and stop() frees everything.
import { connect } from 'nats'
import { afterEach, describe, expect, it } from 'vitest'
import { natsAvailable, startNatsCluster } from './nats-cluster.js'
import type { NatsCluster } from './nats-cluster.js'

let cluster: NatsCluster | null = null

/** Retries `f` while the cluster elects a leader (503: no responders yet), up to `ms`. */
async function retrying<T>(f: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try { return await f() } catch (e) {
      if (Date.now() > deadline) throw e
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
afterEach(async () => { await cluster?.stop(); cluster = null })

describe('startNatsCluster', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('starts three JetStream nodes with routes; an R3 stream keeps working with one node killed', async () => {
    cluster = await startNatsCluster()
    const nc = await connect({ servers: cluster.urls.split(',') })
    const jsm = await nc.jetstreamManager()
    await retrying(() => jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3 }))
    const js = nc.jetstream()
    await retrying(() => js.publish('t.a', new Uint8Array([1]), { msgID: 'one' }))
    await cluster.nodes[2].kill()
    expect(cluster.nodes[2].running).toBe(false)
    const ack = await retrying(() => js.publish('t.a', new Uint8Array([2]), { msgID: 'two' })) // a new leader may be elected first
    expect(ack.seq).toBe(2)
    expect((await jsm.streams.info('T')).state.messages).toBe(2)
    await nc.close()
  }, 60_000)
})
