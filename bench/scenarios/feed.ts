// Owns the `feed` scenario: serve the simulator as the deployment's feed at a chosen rate, measure what comes out end to end.
// Must never bind the feed anywhere but where it is told (127.0.0.1 by default), nor run past --duration.
import * as hdr from 'hdr-histogram-js'
import { startSimulator } from '../../feeds/sim/simulator.js'
import type { RunningSimulator } from '../../feeds/sim/simulator.js'
import { Crowd } from '../cli/crowd.js'
import { scrape } from '../cli/scrape.js'
import { emptyResult, sleep } from '../cli/scenario.js'
import type { RunContext, RunResult, Scenario } from '../cli/scenario.js'
import { streamCounts } from '../cli/stream-client.js'

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  const rate = o.rate as number
  let sim: RunningSimulator | null = null
  const r = emptyResult()
  const crowd = new Crowd(ctx.target, ctx.meter, { format: 'json', snapshot: false })
  try {
    if (!ctx.target.embedded) {
      // the deployment connects to us: its --feed names this host and port
      sim = await startSimulator({ host: String(o['feed-host']), port: o['feed-port'] as number, rate, symbols: o.symbols as number })
      ctx.log(`feed: simulator on tcp://${String(o['feed-host'])}:${sim.port} at ${rate} msgs/s; start the deployment with --feed sim=native:tcp://<this host>:${sim.port}`)
      ctx.meter.label = 'waiting for the feed login'
      const until = performance.now() + (o['wait-sec'] as number) * 1000
      while (sim.server.loggedInCount === 0 && performance.now() < until && !ctx.signal.aborted) await sleep(200, ctx.signal)
      if (sim.server.loggedInCount === 0) throw new Error(`no SoupBinTCP login on port ${sim.port} within ${String(o['wait-sec'])} s: is the deployment's --feed pointed here?`)
    }
    const subscribe = String(o.subscribe).split(',').map((s) => s.trim()).filter(Boolean)
    await crowd.add(o.subs as number, () => subscribe, ctx.signal)
    ctx.meter.label = 'warmup'
    await sleep(ctx.warmupSec * 1000, ctx.signal)
    const base = crowd.stats.copy()
    const s0 = await scrape(ctx.target)
    const seq0 = sim ? sim.server.nextSeq : 0
    ctx.meter.total.reset(); ctx.meter.label = `feed ${rate || 'max'} msgs/s`
    const t0 = performance.now()
    await sleep(ctx.durationSec * 1000, ctx.signal)
    r.elapsedSec = (performance.now() - t0) / 1000
    const s1 = await scrape(ctx.target)
    Object.assign(r.counts, streamCounts(crowd.stats, base), crowd.failureCounts())
    r.counts.connections = crowd.open()
    r.rates.updates = (crowd.stats.updates - base.updates) / Math.max(1, crowd.clients.length) // per subscriber: what one client of '*' sees
    if (sim) r.rates.offered = sim.server.nextSeq - seq0
    if (s0?.feedMessages != null && s1?.feedMessages != null) r.rates.ingested = s1.feedMessages - s0.feedMessages
    r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    r.notes = [
      `feed ${rate === 0 ? 'as fast as the simulator can' : `${rate} msgs/s`} (${ctx.target.embedded ? 'the embedded simulator' : `served by this command on port ${String(o['feed-port'])}`}); ${String(o.subs)} subscriber(s) of ${subscribe.join(',')}`,
      'offered = SoupBinTCP messages sent by the simulator (remote mode), ingested = tickcast_feed_messages_total, updates = data events one subscriber received; all per second',
    ]
    if (r.rates.ingested === undefined) r.notes.push('/metrics not reachable: no ingested figure')
    return r
  } finally {
    crowd.closeAll()
    await sim?.stop(500)
  }
}

export const feed: Scenario = {
  name: 'feed',
  summary: "serves the simulator as the deployment's feed at --rate and measures offered → ingested → delivered end to end",
  description: `Loads a server from its feed side. With --url, this command serves the tickcast native feed (SoupBinTCP,
the simulator) on --feed-host:--feed-port at --rate messages/s over --symbols symbols; start the deployment with
--feed sim=native:tcp://<this host>:<port> and it waits (--wait-sec) for its login. Without --url, the embedded
server is already fed by a simulator at --rate. Then --subs subscribers of --subscribe (default every symbol)
measure what comes out: offered (simulator messages/s), ingested (the server's tickcast_feed_messages_total/s),
updates (data events/s one subscriber receives), data age p50..max and sequence gaps.`,
  splittable: false,
  options: [
    { name: 'feed-host', type: 'string', default: '127.0.0.1', placeholder: 'addr', help: 'remote mode: address the simulator listens on' },
    { name: 'feed-port', type: 'number', default: 7001, placeholder: 'port', help: 'remote mode: port the simulator listens on (0 = any)' },
    { name: 'wait-sec', type: 'number', default: 60, placeholder: 'sec', help: 'remote mode: wait this long for the deployment to log in' },
    { name: 'subs', type: 'number', default: 1, placeholder: 'n', help: 'subscribers measuring the output' },
    { name: 'subscribe', type: 'string', default: '*', placeholder: "'*'", help: 'what they subscribe' },
  ],
  run,
}
