// Owns one system's pass through the offered-load steps: feed, server, clients, then each step measured.
// Must never throw: a system that cannot start, accept its clients or keep up is a result (failed), not an abort.
import * as hdr from 'hdr-histogram-js'
import { cpuSec, rssBytes } from '../lib/procs.js'
import { LoadGroup } from './load-procs.js'
import type { WorkerReport } from './load-worker.js'
import type { SaturationOptions, StepResult, SystemRun } from './results.js'
import { SteppedSim } from './sim-control.js'
import { WIRE, startSystem } from './systems.js'
import type { RunningSystem, SystemName } from './systems.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const QUIET_RATE = 1
/** incomplete steps in a row that end a system's climb */
const MISSES_TO_STOP = 2
const CONFLATION_CONTROLS = ['slow', 'trades_skipped', 'nats_err']
const r2 = (x: number): number => Math.round(x * 100) / 100

export async function runSystem(name: SystemName, round: number, o: SaturationOptions, names: string[], clients: string[][], deadline: number): Promise<SystemRun> {
  const t0 = Date.now()
  const run: SystemRun = { system: name, round, status: 'ok', subs: o.subs, connected: 0, steps: [], saturation: null, saturationCapped: false, gapFreeUpTo: null, firstGapAt: null, wallSec: 0 }
  let sim: SteppedSim | null = null, sys: RunningSystem | null = null, load: LoadGroup | null = null
  try {
    // the clients connect with the feed quiet, so no system is judged on how it serves data while accepting
    sim = await SteppedSim.start(QUIET_RATE, o.symbols)
    sys = await startSystem(name, sim.port, o.tickcastArgs)
    load = new LoadGroup(o.procs, Math.max(30_000, o.stepSec * 5000))
    await load.ready()
    const c = await load.connect(WIRE[name], sys, names, clients, o.connectTimeoutMs)
    run.connected = c.connected
    if (c.connected < o.subs) {
      run.status = 'failed'
      run.error = `accepted ${c.connected} of ${o.subs} connections (${c.failed} failed${c.firstError ? `: ${c.firstError}` : ''})`
      return run
    }
    await sim.setRate(o.steps[0])
    await sleep(o.warmupSec * 1000)
    // Every system gets the same chances: saturation counts the steps up to its second incomplete step in a row (one
    // noisy step does not end it). A baseline stops there (beyond, it only piles up memory: nats-server buffers per
    // client); tickcast goes on through every step, for the feed-gap target (0 gaps up to 5× saturation).
    const throughAll = name === 'tickcast'
    let misses = 0
    for (const rate of o.steps) {
      if (Date.now() + (o.stepSec + o.settleSec) * 1000 > deadline) { run.error = `stopped at the run's time bound (--max-sec ${o.maxSec})`; break }
      if (o.signal?.aborted) { run.error = 'stopped: the run was aborted'; break }
      let s: StepResult
      try { s = await measureStep(rate, o, sim, sys, load) } catch (e) {
        // the load side failed (a starved or crashed load process): the steps so far stand, this one is not judged
        run.error = `step ${rate}/s not measured: ${(e as Error).message}`
        break
      }
      run.steps.push(s)
      o.log(stepLine(name, s))
      if (s.serverRssMiB > o.maxRssMiB) { run.error = `stopped: server RSS ${s.serverRssMiB} MiB over --max-rss-mib ${o.maxRssMiB}`; break }
      misses = s.complete ? 0 : misses + 1
      if (misses >= MISSES_TO_STOP && !throughAll) break
    }
  } catch (e) {
    run.status = 'failed'
    run.error = (e as Error).message
  } finally {
    await load?.close().catch(() => {})
    await sys?.stop().catch(() => {})
    await sim?.stop().catch(() => {})
    run.wallSec = Math.round((Date.now() - t0) / 100) / 10
  }
  derive(run, o.steps)
  return run
}

/**
 * saturation: the highest complete step before the second incomplete step in a row (the same rule that stops a
 * baseline, so tickcast's extra steps never count); gap-free: no stale marker (tickcast's in-band feed-gap notice; a
 * sequence jump under overload is conflation, announced by slow/snap notices and counted as such) from the lowest.
 */
function derive(run: SystemRun, steps: number[]): void {
  let misses = 0, best: number | null = null, k = 0
  for (; k < run.steps.length; k++) {
    const s = run.steps[k]
    if (s.complete) { best = s.target; misses = 0 } else if (++misses >= MISSES_TO_STOP) break
  }
  run.saturation = best
  run.saturationCapped = run.steps.length === steps.length && run.steps[run.steps.length - 1].complete
  let g = 0
  while (g < run.steps.length && run.steps[g].stale === 0) g++ // feed gaps: stale markers (conflation has its own notices)
  run.gapFreeUpTo = g > 0 ? run.steps[g - 1].target : null
  run.firstGapAt = g < run.steps.length ? run.steps[g].target : null
}

