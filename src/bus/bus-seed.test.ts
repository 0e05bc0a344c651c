// An edge started after the stream holds a lot of history seeds its cache from the last message per subject (not the
// history), serves snapshots equal to the ingest node's, and its clients' n continue from there.
import { connect } from 'nats'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { caughtUp, edgeNode, feedEnded, ingestNode } from '../../test-support/bus-rig.js'
import { restSnapshot, simulator, stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster, TEST_JSM } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'
import { TickcastClient } from '../client/tickcast-client.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('an edge seeds from the last message per subject', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('started after lots of history: seeds a few messages, snapshots equal the ingest node\'s, n continues', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 4000, 41, 12)
    const ingest = await ingestNode(running, sim.port, cluster.urls, 'SEED', 'sim-41')
    await waitFor(() => ingest.bus!.stats.acked >= 5000, 30_000, '5,000 events stored')
    const nc = await connect({ servers: cluster.urls.split(',') })
    const jsm = await nc.jetstreamManager(TEST_JSM)
    // each symbol's first record (md.v1.sym) gone, as --bus-max-age-sec makes it go in a long session: the edge
    // learns each symbol, and the feed that owns it, from whichever of its records is left
    await jsm.streams.purge('SEED', { filter: 'md.v1.sym.>' })
    const history = (await jsm.streams.info('SEED')).state.messages
    await nc.close()

    const e = await edgeNode(running, cluster.urls, 'SEED', 'sim-41')
    const src = e.source!.stats
    // one message per subject (12 symbols × quote, trade, status) plus what arrived while it read
    expect(src.seeded).toBeGreaterThanOrEqual(12)
    expect(src.seeded, `seeded ${src.seeded} of ${history}`).toBeLessThan(history / 4)
    await waitFor(() => e.symbols.size === 12, 5000, 'the edge\'s fan-out learned the 12 seeded symbols')

    // a client on the edge right away: its snapshots are the seeded state, the live updates continue their n
    const syms = ingest.symbols.name.slice(0, 6)
    const c = new TickcastClient({ url: e.url, WebSocket, pingIntervalMs: 0 })
    running.push({ stop: async () => c.close() })
    const last = new Map<string, number>(), gaps: string[] = []
    c.on('snapshot', (s) => { last.set(s.symbol, s.n) })
    const onUpdate = (u: { symbol: string; n: number }): void => {
      const prev = last.get(u.symbol)
      if (prev === undefined || u.n !== prev + 1) gaps.push(`${u.symbol}: ${prev} → ${u.n}`)
      last.set(u.symbol, u.n)
    }
    c.on('quote', onUpdate); c.on('trade', onUpdate); c.on('status', onUpdate)
    c.subscribe(syms)
    c.connect()
    await waitFor(() => last.size === 6, 15_000, 'snapshots of 6 symbols on the edge')
    const firstN = new Map(last)
    await new Promise((r) => setTimeout(r, 500))
    await sim.stop(0)
    await waitFor(() => feedEnded(ingest) && caughtUp(ingest, e) && feedEnded(e), 20_000, 'the ingest node read the whole feed, the edge caught up with it, feed_down included')
    await waitFor(() => syms.every((s) => last.get(s) === ingest.lvc.seq[ingest.symbols.idOf(s)]), 10_000, 'the client caught up')
    expect(gaps).toEqual([])
    expect(c.stats.gaps).toBe(0)
    for (const s of syms) expect(last.get(s)!, s).toBeGreaterThan(firstN.get(s)!) // live updates came after the snapshot

    // the bus carries the feed's name (Tickcast-Feed): an edge's snapshots equal the ingest node's, feed included
    for (const s of ingest.symbols.name) {
      const here = await restSnapshot(ingest.port, s)
      expect(here, s).toMatchObject({ feed: 'sim' })
      expect(await restSnapshot(e.port, s), s).toEqual(here)
    }
    // far fewer messages than the history, even counting everything after the seed
    expect(src.consumed).toBeLessThan(history)
    expect(src.consumed + src.skipped).toBe(src.streamSeq) // every stream message either applied or passed over by the seed
  }, 60_000)
})
