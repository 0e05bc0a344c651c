// Ingest nodes publishing to a real three-node NATS JetStream cluster: two hot-hot nodes on the same feed store one
// copy of every event (message-id de-duplication), per symbol n = 1..N in order, equal to what a client receives.
import { connect } from 'nats'
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { feedEnded } from '../../test-support/bus-rig.js'
import { natsAvailable, startNatsCluster, TEST_JSM } from '../../test-support/nats-cluster.js'
import { waitFor } from '../../test-support/wait-for.js'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { startTickcast } from '../server.js'
import { BUS_RECORD_BYTES, newRecord, readRecord } from './bus-codec.js'
import { KIND_FRESH, KIND_STALE, KIND_SYMBOL } from '../ring/ring-buffer.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))
const NEEDS_NATS = !natsAvailable() && !process.env.CI

/** Every message of the stream, in stream order: per symbol, the data events' n. */
async function streamContents(urls: string, stream: string): Promise<{ bySymbol: Map<string, number[]>; total: number; markers: number }> {
  const nc = await connect({ servers: urls.split(',') })
  const jsm = await nc.jetstreamManager(TEST_JSM), info = await jsm.streams.info(stream)
  const bySymbol = new Map<string, number[]>(), rec = newRecord()
  let total = 0, markers = 0
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) { // direct reads (allow_direct), in stream order
    const m = await jsm.streams.getMessage(stream, { seq })
    total++
    expect(m.data.length).toBe(BUS_RECORD_BYTES)
    readRecord(m.data, 0, rec)
    const sym = m.subject.split('.').slice(3).join('.')
    if (rec.kind === KIND_STALE || rec.kind === KIND_FRESH) markers++
    else if (rec.kind !== KIND_SYMBOL) {
      const list = bySymbol.get(sym) ?? []
      list.push(rec.n); bySymbol.set(sym, list)
    }
  }
  await nc.close()
  return { bySymbol, total, markers }
}

describe('ingest nodes publish to the bus', () => {
  it.skipIf(NEEDS_NATS)('hot-hot: two ingest nodes on one feed store one copy of each event; per symbol n is 1..N, as clients see it', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 1500, 21, 6)
    const flags = ['--bus', cluster.urls, '--bus-stream', 'HH', '--stream-epoch', 'sim-21']
    const a = await tickcast(running, sim.port, {}, flags), b = await tickcast(running, sim.port, {}, flags)
    await new Promise((r) => setTimeout(r, 1500))
    await sim.stop(0)
    // the feed's end makes each node mark its symbols feed_down: wait for those markers (on a loaded machine they came
    // after the publishers had settled and were counted in the ring but not yet in the stream)
    const allDown = (t: typeof a): boolean => t.symbols.size === 6 && feedEnded(t)
    await waitFor(() => allDown(a) && allDown(b), 30_000, 'both nodes marked the ended feed down')
    const settled = (): boolean => a.bus!.stats.inFlight === 0 && b.bus!.stats.inFlight === 0 && a.bus!.stats.published + a.bus!.stats.resumeSkipped === a.ring.cursor + 1
    await waitFor(settled, 30_000, 'both publishers caught up and acknowledged')
    expect(a.bus!.stats.failures + b.bus!.stats.failures).toBe(0)
    const { bySymbol, total, markers } = await streamContents(cluster.urls, 'HH')
    let aMarkers = 0
    for (let seq = 0; seq <= a.ring.cursor; seq++) { const k = a.ring.kind[seq & a.ring.mask]; if (k === KIND_STALE || k === KIND_FRESH) aMarkers++ }
    // one copy of every data and symbol event, though both nodes published all of them; markers name when they were
    // made, so each node's own are stored (at least a's)
    expect(total - markers).toBe(a.ring.cursor + 1 - aMarkers)
    expect(markers).toBeGreaterThanOrEqual(aMarkers)
    // every data and symbol event was stored once and either sent again by the other node (a duplicate) or, by a node
    // that started after the stream held it, skipped
    expect(a.bus!.stats.duplicates + b.bus!.stats.duplicates + a.bus!.stats.resumeSkipped + b.bus!.stats.resumeSkipped).toBeGreaterThanOrEqual(total - markers)
    expect(bySymbol.size).toBe(6)
    for (const [sym, ns] of bySymbol) {
      ns.forEach((n, k) => expect(n, `${sym} #${k}`).toBe(k + 1))
      expect(ns.length, sym).toBe(a.lvc.seq[a.symbols.idOf(sym)])
      expect(ns.length, sym).toBe(b.lvc.seq[b.symbols.idOf(sym)])
    }
  }, 90_000)

  it.skipIf(NEEDS_NATS)('a restarting node skips what the stream holds of its own epoch only, refuses a numbering that differs from it; a new epoch publishes everything', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 1000, 22, 4)
    const flags = (epoch: string): string[] => ['--bus', cluster.urls, '--bus-stream', 'EP', '--stream-epoch', epoch]
    const first = await tickcast(running, sim.port, {}, flags('day-1'))
    await waitFor(() => first.bus!.stats.acked >= 300, 15_000, '300 events stored')
    await first.stop()
    const again = await tickcast(running, sim.port, {}, flags('day-1')) // the same session: it replays it, skipping
    expect(again.bus!.stats.resumeSymbols).toBe(4)
    await waitFor(() => again.bus!.stats.resumeSkipped >= 300, 15_000, 'the stored events skipped')
    await again.stop()
    // the same epoch over another market (as a node whose feed replay began mid-session would number it): its event
    // of a symbol's stored n differs from the stream's record, so it publishes nothing
    const other = await simulator(running, 1000, 23, 4)
    const wrong = await tickcast(running, other.port, {}, flags('day-1'))
    await waitFor(() => wrong.bus!.stats.resumeMismatch === 1, 15_000, 'BUS_SEQ_MISMATCH')
    await new Promise((r) => setTimeout(r, 300))
    expect(wrong.bus!.stats.published).toBe(0)
    await wrong.stop()
    // same stream, same feed replay, another epoch (as after a feed session change): its n 1.. are new events
    const next = await tickcast(running, sim.port, {}, flags('day-2'))
    expect(next.bus!.stats.resumeSymbols).toBe(0)
    await waitFor(() => next.bus!.stats.acked >= 300, 15_000, '300 events of the new epoch stored')
    expect(next.bus!.stats.resumeSkipped).toBe(0)
    expect(next.bus!.stats.duplicates).toBe(0)
  }, 60_000)

  it.skipIf(NEEDS_NATS)('refuses to boot against an existing stream with other settings (BUS_STREAM_MISMATCH)', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const nc = await connect({ servers: cluster.urls.split(',') })
    await (await nc.jetstreamManager(TEST_JSM)).streams.add({ name: 'MM', subjects: ['md.v1.>'], num_replicas: 1 })
    await nc.close()
    const sim = await simulator(running, 100, 1, 2)
    const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--feed', `sim=native:tcp://127.0.0.1:${sim.port}`,
      '--bus', cluster.urls, '--bus-stream', 'MM'], {})
    if (cli.kind !== 'run') throw new Error('bad config')
    await expect(startTickcast(cli.config, createLogger('silent'), { processMetrics: false })).rejects.toThrow(/BUS_STREAM_MISMATCH: .*num_replicas is 1, configured 3/)
  }, 60_000)
})
