// Owns the `saturation` scenario of the bench CLI: the team's like-for-like comparison (bench/saturation/) run from
// `npm run bench -- saturation`. Must never measure anything itself: it maps options in and headline figures out.
import { parseSaturationArgs } from '../saturation/options.js'
import { writeReadmeSection } from '../saturation/readme.js'
import { consoleSummary } from '../saturation/report.js'
import { runSaturation } from '../saturation/run.js'
import { emptyResult } from '../cli/scenario.js'
import type { RunContext, RunResult, Scenario } from '../cli/scenario.js'

/** scenario option → bench:saturation flag (the same validation and defaults) */
const FLAGS = ['subs', 'symbols-per-sub', 'steps', 'step-sec', 'rounds', 'systems', 'load-procs', 'idle-conns', 'p99-ms', 'max-rss-mib', 'tickcast-args', 'json-out'] as const
const RENAME: Record<string, string> = { 'load-procs': 'procs', 'json-out': 'out' }
const key = (s: string): string => s.replace(/[^a-z0-9]+/gi, '_')

async function run(ctx: RunContext): Promise<RunResult> {
  const o = ctx.options
  if (!ctx.target.embedded) throw new Error('saturation starts every system it compares on this machine: run it without --url')
  const argv: string[] = ['--symbols', String(o.symbols), '--max-sec', String(Math.max(5, Number(o['max-sec']) - 30))]
  for (const f of FLAGS) if (o[f] !== undefined && o[f] !== '') argv.push(`--${RENAME[f] ?? f}`, String(o[f]))
  const p = parseSaturationArgs(argv, ctx.log)
  if (!p.ok) throw new Error(p.errors.join('; '))
  const r = emptyResult()
  r.notes = []
  if ((o.rate as number) > 100) {
    // the CLI always starts its embedded tickcast; fed at --rate it takes CPU from the systems compared here
    r.notes.push(`the bench CLI's own embedded tickcast ingested --rate ${String(o.rate)} msgs/s beside this benchmark (pass --rate 1 to keep it quiet)`)
    ctx.log(r.notes[0])
  }
  const t0 = performance.now()
  const res = await runSaturation({ ...p.opts, signal: ctx.signal }, `npm run bench -- saturation ${process.argv.slice(3).join(' ')}`.trim())
  r.elapsedSec = (performance.now() - t0) / 1000
  ctx.log(consoleSummary(res))
  ctx.log(`saturation JSON: ${p.opts.out}`)
  const s = res.summary
  for (const [sys, v] of Object.entries(s.saturation)) r.values[`saturation_${key(sys)}`] = v ?? 0
  for (const x of s.ratios) if (x.ratio !== null) r.values[`ratio_vs_${key(x.baseline)}`] = x.ratio
  for (const [sys, v] of Object.entries(s.cpuAt2M)) if (v) r.values[`cpu_us_per_update_${key(sys)}`] = v.cpuUsPerUpdate
  if (s.idle.tickcast !== null) r.values.idle_bytes_tickcast = s.idle.tickcast
  if (s.idle.bareUws !== null) r.values.idle_bytes_bare_uws = s.idle.bareUws
  if (s.idle.ratio !== null) r.values.idle_ratio = s.idle.ratio
  if (s.gapFreeUpTo !== null) r.values.gap_free_up_to = s.gapFreeUpTo
  r.counts.failed = res.runs.filter((x) => x.status !== 'ok').length + res.idle.filter((x) => x.status !== 'ok').length
  const tc = res.runs.find((x) => x.system === 'tickcast' && x.status === 'ok')
  // the ramp chart: tickcast's steps (x = subscribers, the same at each step; `offered` is the step)
  if (tc) r.ramp = tc.steps.map((st) => ({ subscribers: p.opts.subs, updatesPerSec: st.updatesPerSec, p99Ms: st.p99Ms, offered: st.offered, framesPerSec: st.framesPerSec }))
  for (const t of s.targets) r.notes.push(`${t.met === true ? 'met' : t.met === false ? 'NOT met' : 'undecided'}: ${t.name}: ${t.value} (goal ${t.goal})`)
  for (const x of res.runs) if (x.status !== 'ok') r.notes.push(`${x.system} (round ${x.round + 1}) ${x.status}: ${x.error ?? ''}`)
  r.notes.push(res.completeMeans, res.clocks)
  if (o.readme === true) { writeReadmeSection(res); ctx.log('README.md: benchmark section regenerated') }
  return r
}

export const saturation: Scenario = {
  name: 'saturation',
  summary: 'tickcast vs nats-server WS (batched and not) vs a naive ws server under the same stepped, open-loop feed: saturation, CPU per update, idle memory',
  description: `The team's like-for-like comparison (issue "Never fall behind the feed"), the same as npm run bench:saturation.
Each system in turn is fed by the same simulator at fixed offered rates (--steps, open loop); saturation is the
highest rate delivered completely (no gap, no conflation, p99 ≤ --p99-ms), with each update's own age as latency.
nats-server runs twice: publishing one message per symbol per turn (tickcast's batching) and one per event. A
baseline that fails is reported as failed. Idle memory per connection (feed quiet, after GC) is compared with bare
uWebSockets.js. Runs on this machine only (no --url); pass --rate 1 so the CLI's own embedded server stays quiet.
Metrics: saturation_<system> (msgs/s offered), ratio_vs_<baseline>, cpu_us_per_update_<system> (near 2 M updates/s),
idle_bytes_tickcast, idle_bytes_bare_uws, idle_ratio, gap_free_up_to, failed. The full result (every step) is
written to --json-out.`,
  splittable: false,
  options: [
    { name: 'subs', type: 'number', default: 1000, placeholder: 'n', help: 'subscribers' },
    { name: 'symbols-per-sub', type: 'number', default: 50, placeholder: 'n', help: 'symbols each subscriber takes' },
    { name: 'steps', type: 'string', default: '2500,5000,10000,20000,40000,80000', placeholder: 'list', help: 'offered feed rates, msgs/s, ascending' },
    { name: 'step-sec', type: 'number', default: 2, placeholder: 'sec', help: 'seconds measured per step' },
    { name: 'rounds', type: 'number', default: 1, placeholder: 'n', help: 'repeat everything, alternating the order' },
    { name: 'systems', type: 'string', default: 'tickcast,nats-batched,nats,naive', placeholder: 'list', help: 'systems compared' },
    { name: 'load-procs', type: 'number', default: 2, placeholder: 'n', help: 'load-generator processes' },
    { name: 'idle-conns', type: 'number', default: 4000, placeholder: 'n', help: 'idle connections for the memory comparison (0 = skip)' },
    { name: 'p99-ms', type: 'number', default: 50, placeholder: 'ms', help: 'latency bound of a complete step' },
    { name: 'max-rss-mib', type: 'number', default: 3072, placeholder: 'MiB', help: 'stop a system whose RSS passes this' },
    { name: 'tickcast-args', type: 'string', default: '', placeholder: "'--workers 1'", help: 'extra flags for the tickcast under test' },
    { name: 'json-out', type: 'string', placeholder: 'file', help: 'the full saturation JSON (default bench/results/saturation-<time>.json)' },
    { name: 'readme', type: 'boolean', default: false, help: "regenerate README.md's benchmark section from this run" },
  ],
  run,
}
