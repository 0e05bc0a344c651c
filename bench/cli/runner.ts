// Owns running a scenario once: in this process (sampling its Meter every second) or split over --procs forked workers.
// Must never leave a worker behind: each is killed when the run ends, fails or is aborted.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Sampler } from './live.js'
import type { LiveLine } from './live.js'
import { mergeRuns } from './result.js'
import { Meter } from './scenario.js'
import type { OptionValues, RunResult, Sample, Scenario, Share, Target } from './scenario.js'

export interface RunSpec {
  scenario: Scenario; target: Target; options: OptionValues; signal: AbortSignal
  live: LiveLine; log(line: string): void
}

/** Environment variable that puts the CLI in worker mode: "k/N" (this is worker k of N). */
export const WORKER_ENV = 'TICKCAST_BENCH_WORKER'

const totalSec = (o: OptionValues): number => (o.warmup as number) + (o.duration as number)

/** One run in this process; `onSample` sees every per-second sample (workers forward them to the parent). */
export async function runLocal(spec: RunSpec, share: Share, onSample?: (s: Sample, progress: number, label: string) => void): Promise<RunResult> {
  const meter = new Meter()
  const sampler = new Sampler(meter)
  const series: Sample[] = []
  const t0 = performance.now()
  const total = totalSec(spec.options)
  const tick = setInterval(() => {
    const s = sampler.sample()
    series.push(s)
    const elapsed = (performance.now() - t0) / 1000
    const progress = meter.progress ?? Math.min(elapsed / Math.max(total, 1e-3), 1)
    if (onSample) onSample(s, progress, meter.label)
    else spec.live.show(s, progress, elapsed, meter.expectedSec ?? total, meter.label)
  }, 1000)
  try {
    const r = await spec.scenario.run({
      target: spec.target, options: spec.options, durationSec: spec.options.duration as number, warmupSec: spec.options.warmup as number,
      meter, share, signal: spec.signal, log: spec.log,
    })
    r.elapsedSec ??= Math.max((performance.now() - t0) / 1000 - (spec.options.warmup as number), 1e-3)
    series.push(sampler.sample()) // the last partial second (a storm may end before the first tick)
    r.timeseries = series
    return r
  } finally {
    clearInterval(tick)
    if (!onSample) spec.live.done()
  }
}

type WorkerMsg = { ev: 'sample'; sample: Sample; progress: number; label: string } | { ev: 'result'; result: RunResult } | { ev: 'error'; message: string }

/**
 * Forks `procs` copies of this CLI in worker mode, each generating its share against the same target (the
 * parent's embedded server is passed as --url), and merges their results into one run.
 */
export async function runForked(spec: RunSpec, procs: number, argv: string[]): Promise<RunResult> {
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url))
  const t = spec.target
  const targetArgs = ['--url', t.ws, '--http', t.http, ...(t.mqtt ? ['--mqtt', t.mqtt] : []), ...(t.metrics ? ['--metrics', t.metrics] : [])]
  const latest: Array<{ s: Sample; progress: number; label: string } | null> = Array.from({ length: procs }, () => null)
  const children: ChildProcess[] = []
  const t0 = performance.now()
  const total = totalSec(spec.options)
  const show = setInterval(() => {
    const got = latest.filter((x): x is NonNullable<typeof x> => x !== null)
    if (got.length === 0) return
    const s: Sample = {
      t: Math.round((performance.now() - t0) / 100) / 10, connections: got.reduce((a, x) => a + x.s.connections, 0), updatesPerSec: got.reduce((a, x) => a + x.s.updatesPerSec, 0),
      errors: got.reduce((a, x) => a + x.s.errors, 0), p50Ms: got.reduce((a, x) => a + x.s.p50Ms, 0) / got.length, p99Ms: Math.max(...got.map((x) => x.s.p99Ms)),
    }
    spec.live.show(s, Math.min(...got.map((x) => x.progress)), (performance.now() - t0) / 1000, total, `${procs} procs ${got[0].label}`.trim())
  }, 1000)
  const onAbort = (): void => { for (const c of children) c.send({ cmd: 'stop' }) }
  spec.signal.addEventListener('abort', onAbort, { once: true })
  try {
    const results = await Promise.all(Array.from({ length: procs }, (_, k) => new Promise<RunResult>((resolve, reject) => {
      const child = fork(cli, [...argv, ...targetArgs], {
        env: { ...process.env, [WORKER_ENV]: `${k}/${procs}`, TICKCAST_BENCH_EMBEDDED: t.embedded ? '1' : '', TICKCAST_BENCH_FEED_PORT: String(t.feedPort ?? '') },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      })
      children.push(child)
      let done = false
      child.on('message', (m: WorkerMsg) => {
        if (m.ev === 'sample') latest[k] = { s: m.sample, progress: m.progress, label: m.label }
        else if (m.ev === 'result') { done = true; resolve(m.result) } else { done = true; reject(new Error(`worker ${k}: ${m.message}`)) }
      })
      child.on('exit', (code) => { if (!done) reject(new Error(`worker ${k} exited ${code} without a result`)) })
    })))
    return mergeRuns(results)
  } finally {
    clearInterval(show)
    spec.live.done()
    spec.signal.removeEventListener('abort', onAbort)
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  }
}

/** Worker mode: run this process's share, forward samples, send the result, exit. */
export async function workerMain(spec: Omit<RunSpec, 'signal'>, share: Share): Promise<void> {
  const ac = new AbortController()
  process.on('message', (m: { cmd?: string }) => { if (m.cmd === 'stop') ac.abort() })
  process.on('disconnect', () => ac.abort())
  const send = (m: WorkerMsg): void => { if (process.connected) process.send!(m) }
  try {
    const result = await runLocal({ ...spec, signal: ac.signal }, share, (sample, progress, label) => send({ ev: 'sample', sample, progress, label }))
    send({ ev: 'result', result })
  } catch (e) {
    send({ ev: 'error', message: (e as Error).message })
  }
}
