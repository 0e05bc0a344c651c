// When the bus comes back, an edge returns each symbol to what the stream last said of it: a symbol its ingest node
// holds stale (its feed ended) stays stale; only those the outage alone made stale turn fresh.
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator } from '../../feeds/sim/simulator.js'
import { caughtUp, edgeNode, record } from '../../test-support/bus-rig.js'
import { stopAll } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { readNativeFeed } from '../../test-support/native-market.js'
import { waitFor } from '../../test-support/wait-for.js'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { STALE_FEED_DOWN } from '../model/staleness.js'
import { startTickcast } from '../server.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

describe('an edge after a bus outage', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('turns fresh only the symbols the outage made stale, not those upstream holds stale', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    // two feeds of one universe: feed b claims two symbols, feed a has the rest
    const [simA, simB] = await Promise.all([1, 2].map((seed) => startSimulator({ port: 0, symbols: 6, rate: 600, seed, directoryEverySec: 0 })))
    running.push({ stop: () => simA.stop(0) }, { stop: () => simB.stop(0) })
    const ref = readNativeFeed(simA.port)
    running.push(ref)
    await waitFor(() => ref.market.names.size === 6, 5000, 'the directory')
    const names = [...ref.market.names.values()], ofB = names.slice(0, 2), ofA = names.slice(2)
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none',
      '--feed', `a=native:tcp://127.0.0.1:${simA.port}`, '--feed', `b=native:tcp://127.0.0.1:${simB.port}?symbols=${ofB.join(',')}`,
      '--bus', cluster.urls, '--bus-stream', 'OUT', '--stream-epoch', 'two-feeds'], {})
    if (cli.kind !== 'run') throw new Error('bad test config')
    const ingest = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
    running.push(ingest)
    const edge = await edgeNode(running, cluster.urls, 'OUT', 'two-feeds')
    const rec = await record(running, edge.url)
    await waitFor(() => ingest.symbols.size === 6 && caughtUp(ingest, edge), 15_000, 'the edge following the stream')

    await simB.stop(0) // feed b ends: the ingest node marks its symbols feed_down, and the edge passes that on
    const downOnEdge = (): boolean => ofB.every((s) => edge.lvc.upstreamStale[edge.symbols.idOf(s)] === STALE_FEED_DOWN)
    await waitFor(downOnEdge, 30_000, 'feed b\'s symbols stale on the edge')
    expect(ofA.every((s) => edge.lvc.upstreamStale[edge.symbols.idOf(s)] === 0)).toBe(true)

    for (const n of cluster.nodes) await n.kill()
    await waitFor(() => !edge.source!.stats.connected, 5000, 'the edge cut off')
    const from = rec.marks.length
    await new Promise((r) => setTimeout(r, 1000))
    await Promise.all(cluster.nodes.map((n) => n.start()))
    await cluster.metaLeader()
    await waitFor(() => ofA.every((s) => rec.marks.slice(from).includes(`${s}:fresh`)), 30_000, 'feed a\'s symbols fresh again on the edge')
    await new Promise((r) => setTimeout(r, 300))
    const after = rec.marks.slice(from)
    for (const s of ofB) expect(after, s).not.toContain(`${s}:fresh`)
    expect(downOnEdge()).toBe(true)
  }, 90_000)
})