async function measureStep(rate: number, o: SaturationOptions, sim: SteppedSim, sys: RunningSystem, load: LoadGroup): Promise<StepResult> {
  await sim.setRate(rate)
  await sleep(o.settleSec * 1000)
  const load0 = await load.reset()
  const cpu0 = sys.pids.reduce((s, p) => s + cpuSec(p), 0)
  const n0 = await sim.count()
  await sleep(o.stepSec * 1000)
  const reps = await load.report()
  const cpu = sys.pids.reduce((s, p) => s + cpuSec(p), 0) - cpu0
  const n1 = await sim.count()
  const rss = sys.pids.reduce((s, p) => s + rssBytes(p), 0)
  return stepResult(rate, reps, cpu, rss, reps.reduce((s, r) => s + r.cpuSec, 0) - load0, (n1.messages - n0.messages) / Math.max(0.001, (n1.timeMs - n0.timeMs) / 1000), o)
}

function stepResult(target: number, reps: WorkerReport[], cpu: number, rss: number, loadCpu: number, offered: number, o: SaturationOptions): StepResult {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  const controls: Record<string, number> = {}, closeCodes: Record<string, number> = {}
  let reads = 0, turnP99 = 0, turnMax = 0
  const ht = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let updates = 0, expected = 0, frames = 0, messages = 0, bytes = 0, gaps = 0, missing = 0, dups = 0, stale = 0, snaps = 0, silent = 0, secs = 0
  for (const r of reps) {
    updates += r.updates; expected += r.expected; frames += r.frames; messages += r.messages; bytes += r.bytes
    gaps += r.gaps; missing += r.missing; dups += r.dups; stale += r.stale; snaps += r.snaps; silent += r.silent
    secs = Math.max(secs, r.elapsedMs / 1000)
    reads += r.reads; turnP99 = Math.max(turnP99, r.turnP99Ms); turnMax = Math.max(turnMax, r.turnMaxMs)
    ht.add(hdr.decodeFromCompressedBase64(r.histAtTurnStart))
    h.add(hdr.decodeFromCompressedBase64(r.hist))
    for (const [k, v] of Object.entries(r.controls)) controls[k] = (controls[k] ?? 0) + v
    for (const [k, v] of Object.entries(r.closeCodes)) closeCodes[k] = (closeCodes[k] ?? 0) + v
  }
  const ms = (p: number): number => r2(h.getValueAtPercentile(p) / 1000)
  const s: StepResult = {
    target, offered: Math.round(offered),
    updatesPerSec: Math.round(updates / secs), expectedPerSec: Math.round(expected / secs), deliveredRatio: expected > 0 ? Math.round((updates / expected) * 10000) / 10000 : 0,
    framesPerSec: Math.round(frames / secs), messagesPerSec: Math.round(messages / secs), mbPerSec: r2(bytes / secs / 2 ** 20),
    p50Ms: ms(50), p99Ms: ms(99), p999Ms: ms(99.9), maxMs: r2(h.maxValue / 1000),
    gaps, missing, dups, stale, snaps, controls, closeCodes, silent,
    serverCpuPct: Math.round((cpu / secs) * 100), cpuUsPerUpdate: updates > 0 ? Math.round((cpu / updates) * 1e6 * 1000) / 1000 : 0,
    serverRssMiB: Math.round(rss / 2 ** 20), loadCpuPct: Math.round((loadCpu / secs) * 100),
    loadCpuUsPerUpdate: updates > 0 ? Math.round((loadCpu / updates) * 1e6 * 1000) / 1000 : 0, loadReadsPerSec: Math.round(reads / secs),
    loadTurnP99Ms: r2(turnP99), loadTurnMaxMs: r2(turnMax), p99AtTurnStartMs: r2(ht.getValueAtPercentile(99) / 1000), complete: false, why: [],
  }
  const why = s.why
  if (Object.keys(closeCodes).length > 0) why.push(`connections closed ${JSON.stringify(closeCodes)}`)
  if (gaps > 0) why.push(`${gaps} sequence gaps (${missing} updates missing)`)
  if (dups > 0) why.push(`${dups} repeated or out-of-order updates`)
  if (stale > 0) why.push(`${stale} stale markers (feed gaps)`)
  const conflation = CONFLATION_CONTROLS.filter((k) => controls[k])
  if (snaps > 0 || conflation.length > 0) why.push(`conflation or loss notices: ${snaps} snapshots${conflation.map((k) => `, ${controls[k]} ${k}`).join('')}`)
  if (silent > 0) why.push(`${silent} connections received nothing`)
  if (updates === 0 || s.deliveredRatio < o.completeRatio) why.push(`delivered ${(s.deliveredRatio * 100).toFixed(1)} % of expected updates`)
  if (s.p99Ms > o.p99LimitMs) why.push(`p99 ${s.p99Ms} ms over ${o.p99LimitMs} ms`)
  if (s.offered < target * 0.9) why.push(`the simulator offered only ${s.offered}/s`)
  s.complete = why.length === 0
  return s
}

function stepLine(name: string, s: StepResult): string {
  return `  ${name.padEnd(12)} offered ${String(s.offered).padStart(7)}/s  ${(s.updatesPerSec / 1e6).toFixed(2)} M upd/s  ${(s.framesPerSec / 1e6).toFixed(2)} M frames/s  ` +
    `p99 ${s.p99Ms} ms (${s.p99AtTurnStartMs} from turn start)  CPU ${s.cpuUsPerUpdate} µs/upd  RSS ${s.serverRssMiB} MiB  load CPU ${s.loadCpuPct} % (${s.loadCpuUsPerUpdate} µs/upd, turn p99 ${s.loadTurnP99Ms} ms)  ${s.complete ? 'complete' : `INCOMPLETE: ${s.why.join('; ')}`}`
}
