// Owns the `connect` scenario: a connection storm; connects/s, connect time, time to first snapshot, failures by reason.
// Must never retry a refused connection: a refusal is the measurement (429 over a per-address cap, 503 over the global one).
import * as hdr from 'hdr-histogram-js'
import { Crowd, fetchSymbols, globalIndex, pickSymbols } from '../cli/crowd.js'
import { emptyResult, shareOf, sleep } from '../cli/scenario.js'
import type { RunContext, RunResult, Scenario } from '../cli/scenario.js'
import { streamCounts } from '../cli/stream-client.js'

const hist = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  const names = await fetchSymbols(ctx.target)
  const firstSnap = hist()
  const crowd = new Crowd(ctx.target, ctx.meter, { format: 'json', snapshot: true, onFirstSnapshot: (ms) => firstSnap.recordValue(Math.max(1, Math.round(ms * 1000))) })
  const n = shareOf(o.conns as number, ctx.share)
  const per = o['symbols-per-sub'] as number
  const r = emptyResult()
  r.notes = [`${String(o.conns)} connections, ${String(o.concurrency)} at a time per generator process; each subscribes ${per} symbols with snapshots`,
    'latency = TCP connect + WebSocket upgrade (+ auth reply); first_snapshot = connect start → first snapshot event']
  try {
    const t0 = performance.now()
    ctx.meter.label = 'storm'
    const tick = setInterval(() => { ctx.meter.progress = n > 0 ? (crowd.clients.length + (crowd.failureCounts().failed ?? 0)) / n : 1 }, 250)
    try {
      await crowd.add(n, (i) => pickSymbols(names, per, globalIndex(i, ctx.share)), ctx.signal, shareOf(o.concurrency as number, ctx.share) || 1,
        (c) => ctx.meter.record(c.connectMs * 1000))
    } finally { clearInterval(tick) }
    r.elapsedSec = (performance.now() - t0) / 1000
    // the snapshots of the last connections still arrive: wait for them, bounded
    ctx.meter.label = 'snapshots'
    const until = performance.now() + (o['snapshot-wait-sec'] as number) * 1000
    while (firstSnap.totalCount < crowd.clients.length && performance.now() < until && !ctx.signal.aborted) await sleep(100, ctx.signal)
    Object.assign(r.counts, streamCounts(crowd.stats), crowd.failureCounts())
    r.counts.connections = crowd.open()
    r.counts.without_snapshot = crowd.clients.length - firstSnap.totalCount
    r.rates.connects = crowd.clients.length
    r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    if (firstSnap.totalCount > 0) r.histograms.first_snapshot = hdr.encodeIntoCompressedBase64(firstSnap)
    ctx.meter.progress = 1
    return r
  } finally { crowd.closeAll() }
}

export const connect: Scenario = {
  name: 'connect',
  summary: 'connection storm: connects/s, connect time, time to first snapshot, failures by reason',
  description: `Opens --conns WebSocket connections, --concurrency at a time, each subscribing --symbols-per-sub symbols
with snapshots, and measures connects per second over the storm, connect time (p50..max: TCP + upgrade + auth),
time to the first snapshot (first_snapshot_p50..), and refusals by reason (failed_http_429: over the per-address
cap or upgrade rate, failed_http_503: over the global cap, failed_econnrefused, failed_timeout...).
--duration is not used: the storm lasts as long as it takes.`,
  splittable: true,
  options: [
    { name: 'conns', type: 'number', default: 500, placeholder: 'n', help: 'connections to open' },
    { name: 'concurrency', type: 'number', default: 50, placeholder: 'n', help: 'connects in flight at once' },
    { name: 'symbols-per-sub', type: 'number', default: 5, placeholder: 'n', help: 'symbols each connection subscribes' },
    { name: 'snapshot-wait-sec', type: 'number', default: 10, placeholder: 'sec', help: 'after the storm, wait at most this long for the last snapshots' },
  ],
  run,
}
