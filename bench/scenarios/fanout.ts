// Owns the `fanout` scenario: N subscribers × symbols each, fixed load or a subscriber ramp; delivered rate, sequence check.
// Must never count warmup traffic in the measured figures: counters are taken from a copy made when measuring starts.
import * as hdr from 'hdr-histogram-js'
import { Crowd, fetchSymbols, globalIndex, pickSymbols } from '../cli/crowd.js'
import { emptyResult, shareOf, sleep } from '../cli/scenario.js'
import type { RampStep, RunContext, RunResult, Scenario } from '../cli/scenario.js'
import { streamCounts } from '../cli/stream-client.js'

/** "100:1000:100" → [100, 200, ... 1000] */
export function parseRamp(text: string): number[] {
  const m = /^(\d+):(\d+):(\d+)$/.exec(text.trim())
  if (!m || Number(m[3]) === 0 || Number(m[1]) > Number(m[2])) throw new Error(`--ramp: expected FROM:TO:STEP subscribers (e.g. 100:1000:100), got "${text}"`)
  const out: number[] = []
  for (let n = Number(m[1]); n <= Number(m[2]); n += Number(m[3])) out.push(n)
  return out
}

function stepHistogram(total: hdr.Histogram, startB64: string): hdr.Histogram {
  const h = hdr.decodeFromCompressedBase64(hdr.encodeIntoCompressedBase64(total))
  h.subtract(hdr.decodeFromCompressedBase64(startB64))
  return h
}

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  const format = o.format === 'msgpack' ? 'msgpack' : 'json'
  if (o.format !== 'json' && o.format !== 'msgpack') throw new Error(`--format: json or msgpack, got "${String(o.format)}"`)
  const explicit = typeof o.subscribe === 'string' && o.subscribe !== '' ? o.subscribe.split(',').map((s) => s.trim()).filter(Boolean) : null
  const names = explicit ? [] : await fetchSymbols(ctx.target)
  const per = o['symbols-per-sub'] as number
  const pool = (o['symbol-pool'] as number) || names.length
  const symbolsOf = (i: number): string[] => explicit ?? pickSymbols(names, per, globalIndex(i, ctx.share), pool)
  const paused = shareOf(o.paused as number, ctx.share)
  const crowd = new Crowd(ctx.target, ctx.meter, { format, snapshot: o.snapshots !== 'off' })
  const pauseFirst = (i: number): void => { if (i < paused) crowd.clients[i]?.ws.pause() }
  const r = emptyResult()
  r.notes = [`${format} frames; ${explicit ? `every subscriber: ${explicit.join(',')}` : `${per} symbols per subscriber from ${Math.min(pool, names.length)}`}; data age = receive time − exchange time (same host: same clock)`]
  if ((o.paused as number) > 0) r.notes.push(`${String(o.paused)} subscriber(s) stop reading after connecting, to provoke slow-consumer handling`)
  const steps = typeof o.ramp === 'string' && o.ramp !== '' ? parseRamp(o.ramp) : null

  try {
    if (!steps) {
      const n = shareOf(o.subs as number, ctx.share)
      ctx.meter.label = 'connecting'
      await crowd.add(n, symbolsOf, ctx.signal, 100, (_c, i) => pauseFirst(i))
      ctx.meter.label = 'warmup'
      await sleep(ctx.warmupSec * 1000, ctx.signal)
      const base = crowd.stats.copy()
      ctx.meter.total.reset()
      ctx.meter.label = ''
      const t0 = performance.now()
      await sleep(ctx.durationSec * 1000, ctx.signal)
      r.elapsedSec = (performance.now() - t0) / 1000
      Object.assign(r.counts, streamCounts(crowd.stats, base))
      r.rates.updates = crowd.stats.updates - base.updates
      r.rates.frames = crowd.stats.frames - base.frames
      r.rates.bytes = crowd.stats.bytes - base.bytes
    } else {
      // each step: add subscribers up to its count, settle a third of a step, measure the rest
      const stepSec = (o['step-sec'] as number) || Math.max(2, ctx.durationSec / steps.length)
      const stopP99 = o['stop-p99'] as number
      const ramp: RampStep[] = []
      ctx.meter.expectedSec = stepSec * steps.length
      const base = crowd.stats.copy()
      ctx.meter.total.reset()
      const t0 = performance.now()
      for (let k = 0; k < steps.length && !ctx.signal.aborted; k++) {
        const want = shareOf(steps[k], ctx.share)
        ctx.meter.label = `ramp ${steps[k]} subs`
        await crowd.add(want - crowd.clients.length, symbolsOf, ctx.signal, 100, (_c, i) => pauseFirst(i))
        await sleep((stepSec * 1000) / 3, ctx.signal)
        const from = hdr.encodeIntoCompressedBase64(ctx.meter.total), u0 = crowd.stats.updates, s0 = performance.now()
        await sleep((stepSec * 2000) / 3, ctx.signal)
        const secs = (performance.now() - s0) / 1000
        const h = stepHistogram(ctx.meter.total, from)
        ramp.push({ subscribers: crowd.clients.length, updatesPerSec: Math.round((crowd.stats.updates - u0) / secs), p99Ms: h.totalCount ? h.getValueAtPercentile(99) / 1000 : 0 })
        ctx.meter.progress = (k + 1) / steps.length
        // saturation: latency past the budget means more subscribers only queue (checked on this process's share)
        if (stopP99 > 0 && ramp[k].p99Ms > stopP99) { r.notes.push(`ramp stopped at ${steps[k]} subscribers: p99 ${ramp[k].p99Ms} ms over --stop-p99 ${stopP99} ms`); break }
      }
      r.ramp = ramp
      r.elapsedSec = (performance.now() - t0) / 1000
      Object.assign(r.counts, streamCounts(crowd.stats, base))
      r.rates.updates = crowd.stats.updates - base.updates
      r.rates.frames = crowd.stats.frames - base.frames
      r.rates.bytes = crowd.stats.bytes - base.bytes
    }
    r.counts.subscribers = crowd.clients.length
    r.counts.connections = crowd.open()
    Object.assign(r.counts, crowd.failureCounts())
    r.histograms.latency = hdr.encodeIntoCompressedBase64(ctx.meter.total)
    return r
  } finally { crowd.closeAll() }
}

