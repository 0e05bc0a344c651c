// Owns runSaturation: every system under the same stepped open-loop feed, round after round, then idle memory,
// then the summary, written to JSON whatever happened. Must never let one system's failure end the run.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname } from 'node:path'
import { loadUniverse } from '../../feeds/sim/universe.js'
import { idleMemory } from './idle-memory.js'
import type { IdleResult, SaturationOptions, SaturationResult, SystemRun } from './results.js'
import { summarize } from './summary.js'
import { runSystem } from './system-run.js'

export const CLOCKS = 'Latency is each update\'s own age: the load process\'s wall clock when the TCP read holding it returned ' +
  '(performance.timeOrigin + performance.now()) minus the event\'s exchange timestamp `t`, the simulator\'s wall clock read once per 10 ms batch; ' +
  'one host, one clock, so no synchronisation error. That read time is an upper bound on arrival: it also holds the time the load process spent ' +
  'on its other clients earlier in the same event-loop turn, so each step also gives p99 aged from the turn\'s first read and the turn\'s length.'
export const COMPLETE_MEANS = 'A step is complete when every client stayed connected and got updates, no per-symbol sequence had a gap ' +
  'or repeat, no stale marker, snapshot or slow/conflation notice arrived, delivered updates were at least the completeness ratio of ' +
  'what the clients\' symbols produced, the simulator offered at least 90 % of the asked rate, and p99 was within the limit; ' +
  'saturation is the highest complete step before the second incomplete step in a row (where a baseline stops climbing).'

/** deterministic per client index (LCG), the same for every system */
export function pickSymbols(names: readonly string[], perSub: number, seed: number): string[] {
  let x = (seed * 2654435761 + 1) >>> 0
  const chosen = new Set<string>()
  while (chosen.size < Math.min(perSub, names.length)) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; chosen.add(names[x % names.length]) }
  return Array.from(chosen)
}

function commit(): string {
  try { return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch { return 'unknown' }
}

export async function runSaturation(o: SaturationOptions, command = 'runSaturation()'): Promise<SaturationResult> {
  const t0 = Date.now(), deadline = t0 + o.maxSec * 1000
  const names = loadUniverse().slice(0, o.symbols).map((r) => r.symbol)
  const clients = Array.from({ length: o.subs }, (_, c) => pickSymbols(names, o.symbolsPerSub, c))
  const idleClients = Array.from({ length: o.idleConns }, (_, c) => pickSymbols(names, o.symbolsPerSub, c))
  const runs: SystemRun[] = [], idle: IdleResult[] = []
  const { log, signal, ...plain } = o
  const res: SaturationResult = {
    schema: 'tickcast-saturation/1', date: new Date().toISOString(), command,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version,
      platform: `${os.platform()} ${os.release()}`, loadAvgStart: os.loadavg(), loadAvgEnd: [], commit: commit() },
    clocks: CLOCKS, completeMeans: COMPLETE_MEANS, options: plain, runs, idle,
    summary: summarize([], [], o), wallSec: 0,
  }
  try {
    for (let round = 0; round < o.rounds; round++) {
      // alternate the order, so warm caches and the machine's drift do not favour whoever runs first
      const order = round % 2 === 0 ? o.systems : [...o.systems].reverse()
      log(`round ${round + 1} of ${o.rounds}`)
      for (const sys of order) {
        if (Date.now() > deadline || signal?.aborted) { runs.push(skipped(sys, round, o)); continue }
        runs.push(await runSystem(sys, round, o, names, clients, deadline))
        const last = runs[runs.length - 1]
        if (last.status !== 'ok') log(`  ${sys.padEnd(12)} FAILED: ${last.error}`)
      }
      if (o.idleConns > 0) {
        for (const sys of ['tickcast', 'bare-uws'] as const) {
          if (Date.now() > deadline || signal?.aborted) { idle.push({ system: sys, round, status: 'failed', error: 'time bound reached', conns: o.idleConns, connected: 0, rssMiB: [], bytesPerConn: 0, bytesPerConnSubscribed: 0, firstWaveBytesPerConn: 0 }); continue }
          idle.push(await idleMemory(sys, round, o, names, idleClients))
        }
      }
    }
  } finally {
    res.summary = summarize(runs, idle, o)
    res.machine.loadAvgEnd = os.loadavg()
    res.wallSec = Math.round((Date.now() - t0) / 100) / 10
    mkdirSync(dirname(o.out), { recursive: true })
    writeFileSync(o.out, JSON.stringify(res, null, 2) + '\n')
  }
  return res
}

function skipped(system: SystemRun['system'], round: number, o: SaturationOptions): SystemRun {
  return { system, round, status: 'skipped', error: o.signal?.aborted ? 'not reached: the run was stopped' : `not reached within --max-sec ${o.maxSec}`, subs: o.subs, connected: 0, steps: [], saturation: null, saturationCapped: false, gapFreeUpTo: null, firstGapAt: null, wallSec: 0 }
}
