// Owns the `latency` scenario: data age of every update (HDR histogram) and ping round trips, at a light load.
// Must never present cross-host data age as exact: it needs synchronized clocks, and every report says so.
import * as hdr from 'hdr-histogram-js'
import { Crowd, fetchSymbols, globalIndex, pickSymbols } from '../cli/crowd.js'
import { meanAgeMs, scrape } from '../cli/scrape.js'
import { emptyResult, shareOf, sleep } from '../cli/scenario.js'
import type { RunContext, RunResult, Scenario } from '../cli/scenario.js'
import { streamCounts } from '../cli/stream-client.js'

const hist = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  const names = await fetchSymbols(ctx.target)
  const ping = hist()
  let measuring = false
  const format = o.format === 'msgpack' ? 'msgpack' : 'json'
  const crowd = new Crowd(ctx.target, ctx.meter, { format, snapshot: true, everyUpdate: true, onPong: (us) => { if (measuring) ping.recordValue(Math.max(1, Math.round(us))) } })
  const r = emptyResult()
  const remote = !ctx.target.embedded
  r.notes = [
    'data age = this machine\'s receive time − the event\'s exchange timestamp (t, set by the feed).',
    remote
      ? 'The server is on another host: data age includes the clock offset between the feed source and this machine. It is only meaningful with synchronized clocks (PTP, or NTP to well under the latencies measured); ping round trips need no clock sync.'
      : 'Embedded: the simulator, server and this client share one clock.',
    'server_publish_age_mean is the server\'s own feed-receive → publish age (tickcast_ws_data_age_seconds on /metrics), when /metrics is reachable.',
  ]
  const n = shareOf(o.subs as number, ctx.share)
  const per = o['symbols-per-sub'] as number
  let timer: NodeJS.Timeout | undefined
  try {
    await crowd.add(n, (i) => pickSymbols(names, per, globalIndex(i, ctx.share)), ctx.signal)
    const pingMs = o['ping-ms'] as number
    if (pingMs > 0) timer = setInterval(() => { for (const c of crowd.clients) c.ping() }, pingMs)
    await sleep(ctx.warmupSec * 1000, ctx.signal)
    const base = crowd.stats.copy()
    const s0 = await scrape(ctx.target)
    ctx.meter.total.reset(); measuring = true
    const t0 = performance.now()
    await sleep(ctx.durationSec * 1000, ctx.signal)
    r.elapsedSec = (performance.now() - t0) / 1000
    measuring = false
    const s1 = await scrape(ctx.target)
    Object.assign(r.counts, streamCounts(crowd.stats, base), crowd.failureCounts())
    r.counts.connections = crowd.open()
    r.rates.updates = crowd.stats.updates - base.updates
    r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    if (ping.totalCount > 0) r.histograms.ping = hdr.encodeIntoCompressedBase64(ping)
    const age = meanAgeMs(s0, s1)
    if (age !== null) r.values.server_publish_age_mean = age
    return r
  } finally { clearInterval(timer); crowd.closeAll() }
}

export const latency: Scenario = {
  name: 'latency',
  summary: 'data age of every update (HDR histogram) and ping round trips at a light load; cross-host needs synchronized clocks',
  description: `Connects a few subscribers (--subs) and records, for every update, its data age: receive time on this machine
minus the event's exchange timestamp. Across hosts that difference includes the clocks' offset: it is only
meaningful when the feed source and this machine are synchronized (PTP, or NTP well under the latencies you
measure). Each client also sends {"op":"ping"} every --ping-ms; the round trips (ping_p50, ping_p99...) need no
clock sync. The server's own receive → publish age is read from /metrics (server_publish_age_mean).
Metrics: p50/p90/p99/p999/max/mean (data age, ms), ping_p50..ping_max (ms), updates (per second), gaps, errors.`,
  splittable: true,
  options: [
    { name: 'subs', type: 'number', default: 10, placeholder: 'n', help: 'subscribers' },
    { name: 'symbols-per-sub', type: 'number', default: 20, placeholder: 'n', help: 'symbols each' },
    { name: 'format', type: 'string', default: 'json', placeholder: 'json|msgpack', help: 'wire format' },
    { name: 'ping-ms', type: 'number', default: 100, placeholder: 'ms', help: 'ping interval per client (0 = no pings)' },
  ],
  run,
}
