// Bus metrics on real nodes over a real three-node JetStream cluster: the families exist from start on the side
// configured (and only there), they count what flowed, the lag gauge and /readyz agree, and the scrape lints clean.
import { afterEach, describe, expect, it } from 'vitest'
import { simulator, stopAll, tickcast } from '../../test-support/harness.js'
import type { Stoppable } from '../../test-support/harness.js'
import { natsAvailable, startNatsCluster } from '../../test-support/nats-cluster.js'
import { binaryAvailable, PROMTOOL_BIN, promtoolCheckMetrics } from '../../test-support/prometheus.js'
import { loadConfig } from '../config.js'
import { createLogger } from '../log.js'
import { startTickcast } from '../server.js'
import type { Tickcast } from '../server.js'

const running: Stoppable[] = []
afterEach(() => stopAll(running))

async function edge(urls: string, stream: string): Promise<Tickcast> {
  const cli = loadConfig(['--port', '0', '--log-level', 'silent', '--mqtt-url', 'none', '--source', urls, '--bus-stream', stream, '--stream-epoch', 'sim-41'], {})
  if (cli.kind !== 'run') throw new Error('bad config')
  const t = await startTickcast(cli.config, createLogger('silent'), { processMetrics: false })
  running.push(t)
  return t
}

async function scrape(t: Tickcast): Promise<string> { return (await fetch(t.metricsUrl)).text() }
function value(body: string, name: string): number {
  const line = body.split('\n').find((l) => l.startsWith(name + ' '))
  if (line === undefined) throw new Error(`no series ${name}`)
  return Number(line.slice(line.lastIndexOf(' ') + 1))
}
/** waitFor for a condition that needs a scrape (waitFor's predicate is synchronous) */
async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const busFamilies = (body: string): string[] => [...new Set(body.split('\n').filter((l) => l.startsWith('tickcast_bus_')).map((l) => l.split(/[{ ]/)[0]))].sort()

const PUBLISH = ['tickcast_bus_publish_acks_total', 'tickcast_bus_publish_connected', 'tickcast_bus_publish_duplicates_total', 'tickcast_bus_publish_failures_total',
  'tickcast_bus_publish_inflight_messages', 'tickcast_bus_publish_lapped_events_total', 'tickcast_bus_publish_resent_events_total', 'tickcast_bus_publishes_total']
const CONSUME = ['tickcast_bus_consume_connected', 'tickcast_bus_consume_duplicates_total', 'tickcast_bus_consume_foreign_epoch_total', 'tickcast_bus_consume_gaps_total', 'tickcast_bus_consume_lag_messages', 'tickcast_bus_consume_marker_repeats_total',
  'tickcast_bus_consume_messages_total', 'tickcast_bus_consume_seed_seconds', 'tickcast_bus_consume_seeded_messages_total', 'tickcast_bus_consume_skipped_messages_total',
  'tickcast_bus_consume_stream_sequence']
const promtool = await binaryAvailable(PROMTOOL_BIN)

describe('bus metrics', () => {
  it.skipIf(!natsAvailable() && !process.env.CI)('exist from start where configured, count hot-hot dedup and consumption, lag 0 when caught up, lint clean', async () => {
    const cluster = await startNatsCluster()
    running.push(cluster)
    const sim = await simulator(running, 1000, 41, 5)
    // two ingest nodes on the same feed session: every event is published twice, stored once
    const a = await tickcast(running, sim.port, {}, ['--bus', cluster.urls, '--bus-stream', 'M1', '--stream-epoch', 'sim-41'])
    const b = await tickcast(running, sim.port, {}, ['--bus', cluster.urls, '--bus-stream', 'M1', '--stream-epoch', 'sim-41'])
    const e = await edge(cluster.urls, 'M1')
    const first = await scrape(e)
    expect(busFamilies(first)).toEqual(CONSUME) // an edge: the consume side only, from start
    expect(value(first, 'tickcast_bus_consume_connected')).toBe(1)
    expect(busFamilies(await scrape(a))).toEqual(PUBLISH)

    await new Promise((r) => setTimeout(r, 1500))
    await sim.stop(0)
    // stored once: the stream holds published − duplicates, and the edge consumed exactly that many but the history its
    // start-up seed passed over (bus-core: an edge seeds from the last message per subject) (stale markers
    // follow the feed's end a little later, so this is waited for rather than read once)
    let ma = '', mb = '', me = '', published = 0, dups = 0
    await until(async () => {
      [ma, mb, me] = [await scrape(a), await scrape(b), await scrape(e)]
      published = value(ma, 'tickcast_bus_publishes_total') + value(mb, 'tickcast_bus_publishes_total')
      dups = value(ma, 'tickcast_bus_publish_duplicates_total') + value(mb, 'tickcast_bus_publish_duplicates_total')
      const seq = value(me, 'tickcast_bus_consume_stream_sequence')
      return value(ma, 'tickcast_bus_publish_inflight_messages') + value(mb, 'tickcast_bus_publish_inflight_messages') === 0
        && published - dups === seq && value(me, 'tickcast_bus_consume_messages_total') + value(me, 'tickcast_bus_consume_skipped_messages_total') === seq && value(me, 'tickcast_bus_consume_lag_messages') === 0
    }, 15_000, `published − duplicates = stored = consumed (last: ${published} − ${dups}, ${me.match(/tickcast_bus_consume_stream_sequence (\d+)/)?.[1]})`)
    expect(value(ma, 'tickcast_bus_publishes_total')).toBeGreaterThan(500)
    expect(dups).toBeGreaterThan(500) // the second node's copy of nearly every event
    expect(value(ma, 'tickcast_bus_publish_acks_total')).toBe(value(ma, 'tickcast_bus_publishes_total'))
    expect(value(ma, 'tickcast_bus_publish_failures_total') + value(ma, 'tickcast_bus_publish_lapped_events_total')).toBe(0)
    expect((await fetch(`http://127.0.0.1:${e.port}/readyz`)).status).toBe(200)
    if (promtool) for (const body of [ma, me]) { const lint = await promtoolCheckMetrics(body); expect(lint.output).toBe(''); expect(lint.code).toBe(0) }

    // the whole bus down: both sides say so, and the edge is not ready
    for (const n of cluster.nodes) await n.kill()
    await until(async () => value(await scrape(e), 'tickcast_bus_consume_connected') === 0 && value(await scrape(a), 'tickcast_bus_publish_connected') === 0, 10_000, 'disconnected gauges')
    expect((await fetch(`http://127.0.0.1:${e.port}/readyz`)).status).toBe(503)
  }, 90_000)

  it('a node without --bus or --source has no bus families', async () => {
    const sim = await simulator(running, 200, 42, 3)
    const t = await tickcast(running, sim.port)
    expect(busFamilies(await scrape(t))).toEqual([])
  })
})
