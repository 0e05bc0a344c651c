// Owns the `snapshot` scenario: HTTP load on /v1/snapshot/{SYMBOL} and /v1/symbols through autocannon.
// Must never count a refused request as served: statuses are counted by code, requests counts 2xx only.
import type autocannonFn from 'autocannon'
import * as hdr from 'hdr-histogram-js'
import { fetchSymbols } from '../cli/crowd.js'
import { emptyResult, shareOf } from '../cli/scenario.js'
import type { Meter, RunContext, RunResult, Scenario } from '../cli/scenario.js'

interface Tally { ok: number; bytes: number; statuses: Record<string, number>; errors: number }

/** One autocannon run of `sec` seconds; every response goes into the meter (µs) and the tally. */
function blast(autocannon: typeof autocannonFn, url: string, ctx: RunContext, paths: string[], sec: number, tally: Tally | null, meter: Meter | null): Promise<number> {
  const o = ctx.options
  const inst = autocannon({
    url, connections: Math.max(1, shareOf(o.connections as number, ctx.share)), pipelining: o.pipelining as number, duration: sec, timeout: 10,
    headers: ctx.target.credential ? { authorization: `Bearer ${ctx.target.credential}` } : {},
    requests: paths.map((path) => ({ method: 'GET', path })),
  })
  inst.on('response', (_c: unknown, status: number, bytes: number, ms: number) => {
    if (meter) { meter.record(ms * 1000); if (status >= 200 && status < 300) meter.updates++; else meter.errors++ }
    if (tally) { if (status >= 200 && status < 300) tally.ok++; tally.bytes += bytes; tally.statuses[status] = (tally.statuses[status] ?? 0) + 1 }
  })
  inst.on('reqError', () => { if (tally) tally.errors++; if (meter) meter.errors++ })
  const onAbort = (): void => inst.stop()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  const t0 = performance.now()
  return Promise.resolve(inst).then(() => { ctx.signal.removeEventListener('abort', onAbort); return (performance.now() - t0) / 1000 })
}

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  const { default: autocannon } = await import('autocannon') // loaded when used: start-up and --help stay fast
  const names = (await fetchSymbols(ctx.target)).slice(0, Math.max(1, o['symbol-count'] as number))
  const mix = o.paths as string
  if (!['snapshot', 'symbols', 'both'].includes(mix)) throw new Error(`--paths: snapshot, symbols or both, got "${mix}"`)
  const snaps = names.map((s) => `/v1/snapshot/${encodeURIComponent(s)}`)
  // both: one /v1/symbols per --symbols-every snapshot requests (a client lists the universe far less often than it polls)
  const every = Math.max(1, o['symbols-every'] as number)
  const paths = mix === 'symbols' ? ['/v1/symbols'] : mix === 'snapshot' ? snaps : snaps.flatMap((p, i) => ((i + 1) % every === 0 ? [p, '/v1/symbols'] : [p]))
  if (mix === 'both' && !paths.includes('/v1/symbols')) paths.push('/v1/symbols')
  if (ctx.warmupSec > 0) await blast(autocannon, ctx.target.http, ctx, paths, ctx.warmupSec, null, ctx.meter)
  ctx.meter.total.reset()
  const tally: Tally = { ok: 0, bytes: 0, statuses: {}, errors: 0 }
  const r = emptyResult()
  r.elapsedSec = await blast(autocannon, ctx.target.http, ctx, paths, ctx.durationSec, tally, ctx.meter)
  r.rates.requests = tally.ok
  r.rates.bytes = tally.bytes
  r.counts.errors = tally.errors
  r.counts.non2xx = Object.entries(tally.statuses).filter(([s]) => !s.startsWith('2')).reduce((a, [, v]) => a + v, 0)
  for (const [s, v] of Object.entries(tally.statuses)) r.counts[`status_${s}`] = v
  r.counts.connections = shareOf(o.connections as number, ctx.share)
  r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
  r.notes = [`autocannon: ${String(o.connections)} connections, pipelining ${String(o.pipelining)}, paths: ${mix} over ${names.length} symbols${mix === 'both' ? `, /v1/symbols once per ${every}` : ''}`,
    'latency = response time per request (ms); requests = 2xx responses per second']
  return r
}

export const snapshot: Scenario = {
  name: 'snapshot',
  summary: 'HTTP load on /v1/snapshot/{SYMBOL} and /v1/symbols (autocannon); requests/s, latency, statuses',
  description: `Drives the REST side with autocannon: --connections keep-alive connections (split over --procs), each
cycling through /v1/snapshot/{SYMBOL} for the first --symbol-count symbols of /v1/symbols (--paths snapshot),
/v1/symbols alone (--paths symbols) or both mixed. The credential goes in Authorization: Bearer.
Metrics: requests (2xx per second), bytes (per second), p50..max (response time, ms), non2xx, status_NNN, errors.`,
  splittable: true,
  options: [
    { name: 'connections', type: 'number', default: 50, placeholder: 'n', help: 'HTTP connections' },
    { name: 'pipelining', type: 'number', default: 1, placeholder: 'n', help: 'requests in flight per connection (the server closes past 32 per loop turn)' },
    { name: 'paths', type: 'string', default: 'both', placeholder: 'snapshot|symbols|both', help: 'what to request' },
    { name: 'symbol-count', type: 'number', default: 100, placeholder: 'n', help: 'snapshot symbols to cycle through' },
    { name: 'symbols-every', type: 'number', default: 50, placeholder: 'n', help: 'with both: one /v1/symbols per n snapshot requests' },
  ],
  run,
}