export const fanout: Scenario = {
  name: 'fanout',
  summary: 'N subscribers × symbols each (json/msgpack, lists or patterns), fixed load or a subscriber ramp; delivered updates/s, gaps, slow notices',
  description: `Connects --subs WebSocket subscribers, each subscribing --symbols-per-sub symbols drawn from the deployment's
/v1/symbols (or the same --subscribe list/patterns for all), and measures delivered updates/s, data age (p50/p99,
receive time − exchange time), a per-symbol sequence check (gaps, missing n, duplicates: what a client would have to
repair) and slow-consumer notices. --ramp FROM:TO:STEP adds subscribers step by step and charts delivered updates/s
against subscribers, stopping early when p99 passes --stop-p99 (saturation). --paused N subscribers stop reading.
Metrics: updates, frames, bytes (per second), p50/p90/p99/p999/max (ms), gaps, missing, duplicates, slow_notices,
errors, connections, failed.`,
  splittable: true,
  options: [
    { name: 'subs', type: 'number', default: 100, placeholder: 'n', help: 'subscribers (fixed load)' },
    { name: 'symbols-per-sub', type: 'number', default: 50, placeholder: 'n', help: 'symbols each subscriber takes' },
    { name: 'symbol-pool', type: 'number', default: 0, placeholder: 'n', help: 'draw them from the first n symbols of /v1/symbols (0 = all)' },
    { name: 'subscribe', type: 'string', placeholder: "'AAPL,MS*'", help: 'every subscriber subscribes this list (symbols and PREFIX* / * patterns) instead' },
    { name: 'format', type: 'string', default: 'json', placeholder: 'json|msgpack', help: 'wire format' },
    { name: 'snapshots', type: 'string', default: 'on', placeholder: 'on|off', help: 'ask for snapshots on subscribe (the sequence check starts at them)' },
    { name: 'ramp', type: 'string', placeholder: 'FROM:TO:STEP', help: 'ramp subscribers instead of --subs; steps share --duration' },
    { name: 'step-sec', type: 'number', default: 0, placeholder: 'sec', help: 'seconds per ramp step (default --duration / steps, at least 2)' },
    { name: 'stop-p99', type: 'number', default: 1000, placeholder: 'ms', help: 'end the ramp when a step p99 exceeds this (0 = never)' },
    { name: 'paused', type: 'number', default: 0, placeholder: 'n', help: 'this many subscribers stop reading (slow consumers)' },
  ],
  run,
}
