// Owns the `soak` scenario: a fixed subscriber load for a long time, scraping /metrics to report drift.
// Must never hold the run's samples unbounded: one scrape point per --scrape-sec, whatever the duration.
import * as hdr from 'hdr-histogram-js'
import { Crowd, fetchSymbols, globalIndex, pickSymbols } from '../cli/crowd.js'
import { meanAgeMs, scrape } from '../cli/scrape.js'
import type { Scrape } from '../cli/scrape.js'
import { emptyResult, sleep } from '../cli/scenario.js'
import type { RunContext, RunResult, Scenario } from '../cli/scenario.js'
import { streamCounts } from '../cli/stream-client.js'

/** Mean of the first and of the last quarter of a series (at least one point each): drift = last − first. */
function ends(points: Array<[number, number]>): { first: number; last: number } | null {
  if (points.length < 2) return null
  const q = Math.max(1, Math.floor(points.length / 4))
  const mean = (xs: Array<[number, number]>): number => xs.reduce((a, p) => a + p[1], 0) / xs.length
  return { first: mean(points.slice(0, q)), last: mean(points.slice(-q)) }
}

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  const names = await fetchSymbols(ctx.target)
  const crowd = new Crowd(ctx.target, ctx.meter, { format: o.format === 'msgpack' ? 'msgpack' : 'json', snapshot: true })
  const r = emptyResult()
  const rss: Array<[number, number]> = [], loop: Array<[number, number]> = [], age: Array<[number, number]> = [], clientP99: Array<[number, number]> = []
  try {
    await crowd.add(o.subs as number, (i) => pickSymbols(names, o['symbols-per-sub'] as number, globalIndex(i, ctx.share)), ctx.signal)
    await sleep(ctx.warmupSec * 1000, ctx.signal)
    const base = crowd.stats.copy()
    ctx.meter.total.reset()
    const interval = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
    let mark = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    const t0 = performance.now()
    let prev: Scrape | null = await scrape(ctx.target)
    const every = Math.max(1, o['scrape-sec'] as number) * 1000
    while (!ctx.signal.aborted) {
      const left = ctx.durationSec * 1000 - (performance.now() - t0)
      if (left <= 0) break
      await sleep(Math.min(every, left), ctx.signal)
      const t = Math.round((performance.now() - t0) / 100) / 10
      const s = await scrape(ctx.target)
      if (s?.rssBytes != null) rss.push([t, Math.round(s.rssBytes / 2 ** 20 * 10) / 10])
      if (s?.eventLoopP99Sec != null) loop.push([t, Math.round(s.eventLoopP99Sec * 1e6) / 1000])
      const a = meanAgeMs(prev, s)
      if (a !== null) age.push([t, a])
      // the clients' data age p99 over this interval: the run's histogram since the previous mark
      interval.reset(); interval.add(ctx.meter.total); interval.subtract(hdr.decodeFromCompressedBase64(mark))
      mark = hdr.encodeIntoCompressedBase64(ctx.meter.total)
      if (interval.totalCount > 0) clientP99.push([t, interval.getValueAtPercentile(99) / 1000])
      ctx.meter.progress = Math.min((performance.now() - t0) / (ctx.durationSec * 1000), 1)
      if (s) prev = s
    }
    r.elapsedSec = (performance.now() - t0) / 1000
    Object.assign(r.counts, streamCounts(crowd.stats, base), crowd.failureCounts())
    r.counts.connections = crowd.open()
    r.rates.updates = crowd.stats.updates - base.updates
    r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    const put = (name: string, pts: Array<[number, number]>, unit: string): void => {
      const e = ends(pts)
      if (!e) return
      r.values[`${name}_start${unit}`] = Math.round(e.first * 1000) / 1000
      r.values[`${name}_end${unit}`] = Math.round(e.last * 1000) / 1000
      r.values[`${name}_drift${unit}`] = Math.round((e.last - e.first) * 1000) / 1000
    }
    put('server_rss', rss, '_mib'); put('server_eventloop_p99', loop, '_ms'); put('server_publish_age_mean', age, '_ms'); put('client_p99', clientP99, '_ms')
    r.extraSeries = [
      { name: 'server RSS', unit: 'MiB', points: rss }, { name: 'server event-loop delay p99', unit: 'ms', points: loop },
      { name: 'server publish age (mean)', unit: 'ms', points: age }, { name: 'client data age p99', unit: 'ms', points: clientP99 },
    ].filter((s) => s.points.length > 0)
    r.notes = [`${String(o.subs)} subscribers × ${String(o['symbols-per-sub'])} symbols for ${ctx.durationSec} s, /metrics every ${String(o['scrape-sec'])} s`,
      'drift = mean of the last quarter of the scrapes − mean of the first quarter (RSS in MiB, delays in ms)']
    if (rss.length === 0) r.notes.push('/metrics was not reachable: no server-side drift (give --http, and a credential if /metrics needs one)')
    return r
  } finally { crowd.closeAll() }
}

export const soak: Scenario = {
  name: 'soak',
  summary: 'hours at a fixed load, scraping /metrics: drift of server RSS, event-loop delay and data age',
  description: `Holds --subs subscribers × --symbols-per-sub symbols for --duration seconds (hours: --duration 7200) and
scrapes the deployment's /metrics every --scrape-sec: process_resident_memory_bytes, nodejs_eventloop_lag_p99_seconds
and tickcast_ws_data_age_seconds (receive → publish), plus the clients' own data age p99 per interval. Reports
each series' start, end and drift (last quarter − first quarter) and charts them over time.
Metrics: updates (per second), p50..max (ms), server_rss_drift_mib, server_eventloop_p99_drift_ms,
server_publish_age_mean_drift_ms, client_p99_drift_ms (and their _start/_end), gaps, errors.`,
  splittable: false,
  options: [
    { name: 'subs', type: 'number', default: 100, placeholder: 'n', help: 'subscribers' },
    { name: 'symbols-per-sub', type: 'number', default: 20, placeholder: 'n', help: 'symbols each' },
    { name: 'format', type: 'string', default: 'json', placeholder: 'json|msgpack', help: 'wire format' },
    { name: 'scrape-sec', type: 'number', default: 10, placeholder: 'sec', help: 'seconds between /metrics scrapes' },
  ],
  run,
}
