// The hostile-client figures of issue 10: a tickcast process, a bystander subscribed to `*` checking that every
// symbol's `n` rises by exactly 1 and timing its longest stall, under each attack in turn. Prints one row per attack.
// Never asserts: `npm run bench:hostile` prints the figures the README's Security table quotes.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AttackId } from './lib/attackers.js'
import type { BystanderReport } from './lib/bystander.js'
import { cpuSec, freePort, rssBytes, spawnReady, stopAll, track } from './lib/procs.js'

const ATTACK_MS = Number(process.env.HOSTILE_ATTACK_MS ?? 3000)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The bystander's process (bench/lib/bystander.ts): asked for its figures over IPC. */
class Bystander {
  readonly child: ChildProcess
  constructor(url: string) {
    this.child = track(fork(join(dirname(fileURLToPath(import.meta.url)), 'lib', 'bystander.js'), [url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  }
  reset(): void { this.child.send('reset') }
  report(): Promise<BystanderReport> {
    return new Promise((resolve) => { this.child.once('message', (m: BystanderReport) => resolve(m)); this.child.send('report') })
  }
  stop(): void { this.child.send('stop') }
}

/**
 * A thread's time on a CPU and waiting for one (ms), from /proc/PID/task/TID/schedstat: the main thread's wait is
 * how much of a stall the machine's scheduler made, not the server (the loop-delay metric counts both).
 */
function schedMs(pid: number, tid = pid): { run: number; wait: number; slices: number } {
  try {
    const [run, wait, slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ').map(Number)
    return { run: run / 1e6, wait: wait / 1e6, slices }
  } catch { return { run: NaN, wait: NaN, slices: NaN } }
}

/**
 * The server's longest event-loop delay since the previous scrape (prom-client resets it on every exposition), and the
 * events its fan-out has taken from the ring so far: the work the feed gave it, the same whatever the clients.
 */
async function serverScrape(metricsUrl: string): Promise<{ loopMaxMs: number; events: number; heapBytes: number; conflations: number }> {
  const text = await (await fetch(metricsUrl)).text()
  return {
    loopMaxMs: 1000 * Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text)?.[1] ?? NaN),
    events: Number(/^tickcast_fanout_events_total (\S+)/m.exec(text)?.[1] ?? NaN),
    heapBytes: Number(/^nodejs_heap_size_total_bytes (\S+)/m.exec(text)?.[1] ?? NaN),
    // clients that fell behind (their attackers' process could not read fast enough) are conflated: less work here
    conflations: Number(/^tickcast_ws_slow_consumer_steps_total\{step="conflate"\} (\S+)/m.exec(text)?.[1] ?? NaN),
  }
}

/** The attackers' process (bench/lib/attackers.ts): one attack at a time, started and stopped over IPC. */
class Attackers {
  readonly child: ChildProcess
  constructor(url: string, port: number, metricsPort: number, readonly nice: number) {
    this.child = track(fork(join(dirname(fileURLToPath(import.meta.url)), 'lib', 'attackers.js'), [url, String(port), String(metricsPort), String(nice)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  }
  private ask<T>(m: unknown): Promise<T> {
    return new Promise((resolve) => { this.child.once('message', (r: T) => resolve(r)); this.child.send(m as string) })
  }
  /** Starts `id`; resolves with what stops it (and says what the attack did). */
  async start(id: AttackId): Promise<() => Promise<string>> {
    await this.ask<string>({ start: id })
    return async () => (await this.ask<{ note: string }>('stop')).note
  }
}

async function main(): Promise<void> {
  const port = await freePort()
  const { child, match } = await spawnReady(process.execPath, [...(process.env.HOSTILE_NODE_ARGS ?? '').split(' ').filter(Boolean), 'dist/src/main.js', '--port', String(port), '--metrics-port', '0', '--mqtt-url', 'none',
    '--log-level', 'warn', '--sim-rate', process.env.HOSTILE_SIM_RATE ?? '2000',
    ...(process.env.HOSTILE_SERVER_ARGS ?? '').split(' ').filter(Boolean)], /Metrics\s+(http:\/\/\S+)/)
  const pid = child.pid!, url = `ws://127.0.0.1:${port}/v1/stream`, metricsUrl = match[1]
  const by = new Bystander(url)
  // The attackers run in a process of their own at nice 10 (bench/lib/attackers.ts says why); this one measures at 0.
  const attackerNice = Number(process.env.HOSTILE_ATTACKER_NICE ?? 10)
  const att = new Attackers(url, port, Number(new URL(metricsUrl).port), attackerNice)
  await sleep(1500)
  const only = process.env.HOSTILE_ONLY // a substring of the attack names: run just those (and the reference)
  const attacks = ([
    ['idle (reference)', 'idle'],
    ['20 conns × 5,000 pipelined /metrics (client port: 404), never read', 'pipeline-metrics-client'],
    ['20 conns × 5,000 pipelined /metrics on the metrics listener, never read', 'pipeline-metrics-listener'],
    ['1 conn × 6,000 pipelined /asyncapi.json, never read', 'pipeline-asyncapi'],
    ['churn: 50 clients toggling subscribe/unsubscribe *', 'churn'],
    ['100 unthrottled * clients', 'subscribers'],
    ['100 * clients at maxHz:100', 'subscribers-100hz'],
    ['flood: 3,000 WebSocket connections from one IP (last: it empties the IP\'s upgrade bucket)', 'flood'],
  ] as Array<[string, AttackId]>).filter(([name], k) => k === 0 || only === undefined || name.includes(only))
  // Two stall figures. The longest silence is what the bystander lived through, but it includes pauses of the feed
  // itself (the embedded simulator's 500-entry directory repeat every 10 s was ~250 ms without a quote at 2,000 msg/s
  // until feeds/sim/generator.ts interleaved it with the stream). The delivery delay is what the server is answerable for: the
  // longest any update waited between the simulator stamping it (`t`) and the bystander reading it, or the silence
  // still running at the report (a server that stopped sending entirely).
  console.log('| attack | bystander longest delivery delay (ms) | bystander longest silence (ms) | server loop max (ms) | bystander n gaps | server RSS growth (MB) | server CPU (%) |')
  console.log('|---|---|---|---|---|---|---|')
  const why: string[] = [], rows = new Map<string, number[][]>(), ratios: number[] = [], perEventRatios: number[] = []
  const ms = (x: number): string => (x < 0 ? '–' : x.toFixed(0))
  // HOSTILE_PASSES > 1: the whole list again (the idle reference included), then the median of each figure: on a shared
  // machine one pass's row says more about the neighbours than about the attack
  const passes = Math.max(1, Number(process.env.HOSTILE_PASSES ?? 1))
  for (let pass = 1; pass <= passes; pass++) {
    const cpuOf = new Map<string, number>(), cpuPerKOf = new Map<string, number>()
    for (const [name, id] of attacks) {
      await sleep(1100) // > the 1 s scrape cache: the next scrape is a fresh exposition, which restarts the loop max
      const { events: ev0, heapBytes: heap0, conflations: conf0 } = await serverScrape(metricsUrl)
      const rss0 = rssBytes(pid), cpu0 = cpuSec(pid), t0 = performance.now()
      const att0 = cpuSec(att.child.pid!), by0 = cpuSec(by.child.pid!), sched0 = schedMs(pid)
      by.reset()
      const end = await att.start(id)
      let peak = rss0
      while (performance.now() - t0 < ATTACK_MS) { await sleep(100); peak = Math.max(peak, rssBytes(pid)) }
      const r = await by.report()
      const sec = (performance.now() - t0) / 1000
      const cpu = 100 * (cpuSec(pid) - cpu0) / sec
      cpuOf.set(name, cpu)
      const sched1 = schedMs(pid), ran = sched1.run - sched0.run, waited = sched1.wait - sched0.wait
      const attackerCpu = 100 * (cpuSec(att.child.pid!) - att0) / sec, bystanderCpu = 100 * (cpuSec(by.child.pid!) - by0) / sec
      const scrape = await serverScrape(metricsUrl), loopMax = scrape.loopMaxMs
      // CPU-seconds per 1,000 events the feed gave the fan-out: a figure the machine's load hardly moves (a starved
      // server is slower, not cheaper), unlike CPU % of a wall-clock window
      const cpuPerK = 1000 * 1000 * (cpuSec(pid) - cpu0) / (scrape.events - ev0)
      cpuPerKOf.set(name, cpuPerK)
      const c = r.cause, delay = Math.max(r.maxAgeMs, c.running ? r.maxStallMs : 0)
      const row = [delay, r.maxStallMs, loopMax, r.gaps, (peak - rss0) / 1e6, cpu]
      rows.set(name, [...(rows.get(name) ?? []), row])
      console.log(`| ${passes > 1 ? `pass ${pass}: ` : ''}${name} | ${delay.toFixed(0)} | ${r.maxStallMs.toFixed(0)} | ${loopMax.toFixed(0)} | ${r.gaps} | ${((peak - rss0) / 1e6).toFixed(1)} | ${cpu.toFixed(0)} |` +
        (r.closed !== null ? ` bystander closed ${r.closed}` : '') + (r.loopMaxMs > 20 ? ` (bystander's own loop stalled ${r.loopMaxMs.toFixed(0)} ms)` : ''))
      why.push(`${passes > 1 ? `pass ${pass}: ` : ''}${name}: longest silence ${r.maxStallMs.toFixed(0)} ms, ` + (c.running ? 'still running at the report' : `ended by a ${c.what} frame: ` +
        `feed-time gap ${ms(c.tGapMs)} ms, age on arrival ${ms(c.ageMs)} ms`) + `, bystander's loop gap ${c.loopGapMs.toFixed(0)} ms; ` +
        `data age on arrival: median ${r.medianAgeMs.toFixed(1)} ms, max ${r.maxAgeMs.toFixed(0)} ms; CPU: server ${cpu.toFixed(0)} %, ` +
        `attackers ${attackerCpu.toFixed(0)} %, bystander ${bystanderCpu.toFixed(0)} %; server main thread ran ${ran.toFixed(0)} ms and ` +
        `waited ${waited.toFixed(0)} ms for a CPU (${(100 * waited / (ran + waited)).toFixed(0)} % of its busy time, ` +
        `${cpuPerK.toFixed(2)} CPU-ms per 1,000 fan-out events (${scrape.events - ev0} events), ` +
        `V8 heap ${((scrape.heapBytes - heap0) / 1e6).toFixed(1)} MB of the RSS growth, ` +
        `${scrape.conflations - conf0} slow-consumer conflations, ` +
        `${(waited / (sched1.slices - sched0.slices)).toFixed(1)} ms a wake-up); load average ${loadavg()[0].toFixed(1)}`)
      const note = await end()
      if (note !== '') console.log(`    ${note}`)
    }
    const hz = cpuOf.get('100 * clients at maxHz:100'), unthrottled = cpuOf.get('100 unthrottled * clients')
    if (hz !== undefined && unthrottled !== undefined) ratios.push(hz / unthrottled)
    const hzK = cpuPerKOf.get('100 * clients at maxHz:100'), unK = cpuPerKOf.get('100 unthrottled * clients')
    if (hzK !== undefined && unK !== undefined) perEventRatios.push(hzK / unK)
  }
  if (passes > 1) {
    const med = (xs: number[]): number => { const a = xs.slice().sort((x, y) => x - y); return a.length % 2 ? a[a.length >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2 }
    const cell = (xs: number[], digits: number): string => `${med(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`
    console.log(`\nMedian (min–max) of ${passes} passes:\n`)
    console.log('| attack | bystander longest delivery delay (ms) | bystander longest silence (ms) | server loop max (ms) | bystander n gaps | server RSS growth (MB) | server CPU (%) |')
    console.log('|---|---|---|---|---|---|---|')
    for (const [name, rs] of rows) {
      const col = (k: number): number[] => rs.map((x) => x[k])
      console.log(`| ${name} | ${cell(col(0), 0)} | ${cell(col(1), 0)} | ${cell(col(2), 0)} | ${Math.max(...col(3))} | ${cell(col(4), 1)} | ${cell(col(5), 0)} |`)
    }
  }
  console.log(`\nAttackers ran at nice ${attackerNice}. Where each longest silence came from (bench/lib/bystander.ts; the ` +
    'frame that ended it: feed-time gap ≈ silence → nothing was produced; age ≈ silence → produced on time, delivered late; ' +
    'loop gap ≈ silence → the bystander itself did not run):')
  for (const w of why) console.log(`- ${w}`)
  if (ratios.length > 0) console.log(`\nServer CPU, 100 * clients at maxHz:100 / 100 unthrottled, same pass: ${ratios.map((x) => x.toFixed(2)).join(', ')} (target ≤ 1)`)
  if (perEventRatios.length > 0) {
    const sorted = perEventRatios.slice().sort((x, y) => x - y), mid = sorted[sorted.length >> 1]
    console.log(`Server CPU-seconds per fan-out event, maxHz:100 / unthrottled, same pass: ${perEventRatios.map((x) => x.toFixed(2)).join(', ')} ` +
      `(median ${mid.toFixed(2)}; target ≤ 1)`)
  }
  by.stop()
  await stopAll()
}

main().catch(async (e: unknown) => { console.error(e); await stopAll(); process.exit(1) })
